/**
 * `vectors/groups.json`: Seal in a members-only, non-anonymous room. One scripted conversation in
 * the room `council@conference.example.org`: Alice's device A1 seals `room-1` for the members
 * Alice (her other device A2), Bob (B1) and Carol (C1); Carol is then removed and Dave (D1) added,
 * and A1 seals `room-2` for A2, B1 and D1. RoomSeal records both stanzas from every input (the
 * sender's secrets, the bundles and random values of the sessions it starts, the content keys and
 * padding); RoomOpen opens them on each device as the room delivers them (live from the occupant
 * JID, or forwarded by the room's archive), including the sender's reflected copy, the removed
 * member's failed open of `room-2` and the late joiner's failed open of `room-1`, and breaks one
 * rule of §groups per negative case.
 *
 * @see spec §groups
 * @module
 */
import * as z from 'zod/mini';
import { toHex } from '../codec/bytes.js';
import { SealError, isSealError } from '../errors.js';
import { type PeerSession, openStanza, sessionKey } from '../envelope/index.js';
import { readRoomMessage, sealRoomMessage } from '../groups/room.js';
import { type DeviceState, bareJid, bundleOf, createDeviceState, deviceId } from '../identity/index.js';
import { seededRng } from '../suite/index.js';
import { BundleElement, type Element, parseXml, xml } from '../wire/index.js';
import { Hex } from './format.js';
import { DeviceInput, type DeviceIn, bodyOf, contentOf, hex, paddingLength, scriptedRng, stateFromInputs, stateToInputs } from './envelope-common.js';
import type { Fields, GroupKind, VectorKind } from './kind.js';
import { Initiated, type InitiatedIn, initiatedSession } from './offline.js';

/** 2026-11-26T09:00:00Z. */
const NOW = 1795683600;
const DAY = 86400;
const ROOM = 'council@conference.example.org';
const OTHER_ROOM = 'annex@conference.example.org';
const ALICE = 'alice@example.org';
const BOB = 'bob@example.net';
const CAROL = 'carol@example.com';
const DAVE = 'dave@example.org';
const NICKS: Record<string, string> = { [ALICE]: 'alice', [BOB]: 'bob', [CAROL]: 'carol', [DAVE]: 'dave' };
const BODIES = { 'room-1': 'The council meets at nine.', 'room-2': 'Welcome, Dave. Carol has left the council.' } as const;
type MessageId = keyof typeof BODIES;

const RoomMessage = z.strictObject({ id: z.string(), body: z.string(), recipients: z.array(z.strictObject({ jid: z.string(), deviceId: z.int() })), contentKey: Hex, padding: Hex });
type RoomMessageIn = z.infer<typeof RoomMessage>;

/** RoomSeal: the sender's sessions from `initiated`, then each message sealed for the room in order, sessions carried forward. */
function runSeal(i: Fields): Fields {
  const sender = stateFromInputs(i.sender as DeviceIn);
  const now = i.now as number;
  const room = bareJid(i.room as string);
  let sessions = new Map<string, PeerSession>();
  for (const started of i.initiated as InitiatedIn[]) {
    const key = sessionKey(bareJid(started.peer), started.peerDeviceId);
    if (sessions.has(key)) throw new SealError('duplicate-id', `initiated: two sessions with device ${started.peerDeviceId} of ${started.peer}`);
    sessions.set(key, initiatedSession(sender, started, now));
  }
  const stanzas: string[] = [];
  for (const m of i.messages as RoomMessageIn[]) {
    const rng = scriptedRng([hex(m, 'contentKey'), hex(m, 'padding')]);
    const sealed = sealRoomMessage({ room, sender: sender.jid, senderDeviceId: sender.deviceId, id: m.id, content: contentOf(m.body), recipients: m.recipients.map((r) => ({ jid: bareJid(r.jid), deviceId: deviceId(r.deviceId) })), sessions, rng, now });
    rng.assertDone();
    sessions = sealed.sessions;
    stanzas.push(...sealed.stanzas.map((s) => s.toString()));
  }
  return { stanzas };
}

/** Opens one groupchat message of `room` as `self` with the state carried in `state`. */
function openOne(text: string, room: string, state: { self: DeviceState; log: readonly string[]; sessions: Map<string, PeerSession> }, now: number): Fields {
  const message = parseXml(text);
  const from = String(message.attrs.from ?? '');
  if (message.attrs.type !== 'groupchat' || from.slice(0, from.includes('/') ? from.indexOf('/') : from.length) !== room) return { kind: 'ignored' };
  const reading = readRoomMessage(message, bareJid(room), { jid: state.self.jid, deviceId: state.self.deviceId });
  if (reading.kind === 'reflected') return { kind: 'reflected' };
  const result = openStanza({ stanza: reading.forOpening, self: state.self, log: state.log, sessions: state.sessions, now });
  switch (result.kind) {
    case 'error':
      throw result.error;
    case 'duplicate':
      return { kind: 'duplicate' };
    case 'not-for-this-device':
      return { kind: 'not-for-this-device', sender: result.sender.jid, senderDeviceId: result.sender.deviceId };
    case 'ok':
      state.self = result.state;
      state.log = result.log;
      state.sessions = result.sessions;
      return { kind: 'ok', sender: result.sender.jid, senderDeviceId: result.sender.deviceId, room, body: bodyOf(result.content) ?? '', time: result.time };
  }
}

/** RoomOpen: the receiver opens `delivered` in order (each must open or be its own reflection), then `stanza`. */
function runOpen(i: Fields): Fields {
  const state = { self: stateFromInputs(i.receiver as DeviceIn), log: [] as readonly string[], sessions: new Map<string, PeerSession>() };
  const now = i.now as number;
  for (const [n, text] of (i.delivered as string[]).entries()) {
    const out = openOne(text, i.room as string, state, now);
    if (out.kind !== 'ok' && out.kind !== 'reflected') throw new Error(`groups vectors: delivered stanza ${n + 1} gives ${String(out.kind)}`);
  }
  return openOne(i.stanza as string, i.room as string, state, now);
}

// ---------------------------------------------------------------------------------------------
// The scenario

const NAMES = ['A1', 'A2', 'B1', 'C1', 'D1'] as const;
type Name = (typeof NAMES)[number];
const JID_OF: Record<Name, string> = { A1: ALICE, A2: ALICE, B1: BOB, C1: CAROL, D1: DAVE };

/** Every secret and random value, drawn once in this order from `seededRng('vectors/groups.json')`. */
function fixtures() {
  const r = seededRng('vectors/groups.json');
  const devices = {} as Record<Name, DeviceState>;
  for (const name of NAMES) {
    const jid = bareJid(JID_OF[name]);
    const taken = Object.values(devices).filter((d) => d.jid === jid).map((d) => d.deviceId);
    devices[name] = createDeviceState({ jid, now: NOW - DAY, rng: r, oneTimePrekeys: 2, takenDeviceIds: taken });
  }
  const initiated: InitiatedIn[] = (['A2', 'B1', 'C1', 'D1'] as const).map((name) => {
    const peer = devices[name];
    return { peer: peer.jid, peerDeviceId: peer.deviceId, bundleXml: BundleElement.toXml(bundleOf(peer)).toString(), oneTimePrekeyChoice: toHex(r(4)), ephemeralSecretKey: toHex(r(32)), kemRandomness: toHex(r(32)), ratchetSecretKey: toHex(r(32)) };
  });
  const message = (id: MessageId, recipients: readonly Name[]): RoomMessageIn => ({
    id,
    body: BODIES[id],
    recipients: recipients.map((n) => ({ jid: devices[n].jid, deviceId: devices[n].deviceId })),
    contentKey: toHex(r(32)),
    padding: toHex(r(paddingLength(BODIES[id], ROOM, ALICE))),
  });
  const messages = [message('room-1', ['A2', 'B1', 'C1']), message('room-2', ['A2', 'B1', 'D1'])];
  return { devices, seal: { sender: stateToInputs(devices.A1), room: ROOM, now: NOW, initiated, messages } };
}

/** The room's live copy of a stanza for an occupant: from the occupant JID, to the occupant, with the room's stanza id. */
function live(stanza: string, to: string, archiveId: string): string {
  const m = parseXml(stanza);
  m.attrs = { ...m.attrs, from: `${ROOM}/${NICKS[ALICE]}`, to };
  m.cnode(xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', by: ROOM, id: archiveId }));
  return m.toString();
}

/** The message a result of the room's archive forwards: from the occupant JID, no `to`, with the room's claim about the sender. */
function archived(stanza: string, claimed = ALICE): string {
  const m = parseXml(stanza);
  m.attrs = { xmlns: 'jabber:client', from: `${ROOM}/${NICKS[ALICE]}`, id: String(m.attrs.id), type: 'groupchat' };
  m.cnode(xml('x', { xmlns: 'http://jabber.org/protocol/muc#user' }, [xml('item', { affiliation: 'owner', role: 'participant', jid: claimed })]));
  return m.toString();
}

function edit(text: string, change: (m: Element) => void): string {
  const m = parseXml(text);
  change(m);
  return m.toString();
}

type Expect = { ok: MessageId } | { kind: 'reflected' | 'not-for-this-device' | 'ignored' | 'duplicate' } | { error: string };

function scenario() {
  const f = fixtures();
  const [room1, room2] = runSeal(f.seal).stanzas as [string, string];
  const d = f.devices;
  const open = (comment: string, receiver: Name, stanza: string, expect: Expect, delivered: string[] = [], flags: string[] = [], room = ROOM) => ({
    comment,
    flags,
    expect,
    inputs: { receiver: stateToInputs(d[receiver]), room, now: NOW, delivered, stanza },
  });
  const toB1 = `${BOB}/desk`;
  const seal = { comment: 'A1 seals room-1 for A2, B1 and C1, then (Carol removed, Dave added) room-2 for A2, B1 and D1; every session is new, so each key carries its handshake header', flags: [], inputs: f.seal };
  const opens = [
    open('B1, in the room, opens room-1 as the room delivers it (from the occupant JID): the sender is Alice\'s device A1 from <sealed sender/>, the room from the stanza', 'B1', live(room1, toB1, 'a1'), { ok: 'room-1' }),
    open('A2, Alice\'s other device, opens the reflection of room-1 with its own key', 'A2', live(room1, `${ALICE}/tablet`, 'a1'), { ok: 'room-1' }),
    open('A1 recognises the room\'s reflection of its own message: no key for itself, no failure', 'A1', live(room1, `${ALICE}/laptop`, 'a1'), { kind: 'reflected' }),
    open('C1 was offline and reads room-1 from the room\'s archive (no to, the room\'s item claim beside it)', 'C1', archived(room1), { ok: 'room-1' }),
    open('B1 opens room-2 after room-1 on the same session (the header is still attached: B1 has not replied)', 'B1', live(room2, toB1, 'a2'), { ok: 'room-2' }, [live(room1, toB1, 'a1')]),
    open('D1, added before room-2, opens it from the archive', 'D1', archived(room2), { ok: 'room-2' }),
    open('C1, removed before room-2, has no key in it: not for this device', 'C1', archived(room2), { kind: 'not-for-this-device' }, [archived(room1)], ['removed-member']),
    open('D1, added after room-1, has no key in it: not for this device', 'D1', archived(room1), { kind: 'not-for-this-device' }, [], ['late-joiner']),
    open('the room\'s claim about the sender (<item jid/> naming Bob) is not used: room-1 still opens as Alice\'s', 'C1', archived(room1, BOB), { ok: 'room-1' }),
    open('room-1 with <sealed sender/> rewritten to Bob: opened on a session bound to Bob\'s JID, it fails', 'C1', edit(archived(room1), (m) => (m.getChild('sealed', 'urn:xmpp:seal:0')!.attrs.sender = BOB)), { error: 'authentication-failed' }, [], ['rewritten-sender']),
    open('room-1 without <sealed sender/>: a room message must name its sender', 'B1', edit(live(room1, toB1, 'a1'), (m) => delete m.getChild('sealed', 'urn:xmpp:seal:0')!.attrs.sender), { error: 'schema-violation' }, [], ['no-sender']),
    open('room-1 shown in another room the device tracks: the <to/> affix names the council', 'B1', edit(live(room1, toB1, 'a1'), (m) => (m.attrs.from = `${OTHER_ROOM}/alice`)), { error: 'redirected-stanza' }, [], ['other-room'], OTHER_ROOM),
    open('a groupchat message from a room the device does not track is not processed', 'B1', live(room1, toB1, 'a1'), { kind: 'ignored' }, [], ['untracked-room'], OTHER_ROOM),
    open('room-1 delivered twice: the second copy is a duplicate', 'B1', live(room1, toB1, 'a1'), { kind: 'duplicate' }, [live(room1, toB1, 'a1')]),
  ];
  return { seal, opens };
}

function outcome(run: (i: Fields) => Fields, inputs: Fields): Fields | string {
  try {
    return run(inputs);
  } catch (e) {
    if (isSealError(e)) return e.code;
    throw e;
  }
}

function checkedOpens() {
  return scenario().opens.map((c) => {
    const got = outcome(runOpen, c.inputs);
    const e = c.expect as Record<string, string>;
    const fine = 'error' in e ? got === e.error : typeof got === 'object' && ('ok' in e ? got.kind === 'ok' && got.body === BODIES[e.ok as MessageId] && got.sender === ALICE : got.kind === e.kind);
    if (!fine) throw new Error(`groups vectors: "${c.comment.slice(0, 60)}…" gives ${JSON.stringify(got)}`);
    return { comment: c.comment, flags: c.flags, inputs: c.inputs };
  });
}

/** `RoomSeal`: the sender's room messages from all its inputs. @see spec §groups.wire */
export const roomSeal: GroupKind = {
  type: 'RoomSeal',
  description:
    'the sender (secrets) starts a session with each device of initiated from its bundleXml at now (initiateAsync drawing oneTimePrekeyChoice, ephemeralSecretKey and kemRandomness, startRatchet drawing ratchetSecretKey; the header stays attached), ' +
    'then seals each of messages in order for the room with sealRoomMessage (sealStanza of type groupchat to the room\'s bare JID, from and <sealed sender/> the sender\'s bare JID, <to/> the room, drawing contentKey and then padding; the sessions carry forward). ' +
    'stanzas are the <message/> stanzas as the sender hands them to its server, in order',
  inputs: z.strictObject({ sender: DeviceInput, room: z.string(), now: z.int(), initiated: z.array(Initiated), messages: z.array(RoomMessage) }),
  outputs: z.strictObject({ stanzas: z.array(z.string()) }),
  operation: runSeal,
  cases: () => {
    const { seal } = scenario();
    const missing = { ...seal.inputs, initiated: seal.inputs.initiated.slice(0, 3) };
    return [seal, { comment: 'room-2 names D1, with which the sender has no session: nothing is sealed', flags: ['no-session'], inputs: missing }];
  },
};

/** `RoomOpen`: one device opening a room message as the room delivers it. @see spec §groups.wire */
export const roomOpen: GroupKind = {
  type: 'RoomOpen',
  description:
    'a device (receiver, no sessions, empty handshake log) that tracks the room: it reads delivered and then stanza, each a groupchat <message/> as the room delivers it live or as a result of its archive forwards it. ' +
    'A stanza whose from is not an occupant JID of the room is ignored; otherwise the sender is the device named by <sealed sender sid/> (never the occupant JID or the room\'s <item jid/>), the receiver\'s own device gives reflected, ' +
    'and any other is opened with openStanza at now as a message whose from is the sender\'s bare JID and whose to is the room (so <from/> must be the sender and <to/> the room); state is kept only when it opens. ' +
    'Each delivered stanza must open (or be reflected); the result is that of stanza: ok with the sender, its device id, the room, the body and the <time/>; reflected; ignored; duplicate; not-for-this-device with the sender; or the error code',
  inputs: z.strictObject({ receiver: DeviceInput, room: z.string(), now: z.int(), delivered: z.array(z.string()), stanza: z.string() }),
  outputs: z.union([
    z.strictObject({ kind: z.literal('ok'), sender: z.string(), senderDeviceId: z.int(), room: z.string(), body: z.string(), time: z.int() }),
    z.strictObject({ kind: z.enum(['reflected', 'ignored', 'duplicate']) }),
    z.strictObject({ kind: z.literal('not-for-this-device'), sender: z.string(), senderDeviceId: z.int() }),
  ]),
  operation: runOpen,
  cases: checkedOpens,
};

/** The kind of `vectors/groups.json`. @see spec §groups */
export const groupsVectors: VectorKind = {
  file: 'groups.json',
  section: 'groups',
  version: 1,
  description:
    'Seal-v0 group chat in a members-only, non-anonymous room: one device seals two room messages for the devices of the members (its own other device included) from every input, and each device opens them as the room delivers them, live or from the room\'s archive: the sender\'s reflected copy, a removed member\'s failed open of the later message, a late joiner\'s failed open of the earlier one, and one broken rule per negative case',
  groups: [roomSeal, roomOpen],
};
