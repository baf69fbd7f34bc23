/**
 * The interactive handshake, Seal-XX+KEM: Noise XX over the devices' identity agreement keys,
 * with an ML-KEM-768 exchange in the payloads of messages 1 and 2 mixed into the key after
 * message 2 (not Noise HFS `XXhfs`, whose `ekem1` comes right after `ee` and so also hides the
 * responder's static key behind the KEM secret), and each side's static identity statement in
 * its encrypted payload. Its messages travel in iq stanzas (src/wire/handshake.ts, the engine).
 *
 * Each state is its own type; a transition consumes one state and returns the next, and every
 * transition checks the timeout.
 *
 * @see spec §handshake.interactive
 * @module
 */
import { decode, encode, opaque, struct, u32 } from '../codec/binary.js';
import { concatBytes, utf8Encode } from '../codec/bytes.js';
import { encodeBase64 } from '../codec/base64.js';
import { SealError } from '../errors.js';
import { type X25519KeyPair, generateX25519KeyPair } from '../suite/agreement.js';
import { type MlKemKeyPair, generateMlKemKeyPair, mlKemDecapsulate, mlKemEncapsulate, mlKemPublicKey } from '../suite/kem.js';
import { constantTimeEqual, deriveKey } from '../suite/kdf.js';
import type { Rng } from '../suite/rng.js';
import { assertSignedWithLabel, checkEd25519PublicKey } from '../suite/signature.js';
import { SUITE_ID, labeledContent } from '../suite/suite.js';
import { LENGTHS, SymmetricKey, type X25519PublicKey, x25519PublicKey } from '../suite/types.js';
import { x25519PublicKeyOf } from '../suite/agreement.js';
import type { DeviceId } from '../identity/device.js';
import type { BareJid } from '../identity/jid.js';
import { SIGNATURE_LABELS } from '../identity/labels.js';
import { type DeviceState, identityKeysOf } from '../identity/state.js';
import { IdentityKeysContent } from '../wire/bundle.js';
import { InitiatorPayloadCodec, type InteractiveMessageValue, ResponderPayloadCodec } from '../wire/handshake.js';
import { HANDSHAKE_CONSTANTS, HANDSHAKE_LABELS } from './constants.js';
import { type CompletedHandshake, HandshakeState } from './noise.js';
import { type PartyIdentity, type SessionSecret, deriveSession, partyOf } from './session.js';

/** The Noise protocol Seal runs. @see spec §handshake.interactive */
export const INTERACTIVE_PROTOCOL = 'Noise_XX_25519_ChaChaPoly_SHA256';

const PrologueCodec = struct('InteractivePrologue', {
  suite: opaque(1, { min: 1, max: 255 }, 'suite'),
  initiatorJid: opaque(2, { min: 1, max: 3071 }, 'initiator_jid'),
  initiatorDevice: u32,
  responderJid: opaque(2, { min: 1, max: 3071 }, 'responder_jid'),
  responderDevice: u32,
});

/**
 * The Noise prologue: `LabeledContent("Seal-v0 interactive", InteractivePrologue)`, binding the
 * suite, both JIDs and both device ids.
 *
 * @see spec §handshake.interactive
 */
export function interactivePrologue(initiator: { jid: BareJid; deviceId: DeviceId }, responder: { jid: BareJid; deviceId: DeviceId }): Uint8Array {
  return labeledContent(HANDSHAKE_LABELS.interactivePrologue, encode(PrologueCodec, {
    suite: utf8Encode(SUITE_ID),
    initiatorJid: utf8Encode(initiator.jid),
    initiatorDevice: initiator.deviceId,
    responderJid: utf8Encode(responder.jid),
    responderDevice: responder.deviceId,
  }));
}

/** A device taking part, by address. */
export interface InteractivePeer {
  readonly jid: BareJid;
  readonly deviceId: DeviceId;
}

/** The initiator after sending message 1. */
export interface InitiatorAwaitingResponse {
  readonly step: 'initiator-awaiting-2';
  readonly sid: string;
  readonly started: number;
  readonly self: DeviceState;
  readonly peer: InteractivePeer;
  readonly noise: HandshakeState;
  readonly kem: MlKemKeyPair;
}

/** The responder after sending message 2. */
export interface ResponderAwaitingFinish {
  readonly step: 'responder-awaiting-3';
  readonly sid: string;
  readonly started: number;
  readonly self: DeviceState;
  readonly peer: InteractivePeer & { readonly signingKey: Uint8Array | undefined };
  readonly noise: HandshakeState;
  readonly ratchetKeyPair: X25519KeyPair;
}

/** An interactive handshake in progress. @see spec §handshake.interactive */
export type InteractiveState = InitiatorAwaitingResponse | ResponderAwaitingFinish;

function checkTimeout(state: InteractiveState, now: number): void {
  // @req handshake.interactive-timeout
  if (now - state.started > HANDSHAKE_CONSTANTS.INTERACTIVE_TIMEOUT || now < state.started) {
    throw new SealError('handshake-timeout', `interactive handshake ${state.sid}: not completed within ${HANDSHAKE_CONSTANTS.INTERACTIVE_TIMEOUT} s`);
  }
}

function checkMessage(message: InteractiveMessageValue, sid: string | undefined, step: number, from: DeviceId): void {
  if ((sid !== undefined && message.sid !== sid) || message.step !== step || message.deviceId !== from) {
    throw new SealError('invalid-value', `interactive handshake: expected step ${step} of session ${sid ?? '(new)'} from device ${from}`);
  }
}

/**
 * Checks a peer's identity statement against the static key Noise authenticated.
 *
 * Implements requirement `handshake.interactive-identity`.
 */
function verifyStatement(peer: InteractivePeer, signingKeyBytes: Uint8Array, signature: Uint8Array, remoteStatic: X25519PublicKey, known: Uint8Array | undefined): PartyIdentity {
  // @req handshake.interactive-identity
  const signingKey = checkEd25519PublicKey(signingKeyBytes);
  const content = encode(IdentityKeysContent, { jid: utf8Encode(peer.jid), deviceId: peer.deviceId, signingKey, agreementKey: remoteStatic });
  assertSignedWithLabel(signingKey, SIGNATURE_LABELS.identityKeys, content, signature);
  if (known !== undefined && !constantTimeEqual(known, signingKey)) {
    throw new SealError('identity-key-changed', `device ${peer.deviceId} of ${peer.jid}: identity key differs from the recorded one`);
  }
  return { jid: peer.jid, deviceId: peer.deviceId, signingKey, agreementKey: remoteStatic };
}

function finish(completed: CompletedHandshake): { handshakeSecret: SymmetricKey; transcript: Uint8Array } {
  const { tempK1, tempK2 } = completed.split();
  const h = completed.handshakeHash();
  const ikm = concatBytes(tempK1.dangerouslyExposeBytes(), tempK2.dangerouslyExposeBytes());
  return { handshakeSecret: new SymmetricKey(deriveKey({ label: HANDSHAKE_LABELS.interactiveHandshake, ikm, context: h, length: 32 })), transcript: h };
}

/**
 * Starts an interactive handshake with device `peer` (message 1). Randomness: 12 bytes for the
 * session id, 64 for the ML-KEM key pair, 32 for the Noise ephemeral key.
 *
 * Implements requirement `handshake.interactive-noise`.
 *
 * @see spec §handshake.interactive
 */
export function startInteractive(input: { self: DeviceState; peer: InteractivePeer; rng: Rng; now: number }): { state: InitiatorAwaitingResponse; message: InteractiveMessageValue } {
  const { self, peer, rng, now } = input;
  const sid = encodeBase64(rng(12)).replace(/\+/g, '-').replace(/\//g, '_');
  const kem = generateMlKemKeyPair(rng);
  // @req handshake.interactive-noise
  const noise = HandshakeState.initialize({
    protocolName: INTERACTIVE_PROTOCOL,
    initiator: true,
    prologue: interactivePrologue(self, peer),
    staticKeyPair: { secretKey: self.agreementKey, publicKey: x25519PublicKeyOf(self.agreementKey) },
    rng,
  });
  const written = noise.writeMessage(kem.publicKey);
  if (written.next.kind !== 'handshake') throw new SealError('invalid-value', 'interactive handshake: XX cannot complete after message 1');
  return {
    state: { step: 'initiator-awaiting-2', sid, started: now, self, peer: { jid: peer.jid, deviceId: peer.deviceId }, noise: written.next, kem },
    message: { sid, step: 1, deviceId: self.deviceId, noise: written.message },
  };
}

/**
 * Answers message 1 of an interactive handshake from device `peer` (message 2), then mixes the
 * ML-KEM shared secret into the key. Randomness: 32 bytes for ML-KEM encapsulation, 32 for the
 * first ratchet key, 32 for the Noise ephemeral key.
 *
 * @throws SealError `invalid-value` for a message of another step or device; `invalid-length` or
 *   `invalid-key` for a bad ML-KEM key in message 1; `zero-shared-secret` for a low-order ephemeral.
 * @see spec §handshake.interactive
 */
export function acceptInteractive(input: { self: DeviceState; peer: InteractivePeer; message: InteractiveMessageValue; rng: Rng; now: number; knownPeerSigningKey?: Uint8Array }): { state: ResponderAwaitingFinish; message: InteractiveMessageValue } {
  const { self, peer, message, rng, now } = input;
  checkMessage(message, undefined, 1, peer.deviceId);
  const noise = HandshakeState.initialize({
    protocolName: INTERACTIVE_PROTOCOL,
    initiator: false,
    prologue: interactivePrologue(peer, self),
    staticKeyPair: { secretKey: self.agreementKey, publicKey: x25519PublicKeyOf(self.agreementKey) },
    rng,
  });
  const read = noise.readMessage(message.noise);
  if (read.next.kind !== 'handshake') throw new SealError('invalid-value', 'interactive handshake: XX cannot complete after message 1');
  if (read.payload.length !== LENGTHS.mlKemPublicKey) throw new SealError('invalid-length', `interactive message 1: expected a ${LENGTHS.mlKemPublicKey}-byte ML-KEM key`);
  const kem = mlKemEncapsulate(mlKemPublicKey(read.payload), rng);
  const ratchetKeyPair = generateX25519KeyPair(rng);
  const identity = identityKeysOf(self);
  const payload = encode(ResponderPayloadCodec, { signingKey: identity.signingKey, identitySignature: identity.signature, kemCiphertext: kem.ciphertext, ratchetKey: ratchetKeyPair.publicKey });
  const written = read.next.writeMessage(payload);
  if (written.next.kind !== 'handshake') throw new SealError('invalid-value', 'interactive handshake: XX cannot complete after message 2');
  // @req handshake.interactive-noise
  const mixed = written.next.mixKey(kem.sharedSecret);
  return {
    state: { step: 'responder-awaiting-3', sid: message.sid, started: now, self, peer: { ...peer, signingKey: input.knownPeerSigningKey }, noise: mixed, ratchetKeyPair },
    message: { sid: message.sid, step: 2, deviceId: self.deviceId, noise: written.message },
  };
}

/**
 * The initiator reads message 2, checks the responder's identity statement, mixes the ML-KEM
 * shared secret, and sends message 3; the session is established on its side.
 *
 * @throws SealError `handshake-timeout`; `authentication-failed` for a message that does not
 *   decrypt or an identity statement that does not verify (the handshake is then abandoned: this
 *   state cannot be used again); `truncated`/`trailing-bytes` for a malformed payload;
 *   `identity-key-changed`.
 * @see spec §handshake.interactive
 */
export function completeInitiator(input: { state: InitiatorAwaitingResponse; message: InteractiveMessageValue; now: number; knownPeerSigningKey?: Uint8Array }): { session: SessionSecret; message: InteractiveMessageValue } {
  const { state, message } = input;
  checkTimeout(state, input.now);
  checkMessage(message, state.sid, 2, state.peer.deviceId);
  const read = state.noise.readMessage(message.noise);
  if (read.next.kind !== 'handshake') throw new SealError('invalid-value', 'interactive handshake: XX cannot complete after message 2');
  const payload = decode(ResponderPayloadCodec, read.payload);
  const responder = verifyStatement(state.peer, payload.signingKey, payload.identitySignature, read.next.remoteStaticKey!, input.knownPeerSigningKey);
  const mixed = read.next.mixKey(mlKemDecapsulate(state.kem.secretKey, payload.kemCiphertext));
  const identity = identityKeysOf(state.self);
  const written = mixed.writeMessage(encode(InitiatorPayloadCodec, { signingKey: identity.signingKey, identitySignature: identity.signature }));
  if (written.next.kind !== 'complete') throw new SealError('invalid-value', 'interactive handshake: XX must complete after message 3');
  const { handshakeSecret, transcript } = finish(written.next);
  const session = deriveSession({
    handshake: 'interactive',
    handshakeSecret,
    transcript,
    initiator: partyOf(state.self),
    responder,
    ratchet: { role: 'initiator', peerRatchetKey: x25519PublicKey(payload.ratchetKey) },
  });
  return { session, message: { sid: state.sid, step: 3, deviceId: state.self.deviceId, noise: written.message } };
}

/**
 * The responder reads message 3 and checks the initiator's identity statement; the session is
 * established on its side.
 *
 * @throws SealError `handshake-timeout`; `authentication-failed`; `identity-key-changed`.
 * @see spec §handshake.interactive
 */
export function completeResponder(input: { state: ResponderAwaitingFinish; message: InteractiveMessageValue; now: number }): SessionSecret {
  const { state, message } = input;
  checkTimeout(state, input.now);
  checkMessage(message, state.sid, 3, state.peer.deviceId);
  const read = state.noise.readMessage(message.noise);
  if (read.next.kind !== 'complete') throw new SealError('invalid-value', 'interactive handshake: XX must complete after message 3');
  const payload = decode(InitiatorPayloadCodec, read.payload);
  const initiator = verifyStatement(state.peer, payload.signingKey, payload.identitySignature, read.next.remoteStaticKey!, state.peer.signingKey);
  const { handshakeSecret, transcript } = finish(read.next);
  return deriveSession({
    handshake: 'interactive',
    handshakeSecret,
    transcript,
    initiator,
    responder: partyOf(state.self),
    ratchet: { role: 'responder', ratchetKeyPair: state.ratchetKeyPair },
  });
}
