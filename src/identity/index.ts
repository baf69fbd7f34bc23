/**
 * §identity: device keys and ids, fingerprints and safety numbers, bundles, device lists, the
 * optional account key and external binding statements, trust decisions, and PEP publication.
 *
 * @see spec §identity
 * @module
 */
export * from './constants.js';
export * from './labels.js';
export * from './jid.js';
export * from './device.js';
export * from './state.js';
export * from './bundle.js';
export * from './devicelist.js';
export * from './fingerprint.js';
export * from './trust.js';
export * from './pep.js';
