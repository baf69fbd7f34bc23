/**
 * The memory of stanzas that failed to authenticate (spec envelope.forgery-cost): what identifies
 * one stanza's attempt to open, and the state it failed against, so that a re-delivery against
 * the same state costs a lookup.
 *
 * @see spec §envelope.limits
 * @module
 */
import { concatBytes, toHex, utf8Encode } from '../codec/bytes.js';
import type { SealErrorCode } from '../errors.js';
import { sha256 } from '../suite/kdf.js';
import type { HandshakeLog } from '../handshake/async.js';
import { HANDSHAKE_CONSTANTS } from '../handshake/constants.js';
import type { DeviceState } from '../identity/state.js';
import type { DeviceAddress } from './types.js';
import type { PeerRecord } from './state.js';

/**
 * A stanza whose opening failed with `authentication-failed`, and the state it failed against: the
 * peer record (its sessions), the device state (its prekeys), the handshake log (by identity) and
 * the pinned key. Opening is a function of these and the stanza, so while they are unchanged the
 * stanza fails the same way again.
 */
export interface FailedOpen {
  /** Weak, so that the memory keeps no replaced state alive; a collected state is a changed one. */
  readonly peer: WeakRef<PeerRecord> | undefined;
  readonly device: WeakRef<DeviceState>;
  readonly log: WeakRef<HandshakeLog>;
  /** The pinned identity key the handshake was checked against (hex). */
  readonly pinned: string | undefined;
  /** Until when the device's prekeys answer as they did (the first end of a grace period: expired-prekey after it). */
  readonly until: number;
  readonly code: SealErrorCode;
  readonly message: string;
}

/** What identifies one stanza's attempt to open for this device: its sender, its key element and payload. @see spec §envelope.limits */
export function failedOpenKey(from: DeviceAddress, data: Uint8Array, handshake: boolean, commitment: Uint8Array | undefined, payload: Uint8Array | undefined, header: Uint8Array): { fingerprint: string; ratchetKey: string; counter: number } {
  const sender = utf8Encode(`${from.jid}/${from.deviceId}/${handshake ? 1 : 0}/${commitment === undefined ? 0 : 1}`);
  const fingerprint = toHex(sha256(concatBytes(sender, data, commitment ?? new Uint8Array(0), sha256(payload ?? new Uint8Array(0)))));
  const counter = ((header[36]! << 24) | (header[37]! << 16) | (header[38]! << 8) | header[39]!) >>> 0;
  return { fingerprint, ratchetKey: toHex(header.subarray(0, 32)), counter };
}

/** The first time a signed or KEM prekey of `device` passes its grace period. @see spec §envelope.limits */
export function prekeysValidUntil(device: DeviceState): number {
  return Math.min(...[...device.signedPrekeys, ...device.kemPrekeys].map((k) => k.expires + HANDSHAKE_CONSTANTS.PREKEY_GRACE_PERIOD));
}

/**
 * Whether a session of `peer` holds a skipped key for the header: such a key expires with time
 * (SKIPPED_KEY_MAX_AGE), so the outcome is not a function of the records alone.
 *
 * @see spec §envelope.limits
 */
export function namesStoredKey(peer: PeerRecord | undefined, attempt: { ratchetKey: string; counter: number }): boolean {
  if (peer === undefined) return false;
  const ratchets = peer.session.alternate === undefined ? [peer.session.ratchet] : [peer.session.ratchet, peer.session.alternate];
  return ratchets.some((r) => r.skipped.some((k) => k.ratchetKey === attempt.ratchetKey && k.counter === attempt.counter));
}

/**
 * Whether `failure` was recorded against exactly this state (the same peer record, device state,
 * handshake log and pin, before the end of a prekey's grace period).
 *
 * @see spec §envelope.limits
 */
export function sameFailureState(failure: FailedOpen, state: { peer: PeerRecord | undefined; device: DeviceState; log: HandshakeLog; pinned: string | undefined; now: number }): boolean {
  const peer = failure.peer?.deref();
  if ((failure.peer === undefined) !== (state.peer === undefined) || (state.peer !== undefined && peer !== state.peer)) return false;
  return failure.device.deref() === state.device && failure.log.deref() === state.log && failure.pinned === state.pinned && state.now < failure.until;
}

/**
 * The memory entry of a failure against this state.
 *
 * @see spec §envelope.limits
 */
export function failureAgainst(state: { peer: PeerRecord | undefined; device: DeviceState; log: HandshakeLog; pinned: string | undefined }, code: SealErrorCode, message: string): FailedOpen {
  return { peer: state.peer === undefined ? undefined : new WeakRef(state.peer), device: new WeakRef(state.device), log: new WeakRef(state.log), pinned: state.pinned, until: prekeysValidUntil(state.device), code, message };
}
