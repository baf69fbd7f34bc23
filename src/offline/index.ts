/**
 * §offline: what makes store-and-forward safe and lossless: the prekey lifecycle and which
 * failures call for a session repair (duplicates, skipped keys, transactional opens and
 * simultaneous initiation are enforced where they happen, in §handshake and §envelope; forwarded
 * stanzas, repairs and previous sessions in the device engine, §device).
 *
 * @see spec §offline
 * @module
 */
export * from './constants.js';
export * from './prekeys.js';
export * from './repair.js';
