/**
 * Randomness: every function that consumes randomness takes an {@link Rng}, so the same code
 * runs with the platform's CSPRNG in production and with a seeded generator for test vectors.
 *
 * @see spec §suite.randomness
 * @module
 */
import { chacha20 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8Encode } from '../codec/bytes.js';
import { SealError } from '../errors.js';

/** Returns `length` random bytes. @see spec §suite.randomness */
export type Rng = (length: number) => Uint8Array;

/** Largest single request (the Web Crypto API limit of `getRandomValues`). */
const MAX_REQUEST = 65536;

/**
 * The platform CSPRNG, `crypto.getRandomValues` (Web Crypto; present in browsers and Node >= 20).
 *
 * Implements requirement `suite.randomness`.
 *
 * @throws SealError `invalid-value` when `length` is negative or not an integer.
 * @see spec §suite.randomness
 */
export const systemRng: Rng = (length) => {
  // @req suite.randomness
  if (!Number.isSafeInteger(length) || length < 0) throw new SealError('invalid-value', `rng: expected a length >= 0, got ${length}`);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += MAX_REQUEST) {
    crypto.getRandomValues(out.subarray(i, Math.min(length, i + MAX_REQUEST)));
  }
  return out;
};

/**
 * A deterministic generator for test vectors and tests only: the ChaCha20 key stream under the
 * key SHA-256("Seal-v0 test rng" || seed) with a zero nonce and
 * block counter starting at 0, consumed in order.
 * Never use it for real keys.
 *
 * @param seed - any string or bytes; the same seed gives the same stream.
 * @see spec §impl
 * @example
 * ```ts
 * const rng = seededRng('suite.json');
 * rng(32) // the same 32 bytes on every run
 * ```
 */
export function seededRng(seed: string | Uint8Array): Rng {
  const seedBytes = typeof seed === 'string' ? utf8Encode(seed) : seed;
  const key = sha256(new Uint8Array([...utf8Encode('Seal-v0 test rng'), ...seedBytes]));
  const nonce = new Uint8Array(12);
  let position = 0;
  return (length) => {
    if (!Number.isSafeInteger(length) || length < 0) throw new SealError('invalid-value', `rng: expected a length >= 0, got ${length}`);
    const block = Math.floor(position / 64);
    const skip = position - block * 64;
    const stream = chacha20(key, nonce, new Uint8Array(skip + length), undefined, block);
    const out = stream.slice(skip, skip + length);
    position += length;
    return out;
  };
}
