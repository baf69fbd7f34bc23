/**
 * §offline: the prekey lifecycle, simultaneous initiation converging within one round trip with
 * no message lost, and which failures call for a session repair (the repair itself is the device
 * engine's, tested in test/device.engine.test.ts).
 */
import { MemoryStore } from '../src/device/store.js';
import { encodeHandshakeLog } from '../src/device/records.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/codec/bytes.js';
import { mergeIncomingSession, openStanza, sealStanza, sessionKey, startRatchet, type OpenResult, type PeerSession } from '../src/envelope/index.js';
import { HANDSHAKE_CONSTANTS, initiateAsync, respondAsync, type HandshakeLog } from '../src/handshake/index.js';
import { IDENTITY_CONSTANTS, bundleOf, createDeviceState, verifyBundle, type DeviceState } from '../src/identity/index.js';
import { OFFLINE_CONSTANTS, REPAIRABLE_FAILURES, repairReason, replenishOneTimePrekeys, rotatePrekeys } from '../src/offline/index.js';
import { SealError, type SealErrorCode, seededRng } from '../src/index.js';
import { BundleElement, childElements, parseXml, xml } from '../src/wire/index.js';
import { EmbeddedServer, SealClient, presence } from '../src/net/index.js';
import { bareJid, bundleNode } from '../src/identity/index.js';
import { codeOf } from './support/errors.js';

const NOW = 1795683600;
const DAY = 86400;

interface Device { state: DeviceState; log: HandshakeLog; sessions: Map<string, PeerSession> }
const device = (jid: string, seed: string): Device => ({ state: createDeviceState({ jid, now: NOW, rng: seededRng(seed), oneTimePrekeys: 5 }), log: [], sessions: new Map() });

function connect(from: Device, to: Device, seed: string): void {
  const started = initiateAsync({ self: from.state, peer: verifyBundle(bundleOf(to.state), { jid: to.state.jid, deviceId: to.state.deviceId, now: NOW }), rng: seededRng(seed) });
  from.sessions.set(sessionKey(to.state.jid, to.state.deviceId), { ratchet: startRatchet(started.session, seededRng(`${seed}r`)), confirmation: { state: 'unconfirmed', header: started.header } });
}
function send(from: Device, to: Device, text: string): string {
  const out = sealStanza({ to: to.state.jid, from: `${from.state.jid}/r`, senderDeviceId: from.state.deviceId, content: [xml('body', {}, [text])], recipients: [{ jid: to.state.jid, deviceId: to.state.deviceId }], sessions: from.sessions, rng: seededRng(text), now: NOW });
  from.sessions = out.sessions;
  return out.stanza.toString();
}
function receive(to: Device, stanza: string): OpenResult {
  const result = openStanza({ stanza: parseXml(stanza), self: to.state, log: to.log, sessions: to.sessions, now: NOW });
  if (result.kind === 'ok') Object.assign(to, { sessions: result.sessions, state: result.state, log: result.log });
  return result;
}
const text = (r: OpenResult) => (r.kind === 'ok' ? r.content[0]!.getText() : r.kind === 'error' ? r.error.code : r.kind);
const activeId = (d: Device, peer: Device) => toHex(d.sessions.get(sessionKey(peer.state.jid, peer.state.deviceId))!.ratchet.sessionId);

describe('§offline.prekeys', () => {
  it('replenishes one-time prekeys below the threshold with fresh ids', () => {
    // @req offline.replenish
    const state = createDeviceState({ jid: 'a@x.example', now: NOW, rng: seededRng('p'), oneTimePrekeys: OFFLINE_CONSTANTS.ONE_TIME_PREKEY_THRESHOLD });
    expect(replenishOneTimePrekeys(state, seededRng('r')).changed).toBe(false);
    const low = { ...state, oneTimePrekeys: state.oneTimePrekeys.slice(1) };
    const { state: full, changed } = replenishOneTimePrekeys(low, seededRng('r'));
    expect(changed).toBe(true);
    expect(full.oneTimePrekeys).toHaveLength(IDENTITY_CONSTANTS.MAX_ONE_TIME_PREKEYS);
    const ids = full.oneTimePrekeys.map((k) => k.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Math.min(...ids.slice(low.oneTimePrekeys.length))).toBe(state.nextPrekeyId);
  });

  it('rotates prekeys on schedule and keeps replaced ones for the grace period', () => {
    // @req offline.rotate
    const bob = createDeviceState({ jid: 'b@x.example', now: NOW, rng: seededRng('b'), oneTimePrekeys: 0 });
    const alice = createDeviceState({ jid: 'a@x.example', now: NOW, rng: seededRng('a'), oneTimePrekeys: 0 });
    const oldBundle = verifyBundle(bundleOf(bob), { jid: bob.jid, deviceId: bob.deviceId, now: NOW });
    expect(rotatePrekeys(bob, NOW + 6 * DAY, seededRng('x')).changed).toBe(false);
    const rotated = rotatePrekeys(bob, NOW + 7 * DAY, seededRng('x')).state;
    expect(rotated.signedPrekeys).toHaveLength(2);
    expect(bundleOf(rotated).signedPrekey.id).not.toBe(oldBundle.signedPrekey.id);
    // A handshake to the replaced keys still completes within the grace period...
    const late = initiateAsync({ self: alice, peer: oldBundle, rng: seededRng('late') });
    const expires = bob.signedPrekeys[0]!.expires;
    expect(respondAsync({ self: rotated, log: [], header: late.header, initiatorJid: alice.jid, initiatorDeviceId: alice.deviceId, now: expires + HANDSHAKE_CONSTANTS.PREKEY_GRACE_PERIOD - 1 }).kind).toBe('established');
    // ...and the keys are deleted afterwards.
    const pruned = rotatePrekeys(rotated, expires + HANDSHAKE_CONSTANTS.PREKEY_GRACE_PERIOD, seededRng('y')).state;
    expect(pruned.signedPrekeys.map((k) => k.id)).not.toContain(oldBundle.signedPrekey.id);
    expect(codeOf(() => respondAsync({ self: pruned, log: [], header: late.header, initiatorJid: alice.jid, initiatorDeviceId: alice.deviceId, now: expires + HANDSHAKE_CONSTANTS.PREKEY_GRACE_PERIOD }))).toBe('unknown-prekey');
  });
});

describe('§offline.simultaneous', () => {
  it('two devices that start sessions at the same time converge within one round trip, losing nothing', () => {
    // @req offline.simultaneous
    const a = device('alice@example.org', 'sa');
    const b = device('bob@example.net', 'sb');
    connect(a, b, 'a->b');
    connect(b, a, 'b->a');
    const fromA = [send(a, b, 'a1'), send(a, b, 'a2')];
    const fromB = [send(b, a, 'b1')];
    expect(fromA.map((s) => text(receive(b, s)))).toEqual(['a1', 'a2']);
    expect(fromB.map((s) => text(receive(a, s)))).toEqual(['b1']);
    expect(activeId(a, b)).toBe(activeId(b, a)); // both chose the same session
    // One round trip on the chosen session; then nothing carries a handshake any more.
    expect(text(receive(b, send(a, b, 'a3')))).toBe('a3');
    expect(text(receive(a, send(b, a, 'b2')))).toBe('b2');
    expect(text(receive(b, send(a, b, 'a4')))).toBe('a4');
    expect(a.sessions.get(sessionKey(b.state.jid, b.state.deviceId))!.confirmation.state).toBe('confirmed');
    expect(b.sessions.get(sessionKey(a.state.jid, a.state.deviceId))!.confirmation.state).toBe('confirmed');
    expect(activeId(a, b)).toBe(activeId(b, a));
    expect(mergeIncomingSession(undefined, a.sessions.get(sessionKey(b.state.jid, b.state.deviceId))!.ratchet).alternate).toBeUndefined();
  });
});

describe('§offline.repair', () => {
  // The repair itself (a new session started by the device that could not open a message,
  // announced by a key-only message, rate-limited, never for archive results or bounces) goes
  // through the device engine and is tested there (test/device.engine.test.ts).
  it('only failures a new session can fix call for a repair; old and replayed message keys do not', () => {
    expect(REPAIRABLE_FAILURES).toEqual(['no-session', 'not-for-this-device', 'authentication-failed', 'unknown-prekey', 'expired-prekey', 'skip-limit']);
    for (const code of REPAIRABLE_FAILURES.filter((c) => c !== 'not-for-this-device')) expect(repairReason({ kind: 'error', error: new SealError(code as SealErrorCode, 'x') })).toBe(code);
    expect(repairReason({ kind: 'not-for-this-device', sender: { jid: 'a@b', deviceId: 1 } })).toBe('not-for-this-device');
    expect(repairReason({ kind: 'duplicate' })).toBeUndefined();
    expect(repairReason({ kind: 'error', error: new SealError('message-key-unavailable', 'x') })).toBeUndefined();
    expect(repairReason({ kind: 'error', error: new SealError('redirected-stanza', 'x') })).toBeUndefined();
    expect(repairReason({ kind: 'error', error: new SealError('schema-violation', 'x') })).toBeUndefined();
  });

  it('a device that lost its session opens nothing more from its peer until a new session starts; then the conversation continues', () => {
    const a = device('alice@example.org', 'ra');
    const b = device('bob@example.net', 'rb');
    connect(a, b, 'r a->b');
    expect(text(receive(b, send(a, b, 'one')))).toBe('one');
    expect(text(receive(a, send(b, a, 'ack')))).toBe('ack');
    b.sessions = new Map(); // Bob restores an old backup: the session is gone
    const failed = receive(b, send(a, b, 'two'));
    expect(repairReason(failed)).toBe('no-session');
    // Bob repairs: a new session from Alice's bundle; its first message (a key-only message in
    // the engine) carries the handshake, and Alice's old session stays for late messages.
    connect(b, a, 'r b->a repair');
    expect(text(receive(a, send(b, a, 'repaired')))).toBe('repaired');
    expect(text(receive(b, send(a, b, 'three')))).toBe('three');
    expect(activeId(a, b)).toBe(activeId(b, a));
  });
});

describe('§offline prekey maintenance in SealClient', () => {
  it('rotates the signed and KEM prekeys after a message when the signed prekey accepts no more handshakes without a one-time prekey', async () => {
    // @req offline.rotate
    // @req handshake.replay-without-one-time-prekey
    let clock = Date.UTC(2026, 10, 26, 9);
    const now = () => Math.floor((clock += 1000) / 1000);
    const server = new EmbeddedServer({ clock: () => clock, rng: seededRng('maintenance server') });
    const alice = bareJid('alice@example.org');
    const bob = bareJid('bob@example.net');
    server.createAccount(alice);
    server.createAccount(bob);
    const rng = seededRng('maintenance clients');
    const a = await SealClient.create({ connection: server.connect(`${alice}/a`), now, rng, oneTimePrekeys: 2 });
    const store = new MemoryStore();
    const first = await SealClient.create({ connection: server.connect(`${bob}/b`), store, now, rng, oneTimePrekeys: 2 });
    await first.connection.close();
    const spk = first.state.signedPrekeys.at(-1)!.id;
    const kem = first.state.kemPrekeys.at(-1)!.id;
    // Fill the log of b's current signed prekey with entries of handshakes without a one-time
    // prekey, in the store, and restart the device over it.
    const prefix = toHex(new Uint8Array([spk >>> 24, (spk >>> 16) & 255, (spk >>> 8) & 255, spk & 255, 0]));
    store.applySync({ put: [{ table: 'log', key: 'self', value: encodeHandshakeLog(Array.from({ length: HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES }, (_, i) => prefix + toHex(seededRng(`entry ${i}`)(32)))) }], delete: [] });
    const b = await SealClient.create({ connection: server.connect(`${bob}/b`), store, now, rng });
    expect(b.state.deviceId).toBe(first.state.deviceId);
    await b.connection.send(presence()); // available: the server delivers directly
    await a.send(bob, 'hello');
    await server.network.flush();
    expect(b.received.map((m) => m.body)).toEqual(['hello']);
    expect(b.state.signedPrekeys.at(-1)!.id).not.toBe(spk);
    expect(b.state.kemPrekeys.at(-1)!.id).not.toBe(kem);
    expect(b.state.signedPrekeys.map((k) => k.id)).toContain(spk); // kept for the grace period
    // The published bundle names the new prekeys.
    const published = BundleElement.fromXml(childElements(server.pepItems(bob, bundleNode(b.state.deviceId))[0]!)[0]!);
    expect(published.signedPrekey.id).toBe(b.state.signedPrekeys.at(-1)!.id);
  });
});
