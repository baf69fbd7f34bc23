/**
 * The demo that `npm start` runs: a scripted conversation on the embedded in-memory server,
 * showing offline delivery, archive duplicates, carbons to own devices, an interactive handshake,
 * a new device, fingerprints and the safety number. Exit code 0 only if every message arrived
 * exactly once at every device it was meant for.
 *
 * @see spec §offline
 * @module
 */
import { formatFingerprint, deviceFingerprint, safetyNumber } from '../identity/fingerprint.js';
import { bundleOf } from '../identity/state.js';
import type { BareJid } from '../identity/jid.js';
import { AdversarialNetwork, EmbeddedServer, SealClient, carbonsEnableIq, presence } from '../net/index.js';
import { seededRng } from '../suite/rng.js';
import type { Element } from '../wire/xml.js';
import { prettyXml } from './examples.js';

const START = Date.UTC(2026, 10, 26, 9, 0, 0);

/** Runs the demo; returns the process exit code. */
export async function runDemo(options: { verbose: boolean; print: (line: string) => void }): Promise<number> {
  const { print } = options;
  let clock = START;
  const now = () => Math.floor(clock / 1000);
  const network = new AdversarialNetwork({ seed: 'demo' });
  if (options.verbose) {
    network.onWire = (direction: string, stanza: Element, jid: string) => {
      const text = prettyXml(stanza).replace(/>([A-Za-z0-9+/=]{60})[A-Za-z0-9+/=]+</g, '>$1…<').replace(/='([A-Za-z0-9+/=]{40})[A-Za-z0-9+/=]+'/g, "='$1…'");
      print(`    ${direction === 'to-server' ? '→ server' : '← ' + jid}\n${text.replace(/^/gm, '      ')}`);
    };
  }
  const server = new EmbeddedServer({ network, clock: () => clock, rng: seededRng('demo server') });
  const rng = seededRng('demo clients');
  const alice = 'alice@example.org' as BareJid;
  const bob = 'bob@example.net' as BareJid;
  server.createAccount(alice);
  server.createAccount(bob);
  const flush = async () => {
    clock += 1000;
    await network.flush();
  };
  const online = async (client: SealClient) => {
    await client.connection.iq(carbonsEnableIq());
    await client.connection.send(presence());
    await flush();
  };
  let failures = 0;
  const expect = (what: string, ok: boolean) => {
    print(`  ${ok ? '✓' : '✗'} ${what}`);
    if (!ok) failures++;
  };

  print('Seal demo on the embedded XMPP server (in memory; nothing leaves this process)\n');
  print('1. Alice connects her laptop and phone, Bob his desktop; each device publishes its bundle');
  const aliceLaptop = await SealClient.create({ connection: server.connect(`${alice}/laptop`), now, rng });
  const alicePhone = await SealClient.create({ connection: server.connect(`${alice}/phone`), now, rng });
  const bobDesktop = await SealClient.create({ connection: server.connect(`${bob}/desktop`), now, rng });
  await online(aliceLaptop);
  await online(alicePhone);
  for (const c of [aliceLaptop, alicePhone, bobDesktop]) {
    print(`   ${c.connection.jid.padEnd(26)} device ${String(c.state.deviceId).padStart(10)}  fingerprint ${formatFingerprint(deviceFingerprint(bundleOf(c.state).identity.signingKey))}`);
  }
  const number = safetyNumber({ jid: alice, key: bundleOf(aliceLaptop.state).identity.signingKey }, { jid: bob, key: bundleOf(bobDesktop.state).identity.signingKey });
  print(`   safety number (Alice's laptop, Bob's desktop): ${number}`);

  print('\n2. Bob is offline; Alice sends three messages from her laptop');
  for (const text of ['Are you there?', 'The plan changed.', 'Call me when you are back.']) {
    await aliceLaptop.send(bob, text);
    await flush();
  }
  expect('the server stored them for Bob (offline storage)', server.offlineOf(bob).length === 3);
  expect("Alice's phone read them too (carbons)", alicePhone.received.map((m) => m.body).join('|') === 'Are you there?|The plan changed.|Call me when you are back.');

  print('\n3. Bob comes online: offline storage delivers, then he also fetches the archive (MAM)');
  await online(bobDesktop);
  expect('Bob opened the three messages', bobDesktop.received.map((m) => m.body).join('|') === 'Are you there?|The plan changed.|Call me when you are back.');
  await bobDesktop.fetchArchive();
  await flush();
  const duplicates = bobDesktop.outcomes.filter((o) => o === 'duplicate').length;
  expect(`the same stanzas from the archive were recognised as duplicates (${duplicates})`, duplicates === 3 && bobDesktop.received.length === 3);

  print('\n4. Bob replies; both of Alice\'s devices read it');
  await bobDesktop.send(alice, 'Back now. What changed?');
  await flush();
  expect('Alice\'s laptop and phone each opened the reply once', [aliceLaptop, alicePhone].every((c) => c.received.filter((m) => m.body === 'Back now. What changed?').length === 1));

  print('\n5. Both online: Alice\'s laptop runs an interactive handshake (Noise XX + ML-KEM) with Bob\'s desktop');
  await aliceLaptop.startInteractive(`${bob}/desktop`, bobDesktop.state.deviceId);
  await flush();
  await flush();
  await flush();
  expect('both ended in the same new session', aliceLaptop.interactiveSessions.length === 1 && aliceLaptop.interactiveSessions[0] === bobDesktop.interactiveSessions[0]);
  await aliceLaptop.send(bob, 'Meet at the station at six.');
  await flush();
  expect('Bob opened a message on the interactive session', bobDesktop.received.at(-1)?.body === 'Meet at the station at six.');

  print('\n6. Bob adds a laptop; it joins his device list and receives from then on');
  const bobLaptop = await SealClient.create({ connection: server.connect(`${bob}/laptop`), now, rng });
  await online(bobLaptop);
  await aliceLaptop.send(bob, 'See you both.');
  await flush();
  expect('Bob\'s new laptop opened the new message', bobLaptop.received.map((m) => m.body).join('|') === 'See you both.');
  expect('and, as the spec says, nothing from before it existed', !bobLaptop.received.some((m) => m.body === 'Are you there?'));
  expect('Bob\'s desktop opened it too', bobDesktop.received.at(-1)?.body === 'See you both.');

  const all = [aliceLaptop, alicePhone, bobDesktop, bobLaptop];
  const opened = all.reduce((n, c) => n + c.received.length, 0);
  const errors = all.flatMap((c) => c.outcomes).filter((o) => o === 'error').length;
  print(`\nSummary: ${opened} messages opened across ${all.length} devices, ${duplicates} duplicates recognised, ${errors} errors; network: ${JSON.stringify(network.stats)}`);
  expect('every message arrived exactly once where it was meant to', failures === 0 && errors === 0);
  return failures === 0 ? 0 : 1;
}
