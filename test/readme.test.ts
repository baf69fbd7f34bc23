/**
 * The README's "Use it" example is code that works: the block is extracted from README.md, its
 * `xmpp-seal/…` imports pointed at the sources, type-checked with the project's compiler settings,
 * and run against the embedded server: a device created on an empty store, a message sent and one
 * received, a restart from the same store that keeps the device, and a contact's new key held
 * until the user accepts it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BareJid, MemoryStore, systemRng } from '../src/index.js';
import { DEVICE_LIST_NODE, bundleNode } from '../src/identity/pep.js';
import { EmbeddedServer, SealClient, type XmppConnection, presence } from '../src/net/index.js';
import { PUBSUB_OWNER_NS } from '../src/wire/pep.js';
import { xml } from '../src/wire/xml.js';
import { ROOT } from './support/environment.js';
import { againstSources, readmeExample } from './support/readme.js';

/** What the README example exports. */
interface Example {
  startSeal(connection: XmppConnection, store: MemoryStore, ui: { show(line: string): void; ask(question: string): Promise<boolean> }): Promise<SealClient>;
  main(): Promise<void>;
}

const ALICE = 'alice@localhost' as BareJid;
const BOB = 'bob@localhost' as BareJid;
const dir = mkdtempSync(path.join(os.tmpdir(), 'seal-readme-'));
const file = path.join(dir, 'chat.ts');

beforeAll(() => {
  writeFileSync(file, againstSources(readmeExample()));
});

describe('the README example', () => {
  it('type-checks with the project settings (strict, exactOptionalPropertyTypes, NodeNext)', async () => {
    const tsconfig = {
      extends: path.join(ROOT, 'tsconfig.json'),
      compilerOptions: { noEmit: true, typeRoots: [path.join(ROOT, 'node_modules', '@types')] },
      include: [],
      files: [file],
    };
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await promisify(execFile)(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], { cwd: dir }).then(
      () => '',
      (e: { stdout?: string }) => e.stdout ?? String(e),
    );
    expect(result).toBe('');
  }, 120_000);

  it('runs: creates a device, sends, receives, restarts from its store, and asks before a new key opens anything', async () => {
    const example = (await import(file)) as Example;
    expect(typeof example.main).toBe('function');
    const server = new EmbeddedServer();
    server.createAccount(ALICE);
    server.createAccount(BOB);
    const flush = () => server.network.flush();
    const now = () => Math.floor(Date.now() / 1000);
    const shown: string[] = [];
    // The user's answers wait until the test gives them.
    const asked: { question: string; answer: (yes: boolean) => void }[] = [];
    const ui = { show: (line: string) => shown.push(line), ask: (question: string) => new Promise<boolean>((answer) => asked.push({ question, answer })) };

    // First run: an empty store, so a new device.
    const store = new MemoryStore();
    let alice = await example.startSeal(server.connect(`${ALICE}/laptop`), store, ui);
    const deviceId = alice.state.deviceId;
    expect(shown[0]).toMatch(new RegExp(`^device ${deviceId}, fingerprint (?:[0-9a-f]{8} ){7}[0-9a-f]{8}$`));
    const bob = await SealClient.create({ connection: server.connect(`${BOB}/phone`), now, rng: systemRng });
    await bob.connection.send(presence());
    await alice.send(BOB, 'Hello Bob');
    await flush();
    expect(bob.received.map((m) => m.body)).toEqual(['Hello Bob']);
    await bob.send(ALICE, 'Hi Alice');
    await flush();
    expect(shown).toContain(`${BOB}: Hi Alice`);

    // Second run: the same store restores the same device, which keeps its sessions.
    await alice.connection.close();
    await bob.send(ALICE, 'While you were away');
    alice = await example.startSeal(server.connect(`${ALICE}/laptop`), store, ui);
    await flush();
    expect(alice.state.deviceId).toBe(deviceId);
    expect(shown.filter((l) => l.startsWith('device '))).toEqual([shown[0], shown[0]]);
    expect(shown).toContain(`${BOB}: While you were away`);
    expect(alice.events.filter((e) => e.kind === 'session-started')).toEqual([]);

    // Bob reinstalls: his old Seal nodes deleted, a new device under a new account key. Alice's
    // device holds his message and asks; nothing opens before she answers yes.
    for (const node of [bundleNode(bob.state.deviceId), DEVICE_LIST_NODE]) {
      await bob.connection.iq(xml('iq', { type: 'set', id: `delete-${node}` }, [xml('pubsub', { xmlns: PUBSUB_OWNER_NS }, [xml('delete', { node })])]));
    }
    await bob.connection.close();
    const bobAgain = await SealClient.create({ connection: server.connect(`${BOB}/phone`), now, rng: systemRng });
    await bobAgain.connection.send(presence());
    const before = shown.length;
    await bobAgain.send(ALICE, 'New phone, same Bob');
    await flush();
    await alice.idle();
    // Two questions: the account's new key, and the new device its list names.
    const fp = '(?:[0-9a-f]{8} ){7}[0-9a-f]{8}';
    expect(asked.map((a) => a.question)).toEqual([
      expect.stringMatching(new RegExp(`^${BOB}'s account key \\(account-key-changed\\): fingerprint ${fp} \\(was ${fp}\\)\\. Does ${BOB} read out the same\\?$`)),
      expect.stringMatching(new RegExp(`^${BOB}'s device ${bobAgain.state.deviceId} \\(unlisted-device\\): fingerprint ${fp}\\. Does ${BOB} read out the same\\?$`)),
    ]);
    expect(alice.received.filter((m) => m.body === 'New phone, same Bob')).toEqual([]);
    for (const a of asked) a.answer(true);
    await new Promise((resolve) => setTimeout(resolve, 0));
    await alice.idle();
    await flush();
    expect(shown.slice(before)).toContain(`${BOB}: New phone, same Bob`);
    expect(alice.received.filter((m) => m.body === 'New phone, same Bob').map((m) => m.trust)).toEqual(['verified']);
    await alice.connection.close();
    await bobAgain.connection.close();
  });
});
