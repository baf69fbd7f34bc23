/**
 * The named bounds of the device engine, each with its value and reason in spec §device.constants.
 *
 * @see spec §device.constants
 * @module
 */

/** @see spec §device.constants */
export const DEVICE_CONSTANTS = {
  /** Stanzas held for a device list or a trust decision, in total; the oldest is dropped first. */
  MAX_HELD_STANZAS: 256,
  /** Stanzas held per sender account. */
  MAX_HELD_PER_ACCOUNT: 32,
  /** Seconds a held stanza is kept before it is dropped: 7 days. */
  HELD_MAX_AGE: 7 * 86400,
  /** Interactive handshakes in progress at once; the oldest is abandoned first. */
  MAX_PENDING_INTERACTIVE: 16,
  /** Archive queries of this device whose results are accepted at once. */
  MAX_ARCHIVE_QUERIES: 4,
  /** Messages received from a device on the active session without sending to it before a key-only heartbeat. */
  HEARTBEAT_INTERVAL: 50,
  /** Seconds by which a message's `<time/>` may differ from the server's stamp (or the receiver's clock) before the user is alerted. */
  TIME_AFFIX_SKEW: 600,
  /** Minimum seconds between two repairs (new sessions started after a failure) with the same peer device. */
  REPAIR_INTERVAL: 3600,
  /** Repairs waiting for a device list or bundle at once. */
  MAX_PENDING_REPAIRS: 64,
  /** The window of the device-list fetch rate limit (seconds). */
  LIST_FETCH_INTERVAL: 60,
  /** Device-list fetches for one account that held stanzas may cause within LIST_FETCH_INTERVAL. */
  MAX_LIST_FETCHES: 4,
  /** Contact accounts a device tracks (device lists, trust records). */
  MAX_ACCOUNTS: 4096,
  /** Stanzas that failed to authenticate a device remembers, so that a re-delivery costs a lookup (memory only). */
  MAX_FAILED_STANZAS: 1024,
  /** Seconds after its addition during which a device missing from its own account's list adds itself again (a race of two enrolling devices); later it takes the removal as deliberate. */
  LIST_RACE_WINDOW: 600,
} as const;
