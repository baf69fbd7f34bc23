/**
 * Checks on `spec/seal.xml`: validity against the XSF DTD (xmllint), the XEP-0001 rules for a
 * ProtoXEP, the error registry against the code, the examples against the wire schemas, and
 * requirement tracing (every MUST / SHOULD has an id that code and tests cite; a rule a client
 * follows counts only where the device engine's path cites it and a test through the engine does).
 * The informative companion `spec/seal-impl.xml` is checked beside it: no requirement ids and no
 * RFC 2119 keywords in it, anchors unique across both documents, every link between and within
 * them resolving, and its examples checked like the XEP's. Generated examples (./examples.ts)
 * shorten long base64 values; they are checked against the element the code produced, in full.
 *
 * @see spec §conventions
 * @module
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Element as LtxElement, parse as ltxParse } from 'ltx';
import { SEAL_ERROR_REGISTRY } from '../errors.js';
import { SEAL_NS } from '../suite/suite.js';
import { type Element, WIRE_ELEMENTS, childElements, parseXml } from '../wire/index.js';
import { type GeneratedExample, TRUNCATE_KEEP, showsValue } from './examples.js';
import { type LinkAnchors, type SpecDocumentKind, resolveSpecLink, targetId } from './render/links.js';

/** The anchors every revision of the XEP has, in order. */
export const REQUIRED_ANCHORS = [
  'intro', 'reqs', 'conventions', 'glossary', 'suite', 'encoding', 'identity', 'handshake', 'envelope', 'offline',
  'device', 'groups', 'errors', 'rules', 'impl', 'security', 'privacy', 'iana', 'registrar', 'schema',
] as const;

/** The XEP as text and as an element tree (entities replaced by placeholders, no DOCTYPE). */
export interface SpecDocument {
  readonly text: string;
  readonly root: Element;
}

/** Reads the XEP. The DOCTYPE and processing instructions are dropped and entities kept as text. */
export function loadSpec(file: string): SpecDocument {
  const text = readFileSync(file, 'utf8');
  const body = text
    .replace(/<\?xml[^>]*\?>/g, '')
    .replace(/<!DOCTYPE[^[>]*(?:\[[\s\S]*?\])?\s*>/, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/&([A-Za-z][A-Za-z0-9.-]*);/g, (match, name: string) => (['amp', 'lt', 'gt', 'quot', 'apos'].includes(name) ? match : `[entity:${name}]`));
  const root = ltxParse(body) as Element;
  return { text, root };
}

function walk(element: Element, visit: (element: Element, parents: readonly Element[]) => void, parents: Element[] = []): void {
  visit(element, parents);
  for (const child of childElements(element)) walk(child, visit, [...parents, element]);
}

function textOf(element: Element): string {
  return element.children.map((child: unknown) => (child instanceof LtxElement ? textOf(child as Element) : String(child))).join('');
}

/** Problems with the XEP-0001 ProtoXEP rules; empty when all hold. */
export function protoXepProblems(spec: SpecDocument): string[] {
  const problems: string[] = [];
  const header = spec.root.getChild('header');
  if (!spec.text.includes("<?xml-stylesheet type='text/xsl' href='xep.xsl'?>")) problems.push('missing the xep.xsl stylesheet processing instruction');
  if (!/<!DOCTYPE xep SYSTEM 'xep.dtd'/.test(spec.text)) problems.push("missing <!DOCTYPE xep SYSTEM 'xep.dtd'>");
  if (header === undefined) return [...problems, 'missing <header/>'];
  if (header.getChildText('status') !== 'ProtoXEP') problems.push(`status: expected ProtoXEP, got ${header.getChildText('status')}`);
  if (header.getChildText('number') !== 'xxxx') problems.push(`number: expected xxxx, got ${header.getChildText('number')}`);
  if (header.getChildText('shortname') !== 'seal') problems.push('shortname: expected seal');
  if (!textOf(header).includes('[entity:LEGALNOTICE]')) problems.push('header: missing &LEGALNOTICE;');
  const revisions = header.getChildren('revision');
  if (revisions.length === 0) problems.push('no <revision/>');
  const key = (r: Element) => (r.getChildText('version') ?? '').split('.').map((n) => Number(n));
  for (let i = 1; i < revisions.length; i++) {
    const [a, b] = [key(revisions[i - 1]!), key(revisions[i]!)];
    const newer = a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
    const dateOrder = (revisions[i - 1]!.getChildText('date') ?? '') >= (revisions[i]!.getChildText('date') ?? '');
    if (newer <= 0 || !dateOrder) problems.push(`revisions: ${revisions[i - 1]!.getChildText('version')} must be newer than ${revisions[i]!.getChildText('version')} (newest first)`);
  }
  const anchors = spec.root.getChildren('section1').map((s) => s.attrs.anchor as string);
  let last = -1;
  for (const anchor of REQUIRED_ANCHORS) {
    const at = anchors.indexOf(anchor);
    if (at < 0) problems.push(`section1 anchor '${anchor}' is missing`);
    else if (at < last) problems.push(`section1 anchor '${anchor}' is out of order`);
    else last = at;
  }
  return problems;
}

/** Runs xmllint against the XSF DTD. Returns the problems (empty when valid). */
export function dtdProblems(specFile: string, xsfDir: string): string[] {
  try {
    execFileSync('xmllint', ['--nonet', '--noout', '--noent', '--loaddtd', '--valid', '--path', xsfDir, specFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    return [];
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    return [(err.stderr?.toString() || err.message).trim()];
  }
}

/** A requirement of the XEP: its id, the section it belongs to and its text. */
export interface Requirement {
  readonly id: string;
  readonly section: string;
  readonly text: string;
}

const KEYWORDS = /\b(MUST|SHOULD|SHALL|REQUIRED|RECOMMENDED)\b/;
const REQ_ID = /^\[([a-z0-9]+(?:\.[a-z0-9-]+)+)\]$/;

/** Every requirement, and the problems with how they are marked. */
export function requirements(spec: SpecDocument): { requirements: Requirement[]; problems: string[] } {
  const found: Requirement[] = [];
  const problems: string[] = [];
  walk(spec.root, (element, parents) => {
    if (element.name === 'span' && element.attrs.class === 'req') {
      const match = REQ_ID.exec(textOf(element).trim());
      const holder = parents[parents.length - 1];
      const section = parents.find((p) => p.name === 'section1')?.attrs.anchor as string | undefined;
      if (!match) problems.push(`requirement id '${textOf(element)}' is not of the form [section.name]`);
      else if (holder === undefined || !['p', 'li', 'td'].includes(holder.name)) problems.push(`${match[1]}: must be inside a <p>, <li> or <td>`);
      else if (!match[1]!.startsWith(`${section}.`)) problems.push(`${match[1]}: id must start with its section anchor '${section}.'`);
      else found.push({ id: match[1]!, section: section!, text: textOf(holder).replace(/\s+/g, ' ').trim() });
    }
    if (['p', 'li', 'td'].includes(element.name) && element.attrs.class !== 'rfc2119') {
      const own = element.children.map((c: unknown) => (c instanceof LtxElement && ['p', 'li', 'ul', 'ol', 'code', 'example'].includes((c as Element).name) ? '' : c instanceof LtxElement ? textOf(c as Element) : String(c))).join('');
      if (KEYWORDS.test(own) && !element.getChildren('span').some((s) => s.attrs.class === 'req')) {
        problems.push(`normative keyword without a requirement id: "${own.replace(/\s+/g, ' ').trim().slice(0, 90)}..."`);
      }
    }
  });
  const seen = new Set<string>();
  for (const r of found) {
    if (seen.has(r.id)) problems.push(`${r.id}: defined twice`);
    seen.add(r.id);
  }
  return { requirements: found, problems };
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) out.push(...sourceFiles(file));
    else if (name.endsWith('.ts')) out.push(file);
  }
  return out;
}

/**
 * The files `tsconfig.json` excludes from the type check (code not compiled, or tests not run,
 * for now): their citations count for nothing.
 */
function excludedFiles(): Set<string> {
  try {
    const config = JSON.parse(readFileSync('tsconfig.json', 'utf8')) as { exclude?: string[] };
    return new Set((config.exclude ?? []).map((f) => path.resolve(f)));
  } catch {
    return new Set();
  }
}

/** Every `@req <id>` cited in the `.ts` files under `dirs`, with the files citing it. */
export function citations(dirs: readonly string[]): Map<string, string[]> {
  const cited = new Map<string, string[]>();
  const excluded = excludedFiles();
  for (const dir of dirs) {
    for (const file of sourceFiles(dir)) {
      if (excluded.has(path.resolve(file))) continue;
      for (const match of readFileSync(file, 'utf8').matchAll(/@req ([a-z0-9]+(?:\.[a-z0-9-]+)+)/g)) {
        cited.set(match[1]!, [...(cited.get(match[1]!) ?? []), file]);
      }
    }
  }
  return cited;
}

/**
 * The relative imports of a `.ts` file, resolved to `.ts` paths. Type-only imports (`import type`,
 * `export type`) are left out: they bring no code onto a path. Imports of a folder resolve to its
 * `index.ts`.
 */
export function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
    if (match[1] !== undefined) continue;
    const spec = (match[2] ?? match[3])!;
    if (!spec.startsWith('.')) continue;
    const target = path.resolve(path.dirname(file), spec);
    const candidates = [target.replace(/\.js$/, '.ts'), `${target}.ts`, path.join(target, 'index.ts')];
    const found = candidates.find((c) => c.endsWith('.ts') && isFile(c));
    if (found !== undefined) out.push(found);
  }
  return out;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Every file reachable from `roots` by relative (non-type-only) imports, the roots included. */
export function importClosure(roots: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const stack = roots.filter(isFile);
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    stack.push(...relativeImports(file));
  }
  return seen;
}

/**
 * The requirement ids that are rules a client follows: they count as covered only through the
 * device engine (issue 13: a helper that implements a MUST is not enough if the client path never
 * calls it). The prefixes are matched against the whole id, so `identity.device-list` covers
 * `identity.device-list-keys` and `identity.device-list-rollback`.
 */
export const CLIENT_RULE_PREFIXES = ['device.', 'offline.', 'groups.', 'discovery.', 'identity.trust', 'identity.key-change', 'identity.device-list', 'identity.pep', 'files.send', 'files.receive', 'files.aesgcm-send'] as const;

/** Whether `id` is a client rule ({@link CLIENT_RULE_PREFIXES}). */
export function isClientRule(id: string): boolean {
  return CLIENT_RULE_PREFIXES.some((prefix) => id.startsWith(prefix));
}

/**
 * The engine's path: the files of `src/device/`, the IO shell `src/net/client.ts`, and every file
 * they import (relative, non-type-only imports). A citation of a client rule counts only here.
 */
export function enginePath(root: string): Set<string> {
  const device = path.join(root, 'src', 'device');
  const roots = [path.join(root, 'src', 'device', 'engine.ts'), path.join(root, 'src', 'net', 'client.ts')];
  const onPath = importClosure(roots);
  try {
    for (const file of sourceFiles(device)) onPath.add(file);
  } catch {
    // no src/device: nothing more on the path
  }
  return onPath;
}

/**
 * Whether a test file goes through the engine: it, or a helper it imports from `test/` or
 * `model/` (not from `src/`, whose `index.ts` re-exports everything), imports `src/device/…`,
 * `src/net/client.ts` or `src/net/index.ts` directly.
 */
export function testsThroughEngine(root: string, testFile: string): boolean {
  const src = path.join(root, 'src');
  const entry = (f: string) => f.startsWith(path.join(src, 'device') + path.sep) || f === path.join(src, 'net', 'client.ts') || f === path.join(src, 'net', 'index.ts');
  const seen = new Set<string>();
  const stack = [testFile];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const target of relativeImports(file)) {
      if (entry(target)) return true;
      if (!target.startsWith(src + path.sep)) stack.push(target);
    }
  }
  return false;
}

/** One `@req <id>` citation: the file and its 1-based line. */
export interface CitationSite {
  readonly file: string;
  readonly line: number;
}

/** Every `@req <id>` cited in the `.ts` files under `dirs`, with file and line. */
export function citationSites(dirs: readonly string[]): Map<string, CitationSite[]> {
  const excluded = excludedFiles();
  const cited = new Map<string, CitationSite[]>();
  for (const dir of dirs) {
    for (const file of sourceFiles(dir)) {
      if (excluded.has(path.resolve(file))) continue;
      readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
        for (const match of text.matchAll(/@req ([a-z0-9]+(?:\.[a-z0-9-]+)+)/g)) cited.set(match[1]!, [...(cited.get(match[1]!) ?? []), { file, line: i + 1 }]);
      });
    }
  }
  return cited;
}

const indentOf = (line: string) => line.length - line.trimStart().length;

/**
 * The lines `[start, end]` (0-based, inclusive) of the block that opens at `start`: up to the
 * first later non-empty line indented no deeper than the opening line (included when it closes
 * the block with `}` or `)`).
 */
function blockAt(lines: readonly string[], start: number): [number, number] {
  const indent = indentOf(lines[start]!);
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || indentOf(line) > indent) continue;
    return [start, /^\s*[})\]]/.test(line) ? i : i - 1];
  }
  return [start, lines.length - 1];
}

/**
 * The names a test file imports from the engine: everything (not type-only) it imports from
 * `src/device/` or `src/net/client.ts`, what `src/net/client.ts` exports when imported through
 * `src/net/index.ts`, and everything it imports from a helper in `test/` or `model/` that goes
 * through the engine ({@link testsThroughEngine}).
 */
function engineNames(root: string, file: string): Set<string> {
  const src = path.join(root, 'src');
  const client = path.join(src, 'net', 'client.ts');
  const clientExports = new Set([...readFileSync(client, 'utf8').matchAll(/export\s+(?:declare\s+)?(?:abstract\s+)?(?:class|function|const|let|interface|type|enum)\s+([A-Za-z0-9_$]+)/g)].map((m) => m[1]!));
  const names = new Set<string>();
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/(?:^|\n)\s*import\s+(type\s+)?([^;]*?)\s+from\s+'([^']+)'/g)) {
    if (match[1] !== undefined || !match[3]!.startsWith('.')) continue;
    const [target] = relativeImports(file).filter((t) => t === path.resolve(path.dirname(file), match[3]!).replace(/\.js$/, '.ts') || t === path.join(path.resolve(path.dirname(file), match[3]!), 'index.ts'));
    if (target === undefined) continue;
    const braces = /\{([^}]*)\}/.exec(match[2]!)?.[1] ?? '';
    const imported = braces.split(',').map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('type ')).map((s) => {
      const [name, alias] = s.split(/\s+as\s+/);
      return { name: name!.trim(), local: (alias ?? name)!.trim() };
    });
    const defaultOrNamespace = /^\s*(?:\*\s+as\s+)?([A-Za-z0-9_$]+)/.exec(match[2]!.replace(/\{[^}]*\}/, ''))?.[1];
    const inDevice = target.startsWith(path.join(src, 'device') + path.sep);
    const viaNetIndex = target === path.join(src, 'net', 'index.ts');
    const helper = !target.startsWith(src + path.sep) && testsThroughEngine(root, target);
    for (const { name, local } of imported) if (inDevice || target === client || helper || (viaNetIndex && clientExports.has(name))) names.add(local);
    if (defaultOrNamespace !== undefined && (inDevice || target === client || helper || viaNetIndex)) names.add(defaultOrNamespace);
  }
  return names;
}

/**
 * Whether the test that holds a citation goes through the engine. In a `*.test.ts` file the
 * citation must be inside an `it(…)`/`test(…)` block whose text uses a name the file imports from
 * the engine ({@link engineNames}), or a function or constant of the file that (transitively)
 * does; a citation outside every test block (a file or describe comment) counts for nothing. A
 * citation in another file of `test/` or `model/` (a helper, a model) counts when that file goes
 * through the engine ({@link testsThroughEngine}). So a file that holds one engine test does not
 * lend it to its unit tests of helpers.
 */
export function citingTestGoesThroughEngine(root: string, site: CitationSite): boolean {
  if (!site.file.endsWith('.test.ts')) return testsThroughEngine(root, site.file);
  const lines = readFileSync(site.file, 'utf8').split('\n');
  const at = site.line - 1;
  let block: [number, number] | undefined;
  for (let i = at; i >= 0 && block === undefined; i--) {
    if (!/^\s*(?:it|test)[.(]/.test(lines[i]!)) continue;
    const [start, end] = blockAt(lines, i);
    if (end >= at) block = [start, end];
    else break;
  }
  if (block === undefined) return false;
  const engine = engineNames(root, site.file);
  if (engine.size === 0) return false;
  // The helpers of the file: functions and constants declared outside every test block (a test's
  // own variables are part of its text already), with the text of each.
  const tests: [number, number][] = [];
  lines.forEach((line, i) => {
    if (/^\s*(?:it|test)[.(]/.test(line) && !tests.some(([a, b]) => i >= a && i <= b)) tests.push(blockAt(lines, i));
  });
  const declarations = new Map<string, string>();
  lines.forEach((line, i) => {
    if (tests.some(([a, b]) => i >= a && i <= b)) return;
    const m = /^\s*(?:export\s+)?(?:async\s+)?(?:function\s*\*?\s*([A-Za-z0-9_$]+)|(?:const|let|var|class)\s+([A-Za-z0-9_$]+))/.exec(line);
    const name = m?.[1] ?? m?.[2];
    if (name === undefined) return;
    const [start, end] = blockAt(lines, i);
    declarations.set(name, (declarations.get(name) ?? '') + lines.slice(start, end + 1).join('\n'));
  });
  // Names in code only: string literals and comments are left out.
  const code = (text: string) => text.replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, "''").replace(/\/\/[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
  const uses = (text: string, names: ReadonlySet<string>) => [...code(text).matchAll(/[A-Za-z0-9_$]+/g)].some((w) => names.has(w[0]));
  const using = new Set(engine);
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, text] of declarations) if (!using.has(name) && uses(text, using)) {
      using.add(name);
      changed = true;
    }
  }
  return uses(lines.slice(block[0], block[1] + 1).join('\n'), using);
}

/** Requirement coverage: per section, how many ids are cited by code and by tests. */
export interface TracingReport {
  readonly rows: readonly { section: string; total: number; code: number; tests: number }[];
  readonly problems: readonly string[];
}

/**
 * Cross-checks requirement ids in the XEP against citations in `src/` and `test/` (and `model/`).
 *
 * A code citation counts only in the implementation: never in `src/vectors/` (which generates
 * vectors) or `src/cli/` (tooling). For a client rule ({@link isClientRule}) it counts only on the
 * engine's path ({@link enginePath}), and a test citation only in a test that goes through the
 * engine ({@link testsThroughEngine}): a rule the client path never applies is not covered
 * because a helper implementing it is cited and unit-tested.
 */
export function traceRequirements(spec: SpecDocument, root: string): TracingReport {
  const { requirements: reqs, problems } = requirements(spec);
  const code = citations([path.join(root, 'src')]);
  const tests = citations([path.join(root, 'test'), path.join(root, 'model')].filter((d) => { try { return statSync(d).isDirectory(); } catch { return false; } }));
  const ids = new Set(reqs.map((r) => r.id));
  const out = [...problems];
  const tooling = [path.join(root, 'src', 'vectors') + path.sep, path.join(root, 'src', 'cli') + path.sep];
  const onPath = enginePath(root);
  const testSites = citationSites([path.join(root, 'test'), path.join(root, 'model')].filter((d) => { try { return statSync(d).isDirectory(); } catch { return false; } }));
  const rel = (files: readonly string[]) => [...new Set(files)].map((f) => path.relative(root, f)).join(', ');
  const codeCovered = new Set<string>();
  const testCovered = new Set<string>();
  for (const r of reqs) {
    const client = isClientRule(r.id);
    const inCode = code.get(r.id) ?? [];
    const inTests = tests.get(r.id) ?? [];
    const implementation = inCode.filter((f) => !tooling.some((t) => f.startsWith(t)));
    const countingCode = client ? implementation.filter((f) => onPath.has(f)) : implementation;
    const countingTests = client ? (testSites.get(r.id) ?? []).filter((site) => citingTestGoesThroughEngine(root, site)) : inTests;
    if (inCode.length === 0) out.push(`${r.id}: no code cites it (@req ${r.id} in src/)`);
    else if (countingCode.length === 0 && implementation.length === 0) out.push(`${r.id}: only tooling cites it (${rel(inCode)}), no implementation`);
    else if (countingCode.length === 0) out.push(`${r.id}: no code on the engine's path cites it (cited only in ${rel(inCode)}; the path is src/device/, src/net/client.ts and what they import)`);
    else codeCovered.add(r.id);
    if (inTests.length === 0) out.push(`${r.id}: no test cites it (@req ${r.id} in test/)`);
    else if (countingTests.length === 0) out.push(`${r.id}: no test through the engine cites it (cited in ${rel(inTests)}, but not in a test that uses src/device/ or src/net/client.ts)`);
    else testCovered.add(r.id);
  }
  for (const [id, files] of [...code, ...tests]) if (!ids.has(id)) out.push(`${id}: cited in ${path.relative(root, files[0]!)} but not defined in the XEP`);
  const sections = [...new Set(reqs.map((r) => r.section))];
  const rows = sections.map((section) => {
    const inSection = reqs.filter((r) => r.section === section);
    return { section, total: inSection.length, code: inSection.filter((r) => codeCovered.has(r.id)).length, tests: inSection.filter((r) => testCovered.has(r.id)).length };
  });
  return { rows, problems: out };
}

/** The rows of the error registry table in §errors: code, section. */
export function registryProblems(spec: SpecDocument): string[] {
  const errors = spec.root.getChildren('section1').find((s) => s.attrs.anchor === 'errors');
  const rows: { code: string; section: string }[] = [];
  if (errors) {
    walk(errors, (element) => {
      if (element.name === 'tr') {
        const cells = element.getChildren('td').map((td) => textOf(td).trim());
        if (cells.length >= 2) rows.push({ code: cells[0]!, section: cells[1]!.replace(/^§/, '') });
      }
    });
  }
  const problems: string[] = [];
  const codeRows = Object.entries(SEAL_ERROR_REGISTRY).map(([code, { section }]) => ({ code, section }));
  const show = (r: { code: string; section: string }) => `${r.code} (§${r.section})`;
  const inSpec = rows.map(show);
  const inCode = codeRows.map(show);
  for (const r of inCode) if (!inSpec.includes(r)) problems.push(`error registry: ${r} is in the code but not in the spec table`);
  for (const r of inSpec) if (!inCode.includes(r)) problems.push(`error registry: ${r} is in the spec table but not in the code`);
  if (problems.length === 0 && inSpec.join() !== inCode.join()) problems.push('error registry: the spec table and the code list the codes in different orders');
  return problems;
}

/**
 * Calls `visit` for every outermost element in one of `namespaces` in every example that mentions
 * Seal's namespace (an element whose ancestors are all in other namespaces). Examples that do
 * not parse are reported as problems.
 */
function forEachExampleElement(spec: SpecDocument, namespaces: ReadonlySet<string>, visit: (caption: string, element: Element) => void, generated?: ReadonlyMap<string, GeneratedExample>): string[] {
  const problems: string[] = [];
  walk(spec.root, (example) => {
    if (example.name !== 'example') return;
    const text = textOf(example).trim();
    if (!text.includes(SEAL_NS)) return;
    const caption = String(example.attrs.caption);
    let root: Element;
    try {
      root = parseXml(text);
    } catch (e) {
      problems.push(`example "${caption}": ${(e as Error).message}`);
      return;
    }
    // A generated example is checked as the code produced it, every byte present; what it shows
    // must be that element, except that a long base64 value may be shortened.
    const full = generated?.get(caption)?.element;
    if (full !== undefined) {
      const difference = shownDifference(root, full);
      if (difference !== undefined) {
        problems.push(`example "${caption}": differs from the element the code generates (${difference}; run: npm run spec:generate)`);
        return;
      }
      root = full;
    }
    walk(root, (element, parents) => {
      const ns = element.getNS() as string | undefined;
      if (ns !== undefined && namespaces.has(ns) && !parents.some((p) => p.getNS() === ns)) visit(caption, element);
    });
  });
  return problems;
}

/**
 * Where the element an example shows (`shown`) differs from the element the code generated
 * (`full`), or `undefined` when it shows exactly that element, with base64 values longer than 64
 * characters either in full or truncated (`…`). Names, namespaces, attributes, children and every
 * other value must be identical.
 */
export function shownDifference(shown: Element, full: Element, where = ''): string | undefined {
  const here = `${where}/${full.getName()}`;
  if (shown.getName() !== full.getName() || shown.getNS() !== full.getNS()) return `${where}/${shown.getName()}: expected <${full.getName()} xmlns='${full.getNS()}'>`;
  const attrs = (e: Element) => Object.entries(e.attrs as Record<string, unknown>).filter(([name, v]) => name !== 'xmlns' && !name.startsWith('xmlns:') && v !== undefined && v !== null).map(([name, v]) => [name, String(v)] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const [a, b] = [attrs(shown), attrs(full)];
  if (a.map(([n]) => n).join() !== b.map(([n]) => n).join()) return `${here}: attributes ${a.map(([n]) => n).join(', ')} instead of ${b.map(([n]) => n).join(', ')}`;
  for (let i = 0; i < a.length; i++) if (!showsValue(a[i]![1], b[i]![1])) return `${here}@${b[i]![0]}: '${a[i]![1]}' instead of '${b[i]![1]}'`;
  const kids = (e: Element) => {
    const all = e.children as readonly (Element | string)[];
    return all.some((c) => typeof c !== 'string') ? all.filter((c) => typeof c !== 'string' || c.trim() !== '') : [all.map((c) => String(c)).join('')].filter((t) => t !== '');
  };
  const [x, y] = [kids(shown), kids(full)];
  if (x.length !== y.length) return `${here}: ${x.length} children instead of ${y.length}`;
  for (let i = 0; i < x.length; i++) {
    const [s, f] = [x[i]!, y[i]!];
    if (typeof s === 'string' || typeof f === 'string') {
      if (typeof s !== 'string' || typeof f !== 'string') return `${here}: text and element mixed up`;
      if (!showsValue(s, f)) return `${here}: text '${s.slice(0, 50)}' instead of '${f.slice(0, 50)}'`;
      continue;
    }
    const difference = shownDifference(s, f, here);
    if (difference !== undefined) return difference;
  }
  return undefined;
}

/**
 * The examples in a spec document that contain a Seal-defined element, each parsed by its wire
 * schema. A generated example (its caption in `generated`) is parsed as the code produced it,
 * every byte present, after checking that the example shows that element (long base64 values
 * may be truncated, nothing else may differ); a hand-written example is parsed as it is written.
 */
export function exampleProblems(spec: SpecDocument, generated?: ReadonlyMap<string, GeneratedExample>): { checked: number; problems: string[] } {
  let checked = 0;
  const problems: string[] = [];
  const namespaces = new Set([SEAL_NS, ...WIRE_ELEMENTS.map((w) => w.ns)]);
  problems.push(...forEachExampleElement(spec, namespaces, (caption, element) => {
    const definition = WIRE_ELEMENTS.find((w) => w.name === element.getName() && w.ns === element.getNS());
    if (definition === undefined) {
      problems.push(`example "${caption}": <${element.getName()} xmlns='${element.getNS()}'> has no wire definition`);
      return;
    }
    try {
      definition.fromXml(element);
      checked++;
    } catch (e) {
      problems.push(`example "${caption}": ${(e as Error).message}`);
    }
  }, generated));
  return { checked, problems };
}

const EXAMPLE = /<example caption='([^']*)'><!\[CDATA\[\n([\s\S]*?)\n?\]\]><\/example>/g;

/** The spec text with every generated example filled in (by caption). */
export function withGeneratedExamples(text: string, generated: ReadonlyMap<string, string>): string {
  return text.replace(EXAMPLE, (whole, caption: string) => {
    const body = generated.get(caption);
    return body === undefined ? whole : `<example caption='${caption}'><![CDATA[\n${body}\n]]></example>`;
  });
}

/**
 * Generated examples whose text in the spec differs from what the code produces, or that are
 * missing. `text` is one document, or the XEP and its companion: each generated example must be in
 * one of them, and every copy of it equal to the generated text.
 */
export function exampleDrift(text: string | readonly string[], generated: ReadonlyMap<string, string>): string[] {
  const present = new Map<string, string[]>();
  for (const doc of typeof text === 'string' ? [text] : text) for (const m of doc.matchAll(EXAMPLE)) present.set(m[1]!, [...(present.get(m[1]!) ?? []), m[2]!]);
  const problems: string[] = [];
  for (const [caption, body] of generated) {
    const copies = present.get(caption) ?? [];
    if (copies.length === 0) problems.push(`example "${caption}": missing from the spec`);
    else if (copies.some((copy) => copy !== body)) problems.push(`example "${caption}": differs from what the code generates (run: npm run spec:generate)`);
  }
  return problems;
}

/** Values in a hand-written example (not in `generated`) that look truncated: only generated examples may truncate. */
export function truncationProblems(spec: SpecDocument, generated: ReadonlyMap<string, unknown>): string[] {
  const problems: string[] = [];
  walk(spec.root, (example) => {
    if (example.name !== 'example' || generated.has(String(example.attrs.caption))) return;
    if (new RegExp(`[A-Za-z0-9+/]{${TRUNCATE_KEEP}}\u2026`).test(textOf(example))) problems.push(`example "${example.attrs.caption}": a hand-written example shows a truncated value (…); only generated examples are shortened`);
  });
  return problems;
}

/** The named constants of each section, as the code defines them. */
export type ConstantRegistry = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** Rows of each `<anchor>.constants` table whose name or value differs from the code. */
export function constantsProblems(spec: SpecDocument, registry: ConstantRegistry): string[] {
  const problems: string[] = [];
  for (const [section, constants] of Object.entries(registry)) {
    let table: Element | undefined;
    walk(spec.root, (element) => {
      if (element.attrs.anchor === `${section}.constants`) table = element.getChild('table');
    });
    if (table === undefined) {
      problems.push(`§${section}.constants: no constants table`);
      continue;
    }
    const rows = new Map(table.getChildren('tr').map((tr) => tr.getChildren('td').map((td) => textOf(td).trim())).filter((cells) => cells.length >= 2).map((cells) => [cells[0]!, cells[1]!]));
    for (const [name, value] of Object.entries(constants)) {
      const cell = rows.get(name);
      if (cell === undefined) problems.push(`§${section}.constants: ${name} is in the code but not in the spec`);
      else if (Number(/^\d+/.exec(cell)?.[0]) !== value) problems.push(`§${section}.constants: ${name} is ${value} in the code but "${cell}" in the spec`);
    }
    for (const name of rows.keys()) if (!(name in constants)) problems.push(`§${section}.constants: ${name} is in the spec but not in the code`);
  }
  return problems;
}

/** Labels in each `<anchor>.labels` table that differ from the code's label set. */
export function labelProblems(spec: SpecDocument, registry: Readonly<Record<string, readonly string[]>>): string[] {
  const problems: string[] = [];
  for (const [section, labels] of Object.entries(registry)) {
    let table: Element | undefined;
    walk(spec.root, (element) => {
      if (element.attrs.anchor === `${section}.labels`) table = element.getChild('table');
    });
    const inSpec = table === undefined ? [] : table.getChildren('tr').map((tr) => tr.getChildren('td')[0]).filter((td): td is Element => td !== undefined).map((td) => textOf(td).trim());
    const expected = [...labels].sort();
    if (JSON.stringify([...inSpec].sort()) !== JSON.stringify(expected)) problems.push(`§${section}.labels: spec lists ${JSON.stringify(inSpec)}, code has ${JSON.stringify(expected)}`);
  }
  return problems;
}

/** The XML Schema in §schema, as text. */
export function schemaText(spec: SpecDocument): string | undefined {
  const section = spec.root.getChildren('section1').find((s) => s.attrs.anchor === 'schema');
  const code = section?.getChild('code');
  return code === undefined ? undefined : textOf(code).trim();
}

/**
 * Validates every top-level Seal element in the examples against the schema of §schema with
 * `xmllint --schema`. Returns how many were checked and the problems.
 */
export function schemaValidationProblems(spec: SpecDocument, workDir: string, options: { schemaFrom?: SpecDocument; generated?: ReadonlyMap<string, GeneratedExample> } = {}): { checked: number; problems: string[] } {
  const xsd = schemaText(options.schemaFrom ?? spec);
  if (xsd === undefined) return { checked: 0, problems: ['§schema: no schema'] };
  const xsdFile = path.join(workDir, 'seal.xsd');
  writeFileSync(xsdFile, xsd);
  let checked = 0;
  const problems: string[] = [];
  problems.push(...forEachExampleElement(spec, new Set([SEAL_NS]), (caption, element) => {
    const file = path.join(workDir, `element-${checked}.xml`);
    writeFileSync(file, element.toString());
    checked++;
    try {
      execFileSync('xmllint', ['--nonet', '--noout', '--schema', xsdFile, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      problems.push(`example "${caption}": <${element.getName()}/> does not match the schema: ${(err.stderr?.toString() || err.message).trim()}`);
    }
  }, options.generated));
  return { checked, problems };
}

/** The rows of the error registry table, generated from the code's registry. */
export function errorTableRows(): string {
  const escape = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return Object.entries(SEAL_ERROR_REGISTRY).map(([code, { section, meaning }]) => `      <tr><td>${code}</td><td>§${section}</td><td>${escape(meaning)}</td></tr>\n`).join('');
}

/** The spec text with the error registry table's rows generated from the code. */
export function withGeneratedErrorTable(text: string): string {
  const header = "<tr><th>Code</th><th>Section</th><th>Meaning</th></tr>\n";
  const start = text.indexOf(header);
  const end = text.indexOf('  </table>', start);
  if (start < 0 || end < 0) return text;
  return text.slice(0, start + header.length) + errorTableRows() + text.slice(end);
}

const SECTION_TITLES: Readonly<Record<string, string>> = {
  suite: 'Cryptographic Suite',
  encoding: 'Encoding',
  identity: 'Identity and Key Publication',
  handshake: 'Session Establishment',
  envelope: 'Message Encryption',
  offline: 'Offline Delivery and Session Repair',
  device: 'The Device Engine',
  groups: 'Group Chat',
};
const INDEX_HEADER = '<tr><th>Section</th><th>Rules</th><th>Requirement ids</th></tr>\n';

/** The rows of the requirement index in §rules, generated from the requirement ids in the text. */
export function requirementIndexRows(text: string): string {
  const bySection = new Map<string, string[]>();
  for (const match of text.matchAll(/<span class='req'>\[([a-z0-9]+)\.([a-z0-9.-]+)\]<\/span>/g)) {
    bySection.set(match[1]!, [...(bySection.get(match[1]!) ?? []), `${match[1]}.${match[2]}`]);
  }
  return [...bySection].map(([section, ids]) => `      <tr><td><link url='#${section}'>${SECTION_TITLES[section] ?? section}</link></td><td>${ids.length}</td><td>${ids.map((id) => `<tt>${id}</tt>`).join(', ')}</td></tr>\n`).join('');
}

/** The spec text with the requirement index of §rules regenerated. */
export function withGeneratedRequirementIndex(text: string): string {
  const start = text.indexOf(INDEX_HEADER);
  const end = text.indexOf('  </table>', start);
  if (start < 0 || end < 0) return text;
  return text.slice(0, start + INDEX_HEADER.length) + requirementIndexRows(text) + text.slice(end);
}

/** Problems when the requirement index does not list exactly the requirements of the text. */
export function requirementIndexProblems(text: string): string[] {
  return withGeneratedRequirementIndex(text) === text ? [] : ['§rules: the requirement index differs from the requirement ids in the text (run: npm run spec:generate)'];
}

/** RFC 2119 keywords in capitals: none may appear in the companion's prose. */
const RFC2119 = /\b(MUST(?: NOT)?|SHALL(?: NOT)?|SHOULD(?: NOT)?|REQUIRED|RECOMMENDED|NOT RECOMMENDED|MAY|OPTIONAL)\b/;

/**
 * Problems with the companion document (`spec/seal-impl.xml`): its root is
 * `<companion title='…' for='seal.xml'>`, and, being informative, it has no requirement spans and
 * no RFC 2119 keyword in capitals outside code and examples (requirement tracing covers the XEP
 * only).
 */
export function companionProblems(companion: SpecDocument): string[] {
  const problems: string[] = [];
  const root = companion.root;
  if (root.name !== 'companion') problems.push(`companion: the root element is <${root.name}>, not <companion>`);
  if (typeof root.attrs.title !== 'string' || root.attrs.title.trim() === '') problems.push("companion: the root has no title='…'");
  if (root.attrs.for !== 'seal.xml') problems.push("companion: the root must say for='seal.xml'");
  const section = (parents: readonly Element[]) => [...parents].reverse().find((p) => typeof p.attrs.anchor === 'string')?.attrs.anchor as string | undefined;
  walk(root, (element, parents) => {
    if (element.name === 'span' && element.attrs.class === 'req') problems.push(`companion §${section(parents) ?? '?'}: a requirement id ${textOf(element).trim()} in the informative document (requirements belong in the XEP)`);
    if (['code', 'example'].includes(element.name) || parents.some((p) => ['code', 'example'].includes(p.name))) return;
    const own = element.children.filter((c: unknown) => !(c instanceof LtxElement)).map(String).join(' ');
    const keyword = RFC2119.exec(own);
    if (keyword) problems.push(`companion §${section([...parents, element]) ?? '?'}: the RFC 2119 keyword ${keyword[1]} in the informative document: "${own.replace(/\s+/g, ' ').trim().slice(0, 90)}"`);
  });
  return problems;
}

/** The ids the renderer gives its own parts of a page; no section may take one. */
const RESERVED_IDS = /^(header|revision-history|footnotes|nt-\d+(?:-ref)?|diagram-[a-z-]+)$/;

/** A spec document with its kind, for the checks across both documents. */
export interface KindedDocument {
  readonly kind: SpecDocumentKind;
  readonly spec: SpecDocument;
}

function sectionAnchorsOf(spec: SpecDocument): string[] {
  const anchors: string[] = [];
  walk(spec.root, (e) => {
    if (/^section[1-4]$/.test(e.name) && typeof e.attrs.anchor === 'string') anchors.push(e.attrs.anchor);
  });
  return anchors;
}

/** Section anchors used twice, within a document or across the XEP and its companion, or taking an id the renderer reserves. */
export function anchorProblems(docs: readonly KindedDocument[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, SpecDocumentKind>();
  for (const { kind, spec } of docs) {
    for (const anchor of sectionAnchorsOf(spec)) {
      const first = seen.get(anchor);
      if (first !== undefined) problems.push(`anchor '${anchor}': used twice (${first === kind ? `in the ${kind}` : `in the ${first} and the ${kind}`}); anchors are unique across both documents`);
      else seen.set(anchor, kind);
      if (RESERVED_IDS.test(anchor)) problems.push(`anchor '${anchor}' (${kind}): the rendered page uses this id for its own ${anchor.startsWith('nt-') || anchor === 'footnotes' ? 'footnotes' : 'parts'}; choose another`);
    }
  }
  return problems;
}

/** The anchors a document offers to links (as the renderer computes them: sections and requirement ids). */
function linkAnchorsOf(spec: SpecDocument): LinkAnchors {
  const sectionAnchors = sectionAnchorsOf(spec);
  const requirementAnchors = new Map<string, string>();
  walk(spec.root, (e) => {
    const id = e.name === 'span' && e.attrs.class === 'req' ? REQ_ID.exec(textOf(e).trim())?.[1] : undefined;
    if (id !== undefined) requirementAnchors.set(id, sectionAnchors.includes(id) ? `req-${id}` : id);
  });
  return { sectionAnchors, requirementAnchors };
}

/**
 * Links (`<link url='…'/>`) within and between the XEP and its companion whose target exists in
 * neither: `#anchor` names the link's own document, `seal.html#anchor` (or `index.html`) the XEP
 * and `seal-impl.html#anchor` the companion (see render/links.ts).
 */
export function linkProblems(docs: readonly KindedDocument[]): string[] {
  const anchors = new Map(docs.map((d) => [d.kind, linkAnchorsOf(d.spec)]));
  const problems: string[] = [];
  for (const { kind, spec } of docs) {
    walk(spec.root, (e) => {
      if (e.name !== 'link') return;
      const url = String(e.attrs.url ?? '');
      const target = resolveSpecLink(url, kind);
      if (target === undefined) return;
      const there = anchors.get(target.doc);
      if (there === undefined) problems.push(`${kind}: link to ${url}: the ${target.doc} is not part of this check`);
      else if (targetId(target, there) === undefined) problems.push(`${kind}: link to ${url}: no section or requirement of the ${target.doc} has the anchor '${target.anchor}'`);
    });
  }
  return problems;
}
