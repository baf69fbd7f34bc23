/**
 * L0 system model (DESIGN.md §7): two accounts with three or four Seal devices, their signed
 * device lists, bundles and prekeys, what each device has pinned and holds, the sessions between
 * every pair of devices, the server (routing, offline storage, archive, carbons, PEP) and an
 * adversary that controls the network and the server and can also write from another account,
 * as one abstract `step(state, action)` machine.
 *
 * test/model.system.test.ts drives this model and the device engine (src/device, through its IO
 * shell SealClient) on the embedded server with the same actions and compares every observable
 * result. The model states what the spec requires of a device, written from the spec's text and
 * not from src/: §device (inputs, events, store, key pinning, account key, key-only messages,
 * bounds), §offline.forwarded, §offline.repair, §offline.simultaneous, §identity.devices, the
 * routing of RFC 6121 / XEP-0280 / XEP-0313 as src/net documents it, and the symbolic ratchet of
 * ./ratchet.ts for what opens. Where the spec leaves a choice open (the order in which a shell
 * performs the fetches a step asks for), the model follows the shell of §device.inputs.
 *
 * The adversary can: reorder, drop, duplicate, delay and replay stanzas; serve stale device
 * lists, lists with a device of its own under a broken signature, under its own account key or
 * unsigned, and its own bundle for a device; steal a device's sessions and write with them;
 * claim a known device id under a fresh identity key in an asynchronous handshake, an interactive
 * handshake it starts, or as the responder of one a device starts; corrupt a stanza naming a real
 * device (which may make the receiver repair, at most once per REPAIR_INTERVAL); forge carbons and
 * archive results from another account; bounce stanzas (type='error'). Devices go offline and
 * online, restart from their store, and restore an older copy of it.
 *
 * `step` never changes its argument: it works on a structured clone and returns it.
 *
 * @see spec §device
 * @see spec §offline
 * @see spec §identity.devices
 * @module
 */
import type { SealErrorCode } from '../../src/errors.js';
import { DEVICE_CONSTANTS } from '../../src/device/constants.js';
import { ENVELOPE_CONSTANTS } from '../../src/envelope/constants.js';
import { HANDSHAKE_CONSTANTS } from '../../src/handshake/constants.js';
import { IDENTITY_CONSTANTS } from '../../src/identity/constants.js';
import { MAM_DEFAULT_MAX } from '../../src/net/archive.js';
import { OFFLINE_CONSTANTS } from '../../src/offline/constants.js';
import { REPAIRABLE_FAILURES } from '../../src/offline/repair.js';
import { type Ratchet, type RatchetMessage, type Sym, ModelFailure, decrypt, encrypt, fail, initiatorRatchet, knows, responderRatchet } from './ratchet.js';

export type Account = 'alice' | 'bob';
export type DeviceName = 'A1' | 'A2' | 'B1' | 'B2';
/** A device id a stanza can claim: a real device's, or `XA`/`XB`, a device the server invents for alice or bob (it lists it on its forged lists). */
export type PeerName = DeviceName | 'XA' | 'XB';
/** Every device the model knows, in a fixed order. A2 exists only after `add-device`. */
export const DEVICES: readonly DeviceName[] = ['A1', 'A2', 'B1', 'B2'];
export const PEERS: readonly PeerName[] = ['A1', 'A2', 'B1', 'B2', 'XA', 'XB'];
export const ACCOUNT: Readonly<Record<PeerName, Account>> = { A1: 'alice', A2: 'alice', B1: 'bob', B2: 'bob', XA: 'alice', XB: 'bob' };
export const ACCOUNTS: readonly Account[] = ['alice', 'bob'];
export const INITIAL_DEVICES: readonly DeviceName[] = ['A1', 'B1', 'B2'];
/** One-time prekeys a device is created with: one above the replenish threshold, so replenishing happens early. */
export const INITIAL_ONE_TIME_PREKEYS = OFFLINE_CONSTANTS.ONE_TIME_PREKEY_THRESHOLD + 1;
/** Seconds a `wait` advances the clock: REPAIR_INTERVAL, so a repair is allowed again (and interactive handshakes, list-fetch windows expire). */
export const WAIT_SECONDS = DEVICE_CONSTANTS.REPAIR_INTERVAL;
const REPAIRABLE: ReadonlySet<string> = new Set(REPAIRABLE_FAILURES);

/**
 * Identity signing keys, by name: a device's own (`A1`), a fresh key the attacker presents for a
 * known device id (`e3`), the key of the server's invented device on its forged lists (`eXA`,
 * `eXB`), the attacker's bundle for a real device (`eb:B1`).
 */
export type Key = string;
/** Account keys by name: `alice`, `bob`, the attacker's `evil`; `''` for an unsigned list. */
export type AccountKey = string;

/**
 * What the server answers to a device list request: the truth; the account's oldest signed list;
 * the current list with the server's own device added under the old signature (`forged`: the
 * signature no longer verifies), re-signed by the attacker's account key (`resigned`), or unsigned.
 */
export type ListMode = 'honest' | 'stale' | 'forged' | 'resigned' | 'unsigned';

/** A device list as served: issued time, devices with the key each is listed with, signer, and whether its signature verifies. */
export interface SignedList { issued: number; devices: { device: PeerName; key: Key }[]; signer: AccountKey; valid: boolean }

/** A one-time prekey: id and (symbolic) key. */
export interface OneTimePrekey { id: number; key: Sym }

/** An asynchronous handshake header (spec §handshake.async), symbolically: who claims to start it, under which identity key. */
export interface Header { id: string; sid: number; initiator: PeerName; signer: Key; otpk: OneTimePrekey | undefined }

/**
 * What a device holds for one peer device (src/device PeerRecord): the identity key its sessions
 * are bound to (device.session-binding), the active session (with its handshake header while
 * unconfirmed) and at most one previous session (offline.previous-session), and the counters of
 * the previous-session and key-only rules.
 */
export interface PeerRecord {
  key: Key;
  active: Ratchet;
  header: Header | undefined;
  alternate: Ratchet | undefined;
  alternateSince: number | undefined;
  /** Whether this device has sent on the active session since it became the active one. */
  activeSent: boolean;
  /** Whether, after that, it opened a message of the peer on it under a new ratchet key of the peer. */
  activeOpened: boolean;
  /** Messages opened on the active session since this device last sent to the peer (heartbeat). */
  receivedSinceSend: number;
}

export type TrustLevel = 'undecided' | 'verified' | 'distrusted';

/** What a device knows of one account (its own or a contact's): account key, accepted list, pins, what waits for the user. */
export interface AccountView {
  accountKey: { key: AccountKey; level: TrustLevel } | undefined;
  list: SignedList | undefined;
  pendingAccount: { key: AccountKey; list: SignedList } | undefined;
  pins: Partial<Record<PeerName, { key: Key; level: TrustLevel }>>;
  pendingDevices: Partial<Record<PeerName, Key>>;
}

/** How a stanza came: routed live, from offline storage, as a sent or received carbon, an archive result, or injected by the attacker. */
export type Via = 'direct' | 'offline' | 'sent' | 'received' | 'archive' | 'injected';
/** The engine's name for the path of a stanza it processes (spec §device.events). */
export type EngineVia = 'live' | 'carbon-sent' | 'carbon-received' | 'archive';

/** The key element for one recipient device. */
export interface WrappedKey { handshake: Header | undefined; message: RatchetMessage }

/**
 * A stanza: a sealed message (label = its body, or `k…` for a key-only message), a message of an
 * interactive handshake, an error bounce, or a carbon or archive result another account wrapped
 * around a stanza.
 */
export type Stanza =
  | { kind: 'sealed'; label: string; from: PeerName; keyOnly: boolean; keys: Partial<Record<PeerName, WrappedKey>> }
  | {
      kind: 'interactive';
      label: string;
      /** The handshake (a model number; `sid` is the session it establishes). */
      hs: number;
      sid: number;
      step: 1 | 2 | 3;
      /** The device id the message claims, and the resource it comes from (answers go there). */
      from: PeerName;
      /** The identity key its identity statement is signed with. */
      signer: Key;
      /** The resource it is addressed to. */
      to: PeerName;
      /** This message's instance, and which instance of the previous step it answers (Noise state). */
      nonce: number;
      answers: number | undefined;
    }
  | { kind: 'bounce'; label: string }
  | { kind: 'wrapped'; label: string; wrapper: 'carbon' | 'archive'; inner: Stanza };

export interface InFlight { stanza: Stanza; via: Via; query?: number }

/** A stanza held for a device list or a decision (spec device.pinning, device.unlisted-device). */
export interface Held { seq: number; stanza: Stanza; via: EngineVia; from: PeerName; reason: 'awaiting-device-list' | 'awaiting-decision'; received: number }

/** A pending interactive handshake (memory only). */
export interface PendingInteractive { hs: number; sid: number; role: 'initiator' | 'responder'; peer: PeerName; peerResource: PeerName; started: number; known: Key; nonce: number }

/** What a device keeps in its store (device.store); `backup`/`restore` copy exactly this. */
export interface Persisted {
  otpks: OneTimePrekey[];
  nextPrekeyId: number;
  log: string[];
  peers: Partial<Record<PeerName, PeerRecord>>;
  accounts: Partial<Record<Account, AccountView>>;
  held: Held[];
  seq: number;
  repairs: Partial<Record<PeerName, number>>;
}

export interface DeviceModel extends Persisted {
  name: DeviceName;
  online: boolean;
  /** When the device added itself to its account's list (its entry's `added` time; device.list-race). */
  addedAt: number;
  /** Server side: the one-time prekeys of the published bundle, and those already handed out (the test's server hands each out once). */
  published: OneTimePrekey[];
  served: number[];
  /** Memory only (device.store): pending interactive handshakes, outstanding archive queries, repairs waiting for a fetch, the list-fetch rate limit. */
  interactive: PendingInteractive[];
  queries: number[];
  pendingRepairs: Partial<Record<PeerName, string>>;
  listFetchedAt: Partial<Record<Account, number[]>>;
  /** Stanzas on their way to this device, and those delivered (for replays). */
  inbox: InFlight[];
  history: InFlight[];
  backup: Persisted;
}

export interface SystemState {
  now: number;
  devices: Partial<Record<DeviceName, DeviceModel>>;
  /** The lists each account published (genuine, signed by its account key), oldest first. */
  lists: Record<Account, SignedList[]>;
  listMode: Record<Account, ListMode>;
  /** Devices whose bundle the server replaces with one of the attacker's, under the same device id. */
  forgedBundles: DeviceName[];
  offline: Record<Account, Stanza[]>;
  archive: Record<Account, Stanza[]>;
  /** The attacker's copies of compromised devices' sessions. */
  stolen: Partial<Record<DeviceName, Partial<Record<PeerName, PeerRecord>>>>;
  /** Every sealed stanza routed or injected so far (what forged wrappers can carry). */
  seen: Stanza[];
  nextSym: number;
  nextSid: number;
  nextMessage: number;
  nextQuery: number;
  nextInteractive: number;
  nextNonce: number;
  next: Record<string, number>;
  /** Per sender and recipient, key-only messages sent so far (their labels: `k0:B1>A1`). */
  keyOnly: Record<string, number>;
  /** Per interactive message (`i0.2`), how many were sent (a repeated one is `i0.2.1`). */
  interactiveSent: Record<string, number>;
  /** Session ids (hex) of the real sessions, bound by the test after each step: they decide simultaneous initiation. */
  sessionIds: Record<number, string>;
}

/** What the network, the server, the attacker, a device or its user does. */
export type Action =
  | { kind: 'send'; device: DeviceName }
  | { kind: 'deliver' | 'duplicate' | 'drop' | 'delay' | 'replay'; device: DeviceName; index: number }
  | { kind: 'offline' | 'online' | 'backup' | 'restore' | 'restart' | 'compromise' | 'fetch-archive' | 'bounce'; device: DeviceName }
  | { kind: 'forge'; device: DeviceName; target: DeviceName }
  | { kind: 'interactive' | 'mitm-interactive'; device: DeviceName; target: DeviceName }
  | { kind: 'impostor' | 'impostor-interactive' | 'corrupt'; device: PeerName; target: DeviceName }
  | { kind: 'forge-carbon' | 'forge-archive'; device: DeviceName; index: number }
  | { kind: 'add-device' }
  | { kind: 'serve-list'; account: Account; mode: ListMode }
  | { kind: 'serve-bundle'; device: DeviceName; mode: 'honest' | 'forged' }
  | { kind: 'wait' };

/**
 * What can be observed of one step, besides the stanzas in flight, the sessions and the trust
 * records: the result of the action (`sent m3 to B1,B2`, `send-failed untrusted-key`,
 * `start-failed untrusted-key`, `done`) and, per device, the events it gave the application
 * (spec §device.events), each as one line, sorted.
 */
export interface Observation { result: string; events: Partial<Record<DeviceName, string[]>> }

const otherAccount = (a: Account): Account => (a === 'alice' ? 'bob' : 'alice');
const spk = (d: DeviceName): Sym => `spk:${d}`;
const isDevice = (p: PeerName): p is DeviceName => (DEVICES as readonly string[]).includes(p);
/** The key the server's invented device is listed with. */
export const inventedKey = (p: 'XA' | 'XB'): Key => `e${p}`;
export const INVENTED: Readonly<Record<Account, 'XA' | 'XB'>> = { alice: 'XA', bob: 'XB' };

function persisted(d: Persisted): Persisted {
  return structuredClone({ otpks: d.otpks, nextPrekeyId: d.nextPrekeyId, log: d.log, peers: d.peers, accounts: d.accounts, held: d.held, seq: d.seq, repairs: d.repairs });
}

function emptyView(): AccountView {
  return { accountKey: undefined, list: undefined, pendingAccount: undefined, pins: {}, pendingDevices: {} };
}

/**
 * A new device (SealClient.create over an empty store, spec device.account-key): it adds itself
 * to its account's list, signed by the account key (the first device creates it), publishes its
 * bundle, and knows its own account's list.
 */
function newDevice(s: SystemState, name: DeviceName): DeviceModel {
  const otpks = Array.from({ length: INITIAL_ONE_TIME_PREKEYS }, (_, i) => ({ id: 3 + i, key: `otpk${s.nextSym++}` }));
  const account = ACCOUNT[name];
  const current = s.lists[account].at(-1);
  // identity.devices: addDevice issues at max(now, issued + 1).
  const list: SignedList = { issued: current === undefined ? s.now : Math.max(s.now, current.issued + 1), devices: [...(current?.devices ?? []), { device: name, key: name }], signer: account, valid: true };
  s.lists[account].push(list);
  const view = emptyView();
  view.accountKey = { key: account, level: 'verified' };
  view.list = list;
  for (const d of list.devices) if (d.device !== name) view.pins[d.device] = { key: d.key, level: 'undecided' };
  const base: Persisted = { otpks, nextPrekeyId: 3 + otpks.length, log: [], peers: {}, accounts: { [account]: view }, held: [], seq: 0, repairs: {} };
  const device: DeviceModel = {
    ...structuredClone(base), name, online: false, addedAt: s.now, published: otpks, served: [], interactive: [], queries: [], pendingRepairs: {}, listFetchedAt: {}, inbox: [], history: [], backup: structuredClone(base),
  };
  s.devices[name] = device;
  return device;
}

/** The state after A1, B1 and B2 were created (in that order) and came online. */
export function initialState(now: number): SystemState {
  const s: SystemState = {
    now, devices: {}, lists: { alice: [], bob: [] }, listMode: { alice: 'honest', bob: 'honest' }, forgedBundles: [], offline: { alice: [], bob: [] }, archive: { alice: [], bob: [] },
    stolen: {}, seen: [], nextSym: 0, nextSid: 0, nextMessage: 0, nextQuery: 0, nextInteractive: 0, nextNonce: 0, next: {}, keyOnly: {}, interactiveSent: {}, sessionIds: {},
  };
  for (const name of INITIAL_DEVICES) newDevice(s, name);
  for (const name of INITIAL_DEVICES) comeOnline(s, s.devices[name]!);
  return s;
}

export const canEncrypt = (r: Ratchet | undefined): boolean => r !== undefined && (r.cks !== undefined || r.dhr !== undefined);
const canSendTo = (p: PeerRecord | undefined): boolean => p !== undefined && (canEncrypt(p.active) || canEncrypt(p.alternate));
/** The sealed stanzas a forged wrapper can carry (`forge-carbon`, `forge-archive` pick one by index). */
export const sealedSeen = (s: SystemState): Stanza[] => s.seen.filter((x) => x.kind === 'sealed');

/** Whether `action` can happen in `state` (fast-check skips commands that cannot). */
export function enabled(state: SystemState, action: Action): boolean {
  const online = (d: PeerName) => isDevice(d) && state.devices[d]?.online === true;
  const exists = (d: PeerName) => !isDevice(d) || state.devices[d] !== undefined;
  switch (action.kind) {
    case 'wait':
      return true;
    case 'add-device':
      return state.devices.A2 === undefined;
    case 'serve-list':
      return state.listMode[action.account] !== action.mode;
    case 'serve-bundle':
      return state.devices[action.device] !== undefined && state.forgedBundles.includes(action.device) !== (action.mode === 'forged');
    case 'impostor':
    case 'impostor-interactive':
    case 'corrupt':
      return action.device !== action.target && exists(action.device) && online(action.target);
    case 'interactive':
    case 'mitm-interactive':
      return action.device !== action.target && online(action.device) && online(action.target);
    case 'forge':
      return action.target !== action.device && online(action.target) && canEncrypt(state.stolen[action.device]?.[action.target]?.active);
    case 'forge-carbon':
    case 'forge-archive':
      return online(action.device) && sealedSeen(state).length > 0;
    default:
  }
  const device = state.devices[action.device];
  if (device === undefined) return false;
  switch (action.kind) {
    case 'send':
    case 'fetch-archive':
    case 'offline':
    case 'restart':
    case 'restore':
    case 'bounce':
      return device.online;
    case 'online':
      return !device.online;
    case 'deliver':
    case 'duplicate':
    case 'drop':
    case 'delay':
      return device.online && device.inbox.length > 0;
    case 'replay':
      return device.online && device.history.length > 0;
    case 'backup':
    case 'compromise':
      return true;
  }
}

/**
 * One step: the new state (a clone) and what was observed.
 * @throws Error when the action is not {@link enabled}, or a session order is needed that the test has not bound.
 */
export function step(state: SystemState, action: Action): { state: SystemState; observation: Observation } {
  if (!enabled(state, action)) throw new Error(`model: ${JSON.stringify(action)} is not enabled`);
  const s = structuredClone(state);
  const events: Partial<Record<DeviceName, string[]>> = {};
  const world: World = { s, events };
  const result = apply(world, action);
  for (const list of Object.values(events)) list!.sort();
  return { state: s, observation: { result, events } };
}

/** A step in progress: the state and the events collected. */
interface World { s: SystemState; events: Partial<Record<DeviceName, string[]>> }

function event(w: World, d: DeviceModel, text: string): void {
  (w.events[d.name] ??= []).push(text);
}

function nextLabel(s: SystemState, prefix: string): string {
  const n = s.next[prefix] ?? 0;
  s.next[prefix] = n + 1;
  return `${prefix}${n}`;
}

function apply(w: World, action: Action): string {
  const { s } = w;
  switch (action.kind) {
    case 'wait':
      s.now += WAIT_SECONDS;
      // A running device acts on the clock (spec §device.inputs `tick`).
      for (const name of DEVICES) {
        const d = s.devices[name];
        if (d?.online === true) runInput(w, d, () => onTick(w, d));
      }
      return 'done';
    case 'add-device': {
      const d = newDevice(s, 'A2');
      comeOnline(s, d);
      return 'done';
    }
    case 'serve-list':
      s.listMode[action.account] = action.mode;
      return 'done';
    case 'serve-bundle':
      s.forgedBundles = action.mode === 'forged' ? [...s.forgedBundles, action.device] : s.forgedBundles.filter((d) => d !== action.device);
      return 'done';
    case 'impostor':
      return impostor(w, action.device, s.devices[action.target]!);
    case 'corrupt':
      return corrupt(w, action.device, s.devices[action.target]!);
    case 'impostor-interactive':
      return impostorInteractive(w, action.device, s.devices[action.target]!);
    case 'interactive':
      return startInteractive(w, s.devices[action.device]!, action.target, false);
    case 'mitm-interactive':
      return startInteractive(w, s.devices[action.device]!, action.target, true);
    default:
  }
  const d = s.devices[action.device]!;
  switch (action.kind) {
    case 'send':
      return send(w, d);
    case 'deliver':
    case 'duplicate': {
      const at = action.index % d.inbox.length;
      const item = d.inbox[at]!;
      if (action.kind === 'deliver') d.inbox.splice(at, 1);
      receive(w, d, item);
      return 'done';
    }
    case 'replay':
      receive(w, d, d.history[action.index % d.history.length]!);
      return 'done';
    case 'drop':
      d.inbox.splice(action.index % d.inbox.length, 1);
      return 'done';
    case 'delay':
      d.inbox.push(...d.inbox.splice(action.index % d.inbox.length, 1));
      return 'done';
    case 'offline':
      // The connection closes: what was on its way to the device is lost.
      d.online = false;
      d.inbox = [];
      return 'done';
    case 'online':
      comeOnline(s, d);
      return 'done';
    case 'backup':
      d.backup = persisted(d);
      return 'done';
    case 'restart':
    case 'restore':
      // device.store: a device restarted over its store is the same device; memory-only state
      // (pending interactive handshakes, archive queries, repairs waiting for a fetch, the
      // list-fetch rate limit) is gone. The connection is closed first and opened again.
      d.online = false;
      d.inbox = [];
      if (action.kind === 'restore') Object.assign(d, structuredClone(d.backup));
      d.interactive = [];
      d.queries = [];
      d.pendingRepairs = {};
      d.listFetchedAt = {};
      // device.restart-tick: the restarted device processes a tick first (its lost list fetches).
      runInput(w, d, () => onTick(w, d));
      comeOnline(s, d);
      return 'done';
    case 'compromise':
      s.stolen[d.name] = structuredClone(d.peers);
      return 'done';
    case 'forge':
      return forge(s, d, s.devices[action.target]!);
    case 'fetch-archive': {
      // offline.forwarded-archive: the query id is registered before the query is sent; at most
      // MAX_ARCHIVE_QUERIES are accepted at once, the oldest forgotten first.
      const q = s.nextQuery++;
      runInput(w, d, () => {
        d.queries.push(q);
        if (d.queries.length > DEVICE_CONSTANTS.MAX_ARCHIVE_QUERIES) d.queries.shift();
      });
      // One query without paging: the server's first page of the account's archive.
      for (const stanza of s.archive[ACCOUNT[d.name]].slice(0, MAM_DEFAULT_MAX)) d.inbox.push({ stanza, via: 'archive', query: q });
      return 'done';
    }
    case 'bounce': {
      const label = nextLabel(s, 'b');
      d.inbox.push({ stanza: { kind: 'bounce', label }, via: 'injected' });
      return 'done';
    }
    case 'forge-carbon':
    case 'forge-archive': {
      const candidates = sealedSeen(s);
      const inner = candidates[action.index % candidates.length]!;
      const label = nextLabel(s, action.kind === 'forge-carbon' ? 'fc' : 'fa');
      d.inbox.push({ stanza: { kind: 'wrapped', label, wrapper: action.kind === 'forge-carbon' ? 'carbon' : 'archive', inner }, via: 'injected' });
      return 'done';
    }
  }
}

// ---- the server ----

const onlineDevices = (s: SystemState, account: Account): DeviceModel[] => DEVICES.filter((n) => ACCOUNT[n] === account && s.devices[n]?.online === true).map((n) => s.devices[n]!);

/** An initial presence: stored messages go to the first device of the account that becomes available. */
function comeOnline(s: SystemState, d: DeviceModel): void {
  d.online = true;
  const account = ACCOUNT[d.name];
  for (const stanza of s.offline[account]) d.inbox.push({ stanza, via: 'offline' });
  s.offline[account] = [];
}

const archivable = (stanza: Stanza): boolean => stanza.kind === 'sealed';

/**
 * The server routes a chat message from device `from` to an account's bare JID (`to`), or to a
 * resource (`resource`): the sender's archive, sent carbons to its account's other online
 * devices, then the recipient's archive and delivery to the resource (received carbons to the
 * account's other online devices), or to every online device of the account, or offline storage.
 * A message to an unavailable resource goes to the bare JID (RFC 6121 §8.5.3.2.1).
 */
function route(s: SystemState, from: DeviceName, stanza: Stanza, to: Account, resource?: PeerName): void {
  if (stanza.kind === 'sealed') s.seen.push(stanza);
  const own = ACCOUNT[from];
  if (archivable(stanza)) s.archive[own].push(stanza);
  for (const other of onlineDevices(s, own)) if (other.name !== from) other.inbox.push({ stanza, via: 'sent' });
  if (archivable(stanza)) s.archive[to].push(stanza);
  const target = resource !== undefined && isDevice(resource) ? s.devices[resource] : undefined;
  if (target?.online === true) {
    for (const other of onlineDevices(s, to)) if (other !== target) other.inbox.push({ stanza, via: 'received' });
    target.inbox.push({ stanza, via: 'direct' });
    return;
  }
  const targets = onlineDevices(s, to);
  for (const t of targets) t.inbox.push({ stanza, via: 'direct' });
  if (targets.length === 0) s.offline[to].push(stanza);
}

/**
 * The server routes an iq (a step of an interactive handshake) to a full JID: to that resource
 * only when it is online (RFC 6120 §10.5.3.1), never carbon-copied, archived or stored offline.
 * Otherwise the server answers `service-unavailable`; the model, like the real harness, does not
 * deliver iq answers (the sender's handshake then expires).
 */
function routeIq(s: SystemState, stanza: Stanza, resource: PeerName): void {
  const target = isDevice(resource) ? s.devices[resource] : undefined;
  if (target?.online === true) target.inbox.push({ stanza, via: 'direct' });
}

/** The device list the server serves for `owner` (spec §reqs.threat-model: it may lie). */
function servedList(s: SystemState, owner: Account): SignedList {
  const latest = s.lists[owner].at(-1)!;
  const invented = { device: INVENTED[owner], key: inventedKey(INVENTED[owner]) };
  switch (s.listMode[owner]) {
    case 'honest':
      return latest;
    case 'stale':
      return s.lists[owner][0]!;
    case 'forged':
      return { ...latest, devices: [...latest.devices, invented], valid: false };
    case 'resigned':
      return { ...latest, devices: [...latest.devices, invented], signer: 'evil' };
    case 'unsigned':
      return { ...latest, devices: [...latest.devices, invented], signer: '' };
  }
}

/** The bundle the server serves for device `p`: none for an invented device, the attacker's for a substituted one, else one one-time prekey not handed out before. */
function servedBundle(s: SystemState, p: PeerName): { key: Key; otpk: OneTimePrekey | undefined } | undefined {
  if (!isDevice(p)) return undefined;
  if (s.forgedBundles.includes(p)) return { key: `eb:${p}`, otpk: undefined };
  const d = s.devices[p]!;
  const otpk = d.published.find((k) => !d.served.includes(k.id));
  if (otpk !== undefined) d.served.push(otpk.id);
  return { key: p, otpk };
}

// ---- device: inputs and the shell ----

/** A fetch a step asked for; the shell performs them in order, depth first, each answer a new input (spec §device.inputs). */
type Fetch = { kind: 'list'; account: Account } | { kind: 'bundle'; peer: PeerName };

/** The fetches of the step in progress, per device. */
const pendingFetches = new WeakMap<DeviceModel, Fetch[]>();

function requestFetch(d: DeviceModel, f: Fetch): void {
  const list = pendingFetches.get(d);
  if (list === undefined) throw new Error('model: a fetch outside a step');
  if (!list.some((x) => (x.kind === 'list' && f.kind === 'list' && x.account === f.account) || (x.kind === 'bundle' && f.kind === 'bundle' && x.peer === f.peer))) list.push(f);
}

/** Most fetch rounds one input causes (SealClient's MAX_FETCH_DEPTH). */
const MAX_FETCH_DEPTH = 6;

/**
 * One engine input of device `d` and what the shell does after it: the fetches the step asked
 * for, in order, each answer another input (depth first).
 */
function runInput(w: World, d: DeviceModel, body: () => void, depth = 0): void {
  const previous = pendingFetches.get(d);
  pendingFetches.set(d, []);
  expireInteractive(w, d);
  body();
  const fetches = pendingFetches.get(d)!;
  if (previous === undefined) pendingFetches.delete(d);
  else pendingFetches.set(d, previous);
  if (depth >= MAX_FETCH_DEPTH) {
    if (fetches.length > 0) throw new Error('model: fetches beyond the shell\'s depth');
    return;
  }
  for (const f of fetches) {
    if (f.kind === 'list') {
      const list = servedList(w.s, f.account);
      runInput(w, d, () => onList(w, d, f.account, list), depth + 1);
    } else {
      const bundle = servedBundle(w.s, f.peer);
      runInput(w, d, () => onBundle(w, d, f.peer, bundle), depth + 1);
    }
  }
}

function view(d: DeviceModel, account: Account): AccountView {
  return (d.accounts[account] ??= emptyView());
}

const listed = (v: AccountView, p: PeerName): Key | undefined => v.list?.devices.find((x) => x.device === p)?.key;

/**
 * Whether a device with identity key `key` may be used (identity.trust under blind trust before
 * verification; device.pinning: only the pinned key).
 */
function usable(d: DeviceModel, p: PeerName, key: Key): boolean {
  const v = view(d, ACCOUNT[p]);
  const pinned = v.pins[p];
  if (pinned === undefined || pinned.key !== key || pinned.level === 'distrusted') return false;
  if (ACCOUNT[p] === ACCOUNT[d.name]) return true;
  const signedByAccepted = v.list !== undefined && v.list.signer !== '' && v.accountKey?.key === v.list.signer;
  const listedKey = signedByAccepted ? listed(v, p) : undefined;
  if (listedKey !== undefined && v.accountKey?.level === 'distrusted') return false;
  if (pinned.level === 'verified') return true;
  if (listedKey === key && v.accountKey?.level === 'verified') return true;
  return !(v.accountKey?.level === 'verified' || Object.values(v.pins).some((x) => x!.level === 'verified'));
}

/** The trust an opened message is shown with (spec §device.events). */
function keyTrust(d: DeviceModel, p: PeerName): 'verified' | 'trusted' {
  const v = view(d, ACCOUNT[p]);
  const pinned = v.pins[p];
  if (pinned?.level === 'verified') return 'verified';
  const key = listed(v, p);
  if (key !== undefined && pinned !== undefined && key === pinned.key && v.accountKey?.level === 'verified' && v.list!.signer !== '') return 'verified';
  return 'trusted';
}

/** device.pinning, device.session-binding: a new pin replaces the old one; sessions bound to another key go. */
function pin(d: DeviceModel, p: PeerName, key: Key, level: TrustLevel = 'undecided'): void {
  const v = view(d, ACCOUNT[p]);
  const previous = v.pins[p];
  v.pins[p] = { key, level };
  delete v.pendingDevices[p];
  const peer = d.peers[p];
  if (previous !== undefined && previous.key !== key && peer !== undefined && peer.key !== key) delete d.peers[p];
}

/** Asks the user about `key` for device `p`; `false` when the account has as many keys waiting as it may (device.bounds). */
function askDecision(w: World, d: DeviceModel, p: PeerName, reason: string, key: Key): boolean {
  const v = view(d, ACCOUNT[p]);
  if (v.pendingDevices[p] === key) return true;
  if (v.pendingDevices[p] === undefined && Object.keys(v.pendingDevices).length >= DEVICE_CONSTANTS.MAX_HELD_PER_ACCOUNT) return false;
  v.pendingDevices[p] = key;
  event(w, d, `decision-needed ${reason} ${p}`);
  return true;
}

/**
 * A device list fetched for `account` (spec identity.account-signature, identity.device-list-rollback,
 * device.account-key, identity.key-change).
 */
function onList(w: World, d: DeviceModel, account: Account, list: SignedList): void {
  const v = view(d, account);
  if (!list.valid) {
    event(w, d, 'failed authentication-failed');
    reprocessHeld(w, d, account, 'awaiting-device-list');
    return;
  }
  const accepted = v.accountKey;
  // identity.device-list-rollback, per accepted account key.
  const newest = accepted !== undefined && list.signer === accepted.key && v.list !== undefined && v.list.signer !== '' ? v.list.issued : undefined;
  if (list.signer !== '' && newest !== undefined && list.issued < newest) {
    event(w, d, 'failed stale-device-list');
    reprocessHeld(w, d, account, 'awaiting-device-list');
    return;
  }
  if (accepted !== undefined && accepted.key !== list.signer) {
    // identity.key-change: another account key, or no longer signed: the user decides; the old list stays.
    const pending = v.pendingAccount;
    if (pending === undefined || pending.key !== list.signer || pending.list.issued < list.issued) {
      v.pendingAccount = { key: list.signer, list };
      if (pending?.key !== list.signer) event(w, d, `decision-needed ${list.signer === '' ? 'account-key-removed' : 'account-key-changed'} ${account}`);
    }
    reprocessHeld(w, d, account, 'awaiting-device-list');
    return;
  }
  // device.account-key: the first account key seen is recorded (trust on first use).
  if (accepted === undefined && list.signer !== '') v.accountKey = { key: list.signer, level: 'undecided' };
  applyList(w, d, account, list);
}

function applyList(w: World, d: DeviceModel, account: Account, list: SignedList): void {
  const v = view(d, account);
  const old = v.list;
  const signedByAccepted = list.signer !== '' && v.accountKey !== undefined && v.accountKey.key === list.signer && v.accountKey.level !== 'distrusted';
  v.list = list;
  v.pendingAccount = undefined;
  for (const entry of list.devices) {
    if (entry.device === d.name) continue;
    const pinned = v.pins[entry.device];
    if (pinned === undefined) {
      pin(d, entry.device, entry.key);
      if (old !== undefined) event(w, d, `device-added ${entry.device}`);
    } else if (pinned.key !== entry.key) {
      if (signedByAccepted) {
        pin(d, entry.device, entry.key);
        event(w, d, `key-changed ${entry.device} by account-key`);
      } else askDecision(w, d, entry.device, 'key-changed', entry.key);
    }
  }
  for (const entry of old?.devices ?? []) if (!list.devices.some((n) => n.device === entry.device)) event(w, d, `device-removed ${entry.device}`);
  afterList(w, d, account, list);
}

/** What waited for a list: held stanzas, and repairs (offline.repair-reset: a listed device's bundle is fetched). */
function afterList(w: World, d: DeviceModel, account: Account, list: SignedList): void {
  reprocessHeld(w, d, account, 'awaiting-device-list');
  for (const p of PEERS) {
    if (ACCOUNT[p] !== account || d.pendingRepairs[p] === undefined) continue;
    if (!list.devices.some((x) => x.device === p)) delete d.pendingRepairs[p];
    else {
      d.repairs[p] = w.s.now;
      requestFetch(d, { kind: 'bundle', peer: p });
    }
  }
}

/** A bundle fetched for device `p`: a session with it when one is wanted (a send or a repair). */
function onBundle(w: World, d: DeviceModel, p: PeerName, bundle: { key: Key; otpk: OneTimePrekey | undefined } | undefined): void {
  const repair = d.pendingRepairs[p];
  delete d.pendingRepairs[p];
  if (bundle === undefined) return;
  const v = view(d, ACCOUNT[p]);
  const listedKey = listed(v, p);
  if (listedKey === undefined) return;
  const existing = d.peers[p];
  if (existing !== undefined && repair === undefined) return;
  // identity.device-list-keys: the bundle's key must be the one the list names.
  if (bundle.key !== listedKey) {
    event(w, d, 'failed identity-key-changed');
    return;
  }
  const pinned = v.pins[p];
  if (pinned === undefined) pin(d, p, bundle.key);
  else if (pinned.key !== bundle.key) {
    askDecision(w, d, p, 'key-changed', bundle.key);
    return;
  }
  if (!usable(d, p, bundle.key)) {
    if (v.pins[p]?.level !== 'distrusted') askDecision(w, d, p, 'undecided-key', bundle.key);
    return;
  }
  if (!isDevice(p)) throw new Error('model: a bundle of an invented device');
  const sid = w.s.nextSid++;
  const header: Header = { id: `h${sid}`, sid, initiator: d.name, signer: d.name, otpk: bundle.otpk };
  d.peers[p] = {
    key: bundle.key, active: initiatorRatchet(sid, spk(p), fresh(w.s)), header, alternate: existing?.active,
    alternateSince: existing === undefined ? undefined : w.s.now, activeSent: false, activeOpened: false, receivedSinceSend: 0,
  };
  event(w, d, `session-started ${p} async initiator`);
  if (repair !== undefined) {
    // offline.repair-reset: the repair is the new session, announced at once by a key-only message.
    sendKeyOnly(w, d, p);
    event(w, d, `repair-sent ${p} ${repair}`);
  }
}

function fresh(s: SystemState): () => Sym {
  return () => `k${s.nextSym++}`;
}

/** offline.previous-session: the previous session goes once the active one carried messages both ways, or SKIPPED_KEY_MAX_AGE after it became the previous one. */
function prune(s: SystemState, p: PeerRecord): PeerRecord {
  if (p.alternate === undefined) return { ...p, alternateSince: undefined };
  const since = p.alternateSince ?? s.now;
  if ((p.activeSent && p.activeOpened) || s.now - since > ENVELOPE_CONSTANTS.SKIPPED_KEY_MAX_AGE) return { ...p, alternate: undefined, alternateSince: undefined };
  return { ...p, alternateSince: since };
}

/**
 * Seals one stanza for `recipients` (envelope.fan-out) and routes it: each through the active
 * session with the device, or its previous one while the active one cannot send yet
 * (offline.previous-session); the handshake header rides while the session is unconfirmed.
 */
function sealFor(w: World, d: DeviceModel, recipients: PeerName[], label: string, keyOnly: boolean, to: Account): void {
  const keys: Partial<Record<PeerName, WrappedKey>> = {};
  for (const r of recipients) {
    const peer = d.peers[r]!;
    const useAlternate = !canEncrypt(peer.active) && canEncrypt(peer.alternate);
    const out = encrypt(useAlternate ? peer.alternate! : peer.active, `${label}>${r}`, fresh(w.s));
    keys[r] = { handshake: useAlternate ? undefined : peer.header, message: out.message };
    const next: PeerRecord = useAlternate ? { ...peer, alternate: out.ratchet } : { ...peer, active: out.ratchet, activeSent: true };
    d.peers[r] = prune(w.s, { ...next, receivedSinceSend: 0 });
  }
  route(w.s, d.name, { kind: 'sealed', label, from: d.name, keyOnly, keys }, to);
}

/** device.key-only: a key-only message to one device, on the session with it. */
function sendKeyOnly(w: World, d: DeviceModel, p: PeerName): void {
  if (!canSendTo(d.peers[p])) return;
  const pair = `${d.name}>${p}`;
  const n = w.s.keyOnly[pair] ?? 0;
  w.s.keyOnly[pair] = n + 1;
  sealFor(w, d, [p], `k${n}:${pair}`, true, ACCOUNT[p]);
}

/** SealClient.send: the lists, the missing sessions, then one stanza for every usable listed device with a session. */
function send(w: World, d: DeviceModel): string {
  const { s } = w;
  const label = `m${s.nextMessage++}`;
  const own = ACCOUNT[d.name];
  const to = otherAccount(own);
  // device.send-no-device: the recipient's and the own list, then the bundles of listed devices without a session.
  runInput(w, d, () => requestFetch(d, { kind: 'list', account: to }));
  runInput(w, d, () => requestFetch(d, { kind: 'list', account: own }));
  const missing: PeerName[] = [];
  for (const account of [to, own]) {
    for (const entry of view(d, account).list?.devices ?? []) {
      if (entry.device !== d.name && d.peers[entry.device] === undefined && usable(d, entry.device, entry.key)) missing.push(entry.device);
    }
  }
  for (const p of missing) runInput(w, d, () => requestFetch(d, { kind: 'bundle', peer: p }));
  const list = view(d, to).list;
  if (list === undefined || list.devices.every((x) => x.device === d.name)) return 'send-failed no-devices';
  const recipients: PeerName[] = [];
  for (const account of [to, own]) {
    for (const entry of view(d, account).list?.devices ?? []) {
      if (entry.device === d.name) continue;
      const peer = d.peers[entry.device];
      // device.session-binding: only a session bound to the listed, pinned, trusted key; a session
      // that cannot send yet (an interactive responder that has not received) reaches nobody.
      if (peer === undefined || peer.key !== entry.key || !usable(d, entry.device, peer.key) || !canSendTo(peer)) continue;
      recipients.push(entry.device);
    }
  }
  if (!recipients.some((r) => ACCOUNT[r] === to)) return 'send-failed untrusted-key';
  runInput(w, d, () => sealFor(w, d, recipients, label, false, to));
  return `sent ${label} to ${[...recipients].sort().join(',')}`;
}

// ---- receiving ----

const engineVia = (via: Via, wrapper?: 'sent' | 'received'): EngineVia => (via === 'archive' ? 'archive' : via === 'sent' || wrapper === 'sent' ? 'carbon-sent' : via === 'received' || wrapper === 'received' ? 'carbon-received' : 'live');

/** SealClient.receive: the transport read first (offline.forwarded, device.no-repair-for-bounces), then the message. */
function receive(w: World, d: DeviceModel, item: InFlight): void {
  d.history.push(item);
  runInput(w, d, () => {
    const stanza = item.stanza;
    if (stanza.kind === 'bounce') return event(w, d, 'bounced');
    // offline.forwarded-carbons / offline.forwarded-archive: another account's wrapper, or a result of no outstanding query of this device.
    if (stanza.kind === 'wrapped') return event(w, d, 'failed forged-forward');
    if (item.via === 'archive' && (item.query === undefined || !d.queries.includes(item.query))) return event(w, d, 'failed forged-forward');
    onMessage(w, d, stanza, engineVia(item.via), false);
  });
}

function onMessage(w: World, d: DeviceModel, stanza: Stanza, via: EngineVia, listFetched: boolean): void {
  if (stanza.kind === 'interactive') {
    // An interactive handshake is a live exchange: copies are not for this device.
    if (via === 'live') onInteractive(w, d, stanza, listFetched);
    return;
  }
  if (stanza.kind !== 'sealed') return;
  const from = stanza.from;
  // A device's own stanzas come back through the archive and the server: nothing to open.
  if (from === d.name) return;
  const mine = stanza.keys[d.name];
  if (mine === undefined) {
    // device.key-only: a key-only message for another device is no business of this one.
    if (stanza.keyOnly) return;
    event(w, d, `failed not-for-this-device`);
    maybeRepair(w, d, from, 'not-for-this-device', via);
    return;
  }
  const existing = d.peers[from];
  const header = mine.handshake;
  if (header !== undefined) {
    const verdict = admit(w, d, from, header.signer, listFetched);
    if (verdict === 'hold-list') return hold(w, d, stanza, via, from, 'awaiting-device-list');
    if (verdict === 'hold-decision') return hold(w, d, stanza, via, from, 'awaiting-decision');
    if (verdict === 'refuse') return event(w, d, 'failed untrusted-key');
  } else if (existing !== undefined && !usable(d, from, existing.key)) {
    // identity.trust-distrusted
    return event(w, d, 'failed untrusted-key');
  }
  open(w, d, stanza, mine, via);
}

/**
 * device.pinning, device.unlisted-device: whether a handshake from `p` under identity key `key`
 * may be processed, waits for the account's list (once) or for the user, or is refused.
 */
function admit(w: World, d: DeviceModel, p: PeerName, key: Key, listFetched: boolean): 'ok' | 'hold-list' | 'hold-decision' | 'refuse' {
  const v = view(d, ACCOUNT[p]);
  const pinned = v.pins[p];
  if (pinned !== undefined) {
    if (pinned.key === key) {
      if (usable(d, p, key)) return 'ok';
      if (pinned.level === 'distrusted') return 'refuse';
      return askDecision(w, d, p, 'undecided-key', key) ? 'hold-decision' : 'refuse';
    }
    if (!listFetched) return 'hold-list';
    return askDecision(w, d, p, 'key-changed', key) ? 'hold-decision' : 'refuse';
  }
  const listedKey = listed(v, p);
  if (listedKey === key) {
    pin(d, p, key);
    return admit(w, d, p, key, listFetched);
  }
  if (!listFetched) return 'hold-list';
  return askDecision(w, d, p, listedKey === undefined ? 'unlisted-device' : 'key-changed', key) ? 'hold-decision' : 'refuse';
}

function recentFetches(w: World, d: DeviceModel, account: Account): number[] {
  return (d.listFetchedAt[account] ?? []).filter((t) => w.s.now - t < DEVICE_CONSTANTS.LIST_FETCH_INTERVAL && t <= w.s.now);
}

/** device.bounds: MAX_LIST_FETCHES list fetches per account and LIST_FETCH_INTERVAL caused by held stanzas. */
function fetchListForHeld(w: World, d: DeviceModel, account: Account): void {
  d.listFetchedAt[account] = [...recentFetches(w, d, account), w.s.now];
  requestFetch(d, { kind: 'list', account });
}

const mayFetchList = (w: World, d: DeviceModel, account: Account): boolean => recentFetches(w, d, account).length < DEVICE_CONSTANTS.MAX_LIST_FETCHES;

function dropHeld(w: World, d: DeviceModel, held: Held): void {
  d.held = d.held.filter((h) => h !== held);
  event(w, d, 'failed untrusted-key');
}

/** Holds a stanza (device.bounds: per account and in total, the oldest first), fetching the account's list when it waits for one. */
function hold(w: World, d: DeviceModel, stanza: Stanza, via: EngineVia, from: PeerName, reason: Held['reason']): void {
  const account = ACCOUNT[from];
  const mine = d.held.filter((h) => ACCOUNT[h.from] === account);
  if (mine.length >= DEVICE_CONSTANTS.MAX_HELD_PER_ACCOUNT) dropHeld(w, d, mine[0]!);
  if (d.held.length >= DEVICE_CONSTANTS.MAX_HELD_STANZAS) dropHeld(w, d, d.held[0]!);
  d.held.push({ seq: ++d.seq, stanza, via, from, reason, received: w.s.now });
  event(w, d, `held ${reason} from ${from}`);
  const waiting = mine.some((h) => h.reason === 'awaiting-device-list' && d.held.includes(h));
  if (reason === 'awaiting-device-list' && !waiting && mayFetchList(w, d, account)) fetchListForHeld(w, d, account);
}

/** Processes again the held stanzas of `account` (of one reason, or of one device). */
function reprocessHeld(w: World, d: DeviceModel, account: Account, reason: Held['reason'] | undefined, device?: PeerName): void {
  for (const held of [...d.held]) {
    if (ACCOUNT[held.from] !== account || (reason !== undefined && held.reason !== reason) || (device !== undefined && held.from !== device)) continue;
    d.held = d.held.filter((h) => h !== held);
    onMessage(w, d, held.stanza, held.via, true);
  }
}

/**
 * The sessions after a peer's handshake established `incoming` (offline.simultaneous): with an
 * unconfirmed own session both are kept and the smaller session id is active; otherwise the new
 * session replaces the active one, which becomes the previous one.
 */
function merge(s: SystemState, existing: PeerRecord | undefined, incoming: Ratchet): { active: Ratchet; header: Header | undefined; alternate: Ratchet | undefined } {
  if (existing !== undefined && existing.header !== undefined) {
    return compareSessions(s, incoming.sid, existing.active.sid) < 0 ? { active: incoming, header: undefined, alternate: existing.active } : { active: existing.active, header: existing.header, alternate: incoming };
  }
  return { active: incoming, header: undefined, alternate: existing?.active };
}

function compareSessions(s: SystemState, a: number, b: number): number {
  if (a === b) return 0;
  const x = s.sessionIds[a];
  const y = s.sessionIds[b];
  if (x === undefined || y === undefined) throw new Error(`model: the session ids of sessions ${a} and ${b} are not bound`);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * §envelope.open and the engine's rules around it: the handshake header completes a session (or
 * is a duplicate), the message is tried on the session whose chains know its ratchet key, then
 * the other; nothing changes unless it opens (envelope.open-transactional). Then the previous
 * session's counters, the events, the key-only messages (device.key-only) and prekey maintenance.
 */
function open(w: World, d: DeviceModel, stanza: Extract<Stanza, { kind: 'sealed' }>, mine: WrappedKey, via: EngineVia): void {
  const { s } = w;
  const from = stanza.from;
  const existing = d.peers[from];
  let session = existing === undefined ? undefined : { active: existing.active, header: existing.header, alternate: existing.alternate };
  let otpks = d.otpks;
  let log = d.log;
  let incoming: Ratchet | undefined;
  let result: { which: 'active' | 'alternate'; ratchet: Ratchet } | 'duplicate';
  try {
    const header = mine.handshake;
    if (header !== undefined && !log.includes(header.id)) {
      let gone = false;
      if (header.otpk !== undefined) {
        const held = otpks.find((k) => k.id === header.otpk!.id);
        // A header no longer remembered whose one-time prekey is gone belongs to an existing session, if any.
        if (held === undefined && session === undefined) fail('unknown-prekey');
        gone = held === undefined;
        // Another key under the same id: the handshake does not authenticate.
        if (held !== undefined && held.key !== header.otpk.key) fail('authentication-failed');
      }
      if (!gone) {
        incoming = responderRatchet(header.sid, spk(d.name));
        session = merge(s, existing, incoming);
        otpks = otpks.filter((k) => k.id !== header.otpk?.id);
        log = [...log, header.id];
      }
    }
    if (session === undefined) fail('no-session');
    const rk = mine.message.rk;
    const preferAlternate = (incoming !== undefined && session.alternate === incoming) || (!knows(session.active, rk) && knows(session.alternate, rk));
    const order: ('active' | 'alternate')[] = preferAlternate ? ['alternate', 'active'] : ['active', 'alternate'];
    let firstError: ModelFailure | undefined;
    let opened: typeof result | undefined;
    for (const which of order) {
      const ratchet = session[which];
      if (ratchet === undefined) continue;
      try {
        const r = decrypt(ratchet, mine.message, s.now);
        opened = r.kind === 'duplicate' ? 'duplicate' : { which, ratchet: r.ratchet };
        break;
      } catch (e) {
        if (!(e instanceof ModelFailure)) throw e;
        firstError ??= e;
      }
    }
    if (opened === undefined) {
      // @req envelope.open-gone-session: a header already processed whose session is no longer
      // held (neither kept session knows the ratchet key): its keys went with that session.
      if (header !== undefined && incoming === undefined && !knows(session.active, rk) && !knows(session.alternate, rk)) fail('message-key-unavailable');
      throw firstError!;
    }
    result = opened;
  } catch (e) {
    if (!(e instanceof ModelFailure)) throw e;
    event(w, d, `failed ${e.code}`);
    maybeRepair(w, d, from, e.code, via);
    return;
  }
  if (result === 'duplicate') return event(w, d, `duplicate from ${from} via ${via}`);
  const established = log !== d.log;
  const carriesHeader = mine.handshake !== undefined;
  let next = result.which === 'active' ? { ...session!, active: result.ratchet, header: undefined } : { ...session!, alternate: result.ratchet };
  const onActive = result.which === 'active';
  if (!established && carriesHeader && !onActive && next.header !== undefined && next.alternate !== undefined && compareSessions(s, next.alternate.sid, next.active.sid) < 0) {
    // offline.simultaneous: the peer still attaches its header to the kept session with the
    // smaller id while this device's own session is unconfirmed: that session becomes active.
    next = { active: next.alternate, header: undefined, alternate: next.active };
  }
  if (otpks.length !== d.otpks.length) d.published = otpks;
  d.otpks = otpks;
  d.log = log;
  const sameSession = existing !== undefined && next.active.sid === existing.active.sid;
  const activeSent = sameSession ? existing.activeSent : false;
  const alternateChanged = next.alternate?.sid !== existing?.alternate?.sid;
  const record: PeerRecord = prune(s, {
    key: existing?.key ?? mine.handshake!.signer,
    active: next.active,
    header: next.header,
    alternate: next.alternate,
    alternateSince: alternateChanged ? (next.alternate === undefined ? undefined : s.now) : existing?.alternateSince,
    activeSent,
    // offline.previous-session: the peer answered on the active session (a new ratchet key of the
    // peer after this device sent on it).
    activeOpened: (sameSession ? existing.activeOpened : false) || (onActive && sameSession && existing.activeSent && next.active.dhr !== existing.active.dhr),
    receivedSinceSend: (existing?.receivedSinceSend ?? 0) + (onActive ? 1 : 0),
  });
  d.peers[from] = record;
  if (established) {
    event(w, d, `session-started ${from} async responder`);
    if (existing !== undefined && existing.header === undefined) event(w, d, `repair-received ${from}`);
  }
  if (!stanza.keyOnly) event(w, d, `opened ${stanza.label} from ${from} via ${via} (${keyTrust(d, from)})`);
  // device.key-only: a new session is confirmed at once (not from the archive); one-way traffic gets a heartbeat.
  if (established && via !== 'archive') sendKeyOnly(w, d, from);
  else if (record.receivedSinceSend >= DEVICE_CONSTANTS.HEARTBEAT_INTERVAL) sendKeyOnly(w, d, from);
  replenish(s, d);
}

/** offline.replenish: below ONE_TIME_PREKEY_THRESHOLD, new keys up to MAX_ONE_TIME_PREKEYS, republished. */
function replenish(s: SystemState, d: DeviceModel): void {
  if (d.otpks.length >= OFFLINE_CONSTANTS.ONE_TIME_PREKEY_THRESHOLD) return;
  const count = IDENTITY_CONSTANTS.MAX_ONE_TIME_PREKEYS - d.otpks.length;
  const added = Array.from({ length: count }, (_, i) => ({ id: d.nextPrekeyId + i, key: `otpk${s.nextSym++}` }));
  d.otpks = [...d.otpks, ...added];
  d.nextPrekeyId += count;
  d.published = d.otpks;
}

/**
 * offline.repair-signal, offline.repair-reset: after a failure a new session can fix, a new
 * session with the sender — never for archive results or the device itself, only for a device on
 * the sender account's list whose key is not distrusted, at most once per REPAIR_INTERVAL.
 */
function maybeRepair(w: World, d: DeviceModel, from: PeerName, reason: string, via: EngineVia): void {
  if (via === 'archive' || !REPAIRABLE.has(reason) || from === d.name) return;
  const last = d.repairs[from];
  if ((last !== undefined && w.s.now - last < DEVICE_CONSTANTS.REPAIR_INTERVAL) || d.pendingRepairs[from] !== undefined) return;
  if (Object.keys(d.pendingRepairs).length >= DEVICE_CONSTANTS.MAX_PENDING_REPAIRS) return;
  const v = view(d, ACCOUNT[from]);
  if (v.pins[from]?.level === 'distrusted') return;
  d.pendingRepairs[from] = reason;
  if (listed(v, from) === undefined) return requestFetch(d, { kind: 'list', account: ACCOUNT[from] });
  d.repairs[from] = w.s.now;
  requestFetch(d, { kind: 'bundle', peer: from });
}

function onTick(w: World, d: DeviceModel): void {
  // device.bounds: held stanzas waiting for a list fetch it once the window allows (one fetch per account).
  const accounts = new Set(d.held.filter((h) => h.reason === 'awaiting-device-list').map((h) => ACCOUNT[h.from]));
  for (const account of ACCOUNTS) if (accounts.has(account) && mayFetchList(w, d, account)) fetchListForHeld(w, d, account);
  for (const held of [...d.held]) if (w.s.now - held.received > DEVICE_CONSTANTS.HELD_MAX_AGE) dropHeld(w, d, held);
  for (const p of PEERS) if (d.peers[p] !== undefined) d.peers[p] = prune(w.s, d.peers[p]!);
  // device.list-race: while its addition is recent, a tick fetches the own account's list.
  const own = ACCOUNT[d.name];
  if (view(d, own).list?.devices.some((e) => e.device === d.name) === true && w.s.now - d.addedAt < DEVICE_CONSTANTS.LIST_RACE_WINDOW) requestFetch(d, { kind: 'list', account: own });
}

// ---- interactive handshakes ----

function expireInteractive(w: World, d: DeviceModel): void {
  // handshake.interactive-timeout
  d.interactive = d.interactive.filter((p) => !(w.s.now - p.started > HANDSHAKE_CONSTANTS.INTERACTIVE_TIMEOUT || w.s.now < p.started));
}

function addInteractive(d: DeviceModel, pending: PendingInteractive): void {
  d.interactive = d.interactive.filter((p) => p.sid !== pending.sid);
  if (d.interactive.length >= DEVICE_CONSTANTS.MAX_PENDING_INTERACTIVE) d.interactive.shift();
  d.interactive.push(pending);
}

function interactiveLabel(s: SystemState, hs: number, step: number): string {
  const base = `i${hs}.${step}`;
  const n = s.interactiveSent[base] ?? 0;
  s.interactiveSent[base] = n + 1;
  return n === 0 ? base : `${base}.${n}`;
}

/** The key an interactive peer must present: the pinned one (if trusted), or the one its list names, then pinned. */
function interactiveKey(d: DeviceModel, p: PeerName): Key | undefined {
  const v = view(d, ACCOUNT[p]);
  const pinned = v.pins[p];
  if (pinned !== undefined) return usable(d, p, pinned.key) ? pinned.key : undefined;
  const key = listed(v, p);
  if (key === undefined) return undefined;
  pin(d, p, key);
  return usable(d, p, key) ? key : undefined;
}

/**
 * SealClient.startInteractive (device.interactive-pinning): only with a device whose pinned or
 * listed key the initiator trusts; message 1 goes to the peer's resource. With `mitm`, the
 * attacker takes message 1 and answers it as the peer under a fresh identity key.
 */
function startInteractive(w: World, d: DeviceModel, target: DeviceName, mitm: boolean): string {
  const { s } = w;
  const hs = s.nextInteractive++;
  const account = ACCOUNT[target];
  if (view(d, account).list === undefined) runInput(w, d, () => requestFetch(d, { kind: 'list', account }));
  let known: Key | undefined;
  runInput(w, d, () => {
    known = interactiveKey(d, target);
  });
  if (known === undefined) return 'start-failed untrusted-key';
  const sid = s.nextSid++;
  const nonce = s.nextNonce++;
  const msg1: Stanza = { kind: 'interactive', label: interactiveLabel(s, hs, 1), hs, sid, step: 1, from: d.name, signer: d.name, to: target, nonce, answers: undefined };
  addInteractive(d, { hs, sid, role: 'initiator', peer: target, peerResource: target, started: s.now, known, nonce });
  routeIq(s, msg1, target);
  if (!mitm) return 'done';
  // The attacker intercepts message 1 on its way to the target and answers as the target.
  const t = s.devices[target]!;
  const at = t.inbox.findIndex((i) => i.stanza === msg1 && i.via === 'direct');
  if (at >= 0) t.inbox.splice(at, 1);
  const key = `e${s.next['e'] ?? 0}`;
  s.next['e'] = (s.next['e'] ?? 0) + 1;
  const msg2: Stanza = { kind: 'interactive', label: interactiveLabel(s, hs, 2), hs, sid, step: 2, from: target, signer: key, to: d.name, nonce: s.nextNonce++, answers: nonce };
  receive(w, d, { stanza: msg2, via: 'injected' });
  return 'done';
}

/**
 * The server starts an interactive handshake with `target` claiming device `p`, under a fresh
 * identity key (the invented devices under the key its forged lists name), and completes it if
 * the target answers: message 1 and 3 are injected, message 2 goes where the target sends it.
 */
function impostorInteractive(w: World, p: PeerName, t: DeviceModel): string {
  const { s } = w;
  const hs = s.nextInteractive++;
  const key = isDevice(p) ? impostorKey(s) : inventedKey(p);
  const sid = s.nextSid++;
  const msg1: Stanza = { kind: 'interactive', label: interactiveLabel(s, hs, 1), hs, sid, step: 1, from: p, signer: key, to: t.name, nonce: s.nextNonce++, answers: undefined };
  const sentBefore = s.interactiveSent[`i${hs}.2`] ?? 0;
  receive(w, t, { stanza: msg1, via: 'injected' });
  if ((s.interactiveSent[`i${hs}.2`] ?? 0) === sentBefore) return 'done';
  const pending = t.interactive.find((x) => x.hs === hs);
  const msg3: Stanza = { kind: 'interactive', label: interactiveLabel(s, hs, 3), hs, sid, step: 3, from: p, signer: key, to: t.name, nonce: s.nextNonce++, answers: pending?.nonce };
  receive(w, t, { stanza: msg3, via: 'injected' });
  return 'done';
}

function impostorKey(s: SystemState): Key {
  const n = s.next['e'] ?? 0;
  s.next['e'] = n + 1;
  return `e${n}`;
}

function onInteractive(w: World, d: DeviceModel, msg: Extract<Stanza, { kind: 'interactive' }>, listFetched: boolean): void {
  const { s } = w;
  const from = msg.from;
  if (msg.step === 1) {
    const v = view(d, ACCOUNT[from]);
    if (v.pins[from] === undefined && listed(v, from) === undefined) {
      // device.unlisted-device: an interactive handshake cannot wait for the user.
      if (!listFetched) return hold(w, d, msg, 'live', from, 'awaiting-device-list');
      return event(w, d, 'failed untrusted-key');
    }
    const known = interactiveKey(d, from);
    if (known === undefined) return event(w, d, 'failed untrusted-key');
    const nonce = s.nextNonce++;
    addInteractive(d, { hs: msg.hs, sid: msg.sid, role: 'responder', peer: from, peerResource: from, started: s.now, known, nonce });
    const msg2: Stanza = { kind: 'interactive', label: interactiveLabel(s, msg.hs, 2), hs: msg.hs, sid: msg.sid, step: 2, from: d.name, signer: d.name, to: from, nonce, answers: msg.nonce };
    routeIq(s, msg2, from);
    return;
  }
  const pending = d.interactive.find((p) => p.sid === msg.sid);
  if (pending === undefined || pending.peer !== from) return;
  d.interactive = d.interactive.filter((p) => p !== pending);
  if (pending.role === 'initiator' && msg.step === 2) {
    const known = interactiveKey(d, from);
    if (known === undefined) return event(w, d, 'failed untrusted-key');
    // device.interactive-pinning: the responder must present the pinned or listed key.
    if (msg.answers !== pending.nonce) return event(w, d, 'failed authentication-failed');
    if (msg.signer !== known) return event(w, d, 'failed identity-key-changed');
    const msg3: Stanza = { kind: 'interactive', label: interactiveLabel(s, msg.hs, 3), hs: msg.hs, sid: msg.sid, step: 3, from: d.name, signer: d.name, to: pending.peerResource, nonce: s.nextNonce++, answers: msg.nonce };
    routeIq(s, msg3, pending.peerResource);
    adoptInteractive(w, d, from, msg.signer, initiatorRatchet(msg.sid, `irk${msg.sid}`, fresh(s)), 'initiator');
    // The responder sends only after it has received: the initiator confirms at once (device.key-only).
    sendKeyOnly(w, d, from);
  } else if (pending.role === 'responder' && msg.step === 3) {
    if (msg.answers !== pending.nonce) return event(w, d, 'failed authentication-failed');
    if (msg.signer !== pending.known) return event(w, d, 'failed identity-key-changed');
    adoptInteractive(w, d, from, msg.signer, responderRatchet(msg.sid, `irk${msg.sid}`), 'responder');
  }
}

function adoptInteractive(w: World, d: DeviceModel, p: PeerName, key: Key, ratchet: Ratchet, role: 'initiator' | 'responder'): void {
  if (view(d, ACCOUNT[p]).pins[p]?.key !== key) return event(w, d, 'failed identity-key-changed');
  const existing = d.peers[p];
  d.peers[p] = { key, active: ratchet, header: undefined, alternate: existing?.active, alternateSince: existing === undefined ? undefined : w.s.now, activeSent: false, activeOpened: false, receivedSinceSend: 0 };
  event(w, d, `session-started ${p} interactive ${role}`);
}

// ---- the attacker ----

/** The attacker seals a message as `d` for `target` with its copy of `d`'s session and injects it. */
function forge(s: SystemState, d: DeviceModel, target: DeviceModel): string {
  const label = nextLabel(s, 'f');
  const session = s.stolen[d.name]![target.name]!;
  const out = encrypt(session.active, `${label}>${target.name}`, fresh(s));
  s.stolen[d.name]![target.name] = { ...session, active: out.ratchet };
  const stanza: Stanza = { kind: 'sealed', label, from: d.name, keyOnly: false, keys: { [target.name]: { handshake: session.header, message: out.message } } };
  s.seen.push(stanza);
  target.inbox.push({ stanza, via: 'injected' });
  return 'done';
}

/**
 * The server sends `t` a first message from device id `p` under a fresh identity key (for an
 * invented device, the key its forged lists name), from `t`'s published bundle without a
 * one-time prekey.
 */
function impostor(w: World, p: PeerName, t: DeviceModel): string {
  const { s } = w;
  const label = nextLabel(s, 'x');
  const key = isDevice(p) ? impostorKey(s) : inventedKey(p);
  const sid = s.nextSid++;
  const header: Header = { id: `h${sid}`, sid, initiator: p, signer: key, otpk: undefined };
  const out = encrypt(initiatorRatchet(sid, spk(t.name), fresh(s)), `${label}>${t.name}`, fresh(s));
  const stanza: Stanza = { kind: 'sealed', label, from: p, keyOnly: false, keys: { [t.name]: { handshake: header, message: out.message } } };
  s.seen.push(stanza);
  t.inbox.push({ stanza, via: 'injected' });
  return 'done';
}

/** A stanza naming device `p` that cannot authenticate (a forged or corrupted one): no header, an unknown ratchet key. */
function corrupt(w: World, p: PeerName, t: DeviceModel): string {
  const { s } = w;
  const label = nextLabel(s, 'c');
  const message: RatchetMessage = { rk: `k${s.nextSym++}`, pn: 0, n: 0, mk: `garbage${s.nextSym++}`, fp: `${label}>${t.name}` };
  const stanza: Stanza = { kind: 'sealed', label, from: p, keyOnly: false, keys: { [t.name]: { handshake: undefined, message } } };
  s.seen.push(stanza);
  t.inbox.push({ stanza, via: 'injected' });
  return 'done';
}

/** The failure codes the model can predict. */
export type PredictedCode = SealErrorCode | 'not-for-this-device' | 'forged-forward';
