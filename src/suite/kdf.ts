/**
 * SHA-256, HMAC-SHA-256 (RFC 2104), HKDF-SHA-256 (RFC 5869), constant-time comparison, and the
 * labelled KDF and MAC through which every later section derives keys.
 *
 * @see spec §suite.kdf
 * @module
 */
import { expand, hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { sha1 as nobleSha1 } from '@noble/hashes/legacy.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { type Codec, opaque, struct, u16 } from '../codec/index.js';
import { SealError } from '../errors.js';
import { labelField, labeledContent } from './suite.js';
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
  // KdfInfo is uint16(length) || LabeledContent(label, context): the same fields in the same
  // order, so it is built from labeledContent's bytes (a test checks it against the KdfInfo codec).
  const labelled = labeledContent(input.label, input.context ?? EMPTY);
  const info = new Uint8Array(2 + labelled.length);
  info[0] = input.length >>> 8;
  info[1] = input.length & 0xff;
  info.set(labelled, 2);
  const salt = input.salt ?? EMPTY;
  // An empty salt means 32 zero bytes (RFC 5869 §2.2); the HMAC keyed with it is set up once.
  const prk = salt.length === 0 ? ZERO_SALT.clone().update(input.ikm).digest() : hmac(nobleSha256, salt, input.ikm);
  return expand(nobleSha256, prk, info, input.length);
}

const EMPTY = new Uint8Array(0);
/** HMAC-SHA-256 keyed with the empty salt (as 32 zero bytes; public), cloned for each Extract. */
const ZERO_SALT = hmac.create(nobleSha256, new Uint8Array(LENGTHS.hash));

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

/**
 * {@link macWithLabel} of one message under several labels with the same key:
 * `labels.map((label) => macWithLabel(key, label, message))`, with the key's HMAC set up once
 * (the ratchet's chain step derives its message key and next chain key this way).
 *
 * @throws SealError `invalid-value` for a bad label.
 * @see spec §suite.labels
 * @example
 * ```ts
 * const [messageKey, nextChainKey] = macsWithLabels(chainKey, ['ratchet message key', 'ratchet chain key'], new Uint8Array(0));
 * ```
 */
export function macsWithLabels(key: SymmetricKey, labels: readonly string[], message: Uint8Array): Uint8Array[] {
  const keyed = hmac.create(nobleSha256, key.dangerouslyExposeBytes());
  // @req suite.labels-mac
  const macs = labels.map((label) => keyed.clone().update(labeledContent(label, message)).digest());
  keyed.destroy();
  return macs;
}

/**
 * SHA-1, for XEP-0115's entity-capabilities verification string only: a cache key that names a
 * disco#info result, not a security function. Nothing in Seal's cryptography uses it.
 *
 * @see spec §identity.pep
 */
export function capsSha1(data: Uint8Array): Uint8Array {
  return nobleSha1(data);
}
