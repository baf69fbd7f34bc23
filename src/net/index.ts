/**
 * The network layer: the client connection interface Seal runs on, an in-memory XMPP server with
 * the semantics of real ones (offline storage, archive, carbons, PEP), a seeded adversarial
 * network between them, and the XMPP extension stanzas a client builds and reads.
 *
 * @see spec §offline
 * @see spec §identity.pep
 * @module
 */
export * from './connection.js';
export * from './stanzas.js';
export * from './network.js';
export * from './archive.js';
export * from './pep.js';
export * from './server.js';
export * from './client.js';
