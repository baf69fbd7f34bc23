/**
 * `vectors/handshake-interactive.json`: the interactive handshake (Noise XX with ML-KEM-768) as
 * full transcripts, in the spirit of the Noise and RFC 9180 vector files: both devices' identity
 * secrets and every random value each side draws, in the order it draws them, with every value
 * the public API and a replay through the Noise `HandshakeState` give (prologue, the three Noise
 * messages and their `<interactive/>` elements, the plaintext payloads, the ML-KEM exchange, the
 * handshake hash, `temp_k1` and `temp_k2`, the handshake secret and the session secret); and
 * negative cases, each a transcript with exactly one fault, named with the step that must reject
 * it (every earlier step must accept).
 *
 * @see spec §handshake.interactive
 * @module
 */
import * as z from 'zod/mini';
import { decode, encode } from '../codec/binary.js';
import { concatBytes, fromHex, toHex } from '../codec/bytes.js';
import { isSealError } from '../errors.js';
import {
  HANDSHAKE_LABELS,
  type CompletedHandshake,
  type HandshakeStep,
  HandshakeState,
  INTERACTIVE_PROTOCOL,
  type InteractivePeer,
  type ResponderAwaitingFinish,
  acceptInteractive,
  completeInitiator,
  completeResponder,
  interactivePrologue,
  startInteractive,
} from '../handshake/index.js';
import { type DeviceState, bareJid, deviceId, generateDeviceId, identityKeysOf } from '../identity/index.js';
import {
  Ed25519SecretKey,
  LENGTHS,
  X25519SecretKey,
  constantTimeEqual,
  deriveKey,
  ed25519PublicKeyOf,
  generateX25519KeyPair,
  mlKemDecapsulate,
  mlKemEncapsulate,
  mlKemKeyPairFromSeed,
  seededRng,
  sha256,
  x25519PublicKeyOf,
} from '../suite/index.js';
import { InitiatorPayloadCodec, type InteractiveMessageValue, InteractiveMessageElement, ResponderPayloadCodec, parseXml } from '../wire/index.js';
import { Hex } from './format.js';
import type { Fields, GroupKind, VectorKind } from './kind.js';
import { scriptedRng } from './scripted.js';

/** 2026-11-26T09:00:00Z, the time of every step unless a case says otherwise. */
const NOW = 1795683600;
const ALICE = 'alice@example.org';
const BOB = 'bob@example.net';
/** The JID a misled responder believes message 1 comes from. */
const MALLORY = 'mallory@example.org';
const TIMEOUT = 60;


function mustEqual(what: string, a: Uint8Array, b: Uint8Array): void {
  if (a.length !== b.length || !constantTimeEqual(a, b)) throw new Error(`handshake-interactive vectors: ${what} differ`);
}

/** `bytes` with bit `mask` of byte `index` flipped. */
function flipBit(bytes: Uint8Array, index: number, mask: number): Uint8Array {
  if (index < 0 || index >= bytes.length) throw new Error(`handshake-interactive vectors: byte ${index} is outside the ${bytes.length} bytes`);
  const out = bytes.slice();
  out[index]! ^= mask;
  return out;
}

const secretHex = (k: { dangerouslyExposeBytes(): Uint8Array }): string => toHex(k.dangerouslyExposeBytes());

// ---------------------------------------------------------------------------------------------
// Inputs in JSON form

const DeviceInput = z.strictObject({ jid: z.string(), deviceId: z.int(), signingSecretKey: Hex, agreementSecretKey: Hex });
type DeviceIn = z.infer<typeof DeviceInput>;

/** The inputs of a transcript: both devices, the time, and every random value in drawing order. */
const transcriptInputs = {
  initiator: DeviceInput,
  responder: DeviceInput,
  now: z.int(),
  sid: Hex,
  kemSeed: Hex,
  initiatorEphemeral: Hex,
  kemRandomness: Hex,
  ratchetSecretKey: Hex,
  responderEphemeral: Hex,
};

/** A transcript's inputs, decoded. */
interface Transcript {
  readonly a: DeviceState;
  readonly b: DeviceState;
  readonly now: number;
  readonly sid: Uint8Array;
  readonly kemSeed: Uint8Array;
  readonly initiatorEphemeral: Uint8Array;
  readonly kemRandomness: Uint8Array;
  readonly ratchetSecretKey: Uint8Array;
  readonly responderEphemeral: Uint8Array;
}

/** A device as the interactive handshake uses it: identity only, no prekeys. */
function deviceState(d: DeviceIn, role: string): DeviceState {
  return {
    jid: bareJid(d.jid),
    deviceId: deviceId(d.deviceId),
    signingKey: new Ed25519SecretKey(fromHex(d.signingSecretKey, `${role}.signingSecretKey`)),
    agreementKey: new X25519SecretKey(fromHex(d.agreementSecretKey, `${role}.agreementSecretKey`)),
    signedPrekeys: [],
    kemPrekeys: [],
    oneTimePrekeys: [],
    nextPrekeyId: 1,
  };
}

function transcriptOf(i: Fields): Transcript {
  const hex = (field: string) => fromHex(i[field] as string, field);
  return {
    a: deviceState(i.initiator as DeviceIn, 'initiator'),
    b: deviceState(i.responder as DeviceIn, 'responder'),
    now: i.now as number,
    sid: hex('sid'),
    kemSeed: hex('kemSeed'),
    initiatorEphemeral: hex('initiatorEphemeral'),
    kemRandomness: hex('kemRandomness'),
    ratchetSecretKey: hex('ratchetSecretKey'),
    responderEphemeral: hex('responderEphemeral'),
  };
}

const addressOf = (s: DeviceState): InteractivePeer => ({ jid: s.jid, deviceId: s.deviceId });
const keyPairOf = (secretKey: X25519SecretKey) => ({ secretKey, publicKey: x25519PublicKeyOf(secretKey) });

/** What startInteractive draws: the session id, the ML-KEM seed, then the Noise ephemeral key (when it writes message 1). */
const initiatorRng = (t: Transcript) => scriptedRng([t.sid, t.kemSeed, t.initiatorEphemeral]);
/** What acceptInteractive draws: the ML-KEM encapsulation message m, the first ratchet key, then the Noise ephemeral key (when it writes message 2). */
const responderRng = (t: Transcript) => scriptedRng([t.kemRandomness, t.ratchetSecretKey, t.responderEphemeral]);

/** A message as sent: serialized as `<interactive/>` and parsed back, as the peer receives it. */
function viaXml(message: InteractiveMessageValue): { xml: string; value: InteractiveMessageValue } {
  const xml = InteractiveMessageElement.toXml(message).toString();
  return { xml, value: InteractiveMessageElement.fromXml(parseXml(xml)) };
}

function handshakeOf(step: HandshakeStep): HandshakeState {
  if (step.kind !== 'handshake') throw new Error('handshake-interactive vectors: the Noise handshake completed too early');
  return step;
}

function completedOf(step: HandshakeStep): CompletedHandshake {
  if (step.kind !== 'complete') throw new Error('handshake-interactive vectors: the Noise handshake did not complete after message 3');
  return step;
}

// ---------------------------------------------------------------------------------------------
// Messages written with the Noise HandshakeState directly (for the replay and the faults the
// public API cannot produce)

/**
 * Message 1 as startInteractive writes it, with the first `length` bytes of the ML-KEM key as
 * its payload (1184 gives the genuine message).
 */
function writeMessage1(t: Transcript, length: number): Uint8Array {
  const noise = HandshakeState.initialize({
    protocolName: INTERACTIVE_PROTOCOL,
    initiator: true,
    prologue: interactivePrologue(addressOf(t.a), addressOf(t.b)),
    staticKeyPair: keyPairOf(t.a.agreementKey),
    rng: scriptedRng([t.initiatorEphemeral]),
  });
  return noise.writeMessage(mlKemKeyPairFromSeed(t.kemSeed).publicKey.slice(0, length)).message;
}

/**
 * Message 2 and the responder's state as acceptInteractive produces them, except that the
 * Noise static key may be another (`staticSecretKey`; the payload still carries the responder's
 * signing key and identity signature) and one bit of the KEM ciphertext in the payload may be
 * flipped (the responder still mixes the genuine shared secret).
 */
function writeMessage2(t: Transcript, message1: InteractiveMessageValue, over: { staticSecretKey?: Uint8Array; ciphertextFlip?: { byte: number; mask: number } }): { message: InteractiveMessageValue; state: ResponderAwaitingFinish } {
  const staticKey = over.staticSecretKey === undefined ? t.b.agreementKey : new X25519SecretKey(over.staticSecretKey);
  const noise = HandshakeState.initialize({
    protocolName: INTERACTIVE_PROTOCOL,
    initiator: false,
    prologue: interactivePrologue(addressOf(t.a), addressOf(t.b)),
    staticKeyPair: keyPairOf(staticKey),
    rng: scriptedRng([t.responderEphemeral]),
  });
  const read = noise.readMessage(message1.noise);
  const kem = mlKemEncapsulate(read.payload, scriptedRng([t.kemRandomness]));
  const ratchetKeyPair = generateX25519KeyPair(scriptedRng([t.ratchetSecretKey]));
  const statement = identityKeysOf(t.b);
  const flip = over.ciphertextFlip;
  const kemCiphertext = flip === undefined ? kem.ciphertext : flipBit(kem.ciphertext, flip.byte, flip.mask);
  const written = handshakeOf(read.next).writeMessage(encode(ResponderPayloadCodec, { signingKey: statement.signingKey, identitySignature: statement.signature, kemCiphertext, ratchetKey: ratchetKeyPair.publicKey }));
  return {
    message: { sid: message1.sid, step: 2, deviceId: t.b.deviceId, noise: written.message },
    state: {
      step: 'responder-awaiting-3',
      sid: message1.sid,
      started: t.now,
      self: t.b,
      peer: { ...addressOf(t.a), signingKey: undefined },
      noise: handshakeOf(written.next).mixKey(kem.sharedSecret),
      ratchetKeyPair,
    },
  };
}

/**
 * The whole handshake replayed on two HandshakeStates with the recorded keys given as key pairs
 * (not through an Rng), for the values the public API keeps inside: the payloads, the ML-KEM
 * exchange, `h`, `temp_k1` and `temp_k2`.
 */
function noiseReplay(t: Transcript) {
  const prologue = interactivePrologue(addressOf(t.a), addressOf(t.b));
  const kem = mlKemKeyPairFromSeed(t.kemSeed);
  const common = { protocolName: INTERACTIVE_PROTOCOL, prologue };
  const initiator = HandshakeState.initialize({ ...common, initiator: true, staticKeyPair: keyPairOf(t.a.agreementKey), ephemeralKeyPair: keyPairOf(new X25519SecretKey(t.initiatorEphemeral)) });
  const responder = HandshakeState.initialize({ ...common, initiator: false, staticKeyPair: keyPairOf(t.b.agreementKey), ephemeralKeyPair: keyPairOf(new X25519SecretKey(t.responderEphemeral)) });

  const m1 = initiator.writeMessage(kem.publicKey);
  const r1 = responder.readMessage(m1.message);
  mustEqual('the message 1 payload and the ML-KEM key', r1.payload, kem.publicKey);
  const encapsulated = mlKemEncapsulate(r1.payload, scriptedRng([t.kemRandomness]));
  const ratchetPublicKey = x25519PublicKeyOf(new X25519SecretKey(t.ratchetSecretKey));
  const b = identityKeysOf(t.b);
  const responderPayload = encode(ResponderPayloadCodec, { signingKey: b.signingKey, identitySignature: b.signature, kemCiphertext: encapsulated.ciphertext, ratchetKey: ratchetPublicKey });

  const m2 = handshakeOf(r1.next).writeMessage(responderPayload);
  const responderMixed = handshakeOf(m2.next).mixKey(encapsulated.sharedSecret);
  const r2 = handshakeOf(m1.next).readMessage(m2.message);
  mustEqual('the message 2 payloads', r2.payload, responderPayload);
  const kemSharedSecret = mlKemDecapsulate(kem.secretKey, decode(ResponderPayloadCodec, r2.payload).kemCiphertext).dangerouslyExposeBytes();
  mustEqual('the ML-KEM shared secrets', kemSharedSecret, encapsulated.sharedSecret.dangerouslyExposeBytes());
  const initiatorMixed = handshakeOf(r2.next).mixKey(kemSharedSecret);
  const a = identityKeysOf(t.a);
  const initiatorPayload = encode(InitiatorPayloadCodec, { signingKey: a.signingKey, identitySignature: a.signature });

  const m3 = initiatorMixed.writeMessage(initiatorPayload);
  const r3 = responderMixed.readMessage(m3.message);
  mustEqual('the message 3 payloads', r3.payload, initiatorPayload);
  const done = [completedOf(m3.next), completedOf(r3.next)] as const;
  const [hi, hr] = done.map((c) => c.handshakeHash());
  const [si, sr] = done.map((c) => c.split());
  mustEqual('the handshake hashes of the two sides', hi!, hr!);
  const tempK1 = si!.tempK1.dangerouslyExposeBytes();
  const tempK2 = si!.tempK2.dangerouslyExposeBytes();
  mustEqual('temp_k1 of the two sides', tempK1, sr!.tempK1.dangerouslyExposeBytes());
  mustEqual('temp_k2 of the two sides', tempK2, sr!.tempK2.dangerouslyExposeBytes());
  return {
    prologue,
    kemPublicKey: kem.publicKey as Uint8Array,
    kemCiphertext: encapsulated.ciphertext as Uint8Array,
    kemSharedSecret,
    ratchetPublicKey,
    responderPayload,
    initiatorPayload,
    messages: [m1.message, m2.message, m3.message] as const,
    handshakeHash: hi!,
    tempK1,
    tempK2,
  };
}

// ---------------------------------------------------------------------------------------------
// Group 1: the transcript

function runTranscript(i: Fields): Fields {
  const t = transcriptOf(i);
  const rngA = initiatorRng(t);
  const one = startInteractive({ self: t.a, peer: addressOf(t.b), rng: rngA, now: t.now });
  rngA.assertDone();
  const xml1 = viaXml(one.message);
  const rngB = responderRng(t);
  const two = acceptInteractive({ self: t.b, peer: addressOf(t.a), message: xml1.value, rng: rngB, now: t.now });
  rngB.assertDone();
  const xml2 = viaXml(two.message);
  const three = completeInitiator({ state: one.state, message: xml2.value, now: t.now });
  const xml3 = viaXml(three.message);
  const initiator = three.session;
  const responder = completeResponder({ state: two.state, message: xml3.value, now: t.now });

  // Both sides must hold the same session.
  if (initiator.role !== 'initiator' || responder.role !== 'responder') throw new Error('handshake-interactive vectors: wrong session roles');
  mustEqual('the session ids of the two sides', initiator.sessionId, responder.sessionId);
  mustEqual('the root keys of the two sides', initiator.rootKey.dangerouslyExposeBytes(), responder.rootKey.dangerouslyExposeBytes());
  mustEqual('the exporter secrets of the two sides', initiator.exporterSecret.dangerouslyExposeBytes(), responder.exporterSecret.dangerouslyExposeBytes());
  mustEqual('the associated data of the two sides', initiator.associatedData, responder.associatedData);
  mustEqual('the ratchet keys of the two sides', initiator.peerRatchetKey, responder.ratchetKeyPair.publicKey);
  for (const [x, y] of [[initiator.local, responder.peer], [initiator.peer, responder.local]] as const) {
    if (x.jid !== y.jid || x.deviceId !== y.deviceId) throw new Error('handshake-interactive vectors: the two sides name different parties');
    mustEqual('the parties\' signing keys', x.signingKey, y.signingKey);
    mustEqual('the parties\' agreement keys', x.agreementKey, y.agreementKey);
  }

  // The same handshake on bare HandshakeStates, and the session by the formulas of the spec.
  const replay = noiseReplay(t);
  mustEqual('message 1 of the API and of the replay', one.message.noise, replay.messages[0]);
  mustEqual('message 2 of the API and of the replay', two.message.noise, replay.messages[1]);
  mustEqual('message 3 of the API and of the replay', three.message.noise, replay.messages[2]);
  mustEqual('the ratchet public key', initiator.peerRatchetKey, replay.ratchetPublicKey);
  const sessionId = sha256(replay.handshakeHash);
  mustEqual('the session id and SHA-256(h)', initiator.sessionId, sessionId);
  const handshakeSecret = deriveKey({ label: HANDSHAKE_LABELS.interactiveHandshake, ikm: concatBytes(replay.tempK1, replay.tempK2), context: replay.handshakeHash, length: 32 });
  mustEqual('the root key and its formula', initiator.rootKey.dangerouslyExposeBytes(), deriveKey({ label: HANDSHAKE_LABELS.rootKey, ikm: handshakeSecret, context: sessionId, length: 32 }));
  mustEqual('the exporter secret and its formula', initiator.exporterSecret.dangerouslyExposeBytes(), deriveKey({ label: HANDSHAKE_LABELS.exporterSecret, ikm: handshakeSecret, context: sessionId, length: 32 }));

  return {
    sid: one.message.sid,
    prologue: toHex(replay.prologue),
    initiatorEphemeralPublicKey: toHex(x25519PublicKeyOf(new X25519SecretKey(t.initiatorEphemeral))),
    kemPublicKey: toHex(replay.kemPublicKey),
    message1: toHex(one.message.noise),
    message1Xml: xml1.xml,
    responderEphemeralPublicKey: toHex(x25519PublicKeyOf(new X25519SecretKey(t.responderEphemeral))),
    kemCiphertext: toHex(replay.kemCiphertext),
    kemSharedSecret: toHex(replay.kemSharedSecret),
    initiatorPeerRatchetKey: toHex(initiator.peerRatchetKey),
    responderPayload: toHex(replay.responderPayload),
    message2: toHex(two.message.noise),
    message2Xml: xml2.xml,
    initiatorPayload: toHex(replay.initiatorPayload),
    message3: toHex(three.message.noise),
    message3Xml: xml3.xml,
    handshakeHash: toHex(replay.handshakeHash),
    tempK1: toHex(replay.tempK1),
    tempK2: toHex(replay.tempK2),
    handshakeSecret: toHex(handshakeSecret),
    sessionId: toHex(initiator.sessionId),
    rootKey: secretHex(initiator.rootKey),
    exporterSecret: secretHex(initiator.exporterSecret),
    associatedData: toHex(initiator.associatedData),
  };
}

const interactiveTranscript: GroupKind = {
  type: 'InteractiveTranscript',
  description:
    `the interactive handshake ${INTERACTIVE_PROTOCOL} from initiator to responder (identity keys as Noise static keys, no prekeys), every step at now. ` +
    'startInteractive draws, in this order, sid (12 bytes; the session id is their unpadded base64url), kemSeed (64 bytes, d || z of ML-KEM-768.KeyGen_internal, FIPS 203) and initiatorEphemeral (32 bytes, the X25519 secret of the Noise "e" of message 1, drawn when message 1 is written); ' +
    'acceptInteractive draws kemRandomness (the 32-byte message m of ML-KEM-768.Encaps), ratchetSecretKey (32 bytes, the responder\'s first ratchet key) and responderEphemeral (32 bytes, the Noise "e" of message 2). ' +
    'prologue = LabeledContent("Seal-v0 interactive", InteractivePrologue); message1 = e || kemPublicKey (cleartext, hashed); message2 = e, ee, s, es with the encrypted ResponderPayload (responderPayload: signing key, identity signature, kemCiphertext, ratchet public key initiatorPeerRatchetKey); both sides then MixKey(kemSharedSecret); ' +
    'message3 = s, se with the encrypted InitiatorPayload (initiatorPayload). handshakeHash is h, tempK1 and tempK2 the keys of Split(); handshakeSecret = DeriveKey("interactive handshake", tempK1 || tempK2, context = h, 32); sessionId = SHA-256(h); rootKey = DeriveKey("root key", handshakeSecret, context = sessionId, 32); exporterSecret = DeriveKey("exporter secret", handshakeSecret, context = sessionId, 32); associatedData = SessionBinding(initiator, responder). ' +
    'messageNXml are the <interactive/> elements as serialized by the reference implementation; the other side reads each message from its XML form. Both sides establish the same session',
  inputs: z.strictObject(transcriptInputs),
  outputs: z.strictObject({
    sid: z.string(),
    prologue: Hex,
    initiatorEphemeralPublicKey: Hex,
    kemPublicKey: Hex,
    message1: Hex,
    message1Xml: z.string(),
    responderEphemeralPublicKey: Hex,
    kemCiphertext: Hex,
    kemSharedSecret: Hex,
    initiatorPeerRatchetKey: Hex,
    responderPayload: Hex,
    message2: Hex,
    message2Xml: z.string(),
    initiatorPayload: Hex,
    message3: Hex,
    message3Xml: z.string(),
    handshakeHash: Hex,
    tempK1: Hex,
    tempK2: Hex,
    handshakeSecret: Hex,
    sessionId: Hex,
    rootKey: Hex,
    exporterSecret: Hex,
    associatedData: Hex,
  }),
  operation: runTranscript,
  cases: () => transcriptCases(fixtures()),
};

// ---------------------------------------------------------------------------------------------
// Fixtures

/**
 * Every secret and random value the cases use, drawn in a fixed order from
 * `seededRng('vectors/handshake-interactive.json')`.
 */
function fixtures() {
  const r = seededRng('vectors/handshake-interactive.json');
  const device = (jid: string, taken: number[] = []): DeviceIn => ({ jid, deviceId: generateDeviceId(r, taken), signingSecretKey: toHex(r(32)), agreementSecretKey: toHex(r(32)) });
  const alice = device(ALICE);
  const bob = device(BOB);
  const alice2 = device(ALICE, [alice.deviceId]);
  const randomness = () => ({
    sid: toHex(r(12)),
    kemSeed: toHex(r(64)),
    initiatorEphemeral: toHex(r(32)),
    kemRandomness: toHex(r(32)),
    ratchetSecretKey: toHex(r(32)),
    responderEphemeral: toHex(r(32)),
  });
  const runs = [randomness(), randomness(), randomness()] as const;
  /** Mallory's Noise static key, for the stolen identity statement. */
  const impostorAgreementKey = toHex(r(32));
  /** A signing key other than alice's and bob's, recorded as theirs. */
  const otherSigningKey = toHex(r(32));
  /** A device id of alice's account other than the two above. */
  const otherAliceDevice = generateDeviceId(r, [alice.deviceId, alice2.deviceId]) as number;
  return { alice, bob, alice2, runs, impostorAgreementKey, otherSigningKey, otherAliceDevice };
}

type Fixtures = ReturnType<typeof fixtures>;

function transcriptCases(f: Fixtures) {
  const [r1, r2, r3] = f.runs;
  return [
    { comment: 'alice@example.org starts, bob@example.net answers', inputs: { initiator: f.alice, responder: f.bob, now: NOW, ...r1 } },
    { comment: 'bob@example.net starts, alice@example.org answers (roles swapped, fresh randomness)', inputs: { initiator: f.bob, responder: f.alice, now: NOW, ...r2 } },
    { comment: 'between two devices of alice@example.org (the same JID on both sides of the prologue and the session binding)', flags: ['SameAccount'], inputs: { initiator: f.alice, responder: f.alice2, now: NOW, ...r3 } },
  ];
}

// ---------------------------------------------------------------------------------------------
// Group 2: one fault each

const STEPS = ['acceptInteractive', 'completeInitiator', 'completeResponder'] as const;
type Step = (typeof STEPS)[number];

const Fault = z.union([
  z.strictObject({ kind: z.literal('flip-bit'), message: z.int().check(z.gte(1), z.lte(3)), byte: z.int().check(z.gte(0)), mask: z.int().check(z.gte(1), z.lte(255)) }),
  z.strictObject({ kind: z.literal('message-1-sender'), jid: z.string(), deviceId: z.int() }),
  z.strictObject({ kind: z.literal('stolen-statement'), agreementSecretKey: Hex }),
  z.strictObject({ kind: z.literal('kem-ciphertext-flip'), byte: z.int().check(z.gte(0)), mask: z.int().check(z.gte(1), z.lte(255)) }),
  z.strictObject({ kind: z.literal('late'), step: z.enum(['completeInitiator', 'completeResponder']), now: z.int() }),
  z.strictObject({ kind: z.literal('recorded-signing-key'), by: z.enum(['initiator', 'responder']), signingKey: Hex }),
  z.strictObject({ kind: z.literal('kem-key-length'), length: z.int().check(z.gte(0)) }),
]);
type FaultIn = z.infer<typeof Fault>;

/** Raised when a step before the rejecting step fails: the case then reports this outcome. */
class Stopped {
  constructor(readonly outputs: Fields) {}
}

/**
 * Replays the transcript with the fault applied where it belongs: runs each step up to the
 * rejecting step, whose SealError is the result. An earlier step that fails, or a rejecting step
 * that accepts, gives an `outcome` instead (never the expected error).
 */
function runFaulty(i: Fields): Fields {
  try {
    return faulty(transcriptOf(i), i.fault as FaultIn, i.rejectingStep as Step);
  } catch (e) {
    if (e instanceof Stopped) return e.outputs;
    throw e;
  }
}

function faulty(t: Transcript, fault: FaultIn, rejecting: Step): Fields {
  const attempt = <T>(step: Step, run: () => T): T => {
    if (step === rejecting) return run();
    try {
      return run();
    } catch (e) {
      if (isSealError(e)) throw new Stopped({ outcome: `${step} rejected the handshake (${e.code}) before ${rejecting}` });
      throw e;
    }
  };
  const accepted = (step: Step): Fields => ({ outcome: `${step} accepted` });
  const flipped = (n: number, m: InteractiveMessageValue): InteractiveMessageValue => (fault.kind === 'flip-bit' && fault.message === n ? { ...m, noise: flipBit(m.noise, fault.byte, fault.mask) } : m);
  const timeOf = (step: Step): number => (fault.kind === 'late' && fault.step === step ? fault.now : t.now);
  const recorded = (by: 'initiator' | 'responder') => (fault.kind === 'recorded-signing-key' && fault.by === by ? { knownPeerSigningKey: fromHex(fault.signingKey, 'fault.signingKey') } : {});

  // Message 1.
  const rngA = initiatorRng(t);
  const one = startInteractive({ self: t.a, peer: addressOf(t.b), rng: rngA, now: t.now });
  rngA.assertDone();
  let message1 = one.message;
  if (fault.kind === 'kem-key-length') message1 = { ...message1, noise: writeMessage1(t, fault.length) };
  message1 = flipped(1, message1);
  let sender = addressOf(t.a);
  if (fault.kind === 'message-1-sender') {
    sender = { jid: bareJid(fault.jid), deviceId: deviceId(fault.deviceId) };
    message1 = { ...message1, deviceId: sender.deviceId };
  }
  message1 = viaXml(message1).value;

  // Message 2.
  let two: { message: InteractiveMessageValue; state: ResponderAwaitingFinish };
  if (fault.kind === 'stolen-statement') two = writeMessage2(t, message1, { staticSecretKey: fromHex(fault.agreementSecretKey, 'fault.agreementSecretKey') });
  else if (fault.kind === 'kem-ciphertext-flip') two = writeMessage2(t, message1, { ciphertextFlip: fault });
  else {
    const rngB = responderRng(t);
    two = attempt('acceptInteractive', () => acceptInteractive({ self: t.b, peer: sender, message: message1, rng: rngB, now: t.now, ...recorded('responder') }));
    rngB.assertDone();
  }
  if (rejecting === 'acceptInteractive') return accepted('acceptInteractive');

  // Message 3.
  const message2 = viaXml(flipped(2, two.message)).value;
  const three = attempt('completeInitiator', () => completeInitiator({ state: one.state, message: message2, now: timeOf('completeInitiator'), ...recorded('initiator') }));
  if (rejecting === 'completeInitiator') return accepted('completeInitiator');

  // The responder's end.
  const message3 = viaXml(flipped(3, three.message)).value;
  completeResponder({ state: two.state, message: message3, now: timeOf('completeResponder') });
  return accepted('completeResponder');
}

const interactiveNegative: GroupKind = {
  type: 'InteractiveNegative',
  description:
    'an InteractiveTranscript (same inputs, same order of random values) replayed with one fault, which rejectingStep (acceptInteractive, completeInitiator or completeResponder) must reject with the error; every earlier step must accept. Messages travel as <interactive/> XML. Faults: ' +
    'flip-bit: bit mask of byte `byte` of the Noise bytes of message `message` flipped in transit; ' +
    'message-1-sender: the responder receives message 1 as from jid and deviceId (the stanza\'s sender and the device attribute), so its prologue names that device; ' +
    'stolen-statement: message 2 is written, with the recorded randomness, by a responder whose Noise static key is agreementSecretKey but whose payload carries the responder\'s signing key and identity signature; ' +
    'kem-ciphertext-flip: the responder puts the KEM ciphertext with bit mask of byte `byte` flipped into its payload (decapsulation gives the implicit-rejection secret) but mixes the genuine shared secret; ' +
    'late: the step runs at now (all others at the transcript\'s now; INTERACTIVE_TIMEOUT = 60 s, measured from message 1); ' +
    'recorded-signing-key: the initiator (at completeInitiator) or the responder (given to acceptInteractive, checked at completeResponder) has recorded signingKey for the peer device; ' +
    'kem-key-length: message 1, written from the recorded ephemeral key, carries only the first length bytes of the ML-KEM key. ' +
    'Outputs of a case that is not rejected where it should be: outcome, naming the step that accepted it or rejected it too early',
  inputs: z.strictObject({ ...transcriptInputs, fault: Fault, rejectingStep: z.enum(STEPS) }),
  outputs: z.strictObject({ outcome: z.string() }),
  operation: runFaulty,
  cases: () => negativeCases(fixtures()),
};

/** A negative case: its fault, the step that rejects it, the error, and a control fault that changes nothing. */
interface NegativeCase {
  readonly comment: string;
  readonly flag: string;
  readonly fault: FaultIn;
  readonly rejectingStep: Step;
  readonly error: string;
  /** The same modification made harmless (the genuine value): the rejecting step must accept. */
  readonly control: FaultIn;
}

function negativeCases(f: Fixtures) {
  const base = transcriptCases(f)[0]!.inputs;
  const t = transcriptOf(base);
  const genuine = runTranscript(base);
  const m1Length = (genuine.message1 as string).length / 2;
  const m2Length = (genuine.message2 as string).length / 2;
  const m3Length = (genuine.message3 as string).length / 2;
  const bobSigningKey = toHex(ed25519PublicKeyOf(t.b.signingKey));
  const aliceSigningKey = toHex(ed25519PublicKeyOf(t.a.signingKey));
  const otherSigningKey = toHex(ed25519PublicKeyOf(new Ed25519SecretKey(fromHex(f.otherSigningKey))));

  // The faults written on bare HandshakeStates give the genuine messages without the fault.
  mustEqual('message 1 written directly and by startInteractive', writeMessage1(t, LENGTHS.mlKemPublicKey), fromHex(genuine.message1 as string));
  const rngA = initiatorRng(t);
  const one = startInteractive({ self: t.a, peer: addressOf(t.b), rng: rngA, now: t.now });
  mustEqual('message 2 written directly and by acceptInteractive', writeMessage2(t, one.message, {}).message.noise, fromHex(genuine.message2 as string));

  const flip = (message: number, byte: number, mask: number): FaultIn => ({ kind: 'flip-bit', message, byte, mask });
  const cases: NegativeCase[] = [
    {
      comment: 'message 1 with one bit of the ML-KEM key flipped (in rho, its last 32 bytes, so the key stays valid): the cleartext payload is hashed, so message 2 does not decrypt at the initiator',
      flag: 'TamperedMessage1',
      fault: flip(1, m1Length - 1, 0x01),
      rejectingStep: 'completeInitiator',
      error: 'authentication-failed',
      control: flip(1, m1Length - 1, 0),
    },
    {
      comment: 'message 2 with one bit of the encrypted static key flipped',
      flag: 'TamperedMessage2',
      fault: flip(2, 40, 0x04),
      rejectingStep: 'completeInitiator',
      error: 'authentication-failed',
      control: flip(2, 40, 0),
    },
    {
      comment: 'message 2 with one bit of the payload\'s tag flipped',
      flag: 'TamperedMessage2',
      fault: flip(2, m2Length - 1, 0x80),
      rejectingStep: 'completeInitiator',
      error: 'authentication-failed',
      control: flip(2, m2Length - 1, 0),
    },
    {
      comment: 'message 3 with one bit of the encrypted static key flipped',
      flag: 'TamperedMessage3',
      fault: flip(3, 0, 0x01),
      rejectingStep: 'completeResponder',
      error: 'authentication-failed',
      control: flip(3, 0, 0),
    },
    {
      comment: 'message 3 with one bit of the payload\'s tag flipped',
      flag: 'TamperedMessage3',
      fault: flip(3, m3Length - 1, 0x80),
      rejectingStep: 'completeResponder',
      error: 'authentication-failed',
      control: flip(3, m3Length - 1, 0),
    },
    {
      comment: `the responder believes message 1 comes from ${MALLORY} (same device id): the prologues differ and message 2 does not decrypt at the initiator`,
      flag: 'WrongPrologueJid',
      fault: { kind: 'message-1-sender', jid: MALLORY, deviceId: t.a.deviceId },
      rejectingStep: 'completeInitiator',
      error: 'authentication-failed',
      control: { kind: 'message-1-sender', jid: t.a.jid, deviceId: t.a.deviceId },
    },
    {
      comment: `message 1 arrives claiming another device of ${ALICE} (device ${f.otherAliceDevice}): the prologues differ and message 2 does not decrypt at the initiator`,
      flag: 'WrongDeviceId',
      fault: { kind: 'message-1-sender', jid: t.a.jid, deviceId: f.otherAliceDevice },
      rejectingStep: 'completeInitiator',
      error: 'authentication-failed',
      control: { kind: 'message-1-sender', jid: t.a.jid, deviceId: t.a.deviceId },
    },
    {
      comment: `a responder with its own Noise static key presents ${BOB}'s signing key and identity signature: message 2 decrypts, the identity signature does not cover the authenticated static key`,
      flag: 'StolenIdentityStatement',
      fault: { kind: 'stolen-statement', agreementSecretKey: f.impostorAgreementKey },
      rejectingStep: 'completeInitiator',
      error: 'authentication-failed',
      control: { kind: 'stolen-statement', agreementSecretKey: toHex(t.b.agreementKey.dangerouslyExposeBytes()) },
    },
    {
      comment: 'the responder sends a KEM ciphertext with one bit flipped: the initiator mixes the implicit-rejection secret, the responder the genuine one, so message 3 does not decrypt at the responder',
      flag: 'WrongKemCiphertext',
      fault: { kind: 'kem-ciphertext-flip', byte: 500, mask: 0x10 },
      rejectingStep: 'completeResponder',
      error: 'authentication-failed',
      control: { kind: 'kem-ciphertext-flip', byte: 500, mask: 0 },
    },
    {
      comment: `message 2 read by the initiator ${TIMEOUT + 1} s after it sent message 1`,
      flag: 'Timeout',
      fault: { kind: 'late', step: 'completeInitiator', now: NOW + TIMEOUT + 1 },
      rejectingStep: 'completeInitiator',
      error: 'handshake-timeout',
      control: { kind: 'late', step: 'completeInitiator', now: NOW + TIMEOUT },
    },
    {
      comment: `message 3 read by the responder ${TIMEOUT + 1} s after it received message 1`,
      flag: 'Timeout',
      fault: { kind: 'late', step: 'completeResponder', now: NOW + TIMEOUT + 1 },
      rejectingStep: 'completeResponder',
      error: 'handshake-timeout',
      control: { kind: 'late', step: 'completeResponder', now: NOW + TIMEOUT },
    },
    {
      comment: `the initiator has recorded another signing key for ${BOB}'s device`,
      flag: 'IdentityKeyChanged',
      fault: { kind: 'recorded-signing-key', by: 'initiator', signingKey: otherSigningKey },
      rejectingStep: 'completeInitiator',
      error: 'identity-key-changed',
      control: { kind: 'recorded-signing-key', by: 'initiator', signingKey: bobSigningKey },
    },
    {
      comment: `the responder has recorded another signing key for ${ALICE}'s device`,
      flag: 'IdentityKeyChanged',
      fault: { kind: 'recorded-signing-key', by: 'responder', signingKey: otherSigningKey },
      rejectingStep: 'completeResponder',
      error: 'identity-key-changed',
      control: { kind: 'recorded-signing-key', by: 'responder', signingKey: aliceSigningKey },
    },
    {
      comment: `message 1 carrying an ML-KEM key of ${LENGTHS.mlKemPublicKey - 1} bytes (the genuine key without its last byte)`,
      flag: 'ShortKemKey',
      fault: { kind: 'kem-key-length', length: LENGTHS.mlKemPublicKey - 1 },
      rejectingStep: 'acceptInteractive',
      error: 'invalid-length',
      control: { kind: 'kem-key-length', length: LENGTHS.mlKemPublicKey },
    },
  ];

  return cases.map((c) => {
    const inputs = { ...base, fault: c.fault, rejectingStep: c.rejectingStep };
    const result = evaluateOrError(inputs);
    if (result !== c.error) throw new Error(`handshake-interactive vectors: ${c.flag} (${c.comment}) gives ${result}, not ${c.error}`);
    const control = evaluateOrError({ ...base, fault: c.control, rejectingStep: c.rejectingStep });
    if (control !== `${c.rejectingStep} accepted`) throw new Error(`handshake-interactive vectors: ${c.flag} without its fault gives ${control}`);
    return { comment: c.comment, flags: [c.flag], inputs };
  });
}

/** The error code of a faulty run, or its outcome. */
function evaluateOrError(inputs: Fields): string {
  try {
    return runFaulty(inputs).outcome as string;
  } catch (e) {
    if (isSealError(e)) return e.code;
    throw e;
  }
}

/** The kind of `vectors/handshake-interactive.json`. @see spec §handshake.interactive */
export const handshakeInteractiveVectors: VectorKind = {
  file: 'handshake-interactive.json',
  section: 'handshake',
  version: 1,
  description:
    'Seal-v0 interactive handshake (Noise XX over the identity agreement keys with ML-KEM-768 mixed in after message 2) as full transcripts: both devices\' secrets and every random value in drawing order, the Noise messages and their <interactive/> elements, payloads, ML-KEM exchange, handshake hash, Split() keys, handshake secret and session secret; and negative cases with one fault each, rejected at a named step',
  groups: [interactiveTranscript, interactiveNegative],
};
