/**
 * The named constants and labels of §envelope; the XEP's tables state the same values with
 * their reasons, and a test checks that the two agree.
 *
 * @see spec §envelope.constants
 * @module
 */
import { MAX_SEALED_RECIPIENTS } from '../wire/sealed.js';

/** The named constants of §envelope. @see spec §envelope.constants */
export const ENVELOPE_CONSTANTS = {
  /** Most message keys one received message may make a device skip in one chain. */
  MAX_SKIP: 1000,
  /** Most skipped message keys a session stores; the oldest is evicted first. */
  MAX_SKIPPED_KEYS: 2000,
  /** Seconds a skipped message key is kept: 30 days. */
  SKIPPED_KEY_MAX_AGE: 30 * 86400,
  /** Opened messages a session remembers to report re-deliveries as duplicates. */
  MAX_RECENTLY_OPENED: 2000,
  /** Largest content (XEP-0420 envelope, before padding) in bytes. */
  MAX_CONTENT_BYTES: 65536,
  /** Most recipient devices of one stanza (the wire bound of `<sealed/>`). */
  MAX_RECIPIENTS: MAX_SEALED_RECIPIENTS,
  /** Largest one-to-one stanza a device sends, in bytes of UTF-8 XML: 64 KiB below Prosody's 256 KiB client stanza limit (as MAX_ROOM_STANZA_BYTES for rooms). */
  MAX_STANZA_BYTES: 196608,
  /** Devices whose handshake headers one key-only stanza carries when a message with all of them would exceed MAX_STANZA_BYTES (as ROOM_HEADER_BATCH for rooms). */
  HEADER_BATCH: 64,
} as const;

/** Labels of §envelope (each prefixed with `Seal-v0 ` by the suite). @see spec §envelope.labels */
export const ENVELOPE_LABELS = {
  rootStep: 'ratchet root',
  chainKey: 'ratchet chain key',
  messageKey: 'ratchet message key',
  messageExpand: 'ratchet message',
  keyCommitment: 'key commitment',
  payloadKey: 'payload key',
  payload: 'payload',
  keyOnly: 'key only',
} as const;
