/**
 * vectors/: the committed files are exactly what the code generates (no drift, byte for byte),
 * they validate against their schema, and every case verifies against the code. Verification
 * can fail: a tampered output is reported.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedVectorFiles, vectorDrift } from '../src/cli/vectors.js';
import { VECTOR_KINDS, verify } from '../src/vectors/index.js';
import { ROOT } from './support/environment.js';

const DIR = path.join(ROOT, 'vectors');

describe('vectors/', () => {
  it('has no drift: regenerating in memory gives the committed bytes (which another process generated: generation is deterministic)', async () => {
    expect(await vectorDrift(DIR)).toEqual([]);
    expect((await expectedVectorFiles()).size).toBe(2 * VECTOR_KINDS.length);
  }, 60_000);

  it.each(VECTOR_KINDS.map((kind) => [kind.file, kind] as const))('%s: every case verifies, positive and negative', async (_, kind) => {
    const document = JSON.parse(readFileSync(path.join(DIR, kind.file), 'utf8'));
    const result = await verify(kind, document);
    expect(result.failures).toEqual([]);
    expect(result.passed).toBe(document.numberOfTests);
    const results = document.testGroups.flatMap((g: { tests: { result: string }[] }) => g.tests.map((t) => t.result));
    expect(results).toContain('valid');
    expect(results).toContain('invalid');
  });

  it('verification reports a tampered output and a broken schema', async () => {
    const kind = VECTOR_KINDS[0]!;
    const document = JSON.parse(readFileSync(path.join(DIR, kind.file), 'utf8'));
    const test = document.testGroups[0].tests[0];
    test.outputs.okm = `00${test.outputs.okm.slice(2)}`;
    expect((await verify(kind, document)).failures).toHaveLength(1);
    document.suite = 'Seal-v0-other';
    expect((await verify(kind, document)).failures[0]).toMatch(/^schema/);
  });
});

describe('vectors/envelope.json: the outcomes the spec describes', () => {
  it('an open reports every handshake outcome: established, already processed (the existing session is used), none', () => {
    // A header a device had processed before (the same session's header on a later or a late
    // message) is already-processed, not a second establishment (issue: it was never shown).
    const text = readFileSync(path.join(ROOT, 'vectors', 'envelope.json'), 'utf8');
    const outcomes = new Set([...text.matchAll(/"handshake": "([a-z-]+)"/g)].map((m) => m[1]));
    expect([...outcomes].sort()).toEqual(['already-processed', 'established', 'none']);
  });
});
