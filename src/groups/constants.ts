/**
 * The named constants of §groups; the XEP's table states the same values with their reasons, and
 * a test checks that the two agree.
 *
 * @see spec §groups.constants
 * @module
 */
import { ENVELOPE_CONSTANTS } from '../envelope/constants.js';

/** The named constants of §groups. @see spec §groups.constants */
export const GROUPS_CONSTANTS = {
  /** Seconds after which a room's configuration and affiliation lists must be fetched again before a message is sent to it. */
  ROOM_STATE_MAX_AGE: 600,
  /** Largest room stanza a device sends, in bytes of UTF-8 XML: the limit of every stanza, MAX_STANZA_BYTES of §envelope.constants. */
  MAX_ROOM_STANZA_BYTES: ENVELOPE_CONSTANTS.MAX_STANZA_BYTES,
  /** Devices whose handshake headers one key-only room stanza carries when a message with all of them would be too large: HEADER_BATCH of §envelope.constants. */
  ROOM_HEADER_BATCH: ENVELOPE_CONSTANTS.HEADER_BATCH,
  /** Rooms a device tracks at once. */
  MAX_ROOMS: 256,
  /** Accounts in a room's owner, admin and member lists together. */
  MAX_ROOM_MEMBERS: 256,
} as const;
