/**
 * Runs Seal's bench: bundles bench/exact/main.ts with esbuild, swapping the @noble/* modules
 * that src/ imports for the recording shims of bench/exact/shims (so the bench can count and
 * replay the exact primitive calls an operation makes), then runs the bundle with Node.
 * `npm run bench` writes bench/results.md; `SEAL_BENCH_QUICK=1` is a short smoke run.
 *
 * @see spec §envelope.overhead
 * @module
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHIMS: Record<string, string> = {
  '@noble/hashes/sha2.js': 'hashes-sha2.ts',
  '@noble/hashes/hmac.js': 'hashes-hmac.ts',
  '@noble/hashes/hkdf.js': 'hashes-hkdf.ts',
  '@noble/ciphers/chacha.js': 'ciphers-chacha.ts',
  '@noble/post-quantum/ml-kem.js': 'pq-mlkem.ts',
  '@noble/curves/ed25519.js': 'curves-ed25519.ts',
};
const shimDir = path.join(here, 'exact', 'shims');
const recordingShims: Plugin = {
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

const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'seal-bench-')), 'bench.mjs');
await build({
  entryPoints: [path.join(here, 'exact', 'main.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: out,
  plugins: [recordingShims],
  external: ['better-sqlite3'],
  banner: { js: "import { createRequire as __sealRequire } from 'node:module'; const require = __sealRequire(import.meta.url);" },
  logLevel: 'warning',
});
const run = spawnSync(process.execPath, [out], { stdio: 'inherit', cwd: path.join(here, '..') });
process.exit(run.status ?? 1);
