/**
 * §groups: Seal in a members-only, non-anonymous room of the embedded server's MUC service,
 * through SealClient (the engine's IO shell): three accounts, Alice with two devices; a member
 * offline reads the room's archive later; the sender's reflection; a removed member and a late
 * joiner; a configuration change; the size rule; forged archive results and senders.
 */
import { describe, expect, it } from 'vitest';
import { GROUPS_CONSTANTS } from '../src/groups/constants.js';
import { SealEngine } from '../src/device/engine.js';
import { MemoryStore } from '../src/device/store.js';
import type { SealEvent } from '../src/device/types.js';
import { isSealError } from '../src/errors.js';
import { bareJid } from '../src/identity/jid.js';
import { EmbeddedServer, SealClient, presence } from '../src/net/index.js';
import { seededRng } from '../src/suite/rng.js';
import { SEAL_NS } from '../src/suite/suite.js';
import { SealedElement } from '../src/wire/sealed.js';
import { configureRoomIq, joinPresence, setAffiliationIq } from '../src/wire/muc.js';
import { type Element, parseXml, xml } from '../src/wire/xml.js';
import { opened } from './support/store-conformance.js';

const ALICE = bareJid('alice@example.org');
const BOB = bareJid('bob@example.net');
const CAROL = bareJid('carol@example.com');
const DAVE = bareJid('dave@example.org');
const EVE = bareJid('eve@example.org');
const ROOM = bareJid('council@conference.example.org');

const failures = (events: readonly SealEvent[]) => events.flatMap((e) => (e.kind === 'failed' ? [e.code] : []));

/** An embedded server with a MUC service, a clock the test moves, and accounts alice, bob, carol, dave, eve. */
class GroupWorld {
  clock = Date.UTC(2026, 10, 26, 9);
  readonly server: EmbeddedServer;
  readonly rng = seededRng('groups clients');
  readonly now = (): number => Math.floor((this.clock += 1000) / 1000);
  /** Every stanza each client sent, by full JID. */
  readonly sent = new Map<string, Element[]>();

  constructor(name: string) {
    this.server = new EmbeddedServer({ clock: () => this.clock, rng: seededRng(`${name} server`), muc: 'conference.example.org' });
    for (const jid of [ALICE, BOB, CAROL, DAVE, EVE]) this.server.createAccount(jid);
  }

  async client(fullJid: string, options: { accountSecret?: SealClient['state']['signingKey']; store?: MemoryStore; online?: boolean; oneTimePrekeys?: number } = {}): Promise<SealClient> {
    const inner = this.server.connect(fullJid);
    const sent: Element[] = [];
    this.sent.set(fullJid, sent);
    const connection = { jid: inner.jid, send: async (s: Element) => { sent.push(s); return inner.send(s); }, iq: (r: Element) => inner.iq(r), onStanza: inner.onStanza.bind(inner), close: () => inner.close() };
    const client = await SealClient.create({ connection, now: this.now, rng: this.rng, oneTimePrekeys: options.oneTimePrekeys ?? 5, ...(options.store === undefined ? {} : { store: options.store }), ...(options.accountSecret === undefined ? {} : { accountSecret: options.accountSecret }) });
    if (options.online !== false) await connection.send(presence());
    await this.flush();
    return client;
  }

  async flush(): Promise<void> {
    await this.server.network.flush();
  }

  /** The groupchat stanzas `fullJid` sent to the room. */
  roomStanzas(fullJid: string): Element[] {
    return (this.sent.get(fullJid) ?? []).filter((s) => s.attrs.type === 'groupchat' && s.attrs.to === ROOM);
  }
}

/** The recipient devices (`jid/id`) of a sealed room stanza, and its sender attribute. */
function keysOf(stanza: Element): { sender: string | undefined; devices: string[] } {
  const sealed = SealedElement.fromXml(stanza.getChild('sealed', SEAL_NS)!);
  return { sender: sealed.sender, devices: sealed.recipients.flatMap((r) => r.keys.map((k) => `${r.jid}/${k.rid}`)).sort() };
}

/**
 * Alice (owner, a phone and a laptop), Bob and Carol (members): Alice's phone creates the room
 * (members-only, non-anonymous) through XEP-0045 requests, the phone and Bob enter it; the
 * laptop and Carol are online but not in the room.
 */
async function council(name: string) {
  const world = new GroupWorld(name);
  const phone = await world.client(`${ALICE}/phone`);
  const laptop = await world.client(`${ALICE}/laptop`, { accountSecret: phone.dangerouslyAccountSecret()! });
  const bob = await world.client(`${BOB}/desk`);
  const carol = await world.client(`${CAROL}/home`);
  await phone.connection.send(joinPresence(`${ROOM}/alice`));
  await world.flush();
  await phone.connection.iq(configureRoomIq('cfg', ROOM, { membersOnly: true, nonAnonymous: true }));
  for (const jid of [BOB, CAROL]) await phone.connection.iq(setAffiliationIq(`aff-${jid}`, ROOM, jid, 'member'));
  await phone.joinRoom(ROOM, 'alice');
  await bob.joinRoom(ROOM, 'bob');
  await world.flush();
  return { world, phone, laptop, bob, carol };
}

const devicesOf = (...clients: SealClient[]) => clients.map((c) => `${c.jid}/${c.state.deviceId}`).sort();

describe('§groups: a members-only, non-anonymous room on the embedded server', () => {
  it('one message reaches every member device: live, and from the room archive for devices that were not in the room', async () => {
    // @req groups.message
    // @req groups.recipients
    // @req groups.open
    const { world, phone, laptop, bob, carol } = await council('one message');
    expect(phone.events.filter((e) => e.kind === 'room-config')).toEqual([{ kind: 'room-config', room: ROOM, secure: true, membersOnly: true, nonAnonymous: true }]);
    expect(phone.engine.room(ROOM)?.members?.map((m) => `${m.jid} ${m.affiliation}`)).toEqual([`${ALICE} owner`, `${BOB} member`, `${CAROL} member`]);
    await phone.sendRoom(ROOM, 'the council is open');
    await world.flush();

    // The stanza: groupchat to the room's bare JID, naming its sender; keys for every member device (the occupants are only the phone and Bob) and the laptop, none for the phone.
    const [stanza] = world.roomStanzas(`${ALICE}/phone`);
    expect(stanza).toBeDefined();
    expect(keysOf(stanza!)).toEqual({ sender: ALICE, devices: devicesOf(laptop, bob, carol) });
    expect(stanza!.getChild('encryption', 'urn:xmpp:eme:0')).toBeDefined();
    expect(stanza!.getChild('store', 'urn:xmpp:hints')).toBeDefined();

    // Bob, in the room: opened as Alice's message to the room, never as one from the nick.
    const bobMessage = bob.events.find((e) => e.kind === 'opened');
    expect(bobMessage).toMatchObject({ kind: 'opened', body: 'the council is open', from: { jid: ALICE, deviceId: phone.state.deviceId }, to: ROOM, room: ROOM, via: 'live' });
    expect(bob.received.map((m) => [m.body, m.room])).toEqual([['the council is open', ROOM]]);

    // The laptop and Carol were not in the room: they read its archive.
    await laptop.fetchRoomArchive(ROOM);
    await carol.joinRoom(ROOM, 'carol');
    await carol.fetchRoomArchive(ROOM);
    await world.flush();
    for (const device of [laptop, carol]) {
      expect(device.received.map((m) => [m.body, m.from.jid, m.room, m.via])).toEqual([['the council is open', ALICE, ROOM, 'archive']]);
      expect(failures(device.events)).toEqual([]);
    }
  });

  it("the sender recognises the room's reflection of its own message, live and from the archive: no failure, no repair", async () => {
    // @req groups.reflection
    const { world, phone, laptop, bob } = await council('reflection');
    await phone.sendRoom(ROOM, 'first');
    await world.flush();
    expect(phone.events.filter((e) => e.kind === 'reflected')).toEqual([{ kind: 'reflected', room: ROOM, stanzaId: world.roomStanzas(`${ALICE}/phone`)[0]!.attrs.id }]);
    await phone.fetchRoomArchive(ROOM);
    await world.flush();
    expect(failures(phone.events)).toEqual([]);
    expect(phone.events.some((e) => e.kind === 'repair-sent')).toBe(false);
    expect(opened(phone.events)).toEqual([]);
    // The laptop, the sender's other device, opens the reflection live once it is in the room.
    await laptop.joinRoom(ROOM, 'alice-laptop');
    await world.flush();
    await phone.sendRoom(ROOM, 'second');
    await world.flush();
    expect(opened(laptop.events)).toEqual(['second']);
    expect(opened(bob.events)).toEqual(['first', 'second']);
  });

  it('a removed member gets no key for the next message and cannot open it; the others can', async () => {
    // @req groups.membership
    const { world, phone, bob, carol } = await council('removal');
    await carol.joinRoom(ROOM, 'carol');
    await world.flush();
    await phone.sendRoom(ROOM, 'before');
    await world.flush();
    expect(opened(carol.events)).toEqual(['before']);

    await phone.connection.iq(setAffiliationIq('remove-carol', ROOM, CAROL, 'none'));
    await world.flush();
    // The room's notice made the phone fetch the lists again.
    expect(phone.events.filter((e) => e.kind === 'room-members')).toEqual([{ kind: 'room-members', room: ROOM, added: [], removed: [CAROL] }]);

    await phone.sendRoom(ROOM, 'after');
    await world.flush();
    const after = world.roomStanzas(`${ALICE}/phone`).at(-1)!;
    expect(keysOf(after).devices.some((d) => d.startsWith(`${CAROL}/`))).toBe(false);
    expect(opened(bob.events)).toEqual(['before', 'after']);
    // Carol was removed from the room and may not read its archive; the stanza, however obtained, does not open.
    const mark = carol.events.length;
    const copy = parseXml(after.toString());
    copy.attrs = { ...copy.attrs, from: `${ROOM}/alice`, to: `${CAROL}/home` };
    await carol.receive(copy);
    expect(opened(carol.events)).toEqual(['before']);
    expect(failures(carol.events.slice(mark))).toEqual(['not-for-this-device']);
    await expect(carol.fetchRoomArchive(ROOM)).rejects.toMatchObject({ condition: 'forbidden' });
  });

  it('a late joiner cannot open messages sealed before the sender processed its membership, and opens the later ones', async () => {
    // @req groups.membership
    // @req groups.recipients
    const { world, phone, bob } = await council('late joiner');
    await phone.sendRoom(ROOM, 'before dave');
    await world.flush();
    await phone.connection.iq(setAffiliationIq('add-dave', ROOM, DAVE, 'member'));
    await world.flush();
    expect(phone.events.filter((e) => e.kind === 'room-members')).toEqual([{ kind: 'room-members', room: ROOM, added: [DAVE], removed: [] }]);
    const dave = await world.client(`${DAVE}/new`);
    // Dave had no device list when the phone fetched the lists; the next send fetches it.
    await phone.sendRoom(ROOM, 'welcome dave');
    await world.flush();
    expect(keysOf(world.roomStanzas(`${ALICE}/phone`).at(-1)!).devices).toContain(`${DAVE}/${dave.state.deviceId}`);
    await dave.joinRoom(ROOM, 'dave');
    await dave.fetchRoomArchive(ROOM);
    await world.flush();
    expect(opened(dave.events)).toEqual(['welcome dave']);
    // The earlier message is in the archive, but holds no key for Dave's device; an archive result starts no repair.
    expect(failures(dave.events)).toEqual(['not-for-this-device']);
    expect(dave.events.some((e) => e.kind === 'repair-sent')).toBe(false);
    expect(opened(bob.events)).toEqual(['before dave', 'welcome dave']);
  });

  it('a configuration change that makes the room open stops encryption at once and is reported; nothing is sent', async () => {
    // @req groups.config-change
    // @req groups.room-config
    const { world, phone, bob } = await council('configuration');
    await phone.connection.iq(configureRoomIq('open-up', ROOM, { membersOnly: false, nonAnonymous: true }));
    await world.flush();
    for (const device of [phone, bob]) {
      expect(device.events.filter((e) => e.kind === 'room-config').at(-1)).toEqual({ kind: 'room-config', room: ROOM, secure: false, membersOnly: false, nonAnonymous: true });
    }
    const sentBefore = world.roomStanzas(`${ALICE}/phone`).length;
    await expect(phone.sendRoom(ROOM, 'secret')).rejects.toSatisfy((e: unknown) => isSealError(e, 'room-not-secure'));
    expect(world.roomStanzas(`${ALICE}/phone`)).toHaveLength(sentBefore);
    // Back to members-only: encrypted again, after the next result says so.
    await phone.connection.iq(configureRoomIq('close', ROOM, { membersOnly: true, nonAnonymous: true }));
    await world.flush();
    await phone.sendRoom(ROOM, 'private again');
    await world.flush();
    expect(opened(bob.events)).toEqual(['private again']);
  });

  it('a semi-anonymous room is never encrypted to', async () => {
    // @req groups.room-config
    const world = new GroupWorld('semi-anonymous');
    const alice = await world.client(`${ALICE}/phone`);
    await world.client(`${BOB}/desk`);
    world.server.muc!.createRoom(ROOM, ALICE, { membersOnly: true, whois: 'moderators' });
    await alice.joinRoom(ROOM, 'alice');
    await world.flush();
    expect(alice.events.filter((e) => e.kind === 'room-config')).toEqual([{ kind: 'room-config', room: ROOM, secure: false, membersOnly: true, nonAnonymous: false }]);
    await expect(alice.sendRoom(ROOM, 'hello')).rejects.toSatisfy((e: unknown) => isSealError(e, 'room-not-secure'));
  });

  it('room state older than ROOM_STATE_MAX_AGE refuses a send through the engine; the shell fetches it again first', async () => {
    // @req groups.state-age
    const { world, phone, bob } = await council('state age');
    world.clock += (GROUPS_CONSTANTS.ROOM_STATE_MAX_AGE + 1) * 1000;
    const attempt = () => phone.engine.step({ kind: 'send-room', room: ROOM, content: [xml('body', {}, ['stale'])], id: 'stale-1' }, { now: world.now(), rng: world.rng });
    expect(attempt).toThrow(expect.objectContaining({ code: 'room-not-secure' }));
    const before = phone.engine.room(ROOM)!.membersAt!;
    await phone.sendRoom(ROOM, 'fresh');
    await world.flush();
    expect(phone.engine.room(ROOM)!.membersAt!).toBeGreaterThan(before);
    expect(opened(bob.events)).toEqual(['fresh']);
  });

  it('a member without a Seal device list blocks the room, as one without Seal blocks a one-to-one message', async () => {
    // @req groups.send-all-members
    const { world, phone, bob } = await council('member without seal');
    await phone.connection.iq(setAffiliationIq('add-eve', ROOM, EVE, 'member'));
    await world.flush();
    await expect(phone.sendRoom(ROOM, 'hello')).rejects.toSatisfy((e: unknown) => isSealError(e, 'no-devices'));
    await phone.connection.iq(setAffiliationIq('remove-eve', ROOM, EVE, 'none'));
    await world.flush();
    await phone.sendRoom(ROOM, 'hello');
    await world.flush();
    expect(opened(bob.events)).toEqual(['hello']);
  });

  it('room archive results only from the room, for a query this device sent to it; a rewritten sender does not open', async () => {
    // @req groups.open
    const { world, phone, bob, carol } = await council('forged');
    await phone.sendRoom(ROOM, 'genuine');
    await world.flush();
    const archived = world.server.muc!.archiveOf(ROOM)[0]!;
    const wrap = (queryid: string, from: string) =>
      xml('message', { from, to: `${CAROL}/home`, id: 'w' }, [xml('result', { xmlns: 'urn:xmpp:mam:2', queryid, id: 'r1' }, [xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, [parseXml(archived.toString().replace('<message ', "<message xmlns='jabber:client' "))])])]);
    await carol.joinRoom(ROOM, 'carol');
    await world.flush();
    const mark = carol.events.length;
    await carol.receive(wrap('never-sent', ROOM));
    expect(failures(carol.events.slice(mark))).toEqual(['forged-forward']);
    expect(opened(carol.events)).toEqual([]);
    // A room message whose sender attribute names Bob: no session or listed device of Bob's
    // opens it, so it is held (a handshake from a device Bob's list does not name) or fails,
    // and is never shown as Bob's.
    const reflected = parseXml(world.roomStanzas(`${ALICE}/phone`)[0]!.toString());
    reflected.getChild('sealed', SEAL_NS)!.attrs.sender = BOB;
    reflected.attrs = { ...reflected.attrs, from: `${ROOM}/bob`, to: `${CAROL}/home` };
    const before = carol.events.length;
    await carol.receive(reflected);
    expect(opened(carol.events)).toEqual([]);
    expect(carol.events.slice(before).some((e) => e.kind === 'held' || e.kind === 'failed')).toBe(true);
    // The genuine copy still opens afterwards: the failure changed nothing.
    const genuine = parseXml(world.roomStanzas(`${ALICE}/phone`)[0]!.toString());
    genuine.attrs = { ...genuine.attrs, from: `${ROOM}/alice`, to: `${CAROL}/home` };
    await carol.receive(genuine);
    expect(opened(carol.events)).toEqual(['genuine']);
    expect(opened(bob.events)).toEqual(['genuine']);
  });

  it('a groupchat message from a room the device has not entered is not opened, nor taken as a one-to-one message', async () => {
    // @req groups.open
    const { world, phone, carol } = await council('not entered');
    await phone.sendRoom(ROOM, 'members only');
    await world.flush();
    const copy = parseXml(world.roomStanzas(`${ALICE}/phone`)[0]!.toString());
    copy.attrs = { ...copy.attrs, from: `${ROOM}/alice`, to: `${CAROL}/home` };
    const mark = carol.events.length;
    await carol.receive(copy);
    expect(carol.events.slice(mark)).toEqual([]);
  });

  it('the adversarial network applies to room traffic: duplicated and reordered room messages open once each, tampered ones fail and change nothing', async () => {
    // @req groups.open
    const { world, phone, bob } = await council('adversarial network');
    world.server.network.setPolicy({ duplicate: 1 });
    for (const text of ['one', 'two']) await phone.sendRoom(ROOM, text);
    await world.flush();
    expect(opened(bob.events)).toEqual(['one', 'two']);
    expect(bob.events.filter((e) => e.kind === 'duplicate')).toHaveLength(2);
    world.server.network.setPolicy({ reorder: 1, reorderWindow: 3 });
    for (const text of ['three', 'four', 'five']) await phone.sendRoom(ROOM, text);
    await world.flush();
    expect(opened(bob.events).slice(2).sort()).toEqual(['five', 'four', 'three']);
    expect(world.server.network.stats.reordered).toBeGreaterThan(0);
    world.server.network.setPolicy({ tamper: 1 });
    await phone.sendRoom(ROOM, 'tampered');
    await world.flush();
    world.server.network.setPolicy({});
    expect(opened(bob.events)).not.toContain('tampered');
    await phone.sendRoom(ROOM, 'after the tampering');
    await world.flush();
    expect(opened(bob.events).at(-1)).toBe('after the tampering');
  });

  it('the rooms a device tracks are records of its store: a restored device still knows them', async () => {
    // @req groups.recipients
    const world = new GroupWorld('restart');
    const store = new MemoryStore();
    const alice = await world.client(`${ALICE}/phone`, { store });
    world.server.muc!.createRoom(ROOM, ALICE, { membersOnly: true, whois: 'anyone' });
    await alice.joinRoom(ROOM, 'alice');
    await world.flush();
    const restored = SealEngine.load(store.snapshot());
    expect(restored.room(ROOM)).toEqual(alice.engine.room(ROOM));
    expect(store.snapshot().filter((r) => r.table === 'room').map((r) => r.key)).toEqual([ROOM]);
  });
});

describe('§groups.limits: handshake headers beyond MAX_ROOM_STANZA_BYTES go ahead in key-only room stanzas', () => {
  it('a large message to many new devices: key-only stanzas with the headers first, the message without them; every device opens it', { timeout: 120_000 }, async () => {
    // @req groups.size
    const world = new GroupWorld('size');
    const alice = await world.client(`${ALICE}/phone`);
    const first = await world.client(`${BOB}/d0`, { oneTimePrekeys: 1 });
    const bobs: SealClient[] = [first];
    for (let i = 1; i < 60; i++) bobs.push(await world.client(`${BOB}/d${i}`, { accountSecret: first.dangerouslyAccountSecret()!, oneTimePrekeys: 1, online: i === 59 }));
    world.server.muc!.createRoom(ROOM, ALICE, { membersOnly: true, whois: 'anyone' });
    await alice.connection.iq(setAffiliationIq('add-bob', ROOM, BOB, 'member'));
    await alice.joinRoom(ROOM, 'alice');
    const last = bobs.at(-1)!;
    await last.joinRoom(ROOM, 'bob');
    await world.flush();
    // 64 000 characters of content and 60 new sessions: about 87 000 bytes of payload and 113 000 of headers.
    const body = 'x'.repeat(64_000);
    await alice.sendRoom(ROOM, body);
    await world.flush();
    const stanzas = world.roomStanzas(`${ALICE}/phone`);
    expect(stanzas.map((s) => (s.getChild('sealed', SEAL_NS)!.getChild('payload', SEAL_NS) === undefined ? 'key-only' : 'message'))).toEqual(['key-only', 'message']);
    for (const s of stanzas) expect(new TextEncoder().encode(s.toString()).length).toBeLessThanOrEqual(GROUPS_CONSTANTS.MAX_ROOM_STANZA_BYTES);
    const keyOnly = SealedElement.fromXml(stanzas[0]!.getChild('sealed', SEAL_NS)!);
    const message = SealedElement.fromXml(stanzas[1]!.getChild('sealed', SEAL_NS)!);
    expect(keyOnly.recipients.flatMap((r) => r.keys).every((k) => k.handshake)).toBe(true);
    expect(keyOnly.recipients.flatMap((r) => r.keys)).toHaveLength(60);
    expect(message.recipients.flatMap((r) => r.keys).some((k) => k.handshake)).toBe(false);
    expect(keyOnly.sender).toBe(ALICE);
    // Live: the device in the room opens the message after the key-only stanza established its session.
    expect(opened(last.events)).toEqual([body]);
    // From the archive, in order: another device opens it too.
    await bobs[0]!.fetchRoomArchive(ROOM);
    await world.flush();
    expect(opened(bobs[0]!.events)).toEqual([body]);
    expect(failures(bobs[0]!.events)).toEqual([]);
  });
});
