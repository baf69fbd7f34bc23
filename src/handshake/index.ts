/**
 * §handshake: the asynchronous (PQXDH-shaped) and interactive (Seal-XX+KEM: Noise XX with ML-KEM in its payloads) handshakes,
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
