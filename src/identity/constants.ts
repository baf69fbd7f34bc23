/**
 * The named bounds of §identity, each with its value; the XEP's constants table states the same
 * values with their reasons, and a test checks that the two agree.
 *
 * @see spec §identity.constants
 * @module
 */

/** Seconds in a day. */
const DAY = 86400;

/**
 * The named constants of §identity.
 *
 * @see spec §identity.constants
 */
export const IDENTITY_CONSTANTS = {
  /** Largest device id: device ids are 31-bit, as in OMEMO, so they fit a signed 32-bit integer. */
  MAX_DEVICE_ID: 0x7fffffff,
  /** Largest number of one-time prekeys in a bundle. */
  MAX_ONE_TIME_PREKEYS: 100,
  /** Largest number of devices on an account's list. */
  MAX_DEVICES: 64,
  /** Longest validity (expires − created) of a signed prekey or KEM prekey: 35 days. */
  MAX_PREKEY_VALIDITY: 35 * DAY,
  /** How far in the future a prekey's `created` time may lie (clock skew): 5 minutes. */
  MAX_CLOCK_SKEW: 300,
  /** Default validity given to a new signed prekey or KEM prekey: 28 days. */
  DEFAULT_PREKEY_VALIDITY: 28 * DAY,
  /** One-time prekeys a new bundle carries. */
  DEFAULT_ONE_TIME_PREKEYS: 100,
  /** Seconds before the single retry of a publish that failed with an error of type `wait`. */
  PUBLISH_WAIT_RETRY: 60,
} as const;
