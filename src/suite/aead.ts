/**
 * ChaCha20-Poly1305 authenticated encryption (RFC 8439 §2.8), 32-byte key, 12-byte nonce,
 * 16-byte tag appended to the ciphertext.
 *
 * @see spec §suite.aead
 * @module
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { SealError } from '../errors.js';
import { LENGTHS, SymmetricKey, checkLength } from './types.js';

/**
 * Encrypts and authenticates `plaintext` and authenticates `associatedData`.
 *
 * @param nonce - 12 bytes; never reused with the same key (each Seal key encrypts once or uses
 *   a derived nonce, as the section that uses it states).
 * @returns ciphertext || tag (plaintext length + 16 bytes).
 * @throws SealError `invalid-length` for a nonce that is not 12 bytes.
 * @see spec §suite.aead
 */
export function aeadSeal(key: SymmetricKey, nonce: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array): Uint8Array {
  checkLength(nonce, LENGTHS.aeadNonce, 'ChaCha20-Poly1305 nonce');
  return chacha20poly1305(key.dangerouslyExposeBytes(), nonce, associatedData).encrypt(plaintext);
}

/**
 * Verifies the tag and decrypts. Nothing of the plaintext is released when the tag is wrong.
 *
 * Implements requirement `suite.aead-reject`.
 *
 * @param sealed - ciphertext || tag, at least 16 bytes.
 * @throws SealError `invalid-length` for a nonce that is not 12 bytes; `authentication-failed`
 *   when the input is shorter than a tag or the tag does not verify.
 * @see spec §suite.aead
 */
export function aeadOpen(key: SymmetricKey, nonce: Uint8Array, sealed: Uint8Array, associatedData: Uint8Array): Uint8Array {
  checkLength(nonce, LENGTHS.aeadNonce, 'ChaCha20-Poly1305 nonce');
  // @req suite.aead-reject
  if (sealed.length < LENGTHS.aeadTag) throw new SealError('authentication-failed', 'AEAD: did not authenticate');
  try {
    return chacha20poly1305(key.dangerouslyExposeBytes(), nonce, associatedData).decrypt(sealed);
  } catch {
    throw new SealError('authentication-failed', 'AEAD: did not authenticate');
  }
}
