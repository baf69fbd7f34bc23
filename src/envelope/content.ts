/**
 * The encrypted content: an XEP-0420 `<envelope xmlns='urn:xmpp:sce:1'>` holding the stanza's
 * content elements and the affixes `<rpad/>`, `<time/>`, `<to/>`, `<from/>`; the padding policy
 * (Padmé); and the checks a receiver makes on the affixes.
 *
 * @see spec §envelope.content
 * @module
 */
import { utf8Decode, utf8Encode } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import type { Rng } from '../suite/rng.js';
import { formatDateTime, dateTimeAttr } from '../wire/fields.js';
import { CLIENT_NS, type Element, childElements, isNamed, onlyChild, parseXml, requiredAttr, standalone, xml } from '../wire/xml.js';
import { ENVELOPE_CONSTANTS } from './constants.js';

/** The XEP-0420 namespace. */
export const SCE_NS = 'urn:xmpp:sce:1';

/**
 * Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication with
 * PURBs", PETS 2019): rounds `length` up so that only O(log log length) bits of it remain, with
 * at most 12 % overhead.
 *
 * Implements requirement `envelope.padding`.
 *
 * @see spec §envelope.content
 */
export function padme(length: number): number {
  // @req envelope.padding
  if (length <= 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const mask = 2 ** lastBits - 1;
  return Math.floor((length + mask) / (mask + 1)) * (mask + 1);
}

const PAD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const PAD_CODES = utf8Encode(PAD_ALPHABET);
const RPAD_OPEN = utf8Encode('<rpad>');
const RPAD_CLOSE = utf8Encode('</rpad>');
/** Length of `<rpad></rpad>`. */
const RPAD_TAGS = RPAD_OPEN.length + RPAD_CLOSE.length;

/**
 * ltx's start and end tags of `<envelope xmlns='urn:xmpp:sce:1'>`, cut from its own output so the
 * envelope below is assembled from exactly the text ltx would write for the whole element.
 */
const [ENVELOPE_START, ENVELOPE_END] = xml('envelope', { xmlns: SCE_NS }, ['\u0000']).toString().split('\u0000') as [string, string];

/**
 * The plaintext of a sealed stanza: the content elements and the affixes, serialized as UTF-8
 * XML, padded with `<rpad/>` so that its length is `padme(unpadded length + 14)`. The padding
 * characters are drawn from `rng` (one byte each).
 *
 * Implements requirement `envelope.affixes`.
 *
 * @throws SealError `too-large` for content above MAX_CONTENT_BYTES.
 * @see spec §envelope.content
 */
export function buildContent(input: { content: readonly Element[]; to: string; from: string; time: number; rng: Rng }): Uint8Array {
  // @req envelope.affixes
  const affixes = [xml('time', { stamp: formatDateTime(input.time) }), xml('to', { jid: input.to }), xml('from', { jid: input.from })];
  // The bytes of <envelope><content/><rpad/>affixes</envelope>, serialized once: the part before
  // <rpad/> and the part after it make the unpadded length, and <rpad/> goes between them.
  // @req envelope.content-bytes: stanza content in its own namespace, jabber:client where it has none.
  const before = utf8Encode(ENVELOPE_START + xml('content', {}, input.content.map(inStanzaNamespace)).toString());
  const after = utf8Encode(affixes.join('') + ENVELOPE_END);
  const length = before.length + after.length;
  if (length > ENVELOPE_CONSTANTS.MAX_CONTENT_BYTES) throw new SealError('too-large', `content: expected at most ${ENVELOPE_CONSTANTS.MAX_CONTENT_BYTES} bytes, got ${length}`);
  const fill = padme(length + RPAD_TAGS + 1) - length - RPAD_TAGS;
  const random = input.rng(fill);
  // <rpad>…</rpad> with alphanumeric (ASCII) text, exactly as ltx writes it: no escaping needed.
  const out = new Uint8Array(length + RPAD_TAGS + fill);
  out.set(before);
  let at = before.length;
  out.set(RPAD_OPEN, at);
  at += RPAD_OPEN.length;
  for (const byte of random) out[at++] = PAD_CODES[byte % PAD_CODES.length]!;
  out.set(RPAD_CLOSE, at);
  out.set(after, at + RPAD_CLOSE.length);
  return out;
}

/**
 * A content element as XEP-0420 carries it: an element without its own namespace declaration
 * (a `<body/>` built for a `<message/>`) is a stanza child, in `jabber:client`; it gets
 * `xmlns='jabber:client'` as its first attribute. The caller's element is not changed.
 */
function inStanzaNamespace(element: Element): Element {
  if (element.getNS() !== undefined) return element;
  const copy = xml(element.name, { xmlns: CLIENT_NS, ...element.attrs });
  copy.children = element.children;
  return copy;
}

/** What a receiver gets from the plaintext. */
export interface OpenedContent {
  /** The stanza content elements (children of `<content/>`). */
  readonly content: readonly Element[];
  /** The sender's `<time/>`, seconds since the Unix epoch. */
  readonly time: number;
}

/**
 * Parses the plaintext and checks its affixes against the stanza that carried it: `<to/>` must be
 * the bare JID of the stanza's `to`, `<from/>` the bare JID of its `from` (redirect protection).
 *
 * Implements requirement `envelope.redirect`.
 *
 * Implements requirement `envelope.receive-limits` for the content once decrypted.
 *
 * @throws SealError `malformed-xml`, `unexpected-element`, `schema-violation` for a malformed
 *   envelope; `too-large` for content above MAX_CONTENT_BYTES without its padding;
 *   `redirected-stanza` when `<to/>` or `<from/>` differ from the stanza.
 * @see spec §envelope.content
 */
export function openContent(plaintext: Uint8Array, stanza: { to: string; from: string }): OpenedContent {
  const root = parseXml(utf8Decode(plaintext, 'envelope'), ENVELOPE_CONSTANTS.MAX_CONTENT_BYTES * 2);
  if (root.getName() !== 'envelope' || root.getNS() !== SCE_NS) throw new SealError('unexpected-element', `expected <envelope xmlns='${SCE_NS}'>`);
  // @req encoding.xml-namespaces: each affix by namespace and local name.
  const one = (name: string) => onlyChild(root, name, SCE_NS);
  const content = one('content');
  const to = requiredAttr(one('to'), 'jid');
  const from = requiredAttr(one('from'), 'jid');
  const time = dateTimeAttr(one('time'), 'stamp');
  // @req envelope.receive-limits: the content without its padding is at most MAX_CONTENT_BYTES,
  // as a sender may send (the length without the text of <rpad/> and the 13 bytes of its tags).
  const unpadded = plaintext.length - utf8Encode(one('rpad').getText()).length - RPAD_TAGS;
  if (unpadded > ENVELOPE_CONSTANTS.MAX_CONTENT_BYTES) throw new SealError('too-large', `content: expected at most ${ENVELOPE_CONSTANTS.MAX_CONTENT_BYTES} bytes without padding, got ${unpadded}`);
  // @req envelope.redirect
  if (to !== bare(stanza.to) || from !== bare(stanza.from)) {
    throw new SealError('redirected-stanza', 'envelope: <to/> or <from/> does not match the stanza');
  }
  // Kept apart from the envelope (in the inbox, across restarts): each with the namespaces in scope inside it.
  return { content: childElements(content).map(standalone), time };
}

/**
 * The text of the first `<body xmlns='jabber:client'/>` among opened content elements, as
 * XEP-0420 and §envelope.content write it. A `<body/>` in any other namespace (an unqualified one
 * inheriting `urn:xmpp:sce:1`, or `<x:body xmlns:x='urn:example'/>`) is not the message's body.
 *
 * Implements requirement `encoding.xml-namespaces` for the body of an opened message.
 *
 * @see spec §envelope.content
 * @example
 * ```ts
 * contentBody(openContent(plaintext, stanza).content) // 'hello'
 * ```
 */
export function contentBody(content: readonly Element[]): string | undefined {
  // @req encoding.xml-namespaces
  return content.find((c) => isNamed(c, 'body', CLIENT_NS))?.getText();
}

/** The bare part of a JID. */
export function bare(jid: string): string {
  const slash = jid.indexOf('/');
  return slash < 0 ? jid : jid.slice(0, slash);
}
