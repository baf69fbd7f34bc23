/**
 * The real system the L0 system model is compared with: SealClient instances (src/net/client.ts)
 * for the devices of model/l0/system.ts, on the embedded server of src/net, driven by the same
 * actions and observed the same way.
 *
 * The adversarial network sits between the server and each client: every stanza the server
 * delivers to a device is captured in that device's inbox, labelled (`m3` a message, `f1` a
 * forgery, `r0:B1>A1:no-session` a repair signal) and classified by how it came (`direct`,
 * `offline`, `carbon`, `archive`, `injected`); `deliver`, `duplicate`, `replay` and `drop` then
 * hand it to `SealClient.receive` or discard it. The server's adversary hook serves stale or
 * forged device lists on request, and hands out each one-time prekey once (one per bundle
 * served), which removes the only random choice of the handshake from what the model must predict;
 * and on request it serves, for a device, the attacker's bundle under that device's id.
 *
 * Device lists are signed by an account key, which the test holds as the user would: after a
 * client adds its device to the list, the list is re-signed one second later.
 *
 * @see spec §offline
 * @module
 */
import { openStanza, sealStanza, sessionKey, type PeerSession } from '../../src/envelope/envelope.js';
import type { RatchetState } from '../../src/envelope/ratchet.js';
import { isSealError } from '../../src/errors.js';
import { toHex } from '../../src/codec/bytes.js';
import type { HandshakeLog } from '../../src/handshake/async.js';
import { createDeviceList } from '../../src/identity/devicelist.js';
import type { DeviceId } from '../../src/identity/device.js';
import type { BareJid } from '../../src/identity/jid.js';
import { DEVICE_LIST_NODE, ITEM_ID, bundleNode, publishOptions } from '../../src/identity/pep.js';
import { type DeviceState, bundleOf, createDeviceState } from '../../src/identity/state.js';
import { CARBONS_NS, DELAY_NS, EmbeddedServer, FORWARD_NS, MAM_NS, SealClient, type XmppConnection, carbonsEnableIq, presence } from '../../src/net/index.js';
import { type Ed25519KeyPair, generateEd25519KeyPair } from '../../src/suite/signature.js';
import { type Rng, seededRng } from '../../src/suite/rng.js';
import { SEAL_NS } from '../../src/suite/suite.js';
import { BundleElement } from '../../src/wire/bundle.js';
import { DeviceListElement } from '../../src/wire/devices.js';
import { publishIq } from '../../src/wire/pep.js';
import { RepairElement } from '../../src/wire/repair.js';
import { SealedElement } from '../../src/wire/sealed.js';
import { type Element, childElements, xml } from '../../src/wire/xml.js';
import { ACCOUNT, type Account, type Action, DEVICES, type DeviceName, INITIAL_DEVICES, INITIAL_ONE_TIME_PREKEYS, type ListMode, type Observation, type Via, WAIT_SECONDS } from './system.js';
import { type SessionShape, ratchetShape } from './observe.js';

/** The time the runs start at (milliseconds). */
export const START_MS = Date.UTC(2026, 10, 26, 9, 0, 0);
/** The device id of the attacker's device in forged lists. */
export const ATTACKER_DEVICE_ID = 4242;
/** The identity signing key the forged lists name for the attacker's device. */
const ATTACKER_SIGNING_KEY = generateEd25519KeyPair(seededRng('l0 attacker device')).publicKey;

export const JID: Readonly<Record<Account, BareJid>> = { alice: 'alice@example.org' as BareJid, bob: 'bob@example.net' as BareJid };
const BUNDLE_PREFIX = bundleNode(1 as DeviceId).slice(0, -1);

/** A stanza captured on its way to a device. */
export interface Captured { readonly label: string; readonly via: Via; readonly stanza: Element }

/** Which stanza of an inbox or history an action takes: the model resolves the action's index to it. */
export interface Pick { readonly label: string; readonly via: Via }

interface Snapshot { state: DeviceState; log: HandshakeLog; sessions: Map<string, PeerSession> }
const snapshot = (c: SealClient): Snapshot => ({ state: c.state, log: c.log, sessions: new Map(c.sessions) });

/** The message inside a carbon or archive result, and how it came. */
function unwrap(stanza: Element): { inner: Element | undefined; via: Via } {
  const carbon = stanza.getChild('sent', CARBONS_NS) ?? stanza.getChild('received', CARBONS_NS);
  const result = stanza.getChild('result', MAM_NS);
  const wrapper = carbon ?? result;
  if (wrapper !== undefined) return { inner: wrapper.getChild('forwarded', FORWARD_NS)?.getChild('message'), via: carbon !== undefined ? 'carbon' : 'archive' };
  return { inner: stanza, via: stanza.getChild('delay', DELAY_NS) !== undefined ? 'offline' : 'direct' };
}

/**
 * A device's connection as the client sees it: one object for the device's life, over a new
 * server session each time the device comes online. What the server delivers is captured, not
 * handed to the client.
 */
class Wire implements XmppConnection {
  readonly jid: string;
  inbox: Captured[] = [];
  readonly history: Captured[] = [];
  readonly #system: RealSystem;
  #session: XmppConnection | undefined;

  constructor(system: RealSystem, jid: string) {
    this.#system = system;
    this.jid = jid;
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
    this.#system.labelOutgoing(this.jid, stanza);
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
    if (stanza.getName() !== 'message') return;
    const { inner, via } = unwrap(stanza);
    // Presences and PEP notifications: SealClient ignores them.
    if (inner === undefined || (inner.getChild('sealed', SEAL_NS) === undefined && inner.getChild('repair', SEAL_NS) === undefined)) return;
    this.inbox.push({ label: this.#system.labelOf(inner), via, stanza });
  }
}

interface RealDevice { readonly name: DeviceName; readonly wire: Wire; readonly client: SealClient; backup: Snapshot }

/** The real system: the embedded server, its adversary, and one SealClient per model device. */
export class RealSystem {
  readonly server: EmbeddedServer;
  readonly devices = new Map<DeviceName, RealDevice>();
  readonly listMode: Record<Account, ListMode> = { alice: 'honest', bob: 'honest' };
  /** Devices whose bundle the server replaces with the attacker's (same device id, the attacker's keys). */
  readonly forgedBundles = new Set<DeviceName>();
  /** The attacker's copies of compromised devices' sessions. */
  readonly stolen = new Map<DeviceName, Map<string, PeerSession>>();
  clock = START_MS;
  readonly #rng: Rng;
  readonly #accountKeys: Record<Account, Ed25519KeyPair>;
  readonly #labels = new Map<string, string>();
  readonly #served = new Map<string, Set<number>>();
  #honestLists = false;
  #nextMessage = 0;
  #nextForgery = 0;
  #nextRepair = 0;
  #pendingLabel: string | undefined;
  #lastSealed: Element | undefined;

  private constructor(seed: string) {
    this.server = new EmbeddedServer({ clock: () => this.clock, rng: seededRng(`server ${seed}`) });
    this.#rng = seededRng(`clients ${seed}`);
    this.#accountKeys = { alice: generateEd25519KeyPair(seededRng(`alice account ${seed}`)), bob: generateEd25519KeyPair(seededRng(`bob account ${seed}`)) };
    for (const account of ['alice', 'bob'] as const) this.server.createAccount(JID[account]);
    this.server.adversary.rewritePepItem = (owner, node, item) => this.#rewrite(owner, node, item);
  }

  /** The system after A1, B1 and B2 were created and came online (as the model's initial state). */
  static async create(seed: string): Promise<RealSystem> {
    const system = new RealSystem(seed);
    for (const name of INITIAL_DEVICES) await system.#create(name);
    for (const name of INITIAL_DEVICES) await system.#comeOnline(name);
    return system;
  }

  now(): number {
    return Math.floor(this.clock / 1000);
  }

  /** The model name of device `id` of `jid`; `X` for a device the model does not know (the attacker's). */
  nameOf(jid: string, id: number): DeviceName | 'X' {
    for (const [name, device] of this.devices) if (device.client.jid === jid && device.client.state.deviceId === id) return name;
    return 'X';
  }

  #device(name: DeviceName): RealDevice {
    const device = this.devices.get(name);
    if (device === undefined) throw new Error(`real: no device ${name}`);
    return device;
  }

  /** Records the label of a stanza a device sends. @internal */
  labelOutgoing(fullJid: string, stanza: Element): void {
    const id = String(stanza.attrs.id ?? '');
    if (stanza.getChild('sealed', SEAL_NS) !== undefined) {
      this.#labels.set(id, this.#pendingLabel ?? `unexpected message ${id}`);
      this.#lastSealed = stanza;
    }
    const repair = stanza.getChild('repair', SEAL_NS);
    if (repair !== undefined) {
      const signal = RepairElement.fromXml(repair);
      const from = this.nameOf(fullJid.slice(0, fullJid.indexOf('/')), signal.device);
      this.#labels.set(id, `r${this.#nextRepair++}:${from}>${this.nameOf(String(stanza.attrs.to), signal.sender)}:${signal.reason}`);
    }
  }

  /** The label of a captured message. @internal */
  labelOf(inner: Element): string {
    return this.#labels.get(String(inner.attrs.id ?? '')) ?? `unlabelled ${String(inner.attrs.id)}`;
  }

  /** The server's adversary: stale or forged device lists, and each one-time prekey handed out once. */
  #rewrite(owner: string, node: string, item: Element): Element | undefined {
    const payload = childElements(item)[0];
    if (payload === undefined) return undefined;
    if (node === DEVICE_LIST_NODE) {
      const mode = this.#honestLists ? 'honest' : this.listMode[owner === JID.alice ? 'alice' : 'bob'];
      if (mode === 'stale') return this.server.pepHistory(owner, DEVICE_LIST_NODE).find((old) => DeviceListElement.fromXml(childElements(old)[0]!).account !== undefined);
      if (mode === 'forged') {
        const list = DeviceListElement.fromXml(payload);
        const forged = { ...list, devices: [...list.devices, { id: ATTACKER_DEVICE_ID, added: list.issued, signingKey: ATTACKER_SIGNING_KEY }] };
        return xml('item', { id: ITEM_ID }, [DeviceListElement.toXml(forged)]);
      }
      return undefined;
    }
    if (node.startsWith(BUNDLE_PREFIX)) {
      const id = Number(node.slice(BUNDLE_PREFIX.length));
      const name = this.nameOf(owner, id);
      if (name !== 'X' && this.forgedBundles.has(name)) {
        const mallory = { ...createDeviceState({ jid: owner as BareJid, now: this.now(), rng: seededRng(`mallory ${owner} ${id}`), oneTimePrekeys: 0 }), deviceId: id as DeviceId };
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
    const wire = new Wire(this, `${JID[account]}/${name.toLowerCase()}`);
    wire.connect();
    this.#honestLists = true;
    try {
      const client = await SealClient.create({ connection: wire, now: () => this.now(), rng: this.#rng, oneTimePrekeys: INITIAL_ONE_TIME_PREKEYS });
      const current = DeviceListElement.fromXml(childElements(this.server.pepItems(JID[account], DEVICE_LIST_NODE)[0]!)[0]!);
      // @req identity.account-signature: the account key holder re-signs the list with a later issued time.
      const signed = createDeviceList(JID[account], current.devices, current.issued + 1, { secretKey: this.#accountKeys[account].secretKey });
      await wire.iq(publishIq(`resign-${name}`, DEVICE_LIST_NODE, ITEM_ID, DeviceListElement.toXml(signed), publishOptions()));
      this.devices.set(name, { name, wire, client, backup: snapshot(client) });
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

  /** Runs `action`; `pick` is the stanza the model resolved a deliver, duplicate, replay or drop to. */
  async step(action: Action, pick: Pick | undefined): Promise<Observation> {
    try {
      return await this.#apply(action, pick);
    } finally {
      await this.server.network.flush();
    }
  }

  async #apply(action: Action, pick: Pick | undefined): Promise<Observation> {
    switch (action.kind) {
      case 'wait':
        this.clock += WAIT_SECONDS * 1000;
        return { kind: 'done' };
      case 'add-device':
        await this.#create('A2');
        await this.#comeOnline('A2');
        return { kind: 'done' };
      case 'serve-list':
        this.listMode[action.account] = action.mode;
        return { kind: 'done' };
      case 'serve-bundle':
        if (action.mode === 'forged') this.forgedBundles.add(action.device);
        else this.forgedBundles.delete(action.device);
        return { kind: 'done' };
      default:
    }
    const device = this.#device(action.device);
    const { wire, client } = device;
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
        return action.kind === 'drop' ? { kind: 'done' } : this.#receive(device, item);
      }
      case 'delay':
        // The real inboxes are unordered pools: the model's order only decides what an index picks.
        return { kind: 'done' };
      case 'offline':
        await wire.disconnect();
        return { kind: 'done' };
      case 'online':
        wire.connect();
        await this.#comeOnline(device.name);
        return { kind: 'done' };
      case 'backup':
        device.backup = snapshot(client);
        return { kind: 'done' };
      case 'restore':
        client.state = device.backup.state;
        client.log = device.backup.log;
        client.sessions = new Map(device.backup.sessions);
        return { kind: 'done' };
      case 'compromise':
        this.stolen.set(device.name, new Map(client.sessions));
        return { kind: 'done' };
      case 'forge':
        return this.#forge(device, this.#device(action.target));
      case 'fetch-archive':
        await client.fetchArchive();
        return { kind: 'done' };
    }
  }

  async #send(device: RealDevice): Promise<Observation> {
    const label = `m${this.#nextMessage++}`;
    this.#pendingLabel = label;
    this.#lastSealed = undefined;
    try {
      await device.client.send(JID[ACCOUNT[device.name] === 'alice' ? 'bob' : 'alice'], label);
    } catch (e) {
      if (isSealError(e)) return { kind: 'send-failed', code: e.code };
      throw e;
    } finally {
      this.#pendingLabel = undefined;
    }
    const sealed = SealedElement.fromXml(this.#lastSealed!.getChild('sealed', SEAL_NS)!);
    const recipients = sealed.recipients.flatMap((r) => r.keys.map((k) => this.nameOf(r.jid, k.rid)));
    return { kind: 'sent', label, recipients: recipients.sort() as DeviceName[] };
  }

  async #forge(device: RealDevice, target: RealDevice): Promise<Observation> {
    const label = `f${this.#nextForgery++}`;
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
    target.wire.inbox.push({ label, via: 'injected', stanza: out.stanza });
    return { kind: 'forged', label };
  }

  /** Hands a stanza to SealClient.receive and observes the result (the error code read with openStanza on the client's state, which receive computes too). */
  async #receive(device: RealDevice, item: Captured): Promise<Observation> {
    const { client, wire } = device;
    wire.history.push(item);
    const inner = unwrap(item.stanza).inner!;
    const repair = inner.getChild('repair', SEAL_NS);
    if (repair !== undefined) {
      const signal = RepairElement.fromXml(repair);
      const key = sessionKey(String(inner.attrs.from ?? '').split('/')[0]!, signal.device);
      const before = client.sessions.get(key);
      try {
        await client.receive(item.stanza);
      } catch (e) {
        if (isSealError(e)) return { kind: 'receive-failed', code: e.code };
        throw e;
      }
      const after = client.sessions.get(key);
      return { kind: 'repair', reset: after !== undefined && after !== before };
    }
    const expected = openStanza({ stanza: inner, self: client.state, log: client.log, sessions: client.sessions, now: this.now() });
    const outcome = await client.receive(item.stanza);
    if (outcome !== expected.kind) throw new Error(`real: SealClient.receive gave ${outcome}, openStanza on its state ${expected.kind}`);
    switch (expected.kind) {
      case 'ok': {
        const body = expected.content.find((c) => c.getName() === 'body')?.getText() ?? '';
        if (client.received.at(-1)?.body !== body) throw new Error('real: the opened message was not recorded');
        return { kind: 'opened', body, from: this.nameOf(expected.sender.jid, expected.sender.deviceId) as DeviceName };
      }
      case 'duplicate':
        return { kind: 'duplicate' };
      case 'not-for-this-device':
        return { kind: 'not-for-this-device' };
      case 'error':
        return { kind: 'error', code: expected.error.code };
    }
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

  /** Per pair `device>peer` with a session: confirmation state, and per ratchet its session id, counters and skipped keys. */
  sessionShapes(): Record<string, SessionShape> {
    const out: Record<string, SessionShape> = {};
    for (const name of DEVICES) {
      const device = this.devices.get(name);
      if (device === undefined) continue;
      for (const [key, session] of device.client.sessions) {
        const at = key.lastIndexOf('/');
        const shape = (r: RatchetState) => ratchetShape(toHex(r.sessionId), r.sendCount, r.receiveCount, r.previousCount, r.skipped.length);
        out[`${name}>${this.nameOf(key.slice(0, at), Number(key.slice(at + 1)))}`] = {
          state: session.confirmation.state,
          active: shape(session.ratchet),
          alternate: session.alternate === undefined ? undefined : shape(session.alternate),
        };
      }
    }
    return out;
  }

  /** The device ids (random), by model name. */
  deviceIds(): Partial<Record<DeviceName, number>> {
    const out: Partial<Record<DeviceName, number>> = {};
    for (const [name, device] of this.devices) out[name] = device.client.state.deviceId;
    return out;
  }

  /** The id (hex) of `device`'s active session with `peer`, if any. */
  activeSessionId(device: DeviceName, peer: DeviceName): string | undefined {
    const self = this.devices.get(device);
    const other = this.devices.get(peer);
    if (self === undefined || other === undefined) return undefined;
    const session = self.client.sessions.get(sessionKey(other.client.jid, other.client.state.deviceId));
    return session === undefined ? undefined : toHex(session.ratchet.sessionId);
  }

  /** The device and client of a model device (for scenario tests). */
  device(name: DeviceName): { client: SealClient; inbox: readonly Captured[] } {
    const device = this.#device(name);
    return { client: device.client, inbox: device.wire.inbox };
  }

  /** The last sealed stanza a device sent. */
  lastSealed(): Element | undefined {
    return this.#lastSealed;
  }
}
