/**
 * The prekey lifecycle: one-time prekeys are replenished below a threshold; the signed prekey and
 * the KEM prekey rotate on a schedule; replaced keys are kept for the grace period of §handshake
 * and then deleted.
 *
 * @see spec §offline.prekeys
 * @module
 */
import { generateX25519KeyPair } from '../suite/agreement.js';
import type { Rng } from '../suite/rng.js';
import { LENGTHS } from '../suite/types.js';
import { IDENTITY_CONSTANTS } from '../identity/constants.js';
import type { DeviceState } from '../identity/state.js';
import { HANDSHAKE_CONSTANTS } from '../handshake/constants.js';
import { type HandshakeLog, signedPrekeyLogFull } from '../handshake/async.js';
import { OFFLINE_CONSTANTS } from './constants.js';

/**
 * Refills the one-time prekeys up to MAX_ONE_TIME_PREKEYS when fewer than
 * ONE_TIME_PREKEY_THRESHOLD remain (32 bytes of `rng` per new key). New ids continue the
 * device's counter, so a consumed id is never reissued.
 *
 * Implements requirement `offline.replenish`.
 *
 * @returns the new state and whether the bundle must be republished.
 * @see spec §offline.prekeys
 */
export function replenishOneTimePrekeys(state: DeviceState, rng: Rng): { state: DeviceState; changed: boolean } {
  // @req offline.replenish
  if (state.oneTimePrekeys.length >= OFFLINE_CONSTANTS.ONE_TIME_PREKEY_THRESHOLD) return { state, changed: false };
  const count = IDENTITY_CONSTANTS.MAX_ONE_TIME_PREKEYS - state.oneTimePrekeys.length;
  const added = Array.from({ length: count }, (_, i) => ({ id: state.nextPrekeyId + i, secretKey: generateX25519KeyPair(rng).secretKey }));
  return { state: { ...state, oneTimePrekeys: [...state.oneTimePrekeys, ...added], nextPrekeyId: state.nextPrekeyId + count }, changed: true };
}

/**
 * Replaces the signed prekey and the KEM prekey when the current ones are PREKEY_ROTATION_PERIOD
 * old, or when the handshake log `log` shows that the current signed prekey accepts no more
 * handshakes without a one-time prekey (32 + 64 bytes of `rng`), keeping the replaced ones; and
 * deletes every signed or KEM prekey whose `expires` plus PREKEY_GRACE_PERIOD has passed (except
 * the current ones). New keys get `expires = now + MAX_PREKEY_VALIDITY` (PREKEY_ROTATION_PERIOD +
 * MAX_CLOCK_SKEW), so no prekey's private key outlives `created` + MAX_PREKEY_VALIDITY +
 * PREKEY_GRACE_PERIOD (14 days and 5 minutes), whenever it was replaced.
 *
 * Implements requirements `offline.rotate`, `offline.prekey-lifetime`,
 * `handshake.replay-without-one-time-prekey`.
 *
 * @returns the new state and whether the bundle must be republished.
 * @see spec §offline.prekeys
 */
export function rotatePrekeys(state: DeviceState, now: number, rng: Rng, log: HandshakeLog = []): { state: DeviceState; changed: boolean } {
  // @req offline.rotate
  const current = state.signedPrekeys[state.signedPrekeys.length - 1]!;
  let next = state;
  let changed = false;
  // @req handshake.replay-without-one-time-prekey
  if (now - current.created >= OFFLINE_CONSTANTS.PREKEY_ROTATION_PERIOD || signedPrekeyLogFull(state, log)) {
    // @req offline.prekey-lifetime: expires = created + PREKEY_ROTATION_PERIOD + MAX_CLOCK_SKEW.
    const expires = now + IDENTITY_CONSTANTS.MAX_PREKEY_VALIDITY;
    const signed = { id: next.nextPrekeyId, created: now, expires, secretKey: generateX25519KeyPair(rng).secretKey };
    const kem = { id: next.nextPrekeyId + 1, created: now, expires, seed: rng(LENGTHS.mlKemSeed) };
    next = { ...next, signedPrekeys: [...next.signedPrekeys, signed], kemPrekeys: [...next.kemPrekeys, kem], nextPrekeyId: next.nextPrekeyId + 2 };
    changed = true;
  }
  // @req offline.prekey-lifetime: deleted at expires + PREKEY_GRACE_PERIOD, however late the rotation came.
  const alive = <T extends { expires: number }>(keys: readonly T[]) => keys.filter((k, i) => i === keys.length - 1 || now < k.expires + HANDSHAKE_CONSTANTS.PREKEY_GRACE_PERIOD);
  const signedPrekeys = alive(next.signedPrekeys);
  const kemPrekeys = alive(next.kemPrekeys);
  if (signedPrekeys.length !== next.signedPrekeys.length || kemPrekeys.length !== next.kemPrekeys.length) {
    next = { ...next, signedPrekeys, kemPrekeys };
  }
  return { state: next, changed };
}
