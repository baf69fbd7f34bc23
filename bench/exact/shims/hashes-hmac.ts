/** Bench shim of `@noble/hashes/hmac.js`: records HMAC calls, keyed set-ups and keyed digests. @module */
import { hmac as real } from '@noble/hashes/hmac.js';
import { note } from '../recorder.js';
export * from '@noble/hashes/hmac.js';

// noble's HMAC types are intricate; the shim treats a keyed HMAC structurally.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Keyed = any;
/** A keyed HMAC whose clones record `update` lengths and one `hmac-keyed` call per digest. */
function watch(inner: Keyed, length = 0): Keyed {
  let total = length;
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'clone') return () => watch(target.clone(), total);
      if (property === 'update') return (data: Uint8Array) => { total += data.length; target.update(data); return receiver; };
      if (property === 'digest') return () => { note(() => ({ kind: 'hmac-keyed', message: total })); return target.digest(); };
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
const counted = ((hash: Parameters<typeof real>[0], key: Uint8Array, message: Uint8Array) => {
  note(() => ({ kind: 'hmac', key: key.length, message: message.length }));
  return real(hash, key, message);
}) as typeof real;
counted.create = (hash, key) => {
  note(() => ({ kind: 'hmac-key', key: key.length }));
  const keyed = real.create(hash, key);
  // A keyed HMAC made at module load (the zero salt) is also watched, so its digests count.
  return watch(keyed);
};
export const hmac = counted;
