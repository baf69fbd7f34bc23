/**
 * A typedoc plugin: one API page per package entry, named as it is imported
 * (`xmpp-seal`, `xmpp-seal/device`, `xmpp-seal/store/file`, …), and each page's exports grouped
 * by the XEP section they implement, in the spec's order, each group headed by a link to its
 * section.
 *
 * - Entry names come from `package.json` `exports`: the module typedoc built from `src/x/index.ts`
 *   is the entry whose target is `./dist/x/index.js`. A documented file that no export names, and
 *   an export that has no API page, are reported as warnings, which fail `npm run docs`
 *   (`treatWarningsAsErrors`), so the API pages and the package's entries cannot drift apart.
 * - An export's section is the top-level section of the first `spec §anchor` its doc comment
 *   cites (`@see spec §identity.bundle` → §identity), else of the first one in the purpose header
 *   of the file that declares it (every `src/` file's header cites its section); an export with
 *   neither is reported. Re-exports are grouped by the declaration they re-export.
 *
 * @see spec §impl
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Comment, Converter, ReflectionCategory, ReflectionKind } from 'typedoc';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const SPEC_XML = path.join(ROOT, 'spec', 'seal.xml');

/** `spec §anchor` in a comment. */
const SPEC_REF = /\bspec §([a-z][a-z0-9-]*)(?:\.[a-z0-9-]+)*/;

/**
 * The package's code entries: source file (relative to the root, `src/device/index.ts`) → the
 * specifier an application imports (`xmpp-seal/device`).
 *
 * @param {{ name: string, exports: Record<string, unknown> }} pkg
 * @returns {Map<string, string>}
 */
export function packageEntries(pkg) {
  const entries = new Map();
  for (const [key, target] of Object.entries(pkg.exports)) {
    const file = typeof target === 'string' ? target : target?.default;
    const match = typeof file === 'string' ? /^\.\/dist\/(.+)\.js$/.exec(file) : null;
    if (match === null) continue; // ./package.json
    entries.set(`src/${match[1]}.ts`, key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`);
  }
  return entries;
}

/**
 * The top-level sections of the XEP in document order: anchor → title.
 *
 * @param {string} xml
 * @returns {Map<string, string>}
 */
export function topSections(xml) {
  return new Map([...xml.matchAll(/<section1\b[^>]*\btopic='([^']+)'[^>]*\banchor='([^']+)'/g)].map((m) => [m[2], m[1]]));
}

/**
 * The top-level section a comment cites first, or `undefined`.
 *
 * @param {string} text
 * @returns {string | undefined}
 */
export function citedSection(text) {
  return SPEC_REF.exec(text)?.[1];
}

/** All text of a reflection's comments (its own, its signatures', a function-typed variable's). */
function commentText(reflection) {
  const comments = [reflection.comment];
  if (reflection.isDeclaration?.()) {
    for (const sig of reflection.getNonIndexSignatures()) comments.push(sig.comment);
    if (reflection.type?.type === 'reflection') {
      comments.push(reflection.type.declaration.comment);
      for (const sig of reflection.type.declaration.getNonIndexSignatures()) comments.push(sig.comment);
    }
  }
  return comments
    .filter((c) => c !== undefined)
    .map((c) => [Comment.combineDisplayParts(c.summary), ...c.blockTags.map((t) => Comment.combineDisplayParts(t.content))].join('\n'))
    .join('\n');
}

/** The first `spec §section` of a source file's purpose header (its first doc comment), cached. */
const headers = new Map();
function headerSection(file) {
  if (!headers.has(file)) {
    let section;
    try {
      const header = /\/\*\*[\s\S]*?\*\//.exec(readFileSync(file, 'utf8'))?.[0] ?? '';
      section = citedSection(header);
    } catch {
      section = undefined;
    }
    headers.set(file, section);
  }
  return headers.get(file);
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  const entries = packageEntries(PACKAGE);
  const sections = topSections(readFileSync(SPEC_XML, 'utf8'));
  const order = [...sections.keys()];

  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const project = context.project;
    const named = new Set();
    for (const module of project.getReflectionsByKind(ReflectionKind.Module)) {
      const file = project.getSymbolIdFromReflection(module)?.fileName;
      const rel = file === undefined ? undefined : path.relative(ROOT, file).split(path.sep).join('/');
      const name = rel === undefined ? undefined : entries.get(rel);
      if (name === undefined) {
        app.logger.warn(`api-sections: the documented module ${module.name} (${rel ?? 'unknown file'}) is not an entry of package.json "exports"`);
        continue;
      }
      module.name = name;
      named.add(rel);
    }
    for (const [rel, name] of entries) {
      if (!named.has(rel)) app.logger.warn(`api-sections: the package entry ${name} (${rel}) has no API page: add it to docs/typedoc.json "entryPoints"`);
    }
  });

  // After typedoc's own CategoryPlugin (priority -200): replace each module's categories.
  app.converter.on(
    Converter.EVENT_RESOLVE_END,
    (context) => {
      for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) {
        const bySection = new Map();
        for (const child of module.children ?? []) {
          const target = child.kindOf(ReflectionKind.Reference) ? (child.tryGetTargetReflectionDeep() ?? child) : child;
          const file = context.project.getSymbolIdFromReflection(target)?.fileName;
          const anchor = citedSection(commentText(target)) ?? (file === undefined ? undefined : headerSection(file));
          if (anchor === undefined || !sections.has(anchor)) {
            app.logger.warn(`api-sections: ${module.name}: ${child.name} cites no section of the spec (add "@see spec §section" to its doc comment)`);
            continue;
          }
          if (!bySection.has(anchor)) bySection.set(anchor, []);
          bySection.get(anchor).push(child);
        }
        module.categories = [...bySection]
          .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
          .map(([anchor, children]) => {
            const category = new ReflectionCategory(`§${anchor} ${sections.get(anchor)}`);
            category.description = [{ kind: 'text', text: `Implements spec §${anchor}.` }];
            category.children = children.sort((a, b) => a.name.localeCompare(b.name));
            return category;
          });
      }
    },
    -300,
  );
}
