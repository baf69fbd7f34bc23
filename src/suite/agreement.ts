/**
 * X25519 key agreement (RFC 7748) with rejection of the all-zero shared secret.
 *
 * @see spec §suite.agreement
 * @module
 */
import { SealError } from '../errors.js';
import { type CurveProvider, curveProvider, providerOutput } from './provider.js';
import type { Rng } from './rng.js';
import { LENGTHS, SymmetricKey, type X25519PublicKey, X25519SecretKey, checkLength, x25519PublicKey } from './types.js';

/** An X25519 key pair. */
export interface X25519KeyPair {
  readonly secretKey: X25519SecretKey;
  readonly publicKey: X25519PublicKey;
}

/**
 * Generates an X25519 key pair from 32 bytes of `rng`.
 *
 * @see spec §suite.agreement
 * @example
 * ```ts
 * const alice = generateX25519KeyPair(systemRng);
 * ```
 */
export function generateX25519KeyPair(rng: Rng): X25519KeyPair {
  const secretKey = new X25519SecretKey(rng(LENGTHS.x25519SecretKey));
  return { secretKey, publicKey: x25519PublicKeyOf(secretKey) };
}

/** Public keys already derived, per secret-key object (public values; saves a scalar multiplication). */
const publicKeys = new WeakMap<X25519SecretKey, X25519PublicKey>();

/**
 * The public key X25519(k, 9) of a secret key (RFC 7748 §6.1), computed once per key object.
 *
 * @see spec §suite.agreement
 */
export function x25519PublicKeyOf(secretKey: X25519SecretKey): X25519PublicKey {
  let publicKey = publicKeys.get(secretKey);
  if (publicKey === undefined) {
    publicKey = x25519PublicKey(providerOutput(curveProvider().x25519PublicKey(secretKey.dangerouslyExposeBytes()), LENGTHS.x25519PublicKey, 'X25519 public key'));
    publicKeys.set(secretKey, publicKey);
  }
  return publicKey.slice() as X25519PublicKey;
}

/**
 * X25519(k, u) per RFC 7748 §5: the secret key is clamped and the most significant bit of `u` is
 * ignored, as the RFC requires. Public keys on the twist and non-canonical u-coordinates are
 * therefore accepted; a result of all zeros (a low-order `u`) is rejected, as RFC 7748 §6.1
 * permits and Seal requires, because it would let an attacker fix the shared secret.
 *
 * The scalar multiplication is the installed {@link CurveProvider}'s; the zero check is Seal's and
 * applies whatever the provider (a provider that throws for a low-order `u`, as noble and
 * OpenSSL do, is treated as having returned zeros).
 *
 * Implements requirement `suite.x25519-zero`.
 *
 * @throws SealError `invalid-length` when `publicKey` is not 32 bytes;
 *   `zero-shared-secret` when the result is all zeros.
 * @see spec §suite.agreement
 */
export function x25519(secretKey: X25519SecretKey, publicKey: Uint8Array): SymmetricKey {
  checkLength(publicKey, LENGTHS.x25519PublicKey, 'X25519 public key');
  let shared: Uint8Array;
  try {
    shared = curveProvider().x25519(secretKey.dangerouslyExposeBytes(), publicKey);
  } catch {
    // noble and OpenSSL throw exactly when the result is all zeros.
    shared = new Uint8Array(LENGTHS.x25519SharedSecret);
  }
  shared = providerOutput(shared, LENGTHS.x25519SharedSecret, 'X25519 shared secret');
  // @req suite.x25519-zero
  let acc = 0;
  for (const byte of shared) acc |= byte;
  if (acc === 0) throw new SealError('zero-shared-secret', 'X25519: the shared secret is all zeros (low-order public key)');
  return new SymmetricKey(shared);
}

/** 2^255 - 19 */
const P = 2n ** 255n - 19n;
/**
 * The canonical u-coordinates of the points of order 1, 2, 4 and 8 on Curve25519 and its twist:
 * 0, 1, p - 1 and the two points of order 8 (RFC 7748 §7 and the list of libsodium and
 * cr.yp.to/ecdh.html). Once an encoding is known to be canonical, a key has low order exactly when
 * it is one of these, which is what X25519 with a clamped scalar yielding zero also detects.
 */
const LOW_ORDER = new Set([
  0n,
  1n,
  P - 1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
]);

/**
 * Checks a published X25519 public key (an identity agreement key or a prekey): 32 bytes, the
 * canonical encoding of a u-coordinate (below p, most significant bit clear), and not of low
 * order (not one of the five canonical low-order u-coordinates).
 *
 * Implements requirement `identity.key-check`.
 *
 * @throws SealError `invalid-length` for a wrong length; `invalid-key` for a non-canonical or
 *   low-order key.
 * @see spec §identity.keys
 */
export function checkX25519PublicKey(bytes: Uint8Array): X25519PublicKey {
  const key = x25519PublicKey(bytes);
  let u = 0n;
  for (let i = 31; i >= 0; i--) u = (u << 8n) | BigInt(key[i]!);
  // @req identity.key-check
  if (u >= P) throw new SealError('invalid-key', 'X25519 public key: not a canonical u-coordinate');
  if (LOW_ORDER.has(u)) throw new SealError('invalid-key', 'X25519 public key: low-order point');
  return key;
}
