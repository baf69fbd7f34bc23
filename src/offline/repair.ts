/**
 * Healing broken sessions: which failures make a device send a repair signal, and the rate
 * limits on both sides that keep two devices from looping.
 *
 * @see spec §offline.repair
 * @module
 */
import type { OpenResult } from '../envelope/envelope.js';
import type { RepairReason } from '../wire/repair.js';
import { REPAIR_REASONS } from '../wire/repair.js';
import { OFFLINE_CONSTANTS } from './constants.js';

/** When this device last sent a repair signal to, and last reset a session on request of, each peer device. */
export interface RepairLog {
  readonly signalled: { readonly [peer: string]: number };
  readonly reset: { readonly [peer: string]: number };
}

/** An empty log. */
export const EMPTY_REPAIR_LOG: RepairLog = { signalled: {}, reset: {} };

/**
 * The repair reason for a failed open, or `undefined` when the failure does not call for one
 * (duplicates, malformed or redirected stanzas: nothing the sender can fix by a new session).
 *
 * @see spec §offline.repair
 */
export function repairReason(result: OpenResult): RepairReason | undefined {
  if (result.kind === 'not-for-this-device') return 'not-for-this-device';
  if (result.kind !== 'error') return undefined;
  const code = result.error.code as string;
  return (REPAIR_REASONS as readonly string[]).includes(code) ? (code as RepairReason) : undefined;
}

/**
 * Whether to send a repair signal to `peer` now; at most one per REPAIR_SIGNAL_INTERVAL.
 *
 * Implements requirement `offline.repair-signal`.
 *
 * @returns the decision and the log to store when the signal is sent.
 * @see spec §offline.repair
 */
export function signalRepair(log: RepairLog, peer: string, now: number): { send: boolean; log: RepairLog } {
  // @req offline.repair-signal
  const last = log.signalled[peer];
  if (last !== undefined && now - last < OFFLINE_CONSTANTS.REPAIR_SIGNAL_INTERVAL) return { send: false, log };
  return { send: true, log: { ...log, signalled: { ...log.signalled, [peer]: now } } };
}

/**
 * Whether to answer a repair signal from `peer` by discarding the session with it and starting a
 * new asynchronous handshake from a freshly fetched device list and bundle; at most one reset per
 * REPAIR_RESET_INTERVAL, so that neither a confused peer nor a forged signal can cause a loop.
 *
 * Implements requirement `offline.repair-reset`.
 *
 * @see spec §offline.repair
 */
export function acceptRepair(log: RepairLog, peer: string, now: number): { reset: boolean; log: RepairLog } {
  // @req offline.repair-reset
  const last = log.reset[peer];
  if (last !== undefined && now - last < OFFLINE_CONSTANTS.REPAIR_RESET_INTERVAL) return { reset: false, log };
  return { reset: true, log: { ...log, reset: { ...log.reset, [peer]: now } } };
}
