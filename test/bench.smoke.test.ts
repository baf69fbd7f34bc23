/**
 * A smoke run of the bench (bench/run.ts with SEAL_BENCH_QUICK=1): the recording shims are
 * swapped in, every operation's primitive calls are captured and replayed, and each row is
 * printed; likewise the store bench (bench/stores.ts) and the file bench (bench/files.ts: finite
 * figures for every provider and size, and memory samples). Nothing here is timed or compared
 * with a speed: figures live in bench/results.md, stores.md and files.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/environment.js';

describe('bench smoke run', () => {
  it('captures and replays the primitive calls of every operation', () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'bench/run.ts'], { cwd: ROOT, env: { ...process.env, SEAL_BENCH_QUICK: '1' }, encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(run.status, run.stderr).toBe(0);
    const rows = run.stdout.split('\n').filter((l) => l.startsWith('bench row: '));
    expect(rows.length).toBe(12);
    for (const row of rows) expect(Number(/, (\d+) calls$/.exec(row)?.[1] ?? 0), row).toBeGreaterThan(0);
    // The capture sees the calls a session setup must make: the bundle's signatures, the
    // handshake's scalar multiplications and the KEM.
    const setup = run.stdout.split('\n').find((l) => l.startsWith('| session setup: bundle verification') && l.includes('ed25519-verify'));
    expect(setup).toMatch(/\d+ ed25519-verify \(noble\)/);
    expect(setup).toMatch(/\d+ x25519 \(noble\)/);
    expect(setup).toMatch(/1 mlkem-encapsulate/);
    expect(setup).toMatch(/1 mlkem-decapsulate/);
    // A seal for 100 devices wraps 100 keys, derives the payload key (one HKDF: an extract and an
    // expand) and seals one payload.
    expect(run.stdout).toMatch(/\| steady state: seal 100 B for 100 devices \| 607: .*1 hmac, .*101 hkdf-expand, 101 aead-seal/);
  }, 600_000);

  it('the store bench records one message\'s commits and primitive calls and times every store against them', () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'bench/stores.ts'], { cwd: ROOT, env: { ...process.env, SEAL_BENCH_QUICK: '1' }, encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(run.status, run.stderr).toBe(0);
    const rows = run.stdout.split('\n').filter((l) => /^\| (FileStore|MemoryStore|IndexedDbStore)/.test(l));
    // Node's two rows, and Chromium's two where it is installed (bench/stores.ts skips them visibly otherwise).
    expect(rows.length).toBe(existsSync('/usr/bin/chromium') ? 4 : 2);
    // Sender and receiver each commit the step and its acknowledgement; the message's crypto includes both AEADs.
    for (const row of rows) expect(row, row).toMatch(/\| 4 commits, \d+ B \|/);
    expect(run.stdout).toMatch(/1 aead-seal|2 aead-seal/);
    expect(run.stdout).toMatch(/\d aead-open/);
  }, 600_000);

  it('the file bench produces a finite throughput and ratio for every provider and size, and memory samples', () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'bench/files.ts'], { cwd: ROOT, env: { ...process.env, SEAL_BENCH_QUICK: '1' }, encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(run.status, run.stderr).toBe(0);
    const rows = run.stdout.split('\n').filter((l) => l.startsWith('bench files: ')).map((l) => JSON.parse(l.slice('bench files: '.length)) as { provider: string; size: number; mbps: Record<string, number>; setupMs: number; ratios: Record<string, { median: number }> });
    // Three providers (noble, Web Crypto, node:crypto) at the quick run's two sizes.
    expect(rows.map((r) => `${r.provider} ${r.size}`)).toEqual(['noble', 'webcrypto', 'node'].flatMap((p) => [`${p} 65536`, `${p} 262144`]));
    for (const row of rows) {
      expect(Object.keys(row.mbps).sort()).toEqual(['one-open', 'one-seal', 'raw-open', 'raw-seal', 'sealFile', 'setup', 'stream-decrypt', 'stream-encrypt']);
      for (const [name, v] of Object.entries(row.mbps)) expect(Number.isFinite(v) && v > 0, `${row.provider} ${row.size} ${name}: ${v}`).toBe(true);
      for (const [name, v] of Object.entries(row.ratios)) expect(Number.isFinite(v.median) && v.median > 0, `${row.provider} ${row.size} ${name}: ${v.median}`).toBe(true);
    }
    const memory = run.stdout.split('\n').filter((l) => l.startsWith('bench memory: ')).map((l) => JSON.parse(l.slice('bench memory: '.length)) as { bytes: number; rss: number[] });
    expect(memory.length).toBeGreaterThan(0);
    // The whole (quick) file went through encrypt → decrypt, with a sample before it and after each MiB.
    for (const m of memory) {
      expect(m.bytes).toBe(8 * 1024 * 1024);
      expect(m.rss.length).toBe(9);
      for (const v of m.rss) expect(Number.isFinite(v) && v > 0).toBe(true);
    }
  }, 600_000);
});
