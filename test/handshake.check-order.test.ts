/**
 * §handshake: the order of checks of the asynchronous responder and of each interactive step, and
 * which error each failure gives. Each input breaks two rules; the check the spec names first
 * decides the error.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../src/codec/binary.js';
import { toHex } from '../src/codec/bytes.js';
import {
  HANDSHAKE_CONSTANTS,
  HandshakeLogEntryCodec,
  HandshakeState,
  INTERACTIVE_PROTOCOL,
  acceptInteractive,
  completeInitiator,
  completeResponder,
  handshakeLogEntry,
  initiateAsync,
  interactivePrologue,
  respondAsync,
  startInteractive,
} from '../src/handshake/index.js';
import { bundleOf, createDeviceState, identityKeysOf, verifyBundle, type DeviceState } from '../src/identity/index.js';
import { generateX25519KeyPair, mlKemEncapsulate, seededRng, sha256, x25519PublicKeyOf } from '../src/suite/index.js';
import { AsyncHeaderCodec, type AsyncHeaderValue, ResponderPayloadCodec, encodeAsyncHeader } from '../src/wire/index.js';
import { codeOf } from './support/errors.js';

const NOW = 1795683600;
const DAY = 86400;
const GRACE = HANDSHAKE_CONSTANTS.PREKEY_GRACE_PERIOD;
const alice = createDeviceState({ jid: 'alice@example.org', now: NOW, rng: seededRng('order alice'), oneTimePrekeys: 0 });
const bob = createDeviceState({ jid: 'bob@example.net', now: NOW, rng: seededRng('order bob'), oneTimePrekeys: 3 });
const other = createDeviceState({ jid: 'x@example.com', now: NOW, rng: seededRng('order other'), oneTimePrekeys: 0 });
const bundle = (b: DeviceState) => verifyBundle(bundleOf(b), { jid: b.jid, deviceId: b.deviceId, now: NOW });
const flip = (bytes: Uint8Array, at = 0) => bytes.map((b, n) => (n === at ? b ^ 1 : b));

/** A header with a one-time prekey, and one without (to a bob that has none left). */
const withOneTime = initiateAsync({ self: alice, peer: bundle(bob), rng: seededRng('order h1') }).header;
const bobWithout: DeviceState = { ...bob, oneTimePrekeys: [] };
const without = initiateAsync({ self: alice, peer: bundle(bobWithout), rng: seededRng('order h2') }).header;

/** `ok` (established), `duplicate`, or the error code of the responder's answer to `header`. */
function outcome(header: AsyncHeaderValue, over: { self?: DeviceState; log?: readonly string[]; now?: number; known?: Uint8Array } = {}): string {
  let kind = '';
  const code = codeOf(() => {
    kind = respondAsync({
      self: over.self ?? bob,
      log: over.log ?? [],
      header,
      initiatorJid: alice.jid,
      initiatorDeviceId: alice.deviceId,
      now: over.now ?? NOW + 10,
      ...(over.known === undefined ? {} : { knownInitiatorSigningKey: over.known }),
    }).kind;
  });
  return code === 'ok' && kind === 'duplicate' ? 'duplicate' : code;
}

/** A log holding `n` entries without a one-time prekey for signed prekey `id`. */
const fullLog = (id: number, n: number = HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES) =>
  Array.from({ length: n }, (_, k) => toHex(encode(HandshakeLogEntryCodec, { signedPrekeyId: id, oneTime: 0, headerHash: sha256(Uint8Array.of(k >> 8, k & 0xff)) })));

/** `state` with its signed (or KEM) prekeys expired `days` ago. */
const expiredSigned = (state: DeviceState, days: number): DeviceState => ({ ...state, signedPrekeys: state.signedPrekeys.map((k) => ({ ...k, expires: NOW - days * DAY })) });
const expiredKem = (state: DeviceState, days: number): DeviceState => ({ ...state, kemPrekeys: state.kemPrekeys.map((k) => ({ ...k, expires: NOW - days * DAY })) });

describe('§handshake.async: the responder\'s order of checks', () => {
  // @req handshake.async-responder
  it('decoding first: a fixed-length field of the wrong length shows as the structure\'s length', () => {
    const bytes = encodeAsyncHeader(withOneTime);
    const decodeCode = (b: Uint8Array) => codeOf(() => decode(AsyncHeaderCodec, b));
    expect(decodeCode(bytes)).toBe('ok');
    // A 63-byte identity signature (its last byte removed): the fields after it are read shifted.
    // With a one-time prekey, the shifted presence byte is the id's high byte, 0: "absent", and
    // four bytes are left over; without one, the header is one byte short.
    const shortSignature = (b: Uint8Array) => Uint8Array.from([...b.slice(0, 127), ...b.slice(128)]);
    expect(decodeCode(shortSignature(bytes))).toBe('trailing-bytes');
    expect(decodeCode(shortSignature(encodeAsyncHeader(without)))).toBe('truncated');
    // A 31-byte confirmation (the last field): one byte short.
    expect(decodeCode(bytes.slice(0, -1))).toBe('truncated');
    // A 33-byte ephemeral key (a byte inserted): one byte too long.
    const ephemeralAt = bytes.length - 32 - 1088 - 32;
    expect(decodeCode(Uint8Array.from([...bytes.slice(0, ephemeralAt), 0, ...bytes.slice(ephemeralAt)]))).toBe('trailing-bytes');
    // A presence byte of 2 with a byte appended: the presence byte is read first.
    const presence = Uint8Array.from([...bytes, 0]);
    presence[132] = 2;
    expect(decodeCode(presence)).toBe('invalid-value');
  });

  it('a duplicate is a duplicate, whatever else has changed since', () => {
    // @req handshake.duplicate
    const entry = handshakeLogEntry(withOneTime);
    const consumed: DeviceState = { ...bob, oneTimePrekeys: bob.oneTimePrekeys.filter((k) => k.id !== withOneTime.oneTimePrekeyId) };
    expect(outcome(withOneTime, { self: consumed })).toBe('unknown-prekey');
    expect(outcome(withOneTime, { self: consumed, log: [entry], now: NOW + 60 * DAY, known: identityKeysOf(other).signingKey })).toBe('duplicate');
  });

  it('keys, then the identity signature, then the recorded key, then the prekeys, last the confirmation', () => {
    const badSignature = { ...withOneTime, initiator: { ...withOneTime.initiator, signature: flip(withOneTime.initiator.signature) } };
    expect(outcome({ ...badSignature, ephemeralKey: new Uint8Array(32) })).toBe('invalid-key');
    const otherKey = identityKeysOf(other).signingKey;
    expect(outcome(badSignature, { known: otherKey })).toBe('authentication-failed');
    expect(outcome({ ...withOneTime, signedPrekeyId: 99 }, { known: otherKey })).toBe('identity-key-changed');
    // The signed prekey before the KEM prekey, each held before its grace period.
    expect(outcome({ ...withOneTime, signedPrekeyId: 99 }, { self: expiredKem(bob, 30) })).toBe('unknown-prekey');
    expect(outcome({ ...withOneTime, kemPrekeyId: 99 }, { self: expiredSigned(bob, 30) })).toBe('expired-prekey');
    // The KEM prekey before the one-time prekey.
    expect(outcome({ ...withOneTime, oneTimePrekeyId: 99 }, { self: expiredKem(bob, 30) })).toBe('expired-prekey');
    // A one-time prekey used before (or never issued) before the confirmation.
    expect(outcome({ ...withOneTime, oneTimePrekeyId: 99, confirmation: flip(withOneTime.confirmation) })).toBe('unknown-prekey');
    expect(outcome({ ...withOneTime, confirmation: flip(withOneTime.confirmation) })).toBe('authentication-failed');
  });

  it('the log-full check comes with the signed prekey: after its grace period, before the KEM prekey and the confirmation', () => {
    // @req handshake.replay-without-one-time-prekey
    const id = without.signedPrekeyId;
    expect(outcome(without, { self: bobWithout, log: fullLog(id, HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES - 1) })).toBe('ok');
    expect(outcome(without, { self: bobWithout, log: fullLog(id) })).toBe('unknown-prekey');
    expect(outcome({ ...without, confirmation: flip(without.confirmation) }, { self: bobWithout, log: fullLog(id) })).toBe('unknown-prekey');
    expect(outcome(without, { self: expiredKem(bobWithout, 30), log: fullLog(id) })).toBe('unknown-prekey');
    expect(outcome(without, { self: expiredKem(bobWithout, 30) })).toBe('expired-prekey');
    expect(outcome(without, { self: expiredSigned(bobWithout, 30), log: fullLog(id) })).toBe('expired-prekey');
    // A full log of another signed prekey does not count.
    expect(outcome(without, { self: bobWithout, log: fullLog(id + 1000) })).toBe('ok');
    expect(GRACE).toBeLessThan(30 * DAY);
  });
});

describe('§handshake.interactive: each step\'s order of checks', () => {
  // @req handshake.interactive-identity
  const rng = seededRng('interactive order');
  const bobStatic = { secretKey: bob.agreementKey, publicKey: x25519PublicKeyOf(bob.agreementKey) };

  /** Message 1 carrying `payload` as its ML-KEM key. */
  function message1(payload: Uint8Array) {
    const one = startInteractive({ self: alice, peer: bob, rng, now: NOW });
    const noise = HandshakeState.initialize({ protocolName: INTERACTIVE_PROTOCOL, initiator: true, prologue: interactivePrologue(alice, bob), staticKeyPair: { secretKey: alice.agreementKey, publicKey: x25519PublicKeyOf(alice.agreementKey) }, rng });
    return { ...one.message, noise: noise.writeMessage(payload).message };
  }

  /** Message 2 written by a responder with Noise static key `staticKeyPair` and a payload made by `payload`. */
  function message2(staticKeyPair: { secretKey: typeof bob.agreementKey; publicKey: Uint8Array }, payload: (kemCiphertext: Uint8Array) => Uint8Array) {
    const one = startInteractive({ self: alice, peer: bob, rng, now: NOW });
    const noise = HandshakeState.initialize({ protocolName: INTERACTIVE_PROTOCOL, initiator: false, prologue: interactivePrologue(alice, bob), staticKeyPair: staticKeyPair as never, rng });
    const read = noise.readMessage(one.message.noise);
    if (read.next.kind !== 'handshake') throw new Error('unexpected');
    const kem = mlKemEncapsulate(read.payload, rng);
    const written = read.next.writeMessage(payload(kem.ciphertext));
    return { state: one.state, message: { sid: one.message.sid, step: 2, deviceId: bob.deviceId, noise: written.message } };
  }
  const statement = identityKeysOf(bob);
  const responderPayload = (signingKey: Uint8Array, signature: Uint8Array) => (ct: Uint8Array) =>
    encode(ResponderPayloadCodec, { signingKey, identitySignature: signature, kemCiphertext: ct, ratchetKey: generateX25519KeyPair(rng).publicKey });
  const otherKey = identityKeysOf(other).signingKey;

  it('message 1: the step before the payload\'s length, the length before the ML-KEM key check', () => {
    const bad = new Uint8Array(1184).fill(0xff);
    const accept = (message: ReturnType<typeof message1>) => codeOf(() => acceptInteractive({ self: bob, peer: alice, message, rng, now: NOW }));
    expect(accept(message1(bad))).toBe('invalid-key');
    expect(accept(message1(bad.slice(1)))).toBe('invalid-length');
    expect(accept({ ...message1(bad.slice(1)), step: 2 })).toBe('invalid-value');
  });

  it('message 2: timeout, then the message\'s step and device, then Noise, then the payload', () => {
    const genuine = () => {
      const one = startInteractive({ self: alice, peer: bob, rng, now: NOW });
      const two = acceptInteractive({ self: bob, peer: alice, message: one.message, rng, now: NOW });
      return { one, two };
    };
    const late = NOW + HANDSHAKE_CONSTANTS.INTERACTIVE_TIMEOUT + 1;
    let g = genuine();
    expect(codeOf(() => completeInitiator({ state: g.one.state, message: { ...g.two.message, deviceId: other.deviceId }, now: late }))).toBe('handshake-timeout');
    g = genuine();
    expect(codeOf(() => completeInitiator({ state: g.one.state, message: { ...g.two.message, step: 3, noise: flip(g.two.message.noise, 40) }, now: NOW }))).toBe('invalid-value');
    g = genuine();
    expect(codeOf(() => completeInitiator({ state: g.one.state, message: { ...g.two.message, noise: g.two.message.noise.slice(0, 10) }, now: NOW, knownPeerSigningKey: otherKey }))).toBe('invalid-length');
    // The payload: structure (a 63-byte signature makes it one byte short), key, signature, recorded key.
    const short = message2(bobStatic, (ct) => Uint8Array.from([...statement.signingKey, ...statement.signature.slice(1), ...ct, ...generateX25519KeyPair(rng).publicKey]));
    expect(codeOf(() => completeInitiator({ ...short, now: NOW, knownPeerSigningKey: otherKey }))).toBe('truncated');
    const identityPoint = Uint8Array.from([1, ...new Array<number>(31).fill(0)]);
    const smallOrder = message2(bobStatic, responderPayload(identityPoint, flip(statement.signature)));
    expect(codeOf(() => completeInitiator({ ...smallOrder, now: NOW, knownPeerSigningKey: otherKey }))).toBe('invalid-key');
    const mallory = generateX25519KeyPair(seededRng('order mallory'));
    const stolen = message2(mallory as never, responderPayload(statement.signingKey, statement.signature));
    expect(codeOf(() => completeInitiator({ ...stolen, now: NOW, knownPeerSigningKey: otherKey }))).toBe('authentication-failed');
    const genuineRecorded = message2(bobStatic, responderPayload(statement.signingKey, statement.signature));
    expect(codeOf(() => completeInitiator({ ...genuineRecorded, now: NOW, knownPeerSigningKey: otherKey }))).toBe('identity-key-changed');
  });

  it('message 3: timeout, then the message\'s step and device, then Noise', () => {
    const run = () => {
      const one = startInteractive({ self: alice, peer: bob, rng, now: NOW });
      const two = acceptInteractive({ self: bob, peer: alice, message: one.message, rng, now: NOW });
      const three = completeInitiator({ state: one.state, message: two.message, now: NOW });
      return { two, three };
    };
    let r = run();
    expect(codeOf(() => completeResponder({ state: r.two.state, message: { ...r.three.message, noise: flip(r.three.message.noise) }, now: NOW + HANDSHAKE_CONSTANTS.INTERACTIVE_TIMEOUT + 1 }))).toBe('handshake-timeout');
    r = run();
    expect(codeOf(() => completeResponder({ state: r.two.state, message: { ...r.three.message, deviceId: other.deviceId, noise: flip(r.three.message.noise) }, now: NOW }))).toBe('invalid-value');
    r = run();
    expect(codeOf(() => completeResponder({ state: r.two.state, message: { ...r.three.message, noise: flip(r.three.message.noise) }, now: NOW }))).toBe('authentication-failed');
  });
});
