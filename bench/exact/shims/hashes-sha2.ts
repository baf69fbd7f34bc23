/** Bench shim of `@noble/hashes/sha2.js`: records top-level SHA-256 calls (bench/exact/recorder.ts). @module */
import { sha256 as real } from '@noble/hashes/sha2.js';
import { note } from '../recorder.js';
export * from '@noble/hashes/sha2.js';
const counted = ((message: Uint8Array) => {
  note(() => ({ kind: 'sha256', message: message.length }));
  return real(message);
}) as typeof real;
// hmac and hkdf use `create`, `outputLen` and `blockLen`: passed through, not counted (their own calls are).
Object.assign(counted, { create: real.create, outputLen: real.outputLen, blockLen: real.blockLen, oid: (real as { oid?: unknown }).oid });
export const sha256 = counted;
