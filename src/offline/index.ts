/**
 * §offline: what makes store-and-forward safe and lossless: the prekey lifecycle and session
 * repair (duplicates, skipped keys, transactional opens and simultaneous initiation are enforced
 * where they happen, in §handshake and §envelope).
 *
 * @see spec §offline
 * @module
 */
export * from './constants.js';
export * from './prekeys.js';
export * from './repair.js';
