/**
 * The shape of every vector file (Wycheproof / MLS style), as zod schemas from which the JSON
 * Schema in `vectors/schema/` is exported. Binary values are lower-case hex.
 *
 * @see spec §impl.vectors
 * @module
 */
import * as z from 'zod/mini';
import { SEAL_ERROR_CODES, type SealErrorCode } from '../errors.js';
import { SUITE_ID } from '../suite/suite.js';

/** Lower-case hexadecimal of even length. */
export const Hex = z.string().check(z.regex(/^(?:[0-9a-f]{2})*$/));

/** One test case. `outputs.error` names the expected error code of an invalid case. */
export function vectorTest<I extends z.ZodMiniType, O extends z.ZodMiniType>(inputs: I, outputs: O) {
  return z.strictObject({
    tcId: z.int().check(z.positive()),
    comment: z.string(),
    flags: z.array(z.string()),
    inputs,
    outputs: z.union([outputs, z.strictObject({ error: z.enum(SEAL_ERROR_CODES as [SealErrorCode, ...SealErrorCode[]]) })]),
    result: z.enum(['valid', 'invalid']),
  });
}

/** A group of tests of one `type`, with optional group-level fields. */
export function vectorGroup<T extends string, C extends z.ZodMiniType>(type: T, test: C) {
  return z.strictObject({ type: z.literal(type), description: z.string(), tests: z.array(test) });
}

/** A whole vector file. */
export function vectorFile<G extends z.ZodMiniType>(section: string, group: G) {
  return z.strictObject({
    $schema: z.string(),
    suite: z.literal(SUITE_ID),
    section: z.literal(section),
    version: z.int(),
    description: z.string(),
    numberOfTests: z.int(),
    testGroups: z.array(group),
  });
}

/** A test case as generators build it (before numbering). */
export interface TestCase {
  readonly comment: string;
  readonly flags?: readonly string[];
  readonly inputs: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
  readonly result: 'valid' | 'invalid';
}

/** A group as generators build it. */
export interface TestGroup {
  readonly type: string;
  readonly description: string;
  readonly tests: readonly TestCase[];
}

/** A vector file's content as generators build it. */
export interface VectorDocument {
  readonly $schema: string;
  readonly suite: typeof SUITE_ID;
  readonly section: string;
  readonly version: number;
  readonly description: string;
  readonly numberOfTests: number;
  readonly testGroups: readonly { type: string; description: string; tests: readonly (TestCase & { tcId: number; flags: readonly string[] })[] }[];
}

/** Numbers the tests of a file 1..n in order and counts them. */
export function assemble(meta: { file: string; section: string; version: number; description: string }, groups: readonly TestGroup[]): VectorDocument {
  let tcId = 0;
  const testGroups = groups.map((group) => ({
    type: group.type,
    description: group.description,
    tests: group.tests.map((test) => ({ tcId: ++tcId, comment: test.comment, flags: test.flags ?? [], inputs: test.inputs, outputs: test.outputs, result: test.result })),
  }));
  return {
    $schema: `schema/${meta.file.replace(/\.json$/, '')}.schema.json`,
    suite: SUITE_ID,
    section: meta.section,
    version: meta.version,
    description: meta.description,
    numberOfTests: tcId,
    testGroups,
  };
}
