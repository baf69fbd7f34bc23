/**
 * A Seal device over an XMPP connection: the IO shell around the device engine. It feeds the
 * engine one input at a time (incoming stanzas, fetched device lists and bundles, the
 * application's requests), commits each step to the store before anything else happens, then
 * sends, publishes, fetches and hands events to the application. It holds no protocol rule:
 * those are the engine's (src/device).
 *
 * @see spec §device
 * @module
 */
import { SealError } from '../errors.js';
import type { Rng } from '../suite/rng.js';
import type { Ed25519SecretKey } from '../suite/types.js';
import type { DeviceId } from '../identity/device.js';
import { bareJid, type BareJid } from '../identity/jid.js';
import { DEVICE_LIST_NODE, bundleNode } from '../identity/pep.js';
import type { DeviceState } from '../identity/state.js';
import type { TrustLevel, TrustPolicy } from '../identity/trust.js';
import type { PeerSession } from '../envelope/envelope.js';
import { bare } from '../envelope/content.js';
import { SealEngine, sealDiscoInfo } from '../device/engine.js';
import { MemoryStore, type SealStore, isEmptyCommit } from '../device/store.js';
import type { DeviceAddress, DeviceInput, FetchRequest, KeyTrust, SealEvent, StepOutput, Via } from '../device/types.js';
import { DISCO_INFO_NS, type Element, xml } from '../wire/xml.js';
import { capsElement } from '../wire/caps.js';
import { presence } from './stanzas.js';
import { MEMBER_AFFILIATIONS, type MemberAffiliation, affiliationQueryIq, joinPresence, roomArchiveQueryIq, roomInfoIq } from '../wire/muc.js';
import type { XmppConnection } from './connection.js';
import type { HttpUpload } from './upload.js';
import type { FileCipherProvider } from '../files/cipher.js';
import type { OutgoingFile, SharedFile } from '../files/shared.js';
import { type FileMetadata, sealFile } from '../files/seal-file.js';
import { type ByteSource, byteChunks, collectBytes } from '../files/stream.js';
import { encryptAesgcm, formatAesgcmLink, newAesgcmSecrets } from '../files/aesgcm.js';
import { deleteNode, fetchItem, publishItem } from './publish.js';

/** A message a client opened. */
export interface ReceivedMessage {
  readonly from: DeviceAddress;
  readonly body: string;
  readonly time: number;
  readonly via: Via;
  readonly trust: KeyTrust;
  readonly eventId: string;
  /** For a room message (§groups): the room's bare JID; `from` is the sender's real bare JID. */
  readonly room?: BareJid;
  /** The files the message offers (§files.receive): download them with {@link HttpUpload.download}. */
  readonly files: readonly SharedFile[];
}

/** A file to send: its bytes (a buffer, a stream, an async iterable) and what the receiver is told about it. */
export interface FileToSend extends FileMetadata {
  readonly data: ByteSource;
  /** Plaintext size in bytes (the upload slot is asked for its ciphertext size before the data is read). */
  readonly size: number;
}

/** Options of {@link SealClient.create}. */
export interface SealClientOptions {
  /** The account's XMPP connection: `connectToServer` (`xmpp-seal/net/real`) for a real server, `EmbeddedServer.connect` in tests. */
  readonly connection: XmppConnection;
  /** Where the device lives; a store that already holds a device restores it (same id, sessions, trust). Default: a new {@link MemoryStore}. */
  readonly store?: SealStore;
  /** The clock, in seconds since the Unix epoch (bundle validity, prekey rotation, expiry of held stanzas). */
  readonly now: () => number;
  /** The randomness source: `systemRng` (`crypto.getRandomValues`); a seeded one only for tests and vectors. @see spec §suite.randomness */
  readonly rng: Rng;
  /** How many one-time prekeys a new device publishes in its bundle (default 100, `DEFAULT_ONE_TIME_PREKEYS`). @see spec §identity.constants */
  readonly oneTimePrekeys?: number;
  /** The account key, for a device added to an account whose device list is signed. */
  readonly accountSecret?: Ed25519SecretKey;
  readonly policy?: TrustPolicy;
  /** Called with errors of IO the application did not ask for (a failed publish, fetch or send while receiving). */
  readonly onError?: (error: unknown) => void;
  /**
   * Called for every opened message from the first one on, including the messages of the inbox
   * that a restored device hands over again during `create` (spec device.inbox), which a listener
   * registered with {@link SealClient.onMessage} after `create` would miss.
   */
  readonly onMessage?: (message: ReceivedMessage) => void;
  /** Called for every event from the first one on (see `onMessage`). */
  readonly onEvent?: (event: SealEvent) => void;
  /**
   * Whether a device started from its store fetches its own bundle to find out whether the store
   * was restored from an older copy (spec offline.restore-detect; default `true`). Only a test
   * harness whose model does not follow that rule turns it off.
   */
  readonly checkRestore?: boolean;
}


/** Most fetch rounds one input may cause (a list, then bundles, then held stanzas…). */
const MAX_FETCH_DEPTH = 6;

/**
 * One Seal device of an account, talking to a server through an {@link XmppConnection}, over a
 * {@link SealStore}. Every method is serialized: one input at a time, so a send and a receive
 * never race.
 *
 * @see spec §device
 * @example
 * ```ts
 * const alice = await SealClient.create({ connection, store, now: () => Math.floor(Date.now() / 1000), rng: systemRng });
 * alice.onMessage((m) => console.log(m.from.jid, m.body));
 * await alice.send(bareJid('bob@example.org'), 'hello');
 * ```
 */
export class SealClient {
  readonly connection: XmppConnection;
  readonly jid: BareJid;
  readonly store: SealStore;
  readonly engine: SealEngine;
  /** Every message opened, in order (for demos and tests; applications use onMessage). */
  readonly received: ReceivedMessage[] = [];
  /** Every event, in order (for demos and tests; applications use onEvent). */
  readonly events: SealEvent[] = [];
  readonly #now: () => number;
  readonly #rng: Rng;
  readonly #onError: (error: unknown) => void;
  readonly #messageListeners: ((message: ReceivedMessage) => void)[] = [];
  readonly #eventListeners: ((event: SealEvent) => void)[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #id = 0;

  private constructor(options: SealClientOptions, store: SealStore, engine: SealEngine) {
    this.connection = options.connection;
    this.store = store;
    this.engine = engine;
    this.jid = engine.self.jid;
    this.#now = options.now;
    this.#rng = options.rng;
    this.#onError = options.onError ?? (() => undefined);
    if (options.onMessage !== undefined) this.#messageListeners.push(options.onMessage);
    if (options.onEvent !== undefined) this.#eventListeners.push(options.onEvent);
    options.connection.onStanza((stanza) => this.receive(stanza).then(() => undefined));
  }

  /**
   * Restores the device in `store`, or, for an empty store, creates a device for the
   * connection's account, adds it to the account's (signed) device list and publishes its
   * bundle and the list. After a restore, stanzas committed but not sent are sent, and opened
   * messages the application has not acknowledged are delivered again.
   *
   * @throws SealError `account-key-required` (a signed list and no account key), `invalid-state`
   *   (a corrupted store); XmppError when publishing fails (after the identity.pep-errors recovery).
   * @see spec §device.store
   */
  static async create(options: SealClientOptions): Promise<SealClient> {
    const store = options.store ?? new MemoryStore();
    const records = await store.load();
    const jid = bareJid(bare(options.connection.jid));
    if (records.length > 0) {
      const engine = SealEngine.load(records, options.policy === undefined ? {} : { policy: options.policy });
      if (engine.self.jid !== jid) throw new SealError('invalid-state', `store: holds a device of ${engine.self.jid}, not of ${jid}`);
      const client = new SealClient(options, store, engine);
      await client.#exclusive(async () => {
        for (const out of engine.pendingOutbox()) await client.#sendOne(out.outboxId, out.stanza);
        for (const event of engine.pendingInbox()) await client.#deliver(event);
        // @req device.restart-tick: what the stopped process had asked for (a device list for
        // held stanzas, above all) died with it; a tick asks again and acts on the clock.
        await client.#apply({ kind: 'tick' });
        // @req offline.restore-detect: the own bundle as published shows whether this store is an
        // older copy; the engine compares it with the loaded state (IO here, the rule there).
        if (options.checkRestore !== false) await client.#fetch({ kind: 'bundle', jid, deviceId: engine.self.deviceId }, 0).catch((e: unknown) => client.#onError(e));
      });
      return client;
    }
    const existing = await fetchItem(options.connection, jid, DEVICE_LIST_NODE);
    const created = SealEngine.create({ jid, existingList: existing, now: options.now(), rng: options.rng, ...(options.accountSecret === undefined ? {} : { accountSecret: options.accountSecret }), ...(options.oneTimePrekeys === undefined ? {} : { oneTimePrekeys: options.oneTimePrekeys }), options: options.policy === undefined ? {} : { policy: options.policy } });
    await store.commit(created.output.commit);
    created.engine.adopt(created.state);
    const client = new SealClient(options, store, created.engine);
    for (const p of created.output.publish) await publishItem(options.connection, p.node, p.item);
    return client;
  }

  /** This device's state (keys and prekeys). */
  get state(): DeviceState {
    return this.engine.state.device;
  }

  /**
   * The account key's secret, to give to a new device of the same account (spec
   * device.account-key). Handle it as a password: whoever holds it can add devices to the
   * account's signed list.
   */
  dangerouslyAccountSecret(): Ed25519SecretKey | undefined {
    return this.engine.state.accountSecret;
  }

  /** The sessions with peer devices, by `jid/deviceId` (read-only view). */
  get sessions(): ReadonlyMap<string, PeerSession> {
    return new Map([...this.engine.state.peers].map(([k, p]) => [k, p.session]));
  }

  /** Registers a listener for opened messages. */
  onMessage(listener: (message: ReceivedMessage) => void): void {
    this.#messageListeners.push(listener);
  }

  /** Registers a listener for every event (opened, failed, decision-needed, …). */
  onEvent(listener: (event: SealEvent) => void): void {
    this.#eventListeners.push(listener);
  }

  #nextId(): string {
    return `seal-${this.state.deviceId}-${++this.#id}-${Math.floor(this.#now())}`;
  }

  /** Runs `task` after every earlier one (per-device serialization). */
  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * One engine step: compute, commit, adopt; then send, publish, deliver events and fetch what
   * the engine asked for (feeding the answers back as further steps).
   */
  async #apply(input: DeviceInput, depth = 0): Promise<StepOutput> {
    const { state, output } = this.engine.step(input, { now: this.#now(), rng: this.#rng });
    // @req device.commit-first: nothing leaves the device before its state change is durable.
    if (!isEmptyCommit(output.commit)) await this.store.commit(output.commit);
    this.engine.adopt(state);
    for (const out of output.send) await this.#sendOne(out.outboxId, out.stanza);
    for (const p of output.publish) await publishItem(this.connection, p.node, p.item).catch((e: unknown) => this.#onError(e));
    // @req device.remove: a removed device's bundle node (and the last device's list node) is deleted, XEP-0060 §8.4.
    for (const d of output.deleteNodes) await deleteNode(this.connection, d.node).catch((e: unknown) => this.#onError(e));
    for (const event of output.events) await this.#deliver(event);
    if (depth < MAX_FETCH_DEPTH) for (const f of output.fetch) await this.#fetch(f, depth + 1).catch((e: unknown) => this.#onError(e));
    return output;
  }

  async #sendOne(outboxId: string, stanza: Element): Promise<void> {
    try {
      await this.connection.send(stanza);
    } catch (e) {
      // Stays in the outbox; sent again on the next start.
      this.#onError(e);
      return;
    }
    if (outboxId !== '') await this.#apply({ kind: 'sent', outboxId });
  }

  async #deliver(event: SealEvent): Promise<void> {
    this.events.push(event);
    for (const listener of this.#eventListeners) listener(event);
    if (event.kind !== 'opened') return;
    const message: ReceivedMessage = { from: event.from, body: event.body, files: event.files, time: event.time, via: event.via, trust: event.trust, eventId: event.eventId, ...(event.room === undefined ? {} : { room: event.room }) };
    this.received.push(message);
    for (const listener of this.#messageListeners) listener(message);
    await this.#apply({ kind: 'delivered', eventId: event.eventId });
  }

  async #fetch(request: FetchRequest, depth: number): Promise<void> {
    if (request.kind === 'room-info') {
      // §groups: the room's disco#info; a failed query is given as undefined (the room is then not encrypted to).
      const info = await this.connection.iq(roomInfoIq(this.#nextId(), request.room)).then((r) => r.getChild('query', DISCO_INFO_NS), () => undefined);
      await this.#apply({ kind: 'room-info', room: request.room, info }, depth);
    } else if (request.kind === 'room-affiliations') {
      // §groups: the owner, admin and member lists, one query each (XEP-0045 §9.5, §10.5, §10.8).
      const lists: Partial<Record<MemberAffiliation, Element>> = {};
      let failed = false;
      for (const affiliation of MEMBER_AFFILIATIONS) {
        const answer = await this.connection.iq(affiliationQueryIq(this.#nextId(), request.room, affiliation)).catch(() => undefined);
        const query = answer?.getChild('query', 'http://jabber.org/protocol/muc#admin');
        if (query === undefined) failed = true;
        else lists[affiliation] = query;
      }
      await this.#apply({ kind: 'room-affiliations', room: request.room, lists: failed ? undefined : lists }, depth);
    } else if (request.kind === 'device-list') {
      const list = await fetchItem(this.connection, request.jid, DEVICE_LIST_NODE);
      await this.#apply({ kind: 'device-list', jid: request.jid, list }, depth);
    } else {
      const bundle = await fetchItem(this.connection, request.jid, bundleNode(request.deviceId));
      await this.#apply({ kind: 'bundle', jid: request.jid, deviceId: request.deviceId, bundle }, depth);
    }
  }

  /**
   * Handles one incoming stanza (messages, carbons, archive results, PEP notifications, error
   * bounces, iq requests to this full JID, which the engine answers, and the answers to the
   * interactive handshake's steps). Never throws: every failure is a `failed` event.
   *
   * @returns the events the stanza caused (directly; fetches it triggered add more to `events`).
   * @see spec §device
   */
  async receive(stanza: Element): Promise<readonly SealEvent[]> {
    return this.#exclusive(async () => {
      try {
        return (await this.#apply({ kind: 'stanza', stanza })).events;
      } catch (e) {
        // @req device.receive-never-throws: a failing store or connection is reported, never thrown.
        this.#onError(e);
        return [];
      }
    });
  }

  /** Fetches `jid`'s device list and gives it to the engine. */
  async refreshDeviceList(jid: BareJid): Promise<void> {
    await this.#exclusive(() => this.#fetch({ kind: 'device-list', jid }, 0));
  }

  /**
   * Sends `body` (or content elements) to every usable device of `to` and to this account's other
   * devices, fetching `to`'s and the own device list first and starting sessions where none exist.
   *
   * @throws SealError `no-devices` when `to` has no Seal device; `untrusted-key` when no device of
   *   `to` can be used (keys wait for a decision, or are distrusted); XmppError when a fetch fails.
   * @see spec §device
   */
  async send(to: BareJid, body: string | readonly Element[]): Promise<void> {
    await this.#sendContent(to, typeof body === 'string' ? [xml('body', {}, [body])] : body, undefined);
  }

  async #sendContent(to: BareJid, content: readonly Element[], files: readonly OutgoingFile[] | undefined): Promise<void> {
    await this.#exclusive(async () => {
      // @req identity.pep-notify: the lists are fetched before every message, never taken from notifications alone.
      await this.#fetch({ kind: 'device-list', jid: to }, 0);
      if (to !== this.jid) await this.#fetch({ kind: 'device-list', jid: this.jid }, 0);
      for (const f of this.engine.missingSessions(to, this.#now(), this.#rng)) await this.#fetch(f, 0);
      await this.#apply({ kind: 'send', to, content, id: this.#nextId(), ...(files === undefined ? {} : { files }) });
    });
  }

  /**
   * Encrypts `file` with Seal's stream cipher (or, with `cipher: 'aesgcm'`, as an `aesgcm://`
   * link for clients that know only that convention; the whole file is then held in memory),
   * uploads the ciphertext through `upload`, and sends the descriptor (or link) sealed to `to`,
   * or to the room `to` with `room: true`. The fallback `text` (default: the file's name) is
   * the body for clients that do not read descriptors.
   *
   * @throws SealError `too-large` beyond MAX_FILE_SIZE (MAX_AESGCM_SIZE for a link), and the
   *   errors of {@link SealClient.send} / {@link SealClient.sendRoom}; XmppError when the upload
   *   service refuses the slot.
   * @see spec §files.descriptor
   */
  async sendFile(to: BareJid, file: FileToSend, upload: HttpUpload, options: { readonly room?: boolean; readonly text?: string; readonly cipher?: 'seal' | 'aesgcm'; readonly provider?: FileCipherProvider } = {}): Promise<void> {
    let attached: OutgoingFile;
    if (options.cipher === 'aesgcm') {
      // @req files.aesgcm-send: only when asked for; the link is the whole body.
      const secrets = newAesgcmSecrets(this.#rng);
      const plaintext = await collectBytes(byteChunks(file.data));
      const ciphertext = await encryptAesgcm(plaintext, secrets, options.provider);
      const url = await upload.upload(ciphertext, ciphertext.length);
      attached = { kind: 'aesgcm-link', link: formatAesgcmLink(url, secrets) };
    } else {
      const sealing = sealFile(file.data, file.size, file, { rng: this.#rng, ...(options.provider === undefined ? {} : { provider: options.provider }) });
      const url = await upload.upload(sealing.ciphertext, sealing.ciphertextSize);
      attached = { kind: 'descriptor', descriptor: sealing.descriptor(url) };
    }
    const content = attached.kind === 'aesgcm-link' ? [] : [xml('body', {}, [options.text ?? file.name])];
    if (options.room === true) await this.#sendRoomContent(to, content, [attached]);
    else await this.#sendContent(to, content, [attached]);
  }

  /**
   * Enters a room (XEP-0045 §7.2) with `nick`: fetches its configuration and, for a members-only,
   * non-anonymous room, its affiliation lists and its members' device lists, then sends the
   * join presence. The configuration comes back as a `room-config` event.
   *
   * @see spec §groups.rooms
   */
  async joinRoom(room: BareJid, nick: string): Promise<void> {
    await this.#exclusive(async () => {
      await this.#fetch({ kind: 'room-info', room }, 0);
      await this.connection.send(joinPresence(`${room}/${nick}`));
    });
  }

  /**
   * Sends `body` (or content elements) to a members-only, non-anonymous room: to every device of
   * every account on its owner, admin and member lists and to this account's other devices,
   * fetching the room's configuration and lists when they are older than ROOM_STATE_MAX_AGE, the
   * members' device lists and the bundles of devices without a session first. The device must
   * have entered the room (the room accepts messages from occupants only).
   *
   * @throws SealError `room-not-secure` when the room is not members-only and non-anonymous (or
   *   its state could not be fetched); `no-devices` / `untrusted-key` when a member cannot be
   *   encrypted to; `too-large`; XmppError when a fetch fails.
   * @see spec §groups
   */
  async sendRoom(room: BareJid, body: string | readonly Element[]): Promise<void> {
    await this.#sendRoomContent(room, typeof body === 'string' ? [xml('body', {}, [body])] : body, undefined);
  }

  async #sendRoomContent(room: BareJid, content: readonly Element[], files: readonly OutgoingFile[] | undefined): Promise<void> {
    await this.#exclusive(async () => {
      // Room state, then member lists, then bundles: each round feeds the engine, which asks for the next.
      for (let round = 0; round < 4; round++) {
        const wanted = this.engine.roomFetches(room, this.#now(), this.#rng);
        if (wanted.length === 0) break;
        for (const f of wanted) await this.#fetch(f, 0);
      }
      await this.#apply({ kind: 'send-room', room, content, id: this.#nextId(), ...(files === undefined ? {} : { files }) });
    });
  }

  /** Asks a room's archive (XEP-0313 on the room's bare JID) for everything; results arrive as ordinary stanzas. @see spec §groups.wire */
  async fetchRoomArchive(room: BareJid): Promise<void> {
    const queryid = `q-${this.#nextId()}-${Array.from(this.#rng(8), (b) => b.toString(16).padStart(2, '0')).join('')}`;
    await this.#exclusive(async () => {
      // A room's messages are opened only for a room the device tracks: fetch its configuration first.
      if (this.engine.room(room) === undefined) await this.#fetch({ kind: 'room-info', room }, 0);
      await this.#apply({ kind: 'archive-query', queryid, room });
    });
    await this.connection.iq(roomArchiveQueryIq(this.#nextId(), room, queryid));
  }

  /** Asks the server's archive (XEP-0313) for everything; results arrive as ordinary stanzas. */
  async fetchArchive(): Promise<void> {
    const queryid = `q-${this.#nextId()}-${Array.from(this.#rng(8), (b) => b.toString(16).padStart(2, '0')).join('')}`;
    await this.#exclusive(() => this.#apply({ kind: 'archive-query', queryid }));
    await this.connection.iq(xml('iq', { type: 'set', id: this.#nextId() }, [xml('query', { xmlns: 'urn:xmpp:mam:2', queryid })]));
  }

  /**
   * Starts an interactive handshake with the device at `peerFullJid` (both online). Without
   * `peerDevice`, the full JID's disco#info is asked first: it must offer
   * `urn:xmpp:seal:0:interactive` and name the device (XEP-0128 form); with `peerDevice`, the
   * caller has learnt both before. The device must be on the account's device list, and the
   * peer must present the key its list or a decision vouches for. The steps travel as iq stanzas:
   * an error answer to one abandons the handshake at once (an `interactive-failed` event).
   *
   * Implements requirements `device.interactive-pinning` and `handshake.interactive-discovery`.
   *
   * @throws SealError `untrusted-key` when no pinned or listed key vouches for the device;
   *   `interactive-unsupported` when the disco#info lacks the feature or names no (or another)
   *   device; XmppError when the disco#info query fails (`service-unavailable`: no such resource).
   * @see spec §handshake.interactive
   */
  async startInteractive(peerFullJid: string, peerDevice?: DeviceId): Promise<void> {
    // @req handshake.interactive-discovery: the initiator asks the full JID before starting.
    const info = peerDevice !== undefined ? undefined : (await this.connection.iq(xml('iq', { type: 'get', to: peerFullJid, id: this.#nextId() }, [xml('query', { xmlns: DISCO_INFO_NS })]))).getChild('query', DISCO_INFO_NS);
    if (peerDevice === undefined && info === undefined) throw new SealError('interactive-unsupported', `${peerFullJid}: disco#info answered without a <query/>`);
    await this.#exclusive(async () => {
      const peer = bareJid(bare(peerFullJid));
      if (this.engine.trustOf(peer)?.list === undefined) await this.#fetch({ kind: 'device-list', jid: peer }, 0);
      await this.#apply({ kind: 'start-interactive', peer: peerFullJid, ...(peerDevice === undefined ? {} : { deviceId: peerDevice }), ...(info === undefined ? {} : { info }) });
    });
  }

  /**
   * Records the user's decision about a key (hex): a device's (`{ deviceId }`) or the account
   * key (`'account'`; `''` accepts that the account's list is no longer signed). Accepting a
   * pending change opens the messages held for it.
   *
   * @see spec §identity.trust
   */
  async decide(jid: BareJid, target: { deviceId: DeviceId } | 'account', key: string, level: TrustLevel): Promise<void> {
    await this.#exclusive(() => this.#apply({ kind: 'decide', jid, target, key, level }));
  }

  /**
   * The user verified `omemoIdentityKey`, an OMEMO identity key of `jid` (Ed25519 form, as XEP-0384
   * publishes it): the account key that key vouches for in the list's binding statement becomes
   * verified, so the user need not compare a new fingerprint when moving the contact to Seal.
   *
   * @throws SealError when the list carries no valid omemo binding for that key (nothing changes).
   * @see spec §discovery.omemo
   */
  async omemoVouch(jid: BareJid, omemoIdentityKey: Uint8Array): Promise<void> {
    await this.#exclusive(() => this.#apply({ kind: 'omemo-vouch', jid, omemoIdentityKey }));
  }

  /**
   * Whether to use Seal with `jid` (its device list fetched now): true when a list of `jid` has
   * been accepted, now or before (Seal is sticky per contact). A client that also speaks OMEMO uses
   * OMEMO only when this is false, and never switches a contact for which it was true without the
   * user's consent.
   *
   * @see spec §discovery.omemo
   */
  async usesSeal(jid: BareJid): Promise<boolean> {
    await this.refreshDeviceList(jid).catch(() => undefined);
    return this.engine.usesSeal(jid);
  }

  /**
   * The initial presence this device sends, with XEP-0115 caps (`<c/>`) that name its disco#info:
   * a server learns from them that the device wants device-list notifications
   * (`urn:xmpp:seal:0:devices+notify`) and asks the device's disco#info under the caps node, which
   * the engine answers. `priority` is RFC 6121 §4.7.2.3's.
   *
   * Implements requirement `identity.pep-notify`.
   *
   * @see spec §identity.pep
   */
  presence(priority?: number): Element {
    // @req identity.pep-notify: the interest in notifications is announced in caps, as XEP-0163 §4 expects.
    const base = presence(priority);
    base.cnode(capsElement(sealDiscoInfo(this.state.deviceId)));
    return base;
  }

  /** The device ids on an account's current device list (fetched and verified now). */
  async devicesOf(jid: BareJid): Promise<DeviceId[]> {
    await this.refreshDeviceList(jid);
    return this.engine.trustOf(jid)?.list?.devices.map((d) => d.id) ?? [];
  }

  /**
   * Removes device `deviceId` of this account: fetches the account's list, publishes it without
   * the device (signed with the account key this device holds) and deletes the device's bundle
   * node. With this device's own id it switches Seal off here; when this is the account's last
   * device the device-list node is deleted instead. Offer it for a `device-stale` event.
   *
   * @throws SealError `invalid-value` when the device is not listed; `account-key-required` when
   *   the list is signed and this device does not hold the account key.
   * @see spec §device.lifecycle
   */
  async removeDevice(deviceId: DeviceId): Promise<void> {
    await this.#exclusive(async () => {
      await this.#fetch({ kind: 'device-list', jid: this.jid }, 0);
      await this.#apply({ kind: 'remove-device', deviceId });
    });
  }

  /** Lets the engine act on the clock (expire interactive handshakes and held stanzas, rotate prekeys). */
  async tick(): Promise<void> {
    await this.#exclusive(() => this.#apply({ kind: 'tick' }));
  }

  /** Waits until every input given so far has been processed. */
  async idle(): Promise<void> {
    await this.#exclusive(async () => undefined);
  }
}

