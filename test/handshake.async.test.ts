/**
 * §handshake.async: the PQXDH-shaped handshake. Both sides agree; every binding in the
 * transcript is checked; one-time prekeys are used once; duplicates are recognised; old prekeys
 * work within their grace period; failures change nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex, utf8Encode } from '../src/codec/bytes.js';
import { HANDSHAKE_CONSTANTS, exportKey, handshakeLogEntry, initiateAsync, respondAsync, type SessionSecret } from '../src/handshake/index.js';
import { bareJid, bundleOf, createDeviceState, dangerouslyExportDeviceState, deviceId, verifyBundle, type DeviceState } from '../src/identity/index.js';
import { generateX25519KeyPair, seededRng } from '../src/suite/index.js';
import { decode } from '../src/codec/binary.js';
import { AsyncHeaderCodec, encodeAsyncHeader } from '../src/wire/index.js';
import { rotatePrekeys } from '../src/offline/index.js';
import { codeOf } from './support/errors.js';
import { fcParams } from './support/property.js';

const NOW = 1795683600;
const alice = createDeviceState({ jid: 'alice@example.org', now: NOW, rng: seededRng('alice'), oneTimePrekeys: 3 });
const bob = createDeviceState({ jid: 'bob@example.net', now: NOW, rng: seededRng('bob'), oneTimePrekeys: 3 });
const bobBundle = verifyBundle(bundleOf(bob), { jid: bob.jid, deviceId: bob.deviceId, now: NOW });

function respond(header = initiation.header, self: DeviceState = bob, log: readonly string[] = [], extra: object = {}) {
  return respondAsync({ self, log, header, initiatorJid: alice.jid, initiatorDeviceId: alice.deviceId, now: NOW + 10, ...extra });
}
const initiation = initiateAsync({ self: alice, peer: bobBundle, rng: seededRng('alice handshake') });

function sameSession(a: SessionSecret, b: SessionSecret): void {
  expect(toHex(a.rootKey.dangerouslyExposeBytes())).toBe(toHex(b.rootKey.dangerouslyExposeBytes()));
  expect(toHex(a.exporterSecret.dangerouslyExposeBytes())).toBe(toHex(b.exporterSecret.dangerouslyExposeBytes()));
  expect(toHex(a.sessionId)).toBe(toHex(b.sessionId));
  expect(toHex(a.associatedData)).toBe(toHex(b.associatedData));
  expect(toHex(exportKey(a, 'test', utf8Encode('ctx'), 48))).toBe(toHex(exportKey(b, 'test', utf8Encode('ctx'), 48)));
}

describe('§handshake.async', () => {
  it('gives both sides the same session, with matching ratchet keys and swapped roles', () => {
    // @req handshake.async-initiator
    // @req handshake.async-responder
    // @req handshake.session
    const response = respond();
    expect(response.kind).toBe('established');
    if (response.kind !== 'established') return;
    sameSession(initiation.session, response.session);
    expect(initiation.session.role).toBe('initiator');
    expect(response.session.role).toBe('responder');
    if (initiation.session.role !== 'initiator' || response.session.role !== 'responder') return;
    expect(toHex(initiation.session.peerRatchetKey)).toBe(toHex(response.session.ratchetKeyPair.publicKey));
    expect(response.session.peer.jid).toBe(alice.jid);
    expect(initiation.session.peer.deviceId).toBe(bob.deviceId);
  });

  it('agrees for random devices, with and without one-time prekeys (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 8 }), fc.integer({ min: 0, max: 2 }), (seed, opks) => {
      const a = createDeviceState({ jid: 'a@x.example', now: NOW, rng: seededRng(`a${seed}`), oneTimePrekeys: 0 });
      const b = createDeviceState({ jid: 'b@y.example', now: NOW, rng: seededRng(`b${seed}`), oneTimePrekeys: opks });
      const started = initiateAsync({ self: a, peer: verifyBundle(bundleOf(b), { jid: b.jid, deviceId: b.deviceId, now: NOW }), rng: seededRng(`h${seed}`) });
      expect(started.header.oneTimePrekeyId === undefined).toBe(opks === 0);
      const done = respondAsync({ self: b, log: [], header: started.header, initiatorJid: a.jid, initiatorDeviceId: a.deviceId, now: NOW });
      expect(done.kind).toBe('established');
      if (done.kind === 'established') sameSession(started.session, done.session);
    }), fcParams(15));
  });

  it('chooses the one-time prekey with the injected randomness', () => {
    // @req handshake.one-time-prekey-choice
    const chosen = new Set<number | undefined>();
    for (let i = 0; i < 12; i++) chosen.add(initiateAsync({ self: alice, peer: bobBundle, rng: seededRng(`choice ${i}`) }).header.oneTimePrekeyId);
    expect(chosen.size).toBe(3);
  });

  it('uses a one-time prekey once; a byte-identical header is a duplicate and changes nothing', () => {
    // @req handshake.one-time-prekey-once
    // @req handshake.duplicate
    const first = respond();
    if (first.kind !== 'established') throw new Error('expected a session');
    expect(first.state.oneTimePrekeys.map((k) => k.id)).not.toContain(initiation.header.oneTimePrekeyId);
    expect(first.state.oneTimePrekeys).toHaveLength(2);
    // The same header again (from offline storage and from MAM): a duplicate.
    const reparsed = decode(AsyncHeaderCodec, encodeAsyncHeader(initiation.header));
    expect(respond(reparsed, first.state, first.log)).toEqual({ kind: 'duplicate' });
    // Another handshake naming the consumed prekey: rejected.
    let other;
    for (let i = 0; ; i++) {
      other = initiateAsync({ self: alice, peer: bobBundle, rng: seededRng(`again ${i}`) });
      if (other.header.oneTimePrekeyId === initiation.header.oneTimePrekeyId) break;
    }
    const before = dangerouslyExportDeviceState(first.state);
    expect(codeOf(() => respond(other.header, first.state, first.log))).toBe('unknown-prekey');
    expect(dangerouslyExportDeviceState(first.state)).toBe(before);
  });

  it('keeps a header without one-time prekey in the log while its signed prekey is held; when full, rejects and rotates', () => {
    // @req handshake.replay-without-one-time-prekey
    // @req handshake.duplicate
    // Found by model/l1: with a log that dropped the oldest entry, any contact could push a
    // header without one-time prekey out with MAX_PROCESSED_HANDSHAKES handshakes of its own, and
    // a replay of that first message then created its session again and opened once more.
    const carol = createDeviceState({ jid: 'carol@example.com', now: NOW, rng: seededRng('carol'), oneTimePrekeys: 0 });
    const carolBundle = verifyBundle(bundleOf(carol), { jid: carol.jid, deviceId: carol.deviceId, now: NOW });
    const started = initiateAsync({ self: alice, peer: carolBundle, rng: seededRng('no opk') });
    expect(started.header.oneTimePrekeyId).toBeUndefined();
    const spk = started.header.signedPrekeyId;
    const fake = (oneTime: boolean, i: number) => toHex(new Uint8Array([spk >>> 24, (spk >>> 16) & 255, (spk >>> 8) & 255, spk & 255, oneTime ? 1 : 0])) + toHex(seededRng(`entry ${oneTime} ${i}`)(32));
    const accept = (log: readonly string[]) => respondAsync({ self: carol, log, header: started.header, initiatorJid: alice.jid, initiatorDeviceId: alice.deviceId, now: NOW + 10 });
    const first = accept([]);
    if (first.kind !== 'established') throw new Error('expected a session');
    const entry = first.log[0]!;
    // A full log of entries with a one-time prekey: the next one pushes out the oldest of them, never the entry without.
    const crowded = [entry, ...Array.from({ length: HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES + 1 }, (_, i) => fake(true, i))];
    const other = initiateAsync({ self: alice, peer: carolBundle, rng: seededRng('other') });
    const withOther = respondAsync({ self: carol, log: crowded, header: other.header, initiatorJid: alice.jid, initiatorDeviceId: alice.deviceId, now: NOW + 10 });
    if (withOther.kind !== 'established') throw new Error('expected a session');
    // The oldest entry with a one-time prekey is dropped to the bound; both entries without one stay.
    expect(withOther.log.filter((e) => e.slice(8, 10) === '01')).toHaveLength(HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES);
    expect(withOther.log).not.toContain(fake(true, 0));
    expect(withOther.log).toContain(entry);
    expect(withOther.log[withOther.log.length - 1]).toBe(handshakeLogEntry(other.header));
    expect(accept(withOther.log)).toEqual({ kind: 'duplicate' });
    // The entries of one signed prekey without a one-time prekey are bounded: when full, reject; rotation follows.
    const full = Array.from({ length: HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES }, (_, i) => fake(false, i));
    expect(codeOf(() => accept(full))).toBe('unknown-prekey');
    expect(rotatePrekeys(carol, NOW + 10, seededRng('rotate'), full).changed).toBe(true);
    expect(rotatePrekeys(carol, NOW + 10, seededRng('rotate'), []).changed).toBe(false);
    // Entries of a signed prekey no longer held are dropped at the next accepted handshake.
    const stale = toHex(new Uint8Array([0, 0, 0xff, 0xff, 0])) + toHex(seededRng('stale')(32));
    const pruned = accept([stale]);
    if (pruned.kind !== 'established') throw new Error('expected a session');
    expect(pruned.log).toEqual([entry]);
  });

  it('binds JIDs, device ids, prekeys, the ephemeral key and the KEM ciphertext', () => {
    // @req handshake.async-kdf
    expect(codeOf(() => respondAsync({ self: bob, log: [], header: initiation.header, initiatorJid: bareJid('mallory@example.org'), initiatorDeviceId: alice.deviceId, now: NOW }))).toBe('authentication-failed');
    expect(codeOf(() => respondAsync({ self: bob, log: [], header: initiation.header, initiatorJid: alice.jid, initiatorDeviceId: deviceId(alice.deviceId + 1), now: NOW }))).toBe('authentication-failed');
    const ciphertext = initiation.header.kemCiphertext.slice();
    ciphertext[0]! ^= 1; // decapsulates (implicit rejection) to another secret
    expect(codeOf(() => respond({ ...initiation.header, kemCiphertext: ciphertext }))).toBe('authentication-failed');
    expect(codeOf(() => respond({ ...initiation.header, ephemeralKey: generateX25519KeyPair(seededRng('e')).publicKey }))).toBe('authentication-failed');
    const confirmation = initiation.header.confirmation.slice();
    confirmation[31]! ^= 1;
    expect(codeOf(() => respond({ ...initiation.header, confirmation }))).toBe('authentication-failed');
    // A header meant for another device of Bob (same JID, other keys) does not complete here.
    const bob2 = createDeviceState({ jid: 'bob@example.net', now: NOW, rng: seededRng('bob2'), oneTimePrekeys: 3 });
    expect(codeOf(() => respond(initiation.header, { ...bob2, signedPrekeys: bob.signedPrekeys, kemPrekeys: bob.kemPrekeys, oneTimePrekeys: bob.oneTimePrekeys }))).toBe('authentication-failed');
  });

  it('rejects unknown prekeys and prekeys past their grace period; accepts old ones within it', () => {
    // @req handshake.prekey-grace
    expect(codeOf(() => respond({ ...initiation.header, signedPrekeyId: 999 }))).toBe('unknown-prekey');
    expect(codeOf(() => respond({ ...initiation.header, kemPrekeyId: 999 }))).toBe('unknown-prekey');
    expect(codeOf(() => respond({ ...initiation.header, oneTimePrekeyId: 999 }))).toBe('unknown-prekey');
    const expires = bob.signedPrekeys[0]!.expires;
    const at = (now: number) => () => respondAsync({ self: bob, log: [], header: initiation.header, initiatorJid: alice.jid, initiatorDeviceId: alice.deviceId, now });
    expect(codeOf(at(expires + HANDSHAKE_CONSTANTS.PREKEY_GRACE_PERIOD - 1))).toBe('ok');
    expect(codeOf(at(expires + HANDSHAKE_CONSTANTS.PREKEY_GRACE_PERIOD))).toBe('expired-prekey');
  });

  it('reports a changed identity key on either side', () => {
    const other = createDeviceState({ jid: 'x@y.example', now: NOW, rng: seededRng('other'), oneTimePrekeys: 0 });
    const otherKey = bundleOf(other).identity.signingKey;
    expect(codeOf(() => initiateAsync({ self: alice, peer: bobBundle, rng: seededRng('k'), knownPeerSigningKey: otherKey }))).toBe('identity-key-changed');
    expect(codeOf(() => respond(initiation.header, bob, [], { knownInitiatorSigningKey: otherKey }))).toBe('identity-key-changed');
  });
});
