/**
 * The Noise `CipherState` (Noise rev. 34 §5.1) for the `ChaChaPoly` cipher functions (§12.3):
 * a key `k` that may be empty and a 64-bit nonce `n`, used for the handshake's encrypted fields
 * and, after `Split()`, for transport messages. Part of Seal's interactive handshake.
 *
 * @see spec §handshake.interactive
 * @see https://noiseprotocol.org/noise.html (revision 34)
 * @module
 */
import { SealError } from '../errors.js';
import { aeadOpen, aeadSeal } from '../suite/aead.js';
import { LENGTHS, SymmetricKey } from '../suite/types.js';
import { MAX_NOISE_MESSAGE } from '../wire/handshake.js';

/**
 * Largest Noise message, handshake or transport, in bytes (Noise §3: "All Noise messages are
 * less than or equal to 65535 bytes in length").
 *
 * @see spec §handshake.interactive
 */
export const NOISE_MAX_MESSAGE_LENGTH = MAX_NOISE_MESSAGE;

/** Bytes of authentication data an `ENCRYPT()` adds (Noise §4.2; Poly1305 tag). */
export const NOISE_TAG_LENGTH = LENGTHS.aeadTag;

/** The reserved nonce 2^64-1 (Noise §5.1): never used for a message, only by `REKEY()` (§4.2). */
const MAX_NONCE = 2n ** 64n - 1n;

/** The 12-byte ChaChaPoly nonce: 32 bits of zeros, then `n` as 64-bit little-endian (Noise §12.3). */
function chachaPolyNonce(n: bigint): Uint8Array {
  const nonce = new Uint8Array(LENGTHS.aeadNonce);
  new DataView(nonce.buffer).setBigUint64(4, n, true);
  return nonce;
}

/** Throws `invalid-length` when a Noise message would exceed 65535 bytes (Noise §3). */
function checkMessageLength(length: number, field: string): void {
  if (length > NOISE_MAX_MESSAGE_LENGTH) {
    throw new SealError('invalid-length', `${field}: expected at most ${NOISE_MAX_MESSAGE_LENGTH} bytes (Noise §3), got ${length}`);
  }
}

/**
 * Copies a CipherState (same key object, same nonce). For {@link SymmetricState}'s transactional
 * copies only: two live copies of a keyed CipherState would reuse nonces, so this is not exported
 * from the `noise` entry module.
 *
 * @internal
 */
export let copyCipherState: (cipher: CipherState) => CipherState;

/**
 * Noise's `CipherState` object (rev. 34 §5.1) with ChaChaPoly (§12.3): ChaCha20-Poly1305 under
 * `k` with the nonce 0x00000000 || LE64(n). Mutable, as in the spec: each successful
 * encryption or decryption increments `n`. The key is a {@link SymmetricKey}, so printing a
 * CipherState never shows it.
 *
 * Every output and input is limited to 65535 bytes (Noise §3). The nonce 2^64-1 is reserved:
 * once `n` reaches it, encryption and decryption fail (§5.1), and the application must end the
 * session.
 *
 * @see spec §handshake.interactive
 * @example
 * ```ts
 * const sender = new CipherState(key);
 * const receiver = new CipherState(key);
 * const ct = sender.encryptWithAd(new Uint8Array(0), utf8Encode('hi'));
 * receiver.decryptWithAd(new Uint8Array(0), ct); // 'hi'
 * ```
 */
export class CipherState {
  #k: SymmetricKey | undefined;
  #n = 0n;

  static {
    copyCipherState = (cipher) => {
      const copy = new CipherState(cipher.#k);
      copy.#n = cipher.#n;
      return copy;
    };
  }

  /** A CipherState with `InitializeKey(key)` applied; without `key`, `k` is empty. */
  constructor(key?: SymmetricKey) {
    this.initializeKey(key);
  }

  /** `InitializeKey(key)` (§5.1): sets `k = key` (`undefined` is the spec's `empty`) and `n = 0`. */
  initializeKey(key: SymmetricKey | undefined): void {
    this.#k = key;
    this.#n = 0n;
  }

  /** `HasKey()` (§5.1): whether `k` is non-empty. */
  hasKey(): boolean {
    return this.#k !== undefined;
  }

  /** The current nonce `n` (the counter of the next message); public, as it may be sent (§11.4). */
  get nonce(): bigint {
    return this.#n;
  }

  /**
   * `SetNonce(nonce)` (§5.1): sets `n`, for out-of-order transport messages (§11.4). The caller
   * must then reject any `n` that already decrypted successfully, to prevent replays.
   *
   * @param nonce - 0 to 2^64-1 (2^64-1 is accepted but then every encryption or decryption fails).
   * @throws SealError `invalid-value` for a nonce outside that range.
   */
  setNonce(nonce: bigint): void {
    if (typeof nonce !== 'bigint' || nonce < 0n || nonce > MAX_NONCE) {
      throw new SealError('invalid-value', `Noise nonce: expected a bigint in 0..2^64-1, got ${String(nonce)}`);
    }
    this.#n = nonce;
  }

  /**
   * `EncryptWithAd(ad, plaintext)` (§5.1): `ENCRYPT(k, n++, ad, plaintext)` when `k` is set,
   * otherwise `plaintext` itself (copied).
   *
   * @returns ciphertext || 16-byte tag, or a copy of `plaintext` when `k` is empty.
   * @throws SealError `invalid-length` when the result would exceed 65535 bytes (§3);
   *   `invalid-value` when the nonce is exhausted (`n` = 2^64-1, §5.1).
   */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.#k === undefined) {
      checkMessageLength(plaintext.length, 'Noise plaintext');
      return plaintext.slice();
    }
    checkMessageLength(plaintext.length + NOISE_TAG_LENGTH, 'Noise ciphertext');
    this.#checkNonce();
    const ciphertext = aeadSeal(this.#k, chachaPolyNonce(this.#n), plaintext, ad);
    this.#n += 1n;
    return ciphertext;
  }

  /**
   * `DecryptWithAd(ad, ciphertext)` (§5.1): `DECRYPT(k, n++, ad, ciphertext)` when `k` is set,
   * otherwise `ciphertext` itself (copied). On failure nothing changes: `n` is not incremented.
   *
   * @throws SealError `invalid-length` for a ciphertext over 65535 bytes (§3);
   *   `invalid-value` when the nonce is exhausted (§5.1); `authentication-failed` when the tag
   *   does not verify or the ciphertext is shorter than a tag.
   */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    checkMessageLength(ciphertext.length, 'Noise ciphertext');
    if (this.#k === undefined) return ciphertext.slice();
    this.#checkNonce();
    // Noise §5.1: "If an authentication failure occurs in DECRYPT() then n is not incremented".
    const plaintext = aeadOpen(this.#k, chachaPolyNonce(this.#n), ciphertext, ad);
    this.#n += 1n;
    return plaintext;
  }

  /**
   * `Rekey()` (§5.1, §11.3): `k = REKEY(k)`, the first 32 bytes of
   * `ENCRYPT(k, 2^64-1, zerolen, zeros)` (§4.2). `n` is unchanged.
   *
   * @throws SealError `invalid-value` when `k` is empty.
   */
  rekey(): void {
    if (this.#k === undefined) throw new SealError('invalid-value', 'Noise Rekey: the CipherState has no key');
    const stream = aeadSeal(this.#k, chachaPolyNonce(MAX_NONCE), new Uint8Array(32), new Uint8Array(0));
    this.#k = new SymmetricKey(stream.subarray(0, 32));
  }

  /** The kind, whether a key is set, and the nonce; never the key. */
  toString(): string {
    return `CipherState(k: ${this.#k === undefined ? 'empty' : '<secret>'}, n: ${this.#n})`;
  }

  /** JSON form: the same redacted text as {@link CipherState.toString}. */
  toJSON(): string {
    return this.toString();
  }

  /** Node's `util.inspect` form: the same redacted text. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** §5.1: "If incrementing n results in 2^64-1, then any further ... calls will signal an error". */
  #checkNonce(): void {
    if (this.#n >= MAX_NONCE) throw new SealError('invalid-value', 'Noise nonce: exhausted (n = 2^64-1 is reserved); end the session');
  }
}
