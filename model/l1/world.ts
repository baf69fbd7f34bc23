/**
 * L1 symbolic model, the state of the world: devices (accounts with JIDs and device ids, their
 * keys, prekeys, sessions and handshake logs), what the server publishes (bundles, device
 * lists), the honest messages sent and accepted, the compromises so far, and the attacker's
 * knowledge. Every value is immutable; actions (actions.ts) return new worlds.
 *
 * @see spec §identity (device keys, bundles, device lists)
 * @see spec §reqs.threat-model
 * @module
 */
import { Knowledge } from './knowledge.js';
import type { ProtocolOptions } from './options.js';
import { type Term, atom, label, num, pk, sig, tup } from './terms.js';

/** How a device of the setup is controlled. */
export type Control =
  | 'honest'
  /** A legitimate account the attacker owns: its secrets are known from the start. */
  | 'attacker'
  /** A device id under which the attacker registered another device's public identity keys
   * (it does not know their secrets). */
  | { readonly clone: string };

/** A device of a scenario. */
export interface DeviceSpec {
  readonly name: string;
  readonly jid: string;
  readonly id: number;
  /** One-time prekeys in the first bundle (default 1). */
  readonly opks?: number;
  readonly control?: Control;
}

/** An account whose device list is signed by an account key. */
export interface AccountSpec {
  readonly jid: string;
  /** The devices on its first list. */
  readonly devices: readonly string[];
  /** The devices whose users verified this account key. */
  readonly verifiedBy: readonly string[];
}

/** The static part of a scenario. */
export interface Setup {
  readonly devices: readonly DeviceSpec[];
  /** Per honest device: the devices whose identity key its user verified (fingerprints compared). */
  readonly verified: Readonly<Record<string, readonly string[]>>;
  readonly accounts?: readonly AccountSpec[];
  /**
   * `honest`: the server delivers what accounts submit, stamps every stanza's `from` with the
   * submitting account, relays carbons and archive results faithfully and forges nothing; the
   * attacker is then an ordinary account (a device with `control: 'attacker'`) that sees only
   * the stanzas addressed to it. Absent: the attacker is the server and the network (the default
   * of every other scenario).
   */
  readonly server?: 'honest';
  /**
   * A members-only room (§groups): its JID and the member accounts on its lists at the start.
   * A message to the room's JID is wrapped for the devices of the accounts on the lists the
   * sender processed last (groups.recipients); the room's lists change before a sender processes
   * them (groups.membership).
   */
  readonly room?: { readonly jid: string; readonly members: readonly string[] };
}

/** The state of the scenario's room. @see spec §groups.membership */
export interface RoomState {
  /** The member accounts on the room's lists now. */
  readonly members: readonly string[];
  /** Per honest device, the member accounts of the lists it processed last. */
  readonly views: Readonly<Record<string, readonly string[]>>;
  /** Every account that was ever on the lists. */
  readonly everMembers: readonly string[];
}

/** A stored skipped message key. */
export interface Skipped {
  readonly rpub: Term;
  readonly n: number;
  readonly mk: Term;
}

/**
 * One session of a device with a peer device (the Double Ratchet state, abstractly).
 *
 * @see spec §envelope.ratchet
 */
export interface Session {
  readonly peer: string;
  readonly role: 'initiator' | 'responder';
  readonly via: 'async' | 'interactive';
  /** The root key the handshake produced: identifies the session for the properties. */
  readonly rk0: Term;
  readonly ad: Term;
  readonly rk: Term;
  /** DHs: own ratchet secret; `undefined` from a DH ratchet step on receipt until the next send
   * draws a new pair (the spec deletes the old private key at the step). */
  readonly dhs: Term | undefined;
  /** DHr: the peer's ratchet public key. */
  readonly dhr: Term | undefined;
  readonly cks: Term | undefined;
  readonly ns: number;
  readonly pn: number;
  readonly ckr: Term | undefined;
  readonly nr: number;
  readonly skipped: readonly Skipped[];
  /** Ids of the (message, context) pairs opened, to recognise re-deliveries. */
  readonly opened: readonly number[];
  /** The async header still attached (initiator until key confirmation). */
  readonly header: Term | undefined;
  /** Whether a one-time prekey entered the handshake. */
  readonly opk: boolean;
  /** Whether an ML-KEM shared secret entered the handshake. */
  readonly kem: boolean;
  /** Async: the responder device and the secrets of its signed and KEM prekeys the handshake used. */
  readonly responder: string;
  readonly spk: Term | undefined;
  readonly kemKey: Term | undefined;
  /** Ground truth the devices do not know: the session was set up by an attacker-made message. */
  readonly forged?: true;
  /** The identity signing key the handshake authenticated for the peer (device.pinning). */
  readonly peerKey: Term;
}

/**
 * An entry of a device's handshake log: the header's id (its hash), the id of the signed prekey
 * public key it names, and whether it used a one-time prekey.
 *
 * @see spec §handshake.async (handshake.duplicate)
 */
export interface LogEntry {
  readonly header: number;
  readonly spk: number;
  readonly oneTime: boolean;
}

/** An interactive handshake in progress. */
export type Pending =
  | { readonly role: 'initiator'; readonly peer: string; readonly e: Term; readonly q: Term; readonly msg1: Term }
  | { readonly role: 'responder'; readonly peer: string; readonly e: Term; readonly r: Term; readonly k3: Term; readonly h2: Term; readonly kem: boolean };

/** A device list as a device sees it. */
export interface ListView {
  readonly issued: number;
  readonly devices: readonly string[];
  /** With `listBindsDeviceKeys`: the signing key the list names for each device. */
  readonly keys: Readonly<Record<string, Term>>;
  /** The newest `issued` time among the authentic lists served to this device. */
  readonly newestServed: number;
}

/** A device's state. */
export interface Device {
  readonly name: string;
  readonly jid: string;
  readonly id: number;
  readonly control: 'honest' | 'attacker' | 'clone';
  readonly sign: Term;
  readonly agree: Term;
  /** Current signed prekey and KEM prekey secrets (rotation replaces and deletes them). */
  readonly spk: Term | undefined;
  readonly kem: Term | undefined;
  /**
   * Replaced signed prekeys and KEM prekeys still held in their grace period, oldest first (only
   * in scenarios that model the grace period; elsewhere rotation deletes them at once).
   */
  readonly grace: readonly { readonly spk: Term; readonly kem: Term }[];
  readonly gen: number;
  /** One-time prekey secrets still held. */
  readonly opks: readonly Term[];
  /** One-time prekeys published and consumed (a server can still serve them). */
  readonly usedOpks: readonly Term[];
  readonly sessions: readonly Session[];
  /** Processed handshake headers, oldest first (the spec's HandshakeLogEntry). */
  readonly log: readonly LogEntry[];
  readonly pending: readonly Pending[];
  /** Counter for fresh atoms. */
  readonly fresh: number;
  /** Device lists this device accepted, per account JID. */
  readonly lists: Readonly<Record<string, ListView>>;
  /** Query ids of this device's archive queries that have not ended (offline.forwarded-archive). */
  readonly queries: readonly Term[];
  /** Peer devices whose repair was decided and whose bundle is being fetched (offline.repair-reset). */
  readonly repairing: readonly string[];
  /** Peer devices repaired within the current REPAIR_INTERVAL (the rate limit). */
  readonly repaired: readonly string[];
  /** Sessions this device dropped, and why (for the properties; their keys are deleted). */
  readonly retired: readonly Retired[];
}

/**
 * A session a device no longer holds: dropped under the spec's rule once the newer session has
 * carried messages in both directions (`both-ways`, offline.previous-session), pushed out by a
 * second newer session (`displaced`: at most one previous session is kept), or thrown away when
 * it was replaced (`discarded`: only the mutant `no-previous-session` does this).
 */
export interface Retired {
  readonly peer: string;
  readonly rk0: Term;
  readonly opk: boolean;
  readonly why: 'both-ways' | 'displaced' | 'discarded';
}

/** One recipient of an honest message, with what the properties need about its session. */
export interface Recipient {
  readonly dev: string;
  readonly rk0: Term;
  /** Sender's ratchet secret and the receiver's ratchet public key of the chain used. */
  readonly own: Term;
  readonly remote: Term | undefined;
  readonly opk: boolean;
  readonly responder: string;
  readonly spk: Term | undefined;
  readonly kemKey: Term | undefined;
  /** The sender's session was set up by the attacker (ground truth, see Session.forged). */
  readonly forged: boolean;
}

/** An honest message (one stanza's content). */
export interface Msg {
  readonly id: number;
  readonly sender: string;
  readonly content: Term;
  readonly ck: Term;
  readonly to: readonly Recipient[];
  /** Forward secrecy does not claim it: a compromise found its key undeleted (see properties.ts). */
  readonly fsExposed: boolean;
  /** Post-compromise security claims it: sent after a compromise on a chain whose two ratchet
   * keys are younger than that compromise, and no compromise of its devices since. */
  readonly pcsClaim: boolean;
  /** Whether a compromise of its sender or a recipient happened before it was sent. */
  readonly afterCompromise: boolean;
  /** The device lists the sender should trust at send time (for the fan-out property). */
  readonly trustedAtSend: readonly string[] | undefined;
  /** A key-only message (device.key-only): the one that announces a repair's new session. */
  readonly keyOnly?: true;
  /**
   * A room message: the accounts the sender's processed lists no longer held (`excluded`), and
   * those the room had removed at send time (`removed`; the sender may not have processed it yet).
   */
  readonly room?: { readonly excluded: readonly string[]; readonly removed: readonly string[] };
}

/** An honest stanza on the network (for deliveries and replays). */
export interface Stanza {
  readonly msg: number;
  readonly from: string;
  readonly toJid: string;
  readonly entries: readonly { readonly to: string; readonly header: Term | undefined; readonly rmsg: Term }[];
  readonly commitment: Term;
  readonly payload: Term;
}

/** An honest interactive handshake message on the network. */
export interface IMessage {
  readonly step: 1 | 2 | 3;
  readonly from: string;
  readonly to: string;
  readonly body: Term;
}

/** A message a device accepted. */
export interface Accept {
  readonly dev: string;
  /** The device it was accepted as coming from. */
  readonly from: string;
  readonly content: Term;
  /** The honest message whose content it is, or -1 (content the attacker made). */
  readonly msg: number;
  /**
   * Ground truth the device does not know: the account whose connection put the stanza on the
   * network (the sender's for an honest stanza, also when its own server relays it as a carbon
   * or archive result), or `server` for a stanza the server made or changed.
   */
  readonly origin: string;
}

/**
 * Something a device did because of a stanza attributed to device `from`, other than accepting
 * it (recorded with an honest server only, for the forwarded-stanza property): a handshake under
 * another identity key held for the user's decision, or a repair started.
 */
export interface Attributed {
  readonly dev: string;
  readonly from: string;
  readonly kind: 'key-change' | 'repair';
  readonly origin: string;
}

/** A repair a device decided on (offline.repair-reset): the failure's peer, interval and path. */
export interface RepairRecord {
  readonly dev: string;
  readonly peer: string;
  /** The REPAIR_INTERVAL it was decided in (the world's interval counter). */
  readonly interval: number;
  readonly via: Via;
  /** The new session's root key, once the device started it. */
  readonly session?: Term;
}

/**
 * An interactive message 2 as written by an honest responder or read by an honest initiator
 * (ground truth the devices do not share): who wrote or read it, whom that device took as its
 * peer, and the Noise transcript up to message 2 (for the initiator's agreement at message 2).
 */
export interface Message2 {
  readonly role: 'responder' | 'initiator';
  readonly dev: string;
  readonly peer: string;
  readonly h2: Term;
}

/** A genuine message whose first in-order delivery failed (for the late-message property). */
export interface Loss {
  readonly dev: string;
  readonly msg: number;
  readonly reason: string;
  /**
   * The limit of the spec that explains it, if one does: `two-replacements` (its session was
   * pushed out by a second newer session: at most one previous session is kept), `reordered`
   * (delivered after a later message, once the previous session was dropped), `after-reorder`
   * (its sender's earlier messages were accepted out of order) or
   * `one-time-prekey-reused` (a first message whose header names a one-time prekey that another
   * handshake from the same bundle already used).
   */
  readonly limit?: 'two-replacements' | 'reordered' | 'after-reorder' | 'one-time-prekey-reused';
}

/** How a stanza reaches a device: directly, or wrapped as a carbon or an archive result (offline.forwarded). */
export type Via = 'live' | 'carbon-sent' | 'carbon-received' | 'archive';

/** What a compromise reveals. */
export type CompromiseKind = 'identity' | 'spk' | 'kem' | 'session' | 'full';

/** A compromise event. */
export interface Compromise {
  readonly dev: string;
  readonly kind: CompromiseKind;
  /** Which of the device's sessions (index), for `session`; -1 for all. */
  readonly session: number;
  /** The time step (number of actions before it). */
  readonly step: number;
  /** For a compromise of one session: that session's root key (identifies it). */
  readonly rk0?: Term;
}

/** Remaining budgets of the bounded actions. */
export type Budget = Readonly<Record<string, number>>;

/** A published device list. */
export interface PublishedList {
  readonly jid: string;
  readonly issued: number;
  readonly devices: readonly string[];
  readonly term: Term;
}

/** The whole state. */
export interface World {
  readonly setup: Setup;
  readonly options: ProtocolOptions;
  readonly devices: readonly Device[];
  readonly know: Knowledge;
  readonly stanzas: readonly Stanza[];
  readonly imsgs: readonly IMessage[];
  readonly msgs: readonly Msg[];
  readonly accepts: readonly Accept[];
  readonly compromises: readonly Compromise[];
  /** Per device, the compromise clock at its last compromise. */
  readonly lastCompromise: Readonly<Record<string, number>>;
  /** Incremented by every compromise; fresh atoms record it as their birth. */
  readonly clock: number;
  readonly budget: Budget;
  readonly published: readonly PublishedList[];
  /** Markers of events that sanity queries look for (e.g. a downgrade that was rejected). */
  readonly notes: readonly string[];
  readonly step: number;
  /** REPAIR_INTERVALs passed (the rate limit of repairs forgets what is older). */
  readonly interval: number;
  readonly repairs: readonly RepairRecord[];
  readonly attributed: readonly Attributed[];
  readonly losses: readonly Loss[];
  /** Interactive messages 2 written and read by honest devices. */
  readonly message2: readonly Message2[];
  /** The room of the scenario, if it has one. */
  readonly room?: RoomState;
}

/** The attacker's own secrets and randomness (always known to it). */
export const ATTACKER = {
  ek: atom('X.ek', 'dh', 'attacker'),
  ss: atom('X.ss', 'secret', 'attacker'),
  r: atom('X.r', 'dh', 'attacker'),
  k: atom('X.k', 'secret', 'attacker'),
  m: atom('X.m', 'content', 'attacker'),
  e: atom('X.e', 'dh', 'attacker'),
  q: atom('X.q', 'kem', 'attacker'),
  sign: atom('X.sign', 'sign', 'attacker'),
  agree: atom('X.agree', 'dh', 'attacker'),
  spk: atom('X.spk', 'dh', 'attacker'),
  kem: atom('X.kem', 'kem', 'attacker'),
  opk: atom('X.opk', 'dh', 'attacker'),
  /** The query id the attacker's own archive queries use. */
  query: atom('X.query', 'secret', 'attacker'),
} as const;

/** Labels used across the model. */
export const L = {
  identityKeys: label('identity keys'),
  signedPrekey: label('signed prekey'),
  kemPrekey: label('kem prekey'),
  deviceList: label('device list'),
  suite: label('Seal-v0-X25519-MLKEM768-ChaCha20Poly1305-SHA256'),
  payload: label('payload'),
  interactive: label('interactive'),
  zero: label('0'),
  nonce: label('n'),
  stanza: label('stanza'),
} as const;

/** The device named `name`. */
export function device(w: World, name: string): Device {
  const d = w.devices.find((x) => x.name === name);
  if (d === undefined) throw new Error(`no device ${name}`);
  return d;
}

/** The device with this JID and device id, if the setup has one. */
export function deviceAt(w: World, jid: string, id: number): Device | undefined {
  return w.devices.find((d) => d.jid === jid && d.id === id);
}

/** `w` with device `d` replaced. */
export function withDevice(w: World, d: Device): World {
  return { ...w, devices: w.devices.map((x) => (x.name === d.name ? d : x)) };
}

/** A fresh atom of device `d`, and `d` with its counter advanced. */
export function freshAtom(w: World, d: Device, what: string, kind: 'dh' | 'kem' | 'secret' | 'content'): [Term, Device] {
  const n = d.fresh + 1;
  // The birth time is part of the name: the same draw after a compromise is another value.
  return [atom(`${d.name}.${what}${n}${w.clock > 0 ? `@${w.clock}` : ''}`, kind, d.name, w.clock), { ...d, fresh: n }];
}

/** A named fresh value of device `d` (a rotated prekey), born now. */
export function freshAtomNamed(w: World, d: Device, what: string, kind: 'dh' | 'kem'): Term {
  return atom(`${d.name}.${what}${w.clock > 0 ? `@${w.clock}` : ''}`, kind, d.name, w.clock);
}

/** Whether the server is honest in this world (the attacker is then only an account). */
export function honestServer(w: World): boolean {
  return w.setup.server === 'honest';
}

/** Whether device `name` is honest (not the attacker's own account or a registered clone). */
export function isHonest(w: World, name: string): boolean {
  return device(w, name).control === 'honest';
}

/** Whether device `name` was compromised (any kind), or is the attacker's. */
export function everCompromised(w: World, name: string): boolean {
  return !isHonest(w, name) || w.compromises.some((c) => c.dev === name);
}

/** The compromise kinds device `name` suffered. */
export function compromisesOf(w: World, name: string): readonly CompromiseKind[] {
  return w.compromises.filter((c) => c.dev === name).map((c) => c.kind);
}

/** The identity statement: `SignWithLabel(signing key, "identity keys", jid, device id, keys)`. */
export function statement(options: ProtocolOptions, signer: Term, jid: string, id: number, agreePub: Term): Term {
  // @see spec §identity.bundle (identity.identity-signature)
  const unbound = options.mutant === 'identities-not-bound' || options.mutant === 'identities-not-in-signature';
  return sig(signer, unbound ? tup(L.identityKeys, pk(signer), agreePub) : tup(L.identityKeys, label(jid), num(id), pk(signer), agreePub));
}

/** A device's own identity statement. */
export function statementOf(w: World, d: Device): Term {
  return statement(w.options, d.sign, d.jid, d.id, pk(d.agree));
}

/** `SignWithLabel(identity signing key, "signed prekey", …)`. @see spec §identity.bundle (identity.prekey-signatures) */
export function spkStatement(signer: Term, spkPub: Term): Term {
  return sig(signer, tup(L.signedPrekey, spkPub));
}

/** `SignWithLabel(identity signing key, "kem prekey", …)`. @see spec §identity.bundle (identity.prekey-signatures) */
export function kemStatement(signer: Term, kemPub: Term): Term {
  return sig(signer, tup(L.kemPrekey, kemPub));
}

/** The device list term: `SignWithLabel(account key, "device list", jid, issued, devices)`. @see spec §identity.devices (identity.account-signature) */
export function listTerm(w: World, accountKey: Term, jid: string, issued: number, devices: readonly string[]): Term {
  const entries = devices.map((n) => {
    const d = device(w, n);
    return w.options.listBindsDeviceKeys ? tup(num(d.id), pk(d.sign)) : num(d.id);
  });
  return sig(accountKey, tup(L.deviceList, label(jid), num(issued), ...entries));
}

/** The account key secret of account `jid`. */
export function accountKey(jid: string): Term {
  return atom(`${jid}.account`, 'sign', jid);
}

/** Everything a device publishes: identity keys and statement, prekeys and their statements. */
export function publicationOf(w: World, d: Device): Term[] {
  const out: Term[] = [label(d.jid), num(d.id), pk(d.sign), pk(d.agree)];
  if (d.control !== 'clone') out.push(statementOf(w, d));
  else if (w.options.mutant === 'identities-not-bound' || w.options.mutant === 'identities-not-in-signature') {
    // The clone's statement without JID and device id is the original's statement: a copy.
    out.push(statementOf(w, d));
  }
  if (d.spk !== undefined) out.push(spkStatement(d.sign, pk(d.spk)));
  if (d.kem !== undefined) out.push(kemStatement(d.sign, pk(d.kem)));
  for (const o of [...d.opks, ...d.usedOpks]) out.push(pk(o));
  return out;
}

/** The initial world of a setup: keys generated, bundles and lists published. */
export function initialWorld(setup: Setup, options: ProtocolOptions, budget: Budget): World {
  const devices: Device[] = setup.devices.map((s) => {
    const control = s.control ?? 'honest';
    const clone = typeof control === 'object' ? control.clone : undefined;
    const keyOwner = clone ?? s.name;
    const owner = control === 'attacker' ? s.name : keyOwner;
    const opks = Array.from({ length: s.opks ?? 1 }, (_, i) => atom(`${s.name}.opk${i + 1}`, 'dh', owner));
    return {
      name: s.name,
      jid: s.jid,
      id: s.id,
      control: clone !== undefined ? 'clone' : control === 'attacker' ? 'attacker' : 'honest',
      sign: atom(`${keyOwner}.sign`, 'sign', owner),
      agree: atom(`${keyOwner}.agree`, 'dh', owner),
      spk: clone !== undefined ? undefined : atom(`${s.name}.spk1`, 'dh', owner),
      kem: clone !== undefined ? undefined : atom(`${s.name}.kem1`, 'kem', owner),
      grace: [],
      gen: 1,
      opks: clone !== undefined ? [] : opks,
      usedOpks: [],
      sessions: [],
      log: [],
      pending: [],
      fresh: 0,
      lists: {},
      queries: [],
      repairing: [],
      repaired: [],
      retired: [],
    };
  });
  let w: World = {
    setup,
    options,
    devices,
    know: Knowledge.of([]),
    stanzas: [],
    imsgs: [],
    msgs: [],
    accepts: [],
    compromises: [],
    lastCompromise: {},
    clock: 0,
    budget,
    published: [],
    notes: [],
    step: 0,
    interval: 0,
    repairs: [],
    attributed: [],
    losses: [],
    message2: [],
    ...(setup.room === undefined
      ? {}
      : { room: { members: setup.room.members, views: Object.fromEntries(devices.filter((d) => d.control === 'honest').map((d) => [d.name, setup.room!.members])), everMembers: setup.room.members } }),
  };
  // Device lists signed by account keys, and each verifier's first view of them.
  const published: PublishedList[] = [];
  for (const acct of setup.accounts ?? []) {
    const term = listTerm(w, accountKey(acct.jid), acct.jid, 1, acct.devices);
    published.push({ jid: acct.jid, issued: 1, devices: acct.devices, term });
  }
  w = { ...w, published };
  w = {
    ...w,
    devices: w.devices.map((d) => {
      const lists: Record<string, ListView> = {};
      for (const acct of setup.accounts ?? []) {
        if (!acct.verifiedBy.includes(d.name)) continue;
        lists[acct.jid] = { issued: 1, devices: acct.devices, keys: keysOf(w, acct.devices), newestServed: 1 };
      }
      return { ...d, lists };
    }),
  };
  const known: Term[] = [...Object.values(ATTACKER)];
  for (const d of w.devices) {
    known.push(...publicationOf(w, d));
    if (d.control === 'attacker') known.push(d.sign, d.agree, ...(d.spk ? [d.spk] : []), ...(d.kem ? [d.kem] : []), ...d.opks);
  }
  known.push(...published.map((p) => p.term));
  return { ...w, know: Knowledge.of([tup(...known)]) };
}

/** The signing keys a device list names (with `listBindsDeviceKeys`). */
export function keysOf(w: World, names: readonly string[]): Record<string, Term> {
  const keys: Record<string, Term> = {};
  if (w.options.listBindsDeviceKeys) for (const n of names) keys[n] = pk(device(w, n).sign);
  return keys;
}

function sessionKey(s: Session): string {
  const ids = (t: Term | undefined) => (t === undefined ? '_' : String(t.id));
  return [
    s.peer,
    s.role[0],
    s.via[0],
    ids(s.rk0),
    ids(s.rk),
    ids(s.dhs),
    ids(s.dhr),
    ids(s.cks),
    s.ns,
    s.pn,
    ids(s.ckr),
    s.nr,
    s.skipped.map((k) => `${k.rpub.id}:${k.n}`).join(','),
    s.opened.join(','),
    ids(s.header),
    s.forged ? 'F' : '',
  ].join('/');
}

/**
 * A string that identifies the state for deduplication. It leaves out the time steps of
 * compromises and the order of history that no property reads.
 */
export function stateKey(w: World): string {
  const parts: string[] = [];
  for (const d of w.devices) {
    parts.push(
      [
        d.name,
        d.spk?.id ?? '_',
        d.kem?.id ?? '_',
        d.grace.map((g) => `${g.spk.id}/${g.kem.id}`).join(','),
        d.opks.map((o) => o.id).join(','),
        d.fresh,
        d.log.map((l) => l.header).join(','),
        d.pending.map((p) => `${p.role[0]}${p.peer}:${p.e.id}`).join(','),
        Object.entries(d.lists)
          .map(([j, v]) => `${j}@${v.issued}>${v.newestServed}`)
          .join(','),
        d.sessions.map(sessionKey).join(';'),
        d.queries.map((q) => q.id).join(','),
        d.repairing.join(','),
        d.repaired.join(','),
        d.retired.map((r) => `${r.rk0.id}${r.why[0]}`).join(','),
      ].join('|'),
    );
  }
  parts.push(w.know.key());
  parts.push(w.msgs.map((m) => `${m.id}${m.fsExposed ? 'x' : ''}${m.pcsClaim ? 'p' : ''}`).join(','));
  // With an honest server the stanzas are not in the attacker's knowledge: which messages exist
  // (in no particular order, as the knowledge has them otherwise).
  if (w.setup.server === 'honest') parts.push(w.stanzas.map((st) => `${st.payload.id}:${st.entries.map((e) => `${e.to}/${e.rmsg.id}`).join('+')}`).sort().join(','));
  parts.push(
    w.accepts
      .map((a) => `${a.dev}<${a.from}:${a.content.id}@${a.origin}`)
      .sort()
      .join(','),
  );
  parts.push(w.compromises.map((c) => `${c.dev}:${c.kind}:${c.session}`).join(','));
  parts.push(String(w.clock), Object.values(w.budget).join(','), w.published.map((p) => p.issued).join(','), [...w.notes].sort().join(','));
  parts.push(String(w.imsgs.length));
  parts.push(String(w.interval), w.repairs.map((r) => `${r.dev}>${r.peer}@${r.interval}${r.via[0]}${r.session?.id ?? ''}`).join(','));
  parts.push(w.attributed.map((a) => `${a.dev}<${a.from}:${a.kind}@${a.origin}`).join(','), w.losses.map((l) => `${l.dev}:${l.msg}${l.limit ?? ''}`).join(','));
  parts.push(w.message2.map((m) => `${m.role[0]}${m.dev}>${m.peer}:${m.h2.id}`).join(','));
  if (w.room !== undefined) parts.push(`${w.room.members.join(',')}/${Object.entries(w.room.views).map(([d, v]) => `${d}:${v.join(',')}`).join(';')}/${w.room.everMembers.join(',')}`, w.msgs.map((m) => (m.room === undefined ? '' : `${m.room.excluded.join(',')}/${m.room.removed.join(',')}`)).join(';'));
  return parts.join('#');
}
