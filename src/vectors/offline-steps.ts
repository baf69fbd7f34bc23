/**
 * The ReceiverSteps cases of `vectors/offline.json`: where other implementations go wrong. Skipped
 * keys across two chains of one session (MAX_SKIP per chain, not per message, with the deferred
 * half of the DH ratchet step), eviction beyond MAX_SKIPPED_KEYS and expiry after
 * SKIPPED_KEY_MAX_AGE, key-only messages (a confirmation, a repair that carries a handshake
 * header, a payload grafted on or stripped off), and the receive limits of a `<sealed/>`
 * element. The sending side is simulated at case-building time with randomness drawn in a fixed
 * order from `seededRng('vectors/offline.json receiver steps')`.
 *
 * @see spec §offline
 * @see spec §envelope.limits
 * @module
 */
import { encodeBase64 } from '../codec/base64.js';
import { toHex } from '../codec/bytes.js';
import { concatBytes, utf8Encode } from '../codec/bytes.js';
import { ENVELOPE_CONSTANTS, ENVELOPE_LABELS, type PeerSession, keyCommitment, payloadKey, ratchetEncrypt, sealKeyOnly, sessionKey } from '../envelope/index.js';
import { headerToAttach } from '../handshake/index.js';
import { type DeviceState, createDeviceState } from '../identity/index.js';
import { type Rng, SEAL_NS, SymmetricKey, aeadSeal, labeledContent, seededRng, sha256 } from '../suite/index.js';
import { type Element, SealedElement, encodeWrappedKey, parseXml, xml } from '../wire/index.js';
import { ALICE, BOB, NOW, scriptedRng, stateToInputs } from './envelope-common.js';
import type { Fields } from './kind.js';
import { type Expect, type OfflineCase, type Party, drawInitiation, drawInitiationAvoiding, duplicate, error, initiate, initiationInputs, ok, oneTimePrekeyOf, open, party, seal } from './offline-scenarios.js';

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;
const { MAX_SKIP, MAX_SKIPPED_KEYS, SKIPPED_KEY_MAX_AGE, MAX_RECIPIENTS, MAX_CONTENT_BYTES } = ENVELOPE_CONSTANTS;

type StepIn = { at: number; stanza: string } | { at: number; send: { peer: string; peerDeviceId: number; ratchetSecretKey?: string } };

const deliver = (at: number, stanza: string): StepIn => ({ at, stanza });
const sent = (key: string): Expect => ({ sent: key });

/** The inputs of a case: the receiver's fresh state, the sessions it started, and the steps. */
function inputs(receiver: DeviceState, now: number, steps: readonly StepIn[], initiated: readonly Fields[] = []): Fields {
  return { receiver: stateToInputs(receiver), log: [], initiated: [...initiated], now, steps: [...steps] };
}

/** `p` sends `count` messages to `to` that are lost (only the ratchet steps matter; a new sending chain draws its ratchet key from `r`). */
function lose(p: Party, to: DeviceState, count: number, r: Rng): void {
  const key = sessionKey(to.jid, to.deviceId);
  for (let n = 0; n < count; n++) {
    const session = p.sessions.get(key)!;
    const step = ratchetEncrypt(session.ratchet, new Uint8Array(32), new Uint8Array(0), r);
    p.sessions = new Map(p.sessions).set(key, { ...session, ratchet: step.state });
  }
}

/** `p` sends a key-only message to `to` (drawing from `rng` if its session needs a new ratchet key). */
function keyOnly(p: Party, to: DeviceState, rng: Rng, now: number): { text: string; key: string } {
  const out = sealKeyOnly({ to: to.jid, from: p.full, id: `key-only-${now}`, senderDeviceId: p.state.deviceId, recipients: [{ jid: to.jid, deviceId: to.deviceId }], sessions: p.sessions, rng, now });
  p.sessions = out.sessions;
  const sealed = SealedElement.fromXml(out.stanza.getChild('sealed', SEAL_NS) as Element);
  return { text: out.stanza.toString(), key: encodeBase64(sealed.recipients[0]!.keys[0]!.data) };
}

const sessionIdOf = (p: Party, to: DeviceState): Uint8Array => (p.sessions.get(sessionKey(to.jid, to.deviceId)) as PeerSession).ratchet.sessionId;

/** The devices of this group, drawn first: A1 and B1 created a day before NOW; A2 and B2 thirty-three and thirty-two days before. */
function devices(r: Rng) {
  const A1 = createDeviceState({ jid: ALICE, now: NOW - DAY, rng: r, oneTimePrekeys: 3 });
  const B1 = createDeviceState({ jid: BOB, now: NOW - DAY, rng: r, oneTimePrekeys: 3 });
  const A2 = createDeviceState({ jid: ALICE, now: NOW - 33 * DAY, rng: r, oneTimePrekeys: 3, takenDeviceIds: [A1.deviceId] });
  const B2 = createDeviceState({ jid: BOB, now: NOW - 32 * DAY, rng: r, oneTimePrekeys: 3, takenDeviceIds: [B1.deviceId] });
  return { A1, B1, A2, B2 };
}
type Devices = ReturnType<typeof devices>;

/** 1. Two chains of one session: MAX_SKIP per chain, the deferred sending step, eviction beyond MAX_SKIPPED_KEYS. */
function twoChains(r: Rng, d: Devices): OfflineCase[] {
  const t = NOW - 2 * HOUR;
  const a1 = party(d.A1, 'laptop');
  const b1 = party(d.B1, 'phone');
  initiate(a1, d.B1, t, drawInitiation(r));
  const c1 = new Map<number, string>();
  const body1 = (n: number) => `Chain 1, message ${n}.`;
  const sealOne = (n: number, body: string) => seal(r, a1, BOB, [d.B1], `chain-${n}`, body, t + MINUTE);
  // Chain 1: A1's first sending chain, counters 0..1001 (1002 messages, all with the handshake header).
  for (let n = 0; n <= 1001; n++) {
    if ([0, 1, 2, 4, 1001].includes(n)) c1.set(n, sealOne(n, body1(n)));
    else lose(a1, d.B1, 1, r);
  }
  // B1 opens 0 and 1, then sends a key-only message: the deferred half of its DH ratchet step.
  open(b1, c1.get(0)!, t + 10 * MINUTE);
  open(b1, c1.get(1)!, t + 10 * MINUTE);
  const ratchetSecretKey = r(32);
  const reply = keyOnly(b1, d.A1, scriptedRng([ratchetSecretKey]), t + 20 * MINUTE);
  open(a1, reply.text, t + 30 * MINUTE);
  // Chain 2: A1's new sending chain after B1's key (previous_count 1002), counters 0..1003, no header.
  const c2 = new Map<number, string>();
  const body2 = (n: number) => `Chain 2, message ${n}.`;
  for (let n = 0; n <= 1003; n++) {
    if ([5, 1000, 1001, 1003].includes(n)) c2.set(n, seal(r, a1, BOB, [d.B1], `chain2-${n}`, body2(n), t + 40 * MINUTE));
    else lose(a1, d.B1, 1, r);
  }
  const x = (n: number) => c1.get(n)!;
  const y = (n: number) => c2.get(n)!;
  const at = NOW - HOUR;
  const steps: StepIn[] = [
    deliver(at, x(0)),
    deliver(at, y(5)),
    deliver(at, x(1)),
    deliver(at, y(5)),
    { at, send: { peer: ALICE, peerDeviceId: d.A1.deviceId, ratchetSecretKey: toHex(ratchetSecretKey) } },
    deliver(at, y(1001)),
    deliver(at, y(1000)),
    deliver(at, y(1003)),
    deliver(at, x(2)),
    deliver(at, x(4)),
    deliver(at, y(5)),
    deliver(at, x(1001)),
    deliver(at, y(1001)),
    deliver(at, y(1000)),
  ];
  if (MAX_SKIP !== 1000 || MAX_SKIPPED_KEYS !== 2000) throw new Error('offline vectors: the TwoChains case is built for MAX_SKIP 1000 and MAX_SKIPPED_KEYS 2000');
  return [
    {
      comment:
        'TwoChains: A1 starts a session with B1 and sends 1002 messages on its first chain (counters 0..1001, header attached); B1 opens 0 and 1 and sends a key-only message (its new ratchet key is ratchetSecretKey); A1 opens it and sends 1004 messages on its second chain (counters 0..1003, previous_count 1002, no header). ' +
        'The server delivers: chain 1 #0 (establishes the session). Chain 2 #5 before B1 has sent: its header names a new ratchet key, and the chain that ends would need 1002 − 1 = 1001 skipped keys: skip-limit (each chain is checked against MAX_SKIP before anything is derived). ' +
        'Chain 1 #1. Chain 2 #5 again: both checks pass (1000 keys of chain 1, 5 of chain 2), but B1 has not sent since its ratchet step, so no honest peer could have answered it: authentication-failed, refused before deriving any key (envelope.forgery-cost). ' +
        'B1 sends its key-only message (the deferred half of the DH ratchet step: new ratchet key, KDF_RK, previous_count 0): result sent with its key element. ' +
        'Chain 2 #1001: 1000 keys of chain 1 are within MAX_SKIP, 1001 of chain 2 are not: skip-limit. Chain 2 #1000: 1000 + 1000 keys, each chain within MAX_SKIP (the bound is per chain, not per message): it opens, and the session now stores exactly MAX_SKIPPED_KEYS (2000) skipped keys. ' +
        'Chain 2 #1003 needs two more skipped keys (#1001 and #1002), so the two oldest stored keys (chain 1 #2 and #3) are evicted (MAX_SKIPPED_KEYS, oldest first): it opens. Chain 1 #2: message-key-unavailable (evicted). Chain 1 #4, chain 2 #5, chain 1 #1001 and chain 2 #1001 open from stored keys; chain 2 #1000 again is a duplicate',
      flags: ['TwoChains', 'SkipBeyondBounds', 'SkippedKeyEviction', 'DeferredRatchetStep', 'KeyOnly'],
      inputs: inputs(d.B1, NOW, steps),
      expect: [
        ok(body1(0)),
        error('skip-limit'),
        ok(body1(1)),
        error('authentication-failed'),
        sent(reply.key),
        error('skip-limit'),
        ok(body2(1000)),
        ok(body2(1003)),
        error('message-key-unavailable'),
        ok(body1(4)),
        ok(body2(5)),
        ok(body1(1001)),
        ok(body2(1001)),
        duplicate,
      ],
    },
  ];
}

/** 2. Skipped keys expire SKIPPED_KEY_MAX_AGE after they were stored. */
function skippedKeyExpiry(r: Rng, d: Devices): OfflineCase[] {
  const t = NOW - 32 * DAY + HOUR;
  const a2 = party(d.A2, 'desktop');
  initiate(a2, d.B2, t, drawInitiation(r));
  const body = (k: number) => `Expiry test ${k}.`;
  const m = [0, 1, 2, 3, 4].map((k) => seal(r, a2, BOB, [d.B2], `expiry-${k}`, body(k), t + k * MINUTE));
  const stored = t + HOUR;
  const steps: StepIn[] = [
    deliver(stored, m[3]!),
    deliver(stored + SKIPPED_KEY_MAX_AGE - 1, m[0]!),
    deliver(stored + SKIPPED_KEY_MAX_AGE, m[1]!),
    deliver(stored + SKIPPED_KEY_MAX_AGE, m[2]!),
    deliver(stored + SKIPPED_KEY_MAX_AGE, m[4]!),
    deliver(stored + SKIPPED_KEY_MAX_AGE, m[0]!),
  ];
  return [
    {
      comment:
        'SkippedKeyExpiry: A2 starts a session with B2 and sends messages 0..4 (header attached). B2 opens 3 first (at), which stores the keys of 0, 1 and 2 with that time. ' +
        '0 opens one second before SKIPPED_KEY_MAX_AGE (30 days) has passed; at exactly SKIPPED_KEY_MAX_AGE the keys of 1 and 2 are gone: message-key-unavailable (never a repair: a late message and a replay look the same). ' +
        '4, the chain\'s next key, opens; 0 again is a duplicate. The handshake header on each later message is already in the log (a duplicate header), so the prekeys\' expiry plays no part',
      flags: ['SkippedKeyExpiry', 'Reordered', 'Duplicate'],
      inputs: inputs(d.B2, stored, steps),
      expect: [ok(body(3)), ok(body(0)), error('message-key-unavailable'), error('message-key-unavailable'), ok(body(4)), duplicate],
    },
  ];
}

/** The stanza with its `<payload/>` removed, or with `payload` (another stanza's) added. */
function withPayload(text: string, from?: string): string {
  const message = parseXml(text);
  const sealed = message.getChild('sealed', SEAL_NS) as Element;
  sealed.children = sealed.children.filter((c) => typeof c === 'string' || c.getName() !== 'payload');
  if (from !== undefined) sealed.children.push((parseXml(from).getChild('sealed', SEAL_NS) as Element).getChild('payload', SEAL_NS) as Element);
  return message.toString();
}

/** 3. A key-only confirmation of the receiver's own handshake, and payloads grafted on and stripped off. */
function keyOnlyConfirmation(r: Rng, d: Devices): OfflineCase[] {
  const t = NOW - HOUR;
  const xb = drawInitiation(r);
  const b1 = party(d.B1, 'phone');
  const a1 = party(d.A1, 'laptop');
  initiate(b1, d.A1, t, xb);
  const fromB = seal(r, b1, ALICE, [d.A1], 'confirm-b1', 'Bob starts.', t);
  open(a1, fromB, t + 5 * MINUTE);
  const confirmation = keyOnly(a1, d.B1, r, t + 5 * MINUTE);
  const m1 = seal(r, a1, BOB, [d.B1], 'confirm-a1', 'Alice, after confirming.', t + 10 * MINUTE);
  const B = sessionIdOf(b1, d.A1);
  const initiated = initiationInputs(d.A1, xb);
  const steps: StepIn[] = [deliver(NOW, withPayload(confirmation.text, m1)), deliver(NOW, withPayload(m1)), deliver(NOW, confirmation.text), deliver(NOW, confirmation.text), deliver(NOW, m1)];
  return [
    {
      comment:
        'KeyOnlyConfirmation: B1 started a session with A1 (initiated; B1 sent one message on it, which A1 opened). A1 answers with a key-only message (no <payload/>, 32 zero bytes wrapped under the key-only context), then sends a message. ' +
        'The key-only message with the message\'s <payload/> grafted on: the wrap is then opened under the message context (commitment and payload hash) and fails: authentication-failed. The message with its <payload/> stripped: opened under the key-only context, it fails too (its content cannot be lost silently). ' +
        'The key-only message opens: keyOnly, no body, time = at; it confirms B1\'s session (confirmed: B1 stops attaching its header). Again: duplicate. The message opens',
      flags: ['KeyOnly', 'KeyOnlyConfirmation', 'TamperedPayload', 'Duplicate'],
      inputs: inputs(d.B1, NOW, steps, [initiated]),
      expect: [
        error('authentication-failed'),
        error('authentication-failed'),
        ok('', { keyOnly: true, session: B, confirmed: true }),
        duplicate,
        ok('Alice, after confirming.', { session: B, confirmed: true }),
      ],
    },
  ];
}

/** 4. A repair announced by a key-only message that carries the new handshake header. */
function repairAnnounced(r: Rng, d: Devices): OfflineCase[] {
  const t = NOW - 3 * HOUR;
  const a1 = party(d.A1, 'laptop');
  initiate(a1, d.B1, t, drawInitiation(r));
  const S1 = sessionIdOf(a1, d.B1);
  const m1 = seal(r, a1, BOB, [d.B1], 'repair-1', 'Before the repair (1).', t);
  const m2 = seal(r, a1, BOB, [d.B1], 'repair-2', 'Before the repair (2), delivered late.', t + MINUTE);
  // A1 repairs (say, a message of B1 failed at A1): a new asynchronous session, announced at once.
  const t2 = NOW - 2 * HOUR;
  initiate(a1, d.B1, t2, drawInitiationAvoiding(r, d.A1, d.B1, t2, oneTimePrekeyOf(a1, d.B1)));
  const S2 = sessionIdOf(a1, d.B1);
  const announce = keyOnly(a1, d.B1, r, t2);
  const m3 = seal(r, a1, BOB, [d.B1], 'repair-3', 'After the repair.', t2 + MINUTE);
  const steps: StepIn[] = [deliver(NOW, m1), deliver(NOW, announce.text), deliver(NOW, m2), deliver(NOW, m3), deliver(NOW, announce.text)];
  return [
    {
      comment:
        'RepairAnnounced: A1 starts a session with B1 and sends 1 and 2; then A1 repairs: it starts a new asynchronous session with B1 (another one-time prekey) and announces it at once with a key-only message that carries the new handshake header (offline.repair-reset), then sends 3 on it. ' +
        'B1 opens 1 (first session, active). The key-only message: its header establishes the new session, which replaces the active one (a handshake from a device with which a confirmed session exists); the first is kept as the other session, for receiving. ' +
        '2, late, opens on the other session (its header was already processed); the active session stays the new one. 3 opens on the new session. The key-only message again: duplicate',
      flags: ['Repair', 'KeyOnly', 'PreviousSession', 'Duplicate'],
      inputs: inputs(d.B1, NOW, steps),
      expect: [
        ok('Before the repair (1).', { session: S1, otherSession: null }),
        ok('', { keyOnly: true, session: S2, otherSession: S1 }),
        ok('Before the repair (2), delivered late.', { session: S2, otherSession: S1 }),
        ok('After the repair.', { session: S2, otherSession: S1 }),
        duplicate,
      ],
    },
  ];
}

/** The stanza with `count` more key elements for devices of carol@example.com, the first `size` bytes long (88 otherwise). */
function withExtraKeys(text: string, count: number, size = 88): string {
  const message = parseXml(text);
  const sealed = message.getChild('sealed', SEAL_NS) as Element;
  const keys = Array.from({ length: count }, (_, n) => xml('key', { rid: String(1000 + n) }, [encodeBase64(new Uint8Array(n === 0 ? size : 88).fill(0x5a))]));
  const at = sealed.children.findIndex((c) => typeof c !== 'string' && c.getName() === 'payload');
  sealed.children.splice(at < 0 ? sealed.children.length : at, 0, xml('keys', { jid: 'carol@example.com' }, keys));
  return message.toString();
}

/** The stanza with a `<payload/>` of `size` bytes (the commitment kept). */
function withPayloadOf(text: string, size: number): string {
  const message = parseXml(text);
  const payload = (message.getChild('sealed', SEAL_NS) as Element).getChild('payload', SEAL_NS) as Element;
  payload.children.length = 0;
  payload.t(encodeBase64(new Uint8Array(size).fill(0xa5)));
  return message.toString();
}

/** 5. The receive limits of a `<sealed/>` element, checked before any key is used. */
function receiveLimits(r: Rng, d: Devices): OfflineCase[] {
  const t = NOW - HOUR;
  const a1 = party(d.A1, 'laptop');
  initiate(a1, d.B1, t, drawInitiation(r));
  const m1 = seal(r, a1, BOB, [d.B1], 'limits-1', 'Within every limit (1).', t);
  const m2 = seal(r, a1, BOB, [d.B1], 'limits-2', 'Within every limit (2).', t + MINUTE);
  const steps: StepIn[] = [
    deliver(NOW, withExtraKeys(m1, MAX_RECIPIENTS)),
    deliver(NOW, withExtraKeys(m1, 1, 1382)),
    deliver(NOW, withExtraKeys(m1, MAX_RECIPIENTS, 1382)),
    deliver(NOW, withPayloadOf(m1, 67_601)),
    deliver(NOW, withExtraKeys(m1, MAX_RECIPIENTS - 1)),
    deliver(NOW, withExtraKeys(m2, 1, 1381)),
  ];
  return [
    {
      comment:
        'ReceiveLimits (envelope.receive-limits): A1 sends two messages to B1; the server adds key elements for devices of carol@example.com (88 bytes each unless stated) or enlarges the payload. ' +
        '1 with 256 more keys (257 in all, more than MAX_RECIPIENTS): length-out-of-range. 1 with one more key of 1 382 bytes (one more than a KeyExchangeMessage with a one-time prekey): too-large. ' +
        '1 with 256 more keys, the first of 1 382 bytes: length-out-of-range (the count is checked before any key element is read). 1 with a payload of 67 601 bytes (Padmé(MAX_CONTENT_BYTES + 14) + 16 + 1): too-large. ' +
        'None of these changed anything: 1 with 255 more keys (256, exactly MAX_RECIPIENTS) opens, and 2 with one more key of exactly 1 381 bytes opens',
      flags: ['ReceiveLimits', 'TooManyKeys', 'TooLarge'],
      inputs: inputs(d.B1, NOW, steps),
      expect: [error('length-out-of-range'), error('too-large'), error('length-out-of-range'), error('too-large'), ok('Within every limit (1).'), ok('Within every limit (2).')],
    },
  ];
}

/**
 * A message from `p` whose plaintext is written by hand (a sender cannot make one with sealStanza):
 * a `<body/>` sized so that the envelope without `<rpad/>` (its one padding character and 13
 * bytes of tags) is `unpadded` bytes, sealed and wrapped exactly as sealStanza does.
 */
function handWritten(r: Rng, p: Party, to: DeviceState, id: string, unpadded: number, at: number): { text: string; body: string } {
  const stamp = new Date(at * 1000).toISOString().replace('.000Z', 'Z');
  const head = '<envelope xmlns="urn:xmpp:sce:1"><content><body xmlns="jabber:client">';
  const tail = `</body></content><rpad>x</rpad><time stamp="${stamp}"/><to jid="${to.jid}"/><from jid="${p.state.jid}"/></envelope>`;
  const body = 'A'.repeat(unpadded - (head.length + tail.length - 14));
  const plaintext = utf8Encode(head + body + tail);
  if (plaintext.length - 14 !== unpadded) throw new Error('offline vectors: hand-written content of the wrong length');
  const contentKey = new SymmetricKey(r(32));
  const commitment = keyCommitment(contentKey);
  const payload = aeadSeal(payloadKey(contentKey), new Uint8Array(12), plaintext, labeledContent(ENVELOPE_LABELS.payload, commitment));
  const key = sessionKey(to.jid, to.deviceId);
  const session = p.sessions.get(key)!;
  const wrapped = ratchetEncrypt(session.ratchet, contentKey.dangerouslyExposeBytes(), concatBytes(commitment, sha256(payload)), r);
  const handshake = headerToAttach(session.confirmation);
  p.sessions = new Map(p.sessions).set(key, { ...session, ratchet: wrapped.state });
  const data = encodeWrappedKey({ handshake, header: wrapped.header, ciphertext: wrapped.ciphertext });
  const sealed = SealedElement.toXml({ sid: p.state.deviceId, recipients: [{ jid: to.jid, keys: [{ rid: to.deviceId, handshake: handshake !== undefined, data }] }], commitment, payload });
  return { text: xml('message', { to: to.jid, from: p.full, type: 'chat', id }, [sealed, xml('store', { xmlns: 'urn:xmpp:hints' })]).toString(), body };
}

/** 6. The receive limit on decrypted content: at most MAX_CONTENT_BYTES without the padding. */
function contentLimit(r: Rng, d: Devices): OfflineCase[] {
  const t = NOW - HOUR;
  const a1 = party(d.A1, 'laptop');
  initiate(a1, d.B1, t, drawInitiation(r));
  const over = handWritten(r, a1, d.B1, 'content-1', MAX_CONTENT_BYTES + 1, t);
  const limit = handWritten(r, a1, d.B1, 'content-2', MAX_CONTENT_BYTES, t + MINUTE);
  return [
    {
      comment:
        'ContentLimit (envelope.receive-limits): two messages from A1 whose plaintexts were written by hand (sealStanza refuses them), each with one padding character, so the payload (at most 67 600 bytes) passes the checks made while reading. ' +
        'The first envelope is MAX_CONTENT_BYTES + 1 = 65 537 bytes without <rpad>x</rpad> (the plaintext length less the text of <rpad/> and the 13 bytes of its tags): too-large after decryption, and nothing changes. ' +
        'The second is exactly MAX_CONTENT_BYTES without its padding: it opens (its key is the chain\'s next but one: the first message\'s key is stored as skipped)',
      flags: ['ReceiveLimits', 'TooLarge', 'ContentLimit'],
      inputs: inputs(d.B1, NOW, [deliver(NOW, over.text), deliver(NOW, limit.text)]),
      expect: [error('too-large'), ok(limit.body)],
    },
  ];
}

/** Every ReceiverSteps case, with the randomness drawn in this order: devices, scenarios 1 to 6. */
export function receiverStepCases(): OfflineCase[] {
  const r = seededRng('vectors/offline.json receiver steps');
  const d = devices(r);
  return [...twoChains(r, d), ...skippedKeyExpiry(r, d), ...keyOnlyConfirmation(r, d), ...repairAnnounced(r, d), ...receiveLimits(r, d), ...contentLimit(r, d)];
}
