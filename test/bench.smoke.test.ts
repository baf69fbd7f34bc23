/**
 * A smoke run of the bench (bench/run.ts with SEAL_BENCH_QUICK=1): the recording shims are
 * swapped in, every operation's primitive calls are captured and replayed, and each row is
 * printed. Nothing here is timed or compared with a speed: figures live in bench/results.md.
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
    // A seal for 100 devices wraps 100 keys and seals one payload.
    expect(run.stdout).toMatch(/\| steady state: seal 100 B for 100 devices \| 605: .*101 aead-seal/);
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
});
