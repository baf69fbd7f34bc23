/** Bench shim of `@noble/hashes/hkdf.js`: records HKDF and HKDF-Expand calls. @module */
import { expand as realExpand, hkdf as realHkdf } from '@noble/hashes/hkdf.js';
import { note } from '../recorder.js';
export * from '@noble/hashes/hkdf.js';
export const hkdf = ((hash, ikm, salt, info, length) => {
  note(() => ({ kind: 'hkdf', ikm: ikm.length, salt: salt?.length ?? 0, info: info?.length ?? 0, length }));
  return realHkdf(hash, ikm, salt, info, length);
}) as typeof realHkdf;
export const expand = ((hash, prk, info, length) => {
  note(() => ({ kind: 'hkdf-expand', info: info?.length ?? 0, length: length ?? 32 }));
  return realExpand(hash, prk, info, length);
}) as typeof realExpand;
