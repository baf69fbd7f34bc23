/**
 * Restore from a backup: how a device recognises, from its own published bundle, that its state
 * is older than a state it already published (an older copy of its store came back), and the
 * prekeys it replaces before it accepts any handshake.
 *
 * @see spec §offline.restore
 * @module
 */
import { generateX25519KeyPair } from '../suite/agreement.js';
import type { Rng } from '../suite/rng.js';
import { LENGTHS } from '../suite/types.js';
import { IDENTITY_CONSTANTS } from '../identity/constants.js';
import type { DeviceState } from '../identity/state.js';
import type { BundleValue } from '../wire/bundle.js';
import { replenishOneTimePrekeys } from './prekeys.js';

/**
 * Whether the bundle this device published shows a newer state than `state`: it names a prekey id
 * the state has not issued yet (ids of every kind come from one counter that only grows), or it
 * lacks a one-time prekey the state holds although it names a later one (the newer state consumed
 * it). A published bundle that is merely older (a publish that failed) shows neither: the state's
 * newer keys have higher ids, and the keys it consumed since are still listed.
 *
 * Implements requirement `offline.restore-detect`.
 *
 * @param state - the device state loaded from the store.
 * @param published - the device's own bundle as its PEP service serves it (its identity key checked by the caller).
 * @returns whether the state is an older copy than one the device published.
 * @see spec §offline.restore
 * @example
 * ```ts
 * restoredFromBackup(state, bundleOf(state)) // false
 * ```
 */
export function restoredFromBackup(state: DeviceState, published: BundleValue): boolean {
  // @req offline.restore-detect
  const ids = [published.signedPrekey.id, published.kemPrekey.id, ...published.oneTimePrekeys.map((k) => k.id)];
  if (ids.some((id) => id >= state.nextPrekeyId)) return true;
  const listed = new Set(published.oneTimePrekeys.map((k) => k.id));
  const newest = Math.max(-1, ...listed);
  return state.oneTimePrekeys.some((k) => k.id < newest && !listed.has(k.id));
}

/**
 * Replaces every prekey of a restored device: a new signed prekey and KEM prekey, the old ones
 * deleted at once (no grace period: a handshake to them may be one the newer state already
 * accepted), and new one-time prekeys up to MAX_ONE_TIME_PREKEYS, all with ids above every id the
 * published bundle names. Randomness: 32 bytes for the signed prekey, 64 for the KEM prekey, 32
 * per one-time prekey.
 *
 * Implements requirement `offline.restore-rotate`.
 *
 * @param nextId - the smallest id the new prekeys may take (above every published id).
 * @see spec §offline.restore
 * @example
 * ```ts
 * const fresh = rotateAfterRestore(state, now, rng, 1 + Math.max(...publishedIds));
 * ```
 */
export function rotateAfterRestore(state: DeviceState, now: number, rng: Rng, nextId: number): DeviceState {
  // @req offline.restore-rotate
  const first = Math.max(state.nextPrekeyId, nextId);
  const expires = now + IDENTITY_CONSTANTS.MAX_PREKEY_VALIDITY;
  const signed = { id: first, created: now, expires, secretKey: generateX25519KeyPair(rng).secretKey };
  const kem = { id: first + 1, created: now, expires, seed: rng(LENGTHS.mlKemSeed) };
  const rotated: DeviceState = { ...state, signedPrekeys: [signed], kemPrekeys: [kem], oneTimePrekeys: [], nextPrekeyId: first + 2 };
  return replenishOneTimePrekeys(rotated, rng).state;
}
