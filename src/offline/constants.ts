/**
 * The named constants of §offline; the XEP's table states the same values with their reasons,
 * and a test checks that the two agree.
 *
 * @see spec §offline.constants
 * @module
 */

import { PREKEY_ROTATION_PERIOD } from '../identity/constants.js';

/** The named constants of §offline. @see spec §offline.constants */
export const OFFLINE_CONSTANTS = {
  /** Below this many one-time prekeys a device replenishes its bundle. */
  ONE_TIME_PREKEY_THRESHOLD: 25,
  /** How often a device replaces its signed prekey and KEM prekey: 7 days (it sizes MAX_PREKEY_VALIDITY). */
  PREKEY_ROTATION_PERIOD,
} as const;
