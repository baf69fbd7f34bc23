/**
 * Healing broken sessions: which failures to open a message a new session can fix. The repair
 * itself (a new asynchronous session started by the device that could not open the message,
 * announced by a key-only message, rate-limited per peer device) is the device engine's
 * (src/device); there is no repair signal on the wire.
 *
 * @see spec §offline.repair
 * @module
 */
import type { SealErrorCode } from '../errors.js';
import type { OpenResult } from '../envelope/envelope.js';

/**
 * The failures after which a device repairs its session with the sending device (requirement
 * `offline.repair-signal`). Not `message-key-unavailable`: a replay and a message too late to
 * open look the same, and a new session changes neither.
 *
 * @see spec §offline.repair
 */
export const REPAIRABLE_FAILURES = ['no-session', 'not-for-this-device', 'authentication-failed', 'unknown-prekey', 'expired-prekey', 'skip-limit'] as const satisfies readonly (SealErrorCode | 'not-for-this-device')[];

/** A failure a new session can fix. @see spec §offline.repair */
export type RepairableFailure = (typeof REPAIRABLE_FAILURES)[number];

/**
 * The repairable failure of an open, or `undefined` when the result calls for no repair
 * (opened, a duplicate, an old or replayed message key, a malformed or redirected stanza:
 * nothing a new session can fix). Which path the stanza came by, and the rate limit, are the
 * device engine's to check.
 *
 * @example
 * ```ts
 * repairReason({ kind: 'error', error: new SealError('no-session', '…') }) === 'no-session'
 * ```
 * @see spec §offline.repair
 */
export function repairReason(result: OpenResult): RepairableFailure | undefined {
  if (result.kind === 'not-for-this-device') return 'not-for-this-device';
  if (result.kind !== 'error') return undefined;
  const code: string = result.error.code;
  return (REPAIRABLE_FAILURES as readonly string[]).includes(code) ? (code as RepairableFailure) : undefined;
}
