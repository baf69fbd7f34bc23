/**
 * L1 symbolic model, protocol options: the bounds the model uses (the spec's constants scaled
 * down so that the bounds are reached within a few actions), the deliberately broken protocol
 * variants (mutants) that the properties must catch, and the two fixes the model proposes for
 * what it found in the spec.
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
  /** Half of `identities-not-bound`: the transcript, associated data and prologue omit JIDs and
   * device ids, the identity signature still covers them. Not caught: the signature suffices. */
  | 'identities-not-in-transcript'
  /** The other half: the identity signature omits JID and device id, the transcript binds them.
   * Not caught: the transcript suffices. */
  | 'identities-not-in-signature';

/** The options of one protocol run. */
export interface ProtocolOptions {
  readonly mutant: Mutant | undefined;
  /** Most processed handshake headers a device remembers (the spec's MAX_PROCESSED_HANDSHAKES). */
  readonly handshakeLogCapacity: number;
  /** `global`: one log per device, as the spec says; `per-peer`: one log per initiator device
   * (the fix proposed for the log-eviction replay). */
  readonly handshakeLogScope: 'global' | 'per-peer';
  /** Draw the new sending ratchet key at receipt (Signal's DHRatchet) instead of at the next
   * send, so the responder's session state never holds the signed prekey's private key (the fix
   * proposed for the signed-prekey-in-session-state finding). */
  readonly eagerRatchetKey: boolean;
  /** Device lists carry each device's identity signing key, and a device is trusted through the
   * account key only with that key (the fix proposed for the account-key finding). */
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
  /** The spec's MAX_PROCESSED_HANDSHAKES (§handshake.constants); the explorer never fills it. */
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
  handshakeLogScope: 'global',
  eagerRatchetKey: false,
  listBindsDeviceKeys: false,
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
