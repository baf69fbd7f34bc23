/**
 * Byte-array helpers shared by every layer: concatenation, UTF-8 and hex conversion.
 *
 * These are representation helpers, not cryptography; comparison of secrets lives in
 * `src/suite` (constant time).
 *
 * @see spec §encoding
 * @module
 */
import { SealError } from '../errors.js';

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Concatenates byte arrays into a new array.
 *
 * @example
 * ```ts
 * concatBytes(new Uint8Array([1]), new Uint8Array([2])) // Uint8Array [1, 2]
 * ```
 */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Whether `text` is a sequence of Unicode scalar values: no UTF-16 surrogate without its pair.
 * (`String.prototype.isWellFormed` where the runtime has it.)
 *
 * @see spec §encoding
 * @example
 * ```ts
 * isWellFormedText('\uD83D\uDD12') // true; isWellFormedText('\uD800') // false
 * ```
 */
export function isWellFormedText(text: string): boolean {
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed;
  return typeof native === 'function' ? native.call(text) : !/\p{Surrogate}/u.test(text);
}

/**
 * Strict UTF-8 encoding of a string. A lone UTF-16 surrogate is an error, never the U+FFFD
 * that `TextEncoder` would write silently: `'\uD800@x'` and `'\uFFFD@x'` must not encode to the
 * same bytes, or two different strings would hash, sign and compare as one.
 *
 * Implements requirement `encoding.text-well-formed`.
 *
 * @throws SealError `invalid-value` when `text` has an unpaired surrogate.
 * @see spec §encoding
 * @example
 * ```ts
 * utf8Encode('Seal') // Uint8Array [83, 101, 97, 108]
 * ```
 */
export function utf8Encode(text: string, field = 'text'): Uint8Array {
  // @req encoding.text-well-formed
  if (!isWellFormedText(text)) throw new SealError('invalid-value', `${field}: expected Unicode text (a UTF-16 surrogate without its pair cannot be encoded as UTF-8)`);
  return encoder.encode(text);
}

/**
 * Strict UTF-8 decoding: malformed sequences raise `invalid-value` instead of being replaced.
 *
 * @throws SealError `invalid-value` when `bytes` is not valid UTF-8.
 * @see spec §encoding
 */
export function utf8Decode(bytes: Uint8Array, field = 'text'): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new SealError('invalid-value', `${field}: expected valid UTF-8`);
  }
}

/** Lower-case hexadecimal form of bytes (vectors and display only). */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/**
 * Parses lower- or upper-case hexadecimal of even length.
 *
 * @throws SealError `invalid-value` on odd length or a non-hex character.
 */
export function fromHex(hex: string, field = 'hex'): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new SealError('invalid-value', `${field}: expected even-length hexadecimal, got ${hex.length} characters`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Compares two byte strings in lexicographic order of their octets (a shorter prefix first):
 * negative, zero or positive. Used where the XEP orders values by their bytes (which of two
 * crossing sessions stays, XEP-0115's "i;octet" collation).
 *
 * @see spec §encoding.binary
 * @example
 * ```ts
 * compareBytes(new Uint8Array([1]), new Uint8Array([1, 0])) // -1
 * ```
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
