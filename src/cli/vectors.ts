/**
 * `seal vectors generate|check|verify [dir]`: writes the vector files and their JSON Schemas,
 * detects drift between the committed files and the code, and verifies files against the code.
 *
 * @see spec §impl.vectors
 * @module
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod/mini';
import { VECTOR_KINDS, type Verification, fileSchema, generate, serialize, verify } from '../vectors/index.js';

/** Every file the generator owns, relative to the vectors folder, with its exact text. */
export async function expectedVectorFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const kind of VECTOR_KINDS) {
    files.set(kind.file, serialize(await generate(kind)));
    const schema = z.toJSONSchema(fileSchema(kind), { target: 'draft-2020-12' }) as Record<string, unknown>;
    files.set(`schema/${kind.file.replace(/\.json$/, '')}.schema.json`, serialize({ ...schema, title: `Seal vector file ${kind.file} (spec §${kind.section})` }));
  }
  return files;
}

/** Writes every vector file and schema into `dir`. */
export async function generateVectors(dir: string): Promise<string[]> {
  mkdirSync(path.join(dir, 'schema'), { recursive: true });
  const written: string[] = [];
  for (const [name, text] of await expectedVectorFiles()) {
    writeFileSync(path.join(dir, name), text);
    written.push(name);
  }
  return written;
}

/** Files that differ from what the code generates now, are missing, or are not generated. */
export async function vectorDrift(dir: string): Promise<string[]> {
  const expected = await expectedVectorFiles();
  const problems: string[] = [];
  for (const [name, text] of expected) {
    const file = path.join(dir, name);
    if (!existsSync(file)) problems.push(`${name}: missing`);
    else if (readFileSync(file, 'utf8') !== text) problems.push(`${name}: differs from what the code generates`);
  }
  const present = [
    ...readdirSync(dir).filter((f) => f.endsWith('.json')),
    ...(existsSync(path.join(dir, 'schema')) ? readdirSync(path.join(dir, 'schema')).map((f) => `schema/${f}`) : []),
  ];
  for (const name of present) if (!expected.has(name)) problems.push(`${name}: not produced by the generator`);
  return problems;
}

/** Verifies every known vector file in `dir` against the code. */
export async function verifyVectors(dir: string): Promise<Verification[]> {
  const results: Verification[] = [];
  for (const kind of VECTOR_KINDS) {
    const file = path.join(dir, kind.file);
    if (!existsSync(file)) results.push({ file: kind.file, section: kind.section, cases: 0, passed: 0, failures: ['missing'] });
    else results.push(await verify(kind, JSON.parse(readFileSync(file, 'utf8'))));
  }
  return results;
}

/** A printable table of verification results. */
export function verificationTable(results: readonly Verification[]): string {
  const rows = [['file', 'section', 'cases', 'passed'], ...results.map((r) => [r.file, `§${r.section}`, String(r.cases), String(r.passed)])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  const total = results.reduce((a, r) => ({ cases: a.cases + r.cases, passed: a.passed + r.passed }), { cases: 0, passed: 0 });
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), line(['total', '', String(total.cases), String(total.passed)])].join('\n');
}
