/**
 * The named constants and labels of §files; the XEP's tables state the same values with their
 * reasons, and a test checks that the two agree.
 *
 * @see spec §files.constants
 * @see spec §files.labels
 * @module
 */
import { FILE_DESCRIPTOR_LIMITS } from '../wire/files.js';

/** The named constants of §files. @see spec §files.constants */
export const FILES_CONSTANTS = {
  /** Plaintext bytes of every chunk of the stream cipher but the last (64 KiB). */
  CHUNK_SIZE: 65536,
  /** Bytes of the AES-256-GCM tag that each chunk adds. */
  CHUNK_TAG_BYTES: 16,
  /** Largest file the stream cipher encrypts or a receiver accepts, in plaintext bytes (64 GiB, 2^20 chunks). */
  MAX_FILE_SIZE: FILE_DESCRIPTOR_LIMITS.MAX_FILE_SIZE,
  /** Largest `aesgcm://` download a receiver accepts, in bytes: the whole file is held before its single tag is checked. */
  MAX_AESGCM_SIZE: 104857600,
  /** Largest inline thumbnail, in characters of its `data:` URI. */
  MAX_THUMBNAIL_CHARS: FILE_DESCRIPTOR_LIMITS.MAX_THUMBNAIL_CHARS,
  /** File descriptors read from one message's content. */
  MAX_FILES_PER_MESSAGE: 16,
  /** Longest file name, description or source URL, in characters. */
  MAX_FILE_FIELD_CHARS: FILE_DESCRIPTOR_LIMITS.MAX_FILE_FIELD_CHARS,
} as const;

/** Seal's stream cipher, named in the style of XEP-0448's cipher registry. @see spec §files.cipher */
export const SEAL_STREAM_CIPHER = 'urn:xmpp:ciphers:seal-stream-aes-256-gcm:0';
/** XEP-0448's AES-256-GCM (96-bit IV, the tag appended to the file), the form of `aesgcm://` inside a descriptor. @see spec §files.aesgcm */
export const AES_256_GCM_CIPHER = 'urn:xmpp:ciphers:aes-256-gcm-nopadding:0';

/** Labels of §files (without the `Seal-v0 ` prefix). @see spec §files.labels */
export const FILES_LABELS = {
  payloadKey: 'file payload key',
} as const;
