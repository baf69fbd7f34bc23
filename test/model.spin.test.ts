/**
 * model/spin/delivery.pml (DESIGN.md §7, L2): the ratchet's delivery machine checked exhaustively
 * by SPIN. Safety: no message accepted twice, only sent ones, stored keys bounded, under any
 * reordering, duplication and dropping. Liveness: with reordering within MAX_SKIP and no drops,
 * every message is opened. A mutant receiver (forgets opened messages, keeps used keys) must be
 * caught, so the check cannot pass vacuously. `pan` exits 0 even when it finds errors, so the
 * runner reads its report.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ENVELOPE_CONSTANTS } from '../src/envelope/constants.js';
import { ROOT, hasCommand, missing } from './support/environment.js';

/**
 * Each SPIN run states its own budget, sized for a loaded 2-core machine (the safety search took
 * 90 s there), so CI cannot go red on vitest's default 60 s timeout without a property violation.
 */
const SPIN_BUDGET_MS = 600_000;

const skip = missing('spin and gcc', hasCommand('spin') && hasCommand('gcc'), 'apt-get install spin gcc');

function verify(defines: string[], pan: { cflags: string[]; run: string[] }): { errors: number; states: number; report: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seal-spin-'));
  copyFileSync(path.join(ROOT, 'model/spin/delivery.pml'), path.join(dir, 'delivery.pml'));
  execFileSync('spin', ['-a', ...defines, 'delivery.pml'], { cwd: dir, stdio: 'pipe' });
  execFileSync('gcc', ['-O2', ...pan.cflags, '-o', 'pan', 'pan.c'], { cwd: dir, stdio: 'pipe' });
  const report = execFileSync('./pan', pan.run, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const errors = /errors: (\d+)/.exec(report);
  const states = /(\d+) states, stored/.exec(report);
  if (!errors) throw new Error(`pan printed no error count:\n${report}`);
  return { errors: Number(errors[1]), states: Number(states?.[1] ?? 0), report };
}

describe.skipIf(skip !== undefined)('L2: SPIN model of ratchet delivery', () => {
  it('safety: no double accept, only sent messages, bounded store, under any delivery', () => {
    // @req envelope.skip-bounds
    const result = verify([], { cflags: ['-DSAFETY'], run: ['-m100000'] });
    console.log(`spin safety: ${result.states} states, ${result.errors} errors`);
    expect(result.errors).toBe(0);
    expect(result.states).toBeGreaterThan(100000); // the search really explored the delivery space
  }, SPIN_BUDGET_MS);

  it('liveness: with reordering within MAX_SKIP and no drops, every message is opened', () => {
    const result = verify(['-DFAIR'], { cflags: [], run: ['-a', '-f', '-m100000'] });
    console.log(`spin liveness (all_opened): ${result.states} states, ${result.errors} errors`);
    expect(result.errors).toBe(0);
  }, SPIN_BUDGET_MS);

  it('sanity: the store bound is reached and the oldest key evicted, so the bound check is not vacuous', () => {
    const result = verify(['-DSANITY_EVICTION'], { cflags: ['-DSAFETY'], run: ['-m100000'] });
    expect(result.errors).toBeGreaterThan(0);
  }, SPIN_BUDGET_MS);

  it('a broken receiver that keeps used keys is caught', () => {
    const result = verify(['-DMUTANT'], { cflags: ['-DSAFETY'], run: ['-m100000'] });
    expect(result.errors).toBeGreaterThan(0);
  }, SPIN_BUDGET_MS);
});

describe('L2: the Promela bounds keep the spec\'s relation', () => {
  it('MAX_SKIP < MAX_STORED <= (MAX_SKIPPED_KEYS / MAX_SKIP) * MAX_SKIP, scaled down from the spec', () => {
    // @req envelope.skip-bounds
    const pml = readFileSync(path.join(ROOT, 'model/spin/delivery.pml'), 'utf8');
    const define = (name: string): number => {
      const m = new RegExp(`^#define ${name}\\s+(\\d+)`, 'm').exec(pml);
      if (!m) throw new Error(`delivery.pml defines no ${name}`);
      return Number(m[1]);
    };
    const maxSkip = define('MAX_SKIP');
    const maxStored = define('MAX_STORED');
    const ratio = ENVELOPE_CONSTANTS.MAX_SKIPPED_KEYS / ENVELOPE_CONSTANTS.MAX_SKIP;
    expect(Number.isInteger(ratio)).toBe(true);
    expect(maxStored).toBeGreaterThan(maxSkip);
    expect(maxStored).toBeLessThanOrEqual(ratio * maxSkip);
  });
});
