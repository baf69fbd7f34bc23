/**
 * Bench shim of `@noble/curves/ed25519.js`: records the Ed25519 point decoding Seal does for its
 * key checks (`Point.fromBytes(…).isSmallOrder()`). X25519 and Ed25519 signatures go through
 * the curve provider, which the bench instruments itself (bench/exact/replay.ts).
 * @module
 */
import { ed25519 as real } from '@noble/curves/ed25519.js';
import { note } from '../recorder.js';
export * from '@noble/curves/ed25519.js';
// noble freezes its objects, so a Proxy may not change them: a copy with a recording Point.fromBytes
// (src/ uses only Point.fromBytes; everything else is the real ed25519).
const Point = Object.create(real.Point, {
  fromBytes: {
    value: (bytes: Uint8Array, zip215?: boolean) => {
      note({ kind: 'ed25519-decode', provider: 'noble' });
      return real.Point.fromBytes(bytes, zip215);
    },
  },
}) as typeof real.Point;
export const ed25519 = { ...real, Point } as typeof real;
