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

/** UTF-8 encoding of a string. @see spec §encoding */
export function utf8Encode(text: string): Uint8Array {
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
