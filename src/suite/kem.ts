/**
 * ML-KEM-768 (FIPS 203), used in Seal only in hybrid with X25519, never alone.
 *
 * @see spec §suite.kem
 * @module
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { SealError } from '../errors.js';
import { constantTimeEqual } from './kdf.js';
import type { Rng } from './rng.js';
import {
  LENGTHS,
  type MlKemCiphertext,
  type MlKemPublicKey,
  MlKemSecretKey,
  SymmetricKey,
  checkLength,
  mlKemCiphertext,
} from './types.js';

/** An ML-KEM-768 key pair. */
export interface MlKemKeyPair {
  readonly secretKey: MlKemSecretKey;
  readonly publicKey: MlKemPublicKey;
}

/**
 * Deterministic ML-KEM-768 key generation from the 64-byte seed `d || z`
 * (FIPS 203 Algorithm 16, ML-KEM.KeyGen_internal).
 *
 * @throws SealError `invalid-length` when `seed` is not 64 bytes.
 * @see spec §suite.kem
 */
export function mlKemKeyPairFromSeed(seed: Uint8Array): MlKemKeyPair {
  checkLength(seed, LENGTHS.mlKemSeed, 'ML-KEM-768 seed');
  // Key generation is deterministic; a device expands its stored KEM prekey seed once per seed object.
  let pair = expanded.get(seed);
  if (pair === undefined || !constantTimeEqual(pair.seed, seed)) {
    const { secretKey, publicKey } = ml_kem768.keygen(seed);
    pair = { seed: seed.slice(), keys: { secretKey: new MlKemSecretKey(secretKey), publicKey: publicKey as MlKemPublicKey } };
    expanded.set(seed, pair);
  }
  return { secretKey: pair.keys.secretKey, publicKey: pair.keys.publicKey.slice() as MlKemPublicKey };
}

const expanded = new WeakMap<Uint8Array, { seed: Uint8Array; keys: MlKemKeyPair }>();

/**
 * Generates an ML-KEM-768 key pair from 64 bytes of `rng` (FIPS 203 Algorithm 19).
 *
 * @see spec §suite.kem
 */
export function generateMlKemKeyPair(rng: Rng): MlKemKeyPair {
  return mlKemKeyPairFromSeed(rng(LENGTHS.mlKemSeed));
}

/**
 * Checks an ML-KEM-768 encapsulation key: its length and the modulus check of FIPS 203 §7.2
 * (every coefficient, decoded, is below q).
 *
 * Implements requirement `suite.kem-key-check`.
 *
 * @throws SealError `invalid-length` for a wrong length; `invalid-key` when the modulus check fails.
 * @see spec §suite.kem
 */
export function mlKemPublicKey(bytes: Uint8Array): MlKemPublicKey {
  checkLength(bytes, LENGTHS.mlKemPublicKey, 'ML-KEM-768 public key');
  // @req suite.kem-key-check
  // ByteEncode12(ByteDecode12(ek[0:1152])) = ek[0:1152] exactly when every 12-bit coefficient
  // (two per three bytes, little-endian) is below q; the last 32 bytes are the seed rho. This is
  // the check noble's encapsulation makes, without the cost of an encapsulation.
  for (let i = 0; i < LENGTHS.mlKemPublicKey - 32; i += 3) {
    const low = bytes[i]! | ((bytes[i + 1]! & 0x0f) << 8);
    const high = (bytes[i + 1]! >> 4) | (bytes[i + 2]! << 4);
    if (low >= ML_KEM_Q || high >= ML_KEM_Q) throw new SealError('invalid-key', 'ML-KEM-768 public key: fails the modulus check of FIPS 203 §7.2');
  }
  return bytes as MlKemPublicKey;
}

/** The ML-KEM modulus q (FIPS 203 §2.4). */
const ML_KEM_Q = 3329;

/**
 * ML-KEM-768 encapsulation (FIPS 203 Algorithm 20) with 32 bytes of `rng` as the message `m`.
 * The public key is checked as {@link mlKemPublicKey} describes.
 *
 * @throws SealError `invalid-length` or `invalid-key` for a bad public key.
 * @see spec §suite.kem
 */
export function mlKemEncapsulate(publicKey: Uint8Array, rng: Rng): { ciphertext: MlKemCiphertext; sharedSecret: SymmetricKey } {
  checkLength(publicKey, LENGTHS.mlKemPublicKey, 'ML-KEM-768 public key');
  const m = rng(32);
  let result: { cipherText: Uint8Array; sharedSecret: Uint8Array };
  try {
    // @req suite.kem-key-check
    result = ml_kem768.encapsulate(publicKey, m);
  } catch {
    throw new SealError('invalid-key', 'ML-KEM-768 public key: fails the modulus check of FIPS 203 §7.2');
  }
  return { ciphertext: mlKemCiphertext(result.cipherText), sharedSecret: new SymmetricKey(result.sharedSecret) };
}

/**
 * ML-KEM-768 decapsulation (FIPS 203 Algorithm 21) with the input checks of FIPS 203 §7.3:
 * ciphertext and key lengths, and the hash check of the decapsulation key. A ciphertext that does
 * not decrypt yields the implicit-rejection value, never an error, as FIPS 203 specifies.
 *
 * @throws SealError `invalid-length` for a wrong ciphertext or key length; `invalid-key` when
 *   the decapsulation key fails its hash check.
 * @see spec §suite.kem
 */
export function mlKemDecapsulate(secretKey: MlKemSecretKey, ciphertext: Uint8Array): SymmetricKey {
  checkLength(ciphertext, LENGTHS.mlKemCiphertext, 'ML-KEM-768 ciphertext');
  let shared: Uint8Array;
  try {
    shared = ml_kem768.decapsulate(ciphertext, secretKey.dangerouslyExposeBytes());
  } catch {
    throw new SealError('invalid-key', 'ML-KEM-768 secret key: fails the hash check of FIPS 203 §7.3');
  }
  return new SymmetricKey(shared);
}
