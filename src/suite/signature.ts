/**
 * Ed25519 signatures (RFC 8032) with strict verification, and Seal's labelled signatures.
 *
 * @see spec §suite.signature
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { SealError } from '../errors.js';
import type { Rng } from './rng.js';
import { labeledContent } from './suite.js';
import {
  type Ed25519PublicKey,
  type Ed25519Signature,
  Ed25519SecretKey,
  LENGTHS,
  checkLength,
  ed25519PublicKey,
} from './types.js';

/** An Ed25519 key pair. */
export interface Ed25519KeyPair {
  readonly secretKey: Ed25519SecretKey;
  readonly publicKey: Ed25519PublicKey;
}

/**
 * Generates an Ed25519 key pair from 32 bytes of `rng`.
 *
 * @see spec §suite.signature
 * @example
 * ```ts
 * const { publicKey } = generateEd25519KeyPair(systemRng);
 * ```
 */
export function generateEd25519KeyPair(rng: Rng): Ed25519KeyPair {
  const secretKey = new Ed25519SecretKey(rng(LENGTHS.ed25519SecretKey));
  return { secretKey, publicKey: ed25519PublicKeyOf(secretKey) };
}

/** Public keys already derived, per secret-key object (public values; saves a scalar multiplication). */
const publicKeys = new WeakMap<Ed25519SecretKey, Ed25519PublicKey>();

/**
 * The public key of an Ed25519 secret key (RFC 8032 §5.1.5), computed once per key object.
 *
 * @see spec §suite.signature
 */
export function ed25519PublicKeyOf(secretKey: Ed25519SecretKey): Ed25519PublicKey {
  let publicKey = publicKeys.get(secretKey);
  if (publicKey === undefined) {
    publicKey = ed25519PublicKey(ed25519.getPublicKey(secretKey.dangerouslyExposeBytes()));
    publicKeys.set(secretKey, publicKey);
  }
  return publicKey.slice() as Ed25519PublicKey;
}

/**
 * Plain Ed25519 signature of `message` (RFC 8032 §5.1.6). Seal itself only signs through
 * {@link signWithLabel}; this is exposed for the test vectors of RFC 8032 and Wycheproof.
 *
 * @see spec §suite.signature
 */
export function ed25519Sign(secretKey: Ed25519SecretKey, message: Uint8Array): Ed25519Signature {
  return ed25519.sign(message, secretKey.dangerouslyExposeBytes()) as Ed25519Signature;
}

/**
 * Strict Ed25519 verification (RFC 8032 §5.1.7): the encodings of R and A are canonical
 * (y < p), S < L, A is not of small order, and the cofactored equation
 * [8][S]B = [8]R + [8][k]A holds (noble's `zip215: false` mode). ZIP-215's lenient encodings are
 * not accepted, so all implementations that follow the spec agree on every signature.
 *
 * Implements requirement `suite.ed25519-strict`.
 *
 * @returns `true` when the signature is valid; `false` for any invalid signature, including one
 *   of the wrong length (all authentication failures look alike).
 * @throws SealError `invalid-length` when `publicKey` is not 32 bytes.
 * @see spec §suite.signature
 */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  checkLength(publicKey, LENGTHS.ed25519PublicKey, 'Ed25519 public key');
  if (signature.length !== LENGTHS.ed25519Signature) return false;
  try {
    // @req suite.ed25519-strict
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * Checks a published Ed25519 public key (an identity signing key or an account key): 32 bytes,
 * a canonical point encoding, and not of small order. A small-order key would let anyone forge
 * signatures that verify under it.
 *
 * Implements requirement `identity.key-check`.
 *
 * @throws SealError `invalid-length` for a wrong length; `invalid-key` for a non-canonical or
 *   small-order point.
 * @see spec §identity.keys
 */
export function checkEd25519PublicKey(bytes: Uint8Array): Ed25519PublicKey {
  const key = ed25519PublicKey(bytes);
  let smallOrder: boolean;
  try {
    // @req identity.key-check
    smallOrder = ed25519.Point.fromBytes(key, false).isSmallOrder();
  } catch {
    throw new SealError('invalid-key', 'Ed25519 public key: not a canonical point encoding');
  }
  if (smallOrder) throw new SealError('invalid-key', 'Ed25519 public key: small-order point');
  return key;
}

/**
 * Signs `content` under a Seal label: Ed25519 over `LabeledContent(label, content)`.
 * Every signature in Seal is made through this function, so no signature of one kind can be
 * replayed as another.
 *
 * Implements requirement `suite.labels-signature`.
 *
 * @param label - ASCII label without the `Seal-v0 ` prefix, e.g. `"bundle"`.
 * @see spec §suite.labels
 * @example
 * ```ts
 * const sig = signWithLabel(secretKey, 'example', content);
 * verifyWithLabel(publicKey, 'example', content, sig) // true
 * ```
 */
export function signWithLabel(secretKey: Ed25519SecretKey, label: string, content: Uint8Array): Ed25519Signature {
  // @req suite.labels-signature
  return ed25519Sign(secretKey, labeledContent(label, content));
}

/**
 * Verifies a labelled signature made by {@link signWithLabel} (strict, as {@link ed25519Verify}).
 *
 * @returns `true` only when the signature is valid for this label and content.
 * @throws SealError `invalid-length` when `publicKey` is not 32 bytes.
 * @see spec §suite.labels
 */
export function verifyWithLabel(publicKey: Uint8Array, label: string, content: Uint8Array, signature: Uint8Array): boolean {
  return ed25519Verify(publicKey, labeledContent(label, content), signature);
}

/**
 * Like {@link verifyWithLabel} but throws instead of returning `false`.
 *
 * @throws SealError `authentication-failed` when the signature does not verify.
 * @see spec §suite.labels
 */
export function assertSignedWithLabel(publicKey: Uint8Array, label: string, content: Uint8Array, signature: Uint8Array): void {
  if (!verifyWithLabel(publicKey, label, content, signature)) {
    throw new SealError('authentication-failed', `signature (${label}): did not verify`);
  }
}
