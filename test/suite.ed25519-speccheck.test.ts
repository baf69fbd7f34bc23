/**
 * §suite.signature: the twelve Ed25519 edge cases of "Taming the many EdDSAs" (Chalkias et al.,
 * the ed25519-speccheck repository's cases.json, read from the shared data directory, never
 * copied here) through Seal's verifier with both curve providers, against the verdicts the spec's
 * table states; and the spec's account of which libraries agree, against the 18 libraries'
 * verdicts in that repository's results.md.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../src/codec/bytes.js';
import { nodeCurveProvider } from '../src/native/node.js';
import { nobleCurveProvider, useCurveProvider } from '../src/suite/index.js';
import { ed25519Verify } from '../src/suite/signature.js';
import { ROOT, missing, sharedFile } from './support/environment.js';

const cases = sharedFile('ed25519-speccheck', 'cases.json');
const results = sharedFile('ed25519-speccheck', 'results.md');
const skip = missing('ed25519-speccheck (cases.json, results.md)', cases.present && results.present, 'set SEAL_SHARED_DATA to the shared data directory');

/** The spec's verdict per case, from the table of §suite.signature ("8, 9" covers both). */
function specVerdicts(): boolean[] {
  const xml = readFileSync(path.join(ROOT, 'spec', 'seal.xml'), 'utf8');
  const table = /<table caption='Seal&apos;s verdicts on the ed25519-speccheck cases'>([\s\S]*?)<\/table>/.exec(xml)![1]!;
  const verdicts: boolean[] = [];
  for (const [, numbers, verdict] of table.matchAll(/<tr><td>([\d, ]+)<\/td><td>[^<]*<\/td><td>(accept|reject)<\/td>/g)) {
    for (const n of numbers!.split(',').map((x) => Number(x.trim()))) verdicts[n] = verdict === 'accept';
  }
  return verdicts;
}

describe.skipIf(skip !== undefined)('§suite.signature: the ed25519-speccheck edge cases', () => {
  const list = skip === undefined ? (JSON.parse(readFileSync(cases.file, 'utf8')) as { message: string; pub_key: string; signature: string }[]) : [];

  it('Seal gives each of the twelve cases the verdict the spec states, with the noble and the native provider', () => {
    // @req suite.ed25519-strict
    const expected = specVerdicts();
    expect(expected).toHaveLength(12);
    expect(list).toHaveLength(12);
    for (const provider of [nobleCurveProvider, nodeCurveProvider]) {
      useCurveProvider(provider);
      try {
        const verdicts = list.map((c) => ed25519Verify(fromHex(c.pub_key), fromHex(c.message), fromHex(c.signature)));
        expect(verdicts, provider.name).toEqual(expected);
      } finally {
        useCurveProvider(nobleCurveProvider);
      }
    }
  });

  it('no recorded library agrees on all twelve; the closest ones, and where they differ, are those the spec names', () => {
    const seal = specVerdicts();
    const differences = new Map<string, number[]>();
    for (const line of readFileSync(results.file, 'utf8').split('\n')) {
      const cells = line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
      if (cells.length !== 13 || !cells.slice(1).every((c) => c === 'V' || c === 'X')) continue;
      differences.set(cells[0]!, cells.slice(1).flatMap((v, i) => ((v === 'V') !== seal[i] ? [i] : [])));
    }
    expect(differences.size).toBe(18);
    expect([...differences].filter(([, d]) => d.length === 0)).toEqual([]);
    const fewest = Math.min(...[...differences.values()].map((d) => d.length));
    const closest = [...differences].filter(([, d]) => d.length === fewest);
    expect(closest.map(([name]) => name).sort()).toEqual(['Dalek strict', 'LibSodium', 'libra-crypto']);
    for (const [, d] of closest) expect(d).toEqual([2, 4, 5]);
    for (const name of ['BouncyCastle', 'Hacl*']) expect(differences.get(name), name).toEqual([0, 1, 4, 5]);
    for (const name of ['BoringSSL', 'OpenSSL-3.0', 'Go', 'CryptoKit', 'Dalek', 'PyCA', 'npm']) expect(differences.get(name), name).toEqual([0, 1, 4, 5, 11]);
    for (const name of ['ref10', 'ed25519-donna', 'ed25519-java', 'TweetNaCl-js', 'python-ed25519']) expect(differences.get(name), name).toContain(6);
    expect(differences.get('Zebra')).toEqual(expect.arrayContaining([9, 10, 11]));
    const xml = readFileSync(path.join(ROOT, 'spec', 'seal.xml'), 'utf8');
    expect(xml).toContain('LibSodium, libra-crypto and Dalek\'s <tt>verify_strict</tt> come closest and differ on three');
    expect(xml).toContain('None of the 18 libraries');
  });
});
