/**
 * Which page of the API documentation documents which part of the XEP: the exported functions
 * of the typedoc entry points (`docs/typedoc.json`) whose doc comment cites `@see spec §anchor`,
 * each with the URL typedoc gives its page (`functions/<module>.<name>.html` under `docs/api/`,
 * the module named after the package entry, as `docs/api-sections.mjs` names it: `xmpp-seal`,
 * `xmpp-seal_device`, …). A function several entries export has its page under the first entry
 * point that exports it, as typedoc documents it there and links the others to it.
 * Found by reading the sources (`export * from`, `export { … } from`, `export function`), so the
 * links exist before typedoc has run; when `docs/api/` has been built, only pages that exist are
 * kept.
 *
 * @see spec §impl.reference
 * @module
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** One exported function that cites the spec. */
export interface ApiFunction {
  /** The exported name. */
  readonly name: string;
  /** The typedoc module it belongs to (`index`, `vectors`, …). */
  readonly module: string;
  /** Its page, relative to the typedoc output folder, e.g. `functions/index.initiateAsync.html`. */
  readonly page: string;
  /** The source file that declares it, relative to the repository root. */
  readonly file: string;
  /** The spec anchors its doc comment cites with `spec §anchor`. */
  readonly anchors: readonly string[];
}

/** The typedoc configuration as far as the links need it. */
interface TypedocConfig {
  readonly entryPoints: readonly string[];
  readonly out: string;
}

/**
 * Reads `docs/typedoc.json`: entry points and output folder, as absolute paths. Without the file
 * (an installed package has no `docs/`) there are no entry points and so no API links.
 */
export function typedocConfig(root: string): TypedocConfig {
  const file = path.join(root, 'docs', 'typedoc.json');
  if (!existsSync(file)) return { entryPoints: [], out: path.join(root, 'docs', 'api') };
  const json = JSON.parse(readFileSync(file, 'utf8')) as { entryPoints?: string[]; out?: string };
  const dir = path.dirname(file);
  return { entryPoints: (json.entryPoints ?? []).map((p) => path.resolve(dir, p)), out: path.resolve(dir, json.out ?? 'docs') };
}

/**
 * The package entry (`xmpp-seal/device`) built from each source file (`src/device/index.ts`,
 * relative to `root`), from `package.json` "exports".
 */
export function packageEntries(root: string): Map<string, string> {
  const file = path.join(root, 'package.json');
  const entries = new Map<string, string>();
  if (!existsSync(file)) return entries;
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name: string; exports?: Record<string, unknown> };
  for (const [key, target] of Object.entries(pkg.exports ?? {})) {
    const js = typeof target === 'object' && target !== null ? (target as { default?: unknown }).default : target;
    const match = typeof js === 'string' ? /^\.\/dist\/(.+)\.js$/.exec(js) : null;
    if (match !== null) entries.set(`src/${match[1]}.ts`, key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`);
  }
  return entries;
}

/**
 * The name typedoc gives each entry point's pages: its package entry with `/` as `_`
 * (`xmpp-seal_net_real`); for a file no entry names, its path below the entry points' common
 * folder, `/index` dropped.
 */
export function moduleNames(entryPoints: readonly string[], root?: string): string[] {
  if (entryPoints.length === 0) return [];
  const entries = root === undefined ? new Map<string, string>() : packageEntries(root);
  const named = entryPoints.map((p) => (root === undefined ? undefined : entries.get(path.relative(root, p).split(path.sep).join('/'))));
  if (named.every((n) => n !== undefined)) return named.map((n) => n!.replaceAll('/', '_'));
  const dirs = entryPoints.map((p) => path.dirname(p).split(path.sep));
  const common: string[] = [];
  for (let i = 0; dirs.every((d) => i < d.length && d[i] === dirs[0]![i]); i++) common.push(dirs[0]![i]!);
  return entryPoints.map((p) => {
    const rel = path.relative(common.join(path.sep) || path.sep, p).split(path.sep).join('/').replace(/\.[cm]?tsx?$/, '');
    return rel === 'index' ? 'index' : rel.replace(/\/index$/, '');
  });
}

/** The spec anchors a doc comment cites (`spec §anchor`). */
export function citedAnchors(comment: string): string[] {
  return [...new Set([...comment.matchAll(/spec §([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*)/g)].map((m) => m[1]!))];
}

function resolveModule(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** The doc comment that ends right before `index` in `text` (only whitespace between), or ''. */
function commentBefore(text: string, index: number): string {
  const before = text.slice(0, index).trimEnd();
  if (!before.endsWith('*/')) return '';
  const start = before.lastIndexOf('/**');
  return start < 0 ? '' : before.slice(start);
}

/** Exported functions of a module (followed through re-exports): name to file and doc comment. */
function exportedFunctions(file: string, seen: Set<string> = new Set()): Map<string, { file: string; comment: string }> {
  const found = new Map<string, { file: string; comment: string }>();
  if (seen.has(file)) return found;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/^export \* from '([^']+)';/gm)) {
    const target = resolveModule(file, match[1]!);
    if (target !== undefined) for (const [name, fn] of exportedFunctions(target, seen)) if (!found.has(name)) found.set(name, fn);
  }
  for (const match of text.matchAll(/^export \{([^}]*)\} from '([^']+)';/gm)) {
    const target = resolveModule(file, match[2]!);
    if (target === undefined) continue;
    const inner = exportedFunctions(target, new Set());
    for (const item of match[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('type '))) {
      const [local, exported] = item.split(/\s+as\s+/);
      const fn = inner.get(local!);
      if (fn !== undefined) found.set(exported ?? local!, fn);
    }
  }
  for (const match of text.matchAll(/^export (?:async )?function\*? ?([A-Za-z_$][\w$]*)/gm)) {
    const comment = commentBefore(text, match.index);
    const previous = found.get(match[1]!);
    // Overloads: every signature's comment counts.
    found.set(match[1]!, { file, comment: `${previous?.file === file ? previous.comment : ''}${comment}` });
  }
  return found;
}

/**
 * Every exported function of the typedoc entry points whose doc comment cites the spec, with its
 * page. Functions marked `@internal` are left out, as typedoc leaves them out. When the typedoc
 * output folder exists, functions without a page there are left out too.
 */
export function apiFunctions(root: string): ApiFunction[] {
  const config = typedocConfig(root);
  const modules = moduleNames(config.entryPoints, root);
  const built = existsSync(path.join(config.out, 'functions'));
  const result: ApiFunction[] = [];
  const documented = new Set<string>();
  config.entryPoints.forEach((entry, i) => {
    const module = modules[i]!;
    if (!existsSync(entry)) return;
    for (const [name, { file, comment }] of exportedFunctions(entry)) {
      // Documented under the first entry point that exports it.
      if (documented.has(`${file}#${name}`)) continue;
      documented.add(`${file}#${name}`);
      const anchors = citedAnchors(comment);
      if (anchors.length === 0 || /@internal\b/.test(comment)) continue;
      const page = config.entryPoints.length > 1 ? `functions/${module}.${name}.html` : `functions/${name}.html`;
      if (built && !existsSync(path.join(config.out, page))) continue;
      result.push({ name, module, page, file: path.relative(root, file).split(path.sep).join('/'), anchors });
    }
  });
  return result.sort((a, b) => a.name.localeCompare(b.name));
}
