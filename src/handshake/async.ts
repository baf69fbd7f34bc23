/**
 * The asynchronous handshake (PQXDH-shaped): an initiator starts a session from a verified
 * bundle while the responder may be offline; the responder completes it from the handshake
 * header that rides on the first messages.
 *
 * @see spec §handshake.async
 * @module
 */
import { decode, encode, fixed, optional, struct, u32, u8 } from '../codec/binary.js';
import { SealError } from '../errors.js';
import { checkX25519PublicKey, generateX25519KeyPair, x25519, x25519PublicKeyOf } from '../suite/agreement.js';
import { mlKemDecapsulate, mlKemEncapsulate, mlKemKeyPairFromSeed } from '../suite/kem.js';
import { constantTimeEqual, deriveKey, sha256 } from '../suite/kdf.js';
import type { Rng } from '../suite/rng.js';
import { assertSignedWithLabel, checkEd25519PublicKey } from '../suite/signature.js';
import { LENGTHS, SymmetricKey, type X25519PublicKey } from '../suite/types.js';
import { concatBytes, fromHex, toHex, utf8Encode } from '../codec/bytes.js';
import type { VerifiedBundle } from '../identity/bundle.js';
import type { DeviceId } from '../identity/device.js';
import type { BareJid } from '../identity/jid.js';
import { SIGNATURE_LABELS } from '../identity/labels.js';
import { type DeviceState, identityKeysOf } from '../identity/state.js';
import { IdentityKeysContent } from '../wire/bundle.js';
import { type AsyncHeaderValue, encodeAsyncHeader } from '../wire/handshake.js';
import { HANDSHAKE_CONSTANTS, HANDSHAKE_LABELS } from './constants.js';
import { type PartyIdentity, type SessionSecret, deriveSession, partyOf, sessionBinding } from './session.js';

/** The fields of AsyncTranscript after its SessionBinding. */
const AsyncTranscriptFields = struct('AsyncTranscript', {
  signedPrekeyId: u32,
  signedPrekey: fixed(32, 'signed_prekey'),
  oneTimePrekey: optional(struct('OneTimePrekeyRef', { id: u32, publicKey: fixed(32, 'one_time_prekey') })),
  kemPrekeyId: u32,
  kemPrekey: fixed(LENGTHS.mlKemPublicKey, 'kem_prekey'),
  ephemeralKey: fixed(32, 'ephemeral_key'),
  kemCiphertext: fixed(LENGTHS.mlKemCiphertext, 'kem_ciphertext'),
});

/** Everything the transcript binds, besides the two parties. */
export interface TranscriptFields {
  readonly signedPrekeyId: number;
  readonly signedPrekey: Uint8Array;
  readonly oneTimePrekey: { id: number; publicKey: Uint8Array } | undefined;
  readonly kemPrekeyId: number;
  readonly kemPrekey: Uint8Array;
  readonly ephemeralKey: Uint8Array;
  readonly kemCiphertext: Uint8Array;
}

/**
 * `struct { SessionBinding binding; uint32 signed_prekey_id; opaque signed_prekey[32];
 * optional<OneTimePrekeyRef> one_time_prekey; uint32 kem_prekey_id; opaque kem_prekey[1184];
 * opaque ephemeral_key[32]; opaque kem_ciphertext[1088]; } AsyncTranscript`.
 *
 * @see spec §handshake.async
 */
export function asyncTranscript(initiator: PartyIdentity, responder: PartyIdentity, fields: TranscriptFields): Uint8Array {
  return concatBytes(sessionBinding(initiator, responder), encode(AsyncTranscriptFields, fields));
}

/** The secrets of one asynchronous handshake, as both sides compute them. */
export interface AsyncSecrets {
  /** DH1..DH4 (DH4 absent without a one-time prekey) and the ML-KEM shared secret, in order. */
  readonly inputKeyMaterial: Uint8Array;
  readonly transcript: Uint8Array;
  readonly handshakeSecret: Uint8Array;
  readonly confirmation: Uint8Array;
}

/**
 * `handshake_secret = DeriveKey("async handshake", DH1 || DH2 || DH3 [|| DH4] || SS_kem,
 * context = AsyncTranscript, 32)` and `confirmation = DeriveKey("async confirmation",
 * handshake_secret, context = SHA-256(AsyncTranscript), 32)`.
 *
 * Implements requirement `handshake.async-kdf`.
 *
 * @see spec §handshake.async
 */
export function asyncSecrets(inputKeyMaterial: Uint8Array, transcript: Uint8Array): AsyncSecrets {
  // @req handshake.async-kdf
  const handshakeSecret = deriveKey({ label: HANDSHAKE_LABELS.asyncHandshake, ikm: inputKeyMaterial, context: transcript, length: 32 });
  const confirmation = deriveKey({ label: HANDSHAKE_LABELS.asyncConfirmation, ikm: handshakeSecret, context: sha256(transcript), length: 32 });
  return { inputKeyMaterial, transcript, handshakeSecret, confirmation };
}

/** The result of {@link initiateAsync}. */
export interface AsyncInitiation {
  /** The header to attach to every message until the responder's first reply arrives. */
  readonly header: AsyncHeaderValue;
  readonly session: SessionSecret;
  /** Intermediate values, for test vectors and debugging. They include secrets: never log them. */
  readonly secrets: AsyncSecrets;
}

/**
 * Starts an asynchronous handshake with the device whose bundle was verified as `peer`.
 * Randomness is drawn in this order: 4 bytes to choose a one-time prekey (only when the bundle
 * has any), 32 bytes for the ephemeral key, 32 bytes for ML-KEM encapsulation.
 *
 * Implements requirements `handshake.async-initiator` and `handshake.one-time-prekey-choice`.
 *
 * @param input.knownPeerSigningKey - the identity signing key recorded for this peer device, if any.
 * @throws SealError `identity-key-changed` when the bundle's signing key differs from the
 *   recorded one; `zero-shared-secret` (cannot happen with a verified bundle).
 * @see spec §handshake.async
 */
export function initiateAsync(input: { self: DeviceState; peer: VerifiedBundle; rng: Rng; knownPeerSigningKey?: Uint8Array }): AsyncInitiation {
  const { self, peer, rng } = input;
  if (input.knownPeerSigningKey !== undefined && !constantTimeEqual(input.knownPeerSigningKey, peer.signingKey)) {
    throw new SealError('identity-key-changed', `device ${peer.deviceId} of ${peer.jid}: identity key differs from the recorded one`);
  }
  // @req handshake.one-time-prekey-choice
  let oneTimePrekey: VerifiedBundle['oneTimePrekeys'][number] | undefined;
  if (peer.oneTimePrekeys.length > 0) {
    const r = rng(4);
    const draw = ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
    oneTimePrekey = peer.oneTimePrekeys[draw % peer.oneTimePrekeys.length];
  }
  const ephemeral = generateX25519KeyPair(rng);
  // @req handshake.async-initiator
  const dh1 = x25519(self.agreementKey, peer.signedPrekey.publicKey);
  const dh2 = x25519(ephemeral.secretKey, peer.agreementKey);
  const dh3 = x25519(ephemeral.secretKey, peer.signedPrekey.publicKey);
  const dh4 = oneTimePrekey === undefined ? undefined : x25519(ephemeral.secretKey, oneTimePrekey.publicKey);
  const kem = mlKemEncapsulate(peer.kemPrekey.publicKey, rng);
  const initiator = partyOf(self);
  const responder: PartyIdentity = { jid: peer.jid, deviceId: peer.deviceId, signingKey: peer.signingKey, agreementKey: peer.agreementKey };
  const transcript = asyncTranscript(initiator, responder, {
    signedPrekeyId: peer.signedPrekey.id,
    signedPrekey: peer.signedPrekey.publicKey,
    oneTimePrekey,
    kemPrekeyId: peer.kemPrekey.id,
    kemPrekey: peer.kemPrekey.publicKey,
    ephemeralKey: ephemeral.publicKey,
    kemCiphertext: kem.ciphertext,
  });
  const ikm = concatBytes(...[dh1, dh2, dh3, ...(dh4 === undefined ? [] : [dh4]), kem.sharedSecret].map((k) => k.dangerouslyExposeBytes()));
  const secrets = asyncSecrets(ikm, transcript);
  const header: AsyncHeaderValue = {
    initiator: identityKeysOf(self),
    signedPrekeyId: peer.signedPrekey.id,
    ...(oneTimePrekey === undefined ? {} : { oneTimePrekeyId: oneTimePrekey.id }),
    kemPrekeyId: peer.kemPrekey.id,
    ephemeralKey: ephemeral.publicKey,
    kemCiphertext: kem.ciphertext,
    confirmation: secrets.confirmation,
  };
  const session = deriveSession({
    handshake: 'async',
    handshakeSecret: new SymmetricKey(secrets.handshakeSecret),
    transcript,
    initiator,
    responder,
    ratchet: { role: 'initiator', peerRatchetKey: peer.signedPrekey.publicKey },
  });
  return { header, session, secrets };
}

/**
 * The asynchronous handshake headers a device has processed, oldest first. Each entry is the hex
 * of `struct { uint32 signed_prekey_id; uint8 one_time; opaque header_hash[32]; }`, where
 * `one_time` is 1 when the header used a one-time prekey and `header_hash` is SHA-256 of the
 * canonical header encoding. Entries of headers with a one-time prekey are kept up to
 * MAX_PROCESSED_HANDSHAKES (oldest dropped first); entries of headers without one are kept for as
 * long as the signed prekey they name is held (at most MAX_PROCESSED_HANDSHAKES per signed
 * prekey), because only they stop a replayed first message from creating its session again.
 *
 * @see spec §handshake.async
 */
export type HandshakeLog = readonly string[];

/** `struct { uint32 signed_prekey_id; uint8 one_time; opaque header_hash[32]; } HandshakeLogEntry`. @see spec §handshake.async */
export const HandshakeLogEntryCodec = struct('HandshakeLogEntry', { signedPrekeyId: u32, oneTime: u8, headerHash: fixed(32, 'header_hash') });

/** The log entry of a header: signed prekey id, whether it used a one-time prekey, its hash. @see spec §handshake.async */
export function handshakeLogEntry(header: AsyncHeaderValue): string {
  return toHex(encode(HandshakeLogEntryCodec, { signedPrekeyId: header.signedPrekeyId, oneTime: header.oneTimePrekeyId === undefined ? 0 : 1, headerHash: sha256(encodeAsyncHeader(header)) }));
}

/**
 * Decoded log entries by their stored text: an index, so that a responder whose log is full does
 * not decode every entry again for each first message (entries are immutable and not secret).
 * Bounded: cleared when it outgrows the largest log a device holds with a few devices' worth of
 * margin.
 */
const decodedEntries = new Map<string, { signedPrekeyId: number; oneTime: number }>();
const DECODED_ENTRIES_BOUND = 8 * HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES;

/** A stored log entry; a malformed one means the caller's stored state is corrupted. */
function readEntry(entry: string): { signedPrekeyId: number; oneTime: number } {
  const known = decodedEntries.get(entry);
  if (known !== undefined) return known;
  let decoded: { signedPrekeyId: number; oneTime: number };
  try {
    const value = decode(HandshakeLogEntryCodec, fromHex(entry, 'handshake log entry'));
    decoded = { signedPrekeyId: value.signedPrekeyId, oneTime: value.oneTime };
  } catch (e) {
    throw new SealError('invalid-state', `handshake log: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (decodedEntries.size >= DECODED_ENTRIES_BOUND) decodedEntries.clear();
  decodedEntries.set(entry, decoded);
  return decoded;
}

/** How many headers without a one-time prekey the log holds for signed prekey `id`. */
function withoutOneTimePrekey(log: HandshakeLog, id: number): number {
  return log.map(readEntry).filter((e) => e.oneTime === 0 && e.signedPrekeyId === id).length;
}

/**
 * The log after accepting `entry` as `state`: entries of signed prekeys no longer held are
 * dropped, then the oldest entries with a one-time prekey beyond MAX_PROCESSED_HANDSHAKES.
 */
function appendToHandshakeLog(log: HandshakeLog, entry: string, state: DeviceState): HandshakeLog {
  const held = new Set(state.signedPrekeys.map((k) => k.id));
  const kept: string[] = [];
  let withOneTime = 0;
  for (const e of [...log, entry]) {
    const read = readEntry(e);
    if (!held.has(read.signedPrekeyId)) continue;
    kept.push(e);
    if (read.oneTime === 1) withOneTime++;
  }
  // Drop the oldest entries with a one-time prekey beyond the bound.
  let excess = Math.max(0, withOneTime - HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES);
  if (excess === 0) return kept;
  return kept.filter((e) => (excess > 0 && readEntry(e).oneTime === 1 ? (excess--, false) : true));
}

/**
 * Whether the current signed prekey can accept no more handshakes without a one-time prekey, so
 * the device must rotate it now (prekey maintenance calls this with the device's log).
 *
 * @see spec §handshake.async
 */
export function signedPrekeyLogFull(state: DeviceState, log: HandshakeLog): boolean {
  const current = state.signedPrekeys[state.signedPrekeys.length - 1];
  return current !== undefined && withoutOneTimePrekey(log, current.id) >= HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES;
}

/** The result of {@link respondAsync}: a new session, or a duplicate of a processed header. */
export type AsyncResponse =
  | { readonly kind: 'established'; readonly session: SessionSecret; readonly state: DeviceState; readonly log: HandshakeLog; readonly secrets: AsyncSecrets }
  | { readonly kind: 'duplicate' };

/**
 * Completes an asynchronous handshake from a received header, as device `self`. Nothing is
 * changed on failure: the new device state (one-time prekey consumed) and log are returned for
 * the caller to store only on success. Checks in the order `handshake.async-responder` gives, the
 * first failure giving the error: duplicate (no other check); the initiator's signing key,
 * agreement key and the ephemeral key; the identity signature; the recorded identity key; the
 * signed prekey (held, grace period, and for a header without a one-time prekey a log that is not
 * full); the KEM prekey (held, grace period); the one-time prekey (held); the confirmation.
 *
 * Implements requirements `handshake.async-responder`, `handshake.one-time-prekey-once`,
 * `handshake.duplicate`, `handshake.prekey-grace`.
 *
 * @param input.initiatorJid - the bare JID the message came from (the stanza's `from`).
 * @param input.initiatorDeviceId - the sending device id of the envelope that carried the header.
 * @param input.knownInitiatorSigningKey - the identity signing key recorded for that device, if any.
 * @throws SealError `invalid-key` or `authentication-failed` for a bad initiator identity;
 *   `identity-key-changed`; `unknown-prekey` for a signed, KEM or one-time prekey the device
 *   does not hold (a consumed one-time prekey included); `expired-prekey` for a signed or KEM
 *   prekey past its grace period; `authentication-failed` when the confirmation does not match
 *   (a tampered header, a wrong KEM ciphertext, or another device's keys).
 * @see spec §handshake.async
 */
export function respondAsync(input: {
  self: DeviceState;
  log: HandshakeLog;
  header: AsyncHeaderValue;
  initiatorJid: BareJid;
  initiatorDeviceId: DeviceId;
  now: number;
  knownInitiatorSigningKey?: Uint8Array;
}): AsyncResponse {
  const { self, header, now } = input;
  const entry = handshakeLogEntry(header);
  // @req handshake.duplicate
  if (input.log.includes(entry)) return { kind: 'duplicate' };

  // @req handshake.async-responder
  const signingKey = checkEd25519PublicKey(header.initiator.signingKey);
  const agreementKey = checkX25519PublicKey(header.initiator.agreementKey);
  const ephemeralKey = checkX25519PublicKey(header.ephemeralKey);
  const identityContent = encode(IdentityKeysContent, { jid: utf8Encode(input.initiatorJid), deviceId: input.initiatorDeviceId, signingKey, agreementKey });
  assertSignedWithLabel(signingKey, SIGNATURE_LABELS.identityKeys, identityContent, header.initiator.signature);
  if (input.knownInitiatorSigningKey !== undefined && !constantTimeEqual(input.knownInitiatorSigningKey, signingKey)) {
    throw new SealError('identity-key-changed', `device ${input.initiatorDeviceId} of ${input.initiatorJid}: identity key differs from the recorded one`);
  }

  // @req handshake.prekey-grace
  const signed = self.signedPrekeys.find((k) => k.id === header.signedPrekeyId);
  if (signed === undefined) throw new SealError('unknown-prekey', `signed prekey ${header.signedPrekeyId}: not held by this device`);
  if (now >= signed.expires + HANDSHAKE_CONSTANTS.PREKEY_GRACE_PERIOD) throw new SealError('expired-prekey', `signed prekey ${signed.id}: past its grace period`);
  // @req handshake.replay-without-one-time-prekey: the log of a signed prekey's handshakes without
  // a one-time prekey never drops an entry while that prekey is held; when it is full, no more.
  if (header.oneTimePrekeyId === undefined && withoutOneTimePrekey(input.log, signed.id) >= HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES) {
    throw new SealError('unknown-prekey', `signed prekey ${signed.id}: accepts no more handshakes without a one-time prekey (its log is full; the device rotates it)`);
  }
  const kemSecret = self.kemPrekeys.find((k) => k.id === header.kemPrekeyId);
  if (kemSecret === undefined) throw new SealError('unknown-prekey', `KEM prekey ${header.kemPrekeyId}: not held by this device`);
  if (now >= kemSecret.expires + HANDSHAKE_CONSTANTS.PREKEY_GRACE_PERIOD) throw new SealError('expired-prekey', `KEM prekey ${kemSecret.id}: past its grace period`);
  // @req handshake.one-time-prekey-once
  const oneTime = header.oneTimePrekeyId === undefined ? undefined : self.oneTimePrekeys.find((k) => k.id === header.oneTimePrekeyId);
  if (header.oneTimePrekeyId !== undefined && oneTime === undefined) {
    throw new SealError('unknown-prekey', `one-time prekey ${header.oneTimePrekeyId}: not held by this device (never issued, or already used)`);
  }

  const kem = mlKemKeyPairFromSeed(kemSecret.seed);
  const dh1 = x25519(signed.secretKey, agreementKey);
  const dh2 = x25519(self.agreementKey, ephemeralKey);
  const dh3 = x25519(signed.secretKey, ephemeralKey);
  const dh4 = oneTime === undefined ? undefined : x25519(oneTime.secretKey, ephemeralKey);
  const kemShared = mlKemDecapsulate(kem.secretKey, header.kemCiphertext);
  const initiator: PartyIdentity = { jid: input.initiatorJid, deviceId: input.initiatorDeviceId, signingKey, agreementKey };
  const responder = partyOf(self);
  const signedPublic: X25519PublicKey = x25519PublicKeyOf(signed.secretKey);
  const transcript = asyncTranscript(initiator, responder, {
    signedPrekeyId: signed.id,
    signedPrekey: signedPublic,
    oneTimePrekey: oneTime === undefined ? undefined : { id: oneTime.id, publicKey: x25519PublicKeyOf(oneTime.secretKey) },
    kemPrekeyId: kemSecret.id,
    kemPrekey: kem.publicKey,
    ephemeralKey,
    kemCiphertext: header.kemCiphertext,
  });
  const ikm = concatBytes(...[dh1, dh2, dh3, ...(dh4 === undefined ? [] : [dh4]), kemShared].map((k) => k.dangerouslyExposeBytes()));
  const secrets = asyncSecrets(ikm, transcript);
  if (!constantTimeEqual(secrets.confirmation, header.confirmation)) {
    throw new SealError('authentication-failed', 'handshake: confirmation does not match');
  }
  const session = deriveSession({
    handshake: 'async',
    handshakeSecret: new SymmetricKey(secrets.handshakeSecret),
    transcript,
    initiator,
    responder,
    ratchet: { role: 'responder', ratchetKeyPair: { secretKey: signed.secretKey, publicKey: signedPublic } },
  });
  const state: DeviceState = { ...self, oneTimePrekeys: self.oneTimePrekeys.filter((k) => k.id !== header.oneTimePrekeyId) };
  const log = appendToHandshakeLog(input.log, entry, state);
  return { kind: 'established', session, state, log, secrets };
}

/**
 * Whether an initiator still attaches its handshake header: until the responder's first message
 * of the session has been opened.
 *
 * @see spec §handshake.async
 */
export type KeyConfirmation = { readonly state: 'unconfirmed'; readonly header: AsyncHeaderValue } | { readonly state: 'confirmed' };

/**
 * The header to attach to the next message, if any.
 *
 * Implements requirement `handshake.key-confirmation`.
 *
 * @see spec §handshake.async
 */
export function headerToAttach(confirmation: KeyConfirmation): AsyncHeaderValue | undefined {
  // @req handshake.key-confirmation
  return confirmation.state === 'unconfirmed' ? confirmation.header : undefined;
}

/**
 * The confirmation state after a message of the session from the responder has been opened.
 *
 * @see spec §handshake.async
 */
export function confirmedByReply(_confirmation: KeyConfirmation): KeyConfirmation {
  return { state: 'confirmed' };
}
