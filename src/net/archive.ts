/**
 * The per-account message archive of the embedded server (XEP-0313 Message Archive Management
 * with XEP-0059 paging), with Prosody 0.12's rules for what is archived. A body-less message is
 * archived only with a storage hint, an explicit-encryption marker, a receipt or a chat marker,
 * which is why Seal marks its messages with `<store xmlns='urn:xmpp:hints'/>`.
 *
 * @see spec §offline
 * @module
 */
import { EME_NS, HINTS_NS } from '../wire/marker.js';
import { DATA_FORMS_NS } from '../wire/pep.js';
import { type Element, childElements, sameNamespaceChildren } from '../wire/xml.js';
import { XmppError } from './connection.js';
import { MAM_NS, RSM_NS, STANZA_ID_NS, splitJid } from './stanzas.js';

/** Prosody's default archive page size (`<max/>` absent). */
export const MAM_DEFAULT_MAX = 20;
/** Prosody's largest archive page (`max_archive_query_results`). */
export const MAM_MAX_MAX = 50;

/** One archived message. */
export interface ArchivedMessage {
  /** The archive id: the `id` of the `<stanza-id/>` the server added and of the archive result. */
  readonly id: string;
  /** When it was archived, in milliseconds since the epoch. */
  readonly stamp: number;
  /** The bare JID of the other party. */
  readonly with: string;
  /** The message as archived (without the archive's own `<stanza-id/>`). */
  readonly stanza: Element;
}

/**
 * Whether Prosody 0.12 archives `message` (mod_mam's `should_store`): never headlines,
 * groupchat messages or `<no-store/>`-hinted ones; error bounces only when addressed to a full
 * JID and not sent by a local client; otherwise when the message has a `<store/>` hint, a body,
 * a subject, an XEP-0380 `<encryption/>` marker, a receipt or a chat marker.
 *
 * @param fromClient - the message was sent by a client of this server (outgoing copy).
 */
export function shouldArchive(message: Element, fromClient: boolean): boolean {
  const type = (message.attrs.type as string | undefined) ?? 'normal';
  if (type === 'headline' || type === 'groupchat') return false;
  if (type === 'error' && !fromClient) return splitJid(String(message.attrs.to ?? '')).resource !== undefined;
  if (message.getChild('no-store', HINTS_NS)) return false;
  if (message.getChild('store', HINTS_NS)) return true;
  if (sameNamespaceChildren(message, 'body').length > 0 || sameNamespaceChildren(message, 'subject').length > 0) return true;
  if (message.getChild('encryption', EME_NS)) return true;
  return childElements(message).some((child) => child.getNS() === 'urn:xmpp:receipts' || child.getNS() === 'urn:xmpp:chat-markers:0');
}

/**
 * Removes from `message` (in place) the `<stanza-id/>` elements that claim to be by `archive`
 * (the account's bare JID), and returns it: a server must not let anyone forge its archive ids
 * (XEP-0359 §7).
 */
export function stripOwnStanzaIds(message: Element, archive: string): Element {
  const forged = message.getChildren('stanza-id', STANZA_ID_NS).filter((child) => child.attrs.by === archive);
  for (const child of forged) message.remove(child);
  return message;
}

/** What an archive query selected. */
export interface ArchivePage {
  readonly results: readonly ArchivedMessage[];
  readonly complete: boolean;
  /** How many archived messages match the filters (all pages). */
  readonly count: number;
}

function formFields(query: Element): Map<string, string> {
  const fields = new Map<string, string>();
  const form = query.getChild('x', DATA_FORMS_NS);
  if (!form) return fields;
  for (const field of form.getChildren('field', DATA_FORMS_NS)) {
    const name = field.attrs.var as unknown;
    if (typeof name === 'string') fields.set(name, field.getChildText('value', DATA_FORMS_NS) ?? '');
  }
  const formType = fields.get('FORM_TYPE');
  if (formType !== undefined && formType !== MAM_NS) throw new XmppError('modify', 'bad-request', undefined, `unexpected FORM_TYPE ${formType}`);
  return fields;
}

function timestamp(fields: Map<string, string>, name: string): number | undefined {
  const text = fields.get(name);
  if (text === undefined || text === '') return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new XmppError('modify', 'bad-request', undefined, `invalid timestamp in '${name}'`);
  return ms;
}

/** One account's archive. @internal Used by the embedded server. */
export class MessageArchive {
  readonly #entries: ArchivedMessage[] = [];

  /** Appends a message. */
  append(entry: ArchivedMessage): void {
    this.#entries.push(entry);
  }

  /** Every archived message, oldest first. */
  entries(): readonly ArchivedMessage[] {
    return this.#entries;
  }

  /**
   * Runs the `<query xmlns='urn:xmpp:mam:2'/>` of an archive request: the data-form filters
   * `with`, `start` and `end`, and XEP-0059 `<max/>`, `<after/>` and `<before/>`.
   *
   * @throws XmppError `bad-request` for a malformed filter or page size; `item-not-found` when
   *   `<after/>` or `<before/>` names an id not in the archive (as Prosody).
   */
  query(query: Element): ArchivePage {
    const fields = formFields(query);
    const withJid = fields.get('with') || undefined;
    const start = timestamp(fields, 'start');
    const end = timestamp(fields, 'end');
    const set = query.getChild('set', RSM_NS);
    const maxText = set?.getChildText('max', RSM_NS);
    let max = MAM_DEFAULT_MAX;
    if (maxText !== undefined && maxText !== null) {
      if (!/^\d{1,9}$/.test(maxText)) throw new XmppError('modify', 'bad-request', undefined, 'invalid <max/>');
      max = Number(maxText);
    }
    max = Math.min(max, MAM_MAX_MAX);
    const matching = this.#entries.filter((entry) => {
      if (withJid !== undefined && entry.with !== (withJid.includes('/') ? withJid.slice(0, withJid.indexOf('/')) : withJid)) return false;
      if (start !== undefined && entry.stamp < start) return false;
      if (end !== undefined && entry.stamp > end) return false;
      return true;
    });
    const indexOf = (id: string): number => {
      const index = matching.findIndex((entry) => entry.id === id);
      if (index < 0) throw new XmppError('cancel', 'item-not-found', undefined, `no archived message with id ${id}`);
      return index;
    };
    const after = set?.getChildText('after', RSM_NS);
    const before = set?.getChild('before', RSM_NS);
    if (before !== undefined) {
      const text = before.getText();
      const until = text === '' ? matching.length : indexOf(text);
      const from = Math.max(0, until - max);
      return { results: matching.slice(from, until), complete: from === 0, count: matching.length };
    }
    const from = after === undefined || after === null ? 0 : indexOf(after) + 1;
    return { results: matching.slice(from, from + max), complete: from + max >= matching.length, count: matching.length };
  }
}
