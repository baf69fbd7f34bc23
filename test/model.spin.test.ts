/**
 * model/spin/delivery.pml (DESIGN.md §7, L2): the ratchet's delivery machine checked exhaustively
 * by SPIN against an adversary that reorders, drops, replays and injects forged messages. Each
 * property (P1 no message accepted twice, P2 only sent messages accepted, P3 the skipped-key
 * store stays bounded, P4 liveness: every message opens under a fair network) is checked, has a
 * sanity witness that must be reached (so the property is not vacuous) and a mutant receiver
 * that must violate exactly that property; the test prints each witness's and counterexample's
 * trail. The always-on configuration (6 messages) takes seconds; `SEAL_SPIN_FULL=1` adds the
 * 7-message search (about 51 million states, a minute, 2.5 GB). `pan` exits 0 even when it finds
 * errors, so the runner reads its report.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENVELOPE_CONSTANTS } from '../src/envelope/constants.js';
import { ROOT, hasCommand, missing } from './support/environment.js';

/**
 * Each SPIN run states its own budget, sized for a loaded 2-core machine (the old 15-million-state
 * safety search took 90 s there; the always-on runs now take seconds), so CI cannot go red on
 * vitest's default 60 s timeout without a property violation.
 */
const SPIN_BUDGET_MS = 600_000;

const skip = missing('spin and gcc', hasCommand('spin') && hasCommand('gcc'), 'apt-get install spin gcc');
const full = process.env.SEAL_SPIN_FULL === '1';

interface Run {
  readonly errors: number;
  readonly states: number;
  /** The first assertion that failed, or `acceptance cycle`, or undefined. */
  readonly violation: string | undefined;
  /** The trail replayed by `spin -t` (its printf lines up to the error), when there was an error. */
  readonly trail: string[];
}

/** One search: how the model is generated, compiled and run. */
interface Search {
  readonly defines: readonly string[];
  readonly cflags: readonly string[];
  readonly run: readonly string[];
}

/**
 * Safety: assertions, depth-first. Only this search is large enough (millions of states) to repay
 * gcc -O2 (2 s to compile pan.c); the small searches below compile at -O0 in a fifth of that.
 */
const SAFETY: Omit<Search, 'defines'> = { cflags: ['-O2', '-DSAFETY'], run: ['-m100000'] };
/** Safety, breadth-first: the shortest trail to the first error (sanity witnesses and mutants). */
const SHORTEST: Omit<Search, 'defines'> = { cflags: ['-O0', '-DSAFETY', '-DBFS'], run: [] };
/** Liveness: acceptance cycles of the LTL claim under weak fairness. */
const LIVENESS: Omit<Search, 'defines'> = { cflags: ['-O0'], run: ['-a', '-f', '-m100000'] };

function verify(search: Search): Run {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seal-spin-'));
  copyFileSync(path.join(ROOT, 'model/spin/delivery.pml'), path.join(dir, 'delivery.pml'));
  execFileSync('spin', ['-a', ...search.defines, 'delivery.pml'], { cwd: dir, stdio: 'pipe' });
  execFileSync('gcc', [...search.cflags, '-o', 'pan', 'pan.c'], { cwd: dir, stdio: 'pipe' });
  const report = execFileSync('./pan', search.run, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  const errors = /errors: (\d+)/.exec(report);
  const states = /(\d+) states, stored/.exec(report);
  if (!errors) throw new Error(`pan printed no error count:\n${report}`);
  const violation = /assertion violated (.*?) \(at depth/.exec(report)?.[1] ?? (/acceptance cycle/.test(report) ? 'acceptance cycle' : undefined);
  let trail: string[] = [];
  if (Number(errors[1]) > 0) {
    const replay = execFileSync('spin', ['-t', ...search.defines, 'delivery.pml'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
    const lines = replay.split('\n');
    const end = lines.findIndex((l) => /Error:|START OF CYCLE|trail ends/.test(l));
    trail = lines.slice(0, end < 0 ? lines.length : end + 1).map((l) => l.trim()).filter((l) => l !== '');
  }
  return { errors: Number(errors[1]), states: Number(states?.[1] ?? 0), violation, trail };
}

function show(label: string, run: Run): void {
  console.log(`spin ${label}: ${run.states} states, ${run.errors} errors${run.violation ? `, ${run.violation}` : ''}${run.trail.length ? `\n  ${run.trail.join('\n  ')}` : ''}`);
}

/** The assertion of accept (P1 and P2) and of the store bound (P3), as pan prints them. */
const ACCEPT = /^\(sent\[\w+\]&& !\(opened\[\w+\]\)\)$/;
const BOUND = '(heldKeys<=3)';

interface Property {
  readonly name: string;
  readonly sanity: { readonly what: string; readonly search: Search; readonly trail: RegExp };
  readonly mutant: { readonly what: string; readonly search: Search; readonly violation: RegExp | string; readonly trail: RegExp };
}

const PROPERTIES: readonly Property[] = [
  {
    name: 'P1 no message is accepted twice',
    sanity: { what: 'a replay of an opened message reaches the receiver and is a duplicate', search: { defines: ['-DSANITY=1'], ...SHORTEST }, trail: /^duplicate m\d$/m },
    mutant: { what: 'a receiver that forgets what it opened and keeps used skipped keys', search: { defines: ['-DMUTANT=1'], ...SHORTEST }, violation: ACCEPT, trail: /^accept m(\d)$[\s\S]*^accept m\1$/m },
  },
  {
    name: 'P2 only sent messages are accepted',
    sanity: { what: 'a forged message reaches the tag check under a key the receiver holds or derives, and fails', search: { defines: ['-DSANITY=2'], ...SHORTEST }, trail: /^forged message \(chain \d, counter \d, pn \d\) rejected at the tag check$/m },
    mutant: { what: 'a receiver that opens under a stored skipped key without checking the tag', search: { defines: ['-DMUTANT=2'], ...SHORTEST }, violation: ACCEPT, trail: /^accept a forged message/m },
  },
  {
    name: 'P3 the skipped-key store never holds more than MAX_STORED keys',
    sanity: { what: 'the store is full and a further key evicts the oldest', search: { defines: ['-DSANITY=3'], ...SHORTEST }, trail: /^store full: evict the oldest key$/m },
    mutant: { what: 'a receiver that never evicts', search: { defines: ['-DMUTANT=3'], ...SHORTEST }, violation: BOUND, trail: /^accept m\d$/m },
  },
  {
    name: 'P4 liveness: with reordering within MAX_SKIP and no drops, every message is opened',
    sanity: { what: 'the fair network reorders: a message opens under a stored skipped key', search: { defines: ['-DFAIR', '-DSANITY=4'], ...LIVENESS }, trail: /^deliver m\d/m },
    mutant: { what: 'a receiver that skips ahead without storing the skipped keys', search: { defines: ['-DFAIR', '-DMUTANT=4'], ...LIVENESS }, violation: 'acceptance cycle', trail: /START OF CYCLE/ },
  },
];

describe.skipIf(skip !== undefined)('L2: SPIN model of ratchet delivery against replays and forgeries', () => {
  it('safety (P1, P2, P3) holds under any reordering, drops, replays and forged messages', () => {
    // @req envelope.skip-bounds
    const result = verify({ defines: [], ...SAFETY });
    show('safety (P1-P3), 6 messages', result);
    expect(result.errors).toBe(0);
    expect(result.states).toBeGreaterThan(1_000_000); // the search really explored the delivery space
  }, SPIN_BUDGET_MS);

  it('liveness (P4): with reordering within MAX_SKIP and no drops, every message is opened', () => {
    const result = verify({ defines: ['-DFAIR'], ...LIVENESS });
    show('liveness (P4 all_opened), 6 messages', result);
    expect(result.errors).toBe(0);
    expect(result.states).toBeGreaterThan(1000);
  }, SPIN_BUDGET_MS);

  for (const property of PROPERTIES) {
    it(`${property.name}: sanity witness reached (${property.sanity.what})`, () => {
      const result = verify(property.sanity.search);
      show(`sanity of ${property.name.slice(0, 2)}`, result);
      // A sanity assertion is `assert(false)` at the witness: reaching it is the point.
      expect(result.errors).toBeGreaterThan(0);
      expect(result.violation).toBe('0');
      expect(result.trail.join('\n')).toMatch(property.sanity.trail);
    }, SPIN_BUDGET_MS);

    it(`${property.name}: mutant caught (${property.mutant.what})`, () => {
      const result = verify(property.mutant.search);
      show(`mutant of ${property.name.slice(0, 2)}`, result);
      expect(result.errors).toBeGreaterThan(0);
      if (typeof property.mutant.violation === 'string') expect(result.violation).toBe(property.mutant.violation);
      else expect(result.violation).toMatch(property.mutant.violation);
      expect(result.trail.join('\n')).toMatch(property.mutant.trail);
    }, SPIN_BUDGET_MS);
  }

  it('each mutant is caught only by its own property (the other searches of a mutant find nothing)', () => {
    // A mutant of a safety property leaves liveness intact (the fair network neither replays nor
    // forges nor overfills the store), and the liveness mutant leaves the safety assertions intact.
    for (const k of [1, 2, 3]) expect(verify({ defines: ['-DFAIR', `-DMUTANT=${k}`], ...LIVENESS }).errors).toBe(0);
    const safety = verify({ defines: ['-DMUTANT=4'], ...SAFETY });
    expect(safety.errors).toBe(0);
  }, SPIN_BUDGET_MS);

  it.skipIf(!full)('larger search (SEAL_SPIN_FULL=1): 7 messages, safety and liveness', () => {
    const safety = verify({ defines: ['-DN=7'], cflags: ['-DSAFETY', '-DCOLLAPSE'], run: ['-m100000', '-w26'] });
    show('safety (P1-P3), 7 messages', safety);
    expect(safety.errors).toBe(0);
    expect(safety.states).toBeGreaterThan(10_000_000);
    const liveness = verify({ defines: ['-DN=7', '-DFAIR'], ...LIVENESS });
    show('liveness (P4), 7 messages', liveness);
    expect(liveness.errors).toBe(0);
  }, SPIN_BUDGET_MS);
});

describe("L2: the Promela bounds keep the spec's relation", () => {
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
    // The bound check's assertion names the same bound.
    expect(pml).toContain('assert(heldKeys <= MAX_STORED)');
    expect(BOUND).toBe(`(heldKeys<=${maxStored})`);
  });
});
