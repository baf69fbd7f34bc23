/**
 * The state of the device engine: what it keeps about each peer device and account, the stanzas
 * it holds, its outbox and inbox. Plain immutable data; `diffRecords` (persist.ts) turns two states into
 * a store commit.
 *
 * @see spec §device.store
 * @module
 */
import type { SealErrorCode } from '../errors.js';
import type { Ed25519SecretKey } from '../suite/types.js';
import type { VerifiedDeviceList } from '../identity/devicelist.js';
import type { DeviceId } from '../identity/device.js';
import type { BareJid } from '../identity/jid.js';
import type { DeviceState } from '../identity/state.js';
import type { AccountTrust } from '../identity/trust.js';
import type { HandshakeLog } from '../handshake/async.js';
import type { InteractiveState } from '../handshake/interactive.js';
import type { PeerSession } from '../envelope/envelope.js';
import type { DeviceAddress, SealEvent, Via } from './types.js';
import type { RoomRecord } from '../groups/room.js';

/**
 * What the engine keeps about one peer device: the identity signing key its sessions are bound
 * to (hex), the sessions, and the counters of the session rules.
 *
 * @see spec §device.pinning
 */
export interface PeerRecord {
  readonly jid: BareJid;
  readonly deviceId: DeviceId;
  readonly signingKey: string;
  readonly session: PeerSession;
  /** When the kept previous session (`session.alternate`) became the previous one. */
  readonly alternateSince: number | undefined;
  /** Whether this device has sent on the active session since the previous session became the previous one. */
  readonly activeSent: boolean;
  /** Whether the peer has answered on the active session since then: a message with a new ratchet key after this device sent (the peer received it and switched). */
  readonly activeOpened: boolean;
  /** Messages opened from the device on the active session since this device last sent to it. */
  readonly receivedSinceSend: number;
}

/** What the engine keeps about one account (a contact's or its own). @see spec §device.pinning */
export interface AccountRecord {
  readonly jid: BareJid;
  readonly trust: AccountTrust;
  /** The newest device list accepted (verified, rollback-checked, under the accepted account key). */
  readonly list: VerifiedDeviceList | undefined;
  /** A list signed by another account key (or no longer signed), waiting for the user. `key` is `''` for an unsigned list. */
  readonly pendingAccount: { readonly key: string; readonly list: VerifiedDeviceList } | undefined;
  /** Per device id, a new identity key (hex) waiting for the user's decision. */
  readonly pendingDevices: { readonly [deviceId: string]: string };
}

/** A stanza waiting for a device list or a decision. */
export interface HeldStanza {
  readonly seq: string;
  readonly stanza: string;
  readonly via: Via;
  readonly from: DeviceAddress;
  readonly reason: 'awaiting-device-list' | 'awaiting-decision';
  readonly received: number;
  /** When the server says it received the stanza (its `<delay/>` stamp), if it said so (envelope.time-check). */
  readonly stamp?: number;
}

/** An opened message kept until the application acknowledges it. */
export type InboxEvent = Extract<SealEvent, { kind: 'opened' }>;

/**
 * A pending interactive handshake (memory only): its state, the full JID its steps go to, and, for
 * an initiator that has sent message 3, the session id (hex) it adopted, taken back if message 3 is
 * refused (§handshake.interactive).
 */
export interface PendingInteractive {
  readonly state: InteractiveState;
  readonly peerFullJid: string;
  readonly adopted?: string;
}

/**
 * The whole state of a device engine. Everything except `interactive`, `queries`,
 * `pendingRepairs`, `listTexts`, `listFetchedAt` and `roomQueries` is persisted (see
 * `diffRecords` (persist.ts)); pending interactive handshakes, archive query ids and repairs
 * waiting for a fetch are deliberately memory-only: a restart abandons them, as their timeouts
 * would.
 *
 * @see spec §device.store
 */
export interface EngineState {
  readonly device: DeviceState;
  readonly accountSecret: Ed25519SecretKey | undefined;
  readonly log: HandshakeLog;
  readonly repairs: { readonly [peer: string]: number };
  readonly seq: number;
  readonly peers: ReadonlyMap<string, PeerRecord>;
  readonly accounts: ReadonlyMap<string, AccountRecord>;
  readonly held: ReadonlyMap<string, HeldStanza>;
  readonly outbox: ReadonlyMap<string, string>;
  readonly inbox: ReadonlyMap<string, InboxEvent>;
  readonly interactive: ReadonlyMap<string, PendingInteractive>;
  readonly queries: ReadonlySet<string>;
  readonly pendingRepairs: ReadonlyMap<string, SessionRepairReason>;
  /** The text of the last device list element accepted per account (a cache: refetching the same list costs nothing). */
  readonly listTexts: ReadonlyMap<string, string>;
  /** When held stanzas made the device fetch each account's list, within the last LIST_FETCH_INTERVAL (the list-fetch rate limit). */
  readonly listFetchedAt: ReadonlyMap<string, readonly number[]>;
  /** §groups: the rooms this device tracks, by bare JID (persisted). */
  readonly rooms: ReadonlyMap<string, RoomRecord>;
  /** §groups: the `queryid`s of this device's queries of room archives, with the room each was sent to (memory only). */
  readonly roomQueries: ReadonlyMap<string, BareJid>;
}

/** Why this device starts a new session with a peer device after a failed message. */
export type SessionRepairReason = SealErrorCode | 'not-for-this-device' | 'restored';
