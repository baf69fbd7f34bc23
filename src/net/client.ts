/**
 * A Seal device over an XMPP connection: it publishes its bundle and device list through PEP,
 * establishes sessions with every device of a contact and its own other devices, seals and opens
 * messages (from live delivery, offline storage, carbons and the archive alike), answers failures
 * with repair signals, and heals sessions on request. This is the glue a client developer writes;
 * the protocol itself lives in the layers below.
 *
 * @see spec §offline
 * @module
 */
import { SealError, isSealError } from '../errors.js';
import { toHex } from '../codec/bytes.js';
import type { Rng } from '../suite/rng.js';
import { ed25519PublicKeyOf } from '../suite/signature.js';
import { SEAL_NS } from '../suite/suite.js';
import { verifyBundle } from '../identity/bundle.js';
import { type VerifiedDeviceList, addDevice, verifyDeviceList } from '../identity/devicelist.js';
import { type DeviceId, deviceId as toDeviceId } from '../identity/device.js';
import { bareJid, type BareJid } from '../identity/jid.js';
import { DEVICE_LIST_NODE, ITEM_ID, bundleNode, publishOptions } from '../identity/pep.js';
import { type DeviceState, bundleOf, createDeviceState } from '../identity/state.js';
import { type HandshakeLog, initiateAsync } from '../handshake/async.js';
import { type InitiatorAwaitingResponse, type ResponderAwaitingFinish, acceptInteractive, completeInitiator, completeResponder, startInteractive } from '../handshake/interactive.js';
import type { SessionSecret } from '../handshake/session.js';
import { type OpenResult, type PeerSession, openStanza, sealStanza, sessionKey } from '../envelope/envelope.js';
import { bare } from '../envelope/content.js';
import { startRatchet } from '../envelope/ratchet.js';
import { EMPTY_REPAIR_LOG, type RepairLog, acceptRepair, repairReason, signalRepair } from '../offline/repair.js';
import { replenishOneTimePrekeys, rotatePrekeys } from '../offline/prekeys.js';
import { BundleElement } from '../wire/bundle.js';
import { type DeviceListValue, DeviceListElement } from '../wire/devices.js';
import { StoreHint } from '../wire/marker.js';
import { publishIq, retrieveIq } from '../wire/pep.js';
import { RepairElement } from '../wire/repair.js';
import { InteractiveMessageElement, type InteractiveMessageValue } from '../wire/handshake.js';
import { type Element, childElements, xml } from '../wire/xml.js';
import type { XmppConnection } from './connection.js';

/** A message a client opened. */
export interface ReceivedMessage {
  readonly from: { readonly jid: BareJid; readonly deviceId: DeviceId };
  readonly body: string;
  readonly time: number;
}

/** What happened to one incoming stanza. */
export type ReceiveOutcome = OpenResult['kind'] | 'repair' | 'ignored';

/**
 * One Seal device of an account, talking to a server through an {@link XmppConnection}.
 *
 * @see spec §offline
 */
export class SealClient {
  readonly connection: XmppConnection;
  readonly jid: BareJid;
  state: DeviceState;
  log: HandshakeLog = [];
  sessions = new Map<string, PeerSession>();
  repairs: RepairLog = EMPTY_REPAIR_LOG;
  readonly received: ReceivedMessage[] = [];
  readonly outcomes: ReceiveOutcome[] = [];
  readonly #now: () => number;
  readonly #rng: Rng;
  readonly #listeners: ((message: ReceivedMessage) => void)[] = [];
  /** Per account: the newest signed device list accepted (rollback protection). */
  readonly #newestIssued = new Map<string, number>();
  /** Per account: the account key (hex) of the signed lists accepted so far, once there was one. */
  readonly #accountKeys = new Map<string, string>();
  #id = 0;
  readonly #interactive = new Map<string, InitiatorAwaitingResponse | ResponderAwaitingFinish>();
  /** Interactive handshakes completed by this device (session ids, hex). */
  readonly interactiveSessions: string[] = [];

  private constructor(connection: XmppConnection, state: DeviceState, now: () => number, rng: Rng) {
    this.connection = connection;
    this.jid = state.jid;
    this.state = state;
    this.#now = now;
    this.#rng = rng;
    connection.onStanza((stanza) => this.receive(stanza).then(() => undefined));
  }

  /**
   * Creates a device for the connection's account, adds it to the account's device list and
   * publishes its bundle.
   */
  static async create(options: { connection: XmppConnection; now: () => number; rng: Rng; oneTimePrekeys?: number }): Promise<SealClient> {
    const jid = bareJid(bare(options.connection.jid));
    const existing = await SealClient.#fetchList(options.connection, jid);
    const state = createDeviceState({ jid, now: options.now(), rng: options.rng, takenDeviceIds: existing?.devices.map((d) => d.id) ?? [], ...(options.oneTimePrekeys === undefined ? {} : { oneTimePrekeys: options.oneTimePrekeys }) });
    const client = new SealClient(options.connection, state, options.now, options.rng);
    await client.#publishBundle();
    // @req identity.device-list-keys: the entry names this device's identity signing key.
    const entry = { id: state.deviceId, added: options.now(), signingKey: ed25519PublicKeyOf(state.signingKey) };
    const list: DeviceListValue = existing === undefined ? { issued: options.now(), devices: [entry] } : addDevice(jid, existing, entry, options.now());
    await options.connection.iq(publishIq(client.#nextId(), DEVICE_LIST_NODE, ITEM_ID, DeviceListElement.toXml(list), publishOptions()));
    return client;
  }

  /** Registers a listener for opened messages. */
  onMessage(listener: (message: ReceivedMessage) => void): void {
    this.#listeners.push(listener);
  }

  #nextId(): string {
    return `seal-${this.state.deviceId}-${++this.#id}`;
  }

  static async #fetchList(connection: XmppConnection, jid: string): Promise<DeviceListValue | undefined> {
    try {
      const result = await connection.iq(retrieveIq(`list-${jid}`, jid, DEVICE_LIST_NODE, ITEM_ID));
      const item = result.getChild('pubsub')?.getChild('items')?.getChild('item');
      const payload = item === undefined ? undefined : childElements(item)[0];
      return payload === undefined ? undefined : DeviceListElement.fromXml(payload);
    } catch (e) {
      if (e instanceof Error && 'condition' in e && (e as { condition: string }).condition === 'item-not-found') return undefined;
      throw e;
    }
  }

  async #publishBundle(): Promise<void> {
    await this.connection.iq(publishIq(this.#nextId(), bundleNode(this.state.deviceId), ITEM_ID, BundleElement.toXml(bundleOf(this.state)), publishOptions()));
  }

  /** An account's current device list, verified and rollback-checked, if it has one. */
  async #listOf(jid: BareJid): Promise<VerifiedDeviceList | undefined> {
    const list = await SealClient.#fetchList(this.connection, jid);
    if (list === undefined) return undefined;
    const verified = verifyDeviceList(jid, list, this.#newestIssued.get(jid));
    const accountKey = verified.accountKey === undefined ? undefined : toHex(verified.accountKey);
    const accepted = this.#accountKeys.get(jid);
    // @req identity.key-change: a list signed by another account key, or no longer signed, is not
    // used until the application has shown the change and calls acceptAccountKeyChange.
    if (accepted !== undefined && accepted !== accountKey) {
      throw new SealError('identity-key-changed', `${jid}: the device list is ${accountKey === undefined ? 'no longer signed' : 'signed by another account key'}; accept the change with acceptAccountKeyChange()`);
    }
    if (accountKey !== undefined) {
      this.#accountKeys.set(jid, accountKey);
      this.#newestIssued.set(jid, verified.issued);
    }
    return verified;
  }

  /** The device ids on an account's current device list (verified, rollback-checked). */
  /**
   * Accepts that `jid`'s device list is now signed by another account key, or no longer signed,
   * after the application has shown the user the change (spec identity.key-change). Until then
   * every use of the list fails with `identity-key-changed`.
   */
  acceptAccountKeyChange(jid: BareJid): void {
    this.#accountKeys.delete(jid);
    this.#newestIssued.delete(jid);
  }

  async devicesOf(jid: BareJid): Promise<DeviceId[]> {
    return (await this.#listOf(jid))?.devices.map((d) => d.id) ?? [];
  }

  /**
   * Starts an asynchronous session with a device from its bundle, verified against the account's
   * list (whose entry names the device's identity signing key).
   */
  async #startSession(jid: BareJid, device: DeviceId, list: VerifiedDeviceList): Promise<PeerSession> {
    const result = await this.connection.iq(retrieveIq(this.#nextId(), jid, bundleNode(device), ITEM_ID));
    const payload = childElements(result.getChild('pubsub')!.getChild('items')!.getChild('item')!)[0]!;
    // @req identity.device-list-keys: a bundle whose key is not the listed one is rejected.
    const bundle = verifyBundle(BundleElement.fromXml(payload), { jid, deviceId: device, now: this.#now(), deviceList: list });
    const started = initiateAsync({ self: this.state, peer: bundle, rng: this.#rng });
    return { ratchet: startRatchet(started.session, this.#rng), confirmation: { state: 'unconfirmed', header: started.header } };
  }

  /**
   * Sends `body` to every device of `to` and to this account's other devices, starting sessions
   * where none exist.
   */
  async send(to: BareJid, body: string): Promise<void> {
    const recipients: { jid: BareJid; deviceId: DeviceId }[] = [];
    for (const jid of [to, this.jid]) {
      const list = await this.#listOf(jid);
      for (const { id: device } of list?.devices ?? []) {
        if (jid === this.jid && device === this.state.deviceId) continue;
        if (!this.sessions.has(sessionKey(jid, device))) this.sessions.set(sessionKey(jid, device), await this.#startSession(jid, device, list!));
        recipients.push({ jid, deviceId: device });
      }
    }
    const sealed = sealStanza({ to, from: this.connection.jid, id: this.#nextId(), senderDeviceId: this.state.deviceId, content: [xml('body', {}, [body])], recipients, sessions: this.sessions, rng: this.#rng, now: this.#now() });
    this.sessions = sealed.sessions;
    await this.connection.send(sealed.stanza);
  }

  /** Asks the server's archive (XEP-0313) for everything; results arrive as ordinary stanzas. */
  async fetchArchive(): Promise<void> {
    await this.connection.iq(xml('iq', { type: 'set', id: this.#nextId() }, [xml('query', { xmlns: 'urn:xmpp:mam:2', queryid: this.#nextId() })]));
  }

  /**
   * Starts an interactive handshake with the device `peerDevice` of the account at `peerFullJid`
   * (both online). The session replaces the current one with that device when message 3 is done.
   */
  async startInteractive(peerFullJid: string, peerDevice: DeviceId): Promise<void> {
    const peer = { jid: bareJid(bare(peerFullJid)), deviceId: peerDevice };
    const started = startInteractive({ self: this.state, peer, rng: this.#rng, now: this.#now() });
    this.#interactive.set(started.message.sid, started.state);
    await this.#sendInteractive(peerFullJid, started.message);
  }

  async #sendInteractive(to: string, message: InteractiveMessageValue): Promise<void> {
    await this.connection.send(xml('message', { to, type: 'chat', id: this.#nextId() }, [InteractiveMessageElement.toXml(message)]));
  }

  #adoptSession(session: SessionSecret): void {
    const key = sessionKey(session.peer.jid, session.peer.deviceId);
    const previous = this.sessions.get(key);
    this.sessions.set(key, { ratchet: startRatchet(session, this.#rng), confirmation: { state: 'confirmed' }, ...(previous === undefined ? {} : { alternate: previous.ratchet }) });
    this.interactiveSessions.push(Array.from(session.sessionId, (b) => b.toString(16).padStart(2, '0')).join(''));
  }

  async #onInteractive(stanza: Element, element: Element): Promise<void> {
    const message = InteractiveMessageElement.fromXml(element);
    const from = String(stanza.attrs.from ?? '');
    const peer = { jid: bareJid(bare(from)), deviceId: toDeviceId(message.deviceId) };
    const now = this.#now();
    if (message.step === 1) {
      const accepted = acceptInteractive({ self: this.state, peer, message, rng: this.#rng, now });
      this.#interactive.set(message.sid, accepted.state);
      await this.#sendInteractive(from, accepted.message);
      return;
    }
    const pending = this.#interactive.get(message.sid);
    this.#interactive.delete(message.sid);
    if (pending?.step === 'initiator-awaiting-2' && message.step === 2) {
      const done = completeInitiator({ state: pending, message, now });
      this.#adoptSession(done.session);
      await this.#sendInteractive(from, done.message);
    } else if (pending?.step === 'responder-awaiting-3' && message.step === 3) {
      this.#adoptSession(completeResponder({ state: pending, message, now }));
    }
  }

  /** Handles one incoming stanza: sealed messages (also inside carbons and archive results), repair signals, interactive handshakes. */
  async receive(stanza: Element): Promise<ReceiveOutcome> {
    const inner = unwrap(stanza);
    if (inner === undefined) return 'ignored';
    const interactive = inner.getChild('interactive', SEAL_NS);
    // Interactive handshakes are live exchanges between two devices: copies (carbons, archive) are not for us.
    if (interactive !== undefined && inner !== stanza) return 'ignored';
    if (interactive !== undefined) {
      try {
        await this.#onInteractive(inner, interactive);
      } catch (e) {
        if (!isSealError(e)) throw e;
        // A failed or timed-out interactive handshake leaves nothing behind; the asynchronous
        // handshake remains available.
      }
      return 'ignored';
    }
    const repair = inner.getChild('repair', SEAL_NS);
    if (repair !== undefined) {
      await this.#onRepair(inner, repair);
      this.outcomes.push('repair');
      return 'repair';
    }
    if (inner.getChild('sealed', SEAL_NS) === undefined) return 'ignored';
    const result = openStanza({ stanza: inner, self: this.state, log: this.log, sessions: this.sessions, now: this.#now() });
    this.outcomes.push(result.kind);
    if (result.kind === 'ok') {
      this.sessions = result.sessions;
      this.state = result.state;
      this.log = result.log;
      const body = result.content.find((c) => c.getName() === 'body')?.getText() ?? '';
      const message = { from: result.sender, body, time: result.time };
      this.received.push(message);
      for (const listener of this.#listeners) listener(message);
      // Prekey maintenance after every accepted message: refill one-time prekeys, and rotate the
      // signed and KEM prekeys when they are due or when the handshake log of the signed prekey
      // is full (spec offline.rotate, handshake.replay-without-one-time-prekey).
      const refill = replenishOneTimePrekeys(this.state, this.#rng);
      const rotated = rotatePrekeys(refill.state, this.#now(), this.#rng, this.log);
      if (refill.changed || rotated.changed) {
        this.state = rotated.state;
        await this.#publishBundle();
      }
      return 'ok';
    }
    const reason = repairReason(result);
    const sender = result.kind === 'not-for-this-device' ? result.sender : senderOf(inner);
    // @req offline.repair-signal: a device's own stanzas come back from the archive without a key for it; nothing to repair.
    const own = sender !== undefined && sender.jid === this.jid && sender.deviceId === this.state.deviceId;
    if (reason !== undefined && sender !== undefined && !own) {
      const signal = signalRepair(this.repairs, sessionKey(sender.jid, sender.deviceId), this.#now());
      this.repairs = signal.log;
      if (signal.send) {
        await this.connection.send(xml('message', { to: sender.jid, type: 'chat', id: this.#nextId() }, [
          RepairElement.toXml({ device: this.state.deviceId, sender: sender.deviceId, reason }),
          StoreHint.toXml({}),
        ]));
      }
    }
    return result.kind;
  }

  async #onRepair(stanza: Element, element: Element): Promise<void> {
    const signal = RepairElement.fromXml(element);
    if (signal.sender !== this.state.deviceId) return;
    const peer = bareJid(bare(String(stanza.attrs.from ?? '')));
    const decision = acceptRepair(this.repairs, sessionKey(peer, signal.device), this.#now());
    this.repairs = decision.log;
    if (!decision.reset) return;
    let list: VerifiedDeviceList | undefined;
    try {
      list = await this.#listOf(peer);
    } catch (e) {
      // A changed account key waits for the application; the current session stays.
      if (isSealError(e)) return;
      throw e;
    }
    const device = list?.devices.find((d) => d.id === signal.device)?.id;
    if (list === undefined || device === undefined) return;
    let session: PeerSession;
    try {
      session = await this.#startSession(peer, device, list);
    } catch (e) {
      // A bundle that fails verification (for example, one whose key is not the listed one)
      // leaves the current session in place: a forged signal must not replace it.
      if (isSealError(e)) return;
      throw e;
    }
    this.sessions.set(sessionKey(peer, device), session);
  }
}

/** The message inside a stanza: itself, or the forwarded message of a carbon or archive result. */
function unwrap(stanza: Element): Element | undefined {
  if (stanza.getName() !== 'message') return undefined;
  const wrapper = stanza.getChild('sent', 'urn:xmpp:carbons:2') ?? stanza.getChild('received', 'urn:xmpp:carbons:2') ?? stanza.getChild('result', 'urn:xmpp:mam:2');
  if (wrapper === undefined) return stanza;
  return wrapper.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message');
}

function senderOf(stanza: Element): { jid: BareJid; deviceId: DeviceId } | undefined {
  try {
    const sid = Number(stanza.getChild('sealed', SEAL_NS)?.attrs.sid);
    return { jid: bareJid(bare(String(stanza.attrs.from ?? ''))), deviceId: toDeviceId(sid) };
  } catch (e) {
    if (isSealError(e)) return undefined;
    throw e;
  }
}

