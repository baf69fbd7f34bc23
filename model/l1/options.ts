/**
 * L1 symbolic model, protocol options: the bounds the model uses (the spec's constants scaled
 * down so that the bounds are reached within a few actions), the deliberately broken protocol
 * variants (mutants) that the properties must catch, and the rules the spec had before the model's
 * three findings were fixed (kept as options so that each finding stays a regression test).
 *
 * @see spec §envelope.constants
 * @see spec §handshake.constants
 * @module
 */
import { ENVELOPE_CONSTANTS } from '../../src/envelope/constants.js';

/**
 * The deliberately broken variants. Each must make the property named in
 * the catalogue (scenarios.ts) fail with a counterexample.
 */
export type Mutant =
  /** The receiver remembers neither processed handshake headers nor opened messages (the
   * ratchet still deletes used keys). */
  | 'no-replay-cache'
  /** DH1 = DH(IK_A, IK_B): the initiator's identity key meets the responder's identity key
   * instead of its signed prekey. */
  | 'dh1-without-spk'
  /** Neither the identity signature, nor the async transcript, nor the session's associated
   * data, nor the Noise prologue binds JIDs and device ids (OMEMO's identity keys are bare). */
  | 'identities-not-bound'
  /** Only the per-message bound MAX_SKIP is enforced; no bound on the skipped keys a session stores. */
  | 'per-gap-skip-bound'
  /** The KEM ciphertext is not part of the async transcript (the PQXDH re-encapsulation lesson). */
  | 'kem-ct-not-in-kdf'
  /** No key commitment is checked and the wrapped key binds neither the commitment nor the
   * payload's hash, so a payload can be swapped under a wrapped key. */
  | 'no-key-commitment'
  // Further mutants, one per remaining property, so that no property passes vacuously.
  /** The responder keeps a one-time prekey after the handshake that used it. */
  | 'no-opk-deletion'
  /** The DH ratchet step derives the new chain from the root key alone, without the DH output. */
  | 'ratchet-without-dh'
  /** A bundle without a KEM prekey is used for a classical-only handshake. */
  | 'kem-optional'
  /** The ML-KEM shared secret is not an input of the async handshake's key derivation. */
  | 'kem-secret-not-in-kdf'
  /** A device list with an older `issued` time replaces a newer one (no rollback check). */
  | 'no-rollback-check'
  /** A device list is accepted without checking that the recorded account key signed it. */
  | 'no-list-signature-check'
  /** Carbons and archive results are unwrapped without checking that the wrapper comes from the
   * account's own bare JID (the CVE-2017-5589 class); the archive result's query id is still
   * checked. */
  | 'no-forward-check'
  /** A handshake or bundle that presents another identity key for a known device id is accepted,
   * and its session replaces the one bound to the pinned key. */
  | 'no-pinning'
  /** A device repairs after every repairable failure, without the one-per-REPAIR_INTERVAL limit. */
  | 'no-repair-limit'
  /** The session a repair or a peer's new handshake replaces is discarded at once, not kept for
   * late messages. */
  | 'no-previous-session'
  /** Half of `identities-not-bound`: the transcript, associated data and prologue omit JIDs and
   * device ids, the identity signature still covers them. The signature suffices for unknown
   * key-share; the interactive initiator's agreement at message 2 needs the prologue's binding
   * (caught there). */
  | 'identities-not-in-transcript'
  /** The other half: the identity signature omits JID and device id, the transcript binds them.
   * Not caught: the transcript suffices. */
  | 'identities-not-in-signature'
  /** Rotation drops the handshake log's entries of the replaced signed prekey although the
   * device still holds it in its grace period (so a replayed first message to it opens again). */
  | 'grace-drops-log'
  /** A sender keeps wrapping keys for the devices of accounts the room's lists no longer hold,
   * after it processed their removal (§groups.membership). */
  | 'keeps-sending-to-removed';

/** The options of one protocol run. */
export interface ProtocolOptions {
  readonly mutant: Mutant | undefined;
  /** MAX_PROCESSED_HANDSHAKES (scaled down where a run fills the log). */
  readonly handshakeLogCapacity: number;
  /**
   * `retained-while-prekey-held` (the spec, handshake.replay-without-one-time-prekey): an entry
   * of a header without a one-time prekey stays for as long as the signed prekey it names is
   * held, at most `handshakeLogCapacity` of them per signed prekey; when they are that many, a
   * further header without one-time prekey to that signed prekey is rejected (`unknown-prekey`)
   * and the device rotates its signed and KEM prekeys; entries of headers with a one-time prekey
   * are kept up to `handshakeLogCapacity`, the oldest dropped first; rotation drops the entries
   * of the signed prekey it deletes.
   * `global` (the spec before the fix): one log of `handshakeLogCapacity` headers, the oldest
   * dropped first, whatever prekeys they used.
   */
  readonly handshakeLogScope: 'global' | 'retained-while-prekey-held';
  /**
   * What a DH ratchet step on receipt does with the device's own ratchet key pair.
   * `delete` (the spec, envelope.ratchet-init): its private key is deleted at the step (for a
   * responder's first step, the signed prekey's private key held in the session); the new
   * sending pair is drawn at the next send, and a further new remote key before that send is
   * rejected. `keep` (the spec before the fix): the pair stays until the next send.
   * `replace` (Signal's DHRatchet, not the spec): a new sending pair is drawn at once.
   */
  readonly ratchetKeyOnReceipt: 'keep' | 'delete' | 'replace';
  /** Device lists carry each device's identity signing key, and a device is trusted through the
   * account key only with that key (the spec, identity.device-list-keys and
   * identity.trust-listed-key); `false` is the spec before the fix (lists name device ids only). */
  readonly listBindsDeviceKeys: boolean;
  /** MAX_SKIP, scaled down. */
  readonly maxSkip: number;
  /** MAX_SKIPPED_KEYS, scaled down. */
  readonly maxSkippedKeys: number;
}

/**
 * The spec's bounds, scaled: the model keeps MAX_SKIP <= MAX_SKIPPED_KEYS as the spec does and
 * makes both 1, so that a second gap already exceeds the per-session bound.
 */
export const L1_BOUNDS = {
  maxSkip: 1,
  maxSkippedKeys: 1,
  /** The spec's MAX_PROCESSED_HANDSHAKES (§handshake.constants); the explorer never fills it
   * except where a run scales it down to 1 (the `logEviction` fixed finding, and `delivery` and
   * `fs` in the test). */
  maxProcessedHandshakes: 1000,
} as const;

// The scaling keeps the spec's order relation; a change of the constants that broke it would
// also need a new look at this model.
if (!(ENVELOPE_CONSTANTS.MAX_SKIP <= ENVELOPE_CONSTANTS.MAX_SKIPPED_KEYS && L1_BOUNDS.maxSkip <= L1_BOUNDS.maxSkippedKeys)) {
  throw new Error('L1 bounds: MAX_SKIP <= MAX_SKIPPED_KEYS no longer holds');
}

/** The protocol as the spec states it. */
export const SPEC: ProtocolOptions = {
  mutant: undefined,
  handshakeLogCapacity: L1_BOUNDS.maxProcessedHandshakes,
  handshakeLogScope: 'retained-while-prekey-held',
  ratchetKeyOnReceipt: 'delete',
  listBindsDeviceKeys: true,
  maxSkip: L1_BOUNDS.maxSkip,
  maxSkippedKeys: L1_BOUNDS.maxSkippedKeys,
};

/** The spec's protocol with one mutant. */
export function mutated(mutant: Mutant): ProtocolOptions {
  return { ...SPEC, mutant };
}

/** Whether the run uses mutant `m`. */
export function is(options: ProtocolOptions, m: Mutant): boolean {
  return options.mutant === m;
}
