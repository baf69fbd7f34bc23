/**
 * `npm start -- --server xmpp://HOST:PORT --jid alice@host --password … --peer bob@host
 * --peer-password …`: the core of the demo against a real XMPP server, through the @xmpp/client
 * adapter: bundles and device lists through the server's PEP, the peer offline while the first
 * account sends, delivery from offline storage, the archive's copies recognised as duplicates, a
 * reply. Exit code 0 only if every message arrived exactly once.
 *
 * @see spec §offline
 * @module
 */
import { bareJid } from '../identity/jid.js';
import { SealClient, presence } from '../net/index.js';
import { connectToServer } from '../net/real.js';
import { systemRng } from '../suite/rng.js';

/** Connection settings of the two accounts. */
export interface RealDemoOptions {
  readonly server: string;
  readonly jid: string;
  readonly password: string;
  readonly peer: string;
  readonly peerPassword: string;
  readonly print: (line: string) => void;
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** Runs the demo against a real server; returns the exit code. */
export async function runRealDemo(options: RealDemoOptions): Promise<number> {
  const { print } = options;
  const now = () => Math.floor(Date.now() / 1000);
  const account = (jid: string) => {
    const [local, domain] = bareJid(jid).split('@') as [string, string];
    return { local, domain };
  };
  const a = account(options.jid);
  const b = account(options.peer);
  let failures = 0;
  const check = (what: string, ok: boolean) => {
    print(`  ${ok ? '✓' : '✗'} ${what}`);
    if (!ok) failures++;
  };
  print(`Seal demo against ${options.server}\n`);
  const alice = await SealClient.create({ connection: await connectToServer({ service: options.server, domain: a.domain, username: a.local, password: options.password, resource: 'seal-demo' }), now, rng: systemRng, oneTimePrekeys: 10 });
  const bob = await SealClient.create({ connection: await connectToServer({ service: options.server, domain: b.domain, username: b.local, password: options.peerPassword, resource: 'seal-demo' }), now, rng: systemRng, oneTimePrekeys: 10 });
  print(`1. both devices published bundles and device lists (devices ${alice.state.deviceId} and ${bob.state.deviceId})`);
  await alice.connection.send(presence());
  const texts = ['Are you there?', 'The plan changed.', 'Call me when you are back.'];
  for (const text of texts) await alice.send(bareJid(options.peer), text);
  print(`2. ${options.jid} sent three messages while ${options.peer} had sent no presence (offline)`);
  await bob.connection.send(presence());
  check('the peer opened them from offline storage', await until(() => texts.every((t) => bob.received.some((m) => m.body === t)), 15_000));
  await bob.fetchArchive();
  check('the archive\'s copies were recognised as duplicates', await until(() => bob.outcomes.filter((o) => o === 'duplicate').length >= 3, 15_000));
  await bob.send(bareJid(options.jid), 'Back now.');
  check('the reply arrived', await until(() => alice.received.some((m) => m.body === 'Back now.'), 15_000));
  check('no message was opened twice', new Set(bob.received.map((m) => m.body)).size === bob.received.length);
  await alice.connection.close();
  await bob.connection.close();
  return failures === 0 ? 0 : 1;
}
