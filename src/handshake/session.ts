/**
 * The session secret both handshakes end in, so that one envelope serves online and offline
 * conversations alike; and the exporter that derives keys for other channels from it.
 *
 * @see spec §handshake.session
 * @module
 */
import { encode, opaque, struct } from '../codec/binary.js';
import { SealError } from '../errors.js';
import { utf8Encode } from '../codec/bytes.js';
import { type X25519KeyPair, x25519PublicKeyOf } from '../suite/agreement.js';
import { ed25519PublicKeyOf } from '../suite/signature.js';
import type { DeviceState } from '../identity/state.js';
import { deriveKey, deriveSymmetricKey, sha256 } from '../suite/kdf.js';
import { SUITE_ID } from '../suite/suite.js';
import type { Ed25519PublicKey, SymmetricKey, X25519PublicKey } from '../suite/types.js';
import type { DeviceId } from '../identity/device.js';
import type { BareJid } from '../identity/jid.js';
import { PartyIdentityCodec } from '../wire/handshake.js';
import { HANDSHAKE_LABELS } from './constants.js';

/** A device as a session names it. */
export interface PartyIdentity {
  readonly jid: BareJid;
  readonly deviceId: DeviceId;
  readonly signingKey: Ed25519PublicKey;
  readonly agreementKey: X25519PublicKey;
}

/** What every session secret holds, whatever its role. */
export interface SessionCommon {
  /** Which handshake produced the session. */
  readonly handshake: 'async' | 'interactive';
  /** SHA-256 of the handshake transcript: public, the same on both sides, unique per session. */
  readonly sessionId: Uint8Array;
  /** The Double Ratchet's initial root key. */
  readonly rootKey: SymmetricKey;
  /** The secret behind {@link exportKey}. */
  readonly exporterSecret: SymmetricKey;
  /** The encoded SessionBinding: associated data of every message of the session. */
  readonly associatedData: Uint8Array;
  readonly local: PartyIdentity;
  readonly peer: PartyIdentity;
}

/**
 * What a handshake gives the envelope. The initiator knows the responder's first ratchet public
 * key; the responder holds its private key (the signed prekey in the asynchronous handshake, a
 * fresh key in the interactive one).
 *
 * @see spec §handshake.session
 */
export type SessionSecret =
  | (SessionCommon & { readonly role: 'initiator'; readonly peerRatchetKey: X25519PublicKey })
  | (SessionCommon & { readonly role: 'responder'; readonly ratchetKeyPair: X25519KeyPair });

/** The ratchet part of a session secret, by role. */
export type RatchetStart = { readonly role: 'initiator'; readonly peerRatchetKey: X25519PublicKey } | { readonly role: 'responder'; readonly ratchetKeyPair: X25519KeyPair };

/** A device's own identity as a session names it, from its state. */
export function partyOf(state: DeviceState): PartyIdentity {
  return { jid: state.jid, deviceId: state.deviceId, signingKey: ed25519PublicKeyOf(state.signingKey), agreementKey: x25519PublicKeyOf(state.agreementKey) };
}

/**
 * `struct { opaque suite<1..255>; PartyIdentity initiator; PartyIdentity responder; } SessionBinding`:
 * the suite and both parties, bound into every handshake and every message.
 *
 * @see spec §handshake.session
 */
export function sessionBinding(initiator: PartyIdentity, responder: PartyIdentity): Uint8Array {
  const party = (p: PartyIdentity) => ({ jid: utf8Encode(p.jid), deviceId: p.deviceId, signingKey: p.signingKey, agreementKey: p.agreementKey });
  const codec = struct('SessionBinding', { suite: opaque(1, { min: 1, max: 255 }, 'suite'), initiator: PartyIdentityCodec, responder: PartyIdentityCodec });
  return encode(codec, { suite: utf8Encode(SUITE_ID), initiator: party(initiator), responder: party(responder) });
}

/**
 * Turns a handshake's secret into the session secret: `root_key = DeriveKey("root key",
 * handshake_secret, context = session_id)` and `exporter_secret = DeriveKey("exporter secret", …)`.
 * Both handshakes end here, so they give the same kind of session.
 *
 * Implements requirement `handshake.session`.
 *
 * @see spec §handshake.session
 */
export function deriveSession(input: {
  handshake: 'async' | 'interactive';
  handshakeSecret: SymmetricKey;
  transcript: Uint8Array;
  initiator: PartyIdentity;
  responder: PartyIdentity;
  ratchet: RatchetStart;
}): SessionSecret {
  const sessionId = sha256(input.transcript);
  const ikm = input.handshakeSecret.dangerouslyExposeBytes();
  // @req handshake.session
  const rootKey = deriveSymmetricKey({ label: HANDSHAKE_LABELS.rootKey, ikm, context: sessionId });
  const exporterSecret = deriveSymmetricKey({ label: HANDSHAKE_LABELS.exporterSecret, ikm, context: sessionId });
  const isInitiator = input.ratchet.role === 'initiator';
  const common = {
    handshake: input.handshake,
    sessionId,
    rootKey,
    exporterSecret,
    associatedData: sessionBinding(input.initiator, input.responder),
    local: isInitiator ? input.initiator : input.responder,
    peer: isInitiator ? input.responder : input.initiator,
  };
  return { ...common, ...input.ratchet };
}

/**
 * Derives a key for another channel from a session, like a TLS exporter (RFC 5705, RFC 8446
 * §7.5): `DeriveKey("exporter " || label, exporter_secret, context, length)`. Different labels
 * or contexts give independent keys; both sides of a session derive the same key.
 *
 * Implements requirement `handshake.exporter`.
 *
 * @param label - what the key is for, 1 to 191 printable ASCII characters (e.g. `"jingle dtls"`).
 * @throws SealError `invalid-value` for another label; `invalid-length` for a length outside 1..8160.
 * @param context - application context (e.g. a Jingle session id), may be empty.
 * @param length - 1 to 8160 bytes.
 * @see spec §handshake.exporter
 * @example
 * ```ts
 * const key = exportKey(session, 'file transfer', utf8Encode(sid), 32);
 * ```
 */
export function exportKey(session: Pick<SessionSecret, 'exporterSecret'>, label: string, context: Uint8Array, length: number): Uint8Array {
  // @req handshake.exporter
  if (!/^[\x21-\x7e][\x20-\x7e]{0,190}$/.test(label)) {
    throw new SealError('invalid-value', `exporter label: expected 1..191 printable ASCII characters, got ${JSON.stringify(label.slice(0, 40))}`);
  }
  return deriveKey({ label: `${HANDSHAKE_LABELS.exporter} ${label}`, ikm: session.exporterSecret.dangerouslyExposeBytes(), context, length });
}
