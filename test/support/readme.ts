/**
 * The README's code example, as the tests take it: the one TypeScript block of the "Use it"
 * section, verbatim, and the same code with its `xmpp-seal/…` imports pointed at this checkout's
 * sources (through the package's own `exports` map, so an entry the README uses must exist).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './environment.js';

/** The TypeScript block of README.md's "## Use it" section. @throws Error unless there is exactly one. */
export function readmeExample(): string {
  const text = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf('\n## Use it\n');
  if (start < 0) throw new Error('README.md has no "## Use it" section');
  const next = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, next < 0 ? undefined : next);
  const blocks = [...section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  if (blocks.length !== 1) throw new Error(`README.md "Use it": expected one \`\`\`ts block, found ${blocks.length}`);
  return blocks[0]!;
}

/** The source file (absolute, `.js` as the sources import each other) of a package specifier such as `xmpp-seal/net`. */
export function sourceOf(specifier: string): string {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, string | { default: string }> };
  const key = specifier === pkg.name ? '.' : `.${specifier.slice(pkg.name.length)}`;
  const target = pkg.exports[key];
  const file = typeof target === 'object' ? target.default : undefined;
  const match = file === undefined ? null : /^\.\/dist\/(.+)\.js$/.exec(file);
  if (match === null) throw new Error(`${specifier} is not a code entry of package.json "exports"`);
  return path.join(ROOT, 'src', `${match[1]}.js`);
}

/** `code` with every `from 'xmpp-seal…'` import pointing at the source file the entry is built from. */
export function againstSources(code: string): string {
  return code.replace(/from '(xmpp-seal(?:\/[a-z/]+)?)'/g, (_, specifier: string) => `from '${sourceOf(specifier)}'`);
}
