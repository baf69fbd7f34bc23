/**
 * Architecture checks: layers import only downward, the protocol code is browser-safe (no
 * `node:` or Node built-in imports outside src/cli, src/net and src/native, and no import of those
 * folders from the browser-safe ones), there is no WebAssembly in the
 * code or its runtime dependencies, and no file imports itself through a cycle.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/environment.js';

/** Layer order, lowest first (STYLE habit 3). `src/index.ts` re-exports and sits on top. */
const LAYERS = ['errors', 'codec', 'suite', 'wire', 'identity', 'handshake', 'envelope', 'offline', 'groups', 'files', 'device', 'store', 'net', 'native', 'vectors', 'cli', 'index'];
/** Only these folders may use Node APIs (src/native: the optional node:crypto curve provider). */
const NODE_ALLOWED = ['cli', 'net', 'native'];
/** And these files, each a Node-only package entry of its own (the file store). */
const NODE_ALLOWED_FILES = ['store/file.ts'];

const SRC = path.join(ROOT, 'src');

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? files(file, ext) : ext.test(name) ? [file] : [];
  });
}

function layerOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length === 1 ? rel[0]!.replace(/\.ts$/, '') : rel[0]!;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)].map((m) => (m[1] ?? m[2])!);
}

const sources = files(SRC, /\.ts$/);

describe('layers and browser safety', () => {
  it('every src file opens with a purpose comment that cites the spec and @module', () => {
    for (const file of sources) {
      const head = readFileSync(file, 'utf8').replace(/^#!.*\n/, '').slice(0, 2000);
      expect(head.startsWith('/**'), file).toBe(true);
      expect(head, file).toMatch(/@module/);
      expect(head, file).toMatch(/(@see spec §|spec §)/);
    }
  });

  it('imports only go downward', () => {
    const violations: string[] = [];
    for (const file of sources) {
      const from = LAYERS.indexOf(layerOf(file));
      expect(from, `unknown layer for ${file}`).toBeGreaterThanOrEqual(0);
      for (const spec of imports(file).filter((s) => s.startsWith('.'))) {
        const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
        const to = LAYERS.indexOf(layerOf(target));
        if (to > from) violations.push(`${path.relative(ROOT, file)} imports ${spec} (${LAYERS[to]} is above ${LAYERS[from]})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('uses no Node built-ins outside src/cli, src/net, src/native and src/store/file.ts', () => {
    const builtins = new Set(builtinModules);
    const violations: string[] = [];
    for (const file of sources) {
      if (NODE_ALLOWED.includes(layerOf(file)) || NODE_ALLOWED_FILES.includes(path.relative(SRC, file))) continue;
      for (const spec of imports(file)) {
        if (spec.startsWith('node:') || builtins.has(spec.split('/')[0]!)) violations.push(`${path.relative(ROOT, file)} imports ${spec}`);
        // Nor through a Node-only folder (src/index.ts must not re-export src/native or src/net).
        const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
        if (spec.startsWith('.') && (NODE_ALLOWED.includes(layerOf(target)) || NODE_ALLOWED_FILES.includes(path.relative(SRC, target)))) violations.push(`${path.relative(ROOT, file)} imports ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('has no WebAssembly in src/ or in the runtime dependencies', () => {
    for (const file of sources) expect(readFileSync(file, 'utf8'), file).not.toMatch(/WebAssembly|\.wasm\b/);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies)) {
      const dir = path.join(ROOT, 'node_modules', dep);
      const code = files(dir, /\.(m?js|wasm)$/);
      expect(code.filter((f) => f.endsWith('.wasm')), dep).toEqual([]);
      for (const f of code) expect(readFileSync(f, 'utf8').includes('WebAssembly.instantiate'), f).toBe(false);
    }
  });

  it('has no import cycles', () => {
    const graph = new Map(sources.map((file) => [file, imports(file).filter((s) => s.startsWith('.')).map((s) => path.resolve(path.dirname(file), s).replace(/\.js$/, '.ts'))]));
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(SRC, f)).join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of sources) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
