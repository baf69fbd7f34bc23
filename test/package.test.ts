/**
 * The package as a client developer gets it: `npm pack` (whose `prepare` script builds `dist/`,
 * as a git or folder install does), the tarball installed into a scratch project outside the
 * repository, and a small consumer that imports every entry of `package.json` "exports":
 *
 * - type-checked with `skipLibCheck: false` and no `@types/node` (so the published `.d.ts` files
 *   must resolve every type they use from the package's own dependencies) under
 *   `moduleResolution` `node16`, `bundler` and `node`;
 * - run in Node as ESM (the browser-only IndexedDB entry is imported there, not used);
 * - bundled for the browser with esbuild (no Node built-in may be reached), and the bundle run.
 *
 * Installation is offline: the scratch project gets a lockfile cut from this repository's (the
 * package's production dependencies at the versions tested here), and `npm ci --offline` takes them
 * from the npm cache that `npm ci` filled (on CI, a fresh clone where `npm ci` just ran).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/environment.js';
import { VECTOR_KINDS } from '../src/vectors/index.js';

const run = promisify(execFile);

interface LockEntry {
  readonly version?: string;
  readonly dev?: boolean;
  readonly dependencies?: Record<string, string>;
  readonly [field: string]: unknown;
}
interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly main: string;
  readonly types: string;
  readonly bin: Record<string, string>;
  readonly exports: Record<string, string | { types: string; default: string }>;
  readonly scripts: Record<string, string>;
  readonly dependencies: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly engines: Record<string, string>;
  readonly license: string;
}
interface PackResult {
  readonly filename: string;
  readonly integrity: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: readonly { path: string }[];
}

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;
/** The package's code entries: specifier (`xmpp-seal/net`) → its targets. */
const entries = Object.entries(pkg.exports).flatMap(([key, target]) => (typeof target === 'object' ? [{ specifier: key === '.' ? pkg.name : `${pkg.name}${key.slice(1)}`, ...target }] : []));
/** Entries that need Node (the rest must bundle for a browser). */
const NODE_ONLY = new Set([`${pkg.name}/net/real`, `${pkg.name}/native/node`, `${pkg.name}/store/file`]);

const work = mkdtempSync(path.join(os.tmpdir(), 'seal-package-'));
const consumer = path.join(work, 'consumer');
const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
let packed: PackResult;

/** The lockfile entries of `names` and everything they depend on, from this repository's lockfile. */
function lockClosure(lock: Record<string, LockEntry>, names: readonly string[]): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const visit = (name: string, from: string) => {
    // Node's lookup: the nearest node_modules up from the dependent's folder.
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const key = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
      if (lock[key] !== undefined) {
        if (out[key] !== undefined) return;
        out[key] = lock[key]!;
        for (const dep of Object.keys(lock[key]!.dependencies ?? {})) visit(dep, key);
        return;
      }
      if (dir === '') throw new Error(`package-lock.json has no ${name} reachable from ${from || 'the root'}`);
    }
  };
  for (const name of names) visit(name, '');
  return out;
}

/** The consumer's sources: a browser-safe app, its Node and browser mains, and the README example. */
function writeConsumer(): void {
  const browserEntries = entries.filter((e) => !NODE_ONLY.has(e.specifier));
  const app = `// Uses the browser-safe entries the way an application does.
import { type BareJid, type SealEvent, bareJid, deviceFingerprint, formatFingerprint, bundleOf } from 'xmpp-seal';
import { MemoryStore, type SealStore } from 'xmpp-seal/device';
import { EmbeddedServer, SealClient, presence } from 'xmpp-seal/net';
import { SUITE_ID, systemRng } from 'xmpp-seal/suite';
import { decodeBase64, encodeBase64 } from 'xmpp-seal/codec';
import { type Element, parseXml, xml } from 'xmpp-seal/wire';
import { VECTOR_KINDS } from 'xmpp-seal/vectors';
${browserEntries.map((e, i) => `import * as entry${i} from '${e.specifier}';`).join('\n')}

// Seal's elements are typed (ltx's Element through @types/ltx), not \`any\`.
type IsAny<T> = 0 extends 1 & T ? true : false;
export const elementIsTyped: IsAny<Element> extends true ? never : true = true;
export const eventKinds: SealEvent['kind'][] = ['opened', 'decision-needed'];

/** Every browser-safe entry, with how many exports it has. */
export const browserEntries: Record<string, number> = { ${browserEntries.map((e, i) => `'${e.specifier}': Object.keys(entry${i}).length`).join(', ')} };

/** Alice sends Bob a message on the embedded server; what Bob opened, and a few other results. */
export async function conversation(store: SealStore = new MemoryStore()) {
  const server = new EmbeddedServer();
  server.createAccount('alice@example.org');
  server.createAccount('bob@example.org');
  const now = () => Math.floor(Date.now() / 1000);
  const alice = await SealClient.create({ connection: server.connect('alice@example.org/laptop'), now, rng: systemRng });
  const bob = await SealClient.create({ connection: server.connect('bob@example.org/phone'), store, now, rng: systemRng });
  await bob.connection.send(presence());
  const to: BareJid = bareJid('bob@example.org');
  await alice.send(to, 'hello from a consumer');
  await server.network.flush();
  const element: Element = parseXml(xml('x', { xmlns: 'urn:example' }, ['text']).toString());
  return {
    opened: bob.received.map((m) => m.body),
    fingerprint: formatFingerprint(deviceFingerprint(bundleOf(alice.state).identity.signingKey)).length,
    suite: SUITE_ID,
    base64: encodeBase64(decodeBase64('AQID')),
    element: element.getText(),
    vectorKinds: VECTOR_KINDS.length,
  };
}
`;
  const nodeMain = `// The Node application: the Node-only entries too, then the conversation.
import { conversation, browserEntries } from './app.js';
import { connectToServer, type RealServerOptions } from 'xmpp-seal/net/real';
import { nodeCurveProvider } from 'xmpp-seal/native/node';
import { useCurveProvider } from 'xmpp-seal/suite';
${entries.filter((e) => NODE_ONLY.has(e.specifier)).map((e, i) => `import * as node${i} from '${e.specifier}';`).join('\n')}

const options: RealServerOptions = { service: 'xmpp://localhost:5222', domain: 'localhost', username: 'alice', password: 'pw', resource: 'laptop' };
useCurveProvider(nodeCurveProvider);
const nodeEntries: Record<string, number> = { ${entries.filter((e) => NODE_ONLY.has(e.specifier)).map((e, i) => `'${e.specifier}': Object.keys(node${i}).length`).join(', ')} };
console.log(JSON.stringify({ ...(await conversation()), entries: { ...browserEntries, ...nodeEntries }, connect: typeof connectToServer, service: options.service }));
`;
  const browserMain = `// The browser application: only browser-safe entries.
import { conversation, browserEntries } from './app.js';
console.log(JSON.stringify({ ...(await conversation()), entries: browserEntries }));
`;
  writeFileSync(path.join(consumer, 'app.ts'), app);
  writeFileSync(path.join(consumer, 'node.ts'), nodeMain);
  writeFileSync(path.join(consumer, 'browser.ts'), browserMain);
  // skipLibCheck false checks every declaration file the package brings; skipDefaultLibCheck
  // leaves out only TypeScript's own lib.*.d.ts (the DOM's alone took seconds). No @types/node is
  // installed: not even the Node-only entries' types may need it.
  const strict = { strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: false, skipDefaultLibCheck: true, target: 'ES2022', lib: ['ES2022', 'DOM'], noEmit: true };
  const configs: Record<string, object> = {
    node16: { compilerOptions: { ...strict, module: 'node16', moduleResolution: 'node16', noEmit: false, outDir: 'out' }, files: ['app.ts', 'node.ts'] },
    bundler: { compilerOptions: { ...strict, module: 'esnext', moduleResolution: 'bundler' }, files: ['app.ts', 'node.ts', 'browser.ts'] },
    // esModuleInterop as `tsc --init` sets it: zod's CommonJS declarations, which node10 resolution picks, need it.
    node: { compilerOptions: { ...strict, module: 'esnext', moduleResolution: 'node', esModuleInterop: true }, files: ['app.ts', 'node.ts'] },
  };
  for (const [name, config] of Object.entries(configs)) writeFileSync(path.join(consumer, `tsconfig.${name}.json`), JSON.stringify(config, null, 2));
}

/** `tsc -p tsconfig.<name>.json` in the consumer: its diagnostics, '' when it type-checks. */
async function typeCheck(name: string): Promise<string> {
  return run(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], { cwd: consumer }).then(
    () => '',
    (e: { stdout?: string; message: string }) => e.stdout || e.message,
  );
}

beforeAll(async () => {
  // A file the build must remove: `npm pack` runs `prepare`, which builds dist/ from scratch.
  const sentinel = path.join(ROOT, 'dist', 'stale-sentinel.js');
  if (existsSync(path.join(ROOT, 'dist'))) writeFileSync(sentinel, 'stale\n');
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, maxBuffer: 64 << 20 });
  packed = (JSON.parse(stdout) as PackResult[])[0]!;
  expect(existsSync(sentinel), 'npm pack did not rebuild dist/ (the prepare script)').toBe(false);

  mkdirSync(consumer);
  const rootLock = (JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }).packages;
  const tarball = `file:../${packed.filename}`;
  const manifest = { name: 'seal-consumer', version: '0.0.0', private: true, type: 'module', dependencies: { [pkg.name]: tarball } };
  const packages: Record<string, LockEntry> = {
    '': { name: manifest.name, version: manifest.version, dependencies: manifest.dependencies },
    [`node_modules/${pkg.name}`]: { version: pkg.version, resolved: tarball, integrity: packed.integrity, license: pkg.license, dependencies: pkg.dependencies, ...(pkg.peerDependencies === undefined ? {} : { peerDependencies: pkg.peerDependencies }), bin: pkg.bin, engines: pkg.engines },
  };
  Object.assign(packages, lockClosure(rootLock, Object.keys(pkg.dependencies)));
  writeFileSync(path.join(consumer, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(path.join(consumer, 'package-lock.json'), JSON.stringify({ name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages }, null, 2));
  await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: consumer });
  writeConsumer();
}, 240_000);

describe('the packed package', () => {
  it('holds every file its exports, main, types and bin name, and nothing from outside "files"', () => {
    const files = new Set(packed.files.map((f) => f.path));
    for (const e of entries) {
      expect(files, e.types).toContain(e.types.slice(2));
      expect(files, e.default).toContain(e.default.slice(2));
    }
    for (const file of [pkg.main, pkg.types, ...Object.values(pkg.bin)]) expect(files, file).toContain(file.replace(/^\.\//, ''));
    for (const file of files) expect(file, file).toMatch(/^(dist\/|src\/|vectors\/|spec\/seal(-impl)?\.xml$|README\.md$|package\.json$|LICENSE$)/);
    expect([...files].some((f) => f.startsWith('dist/') && f.includes('stale-sentinel'))).toBe(false);
    // Installs from git or a folder get dist/ the same way: prepare builds it.
    expect(pkg.scripts.prepare).toMatch(/\bnpm run build\b/);
    expect(pkg.scripts.build).toMatch(/tsc -p tsconfig\.build\.json/);
    console.log(`npm pack: ${packed.filename}, ${files.size} files, ${Math.round(packed.size / 1024)} KiB packed, ${Math.round(packed.unpackedSize / 1024)} KiB unpacked`);
  });

  it('its types resolve from its own dependencies and type-check with skipLibCheck false under node16, bundler and node, without Node types', async () => {
    const results = await Promise.all(['node16', 'bundler', 'node'].map(async (name) => [name, await typeCheck(name)] as const));
    expect(Object.fromEntries(results)).toEqual({ node16: '', bundler: '', node: '' });
  }, 120_000);

  it('runs in Node as ESM: every entry loads, and a message goes from Alice to Bob', async () => {
    // The node16 check above emitted the JavaScript.
    const { stdout } = await run(process.execPath, [path.join(consumer, 'out', 'node.js')], { cwd: consumer });
    const result = JSON.parse(stdout) as { opened: string[]; entries: Record<string, number>; suite: string; base64: string; element: string; connect: string; vectorKinds: number };
    expect(result.opened).toEqual(['hello from a consumer']);
    expect(Object.keys(result.entries).sort()).toEqual(entries.map((e) => e.specifier).sort());
    for (const [entry, count] of Object.entries(result.entries)) expect(count, entry).toBeGreaterThan(0);
    expect(result).toMatchObject({ suite: 'Seal-v0-X25519-MLKEM768-ChaCha20Poly1305-SHA256', base64: 'AQID', element: 'text', connect: 'function', vectorKinds: VECTOR_KINDS.length });
  }, 60_000);

  it('installs the seal command: seal --help from the package lists every command and option', async () => {
    const { stdout } = await run(path.join(consumer, 'node_modules', '.bin', 'seal'), ['--help'], { cwd: consumer });
    expect(stdout).toContain('seal demo --server URL');
    expect(stdout).toContain('seal vectors verify [DIR]');
  });

  it('bundles for the browser with esbuild, reaching no Node built-in and not @xmpp/client, and the bundle runs', async () => {
    const result = await build({ absWorkingDir: consumer, entryPoints: ['browser.ts'], bundle: true, platform: 'browser', format: 'esm', target: 'es2022', minify: true, metafile: true, outfile: 'browser.bundle.js', logLevel: 'silent' });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.includes(`node_modules/${pkg.name}/dist/`))).toBe(true);
    expect(inputs.filter((i) => /^node:|node_modules\/@xmpp\//.test(i))).toEqual([]);
    const bytes = result.metafile.outputs['browser.bundle.js']!.bytes;
    console.log(`browser bundle of the consumer: ${Math.round(bytes / 1024)} KiB minified, ${inputs.length} inputs`);
    const { stdout } = await run(process.execPath, [path.join(consumer, 'browser.bundle.js')], { cwd: consumer });
    const ran = JSON.parse(stdout) as { opened: string[]; entries: Record<string, number> };
    expect(ran.opened).toEqual(['hello from a consumer']);
    expect(Object.keys(ran.entries).sort()).toEqual(entries.filter((e) => !NODE_ONLY.has(e.specifier)).map((e) => e.specifier).sort());
  }, 60_000);
});
