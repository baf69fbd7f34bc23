/**
 * The `seal` command as a user meets it: `--help` lists every command and option the parser
 * accepts; an unknown option or command, a missing or extra argument is one line on stderr and
 * exit code 2, never ignored; a connection failure (a closed port, a server that never answers)
 * is one line and exit code 1, not a stack; `--verbose` shows the stanzas on the wire in
 * `--server` mode too; `npm start` runs the demo and exits 0.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEMO_FLAGS, DEMO_VALUED, SUBCOMMANDS, USAGE, parseArgs } from '../src/cli/args.js';
import { runRealDemo } from '../src/cli/demo-real.js';
import { EmbeddedServer, type XmppConnection } from '../src/net/index.js';
import { ROOT } from './support/environment.js';

const run = promisify(execFile);

/** Runs `seal …` (the TypeScript entry, as `npm start` does); never rejects. */
async function seal(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** A TCP port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const REAL = ['--jid', 'alice@localhost', '--password', 'pw', '--peer', 'bob@localhost', '--peer-password', 'pw'];

describe('seal --help', () => {
  it('lists every command and every option the parser accepts, --server included', async () => {
    for (const [group, commands] of Object.entries(SUBCOMMANDS)) for (const command of commands) expect(USAGE).toContain(`seal ${group} ${command}`);
    for (const flag of [...DEMO_FLAGS, ...DEMO_VALUED, '--help', '-h']) expect(USAGE, flag).toMatch(new RegExp(`(^|[\\s\\[,])${flag}\\b`, 'm'));
    expect(USAGE).toContain('seal demo --server URL');
    expect(USAGE).toContain('seal help');
    // Every option the usage text names is one the parser takes (no stale entry).
    for (const flag of new Set(USAGE.match(/--[a-z-]+/g))) expect([...DEMO_FLAGS, ...DEMO_VALUED, '--help'], flag).toContain(flag);
    const [long, short, word, demo] = await Promise.all([seal('--help'), seal('-h'), seal('help'), seal('demo', '--help')]);
    for (const r of [long, short, word, demo]) {
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(USAGE);
      expect(r.stderr).toBe('');
    }
  });
});

describe('a wrong command line', () => {
  it('is one line on stderr and exit code 2: unknown options and commands, missing and extra arguments', async () => {
    const cases: [string[], RegExp][] = [
      [['demo', '--bogus'], /^seal demo: unknown option "--bogus"/],
      [['demo', '--verbose', 'now'], /^seal demo: unexpected argument "now"/],
      [['bogus'], /^seal: unknown command "bogus"/],
      [[], /^seal: a command is needed/],
      [['vectors', 'generate', '--bogus'], /^seal vectors generate: unknown option "--bogus"/],
      [['vectors', 'check', 'a', 'b'], /^seal vectors check: unexpected argument "b"/],
      [['spec', 'frob'], /^seal spec: unknown command "frob"; expected one of generate, check, render/],
      [['demo', '--server', 'xmpp://127.0.0.1:5222', '--jid', 'alice@localhost'], /^seal demo: a real server needs all of --server, --jid, --password, --peer and --peer-password/],
      [['demo', '--server', 'localhost:5222', ...REAL], /^seal demo: --server: expected xmpp:\/\/HOST\[:PORT\]/],
      [['demo', '--fresh'], /^seal demo: --fresh needs --server/],
      [['demo', '--server'], /^seal demo: --server needs a value/],
    ];
    const results = await Promise.all(cases.map(([args]) => seal(...args)));
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: '' });
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0], args.join(' ')).toMatch(message);
      expect(lines[0]).toContain('seal --help');
    });
    // The unknown option was not taken for a directory.
    expect(existsSync(path.join(ROOT, '--bogus'))).toBe(false);
  });

  it('is parsed the same way in-process (the forms the usage text shows)', () => {
    expect(parseArgs(['demo'])).toEqual({ kind: 'demo', verbose: false, fresh: false, real: undefined });
    expect(parseArgs(['demo', '--verbose', '--server', 'xmpps://example.org', ...REAL, '--fresh'])).toEqual({
      kind: 'demo',
      verbose: true,
      fresh: true,
      real: { server: 'xmpps://example.org', jid: 'alice@localhost', password: 'pw', peer: 'bob@localhost', peerPassword: 'pw' },
    });
    expect(parseArgs(['vectors', 'check', 'out'])).toEqual({ kind: 'vectors', command: 'check', target: 'out' });
    expect(parseArgs(['spec', 'render'])).toEqual({ kind: 'spec', command: 'render', target: undefined });
    expect(parseArgs(['demo', '--server', 'xmpp://h:70000', ...REAL])).toEqual({ kind: 'error', message: 'seal demo: --server: the port must be 1-65535, got 70000' });
    expect(parseArgs(['demo', '--server', 'xmpp://h', ...REAL.slice(0, 6), '--peer-password', 'pw', '--jid', 'alice'])).toMatchObject({ kind: 'error', message: expect.stringContaining('--jid: expected a bare JID') });
  });
});

describe('a connection failure', () => {
  it('a closed port is one line on stderr and exit code 1, not a stack', async () => {
    const port = await closedPort();
    const r = await seal('demo', '--server', `xmpp://127.0.0.1:${port}`, ...REAL);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(new RegExp(`^seal demo: cannot connect to xmpp://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`))]);
    expect(r.stdout).not.toMatch(/^\s+at /m);
  });

  it('a server that accepts the connection and never answers is one line too', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const failures: string[] = [];
    try {
      const code = await runRealDemo({ server: `xmpp://127.0.0.1:${port}`, jid: 'alice@localhost', password: 'pw', peer: 'bob@localhost', peerPassword: 'pw', print: () => undefined, fail: (l) => failures.push(l) });
      expect(code).toBe(1);
    } finally {
      silent.close();
    }
    expect(failures).toEqual([`seal demo: cannot connect to xmpp://127.0.0.1:${port}: the server did not answer in time`]);
  });
});

describe('seal demo --server … --verbose', () => {
  /** The real-server demo over the embedded server: `connect` hands out its connections, delivered continuously. */
  async function realDemo(verbose: boolean): Promise<{ code: number; lines: string[] }> {
    const server = new EmbeddedServer();
    server.createAccount('alice@localhost');
    server.createAccount('bob@localhost');
    const pump = setInterval(() => void server.network.flush(), 5);
    const lines: string[] = [];
    try {
      const connect = async (o: { username: string; domain: string; resource: string }): Promise<XmppConnection> => server.connect(`${o.username}@${o.domain}/${o.resource}`);
      const code = await runRealDemo({ server: 'xmpp://localhost:5222', jid: 'alice@localhost', password: 'pw', peer: 'bob@localhost', peerPassword: 'pw', verbose, connect, print: (l) => lines.push(l) });
      return { code, lines };
    } finally {
      clearInterval(pump);
    }
  }

  it('prints every stanza sent and received, and never a plaintext; without --verbose, none', async () => {
    const verbose = await realDemo(true);
    expect(verbose.lines.filter((l) => l.includes('✗'))).toEqual([]);
    expect(verbose.code).toBe(0);
    const wire = verbose.lines.filter((l) => /^ {4}(→ server|← )/.test(l));
    expect(wire.filter((l) => l.startsWith('    → server (alice@localhost/')).length).toBeGreaterThan(5);
    expect(wire.filter((l) => l.startsWith('    ← bob@localhost/')).length).toBeGreaterThan(3);
    const text = verbose.lines.join('\n');
    expect(text).toContain("<sealed xmlns='urn:xmpp:seal:0'");
    expect(text).toContain("<bundle xmlns='urn:xmpp:seal:0'>");
    for (const plain of ['Are you there?', 'The plan changed.', 'Back now.']) expect(text.split('\n').filter((l) => l.includes(plain) && !l.includes(' opened "'))).toEqual([]);
    const quiet = await realDemo(false);
    expect(quiet.code).toBe(0);
    expect(quiet.lines.filter((l) => /^ {4}(→ server|← )/.test(l))).toEqual([]);
  });
});

describe('npm start', () => {
  it('runs the demo: exit code 0, the texts sent and opened, the last check passed', async () => {
    const { stdout } = await run('npm', ['run', '-s', 'start'], { cwd: ROOT, timeout: 120_000 });
    const lines = stdout.trimEnd().split('\n');
    expect(lines.filter((l) => / (sends|says) "/.test(l)).length).toBe(14);
    expect(lines.filter((l) => / opened "/.test(l)).length).toBeGreaterThanOrEqual(20);
    expect(lines.at(-1)).toBe('  ✓ every message arrived exactly once where it was meant to');
  });
});
