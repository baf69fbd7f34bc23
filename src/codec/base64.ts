/**
 * Strict RFC 4648 §4 base64, the only text form of binary fields in Seal's XML.
 *
 * Decoding accepts exactly the strings that encoding produces: the standard alphabet, padding to
 * a multiple of four characters, zero pad bits, no whitespace, no URL-safe alphabet. So every
 * binary value has one text form and `encodeBase64(decodeBase64(s)) === s` for every accepted `s`.
 *
 * @see spec §encoding.base64
 * @module
 */
import { SealError } from '../errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const PAD = '='.charCodeAt(0);
/** Decodes the encoder's output: ASCII only, which UTF-8 decodes one byte per character. */
const ascii = new TextDecoder();

/**
 * Encodes bytes as padded standard base64 (RFC 4648 §4).
 *
 * @see spec §encoding.base64
 * @example
 * ```ts
 * encodeBase64(new Uint8Array([0xfb, 0xff])) // '+/8='
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  // Character codes into a byte array, decoded once: several times faster than appending to a
  // string four characters at a time (the payload of every stanza passes through here).
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let i = 0;
  let o = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = CODES[n >>> 18]!;
    out[o++] = CODES[(n >>> 12) & 63]!;
    out[o++] = CODES[(n >>> 6) & 63]!;
    out[o++] = CODES[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
    out[o++] = CODES[n >>> 18]!;
    out[o++] = CODES[(n >>> 12) & 63]!;
    out[o++] = rest === 2 ? CODES[(n >>> 6) & 63]! : PAD;
    out[o++] = PAD;
  }
  return ascii.decode(out);
}

/**
 * Decodes canonical padded base64 (RFC 4648 §4) and rejects every other form.
 *
 * Implements requirement `encoding.base64-strict`.
 *
 * @param text - the base64 text; at most `maxBytes` decoded bytes are accepted.
 * @param maxBytes - upper bound on the decoded length (default: no bound beyond the string's).
 * @throws SealError `invalid-base64` for a length that is not a multiple of 4, a character outside
 *   the standard alphabet (including whitespace and `-`/`_`), misplaced or missing padding, or
 *   non-zero pad bits; `too-large` when the decoded length would exceed `maxBytes`.
 * @see spec §encoding.base64
 * @example
 * ```ts
 * decodeBase64('+/8=') // Uint8Array [0xfb, 0xff]
 * ```
 */
export function decodeBase64(text: string, maxBytes = Number.MAX_SAFE_INTEGER, field = 'base64'): Uint8Array {
  // @req encoding.base64-strict
  if (text.length % 4 !== 0) {
    throw new SealError('invalid-base64', `${field}: expected a length that is a multiple of 4, got ${text.length}`);
  }
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const length = (text.length / 4) * 3 - padding;
  if (length > maxBytes) {
    throw new SealError('too-large', `${field}: expected at most ${maxBytes} bytes, got ${length}`);
  }
  const out = new Uint8Array(length);
  const body = text.length - padding;
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < body; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? DECODE[c]! : -1;
    if (v < 0) throw new SealError('invalid-base64', `${field}: unexpected character`, i);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  // The bits left over after the last whole byte are the pad bits; RFC 4648 §3.5 lets decoders
  // reject non-zero pad bits, and Seal does so that every value has exactly one text form.
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) {
    throw new SealError('invalid-base64', `${field}: non-zero pad bits`, body - 1);
  }
  return out;
}
