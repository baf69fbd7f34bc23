/**
 * The esbuild plugin of the bench: it swaps the `@noble/*` modules that `src/` imports for the
 * recording shims of `bench/exact/shims/` (each shim imports the real module and notes every
 * call), for the Node bench (bench/run.ts) and the browser page of the store bench
 * (bench/stores.ts).
 *
 * @see spec §envelope.overhead
 * @module
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

const SHIMS: Record<string, string> = {
  '@noble/hashes/sha2.js': 'hashes-sha2.ts',
  '@noble/hashes/hmac.js': 'hashes-hmac.ts',
  '@noble/hashes/hkdf.js': 'hashes-hkdf.ts',
  '@noble/ciphers/chacha.js': 'ciphers-chacha.ts',
  '@noble/post-quantum/ml-kem.js': 'pq-mlkem.ts',
  '@noble/curves/ed25519.js': 'curves-ed25519.ts',
};
const shimDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'shims');

/** Resolves each recorded `@noble/*` module to its shim (except from inside the shims). */
export const recordingShims: Plugin = {
  name: 'seal-recording-shims',
  setup(b) {
    b.onResolve({ filter: /^@noble\// }, (args) => {
      const shim = SHIMS[args.path];
      // A shim imports the real module; everything else gets the shim.
      if (shim === undefined || path.dirname(args.importer) === shimDir) return undefined;
      return { path: path.join(shimDir, shim) };
    });
  },
};
