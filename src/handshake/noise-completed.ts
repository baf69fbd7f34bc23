/**
 * A finished Noise handshake (Noise rev. 34 §5.3, last message): the handshake hash `h` and the
 * one `Split()` into transport CipherStates. Part of Seal's interactive handshake; created only
 * by the `HandshakeState` of `noise.ts`.
 *
 * @see spec §handshake.interactive
 * @see https://noiseprotocol.org/noise.html (revision 34)
 * @module
 */
import { SealError } from '../errors.js';
import type { X25519PublicKey } from '../suite/types.js';
import type { NoiseProtocol } from './noise-patterns.js';
import type { NoiseSplit, SymmetricState } from './noise-symmetric.js';

/**
 * Creates the completed handshake from what the HandshakeState holds after its last message.
 * For `noise.ts` only; not exported from the `noise` entry module.
 *
 * @internal
 */
export let completeHandshake: (protocol: NoiseProtocol, initiator: boolean, remoteStaticKey: X25519PublicKey | undefined, symmetric: SymmetricState) => CompletedHandshake;

/**
 * A finished Noise handshake: what remains of the HandshakeState after the last message (Noise §5:
 * "the HandshakeState should be deleted except for the hash value h"), plus the one `Split()`.
 *
 * @see spec §handshake.interactive
 * @example
 * ```ts
 * if (step.kind === 'complete') {
 *   const { initiatorToResponder, responderToInitiator } = step.split();
 *   const binding = step.handshakeHash();
 * }
 * ```
 */
export class CompletedHandshake {
  /** Discriminant of `HandshakeStep`: `'complete'` here, `'handshake'` on a `HandshakeState`. */
  readonly kind = 'complete' as const;
  /** The parsed protocol name and pattern. */
  readonly protocol: NoiseProtocol;
  /** Whether this party was the initiator. */
  readonly initiator: boolean;
  /** `rs`: the peer's static public key, when the pattern has one. */
  readonly remoteStaticKey: X25519PublicKey | undefined;
  readonly #symmetric: SymmetricState;
  #split = false;

  static {
    completeHandshake = (protocol, initiator, remoteStaticKey, symmetric) => new CompletedHandshake(protocol, initiator, remoteStaticKey, symmetric);
  }

  /** Created only by `HandshakeState` after the last message. */
  private constructor(protocol: NoiseProtocol, initiator: boolean, remoteStaticKey: X25519PublicKey | undefined, symmetric: SymmetricState) {
    this.protocol = protocol;
    this.initiator = initiator;
    this.remoteStaticKey = remoteStaticKey;
    this.#symmetric = symmetric;
  }

  /** `GetHandshakeHash()` (§5.2): `h`, which identifies the session for channel binding (§11.2). */
  handshakeHash(): Uint8Array {
    return this.#symmetric.getHandshakeHash();
  }

  /**
   * `Split()` (§5.2): the two transport CipherStates and their keys `temp_k1`, `temp_k2`.
   * The initiator encrypts with `initiatorToResponder` and decrypts with
   * `responderToInitiator`; the responder the other way round. In a one-way pattern (§7.4) only
   * `initiatorToResponder` may be used.
   *
   * @throws SealError `invalid-value` on a second call (two CipherStates with the same key
   *   would reuse nonces).
   */
  split(): NoiseSplit {
    if (this.#split) throw new SealError('invalid-value', 'split: already called for this handshake');
    this.#split = true;
    return this.#symmetric.split();
  }

  /** Protocol and role; never a key. */
  toString(): string {
    return `CompletedHandshake(${this.protocol.name}, ${this.initiator ? 'initiator' : 'responder'})`;
  }

  /** JSON form: the same redacted text as {@link CompletedHandshake.toString}. */
  toJSON(): string {
    return this.toString();
  }

  /** Node's `util.inspect` form: the same redacted text. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
