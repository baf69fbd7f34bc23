/**
 * The vocabulary of the device engine: what goes in (a stanza with its transport facts, a send
 * request, a fetched device list or bundle, a user's trust decision, the clock), and what comes
 * out (stanzas to send, PEP items to publish, items to fetch, typed events for the application).
 *
 * @see spec §device
 * @module
 */
import type { SealErrorCode } from '../errors.js';
import type { TrustLevel, TrustPolicy } from '../identity/trust.js';
import type { DeviceId } from '../identity/device.js';
import type { BareJid } from '../identity/jid.js';
import type { Element } from '../wire/xml.js';
import type { MemberAffiliation } from '../wire/muc.js';
import type { StoreCommit } from './store.js';
import type { OutgoingFile, SharedFile } from '../files/shared.js';

/** A device of an account. */
export interface DeviceAddress {
  readonly jid: BareJid;
  readonly deviceId: DeviceId;
}

/**
 * How a stanza reached this device: delivered to it (`live`, which includes offline storage),
 * a carbon copy of a message another of the account's clients sent (`carbon-sent`) or received
 * (`carbon-received`), or a result of this device's archive query (`archive`).
 *
 * @see spec §offline.forwarded
 */
export type Via = 'live' | 'carbon-sent' | 'carbon-received' | 'archive';

/**
 * The trust state of the key that opened a message: `verified` by the user (or through a
 * verified account key's list), or `trusted` under blind trust before verification.
 *
 * @see spec §identity.trust
 */
export type KeyTrust = 'verified' | 'trusted';

/** Why a key needs the user's decision. @see spec §device.pinning */
export type DecisionReason = 'key-changed' | 'unlisted-device' | 'undecided-key' | 'account-key-changed' | 'account-key-removed';

/**
 * What the application learns. Every event is typed; `opened` events carry an `eventId` and are
 * kept in the store until the application acknowledges them ({@link DeviceInput} `delivered`),
 * so a crash between the commit and the application loses nothing.
 *
 * @see spec §device.events
 */
export type SealEvent =
  | {
      readonly kind: 'opened';
      readonly eventId: string;
      /** The stanza's id attribute, if any. */
      readonly stanzaId: string | undefined;
      readonly from: DeviceAddress;
      /** The encrypted `to` affix: the bare JID the sender addressed. */
      readonly to: BareJid;
      readonly via: Via;
      readonly trust: KeyTrust;
      /** The decrypted content elements (XEP-0420 `<content/>` children). */
      readonly content: readonly Element[];
      /** The text of the first `<body/>` of the content, or `''`. */
      readonly body: string;
      /** The files the content offers, each checked or refused (§files.receive). */
      readonly files: readonly SharedFile[];
      /** The sender's timestamp (seconds), from the encrypted `<time/>` affix. */
      readonly time: number;
      /**
       * `time` minus when the server says it received the message (its `<delay/>` stamp) or, for a
       * message delivered live, the receiving device's clock; absent when neither is known (§envelope.time-check).
       */
      readonly clockSkew?: number;
      /** Whether |clockSkew| exceeds TIME_AFFIX_SKEW: the application MUST alert the user (a clock set wrong, or an old message replayed under a new session). */
      readonly timeMismatch?: boolean;
      /** For a room message (§groups): the room's bare JID (also the `to` affix); `from` is the sender's real bare JID. */
      readonly room?: BareJid;
    }
  | { readonly kind: 'duplicate'; readonly from: DeviceAddress | undefined; readonly via: Via; readonly stanzaId: string | undefined }
  | { readonly kind: 'failed'; readonly code: SealErrorCode | 'not-for-this-device'; readonly message: string; readonly from: DeviceAddress | undefined; readonly via: Via | undefined; readonly stanzaId: string | undefined }
  | { readonly kind: 'bounced'; readonly stanzaId: string | undefined; readonly to: string; readonly condition: string }
  | { readonly kind: 'held'; readonly from: DeviceAddress; readonly reason: 'awaiting-device-list' | 'awaiting-decision' }
  | {
      readonly kind: 'decision-needed';
      readonly jid: BareJid;
      /** The device, or `undefined` for the account key. */
      readonly deviceId: DeviceId | undefined;
      readonly reason: DecisionReason;
      /** The key (hex) the user is asked about; `''` when an account's list is no longer signed. */
      readonly key: string;
      /** The key (hex) recorded before, if any. */
      readonly previousKey: string | undefined;
    }
  | { readonly kind: 'key-changed'; readonly jid: BareJid; readonly deviceId: DeviceId; readonly key: string; readonly previousKey: string; readonly acceptedBy: 'user' | 'account-key' }
  | { readonly kind: 'device-added'; readonly jid: BareJid; readonly deviceId: DeviceId }
  | { readonly kind: 'device-removed'; readonly jid: BareJid; readonly deviceId: DeviceId }
  /** This device was missing from its account's list, within LIST_RACE_WINDOW of its addition, and published the list with itself added again (device.list-race). */
  | { readonly kind: 'device-reannounced'; readonly deviceId: DeviceId }
  /** Another device of this account is stale: its bundle's signed prekey has expired, so no one can start a session with it; offer the user to remove it (`remove-device`, device.stale). */
  | { readonly kind: 'device-stale'; readonly jid: BareJid; readonly deviceId: DeviceId }
  /** An account whose device list was accepted before publishes none now (discovery.sticky): Seal stays in use with the last accepted list; tell the user, never fall back silently. */
  | { readonly kind: 'device-list-withdrawn'; readonly jid: BareJid }
  /** An interactive handshake this device took part in was abandoned because the peer (or its server) answered a step it sent with an error: `condition` is the RFC 6120 condition, `service-unavailable` when the resource is gone or lacks the feature (§handshake.interactive). */
  | { readonly kind: 'interactive-failed'; readonly peer: DeviceAddress; readonly to: string; readonly step: 1 | 2 | 3; readonly condition: string }
  | { readonly kind: 'session-started'; readonly peer: DeviceAddress; readonly handshake: 'async' | 'interactive'; readonly role: 'initiator' | 'responder'; /** The session id (hex), the same on both sides. */ readonly sessionId: string }
  | { readonly kind: 'repair-sent'; readonly peer: DeviceAddress; readonly reason: SealErrorCode | 'not-for-this-device' | 'restored' }
  /** The device found that its store was restored from an older copy (spec offline.restore): its prekeys are replaced and `sessions` sessions are started again. */
  | { readonly kind: 'restored'; readonly sessions: number }
  | { readonly kind: 'repair-received'; readonly peer: DeviceAddress }
  /** §groups: a room's disco#info result, when the device first has one and whenever what it says changes; `secure` is whether Seal encrypts to the room. */
  | { readonly kind: 'room-config'; readonly room: BareJid; readonly secure: boolean; readonly membersOnly: boolean; readonly nonAnonymous: boolean }
  /** §groups: accounts added to or removed from a room's owner, admin and member lists. */
  | { readonly kind: 'room-members'; readonly room: BareJid; readonly added: readonly BareJid[]; readonly removed: readonly BareJid[] }
  /** §groups: the room reflected one of this device's own messages (the room took it). */
  | { readonly kind: 'reflected'; readonly room: BareJid; readonly stanzaId: string | undefined };

/**
 * An input to the engine.
 *
 * - `stanza`: an incoming `<message/>` as the server delivered it (the engine reads carbons,
 *   archive results, PEP notifications and error bounces itself);
 * - `device-list` / `bundle`: the answer to a {@link FetchRequest} (`undefined`: the node or
 *   item does not exist);
 * - `send`: a message for `to`'s devices and this account's other devices;
 * - `decide`: the user's decision about a key the engine asked about (or any key);
 * - `start-interactive`: begin an interactive handshake with an online device;
 * - `archive-query`: register the `queryid` of an archive query this device is about to send (to
 *   its own account's archive, or to `room`'s archive);
 * - `room-info` / `room-affiliations`: the answers to a room's disco#info query and to its owner,
 *   admin and member list queries (`undefined`: a query failed) (§groups);
 * - `send-room`: a message for every member device of a room and this account's other devices;
 * - `sent` / `delivered`: acknowledgements that an outbox stanza reached the server and that the
 *   application has taken an `opened` event;
 * - `remove-device`: remove a device of this account from its list and delete its bundle node;
 *   this device's own id switches Seal off on it (§device.lifecycle);
 * - `tick`: the clock moved (expires pending interactive handshakes and held stanzas).
 *
 * @see spec §device
 */
export type DeviceInput =
  | { readonly kind: 'stanza'; readonly stanza: Element }
  | { readonly kind: 'device-list'; readonly jid: BareJid; readonly list: Element | undefined }
  | { readonly kind: 'bundle'; readonly jid: BareJid; readonly deviceId: DeviceId; readonly bundle: Element | undefined }
  | { readonly kind: 'send'; readonly to: BareJid; readonly content: readonly Element[]; readonly id: string; /** Files to attach (requirement files.send, §files.descriptor). */ readonly files?: readonly OutgoingFile[] }
  | { readonly kind: 'decide'; readonly jid: BareJid; readonly target: { readonly deviceId: DeviceId } | 'account'; readonly key: string; readonly level: TrustLevel }
  /** The user verified `omemoIdentityKey` (an OMEMO identity key of `jid`, Ed25519 form): accept the account key its binding statement vouches for as verified (discovery.omemo-binding). Throws when the list carries no valid statement for it. */
  | { readonly kind: 'omemo-vouch'; readonly jid: BareJid; readonly omemoIdentityKey: Uint8Array }
  | { readonly kind: 'start-interactive'; readonly peer: string; /** The device; may be left out when `info` is given. */ readonly deviceId?: DeviceId; /** The `<query/>` of the peer full JID's disco#info result (§handshake.interactive): checked for the feature, and the device id read from it. */ readonly info?: Element }
  | { readonly kind: 'archive-query'; readonly queryid: string; readonly room?: BareJid }
  | { readonly kind: 'room-info'; readonly room: BareJid; readonly info: Element | undefined }
  | { readonly kind: 'room-affiliations'; readonly room: BareJid; readonly lists: Readonly<Partial<Record<MemberAffiliation, Element>>> | undefined }
  | { readonly kind: 'send-room'; readonly room: BareJid; readonly content: readonly Element[]; readonly id: string; /** Files to attach (requirement files.send, §files.descriptor). */ readonly files?: readonly OutgoingFile[] }
  | { readonly kind: 'sent'; readonly outboxId: string }
  | { readonly kind: 'delivered'; readonly eventId: string }
  /** Remove a device of this account from its list and delete its bundle node (device.remove); this device's own id switches Seal off on it. Throws when the device is not listed or the list is signed and no account key is held. */
  | { readonly kind: 'remove-device'; readonly deviceId: DeviceId }
  | { readonly kind: 'tick' };

/** Something the shell must fetch and feed back as a `device-list` or `bundle` input. @see spec §device */
export type FetchRequest =
  | { readonly kind: 'device-list'; readonly jid: BareJid }
  | { readonly kind: 'bundle'; readonly jid: BareJid; readonly deviceId: DeviceId }
  /** §groups: the room's disco#info, fed back as a `room-info` input. */
  | { readonly kind: 'room-info'; readonly room: BareJid }
  /** §groups: the room's owner, admin and member lists, fed back as one `room-affiliations` input. */
  | { readonly kind: 'room-affiliations'; readonly room: BareJid };

/** A PEP item the shell must publish (with the identity.pep-errors rule). @see spec §identity.pep */
export interface PublishRequest {
  readonly node: string;
  readonly item: Element;
}

/** A PEP node of this account the shell must delete (XEP-0060 §8.4): a removed device's bundle node, or the device-list node when the last device is removed. @see spec §identity.pep */
export interface DeleteNodeRequest {
  readonly node: string;
}

/** A stanza to hand to the server, with the outbox id to acknowledge once it is sent. */
export interface OutgoingStanza {
  readonly outboxId: string;
  readonly stanza: Element;
}

/**
 * The result of one engine step. The shell commits `commit` atomically, then sends `send`,
 * publishes `publish`, deletes `deleteNodes`, hands `events` to the application and fetches
 * `fetch`, in that order.
 *
 * @see spec §device.store
 */
export interface StepOutput {
  readonly commit: StoreCommit;
  readonly send: readonly OutgoingStanza[];
  readonly publish: readonly PublishRequest[];
  /** PEP nodes of this account to delete, after the publishes. */
  readonly deleteNodes: readonly DeleteNodeRequest[];
  readonly fetch: readonly FetchRequest[];
  readonly events: readonly SealEvent[];
}

/** Options of an engine. */
export interface EngineOptions {
  /** How undecided keys are treated (default: blind trust before verification). @see spec §identity.trust */
  readonly policy?: TrustPolicy;
}
