/**
 * L0 for rooms (§groups): a model of what the spec requires of the devices of a members-only,
 * non-anonymous room, written from §groups.rooms, §groups.recipients, §groups.wire,
 * §groups.reflection and §groups.membership, and the real system driven by the same actions:
 * one SealClient (the device engine behind its IO shell) per account, on the embedded server
 * with its MUC service (src/net/muc.ts).
 *
 * Three accounts of one device each: Alice (`A`, the room's owner), Bob (`B`) and Carol (`C`),
 * all members and occupants at the start. Actions: `send X` (an occupant sends a room message),
 * `join X` / `leave X` (a member enters or leaves), `remove X` / `add X` (Alice takes X's
 * membership away or gives it back), `archive X` (X reads the room's whole archive), `steal X i`
 * (X is handed a copy of the i-th room message, however obtained: what a removed member could
 * get from a careless or malicious service) and `wait` (ROOM_STATE_MAX_AGE passes).
 *
 * The model holds, per device, the member lists it last processed (its `view`) and when, as the
 * spec states it: a device fetches the lists when it enters a room whose lists it holds are old
 * (§groups.rooms), before a send when they are old (groups.state-age), and on a notice that
 * names an affiliation its lists do not hold or removes an occupant with status 321
 * (groups.membership); a message is sealed for the devices of the sender's view
 * (groups.recipients); the room reflects it to every occupant; the sender recognises its own
 * message (groups.reflection: `reflected` live, nothing from the archive); another device opens it
 * once when it holds a key and fails with `not-for-this-device` otherwise; a removed member may not
 * read the archive (`forbidden`).
 *
 * @see spec §groups
 * @module
 */
import type { SealEvent } from '../../src/device/types.js';
import { GROUPS_CONSTANTS } from '../../src/groups/constants.js';
import type { BareJid } from '../../src/identity/jid.js';
import { EmbeddedServer, SealClient, presence } from '../../src/net/index.js';
import { seededRng } from '../../src/suite/rng.js';
import { SEAL_NS } from '../../src/suite/suite.js';
import { SealedElement } from '../../src/wire/sealed.js';
import { configureRoomIq, joinPresence, setAffiliationIq } from '../../src/wire/muc.js';
import { type Element, parseXml, xml } from '../../src/wire/xml.js';

/** The room's devices: one per account. */
export type RoomDevice = 'A' | 'B' | 'C';
export const ROOM_DEVICES: readonly RoomDevice[] = ['A', 'B', 'C'];
export const ROOM_JID = 'council@conference.example.org' as BareJid;
export const ROOM_ACCOUNTS: Readonly<Record<RoomDevice, BareJid>> = { A: 'alice@example.org' as BareJid, B: 'bob@example.net' as BareJid, C: 'carol@example.com' as BareJid };
const NICK: Readonly<Record<RoomDevice, string>> = { A: 'alice', B: 'bob', C: 'carol' };

/** One action of a room schedule. */
export type RoomAction =
  | { readonly kind: 'send' | 'join' | 'leave' | 'archive'; readonly who: RoomDevice }
  | { readonly kind: 'remove' | 'add'; readonly who: 'B' | 'C' }
  | { readonly kind: 'steal'; readonly who: RoomDevice; readonly index: number }
  | { readonly kind: 'wait' };

/** What an action showed: its result and, per device, the room events it gave its application. */
export interface RoomObservation {
  readonly result: string;
  readonly events: Readonly<Record<RoomDevice, readonly string[]>>;
}

export function formatRoomAction(a: RoomAction): string {
  return a.kind === 'wait' ? 'wait' : a.kind === 'steal' ? `steal ${a.who} ${a.index}` : `${a.kind} ${a.who}`;
}

// ---------------------------------------------------------------- the model

/** A room message as the model knows it: its label, sender and the devices it has a key for. */
export interface ModelMessage {
  readonly label: string;
  readonly sender: RoomDevice;
  readonly recipients: ReadonlySet<RoomDevice>;
  /** The sender's view had processed the lists without these accounts when it sealed the message. */
  readonly removedInView: ReadonlySet<RoomDevice>;
}

export interface RoomModel {
  /** The room's affiliation lists (Alice is the owner and stays). */
  members: Set<RoomDevice>;
  occupants: Set<RoomDevice>;
  /** Per device, the members of the lists it processed last, and the period it did so in. */
  view: Record<RoomDevice, Set<RoomDevice>>;
  fetchedIn: Record<RoomDevice, number>;
  /** Periods of ROOM_STATE_MAX_AGE: `wait` starts a new one, and every list fetched before is old. */
  period: number;
  /** Room messages in order (the room's archive holds all of them: every sender is an occupant). */
  messages: ModelMessage[];
  opened: Record<RoomDevice, Set<string>>;
  /**
   * Per device, the devices a live `not-for-this-device` failure between the two made one of them
   * repair with the other (§groups.open: a live room message fails, and repairs, as a one-to-one
   * message does): their sessions were replaced, the old one kept as the previous session.
   */
  resetWith: Record<RoomDevice, Set<RoomDevice>>;
  /**
   * Per device, the messages it opened on a session a repair has since replaced: the repair
   * completes at once here (every device is connected, and the peer confirms the new session at
   * once), so the previous session is deleted (offline.previous-session), and a second copy of
   * such a message is `message-key-unavailable` (envelope.open-gone-session), not a duplicate.
   */
  gone: Record<RoomDevice, Set<string>>;
  /** A broken model (the test shows that the comparison catches it): lists fetched again never drop an account. */
  readonly mutant?: 'keeps-sending-to-removed';
}

export function initialRoomModel(mutant?: 'keeps-sending-to-removed'): RoomModel {
  const all = (): Set<RoomDevice> => new Set(ROOM_DEVICES);
  return { members: all(), occupants: all(), view: { A: all(), B: all(), C: all() }, fetchedIn: { A: 0, B: 0, C: 0 }, period: 0, messages: [], opened: { A: new Set(), B: new Set(), C: new Set() }, resetWith: { A: new Set(), B: new Set(), C: new Set() }, gone: { A: new Set(), B: new Set(), C: new Set() }, ...(mutant === undefined ? {} : { mutant }) };
}

/**
 * Schedules the random runs leave out: none since the engine reports a second copy of a message
 * whose session a repair replaced as `message-key-unavailable` (envelope.open-gone-session).
 */
export function hitsKnownFinding(_m: RoomModel, _a: RoomAction): boolean {
  return false;
}

/** Whether `action` can run in `m` (the schedule generator and the shrinker keep to these). */
export function roomActionAllowed(m: RoomModel, a: RoomAction): boolean {
  switch (a.kind) {
    case 'send':
    case 'leave':
      return m.occupants.has(a.who);
    case 'join':
      return m.members.has(a.who) && !m.occupants.has(a.who);
    case 'remove':
      return m.members.has(a.who);
    case 'add':
      return !m.members.has(a.who);
    case 'steal':
      return m.messages.length > 0;
    case 'archive':
    case 'wait':
      return true;
  }
}

function emptyEvents(): Record<RoomDevice, string[]> {
  return { A: [], B: [], C: [] };
}

/** Processes the lists as they are now (groups.membership). */
function refetch(m: RoomModel, d: RoomDevice): void {
  m.view[d] = m.mutant === 'keeps-sending-to-removed' ? new Set([...m.view[d], ...m.members]) : new Set(m.members);
  m.fetchedIn[d] = m.period;
}

/** What device `d` reports for message `msg` arriving live or from the archive. */
function receive(m: RoomModel, d: RoomDevice, msg: ModelMessage, via: 'live' | 'archive', out: Record<RoomDevice, string[]>): void {
  if (msg.sender === d) {
    // @req groups.reflection
    if (via === 'live') out[d].push('reflected');
    return;
  }
  if (!msg.recipients.has(d)) {
    out[d].push('failed not-for-this-device');
    if (via === 'live') {
      m.resetWith[d].add(msg.sender);
      m.resetWith[msg.sender].add(d);
      // The sessions between the two are replaced: what each opened from the other before is gone with them.
      for (const [x, y] of [[d, msg.sender], [msg.sender, d]] as const) {
        for (const old of m.messages) if (old.sender === y && m.opened[x].has(old.label)) m.gone[x].add(old.label);
      }
    }
    return;
  }
  if (m.gone[d].has(msg.label)) {
    // @req envelope.open-gone-session
    out[d].push('failed message-key-unavailable');
    return;
  }
  if (m.opened[d].has(msg.label)) {
    out[d].push('duplicate');
    return;
  }
  m.opened[d].add(msg.label);
  out[d].push(`opened ${msg.label} from ${msg.sender}`);
}

/** A presence or notice naming `who` with its current affiliation reaches `viewer`: a difference with its lists makes it fetch them. */
function notice(m: RoomModel, viewer: RoomDevice, who: RoomDevice): void {
  if (m.view[viewer].has(who) !== m.members.has(who)) refetch(m, viewer);
}

/** One step of the model (mutates `m`). @see spec §groups */
export function roomStep(m: RoomModel, a: RoomAction): RoomObservation {
  const out = emptyEvents();
  let result = 'done';
  switch (a.kind) {
    case 'send': {
      const s = a.who;
      // @req groups.state-age
      if (m.fetchedIn[s] !== m.period) refetch(m, s);
      // @req groups.recipients: the devices of the lists the sender processed, its own device excepted.
      const recipients = new Set([...m.view[s]].filter((d) => d !== s));
      if (recipients.size === 0) {
        result = 'send-failed no-devices';
        break;
      }
      const msg: ModelMessage = { label: `r${m.messages.length}`, sender: s, recipients, removedInView: new Set(ROOM_DEVICES.filter((d) => !m.view[s].has(d))) };
      m.messages.push(msg);
      result = `sent ${msg.label} to ${[...recipients].sort().join(',')}`;
      for (const d of ROOM_DEVICES) if (m.occupants.has(d)) receive(m, d, msg, 'live', out);
      break;
    }
    case 'join': {
      const x = a.who;
      // §groups.rooms: the configuration is fetched on entering; the lists when they are old.
      if (m.fetchedIn[x] !== m.period) refetch(m, x);
      // The other occupants' presences to X, then X's to everyone (itself last).
      for (const o of ROOM_DEVICES) if (m.occupants.has(o)) notice(m, x, o);
      m.occupants.add(x);
      for (const o of ROOM_DEVICES) if (m.occupants.has(o)) notice(m, o, x);
      break;
    }
    case 'leave': {
      m.occupants.delete(a.who);
      for (const o of ROOM_DEVICES) if (m.occupants.has(o)) notice(m, o, a.who);
      break;
    }
    case 'remove': {
      const x = a.who;
      m.members.delete(x);
      if (m.occupants.has(x)) {
        // Status 321 to every occupant: each fetches the lists (X's own fetch is refused, its lists stay).
        // @req groups.membership
        for (const o of ROOM_DEVICES) if (m.occupants.has(o) && o !== x) refetch(m, o);
        m.occupants.delete(x);
      } else for (const o of ROOM_DEVICES) if (m.occupants.has(o)) notice(m, o, x);
      break;
    }
    case 'add': {
      m.members.add(a.who);
      for (const o of ROOM_DEVICES) if (m.occupants.has(o)) notice(m, o, a.who);
      break;
    }
    case 'archive': {
      if (!m.members.has(a.who)) {
        result = 'archive-failed forbidden';
        break;
      }
      for (const msg of m.messages) receive(m, a.who, msg, 'archive', out);
      break;
    }
    case 'steal': {
      receive(m, a.who, m.messages[a.index % m.messages.length]!, 'live', out);
      break;
    }
    case 'wait':
      m.period += 1;
      break;
  }
  return { result, events: out };
}

// ---------------------------------------------------------------- the real system

/** A room event as the model names it (other events, sessions started and the like, are not compared). */
function describeEvent(e: SealEvent, labelOf: (body: string) => string, deviceOf: (jid: string) => string): string | undefined {
  switch (e.kind) {
    case 'opened':
      return `opened ${labelOf(e.body ?? '')} from ${deviceOf(e.from.jid)}`;
    case 'duplicate':
      return 'duplicate';
    case 'failed':
      return `failed ${e.code}`;
    case 'reflected':
      return 'reflected';
    case 'held':
      return `held ${e.reason}`;
    case 'decision-needed':
      return 'decision-needed';
    default:
      return undefined;
  }
}

/**
 * The real room: the embedded server with its MUC service and one SealClient per account over a
 * MemoryStore. Every room stanza a client sends is kept (for `steal`).
 */
export class RealRoom {
  #clock = Date.UTC(2026, 10, 26, 9);
  readonly server: EmbeddedServer;
  readonly clients = {} as Record<RoomDevice, SealClient>;
  /** The room messages sent, in order, with their label. */
  readonly sent: { label: string; sender: RoomDevice; stanza: Element }[] = [];
  #labels = 0;

  private constructor(seed: string) {
    this.server = new EmbeddedServer({ clock: () => this.#clock, rng: seededRng(`${seed} server`), muc: 'conference.example.org' });
  }

  static async create(seed: string): Promise<RealRoom> {
    const room = new RealRoom(seed);
    const rng = seededRng(`${seed} clients`);
    const now = (): number => Math.floor((room.#clock += 10) / 1000);
    for (const d of ROOM_DEVICES) {
      room.server.createAccount(ROOM_ACCOUNTS[d]);
      const inner = room.server.connect(`${ROOM_ACCOUNTS[d]}/d`);
      const connection = {
        jid: inner.jid,
        send: async (s: Element) => {
          if (s.attrs.type === 'groupchat' && s.attrs.to === ROOM_JID) room.sent.push({ label: `r${room.#labels++}`, sender: d, stanza: parseXml(s.toString()) });
          return inner.send(s);
        },
        iq: (r: Element) => inner.iq(r),
        onStanza: inner.onStanza.bind(inner),
        close: () => inner.close(),
      };
      room.clients[d] = await SealClient.create({ connection, now, rng, oneTimePrekeys: 10 });
      await connection.send(presence());
    }
    await room.flush();
    const alice = room.clients.A;
    await alice.connection.send(joinPresence(`${ROOM_JID}/${NICK.A}`));
    await room.flush();
    await alice.connection.iq(configureRoomIq('cfg', ROOM_JID, { membersOnly: true, nonAnonymous: true }));
    for (const d of ['B', 'C'] as const) await alice.connection.iq(setAffiliationIq(`aff-${d}`, ROOM_JID, ROOM_ACCOUNTS[d], 'member'));
    for (const d of ROOM_DEVICES) {
      await room.clients[d].joinRoom(ROOM_JID, NICK[d]);
      await room.flush();
    }
    return room;
  }

  async flush(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await this.server.network.flush();
      for (const d of ROOM_DEVICES) await this.clients[d].idle();
    }
  }

  #labelOf = (body: string): string => {
    const m = /^message (r\d+)$/.exec(body);
    return m === null ? `?${body}` : m[1]!;
  };

  #deviceOf = (jid: string): string => ROOM_DEVICES.find((d) => ROOM_ACCOUNTS[d] === jid) ?? jid;

  /** Runs `a` on the real system. */
  async run(a: RoomAction): Promise<RoomObservation> {
    const marks = Object.fromEntries(ROOM_DEVICES.map((d) => [d, this.clients[d].events.length])) as Record<RoomDevice, number>;
    let result = 'done';
    const alice = this.clients.A;
    try {
      switch (a.kind) {
        case 'send': {
          const label = `r${this.#labels}`;
          await this.clients[a.who].sendRoom(ROOM_JID, `message ${label}`);
          const last = this.sent.at(-1);
          if (last === undefined || last.label !== label) throw new Error('no room stanza was sent');
          result = `sent ${label} to ${this.recipientsOf(last.stanza).join(',')}`;
          break;
        }
        case 'join':
          await this.clients[a.who].joinRoom(ROOM_JID, NICK[a.who]);
          break;
        case 'leave':
          await this.clients[a.who].connection.send(xml('presence', { to: `${ROOM_JID}/${NICK[a.who]}`, type: 'unavailable' }));
          break;
        case 'remove':
        case 'add':
          await alice.connection.iq(setAffiliationIq(`${a.kind}-${this.#labels}-${Date.now()}`, ROOM_JID, ROOM_ACCOUNTS[a.who], a.kind === 'add' ? 'member' : 'none'));
          break;
        case 'archive':
          await this.clients[a.who].fetchRoomArchive(ROOM_JID);
          break;
        case 'steal': {
          const m = this.sent[a.index % this.sent.length]!;
          const copy = parseXml(m.stanza.toString());
          copy.attrs = { ...copy.attrs, from: `${ROOM_JID}/${NICK[m.sender]}`, to: `${ROOM_ACCOUNTS[a.who]}/d` };
          await this.clients[a.who].receive(copy);
          break;
        }
        case 'wait':
          this.#clock += (GROUPS_CONSTANTS.ROOM_STATE_MAX_AGE + 1) * 1000;
          break;
      }
    } catch (e) {
      const code = (e as { code?: string; condition?: string }).code ?? (e as { condition?: string }).condition ?? String(e);
      result = `${a.kind}-failed ${code}`;
    }
    await this.flush();
    const events = emptyEvents();
    for (const d of ROOM_DEVICES) {
      for (const e of this.clients[d].events.slice(marks[d])) {
        const text = describeEvent(e, this.#labelOf, this.#deviceOf);
        if (text !== undefined) events[d].push(text);
      }
    }
    return { result, events };
  }

  /** The devices (by model name) a room stanza wraps a key for. */
  recipientsOf(stanza: Element): string[] {
    const sealed = SealedElement.fromXml(stanza.getChild('sealed', SEAL_NS)!);
    return sealed.recipients.filter((r) => r.keys.length > 0).map((r) => this.#deviceOf(r.jid)).sort();
  }
}
