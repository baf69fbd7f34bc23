/**
 * The named constants and labels of §handshake; the XEP's tables state the same values with
 * their reasons, and a test checks that the two agree.
 *
 * @see spec §handshake.constants
 * @module
 */

/** The named constants of §handshake. @see spec §handshake.constants */
export const HANDSHAKE_CONSTANTS = {
  /** How long after its `expires` time a device keeps answering handshakes to an old signed or KEM prekey: 7 days. */
  PREKEY_GRACE_PERIOD: 7 * 86400,
  /** Processed asynchronous handshake headers a device remembers to recognise duplicates. */
  MAX_PROCESSED_HANDSHAKES: 1000,
  /** Seconds an interactive handshake may take from message 1 to message 3. */
  INTERACTIVE_TIMEOUT: 60,
} as const;

/** Labels of §handshake (each prefixed with `Seal-v0 ` by the suite). @see spec §handshake.labels */
export const HANDSHAKE_LABELS = {
  asyncHandshake: 'async handshake',
  asyncConfirmation: 'async confirmation',
  interactivePrologue: 'interactive',
  interactiveHandshake: 'interactive handshake',
  rootKey: 'root key',
  exporterSecret: 'exporter secret',
  exporter: 'exporter',
  dtlsFingerprints: 'dtls fingerprints',
} as const;
