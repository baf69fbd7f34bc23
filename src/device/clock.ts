/**
 * The check XEP-0420 requires of the `<time/>` affix: a receiver compares the sender's time with
 * when the server says it received the message, or with its own clock for a live message, and
 * alerts the user beyond TIME_AFFIX_SKEW. It does not reject: offline and archive delivery can
 * take days, and replays are stopped by the ratchet, not by the clock.
 *
 * @see spec §envelope.content
 * @module
 */
import { DEVICE_CONSTANTS } from './constants.js';

/** The `clockSkew` and `timeMismatch` of an opened message with skew `skew`. @see spec §envelope.content */
export function clockFields(skew: number): { clockSkew: number; timeMismatch: boolean } {
  return { clockSkew: skew, timeMismatch: Math.abs(skew) > DEVICE_CONSTANTS.TIME_AFFIX_SKEW };
}

/**
 * The fields of the time check for a message whose `<time/>` is `time`, against `reference`
 * (the server's stamp or the receiver's clock; `undefined`: none known, nothing is checked).
 *
 * Implements requirement `envelope.time-check`.
 *
 * @see spec §envelope.content
 */
export function clockCheck(time: number, reference: number | undefined): { clockSkew: number; timeMismatch: boolean } | Record<string, never> {
  // @req envelope.time-check: compared with the server's stamp or the receiver's clock, flagged beyond TIME_AFFIX_SKEW.
  return reference === undefined ? {} : clockFields(time - reference);
}
