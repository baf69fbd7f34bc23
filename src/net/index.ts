/**
 * The network layer: the client connection interface Seal runs on, an in-memory XMPP server with
 * the semantics of real ones (offline storage, archive, carbons, PEP), a seeded adversarial
 * network between them, the XMPP extension stanzas a client builds and reads, and publishing
 * Seal's PEP items. The Node-only adapter to real servers (`./real.js`, over @xmpp/client) is not
 * re-exported here, so this entry stays browser-safe: import it as `xmpp-seal/net/real`.
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
export * from './publish.js';
export * from './server.js';
export * from './muc.js';
export * from './upload.js';
export * from './upload-service.js';
export * from './client.js';
