/**
 * The real system the L0 system model is compared with: one Seal device engine per model device
 * (src/device), each behind its IO shell SealClient (src/net/client.ts) over a MemoryStore, on
 * the embedded server of src/net, driven by the same actions and observed the same way.
 *
 * The adversarial network sits between the server and each client: every stanza the server
 * delivers to a device is captured in that device's inbox, labelled (`m3` a message, `k0:B1>A1`
 * a key-only message, `i2.1` an interactive handshake message, `x1` an impostor's handshake,
 * `c0` a corrupted stanza, `f1` a forgery with a stolen session, `fc0`/`fa0` a forged carbon or
 * archive result, `b0` a bounce) and classified by how it came (`direct`, `offline`, `sent` or
 * `received` carbon, `archive`, `injected`); `deliver`, `duplicate`, `replay` and `drop` then
 * hand it to `SealClient.receive` or discard it. The server's adversary hook serves stale,
 * forged, re-signed or unsigned device lists and the attacker's bundles on request, and hands out
 * each one-time prekey once (one per bundle served), which removes the handshake's only random
 * choice from what the model must predict. The attacker's own stanzas (impostor handshakes,
 * interactive ones included, corrupted stanzas, forged wrappers from mallory@, bounces) are
 * built here with the library's handshake and envelope functions and injected.
 *
 * A `Shell` other than `honest` wraps the clients the way a careless application would (the
 * mutants the test must catch): one accepts every key the engine asks about, the other unwraps
 * carbons and archive results itself and feeds the message inside as if it came live.
 *
 * @see spec §device
 * @module
 */
import { type PeerSession, sealStanza, sessionKey } from '../../src/envelope/envelope.js';
import { startRatchet, type RatchetState } from '../../src/envelope/ratchet.js';
import { isSealError } from '../../src/errors.js';
import { toHex } from '../../src/codec/bytes.js';
import { initiateAsync } from '../../src/handshake/async.js';
import { acceptInteractive, completeInitiator, startInteractive } from '../../src/handshake/interactive.js';
import { verifyBundle } from '../../src/identity/bundle.js';
import { createDeviceList } from '../../src/identity/devicelist.js';
import type { DeviceId } from '../../src/identity/device.js';
import type { BareJid } from '../../src/identity/jid.js';
import { DEVICE_LIST_NODE, ITEM_ID, bundleNode } from '../../src/identity/pep.js';
import { type DeviceState, bundleOf, createDeviceState } from '../../src/identity/state.js';
import { MemoryStore, type StoreRecord } from '../../src/device/store.js';
import { dangerouslyEncodeSession, decodeSession } from '../../src/device/records.js';
import type { SealEvent } from '../../src/device/types.js';
import { CARBONS_NS, DELAY_NS, EmbeddedServer, FORWARD_NS, MAM_NS, SealClient, type XmppConnection, carbonsEnableIq, presence } from '../../src/net/index.js';
import { ed25519PublicKeyOf, generateEd25519KeyPair } from '../../src/suite/signature.js';
import { type Rng, seededRng } from '../../src/suite/rng.js';
import { SEAL_NS } from '../../src/suite/suite.js';
import { BundleElement } from '../../src/wire/bundle.js';
import { DeviceListElement } from '../../src/wire/devices.js';
import { InteractiveMessageElement, type InteractiveMessageValue } from '../../src/wire/handshake.js';
import { SealedElement } from '../../src/wire/sealed.js';
import { type Element, childElements, parseXml, xml } from '../../src/wire/xml.js';
import { ACCOUNT, type Account, type Action, DEVICES, type DeviceName, INITIAL_DEVICES, INITIAL_ONE_TIME_PREKEYS, INVENTED, type ListMode, type Observation, PEERS, type PeerName, type Via, WAIT_SECONDS } from './system.js';
import { type SessionShape, type TrustShape, ratchetShape } from './observe.js';

/** The time the runs start at (milliseconds). */
export const START_MS = Date.UTC(2026, 10, 26, 9, 0, 0);
/** The device id the server gives the device it invents (on its forged lists). */
export const INVENTED_DEVICE_ID = 4242;
export const JID: Readonly<Record<Account, BareJid>> = { alice: 'alice@example.org' as BareJid, bob: 'bob@example.net' as BareJid };
/** Another account of the same server: what forged wrappers come from. */
export const MALLORY = 'mallory@example.com';
const BUNDLE_PREFIX = bundleNode(1 as DeviceId).slice(0, -1);

/** How the application wraps SealClient: honestly, or with one of the mistakes issue 13 names. */
export type Shell = 'honest' | 'auto-accept-key-changes' | 'unwrap-forwarded';

/** A stanza captured on its way to a device. */
export interface Captured { readonly label: string; readonly via: Via; readonly stanza: Element }

/** Which stanza of an inbox or history an action takes, or which stanza a forged wrapper carries: the model resolves the action's index to it. */
export interface Pick { readonly label: string; readonly via?: Via }

/**
 * A device's connection as the client sees it: one object for the device's life, over a new
 * server session each time the device comes online. What the server delivers is captured, not
 * handed to the client.
 */
class Wire implements XmppConnection {
  readonly jid: string;
  readonly name: DeviceName;
  inbox: Captured[] = [];
  readonly history: Captured[] = [];
  /** Everything this device handed to the server. */
  readonly sent: Element[] = [];
  readonly #system: RealSystem;
  #session: XmppConnection | undefined;

  constructor(system: RealSystem, name: DeviceName, jid: string) {
    this.#system = system;
    this.name = name;
    this.jid = jid;
  }

  /** Whether the device has a server session. */
  get connected(): boolean {
    return this.#session !== undefined;
  }

  connect(): void {
    const session = this.#system.server.connect(this.jid);
    session.onStanza((stanza) => this.#capture(stanza));
    this.#session = session;
  }

  async disconnect(): Promise<void> {
    await this.#live().close();
    this.#session = undefined;
    this.inbox = [];
  }

  async send(stanza: Element): Promise<void> {
    this.#system.labelOutgoing(this, stanza);
    this.sent.push(stanza);
    await this.#live().send(stanza);
  }

  iq(request: Element): Promise<Element> {
    return this.#live().iq(request);
  }

  onStanza(): void {
    // The client's own handler is not used: the test hands stanzas to SealClient.receive.
  }

  async close(): Promise<void> {
    await this.disconnect();
  }

  #live(): XmppConnection {
    if (this.#session === undefined) throw new Error(`${this.jid} is offline`);
    return this.#session;
  }

  #capture(stanza: Element): void {
    // Messages, and the interactive handshake's steps (iq sets); the answers to iqs are not modelled.
    if (stanza.getName() !== 'message' && !(stanza.getName() === 'iq' && stanza.attrs.type === 'set')) return;
    const { inner, via } = unwrap(stanza);
    if (inner === undefined) return;
    const label = this.#system.labelOf(inner);
    // Presences and PEP notifications: nothing the model knows.
    if (label === undefined) return;
    if (via === 'archive') this.#system.noteQuery(stanza);
    this.inbox.push({ label, via, stanza });
  }
}

/** The message inside a carbon or archive result, and how it came. */
function unwrap(stanza: Element): { inner: Element | undefined; via: Via } {
  const sent = stanza.getChild('sent', CARBONS_NS);
  const received = stanza.getChild('received', CARBONS_NS);
  const result = stanza.getChild('result', MAM_NS);
  const wrapper = sent ?? received ?? result;
  if (wrapper !== undefined) return { inner: wrapper.getChild('forwarded', FORWARD_NS)?.getChild('message'), via: sent !== undefined ? 'sent' : received !== undefined ? 'received' : 'archive' };
  return { inner: stanza, via: stanza.getChild('delay', DELAY_NS) !== undefined ? 'offline' : 'direct' };
}

/** The Seal payload of a message (what labels are keyed by). */
function sealChild(message: Element): Element | undefined {
  return message.getChild('sealed', SEAL_NS) ?? message.getChild('interactive', SEAL_NS);
}

interface RealDevice {
  readonly name: DeviceName;
  readonly wire: Wire;
  client: SealClient;
  store: MemoryStore;
  backup: StoreRecord[];
  /** How many of the current client's events were observed. */
  seen: number;
}

/** The real system: the embedded server, its adversary, and one device engine (SealClient) per model device. */
export class RealSystem {
  readonly server: EmbeddedServer;
  readonly devices = new Map<DeviceName, RealDevice>();
  readonly listMode: Record<Account, ListMode> = { alice: 'honest', bob: 'honest' };
  /** Devices whose bundle the server replaces with the attacker's (same device id, the attacker's keys). */
  readonly forgedBundles = new Set<DeviceName>();
  /** The attacker's copies of compromised devices' sessions. */
  readonly stolen = new Map<DeviceName, Map<string, PeerSession>>();
  readonly shell: Shell;
  clock = START_MS;
  readonly #rng: Rng;
  /** Labels by the text of a stanza's Seal element; sealed stanzas by label (what forged wrappers carry). */
  readonly #labels = new Map<string, string>();
  readonly #stanzas = new Map<string, Element>();
  /** Identity and account keys by hex, by model name. */
  readonly #keys = new Map<string, string>();
  readonly #served = new Map<string, Set<number>>();
  readonly #invented: Record<Account, DeviceState>;
  readonly #evilAccount = generateEd25519KeyPair(seededRng('l0 attacker account key'));
  readonly #next: Record<string, number> = {};
  readonly #keyOnly: Record<string, number> = {};
  readonly #interactiveSent: Record<string, number> = {};
  /** Interactive handshakes by session id (hex of the wire sid), by model number. */
  readonly #handshakes = new Map<string, number>();
  readonly #queries = new Map<string, number>();
  #honestLists = false;
  #nextMessage = 0;
  #nextQuery = 0;
  #nextInteractive = 0;
  #pendingLabel: string | undefined;
  #pendingHandshake: number | undefined;
  #currentQuery = -1;

  private constructor(seed: string, shell: Shell) {
    this.shell = shell;
    this.server = new EmbeddedServer({ clock: () => this.clock, rng: seededRng(`server ${seed}`) });
    this.#rng = seededRng(`clients ${seed}`);
    for (const jid of [JID.alice, JID.bob, MALLORY]) this.server.createAccount(jid);
    this.server.adversary.rewritePepItem = (owner, node, item) => this.#rewrite(owner, node, item);
    this.#invented = {
      alice: { ...createDeviceState({ jid: JID.alice, now: this.now(), rng: seededRng('l0 invented alice'), oneTimePrekeys: 0 }), deviceId: INVENTED_DEVICE_ID as DeviceId },
      bob: { ...createDeviceState({ jid: JID.bob, now: this.now(), rng: seededRng('l0 invented bob'), oneTimePrekeys: 0 }), deviceId: INVENTED_DEVICE_ID as DeviceId },
    };
    for (const account of ['alice', 'bob'] as const) this.#keys.set(toHex(ed25519PublicKeyOf(this.#invented[account].signingKey)), `e${INVENTED[account]}`);
    this.#keys.set(toHex(this.#evilAccount.publicKey), 'evil');
  }

  /** The system after A1, B1 and B2 were created and came online (as the model's initial state). */
  static async create(seed: string, shell: Shell = 'honest'): Promise<RealSystem> {
    const system = new RealSystem(seed, shell);
    for (const name of INITIAL_DEVICES) await system.#create(name);
    for (const name of INITIAL_DEVICES) await system.#comeOnline(name);
    return system;
  }

  now(): number {
    return Math.floor(this.clock / 1000);
  }

  /** The model name of device `id` of `jid`. */
  nameOf(jid: string, id: number): PeerName | `unknown ${string}` {
    for (const [name, device] of this.devices) if (device.client.jid === jid && device.client.state.deviceId === id) return name;
    if (id === INVENTED_DEVICE_ID) return jid === JID.alice ? 'XA' : jid === JID.bob ? 'XB' : `unknown ${jid}/${id}`;
    return `unknown ${jid}/${id}`;
  }

  #keyName(hex: string): string {
    return this.#keys.get(hex) ?? `unknown key ${hex.slice(0, 8)}`;
  }

  #device(name: DeviceName): RealDevice {
    const device = this.devices.get(name);
    if (device === undefined) throw new Error(`real: no device ${name}`);
    return device;
  }

  #count(prefix: string): string {
    const n = this.#next[prefix] ?? 0;
    this.#next[prefix] = n + 1;
    return `${prefix}${n}`;
  }

  #interactiveLabel(hs: number, step: number): string {
    const base = `i${hs}.${step}`;
    const n = this.#interactiveSent[base] ?? 0;
    this.#interactiveSent[base] = n + 1;
    return n === 0 ? base : `${base}.${n}`;
  }

  #register(stanza: Element, label: string, from?: string): void {
    const child = sealChild(stanza)!;
    this.#labels.set(child.toString(), label);
    if (child.getName() === 'sealed' && !this.#stanzas.has(label)) {
      const copy = parseXml(stanza.toString());
      if (from !== undefined) copy.attrs.from = from;
      this.#stanzas.set(label, copy);
    }
  }

  /** Records the label of a stanza a device sends. @internal */
  labelOutgoing(wire: Wire, stanza: Element): void {
    const sealed = stanza.getChild('sealed', SEAL_NS);
    if (sealed !== undefined) {
      const value = SealedElement.fromXml(sealed);
      let label: string;
      if (value.payload !== undefined && this.#pendingLabel !== undefined) label = this.#pendingLabel;
      else if (value.payload === undefined && value.recipients.length === 1 && value.recipients[0]!.keys.length === 1) {
        const r = value.recipients[0]!;
        const pair = `${wire.name}>${this.nameOf(r.jid, r.keys[0]!.rid)}`;
        const n = this.#keyOnly[pair] ?? 0;
        this.#keyOnly[pair] = n + 1;
        label = `k${n}:${pair}`;
      } else label = `unexpected stanza from ${wire.name}`;
      this.#register(stanza, label, wire.jid);
      return;
    }
    const interactive = stanza.getChild('interactive', SEAL_NS);
    if (interactive !== undefined) {
      const value = InteractiveMessageElement.fromXml(interactive);
      const hs = value.step === 1 ? this.#pendingHandshake : this.#handshakes.get(value.sid);
      if (value.step === 1 && hs !== undefined) this.#handshakes.set(value.sid, hs);
      this.#register(stanza, hs === undefined ? `unexpected interactive ${value.sid}.${value.step}` : this.#interactiveLabel(hs, value.step));
    }
  }

  /** The label of a captured message, or `undefined` for a stanza without Seal content. @internal */
  labelOf(inner: Element): string | undefined {
    const child = sealChild(inner);
    if (child === undefined) return undefined;
    return this.#labels.get(child.toString()) ?? `unlabelled ${String(inner.attrs.id)}`;
  }

  /** Maps an archive query id to the query's model number. @internal */
  noteQuery(stanza: Element): void {
    const queryid = stanza.getChild('result', MAM_NS)?.attrs.queryid;
    if (typeof queryid === 'string' && !this.#queries.has(queryid)) this.#queries.set(queryid, this.#currentQuery);
  }

  /** The server's adversary: lying device lists, the attacker's bundles, and each one-time prekey handed out once. */
  #rewrite(owner: string, node: string, item: Element): Element | undefined {
    const payload = childElements(item)[0];
    if (payload === undefined) return undefined;
    if (node === DEVICE_LIST_NODE) {
      const account: Account = owner === JID.alice ? 'alice' : 'bob';
      const mode = this.#honestLists ? 'honest' : this.listMode[account];
      if (mode === 'honest') return undefined;
      if (mode === 'stale') return this.server.pepHistory(owner, DEVICE_LIST_NODE)[0];
      const list = DeviceListElement.fromXml(payload);
      const invented = { id: INVENTED_DEVICE_ID, added: list.issued, signingKey: ed25519PublicKeyOf(this.#invented[account].signingKey) };
      const devices = [...list.devices, invented];
      const forged = mode === 'forged' ? { ...list, devices } : createDeviceList(owner as BareJid, devices, list.issued, mode === 'resigned' ? { secretKey: this.#evilAccount.secretKey } : undefined);
      return xml('item', { id: ITEM_ID }, [DeviceListElement.toXml(forged)]);
    }
    if (node.startsWith(BUNDLE_PREFIX)) {
      const id = Number(node.slice(BUNDLE_PREFIX.length));
      const name = this.nameOf(owner, id);
      if ((DEVICES as readonly string[]).includes(name) && this.forgedBundles.has(name as DeviceName)) {
        const mallory = { ...createDeviceState({ jid: owner as BareJid, now: this.now(), rng: seededRng(`mallory ${owner} ${id}`), oneTimePrekeys: 0 }), deviceId: id as DeviceId };
        this.#keys.set(toHex(ed25519PublicKeyOf(mallory.signingKey)), `eb:${name}`);
        return xml('item', { id: ITEM_ID }, [BundleElement.toXml(bundleOf(mallory))]);
      }
      const key = `${owner}/${id}`;
      const served = this.#served.get(key) ?? new Set<number>();
      this.#served.set(key, served);
      const bundle = BundleElement.fromXml(payload);
      const pick = bundle.oneTimePrekeys.find((k) => !served.has(k.id));
      if (pick !== undefined) served.add(pick.id);
      return xml('item', { id: ITEM_ID }, [BundleElement.toXml({ ...bundle, oneTimePrekeys: pick === undefined ? [] : [pick] })]);
    }
    return undefined;
  }

  async #create(name: DeviceName): Promise<void> {
    const account = ACCOUNT[name];
    const wire = new Wire(this, name, `${JID[account]}/${name.toLowerCase()}`);
    wire.connect();
    this.#honestLists = true;
    try {
      const first = [...this.devices.values()].find((d) => ACCOUNT[d.name] === account);
      const accountSecret = first?.client.dangerouslyAccountSecret();
      const store = new MemoryStore();
      const client = await SealClient.create({ connection: wire, store, now: () => this.now(), rng: this.#rng, oneTimePrekeys: INITIAL_ONE_TIME_PREKEYS, ...(accountSecret === undefined ? {} : { accountSecret }) });
      this.#keys.set(toHex(ed25519PublicKeyOf(client.state.signingKey)), name);
      this.#keys.set(toHex(ed25519PublicKeyOf(client.dangerouslyAccountSecret()!)), account);
      this.devices.set(name, { name, wire, client, store, backup: store.snapshot(), seen: 0 });
    } finally {
      this.#honestLists = false;
    }
  }

  async #comeOnline(name: DeviceName): Promise<void> {
    const { wire } = this.#device(name);
    await wire.iq(carbonsEnableIq(`carbons-${name}`));
    await wire.send(presence());
    await this.server.network.flush();
  }

  /** Runs `action`; `pick` is the stanza the model resolved a deliver, duplicate, replay, drop or forged wrapper to. */
  async step(action: Action, pick: Pick | undefined): Promise<Observation> {
    for (const device of this.devices.values()) device.seen = device.client.events.length;
    let result: string;
    try {
      result = await this.#apply(action, pick);
      await this.server.network.flush();
      if (this.shell === 'auto-accept-key-changes') await this.#autoAccept();
    } finally {
      await this.server.network.flush();
    }
    const events: Partial<Record<DeviceName, string[]>> = {};
    for (const device of this.devices.values()) {
      const fresh = device.client.events.slice(device.seen).map((e) => this.#formatEvent(e));
      if (fresh.length > 0) events[device.name] = fresh.sort();
    }
    return { result, events };
  }

  /** The mutant shell: every key the engine asks about is accepted at once, without the user. */
  async #autoAccept(): Promise<void> {
    for (let round = 0; round < 4; round++) {
      let decided = false;
      for (const device of this.devices.values()) {
        for (const e of device.client.events.slice(device.seen)) {
          if (e.kind !== 'decision-needed' || e.deviceId === undefined || device.client.engine.trustOf(e.jid)?.pendingDevices[e.deviceId] !== e.key) continue;
          await device.client.decide(e.jid, { deviceId: e.deviceId }, e.key, 'undecided');
          decided = true;
        }
      }
      await this.server.network.flush();
      if (!decided) return;
    }
  }

  #formatEvent(e: SealEvent): string {
    const name = (a: { jid: string; deviceId: number } | undefined) => (a === undefined ? '?' : this.nameOf(a.jid, a.deviceId));
    switch (e.kind) {
      case 'opened':
        return `opened ${e.body} from ${name(e.from)} via ${e.via} (${e.trust})`;
      case 'duplicate':
        return `duplicate from ${name(e.from)} via ${e.via}`;
      case 'failed':
        return `failed ${e.code}`;
      case 'bounced':
        return 'bounced';
      case 'held':
        return `held ${e.reason} from ${name(e.from)}`;
      case 'decision-needed':
        return `decision-needed ${e.reason} ${e.deviceId === undefined ? (e.jid === JID.alice ? 'alice' : e.jid === JID.bob ? 'bob' : e.jid) : name({ jid: e.jid, deviceId: e.deviceId })}`;
      case 'key-changed':
        return `key-changed ${name(e)} by ${e.acceptedBy}`;
      case 'device-added':
      case 'device-removed':
      case 'device-stale':
        return `${e.kind} ${name(e)}`;
      case 'device-reannounced':
        return `${e.kind} ${e.deviceId}`;
      case 'device-list-withdrawn':
        return `${e.kind} ${e.jid === JID.alice ? 'alice' : e.jid === JID.bob ? 'bob' : e.jid}`;
      case 'session-started':
        return `session-started ${name(e.peer)} ${e.handshake} ${e.role}`;
      case 'interactive-failed':
        return `interactive-failed ${name(e.peer)} ${e.step} ${e.condition}`;
      case 'repair-sent':
        return `repair-sent ${name(e.peer)} ${e.reason}`;
      case 'repair-received':
        return `repair-received ${name(e.peer)}`;
      case 'restored':
        return `restored ${e.sessions}`;
      case 'room-config':
      case 'room-members':
      case 'reflected':
        return `${e.kind} ${e.room}`;
    }
  }

  async #apply(action: Action, pick: Pick | undefined): Promise<string> {
    switch (action.kind) {
      case 'wait':
        this.clock += WAIT_SECONDS * 1000;
        for (const name of DEVICES) {
          const device = this.devices.get(name);
          if (device !== undefined && this.#online(device)) await device.client.tick();
        }
        return 'done';
      case 'add-device':
        await this.#create('A2');
        await this.#comeOnline('A2');
        return 'done';
      case 'serve-list':
        this.listMode[action.account] = action.mode;
        return 'done';
      case 'serve-bundle':
        if (action.mode === 'forged') this.forgedBundles.add(action.device);
        else this.forgedBundles.delete(action.device);
        return 'done';
      case 'impostor':
      case 'corrupt':
        return this.#impostor(action.device, this.#device(action.target), action.kind === 'corrupt');
      case 'impostor-interactive':
        return this.#impostorInteractive(action.device, this.#device(action.target));
      case 'interactive':
      case 'mitm-interactive':
        return this.#startInteractive(this.#device(action.device), this.#device(action.target), action.kind === 'mitm-interactive');
      default:
    }
    const device = this.#device(action.device);
    const { wire } = device;
    switch (action.kind) {
      case 'send':
        return this.#send(device);
      case 'deliver':
      case 'duplicate':
      case 'drop':
      case 'replay': {
        const pool = action.kind === 'replay' ? wire.history : wire.inbox;
        const at = pool.findIndex((c) => c.label === pick?.label && c.via === pick.via);
        if (at < 0) throw new Error(`real: ${pick?.label}@${pick?.via} is not ${action.kind === 'replay' ? 'in the history of' : 'in flight to'} ${device.name}`);
        const item = pool[at]!;
        if (action.kind === 'deliver' || action.kind === 'drop') wire.inbox.splice(at, 1);
        if (action.kind !== 'drop') await this.#receive(device, item);
        return 'done';
      }
      case 'delay':
        // The real inboxes are unordered pools: the model's order only decides what an index picks.
        return 'done';
      case 'offline':
        await wire.disconnect();
        return 'done';
      case 'online':
        wire.connect();
        await this.#comeOnline(device.name);
        return 'done';
      case 'backup':
        device.backup = device.store.snapshot();
        return 'done';
      case 'restart':
      case 'restore': {
        // device.store: a new SealClient over the same store (or a copy of the backup); the old
        // connection is closed first.
        await device.client.idle();
        await wire.disconnect();
        if (action.kind === 'restore') device.store = new MemoryStore(device.backup);
        wire.connect();
        // The model's `restore` is a restore the device cannot detect (offline.restore: the server
        // serves the old copy's bundle, or no prekey changed since the copy), which repairs must
        // still heal; so the restarted client does not fetch its own bundle (a fetch the model's
        // server, which hands each one-time prekey out once, does not make either).
        device.client = await SealClient.create({ connection: wire, store: device.store, now: () => this.now(), rng: this.#rng, checkRestore: false });
        device.seen = 0;
        await this.#comeOnline(device.name);
        return 'done';
      }
      case 'compromise':
        // A memory capture copies the bytes of the sessions: the device goes on and zeroes the
        // keys it deletes (envelope.wipe), which must not change what the attacker copied.
        this.stolen.set(device.name, new Map([...device.client.sessions].map(([k, session]) => [k, decodeSession(dangerouslyEncodeSession(session))])));
        return 'done';
      case 'forge':
        return this.#forge(device, this.#device(action.target));
      case 'fetch-archive':
        this.#currentQuery = this.#nextQuery++;
        await device.client.fetchArchive();
        await this.server.network.flush();
        return 'done';
      case 'bounce': {
        const label = this.#count('b');
        const peer = JID[ACCOUNT[device.name] === 'alice' ? 'bob' : 'alice'];
        const id = String(wire.sent.filter((s) => s.getChild('sealed', SEAL_NS) !== undefined).at(-1)?.attrs.id ?? label);
        wire.inbox.push({ label, via: 'injected', stanza: xml('message', { from: peer, to: wire.jid, type: 'error', id }, [xml('error', { type: 'cancel' }, [xml('service-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })])]) });
        return 'done';
      }
      case 'forge-carbon':
      case 'forge-archive': {
        const inner = this.#stanzas.get(pick?.label ?? '');
        if (inner === undefined) throw new Error(`real: no sealed stanza ${pick?.label} to wrap`);
        const label = this.#count(action.kind === 'forge-carbon' ? 'fc' : 'fa');
        const copy = parseXml(inner.toString());
        const wrapper = action.kind === 'forge-carbon'
          ? xml('received', { xmlns: CARBONS_NS }, [xml('forwarded', { xmlns: FORWARD_NS }, [copy])])
          : xml('result', { xmlns: MAM_NS, queryid: `q-${label}`, id: label }, [xml('forwarded', { xmlns: FORWARD_NS }, [copy])]);
        wire.inbox.push({ label, via: 'injected', stanza: xml('message', { from: `${MALLORY}/m`, to: wire.jid, type: 'chat' }, [wrapper]) });
        return 'done';
      }
    }
  }

  #online(device: RealDevice): boolean {
    return device.wire.connected;
  }

  async #send(device: RealDevice): Promise<string> {
    const label = `m${this.#nextMessage++}`;
    this.#pendingLabel = label;
    const before = device.wire.sent.length;
    try {
      await device.client.send(JID[ACCOUNT[device.name] === 'alice' ? 'bob' : 'alice'], label);
    } catch (e) {
      if (isSealError(e)) return `send-failed ${e.code}`;
      throw e;
    } finally {
      this.#pendingLabel = undefined;
    }
    const stanza = device.wire.sent.slice(before).find((s) => s.getChild('sealed', SEAL_NS)?.getChild('payload', SEAL_NS) !== undefined);
    if (stanza === undefined) throw new Error('real: send sent no message');
    const sealed = SealedElement.fromXml(stanza.getChild('sealed', SEAL_NS)!);
    const recipients = sealed.recipients.flatMap((r) => r.keys.map((k) => this.nameOf(r.jid, k.rid)));
    return `sent ${label} to ${recipients.sort().join(',')}`;
  }

  async #forge(device: RealDevice, target: RealDevice): Promise<string> {
    const label = this.#count('f');
    const out = sealStanza({
      to: target.client.jid,
      from: device.wire.jid,
      senderDeviceId: device.client.state.deviceId,
      content: [xml('body', {}, [label])],
      recipients: [{ jid: target.client.jid, deviceId: target.client.state.deviceId }],
      sessions: this.stolen.get(device.name)!,
      rng: this.#rng,
      now: this.now(),
    });
    this.stolen.set(device.name, out.sessions);
    this.#register(out.stanza, label);
    target.wire.inbox.push({ label, via: 'injected', stanza: out.stanza });
    return 'done';
  }

  /** A device claiming id `p`: the invented device, or one with a fresh identity key registered as `e<n>`. */
  #impostorDevice(p: PeerName, register: boolean): { state: DeviceState; from: string } {
    const account = ACCOUNT[p];
    if (p === 'XA' || p === 'XB') return { state: this.#invented[account], from: `${JID[account]}/${p.toLowerCase()}` };
    const real = this.#device(p);
    const state = { ...createDeviceState({ jid: JID[account], now: this.now(), rng: this.#rng, oneTimePrekeys: 0 }), deviceId: real.client.state.deviceId };
    if (register) this.#keys.set(toHex(ed25519PublicKeyOf(state.signingKey)), this.#count('e'));
    return { state, from: real.wire.jid };
  }

  /**
   * The server's first message from device id `p` under a fresh identity key (a handshake from
   * the target's published bundle, without a one-time prekey); or, `corrupt`, a stanza naming
   * `p` that cannot authenticate (no header, a ratchet key the target never saw).
   */
  async #impostor(p: PeerName, target: RealDevice, corrupt: boolean): Promise<string> {
    const label = this.#count(corrupt ? 'c' : 'x');
    const impostor = this.#impostorDevice(p, !corrupt);
    const self = target.client.state;
    const item = this.server.pepItems(target.client.jid, bundleNode(self.deviceId))[0]!;
    const published = BundleElement.fromXml(childElements(item)[0]!);
    const bundle = verifyBundle({ ...published, oneTimePrekeys: [] }, { jid: target.client.jid, deviceId: self.deviceId, now: this.now() });
    const started = initiateAsync({ self: impostor.state, peer: bundle, rng: this.#rng });
    const session: PeerSession = { ratchet: startRatchet(started.session, this.#rng), confirmation: corrupt ? { state: 'confirmed' } : { state: 'unconfirmed', header: started.header } };
    const out = sealStanza({
      to: target.client.jid,
      from: impostor.from,
      id: label,
      senderDeviceId: impostor.state.deviceId,
      content: [xml('body', {}, [label])],
      recipients: [{ jid: target.client.jid, deviceId: self.deviceId }],
      sessions: new Map([[sessionKey(target.client.jid, self.deviceId), session]]),
      rng: this.#rng,
      now: this.now(),
    });
    this.#register(out.stanza, label, impostor.from);
    target.wire.inbox.push({ label, via: 'injected', stanza: out.stanza });
    return 'done';
  }

  #interactiveStanza(from: string, to: string, message: InteractiveMessageValue): Element {
    return xml('iq', { from, to, type: 'set', id: `seal-i-${message.sid}-${message.step}` }, [InteractiveMessageElement.toXml(message)]);
  }

  /** The server starts an interactive handshake with `target` as device `p` under a fresh key, and completes it if the target answers. */
  async #impostorInteractive(p: PeerName, target: RealDevice): Promise<string> {
    const hs = this.#nextInteractive++;
    const impostor = this.#impostorDevice(p, true);
    const started = startInteractive({ self: impostor.state, peer: { jid: target.client.jid, deviceId: target.client.state.deviceId }, rng: this.#rng, now: this.now() });
    this.#handshakes.set(started.message.sid, hs);
    const msg1 = this.#interactiveStanza(impostor.from, target.wire.jid, started.message);
    const label1 = this.#interactiveLabel(hs, 1);
    this.#register(msg1, label1);
    const before = target.wire.sent.length;
    await this.#receive(target, { label: label1, via: 'injected', stanza: msg1 });
    const answer = target.wire.sent.slice(before).map((s) => s.getChild('interactive', SEAL_NS)).find((c) => c !== undefined && InteractiveMessageElement.fromXml(c).sid === started.message.sid);
    if (answer === undefined) return 'done';
    const done = completeInitiator({ state: started.state, message: InteractiveMessageElement.fromXml(answer), now: this.now() });
    const msg3 = this.#interactiveStanza(impostor.from, target.wire.jid, done.message);
    const label3 = this.#interactiveLabel(hs, 3);
    this.#register(msg3, label3);
    await this.#receive(target, { label: label3, via: 'injected', stanza: msg3 });
    return 'done';
  }

  /** `device` starts an interactive handshake with `target`; with `mitm`, the attacker takes message 1 and answers as the target under a fresh key. */
  async #startInteractive(device: RealDevice, target: RealDevice, mitm: boolean): Promise<string> {
    const hs = this.#nextInteractive++;
    this.#pendingHandshake = hs;
    try {
      await device.client.startInteractive(target.wire.jid, target.client.state.deviceId);
    } catch (e) {
      if (isSealError(e)) return `start-failed ${e.code}`;
      throw e;
    } finally {
      this.#pendingHandshake = undefined;
    }
    await this.server.network.flush();
    if (!mitm) return 'done';
    const label1 = `i${hs}.1`;
    const at = target.wire.inbox.findIndex((c) => c.label === label1 && c.via === 'direct');
    if (at < 0) throw new Error(`real: ${label1} did not reach ${target.name}`);
    const msg1 = target.wire.inbox.splice(at, 1)[0]!.stanza;
    const value = InteractiveMessageElement.fromXml(msg1.getChild('interactive', SEAL_NS)!);
    const impostor = this.#impostorDevice(target.name, true);
    const accepted = acceptInteractive({ self: impostor.state, peer: { jid: device.client.jid, deviceId: device.client.state.deviceId }, message: value, rng: this.#rng, now: this.now() });
    const msg2 = this.#interactiveStanza(target.wire.jid, device.wire.jid, accepted.message);
    const label2 = this.#interactiveLabel(hs, 2);
    this.#register(msg2, label2);
    await this.#receive(device, { label: label2, via: 'injected', stanza: msg2 });
    return 'done';
  }

  /** Hands a stanza to the device as its shell does (the mutant shells unwrap forwarded stanzas themselves). */
  async #receive(device: RealDevice, item: Captured): Promise<void> {
    device.wire.history.push(item);
    let stanza = item.stanza;
    if (this.shell === 'unwrap-forwarded') {
      const wrapper = childElements(stanza).find((c) => (c.getName() === 'sent' || c.getName() === 'received') && c.getNS() === CARBONS_NS) ?? stanza.getChild('result', MAM_NS);
      const inner = wrapper?.getChild('forwarded', FORWARD_NS)?.getChild('message');
      if (inner !== undefined) stanza = inner;
    }
    await device.client.receive(stanza);
  }

  /** Per device, the stanzas in flight to it, as sorted `label@via`. */
  inboxes(): Partial<Record<DeviceName, string[]>> {
    const out: Partial<Record<DeviceName, string[]>> = {};
    for (const name of DEVICES) {
      const device = this.devices.get(name);
      if (device !== undefined) out[name] = device.wire.inbox.map((c) => `${c.label}@${c.via}`).sort();
    }
    return out;
  }

  #peerOf(key: string): PeerName | `unknown ${string}` {
    const at = key.lastIndexOf('/');
    return this.nameOf(key.slice(0, at), Number(key.slice(at + 1)));
  }

  /** Per pair `device>peer` with a session: the key it is bound to, its confirmation state, and per ratchet its session id, counters and skipped keys. */
  sessionShapes(): Record<string, SessionShape> {
    const out: Record<string, SessionShape> = {};
    const shape = (r: RatchetState) => ratchetShape(toHex(r.sessionId), r.sendCount, r.receiveCount, r.previousCount, r.skipped.length);
    for (const name of DEVICES) {
      const device = this.devices.get(name);
      if (device === undefined) continue;
      const entries = [...device.client.engine.state.peers].map(([key, peer]) => [`${name}>${this.#peerOf(key)}`, peer] as const);
      const order = (k: string) => PEERS.indexOf(k.split('>')[1] as PeerName);
      for (const [pair, peer] of entries.sort((a, b) => order(a[0]) - order(b[0]))) {
        out[pair] = { key: this.#keyName(peer.signingKey), state: peer.session.confirmation.state, active: shape(peer.session.ratchet), alternate: peer.session.alternate === undefined ? undefined : shape(peer.session.alternate) };
      }
    }
    return out;
  }

  /** Per device, its trust records: pins and keys waiting for the user, accepted account keys and lists, held stanzas. */
  trustShapes(): Partial<Record<DeviceName, TrustShape>> {
    const out: Partial<Record<DeviceName, TrustShape>> = {};
    for (const name of DEVICES) {
      const device = this.devices.get(name);
      if (device === undefined) continue;
      const state = device.client.engine.state;
      const pins: string[] = [];
      const accounts: string[] = [];
      for (const account of ['alice', 'bob'] as const) {
        const record = state.accounts.get(JID[account]);
        if (record === undefined) continue;
        const named = new Map<PeerName | string, string>();
        for (const [id, pinned] of Object.entries(record.trust.devices)) named.set(this.nameOf(JID[account], Number(id)), `${this.#keyName(pinned.key)}${pinned.level === 'undecided' ? '' : `(${pinned.level})`}`);
        const pending = new Map<PeerName | string, string>();
        for (const [id, key] of Object.entries(record.pendingDevices)) pending.set(this.nameOf(JID[account], Number(id)), this.#keyName(key));
        for (const p of [...PEERS, ...[...named.keys(), ...pending.keys()].filter((k) => !(PEERS as readonly string[]).includes(k))]) {
          if (named.has(p)) pins.push(`${p}=${named.get(p)}`);
          if (pending.has(p)) pins.push(`${p}?${pending.get(p)}`);
        }
        const accountKey = record.trust.accountKey;
        if (accountKey === undefined && record.list === undefined && record.pendingAccount === undefined) continue;
        const listed = record.list === undefined ? '-' : record.list.devices.map((d) => this.nameOf(JID[account], d.id)).sort((a, b) => PEERS.indexOf(a as PeerName) - PEERS.indexOf(b as PeerName)).join(',');
        const pendingAccount = record.pendingAccount === undefined ? '' : ` pending=${record.pendingAccount.key === '' ? 'unsigned' : this.#keyName(record.pendingAccount.key)}`;
        accounts.push(`${account}: key=${accountKey === undefined ? '-' : `${this.#keyName(accountKey.key)}(${accountKey.level})`} list=${listed}${pendingAccount}`);
      }
      const held = [...state.held.values()].map((h) => `${this.labelOf(parseXml(h.stanza)) ?? '?'} from ${this.nameOf(h.from.jid, h.from.deviceId)}: ${h.reason}`);
      out[name] = { pins: pins.join(' '), accounts: accounts.join('; '), held };
    }
    return out;
  }

  /** The id (hex) of `device`'s session with `peer` in `slot`, if any. */
  sessionId(device: DeviceName, peer: PeerName, slot: 'active' | 'alternate'): string | undefined {
    const self = this.devices.get(device);
    if (self === undefined) return undefined;
    for (const [key, record] of self.client.engine.state.peers) {
      if (this.#peerOf(key) !== peer) continue;
      const r = slot === 'active' ? record.session.ratchet : record.session.alternate;
      return r === undefined ? undefined : toHex(r.sessionId);
    }
    return undefined;
  }

  /** The client and inbox of a model device (for scenario tests). */
  device(name: DeviceName): { client: SealClient; inbox: readonly Captured[]; store: MemoryStore } {
    const device = this.#device(name);
    return { client: device.client, inbox: device.wire.inbox, store: device.store };
  }
}
