/**
 * The device engine: one Seal device as a sans-IO state machine. `step(input)` takes an incoming
 * stanza, a send request, a fetched device list or bundle, a user's decision or the clock, and
 * returns one store commit, the stanzas to send, the PEP items to publish, what to fetch, and
 * typed events for the application. Every rule a client must follow lives here: key pinning and
 * trust, forwarded-stanza checks, device-list rollback and account-key changes, key-only
 * messages, repair, prekey maintenance and every bound. The IO shell (`SealClient` in src/net) only
 * moves stanzas and calls `step`.
 *
 * @see spec §device
 * @module
 */
import { compareBytes, fromHex, toHex } from '../codec/bytes.js';
import { SealError, isSealError, type SealErrorCode } from '../errors.js';
import type { Rng } from '../suite/rng.js';
import { ed25519PublicKeyOf, generateEd25519KeyPair } from '../suite/signature.js';
import { SEAL_NS } from '../suite/suite.js';
import type { Ed25519SecretKey } from '../suite/types.js';
import { verifyBundle } from '../identity/bundle.js';
import { type VerifiedDeviceList, addDevice, createDeviceList, listedSigningKey, removeDevice, verifyDeviceList, verifyOmemoBinding } from '../identity/devicelist.js';
import { type DeviceId, deviceId as toDeviceId } from '../identity/device.js';
import { type BareJid, bareJid } from '../identity/jid.js';
import { DEVICE_LIST_NODE, bundleNode, withSealFeatures } from '../identity/pep.js';
import { type DeviceState, bundleOf, createDeviceState, dangerouslyExportDeviceState, importDeviceState } from '../identity/state.js';
import { type AccountTrust, type TrustLevel, type TrustPolicy, isTrusted } from '../identity/trust.js';
import { type HandshakeLog, initiateAsync } from '../handshake/async.js';
import { HANDSHAKE_CONSTANTS } from '../handshake/constants.js';
import { acceptInteractive, completeInitiator, completeResponder, startInteractive } from '../handshake/interactive.js';
import type { SessionSecret } from '../handshake/session.js';
import { type PeerSession, openStanza, sealKeyOnly, sealStanza, sessionKey } from '../envelope/envelope.js';
import { ENVELOPE_CONSTANTS } from '../envelope/constants.js';
import { sealWithinLimit } from '../envelope/split.js';
import { contentBody } from '../envelope/content.js';
import type { RatchetState } from '../envelope/ratchet.js';
import { startRatchet } from '../envelope/ratchet.js';
import { replenishOneTimePrekeys, rotatePrekeys } from '../offline/prekeys.js';
import { REPAIRABLE_FAILURES } from '../offline/repair.js';
import { restoredFromBackup, rotateAfterRestore } from '../offline/restore.js';
import { BundleElement } from '../wire/bundle.js';
import { DeviceListElement } from '../wire/devices.js';
import { InteractiveMessageElement, type InteractiveMessageValue, interactiveDiscoInfo, interactiveIq, iqError, iqResult, parseInteractiveIqId, readInteractiveDiscoInfo } from '../wire/handshake.js';
import { SealedElement, decodeWrappedKey } from '../wire/sealed.js';
import { DISCO_INFO_NS, type Element, childElements, isNamed, isStanza, parseXml, stanzaErrorCondition, wellFormedCopy, xml } from '../wire/xml.js';
import { SEAL_CAPS_NODE, capsVer } from '../wire/caps.js';
import { DEVICE_CONSTANTS } from './constants.js';
import { wipeDroppedSecrets } from './wipe.js';
import { contentWithFiles, openedFiles } from './files.js';
import { clockCheck } from './clock.js';
import { type FailedOpen, failedOpenKey, failureAgainst, namesStoredKey, sameFailureState } from './failed.js';
import { bareOf, classifyIncoming } from './forwarded.js';
import { type EngineRecords, decodeEngineRecords, diffRecords } from './persist.js';
import type { StoreRecord } from './store.js';
import type { AccountRecord, EngineState, HeldStanza, InboxEvent, PeerRecord, PendingInteractive, SessionRepairReason } from './state.js';
import type { DecisionReason, DeleteNodeRequest, DeviceAddress, DeviceInput, EngineOptions, FetchRequest, OutgoingStanza, PublishRequest, SealEvent, StepOutput, Via } from './types.js';
import type { RoomRecord } from '../groups/room.js';
import { type GroupHost, isGroupchat, onRoomAffiliations, onRoomArchiveQuery, onRoomInfo, onRoomMessage, onRoomStanza, onSendRoom, roomFetches, roomMembers } from './groups.js';


/** The failures a new session can fix. @see spec §offline.repair */
const REPAIRABLE: ReadonlySet<string> = new Set(REPAIRABLE_FAILURES);

function emptyTrust(): AccountTrust {
  return { devices: {} };
}

function emptyAccount(jid: BareJid): AccountRecord {
  return { jid, trust: emptyTrust(), list: undefined, pendingAccount: undefined, pendingDevices: {} };
}

function canSend(r: RatchetState): boolean {
  return r.sendingChain !== undefined || r.remoteRatchetKey !== undefined;
}

/**
 * One engine step in progress: copies of the state's maps that the rules change, the outputs
 * collected so far. `finish()` turns it into the next state and the step output.
 */
class Step implements GroupHost {
  device: DeviceState;
  accountSecret: Ed25519SecretKey | undefined;
  log: HandshakeLog;
  repairs: { [peer: string]: number };
  seq: number;
  readonly peers: Map<string, PeerRecord>;
  readonly accounts: Map<string, AccountRecord>;
  readonly held: Map<string, HeldStanza>;
  readonly outbox: Map<string, string>;
  readonly inbox: Map<string, InboxEvent>;
  readonly interactive: Map<string, PendingInteractive>;
  readonly queries: Set<string>;
  readonly pendingRepairs: Map<string, SessionRepairReason>;
  /** The text of the last list element accepted per account (memory only: a refetch of the same list costs no verification). */
  readonly listTexts: Map<string, string>;
  /** When held stanzas made this device fetch each account's list within the last LIST_FETCH_INTERVAL (memory only: the rate limit). */
  readonly listFetchedAt: Map<string, readonly number[]>;
  /** §groups: the rooms this device tracks, and its queries of room archives (memory only). */
  readonly rooms: Map<string, RoomRecord>;
  readonly roomQueries: Map<string, BareJid>;
  readonly send: OutgoingStanza[] = [];
  readonly publish: PublishRequest[] = [];
  /** §identity.pep: own PEP nodes to delete (device.remove). */
  readonly deleteNodes: DeleteNodeRequest[] = [];
  readonly fetch: FetchRequest[] = [];
  readonly events: SealEvent[] = [];
  bundleChanged = false;
  /** The engine's memory of stanzas that failed to authenticate (memory only; envelope.forgery-cost). */
  failedOpens: Map<string, FailedOpen> | undefined;

  constructor(
    readonly base: EngineState,
    readonly now: number,
    readonly rng: Rng,
    readonly policy: TrustPolicy,
  ) {
    this.device = base.device;
    this.accountSecret = base.accountSecret;
    this.log = base.log;
    this.repairs = { ...base.repairs };
    this.seq = base.seq;
    this.peers = new Map(base.peers);
    this.accounts = new Map(base.accounts);
    this.held = new Map(base.held);
    this.outbox = new Map(base.outbox);
    this.inbox = new Map(base.inbox);
    this.interactive = new Map(base.interactive);
    this.queries = new Set(base.queries);
    this.pendingRepairs = new Map(base.pendingRepairs);
    this.listTexts = new Map(base.listTexts);
    this.listFetchedAt = new Map(base.listFetchedAt);
    this.rooms = new Map(base.rooms);
    this.roomQueries = new Map(base.roomQueries);
  }

  get self(): DeviceAddress {
    return { jid: this.device.jid, deviceId: this.device.deviceId };
  }

  nextSeq(): string {
    this.seq += 1;
    return String(this.seq).padStart(12, '0');
  }

  finish(): { state: EngineState; output: StepOutput } {
    if (this.bundleChanged) this.publish.push({ node: bundleNode(this.device.deviceId), item: BundleElement.toXml(bundleOf(this.device)) });
    const repairs: { [peer: string]: number } = {};
    for (const [k, t] of Object.entries(this.repairs)) if (this.now - t < DEVICE_CONSTANTS.REPAIR_INTERVAL) repairs[k] = t;
    const state: EngineState = {
      device: this.device,
      accountSecret: this.accountSecret,
      log: this.log,
      repairs: sameTimestamps(repairs, this.base.repairs) ? this.base.repairs : repairs,
      seq: this.seq,
      peers: this.peers,
      accounts: this.accounts,
      held: this.held,
      outbox: this.outbox,
      inbox: this.inbox,
      interactive: this.interactive,
      queries: this.queries,
      pendingRepairs: this.pendingRepairs,
      listTexts: this.listTexts,
      listFetchedAt: this.listFetchedAt,
      rooms: this.rooms,
      roomQueries: this.roomQueries,
    };
    const fetch = dedupeFetches(this.fetch);
    return { state, output: { commit: diffRecords(this.base, state), send: this.send, publish: this.publish, deleteNodes: this.deleteNodes, fetch, events: this.events } };
  }

  // ---------------------------------------------------------------- accounts and trust

  account(jid: BareJid): AccountRecord {
    return this.accounts.get(jid) ?? emptyAccount(jid);
  }

  setAccount(record: AccountRecord): void {
    if (!this.accounts.has(record.jid) && this.accounts.size >= DEVICE_CONSTANTS.MAX_ACCOUNTS) {
      // @req device.bounds: at the bound, the oldest account with no session and nothing held or
      // decided by the user is forgotten (it is fetched again when it writes); otherwise refuse.
      const idle = [...this.accounts.values()].find((a) => a.jid !== this.device.jid && !this.hasPeers(a.jid) && ![...this.held.values()].some((h) => h.from.jid === a.jid) && !Object.values(a.trust.devices).some((d) => d.level !== 'undecided') && a.trust.accountKey?.level !== 'verified' && a.trust.accountKey?.level !== 'distrusted');
      if (idle === undefined) throw new SealError('length-out-of-range', `device engine: at most ${DEVICE_CONSTANTS.MAX_ACCOUNTS} accounts are tracked`);
      this.accounts.delete(idle.jid);
      this.listTexts.delete(idle.jid);
      this.listFetchedAt.delete(idle.jid);
    }
    this.accounts.set(record.jid, record);
  }

  hasPeers(jid: string): boolean {
    for (const peer of this.peers.values()) if (peer.jid === jid) return true;
    return false;
  }

  /** Whether a device with identity key `keyHex` may be used (identity.trust-*). */
  usable(jid: BareJid, id: DeviceId, keyHex: string): boolean {
    const account = this.account(jid);
    const pinned = account.trust.devices[id];
    // @req device.pinning: only the pinned key of a device is ever used.
    if (pinned === undefined || pinned.key !== keyHex) return false;
    if (jid === this.device.jid) return pinned.level !== 'distrusted';
    // @req identity.trust-distrusted
    // @req identity.trust-listed-key
    return isTrusted({ [jid]: account.trust }, this.policy, jid, id, fromHex(keyHex, 'key'), account.list);
  }

  keyTrust(jid: BareJid, id: DeviceId): 'verified' | 'trusted' {
    const account = this.account(jid);
    const pinned = account.trust.devices[id];
    if (pinned?.level === 'verified') return 'verified';
    const listed = account.list === undefined ? undefined : listedSigningKey(account.list, id);
    if (listed !== undefined && pinned !== undefined && toHex(listed) === pinned.key && account.trust.accountKey?.level === 'verified' && account.list?.accountKey !== undefined) return 'verified';
    return 'trusted';
  }

  pin(jid: BareJid, id: DeviceId, keyHex: string, level: TrustLevel = 'undecided'): void {
    const account = this.account(jid);
    const previous = account.trust.devices[id];
    const pendingDevices = { ...account.pendingDevices };
    delete pendingDevices[id];
    this.setAccount({ ...account, trust: { ...account.trust, devices: { ...account.trust.devices, [id]: { key: keyHex, level } } }, pendingDevices });
    // @req device.session-binding: sessions bound to another key are discarded with the old pin.
    const peer = this.peers.get(sessionKey(jid, id));
    if (previous !== undefined && previous.key !== keyHex && peer !== undefined && peer.signingKey !== keyHex) this.peers.delete(sessionKey(jid, id));
  }

  /** Asks the user about a key; `false` when the account already has as many device keys waiting as it may. */
  askDecision(jid: BareJid, id: DeviceId | undefined, reason: DecisionReason, key: string, previousKey: string | undefined): boolean {
    if (id !== undefined) {
      const account = this.account(jid);
      if (account.pendingDevices[id] === key) return true;
      // @req device.bounds: keys waiting for a decision are bounded per account (device ids are the sender's choice).
      if (account.pendingDevices[id] === undefined && Object.keys(account.pendingDevices).length >= DEVICE_CONSTANTS.MAX_HELD_PER_ACCOUNT) return false;
      this.setAccount({ ...account, pendingDevices: { ...account.pendingDevices, [id]: key } });
    }
    this.events.push({ kind: 'decision-needed', jid, deviceId: id, reason, key, previousKey });
    return true;
  }

  // ---------------------------------------------------------------- device lists

  /**
   * A device list fetched from, or notified by, `jid`'s PEP service.
   *
   * Implements requirements `identity.device-list-rollback`, `identity.key-change`,
   * `device.account-key`.
   */
  onDeviceList(jid: BareJid, element: Element | undefined): void {
    if (element === undefined) {
      // @req discovery.sticky: a list that disappears is a possible downgrade; the last accepted
      // list stays in use and the user is told.
      if (this.account(jid).list !== undefined) this.events.push({ kind: 'device-list-withdrawn', jid });
      // No list: the held stanzas of the account wait for a decision.
      this.reprocessHeld(jid, 'awaiting-device-list');
      this.dropPendingRepairs(jid);
      return;
    }
    const account = this.account(jid);
    const text = element.toString();
    if (this.listTexts.get(jid) === text && account.list !== undefined && account.pendingAccount === undefined) {
      // The list accepted last time, fetched again: nothing to verify or change.
      this.afterList(jid, account.list);
      return;
    }
    let verified: VerifiedDeviceList;
    try {
      // @req encoding.xml-well-formed: a fetched or notified list is read as XML text would be.
      const value = DeviceListElement.fromXml(wellFormedCopy(element));
      const accepted = account.trust.accountKey?.key;
      const listKey = value.account === undefined ? undefined : toHex(value.account.accountKey);
      // @req identity.device-list-rollback: the newest issued time per accepted account key.
      const newest = accepted !== undefined && listKey === accepted && account.list?.accountKey !== undefined ? account.list.issued : undefined;
      verified = verifyDeviceList(jid, value, newest);
    } catch (e) {
      this.fail(e, undefined, undefined, undefined);
      this.reprocessHeld(jid, 'awaiting-device-list');
      return;
    }
    const accepted = account.trust.accountKey;
    const listKey = verified.accountKey === undefined ? '' : toHex(verified.accountKey);
    if (accepted !== undefined && accepted.key !== listKey) {
      // @req identity.key-change: a list under another account key, or no longer signed, waits for the user.
      const pending = account.pendingAccount;
      if (pending === undefined || pending.key !== listKey || pending.list.issued < verified.issued) {
        this.setAccount({ ...account, pendingAccount: { key: listKey, list: verified } });
        if (pending?.key !== listKey) this.events.push({ kind: 'decision-needed', jid, deviceId: undefined, reason: listKey === '' ? 'account-key-removed' : 'account-key-changed', key: listKey, previousKey: accepted.key });
      }
      this.reprocessHeld(jid, 'awaiting-device-list');
      return;
    }
    if (accepted === undefined && listKey !== '') {
      // @req device.account-key: the first account key seen for an account is recorded (trust on first use).
      this.setAccount({ ...account, trust: { ...account.trust, accountKey: { key: listKey, level: 'undecided' } } });
    }
    const readded = jid === this.device.jid ? this.reannounceSelf(verified) : undefined;
    this.applyList(jid, readded?.verified ?? verified);
    this.listTexts.set(jid, readded?.text ?? text);
  }

  /**
   * How this device re-signs its own account's `list`: unsigned (undefined) for an unsigned list,
   * with the account key it holds for a signed one, or `'not-held'` when it does not hold the key
   * that signs the list.
   */
  listSigner(list: VerifiedDeviceList): { secretKey: Ed25519SecretKey; bindings: VerifiedDeviceList['bindings'] } | undefined | 'not-held' {
    if (list.accountKey === undefined) return undefined;
    const secret = this.accountSecret;
    if (secret === undefined || toHex(ed25519PublicKeyOf(secret)) !== toHex(list.accountKey)) return 'not-held';
    return { secretKey: secret, bindings: list.bindings };
  }

  /**
   * The user removes a device of this account: the list without it, signed with the account key
   * this device holds, is published, and the device's bundle node deleted. Removing this device
   * itself switches Seal off on it; when it is the last device, the device-list node is deleted
   * instead (a list holds at least one device), so that contacts no longer find a Seal device.
   *
   * Implements requirement `device.remove`.
   *
   * @throws SealError `invalid-value` when the device is not on the accepted own list;
   *   `account-key-required` when the list is signed and this device does not hold that key.
   */
  onRemoveDevice(id: DeviceId): void {
    const jid = this.device.jid;
    const account = this.account(jid);
    const list = account.list;
    if (list === undefined || !list.devices.some((d) => d.id === id)) throw new SealError('invalid-value', `${jid}: device ${id} is not on the account's device list`);
    const signer = this.listSigner(list);
    if (signer === 'not-held') throw new SealError('account-key-required', `${jid}: the device list is signed by an account key this device does not hold`);
    // @req device.remove: the removed device's bundle node goes with it.
    this.deleteNodes.push({ node: bundleNode(id) });
    this.peers.delete(sessionKey(jid, id));
    if (list.devices.length === 1) {
      // @req device.remove: the last device: no list can hold zero devices, so the node is deleted.
      this.deleteNodes.unshift({ node: DEVICE_LIST_NODE });
      this.setAccount({ ...account, list: undefined });
      this.listTexts.delete(jid);
      this.events.push({ kind: 'device-removed', jid, deviceId: id });
      return;
    }
    // @req device.remove: a re-signed list with a later issued time, published before the node is deleted.
    const next = removeDevice(jid, { issued: list.issued, devices: [...list.devices] }, id, this.now, signer);
    const element = DeviceListElement.toXml(next);
    this.publish.push({ node: DEVICE_LIST_NODE, item: element });
    this.applyList(jid, verifyDeviceList(jid, next));
    this.listTexts.set(jid, element.toString());
  }

  /**
   * This account's list, accepted, without this device: another device published a list built
   * from the same base as this device's own addition (two devices enrolling at once), or the user
   * removed this device. Within LIST_RACE_WINDOW of its addition (the `added` time of its entry on
   * the list it accepted before) the device adds itself again, signed with the account key it
   * holds, and publishes that list; later, or without the account key, it takes the removal as
   * deliberate and does not add itself (the list is applied, and `device-removed` names it).
   *
   * Implements requirement `device.list-race`.
   */
  reannounceSelf(verified: VerifiedDeviceList): { verified: VerifiedDeviceList; text: string } | undefined {
    const self = this.device.deviceId;
    if (verified.devices.some((d) => d.id === self)) return undefined;
    const before = this.account(this.device.jid).list?.devices.find((d) => d.id === self);
    // @req device.list-race: only while its own addition is younger than LIST_RACE_WINDOW, and
    // only with the account key that signs the list; a deliberate removal sticks.
    if (before === undefined || this.now - before.added >= DEVICE_CONSTANTS.LIST_RACE_WINDOW) return undefined;
    const signer = this.listSigner(verified);
    if (signer === 'not-held') return undefined;
    const entry = { id: self, added: before.added, signingKey: ed25519PublicKeyOf(this.device.signingKey), ...(before.label === undefined ? {} : { label: before.label }) };
    const list = addDevice(this.device.jid, { issued: verified.issued, devices: [...verified.devices] }, entry, this.now, signer);
    const element = DeviceListElement.toXml(list);
    this.publish.push({ node: DEVICE_LIST_NODE, item: element });
    this.events.push({ kind: 'device-reannounced', deviceId: self });
    return { verified: verifyDeviceList(this.device.jid, list), text: element.toString() };
  }

  applyList(jid: BareJid, verified: VerifiedDeviceList): void {
    let account = this.account(jid);
    const old = account.list;
    const signedByAccepted = verified.accountKey !== undefined && account.trust.accountKey !== undefined && toHex(verified.accountKey) === account.trust.accountKey.key && account.trust.accountKey.level !== 'distrusted';
    this.setAccount({ ...account, list: verified, pendingAccount: undefined });
    for (const d of verified.devices) {
      if (jid === this.device.jid && d.id === this.device.deviceId) continue;
      account = this.account(jid);
      const key = toHex(d.signingKey);
      const pinned = account.trust.devices[d.id];
      if (pinned === undefined) {
        this.pin(jid, d.id, key);
        if (old !== undefined) this.events.push({ kind: 'device-added', jid, deviceId: d.id });
      } else if (pinned.key !== key) {
        if (signedByAccepted) {
          // @req identity.key-change: the account key that signs the list vouches for the new key.
          this.pin(jid, d.id, key);
          this.events.push({ kind: 'key-changed', jid, deviceId: d.id, key, previousKey: pinned.key, acceptedBy: 'account-key' });
        } else {
          this.askDecision(jid, d.id, 'key-changed', key, pinned.key);
        }
      }
    }
    for (const d of old?.devices ?? []) {
      if (!verified.devices.some((n) => n.id === d.id)) this.events.push({ kind: 'device-removed', jid, deviceId: d.id });
    }
    this.afterList(jid, verified);
  }

  /** What waited for `jid`'s list: held stanzas, and repairs (a listed device gets a new session from its bundle). */
  afterList(jid: BareJid, verified: VerifiedDeviceList): void {
    this.reprocessHeld(jid, 'awaiting-device-list');
    for (const [peer, reason] of [...this.pendingRepairs]) {
      const [pj, pd] = splitPeer(peer);
      if (pj !== jid) continue;
      if (listedSigningKey(verified, pd) === undefined) this.pendingRepairs.delete(peer);
      else {
        this.pendingRepairs.set(peer, reason);
        // @req offline.repair-reset: the rate limit counts a repair that waited for the list too.
        this.repairs[peer] = this.now;
        this.fetch.push({ kind: 'bundle', jid, deviceId: toDeviceId(pd) });
      }
    }
  }

  dropPendingRepairs(jid: BareJid): void {
    for (const peer of [...this.pendingRepairs.keys()]) if (splitPeer(peer)[0] === jid) this.pendingRepairs.delete(peer);
  }

  // ---------------------------------------------------------------- bundles and new sessions

  /** A bundle fetched for `jid`'s device `id`: starts a session with it when one is wanted. */
  onBundle(jid: BareJid, id: DeviceId, element: Element | undefined): void {
    if (jid === this.device.jid && id === this.device.deviceId) return this.onOwnBundle(element);
    const peer = sessionKey(jid, id);
    const repair = this.pendingRepairs.get(peer);
    this.pendingRepairs.delete(peer);
    if (element === undefined) return;
    const account = this.account(jid);
    if (account.list === undefined || listedSigningKey(account.list, id) === undefined) return;
    const existing = this.peers.get(peer);
    if (existing !== undefined && repair === undefined) return;
    let bundle: ReturnType<typeof verifyBundle>;
    try {
      // @req identity.device-list-keys: the bundle's key must be the one the list names.
      bundle = verifyBundle(BundleElement.fromXml(wellFormedCopy(element)), { jid, deviceId: id, now: this.now, deviceList: account.list });
    } catch (e) {
      // @req device.stale: a device of this account whose prekeys expired cannot be reached; the user is offered its removal.
      if (jid === this.device.jid && isSealError(e) && e.code === 'expired-prekey') this.events.push({ kind: 'device-stale', jid, deviceId: id });
      this.fail(e, { jid, deviceId: id }, undefined, undefined);
      return;
    }
    const key = toHex(bundle.signingKey);
    const pinned = account.trust.devices[id];
    if (pinned === undefined) this.pin(jid, id, key);
    else if (pinned.key !== key) {
      this.askDecision(jid, id, 'key-changed', key, pinned.key);
      return;
    }
    if (!this.usable(jid, id, key)) {
      if (this.account(jid).trust.devices[id]?.level !== 'distrusted') this.askDecision(jid, id, 'undecided-key', key, undefined);
      return;
    }
    const started = initiateAsync({ self: this.device, peer: bundle, rng: this.rng, knownPeerSigningKey: fromHex(key, 'key') });
    const ratchet = startRatchet(started.session, this.rng);
    const previous = existing?.session.ratchet;
    this.peers.set(peer, {
      jid,
      deviceId: id,
      signingKey: key,
      session: { ratchet, confirmation: { state: 'unconfirmed', header: started.header }, ...(previous === undefined ? {} : { alternate: previous }) },
      alternateSince: previous === undefined ? undefined : this.now,
      activeSent: false,
      activeOpened: false,
      receivedSinceSend: 0,
    });
    this.events.push({ kind: 'session-started', peer: { jid, deviceId: id }, handshake: 'async', role: 'initiator', sessionId: toHex(started.session.sessionId) });
    if (repair !== undefined) {
      // @req offline.repair-reset: the repair is the new session itself, announced by a key-only message.
      this.sendKeyOnly(jid, id);
      this.events.push({ kind: 'repair-sent', peer: { jid, deviceId: id }, reason: repair });
    }
  }

  /**
   * This device's own bundle as its PEP service serves it, fetched after a start from the store:
   * when it shows a newer state than the one loaded, the store was restored from an older copy.
   *
   * Implements requirements `offline.restore-detect`, `offline.restore-rotate`, `offline.restore-sessions`.
   */
  onOwnBundle(element: Element | undefined): void {
    if (element === undefined) return;
    let published: ReturnType<typeof BundleElement.fromXml>;
    try {
      published = BundleElement.fromXml(wellFormedCopy(element));
    } catch (e) {
      this.fail(e, undefined, undefined, undefined);
      return;
    }
    // Not this device's keys: a server's substitute, which the next publish replaces; it proves nothing.
    if (toHex(published.identity.signingKey) !== toHex(ed25519PublicKeyOf(this.device.signingKey))) return;
    // @req offline.restore-detect
    if (!restoredFromBackup(this.device, published)) return;
    const newestId = Math.max(published.signedPrekey.id, published.kemPrekey.id, ...published.oneTimePrekeys.map((k) => k.id));
    // @req offline.restore-rotate: every prekey replaced, the old ones deleted at once, and the
    // handshake log with them (its entries name signed prekeys no longer held).
    this.device = rotateAfterRestore(this.device, this.now, this.rng, newestId + 1);
    this.log = [];
    this.bundleChanged = true;
    // @req offline.restore-sessions: no session of the old copy is used again, to send (its message
    // keys were used after the copy was made) or to receive (its messages could be opened twice);
    // a new session is started with every peer device, announced as a repair.
    const peers = [...this.peers.values()];
    for (const record of peers) {
      const peer = sessionKey(record.jid, record.deviceId);
      this.peers.delete(peer);
      this.pendingRepairs.set(peer, 'restored');
      this.repairs[peer] = this.now;
      this.fetch.push({ kind: 'bundle', jid: record.jid, deviceId: record.deviceId });
    }
    this.events.push({ kind: 'restored', sessions: peers.length });
  }

  // ---------------------------------------------------------------- sending

  /** Which bundles must be fetched before a message to `to` reaches every usable device. */
  missingSessions(to: BareJid): FetchRequest[] {
    const wanted: FetchRequest[] = [];
    for (const jid of to === this.device.jid ? [to] : [to, this.device.jid]) {
      for (const d of this.account(jid).list?.devices ?? []) {
        if (jid === this.device.jid && d.id === this.device.deviceId) continue;
        if (this.peers.has(sessionKey(jid, d.id))) continue;
        if (!this.usable(jid, d.id, toHex(d.signingKey))) continue;
        wanted.push({ kind: 'bundle', jid, deviceId: d.id });
      }
    }
    return wanted;
  }

  /** Recipients of a message to `to`: every usable listed device with a session, and this account's other devices. */
  recipients(to: BareJid): DeviceAddress[] {
    const out: DeviceAddress[] = [];
    for (const jid of to === this.device.jid ? [to] : [to, this.device.jid]) {
      for (const d of this.account(jid).list?.devices ?? []) {
        if (jid === this.device.jid && d.id === this.device.deviceId) continue;
        const peer = this.peers.get(sessionKey(jid, d.id));
        // @req device.session-binding: a session is used only with the key it is bound to.
        if (peer === undefined || peer.signingKey !== toHex(d.signingKey) || !this.usable(jid, d.id, peer.signingKey)) continue;
        // A session that cannot send yet (the responder of an interactive handshake before the
        // initiator's first message) and no previous one that can: the device is not reachable
        // now, like one without a session (found by the L0 system model).
        if (!canSend(peer.session.ratchet) && !(peer.session.alternate !== undefined && canSend(peer.session.alternate))) continue;
        out.push({ jid, deviceId: d.id });
      }
    }
    return out;
  }

  /**
   * Seals `content` for `to`.
   *
   * Implements requirement `device.send-no-device`.
   */
  onSend(to: BareJid, content: readonly Element[], id: string): void {
    const list = this.account(to).list;
    // @req device.send-no-device: no silent success for a contact without Seal.
    if (list === undefined || list.devices.every((d) => to === this.device.jid && d.id === this.device.deviceId)) {
      throw new SealError('no-devices', `${to}: publishes no Seal device list (or no other device)`);
    }
    const recipients = this.recipients(to);
    if (!recipients.some((r) => r.jid === to)) {
      throw new SealError('untrusted-key', `${to}: no device of the account can be encrypted to (no session, no session that can send yet, or every key waits for a decision or is distrusted)`);
    }
    const from = this.device.jid;
    const senderDeviceId = this.device.deviceId;
    this.sealFor(
      recipients,
      (sessions) => {
        // @req envelope.stanza-size: no stanza above MAX_STANZA_BYTES; headers go ahead in key-only stanzas when they would not fit.
        const sealed = sealWithinLimit({
          recipients,
          sessions,
          maxBytes: ENVELOPE_CONSTANTS.MAX_STANZA_BYTES,
          batch: ENVELOPE_CONSTANTS.HEADER_BATCH,
          what: to,
          seal: (s) => sealStanza({ to, from, id, senderDeviceId, content, recipients, sessions: s, rng: this.rng, now: this.now }),
          sealKeys: (batch, s, n) => sealKeyOnly({ to, from, id: `${id}-k${n}`, senderDeviceId, recipients: batch, sessions: s, rng: this.rng, now: this.now }),
        });
        for (const stanza of sealed.stanzas.slice(0, -1)) this.enqueue(stanza);
        return { stanza: sealed.stanzas.at(-1)!, sessions: sealed.sessions };
      },
      to,
    );
  }

  /** Seals with the sessions of `recipients` (using the previous session of a peer whose new one cannot send yet) and records the effects. */
  sealFor(recipients: readonly DeviceAddress[], seal: (sessions: Map<string, PeerSession>) => { stanza: Element; sessions: Map<string, PeerSession> }, _to: string): void {
    const view = new Map<string, PeerSession>();
    const usedAlternate = new Set<string>();
    for (const r of recipients) {
      const key = sessionKey(r.jid, r.deviceId);
      const peer = this.peers.get(key)!;
      if (!canSend(peer.session.ratchet) && peer.session.alternate !== undefined && canSend(peer.session.alternate)) {
        view.set(key, { ratchet: peer.session.alternate, confirmation: { state: 'confirmed' } });
        usedAlternate.add(key);
      } else view.set(key, peer.session);
    }
    const sealed = seal(view);
    for (const r of recipients) {
      const key = sessionKey(r.jid, r.deviceId);
      const peer = this.peers.get(key)!;
      const next = sealed.sessions.get(key)!;
      const session: PeerSession = usedAlternate.has(key) ? { ...peer.session, alternate: next.ratchet } : next;
      this.peers.set(key, this.pruneAlternate({ ...peer, session, activeSent: peer.activeSent || !usedAlternate.has(key), receivedSinceSend: 0 }));
    }
    this.enqueue(sealed.stanza);
  }

  /**
   * Sends a key-only message to one device.
   *
   * Implements requirement `device.key-only`.
   */
  sendKeyOnly(jid: BareJid, id: DeviceId): void {
    const recipients = [{ jid, deviceId: id }];
    const peer = this.peers.get(sessionKey(jid, id));
    if (peer === undefined || (!canSend(peer.session.ratchet) && !(peer.session.alternate !== undefined && canSend(peer.session.alternate)))) return;
    // @req device.key-only
    this.sealFor(recipients, (sessions) => sealKeyOnly({ to: jid, from: this.device.jid, id: `seal-k-${this.device.deviceId}-${this.seq + 1}`, senderDeviceId: this.device.deviceId, recipients, sessions, rng: this.rng, now: this.now }), jid);
  }

  enqueue(stanza: Element): void {
    const outboxId = this.nextSeq();
    // @req device.outbox: a stanza is committed before it is handed to the server.
    this.outbox.set(outboxId, stanza.toString());
    this.send.push({ outboxId, stanza });
  }

  pruneAlternate(peer: PeerRecord): PeerRecord {
    const session = peer.session;
    if (session.alternate === undefined) return peer.alternateSince === undefined ? peer : { ...peer, alternateSince: undefined };
    const since = peer.alternateSince ?? this.now;
    // @req offline.previous-session: kept until the new session carried messages both ways, or for SKIPPED_KEY_MAX_AGE.
    if ((peer.activeSent && peer.activeOpened) || this.now - since > ENVELOPE_CONSTANTS.SKIPPED_KEY_MAX_AGE) {
      const { alternate: _dropped, ...rest } = session;
      return { ...peer, session: rest, alternateSince: undefined };
    }
    return peer.alternateSince === undefined ? { ...peer, alternateSince: since } : peer;
  }

  // ---------------------------------------------------------------- receiving

  onStanza(stanza: Element): void {
    if (isStanza(stanza, 'iq')) {
      let iq: Element;
      try {
        // @req encoding.xml-well-formed
        iq = wellFormedCopy(stanza);
      } catch (e) {
        this.fail(e, undefined, undefined, stanzaIdOf(stanza));
        return;
      }
      this.onIq(iq, false);
      return;
    }
    // §groups: stanzas from a room this device tracks (notices, room archive results, room messages).
    if (onRoomStanza(this, stanza)) return;
    const incoming = classifyIncoming(stanza, this.device.jid, this.queries);
    switch (incoming.kind) {
      case 'ignored':
        return;
      case 'forged':
        // @req offline.forwarded-carbons
        this.events.push({ kind: 'failed', code: 'forged-forward', message: incoming.reason, from: undefined, via: undefined, stanzaId: stanzaIdOf(stanza) });
        return;
      case 'bounce':
        // @req device.no-repair-for-bounces: an error bounce is reported, never answered.
        this.events.push({ kind: 'bounced', stanzaId: incoming.stanzaId, to: incoming.to, condition: incoming.condition });
        return;
      case 'device-list-notification': {
        let jid: BareJid;
        try {
          jid = bareJid(incoming.jid);
        } catch (e) {
          this.fail(e, undefined, undefined, stanzaIdOf(stanza));
          return;
        }
        this.onDeviceList(jid, incoming.list);
        return;
      }
      case 'message':
        // §groups: a groupchat message is a room's, never a one-to-one message from its occupant JID.
        if (isGroupchat(incoming.message)) return onRoomMessage(this, incoming.message, incoming.via, incoming.stamp);
        this.onMessage(incoming.message, incoming.via, false, incoming.stamp);
        return;
      default: {
        const never: never = incoming;
        return never;
      }
    }
  }

  fail(e: unknown, from: DeviceAddress | undefined, via: Via | undefined, stanzaId: string | undefined): SealErrorCode {
    const error = isSealError(e) ? e : new SealError('schema-violation', 'input could not be processed');
    this.events.push({ kind: 'failed', code: error.code, message: error.message, from, via, stanzaId });
    return error.code;
  }

  /**
   * Whether a handshake from `jid`'s device `id` presenting identity key `keyHex` may be
   * processed now, must wait (for a device list or the user), or is refused.
   *
   * Implements requirements `device.pinning` and `device.unlisted-device`.
   */
  admit(jid: BareJid, id: DeviceId, keyHex: string, listFetched: boolean): 'ok' | 'hold-list' | 'hold-decision' | 'refuse' {
    const account = this.account(jid);
    const pinned = account.trust.devices[id];
    if (pinned !== undefined) {
      if (pinned.key === keyHex) {
        if (this.usable(jid, id, keyHex)) return 'ok';
        if (pinned.level === 'distrusted') return 'refuse';
        return this.askDecision(jid, id, 'undecided-key', keyHex, undefined) ? 'hold-decision' : 'refuse';
      }
      // @req device.pinning: another key for a known device id never replaces its sessions by itself.
      if (!listFetched) return 'hold-list';
      return this.askDecision(jid, id, 'key-changed', keyHex, pinned.key) ? 'hold-decision' : 'refuse';
    }
    const listed = account.list === undefined ? undefined : listedSigningKey(account.list, id);
    if (listed !== undefined && toHex(listed) === keyHex) {
      this.pin(jid, id, keyHex);
      return this.admit(jid, id, keyHex, listFetched);
    }
    // @req device.unlisted-device: a device on none of the account's lists (a server can invent one) waits.
    if (!listFetched) return 'hold-list';
    return this.askDecision(jid, id, listed === undefined ? 'unlisted-device' : 'key-changed', keyHex, listed === undefined ? undefined : toHex(listed)) ? 'hold-decision' : 'refuse';
  }

  hold(message: Element, via: Via, from: DeviceAddress, reason: HeldStanza['reason'], stamp?: number): void {
    const mine = [...this.held.values()].filter((h) => h.from.jid === from.jid);
    // @req device.bounds: held stanzas are bounded per account and in total; the oldest goes first.
    if (mine.length >= DEVICE_CONSTANTS.MAX_HELD_PER_ACCOUNT) this.dropHeld(mine[0]!);
    if (this.held.size >= DEVICE_CONSTANTS.MAX_HELD_STANZAS) this.dropHeld(this.held.values().next().value!);
    const seq = this.nextSeq();
    this.held.set(seq, { seq, stanza: message.toString(), via, from, reason, received: this.now, ...(stamp === undefined ? {} : { stamp }) });
    this.events.push({ kind: 'held', from, reason });
    // @req device.bounds: at most one list fetch per account and LIST_FETCH_INTERVAL however many
    // stanzas wait for it (the device ids are the sender's choice); later ones wait for the next
    // list (a notification, a send, or the fetch a tick makes once the interval has passed).
    const waiting = mine.some((h) => h.reason === 'awaiting-device-list' && this.held.has(h.seq));
    if (reason === 'awaiting-device-list' && !waiting && this.mayFetchList(from.jid)) this.fetchListForHeld(from.jid);
  }

  fetchListForHeld(jid: BareJid): void {
    this.listFetchedAt.set(jid, [...this.recentListFetches(jid), this.now]);
    // @req identity.pep-notify: a stanza from a device the accepted list does not hold makes the device fetch the list, never wait for a notification.
    this.fetch.push({ kind: 'device-list', jid });
  }

  recentListFetches(jid: BareJid): readonly number[] {
    return (this.listFetchedAt.get(jid) ?? []).filter((t) => this.now - t < DEVICE_CONSTANTS.LIST_FETCH_INTERVAL && t <= this.now);
  }

  mayFetchList(jid: BareJid): boolean {
    return this.recentListFetches(jid).length < DEVICE_CONSTANTS.MAX_LIST_FETCHES;
  }

  dropHeld(held: HeldStanza): void {
    this.held.delete(held.seq);
    this.refuseHeldIq(held);
    this.events.push({ kind: 'failed', code: 'untrusted-key', message: `held stanza from device ${held.from.deviceId} of ${held.from.jid} dropped (no decision in time, or too many held)`, from: held.from, via: held.via, stanzaId: undefined });
  }

  /** Processes again the held stanzas of `jid` (optionally only those of one device or reason). */
  reprocessHeld(jid: BareJid, reason: HeldStanza['reason'] | undefined, deviceId?: DeviceId): void {
    for (const held of [...this.held.values()]) {
      if (held.from.jid !== jid || (reason !== undefined && held.reason !== reason) || (deviceId !== undefined && held.from.deviceId !== deviceId)) continue;
      this.held.delete(held.seq);
      let message: Element;
      try {
        message = parseXml(held.stanza);
      } catch (e) {
        this.fail(e, held.from, held.via, undefined);
        continue;
      }
      // A held interactive step (an iq) is answered now that it is processed.
      if (isStanza(message, 'iq')) this.onIq(message, true);
      // A held message is checked against its server stamp, or else against when it arrived.
      else this.onMessage(message, held.via, true, held.stamp ?? held.received);
    }
  }

  onMessage(message: Element, via: Via, listFetched: boolean, stamp?: number): void {
    const stanzaId = stanzaIdOf(message);
    // @req handshake.interactive-iq: handshake steps travel in iq stanzas only; one in a message
    // (a copy through carbons or the archive, or a sender that does not follow this version) is ignored.
    if (message.getChild('interactive', SEAL_NS) !== undefined) return;
    const sealedElement = message.getChild('sealed', SEAL_NS);
    if (sealedElement === undefined) return;
    let from: DeviceAddress;
    let keyOnly: boolean;
    let handshakeKey: string | undefined;
    let mine: boolean;
    let attempt: { readonly fingerprint: string; readonly ratchetKey: string; readonly counter: number } | undefined;
    try {
      const sealed = SealedElement.fromXml(sealedElement);
      from = { jid: bareJid(bareOf(String(message.attrs.from ?? ''))), deviceId: toDeviceId(sealed.sid) };
      keyOnly = sealed.payload === undefined;
      const key = sealed.recipients.find((r) => r.jid === this.device.jid)?.keys.find((k) => k.rid === this.device.deviceId);
      mine = key !== undefined;
      const wrapped = key === undefined ? undefined : decodeWrappedKey(key.data, key.handshake);
      handshakeKey = wrapped?.handshake === undefined ? undefined : toHex(wrapped.handshake.initiator.signingKey);
      if (key !== undefined && wrapped !== undefined) attempt = failedOpenKey(from, key.data, key.handshake, sealed.commitment, sealed.payload, wrapped.header);
    } catch (e) {
      this.fail(e, undefined, via, stanzaId);
      return;
    }
    // A device's own stanzas come back through the archive (and a server may reflect them): nothing to open.
    if (from.jid === this.device.jid && from.deviceId === this.device.deviceId) return;
    if (!mine) {
      // @req device.key-only: a key-only message for another device is not this device's business.
      if (keyOnly) return;
      this.events.push({ kind: 'failed', code: 'not-for-this-device', message: `not encrypted for device ${this.device.deviceId}`, from, via, stanzaId });
      this.maybeRepair(from, 'not-for-this-device', via);
      return;
    }
    const key = sessionKey(from.jid, from.deviceId);
    const existing = this.peers.get(key);
    if (handshakeKey !== undefined) {
      const verdict = this.admit(from.jid, from.deviceId, handshakeKey, listFetched);
      if (verdict === 'hold-list') return this.hold(message, via, from, 'awaiting-device-list', stamp);
      if (verdict === 'hold-decision') return this.hold(message, via, from, 'awaiting-decision', stamp);
      if (verdict === 'refuse') {
        this.events.push({ kind: 'failed', code: 'untrusted-key', message: `device ${from.deviceId} of ${from.jid}: its key is distrusted, or too many keys of the account wait for a decision`, from, via, stanzaId });
        return;
      }
    } else if (existing !== undefined && !this.usable(from.jid, from.deviceId, existing.signingKey)) {
      // @req identity.trust-distrusted: no message is accepted as authentic from a distrusted device.
      this.events.push({ kind: 'failed', code: 'untrusted-key', message: `device ${from.deviceId} of ${from.jid}: its key is not trusted`, from, via, stanzaId });
      return;
    }
    const pinned = this.account(from.jid).trust.devices[from.deviceId]?.key;
    // @req envelope.forgery-cost: a stanza that failed to authenticate against these very sessions,
    // prekeys and handshake log fails the same way again; its re-delivery costs a lookup.
    const failedBefore = attempt === undefined ? undefined : this.failedOpens?.get(attempt.fingerprint);
    if (failedBefore !== undefined && sameFailureState(failedBefore, { peer: existing, device: this.device, log: this.log, pinned, now: this.now })) {
      const code = this.fail(new SealError(failedBefore.code, failedBefore.message), from, via, stanzaId);
      this.maybeRepair(from, code, via);
      return;
    }
    const sessions = new Map<string, PeerSession>(existing === undefined ? [] : [[key, existing.session]]);
    const result = openStanza({ stanza: message, self: this.device, log: this.log, sessions, now: this.now, knownSigningKey: (j, d) => (j === from.jid && d === from.deviceId && pinned !== undefined ? fromHex(pinned, 'key') : undefined) });
    if (result.kind === 'duplicate') {
      this.events.push({ kind: 'duplicate', from, via, stanzaId });
      return;
    }
    if (result.kind === 'not-for-this-device') return;
    if (result.kind === 'error') {
      const code = this.fail(result.error, from, via, stanzaId);
      if (code === 'authentication-failed' && attempt !== undefined && !namesStoredKey(existing, attempt)) this.rememberFailedOpen(attempt.fingerprint, failureAgainst({ peer: existing, device: this.device, log: this.log, pinned }, code, result.error.message));
      this.maybeRepair(from, code, via);
      return;
    }
    const established = result.log !== this.log;
    let next = result.sessions.get(key)!;
    // @req offline.replenish: a used one-time prekey leaves the published bundle at once, so no
    // second initiator picks it (its handshake would fail and its message would be lost).
    if (result.state.oneTimePrekeys.length !== this.device.oneTimePrekeys.length) this.bundleChanged = true;
    this.device = result.state;
    this.log = result.log;
    const openedOnActive = existing === undefined || next.ratchet !== existing.session.ratchet;
    if (!established && handshakeKey !== undefined && !openedOnActive && next.confirmation.state === 'unconfirmed' && next.alternate !== undefined && compareBytes(next.alternate.sessionId, next.ratchet.sessionId) < 0) {
      // @req offline.simultaneous: the peer still attaches its handshake header to the kept
      // session (it has heard nothing on it: its own initiation) while this device's own newer
      // session is unconfirmed — the peer ranked the two by session id, so this device does the
      // same: the smaller one becomes active (a repair that crossed the peer's own handshake
      // converges). A late message of a replaced session carries no header and moves nothing.
      next = { ratchet: next.alternate, confirmation: { state: 'confirmed' }, alternate: next.ratchet };
    }
    const onActive = openedOnActive;
    const replacedConfirmed = established && existing !== undefined && existing.session.confirmation.state === 'confirmed';
    // A late message opened on the previous session advances that session (a new object): only
    // another session becoming the previous one restarts the counters of offline.previous-session.
    const previousId = (r: RatchetState | undefined) => (r === undefined ? undefined : toHex(r.sessionId));
    const alternateChanged = previousId(next.alternate) !== previousId(existing?.session.alternate);
    const record: PeerRecord = this.pruneAlternate({
      jid: from.jid,
      deviceId: from.deviceId,
      signingKey: pinned ?? handshakeKey!,
      session: next,
      alternateSince: alternateChanged ? (next.alternate === undefined ? undefined : this.now) : existing?.alternateSince,
      activeSent: alternateChanged ? false : (existing?.activeSent ?? false),
      // The peer has answered this device on the active session when a message there carries a
      // new ratchet key after this device sent on it: the peer received that message and has
      // switched; only then (offline.previous-session) may the previous session go.
      activeOpened: (alternateChanged ? false : (existing?.activeOpened ?? false)) || (onActive && !alternateChanged && existing !== undefined && existing.activeSent && toHex(next.ratchet.sessionId) === toHex(existing.session.ratchet.sessionId) && hexOf(next.ratchet.remoteRatchetKey) !== hexOf(existing.session.ratchet.remoteRatchetKey)),
      receivedSinceSend: (existing?.receivedSinceSend ?? 0) + (onActive ? 1 : 0),
    });
    this.peers.set(key, record);
    if (established) {
      this.events.push({ kind: 'session-started', peer: from, handshake: 'async', role: 'responder', sessionId: toHex((onActive ? next.ratchet : (next.alternate ?? next.ratchet)).sessionId) });
      if (replacedConfirmed) this.events.push({ kind: 'repair-received', peer: from });
    }
    if (!result.keyOnly) {
      const eventId = this.nextSeq();
      const event: InboxEvent = {
        kind: 'opened',
        eventId,
        stanzaId,
        from,
        to: bareJid(bareOf(String(message.attrs.to ?? this.device.jid))),
        via,
        trust: this.keyTrust(from.jid, from.deviceId),
        content: result.content,
        body: contentBody(result.content) ?? '',
        files: openedFiles(result.content),
        time: result.time,
        ...clockCheck(result.time, stamp ?? (via === 'live' || via === 'carbon-sent' || via === 'carbon-received' ? this.now : undefined)),
        // §groups: only the groups path hands a groupchat message here, addressed to its room.
        ...(isGroupchat(message) ? { room: bareJid(bareOf(String(message.attrs.to))) } : {}),
      };
      // @req device.inbox: the opened message is committed before the application sees it.
      this.inbox.set(eventId, event);
      this.events.push(event);
    }
    // @req device.key-only: a new session is confirmed at once, and one-way traffic gets a heartbeat.
    if (established && via !== 'archive') this.sendKeyOnly(from.jid, from.deviceId);
    else if (this.peers.get(key)!.receivedSinceSend >= DEVICE_CONSTANTS.HEARTBEAT_INTERVAL) this.sendKeyOnly(from.jid, from.deviceId);
    this.maintainPrekeys();
  }

  rememberFailedOpen(fingerprint: string, failure: FailedOpen): void {
    if (this.failedOpens === undefined) return;
    this.failedOpens.delete(fingerprint);
    // @req device.bounds: the memory of failed stanzas is bounded; the oldest is forgotten first.
    if (this.failedOpens.size >= DEVICE_CONSTANTS.MAX_FAILED_STANZAS) this.failedOpens.delete(this.failedOpens.keys().next().value!);
    this.failedOpens.set(fingerprint, failure);
  }

  maintainPrekeys(): void {
    // @req offline.replenish
    // @req offline.rotate
    const refill = replenishOneTimePrekeys(this.device, this.rng);
    const rotated = rotatePrekeys(refill.state, this.now, this.rng, this.log);
    // @req offline.prekey-lifetime: a prekey past expires + PREKEY_GRACE_PERIOD is deleted in this
    // step even when nothing is rotated or republished (the bundle carries only the current keys).
    if (rotated.state !== this.device) this.device = rotated.state;
    if (refill.changed || rotated.changed) this.bundleChanged = true;
  }

  /**
   * After a failed message, starts a new session with the sending device when a new session can
   * fix the failure: never for archive results, error bounces, replays and old keys
   * (`message-key-unavailable`) or the device itself; only for a device on the sender account's
   * verified list, and at most once per REPAIR_INTERVAL per device.
   *
   * Implements requirements `offline.repair-signal` and `offline.repair-reset`.
   */
  maybeRepair(from: DeviceAddress, reason: SessionRepairReason, via: Via): void {
    // @req offline.repair-signal
    if (via === 'archive' || !REPAIRABLE.has(reason)) return;
    if (from.jid === this.device.jid && from.deviceId === this.device.deviceId) return;
    const peer = sessionKey(from.jid, from.deviceId);
    const last = this.repairs[peer];
    // @req device.bounds: repairs are rate-limited per listed device, and pending ones are bounded.
    if ((last !== undefined && this.now - last < DEVICE_CONSTANTS.REPAIR_INTERVAL) || this.pendingRepairs.has(peer)) return;
    if (this.pendingRepairs.size >= DEVICE_CONSTANTS.MAX_PENDING_REPAIRS) return;
    const account = this.account(from.jid);
    const listed = account.list === undefined ? undefined : listedSigningKey(account.list, from.deviceId);
    if (account.trust.devices[from.deviceId]?.level === 'distrusted') return;
    this.pendingRepairs.set(peer, reason);
    if (listed === undefined) {
      this.fetch.push({ kind: 'device-list', jid: from.jid });
      return;
    }
    this.repairs[peer] = this.now;
    this.fetch.push({ kind: 'bundle', jid: from.jid, deviceId: from.deviceId });
  }

  // ---------------------------------------------------------------- interactive handshakes

  /** The key an interactive peer must present: the pinned one, or the one its list names. */
  interactiveKey(jid: BareJid, id: DeviceId): string | undefined {
    const account = this.account(jid);
    const pinned = account.trust.devices[id];
    if (pinned !== undefined) return this.usable(jid, id, pinned.key) ? pinned.key : undefined;
    const listed = account.list === undefined ? undefined : listedSigningKey(account.list, id);
    if (listed === undefined) return undefined;
    this.pin(jid, id, toHex(listed));
    return this.usable(jid, id, toHex(listed)) ? toHex(listed) : undefined;
  }

  /**
   * Starts an interactive handshake with the device at `peerFullJid`: device `id`, or the device
   * the full JID's disco#info (`info`, the `<query/>` of its result) names, which must offer the
   * feature (and, with both given, name `id`).
   *
   * Implements requirements `device.interactive-pinning` and `handshake.interactive-discovery`.
   */
  onStartInteractive(peerFullJid: string, id: DeviceId | undefined, info: Element | undefined): void {
    const jid = bareJid(bareOf(peerFullJid));
    if (info !== undefined) {
      const offered = readInteractiveDiscoInfo(info);
      // @req handshake.interactive-discovery: no handshake with a resource that does not offer it;
      // the device id comes from its Seal form (and must be on the list, below).
      if (!offered.interactive) throw new SealError('interactive-unsupported', `${peerFullJid}: its disco#info does not offer urn:xmpp:seal:0:interactive`);
      if (offered.deviceId === undefined || (id !== undefined && offered.deviceId !== id)) throw new SealError('interactive-unsupported', `${peerFullJid}: its disco#info names no Seal device, or another one than ${String(id)}`);
      id = toDeviceId(offered.deviceId);
    }
    if (id === undefined) throw new SealError('invalid-value', 'start-interactive: expected a device id or the peer\'s disco#info');
    const known = this.interactiveKey(jid, id);
    // @req device.interactive-pinning: the initiator completes XX only with a key a list or decision vouches for.
    if (known === undefined) throw new SealError('untrusted-key', `device ${id} of ${jid}: no pinned or listed key to authenticate an interactive handshake`);
    const started = startInteractive({ self: this.device, peer: { jid, deviceId: id }, rng: this.rng, now: this.now });
    this.addInteractive(started.message.sid, { state: started.state, peerFullJid });
    this.sendInteractive(peerFullJid, started.message);
  }

  addInteractive(sid: string, pending: PendingInteractive): void {
    // @req device.bounds: pending interactive handshakes are bounded and expire; so, apart, are the
    // completed ones whose message 3 awaits its answer.
    const alike = [...this.interactive].filter(([, p]) => (p.adopted === undefined) === (pending.adopted === undefined));
    if (alike.length >= DEVICE_CONSTANTS.MAX_PENDING_INTERACTIVE) this.interactive.delete(alike[0]![0]);
    this.interactive.set(sid, pending);
  }

  sendInteractive(to: string, message: InteractiveMessageValue): void {
    // @req handshake.interactive-iq: each step is an iq set to the peer's full JID (never carbon-copied
    // nor stored offline). Live and useless after a restart: sent without the outbox.
    this.send.push({ outboxId: '', stanza: interactiveIq(to, message) });
  }

  /** Hands an iq answer to the shell (live, without the outbox, as the request it answers). */
  answer(stanza: Element): void {
    this.send.push({ outboxId: '', stanza });
  }

  /** A held iq that will not be processed is still answered (RFC 6120 §8.2.3: every request gets one answer). */
  refuseHeldIq(held: HeldStanza): void {
    let stanza: Element;
    try {
      stanza = parseXml(held.stanza);
    } catch {
      return;
    }
    // @req handshake.interactive-iq
    if (isStanza(stanza, 'iq')) this.answer(iqError(stanza, 'cancel', 'not-acceptable'));
  }

  /**
   * An incoming iq: a step of an interactive handshake (set), a disco#info query of this device's
   * full JID (get), the answer to a step this device sent (result, error), or anything else, which
   * gets `service-unavailable` (RFC 6120 §8.4) and changes nothing.
   *
   * Implements requirements `handshake.interactive-iq`, `handshake.interactive-fail-fast` and
   * `handshake.interactive-discovery`.
   */
  onIq(iq: Element, listFetched: boolean): void {
    const type = iq.attrs.type;
    if (type === 'result' || type === 'error') return this.onIqAnswer(iq);
    if (type !== 'get' && type !== 'set') return;
    const children = childElements(iq);
    const child = children.length === 1 ? children[0]! : undefined;
    if (type === 'set' && child !== undefined && isNamed(child, 'interactive', SEAL_NS)) return this.onInteractive(iq, child, listFetched);
    if (type === 'get' && child !== undefined && isNamed(child, 'query', DISCO_INFO_NS)) {
      // @req handshake.interactive-discovery: the device advertises the feature and its device id on its full JID.
      // @req identity.pep-notify: and Seal with interest in device-list notifications (XEP-0163 §4),
      // also under the node its caps name (XEP-0115 §6.2), which a server asks to learn +notify.
      const info = sealDiscoInfo(this.device.deviceId);
      const node = child.attrs.node as string | undefined;
      if (node === undefined || node === `${SEAL_CAPS_NODE}#${capsVer(info)}`) {
        this.answer(iqResult(iq, [node === undefined ? info : xml('query', { xmlns: DISCO_INFO_NS, node }, childElements(info))]));
        return;
      }
      this.answer(iqError(iq, 'cancel', 'item-not-found'));
      return;
    }
    this.answer(iqError(iq, children.length === 1 ? 'cancel' : 'modify', children.length === 1 ? 'service-unavailable' : 'bad-request'));
  }

  /** The answer to a step this device sent: a result moves nothing (but ends the wait for message 3's); an error abandons the handshake at once. */
  onIqAnswer(iq: Element): void {
    const named = parseInteractiveIqId(iq.attrs.id);
    if (named === undefined) return;
    const pending = this.interactive.get(named.sid);
    const initiator = pending?.state.step === 'initiator-awaiting-2';
    // Only the answer to a step this device sent, from the full JID it sent it to.
    if (pending === undefined || String(iq.attrs.from ?? '') !== pending.peerFullJid || (initiator ? named.step === 2 : named.step !== 2)) return;
    if (iq.attrs.type === 'result') {
      if (named.step === 3) this.interactive.delete(named.sid);
      return;
    }
    // @req handshake.interactive-fail-fast: the peer refused a step (or its server: no such resource):
    // the handshake is abandoned now, not after INTERACTIVE_TIMEOUT, and leaves nothing behind.
    this.interactive.delete(named.sid);
    const peer = pending.state.peer;
    if (pending.adopted !== undefined) {
      // A message the peer sent on the adopted session has opened: the peer completed the
      // handshake, so an error for message 3 is not its answer (the server made it up). The
      // session stays and nothing is reported.
      const adopted = this.peers.get(sessionKey(peer.jid, peer.deviceId));
      if (adopted !== undefined && toHex(adopted.session.ratchet.sessionId) === pending.adopted && adopted.session.ratchet.recentlyOpened.length > 0) return;
      this.dropAdoptedInteractive(peer.jid, peer.deviceId, pending.adopted);
    }
    this.events.push({ kind: 'interactive-failed', peer: { jid: peer.jid, deviceId: peer.deviceId }, to: pending.peerFullJid, step: named.step, condition: stanzaErrorCondition(iq) });
  }

  /** Message 3 was refused: the session the initiator adopted after message 2 goes, and the previous one (if any) is active again. */
  dropAdoptedInteractive(jid: BareJid, id: DeviceId, sessionIdHex: string): void {
    const key = sessionKey(jid, id);
    const peer = this.peers.get(key);
    if (peer === undefined || toHex(peer.session.ratchet.sessionId) !== sessionIdHex) return;
    const previous = peer.session.alternate;
    if (previous === undefined) this.peers.delete(key);
    else this.peers.set(key, { ...peer, session: { ratchet: previous, confirmation: { state: 'confirmed' } }, alternateSince: undefined, activeSent: false, activeOpened: false, receivedSinceSend: 0 });
  }

  onInteractive(iq: Element, element: Element, listFetched: boolean): void {
    const fromFull = String(iq.attrs.from ?? '');
    let value: InteractiveMessageValue;
    let from: DeviceAddress;
    try {
      value = InteractiveMessageElement.fromXml(element);
      from = { jid: bareJid(bareOf(fromFull)), deviceId: toDeviceId(value.deviceId) };
    } catch (e) {
      this.fail(e, undefined, 'live', stanzaIdOf(iq));
      // @req handshake.interactive-iq
      this.answer(iqError(iq, 'modify', 'bad-request'));
      return;
    }
    try {
      if (value.step === 1) {
        const account = this.account(from.jid);
        if (account.trust.devices[from.deviceId] === undefined && (account.list === undefined || listedSigningKey(account.list, from.deviceId) === undefined)) {
          // @req device.unlisted-device: the step waits for the list, and is answered when processed.
          if (!listFetched) return this.hold(iq, 'live', from, 'awaiting-device-list');
          throw new SealError('untrusted-key', `device ${from.deviceId} of ${from.jid}: on no device list`);
        }
        const known = this.interactiveKey(from.jid, from.deviceId);
        // @req device.interactive-pinning: the responder checks the initiator's key in message 3 against the pinned or listed one.
        if (known === undefined) throw new SealError('untrusted-key', `device ${from.deviceId} of ${from.jid}: its key is not trusted`);
        const accepted = acceptInteractive({ self: this.device, peer: from, message: value, rng: this.rng, now: this.now, knownPeerSigningKey: fromHex(known, 'key') });
        this.addInteractive(value.sid, { state: accepted.state, peerFullJid: fromFull });
        // @req handshake.interactive-iq: the step is answered once accepted, then the next one is sent.
        this.answer(iqResult(iq));
        this.sendInteractive(fromFull, accepted.message);
        return;
      }
      const pending = this.interactive.get(value.sid);
      if (pending === undefined || pending.adopted !== undefined || pending.peerFullJid !== fromFull || pending.state.peer.deviceId !== from.deviceId) {
        // @req handshake.interactive-iq: a step of no pending handshake (expired, abandoned, or not this peer's).
        this.answer(iqError(iq, 'cancel', 'item-not-found'));
        return;
      }
      this.interactive.delete(value.sid);
      if (pending.state.step === 'initiator-awaiting-2' && value.step === 2) {
        const known = this.interactiveKey(from.jid, from.deviceId);
        if (known === undefined) throw new SealError('untrusted-key', `device ${from.deviceId} of ${from.jid}: its key is not trusted`);
        // @req device.interactive-pinning
        const done = completeInitiator({ state: pending.state, message: value, now: this.now, knownPeerSigningKey: fromHex(known, 'key') });
        this.adoptInteractive(done.session, 'initiator');
        this.answer(iqResult(iq));
        this.sendInteractive(fromFull, done.message);
        // @req handshake.interactive-fail-fast: until message 3 is answered, a refusal takes the new session back.
        this.addInteractive(value.sid, { ...pending, adopted: toHex(done.session.sessionId) });
        // The responder can send only after it has received on the new session.
        this.sendKeyOnly(from.jid, from.deviceId);
      } else if (pending.state.step === 'responder-awaiting-3' && value.step === 3) {
        this.adoptInteractive(completeResponder({ state: pending.state, message: value, now: this.now }), 'responder');
        this.answer(iqResult(iq));
      } else {
        this.answer(iqError(iq, 'cancel', 'item-not-found'));
      }
    } catch (e) {
      this.fail(e, from, 'live', stanzaIdOf(iq));
      // @req handshake.interactive-iq: a step that fails any check is refused, so the peer abandons at once.
      this.answer(iqError(iq, 'cancel', 'not-acceptable'));
    }
  }

  adoptInteractive(session: SessionSecret, role: 'initiator' | 'responder'): void {
    const jid = session.peer.jid;
    const id = session.peer.deviceId;
    const key = toHex(session.peer.signingKey);
    // @req device.session-binding
    if (this.account(jid).trust.devices[id]?.key !== key) throw new SealError('identity-key-changed', `device ${id} of ${jid}: interactive handshake with another key than the pinned one`);
    const peer = sessionKey(jid, id);
    const existing = this.peers.get(peer);
    const previous = existing?.session.ratchet;
    this.peers.set(peer, {
      jid,
      deviceId: id,
      signingKey: key,
      session: { ratchet: startRatchet(session, this.rng), confirmation: { state: 'confirmed' }, ...(previous === undefined ? {} : { alternate: previous }) },
      alternateSince: previous === undefined ? undefined : this.now,
      activeSent: false,
      activeOpened: false,
      receivedSinceSend: 0,
    });
    this.events.push({ kind: 'session-started', peer: { jid, deviceId: id }, handshake: 'interactive', role, sessionId: toHex(session.sessionId) });
  }

  // ---------------------------------------------------------------- decisions, clock, acknowledgements

  /**
   * The user verified an OMEMO identity key of `jid`: the account key its binding statement on the
   * accepted list vouches for becomes verified.
   *
   * Implements requirement `discovery.omemo-binding`.
   */
  onOmemoVouch(jid: BareJid, omemoIdentityKey: Uint8Array): void {
    const list = this.account(jid).list;
    if (list === undefined) throw new SealError('no-devices', `${jid}: no accepted device list`);
    // @req discovery.omemo-binding: only a valid omemo statement on the accepted list, for the accepted account key.
    const accountKey = toHex(verifyOmemoBinding(list, omemoIdentityKey));
    if (this.account(jid).trust.accountKey?.key !== accountKey) throw new SealError('untrusted-key', `${jid}: the OMEMO key vouches for an account key that is not the accepted one`);
    this.onDecide(jid, 'account', accountKey, 'verified');
  }

  /**
   * The user's decision about a key.
   *
   * Implements requirement `identity.key-change` (an accepted change records the new key and its list's time).
   */
  onDecide(jid: BareJid, target: { deviceId: DeviceId } | 'account', key: string, level: TrustLevel): void {
    const account = this.account(jid);
    if (target === 'account') {
      const pending = account.pendingAccount;
      if (pending !== undefined && pending.key === key) {
        if (level === 'distrusted') {
          this.setAccount({ ...account, pendingAccount: undefined, trust: key === '' ? account.trust : { ...account.trust, accountKey: { key, level } } });
          return;
        }
        // @req identity.key-change: the accepted key and the newest time are recorded, so an older or unsigned list is refused from now on.
        const trust: AccountTrust = key === '' ? { devices: account.trust.devices } : { ...account.trust, accountKey: { key, level } };
        this.setAccount({ ...account, trust, pendingAccount: undefined });
        this.applyList(jid, pending.list);
        return;
      }
      if (account.trust.accountKey?.key === key) this.setAccount({ ...account, trust: { ...account.trust, accountKey: { key, level } } });
      return;
    }
    const id = target.deviceId;
    if (account.pendingDevices[id] === key) {
      const pendingDevices = { ...account.pendingDevices };
      delete pendingDevices[id];
      this.setAccount({ ...account, pendingDevices });
      if (level === 'distrusted') {
        this.dropHeldOf(jid, id);
        return;
      }
      const previous = account.trust.devices[id]?.key;
      this.pin(jid, id, key, level);
      if (previous !== undefined && previous !== key) this.events.push({ kind: 'key-changed', jid, deviceId: id, key, previousKey: previous, acceptedBy: 'user' });
      this.reprocessHeld(jid, undefined, id);
      return;
    }
    const pinned = account.trust.devices[id];
    if (pinned?.key !== key) return;
    this.pin(jid, id, key, level);
    if (level === 'distrusted') this.dropHeldOf(jid, id);
    else this.reprocessHeld(jid, 'awaiting-decision', id);
  }

  dropHeldOf(jid: BareJid, id: DeviceId): void {
    for (const held of [...this.held.values()]) {
      if (held.from.jid !== jid || held.from.deviceId !== id) continue;
      this.held.delete(held.seq);
      this.refuseHeldIq(held);
    }
  }

  expireInteractive(): void {
    for (const [sid, pending] of [...this.interactive]) {
      // @req handshake.interactive-timeout
      if (this.now - pending.state.started > HANDSHAKE_CONSTANTS.INTERACTIVE_TIMEOUT || this.now < pending.state.started) this.interactive.delete(sid);
    }
  }

  onTick(): void {
    this.expireInteractive();
    // @req device.bounds: one list fetch per account whose stanzas wait for its list, within the rate limit.
    for (const jid of new Set([...this.held.values()].filter((h) => h.reason === 'awaiting-device-list').map((h) => h.from.jid))) {
      if (this.mayFetchList(jid)) this.fetchListForHeld(jid);
    }
    for (const held of [...this.held.values()]) if (this.now - held.received > DEVICE_CONSTANTS.HELD_MAX_AGE) this.dropHeld(held);
    for (const [k, peer] of [...this.peers]) {
      const pruned = this.pruneAlternate(peer);
      if (pruned !== peer) this.peers.set(k, pruned);
    }
    // @req device.list-race: while its own addition is recent, every tick checks the own list, since
    // a racing publish may reach this device by no notification.
    const own = this.account(this.device.jid).list?.devices.find((d) => d.id === this.device.deviceId);
    if (own !== undefined && this.now - own.added < DEVICE_CONSTANTS.LIST_RACE_WINDOW) this.fetch.push({ kind: 'device-list', jid: this.device.jid });
    this.maintainPrekeys();
  }

  onArchiveQuery(queryid: string): void {
    // @req device.bounds
    if (this.queries.size >= DEVICE_CONSTANTS.MAX_ARCHIVE_QUERIES) this.queries.delete(this.queries.values().next().value!);
    this.queries.add(queryid);
  }
}

function hexOf(key: Uint8Array | undefined): string | undefined {
  return key === undefined ? undefined : toHex(key);
}

function stanzaIdOf(stanza: Element): string | undefined {
  return typeof stanza.attrs.id === 'string' ? stanza.attrs.id : undefined;
}

function splitPeer(peer: string): [string, number] {
  const slash = peer.lastIndexOf('/');
  return [peer.slice(0, slash), Number(peer.slice(slash + 1))];
}

function sameTimestamps(a: { readonly [k: string]: number }, b: { readonly [k: string]: number }): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function dedupeFetches(fetch: readonly FetchRequest[]): FetchRequest[] {
  const seen = new Set<string>();
  return fetch.filter((f) => {
    const k = f.kind === 'device-list' ? `l ${f.jid}` : f.kind === 'bundle' ? `b ${f.jid}/${f.deviceId}` : `${f.kind} ${f.room}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * This device's disco#info `<query/>`: Seal, interest in device-list notifications, the
 * interactive handshake and the device id (XEP-0128 form).
 *
 * @see spec §discovery
 */
export function sealDiscoInfo(deviceId: number): Element {
  return withSealFeatures(interactiveDiscoInfo(deviceId));
}

/**
 * One Seal device as a sans-IO state machine over a {@link SealStore}'s records.
 *
 * `step(input)` computes the next state without changing the engine; the caller commits
 * `output.commit` to the store and then calls `adopt(next)`, so an engine never runs ahead of
 * its store. `SealClient` (src/net) does exactly this, one input at a time.
 *
 * @see spec §device
 * @example
 * ```ts
 * const { engine, output } = SealEngine.create({ jid, existingList: undefined, now, rng });
 * await store.commit(output.commit);
 * ```
 */
export class SealEngine {
  #state: EngineState;
  readonly policy: TrustPolicy;
  /** Stanzas that failed to authenticate, by fingerprint (memory only, at most MAX_FAILED_STANZAS). */
  readonly #failedOpens = new Map<string, FailedOpen>();

  private constructor(state: EngineState, options: EngineOptions) {
    this.#state = state;
    this.policy = options.policy ?? 'blind-trust-before-verification';
  }

  /** The current state (read-only; for the shell's queries and for tests). */
  get state(): EngineState {
    return this.#state;
  }

  /** This device's address. */
  get self(): DeviceAddress {
    return { jid: this.#state.device.jid, deviceId: this.#state.device.deviceId };
  }

  /**
   * Creates a new device of account `jid`: its keys, and the account's device list with this
   * device added, signed by the account key. The first device of an account creates the account
   * key; a later device must be given it (`accountSecret`) when the account's list is signed.
   *
   * Implements requirements `device.account-key` and `identity.account-signature`.
   *
   * @param input.existingList - the account's current device list element, if it has one.
   * @throws SealError `account-key-required` when the list is signed and no account key is given;
   *   `authentication-failed` when it is given but is not the key that signs the list; any error
   *   of verifying the existing list.
   * @see spec §device.account-key
   */
  static create(input: { jid: BareJid; existingList: Element | undefined; now: number; rng: Rng; accountSecret?: Ed25519SecretKey; oneTimePrekeys?: number; options?: EngineOptions }): { engine: SealEngine; output: StepOutput; state: EngineState } {
    const existing = input.existingList === undefined ? undefined : verifyDeviceList(input.jid, DeviceListElement.fromXml(wellFormedCopy(input.existingList)));
    // @req device.account-key
    if (existing?.accountKey !== undefined && input.accountSecret === undefined) {
      throw new SealError('account-key-required', `${input.jid}: the device list is signed by an account key; a new device needs it to add itself`);
    }
    if (existing?.accountKey !== undefined && input.accountSecret !== undefined && toHex(ed25519PublicKeyOf(input.accountSecret)) !== toHex(existing.accountKey)) {
      throw new SealError('authentication-failed', `${input.jid}: the given account key is not the one that signs the device list`);
    }
    const accountSecret = input.accountSecret ?? generateEd25519KeyPair(input.rng).secretKey;
    const device = createDeviceState({ jid: input.jid, now: input.now, rng: input.rng, takenDeviceIds: existing?.devices.map((d) => d.id) ?? [], ...(input.oneTimePrekeys === undefined ? {} : { oneTimePrekeys: input.oneTimePrekeys }) });
    const entry = { id: device.deviceId, added: input.now, signingKey: ed25519PublicKeyOf(device.signingKey) };
    const signer = { secretKey: accountSecret };
    const list = existing === undefined ? createDeviceList(input.jid, [entry], input.now, signer) : addDevice(input.jid, { issued: existing.issued, devices: [...existing.devices] }, entry, input.now, signer);
    const verified = verifyDeviceList(input.jid, list);
    const empty: EngineState = emptyState(device, accountSecret);
    const engine = new SealEngine(empty, input.options ?? {});
    const step = new Step({ ...empty, accountSecret: undefined, device: { ...device } }, input.now, input.rng, engine.policy);
    step.device = device;
    step.accountSecret = accountSecret;
    const ownKey = toHex(ed25519PublicKeyOf(accountSecret));
    step.setAccount({ ...emptyAccount(input.jid), trust: { devices: {}, accountKey: { key: ownKey, level: 'verified' } } });
    step.applyList(input.jid, verified);
    step.publish.push({ node: bundleNode(device.deviceId), item: BundleElement.toXml(bundleOf(device)) });
    step.publish.push({ node: DEVICE_LIST_NODE, item: DeviceListElement.toXml(list) });
    const { state, output } = step.finish();
    // The commit is computed against a state without a device, so that it holds every record.
    return { engine, output: { ...output, events: [] }, state };
  }

  /**
   * Restores a device from its store's records.
   *
   * @throws SealError `invalid-state` or `unknown-version` when a record is corrupted or of
   *   another version (identity.state-validate).
   * @see spec §device.store
   */
  static load(records: readonly StoreRecord[], options: EngineOptions = {}): SealEngine {
    const decoded: EngineRecords = decodeEngineRecords(records);
    return new SealEngine({ ...decoded, interactive: new Map(), queries: new Set(), pendingRepairs: new Map(), listTexts: new Map(), listFetchedAt: new Map(), roomQueries: new Map() }, options);
  }

  /**
   * Computes the effect of one input. Never throws for an incoming stanza, a fetched item, a
   * decision, an acknowledgement or the clock: failures are `failed` events and change nothing.
   * A `send`, `send-room`, `start-interactive`, `omemo-vouch` or `remove-device` request that cannot be honoured throws a SealError (and
   * changes nothing).
   *
   * @see spec §device
   */
  step(input: DeviceInput, env: { now: number; rng: Rng }): { state: EngineState; output: StepOutput } {
    const step = new Step(this.#state, env.now, env.rng, this.policy);
    step.failedOpens = this.#failedOpens;
    try {
      // Pending interactive handshakes expire with every input, not only on ticks.
      step.expireInteractive();
      switch (input.kind) {
        case 'stanza':
          step.onStanza(input.stanza);
          // @req offline.prekey-lifetime: also after a stanza that failed or was ignored, so that a
          // prekey past its grace period is deleted at the first step after that time.
          step.maintainPrekeys();
          break;
        case 'device-list':
          step.onDeviceList(input.jid, input.list);
          break;
        case 'bundle':
          step.onBundle(input.jid, input.deviceId, input.bundle);
          break;
        case 'send':
          step.onSend(input.to, contentWithFiles(input.content, input.files), input.id);
          break;
        case 'decide':
          step.onDecide(input.jid, input.target, input.key, input.level);
          break;
        case 'omemo-vouch':
          step.onOmemoVouch(input.jid, input.omemoIdentityKey);
          break;
        case 'start-interactive':
          step.onStartInteractive(input.peer, input.deviceId, input.info);
          break;
        case 'archive-query':
          if (input.room === undefined) step.onArchiveQuery(input.queryid);
          else onRoomArchiveQuery(step, input.room, input.queryid);
          break;
        case 'room-info':
          onRoomInfo(step, input.room, input.info);
          break;
        case 'room-affiliations':
          onRoomAffiliations(step, input.room, input.lists);
          break;
        case 'send-room':
          onSendRoom(step, input.room, contentWithFiles(input.content, input.files), input.id);
          break;
        case 'sent':
          step.outbox.delete(input.outboxId);
          break;
        case 'delivered':
          step.inbox.delete(input.eventId);
          break;
        case 'remove-device':
          step.onRemoveDevice(input.deviceId);
          break;
        case 'tick':
          step.onTick();
          break;
        default: {
          const never: never = input;
          return never;
        }
      }
    } catch (e) {
      if (input.kind === 'send' || input.kind === 'send-room' || input.kind === 'start-interactive' || input.kind === 'omemo-vouch' || input.kind === 'remove-device') {
        if (isSealError(e)) throw e;
        throw new SealError('invalid-state', `${input.kind}: ${e instanceof Error ? e.message : String(e)}`);
      }
      // @req device.receive-never-throws: whatever the input, the state stays and a typed event reports it.
      const failed = new Step(this.#state, env.now, env.rng, this.policy);
      failed.fail(e, undefined, undefined, input.kind === 'stanza' ? stanzaIdOf(input.stanza) : undefined);
      return { state: this.#state, output: { ...failed.finish().output, commit: { put: [], delete: [] }, send: [], publish: [], fetch: [] } };
    }
    return step.finish();
  }

  /**
   * Makes `state` (from a step whose commit is now durable) the current state, and zeroes the
   * secrets the replaced state held and `state` no longer does (spec envelope.wipe).
   */
  adopt(state: EngineState): void {
    const previous = this.#state;
    this.#state = state;
    // @req envelope.wipe: deleted secrets are zeroed once their deletion is stored.
    wipeDroppedSecrets(previous, state);
  }

  /** The bundles to fetch before a message to `to` reaches every usable device. @see spec §device */
  missingSessions(to: BareJid, now: number, rng: Rng): FetchRequest[] {
    return new Step(this.#state, now, rng, this.policy).missingSessions(to);
  }

  /**
   * §groups: what to fetch before a message to `room` can be sent: the room's disco#info or
   * affiliation lists when missing or older than ROOM_STATE_MAX_AGE, else the device lists of
   * members the device has none of, else the bundles of member devices without a session.
   *
   * @see spec §groups.recipients
   */
  roomFetches(room: BareJid, now: number, rng: Rng): FetchRequest[] {
    const step = new Step(this.#state, now, rng, this.policy);
    const state = roomFetches(step, room);
    if (state.some((f) => f.kind === 'room-info' || f.kind === 'room-affiliations')) return state;
    const seen = new Set<string>();
    const bundles = roomMembers(this.#state.rooms.get(room)).flatMap((jid) => step.missingSessions(jid)).filter((f) => f.kind === 'bundle' && !seen.has(`${f.jid}/${f.deviceId}`) && seen.add(`${f.jid}/${f.deviceId}`) !== undefined);
    return [...state, ...bundles];
  }

  /** §groups: what the device knows about a room (for display and tests). */
  room(jid: BareJid): RoomRecord | undefined {
    return this.#state.rooms.get(jid);
  }

  /** The stanzas committed to the outbox but not yet acknowledged as sent (after a restart, send them again). */
  pendingOutbox(): OutgoingStanza[] {
    return [...this.#state.outbox].map(([outboxId, text]) => ({ outboxId, stanza: parseXml(text) }));
  }

  /** Opened messages the application has not acknowledged (after a restart, deliver them again). */
  pendingInbox(): InboxEvent[] {
    return [...this.#state.inbox.values()];
  }

  /**
   * Whether messages to `jid` use Seal: true once a device list of `jid` has been accepted, and
   * from then on even when the list disappears (discovery.sticky). A client that also speaks OMEMO
   * uses OMEMO only for an account for which this is false.
   *
   * Implements requirements `discovery.choice` and `discovery.sticky`.
   *
   * @see spec §discovery.omemo
   */
  usesSeal(jid: BareJid): boolean {
    // @req discovery.choice: decided per account from an accepted device list, never from a resource's features.
    return this.#state.accounts.get(jid)?.list !== undefined;
  }

  /** The recorded trust of an account (for display). */
  trustOf(jid: BareJid): AccountRecord | undefined {
    return this.#state.accounts.get(jid);
  }

  /** The persisted form of the device state (its private keys). */
  dangerouslyExportDevice(): string {
    return dangerouslyExportDeviceState(this.#state.device);
  }
}

/** An engine state with nothing but a device. */
export function emptyState(device: DeviceState, accountSecret: Ed25519SecretKey | undefined): EngineState {
  return { device, accountSecret, log: [], repairs: {}, seq: 0, peers: new Map(), accounts: new Map(), held: new Map(), outbox: new Map(), inbox: new Map(), interactive: new Map(), queries: new Set(), pendingRepairs: new Map(), listTexts: new Map(), listFetchedAt: new Map(), rooms: new Map(), roomQueries: new Map() };
}

export { importDeviceState };
