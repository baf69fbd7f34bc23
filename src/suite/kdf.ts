/**
 * SHA-256, HMAC-SHA-256 (RFC 2104), HKDF-SHA-256 (RFC 5869), constant-time comparison, and the
 * labelled KDF and MAC through which every later section derives keys.
 *
 * @see spec §suite.kdf
 * @module
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { type Codec, encode, opaque, struct, u16 } from '../codec/index.js';
import { SealError } from '../errors.js';
import { labelBytes, labelField, labeledContent } from './suite.js';
import { LENGTHS, SymmetricKey } from './types.js';

/** Largest HKDF-SHA-256 output, 255 × 32 bytes (RFC 5869 §2.3). */
export const HKDF_MAX_LENGTH = 255 * LENGTHS.hash;

/** SHA-256 (FIPS 180-4). @see spec §suite.kdf */
export function sha256(message: Uint8Array): Uint8Array {
  return nobleSha256(message);
}

/** HMAC-SHA-256 (RFC 2104), full 32-byte output; Seal never truncates a MAC. @see spec §suite.kdf */
export function hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array {
  return hmac(nobleSha256, key, message);
}

/**
 * HKDF-SHA-256 (RFC 5869): Extract with `salt` (empty means 32 zero bytes, as the RFC says),
 * then Expand to `length` bytes.
 *
 * @throws SealError `invalid-length` when `length` is not in 0..8160.
 * @see spec §suite.kdf
 */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > HKDF_MAX_LENGTH) {
    throw new SealError('invalid-length', `HKDF output: expected 0..${HKDF_MAX_LENGTH} bytes, got ${length}`);
  }
  return hkdf(nobleSha256, ikm, salt, info, length);
}

/**
 * Constant-time equality of two byte strings of equal length (the length itself is not secret).
 *
 * Implements requirement `suite.constant-time`.
 *
 * @see spec §suite.kdf
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  // @req suite.constant-time
  return a.length === b.length && equalBytes(a, b);
}

/**
 * `struct { uint16 length; opaque label<9..255>; opaque context<0..2^32-1>; } KdfInfo`, the HKDF
 * `info` of the labelled KDF.
 *
 * @see spec §suite.labels
 */
export const KdfInfo: Codec<{ length: number; label: Uint8Array; context: Uint8Array }> = struct('KdfInfo', {
  length: u16,
  label: labelField('KdfInfo.label'),
  context: opaque(4, { max: 0xffffffff }, 'KdfInfo.context'),
});

/** Inputs of the labelled KDF. */
export interface KdfInput {
  /** Label without the `Seal-v0 ` prefix, e.g. `"root"`. */
  readonly label: string;
  /** Input keying material (secret). */
  readonly ikm: Uint8Array;
  /** HKDF salt; empty (the default) means 32 zero bytes. */
  readonly salt?: Uint8Array;
  /** Public context bound into the output (a transcript, an encoded structure); default empty. */
  readonly context?: Uint8Array;
  /** Output length in bytes, 1..8160. */
  readonly length: number;
}

/**
 * Seal's labelled KDF: `HKDF-SHA-256(salt, ikm, info = KdfInfo, length)` with
 * `struct { uint16 length; opaque label<9..255>; opaque context<0..2^32-1>; } KdfInfo`
 * and `label = "Seal-v0 " || Label`. Every key Seal derives goes through this function, so
 * keys derived for different purposes or lengths never collide.
 *
 * Implements requirement `suite.labels-kdf`.
 *
 * @throws SealError `invalid-length` when `length` is not in 1..8160; `invalid-value` for a bad label.
 * @see spec §suite.labels
 * @example
 * ```ts
 * const okm = deriveKey({ label: 'example', ikm, length: 32 });
 * ```
 */
export function deriveKey(input: KdfInput): Uint8Array {
  if (!Number.isInteger(input.length) || input.length < 1 || input.length > HKDF_MAX_LENGTH) {
    throw new SealError('invalid-length', `KDF output: expected 1..${HKDF_MAX_LENGTH} bytes, got ${input.length}`);
  }
  // @req suite.labels-kdf
  const info = encode(KdfInfo, { length: input.length, label: labelBytes(input.label), context: input.context ?? new Uint8Array(0) });
  return hkdfSha256(input.ikm, input.salt ?? new Uint8Array(0), info, input.length);
}

/**
 * {@link deriveKey} with a 32-byte output wrapped as a secret.
 *
 * @see spec §suite.labels
 */
export function deriveSymmetricKey(input: Omit<KdfInput, 'length'>): SymmetricKey {
  return new SymmetricKey(deriveKey({ ...input, length: 32 }));
}

/**
 * Seal's labelled MAC: `HMAC-SHA-256(key, LabeledContent(label, message))`.
 *
 * Implements requirement `suite.labels-mac`.
 *
 * @see spec §suite.labels
 */
export function macWithLabel(key: SymmetricKey, label: string, message: Uint8Array): Uint8Array {
  // @req suite.labels-mac
  return hmacSha256(key.dangerouslyExposeBytes(), labeledContent(label, message));
}
