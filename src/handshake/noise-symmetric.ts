/**
 * The Noise `SymmetricState` (Noise rev. 34 §5.2) and its `HKDF()` (§4.3) for the `SHA256`
 * hash functions (§12.5): the chaining key `ck`, the handshake hash `h` and the handshake's
 * CipherState. Part of Seal's interactive handshake.
 *
 * @see spec §handshake.interactive
 * @see https://noiseprotocol.org/noise.html (revision 34)
 * @module
 */
import { utf8Encode } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import { hmacSha256, sha256 } from '../suite/kdf.js';
import { LENGTHS, SymmetricKey } from '../suite/types.js';
import { CipherState, copyCipherState } from './noise-cipher.js';

/** `HASHLEN` of SHA256 (Noise §12.5). */
export const NOISE_HASH_LENGTH = LENGTHS.hash;

/**
 * `BLOCKLEN` of SHA256 (Noise §12.5): the HMAC block size, used inside HMAC-SHA-256 itself;
 * stated here so every constant of §12.5 has a name.
 */
export const NOISE_BLOCK_LENGTH = 64;

/** `DHLEN` of the `25519` DH functions (Noise §12.1). */
export const NOISE_DH_LENGTH = LENGTHS.x25519PublicKey;

/** Bytes of an input or a secret as a plain array (the secret wrapper exposes a copy). */
function bytesOf(input: Uint8Array | SymmetricKey): Uint8Array {
  return input instanceof SymmetricKey ? input.dangerouslyExposeBytes() : input;
}

/**
 * Noise's `HKDF(chaining_key, input_key_material, num_outputs)` (rev. 34 §4.3) with
 * HMAC-SHA-256:
 * `temp_key = HMAC(ck, ikm)`, `output1 = HMAC(temp_key, 0x01)`,
 * `output2 = HMAC(temp_key, output1 || 0x02)`, `output3 = HMAC(temp_key, output2 || 0x03)`.
 * (The same as RFC 5869 HKDF with `ck` as salt and empty info; written out as Noise defines it.)
 *
 * @param inputKeyMaterial - 0 or 32 bytes (§4.3 allows zero bytes, 32 bytes or DHLEN = 32).
 * @param numOutputs - 2 or 3.
 * @returns the outputs, 32 bytes each, as secrets.
 * @throws SealError `invalid-length` for input key material of another length.
 * @see spec §handshake.interactive
 * @example
 * ```ts
 * const [ck, k] = noiseHkdf(chainingKey, dhOutput, 2);
 * ```
 */
export function noiseHkdf(chainingKey: SymmetricKey, inputKeyMaterial: Uint8Array | SymmetricKey, numOutputs: 2): [SymmetricKey, SymmetricKey];
export function noiseHkdf(chainingKey: SymmetricKey, inputKeyMaterial: Uint8Array | SymmetricKey, numOutputs: 3): [SymmetricKey, SymmetricKey, SymmetricKey];
export function noiseHkdf(chainingKey: SymmetricKey, inputKeyMaterial: Uint8Array | SymmetricKey, numOutputs: 2 | 3): SymmetricKey[] {
  const ikm = bytesOf(inputKeyMaterial);
  if (ikm.length !== 0 && ikm.length !== NOISE_DH_LENGTH) {
    throw new SealError('invalid-length', `Noise HKDF input key material: expected 0 or 32 bytes (Noise §4.3), got ${ikm.length}`);
  }
  const tempKey = hmacSha256(chainingKey.dangerouslyExposeBytes(), ikm);
  const outputs: Uint8Array[] = [];
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1; i <= numOutputs; i++) {
    const input = new Uint8Array(previous.length + 1);
    input.set(previous);
    input[previous.length] = i; // byte(0x01), byte(0x02), byte(0x03)
    previous = hmacSha256(tempKey, input);
    outputs.push(previous);
  }
  tempKey.fill(0);
  return outputs.map((output) => new SymmetricKey(output));
}

/**
 * What `Split()` returns (Noise §5.2), named by direction, with the raw keys `temp_k1` and
 * `temp_k2` from which the two CipherStates were initialised (Seal derives its own keys from
 * them). In one-way patterns the recipient must not send with `responderToInitiator` (§7.4).
 *
 * @see spec §handshake.interactive
 */
export interface NoiseSplit {
  /** `c1`: encrypts transport messages from initiator to responder, keyed with `temp_k1`. */
  readonly initiatorToResponder: CipherState;
  /** `c2`: encrypts transport messages from responder to initiator, keyed with `temp_k2`. */
  readonly responderToInitiator: CipherState;
  /** `temp_k1` (§5.2), the key of {@link NoiseSplit.initiatorToResponder}. */
  readonly tempK1: SymmetricKey;
  /** `temp_k2` (§5.2), the key of {@link NoiseSplit.responderToInitiator}. */
  readonly tempK2: SymmetricKey;
}

/**
 * Copies a SymmetricState, so that a handshake message can be processed on the copy and the
 * original left untouched when it fails. Not exported from the `noise` entry module.
 *
 * @internal
 */
export let copySymmetricState: (state: SymmetricState) => SymmetricState;

/**
 * Noise's `SymmetricState` object (rev. 34 §5.2) for SHA256: a {@link CipherState} plus the
 * chaining key `ck` (secret, held as a {@link SymmetricKey}) and the handshake hash `h`.
 * Mutable, as in the spec; `HandshakeState` processes each message on a copy.
 *
 * @see spec §handshake.interactive
 * @example
 * ```ts
 * const ss = SymmetricState.initializeSymmetric('Noise_XX_25519_ChaChaPoly_SHA256');
 * ss.mixHash(prologue);
 * ```
 */
export class SymmetricState {
  readonly #cipher: CipherState;
  #ck: SymmetricKey;
  #h: Uint8Array;

  static {
    copySymmetricState = (state) => new SymmetricState(copyCipherState(state.#cipher), state.#ck, state.#h);
  }

  private constructor(cipher: CipherState, ck: SymmetricKey, h: Uint8Array) {
    this.#cipher = cipher;
    this.#ck = ck;
    this.#h = h;
  }

  /**
   * `InitializeSymmetric(protocol_name)` (§5.2): `h` is the name padded with zeros to 32 bytes
   * when it fits, else `HASH(protocol_name)`; `ck = h`; `InitializeKey(empty)`.
   *
   * @param protocolName - the full protocol name (§8), as text (ASCII) or bytes.
   */
  static initializeSymmetric(protocolName: string | Uint8Array): SymmetricState {
    const name = typeof protocolName === 'string' ? utf8Encode(protocolName) : protocolName;
    let h: Uint8Array;
    if (name.length <= NOISE_HASH_LENGTH) {
      h = new Uint8Array(NOISE_HASH_LENGTH);
      h.set(name);
    } else {
      h = sha256(name);
    }
    return new SymmetricState(new CipherState(), new SymmetricKey(h), h);
  }

  /**
   * `MixKey(input_key_material)` (§5.2): `ck, temp_k = HKDF(ck, ikm, 2)`; `InitializeKey(temp_k)`
   * (no truncation: HASHLEN is 32).
   *
   * @param inputKeyMaterial - 0 or 32 bytes (a DH output, an ephemeral public key in PSK mode).
   * @throws SealError `invalid-length` for another length.
   */
  mixKey(inputKeyMaterial: Uint8Array | SymmetricKey): void {
    const [ck, tempK] = noiseHkdf(this.#ck, inputKeyMaterial, 2);
    this.#ck = ck;
    this.#cipher.initializeKey(tempK);
  }

  /** `MixHash(data)` (§5.2): `h = HASH(h || data)`. */
  mixHash(data: Uint8Array): void {
    const input = new Uint8Array(this.#h.length + data.length);
    input.set(this.#h);
    input.set(data, this.#h.length);
    this.#h = sha256(input);
  }

  /**
   * `MixKeyAndHash(input_key_material)` (§5.2, for PSKs §9.1):
   * `ck, temp_h, temp_k = HKDF(ck, ikm, 3)`; `MixHash(temp_h)`; `InitializeKey(temp_k)`.
   *
   * @throws SealError `invalid-length` for input key material that is not 0 or 32 bytes.
   */
  mixKeyAndHash(inputKeyMaterial: Uint8Array | SymmetricKey): void {
    const [ck, tempH, tempK] = noiseHkdf(this.#ck, inputKeyMaterial, 3);
    this.#ck = ck;
    this.mixHash(tempH.dangerouslyExposeBytes());
    this.#cipher.initializeKey(tempK);
  }

  /** `GetHandshakeHash()` (§5.2): a copy of `h`. Meant for the end of the handshake (§11.2). */
  getHandshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  /** `HasKey()` of the inner CipherState, which `ReadMessage()` consults for `"s"` (§5.3). */
  hasKey(): boolean {
    return this.#cipher.hasKey();
  }

  /**
   * `EncryptAndHash(plaintext)` (§5.2): `ciphertext = EncryptWithAd(h, plaintext)`;
   * `MixHash(ciphertext)`. With an empty key the "ciphertext" is the plaintext.
   *
   * @throws SealError as {@link CipherState.encryptWithAd}.
   */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.#cipher.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /**
   * `DecryptAndHash(ciphertext)` (§5.2): `plaintext = DecryptWithAd(h, ciphertext)`;
   * `MixHash(ciphertext)`. When decryption fails nothing changes.
   *
   * @throws SealError as {@link CipherState.decryptWithAd} (`authentication-failed` for a bad tag).
   */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.#cipher.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /**
   * `Split()` (§5.2): `temp_k1, temp_k2 = HKDF(ck, zerolen, 2)` and two new CipherStates
   * keyed with them. Each call returns new CipherStates with `n = 0`; `CompletedHandshake`
   * allows one call only, so that no key is used twice with the same nonce.
   */
  split(): NoiseSplit {
    const [tempK1, tempK2] = noiseHkdf(this.#ck, new Uint8Array(0), 2);
    return { initiatorToResponder: new CipherState(tempK1), responderToInitiator: new CipherState(tempK2), tempK1, tempK2 };
  }

  /** The kind only; `ck` and the key are secret. */
  toString(): string {
    return 'SymmetricState(<secret>)';
  }

  /** JSON form: the same redacted text as {@link SymmetricState.toString}. */
  toJSON(): string {
    return this.toString();
  }

  /** Node's `util.inspect` form: the same redacted text. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
