/**
 * The device engine's §groups rules: the rooms a device tracks (configuration and affiliation
 * lists as store records), the inputs that update them (a room's disco#info result, its
 * affiliation lists, its notices), sending a message to a room (recipients, refusals, the size
 * rule), and receiving room messages: live, or from the room's archive, opened as messages from
 * the sender's real bare JID, and the device's own messages recognised when the room reflects
 * them. The engine (engine.ts) calls these functions from small hooks; they work on the engine's
 * step through {@link GroupHost}.
 *
 * @see spec §groups
 * @module
 */
import * as z from 'zod/mini';
import { SealError } from '../errors.js';
import type { Rng } from '../suite/rng.js';
import { SEAL_NS } from '../suite/suite.js';
import { type BareJid, bareJid } from '../identity/jid.js';
import type { DeviceState } from '../identity/state.js';
import type { PeerSession } from '../envelope/envelope.js';
import { GROUPS_CONSTANTS } from '../groups/constants.js';
import { type RoomRecord, isSecureRoom, memberChanges, newRoom, noticeRefetch, readRoomMembers, readRoomMessage, sealRoomMessage, staleRoomState, withRoomInfo } from '../groups/room.js';
import { MAM_NS, MEMBER_AFFILIATIONS, type MemberAffiliation, readRoomFeatures, readRoomNotice } from '../wire/muc.js';
import { CLIENT_NS, type Element, childrenNamed, isStanza, wellFormedCopy } from '../wire/xml.js';
import { DEVICE_CONSTANTS } from './constants.js';
import { bareOf, delayStamp } from './forwarded.js';
import type { AccountRecord } from './state.js';
import type { DeviceAddress, FetchRequest, SealEvent, Via } from './types.js';

const FORWARD_NS = 'urn:xmpp:forward:0';

/**
 * What the §groups rules use of an engine step: the step's copies of the state they read and
 * change, its outputs, and the engine rules they reuse (recipients, sealing, opening).
 */
export interface GroupHost {
  readonly now: number;
  readonly rng: Rng;
  readonly device: DeviceState;
  readonly rooms: Map<string, RoomRecord>;
  readonly roomQueries: Map<string, BareJid>;
  readonly events: SealEvent[];
  readonly fetch: FetchRequest[];
  account(jid: BareJid): AccountRecord;
  /** Usable devices with a session of `jid`, and this account's other devices. */
  recipients(jid: BareJid): DeviceAddress[];
  /** Seals with the sessions of `recipients` and records the effects (the engine's sealFor). */
  sealFor(recipients: readonly DeviceAddress[], seal: (sessions: Map<string, PeerSession>) => { stanza: Element; sessions: Map<string, PeerSession> }, to: string): void;
  /** Commits a stanza to the outbox and sends it. */
  enqueue(stanza: Element): void;
  /** Opens (or holds, or refuses) a sealed message under the one-to-one rules. */
  onMessage(message: Element, via: Via, listFetched: boolean, stamp?: number): void;
  fail(e: unknown, from: DeviceAddress | undefined, via: Via | undefined, stanzaId: string | undefined): unknown;
}

function stanzaIdOf(stanza: Element): string | undefined {
  return typeof stanza.attrs.id === 'string' ? stanza.attrs.id : undefined;
}

/** Whether `stanza` is a `type='groupchat'` message. */
export function isGroupchat(stanza: Element): boolean {
  return stanza.attrs.type === 'groupchat';
}

// ---------------------------------------------------------------- room state

function setRoom(host: GroupHost, room: RoomRecord): void {
  if (!host.rooms.has(room.jid) && host.rooms.size >= GROUPS_CONSTANTS.MAX_ROOMS) {
    throw new SealError('length-out-of-range', `device engine: at most ${GROUPS_CONSTANTS.MAX_ROOMS} rooms are tracked`);
  }
  host.rooms.set(room.jid, room);
}

/**
 * A room's disco#info result (`undefined`: the query failed). Starts tracking the room;
 * reports a `room-config` event when the room becomes, or stops being, one Seal encrypts to
 * (and on the first result); asks for the affiliation lists of a room Seal encrypts to when they
 * are missing or old.
 *
 * Implements requirements `groups.room-config` and `groups.config-change`.
 *
 * @see spec §groups.rooms
 */
export function onRoomInfo(host: GroupHost, room: BareJid, info: Element | undefined): void {
  const before = host.rooms.get(room);
  const features = info === undefined ? undefined : readRoomFeatures(wellFormedCopy(info));
  const next = withRoomInfo(before ?? newRoom(room), features, host.now);
  setRoom(host, next);
  const secure = isSecureRoom(next);
  // @req groups.config-change: a room that stops being members-only and non-anonymous is reported, and sends stop.
  if (before === undefined || before.infoAt === undefined || isSecureRoom(before) !== secure || before.membersOnly !== next.membersOnly || before.nonAnonymous !== next.nonAnonymous) {
    host.events.push({ kind: 'room-config', room, secure, membersOnly: next.membersOnly, nonAnonymous: next.nonAnonymous });
  }
  if (secure && staleRoomState(next, host.now).members) host.fetch.push({ kind: 'room-affiliations', room });
}

/**
 * A room's owner, admin and member lists (`undefined`: a query failed; the lists held are kept
 * and grow old). Reports the accounts that joined or left (`room-members`) and fetches the
 * device list of every member, as before a one-to-one message.
 *
 * Implements requirements `groups.recipients` and `groups.membership`.
 *
 * @see spec §groups.recipients
 */
export function onRoomAffiliations(host: GroupHost, room: BareJid, lists: Readonly<Partial<Record<MemberAffiliation, Element>>> | undefined): void {
  const before = host.rooms.get(room);
  if (before === undefined || lists === undefined) return;
  const copies: Partial<Record<MemberAffiliation, Element>> = {};
  for (const a of MEMBER_AFFILIATIONS) if (lists[a] !== undefined) copies[a] = wellFormedCopy(lists[a]!);
  const members = readRoomMembers(copies);
  const changes = memberChanges(before.members, members);
  // @req groups.membership: from now on the keys of the next message follow these lists.
  setRoom(host, { ...before, members, membersAt: host.now });
  if (before.members !== undefined && (changes.added.length > 0 || changes.removed.length > 0)) host.events.push({ kind: 'room-members', room, added: changes.added, removed: changes.removed });
  // @req groups.recipients: each member's device list, as for a one-to-one message.
  for (const m of members) host.fetch.push({ kind: 'device-list', jid: m.jid });
}

/** Registers the `queryid` of a query of `room`'s archive (bounded like the account's own). @see spec §groups.wire */
export function onRoomArchiveQuery(host: GroupHost, room: BareJid, queryid: string): void {
  // @req device.bounds
  if (host.roomQueries.size >= DEVICE_CONSTANTS.MAX_ARCHIVE_QUERIES) host.roomQueries.delete(host.roomQueries.keys().next().value!);
  host.roomQueries.set(queryid, room);
}

/** What must be fetched before a message to `room` reaches every member device (the shell fetches these, then sends). @see spec §groups.recipients */
export function roomFetches(host: GroupHost, room: BareJid): FetchRequest[] {
  const record = host.rooms.get(room);
  const stale = staleRoomState(record, host.now);
  if (stale.info) return [{ kind: 'room-info', room }];
  if (stale.members) return [{ kind: 'room-affiliations', room }];
  const out: FetchRequest[] = [];
  for (const m of record?.members ?? []) if (host.account(m.jid).list === undefined) out.push({ kind: 'device-list', jid: m.jid });
  return out;
}

/** The member accounts of a room whose devices receive its keys (the sender's own account included). */
export function roomMembers(record: RoomRecord | undefined): BareJid[] {
  return (record?.members ?? []).map((m) => m.jid);
}

// ---------------------------------------------------------------- sending

/**
 * The recipients of a message to `room`: every usable device with a session of every member
 * account, and this account's other devices; refuses when the room is not one Seal encrypts to,
 * its state is old, a member publishes no device list, or no device of a member can be used.
 *
 * Implements requirements `groups.room-config`, `groups.state-age`, `groups.recipients` and
 * `groups.send-all-members`.
 *
 * @throws SealError `room-not-secure`, `no-devices`, `untrusted-key`, `length-out-of-range`.
 * @see spec §groups.recipients
 */
export function roomRecipients(host: GroupHost, room: BareJid): DeviceAddress[] {
  const record = host.rooms.get(room);
  // @req groups.room-config: only members-only, non-anonymous rooms, as fetched; never plaintext instead.
  if (record === undefined || !isSecureRoom(record)) throw new SealError('room-not-secure', `${room}: not a members-only, non-anonymous room (or its configuration is unknown)`);
  const stale = staleRoomState(record, host.now);
  // @req groups.state-age
  if (stale.info || stale.members) throw new SealError('room-not-secure', `${room}: the room's configuration or affiliation lists are older than ${GROUPS_CONSTANTS.ROOM_STATE_MAX_AGE} seconds; fetch them again`);
  const self = host.device.jid;
  const others = roomMembers(record).filter((jid) => jid !== self);
  for (const jid of others) {
    const list = host.account(jid).list;
    // @req groups.send-all-members: no member silently left out.
    if (list === undefined || list.devices.length === 0) throw new SealError('no-devices', `${room}: member ${jid} publishes no Seal device list`);
  }
  const out = new Map<string, DeviceAddress>();
  for (const jid of [...others, self]) {
    // @req groups.recipients: the same rules as for one-to-one messages (trust, pinning, sessions).
    const reachable = host.recipients(jid);
    // @req groups.send-all-members
    if (jid !== self && !reachable.some((r) => r.jid === jid)) throw new SealError('untrusted-key', `${room}: no device of member ${jid} can be encrypted to`);
    for (const r of reachable) out.set(`${r.jid}/${r.deviceId}`, r);
  }
  const recipients = [...out.values()];
  if (recipients.length === 0) throw new SealError('no-devices', `${room}: no other device to encrypt to`);
  return recipients;
}

/**
 * Seals `content` for `room`: the recipients of {@link roomRecipients}, one room stanza (or
 * key-only stanzas with handshake headers first, when the stanza would be too large).
 *
 * Implements requirements `groups.message` and `groups.size`.
 *
 * @see spec §groups.wire
 */
export function onSendRoom(host: GroupHost, room: BareJid, content: readonly Element[], id: string): void {
  const recipients = roomRecipients(host, room);
  host.sealFor(
    recipients,
    (sessions) => {
      const sealed = sealRoomMessage({ room, sender: host.device.jid, senderDeviceId: host.device.deviceId, id, content, recipients, sessions, rng: host.rng, now: host.now });
      // @req groups.size: the key-only stanzas go out before the message.
      for (const stanza of sealed.stanzas.slice(0, -1)) host.enqueue(stanza);
      return { stanza: sealed.stanzas.at(-1)!, sessions: sealed.sessions };
    },
    room,
  );
}

// ---------------------------------------------------------------- receiving

/**
 * Handles a stanza from a room the device tracks, before the engine's one-to-one path sees it:
 * the room's notices (presences and messages with `<x xmlns='…muc#user'/>`), results of this
 * device's queries of the room's archive, and live room messages. Returns `false` for a stanza
 * that is not from a tracked room (the engine processes it) or an error bounce.
 *
 * Implements requirements `groups.open`, `groups.reflection`, `groups.config-change`,
 * `groups.membership`.
 *
 * @see spec §groups
 */
export function onRoomStanza(host: GroupHost, received: Element): boolean {
  const fromText = received.attrs.from;
  if (typeof fromText !== 'string') return false;
  const room = host.rooms.get(bareOf(fromText));
  if (room === undefined) return false;
  const stanza = wellFormedCopy(received);
  const isPresence = isStanza(stanza, 'presence');
  if (!isPresence && !isStanza(stanza, 'message')) return false;
  if (stanza.attrs.type === 'error') return isPresence;
  const notice = readRoomNotice(stanza);
  if (notice !== undefined) {
    const refetch = noticeRefetch(room, notice);
    if (refetch.info) host.fetch.push({ kind: 'room-info', room: room.jid });
    if (refetch.members) host.fetch.push({ kind: 'room-affiliations', room: room.jid });
  }
  if (isPresence) return true;
  const results = childrenNamed(stanza, 'result', MAM_NS);
  if (results.length > 0) {
    const result = results[0]!;
    const queryid = result.attrs.queryid;
    // @req groups.open: a room's archive result only from the room itself, for this device's own query of that room.
    if (results.length !== 1 || fromText !== room.jid || typeof queryid !== 'string' || host.roomQueries.get(queryid) !== room.jid) {
      host.events.push({ kind: 'failed', code: 'forged-forward', message: `archive result from ${fromText} for a query this device did not send to that room`, from: undefined, via: undefined, stanzaId: stanzaIdOf(stanza) });
      return true;
    }
    const forwarded = childrenNamed(result, 'forwarded', FORWARD_NS);
    const inner = forwarded.length === 1 ? childrenNamed(forwarded[0]!, 'message', CLIENT_NS) : [];
    if (inner.length !== 1) {
      host.events.push({ kind: 'failed', code: 'forged-forward', message: 'room archive result without exactly one forwarded message', from: undefined, via: undefined, stanzaId: stanzaIdOf(stanza) });
      return true;
    }
    onRoomMessage(host, inner[0]!, 'archive', delayStamp(forwarded[0]));
    return true;
  }
  if (isGroupchat(stanza)) onRoomMessage(host, stanza, 'live');
  return true;
}

/**
 * A `type='groupchat'` message: opened as a message of the room its `from` names, from the device
 * `<sealed sender='…' sid='…'/>` names, when the device tracks that room; the device's own
 * message, reflected by the room, is recognised and not opened; anything else is ignored (a
 * groupchat message never goes the one-to-one way, where its occupant JID would be taken for a
 * sender).
 *
 * Implements requirements `groups.open` and `groups.reflection`.
 *
 * @see spec §groups.wire
 */
export function onRoomMessage(host: GroupHost, message: Element, via: Via, stamp?: number): void {
  if (!isGroupchat(message)) return;
  const room = host.rooms.get(bareOf(String(message.attrs.from ?? '')));
  if (room === undefined) return;
  if (message.getChild('sealed', SEAL_NS) === undefined) return;
  const stanzaId = stanzaIdOf(message);
  let reading: ReturnType<typeof readRoomMessage>;
  try {
    // @req groups.open: the sender is the device <sealed sender sid/> names, checked by its session.
    reading = readRoomMessage(message, room.jid, { jid: host.device.jid, deviceId: host.device.deviceId });
  } catch (e) {
    host.fail(e, undefined, via, stanzaId);
    return;
  }
  if (reading.kind === 'reflected') {
    // @req groups.reflection: the device's own message: no failure, no repair, nothing to open.
    if (via === 'live') host.events.push({ kind: 'reflected', room: room.jid, stanzaId });
    return;
  }
  host.onMessage(reading.forOpening, via, false, stamp);
}

// ---------------------------------------------------------------- store records

const RoomSchema = z.strictObject({
  format: z.literal('seal-room'),
  version: z.literal(1),
  jid: z.string().check(z.minLength(1), z.maxLength(3071)),
  membersOnly: z.boolean(),
  nonAnonymous: z.boolean(),
  infoAt: z.nullable(z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER))),
  members: z.nullable(z.array(z.strictObject({ jid: z.string().check(z.minLength(1), z.maxLength(3071)), affiliation: z.enum(MEMBER_AFFILIATIONS) })).check(z.maxLength(GROUPS_CONSTANTS.MAX_ROOM_MEMBERS))),
  membersAt: z.nullable(z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER))),
});

/** A room record as store text. @see spec §device.store */
export function encodeRoomRecord(room: RoomRecord): string {
  return JSON.stringify({ format: 'seal-room', version: 1, jid: room.jid, membersOnly: room.membersOnly, nonAnonymous: room.nonAnonymous, infoAt: room.infoAt ?? null, members: room.members ?? null, membersAt: room.membersAt ?? null });
}

/**
 * A room record from store text, validated completely.
 *
 * @throws SealError `invalid-state` for a corrupted record, `unknown-version` for another version.
 * @see spec §device.store
 */
export function decodeRoomRecord(key: string, text: string): RoomRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SealError('invalid-state', 'room record: not JSON');
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (version !== undefined && version !== 1) throw new SealError('unknown-version', `room record: version ${String(version)} is not 1`);
  const parsed = RoomSchema.safeParse(json);
  if (!parsed.success) throw new SealError('invalid-state', `room record: ${parsed.error.issues[0]?.path.join('.') ?? ''} is invalid`);
  const r = parsed.data;
  const jid = bareJid(r.jid);
  if (key !== jid) throw new SealError('invalid-state', 'room record: key does not match its JID');
  return { jid, membersOnly: r.membersOnly, nonAnonymous: r.nonAnonymous, infoAt: r.infoAt ?? undefined, members: r.members?.map((m) => ({ jid: bareJid(m.jid), affiliation: m.affiliation })), membersAt: r.membersAt ?? undefined };
}
