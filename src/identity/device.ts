/**
 * Device ids and device identity keys: an Ed25519 identity signing key and an independently
 * generated X25519 identity agreement key.
 *
 * @see spec §identity.keys
 * @module
 */
import { SealError } from '../errors.js';
import { type Ed25519KeyPair, generateEd25519KeyPair } from '../suite/signature.js';
import { type X25519KeyPair, generateX25519KeyPair } from '../suite/agreement.js';
import type { Rng } from '../suite/rng.js';
import type { Brand } from '../suite/types.js';
import { IDENTITY_CONSTANTS } from './constants.js';

/** A device id: an integer in 1..2^31-1. @see spec §identity.keys */
export type DeviceId = Brand<number, 'DeviceId'>;

/**
 * Checks and brands a device id.
 *
 * @throws SealError `invalid-value` outside 1..2^31-1.
 * @see spec §identity.keys
 */
export function deviceId(value: number): DeviceId {
  if (!Number.isInteger(value) || value < 1 || value > IDENTITY_CONSTANTS.MAX_DEVICE_ID) {
    throw new SealError('invalid-value', `device id: expected an integer in 1..${IDENTITY_CONSTANTS.MAX_DEVICE_ID}, got ${value}`);
  }
  return value as DeviceId;
}

/** Attempts before giving up on finding a free id (the chance of needing more is below 2^-1000 with 64 devices). */
const DEVICE_ID_ATTEMPTS = 128;

/**
 * Draws a random device id in 1..2^31-1 that is not on the account's published device list.
 *
 * Implements requirement `identity.device-id`.
 *
 * @param taken - ids already on the account's device list.
 * @throws SealError `invalid-value` if no free id was found (only with a broken Rng).
 * @see spec §identity.keys
 * @example
 * ```ts
 * const id = generateDeviceId(systemRng, [1234]);
 * ```
 */
export function generateDeviceId(rng: Rng, taken: Iterable<number> = []): DeviceId {
  const used = new Set(taken);
  for (let attempt = 0; attempt < DEVICE_ID_ATTEMPTS; attempt++) {
    const bytes = rng(4);
    // @req identity.device-id
    const candidate = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) & 0x7fffffff;
    if (candidate !== 0 && !used.has(candidate)) return candidate as DeviceId;
  }
  throw new SealError('invalid-value', 'device id: no free id found; the random number generator is broken');
}

/** A device's two identity key pairs. */
export interface DeviceKeys {
  /** Ed25519: signs the agreement key and prekeys; the fingerprint covers its public key. */
  readonly signing: Ed25519KeyPair;
  /** X25519: used in both handshakes. */
  readonly agreement: X25519KeyPair;
}

/**
 * Generates a device's identity keys: Ed25519 from 32 bytes of `rng`, then X25519 from the next
 * 32 bytes, independently (the agreement key is never converted from the signing key).
 *
 * Implements requirement `identity.separate-keys`.
 *
 * @see spec §identity.keys
 */
export function generateDeviceKeys(rng: Rng): DeviceKeys {
  // @req identity.separate-keys
  const signing = generateEd25519KeyPair(rng);
  const agreement = generateX25519KeyPair(rng);
  return { signing, agreement };
}
