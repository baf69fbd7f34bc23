/**
 * Seal side by side with the closest peer, libsignal-protocol-typescript (X3DH + Double Ratchet
 * in TypeScript, the library of OMEMO's JavaScript clients' lineage), timed interleaved in the
 * same rounds (bench/exact/timing.ts): the reported figure is the median of per-round ratios
 * peer / Seal, a measured speed-up and not a claim.
 *
 * The peer lives in bench/peers/node_modules (its own package.json, never a dependency of the
 * package): `(cd bench/peers && npm install)`, then `npm run bench:peers`, which writes
 * bench/peers.md. Like for like: session setup = the initiator processes a prekey bundle and
 * encrypts a first 100-byte message, the responder decrypts it (Seal also verifies the bundle's
 * signatures, runs ML-KEM-768 and pads the content, which the peer does not); steady state = one
 * 100-byte message encrypted and decrypted on an established session with no DH step.
 *
 * @see spec §envelope.overhead
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { openStanza, sealStanza, sessionKey, startRatchet, type PeerSession } from '../../src/envelope/index.js';
import { initiateAsync } from '../../src/handshake/index.js';
import { bundleOf, createDeviceState, verifyBundle } from '../../src/identity/index.js';
import { seededRng, systemRng } from '../../src/suite/index.js';
import { xml } from '../../src/wire/index.js';
import { ROUNDS, interleave } from '../exact/timing.js';

const PEER = new URL('./node_modules/@privacyresearch/libsignal-protocol-typescript/package.json', import.meta.url);
if (!existsSync(PEER)) {
  console.error('bench/peers: libsignal-protocol-typescript is not installed; run (cd bench/peers && npm install) first');
  process.exit(2);
}
const peerVersion = (JSON.parse(readFileSync(PEER, 'utf8')) as { version: string }).version;
const signal = await import('@privacyresearch/libsignal-protocol-typescript');
const { KeyHelper, SessionBuilder, SessionCipher, SignalProtocolAddress } = signal;
type KeyPair = { pubKey: ArrayBuffer; privKey: ArrayBuffer };

/** The peer's in-memory store (its StorageType), trusting every identity as Seal's bench does. */
class PeerStore {
  readonly map = new Map<string, unknown>();
  constructor(readonly identity: KeyPair, readonly registrationId: number) {}
  getIdentityKeyPair = async () => this.identity;
  getLocalRegistrationId = async () => this.registrationId;
  isTrustedIdentity = async () => true;
  saveIdentity = async (address: string, key: ArrayBuffer) => (this.map.set(`identity${address}`, key), true);
  loadPreKey = async (id: string | number) => this.map.get(`prekey${id}`) as KeyPair | undefined;
  storePreKey = async (id: string | number, pair: KeyPair) => void this.map.set(`prekey${id}`, pair);
  removePreKey = async (id: string | number) => void this.map.delete(`prekey${id}`);
  storeSession = async (address: string, record: string) => void this.map.set(`session${address}`, record);
  loadSession = async (address: string) => this.map.get(`session${address}`) as string | undefined;
  loadSignedPreKey = async (id: string | number) => this.map.get(`signed${id}`) as KeyPair | undefined;
  storeSignedPreKey = async (id: string | number, pair: KeyPair) => void this.map.set(`signed${id}`, pair);
  removeSignedPreKey = async (id: string | number) => void this.map.delete(`signed${id}`);
}

async function peerDevice(registrationId: number): Promise<PeerStore> {
  return new PeerStore(await KeyHelper.generateIdentityKeyPair(), registrationId);
}
const text = new TextEncoder().encode('x'.repeat(100)).buffer;
const peerAlice = await peerDevice(1);
const peerBob = await peerDevice(2);
const signed = await KeyHelper.generateSignedPreKey(peerBob.identity, 1);
await peerBob.storeSignedPreKey(1, signed.keyPair);
let nextPrekey = 1;
let nextBobDevice = 1;
/** Session setup on the peer: a fresh one-time prekey and a fresh remote device each time (prepared outside the timed part would bias it; generating the prekey is Bob's publication cost, so it is included, as Seal's bundle already exists). */
const peerSetup = async () => {
  const prekey = await KeyHelper.generatePreKey(nextPrekey++);
  await peerBob.storePreKey(prekey.keyId, prekey.keyPair);
  const bobAddress = new SignalProtocolAddress('bob', nextBobDevice++);
  await new SessionBuilder(peerAlice as never, bobAddress).processPreKey({ registrationId: 2, identityKey: peerBob.identity.pubKey, signedPreKey: { keyId: 1, publicKey: signed.keyPair.pubKey, signature: signed.signature }, preKey: { keyId: prekey.keyId, publicKey: prekey.keyPair.pubKey } });
  const first = await new SessionCipher(peerAlice as never, bobAddress).encrypt(text);
  await new SessionCipher(peerBob as never, new SignalProtocolAddress('alice', bobAddress.deviceId)).decryptPreKeyWhisperMessage(first.body!, 'binary');
};
// A steady-state peer session: set up, one reply so both sides are established.
const steadyAddress = new SignalProtocolAddress('bob', 100000);
const steadyBack = new SignalProtocolAddress('alice', 100000);
{
  const prekey = await KeyHelper.generatePreKey(999999);
  await peerBob.storePreKey(prekey.keyId, prekey.keyPair);
  await new SessionBuilder(peerAlice as never, steadyAddress).processPreKey({ registrationId: 2, identityKey: peerBob.identity.pubKey, signedPreKey: { keyId: 1, publicKey: signed.keyPair.pubKey, signature: signed.signature }, preKey: { keyId: prekey.keyId, publicKey: prekey.keyPair.pubKey } });
  const first = await new SessionCipher(peerAlice as never, steadyAddress).encrypt(text);
  await new SessionCipher(peerBob as never, steadyBack).decryptPreKeyWhisperMessage(first.body!, 'binary');
  const reply = await new SessionCipher(peerBob as never, steadyBack).encrypt(text);
  await new SessionCipher(peerAlice as never, steadyAddress).decryptWhisperMessage(reply.body!, 'binary');
}
const peerSteady = async () => {
  const m = await new SessionCipher(peerAlice as never, steadyAddress).encrypt(text);
  await new SessionCipher(peerBob as never, steadyBack).decryptWhisperMessage(m.body!, 'binary');
};

// Seal, the same two operations (as in bench/exact/main.ts).
const NOW = 1795683600;
const rng = seededRng('peers');
const alice = createDeviceState({ jid: 'alice@example.org', now: NOW, rng, oneTimePrekeys: 5 });
const bob = createDeviceState({ jid: 'bob@example.net', now: NOW, rng, oneTimePrekeys: 100 });
const bobBundle = bundleOf(bob);
const body = [xml('body', {}, ['x'.repeat(100)])];
const sealSetup = () => {
  const begun = initiateAsync({ self: alice, peer: verifyBundle(bobBundle, { jid: bob.jid, deviceId: bob.deviceId, now: NOW }), rng: systemRng });
  const sessions = new Map<string, PeerSession>([[sessionKey(bob.jid, bob.deviceId), { ratchet: startRatchet(begun.session, systemRng), confirmation: { state: 'unconfirmed', header: begun.header } }]]);
  const sealed = sealStanza({ to: bob.jid, from: alice.jid, senderDeviceId: alice.deviceId, content: body, recipients: [{ jid: bob.jid, deviceId: bob.deviceId }], sessions, rng: systemRng, now: NOW });
  const opened = openStanza({ stanza: sealed.stanza, self: bob, log: [], sessions: new Map(), now: NOW });
  if (opened.kind !== 'ok') throw new Error('setup failed');
};
let steadyAlice: Map<string, PeerSession>;
let steadyBob: Map<string, PeerSession>;
{
  const begun = initiateAsync({ self: alice, peer: verifyBundle(bobBundle, { jid: bob.jid, deviceId: bob.deviceId, now: NOW }), rng });
  const sessions = new Map<string, PeerSession>([[sessionKey(bob.jid, bob.deviceId), { ratchet: startRatchet(begun.session, rng), confirmation: { state: 'unconfirmed', header: begun.header } }]]);
  const sealed = sealStanza({ to: bob.jid, from: alice.jid, senderDeviceId: alice.deviceId, content: body, recipients: [{ jid: bob.jid, deviceId: bob.deviceId }], sessions, rng, now: NOW });
  const opened = openStanza({ stanza: sealed.stanza, self: bob, log: [], sessions: new Map(), now: NOW });
  if (opened.kind !== 'ok') throw new Error('setup failed');
  steadyAlice = new Map([...sealed.sessions].map(([k, v]) => [k, { ...v, confirmation: { state: 'confirmed' as const } }]));
  steadyBob = opened.sessions;
}
const sealSteady = () => {
  const out = sealStanza({ to: bob.jid, from: alice.jid, senderDeviceId: alice.deviceId, content: body, recipients: [{ jid: bob.jid, deviceId: bob.deviceId }], sessions: steadyAlice, rng: systemRng, now: NOW });
  steadyAlice = out.sessions;
  const opened = openStanza({ stanza: out.stanza, self: bob, log: [], sessions: steadyBob, now: NOW });
  if (opened.kind !== 'ok') throw new Error('open failed');
  steadyBob = opened.sessions;
};

const loadBefore = os.loadavg();
const setup = await interleave(peerSetup, sealSetup);
const steady = await interleave(peerSteady, sealSteady);
const loadAfter = os.loadavg();
const ms = (v: number) => (v >= 1 ? `${v.toFixed(2)} ms` : `${(v * 1000).toFixed(1)} µs`);
const row = (label: string, r: typeof setup, goal: number) => `| ${label} | ${ms(r.aPerUnit)} | ${ms(r.bPerUnit)} | ${r.median.toFixed(2)} × | ${r.q1.toFixed(2)}–${r.q3.toFixed(2)} | ≥ ${goal} ${r.median >= goal ? '✓' : '✗'} |`;
const report = `## Side by side: libsignal-protocol-typescript ${peerVersion}

Generated by \`npm run bench:peers\` (bench/peers/run.mts). Peer and Seal timed interleaved in
the same ${ROUNDS} rounds; the speed-up is the median of per-round ratios peer / Seal with its
interquartile range. Seal's session setup does more than the peer's (bundle signatures verified,
ML-KEM-768, padded XEP-0420 content). Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), Node ${process.version}; load average ${loadBefore.map((l) => l.toFixed(2)).join(', ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(', ')} after.

| operation | libsignal-protocol-typescript | Seal | speed-up (median) | IQR | goal |
| --- | --- | --- | --- | --- | --- |
${row('session setup + first 100-byte message', setup, 2)}
${row('steady-state 100-byte message (encrypt + decrypt)', steady, 6)}
`;
if (process.env.SEAL_BENCH_QUICK === undefined) writeFileSync('bench/peers.md', report);
console.log(report);
