/**
 * Seal (`urn:xmpp:seal:0`): end-to-end encryption for XMPP as an executable specification.
 * Each sub-module implements one section of the XEP in `spec/seal.xml`.
 *
 * @see spec §intro
 * @module
 */
export * from './errors.js';
export * from './suite/index.js';
export * from './codec/index.js';
export * from './wire/index.js';
export * from './identity/index.js';
export * from './handshake/index.js';
export * from './envelope/index.js';
export * from './offline/index.js';
export * from './device/index.js';
export * from './groups/index.js';
export * from './files/index.js';
