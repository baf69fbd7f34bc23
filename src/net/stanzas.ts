/**
 * The XMPP extensions around Seal's messages, as a client builds and reads them: delayed delivery
 * (XEP-0203), unique stanza ids (XEP-0359), forwarding (XEP-0297), carbons (XEP-0280), the message
 * archive (XEP-0313 with XEP-0059 paging) and PEP notifications (XEP-0163). Also JID splitting
 * and deep copies of elements, shared by the embedded server and the network.
 *
 * Readers follow the security rules of their XEPs: a carbon or archive result is accepted only
 * from the account's own bare JID, a stanza id only when `by` names the expected archive.
 *
 * @see spec §offline
 * @see spec §identity.pep
 * @module
 */
import { DATA_FORMS_NS, PUBSUB_NS } from '../wire/pep.js';
import { CLIENT_NS, Element, childElements, xml } from '../wire/xml.js';

/** Default namespace of client stanzas (RFC 6120 §4.8.3), as the wire layer defines it. */
export { CLIENT_NS };
/** XEP-0203 Delayed Delivery. */
export const DELAY_NS = 'urn:xmpp:delay';
/** XEP-0359 Unique and Stable Stanza IDs. */
export const STANZA_ID_NS = 'urn:xmpp:sid:0';
/** XEP-0297 Stanza Forwarding. */
export const FORWARD_NS = 'urn:xmpp:forward:0';
/** XEP-0280 Message Carbons. */
export const CARBONS_NS = 'urn:xmpp:carbons:2';
/** XEP-0313 Message Archive Management. */
export const MAM_NS = 'urn:xmpp:mam:2';
/** XEP-0059 Result Set Management. */
export const RSM_NS = 'http://jabber.org/protocol/rsm';
/** XEP-0060 event namespace (PEP notifications). */
export const PUBSUB_EVENT_NS = 'http://jabber.org/protocol/pubsub#event';
/** XEP-0060 application error conditions. */
export const PUBSUB_ERRORS_NS = 'http://jabber.org/protocol/pubsub#errors';
/** XEP-0199 XMPP Ping. */
export const PING_NS = 'urn:xmpp:ping';
export { DISCO_INFO_NS } from '../wire/xml.js';

/** A JID split into its bare part and its resource (RFC 7622 §3.1). */
export interface SplitJid {
  /** `local@domain` or `domain`. */
  readonly bare: string;
  /** The resource part, or `undefined` for a bare JID. */
  readonly resource: string | undefined;
  /** The domain part. */
  readonly domain: string;
}

/**
 * Splits a JID at the first `/` (the resource may itself contain `/`, RFC 7622 §3.1).
 * Does not check or normalize the parts.
 *
 * @example
 * ```ts
 * splitJid('juliet@capulet.lit/balcony') // { bare: 'juliet@capulet.lit', resource: 'balcony', domain: 'capulet.lit' }
 * ```
 */
export function splitJid(jid: string): SplitJid {
  const slash = jid.indexOf('/');
  const bare = slash < 0 ? jid : jid.slice(0, slash);
  const resource = slash < 0 ? undefined : jid.slice(slash + 1);
  const at = bare.indexOf('@');
  return { bare, resource, domain: at < 0 ? bare : bare.slice(at + 1) };
}

/** The bare part of a JID (everything before the first `/`). */
export function bareOf(jid: string): string {
  return splitJid(jid).bare;
}

/**
 * A deep copy of an element: the copy shares no attribute object or child with the original, so
 * either can be changed without affecting the other.
 */
export function cloneElement(element: Element): Element {
  const copy = new Element(element.name, element.attrs);
  for (const child of element.children) copy.cnode(typeof child === 'string' ? child : cloneElement(child));
  return copy;
}

/** An XEP-0082 timestamp in whole seconds, UTC (`2024-01-01T00:00:00Z`). */
export function xmppTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

let idCounter = 0;
function nextId(prefix: string): string {
  idCounter += 1;
  return `${prefix}${idCounter}`;
}

/**
 * `<presence/>`: the initial (available) presence, after which the server delivers stored
 * offline messages (RFC 6121 §4.2). `priority` is RFC 6121 §4.7.2.3's (-128..127).
 */
export function presence(priority?: number): Element {
  return priority === undefined ? xml('presence', {}) : xml('presence', {}, [xml('priority', {}, [String(priority)])]);
}

/** `<iq type='set'><enable xmlns='urn:xmpp:carbons:2'/></iq>` (XEP-0280 §4). */
export function carbonsEnableIq(id: string = nextId('carbons-')): Element {
  return xml('iq', { type: 'set', id }, [xml('enable', { xmlns: CARBONS_NS })]);
}

/** Filters and paging of an archive query. */
export interface MamQueryOptions {
  /** Only messages exchanged with this bare JID. */
  readonly with?: string;
  /** Only messages archived at or after this XEP-0082 timestamp. */
  readonly start?: string;
  /** Only messages archived at or before this XEP-0082 timestamp. */
  readonly end?: string;
  /** Only messages after this archive id (XEP-0059 `<after/>`). */
  readonly after?: string;
  /** Page size (XEP-0059 `<max/>`); servers cap it (Prosody: default 20, at most 50). */
  readonly max?: number;
}

/**
 * `<iq type='set'><query xmlns='urn:xmpp:mam:2' queryid='…'>…</query></iq>` (XEP-0313 §4),
 * with a data form for `with`/`start`/`end` and an RSM set for `after`/`max`.
 *
 * @example
 * ```ts
 * mamQueryIq('q1', 'catch-up', { after: lastSeenStanzaId, max: 50 })
 * ```
 */
export function mamQueryIq(id: string, queryid: string, options: MamQueryOptions = {}): Element {
  const children: Element[] = [];
  const fields: Array<[string, string]> = [];
  if (options.with !== undefined) fields.push(['with', options.with]);
  if (options.start !== undefined) fields.push(['start', options.start]);
  if (options.end !== undefined) fields.push(['end', options.end]);
  if (fields.length > 0) {
    children.push(
      xml('x', { xmlns: DATA_FORMS_NS, type: 'submit' }, [
        xml('field', { var: 'FORM_TYPE', type: 'hidden' }, [xml('value', {}, [MAM_NS])]),
        ...fields.map(([name, value]) => xml('field', { var: name }, [xml('value', {}, [value])])),
      ]),
    );
  }
  if (options.after !== undefined || options.max !== undefined) {
    const set: Element[] = [];
    if (options.max !== undefined) set.push(xml('max', {}, [String(options.max)]));
    if (options.after !== undefined) set.push(xml('after', {}, [options.after]));
    children.push(xml('set', { xmlns: RSM_NS }, set));
  }
  return xml('iq', { type: 'set', id }, [xml('query', { xmlns: MAM_NS, queryid }, children)]);
}

/**
 * The `id` of the `<stanza-id xmlns='urn:xmpp:sid:0'/>` of `message` whose `by` is `by` (the
 * archive's bare JID), or `undefined`. A stanza id with another `by` is not trusted (XEP-0359 §7).
 */
export function stanzaIdOf(message: Element, by: string): string | undefined {
  for (const child of message.getChildren('stanza-id', STANZA_ID_NS)) {
    if (child.attrs.by === by && typeof child.attrs.id === 'string') return child.attrs.id as string;
  }
  return undefined;
}

/** The `stamp` of the `<delay xmlns='urn:xmpp:delay'/>` of `stanza`, or `undefined`. */
export function delayOf(stanza: Element): string | undefined {
  const stamp = stanza.getChild('delay', DELAY_NS)?.attrs.stamp as unknown;
  return typeof stamp === 'string' ? stamp : undefined;
}

function forwardedMessage(wrapper: Element | undefined): { message: Element; stamp: string | undefined } | undefined {
  const forwarded = wrapper?.getChild('forwarded', FORWARD_NS);
  // A forwarded stanza is qualified by jabber:client (XEP-0297); a <message/> in another namespace is not one.
  const message = forwarded?.getChild('message', CLIENT_NS);
  if (!forwarded || !message) return undefined;
  return { message, stamp: delayOf(forwarded) };
}

/** A carbon copy unwrapped: which way the original went, and the original message. */
export interface Carbon {
  readonly direction: 'sent' | 'received';
  readonly message: Element;
}

/**
 * The message inside a carbon (XEP-0280 §7), or `undefined` if `message` is not a carbon.
 * Implements XEP-0280 §11: a carbon whose `from` is not the account's own bare JID is ignored
 * (returns `undefined`), since anyone could otherwise inject "sent" messages.
 */
export function unwrapCarbon(message: Element, ownBareJid: string): Carbon | undefined {
  for (const direction of ['sent', 'received'] as const) {
    const wrapper = message.getChild(direction, CARBONS_NS);
    if (!wrapper) continue;
    if (message.attrs.from !== ownBareJid) return undefined;
    const inner = forwardedMessage(wrapper);
    return inner && { direction, message: inner.message };
  }
  return undefined;
}

/** One archive result (XEP-0313 §4.2): its query, archive id, archiving time and the message. */
export interface MamResult {
  readonly queryid: string | undefined;
  readonly id: string;
  readonly stamp: string | undefined;
  readonly message: Element;
}

/**
 * The archived message inside an archive result, or `undefined` if `message` is not one.
 * Implements XEP-0313 §10: a result is accepted only from the account's own bare JID or with no
 * `from` (the server on the account's behalf).
 */
export function unwrapMamResult(message: Element, ownBareJid: string): MamResult | undefined {
  const result = message.getChild('result', MAM_NS);
  if (!result) return undefined;
  const from = message.attrs.from as unknown;
  if (from !== undefined && from !== ownBareJid) return undefined;
  const id = result.attrs.id as unknown;
  const inner = forwardedMessage(result);
  if (typeof id !== 'string' || !inner) return undefined;
  return { queryid: typeof result.attrs.queryid === 'string' ? (result.attrs.queryid as string) : undefined, id, stamp: inner.stamp, message: inner.message };
}

/** The `<fin/>` of an archive query's result (XEP-0313 §4.3). */
export interface MamFin {
  readonly complete: boolean;
  readonly first: string | undefined;
  readonly last: string | undefined;
  readonly count: number | undefined;
}

/** Reads the `<fin/>` of an archive query's iq result, or `undefined` if it has none. */
export function readMamFin(iq: Element): MamFin | undefined {
  const fin = iq.getChild('fin', MAM_NS);
  if (!fin) return undefined;
  const set = fin.getChild('set', RSM_NS);
  const count = set?.getChildText('count', RSM_NS);
  return {
    complete: fin.attrs.complete === 'true' || fin.attrs.complete === '1',
    first: set?.getChildText('first', RSM_NS) ?? undefined,
    last: set?.getChildText('last', RSM_NS) ?? undefined,
    count: count === null || count === undefined ? undefined : Number(count),
  };
}

/** A PEP notification (XEP-0163 §4.3) unwrapped. */
export interface PepEvent {
  /** The publishing account (the notification's `from`). */
  readonly from: string;
  readonly node: string;
  /** Published items: id and payload (the item's first child element, if any). */
  readonly items: ReadonlyArray<{ readonly id: string | undefined; readonly payload: Element | undefined }>;
  /** Ids of retracted items. */
  readonly retracted: readonly string[];
}

/** The PEP notification carried by `message`, or `undefined` if it carries none. */
export function unwrapPepEvent(message: Element): PepEvent | undefined {
  const items = message.getChild('event', PUBSUB_EVENT_NS)?.getChild('items', PUBSUB_EVENT_NS);
  const node = items?.attrs.node as unknown;
  if (!items || typeof node !== 'string' || typeof message.attrs.from !== 'string') return undefined;
  return {
    from: message.attrs.from as string,
    node,
    items: items.getChildren('item', PUBSUB_EVENT_NS).map((item) => ({ id: typeof item.attrs.id === 'string' ? (item.attrs.id as string) : undefined, payload: childElements(item)[0] })),
    retracted: items.getChildren('retract', PUBSUB_EVENT_NS).flatMap((r) => (typeof r.attrs.id === 'string' ? [r.attrs.id as string] : [])),
  };
}

/** The items (`<item id>payload</item>`) of a PEP retrieval result (XEP-0060 §6.5). */
export function readPubsubItems(iq: Element): Array<{ id: string | undefined; payload: Element | undefined }> {
  const items = iq.getChild('pubsub', PUBSUB_NS)?.getChild('items', PUBSUB_NS);
  return (items?.getChildren('item', PUBSUB_NS) ?? []).map((item) => ({ id: typeof item.attrs.id === 'string' ? (item.attrs.id as string) : undefined, payload: childElements(item)[0] }));
}
