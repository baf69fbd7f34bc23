/**
 * What the rendered XEP links to: where each requirement id is cited (`@req <id>` in `src/`, and
 * in `test/` and `model/`), and for each protocol section the source folders that implement it,
 * its vector files, its test files and its API pages. Everything is found by reading the
 * repository, so the links follow the code without a hand-kept list.
 *
 * @see spec §conventions
 * @module
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { type ApiFunction, apiFunctions } from './api.js';

/** One citation of a requirement id: a file relative to the repository root and a 1-based line. */
export interface Citation {
  readonly file: string;
  readonly line: number;
}

/** Where each requirement id is cited, by code and by tests. */
export interface Citations {
  readonly code: ReadonlyMap<string, readonly Citation[]>;
  readonly tests: ReadonlyMap<string, readonly Citation[]>;
}

/** The `.ts` files under `dir`, relative to `root`, sorted. */
export function tsFiles(root: string, dir: string): string[] {
  const abs = path.join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).sort().flatMap((name) => {
    const rel = `${dir}/${name}`;
    return statSync(path.join(root, rel)).isDirectory() ? tsFiles(root, rel) : name.endsWith('.ts') ? [rel] : [];
  });
}

function scan(root: string, dirs: readonly string[]): Map<string, Citation[]> {
  const cited = new Map<string, Citation[]>();
  for (const file of dirs.flatMap((dir) => tsFiles(root, dir))) {
    readFileSync(path.join(root, file), 'utf8').split('\n').forEach((text, i) => {
      for (const match of text.matchAll(/@req ([a-z0-9]+(?:\.[a-z0-9-]+)+)/g)) {
        cited.set(match[1]!, [...(cited.get(match[1]!) ?? []), { file, line: i + 1 }]);
      }
    });
  }
  return cited;
}

/** Every `@req <id>` in `src/` (code) and in `test/` and `model/` (tests), with file and line. */
export function scanCitations(root: string): Citations {
  return { code: scan(root, ['src']), tests: scan(root, ['test', 'model']) };
}

/** A source folder that implements a section, or single files of a folder that implements more. */
export interface ModuleLink {
  /** `src/identity/` for a whole folder, `src/wire/bundle.ts` for one file. */
  readonly path: string;
}

/** The links of a protocol section's box. */
export interface SectionLinks {
  readonly modules: readonly ModuleLink[];
  readonly vectors: readonly string[];
  readonly tests: readonly string[];
  readonly api: readonly ApiFunction[];
}

/** The spec anchors a file's opening comment cites (`§anchor`). */
function headerAnchors(root: string, file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8').replace(/^#!.*\n/, '');
  const end = text.indexOf('*/');
  const head = text.startsWith('/**') && end > 0 ? text.slice(0, end) : '';
  return [...head.matchAll(/§([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*)/g)].map((m) => m[1]!);
}

const inSection = (anchor: string, section: string) => anchor === section || anchor.startsWith(`${section}.`);

/** Folders of the protocol code; `src/vectors` and `src/cli` appear as vectors and tooling instead. */
const NOT_IMPLEMENTATION = new Set(['src/vectors', 'src/cli']);

/**
 * Computes the links of every section in `sections` from the repository: source files whose
 * opening comment cites the section (a folder named after the section, or whose files all cite
 * it, is linked as a whole), `vectors/*.json` whose name starts with the section or whose
 * `section` member names it, test files that cite one of its requirement ids or whose name
 * starts with the section, and the API pages that cite the section or one of its subsections.
 */
export function sectionLinks(root: string, sections: readonly string[], requirementIds: readonly string[], citations: Citations): Map<string, SectionLinks> {
  const sources = tsFiles(root, 'src').filter((f) => !NOT_IMPLEMENTATION.has(path.posix.dirname(f)) && !path.posix.dirname(f).startsWith('src/cli/'));
  const headers = new Map(sources.map((f) => [f, headerAnchors(root, f)]));
  const vectorFiles = existsSync(path.join(root, 'vectors')) ? readdirSync(path.join(root, 'vectors')).filter((f) => f.endsWith('.json')).sort() : [];
  const vectorSection = new Map(vectorFiles.map((f) => {
    try {
      return [f, String((JSON.parse(readFileSync(path.join(root, 'vectors', f), 'utf8')) as { section?: unknown }).section ?? '')];
    } catch {
      return [f, ''];
    }
  }));
  const testFiles = tsFiles(root, 'test').filter((f) => f.endsWith('.test.ts'));
  const api = apiFunctions(root);
  const result = new Map<string, SectionLinks>();
  for (const section of sections) {
    const citing = sources.filter((f) => headers.get(f)!.some((a) => inSection(a, section)));
    const folders = [...new Set(citing.map((f) => path.posix.dirname(f)))].sort((a, b) => Number(b === `src/${section}`) - Number(a === `src/${section}`) || a.localeCompare(b));
    const modules = folders.flatMap((folder) => {
      const all = sources.filter((f) => path.posix.dirname(f) === folder);
      const mine = citing.filter((f) => path.posix.dirname(f) === folder);
      return folder === `src/${section}` || (folder !== 'src' && mine.length === all.length) ? [{ path: `${folder}/` }] : mine.map((f) => ({ path: f }));
    });
    const vectors = vectorFiles.filter((f) => f.startsWith(section) || vectorSection.get(f) === section).map((f) => `vectors/${f}`);
    if (existsSync(path.join(root, 'vectors', 'README.md'))) vectors.push('vectors/README.md');
    const ids = requirementIds.filter((id) => id.startsWith(`${section}.`));
    const tests = testFiles.filter((f) => path.posix.basename(f).startsWith(`${section}.`) || ids.some((id) => (citations.tests.get(id) ?? []).some((c) => c.file === f)));
    result.set(section, { modules, vectors, tests, api: api.filter((fn) => fn.anchors.some((a) => inSection(a, section))) });
  }
  return result;
}
