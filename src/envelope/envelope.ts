/**
 * Sealing and opening stanzas: the content is encrypted once under a fresh content key with a key
 * commitment; the content key is wrapped for every recipient device (the peer's devices and the
 * sender's own other devices) through that device pair's ratchet. A key-only message wraps no
 * content key and has no payload: it only advances (and confirms) sessions. Opening never throws:
 * it returns a tagged result, and state changes only when a message opens.
 *
 * @see spec §envelope
 * @see spec §envelope.key-only
 * @module
 */
import { compareBytes, concatBytes, toHex } from '../codec/bytes.js';
import { SealError, isSealError } from '../errors.js';
import { aeadOpen, aeadSeal } from '../suite/aead.js';
import { constantTimeEqual, deriveSymmetricKey, macWithLabel, sha256 } from '../suite/kdf.js';
import type { Rng } from '../suite/rng.js';
import { labeledContent, SEAL_NS } from '../suite/suite.js';
import { SymmetricKey } from '../suite/types.js';
import { type HandshakeLog, type KeyConfirmation, confirmedByReply, headerToAttach, respondAsync } from '../handshake/async.js';
import { deviceId as toDeviceId, type DeviceId } from '../identity/device.js';
import { bareJid, type BareJid } from '../identity/jid.js';
import type { DeviceState } from '../identity/state.js';
import { EncryptionMarker, StoreHint } from '../wire/marker.js';
import { SealedElement, type SealedValue, decodeWrappedKey, encodeWrappedKey } from '../wire/sealed.js';
import { type Element, xml } from '../wire/xml.js';
import { bare, buildContent, openContent } from './content.js';
import { ENVELOPE_CONSTANTS, ENVELOPE_LABELS } from './constants.js';
import { type RatchetState, type SkipBudget, ratchetDecrypt, ratchetEncrypt, startRatchet } from './ratchet.js';

/**
 * The sessions with one peer device: the active one (used to send), whether its handshake header
 * is still attached, and at most one other session kept for receiving (the loser of a
 * simultaneous initiation, or the session a peer replaced with a new handshake).
 */
export interface PeerSession {
  readonly ratchet: RatchetState;
  readonly confirmation: KeyConfirmation;
  readonly alternate?: RatchetState;
}

/**
 * The sessions after a new handshake from the peer established `incoming`. When this device had
 * started its own session with the peer and not yet heard back (a simultaneous initiation), both
 * sessions are kept and the one with the smaller session id becomes active on both sides;
 * otherwise the peer's new session replaces the old one, which stays available for receiving
 * late messages.
 *
 * Implements requirement `offline.simultaneous`.
 *
 * @see spec §offline.simultaneous
 */
export function mergeIncomingSession(existing: PeerSession | undefined, incoming: RatchetState): PeerSession {
  // @req offline.simultaneous
  if (existing !== undefined && existing.confirmation.state === 'unconfirmed') {
    const incomingWins = compareBytes(incoming.sessionId, existing.ratchet.sessionId) < 0;
    return incomingWins
      ? { ratchet: incoming, confirmation: { state: 'confirmed' }, alternate: existing.ratchet }
      : { ratchet: existing.ratchet, confirmation: existing.confirmation, alternate: incoming };
  }
  return existing === undefined ? { ratchet: incoming, confirmation: { state: 'confirmed' } } : { ratchet: incoming, confirmation: { state: 'confirmed' }, alternate: existing.ratchet };
}

/** The key of a session in a session map: `bare JID/device id`. */
export function sessionKey(jid: string, device: number): string {
  return `${jid}/${device}`;
}

/** Namespace of XEP-0428 (Fallback Indication). */
export const FALLBACK_NS = 'urn:xmpp:fallback:0';

/** The fallback body for clients without Seal. @see spec §envelope.wire */
export const FALLBACK_BODY = 'This message is encrypted with Seal (urn:xmpp:seal:0), which your client does not support.';

/**
 * The key commitment: `MacWithLabel(content_key, "key commitment", "")`.
 *
 * Implements requirement `envelope.commitment`.
 *
 * @see spec §envelope.commitment
 */
export function keyCommitment(contentKey: SymmetricKey): Uint8Array {
  // @req envelope.commitment
  return macWithLabel(contentKey, ENVELOPE_LABELS.keyCommitment, new Uint8Array(0));
}

/**
 * The key the payload is encrypted under: `DeriveKey("payload key", ikm = content_key, salt = "",
 * context = "", 32)`. The content key itself goes only into HMAC (this derivation and the
 * commitment), never into ChaCha20-Poly1305, so the commitment and the AEAD use separate keys.
 *
 * Implements requirement `envelope.payload-key`.
 *
 * @see spec §envelope.commitment
 */
export function payloadKey(contentKey: SymmetricKey): SymmetricKey {
  // @req envelope.payload-key
  const ikm = contentKey.dangerouslyExposeBytes();
  try {
    return deriveSymmetricKey({ label: ENVELOPE_LABELS.payloadKey, ikm });
  } finally {
    ikm.fill(0);
  }
}

/** What each wrapped key's ratchet message binds besides the session: the commitment and the payload's hash. */
function wrapContext(commitment: Uint8Array, payload: Uint8Array): Uint8Array {
  return concatBytes(commitment, sha256(payload));
}

/**
 * The context of every wrapped key of a key-only message: `LabeledContent("Seal-v0 key only", "")`
 * (21 bytes; a message's context is 64 bytes), so that a key-only wrap never authenticates as the
 * wrap of a message's content key, nor the reverse.
 */
const KEY_ONLY_CONTEXT = labeledContent(ENVELOPE_LABELS.keyOnly, new Uint8Array(0));

/** The plaintext of every wrapped key of a key-only message: 32 zero bytes (the length of a content key). */
const KEY_ONLY_PLAINTEXT = new Uint8Array(32);

const ZERO_NONCE = new Uint8Array(12);

/**
 * Most message keys one received stanza may make a receiver skip, over every session it is tried
 * on: what one message may need on one session (MAX_SKIP on the chain it ends, MAX_SKIP on the
 * new one), so a forged stanza costs no more than the costliest honest one.
 */
const MAX_SKIPPED_PER_STANZA = 2 * ENVELOPE_CONSTANTS.MAX_SKIP;

type KeyElement = SealedValue['recipients'][number]['keys'][number];

/** Throws `length-out-of-range` unless 1..MAX_RECIPIENTS recipients are given. */
function checkRecipientCount(recipients: readonly unknown[]): void {
  if (recipients.length < 1 || recipients.length > ENVELOPE_CONSTANTS.MAX_RECIPIENTS) {
    throw new SealError('length-out-of-range', `recipients: expected 1..${ENVELOPE_CONSTANTS.MAX_RECIPIENTS}, got ${recipients.length}`);
  }
}

/**
 * Wraps `plaintext` for every recipient through its session, in recipient order, attaching the
 * session's handshake header while it is unconfirmed; returns the key elements grouped by bare
 * JID and the advanced sessions.
 */
function wrapForRecipients(
  recipients: readonly { jid: BareJid; deviceId: DeviceId }[],
  input: ReadonlyMap<string, PeerSession>,
  plaintext: Uint8Array,
  context: Uint8Array,
  rng: Rng,
): { recipients: SealedValue['recipients']; sessions: Map<string, PeerSession> } {
  const sessions = new Map(input);
  const byJid = new Map<string, KeyElement[]>();
  for (const recipient of recipients) {
    const key = sessionKey(recipient.jid, recipient.deviceId);
    const session = sessions.get(key);
    if (session === undefined) throw new SealError('no-session', `no session with device ${recipient.deviceId} of ${recipient.jid}`);
    const wrapped = ratchetEncrypt(session.ratchet, plaintext, context, rng);
    const handshake = headerToAttach(session.confirmation);
    const data = encodeWrappedKey({ handshake, header: wrapped.header, ciphertext: wrapped.ciphertext });
    sessions.set(key, { ...session, ratchet: wrapped.state });
    byJid.set(recipient.jid, [...(byJid.get(recipient.jid) ?? []), { rid: recipient.deviceId, handshake: handshake !== undefined, data }]);
  }
  return { recipients: [...byJid].map(([jid, keys]) => ({ jid, keys })), sessions };
}

/**
 * Seals a message stanza for `recipients` (every device of the peer and the sender's own other
 * devices, each with an established session). Randomness: 32 bytes for the content key, the
 * padding bytes, then whatever each ratchet step draws, in recipient order.
 *
 * Implements requirements `envelope.content-once`, `envelope.fan-out`, `envelope.markers`.
 *
 * @returns the `<message/>` stanza and the updated sessions.
 * @throws SealError `no-session` for a recipient without a session; `too-large`;
 *   `length-out-of-range` for more than MAX_RECIPIENTS recipients.
 * @see spec §envelope
 */
export function sealStanza(input: {
  to: string;
  from: string;
  type?: 'chat' | 'normal' | 'groupchat';
  id?: string;
  senderDeviceId: DeviceId;
  /** A room message's sender bare JID, written to `<sealed sender='…'/>` (§groups.wire). */
  sender?: BareJid;
  content: readonly Element[];
  recipients: readonly { jid: BareJid; deviceId: DeviceId }[];
  sessions: ReadonlyMap<string, PeerSession>;
  rng: Rng;
  now: number;
}): { stanza: Element; sessions: Map<string, PeerSession> } {
  const { rng } = input;
  checkRecipientCount(input.recipients);
  // @req envelope.content-once
  const contentKey = new SymmetricKey(rng(32));
  const plaintext = buildContent({ content: input.content, to: bare(input.to), from: bare(input.from), time: input.now, rng });
  const commitment = keyCommitment(contentKey);
  const sealingKey = payloadKey(contentKey);
  const payload = aeadSeal(sealingKey, ZERO_NONCE, plaintext, labeledContent(ENVELOPE_LABELS.payload, commitment));
  sealingKey.wipe();
  // @req envelope.fan-out
  const raw = contentKey.dangerouslyExposeBytes();
  const wrapped = wrapForRecipients(input.recipients, input.sessions, raw, wrapContext(commitment, payload), rng);
  // @req envelope.wipe: the content key is wrapped and used for this one payload.
  raw.fill(0);
  contentKey.wipe();
  const { sessions } = wrapped;
  const sealed = SealedElement.toXml({ sid: input.senderDeviceId, ...(input.sender === undefined ? {} : { sender: input.sender }), recipients: wrapped.recipients, commitment, payload });
  // @req envelope.markers
  const stanza = xml('message', { to: input.to, from: input.from, type: input.type ?? 'chat', ...(input.id === undefined ? {} : { id: input.id }) }, [
    sealed,
    EncryptionMarker.toXml({ namespace: SEAL_NS, name: 'Seal' }),
    StoreHint.toXml({}),
    xml('body', {}, [FALLBACK_BODY]),
    // @req envelope.markers: the body is marked as a fallback for Seal (XEP-0428).
    xml('fallback', { xmlns: FALLBACK_NS, for: SEAL_NS }),
  ]);
  return { stanza, sessions };
}

/**
 * Seals a key-only message for `recipients` (each with an established session): a `<sealed/>`
 * without `<payload/>` whose key elements each wrap 32 zero bytes under the key-only context,
 * in a `type='chat'` message stanza with the storage hint and neither a `<body/>` nor the
 * explicit-encryption marker. It advances each session by one message, and carries a session's
 * handshake header while that session is unconfirmed, exactly as {@link sealStanza} does; it
 * draws randomness only for a ratchet step (32 bytes per recipient whose ratchet makes a DH
 * step, in recipient order).
 *
 * Implements requirements `envelope.key-only`, `envelope.key-only-stanza`.
 *
 * @param input.to the stanza's `to` (the recipients' bare JID).
 * @param input.from the stanza's `from` (this account's JID).
 * @param input.recipients 1..MAX_RECIPIENTS devices, each with a session in `sessions`.
 * @param input.now unused by the message itself (a key-only message carries no time); taken so
 *   that both seal functions accept the same inputs.
 * @returns the `<message/>` stanza and the updated sessions.
 * @throws SealError `no-session` for a recipient without a session; `length-out-of-range` for
 *   no recipient or more than MAX_RECIPIENTS.
 * @see spec §envelope.key-only
 * @example
 * ```ts
 * const { stanza, sessions: next } = sealKeyOnly({ to: 'romeo@montague.lit', from: 'juliet@capulet.lit',
 *   senderDeviceId: self.deviceId, recipients: [{ jid: romeo, deviceId: 1864894878 }], sessions, rng, now });
 * ```
 */
export function sealKeyOnly(input: {
  to: string;
  from: string;
  /** `groupchat` for a key-only message to a room (§groups.limits); `chat` otherwise. */
  type?: 'chat' | 'groupchat';
  id?: string;
  senderDeviceId: DeviceId;
  /** A room message's sender bare JID, written to `<sealed sender='…'/>` (§groups.wire). */
  sender?: BareJid;
  recipients: readonly { jid: BareJid; deviceId: DeviceId }[];
  sessions: ReadonlyMap<string, PeerSession>;
  rng: Rng;
  now: number;
}): { stanza: Element; sessions: Map<string, PeerSession> } {
  checkRecipientCount(input.recipients);
  // @req envelope.key-only: 32 zero bytes under the key-only context; no commitment, no payload.
  const wrapped = wrapForRecipients(input.recipients, input.sessions, KEY_ONLY_PLAINTEXT, KEY_ONLY_CONTEXT, input.rng);
  const sealed = SealedElement.toXml({ sid: input.senderDeviceId, ...(input.sender === undefined ? {} : { sender: input.sender }), recipients: wrapped.recipients });
  // @req envelope.key-only-stanza: stored by servers, invisible to clients without Seal.
  const stanza = xml('message', { to: input.to, from: input.from, type: input.type ?? 'chat', ...(input.id === undefined ? {} : { id: input.id }) }, [sealed, StoreHint.toXml({})]);
  return { stanza, sessions: wrapped.sessions };
}

/** The result of {@link openStanza}; bad input gives `error`, never an exception. */
export type OpenResult =
  | {
      readonly kind: 'ok';
      readonly sender: { readonly jid: BareJid; readonly deviceId: DeviceId };
      /** `true` for a key-only message: no content, and `time` is the receiver's `now`. */
      readonly keyOnly: boolean;
      readonly content: readonly Element[];
      readonly time: number;
      /** The sessions, device state and handshake log to store (only now do they change). */
      readonly sessions: Map<string, PeerSession>;
      readonly state: DeviceState;
      readonly log: HandshakeLog;
    }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'not-for-this-device'; readonly sender: { readonly jid: string; readonly deviceId: number } }
  | { readonly kind: 'error'; readonly error: SealError };

/**
 * Opens a sealed message stanza as device `self`. A key flagged with a handshake header starts
 * (or, for a header already processed, continues) a session as the asynchronous handshake's
 * responder. A key-only message (no `<payload/>`) opens the same way, with the key-only context,
 * and must unwrap to 32 zero bytes; it yields `keyOnly: true`, no content and `time = now`, and
 * has no affixes to check: its wrap binds "key only" and the session's associated data binds
 * both devices' identities and bare JIDs.
 *
 * Implements requirements `envelope.open-transactional`, `envelope.commitment`,
 * `envelope.key-only-open`.
 *
 * @see spec §envelope.open
 * @see spec §envelope.key-only
 */
export function openStanza(input: {
  stanza: Element;
  self: DeviceState;
  log: HandshakeLog;
  sessions: ReadonlyMap<string, PeerSession>;
  now: number;
  knownSigningKey?: (jid: string, deviceId: number) => Uint8Array | undefined;
}): OpenResult {
  try {
    return openOrThrow(input);
  } catch (e) {
    if (isSealError(e)) return { kind: 'error', error: e };
    return { kind: 'error', error: new SealError('schema-violation', 'stanza could not be opened') };
  }
}

function openOrThrow(input: Parameters<typeof openStanza>[0]): OpenResult {
  const { stanza, self, now } = input;
  const sealedElement = stanza.getChild('sealed', SEAL_NS);
  if (sealedElement === undefined) throw new SealError('unexpected-element', 'stanza: no <sealed/> element');
  const sealed = SealedElement.fromXml(sealedElement);
  const from = String(stanza.attrs.from ?? '');
  const to = String(stanza.attrs.to ?? '');
  const senderJid = bareJid(bare(from));
  const senderDevice = toDeviceId(sealed.sid);
  const mine = sealed.recipients.find((r) => r.jid === self.jid)?.keys.find((k) => k.rid === self.deviceId);
  if (mine === undefined) return { kind: 'not-for-this-device', sender: { jid: senderJid, deviceId: senderDevice } };
  const wrapped = decodeWrappedKey(mine.data, mine.handshake);
  const key = sessionKey(senderJid, senderDevice);
  let session = input.sessions.get(key);
  let state = self;
  let log = input.log;
  let incoming: RatchetState | undefined;
  if (wrapped.handshake !== undefined) {
    const known = input.knownSigningKey?.(senderJid, senderDevice);
    let response: ReturnType<typeof respondAsync>;
    try {
      response = respondAsync({ self, log: input.log, header: wrapped.handshake, initiatorJid: senderJid, initiatorDeviceId: senderDevice, now, ...(known === undefined ? {} : { knownInitiatorSigningKey: known }) });
    } catch (e) {
      // A header that has dropped out of the bounded handshake log names a one-time prekey that is
      // gone; the message may still belong to the session that header created.
      if (!(isSealError(e, 'unknown-prekey') && session !== undefined)) throw e;
      response = { kind: 'duplicate' };
    }
    if (response.kind === 'established') {
      incoming = startRatchet(response.session);
      session = mergeIncomingSession(session, incoming);
      state = response.state;
      log = response.log;
    }
  }
  if (session === undefined) throw new SealError('no-session', `no session with device ${senderDevice} of ${senderJid}`);
  const keyOnly = sealed.payload === undefined || sealed.commitment === undefined;
  // @req envelope.key-only-open: a key-only wrap is opened only under the key-only context, so
  // stripping a message's payload (or grafting one onto a key-only message) fails authentication.
  const context = keyOnly ? KEY_ONLY_CONTEXT : wrapContext(sealed.commitment!, sealed.payload!);
  // The message belongs to the session its handshake just created, or else to the active or the
  // other kept session; each attempt works on a copy.
  // Try first the session whose chains know the header's ratchet key, so that the error reported
  // (and repaired for) is the one of the session the message belongs to.
  const headerKey = toHex(wrapped.header.slice(0, 32));
  const knows = (r: RatchetState | undefined) => r !== undefined && ((r.remoteRatchetKey !== undefined && toHex(r.remoteRatchetKey) === headerKey) || r.skipped.some((k) => k.ratchetKey === headerKey));
  const preferAlternate = (incoming !== undefined && session.alternate === incoming) || (!knows(session.ratchet) && knows(session.alternate));
  const candidates: ('ratchet' | 'alternate')[] = preferAlternate ? ['alternate', 'ratchet'] : ['ratchet', 'alternate'];
  let result: ReturnType<typeof ratchetDecrypt> | undefined;
  let used: 'ratchet' | 'alternate' = 'ratchet';
  let firstError: unknown;
  // @req envelope.forgery-cost: one budget of skipped keys for the stanza, over both sessions.
  const budget: SkipBudget = { remaining: MAX_SKIPPED_PER_STANZA };
  for (const which of candidates) {
    const ratchet = session[which];
    if (ratchet === undefined) continue;
    try {
      result = ratchetDecrypt(ratchet, wrapped.header, wrapped.ciphertext, context, now, budget);
      used = which;
      break;
    } catch (e) {
      firstError ??= e;
    }
  }
  if (result === undefined) {
    // @req envelope.open-gone-session: a header this device already processed, whose session it no
    // longer holds (neither session knows the header's ratchet key): the message's keys are gone
    // with that session. A re-delivery or a late message alike; nothing a new session would fix.
    if (wrapped.handshake !== undefined && incoming === undefined && !knows(session.ratchet) && !knows(session.alternate)) {
      throw new SealError('message-key-unavailable', 'the session this message\'s handshake established is no longer held (a re-delivery, or a message that came after the session was replaced)');
    }
    throw firstError;
  }
  if (result.kind === 'duplicate') return { kind: 'duplicate' };
  let opened: { content: readonly Element[]; time: number };
  if (keyOnly) {
    // @req envelope.key-only-open
    if (!constantTimeEqual(result.plaintext, KEY_ONLY_PLAINTEXT)) throw new SealError('authentication-failed', 'key-only message: the wrapped value is not 32 zero bytes');
    opened = { content: [], time: now };
  } else {
    const contentKey = new SymmetricKey(result.plaintext);
    result.plaintext.fill(0);
    try {
      // @req envelope.commitment
      if (!constantTimeEqual(keyCommitment(contentKey), sealed.commitment!)) throw new SealError('authentication-failed', 'payload: key commitment does not match');
      const openingKey = payloadKey(contentKey);
      let plaintext: Uint8Array;
      try {
        plaintext = aeadOpen(openingKey, ZERO_NONCE, sealed.payload!, labeledContent(ENVELOPE_LABELS.payload, sealed.commitment!));
      } finally {
        openingKey.wipe();
      }
      opened = openContent(plaintext, { to, from });
    } finally {
      // @req envelope.wipe: the content key is used for this one payload.
      contentKey.wipe();
    }
  }
  // @req envelope.open-transactional: only here, after everything verified, are new values returned.
  const sessions = new Map(input.sessions);
  // A message (key-only or not) on the active session confirms it; one on the other session changes nothing else.
  sessions.set(key, used === 'ratchet' ? { ...session, ratchet: result.state, confirmation: confirmedByReply(session.confirmation) } : { ...session, alternate: result.state });
  return { kind: 'ok', sender: { jid: senderJid, deviceId: senderDevice }, keyOnly, content: opened.content, time: opened.time, sessions, state, log };
}
