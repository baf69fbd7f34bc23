/**
 * AES-256-GCM for files, behind a small asynchronous interface: file work reads and writes
 * streams anyway, so here (unlike the synchronous `CurveProvider` of the suite) the browser's
 * `crypto.subtle` can stand in for noble, and Node's OpenSSL through `xmpp-seal/native/node`.
 * A provider only computes AES-256-GCM; every rule of §files (chunking, nonces, limits, what a
 * failure means) stays in `stream.ts` and `aesgcm.ts` and applies whatever the provider.
 *
 * @see spec §files.cipher
 * @see spec §impl.providers
 * @module
 */
import { gcm } from '@noble/ciphers/aes.js';
import { SealError } from '../errors.js';

/** AES-256-GCM under one key. Every ciphertext is the encryption followed by the 16-byte tag. @see spec §files.cipher */
export interface FileKeyHandle {
  /** Encrypts `plaintext` under `nonce` (12 bytes for the stream cipher, 12 or 16 for `aesgcm://`), no associated data. */
  seal(nonce: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array>;
  /** Decrypts and verifies; rejects (with any error) when the tag does not verify. */
  open(nonce: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array>;
}

/** A source of AES-256-GCM for files. @see spec §impl.providers */
export interface FileCipherProvider {
  /** A short name for reports, e.g. `"noble"`, `"webcrypto"`, `"node"`. */
  readonly name: string;
  /** A handle for the 32-byte `key`. */
  importKey(key: Uint8Array): Promise<FileKeyHandle>;
}

/** The pure-JavaScript provider (@noble/ciphers), the default everywhere. @see spec §impl.providers */
export const nobleFileCipher: FileCipherProvider = {
  name: 'noble',
  async importKey(key) {
    const copy = new Uint8Array(key);
    return {
      async seal(nonce, plaintext) {
        return gcm(copy, nonce).encrypt(plaintext);
      },
      async open(nonce, ciphertext) {
        return gcm(copy, nonce).decrypt(ciphertext);
      },
    };
  },
};

/**
 * The provider of the platform's Web Crypto API (`globalThis.crypto.subtle`: every evergreen
 * browser, Node ≥ 20), with a non-extractable key.
 *
 * @throws SealError `invalid-state` when the platform has no `crypto.subtle`.
 * @see spec §impl.providers
 */
export const webCryptoFileCipher: FileCipherProvider = {
  name: 'webcrypto',
  async importKey(key) {
    const subtle = globalThis.crypto?.subtle;
    if (subtle === undefined) throw new SealError('invalid-state', 'this platform has no crypto.subtle (Web Crypto needs a secure context in browsers)');
    const handle = await subtle.importKey('raw', new Uint8Array(key), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
    return {
      async seal(nonce, plaintext) {
        return new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: new Uint8Array(nonce) }, handle, plaintext as Uint8Array<ArrayBuffer>));
      },
      async open(nonce, ciphertext) {
        return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: new Uint8Array(nonce) }, handle, ciphertext as Uint8Array<ArrayBuffer>));
      },
    };
  },
};
