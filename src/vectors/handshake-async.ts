/**
 * `vectors/handshake-async.json`: the asynchronous handshake as full transcripts, in the spirit
 * of the RFC 9180 and Noise vector files: the initiator's side from its identity secrets, the
 * responder's verified bundle and every random value it draws, with every intermediate value
 * (DH1..DH4, the ML-KEM shared secret and ciphertext, the transcript, the key material, the
 * handshake secret, the confirmation and the session secret); the responder's side from its
 * complete device secrets and the received header, with every rule of §handshake.async exercised
 * by a negative case; and the exporter.
 *
 * Negative cases isolate their rule where the protocol allows it: a misbound JID or device id
 * carries a confirmation computed for the claimed JID or device id, and an expired prekey a
 * correct confirmation, so an implementation that skips the rule accepts them.
 *
 * @see spec §handshake.async
 * @module
 */
import * as z from 'zod/mini';
import { concatBytes, fromHex, toHex, utf8Encode } from '../codec/bytes.js';
import { HandshakeLogEntryCodec, initiateAsync, respondAsync } from '../handshake/async.js';
import { HANDSHAKE_CONSTANTS } from '../handshake/constants.js';
import { type SessionSecret, exportKey } from '../handshake/session.js';
import { authenticateDtlsFingerprints } from '../handshake/jingle.js';
import { type DeviceState, IDENTITY_CONSTANTS, bareJid, bundleOf, deviceId, generateDeviceId, identityKeysOf, verifyBundle } from '../identity/index.js';
import {
  Ed25519SecretKey,
  SymmetricKey,
  X25519SecretKey,
  constantTimeEqual,
  ed25519PublicKeyOf,
  mlKemEncapsulate,
  seededRng,
  sha256,
  x25519,
  x25519PublicKeyOf,
} from '../suite/index.js';
import { decode, encode } from '../codec/binary.js';
import { AsyncHeaderCodec, type AsyncHeaderValue, BundleElement, DtlsFingerprintsElement, FINGERPRINT_HASHES, type JingleRole, dtlsFingerprintsContent, encodeAsyncHeader, parseXml } from '../wire/index.js';
import { Hex } from './format.js';
import type { Fields, GroupKind, VectorKind } from './kind.js';
import { DeviceInput, le32, scriptedRng, stateFromInputs, stateToInputs } from './scripted.js';

const hex = (inputs: Fields, field: string): Uint8Array => fromHex(inputs[field] as string, field);

/** 2026-11-26T09:00:00Z, the time of every case unless a case says otherwise. */
const NOW = 1795683600;
const DAY = 86400;
const ALICE = 'alice@example.org';
const BOB = 'bob@example.net';
/** The JID a misbound handshake claims to come from. */
const MALLORY = 'mallory@example.org';
const GRACE = HANDSHAKE_CONSTANTS.PREKEY_GRACE_PERIOD;

/** The validity of every prekey: PREKEY_ROTATION_PERIOD + MAX_CLOCK_SKEW (§offline.prekeys). */
const VALIDITY = IDENTITY_CONSTANTS.MAX_PREKEY_VALIDITY;
/** Bob's replaced prekeys (ids 1 and 2): created 10 days ago, expired 3 days ago (less 300 s), still in the grace period. */
const OLD_CREATED = NOW - 10 * DAY;
const OLD_EXPIRES = OLD_CREATED + VALIDITY;
/** Bob's current prekeys (ids 6 and 7): created when the old ones were rotated, PREKEY_ROTATION_PERIOD after them. */
const CURRENT_CREATED = NOW - 3 * DAY;
const CURRENT_EXPIRES = CURRENT_CREATED + VALIDITY;


/** The one-time prekey choice of §handshake.one-time-prekey-choice: 4 bytes, big-endian, unsigned. */
const bigEndian32 = (b: Uint8Array): number => ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;


function mustEqual(what: string, a: Uint8Array, b: Uint8Array): void {
  if (!constantTimeEqual(a, b)) throw new Error(`handshake-async vectors: ${what} of initiateAsync differs from the formula of §handshake.async`);
}

// ---------------------------------------------------------------------------------------------
// Inputs in JSON form

const InitiatorInput = z.strictObject({ jid: z.string(), deviceId: z.int(), signingSecretKey: Hex, agreementSecretKey: Hex });
const PeerInput = z.strictObject({ jid: z.string(), deviceId: z.int() });
const ResponderInput = DeviceInput;

type InitiatorIn = z.infer<typeof InitiatorInput>;
type PeerIn = z.infer<typeof PeerInput>;
type ResponderIn = z.infer<typeof ResponderInput>;

/** The initiator as initiateAsync sees it: only its identity is used, so it holds no prekeys. */
function initiatorState(i: InitiatorIn): DeviceState {
  return {
    jid: bareJid(i.jid),
    deviceId: deviceId(i.deviceId),
    signingKey: new Ed25519SecretKey(fromHex(i.signingSecretKey, 'initiator.signingSecretKey')),
    agreementKey: new X25519SecretKey(fromHex(i.agreementSecretKey, 'initiator.agreementSecretKey')),
    signedPrekeys: [],
    kemPrekeys: [],
    oneTimePrekeys: [],
    nextPrekeyId: 1,
  };
}

// ---------------------------------------------------------------------------------------------
// The initiator

/**
 * Runs initiateAsync on the inputs of an AsyncInitiate case and recomputes DH1..DH4 and the
 * ML-KEM encapsulation from the inputs with the suite's primitives, checking them against what
 * initiateAsync bound into the key material and the header.
 */
function runInitiation(i: Fields) {
  const initiator = i.initiator as InitiatorIn;
  const peerIn = i.responder as PeerIn;
  const self = initiatorState(initiator);
  const peer = verifyBundle(BundleElement.fromXml(parseXml(i.bundleXml as string)), { jid: bareJid(peerIn.jid), deviceId: deviceId(peerIn.deviceId), now: i.now as number });
  const choice = i.oneTimePrekeyChoice === undefined ? undefined : hex(i, 'oneTimePrekeyChoice');
  const ephemeralSecret = hex(i, 'ephemeralSecretKey');
  const kemRandomness = hex(i, 'kemRandomness');
  const rng = scriptedRng([...(choice === undefined ? [] : [choice]), ephemeralSecret, kemRandomness]);
  const result = initiateAsync({ self, peer, rng });
  rng.assertDone();
  const { header, session, secrets } = result;

  // The same values from the inputs, by the formulas of §handshake.async.
  const oneTime = choice === undefined ? undefined : peer.oneTimePrekeys[bigEndian32(choice) % peer.oneTimePrekeys.length];
  if (oneTime?.id !== header.oneTimePrekeyId) throw new Error('handshake-async vectors: initiateAsync chose another one-time prekey than the choice bytes select');
  const ephemeral = new X25519SecretKey(ephemeralSecret);
  const ephemeralPublicKey = x25519PublicKeyOf(ephemeral);
  const dh1 = x25519(self.agreementKey, peer.signedPrekey.publicKey).dangerouslyExposeBytes();
  const dh2 = x25519(ephemeral, peer.agreementKey).dangerouslyExposeBytes();
  const dh3 = x25519(ephemeral, peer.signedPrekey.publicKey).dangerouslyExposeBytes();
  const dh4 = oneTime === undefined ? undefined : x25519(ephemeral, oneTime.publicKey).dangerouslyExposeBytes();
  const kem = mlKemEncapsulate(peer.kemPrekey.publicKey, scriptedRng([kemRandomness]));
  const kemSharedSecret = kem.sharedSecret.dangerouslyExposeBytes();
  mustEqual('the ephemeral key', header.ephemeralKey, ephemeralPublicKey);
  mustEqual('the KEM ciphertext', header.kemCiphertext, kem.ciphertext);
  mustEqual('the input key material', secrets.inputKeyMaterial, concatBytes(dh1, dh2, dh3, ...(dh4 === undefined ? [] : [dh4]), kemSharedSecret));
  mustEqual('the session id', session.sessionId, sha256(secrets.transcript));
  mustEqual('the confirmation', header.confirmation, secrets.confirmation);

  const encoded = encodeAsyncHeader(header);
  const outputs: Fields = {
    ...(oneTime === undefined ? {} : { oneTimePrekeyId: oneTime.id }),
    ephemeralPublicKey: toHex(ephemeralPublicKey),
    dh1: toHex(dh1),
    dh2: toHex(dh2),
    dh3: toHex(dh3),
    ...(dh4 === undefined ? {} : { dh4: toHex(dh4) }),
    kemSharedSecret: toHex(kemSharedSecret),
    kemCiphertext: toHex(kem.ciphertext),
    transcript: toHex(secrets.transcript),
    inputKeyMaterial: toHex(secrets.inputKeyMaterial),
    handshakeSecret: toHex(secrets.handshakeSecret),
    confirmation: toHex(secrets.confirmation),
    sessionId: toHex(session.sessionId),
    rootKey: toHex(session.rootKey.dangerouslyExposeBytes()),
    exporterSecret: toHex(session.exporterSecret.dangerouslyExposeBytes()),
    associatedData: toHex(session.associatedData),
    header: toHex(encoded),
    headerHash: toHex(sha256(encoded)),
  };
  return { header, outputs };
}

const asyncInitiate: GroupKind = {
  type: 'AsyncInitiate',
  description:
    'the initiator of the asynchronous handshake: verifies bundleXml for responder (jid, deviceId) at now, then draws, in this order, oneTimePrekeyChoice (4 bytes, only when the bundle has one-time prekeys; the prekey at index uint32_be(choice) mod count), ephemeralSecretKey (32 bytes) and kemRandomness (the 32-byte message m of ML-KEM-768.Encaps, FIPS 203). ' +
    'DH1 = X25519(initiator agreement key, SPK), DH2 = X25519(EK, IK_B), DH3 = X25519(EK, SPK), DH4 = X25519(EK, OPK) only with a one-time prekey; inputKeyMaterial = DH1 || DH2 || DH3 [|| DH4] || kemSharedSecret; transcript = AsyncTranscript; ' +
    'handshakeSecret = DeriveKey("async handshake", inputKeyMaterial, context = transcript, 32); confirmation = DeriveKey("async confirmation", handshakeSecret, context = SHA-256(transcript), 32); sessionId = SHA-256(transcript); rootKey = DeriveKey("root key", handshakeSecret, context = sessionId, 32); exporterSecret = DeriveKey("exporter secret", handshakeSecret, context = sessionId, 32); associatedData = SessionBinding(initiator, responder). ' +
    'header is the canonical AsyncHandshakeHeader, headerHash its SHA-256 (the header_hash of the responder\'s HandshakeLogEntry)',
  inputs: z.strictObject({
    initiator: InitiatorInput,
    responder: PeerInput,
    bundleXml: z.string(),
    now: z.int(),
    oneTimePrekeyChoice: z.optional(Hex),
    ephemeralSecretKey: Hex,
    kemRandomness: Hex,
  }),
  outputs: z.strictObject({
    oneTimePrekeyId: z.optional(z.int()),
    ephemeralPublicKey: Hex,
    dh1: Hex,
    dh2: Hex,
    dh3: Hex,
    dh4: z.optional(Hex),
    kemSharedSecret: Hex,
    kemCiphertext: Hex,
    transcript: Hex,
    inputKeyMaterial: Hex,
    handshakeSecret: Hex,
    confirmation: Hex,
    sessionId: Hex,
    rootKey: Hex,
    exporterSecret: Hex,
    associatedData: Hex,
    header: Hex,
    headerHash: Hex,
  }),
  operation: (i) => runInitiation(i).outputs,
  cases: () => initiateCases(fixtures()).map(({ comment, inputs }) => ({ comment, inputs })),
};

// ---------------------------------------------------------------------------------------------
// Fixtures

/**
 * Every secret and random value the cases use, drawn in a fixed order from
 * `seededRng('vectors/handshake-async.json')`.
 */
function fixtures() {
  const r = seededRng('vectors/handshake-async.json');
  const alice = { deviceId: generateDeviceId(r) as number, signingSecretKey: r(32), agreementSecretKey: r(32) };
  const bob = {
    deviceId: generateDeviceId(r) as number,
    signingSecretKey: r(32),
    agreementSecretKey: r(32),
    oldSignedPrekey: r(32),
    oldKemSeed: r(64),
    oneTimePrekeys: [r(32), r(32), r(32)],
    signedPrekey: r(32),
    kemSeed: r(64),
  };
  /** 4 bytes for a one-time prekey choice: drawn until `accept` holds (after `adjust`). */
  const choice = (accept: (c: Uint8Array) => boolean, adjust: (c: Uint8Array) => void = () => {}) => {
    for (;;) {
      const c = r(4);
      adjust(c);
      if (accept(c)) return c;
    }
  };
  const randomness = () => ({ ephemeralSecretKey: r(32), kemRandomness: r(32) });
  // Initiation 1: any prekey but the last (initiation 3 takes the last).
  const first = { choice: choice((c) => bigEndian32(c) % 3 !== 2), ...randomness() };
  const second = randomness();
  // Initiation 3: the last of three prekeys, with the top bit set, so that reading the choice
  // as a signed integer selects another prekey (or none). (Byte order cannot matter modulo 3:
  // 256 = 1 mod 3.)
  const third = {
    choice: choice(
      (c) => bigEndian32(c) % 3 === 2,
      (c) => {
        c[0]! |= 0x80;
      },
    ),
    ...randomness(),
  };
  const grace = { choice: r(4), ...randomness() };
  const kemGrace = { choice: r(4), ...randomness() };
  // A second handshake that picks the one-time prekey of initiation 1.
  const reuse = { choice: choice((c) => bigEndian32(c) % 3 === bigEndian32(first.choice) % 3), ...randomness() };
  const misboundJid = { choice: r(4), ...randomness() };
  const misboundDevice = { choice: r(4), ...randomness() };
  // Two other headers with one-time prekeys that the responder processed (signed prekey 6, the current one).
  const log = [r(32), r(32)].map((headerHash) => toHex(encode(HandshakeLogEntryCodec, { signedPrekeyId: 6, oneTime: 1, headerHash })));
  const otherSigningKey = r(32);
  const otherEphemeral = r(32);
  return { alice, bob, first, second, third, grace, kemGrace, reuse, misboundJid, misboundDevice, log, otherSigningKey, otherEphemeral };
}

type Fixtures = ReturnType<typeof fixtures>;

/** Bob's device: old prekeys 1 (signed) and 2 (KEM), one-time prekeys 3..5, current prekeys 6 and 7. */
function bobState(f: Fixtures): DeviceState {
  const b = f.bob;
  return {
    jid: bareJid(BOB),
    deviceId: deviceId(b.deviceId),
    signingKey: new Ed25519SecretKey(b.signingSecretKey),
    agreementKey: new X25519SecretKey(b.agreementSecretKey),
    signedPrekeys: [
      { id: 1, created: OLD_CREATED, expires: OLD_EXPIRES, secretKey: new X25519SecretKey(b.oldSignedPrekey) },
      { id: 6, created: CURRENT_CREATED, expires: CURRENT_EXPIRES, secretKey: new X25519SecretKey(b.signedPrekey) },
    ],
    kemPrekeys: [
      { id: 2, created: OLD_CREATED, expires: OLD_EXPIRES, seed: b.oldKemSeed },
      { id: 7, created: CURRENT_CREATED, expires: CURRENT_EXPIRES, seed: b.kemSeed },
    ],
    oneTimePrekeys: b.oneTimePrekeys.map((k, n) => ({ id: 3 + n, secretKey: new X25519SecretKey(k) })),
    nextPrekeyId: 8,
  };
}

function aliceInputs(f: Fixtures, over: Partial<InitiatorIn> = {}): InitiatorIn {
  return { jid: ALICE, deviceId: f.alice.deviceId, signingSecretKey: toHex(f.alice.signingSecretKey), agreementSecretKey: toHex(f.alice.agreementSecretKey), ...over };
}

const bundleXmlOf = (state: DeviceState): string => BundleElement.toXml(bundleOf(state)).toString();

/** AsyncInitiate inputs. */
function initiationInputs(f: Fixtures, bundle: DeviceState, now: number, r: { choice?: Uint8Array; ephemeralSecretKey: Uint8Array; kemRandomness: Uint8Array }, initiator = aliceInputs(f)): Fields {
  return {
    initiator,
    responder: { jid: BOB, deviceId: f.bob.deviceId },
    bundleXml: bundleXmlOf(bundle),
    now,
    ...(bundle.oneTimePrekeys.length === 0 || r.choice === undefined ? {} : { oneTimePrekeyChoice: toHex(r.choice) }),
    ephemeralSecretKey: toHex(r.ephemeralSecretKey),
    kemRandomness: toHex(r.kemRandomness),
  };
}

/** The three AsyncInitiate cases. */
function initiateCases(f: Fixtures) {
  const bob = bobState(f);
  return [
    { comment: 'with a one-time prekey: bob\'s current bundle (signed prekey 6, KEM prekey 7, one-time prekeys 3, 4, 5)', inputs: initiationInputs(f, bob, NOW, f.first) },
    { comment: 'without a one-time prekey: the bundle has none (no DH4, one_time_prekey absent from the transcript and the header)', inputs: initiationInputs(f, { ...bob, oneTimePrekeys: [] }, NOW, f.second) },
    {
      comment: 'choice bytes with the top bit set that select the last of three one-time prekeys (uint32 mod 3 = 2; reading them as a signed int32 selects another)',
      inputs: initiationInputs(f, bob, NOW, f.third),
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// The responder

/** The outputs of an established session, as the responder reports them. */
const EstablishedOutput = z.strictObject({
  result: z.literal('established'),
  sessionId: Hex,
  rootKey: Hex,
  exporterSecret: Hex,
  associatedData: Hex,
  consumedOneTimePrekey: z.optional(z.int()),
  log: z.array(Hex),
});
const DuplicateOutput = z.strictObject({ result: z.literal('duplicate') });

function runResponse(i: Fields) {
  const self = stateFromInputs(i.responder as ResponderIn);
  const response = respondAsync({
    self,
    log: i.log as string[],
    header: decode(AsyncHeaderCodec, hex(i, 'header')),
    initiatorJid: bareJid(i.initiatorJid as string),
    initiatorDeviceId: deviceId(i.initiatorDeviceId as number),
    now: i.now as number,
    ...(i.knownInitiatorSigningKey === undefined ? {} : { knownInitiatorSigningKey: hex(i, 'knownInitiatorSigningKey') }),
  });
  if (response.kind === 'duplicate') return { response, outputs: { result: 'duplicate' } as Fields };
  const remaining = new Set(response.state.oneTimePrekeys.map((k) => k.id));
  const consumed = self.oneTimePrekeys.filter((k) => !remaining.has(k.id)).map((k) => k.id);
  if (consumed.length > 1) throw new Error('handshake-async vectors: respondAsync consumed more than one one-time prekey');
  const { session } = response;
  const outputs: Fields = {
    result: 'established',
    sessionId: toHex(session.sessionId),
    rootKey: toHex(session.rootKey.dangerouslyExposeBytes()),
    exporterSecret: toHex(session.exporterSecret.dangerouslyExposeBytes()),
    associatedData: toHex(session.associatedData),
    ...(consumed.length === 0 ? {} : { consumedOneTimePrekey: consumed[0] }),
    log: [...response.log],
  };
  return { response, outputs };
}


/** The header with one bit of a byte field flipped. */
function flipBit(bytes: Uint8Array, index: number, bit = 0x01): Uint8Array {
  const out = bytes.slice();
  out[index]! ^= bit;
  return out;
}

const asyncRespond: GroupKind = {
  type: 'AsyncRespond',
  description:
    'the responder of the asynchronous handshake, as device responder (its complete secrets; prekey ids share one counter), with its handshake log (hex HandshakeLogEntry structs, uint32 signed_prekey_id || uint8 one_time || SHA-256 of the canonical header, oldest first), for the canonical AsyncHandshakeHeader (header, hex) that arrived from initiatorJid in an envelope from initiatorDeviceId at now. ' +
    'In this order, the first failure giving the error: the header is decoded (truncated, trailing-bytes, invalid-value for a presence byte other than 0 or 1; a fixed-length field of the wrong length shifts the fields after it); a header whose HandshakeLogEntry is in the log is a duplicate (no error, nothing changes, no other check); the initiator\'s signing key, agreement key and the ephemeral key are checked (invalid-key); the identity signature is verified with initiatorJid and initiatorDeviceId (authentication-failed); a recorded knownInitiatorSigningKey must match (identity-key-changed); the signed prekey must be held (unknown-prekey), held at a time now < expires + PREKEY_GRACE_PERIOD (604800 s; expired-prekey from that second on) and, for a header without a one-time prekey, its log entries without one fewer than MAX_PROCESSED_HANDSHAKES (unknown-prekey); the KEM prekey held (unknown-prekey) and not past its grace period (expired-prekey); the one-time prekey held (unknown-prekey); the confirmation is recomputed and compared (authentication-failed, which also covers a wrong KEM ciphertext, since ML-KEM decapsulation never fails). ' +
    'An established session gives the session secret, the one-time prekey deleted from the state, and the log with the header\'s entry appended (entries of signed prekeys no longer held dropped, entries with one_time 1 beyond MAX_PROCESSED_HANDSHAKES dropped oldest first; entries with one_time 0 stay while their signed prekey is held, and a header without a one-time prekey is rejected with unknown-prekey when MAX_PROCESSED_HANDSHAKES such entries name its signed prekey)',
  inputs: z.strictObject({
    responder: ResponderInput,
    log: z.array(Hex),
    header: Hex,
    initiatorJid: z.string(),
    initiatorDeviceId: z.int(),
    now: z.int(),
    knownInitiatorSigningKey: z.optional(Hex),
  }),
  outputs: z.union([EstablishedOutput, DuplicateOutput]),
  operation: (i) => runResponse(i).outputs,
  cases: () => {
    const f = fixtures();
    const bob = bobState(f);
    const bobIn = stateToInputs(bob);
    const alice = aliceInputs(f);
    const aliceSigningKey = toHex(ed25519PublicKeyOf(new Ed25519SecretKey(f.alice.signingSecretKey)));
    const [i1, i2, i3] = initiateCases(f).map((c) => runInitiation(c.inputs));
    const h1 = i1!.header;

    type Over = Partial<{ responder: ResponderIn; log: string[]; initiatorJid: string; initiatorDeviceId: number; now: number; knownInitiatorSigningKey: string }>;
    const base = (header: AsyncHeaderValue | string, over: Over = {}): Fields => ({
      responder: bobIn,
      log: f.log,
      header: typeof header === 'string' ? header : toHex(encodeAsyncHeader(header)),
      initiatorJid: ALICE,
      initiatorDeviceId: f.alice.deviceId,
      now: NOW,
      ...over,
    });
    const ok = (comment: string, header: AsyncHeaderValue | string, over: Over = {}, flags?: string[]) => ({ comment, ...(flags === undefined ? {} : { flags }), inputs: base(header, over) });
    const bad = (comment: string, flag: string, header: AsyncHeaderValue | string, over: Over = {}) => ({ comment, flags: [flag], inputs: base(header, over) });

    // The three initiations answered: each must give the initiator's session secret.
    const answered = [
      ok('answers AsyncInitiate 1 (with a one-time prekey, which is deleted)', h1),
      ok('answers AsyncInitiate 2 (no one-time prekey) as a device that has none left; alice\'s signing key is recorded and matches', i2!.header, { responder: { ...bobIn, oneTimePrekeys: [] }, knownInitiatorSigningKey: aliceSigningKey }),
      ok('answers AsyncInitiate 3 (the last of three one-time prekeys) with an empty log', i3!.header, { log: [] }),
    ];
    answered.forEach((c, n) => {
      const theirs = [i1, i2, i3][n]!.outputs;
      const ours = runResponse(c.inputs).outputs;
      for (const field of ['sessionId', 'rootKey', 'exporterSecret', 'associatedData'] as const) {
        if (ours[field] !== theirs[field]) throw new Error(`handshake-async vectors: responder and initiator disagree on ${field} (case ${n + 1})`);
      }
    });

    // The state and log after answering initiation 1.
    const after1 = runResponse(answered[0]!.inputs).response;
    if (after1.kind !== 'established') throw new Error('handshake-async vectors: initiation 1 not established');
    const afterState = stateToInputs(after1.state);
    const afterLog = [...after1.log];

    // Alice fetched bob's bundle 4 days ago, before it replaced prekeys 1 and 2 (they expired 3 days ago).
    const oldBundle: DeviceState = { ...bob, signedPrekeys: [bob.signedPrekeys[0]!], kemPrekeys: [bob.kemPrekeys[0]!], nextPrekeyId: 6 };
    const graceHeader = runInitiation(initiationInputs(f, oldBundle, NOW - 4 * DAY, f.grace)).header;
    // A bundle with the current signed prekey 6 and the old KEM prekey 2, fetched while both were valid.
    const mixedBundle: DeviceState = { ...bob, signedPrekeys: [bob.signedPrekeys[1]!], kemPrekeys: [bob.kemPrekeys[0]!] };
    const kemGraceHeader = runInitiation(initiationInputs(f, mixedBundle, OLD_EXPIRES - 60, f.kemGrace)).header;

    // A second handshake from alice to the same one-time prekey as initiation 1.
    const reuseHeader = runInitiation(initiationInputs(f, bob, NOW, f.reuse)).header;
    if (reuseHeader.oneTimePrekeyId !== h1.oneTimePrekeyId) throw new Error('handshake-async vectors: the reuse case names another one-time prekey');

    // Misbound: alice's keys, with a confirmation computed for the JID or device id the envelope
    // claims, but the identity signature alice made for her own JID and device id.
    const aliceIdentity = identityKeysOf(initiatorState(alice));
    const otherDeviceId = f.alice.deviceId === 0x7fffffff ? f.alice.deviceId - 1 : f.alice.deviceId + 1;
    const misbound = (over: Partial<InitiatorIn>, r: Fixtures['misboundJid']) => ({ ...runInitiation(initiationInputs(f, bob, NOW, r, { ...alice, ...over })).header, initiator: aliceIdentity });
    const misboundJid = misbound({ jid: MALLORY }, f.misboundJid);
    const misboundDevice = misbound({ deviceId: otherDeviceId }, f.misboundDevice);

    // Tampered copies of header 1.
    const otherOneTime = [3, 4, 5].find((id) => id !== h1.oneTimePrekeyId)!;
    const { oneTimePrekeyId: _dropped, ...withoutOneTime } = h1;
    const P = 2n ** 255n - 19n;

    // Header 1's bytes, for faults below the value level; offsets in AsyncHandshakeHeader.
    const h1Bytes = encodeAsyncHeader(h1);
    const ephemeralAt = h1Bytes.length - 32 - 1088 - 32;
    const badPresence = h1Bytes.slice();
    badPresence[128 + 4] = 2;
    // A log full of entries without a one-time prekey for header 2's signed prekey (one fewer is accepted).
    const logEntry = (k: number) => toHex(encode(HandshakeLogEntryCodec, { signedPrekeyId: i2!.header.signedPrekeyId, oneTime: 0, headerHash: sha256(utf8Encode(`entry ${k}`)) }));
    const fullLog = Array.from({ length: HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES }, (_, k) => logEntry(k));
    if (runResponse(base(i2!.header, { responder: { ...bobIn, oneTimePrekeys: [] }, log: fullLog.slice(1) })).response.kind !== 'established') {
      throw new Error('handshake-async vectors: a log one entry short of full must accept the header');
    }

    return [
      ...answered,
      ok('header 1 again after it was processed (state and log after the first): a duplicate, although its one-time prekey is gone', h1, { responder: afterState, log: afterLog }, ['Duplicate']),
      ok('a header to the replaced signed prekey 1 and KEM prekey 2, which expired 3 days ago: within the grace period', graceHeader, {}, ['PrekeyGrace']),
      ok('the same header one second before the grace period ends (expires + 604799)', graceHeader, { now: OLD_EXPIRES + GRACE - 1 }, ['PrekeyGrace']),
      bad('identity signature with one bit flipped (the confirmation is correct)', 'BadIdentitySignature', { ...h1, initiator: { ...h1.initiator, signature: flipBit(h1.initiator.signature, 0) } }),
      bad('alice\'s keys and identity signature, from mallory@example.org, with a confirmation computed for mallory@example.org', 'MisboundJid', misboundJid, { initiatorJid: MALLORY }),
      bad('alice\'s keys and identity signature, from another device id of alice, with a confirmation computed for that device id', 'MisboundDeviceId', misboundDevice, { initiatorDeviceId: otherDeviceId }),
      bad('a second, different handshake naming the one-time prekey that header 1 consumed (state and log after header 1)', 'ReusedOneTimePrekey', reuseHeader, { responder: afterState, log: afterLog }),
      bad('header 1 naming signed prekey 1 (held, in its grace period) instead of 6', 'TamperedHeader', { ...h1, signedPrekeyId: 1 }),
      bad('header 1 naming KEM prekey 2 (held, in its grace period) instead of 7', 'TamperedHeader', { ...h1, kemPrekeyId: 2 }),
      bad(`header 1 naming one-time prekey ${otherOneTime} (held) instead of ${h1.oneTimePrekeyId}`, 'TamperedHeader', { ...h1, oneTimePrekeyId: otherOneTime }),
      bad('header 1 with its one-time prekey removed (no DH4)', 'TamperedHeader', withoutOneTime),
      bad('header 1 with another valid ephemeral key', 'TamperedHeader', { ...h1, ephemeralKey: x25519PublicKeyOf(new X25519SecretKey(f.otherEphemeral)) }),
      bad('header 1 with one bit of the confirmation flipped', 'TamperedHeader', { ...h1, confirmation: flipBit(h1.confirmation, 31, 0x80) }),
      bad('header 1 with one bit of the KEM ciphertext flipped (decapsulation gives the implicit-rejection secret)', 'WrongKemCiphertext', { ...h1, kemCiphertext: flipBit(h1.kemCiphertext, 500, 0x10) }),
      bad('header 1 naming signed prekey 99, never issued', 'UnknownSignedPrekey', { ...h1, signedPrekeyId: 99 }),
      bad('header 1 naming KEM prekey 99, never issued', 'UnknownKemPrekey', { ...h1, kemPrekeyId: 99 }),
      bad('header 1 naming one-time prekey 99, never issued', 'UnknownOneTimePrekey', { ...h1, oneTimePrekeyId: 99 }),
      bad('the grace-period header at expires + PREKEY_GRACE_PERIOD of signed prekey 1', 'ExpiredSignedPrekey', graceHeader, { now: OLD_EXPIRES + GRACE }),
      bad('a header to signed prekey 6 and KEM prekey 2 at expires + PREKEY_GRACE_PERIOD of KEM prekey 2', 'ExpiredKemPrekey', kemGraceHeader, { now: OLD_EXPIRES + GRACE }),
      bad('header 1 from a device whose recorded identity signing key is another', 'IdentityKeyChanged', h1, { knownInitiatorSigningKey: toHex(ed25519PublicKeyOf(new Ed25519SecretKey(f.otherSigningKey))) }),
      bad('header 1 with ephemeral key u = 0 (low order)', 'LowOrderEphemeral', { ...h1, ephemeralKey: le32(0n) }),
      bad('header 1 with ephemeral key u = 1 (low order)', 'LowOrderEphemeral', { ...h1, ephemeralKey: le32(1n) }),
      bad('header 1 with ephemeral key u = p + 9 (non-canonical encoding of the base point)', 'NonCanonicalEphemeral', { ...h1, ephemeralKey: le32(P + 9n) }),
      // Fixed-length fields of the wrong length: the fields after them are read shifted, and the
      // header fails as its decoder meets the shifted bytes (never invalid-length).
      bad('header 1 with a 33-byte ephemeral key (a zero byte inserted before it): one byte too long', 'WrongKeyLength', toHex(Uint8Array.from([...h1Bytes.slice(0, ephemeralAt), 0, ...h1Bytes.slice(ephemeralAt)]))),
      bad('header 1 with a 63-byte identity signature (its last byte removed): the presence byte is read from the one-time prekey id\'s high byte, 0 ("absent"), and 3 bytes are left over', 'WrongSignatureLength', toHex(Uint8Array.from([...h1Bytes.slice(0, 127), ...h1Bytes.slice(128)]))),
      bad('header 1 with a 31-byte confirmation (its last byte removed): one byte short', 'WrongMacLength', toHex(h1Bytes.slice(0, -1))),
      bad('header 1 with the presence byte of the one-time prekey id set to 2', 'InvalidPresenceByte', toHex(badPresence)),
      bad(`a header without a one-time prekey when the log holds MAX_PROCESSED_HANDSHAKES (${HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES}) entries without one for its signed prekey: the log is full`, 'LogFull', i2!.header, { responder: { ...bobIn, oneTimePrekeys: [] }, log: fullLog }),
    ];
  },
};

// ---------------------------------------------------------------------------------------------
// The exporter

const sessionExport: GroupKind = {
  type: 'SessionExport',
  description: 'ExportKey(label, context, length) = DeriveKey("exporter " || label, exporter_secret, context, length), with the exporter secret of AsyncInitiate 1',
  inputs: z.strictObject({ exporterSecret: Hex, label: z.string(), context: Hex, length: z.int() }),
  outputs: z.strictObject({ key: Hex }),
  operation: (i) => {
    const session = { exporterSecret: new SymmetricKey(hex(i, 'exporterSecret')) };
    return { key: toHex(exportKey(session, i.label as string, hex(i, 'context'), i.length as number)) };
  },
  cases: () => {
    const f = fixtures();
    const exporterSecret = runInitiation(initiateCases(f)[0]!.inputs).outputs.exporterSecret as string;
    return [
      { comment: 'the Jingle DTLS key for Jingle session a73sjjvkla37jfea', inputs: { exporterSecret, label: 'jingle dtls', context: toHex(utf8Encode('a73sjjvkla37jfea')), length: 32 } },
      { comment: 'another Jingle session id: an independent key', inputs: { exporterSecret, label: 'jingle dtls', context: toHex(utf8Encode('b91kd02mx7qpzr4w')), length: 32 } },
      { comment: 'another label, empty context, 64 bytes', inputs: { exporterSecret, label: 'file transfer', context: '', length: 64 } },
    ];
  },
};

const jingleDtlsMac: GroupKind = {
  type: 'JingleDtlsMac',
  description:
    'the <dtls-fingerprints/> of §handshake.exporter: content = DtlsFingerprints(sender_device, sender_role, sid, fingerprints), mac = MacWithLabel(ExportKey("jingle dtls", UTF-8 sid, 32), "dtls fingerprints", content), with the exporter secret of AsyncInitiate 1; element is the element the sender sends',
  inputs: z.strictObject({ exporterSecret: Hex, senderDevice: z.int(), senderRole: z.enum(['initiator', 'responder']), sid: z.string(), fingerprints: z.array(z.strictObject({ hash: z.enum(FINGERPRINT_HASHES), value: Hex })) }),
  outputs: z.strictObject({ content: Hex, mac: Hex, element: z.string() }),
  operation: (i) => {
    // Only the exporter secret and the own device id of a session enter the MAC.
    const session = { exporterSecret: new SymmetricKey(hex(i, 'exporterSecret')), local: { deviceId: i.senderDevice as number } } as unknown as SessionSecret;
    const fingerprints = (i.fingerprints as { hash: (typeof FINGERPRINT_HASHES)[number]; value: string }[]).map((f) => ({ hash: f.hash, value: fromHex(f.value, 'value') }));
    const role = i.senderRole as JingleRole;
    const value = authenticateDtlsFingerprints(session, { sid: i.sid as string, role }, fingerprints);
    return { content: toHex(dtlsFingerprintsContent(value, role)), mac: toHex(value.mac), element: DtlsFingerprintsElement.toXml(value).toString() };
  },
  cases: () => {
    const f = fixtures();
    const exporterSecret = runInitiation(initiateCases(f)[0]!.inputs).outputs.exporterSecret as string;
    const sha256 = toHex(Uint8Array.from({ length: 32 }, (_, k) => (k * 7 + 3) & 0xff));
    const sha512 = toHex(Uint8Array.from({ length: 64 }, (_, k) => (k * 13 + 5) & 0xff));
    const base = { exporterSecret, senderDevice: 1864894878, senderRole: 'initiator', sid: 'a73sjjvkla37jfea', fingerprints: [{ hash: 'sha-256', value: sha256 }] };
    return [
      { comment: 'the Jingle initiator\'s element: device 1864894878, role initiator (1), one sha-256 fingerprint', inputs: base },
      { comment: 'the same fingerprints from the Jingle responder (role 2): another MAC, so an element reflected to its sender fails', inputs: { ...base, senderRole: 'responder' } },
      { comment: 'the same fingerprints from another device of the account: another MAC', inputs: { ...base, senderDevice: 1094281337 } },
      { comment: 'two fingerprints (sha-256, sha-512) and a non-ASCII Jingle sid', inputs: { ...base, sid: 'sitzung-\u00fc-1', fingerprints: [{ hash: 'sha-256', value: sha256 }, { hash: 'sha-512', value: sha512 }] } },
    ];
  },
};

/** The kind of `vectors/handshake-async.json`. @see spec §handshake.async */
export const handshakeAsyncVectors: VectorKind = {
  file: 'handshake-async.json',
  section: 'handshake',
  version: 1,
  description:
    'Seal-v0 asynchronous handshake as full transcripts: the initiator with every random value it draws and every intermediate value (DH1..DH4, ML-KEM shared secret and ciphertext, AsyncTranscript, key material, handshake secret, confirmation, session secret, header); the responder with its complete secrets, every rule of §handshake.async exercised by a negative case; the exporter; and the MAC of the Jingle DTLS fingerprints (§handshake.exporter)',
  groups: [asyncInitiate, asyncRespond, sessionExport, jingleDtlsMac],
};
