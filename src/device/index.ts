/**
 * §device: one Seal device as a sans-IO engine. `SealEngine.step` takes an input (an incoming
 * stanza, a send request, a fetched device list or bundle, the user's decision, the clock) and
 * returns one store commit, stanzas to send, PEP items to publish, items to fetch and typed
 * events; the engine owns every rule a client follows (key pinning, forwarded-stanza checks,
 * signed device lists, key-only messages, repair, bounds). A {@link SealStore} keeps it across
 * restarts: a device restored from the same store is the same device. `SealClient`
 * (`xmpp-seal/net`) is its IO shell over an XMPP connection.
 *
 * @see spec §device
 * @module
 */
export * from './constants.js';
export * from './types.js';
export * from './store.js';
export type { AccountRecord, EngineState, HeldStanza, InboxEvent, PeerRecord, PendingInteractive, SessionRepairReason } from './state.js';
export { SealEngine, emptyState } from './engine.js';
export { type IncomingStanza, classifyIncoming } from './forwarded.js';
export * from './records.js';
