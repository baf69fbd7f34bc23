/**
 * L0 system model (DESIGN.md §7): two accounts with three or four devices, their device lists,
 * bundles and prekeys, the sessions between every pair of devices, the server (routing, offline
 * storage, archive, carbons, PEP) and an adversary that controls the network (drop, duplicate,
 * replay, reorder, delay), the server's answers (stale or forged device lists) and can steal a
 * device's sessions, as one abstract `step(state, action)` machine.
 *
 * test/model.system.test.ts drives this model and the real SealClient instances on the embedded
 * server with the same actions and compares every observable result. The model follows the
 * spec's rules, written independently of src/: what a device does on receipt (§envelope.open,
 * §offline.simultaneous, §offline.repair), how the server routes (RFC 6121, XEP-0280, XEP-0313
 * as src/net documents them), and the symbolic ratchet of ./ratchet.ts for what opens.
 *
 * `step` never changes its argument: it works on a structured clone and returns it.
 *
 * @see spec §offline
 * @see spec §identity.devices
 * @module
 */
import type { SealErrorCode } from '../../src/errors.js';
import { IDENTITY_CONSTANTS } from '../../src/identity/constants.js';
import { MAM_DEFAULT_MAX } from '../../src/net/archive.js';
import { OFFLINE_CONSTANTS } from '../../src/offline/constants.js';
import { REPAIR_REASONS, type RepairReason } from '../../src/wire/repair.js';
import { type Ratchet, type RatchetMessage, type Sym, ModelFailure, decrypt, encrypt, fail, initiatorRatchet, knows, responderRatchet } from './ratchet.js';

export type Account = 'alice' | 'bob';
export type DeviceName = 'A1' | 'A2' | 'B1' | 'B2';
/** Every device the model knows, in a fixed order. A2 exists only after `add-device`. */
export const DEVICES: readonly DeviceName[] = ['A1', 'A2', 'B1', 'B2'];
export const ACCOUNT: Readonly<Record<DeviceName, Account>> = { A1: 'alice', A2: 'alice', B1: 'bob', B2: 'bob' };
export const INITIAL_DEVICES: readonly DeviceName[] = ['A1', 'B1', 'B2'];
/** One-time prekeys a device is created with: one above the replenish threshold, so replenishing happens early. */
export const INITIAL_ONE_TIME_PREKEYS = OFFLINE_CONSTANTS.ONE_TIME_PREKEY_THRESHOLD + 1;
/** Seconds a `wait` advances the clock: the repair intervals, so signals and resets are allowed again. */
export const WAIT_SECONDS = Math.max(OFFLINE_CONSTANTS.REPAIR_SIGNAL_INTERVAL, OFFLINE_CONSTANTS.REPAIR_RESET_INTERVAL);

/** What the server answers to a device list request: the truth, its oldest signed list, or a list with an added device under the old signature. */
export type ListMode = 'honest' | 'stale' | 'forged';

/** A one-time prekey: id and (symbolic) key. */
export interface OneTimePrekey { id: number; key: Sym }

/** An asynchronous handshake header (spec §handshake.async), symbolically. */
export interface Header { id: string; sid: number; initiator: DeviceName; otpk: OneTimePrekey | undefined }

/**
 * What a device holds for one peer device (src PeerSession): nothing; a session it initiated and
 * that is not yet confirmed (its header rides on every message); the same after a repair reset;
 * or a confirmed session. Each may keep one other session for receiving (spec offline.simultaneous).
 */
export type Session =
  | { kind: 'none' }
  | { kind: 'pending'; header: Header; active: Ratchet; alternate: Ratchet | undefined }
  | { kind: 'healing'; header: Header; active: Ratchet; alternate: Ratchet | undefined }
  | { kind: 'established'; active: Ratchet; alternate: Ratchet | undefined };

/** The key element for one recipient device. */
export interface WrappedKey { handshake: Header | undefined; message: RatchetMessage }

/** A stanza: a sealed message (label = its body) or a repair signal. */
export type Stanza =
  | { kind: 'sealed'; label: string; from: DeviceName; to: Account; keys: Partial<Record<DeviceName, WrappedKey>> }
  | { kind: 'repair'; label: string; from: DeviceName; to: Account; about: DeviceName; reason: RepairReason };

/** How a stanza reached a device: routed live, from offline storage, as a carbon, from the archive, or injected by the attacker. */
export type Via = 'direct' | 'offline' | 'carbon' | 'archive' | 'injected';
export interface InFlight { stanza: Stanza; via: Via }

/** What `restore` brings back: the device's secret state, handshake log and sessions. */
export interface Backup { otpks: OneTimePrekey[]; nextPrekeyId: number; log: string[]; sessions: Partial<Record<DeviceName, Session>> }

export interface DeviceModel {
  name: DeviceName;
  online: boolean;
  otpks: OneTimePrekey[];
  nextPrekeyId: number;
  /** Server side: the one-time prekeys of the published bundle, and those already handed out (the test's server hands each out once). */
  published: OneTimePrekey[];
  served: number[];
  /** Processed handshake header ids. */
  log: string[];
  sessions: Partial<Record<DeviceName, Session>>;
  /** When this device last signalled about / reset on request of each peer device. */
  signalled: Partial<Record<DeviceName, number>>;
  reset: Partial<Record<DeviceName, number>>;
  /** Per account, the issued time of the newest signed list accepted (spec identity.device-list-rollback). */
  newestIssued: Partial<Record<Account, number>>;
  /** Stanzas on their way to this device, and those delivered (for replays). */
  inbox: InFlight[];
  history: InFlight[];
  backup: Backup;
}

/** A signed device list as published. */
export interface SignedList { issued: number; devices: DeviceName[] }

export interface ModelOptions {
  /**
   * The reference client answers a message of its own that it cannot open (its own sent
   * messages, from the archive) with a repair signal to itself, and then starts a session with
   * itself. The spec gives a device no reason to do so; `false` is the spec's behaviour.
   */
  readonly repairOwnMessages: boolean;
}

export interface SystemState {
  now: number;
  devices: Partial<Record<DeviceName, DeviceModel>>;
  lists: Record<Account, SignedList[]>;
  listMode: Record<Account, ListMode>;
  /** Devices whose bundle the server replaces with one of the attacker's, under the same device id. */
  forgedBundles: DeviceName[];
  /** The real device ids (random), bound by the test: a device list is ordered by them. */
  deviceIds: Partial<Record<DeviceName, number>>;
  offline: Record<Account, Stanza[]>;
  archive: Record<Account, Stanza[]>;
  /** The attacker's copies of compromised devices' sessions. */
  stolen: Partial<Record<DeviceName, Partial<Record<DeviceName, Session>>>>;
  nextSym: number;
  nextSid: number;
  nextMessage: number;
  nextForgery: number;
  nextRepair: number;
  /** Session ids (hex) of the real sessions, bound by the test after each step: they decide simultaneous initiation. */
  sessionIds: Record<number, string>;
  options: ModelOptions;
}

/** What the network, the server, the attacker or a device does. */
export type Action =
  | { kind: 'send'; device: DeviceName }
  | { kind: 'deliver' | 'duplicate' | 'drop' | 'delay' | 'replay'; device: DeviceName; index: number }
  | { kind: 'offline' | 'online' | 'backup' | 'restore' | 'compromise' | 'fetch-archive'; device: DeviceName }
  | { kind: 'forge'; device: DeviceName; target: DeviceName }
  | { kind: 'add-device' }
  | { kind: 'serve-list'; account: Account; mode: ListMode }
  | { kind: 'serve-bundle'; device: DeviceName; mode: 'honest' | 'forged' }
  | { kind: 'wait' };

/** What can be observed of one step (besides the stanzas in flight and the session states). */
export type Observation =
  | { kind: 'sent'; label: string; recipients: DeviceName[] }
  | { kind: 'send-failed'; code: SealErrorCode }
  | { kind: 'opened'; body: string; from: DeviceName }
  | { kind: 'duplicate' }
  | { kind: 'not-for-this-device' }
  | { kind: 'error'; code: SealErrorCode }
  | { kind: 'repair'; reset: boolean }
  | { kind: 'receive-failed'; code: SealErrorCode }
  | { kind: 'forged'; label: string }
  | { kind: 'done' };

const otherAccount = (a: Account): Account => (a === 'alice' ? 'bob' : 'alice');
const spk = (d: DeviceName): Sym => `spk:${d}`;

function newDevice(s: SystemState, name: DeviceName): DeviceModel {
  const otpks = Array.from({ length: INITIAL_ONE_TIME_PREKEYS }, (_, i) => ({ id: 3 + i, key: `otpk${s.nextSym++}` }));
  const device: DeviceModel = {
    name, online: true, otpks, nextPrekeyId: 3 + otpks.length, published: otpks, served: [], log: [], sessions: {},
    signalled: {}, reset: {}, newestIssued: {}, inbox: [], history: [], backup: { otpks, nextPrekeyId: 3 + otpks.length, log: [], sessions: {} },
  };
  // SealClient.create publishes the list with the new device (issued: now, or one later than the
  // current list); the account key holder re-signs it one second later.
  const account = ACCOUNT[name];
  const current = s.lists[account].at(-1);
  const issued = (current === undefined ? s.now : Math.max(s.now, current.issued + 1)) + 1;
  s.lists[account].push({ issued, devices: [...(current?.devices ?? []), name] });
  s.devices[name] = device;
  return device;
}

/** The state after A1, B1 and B2 were created (in that order) and came online. */
export function initialState(now: number, options: ModelOptions): SystemState {
  const s: SystemState = {
    now, devices: {}, lists: { alice: [], bob: [] }, listMode: { alice: 'honest', bob: 'honest' }, forgedBundles: [], deviceIds: {}, offline: { alice: [], bob: [] }, archive: { alice: [], bob: [] },
    stolen: {}, nextSym: 0, nextSid: 0, nextMessage: 0, nextForgery: 0, nextRepair: 0, sessionIds: {}, options,
  };
  for (const name of INITIAL_DEVICES) newDevice(s, name);
  return s;
}

const canEncrypt = (session: Session | undefined): boolean => session !== undefined && session.kind !== 'none' && (session.active.cks !== undefined || session.active.dhr !== undefined);

/** Whether `action` can happen in `state` (fast-check skips commands that cannot). */
export function enabled(state: SystemState, action: Action): boolean {
  if (action.kind === 'wait') return true;
  if (action.kind === 'add-device') return state.devices.A2 === undefined;
  if (action.kind === 'serve-list') return state.listMode[action.account] !== action.mode;
  if (action.kind === 'serve-bundle') return state.devices[action.device] !== undefined && state.forgedBundles.includes(action.device) !== (action.mode === 'forged');
  const device = state.devices[action.device];
  if (device === undefined) return false;
  switch (action.kind) {
    case 'send':
    case 'fetch-archive':
    case 'offline':
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
    case 'restore':
    case 'compromise':
      return true;
    case 'forge':
      return action.target !== action.device && state.devices[action.target]?.online === true && canEncrypt(state.stolen[action.device]?.[action.target]);
  }
}

/**
 * One step: the new state (a clone) and what was observed.
 * @throws Error when the action is not {@link enabled}, or a session order is needed that the test has not bound.
 */
export function step(state: SystemState, action: Action): { state: SystemState; observation: Observation } {
  if (!enabled(state, action)) throw new Error(`model: ${JSON.stringify(action)} is not enabled`);
  const s = structuredClone(state);
  return { state: s, observation: apply(s, action) };
}

function apply(s: SystemState, action: Action): Observation {
  switch (action.kind) {
    case 'wait':
      s.now += WAIT_SECONDS;
      return { kind: 'done' };
    case 'add-device':
      comeOnline(s, newDevice(s, 'A2'));
      return { kind: 'done' };
    case 'serve-list':
      s.listMode[action.account] = action.mode;
      return { kind: 'done' };
    case 'serve-bundle':
      s.forgedBundles = action.mode === 'forged' ? [...s.forgedBundles, action.device] : s.forgedBundles.filter((d) => d !== action.device);
      return { kind: 'done' };
    default:
  }
  const d = s.devices[action.device]!;
  switch (action.kind) {
    case 'send':
      return send(s, d);
    case 'deliver':
    case 'duplicate': {
      const at = action.index % d.inbox.length;
      const item = d.inbox[at]!;
      if (action.kind === 'deliver') d.inbox.splice(at, 1);
      return receive(s, d, item);
    }
    case 'replay':
      return receive(s, d, d.history[action.index % d.history.length]!);
    case 'drop':
      d.inbox.splice(action.index % d.inbox.length, 1);
      return { kind: 'done' };
    case 'delay':
      d.inbox.push(...d.inbox.splice(action.index % d.inbox.length, 1));
      return { kind: 'done' };
    case 'offline':
      // The connection closes: what was on its way to the device is lost.
      d.online = false;
      d.inbox = [];
      return { kind: 'done' };
    case 'online':
      comeOnline(s, d);
      return { kind: 'done' };
    case 'backup':
      d.backup = structuredClone({ otpks: d.otpks, nextPrekeyId: d.nextPrekeyId, log: d.log, sessions: d.sessions });
      return { kind: 'done' };
    case 'restore':
      Object.assign(d, structuredClone(d.backup));
      return { kind: 'done' };
    case 'compromise':
      s.stolen[d.name] = structuredClone(d.sessions);
      return { kind: 'done' };
    case 'forge':
      return forge(s, d, action.target);
    case 'fetch-archive':
      // One query without paging: the server's first page of the account's archive.
      for (const stanza of s.archive[ACCOUNT[d.name]].slice(0, MAM_DEFAULT_MAX)) d.inbox.push({ stanza, via: 'archive' });
      return { kind: 'done' };
  }
}

// ---- the server ----

const online = (s: SystemState, account: Account): DeviceModel[] => DEVICES.filter((n) => ACCOUNT[n] === account && s.devices[n]?.online === true).map((n) => s.devices[n]!);

/** An initial presence: stored messages go to the first device of the account that becomes available. */
function comeOnline(s: SystemState, d: DeviceModel): void {
  d.online = true;
  const account = ACCOUNT[d.name];
  for (const stanza of s.offline[account]) d.inbox.push({ stanza, via: 'offline' });
  s.offline[account] = [];
}

/** The server routes a chat message from device `from`: archive, sent carbons, delivery or offline storage. */
function route(s: SystemState, from: DeviceName, stanza: Stanza): void {
  const account = ACCOUNT[from];
  s.archive[account].push(stanza);
  for (const other of online(s, account)) if (other.name !== from) other.inbox.push({ stanza, via: 'carbon' });
  s.archive[stanza.to].push(stanza);
  const targets = online(s, stanza.to);
  for (const target of targets) target.inbox.push({ stanza, via: 'direct' });
  if (targets.length === 0) s.offline[stanza.to].push(stanza);
}

/** The device list `d` fetches for `owner`, verified and rollback-checked (spec identity.account-signature, identity.device-list-rollback). */
function fetchList(s: SystemState, d: DeviceModel, owner: Account): DeviceName[] {
  const mode = s.listMode[owner];
  if (mode === 'forged') fail('authentication-failed');
  const list = mode === 'stale' ? s.lists[owner][0]! : s.lists[owner].at(-1)!;
  const newest = d.newestIssued[owner];
  if (newest !== undefined && list.issued < newest) fail('stale-device-list');
  d.newestIssued[owner] = list.issued;
  // A list is sorted by device id (spec identity.device-list); the ids are the real, random ones.
  const id = (n: DeviceName): number => {
    const bound = s.deviceIds[n];
    if (bound === undefined) throw new Error(`model: the device id of ${n} is not bound`);
    return bound;
  };
  return [...list.devices].sort((a, b) => id(a) - id(b));
}

// ---- sessions ----

function fresh(s: SystemState): () => Sym {
  return () => `k${s.nextSym++}`;
}

/**
 * Starts an asynchronous handshake with `peer` from its bundle as served (one unused one-time
 * prekey at most), and returns the new session for the caller to store.
 * @throws ModelFailure `identity-key-changed` when the server serves another identity's bundle for
 *   the device: its key is not the one the device list names (spec identity.device-list-keys).
 */
function startSession(s: SystemState, d: DeviceModel, peer: DeviceName, kind: 'pending' | 'healing'): Session {
  if (s.forgedBundles.includes(peer)) fail('identity-key-changed');
  const p = s.devices[peer]!;
  const otpk = p.published.find((k) => !p.served.includes(k.id));
  if (otpk !== undefined) p.served.push(otpk.id);
  const sid = s.nextSid++;
  const header: Header = { id: `h${sid}`, sid, initiator: d.name, otpk };
  return { kind, header, active: initiatorRatchet(sid, spk(peer), fresh(s)), alternate: undefined };
}

function compareSessions(s: SystemState, a: number, b: number): number {
  if (a === b) return 0;
  const x = s.sessionIds[a];
  const y = s.sessionIds[b];
  if (x === undefined || y === undefined) throw new Error(`model: the session ids of sessions ${a} and ${b} are not bound`);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The sessions after a peer's handshake established `incoming` (spec offline.simultaneous): with
 * an unconfirmed own session both are kept and the smaller session id is active; otherwise the
 * new session replaces the active one, which is kept for receiving.
 */
function merge(s: SystemState, existing: Session, incoming: Ratchet): { session: Session; incomingIsAlternate: boolean } {
  switch (existing.kind) {
    case 'none':
      return { session: { kind: 'established', active: incoming, alternate: undefined }, incomingIsAlternate: false };
    case 'established':
      return { session: { kind: 'established', active: incoming, alternate: existing.active }, incomingIsAlternate: false };
    case 'pending':
    case 'healing':
      return compareSessions(s, incoming.sid, existing.active.sid) < 0
        ? { session: { kind: 'established', active: incoming, alternate: existing.active }, incomingIsAlternate: false }
        : { session: { ...existing, alternate: incoming }, incomingIsAlternate: true };
  }
}

// ---- devices ----

/** SealClient.send: every device on the peer's and the own list (sessions started where missing), sealed once, routed. */
function send(s: SystemState, d: DeviceModel): Observation {
  const label = `m${s.nextMessage++}`;
  const to = otherAccount(ACCOUNT[d.name]);
  const recipients: DeviceName[] = [];
  try {
    for (const account of [to, ACCOUNT[d.name]]) {
      for (const peer of fetchList(s, d, account)) {
        if (peer === d.name) continue;
        if (d.sessions[peer] === undefined) d.sessions[peer] = startSession(s, d, peer, 'pending');
        recipients.push(peer);
      }
    }
  } catch (e) {
    if (e instanceof ModelFailure) return { kind: 'send-failed', code: e.code };
    throw e;
  }
  const keys: Partial<Record<DeviceName, WrappedKey>> = {};
  for (const peer of recipients) {
    const session = d.sessions[peer]!;
    if (session.kind === 'none') throw new Error('model: no session with a recipient');
    const out = encrypt(session.active, `${label}>${peer}`, fresh(s));
    keys[peer] = { handshake: session.kind === 'established' ? undefined : session.header, message: out.message };
    d.sessions[peer] = { ...session, active: out.ratchet };
  }
  route(s, d.name, { kind: 'sealed', label, from: d.name, to, keys });
  return { kind: 'sent', label, recipients: [...recipients].sort() };
}

/** The attacker seals a message as `d` for `target` with its copy of `d`'s session and injects it. */
function forge(s: SystemState, d: DeviceModel, target: DeviceName): Observation {
  const label = `f${s.nextForgery++}`;
  const session = s.stolen[d.name]![target]!;
  if (session.kind === 'none') throw new Error('model: forge without a session');
  const out = encrypt(session.active, `${label}>${target}`, fresh(s));
  s.stolen[d.name]![target] = { ...session, active: out.ratchet };
  const keys = { [target]: { handshake: session.kind === 'established' ? undefined : session.header, message: out.message } };
  s.devices[target]!.inbox.push({ stanza: { kind: 'sealed', label, from: d.name, to: ACCOUNT[target], keys }, via: 'injected' });
  return { kind: 'forged', label };
}

/** SealClient.receive: a repair signal, or a sealed message opened (and a repair signal sent when it cannot be). */
function receive(s: SystemState, d: DeviceModel, item: InFlight): Observation {
  d.history.push(item);
  const stanza = item.stanza;
  if (stanza.kind === 'repair') return onRepair(s, d, stanza);
  const result = open(s, d, stanza);
  if (result.kind === 'opened') {
    replenish(s, d);
    return result;
  }
  const reason: RepairReason | undefined = result.kind === 'not-for-this-device' ? 'not-for-this-device' : result.kind === 'error' && (REPAIR_REASONS as readonly string[]).includes(result.code) ? (result.code as RepairReason) : undefined;
  const ownMessage = stanza.from === d.name;
  if (reason !== undefined && (s.options.repairOwnMessages || !ownMessage)) {
    // @req offline.repair-signal: at most one signal per peer device within REPAIR_SIGNAL_INTERVAL.
    const last = d.signalled[stanza.from];
    if (last === undefined || s.now - last >= OFFLINE_CONSTANTS.REPAIR_SIGNAL_INTERVAL) {
      d.signalled[stanza.from] = s.now;
      const label = `r${s.nextRepair++}:${d.name}>${stanza.from}:${reason}`;
      route(s, d.name, { kind: 'repair', label, from: d.name, to: ACCOUNT[stanza.from], about: stanza.from, reason });
    }
  }
  return result;
}

/** @req offline.repair-reset: fetch the list, start a new handshake, at most once per peer device within REPAIR_RESET_INTERVAL. */
function onRepair(s: SystemState, d: DeviceModel, signal: Extract<Stanza, { kind: 'repair' }>): Observation {
  if (signal.about !== d.name) return { kind: 'repair', reset: false };
  const peer = signal.from;
  const last = d.reset[peer];
  if (last !== undefined && s.now - last < OFFLINE_CONSTANTS.REPAIR_RESET_INTERVAL) return { kind: 'repair', reset: false };
  d.reset[peer] = s.now;
  let devices: DeviceName[];
  try {
    devices = fetchList(s, d, ACCOUNT[peer]);
  } catch (e) {
    if (e instanceof ModelFailure) return { kind: 'receive-failed', code: e.code };
    throw e;
  }
  if (!devices.includes(peer)) return { kind: 'repair', reset: false };
  let session: Session;
  try {
    session = startSession(s, d, peer, 'healing');
  } catch (e) {
    // A bundle that fails verification leaves the current session: a forged signal must not replace it.
    if (e instanceof ModelFailure) return { kind: 'repair', reset: false };
    throw e;
  }
  d.sessions[peer] = session;
  return { kind: 'repair', reset: true };
}

/** @req offline.replenish: below ONE_TIME_PREKEY_THRESHOLD, new keys up to MAX_ONE_TIME_PREKEYS, republished. */
function replenish(s: SystemState, d: DeviceModel): void {
  if (d.otpks.length >= OFFLINE_CONSTANTS.ONE_TIME_PREKEY_THRESHOLD) return;
  const count = IDENTITY_CONSTANTS.MAX_ONE_TIME_PREKEYS - d.otpks.length;
  const added = Array.from({ length: count }, (_, i) => ({ id: d.nextPrekeyId + i, key: `otpk${s.nextSym++}` }));
  d.otpks = [...d.otpks, ...added];
  d.nextPrekeyId += count;
  d.published = d.otpks;
}

type OpenResult = Extract<Observation, { kind: 'opened' | 'duplicate' | 'not-for-this-device' | 'error' }>;

/**
 * openStanza (spec §envelope.open): the handshake header completes a session (or is a duplicate),
 * then the message is tried on the session whose chains know its ratchet key, then the other.
 * Nothing changes unless the message opens (spec envelope.open-transactional).
 */
function open(s: SystemState, d: DeviceModel, stanza: Extract<Stanza, { kind: 'sealed' }>): OpenResult {
  const mine = stanza.keys[d.name];
  if (mine === undefined) return { kind: 'not-for-this-device' };
  const sender = stanza.from;
  let session: Session = d.sessions[sender] ?? { kind: 'none' };
  let otpks = d.otpks;
  let log = d.log;
  let incomingIsAlternate = false;
  try {
    const header = mine.handshake;
    if (header !== undefined && !log.includes(header.id)) {
      let gone = false;
      if (header.otpk !== undefined) {
        const held = otpks.find((k) => k.id === header.otpk!.id);
        // A header no longer remembered whose one-time prekey is gone belongs to an existing session, if any.
        if (held === undefined && session.kind === 'none') fail('unknown-prekey');
        gone = held === undefined;
        // Another key under the same id: the confirmation does not match.
        if (held !== undefined && held.key !== header.otpk.key) fail('authentication-failed');
      }
      if (!gone) {
        const merged = merge(s, session, responderRatchet(header.sid, spk(d.name)));
        session = merged.session;
        incomingIsAlternate = merged.incomingIsAlternate;
        otpks = otpks.filter((k) => k.id !== header.otpk?.id);
        // The log's bounds (spec handshake.duplicate: MAX_PROCESSED_HANDSHAKES per signed prekey) are beyond the schedules' reach.
        log = [...log, header.id];
      }
    }
    if (session.kind === 'none') fail('no-session');
    const rk = mine.message.rk;
    const preferAlternate = incomingIsAlternate || (!knows(session.active, rk) && knows(session.alternate, rk));
    const order: ('active' | 'alternate')[] = preferAlternate ? ['alternate', 'active'] : ['active', 'alternate'];
    let firstError: ModelFailure | undefined;
    for (const which of order) {
      const ratchet = session[which];
      if (ratchet === undefined) continue;
      let result: ReturnType<typeof decrypt>;
      try {
        result = decrypt(ratchet, mine.message, s.now);
      } catch (e) {
        if (!(e instanceof ModelFailure)) throw e;
        firstError ??= e;
        continue;
      }
      if (result.kind === 'duplicate') return { kind: 'duplicate' };
      d.sessions[sender] = which === 'active' ? { kind: 'established', active: result.ratchet, alternate: session.alternate } : { ...session, alternate: result.ratchet };
      d.otpks = otpks;
      d.log = log;
      return { kind: 'opened', body: stanza.label, from: sender };
    }
    throw firstError!;
  } catch (e) {
    if (e instanceof ModelFailure) return { kind: 'error', code: e.code };
    throw e;
  }
}
