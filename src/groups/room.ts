/**
 * §groups: Seal in members-only, non-anonymous Multi-User Chat rooms (XEP-0045). What a device
 * knows about a room (its configuration and affiliation lists, each with the time it was
 * fetched), which rooms it encrypts to, who the recipients are, how a room message is sealed
 * within the room stanza limit, and how a room message is presented for opening: the sender's
 * real bare JID from `<sealed sender='…'/>`, never the occupant JID. The device engine applies
 * these rules (src/device/groups.ts); nothing here does IO.
 *
 * @see spec §groups
 * @module
 */
import { SealError } from '../errors.js';
import type { Rng } from '../suite/rng.js';
import { type DeviceId, deviceId as toDeviceId } from '../identity/device.js';
import { SEAL_NS } from '../suite/suite.js';
import { SealedElement } from '../wire/sealed.js';
import { type BareJid, bareJid } from '../identity/jid.js';
import { type PeerSession, sealKeyOnly, sealStanza } from '../envelope/envelope.js';
import { sealWithinLimit } from '../envelope/split.js';
import { MEMBER_AFFILIATIONS, type MemberAffiliation, type RoomFeatures, type RoomNotice, CONFIG_CHANGE_STATUSES, readAffiliationList } from '../wire/muc.js';
import { type Element, parseXml } from '../wire/xml.js';
import { GROUPS_CONSTANTS } from './constants.js';

/** A member of a room: a bare JID on its owner, admin or member list. @see spec §groups.recipients */
export interface RoomMember {
  readonly jid: BareJid;
  readonly affiliation: MemberAffiliation;
}

/**
 * What a device knows about a room: its configuration flags and affiliation lists as last
 * fetched, with the times of those fetches (`undefined`: never fetched, or the last fetch failed).
 *
 * @see spec §groups
 */
export interface RoomRecord {
  readonly jid: BareJid;
  readonly membersOnly: boolean;
  readonly nonAnonymous: boolean;
  readonly infoAt: number | undefined;
  /** The members, sorted by JID; `undefined` until the lists were fetched. */
  readonly members: readonly RoomMember[] | undefined;
  readonly membersAt: number | undefined;
}

/** A room the device has not fetched anything about yet. */
export function newRoom(jid: BareJid): RoomRecord {
  return { jid, membersOnly: false, nonAnonymous: false, infoAt: undefined, members: undefined, membersAt: undefined };
}

/**
 * Whether a room is one Seal encrypts to: members-only and non-anonymous, as its last
 * disco#info result said.
 *
 * Implements requirement `groups.room-config`.
 *
 * @see spec §groups.rooms
 */
export function isSecureRoom(room: RoomRecord): boolean {
  // @req groups.room-config
  return room.infoAt !== undefined && room.membersOnly && room.nonAnonymous;
}

/** Whether `at` lies within ROOM_STATE_MAX_AGE before `now` (and not in the future). */
function fresh(at: number | undefined, now: number): boolean {
  return at !== undefined && at <= now && now - at <= GROUPS_CONSTANTS.ROOM_STATE_MAX_AGE;
}

/**
 * What must be fetched before a message can be sent to the room: its disco#info and its
 * affiliation lists, each when it was never fetched or is older than ROOM_STATE_MAX_AGE.
 *
 * Implements requirement `groups.state-age`.
 *
 * @see spec §groups.recipients
 */
export function staleRoomState(room: RoomRecord | undefined, now: number): { info: boolean; members: boolean } {
  // @req groups.state-age
  return { info: room === undefined || !fresh(room.infoAt, now), members: room === undefined || room.members === undefined || !fresh(room.membersAt, now) };
}

/**
 * The room record after a disco#info result (`undefined`: the query failed, so the
 * configuration is unknown and the room is not encrypted to until it is fetched again).
 *
 * @see spec §groups.rooms
 */
export function withRoomInfo(room: RoomRecord, features: RoomFeatures | undefined, now: number): RoomRecord {
  if (features === undefined) return { ...room, membersOnly: false, nonAnonymous: false, infoAt: undefined };
  return { ...room, membersOnly: features.membersOnly, nonAnonymous: features.nonAnonymous, infoAt: now };
}

/**
 * The members named by a room's three affiliation lists (the answers to the owner, admin and
 * member queries), sorted by JID; a JID on two lists counts once, with the higher affiliation.
 *
 * Implements requirement `groups.recipients` (the members are the affiliation lists, not the occupants).
 *
 * @throws SealError when a list is missing or malformed, a JID is not a bare JID, or there are
 *   more than MAX_ROOM_MEMBERS members (`length-out-of-range`).
 * @see spec §groups.recipients
 */
export function readRoomMembers(lists: Readonly<Partial<Record<MemberAffiliation, Element>>>): RoomMember[] {
  const byJid = new Map<string, RoomMember>();
  // @req groups.recipients: owners, admins and members, whether or not they are in the room now.
  for (const affiliation of MEMBER_AFFILIATIONS) {
    const list = lists[affiliation];
    if (list === undefined) throw new SealError('schema-violation', `room: the ${affiliation} list is missing`);
    for (const text of readAffiliationList(list, affiliation)) {
      const jid = bareJid(text);
      if (!byJid.has(jid)) byJid.set(jid, { jid, affiliation });
      if (byJid.size > GROUPS_CONSTANTS.MAX_ROOM_MEMBERS) throw new SealError('length-out-of-range', `room: at most ${GROUPS_CONSTANTS.MAX_ROOM_MEMBERS} members`);
    }
  }
  return [...byJid.values()].sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
}

/** The accounts that joined and left the member lists between two fetches. @see spec §groups.membership */
export function memberChanges(before: readonly RoomMember[] | undefined, after: readonly RoomMember[]): { added: BareJid[]; removed: BareJid[] } {
  const old = new Set((before ?? []).map((m) => m.jid));
  const now = new Set(after.map((m) => m.jid));
  return { added: [...now].filter((j) => !old.has(j)), removed: [...old].filter((j) => !now.has(j)) };
}

/**
 * What a notice from the room (a presence or message with `<x xmlns='…muc#user'/>`) asks the
 * device to fetch again: the configuration after a configuration-change status code, the
 * affiliation lists when it names an account with another affiliation than the lists the device
 * holds (or removes an occupant for an affiliation change, status 321).
 *
 * Implements requirements `groups.config-change` and `groups.membership`.
 *
 * @see spec §groups.membership
 */
export function noticeRefetch(room: RoomRecord, notice: RoomNotice): { info: boolean; members: boolean } {
  // @req groups.config-change: status 104 and 170..174 announce a configuration change.
  const info = notice.statuses.some((s) => CONFIG_CHANGE_STATUSES.has(s));
  let members = notice.statuses.includes(321);
  for (const item of notice.items) {
    if (item.jid === undefined || item.affiliation === undefined) continue;
    const slash = item.jid.indexOf('/');
    const jid = slash < 0 ? item.jid : item.jid.slice(0, slash);
    const held = room.members?.find((m) => m.jid === jid)?.affiliation ?? 'none';
    const named = (MEMBER_AFFILIATIONS as readonly string[]).includes(item.affiliation) ? item.affiliation : 'none';
    // @req groups.membership: an affiliation that differs from the lists held makes the device fetch them.
    if (held !== named) members = true;
  }
  return { info, members };
}

/**
 * The stanza a room message is opened as: a copy whose `from` is the sender's real bare JID
 * (from `<sealed sender='…'/>`) and whose `to` is the room's bare JID, so that the session with
 * the sender's device, and the `<from/>` and `<to/>` affixes, are checked against those and never
 * against the occupant JID (`room@service/nick`) or the occupant list.
 *
 * Implements requirement `groups.open`.
 *
 * @see spec §groups.wire
 */
export function roomMessageForOpening(message: Element, room: BareJid, sender: BareJid): Element {
  // @req groups.open: the occupant JID is never the sender's identity.
  const copy = parseXml(message.toString());
  copy.attrs.from = sender;
  copy.attrs.to = room;
  return copy;
}

/** What a room message is for a device: its own message reflected, or a message to open from `sender`'s device `deviceId`. */
export type RoomMessageReading =
  | { readonly kind: 'reflected' }
  | { readonly kind: 'message'; readonly sender: BareJid; readonly deviceId: DeviceId; readonly forOpening: Element };

/**
 * Reads a `groupchat` message of `room` (live, or the message an archive result of the room
 * forwards) for the device `self`: the sender is the device `<sealed sender='…' sid='…'/>`
 * names; the device's own message is recognised as reflected; anything else is returned as the
 * stanza to open ({@link roomMessageForOpening}).
 *
 * Implements requirements `groups.open` and `groups.reflection`.
 *
 * @throws SealError `unexpected-element` without `<sealed/>`; `schema-violation` for a
 *   `<sealed/>` that names no sender; as SealedElement for a malformed one; `invalid-value` for a
 *   sender that is not a bare JID.
 * @see spec §groups.wire
 * @see spec §groups.reflection
 */
export function readRoomMessage(message: Element, room: BareJid, self: { readonly jid: BareJid; readonly deviceId: DeviceId }): RoomMessageReading {
  const element = message.getChild('sealed', SEAL_NS);
  if (element === undefined) throw new SealError('unexpected-element', 'room message: no <sealed/> element');
  const sealed = SealedElement.fromXml(element);
  // @req groups.open: the sender is the one the message names, checked by the session; never the nick.
  if (sealed.sender === undefined) throw new SealError('schema-violation', `room message from ${String(message.attrs.from)}: <sealed/> names no sender`);
  const sender = bareJid(sealed.sender);
  const deviceId = toDeviceId(sealed.sid);
  // @req groups.reflection: the device's own message: nothing to open, no failure, no repair.
  if (sender === self.jid && deviceId === self.deviceId) return { kind: 'reflected' };
  return { kind: 'message', sender, deviceId, forOpening: roomMessageForOpening(message, room, sender) };
}


/**
 * Seals a message to a room for `recipients` (every member device and the sender's own other
 * devices, each with a session in `sessions`): one `type='groupchat'` stanza to the room's bare
 * JID naming the sender (`<sealed sender='…'/>`), with the content `<to/>` the room and `<from/>`
 * the sender. When that stanza would exceed MAX_ROOM_STANZA_BYTES, the handshake headers of the
 * unconfirmed sessions go first, in key-only room stanzas of at most ROOM_HEADER_BATCH devices,
 * and the message follows without them; the sessions stay unconfirmed, so later messages attach
 * the headers again while they fit.
 *
 * Implements requirements `groups.message` and `groups.size`.
 *
 * @returns the stanzas in sending order (key-only stanzas, then the message) and the sessions.
 * @throws SealError `too-large` when the message exceeds MAX_ROOM_STANZA_BYTES even without
 *   headers, or a key-only stanza does; as {@link sealStanza} otherwise.
 * @see spec §groups.wire
 * @see spec §groups.limits
 */
export function sealRoomMessage(input: {
  room: BareJid;
  sender: BareJid;
  senderDeviceId: DeviceId;
  id: string;
  content: readonly Element[];
  recipients: readonly { jid: BareJid; deviceId: DeviceId }[];
  sessions: ReadonlyMap<string, PeerSession>;
  rng: Rng;
  now: number;
}): { stanzas: Element[]; sessions: Map<string, PeerSession> } {
  const { room, sender, recipients, rng, now } = input;
  // @req groups.message: type groupchat to the room's bare JID, <to/> the room, <from/> the sender, sender named.
  // @req groups.size: the headers go ahead in key-only room stanzas; the message follows without them.
  return sealWithinLimit({
    recipients,
    sessions: input.sessions,
    maxBytes: GROUPS_CONSTANTS.MAX_ROOM_STANZA_BYTES,
    batch: GROUPS_CONSTANTS.ROOM_HEADER_BATCH,
    what: `room ${room}`,
    seal: (sessions) => sealStanza({ to: room, from: sender, type: 'groupchat', id: input.id, sender, senderDeviceId: input.senderDeviceId, content: input.content, recipients, sessions, rng, now }),
    sealKeys: (batch, sessions, n) => sealKeyOnly({ to: room, from: sender, type: 'groupchat', id: `${input.id}-k${n}`, sender, senderDeviceId: input.senderDeviceId, recipients: batch, sessions, rng, now }),
  });
}
