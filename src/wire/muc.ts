/**
 * The Multi-User Chat (XEP-0045) and room-archive (XEP-0313) elements a Seal device reads and
 * builds for §groups: a room's disco#info features, its affiliation lists (muc#admin), the
 * room's notices of affiliation and configuration changes (muc#user), and the requests a client
 * sends (disco#info, affiliation queries, joining with a nick, querying the room's archive). Every
 * reader is bounded and gives a typed SealError for anything it cannot read; none of these
 * elements is Seal's own (the room service writes them), so nothing here is trusted for identity.
 *
 * @see spec §groups
 * @module
 */
import { SealError } from '../errors.js';
import { DATA_FORMS_NS } from './pep.js';
import { DISCO_INFO_NS, type Element, childElements, childrenNamed, isNamed, optionalAttr, requiredAttr, xml } from './xml.js';

/** XEP-0045 namespaces. */
export const MUC_NS = 'http://jabber.org/protocol/muc';
/** XEP-0045 `muc#user` (notices and extended presence). */
export const MUC_USER_NS = 'http://jabber.org/protocol/muc#user';
/** XEP-0045 `muc#admin` (affiliation lists). */
export const MUC_ADMIN_NS = 'http://jabber.org/protocol/muc#admin';
/** XEP-0045 `muc#owner` (room configuration). */
export const MUC_OWNER_NS = 'http://jabber.org/protocol/muc#owner';
/** XEP-0313 Message Archive Management. */
export const MAM_NS = 'urn:xmpp:mam:2';

/** The disco#info feature of a members-only room (XEP-0045 §15.4). @see spec §groups.rooms */
export const FEATURE_MEMBERS_ONLY = 'muc_membersonly';
/** The disco#info feature of a non-anonymous room (XEP-0045 §15.4). @see spec §groups.rooms */
export const FEATURE_NON_ANONYMOUS = 'muc_nonanonymous';

/** The affiliations whose holders receive a room's keys, in the order a device queries them. @see spec §groups.recipients */
export const MEMBER_AFFILIATIONS = ['owner', 'admin', 'member'] as const;
/** An affiliation that makes its holder a recipient. */
export type MemberAffiliation = (typeof MEMBER_AFFILIATIONS)[number];

/** Every XEP-0045 affiliation. */
export const AFFILIATIONS = ['owner', 'admin', 'member', 'none', 'outcast'] as const;
/** An XEP-0045 affiliation. */
export type Affiliation = (typeof AFFILIATIONS)[number];

/** Most `<feature/>` elements read from one disco#info result. */
export const MAX_ROOM_FEATURES = 256;
/** Most `<item/>` elements read from one affiliation list. */
export const MAX_AFFILIATION_ITEMS = 4096;
/** Most `<item/>` and `<status/>` elements read from one muc#user notice. */
export const MAX_NOTICE_ENTRIES = 64;

/** What a device reads from a room's disco#info result. @see spec §groups.rooms */
export interface RoomFeatures {
  readonly membersOnly: boolean;
  readonly nonAnonymous: boolean;
}

/**
 * Reads the `<query xmlns='http://jabber.org/protocol/disco#info'/>` of a room's disco#info
 * result: whether it lists `muc_membersonly` and `muc_nonanonymous` (XEP-0045 §6.4).
 *
 * @throws SealError `unexpected-element` for another element; `length-out-of-range` for more
 *   than MAX_ROOM_FEATURES features; `schema-violation` for a feature without `var`.
 * @see spec §groups.rooms
 */
export function readRoomFeatures(query: Element): RoomFeatures {
  if (!isNamed(query, 'query', DISCO_INFO_NS)) throw new SealError('unexpected-element', `disco#info: expected <query xmlns='${DISCO_INFO_NS}'>`);
  const features = childrenNamed(query, 'feature', DISCO_INFO_NS);
  if (features.length > MAX_ROOM_FEATURES) throw new SealError('length-out-of-range', `disco#info: at most ${MAX_ROOM_FEATURES} features, got ${features.length}`);
  const vars = new Set(features.map((f) => requiredAttr(f, 'var')));
  return { membersOnly: vars.has(FEATURE_MEMBERS_ONLY), nonAnonymous: vars.has(FEATURE_NON_ANONYMOUS) };
}

/**
 * Reads the `<query xmlns='http://jabber.org/protocol/muc#admin'/>` of the answer to an
 * affiliation query for `affiliation` (XEP-0045 §9.5, §10.5, §10.8): the JIDs of its items, each
 * as written (the caller checks them as bare JIDs). An item of another affiliation is refused,
 * so that a room cannot answer a member query with the owner list or the reverse.
 *
 * @throws SealError `unexpected-element`; `length-out-of-range` beyond MAX_AFFILIATION_ITEMS;
 *   `schema-violation` for an item without `jid` or of another affiliation.
 * @see spec §groups.recipients
 */
export function readAffiliationList(query: Element, affiliation: MemberAffiliation): string[] {
  if (!isNamed(query, 'query', MUC_ADMIN_NS)) throw new SealError('unexpected-element', `affiliation list: expected <query xmlns='${MUC_ADMIN_NS}'>`);
  const items = childrenNamed(query, 'item', MUC_ADMIN_NS);
  if (items.length > MAX_AFFILIATION_ITEMS) throw new SealError('length-out-of-range', `affiliation list: at most ${MAX_AFFILIATION_ITEMS} items, got ${items.length}`);
  return items.map((item) => {
    if (requiredAttr(item, 'affiliation') !== affiliation) throw new SealError('schema-violation', `affiliation list: an item of affiliation '${String(item.attrs.affiliation)}' in the ${affiliation} list`);
    return requiredAttr(item, 'jid');
  });
}

/** A room's notice (XEP-0045 `<x xmlns='…muc#user'/>`): its status codes and the affiliations it names. */
export interface RoomNotice {
  readonly statuses: readonly number[];
  readonly items: readonly { readonly jid: string | undefined; readonly affiliation: string | undefined }[];
}

/**
 * Reads the `<x xmlns='http://jabber.org/protocol/muc#user'/>` children of a presence or message
 * from a room, or `undefined` when it has none. Status codes that are not three digits are
 * skipped; an `<item/>`'s `jid` is taken as written (a full JID in presence, a bare JID in
 * Prosody's notice for a user who is not in the room).
 *
 * @throws SealError `length-out-of-range` beyond MAX_NOTICE_ENTRIES entries.
 * @see spec §groups.membership
 */
export function readRoomNotice(stanza: Element): RoomNotice | undefined {
  const xs = childrenNamed(stanza, 'x', MUC_USER_NS);
  if (xs.length === 0) return undefined;
  const statuses: number[] = [];
  const items: { jid: string | undefined; affiliation: string | undefined }[] = [];
  for (const x of xs) {
    for (const child of childElements(x)) {
      if (statuses.length + items.length >= MAX_NOTICE_ENTRIES) throw new SealError('length-out-of-range', `muc#user: at most ${MAX_NOTICE_ENTRIES} entries`);
      if (isNamed(child, 'status', MUC_USER_NS)) {
        const code = optionalAttr(child, 'code');
        if (code !== undefined && /^[1-9][0-9]{2}$/.test(code)) statuses.push(Number(code));
      } else if (isNamed(child, 'item', MUC_USER_NS)) {
        items.push({ jid: optionalAttr(child, 'jid'), affiliation: optionalAttr(child, 'affiliation') });
      }
    }
  }
  return { statuses, items };
}

/** The status codes of a configuration change (XEP-0045 §10.2.1): 104 (any change), 170–174 (logging and anonymity). @see spec §groups.rooms */
export const CONFIG_CHANGE_STATUSES: ReadonlySet<number> = new Set([104, 170, 171, 172, 173, 174]);

// ---------------------------------------------------------------- requests a client sends

/** `<iq type='get' to='room'><query xmlns='…disco#info'/></iq>` (XEP-0045 §6.4). @see spec §groups.rooms */
export function roomInfoIq(id: string, room: string): Element {
  return xml('iq', { type: 'get', id, to: room }, [xml('query', { xmlns: DISCO_INFO_NS })]);
}

/** `<iq type='get' to='room'><query xmlns='…muc#admin'><item affiliation='…'/></query></iq>` (XEP-0045 §9.5). @see spec §groups.recipients */
export function affiliationQueryIq(id: string, room: string, affiliation: MemberAffiliation): Element {
  return xml('iq', { type: 'get', id, to: room }, [xml('query', { xmlns: MUC_ADMIN_NS }, [xml('item', { affiliation })])]);
}

/** `<iq type='set' to='room'>` changing the affiliation of `jid` (XEP-0045 §9.3, §9.4). */
export function setAffiliationIq(id: string, room: string, jid: string, affiliation: Affiliation): Element {
  return xml('iq', { type: 'set', id, to: room }, [xml('query', { xmlns: MUC_ADMIN_NS }, [xml('item', { affiliation, jid })])]);
}

/**
 * `<iq type='set' to='room'>` submitting the room configuration form (XEP-0045 §10.1.3) with the
 * two settings §groups needs: members-only, and real JIDs visible to everyone (non-anonymous).
 */
export function configureRoomIq(id: string, room: string, options: { membersOnly: boolean; nonAnonymous: boolean }): Element {
  const field = (name: string, value: string) => xml('field', { var: name }, [xml('value', {}, [value])]);
  return xml('iq', { type: 'set', id, to: room }, [
    xml('query', { xmlns: MUC_OWNER_NS }, [
      xml('x', { xmlns: DATA_FORMS_NS, type: 'submit' }, [
        xml('field', { var: 'FORM_TYPE', type: 'hidden' }, [xml('value', {}, ['http://jabber.org/protocol/muc#roomconfig'])]),
        field('muc#roomconfig_membersonly', options.membersOnly ? '1' : '0'),
        field('muc#roomconfig_whois', options.nonAnonymous ? 'anyone' : 'moderators'),
        field('muc#roomconfig_persistentroom', '1'),
        field('muc#roomconfig_enablearchiving', '1'),
      ]),
    ]),
  ]);
}

/** `<presence to='room/nick'><x xmlns='…muc'><history maxstanzas='0'/></x></presence>`: entering a room without the room's own history (XEP-0045 §7.2, §7.2.14); history comes from the room's archive. */
export function joinPresence(occupantJid: string): Element {
  return xml('presence', { to: occupantJid }, [xml('x', { xmlns: MUC_NS }, [xml('history', { maxstanzas: '0' })])]);
}

/** `<iq type='set' to='room'><query xmlns='urn:xmpp:mam:2' queryid='…'/></iq>`: a query of the room's archive (XEP-0313 §3.3.2). @see spec §groups.wire */
export function roomArchiveQueryIq(id: string, room: string, queryid: string): Element {
  return xml('iq', { type: 'set', id, to: room }, [xml('query', { xmlns: MAM_NS, queryid })]);
}
