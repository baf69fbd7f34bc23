/**
 * The named bounds of §identity, each with its value; the XEP's constants table states the same
 * values with their reasons, and a test checks that the two agree.
 *
 * @see spec §identity.constants
 * @module
 */

import { MAX_BINDINGS } from '../wire/devices.js';

/** Seconds in a day. */
const DAY = 86400;

/**
 * How often a device replaces its signed prekey and KEM prekey: 7 days. Stated in §offline's
 * table (OFFLINE_CONSTANTS re-exports it); defined here because it sizes MAX_PREKEY_VALIDITY.
 *
 * @see spec §offline.prekeys
 */
export const PREKEY_ROTATION_PERIOD = 7 * DAY;

/** How far in the future a prekey's `created` time may lie, and the margin of its `expires`: 5 minutes. */
const CLOCK_SKEW = 300;

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
  /** Largest number of binding statements for one account key (`bindings<0..4>`). */
  MAX_BINDINGS,
  /**
   * The validity (expires − created) of every signed prekey and KEM prekey a device makes, and the
   * longest a receiver accepts: PREKEY_ROTATION_PERIOD + MAX_CLOCK_SKEW (7 days and 5 minutes).
   * The private key is deleted PREKEY_GRACE_PERIOD after `expires` (§offline.prekeys).
   */
  MAX_PREKEY_VALIDITY: PREKEY_ROTATION_PERIOD + CLOCK_SKEW,
  /** How far in the future a prekey's `created` time may lie (clock skew): 5 minutes. */
  MAX_CLOCK_SKEW: CLOCK_SKEW,
  /** One-time prekeys a new bundle carries. */
  DEFAULT_ONE_TIME_PREKEYS: 100,
  /** Seconds before the single retry of a publish that failed with an error of type `wait`. */
  PUBLISH_WAIT_RETRY: 60,
} as const;
