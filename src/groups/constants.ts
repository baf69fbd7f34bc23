/**
 * The named constants of §groups; the XEP's table states the same values with their reasons, and
 * a test checks that the two agree.
 *
 * @see spec §groups.constants
 * @module
 */

/** The named constants of §groups. @see spec §groups.constants */
export const GROUPS_CONSTANTS = {
  /** Seconds after which a room's configuration and affiliation lists must be fetched again before a message is sent to it. */
  ROOM_STATE_MAX_AGE: 600,
  /** Largest room stanza a device sends, in bytes of UTF-8 XML: 64 KiB below Prosody's 256 KiB client stanza limit. */
  MAX_ROOM_STANZA_BYTES: 196608,
  /** Devices whose handshake headers one key-only room stanza carries when a message with all of them would be too large. */
  ROOM_HEADER_BATCH: 64,
  /** Rooms a device tracks at once. */
  MAX_ROOMS: 256,
  /** Accounts in a room's owner, admin and member lists together. */
  MAX_ROOM_MEMBERS: 256,
} as const;
