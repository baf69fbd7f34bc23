/**
 * The demo that `npm start` runs: a scripted conversation on the embedded in-memory server,
 * showing offline delivery, archive duplicates, carbons to own devices, an interactive handshake,
 * a new device (given the account key), a device restarted from its store that keeps its
 * sessions, a new identity key for a known device id that is held until the user accepts it, a
 * small file shared through the upload service (§files), and a members-only room of Alice, Bob and
 * Carol in which Carol, once removed, gets no key for what follows (§groups).
 * It prints the text of every message sent and opened, fingerprints and the safety number, and
 * says in one line each what a bundle, carbons and the archive are. Exit code 0
 * only if every message arrived exactly once at every device it was meant for, and the held one
 * only after it was accepted.
 *
 * @see spec §device
 * @see spec §offline
 * @see spec §files
 * @see spec §groups
 * @module
 */
import { fromHex, toHex } from '../codec/bytes.js';
import { MemoryStore } from '../device/store.js';
import type { SealEvent } from '../device/types.js';
import { type PeerSession, sealStanza, sessionKey, startRatchet } from '../envelope/index.js';
import { initiateAsync } from '../handshake/async.js';
import { verifyBundle } from '../identity/bundle.js';
import type { DeviceId } from '../identity/device.js';
import { verifyDeviceList } from '../identity/devicelist.js';
import { formatFingerprint, deviceFingerprint, safetyNumber } from '../identity/fingerprint.js';
import type { BareJid } from '../identity/jid.js';
import { DEVICE_LIST_NODE, bundleNode } from '../identity/pep.js';
import { type DeviceState, bundleOf, createDeviceState } from '../identity/state.js';
import { AdversarialNetwork, CARBONS_NS, EmbeddedServer, HttpUpload, SealClient, type XmppConnection, carbonsEnableIq, fetchItem } from '../net/index.js';
import { ed25519PublicKeyOf } from '../suite/signature.js';
import { seededRng } from '../suite/rng.js';
import { BundleElement } from '../wire/bundle.js';
import { DeviceListElement } from '../wire/devices.js';
import { type Element, xml } from '../wire/xml.js';
import { prettyXml } from './examples.js';
import { utf8Decode, utf8Encode } from '../codec/bytes.js';
import { configureRoomIq, joinPresence, setAffiliationIq } from '../wire/muc.js';

const START = Date.UTC(2026, 10, 26, 9, 0, 0);

/** A stanza as the demos print it with `--verbose`: indented XML, long base64 values shortened. */
export function wireText(stanza: Element): string {
  const text = prettyXml(stanza).replace(/>([A-Za-z0-9+/=]{60})[A-Za-z0-9+/=]+</g, '>$1…<').replace(/='([A-Za-z0-9+/=]{40})[A-Za-z0-9+/=]+'/g, "='$1…'");
  return text.replace(/^/gm, '      ');
}

/** A key (hex) as a fingerprint, in the display form users compare. */
function fingerprintOf(keyHex: string): string {
  return formatFingerprint(deviceFingerprint(fromHex(keyHex, 'key')));
}

/**
 * What a device whose identity key changed sends first: an asynchronous handshake to every device
 * of `to`, carrying a message, from the device id `deviceId` of the connection's account under a
 * fresh identity key. In the demo it stands for Bob's laptop after a reinstall that kept the
 * device id; a server forging Bob's device would send exactly the same.
 */
async function handshakeUnderNewKey(connection: XmppConnection, device: DeviceState, to: BareJid, body: string, now: number, seed: string): Promise<Element> {
  const listElement = await fetchItem(connection, to, DEVICE_LIST_NODE);
  const list = verifyDeviceList(to, DeviceListElement.fromXml(listElement!));
  const sessions = new Map<string, PeerSession>();
  for (const d of list.devices) {
    const bundle = verifyBundle(BundleElement.fromXml((await fetchItem(connection, to, bundleNode(d.id)))!), { jid: to, deviceId: d.id, now, deviceList: list });
    const started = initiateAsync({ self: device, peer: bundle, rng: seededRng(`${seed} handshake ${d.id}`) });
    sessions.set(sessionKey(to, d.id), { ratchet: startRatchet(started.session, seededRng(`${seed} ratchet ${d.id}`)), confirmation: { state: 'unconfirmed', header: started.header } });
  }
  const recipients = list.devices.map((d) => ({ jid: to, deviceId: d.id }));
  const { stanza } = sealStanza({ to, from: connection.jid, id: `${seed}-1`, senderDeviceId: device.deviceId, content: [xml('body', {}, [body])], recipients, sessions, rng: seededRng(`${seed} seal`), now });
  // No carbon copies to the account's other devices (XEP-0280 <private/>): this one is for Alice.
  stanza.cnode(xml('private', { xmlns: CARBONS_NS }));
  return stanza;
}

/** Runs the demo; returns the process exit code. */
export async function runDemo(options: { verbose: boolean; print: (line: string) => void }): Promise<number> {
  const { print } = options;
  let clock = START;
  const now = () => Math.floor(clock / 1000);
  const network = new AdversarialNetwork({ seed: 'demo' });
  if (options.verbose) {
    network.onWire = (direction: string, stanza: Element, jid: string) => print(`    ${direction === 'to-server' ? '→ server' : '← ' + jid}\n${wireText(stanza)}`);
  }
  const server = new EmbeddedServer({ network, clock: () => clock, rng: seededRng('demo server'), muc: 'conference.example.org', upload: { domain: 'upload.example.org' } });
  const rng = seededRng('demo clients');
  const alice = 'alice@example.org' as BareJid;
  const bob = 'bob@example.net' as BareJid;
  server.createAccount(alice);
  server.createAccount(bob);
  const carol = 'carol@example.com' as BareJid;
  server.createAccount(carol);
  const flush = async () => {
    clock += 1000;
    await network.flush();
  };
  const online = async (client: SealClient) => {
    await client.connection.iq(carbonsEnableIq());
    await client.connection.send(client.presence());
    await flush();
  };
  let failures = 0;
  const expect = (what: string, ok: boolean) => {
    print(`  ${ok ? '✓' : '✗'} ${what}`);
    if (!ok) failures++;
  };
  // Every client the demo started (a restart is a new client over the same store), its name, and
  // the texts it is meant to open, in order.
  const names = new Map<SealClient, string>();
  const meantFor = new Map<SealClient, string[]>();
  const meant = (text: string, ...clients: SealClient[]) => {
    for (const c of clients) meantFor.get(c)!.push(text);
  };
  const device = async (name: string, fullJid: string, extra: { store?: MemoryStore; accountKeyFrom?: SealClient } = {}) => {
    // A further device of an account is given the account key, which signs its device list.
    const accountSecret = extra.accountKeyFrom?.dangerouslyAccountSecret();
    const client = await SealClient.create({ connection: server.connect(fullJid), now, rng, ...(extra.store === undefined ? {} : { store: extra.store }), ...(accountSecret === undefined ? {} : { accountSecret }) });
    names.set(client, name);
    meantFor.set(client, []);
    client.onMessage((m) => print(`     ${name} opened "${m.body}" (from ${m.from.jid} device ${m.from.deviceId}, ${m.via}, key ${m.trust})`));
    return client;
  };
  /** Sends `text` from `client` to `to`, printing it first. */
  const say = async (client: SealClient, to: BareJid, text: string) => {
    print(`     ${names.get(client)} sends "${text}" to ${to}`);
    await client.send(to, text);
  };
  const sinceMark = (client: SealClient, mark: number): SealEvent[] => client.events.slice(mark);
  const bodies = (client: SealClient) => client.received.map((m) => m.body);

  print('Seal demo on the embedded XMPP server (in memory; nothing leaves this process)\n');
  print('1. Alice connects her laptop and phone, Bob his desktop; each device publishes its bundle');
  print('   and its account\'s device list, signed by the account key. The laptop creates Alice\'s');
  print('   account key; her phone is given it to add itself (in an app: linked from the laptop)');
  print("   (A bundle: a device's public keys and prekeys, published through PEP so others can start a session while it is offline.)");
  const aliceLaptop = await device("Alice's laptop", `${alice}/laptop`);
  const alicePhone = await device("Alice's phone", `${alice}/phone`, { accountKeyFrom: aliceLaptop });
  const bobStore = new MemoryStore();
  let bobDesktop = await device("Bob's desktop", `${bob}/desktop`, { store: bobStore });
  await online(aliceLaptop);
  await online(alicePhone);
  for (const c of [aliceLaptop, alicePhone, bobDesktop]) {
    print(`   ${c.connection.jid.padEnd(26)} device ${String(c.state.deviceId).padStart(10)}  fingerprint ${formatFingerprint(deviceFingerprint(bundleOf(c.state).identity.signingKey))}`);
  }
  const number = safetyNumber({ jid: alice, key: bundleOf(aliceLaptop.state).identity.signingKey }, { jid: bob, key: bundleOf(bobDesktop.state).identity.signingKey });
  print(`   safety number (Alice's laptop, Bob's desktop): ${number}`);
  expect("Alice's account lists both of her devices", (await bobDesktop.devicesOf(alice)).length === 2);

  print('\n2. Bob is offline; Alice sends three messages from her laptop');
  print('   (Carbons, XEP-0280: the server copies each message an account sends or receives to its other online devices.)');
  const first = ['Are you there?', 'The plan changed.', 'Call me when you are back.'];
  for (const text of first) {
    await say(aliceLaptop, bob, text);
    meant(text, alicePhone, bobDesktop);
    await flush();
  }
  expect('the server stored them for Bob (offline storage)', server.offlineOf(bob).length === 3);
  expect("Alice's phone read them too (carbons)", bodies(alicePhone).join('|') === first.join('|'));

  print('\n3. Bob comes online: offline storage delivers, then he also fetches the archive (MAM)');
  print("   (The archive, MAM/XEP-0313: the server's copy of every message, fetched to catch up; a stanza may arrive twice.)");
  await online(bobDesktop);
  expect('Bob opened the three messages', bodies(bobDesktop).join('|') === first.join('|'));
  await bobDesktop.fetchArchive();
  await flush();
  const duplicates = bobDesktop.events.filter((e) => e.kind === 'duplicate').length;
  expect(`the same stanzas from the archive were recognised as duplicates (${duplicates})`, duplicates === 3 && bobDesktop.received.length === 3);

  print("\n4. Bob replies; both of Alice's devices read it");
  await say(bobDesktop, alice, 'Back now. What changed?');
  meant('Back now. What changed?', aliceLaptop, alicePhone);
  await flush();
  expect("Alice's laptop and phone each opened the reply once", [aliceLaptop, alicePhone].every((c) => bodies(c).filter((b) => b === 'Back now. What changed?').length === 1));

  print("\n5. Both online: Alice's laptop runs an interactive handshake (Seal-XX+KEM: Noise XX with ML-KEM, in iq stanzas) with Bob's desktop");
  await aliceLaptop.startInteractive(`${bob}/desktop`, bobDesktop.state.deviceId);
  await flush();
  await flush();
  await flush();
  const interactive = (c: SealClient) => c.events.flatMap((e) => (e.kind === 'session-started' && e.handshake === 'interactive' ? [e.sessionId] : []));
  expect('both ended in the same new session', interactive(aliceLaptop).length === 1 && interactive(aliceLaptop)[0] === interactive(bobDesktop)[0]);
  await say(aliceLaptop, bob, 'Meet at the station at six.');
  meant('Meet at the station at six.', alicePhone, bobDesktop);
  await flush();
  expect('Bob opened a message on the interactive session', bobDesktop.received.at(-1)?.body === 'Meet at the station at six.');

  print("\n6. Bob adds a laptop, given his account key by the desktop; it joins his signed device list");
  print('   and receives from then on');
  const bobLaptop = await device("Bob's laptop", `${bob}/laptop`, { accountKeyFrom: bobDesktop });
  await online(bobLaptop);
  await say(aliceLaptop, bob, 'See you both.');
  meant('See you both.', alicePhone, bobDesktop, bobLaptop);
  await flush();
  expect("Bob's new laptop opened the new message", bodies(bobLaptop).join('|') === 'See you both.');
  expect('and, as the spec says, nothing from before it existed', !bodies(bobLaptop).includes('Are you there?'));
  expect("Bob's desktop opened it too", bobDesktop.received.at(-1)?.body === 'See you both.');

  print("\n7. Bob's desktop restarts: a new client over the same store is the same device, with its sessions");
  const before = { deviceId: bobDesktop.state.deviceId, sessions: bobDesktop.sessions.size };
  await bobDesktop.connection.close();
  bobDesktop = await device("Bob's desktop (restarted)", `${bob}/desktop`, { store: bobStore });
  await online(bobDesktop);
  print(`   device ${bobDesktop.state.deviceId} (before the restart: ${before.deviceId}), ${bobDesktop.sessions.size} sessions restored`);
  expect('the same device id and the same sessions', bobDesktop.state.deviceId === before.deviceId && bobDesktop.sessions.size === before.sessions);
  expect('no message opened again after the restart', bobDesktop.received.length === 0);
  const aliceMark = aliceLaptop.events.length;
  const phoneMark = alicePhone.events.length;
  await say(aliceLaptop, bob, 'Did your desktop just restart?');
  meant('Did your desktop just restart?', alicePhone, bobDesktop, bobLaptop);
  await flush();
  await say(bobDesktop, alice, 'Yes. Same device, same keys.');
  meant('Yes. Same device, same keys.', aliceLaptop, alicePhone, bobLaptop);
  await flush();
  const withAlice = (events: readonly SealEvent[]) => events.filter((e) => e.kind === 'session-started' && e.peer.jid === alice).length;
  const withBob = (events: readonly SealEvent[]) => events.filter((e) => e.kind === 'session-started' && e.peer.jid === bob).length;
  expect("Alice's next message opened on the session from before the restart (no new handshake)", bodies(bobDesktop).join('|') === 'Did your desktop just restart?' && withAlice(bobDesktop.events) === 0);
  expect('and so did the reply on Alice\'s devices', [aliceLaptop, alicePhone].every((c) => bodies(c).at(-1) === 'Yes. Same device, same keys.') && withBob(sinceMark(aliceLaptop, aliceMark)) + withBob(sinceMark(alicePhone, phoneMark)) === 0);
  print("   (the reply also starts the desktop's first session with Bob's new laptop: they had not spoken yet)");

  print("\n8. A new identity key for a known device: Bob's laptop is wiped and Seal reinstalled; the new");
  print('   install kept the device id but has a new key, which Bob\'s signed device list does not name');
  print('   (a server that invents a device for Bob looks exactly the same; here the server injects it)');
  const laptopId: DeviceId = bobLaptop.state.deviceId;
  const oldKey = toHex(bundleOf(bobLaptop.state).identity.signingKey);
  await bobLaptop.connection.close();
  const reinstalled: DeviceState = { ...createDeviceState({ jid: bob, now: now(), rng: seededRng('demo reinstalled laptop'), oneTimePrekeys: 1 }), deviceId: laptopId };
  const newKey = toHex(ed25519PublicKeyOf(reinstalled.signingKey));
  const wire = server.connect(`${bob}/laptop`);
  const marks = new Map([aliceLaptop, alicePhone].map((c) => [c, c.events.length]));
  print(`     Bob's laptop (reinstalled) sends "My laptop was wiped: new key, same device." to ${alice}`);
  await wire.send(await handshakeUnderNewKey(wire, reinstalled, alice, 'My laptop was wiped: new key, same device.', now(), 'demo reinstall'));
  await flush();
  const decisions = [aliceLaptop, alicePhone].flatMap((c) => sinceMark(c, marks.get(c)!).flatMap((e) => (e.kind === 'decision-needed' ? [e] : [])));
  for (const d of decisions.slice(0, 1)) {
    print(`   decision needed (${d.reason}) for ${d.jid} device ${d.deviceId}:`);
    print(`     fingerprint on record ${fingerprintOf(d.previousKey ?? '')}`);
    print(`     fingerprint presented ${fingerprintOf(d.key)}`);
  }
  expect("both of Alice's devices refuse it for now: held, nothing opened, and they ask her (decision-needed)", decisions.length === 2 && decisions.every((d) => d.key === newKey && d.previousKey === oldKey && d.deviceId === laptopId) && [aliceLaptop, alicePhone].every((c) => sinceMark(c, marks.get(c)!).every((e) => e.kind !== 'opened')));
  const bound = () => aliceLaptop.engine.state.peers.get(sessionKey(bob, laptopId))?.signingKey;
  expect("Alice's session with that device id is still bound to the old key", bound() === oldKey);
  await say(aliceLaptop, bob, 'Is that really you?');
  meant('Is that really you?', alicePhone, bobDesktop);
  await flush();
  expect('meanwhile her messages go only to keys she knows: Bob\'s desktop opened hers', bodies(bobDesktop).at(-1) === 'Is that really you?');
  print(`   Bob reads the fingerprint on his reinstalled laptop: ${fingerprintOf(newKey)}`);
  print('   It matches the one presented; Alice accepts the new key on both of her devices (decide)');
  for (const c of [aliceLaptop, alicePhone]) await c.decide(bob, { deviceId: laptopId }, newKey, 'verified');
  meant('My laptop was wiped: new key, same device.', aliceLaptop, alicePhone);
  await flush();
  const changed = [aliceLaptop, alicePhone].every((c) => sinceMark(c, marks.get(c)!).some((e) => e.kind === 'key-changed' && e.key === newKey && e.acceptedBy === 'user'));
  expect('the held message opened once on each, from the new key (now verified)', changed && [aliceLaptop, alicePhone].every((c) => c.received.filter((m) => m.body === 'My laptop was wiped: new key, same device.' && m.trust === 'verified').length === 1) && bound() === newKey);

  print('\n9. Alice sends Bob a small file: encrypted with Seal\'s stream cipher, uploaded to her server\'s');
  print('   HTTP upload service, its key and hashes sealed in the message; Bob downloads and checks it');
  print('   (HTTP File Upload, XEP-0363: the server stores the file and hands out a URL; here it only ever sees ciphertext.)');
  // Blind trust before verification: once Alice verified one of Bob's devices, his unverified
  // ones wait for her decision; she compares the desktop's fingerprint too.
  const desktopKey = toHex(bundleOf(bobDesktop.state).identity.signingKey);
  print(`   Alice has verified one of Bob's devices, so his others now wait for her: she compares the desktop's fingerprint too (${fingerprintOf(desktopKey).slice(0, 17)}…) and verifies it`);
  for (const c of [aliceLaptop, alicePhone]) await c.decide(bob, { deviceId: bobDesktop.state.deviceId }, desktopKey, 'verified');
  const notes = utf8Encode('Station, six o\'clock. Bring the map.\n');
  print(`     Alice's laptop sends "notes.txt" to ${bob}: a file of ${notes.length} bytes`);
  await aliceLaptop.sendFile(bob, { name: 'notes.txt', mediaType: 'text/plain', data: notes, size: notes.length }, new HttpUpload({ connection: aliceLaptop.connection, service: 'upload.example.org', fetch: server.upload!.fetch, rng }));
  meant('notes.txt', alicePhone, bobDesktop);
  await flush();
  const offered = bobDesktop.received.at(-1)?.files[0];
  const fetched = offered === undefined ? undefined : await new HttpUpload({ connection: bobDesktop.connection, service: 'upload.example.org', fetch: server.upload!.fetch, rng }).download(offered);
  if (fetched !== undefined) print(`     Bob's desktop downloaded and opened notes.txt: "${utf8Decode(fetched).trim()}"`);
  expect('Bob was offered the file, and its bytes matched the sealed hashes after download', offered?.kind === 'stream' && fetched !== undefined && utf8Decode(fetched) === utf8Decode(notes));
  const request = server.upload!.requests.at(-1);
  expect(`the upload service saw a random name and ${request?.size ?? '?'} bytes of ciphertext, not notes.txt`, request !== undefined && !request.filename.includes('notes') && request.contentType === 'application/octet-stream');

  print('\n10. A room: Alice opens council@conference.example.org (members-only, non-anonymous), adds Bob');
  print('    and Carol as members; each message is sealed once, its key wrapped for every member\'s devices');
  print('    (A members-only room: only accounts on its lists may enter; non-anonymous: members see each other\'s real address.)');
  const room = 'council@conference.example.org' as BareJid;
  const carolHome = await device("Carol's tablet", `${carol}/tablet`);
  await online(carolHome);
  await aliceLaptop.connection.send(joinPresence(`${room}/alice`));
  await flush();
  await aliceLaptop.connection.iq(configureRoomIq('demo-cfg', room, { membersOnly: true, nonAnonymous: true }));
  for (const member of [bob, carol]) await aliceLaptop.connection.iq(setAffiliationIq(`demo-aff-${member}`, room, member, 'member'));
  await aliceLaptop.joinRoom(room, 'alice');
  await bobDesktop.joinRoom(room, 'bob');
  await carolHome.joinRoom(room, 'carol');
  await flush();
  const sayRoom = async (client: SealClient, text: string) => {
    print(`     ${names.get(client)} says "${text}" in ${room}`);
    await client.sendRoom(room, text);
  };
  await sayRoom(aliceLaptop, 'Welcome to the council.');
  meant('Welcome to the council.', bobDesktop, carolHome);
  await flush();
  await sayRoom(carolHome, 'Glad to be here.');
  meant('Glad to be here.', aliceLaptop, bobDesktop);
  await flush();
  expect('Bob and Carol opened Alice\'s room message, and Alice and Bob Carol\'s, each with the sender\'s real address', bodies(carolHome).includes('Welcome to the council.') && aliceLaptop.received.some((m) => m.body === 'Glad to be here.' && m.room === room && m.from.jid === carol));
  print('    Alice removes Carol from the member list; the room tells its occupants, and Alice\'s next');
  print('    message has no key for Carol\'s devices');
  await aliceLaptop.connection.iq(setAffiliationIq('demo-remove-carol', room, carol, 'none'));
  await flush();
  await sayRoom(aliceLaptop, 'Carol has left the council.');
  meant('Carol has left the council.', bobDesktop);
  await flush();
  const last = server.muc!.archiveOf(room).at(-1)?.toString() ?? '';
  expect('Bob opened it; Carol\'s tablet got no key for it and opened nothing more', bodies(bobDesktop).at(-1) === 'Carol has left the council.' && !last.includes(`jid='${carol}'`) && bodies(carolHome).join('|') === 'Welcome to the council.');

  const all = [...names.keys()];
  const opened = all.reduce((n, c) => n + c.received.length, 0);
  const errors = all.flatMap((c) => c.events).filter((e) => e.kind === 'failed');
  for (const e of errors) if (e.kind === 'failed') print(`   failed: ${e.code} ${e.message}`);
  const wrong = all.filter((c) => bodies(c).join('|') !== meantFor.get(c)!.join('|'));
  for (const c of wrong) print(`   ${names.get(c)} opened [${bodies(c).join(' | ')}], meant [${meantFor.get(c)!.join(' | ')}]`);
  print(`\nSummary: ${opened} messages opened across ${all.length} clients (${new Set(all.map((c) => `${c.jid}/${c.state.deviceId}`)).size} devices, one restarted), ${duplicates} duplicates recognised, ${errors.length} errors; network: ${JSON.stringify(network.stats)}`);
  expect('every message arrived exactly once where it was meant to', failures === 0 && errors.length === 0 && wrong.length === 0);
  return failures === 0 ? 0 : 1;
}
