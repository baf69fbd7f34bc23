/**
 * The scenarios of `vectors/offline.json`, built with the sending side simulated at case-building
 * time: Alice's and Bob's other devices start sessions, seal and open through Seal's public API
 * with randomness drawn in a fixed order from `seededRng('vectors/offline.json')`. Only what the
 * receiving device needs becomes an input: its secrets, the random values of any session it
 * started itself, and the stanzas the server delivers to it.
 *
 * @see spec §offline
 * @module
 */
import { compareBytes, toHex } from '../codec/bytes.js';
import { decodeBase64, encodeBase64 } from '../codec/base64.js';
import { type PeerSession, openStanza, ratchetEncrypt, sealStanza, sessionKey, startRatchet } from '../envelope/index.js';
import { HANDSHAKE_CONSTANTS, type HandshakeLog, initiateAsync } from '../handshake/index.js';
import { type DeviceState, IDENTITY_CONSTANTS, bundleOf, createDeviceState, verifyBundle } from '../identity/index.js';
import { rotatePrekeys } from '../offline/index.js';
import { type Rng, SEAL_NS, seededRng } from '../suite/index.js';
import { BundleElement, type Element, parseXml } from '../wire/index.js';
import { ALICE, BOB, NOW, contentOf, flipBit, scriptedRng, stateToInputs } from './envelope-common.js';
import type { Fields } from './kind.js';

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;

/** What a case expects of one delivery (checked at generation time). */
export type Expect =
  | { readonly ok: string; readonly session?: Uint8Array; readonly otherSession?: Uint8Array | null; readonly confirmed?: boolean; readonly keyOnly?: boolean }
  | { readonly kind: 'duplicate' | 'not-for-this-device' }
  | { readonly error: string }
  /** A key-only message the device sends: the base64 of its key element. */
  | { readonly sent: string };

/** A case with what its deliveries must give. */
export interface OfflineCase {
  readonly comment: string;
  readonly flags: readonly string[];
  readonly inputs: Fields;
  /** Undefined for a case whose inputs are rejected as a whole. */
  readonly expect?: readonly Expect[];
  readonly rejectedWith?: string;
}

// ---------------------------------------------------------------------------------------------
// The simulated sending side

/** One device while the scenario is built. */
export interface Party {
  /** The full JID it sends from. */
  readonly full: string;
  state: DeviceState;
  log: HandshakeLog;
  sessions: Map<string, PeerSession>;
}

export const party = (state: DeviceState, resource: string): Party => ({ full: `${state.jid}/${resource}`, state, log: [], sessions: new Map() });

/** The random values of one asynchronous initiation and the ratchet start that follows it. */
export interface Initiation {
  readonly oneTimePrekeyChoice: Uint8Array;
  readonly ephemeralSecretKey: Uint8Array;
  readonly kemRandomness: Uint8Array;
  readonly ratchetSecretKey: Uint8Array;
}

export const drawInitiation = (r: Rng): Initiation => ({ oneTimePrekeyChoice: r(4), ephemeralSecretKey: r(32), kemRandomness: r(32), ratchetSecretKey: r(32) });

/** `from` starts a session with `to` from `to`'s bundle as published (bundleOf `to`), verified at `at`. */
export function startSession(from: DeviceState, to: DeviceState, at: number, x: Initiation): { ratchet: PeerSession['ratchet']; confirmation: PeerSession['confirmation'] } {
  const verified = verifyBundle(bundleOf(to), { jid: to.jid, deviceId: to.deviceId, now: at });
  const rng = scriptedRng([...(verified.oneTimePrekeys.length > 0 ? [x.oneTimePrekeyChoice] : []), x.ephemeralSecretKey, x.kemRandomness, x.ratchetSecretKey]);
  const started = initiateAsync({ self: from, peer: verified, rng });
  const ratchet = startRatchet(started.session, rng);
  rng.assertDone();
  return { ratchet, confirmation: { state: 'unconfirmed', header: started.header } };
}

export function initiate(from: Party, to: DeviceState, at: number, x: Initiation): Uint8Array {
  const session = startSession(from.state, to, at, x);
  from.sessions = new Map(from.sessions).set(sessionKey(to.jid, to.deviceId), session);
  return session.ratchet.sessionId;
}

/** The one-time prekey `from`'s session with `to` took. */
export function oneTimePrekeyOf(from: Party, to: DeviceState): number | undefined {
  const confirmation = from.sessions.get(sessionKey(to.jid, to.deviceId))?.confirmation;
  return confirmation?.state === 'unconfirmed' ? confirmation.header.oneTimePrekeyId : undefined;
}

/**
 * Initiation randomness drawn until it takes a one-time prekey other than `taken` (two
 * initiators that fetched the same bundle and took the same prekey would make the second
 * handshake fail with unknown-prekey, which these scenarios do not exercise).
 */
export function drawInitiationAvoiding(r: Rng, from: DeviceState, to: DeviceState, at: number, taken: number | undefined): Initiation {
  for (;;) {
    const x = drawInitiation(r);
    const header = startSession(from, to, at, x).confirmation;
    if (header.state === 'unconfirmed' && header.header.oneTimePrekeyId !== taken) return x;
  }
}

/** The inputs of a receiver-side `initiate` step: the peer's bundle and the randomness `x` of the initiation. */
export function initiationInputs(peer: DeviceState, x: Initiation) {
  return {
    peer: peer.jid,
    peerDeviceId: peer.deviceId,
    bundleXml: BundleElement.toXml(bundleOf(peer)).toString(),
    oneTimePrekeyChoice: toHex(x.oneTimePrekeyChoice),
    ephemeralSecretKey: toHex(x.ephemeralSecretKey),
    kemRandomness: toHex(x.kemRandomness),
    ratchetSecretKey: toHex(x.ratchetSecretKey),
  };
}

/** `from` seals a chat message with one `<body/>` to account `to` for `recipients`, at time `at`. */
export function seal(r: Rng, from: Party, to: string, recipients: readonly DeviceState[], id: string, body: string, at: number): string {
  const sealed = sealStanza({
    to,
    from: from.full,
    id,
    senderDeviceId: from.state.deviceId,
    content: contentOf(body),
    recipients: recipients.map((d) => ({ jid: d.jid, deviceId: d.deviceId })),
    sessions: from.sessions,
    rng: r,
    now: at,
  });
  from.sessions = sealed.sessions;
  return sealed.stanza.toString();
}

/** `at` opens `text` (it must open) and keeps the new state. */
export function open(at: Party, text: string, now: number): void {
  const result = openStanza({ stanza: parseXml(text), self: at.state, log: at.log, sessions: at.sessions, now });
  if (result.kind !== 'ok') throw new Error(`offline vectors: the sending side could not open a stanza (${result.kind === 'error' ? result.error.code : result.kind})`);
  Object.assign(at, { state: result.state, log: result.log, sessions: result.sessions });
}

/** The stanza with one bit of its `<payload/>` flipped (a re-delivery with another payload). */
export function tamperPayload(text: string): string {
  const message = parseXml(text);
  const payload = (message.getChild('sealed', SEAL_NS) as Element).getChild('payload', SEAL_NS) as Element;
  const bytes = flipBit(decodeBase64(payload.getText()), 20, 0x01);
  payload.children.length = 0;
  payload.t(encodeBase64(bytes));
  return message.toString();
}

/** The inputs of a case: the receiver's state and the deliveries. */
function inputs(receiver: DeviceState, now: number, stanzas: readonly string[], initiated: readonly Fields[] = []): Fields {
  return { receiver: stateToInputs(receiver), log: [], initiated: [...initiated], now, stanzas: [...stanzas] };
}

export const ok = (body: string, extra: Omit<Extract<Expect, { ok: string }>, 'ok'> = {}): Expect => ({ ok: body, ...extra });
export const duplicate: Expect = { kind: 'duplicate' };
const notForThisDevice: Expect = { kind: 'not-for-this-device' };
export const error = (code: string): Expect => ({ error: code });

// ---------------------------------------------------------------------------------------------
// Devices

/** The devices of the file, drawn first: A1, A2 and B1 created a day before NOW, B2 two hours before, B3 ten days before. */
function devices(r: Rng) {
  const A1 = createDeviceState({ jid: ALICE, now: NOW - DAY, rng: r, oneTimePrekeys: 3 });
  const A2 = createDeviceState({ jid: ALICE, now: NOW - DAY, rng: r, oneTimePrekeys: 3, takenDeviceIds: [A1.deviceId] });
  const B1 = createDeviceState({ jid: BOB, now: NOW - DAY, rng: r, oneTimePrekeys: 3 });
  const B2 = createDeviceState({ jid: BOB, now: NOW - 2 * HOUR, rng: r, oneTimePrekeys: 3, takenDeviceIds: [B1.deviceId] });
  const B3 = createDeviceState({ jid: BOB, now: NOW - 10 * DAY, rng: r, oneTimePrekeys: 3, takenDeviceIds: [B1.deviceId, B2.deviceId] });
  return { A1, A2, B1, B2, B3 };
}
type Devices = ReturnType<typeof devices>;

// ---------------------------------------------------------------------------------------------
// Scenarios

/** 1. Eight messages from A1 while B1 was offline, delivered shuffled, then all again from the archive. */
function offlineBacklog(r: Rng, d: Devices): OfflineCase[] {
  const a1 = party(d.A1, 'laptop');
  initiate(a1, d.B1, NOW - 8 * HOUR, drawInitiation(r));
  const body = (k: number) => `Backlog ${k + 1} of 8, sent while you were offline.`;
  const sent = Array.from({ length: 8 }, (_, k) => seal(r, a1, BOB, [d.B1], `backlog-${k + 1}`, body(k), NOW - 8 * HOUR + k * 10 * MINUTE));
  const order = [5, 2, 7, 0, 3, 6, 1, 4];
  const stanzas = [...order.map((k) => sent[k]!), ...sent];
  return [
    {
      comment:
        'OfflineBacklog: A1 starts a session with B1 and sends eight messages (each key carries the handshake header: B1 never answered) while B1 is offline. The server delivers them in the order 6 3 8 1 4 7 2 5 ' +
        '(the first delivered establishes the session and stores the keys of 1..5; each later one opens once, from a stored key or by skipping), then all eight again in order, as the archive (XEP-0313) returns them: each is a duplicate (header already processed, message already opened), without error and without a state change',
      flags: ['OfflineBacklog', 'Reordered', 'Duplicate'],
      inputs: inputs(d.B1, NOW, stanzas),
      expect: [...order.map((k) => ok(body(k))), ...sent.map(() => duplicate)],
    },
  ];
}

/** The one case rejected as a whole: a delivery that is not a stanza at all (the first stanza of a backlog, cut off). */
function malformed(r: Rng, d: Devices): OfflineCase[] {
  const a1 = party(d.A1, 'laptop');
  initiate(a1, d.B1, NOW - HOUR, drawInitiation(r));
  const sent = seal(r, a1, BOB, [d.B1], 'cut-1', 'This stanza is cut off.', NOW - HOUR);
  const valid = seal(r, a1, BOB, [d.B1], 'cut-2', 'This one is complete.', NOW - HOUR + MINUTE);
  return [
    {
      comment:
        'MalformedStanza: a delivery cut off in the middle of the stanza, followed by a complete one. The deliveries of a vector are complete <message/> stanzas (an XMPP stream delivers nothing else: the stream would be closed); ' +
        'an entry that is not well-formed XML makes the inputs invalid as a whole (malformed-xml), before any stanza is opened',
      flags: ['MalformedStanza'],
      inputs: inputs(d.B1, NOW, [sent.slice(0, Math.floor(sent.length / 2)), valid]),
      rejectedWith: 'malformed-xml',
    },
  ];
}

/** 2. One chain with a gap beyond MAX_SKIP: 1004 messages sent, six of them delivered. */
function skipBeyondBounds(r: Rng, d: Devices): OfflineCase[] {
  const a1 = party(d.A1, 'laptop');
  initiate(a1, d.B1, NOW - 6 * HOUR, drawInitiation(r));
  const key = sessionKey(d.B1.jid, d.B1.deviceId);
  const body = (n: number) => `Message ${n} of one long chain.`;
  const sealAt = (n: number) => seal(r, a1, BOB, [d.B1], `chain-${n}`, body(n), NOW - 6 * HOUR + n);
  const m = new Map<number, string>();
  for (const n of [0, 1, 2]) m.set(n, sealAt(n));
  // Messages 3..1000 are sent and lost: only their ratchet steps matter (no randomness: the initiator's first chain).
  for (let n = 3; n <= 1000; n++) {
    const session = a1.sessions.get(key)!;
    const step = ratchetEncrypt(session.ratchet, new Uint8Array(32), new Uint8Array(0), scriptedRng([]));
    a1.sessions.set(key, { ...session, ratchet: step.state });
  }
  for (const n of [1001, 1002, 1003]) m.set(n, sealAt(n));
  const s = (n: number) => m.get(n)!;
  return [
    {
      comment:
        'SkipBeyondBounds: A1 starts a session with B1 and sends 1004 messages on its first chain (counters 0..1003, all with the handshake header); the server delivers six of them. ' +
        '1003 first: opening it would skip 1003 keys, more than MAX_SKIP (1000): skip-limit, and nothing is kept (not even the session its header would establish). ' +
        '0 then establishes the session and 1 opens; 1003 again needs 1001 skipped keys: skip-limit; 1002 needs exactly 1000 (counters 2..1001 stored): it opens, and so do 1003, 2 and 1001 (stored keys); 1001 again is a duplicate',
      flags: ['SkipBeyondBounds', 'SkippedKeys', 'Duplicate'],
      inputs: inputs(d.B1, NOW, [s(1003), s(0), s(1), s(1003), s(1002), s(1003), s(2), s(1001), s(1001)]),
      expect: [error('skip-limit'), ok(body(0)), ok(body(1)), error('skip-limit'), ok(body(1002)), ok(body(1003)), ok(body(2)), ok(body(1001)), duplicate],
    },
  ];
}

/** 3. Re-deliveries of a used ratchet message with another payload. */
function replayAfterUse(r: Rng, d: Devices): OfflineCase[] {
  const a1 = party(d.A1, 'laptop');
  initiate(a1, d.B1, NOW - 3 * HOUR, drawInitiation(r));
  const body = (k: number) => `Replay test ${k + 1}.`;
  const [m1, m2, m3] = [0, 1, 2].map((k) => seal(r, a1, BOB, [d.B1], `replay-${k + 1}`, body(k), NOW - 3 * HOUR + k * MINUTE)) as [string, string, string];
  const m1x = tamperPayload(m1);
  const m2x = tamperPayload(m2);
  return [
    {
      comment:
        'ReplayAfterUse: A1 sends three messages to B1; the server (or an attacker) also delivers copies of 1 and 2 with one bit of the <payload/> changed (same handshake header, same ratchet message). ' +
        '1 opens. Tampered 2 before 2 was opened: the message key is available, but the wrapped key binds SHA-256(payload): authentication-failed, nothing changes. 2 then opens. ' +
        'Tampered 1 after 1 was opened: not a duplicate (the re-delivery differs), and the key of message 0 of the chain was used and deleted: message-key-unavailable (never opened twice). ' +
        'The original 1 again: duplicate. Tampered 2 again, now after use: message-key-unavailable. 3 opens',
      flags: ['ReplayAfterUse', 'TamperedPayload', 'Duplicate'],
      inputs: inputs(d.B1, NOW, [m1, m2x, m2, m1x, m1, m2x, m3]),
      expect: [ok(body(0)), error('authentication-failed'), ok(body(1)), error('message-key-unavailable'), duplicate, error('message-key-unavailable'), ok(body(2))],
    },
  ];
}

/**
 * 4. A1 and B1 start sessions with each other at once. Two cases, with B1's randomness drawn
 * until B1's session id is the larger (case a) and then the smaller (case b).
 */
function simultaneousInitiation(r: Rng, d: Devices): OfflineCase[] {
  const build = (receiverWins: boolean): OfflineCase => {
    const xa = drawInitiation(r);
    const sessionA = startSession(d.A1, d.B1, NOW - 2 * MINUTE, xa).ratchet.sessionId;
    let xb: Initiation;
    do xb = drawInitiation(r);
    while (compareBytes(startSession(d.B1, d.A1, NOW - 2 * MINUTE, xb).ratchet.sessionId, sessionA) < 0 !== receiverWins);
    const a1 = party(d.A1, 'laptop');
    const b1 = party(d.B1, 'phone');
    initiate(a1, d.B1, NOW - 2 * MINUTE, xa);
    const sessionB = initiate(b1, d.A1, NOW - 2 * MINUTE, xb);
    const body = (k: number) => `Simultaneous ${receiverWins ? 'b' : 'a'}: Alice ${k}.`;
    const a = (k: number, at: number) => seal(r, a1, BOB, [d.B1], `simultaneous-a${k}`, body(k), at);
    const s1 = a(1, NOW - 2 * MINUTE);
    const fromB = seal(r, b1, ALICE, [d.A1], 'simultaneous-b1', 'Bob speaks at the same time.', NOW - 2 * MINUTE + 5);
    const s2 = a(2, NOW - 100);
    open(a1, fromB, NOW - 90);
    const s3 = a(3, NOW - 60);
    const s4 = a(4, NOW - 30);
    const A = sessionA;
    const B = sessionB;
    const initiated = initiationInputs(d.A1, xb);
    const stanzas = [s2, s3, s1, s4, s1, s3];
    if (receiverWins) {
      return {
        comment:
          'SimultaneousInitiation (B1\'s session id is the smaller): B1 has started a session with A1 (initiated: from A1\'s bundle and these random values, unconfirmed; B1 sent one message on it) while A1 started one with B1. ' +
          'A1 sent 1 and 2 on its own session (header attached), then received B1\'s message: B1\'s session wins at A1 too, so A1 sent 3 and 4 on B1\'s session (as its responder, no header). ' +
          'B1 receives 2: A1\'s header establishes A1\'s session, kept as the other session (B1\'s own stays active, unconfirmed); 2 opens on it. 3 opens on B1\'s session and confirms it. ' +
          '1 (header already processed) opens on the other session from a stored key; 4 on the active one; 1 and 3 again are duplicates',
        flags: ['SimultaneousInitiation', 'Reordered', 'Duplicate'],
        inputs: inputs(d.B1, NOW, stanzas, [initiated]),
        expect: [
          ok(body(2), { session: B, otherSession: A, confirmed: false }),
          ok(body(3), { session: B, otherSession: A, confirmed: true }),
          ok(body(1), { session: B, otherSession: A, confirmed: true }),
          ok(body(4), { session: B, otherSession: A, confirmed: true }),
          duplicate,
          duplicate,
        ],
      };
    }
    return {
      comment:
        'SimultaneousInitiation (A1\'s session id is the smaller): B1 has started a session with A1 (initiated: from A1\'s bundle and these random values, unconfirmed; B1 sent one message on it) while A1 started one with B1. ' +
        'A1 keeps its own session active after receiving B1\'s message, so all four of its messages use it (header attached). ' +
        'B1 receives 2: A1\'s header establishes A1\'s session, which has the smaller id and becomes active (confirmed: B1 stops attaching its own header); B1\'s own session is kept as the other session, for receiving. ' +
        '3, 1 (stored key) and 4 open on the active session; 1 and 3 again are duplicates',
      flags: ['SimultaneousInitiation', 'Reordered', 'Duplicate'],
      inputs: inputs(d.B1, NOW, stanzas, [initiated]),
      expect: [
        ok(body(2), { session: A, otherSession: B, confirmed: true }),
        ok(body(3), { session: A, otherSession: B, confirmed: true }),
        ok(body(1), { session: A, otherSession: B, confirmed: true }),
        ok(body(4), { session: A, otherSession: B, confirmed: true }),
        duplicate,
        duplicate,
      ],
    };
  };
  return [build(false), build(true)];
}

/** 5. B2 appears after A1 and B1 have talked; it fetches the archive. */
function newDeviceJoins(r: Rng, d: Devices): OfflineCase[] {
  const a1 = party(d.A1, 'laptop');
  const b1 = party(d.B1, 'phone');
  const start = NOW - 20 * HOUR;
  initiate(a1, d.B1, start, drawInitiation(r));
  const m1 = seal(r, a1, BOB, [d.B1], 'join-a1', 'Before your tablet existed (1).', start);
  const m2 = seal(r, a1, BOB, [d.B1], 'join-a2', 'Before your tablet existed (2).', start + HOUR);
  open(b1, m1, start + 2 * HOUR);
  open(b1, m2, start + 2 * HOUR);
  const b1m = seal(r, b1, ALICE, [d.A1], 'join-b1', 'Bob\'s phone answers, before the tablet existed.', start + 2 * HOUR);
  open(a1, b1m, start + 3 * HOUR);
  // B2 is created two hours before NOW and publishes its bundle; A1 and B1 see it on Bob's device list.
  initiate(a1, d.B2, NOW - HOUR, drawInitiation(r));
  const m3 = seal(r, a1, BOB, [d.B1, d.B2], 'join-a3', 'Now for both of your devices.', NOW - HOUR);
  initiate(b1, d.B2, NOW - 50 * MINUTE, drawInitiationAvoiding(r, d.B1, d.B2, NOW - 50 * MINUTE, oneTimePrekeyOf(a1, d.B2)));
  const b2m = seal(r, b1, ALICE, [d.A1, d.B2], 'join-b2', 'Bob\'s phone, copied to the new tablet.', NOW - 50 * MINUTE);
  const m4 = seal(r, a1, BOB, [d.B1, d.B2], 'join-a4', 'Second message for both devices.', NOW - 30 * MINUTE);
  return [
    {
      comment:
        'NewDeviceJoins: A1 and B1 talk (two messages from A1, one answer from B1) before Bob\'s tablet B2 exists. B2 is created, publishes its bundle, and A1 and B1 (Bob\'s own other device) start sessions with it. ' +
        'B2 fetches the archive: the three earlier stanzas carry no key for B2 (not-for-this-device: their content keys were never wrapped for it, §offline.history); ' +
        'A1\'s next message and B1\'s next message (sent to alice@example.org, with a key for B2 as one of Bob\'s own devices) each establish a session and open, and so does A1\'s message after that (header still attached)',
      flags: ['NewDeviceJoins', 'NotForThisDevice'],
      inputs: inputs(d.B2, NOW, [m1, m2, b1m, m3, b2m, m4]),
      expect: [notForThisDevice, notForThisDevice, notForThisDevice, ok('Now for both of your devices.'), ok('Bob\'s phone, copied to the new tablet.'), ok('Second message for both devices.')],
    },
  ];
}

/** 6. B3 rotated its signed and KEM prekeys while a handshake to the old ones waited on the server. */
function prekeyRotationGrace(r: Rng, d: Devices): OfflineCase[] {
  const created = NOW - 10 * DAY;
  const a1 = party(d.A1, 'laptop');
  const a2 = party(d.A2, 'tablet');
  initiate(a1, d.B3, created + DAY, drawInitiation(r));
  const old1 = seal(r, a1, BOB, [d.B3], 'grace-1', 'Sent to your old prekeys (1).', created + DAY);
  const old2 = seal(r, a1, BOB, [d.B3], 'grace-2', 'Sent to your old prekeys (2).', created + DAY + 5 * MINUTE);
  // B3 comes back online an hour before NOW and rotates: its old keys (created ten days ago, expired at created + MAX_PREKEY_VALIDITY, almost three days ago) are kept until expires + PREKEY_GRACE_PERIOD.
  const rotated = rotatePrekeys(d.B3, NOW - HOUR, r);
  if (!rotated.changed || rotated.state.signedPrekeys.length !== 2 || rotated.state.kemPrekeys.length !== 2) throw new Error('offline vectors: B3 should hold its old and new prekeys');
  initiate(a2, rotated.state, NOW - 30 * MINUTE, drawInitiationAvoiding(r, d.A2, rotated.state, NOW - 30 * MINUTE, oneTimePrekeyOf(a1, d.B3)));
  const fresh = seal(r, a2, BOB, [d.B3], 'grace-3', 'Sent to your new prekeys.', NOW - 30 * MINUTE);
  // Had B3 stayed offline six more days: its rotation then deletes the old keys (past expires + PREKEY_GRACE_PERIOD, NOW + 4 days + 300 s).
  const late = NOW + 6 * DAY;
  const pruned = rotatePrekeys(d.B3, late - HOUR, r);
  if (pruned.state.signedPrekeys.length !== 1 || pruned.state.signedPrekeys[0]!.id === 1) throw new Error('offline vectors: the late rotation should have deleted the old prekeys');
  const withOld =
    'A1 started a session with Bob\'s tablet B3 from the bundle B3 published when it was created, ten days before now (signed prekey 1, KEM prekey 2, expires = created + MAX_PREKEY_VALIDITY = PREKEY_ROTATION_PERIOD + MAX_CLOCK_SKEW, 7 days and 300 s), and sent two messages while B3 was offline. ';
  const expires = created + IDENTITY_CONSTANTS.MAX_PREKEY_VALIDITY;
  const lastSecond = expires + HANDSHAKE_CONSTANTS.PREKEY_GRACE_PERIOD - 1;
  return [
    {
      comment:
        `PrekeyRotationGrace: ${withOld}B3 comes back ten days after its creation and rotates (rotatePrekeys): it holds the old prekeys, expired almost three days ago, and new ones (receiver). ` +
        'The handshake to the old prekeys is within PREKEY_GRACE_PERIOD of their expiry: 2 establishes the session and opens, 1 opens from a stored key; A2\'s handshake to the new prekeys opens too; 1 again is a duplicate',
      flags: ['PrekeyRotationGrace', 'Reordered', 'Duplicate'],
      inputs: inputs(rotated.state, NOW, [old2, old1, fresh, old1]),
      expect: [ok('Sent to your old prekeys (2).'), ok('Sent to your old prekeys (1).'), ok('Sent to your new prekeys.'), duplicate],
    },
    {
      comment:
        `PrekeyRotationGrace, last second: ${withOld}The rotated state (as in the first case) at expires + PREKEY_GRACE_PERIOD − 1: the handshake to the old prekeys still completes (handshake.prekey-grace); ` +
        'one second later it would fail (the next case shows the state then)',
      flags: ['PrekeyRotationGrace'],
      inputs: inputs(rotated.state, lastSecond, [old1, old2]),
      expect: [ok('Sent to your old prekeys (1).'), ok('Sent to your old prekeys (2).')],
    },
    {
      comment:
        `PrekeyRotationGrace, at the end of the grace period: ${withOld}The rotated state, still holding the old prekeys, at exactly expires + PREKEY_GRACE_PERIOD (the second at which offline.prekey-lifetime deletes them): expired-prekey`,
      flags: ['PrekeyRotationGrace', 'ExpiredPrekey'],
      inputs: inputs(rotated.state, lastSecond + 1, [old1]),
      expect: [error('expired-prekey')],
    },
    {
      comment:
        `PrekeyRotationGrace, too late: ${withOld}B3 stays offline six days longer, past the old prekeys' expiry plus PREKEY_GRACE_PERIOD; its rotation then deletes them (receiver: the pruned state, now six days after NOW). ` +
        'Both messages name a signed prekey B3 no longer holds: unknown-prekey (B3 repairs: it starts a new session with A1)',
      flags: ['PrekeyRotationGrace', 'UnknownPrekey'],
      inputs: inputs(pruned.state, late, [old2, old1]),
      expect: [error('unknown-prekey'), error('unknown-prekey')],
    },
    {
      comment:
        `PrekeyRotationGrace, not deleted: ${withOld}As before, six days after NOW, but from a state that still holds the old prekeys (a device that failed to delete them): ` +
        'a handshake past expiry plus PREKEY_GRACE_PERIOD is rejected all the same: expired-prekey',
      flags: ['PrekeyRotationGrace', 'ExpiredPrekey'],
      inputs: inputs(rotated.state, late, [old2, old1]),
      expect: [error('expired-prekey'), error('expired-prekey')],
    },
  ];
}

/** Every case of the file, with the randomness drawn in this order: devices, scenarios 1 to 6, the malformed delivery. */
export function offlineCases(): OfflineCase[] {
  const r = seededRng('vectors/offline.json');
  const d = devices(r);
  return [...offlineBacklog(r, d), ...skipBeyondBounds(r, d), ...replayAfterUse(r, d), ...simultaneousInitiation(r, d), ...newDeviceJoins(r, d), ...prekeyRotationGrace(r, d), ...malformed(r, d)];
}
