/**
 * The demo's scenario against a real server (Prosody 0.12 from Debian on 127.0.0.1), through the
 * @xmpp/client adapter: bundles and device lists through real PEP, Bob offline while Alice sends,
 * delivery from offline storage, the same stanzas from MAM recognised as duplicates, a reply, an
 * interactive handshake between the two online devices, and a new device that receives from then on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BareJid } from '../src/identity/jid.js';
import { SealClient, presence } from '../src/net/index.js';
import { connectToServer } from '../src/net/real.js';
import { runRealDemo } from '../src/cli/demo-real.js';
import { seededRng } from '../src/suite/index.js';
import { hasCommand, missing } from './support/environment.js';
import { type Prosody, startProsody, until } from './support/prosody.js';

const skip = missing('prosody', hasCommand('prosody') && hasCommand('prosodyctl'), 'apt-get install prosody lua-unbound');

describe.skipIf(skip !== undefined)('on a real server (Prosody)', () => {
  let prosody: Prosody;
  beforeAll(async () => {
    prosody = await startProsody(['alice', 'bob', 'carol', 'dave']);
  }, 30_000);
  afterAll(async () => {
    await prosody?.stop();
  });

  it('offline delivery, archive duplicates, a reply, an interactive handshake and a new device, through real PEP', async () => {
    const now = () => Math.floor(Date.now() / 1000);
    const rng = seededRng('prosody');
    const connect = (username: string, resource: string) => connectToServer({ service: prosody.service, domain: prosody.domain, username, password: 'pw', resource });
    const alice = await SealClient.create({ connection: await connect('alice', 'laptop'), now, rng, oneTimePrekeys: 5 });
    const bob = await SealClient.create({ connection: await connect('bob', 'desktop'), now, rng, oneTimePrekeys: 5 });
    await alice.connection.send(presence());
    // Bob has sent no presence: Prosody stores messages to him.
    for (const text of ['one', 'two', 'three']) await alice.send('bob@localhost' as BareJid, text);
    await bob.connection.send(presence());
    await until('offline delivery', () => bob.received.length === 3);
    expect(bob.received.map((m) => m.body)).toEqual(['one', 'two', 'three']);
    await bob.fetchArchive();
    await until('archive results', () => bob.events.filter((e) => e.kind === 'duplicate').length >= 3);
    expect(bob.received).toHaveLength(3);
    await bob.send('alice@localhost' as BareJid, 'got them');
    await until('the reply', () => alice.received.some((m) => m.body === 'got them'));
    expect(alice.events.filter((e) => e.kind === 'failed')).toEqual([]);
    // Both online: an interactive handshake between the two full JIDs (Alice finds the feature
    // and Bob's device id in his full JID's disco#info; the steps are iq stanzas), then a message on it.
    // @req handshake.interactive-discovery
    // @req handshake.interactive-iq
    await alice.startInteractive(bob.connection.jid);
    const interactive = (c: SealClient) => c.events.flatMap((e) => (e.kind === 'session-started' && e.handshake === 'interactive' ? [e.sessionId] : []));
    await until('the interactive handshake', () => interactive(alice).length === 1 && interactive(bob).length === 1);
    expect(interactive(alice)[0]).toBe(interactive(bob)[0]);
    await alice.send('bob@localhost' as BareJid, 'on the new session');
    await until('a message on the interactive session', () => bob.received.some((m) => m.body === 'on the new session'));
    // A resource that is not connected: Prosody answers the first step service-unavailable, and the handshake is abandoned at once.
    // @req handshake.interactive-fail-fast
    await alice.startInteractive('bob@localhost/gone', bob.state.deviceId);
    await until('the refused handshake', () => alice.events.some((e) => e.kind === 'interactive-failed'));
    expect(alice.events.filter((e) => e.kind === 'interactive-failed')).toEqual([{ kind: 'interactive-failed', peer: { jid: 'bob@localhost', deviceId: bob.state.deviceId }, to: 'bob@localhost/gone', step: 1, condition: 'service-unavailable' }]);
    expect(alice.engine.state.interactive.size).toBe(0);
    // Bob adds a device: it joins his list and receives from then on.
    const bobPhone = await SealClient.create({ connection: await connect('bob', 'phone'), now, rng, oneTimePrekeys: 5, accountSecret: bob.dangerouslyAccountSecret()! });
    await bobPhone.connection.send(presence());
    await alice.send('bob@localhost' as BareJid, 'to both of your devices');
    await until('the new device', () => bobPhone.received.some((m) => m.body === 'to both of your devices') && bob.received.some((m) => m.body === 'to both of your devices'));
    expect(bobPhone.received.some((m) => m.body === 'one')).toBe(false);
    await bobPhone.connection.close();
    await alice.connection.close();
    await bob.connection.close();
  }, 60_000);

  it('npm start -- --server … runs the demo against it (accounts without Seal devices)', async () => {
    const lines: string[] = [];
    const code = await runRealDemo({ server: prosody.service, jid: 'carol@localhost', password: 'pw', peer: 'dave@localhost', peerPassword: 'pw', print: (l) => lines.push(l) });
    expect(lines.filter((l) => l.includes('✗'))).toEqual([]);
    expect(lines.filter((l) => l.includes('✓'))).toHaveLength(4);
    expect(code).toBe(0);
  }, 60_000);

  it('a second run on the same accounts explains why it cannot add a device; --fresh starts them over', async () => {
    // The first run left device lists signed by account keys this run does not hold.
    const refused: string[] = [];
    const options = { server: prosody.service, jid: 'carol@localhost', password: 'pw', peer: 'dave@localhost', peerPassword: 'pw' };
    expect(await runRealDemo({ ...options, print: (l) => refused.push(l) })).toBe(1);
    expect(refused.join('\n')).toContain('carol@localhost already has a Seal device list signed by its account key');
    expect(refused.join('\n')).toContain('--fresh');
    const lines: string[] = [];
    const code = await runRealDemo({ ...options, fresh: true, verbose: true, print: (l) => lines.push(l) });
    expect(lines.filter((l) => l.includes('✗'))).toEqual([]);
    expect(lines.some((l) => /^0\. --fresh: deleted [1-9]\d* Seal PEP nodes/.test(l))).toBe(true);
    const wire = lines.filter((l) => /^ {4}(→ server|← )/.test(l)).join('\n');
    expect(wire).toContain("<sealed xmlns='urn:xmpp:seal:0'");
    expect(wire).not.toContain('Are you there?');
    expect(code).toBe(0);
  }, 60_000);

  it('a closed port is a one-line error, not a stack', async () => {
    const lines: string[] = [];
    const code = await runRealDemo({ server: 'xmpp://127.0.0.1:1', jid: 'carol@localhost', password: 'pw', peer: 'dave@localhost', peerPassword: 'pw', print: (l) => lines.push(l) });
    expect(code).toBe(1);
    expect(lines.at(-1)).toMatch(/^seal demo: cannot connect to xmpp:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  });
});
