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
  // Whole groups of four characters give three bytes. A group with a character outside the
  // alphabet is scanned again to report the first bad character.
  const whole = body - (body % 4);
  let o = 0;
  for (let i = 0; i < whole; i += 4) {
    const c0 = text.charCodeAt(i);
    const c1 = text.charCodeAt(i + 1);
    const c2 = text.charCodeAt(i + 2);
    const c3 = text.charCodeAt(i + 3);
    const v0 = c0 < 128 ? DECODE[c0]! : -1;
    const v1 = c1 < 128 ? DECODE[c1]! : -1;
    const v2 = c2 < 128 ? DECODE[c2]! : -1;
    const v3 = c3 < 128 ? DECODE[c3]! : -1;
    if ((v0 | v1 | v2 | v3) < 0) badCharacter(text, i, field);
    const n = (v0 << 18) | (v1 << 12) | (v2 << 6) | v3;
    out[o++] = n >>> 16;
    out[o++] = (n >>> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  // The last group before the padding: 2 characters (one byte and 4 pad bits) or 3 (two bytes and
  // 2 pad bits). RFC 4648 §3.5 lets decoders reject non-zero pad bits, and Seal does so that every
  // value has exactly one text form.
  const rest = body - whole;
  if (rest > 0) {
    let n = 0;
    for (let i = whole; i < body; i++) {
      const c = text.charCodeAt(i);
      const v = c < 128 ? DECODE[c]! : -1;
      if (v < 0) badCharacter(text, i, field);
      n = (n << 6) | v;
    }
    const padBits = rest === 2 ? 4 : 2;
    if ((n & ((1 << padBits) - 1)) !== 0) throw new SealError('invalid-base64', `${field}: non-zero pad bits`, body - 1);
    n >>>= padBits;
    if (rest === 3) out[o++] = n >>> 8;
    out[o++] = n & 0xff;
  }
  return out;
}

/** Throws for the first character at or after `from` that is not in the alphabet. */
function badCharacter(text: string, from: number, field: string): never {
  let i = from;
  while (i < text.length && text.charCodeAt(i) < 128 && DECODE[text.charCodeAt(i)]! >= 0) i++;
  throw new SealError('invalid-base64', `${field}: unexpected character`, i);
}
