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
import { build } from 'esbuild';
import { recordingShims } from './exact/shim-plugin.js';

const here = path.dirname(fileURLToPath(import.meta.url));
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
