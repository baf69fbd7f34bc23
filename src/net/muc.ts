/**
 * The Multi-User Chat service of the embedded server: the subset of XEP-0045 that Seal's §groups
 * runs on, with Prosody 0.12's mod_muc and mod_muc_mam as reference. Rooms with a configuration
 * (members-only, who may see real JIDs), affiliations (owner, admin, member, outcast), occupants
 * who enter with a nick, messages reflected to every occupant (the sender's own resource
 * included, with the sender's `id`), notices of affiliation and configuration changes, and the
 * room's archive (XEP-0313 on the room's bare JID) with `<stanza-id by='room'/>`.
 *
 * What Seal depends on, and this service reproduces:
 * - a members-only room refuses entry to non-members (`registration-required`) and removes a
 *   member whose affiliation is revoked (status 321); its member, admin and owner lists may be
 *   read by members when the room is non-anonymous (XEP-0045 §9.5; Prosody since 0.11.10);
 * - a groupchat message from an occupant goes to every occupant, from `room@service/nick`;
 * - the archive stores a message with a body or a storage hint once, without `to`, from the
 *   occupant JID, with the sender's real bare JID in `<x xmlns='…muc#user'><item jid/></x>` in a
 *   non-anonymous room; only owners, admins and members of a members-only room may query it;
 * - affiliation changes of users not in the room are announced by a message from the room;
 *   configuration changes by status 104 (and 172/173 for anonymity).
 *
 * Simplifications: no roles beyond participant and moderator, no moderation, no passwords, no
 * room history on entry (clients read the archive), rooms are created by the first entry
 * (unlocked at once) or by {@link MucService.createRoom}; one nick per full JID.
 *
 * @see spec §groups
 * @module
 */
import { DISCO_INFO_NS, type Element, childElements, childrenNamed, isNamed, xml } from '../wire/xml.js';
import { DATA_FORMS_NS } from '../wire/pep.js';
import { MUC_ADMIN_NS, MUC_NS, MUC_OWNER_NS, MUC_USER_NS, AFFILIATIONS, type Affiliation } from '../wire/muc.js';
import { MessageArchive } from './archive.js';
import { XmppError, errorElement } from './connection.js';
import { DELAY_NS, FORWARD_NS, MAM_NS, RSM_NS, STANZA_ID_NS, bareOf, cloneElement, splitJid, xmppTimestamp } from './stanzas.js';

const HINTS_NS = 'urn:xmpp:hints';

/** What the service needs from the server it runs in. */
export interface MucHost {
  /** Delivers a stanza to a connected full JID (through the adversarial network); ignored when not connected. */
  deliver(fullJid: string, stanza: Element): void;
  /** A new server-assigned id. */
  newId(): string;
  /** The clock, in milliseconds since the epoch. */
  clock(): number;
}

/** A room's configuration. */
export interface RoomConfig {
  /** Only owners, admins and members may enter (`muc#roomconfig_membersonly`). */
  readonly membersOnly: boolean;
  /** Who sees occupants' real JIDs: everyone (non-anonymous) or moderators (semi-anonymous). */
  readonly whois: 'anyone' | 'moderators';
}

interface Occupant {
  readonly nick: string;
  readonly fullJid: string;
  readonly bare: string;
}

interface Room {
  readonly jid: string;
  config: RoomConfig;
  readonly affiliations: Map<string, Affiliation>;
  readonly occupants: Map<string, Occupant>;
  readonly archive: MessageArchive;
}

const RANK: Record<Affiliation, number> = { outcast: -1, none: 0, member: 1, admin: 2, owner: 3 };

/**
 * The MUC service of one domain (`conference.example.org`).
 *
 * @see spec §groups
 * @example
 * ```ts
 * const server = new EmbeddedServer({ muc: 'conference.example.org' });
 * server.muc!.createRoom('room@conference.example.org', 'alice@example.org', { membersOnly: true, whois: 'anyone' });
 * ```
 */
export class MucService {
  readonly domain: string;
  readonly #host: MucHost;
  readonly #rooms = new Map<string, Room>();

  constructor(domain: string, host: MucHost) {
    this.domain = domain;
    this.#host = host;
  }

  /** Whether `jid` (bare or full) is this service or one of its rooms. */
  handles(jid: string): boolean {
    return splitJid(jid).domain === this.domain;
  }

  /** Creates (or reconfigures) a room owned by `owner`, as an owner's configuration form would. */
  createRoom(room: string, owner: string, config: RoomConfig): void {
    const existing = this.#rooms.get(room);
    if (existing !== undefined) {
      existing.config = config;
      existing.affiliations.set(owner, 'owner');
      return;
    }
    this.#rooms.set(room, { jid: room, config, affiliations: new Map([[owner, 'owner']]), occupants: new Map(), archive: new MessageArchive() });
  }

  /** The room's archive, oldest first (copies). */
  archiveOf(room: string): Element[] {
    return (this.#rooms.get(room)?.archive.entries() ?? []).map((e) => cloneElement(e.stanza));
  }

  /** The full JIDs of the room's occupants. */
  occupantsOf(room: string): string[] {
    return [...(this.#rooms.get(room)?.occupants.values() ?? [])].map((o) => o.fullJid);
  }

  #affiliation(room: Room, bare: string): Affiliation {
    return room.affiliations.get(bare) ?? 'none';
  }

  #occupantByJid(room: Room, fullJid: string): Occupant | undefined {
    for (const o of room.occupants.values()) if (o.fullJid === fullJid) return o;
    return undefined;
  }

  /** The `<x xmlns='…muc#user'><item/></x>` describing `occupant` to `viewer`. */
  #userX(room: Room, occupant: { bare: string; fullJid?: string }, viewer: string, extra: Element[] = [], role?: string): Element {
    const affiliation = this.#affiliation(room, occupant.bare);
    const seesJid = room.config.whois === 'anyone' || RANK[this.#affiliation(room, bareOf(viewer))] >= RANK.admin;
    const attrs: Record<string, string> = { affiliation, role: role ?? (RANK[affiliation] >= RANK.admin ? 'moderator' : 'participant') };
    if (seesJid && occupant.fullJid !== undefined) attrs.jid = occupant.fullJid;
    return xml('x', { xmlns: MUC_USER_NS }, [xml('item', attrs), ...extra]);
  }

  #broadcastPresence(room: Room, occupant: Occupant, type: 'available' | 'unavailable', statuses: number[] = [], role?: string): void {
    for (const viewer of room.occupants.values()) {
      const own = viewer.fullJid === occupant.fullJid;
      const codes = [...statuses, ...(own ? [110] : []), ...(own && room.config.whois === 'anyone' && type === 'available' ? [100] : [])];
      this.#host.deliver(viewer.fullJid, xml('presence', { from: `${room.jid}/${occupant.nick}`, to: viewer.fullJid, ...(type === 'unavailable' ? { type } : {}) }, [this.#userX(room, occupant, viewer.fullJid, codes.map((c) => xml('status', { code: String(c) })), role)]));
    }
  }

  // ---- presence: entering and leaving (XEP-0045 §7.2, §7.14)

  /** A presence a client sent to `room@service/nick`. */
  presence(fromFull: string, stanza: Element): void {
    const to = splitJid(String(stanza.attrs.to));
    const type = stanza.attrs.type as string | undefined;
    if (type !== undefined && type !== 'unavailable') return;
    let room = this.#rooms.get(to.bare);
    const bare = bareOf(fromFull);
    if (type === 'unavailable') {
      if (room === undefined) return;
      const occupant = this.#occupantByJid(room, fromFull);
      if (occupant === undefined) return;
      this.#broadcastPresence(room, occupant, 'unavailable', [], 'none');
      room.occupants.delete(occupant.nick);
      return;
    }
    const nick = to.resource;
    const refuse = (type: 'auth' | 'cancel' | 'modify', condition: string) =>
      this.#host.deliver(fromFull, xml('presence', { from: String(stanza.attrs.to), to: fromFull, type: 'error' }, [xml('x', { xmlns: MUC_NS }), errorElement(type, condition)]));
    if (nick === undefined || nick === '') return refuse('modify', 'jid-malformed');
    if (room === undefined) {
      // An instant room (XEP-0045 §10.1.2), Prosody's defaults: open and semi-anonymous.
      this.createRoom(to.bare, bare, { membersOnly: false, whois: 'moderators' });
      room = this.#rooms.get(to.bare)!;
    }
    const affiliation = this.#affiliation(room, bare);
    if (affiliation === 'outcast') return refuse('auth', 'forbidden');
    if (room.config.membersOnly && RANK[affiliation] < RANK.member) return refuse('auth', 'registration-required');
    const taken = room.occupants.get(nick);
    if (taken !== undefined && taken.fullJid !== fromFull) return refuse('cancel', 'conflict');
    const previous = this.#occupantByJid(room, fromFull);
    if (previous !== undefined && previous.nick !== nick) room.occupants.delete(previous.nick);
    const occupant: Occupant = { nick, fullJid: fromFull, bare };
    room.occupants.set(nick, occupant);
    // The other occupants' presences to the new one, then its own to everyone (itself last).
    for (const other of room.occupants.values()) {
      if (other.fullJid === fromFull) continue;
      this.#host.deliver(fromFull, xml('presence', { from: `${room.jid}/${other.nick}`, to: fromFull }, [this.#userX(room, other, fromFull)]));
    }
    this.#broadcastPresence(room, occupant, 'available');
  }

  /** A client's session ended: it leaves every room. */
  closed(fullJid: string): void {
    for (const room of this.#rooms.values()) {
      const occupant = this.#occupantByJid(room, fullJid);
      if (occupant === undefined) continue;
      room.occupants.delete(occupant.nick);
      for (const viewer of room.occupants.values()) {
        this.#host.deliver(viewer.fullJid, xml('presence', { from: `${room.jid}/${occupant.nick}`, to: viewer.fullJid, type: 'unavailable' }, [this.#userX(room, occupant, viewer.fullJid, [], 'none')]));
      }
    }
  }

  // ---- messages (XEP-0045 §7.4)

  /** A message a client sent to a room. */
  message(fromFull: string, stanza: Element): void {
    const room = this.#rooms.get(bareOf(String(stanza.attrs.to)));
    const bounce = (condition: string) => {
      if (stanza.attrs.type === 'error') return;
      this.#host.deliver(fromFull, xml('message', { from: String(stanza.attrs.to), to: fromFull, type: 'error', ...(typeof stanza.attrs.id === 'string' ? { id: stanza.attrs.id } : {}) }, [errorElement('cancel', condition)]));
    };
    if (room === undefined) return bounce('item-not-found');
    if (stanza.attrs.type !== 'groupchat' || splitJid(String(stanza.attrs.to)).resource !== undefined) return bounce('not-acceptable');
    const occupant = this.#occupantByJid(room, fromFull);
    if (occupant === undefined) return bounce('not-acceptable');
    const reflected = cloneElement(stanza);
    // XEP-0359 §7: nobody else may claim the room's stanza ids; XEP-0313 §6.1.2: no forged <x/>.
    for (const child of childrenNamed(reflected, 'stanza-id', STANZA_ID_NS).filter((c) => c.attrs.by === room.jid)) reflected.remove(child);
    for (const child of childrenNamed(reflected, 'x', MUC_USER_NS)) reflected.remove(child);
    reflected.attrs.from = `${room.jid}/${occupant.nick}`;
    delete reflected.attrs.to;
    // Prosody's muc-message-is-historic: a body or a storage hint (and no no-store hint).
    const historic = !reflected.getChild('no-store', HINTS_NS) && (reflected.getChild('store', HINTS_NS) !== undefined || childElements(reflected).some((c) => c.getName() === 'body'));
    if (historic) {
      const id = this.#host.newId();
      const stored = cloneElement(reflected);
      if (room.config.whois === 'anyone') stored.cnode(xml('x', { xmlns: MUC_USER_NS }, [xml('item', { affiliation: this.#affiliation(room, occupant.bare), role: 'participant', jid: occupant.bare })]));
      room.archive.append({ id, stamp: this.#host.clock(), with: `message<groupchat`, stanza: stored });
      reflected.cnode(xml('stanza-id', { xmlns: STANZA_ID_NS, by: room.jid, id }));
    }
    for (const viewer of room.occupants.values()) {
      const copy = cloneElement(reflected);
      copy.attrs.to = viewer.fullJid;
      this.#host.deliver(viewer.fullJid, copy);
    }
  }

  // ---- iq (XEP-0045 §6.4, §9, §10; XEP-0313 on the room)

  /** An iq a client sent to the service or a room; returns the children of the result. @throws XmppError the error to answer with. */
  iq(fromFull: string, type: 'get' | 'set', payload: Element, to: string): Element[] {
    const target = splitJid(to);
    if (target.bare === this.domain) {
      if (isNamed(payload, 'query', DISCO_INFO_NS) && type === 'get') return [xml('query', { xmlns: DISCO_INFO_NS }, [xml('identity', { category: 'conference', type: 'text' }), xml('feature', { var: MUC_NS })])];
      throw new XmppError('cancel', 'service-unavailable');
    }
    const room = this.#rooms.get(target.bare);
    if (room === undefined || target.resource !== undefined) throw new XmppError('cancel', 'item-not-found');
    const requester = bareOf(fromFull);
    const rank = RANK[this.#affiliation(room, requester)];
    if (isNamed(payload, 'query', DISCO_INFO_NS) && type === 'get') {
      const features = [MUC_NS, `${MUC_NS}#stable_id`, room.config.membersOnly ? 'muc_membersonly' : 'muc_open', room.config.whois === 'anyone' ? 'muc_nonanonymous' : 'muc_semianonymous', 'muc_persistent', 'muc_unmoderated', MAM_NS];
      return [xml('query', { xmlns: DISCO_INFO_NS }, [xml('identity', { category: 'conference', type: 'text' }), ...features.map((v) => xml('feature', { var: v }))])];
    }
    if (isNamed(payload, 'query', MUC_ADMIN_NS)) {
      const items = childrenNamed(payload, 'item', MUC_ADMIN_NS);
      if (type === 'get') {
        const wanted = items[0]?.attrs.affiliation as Affiliation | undefined;
        if (items.length !== 1 || wanted === undefined || !AFFILIATIONS.includes(wanted)) throw new XmppError('modify', 'bad-request');
        // Prosody's rule: admins and owners, and members of a members-only room whose real JIDs everyone sees.
        const allowed = (rank >= RANK.admin && rank >= RANK[wanted]) || (room.config.membersOnly && room.config.whois === 'anyone' && rank >= RANK.member);
        if (!allowed) throw new XmppError('auth', 'forbidden');
        const holders = [...room.affiliations].filter(([, a]) => a === wanted).sort(([a], [b]) => (a < b ? -1 : 1));
        return [xml('query', { xmlns: MUC_ADMIN_NS }, holders.map(([jid, affiliation]) => xml('item', { affiliation, jid })))];
      }
      for (const item of items) {
        const jid = item.attrs.jid;
        const affiliation = item.attrs.affiliation as Affiliation | undefined;
        if (typeof jid !== 'string' || affiliation === undefined || !AFFILIATIONS.includes(affiliation)) throw new XmppError('modify', 'bad-request');
        const current = RANK[this.#affiliation(room, bareOf(jid))];
        if (rank < RANK.admin || (rank < RANK.owner && (RANK[affiliation] >= RANK.admin || current >= RANK.admin))) throw new XmppError('cancel', 'not-allowed');
      }
      for (const item of items) this.#setAffiliation(room, bareOf(String(item.attrs.jid)), item.attrs.affiliation as Affiliation);
      return [];
    }
    if (isNamed(payload, 'query', MUC_OWNER_NS)) {
      if (rank < RANK.owner) throw new XmppError('auth', 'forbidden');
      if (type === 'get') return [xml('query', { xmlns: MUC_OWNER_NS }, [xml('x', { xmlns: DATA_FORMS_NS, type: 'form' }, [xml('field', { var: 'muc#roomconfig_membersonly', type: 'boolean' }), xml('field', { var: 'muc#roomconfig_whois', type: 'list-single' })])])];
      const form = payload.getChild('x', DATA_FORMS_NS);
      const value = (name: string) => form?.getChildren('field', DATA_FORMS_NS).find((f) => f.attrs.var === name)?.getChildText('value', DATA_FORMS_NS) ?? undefined;
      const membersOnlyText = value('muc#roomconfig_membersonly');
      const whoisText = value('muc#roomconfig_whois');
      this.#configure(room, {
        membersOnly: membersOnlyText === undefined ? room.config.membersOnly : membersOnlyText === '1' || membersOnlyText === 'true',
        whois: whoisText === 'anyone' || whoisText === 'moderators' ? whoisText : room.config.whois,
      });
      return [];
    }
    if (isNamed(payload, 'query', MAM_NS)) {
      // XEP-0313 §6.1.2: in a members-only room only owners, admins and members read the archive.
      if (rank < (room.config.membersOnly ? RANK.member : RANK.none)) throw new XmppError('auth', 'forbidden');
      if (type === 'get') return [xml('query', { xmlns: MAM_NS })];
      const page = room.archive.query(payload);
      const queryid = payload.attrs.queryid as string | undefined;
      for (const entry of page.results) {
        const archived = cloneElement(entry.stanza);
        archived.attrs.xmlns = 'jabber:client';
        const result = xml('result', { xmlns: MAM_NS, ...(queryid === undefined ? {} : { queryid }), id: entry.id }, [xml('forwarded', { xmlns: FORWARD_NS }, [xml('delay', { xmlns: DELAY_NS, stamp: xmppTimestamp(entry.stamp) }), archived])]);
        this.#host.deliver(fromFull, xml('message', { from: room.jid, to: fromFull, id: this.#host.newId() }, [result]));
      }
      const first = page.results[0];
      const last = page.results.at(-1);
      const set = [...(first && last ? [xml('first', {}, [first.id]), xml('last', {}, [last.id])] : []), xml('count', {}, [String(page.count)])];
      return [xml('fin', { xmlns: MAM_NS, ...(queryid === undefined ? {} : { queryid }), ...(page.complete ? { complete: 'true' } : {}) }, [xml('set', { xmlns: RSM_NS }, set)])];
    }
    throw new XmppError('cancel', 'service-unavailable');
  }

  /** Changes an affiliation and tells the occupants (Prosody's set_affiliation). */
  #setAffiliation(room: Room, jid: string, affiliation: Affiliation): void {
    if (affiliation === 'none') room.affiliations.delete(jid);
    else room.affiliations.set(jid, affiliation);
    const inRoom = [...room.occupants.values()].filter((o) => o.bare === jid);
    const kicked = affiliation === 'outcast' || (room.config.membersOnly && RANK[affiliation] < RANK.member);
    if (inRoom.length === 0) {
      // XEP-0045 §9.4 (Prosody): a user not in the room: a message from the room to the occupants.
      for (const viewer of room.occupants.values()) {
        this.#host.deliver(viewer.fullJid, xml('message', { from: room.jid, to: viewer.fullJid, id: this.#host.newId() }, [xml('x', { xmlns: MUC_USER_NS }, [xml('item', { affiliation, jid })])]));
      }
      return;
    }
    for (const occupant of inRoom) {
      if (kicked) {
        this.#broadcastPresence(room, occupant, 'unavailable', [affiliation === 'outcast' ? 301 : 321], 'none');
        room.occupants.delete(occupant.nick);
      } else this.#broadcastPresence(room, occupant, 'available');
    }
  }

  /** Applies a configuration and tells the occupants (XEP-0045 §10.2.1). */
  #configure(room: Room, config: RoomConfig): void {
    const before = room.config;
    room.config = config;
    const codes = [104, ...(before.whois !== config.whois ? [config.whois === 'anyone' ? 172 : 173] : [])];
    for (const viewer of room.occupants.values()) {
      this.#host.deliver(viewer.fullJid, xml('message', { from: room.jid, to: viewer.fullJid, type: 'groupchat', id: this.#host.newId() }, [xml('x', { xmlns: MUC_USER_NS }, codes.map((c) => xml('status', { code: String(c) })))]));
    }
    if (config.membersOnly && !before.membersOnly) {
      for (const occupant of [...room.occupants.values()]) {
        if (RANK[this.#affiliation(room, occupant.bare)] >= RANK.member) continue;
        this.#broadcastPresence(room, occupant, 'unavailable', [322], 'none');
        room.occupants.delete(occupant.nick);
      }
    }
  }
}
