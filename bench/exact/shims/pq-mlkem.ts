/** Bench shim of `@noble/post-quantum/ml-kem.js`: records ML-KEM-768 key generation, encapsulation and decapsulation. @module */
import { ml_kem768 as real } from '@noble/post-quantum/ml-kem.js';
import { note } from '../recorder.js';
export * from '@noble/post-quantum/ml-kem.js';
export const ml_kem768 = {
  ...real,
  keygen: (seed?: Uint8Array) => { note({ kind: 'mlkem-keygen', provider: 'noble' }); return real.keygen(seed); },
  encapsulate: (publicKey: Uint8Array, m?: Uint8Array) => { note({ kind: 'mlkem-encapsulate', provider: 'noble' }); return real.encapsulate(publicKey, m); },
  decapsulate: (ciphertext: Uint8Array, secretKey: Uint8Array) => { note({ kind: 'mlkem-decapsulate', provider: 'noble' }); return real.decapsulate(ciphertext, secretKey); },
} as typeof real;
