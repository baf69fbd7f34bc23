/**
 * Seal's cost against the exact cost of the primitive calls it makes, measured interleaved.
 *
 * For each operation the bench (1) captures the primitive calls one unit of it makes — every
 * X25519, key-pair derivation, signature, ML-KEM call, HKDF/HMAC/SHA-256 with its input length and
 * AEAD with its plaintext and associated-data length (bench/exact/recorder.ts, the shims swapped
 * in by bench/run.ts) — (2) prepares their replay at the same sizes (bench/exact/replay.ts), and
 * (3) times the operation and its replay alternately in the same loop (A B, B A, …) over many
 * rounds, reporting the median of the per-round ratios with its spread. Load on the machine hits
 * both halves of a round alike. A ratio below 1 is impossible for a true lower bound: the run
 * fails loudly instead of printing it.
 *
 * Run with `npm run bench` (which bundles this file with the shims); writes bench/results.md.
 * `SEAL_BENCH_QUICK=1` runs few rounds (the smoke run of the tests).
 *
 * @see spec §envelope.overhead
 * @module
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { encode } from '../../src/codec/index.js';
import { ENVELOPE_CONSTANTS, buildContent, openStanza, sealStanza, sessionKey, startRatchet, type PeerSession } from '../../src/envelope/index.js';
import { HANDSHAKE_CONSTANTS, HandshakeLogEntryCodec, acceptInteractive, completeInitiator, completeResponder, initiateAsync, startInteractive } from '../../src/handshake/index.js';
import { bareJid, bundleOf, createDeviceState, verifyBundle, type DeviceState } from '../../src/identity/index.js';
import { nodeCurveProvider } from '../../src/native/node.js';
import { SealClient } from '../../src/net/client.js';
import { EmbeddedServer } from '../../src/net/server.js';
import { presence } from '../../src/net/stanzas.js';
import { nobleCurveProvider, seededRng, systemRng, useCurveProvider } from '../../src/suite/index.js';
import { xml, type Element } from '../../src/wire/index.js';
import { capture, note, summarize, type PrimitiveCall } from './recorder.js';
import { instrumented, prepareReplay } from './replay.js';
import { MIN_HALF_MS, ROUNDS, type Interleaved, interleave } from './timing.js';

const QUICK = process.env.SEAL_BENCH_QUICK !== undefined;
const NOW = 1795683600;
const rng = seededRng('bench');
const live = systemRng;
const loadBefore = os.loadavg();
const started = performance.now();

// Randomness is a primitive too: every platform CSPRNG request is recorded.
const getRandomValues = crypto.getRandomValues.bind(crypto);
crypto.getRandomValues = ((array: ArrayBufferView) => {
  note(() => ({ kind: 'random', bytes: array.byteLength }));
  return getRandomValues(array as Uint8Array);
}) as typeof crypto.getRandomValues;

const NOBLE = instrumented(nobleCurveProvider);
const NATIVE = instrumented(nodeCurveProvider);
useCurveProvider(NOBLE);
const PROVIDERS = { noble: nobleCurveProvider, node: nodeCurveProvider };

// ------------------------------------------------------------------------- timing

interface Row { readonly label: string; readonly goal?: number; readonly result: Interleaved; readonly calls: readonly PrimitiveCall[]; readonly against: 'replay' | 'empty log' }
const rows: Row[] = [];
const failures: string[] = [];

/** Measures `operation` (one unit) against the exact replay of the primitive calls it makes. */
async function againstReplay(label: string, operation: () => unknown, goal: number | undefined, providers = PROVIDERS): Promise<void> {
  await operation(); // the first run may pay one-time caches (expanded keys, identity statements)
  const calls = await capture(operation);
  const replay = prepareReplay(calls, providers);
  const result = await interleave(operation, replay);
  rows.push({ label, ...(goal === undefined ? {} : { goal }), result, calls, against: 'replay' });
  // A true lower bound cannot be beaten: a median below 1 means the measurement is broken.
  if (result.median < 1 && !QUICK) failures.push(`${label}: median ratio ${result.median.toFixed(3)} < 1 against its own primitive calls — the replay is not a lower bound (a call is missing from the capture, or the measurement is broken)`);
  process.stdout.write(`bench row: ${label}: ${result.median.toFixed(2)} × (${result.q1.toFixed(2)}–${result.q3.toFixed(2)}), ${calls.length} calls\n`);
}

// ------------------------------------------------------------------------- operations

const alice = createDeviceState({ jid: 'alice@example.org', now: NOW, rng, oneTimePrekeys: 5 });
const bob = createDeviceState({ jid: 'bob@example.net', now: NOW, rng, oneTimePrekeys: 100 });
const bobBundle = bundleOf(bob);

function sessionPair(a: DeviceState, b: DeviceState): { a: Map<string, PeerSession>; b: Map<string, PeerSession> } {
  const started = initiateAsync({ self: a, peer: verifyBundle(bundleOf(b), { jid: b.jid, deviceId: b.deviceId, now: NOW }), rng });
  const sessions = new Map<string, PeerSession>([[sessionKey(b.jid, b.deviceId), { ratchet: startRatchet(started.session, rng), confirmation: { state: 'unconfirmed', header: started.header } }]]);
  const sealed = sealStanza({ to: b.jid, from: a.jid, senderDeviceId: a.deviceId, content: [xml('body', {}, ['hi'])], recipients: [{ jid: b.jid, deviceId: b.deviceId }], sessions, rng, now: NOW });
  const opened = openStanza({ stanza: sealed.stanza, self: b, log: [], sessions: new Map(), now: NOW });
  if (opened.kind !== 'ok') throw new Error('setup failed');
  const confirmed = new Map([...sealed.sessions].map(([k, v]) => [k, { ...v, confirmation: { state: 'confirmed' as const } }]));
  return { a: confirmed, b: opened.sessions };
}

/** The first message Alice sends Bob, sealed once (for the responder's side). */
function firstMessage(): Element {
  const started = initiateAsync({ self: alice, peer: verifyBundle(bobBundle, { jid: bob.jid, deviceId: bob.deviceId, now: NOW }), rng });
  const sessions = new Map<string, PeerSession>([[sessionKey(bob.jid, bob.deviceId), { ratchet: startRatchet(started.session, rng), confirmation: { state: 'unconfirmed', header: started.header } }]]);
  return sealStanza({ to: bob.jid, from: alice.jid, senderDeviceId: alice.deviceId, content: [xml('body', {}, ['hi'])], recipients: [{ jid: bob.jid, deviceId: bob.deviceId }], sessions, rng, now: NOW }).stanza;
}

const setup = () => {
  const verified = verifyBundle(bobBundle, { jid: bob.jid, deviceId: bob.deviceId, now: NOW });
  const begun = initiateAsync({ self: alice, peer: verified, rng: live });
  const sessions = new Map<string, PeerSession>([[sessionKey(bob.jid, bob.deviceId), { ratchet: startRatchet(begun.session, live), confirmation: { state: 'unconfirmed', header: begun.header } }]]);
  const sealed = sealStanza({ to: bob.jid, from: alice.jid, senderDeviceId: alice.deviceId, content: [xml('body', {}, ['hi'])], recipients: [{ jid: bob.jid, deviceId: bob.deviceId }], sessions, rng: live, now: NOW });
  const opened = openStanza({ stanza: sealed.stanza, self: bob, log: [], sessions: new Map(), now: NOW });
  if (opened.kind !== 'ok') throw new Error('setup failed');
};
const interactive = () => {
  const one = startInteractive({ self: alice, peer: bob, rng: live, now: NOW });
  const two = acceptInteractive({ self: bob, peer: alice, message: one.message, rng: live, now: NOW });
  const three = completeInitiator({ state: one.state, message: two.message, now: NOW });
  completeResponder({ state: two.state, message: three.message, now: NOW });
};

const devices = Array.from({ length: 100 }, (_, i) => createDeviceState({ jid: `bob${i}@example.net`, now: NOW, rng, oneTimePrekeys: 1 }));
const pairs = devices.map((d) => sessionPair(alice, d));
let aliceSessions = new Map<string, PeerSession>(pairs.flatMap((x) => [...x.a]));
const body = [xml('body', {}, ['x'.repeat(100)])];
const sealTo = (n: number) => () => {
  const out = sealStanza({ to: devices[0]!.jid, from: alice.jid, senderDeviceId: alice.deviceId, content: body, recipients: devices.slice(0, n).map((d) => ({ jid: d.jid, deviceId: d.deviceId })), sessions: aliceSessions, rng: live, now: NOW });
  aliceSessions = out.sessions;
  return out.stanza;
};
function dedicated(seed: string) {
  const peer = createDeviceState({ jid: `${seed}@example.net`, now: NOW, rng, oneTimePrekeys: 1 });
  const pair = sessionPair(alice, peer);
  return { peer, alice: pair.a, peerSessions: pair.b };
}
// Steady state both ways: Alice seals, the peer opens (no DH step).
const steady = dedicated('steady');
const sealOpen = () => {
  const out = sealStanza({ to: steady.peer.jid, from: alice.jid, senderDeviceId: alice.deviceId, content: body, recipients: [{ jid: steady.peer.jid, deviceId: steady.peer.deviceId }], sessions: steady.alice, rng: live, now: NOW });
  steady.alice = out.sessions;
  const opened = openStanza({ stanza: out.stanza, self: steady.peer, log: [], sessions: steady.peerSessions, now: NOW });
  if (opened.kind !== 'ok') throw new Error('open failed');
  steady.peerSessions = opened.sessions;
};
// Round trip with a DH step on each message.
const rt = dedicated('roundtrip');
const roundTrip = () => {
  const reply = sealStanza({ to: alice.jid, from: rt.peer.jid, senderDeviceId: rt.peer.deviceId, content: body, recipients: [{ jid: alice.jid, deviceId: alice.deviceId }], sessions: rt.peerSessions, rng: live, now: NOW });
  rt.peerSessions = reply.sessions;
  const opened = openStanza({ stanza: reply.stanza, self: alice, log: [], sessions: rt.alice, now: NOW });
  if (opened.kind !== 'ok') throw new Error('open failed');
  rt.alice = opened.sessions;
  const back = sealStanza({ to: rt.peer.jid, from: alice.jid, senderDeviceId: alice.deviceId, content: body, recipients: [{ jid: rt.peer.jid, deviceId: rt.peer.deviceId }], sessions: rt.alice, rng: live, now: NOW });
  rt.alice = back.sessions;
  const openedBack = openStanza({ stanza: back.stanza, self: rt.peer, log: [], sessions: rt.peerSessions, now: NOW });
  if (openedBack.kind !== 'ok') throw new Error('open failed');
  rt.peerSessions = openedBack.sessions;
};
// The largest content MAX_CONTENT_BYTES allows, sealed and opened.
const big = dedicated('big');
const fits = (n: number) => {
  try {
    buildContent({ content: [xml('body', {}, ['y'.repeat(n)])], to: big.peer.jid, from: alice.jid, time: NOW, rng: seededRng('fit') });
    return true;
  } catch {
    return false;
  }
};
let largest = 0;
for (let step = 2 ** 16; step >= 1; step /= 2) if (fits(largest + step)) largest += step;
const bigBody = [xml('body', {}, ['y'.repeat(largest)])];
const bigSealOpen = () => {
  const out = sealStanza({ to: big.peer.jid, from: alice.jid, senderDeviceId: alice.deviceId, content: bigBody, recipients: [{ jid: big.peer.jid, deviceId: big.peer.deviceId }], sessions: big.alice, rng: live, now: NOW });
  big.alice = out.sessions;
  const opened = openStanza({ stanza: out.stanza, self: big.peer, log: [], sessions: big.peerSessions, now: NOW });
  if (opened.kind !== 'ok') throw new Error('open failed');
  big.peerSessions = opened.sessions;
};

// A first message against a responder whose handshake log is at its cap: MAX_PROCESSED_HANDSHAKES
// entries with a one-time prekey and one fewer without, for the current signed prekey.
const current = bob.signedPrekeys[bob.signedPrekeys.length - 1]!.id;
const fullLog = Array.from({ length: 2 * HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES - 1 }, (_, i) =>
  Buffer.from(encode(HandshakeLogEntryCodec, { signedPrekeyId: current, oneTime: i < HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES ? 1 : 0, headerHash: rng(32) })).toString('hex'),
);
const first = firstMessage();
const respondWith = (log: readonly string[]) => () => {
  const opened = openStanza({ stanza: first, self: bob, log, sessions: new Map(), now: NOW });
  if (opened.kind !== 'ok') throw new Error(`first message: ${opened.kind === 'error' ? opened.error.message : opened.kind}`);
};

// The engine path: a stanza in, the engine's step, the store's commit, the event out (SealClient
// over a MemoryStore, messages of a confirmed session, 50 per unit so heartbeats are included).
const ENGINE_UNIT = 50;
async function enginePath(): Promise<() => Promise<void>> {
  let clock = Date.UTC(2026, 10, 26, 9);
  const now = () => Math.floor((clock += 1000) / 1000);
  const server = new EmbeddedServer({ clock: () => clock, rng: seededRng('bench server') });
  const A = bareJid('alice@example.org');
  const B = bareJid('bob@example.net');
  server.createAccount(A);
  server.createAccount(B);
  const aliceConnection = server.connect(`${A}/bench`);
  const bobConnection = server.connect(`${B}/bench`);
  const queue: Element[] = [];
  let capturing = false;
  const bobWire = { ...bobConnection, jid: bobConnection.jid, send: (s: Element) => bobConnection.send(s), iq: (r: Element) => bobConnection.iq(r), close: () => bobConnection.close(), onStanza: (h: (s: Element) => void | Promise<void>) => bobConnection.onStanza((s) => (capturing && s.is('message') ? void queue.push(s) : h(s))) };
  const aliceClient = await SealClient.create({ connection: aliceConnection, now, rng: seededRng('bench alice') });
  const bobClient = await SealClient.create({ connection: bobWire, now, rng: seededRng('bench bob') });
  await aliceConnection.send(presence());
  await bobConnection.send(presence());
  await server.network.flush();
  await aliceClient.send(B, 'hello');
  await server.network.flush();
  await bobClient.send(A, 'hello back');
  await server.network.flush();
  capturing = true;
  const units = (QUICK ? 6 : 4) + ROUNDS * 2;
  for (let i = 0; i < ENGINE_UNIT * units; i++) {
    await aliceClient.send(B, `message ${i}`);
    await server.network.flush();
  }
  let next = 0;
  return async () => {
    for (let i = 0; i < ENGINE_UNIT; i++) {
      const stanza = queue[next++];
      if (stanza === undefined) throw new Error('engine path: out of messages (raise the pre-sealed count)');
      await bobClient.receive(stanza);
    }
  };
}

// ------------------------------------------------------------------------- run

await againstReplay('session setup: bundle verification + async handshake + first message (noble)', setup, 1.15);
await againstReplay('interactive handshake, 3 messages (noble)', interactive, 1.15);
useCurveProvider(NATIVE);
await againstReplay('session setup, native curve provider', setup, 1.15);
await againstReplay('interactive handshake, native curve provider', interactive, 1.15);
useCurveProvider(NOBLE);
await againstReplay('steady state: seal + open, 100 B, 1 device, no DH step', sealOpen, 1.5);
await againstReplay('steady state: seal 100 B for 1 device', sealTo(1), 1.5);
await againstReplay('steady state: seal 100 B for 10 devices', sealTo(10), 1.5);
await againstReplay('steady state: seal 100 B for 100 devices', sealTo(100), 1.5);
await againstReplay('round trip with DH steps (2 seals + 2 opens)', roundTrip, 1.2);
await againstReplay(`seal + open of the largest content (${largest} B of body text)`, bigSealOpen, undefined);
await againstReplay('first message against a full handshake log (responder)', respondWith(fullLog), undefined);
{
  const full = respondWith(fullLog);
  const empty = respondWith([]);
  await full();
  await empty();
  const result = await interleave(full, empty);
  rows.push({ label: 'first message: full handshake log against an empty one', goal: 1.05, result, calls: [], against: 'empty log' });
  process.stdout.write(`full log / empty log: ${result.median.toFixed(3)} × (${result.q1.toFixed(3)}–${result.q3.toFixed(3)})\n`);
}
await againstReplay(`engine path: ${ENGINE_UNIT} received messages (stanza in → commit → event out)`, await enginePath(), undefined);

// ------------------------------------------------------------------------- report

/** The ratio table of bench/files.md (`npm run bench:files`, a separate run), copied here so that this page has every goal. */
function filesSummary(): string {
  const files = existsSync('bench/files.md') ? readFileSync('bench/files.md', 'utf8') : '';
  const table = /## Ratios to the raw AEAD in 64 KiB calls[^\n]*\n\n([\s\S]*?)\n\n/.exec(files)?.[1];
  if (table === undefined) return 'Not measured yet: `npm run bench:files` writes bench/files.md.';
  return `From bench/files.md (\`npm run bench:files\`, its own run; throughput, memory and method there): throughput of the stream cipher and of sealFile as a ratio to the raw AES-256-GCM of the same provider in 64 KiB calls, measured in the same run (median of per-round ratios, IQR). Goal ≥ 0.9.\n\n${table}`;
}

const loadAfter = os.loadavg();
const ms = (v: number) => (v >= 1 ? `${v.toFixed(2)} ms` : `${(v * 1000).toFixed(1)} µs`);
const table = (header: string[], body: string[][]) => [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const verdict = (r: Row) => (r.goal === undefined ? '—' : r.result.median <= r.goal ? `≤ ${r.goal} ✓` : `≤ ${r.goal} ✗`);
const report = `# Seal benchmarks

Generated by \`npm run bench\` (bench/run.ts bundles bench/exact/main.ts with the recording shims
of bench/exact/shims). Every ratio divides a Seal operation by the **exact replay of the primitive
calls it made**: the calls are captured while the operation runs once (each X25519 and public-key
derivation, signature, ML-KEM call, HKDF/HMAC/SHA-256 with its input length, AEAD with its
plaintext and associated-data length, and every CSPRNG request), then made again on the same
primitives at the same sizes. Operation and replay are timed **interleaved** (A B, then B A, in
${ROUNDS} rounds of at least ${MIN_HALF_MS} ms per half), and the table gives the median of the
per-round ratios with its interquartile range. A ratio below 1 fails the run. Goals are the
issue's (bench/README); they are read here, never asserted by a timed test.

Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), ${os.platform()} ${os.arch()}, Node ${process.version}. Load average (1, 5, 15 min) before the run ${loadBefore.map((l) => l.toFixed(2)).join(', ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(', ')}; run time ${((performance.now() - started) / 1000).toFixed(0)} s.

## Operations against their exact primitive cost

${table(['operation', 'Seal per unit', 'replay per unit', 'ratio (median)', 'IQR', 'min', 'goal'], rows.map((r) => [r.label, ms(r.result.aPerUnit), ms(r.result.bPerUnit) + (r.against === 'empty log' ? ' (empty log)' : ''), r.result.median.toFixed(2), `${r.result.q1.toFixed(2)}–${r.result.q3.toFixed(2)}`, r.result.min.toFixed(2), verdict(r)]))}

## The primitive calls each operation makes

${table(['operation', 'calls'], rows.filter((r) => r.calls.length > 0).map((r) => [r.label, `${r.calls.length}: ${summarize(r.calls)}`]))}

MAX_CONTENT_BYTES is ${ENVELOPE_CONSTANTS.MAX_CONTENT_BYTES}; the handshake log's cap is ${HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES} entries with a one-time prekey plus ${HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES - 1} without for the current signed prekey.

## Files: the stream cipher against the raw AEAD of its provider

${filesSummary()}

## Other runs

- Rooms (§groups): per-message bytes and seal time against room size (2, 10, 50, 150 devices) beside the one-to-one fan-out, and the first message of a new room: bench/groups.md (\`npx tsx bench/groups.ts\`). The per-device overhead is flat: 157 bytes per added device in both.
- Durable stores: bench/stores.md (\`npm run bench:stores\`). Peers (Seal against libsignal and vodozemac): bench/peers.md. Browser bundle size: bench/bundle-size.md.
`;
if (!QUICK) writeFileSync('bench/results.md', report);
console.log(report);
if (failures.length > 0) {
  console.error(`\nIMPOSSIBLE RATIOS:\n${failures.join('\n')}`);
  process.exit(1);
}
