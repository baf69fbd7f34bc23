/**
 * The Noise Protocol Framework, revision 34, for `Noise_<PATTERN>_25519_ChaChaPoly_SHA256`: the
 * `HandshakeState` (Noise §5.3) on top of the `SymmetricState` and `CipherState` of
 * `noise-symmetric.ts` and `noise-cipher.ts`, and the patterns of `noise-patterns.ts`. Seal's
 * interactive handshake is Noise XX run through this module; the published Noise vectors for
 * NN, N, KK, XK, IK, XX and XXpsk3 check it byte for byte.
 *
 * Each protocol state is its own object: a {@link HandshakeState} is consumed by each step and
 * the step returns the next state, or a {@link CompletedHandshake} after the last message, which
 * alone offers `split()` and `handshakeHash()`. A step that fails (a bad tag, a zero DH output,
 * a message of the wrong size) changes nothing, so the same state can process the genuine message.
 *
 * @see spec §handshake.interactive
 * @see https://noiseprotocol.org/noise.html (revision 34)
 * @module
 */
import { concatBytes } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import { type X25519KeyPair, generateX25519KeyPair, x25519, x25519PublicKeyOf } from '../suite/agreement.js';
import { constantTimeEqual } from '../suite/kdf.js';
import type { Rng } from '../suite/rng.js';
import { SymmetricKey, type X25519PublicKey, x25519PublicKey } from '../suite/types.js';
import { NOISE_MAX_MESSAGE_LENGTH, NOISE_TAG_LENGTH } from './noise-cipher.js';
import { type NoiseProtocol, type NoiseToken, parseNoiseProtocolName } from './noise-patterns.js';
import { type CompletedHandshake, completeHandshake } from './noise-completed.js';
import { NOISE_DH_LENGTH, SymmetricState, copySymmetricState } from './noise-symmetric.js';

export { CipherState, NOISE_MAX_MESSAGE_LENGTH, NOISE_TAG_LENGTH } from './noise-cipher.js';
export { CompletedHandshake } from './noise-completed.js';
export {
  type HandshakePattern,
  NOISE_BASE_PATTERNS,
  type NoiseBasePatternName,
  type NoisePreMessageToken,
  type NoiseProtocol,
  type NoiseToken,
  noisePattern,
  parseNoiseProtocolName,
} from './noise-patterns.js';
export { NOISE_BLOCK_LENGTH, NOISE_DH_LENGTH, NOISE_HASH_LENGTH, type NoiseSplit, SymmetricState, noiseHkdf } from './noise-symmetric.js';

/**
 * The arguments of `Initialize(handshake_pattern, initiator, prologue, s, e, rs, re)`
 * (Noise §5.3) plus the PSKs (§9.2). Each key is given exactly when the pattern needs it:
 * a key the pattern does not use is rejected, so that a misconfigured pattern is noticed.
 *
 * @see spec §handshake.interactive
 */
export interface HandshakeOptions {
  /** `Noise_<PATTERN>_25519_ChaChaPoly_SHA256` (§8), hashed into `h`. */
  readonly protocolName: string;
  /** `initiator`: true for the party that sends the first message. */
  readonly initiator: boolean;
  /** `prologue` (§6); default empty. */
  readonly prologue?: Uint8Array;
  /** `s`: the local static key pair; required exactly when the pattern uses it. */
  readonly staticKeyPair?: X25519KeyPair;
  /**
   * The local ephemeral key pair, used as the output of `GENERATE_KEYPAIR()` for the `"e"`
   * token (or as `e` for an `"e"` pre-message). For test vectors only; otherwise give `rng`.
   */
  readonly ephemeralKeyPair?: X25519KeyPair;
  /** Randomness for `GENERATE_KEYPAIR()` (§4.1) when no `ephemeralKeyPair` is given. */
  readonly rng?: Rng;
  /** `rs`: the remote static public key, exactly when the remote party has an `"s"` pre-message. */
  readonly remoteStaticKey?: Uint8Array;
  /** `re`: the remote ephemeral public key, exactly when the remote party has an `"e"` pre-message. */
  readonly remoteEphemeralKey?: Uint8Array;
  /** One 32-byte PSK per `psk` token, in order of use (§9.2); none without psk modifiers. */
  readonly psks?: readonly SymmetricKey[];
}

/**
 * What a handshake step leads to: the next {@link HandshakeState}, or the
 * {@link CompletedHandshake} after the last message. Tell them apart by `kind`.
 *
 * @see spec §handshake.interactive
 */
export type HandshakeStep = HandshakeState | CompletedHandshake;

/** The result of {@link HandshakeState.writeMessage}: the message to send and the next state. */
export interface HandshakeWriteResult {
  /** The handshake message, at most 65535 bytes (Noise §3). */
  readonly message: Uint8Array;
  /** The state that continues the handshake; the state that wrote is used up. */
  readonly next: HandshakeStep;
}

/** The result of {@link HandshakeState.readMessage}: the payload received and the next state. */
export interface HandshakeReadResult {
  /** The decrypted payload (cleartext in messages sent before any key exists, §3). */
  readonly payload: Uint8Array;
  /** The state that continues the handshake; the state that read is used up. */
  readonly next: HandshakeStep;
}

/** The variables a message changes (§5.3): the SymmetricState, `e`, `rs`, `re` and the PSKs left. */
interface Working {
  readonly symmetric: SymmetricState;
  e: X25519KeyPair | undefined;
  rs: X25519PublicKey | undefined;
  re: X25519PublicKey | undefined;
  psks: SymmetricKey[];
}

/** The fixed fields of a handshake and the state between two messages. */
interface Fields {
  readonly protocol: NoiseProtocol;
  readonly initiator: boolean;
  readonly messageIndex: number;
  readonly s: X25519KeyPair | undefined;
  readonly ephemeralSource: X25519KeyPair | Rng | undefined;
  readonly symmetric: SymmetricState;
  readonly e: X25519KeyPair | undefined;
  readonly rs: X25519PublicKey | undefined;
  readonly re: X25519PublicKey | undefined;
  readonly psks: readonly SymmetricKey[];
}

/** Checks that a key pair's public key is the one of its secret key. @throws `invalid-key`. */
function checkKeyPair(pair: X25519KeyPair, field: string): X25519KeyPair {
  const publicKey = x25519PublicKey(pair.publicKey);
  if (!constantTimeEqual(x25519PublicKeyOf(pair.secretKey), publicKey)) {
    throw new SealError('invalid-key', `${field}: the public key does not belong to the secret key`);
  }
  return { secretKey: pair.secretKey, publicKey };
}

/** Requires `value` exactly when `needed`. @throws `invalid-value`. */
function exactlyWhenNeeded<T>(value: T | undefined, needed: boolean, field: string, pattern: string): T | undefined {
  if (needed && value === undefined) throw new SealError('invalid-value', `${field}: pattern ${pattern} needs it, got none`);
  if (!needed && value !== undefined) throw new SealError('invalid-value', `${field}: pattern ${pattern} does not use it, got one`);
  return value;
}

/**
 * A Noise `HandshakeState` (rev. 34 §5.3) between two messages, for one party. Create it with
 * {@link HandshakeState.initialize}; each {@link HandshakeState.writeMessage},
 * {@link HandshakeState.readMessage} or {@link HandshakeState.mixKey} returns the next state and
 * uses this one up, and the last message returns a {@link CompletedHandshake}.
 *
 * Deviation from Noise §5, on purpose: when `ReadMessage()` fails Noise deletes the handshake;
 * here the state is left unchanged (the message is processed on a copy), because Seal requires
 * that a failed decryption change nothing; the application decides whether to abandon.
 *
 * @see spec §handshake.interactive
 * @example
 * ```ts
 * const opts = { protocolName: 'Noise_XX_25519_ChaChaPoly_SHA256', rng: systemRng };
 * const alice = HandshakeState.initialize({ ...opts, initiator: true, staticKeyPair: a });
 * const bob = HandshakeState.initialize({ ...opts, initiator: false, staticKeyPair: b });
 * const m1 = alice.writeMessage(utf8Encode('hello'));
 * const r1 = bob.readMessage(m1.message); // r1.payload, r1.next: the states after message 1
 * // ... message 2 from r1.next, message 3 from m1.next after it reads message 2
 * ```
 */
export class HandshakeState {
  /** Discriminant of {@link HandshakeStep}. */
  readonly kind = 'handshake' as const;
  /** The parsed protocol name and pattern. */
  readonly protocol: NoiseProtocol;
  /** `initiator` (§5.3). */
  readonly initiator: boolean;
  /** Index of the next message pattern, 0-based (message 0 goes from initiator to responder). */
  readonly messageIndex: number;
  readonly #fields: Fields;
  #used = false;

  private constructor(fields: Fields) {
    this.#fields = fields;
    this.protocol = fields.protocol;
    this.initiator = fields.initiator;
    this.messageIndex = fields.messageIndex;
  }

  /**
   * `Initialize()` (Noise §5.3): `InitializeSymmetric(protocol_name)`, `MixHash(prologue)`, then
   * `MixHash()` of each pre-message public key, the initiator's first (§7.1), each `"e"` followed
   * by `MixKey(e.public_key)` in PSK mode (§9.2).
   *
   * @throws SealError `invalid-value` for a protocol name {@link parseNoiseProtocolName} rejects,
   *   a key or PSK count that does not fit the pattern, or both or neither of `ephemeralKeyPair`
   *   and `rng` when the pattern sends `"e"`; `invalid-length` for a public key that is not 32
   *   bytes; `invalid-key` for a key pair whose public key does not match its secret key.
   */
  static initialize(options: HandshakeOptions): HandshakeState {
    const protocol = parseNoiseProtocolName(options.protocolName);
    const { pattern } = protocol;
    if (typeof options.initiator !== 'boolean') throw new SealError('invalid-value', 'initiator: expected a boolean');
    const initiator = options.initiator;
    const prologue = options.prologue ?? new Uint8Array(0);
    if (!(prologue instanceof Uint8Array)) throw new SealError('invalid-value', 'prologue: expected a Uint8Array');

    // Which keys the pattern uses (§7.3 rule 1: a party only uses keys it possesses).
    const localPre = initiator ? pattern.initiatorPreMessage : pattern.responderPreMessage;
    const remotePre = initiator ? pattern.responderPreMessage : pattern.initiatorPreMessage;
    const sent = pattern.messages.filter((_, i) => (i % 2 === 0) === initiator).flat();
    const all = pattern.messages.flat();
    const usesStatic = localPre.includes('s') || sent.includes('s') || all.includes('ss') || all.includes(initiator ? 'se' : 'es');
    const usesEphemeral = localPre.includes('e') || sent.includes('e');

    const named = pattern.name;
    const staticPair = exactlyWhenNeeded(options.staticKeyPair, usesStatic, 'staticKeyPair (s)', named);
    const s = staticPair === undefined ? undefined : checkKeyPair(staticPair, 'staticKeyPair (s)');
    const rsBytes = exactlyWhenNeeded(options.remoteStaticKey, remotePre.includes('s'), 'remoteStaticKey (rs)', named);
    const rs = rsBytes === undefined ? undefined : x25519PublicKey(rsBytes);
    const reBytes = exactlyWhenNeeded(options.remoteEphemeralKey, remotePre.includes('e'), 'remoteEphemeralKey (re)', named);
    const re = reBytes === undefined ? undefined : x25519PublicKey(reBytes);
    if (options.ephemeralKeyPair !== undefined && options.rng !== undefined) {
      throw new SealError('invalid-value', 'ephemeralKeyPair, rng: expected one of them, got both');
    }
    // An unused rng is harmless and ignored; an unused ephemeral key pair is a misconfiguration.
    const ephemeralPair = exactlyWhenNeeded(options.ephemeralKeyPair, usesEphemeral && options.rng === undefined, 'ephemeralKeyPair (e) or rng', named);
    const ephemeralSource = ephemeralPair === undefined ? (usesEphemeral ? options.rng : undefined) : checkKeyPair(ephemeralPair, 'ephemeralKeyPair (e)');

    const psks = [...(options.psks ?? [])];
    const pskTokens = all.filter((token) => token === 'psk').length;
    if (psks.length !== pskTokens) throw new SealError('invalid-value', `psks: pattern ${named} has ${pskTokens} psk tokens, got ${psks.length} PSKs`);
    if (!psks.every((psk) => psk instanceof SymmetricKey)) throw new SealError('invalid-value', 'psks: expected 32-byte SymmetricKeys');

    const symmetric = SymmetricState.initializeSymmetric(protocol.name);
    symmetric.mixHash(prologue);
    // An "e" pre-message of our own (none of the patterns here has one) uses e from Initialize().
    const e = localPre.includes('e') ? ephemeralKeyPairFrom(ephemeralSource) : undefined;
    for (const side of [true, false]) {
      const local = side === initiator;
      for (const token of side ? pattern.initiatorPreMessage : pattern.responderPreMessage) {
        const key = token === 's' ? (local ? s!.publicKey : rs!) : local ? e!.publicKey : re!;
        symmetric.mixHash(key);
        if (token === 'e' && pattern.pskMode) symmetric.mixKey(key);
      }
    }
    return new HandshakeState({ protocol, initiator, messageIndex: 0, s, ephemeralSource, symmetric, e, rs, re, psks });
  }

  /** Whether the next message is ours to write (`true`) or the peer's to read (`false`). */
  get isMyTurn(): boolean {
    return (this.messageIndex % 2 === 0) === this.initiator;
  }

  /** `rs`: the peer's static public key, once known (from a pre-message or an `"s"` token). */
  get remoteStaticKey(): X25519PublicKey | undefined {
    return this.#fields.rs;
  }

  /**
   * `WriteMessage(payload, message_buffer)` (Noise §5.3): processes the tokens of the next
   * message pattern and appends `EncryptAndHash(payload)`.
   *
   * @param payload - default empty; the whole message must fit in 65535 bytes.
   * @returns the message and the next state.
   * @throws SealError `invalid-value` when it is the peer's turn or this state is used up;
   *   `invalid-length` when the message would exceed 65535 bytes (§3); `zero-shared-secret` when
   *   a DH output is all zeros. On any error this state is unchanged.
   */
  writeMessage(payload: Uint8Array = new Uint8Array(0)): HandshakeWriteResult {
    this.#checkUsable('writeMessage', true);
    const work = this.#working();
    const parts: Uint8Array[] = [];
    for (const token of this.#tokens()) {
      if (token === 'e') {
        // "Sets e (which must be empty) to GENERATE_KEYPAIR(). Appends e.public_key to the buffer. Calls MixHash(e.public_key)."
        work.e = ephemeralKeyPairFrom(this.#fields.ephemeralSource);
        parts.push(work.e.publicKey);
        this.#mixEphemeral(work, work.e.publicKey);
      } else if (token === 's') {
        parts.push(work.symmetric.encryptAndHash(this.#fields.s!.publicKey));
      } else {
        this.#mixToken(work, token);
      }
    }
    parts.push(work.symmetric.encryptAndHash(payload));
    const message = concatBytes(...parts);
    if (message.length > NOISE_MAX_MESSAGE_LENGTH) {
      throw new SealError('invalid-length', `Noise handshake message: expected at most ${NOISE_MAX_MESSAGE_LENGTH} bytes (Noise §3), got ${message.length}`);
    }
    return { message, next: this.#advance(work) };
  }

  /**
   * `ReadMessage(message, payload_buffer)` (Noise §5.3): processes the tokens of the next
   * message pattern and returns `DecryptAndHash()` of the rest as the payload.
   *
   * @param message - the peer's handshake message, at most 65535 bytes.
   * @returns the payload and the next state.
   * @throws SealError `invalid-value` when it is our turn to write or this state is used up;
   *   `invalid-length` for a message over 65535 bytes or shorter than its pattern's keys and tags;
   *   `authentication-failed` when a tag does not verify; `zero-shared-secret` when a DH output
   *   is all zeros. On any error this state is unchanged.
   */
  readMessage(message: Uint8Array): HandshakeReadResult {
    this.#checkUsable('readMessage', false);
    if (!(message instanceof Uint8Array)) throw new SealError('invalid-value', 'Noise handshake message: expected a Uint8Array');
    const minimum = this.#minimumLength();
    if (message.length > NOISE_MAX_MESSAGE_LENGTH || message.length < minimum) {
      throw new SealError('invalid-length', `Noise handshake message ${this.messageIndex + 1}: expected ${minimum}..${NOISE_MAX_MESSAGE_LENGTH} bytes, got ${message.length}`);
    }
    const work = this.#working();
    let offset = 0;
    for (const token of this.#tokens()) {
      if (token === 'e') {
        // "Sets re (which must be empty) to the next DHLEN bytes from the message. Calls MixHash(re.public_key)."
        work.re = x25519PublicKey(message.slice(offset, offset + NOISE_DH_LENGTH));
        offset += NOISE_DH_LENGTH;
        this.#mixEphemeral(work, work.re);
      } else if (token === 's') {
        // "Sets temp to the next DHLEN + 16 bytes of the message if HasKey() == True, or to the next DHLEN bytes otherwise."
        const length = NOISE_DH_LENGTH + (work.symmetric.hasKey() ? NOISE_TAG_LENGTH : 0);
        work.rs = x25519PublicKey(work.symmetric.decryptAndHash(message.subarray(offset, offset + length)));
        offset += length;
      } else {
        this.#mixToken(work, token);
      }
    }
    const payload = work.symmetric.decryptAndHash(message.subarray(offset));
    return { payload, next: this.#advance(work) };
  }

  /**
   * Seal's extension hook, outside the Noise specification: `MixKey(inputKeyMaterial)` (§5.2)
   * between two messages. Seal uses it after message 2 of XX to mix the ML-KEM-768 shared secret
   * into the chaining key, in the spirit of the Noise "hfs" extension (which mixes its KEM output
   * with `MixKey()` as well); both parties must call it at the same point with the same secret,
   * or the next encrypted field fails to authenticate.
   *
   * @param inputKeyMaterial - 32 bytes (or empty).
   * @returns the next state; this one is used up.
   * @throws SealError `invalid-length` for another length; `invalid-value` when this state is
   *   used up. On error this state is unchanged.
   */
  mixKey(inputKeyMaterial: Uint8Array | SymmetricKey): HandshakeState {
    this.#checkUsable('mixKey', undefined);
    const work = this.#working();
    work.symmetric.mixKey(inputKeyMaterial);
    this.#used = true;
    return new HandshakeState({ ...this.#fields, symmetric: work.symmetric });
  }

  /** Protocol, role and position; never a key. */
  toString(): string {
    const count = this.protocol.pattern.messages.length;
    return `HandshakeState(${this.protocol.name}, ${this.initiator ? 'initiator' : 'responder'}, ${this.isMyTurn ? 'write' : 'read'} message ${this.messageIndex + 1} of ${count}${this.#used ? ', used' : ''})`;
  }

  /** JSON form: the same redacted text as {@link HandshakeState.toString}. */
  toJSON(): string {
    return this.toString();
  }

  /** Node's `util.inspect` form: the same redacted text. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  #checkUsable(operation: string, write: boolean | undefined): void {
    if (this.#used) throw new SealError('invalid-value', `${operation}: this HandshakeState is used up; continue with the state its last step returned`);
    if (write !== undefined && write !== this.isMyTurn) {
      throw new SealError('invalid-value', `${operation}: message ${this.messageIndex + 1} is the ${write ? 'peer' : 'local party'}'s to write`);
    }
  }

  #tokens(): readonly NoiseToken[] {
    return this.protocol.pattern.messages[this.messageIndex]!;
  }

  /** Copies of everything a message may change, so that a failure leaves this state as it was. */
  #working(): Working {
    const f = this.#fields;
    return { symmetric: copySymmetricState(f.symmetric), e: f.e, rs: f.rs, re: f.re, psks: [...f.psks] };
  }

  /** `MixHash(e.public_key)`, followed in PSK mode by `MixKey(e.public_key)` (§9.2). */
  #mixEphemeral(work: Working, publicKey: Uint8Array): void {
    work.symmetric.mixHash(publicKey);
    if (this.protocol.pattern.pskMode) work.symmetric.mixKey(publicKey);
  }

  /** The DH tokens (§5.3) and `psk` (§9.2), the same for writing and reading. */
  #mixToken(work: Working, token: Exclude<NoiseToken, 'e' | 's'>): void {
    const { initiator, s } = this.#fields;
    // The pattern and Initialize() guarantee that each key exists when its token comes (§7.3).
    switch (token) {
      case 'ee': return work.symmetric.mixKey(x25519(work.e!.secretKey, work.re!));
      case 'es': return work.symmetric.mixKey(initiator ? x25519(work.e!.secretKey, work.rs!) : x25519(s!.secretKey, work.re!));
      case 'se': return work.symmetric.mixKey(initiator ? x25519(s!.secretKey, work.re!) : x25519(work.e!.secretKey, work.rs!));
      case 'ss': return work.symmetric.mixKey(x25519(s!.secretKey, work.rs!));
      case 'psk': return work.symmetric.mixKeyAndHash(work.psks.shift()!);
      default: {
        const unreachable: never = token;
        throw new SealError('invalid-value', `Noise token: unknown ${String(unreachable)}`);
      }
    }
  }

  /** Length of the next message's keys and tags with an empty payload (§3), following HasKey(). */
  #minimumLength(): number {
    let hasKey = this.#fields.symmetric.hasKey();
    let length = 0;
    for (const token of this.#tokens()) {
      if (token === 'e') {
        length += NOISE_DH_LENGTH;
        if (this.protocol.pattern.pskMode) hasKey = true;
      } else if (token === 's') {
        length += NOISE_DH_LENGTH + (hasKey ? NOISE_TAG_LENGTH : 0);
      } else {
        hasKey = true;
      }
    }
    return length + (hasKey ? NOISE_TAG_LENGTH : 0);
  }

  /** Uses this state up and returns the next one; after the last message pattern, the completed handshake. */
  #advance(work: Working): HandshakeStep {
    this.#used = true;
    const fields: Fields = { ...this.#fields, ...work, messageIndex: this.messageIndex + 1 };
    return fields.messageIndex === this.protocol.pattern.messages.length ? completeHandshake(fields.protocol, fields.initiator, fields.rs, fields.symmetric) : new HandshakeState(fields);
  }
}

/** `GENERATE_KEYPAIR()` (§4.1, §12.1), or the key pair given for it. */
function ephemeralKeyPairFrom(source: X25519KeyPair | Rng | undefined): X25519KeyPair {
  return typeof source === 'function' ? generateX25519KeyPair(source) : source!;
}
