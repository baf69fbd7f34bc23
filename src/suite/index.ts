/**
 * §suite: the one mandatory suite `Seal-v0-X25519-MLKEM768-ChaCha20Poly1305-SHA256` as thin,
 * typed wrappers over the audited `@noble` libraries.
 *
 * @see spec §suite
 * @module
 */
export * from './suite.js';
export * from './types.js';
export * from './rng.js';
export * from './signature.js';
export * from './agreement.js';
export * from './kem.js';
export * from './kdf.js';
export * from './aead.js';
export { type CurveProvider, curveProvider, nobleCurveProvider, useCurveProvider } from './provider.js';
