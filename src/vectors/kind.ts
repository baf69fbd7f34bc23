/**
 * How a vector file is defined once and used twice: each group type has one operation that maps
 * inputs to outputs through Seal's public API. Generation records what the operation returns;
 * verification runs the operation again on the recorded inputs and compares.
 *
 * @see spec §impl.vectors
 * @module
 */
import * as z from 'zod/mini';
import { isSealError } from '../errors.js';
import { canonicalXml, parseXml } from '../wire/xml.js';
import { type TestGroup, type VectorDocument, assemble, vectorFile, vectorGroup, vectorTest } from './format.js';

/** Inputs or outputs of one case: field name to hex string, string, number or boolean. */
export type Fields = Record<string, unknown>;

/** One group type of a vector file. */
export interface GroupKind {
  readonly type: string;
  readonly description: string;
  readonly inputs: z.ZodMiniType;
  readonly outputs: z.ZodMiniType;
  /**
   * Runs the case through Seal; throws (or rejects with) a SealError when Seal rejects the inputs.
   * Asynchronous for operations whose API is (file encryption reads and writes streams).
   */
  readonly operation: (inputs: Fields) => Fields | Promise<Fields>;
  /** The cases to generate (inputs only; outputs and result come from the operation). */
  readonly cases: () => readonly { comment: string; flags?: readonly string[]; inputs: Fields }[];
}

/** One vector file kind. */
export interface VectorKind {
  readonly file: string;
  readonly section: string;
  readonly version: number;
  readonly description: string;
  readonly groups: readonly GroupKind[];
}

/**
 * An output value with every XML text in it written in the canonical form (§encoding.xml-canonical),
 * so that a vector's XML does not depend on the serialiser that produced it. A string counts as XML
 * text when it starts with `<` and parses; a `plaintext` field (exact encrypted bytes) is kept as it is.
 */
function canonicalOutputs(value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith('<')) {
    try {
      return canonicalXml(parseXml(value));
    } catch {
      return value;
    }
  }
  if (Array.isArray(value)) return value.map(canonicalOutputs);
  // `plaintext` is the exact bytes that were encrypted (§envelope.content-bytes), never rewritten.
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'plaintext' ? v : canonicalOutputs(v)]));
  return value;
}

/** Outputs of an operation (XML in canonical form), or `{ error }` when Seal rejects the inputs with a SealError. */
export async function evaluate(group: GroupKind, inputs: Fields): Promise<{ outputs: Fields; result: 'valid' | 'invalid' }> {
  try {
    return { outputs: canonicalOutputs(await group.operation(inputs)) as Fields, result: 'valid' };
  } catch (e) {
    if (isSealError(e)) return { outputs: { error: e.code }, result: 'invalid' };
    throw e;
  }
}

/** The zod schema of a whole file of this kind. */
export function fileSchema(kind: VectorKind): z.ZodMiniType {
  const groups = kind.groups.map((group) => vectorGroup(group.type, vectorTest(group.inputs, group.outputs)));
  const [first, ...rest] = groups;
  if (first === undefined) throw new Error(`${kind.file}: no groups`);
  return vectorFile(kind.section, rest.length === 0 ? first : z.union([first, ...rest]));
}

/** Generates the file's content deterministically. */
export async function generate(kind: VectorKind): Promise<VectorDocument> {
  const groups: TestGroup[] = [];
  for (const group of kind.groups) {
    const tests = [];
    for (const c of group.cases()) tests.push({ comment: c.comment, flags: c.flags ?? [], inputs: c.inputs, ...(await evaluate(group, c.inputs)) });
    groups.push({ type: group.type, description: group.description, tests });
  }
  return assemble(kind, groups);
}

/** Per-file verification result. */
export interface Verification {
  readonly file: string;
  readonly section: string;
  readonly cases: number;
  readonly passed: number;
  readonly failures: readonly string[];
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Checks a parsed vector file against the code: the file must match its schema, and every case's
 * recorded outputs and result must equal what Seal computes now.
 */
export async function verify(kind: VectorKind, document: unknown): Promise<Verification> {
  const parsed = fileSchema(kind).safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { file: kind.file, section: kind.section, cases: 0, passed: 0, failures: [`schema: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`] };
  }
  const file = document as VectorDocument;
  let cases = 0;
  let passed = 0;
  const failures: string[] = [];
  for (const group of file.testGroups) {
    const groupKind = kind.groups.find((g) => g.type === group.type);
    for (const test of group.tests) {
      cases++;
      if (groupKind === undefined) {
        failures.push(`tcId ${test.tcId}: unknown group type ${group.type}`);
        continue;
      }
      const actual = await evaluate(groupKind, test.inputs);
      if (actual.result === test.result && sameJson(actual.outputs, test.outputs)) passed++;
      else failures.push(`tcId ${test.tcId} (${test.comment}): expected ${test.result} ${JSON.stringify(test.outputs)}, got ${actual.result} ${JSON.stringify(actual.outputs)}`);
    }
  }
  return { file: kind.file, section: kind.section, cases, passed, failures };
}

/** Canonical text of a vector file: two-space JSON with a final newline. */
export function serialize(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
