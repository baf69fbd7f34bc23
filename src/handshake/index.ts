/**
 * §handshake: the asynchronous (PQXDH-shaped) and interactive (Noise XX with ML-KEM) handshakes,
 * the session secret they both produce, and the exporter.
 *
 * @see spec §handshake
 * @module
 */
export * from './constants.js';
export * from './session.js';
export * from './async.js';
export * from './jingle.js';
export * from './interactive.js';
export * from './noise.js';
