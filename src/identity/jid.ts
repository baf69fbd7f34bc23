/**
 * Bare JIDs as Seal binds them into signatures and key derivations.
 *
 * @see spec §identity.jid
 * @module
 */
import { isWellFormedText, utf8Encode } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import type { Brand } from '../suite/types.js';
import { MAX_JID_BYTES } from '../wire/bundle.js';

/** A bare JID (`localpart@domainpart` or `domainpart`) in the form the server routes it. */
export type BareJid = Brand<string, 'BareJid'>;

/**
 * Checks a bare JID: Unicode text (no lone UTF-16 surrogate), 1 to 3071 UTF-8 bytes, no resource
 * part, a non-empty domain part, no white space or control characters, and in the canonical form
 * RFC 7622 preparation yields (lower case by Unicode toLowerCase, as the PRECIS case mapping rule
 * of RFC 8264 §9.3, and NFC). Seal does not normalize JIDs: it refuses a JID that is not
 * canonical, and binds and compares the exact string, which is the form a conforming server
 * stamps in `from` attributes.
 *
 * Implements requirements `identity.jid`, `identity.jid-canonical` and `encoding.text-well-formed`.
 *
 * @throws SealError `invalid-value` for anything else.
 * @see spec §identity.jid
 * @example
 * ```ts
 * bareJid('juliet@capulet.lit')
 * ```
 */
export function bareJid(text: string): BareJid {
  // @req encoding.text-well-formed: '\uD800@x' would otherwise encode as '\uFFFD@x' does.
  if (!isWellFormedText(text)) throw new SealError('invalid-value', 'jid: expected Unicode text (a UTF-16 surrogate without its pair)');
  const bytes = utf8Encode(text).length;
  const at = text.lastIndexOf('@');
  const domain = at < 0 ? text : text.slice(at + 1);
  // @req identity.jid
  if (bytes < 1 || bytes > MAX_JID_BYTES || text.includes('/') || domain.length === 0 || at === 0 || /[\s\u0000-\u001f\u007f]/u.test(text) || text.indexOf('@') !== at) {
    throw new SealError('invalid-value', `jid: expected a bare JID (no resource, no white space), got ${JSON.stringify(text.slice(0, 64))}`);
  }
  // @req identity.jid-canonical: only the form RFC 7622 preparation yields is bound or compared;
  // "Juliet@Capulet.lit" names the same account as "juliet@capulet.lit" but would bind other bytes.
  if (text.normalize('NFC') !== text || text.toLowerCase() !== text) {
    throw new SealError('invalid-value', `jid: not in the canonical form of RFC 7622 (lower case, NFC), got ${JSON.stringify(text.slice(0, 64))}`);
  }
  return text as BareJid;
}
