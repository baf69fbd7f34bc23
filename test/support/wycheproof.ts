/**
 * Reading Wycheproof files from the shared data folder (never copied into the repository): the
 * types of a test and a group, the visible skip when the corpus is absent, and a loader that
 * checks each file's declared number of tests.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { missing, sharedFile } from './environment.js';

/** One Wycheproof test case; the fields besides these depend on the file. */
export interface WycheproofTest {
  tcId: number;
  comment?: string;
  flags?: string[];
  result: 'valid' | 'invalid' | 'acceptable';
  [field: string]: unknown;
}

/** One group of Wycheproof test cases, with the group's own fields (keys, parameters). */
export interface WycheproofGroup {
  tests: WycheproofTest[];
  [field: string]: unknown;
}

/** The reason to skip when the Wycheproof corpus is absent (fails under CI instead). */
export const wycheproofMissing = (): string | undefined =>
  missing('Wycheproof vectors', sharedFile('wycheproof', 'x25519_test.json').present, 'set SEAL_SHARED_DATA or place ../shared/data beside the checkout');

/** Every case of `name` with its group, after checking the count the file declares. */
export function wycheproofCases(name: string): { test: WycheproofTest; group: WycheproofGroup }[] {
  const data = JSON.parse(readFileSync(sharedFile('wycheproof', name).file, 'utf8')) as { testGroups: WycheproofGroup[]; numberOfTests: number };
  const all = data.testGroups.flatMap((group) => group.tests.map((test) => ({ test, group })));
  expect(all.length).toBe(data.numberOfTests);
  return all;
}
