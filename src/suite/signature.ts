/**
 * Ed25519 signatures (RFC 8032) with strict verification, and Seal's labelled signatures.
 *
 * @see spec §suite.signature
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { toHex } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import { type CurveProvider, curveProvider, nobleCurveProvider, providerOutput } from './provider.js';
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
    publicKey = ed25519PublicKey(providerOutput(curveProvider().ed25519PublicKey(secretKey.dangerouslyExposeBytes()), LENGTHS.ed25519PublicKey, 'Ed25519 public key'));
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
  return providerOutput(curveProvider().ed25519Sign(secretKey.dangerouslyExposeBytes(), message), LENGTHS.ed25519Signature, 'Ed25519 signature') as Ed25519Signature;
}

/** 2^255 - 19 */
const P = 2n ** 255n - 19n;
/** The order L of the prime-order subgroup, 2^252 + 27742317777372353535851937790883648493. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

/**
 * The canonical encodings of the eight points of small order (the 8-torsion subgroup: the
 * identity, the point of order 2, two of order 4 and four of order 8). Once an encoding is known
 * to be canonical, A is of small order exactly when it is one of these, which noble's
 * `isSmallOrder` also decides, without a point decompression. A test checks the list against
 * noble (closed under addition, every element of small order).
 */
const SMALL_ORDER_ENCODINGS = new Set([
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
]);

function littleEndian(bytes: Uint8Array, mask = 0xff): bigint {
  let n = BigInt(bytes[bytes.length - 1]! & mask);
  for (let i = bytes.length - 2; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/**
 * RFC 8032 §5.1.3's canonical point encoding, from the bytes alone: y < p, and no x = 0
 * (y = ±1) with the sign bit set. Whether y is on the curve at all is left to the equation.
 */
function canonicalPoint(bytes: Uint8Array): boolean {
  const y = littleEndian(bytes, 0x7f);
  if (y >= P) return false;
  return (bytes[31]! & 0x80) === 0 || (y !== 1n && y !== P - 1n);
}

/**
 * Seal's own strictness checks on a signature (64 bytes) and a public key (32 bytes), made
 * before any provider sees them: R and A canonical, S < L, A not of small order.
 */
function strictEncodings(publicKey: Uint8Array, signature: Uint8Array): boolean {
  // @req suite.ed25519-strict
  return (
    canonicalPoint(publicKey) &&
    !SMALL_ORDER_ENCODINGS.has(toHex(publicKey)) &&
    canonicalPoint(signature.subarray(0, 32)) &&
    littleEndian(signature.subarray(32)) < L
  );
}

function verifyWith(provider: CurveProvider, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return provider.ed25519Verify(signature, message, publicKey) === true;
  } catch {
    return false;
  }
}

/**
 * Strict Ed25519 verification (RFC 8032 §5.1.7): the encodings of R and A are canonical
 * (y < p), S < L, A is not of small order, and the cofactored equation
 * [8][S]B = [8]R + [8][k]A holds (noble's `zip215: false` mode). ZIP-215's lenient encodings are
 * not accepted, so all implementations that follow the spec agree on every signature.
 *
 * The encoding rules are checked here, in Seal, before the installed {@link CurveProvider} is
 * asked about the equation, so no provider can accept what they reject. A provider that checks
 * the cofactorless equation (Node's OpenSSL) is stricter only for R or A with a small-order
 * component, which no honest signer produces: its `true` stands, and its `false` is confirmed
 * with noble's cofactored equation, so the verdict is the same with every provider.
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
  // @req suite.ed25519-strict: encodings first, in Seal, whatever the provider.
  if (!strictEncodings(publicKey, signature)) return false;
  const provider = curveProvider();
  if (verifyWith(provider, publicKey, message, signature)) return true;
  // A cofactorless "no" may be a mixed-order R or A that the cofactored equation accepts.
  return provider.ed25519Equation === 'cofactorless' && verifyWith(nobleCurveProvider, publicKey, message, signature);
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
