/**
 * §envelope: the Double Ratchet per device pair, the content encrypted once with a key
 * commitment, the per-device key wrap, and the `<sealed/>` stanza.
 *
 * @see spec §envelope
 * @module
 */
export * from './constants.js';
export * from './ratchet.js';
export * from './content.js';
export * from './envelope.js';
export * from './split.js';
