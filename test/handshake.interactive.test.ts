/**
 * §handshake.interactive: Seal's Noise XX with the ML-KEM exchange and identity statements.
 * Both sides agree (and agree with the session shape of the asynchronous handshake); a tampered
 * message fails without consuming the state; stolen identity statements, changed keys and
 * timeouts are rejected.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode } from '../src/codec/binary.js';
import { toHex } from '../src/codec/bytes.js';
import {
  HANDSHAKE_CONSTANTS,
  HandshakeState,
  INTERACTIVE_PROTOCOL,
  acceptInteractive,
  completeInitiator,
  completeResponder,
  exportKey,
  interactivePrologue,
  startInteractive,
  type SessionSecret,
} from '../src/handshake/index.js';
import { bundleOf, createDeviceState, identityKeysOf } from '../src/identity/index.js';
import { generateX25519KeyPair, mlKemEncapsulate, seededRng, x25519PublicKeyOf } from '../src/suite/index.js';
import { InteractiveMessageElement, ResponderPayloadCodec, parseXml } from '../src/wire/index.js';
import { codeOf } from './support/errors.js';
import { fcParams } from './support/property.js';

const NOW = 1795683600;
const alice = createDeviceState({ jid: 'alice@example.org', now: NOW, rng: seededRng('alice'), oneTimePrekeys: 0 });
const bob = createDeviceState({ jid: 'bob@example.net', now: NOW, rng: seededRng('bob'), oneTimePrekeys: 0 });
const rng = seededRng('interactive test');

function run(a = alice, b = bob, r = rng) {
  const one = startInteractive({ self: a, peer: b, rng: r, now: NOW });
  const two = acceptInteractive({ self: b, peer: a, message: one.message, rng: r, now: NOW + 1 });
  const three = completeInitiator({ state: one.state, message: two.message, now: NOW + 2 });
  const responder = completeResponder({ state: two.state, message: three.message, now: NOW + 3 });
  return { one, two, three, initiator: three.session, responder };
}

function sameSession(a: SessionSecret, b: SessionSecret): void {
  expect(toHex(a.rootKey.dangerouslyExposeBytes())).toBe(toHex(b.rootKey.dangerouslyExposeBytes()));
  expect(toHex(a.sessionId)).toBe(toHex(b.sessionId));
  expect(toHex(a.associatedData)).toBe(toHex(b.associatedData));
  expect(toHex(exportKey(a, 'x', new Uint8Array(), 32))).toBe(toHex(exportKey(b, 'x', new Uint8Array(), 32)));
}

describe('§handshake.interactive', () => {
  it('establishes the same session on both sides, in the same shape as the asynchronous handshake', () => {
    // @req handshake.interactive-noise
    const { initiator, responder } = run();
    sameSession(initiator, responder);
    expect(initiator.handshake).toBe('interactive');
    expect(initiator.role).toBe('initiator');
    expect(responder.role).toBe('responder');
    if (initiator.role !== 'initiator' || responder.role !== 'responder') return;
    expect(toHex(initiator.peerRatchetKey)).toBe(toHex(responder.ratchetKeyPair.publicKey));
    expect(toHex(initiator.peer.signingKey)).toBe(toHex(bundleOf(bob).identity.signingKey));
    expect(toHex(responder.peer.agreementKey)).toBe(toHex(x25519PublicKeyOf(alice.agreementKey)));
  });

  it('agrees for random devices (property), and messages survive the XML round trip', () => {
    fc.assert(fc.property(fc.string({ maxLength: 6 }), (seed) => {
      const a = createDeviceState({ jid: 'a@x.example', now: NOW, rng: seededRng(`a${seed}`), oneTimePrekeys: 0 });
      const b = createDeviceState({ jid: 'b@y.example', now: NOW, rng: seededRng(`b${seed}`), oneTimePrekeys: 0 });
      const r = seededRng(`r${seed}`);
      const via = (m: Parameters<typeof InteractiveMessageElement.toXml>[0]) => InteractiveMessageElement.fromXml(parseXml(InteractiveMessageElement.toXml(m).toString()));
      const one = startInteractive({ self: a, peer: b, rng: r, now: NOW });
      const two = acceptInteractive({ self: b, peer: a, message: via(one.message), rng: r, now: NOW });
      const three = completeInitiator({ state: one.state, message: via(two.message), now: NOW });
      sameSession(three.session, completeResponder({ state: two.state, message: via(three.message), now: NOW }));
    }), fcParams(10));
  });

  it('a tampered message fails and leaves the state usable', () => {
    // @req handshake.interactive-noise
    const one = startInteractive({ self: alice, peer: bob, rng, now: NOW });
    const two = acceptInteractive({ self: bob, peer: alice, message: one.message, rng, now: NOW });
    const noise = two.message.noise.slice();
    noise[noise.length - 1]! ^= 1;
    expect(codeOf(() => completeInitiator({ state: one.state, message: { ...two.message, noise }, now: NOW }))).toBe('authentication-failed');
    const three = completeInitiator({ state: one.state, message: two.message, now: NOW });
    sameSession(three.session, completeResponder({ state: two.state, message: three.message, now: NOW }));
  });

  it('binds both JIDs and device ids through the prologue', () => {
    const one = startInteractive({ self: alice, peer: bob, rng, now: NOW });
    // Bob believes he talks to another device of Alice: the prologues differ and message 2 fails.
    const two = acceptInteractive({ self: bob, peer: { jid: alice.jid, deviceId: alice.deviceId }, message: one.message, rng, now: NOW });
    const wrong = acceptInteractive({ self: bob, peer: { jid: alice.jid, deviceId: (alice.deviceId + 1) as typeof alice.deviceId }, message: { ...one.message, deviceId: (alice.deviceId + 1) as typeof alice.deviceId }, rng, now: NOW });
    expect(codeOf(() => completeInitiator({ state: one.state, message: { ...wrong.message }, now: NOW }))).toBe('authentication-failed');
    expect(codeOf(() => completeInitiator({ state: one.state, message: two.message, now: NOW }))).toBe('ok');
  });

  it('rejects an identity statement presented with another static key', () => {
    // @req handshake.interactive-identity
    // Mallory runs the responder side with her own static key but Bob's published statement.
    const one = startInteractive({ self: alice, peer: bob, rng, now: NOW });
    const mallory = generateX25519KeyPair(seededRng('mallory'));
    const noise = HandshakeState.initialize({ protocolName: INTERACTIVE_PROTOCOL, initiator: false, prologue: interactivePrologue(alice, bob), staticKeyPair: mallory, rng });
    const read = noise.readMessage(one.message.noise);
    if (read.next.kind !== 'handshake') throw new Error('unexpected');
    const statement = identityKeysOf(bob);
    const kem = mlKemEncapsulate(read.payload, rng);
    const payload = encode(ResponderPayloadCodec, { signingKey: statement.signingKey, identitySignature: statement.signature, kemCiphertext: kem.ciphertext, ratchetKey: generateX25519KeyPair(rng).publicKey });
    const written = read.next.writeMessage(payload);
    expect(codeOf(() => completeInitiator({ state: one.state, message: { sid: one.message.sid, step: 2, deviceId: bob.deviceId, noise: written.message }, now: NOW }))).toBe('authentication-failed');
    // An authentication failure aborts the handshake: its state cannot be used again.
    const two = acceptInteractive({ self: bob, peer: alice, message: one.message, rng, now: NOW });
    expect(codeOf(() => completeInitiator({ state: one.state, message: two.message, now: NOW }))).toBe('invalid-value');
    // A changed key is reported as such.
    const other = identityKeysOf(createDeviceState({ jid: 'x@y.example', now: NOW, rng: seededRng('o'), oneTimePrekeys: 0 })).signingKey;
    const again = startInteractive({ self: alice, peer: bob, rng, now: NOW });
    const answer = acceptInteractive({ self: bob, peer: alice, message: again.message, rng, now: NOW });
    expect(codeOf(() => completeInitiator({ state: again.state, message: answer.message, now: NOW, knownPeerSigningKey: other }))).toBe('identity-key-changed');
  });

  it('abandons a handshake that takes longer than INTERACTIVE_TIMEOUT', () => {
    // @req handshake.interactive-timeout
    const one = startInteractive({ self: alice, peer: bob, rng, now: NOW });
    const two = acceptInteractive({ self: bob, peer: alice, message: one.message, rng, now: NOW });
    expect(codeOf(() => completeInitiator({ state: one.state, message: two.message, now: NOW + HANDSHAKE_CONSTANTS.INTERACTIVE_TIMEOUT + 1 }))).toBe('handshake-timeout');
    const three = completeInitiator({ state: one.state, message: two.message, now: NOW + HANDSHAKE_CONSTANTS.INTERACTIVE_TIMEOUT });
    expect(codeOf(() => completeResponder({ state: two.state, message: three.message, now: NOW + HANDSHAKE_CONSTANTS.INTERACTIVE_TIMEOUT + 1 }))).toBe('handshake-timeout');
    expect(codeOf(() => completeResponder({ state: two.state, message: { ...three.message, step: 2 }, now: NOW }))).toBe('invalid-value');
  });
});
