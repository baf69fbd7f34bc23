/** Bench shim of `@noble/ciphers/chacha.js`: records ChaCha20-Poly1305 seals and opens with their sizes. @module */
import { chacha20poly1305 as real } from '@noble/ciphers/chacha.js';
import { note } from '../recorder.js';
export * from '@noble/ciphers/chacha.js';
const counted = ((key: Uint8Array, nonce: Uint8Array, associatedData?: Uint8Array) => {
  const cipher = real(key, nonce, associatedData);
  const ad = associatedData?.length ?? 0;
  return {
    ...cipher,
    encrypt: (plaintext: Uint8Array, output?: Uint8Array) => {
      note(() => ({ kind: 'aead-seal', plaintext: plaintext.length, associatedData: ad }));
      return cipher.encrypt(plaintext, output);
    },
    decrypt: (ciphertext: Uint8Array, output?: Uint8Array) => {
      try {
        const out = cipher.decrypt(ciphertext, output);
        note(() => ({ kind: 'aead-open', ciphertext: ciphertext.length, associatedData: ad, valid: true }));
        return out;
      } catch (e) {
        note(() => ({ kind: 'aead-open', ciphertext: ciphertext.length, associatedData: ad, valid: false }));
        throw e;
      }
    },
  };
}) as unknown as typeof real;
Object.assign(counted, { blockSize: real.blockSize, nonceLength: real.nonceLength, tagLength: real.tagLength });
export const chacha20poly1305 = counted;
