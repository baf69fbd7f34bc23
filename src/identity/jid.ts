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
 * part, a non-empty domain part, no white space or control characters. Seal does not normalize JIDs: it binds and compares the
 * exact string, which is the server's canonical form (RFC 7622) as seen in `from` attributes.
 *
 * Implements requirements `identity.jid` and `encoding.text-well-formed`.
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
  return text as BareJid;
}
