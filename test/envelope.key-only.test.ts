/**
 * §envelope.key-only: key-only messages (a `<sealed/>` without `<payload/>`) confirm sessions,
 * establish them from a handshake header and advance the ratchet like any message, deliver no
 * content, and cannot be turned into messages with content or back; a failed open changes
 * nothing. Also the `<sealed/>` element with and without `<payload/>`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/codec/bytes.js';
import { ENVELOPE_LABELS, type PeerSession, openStanza, ratchetEncrypt, sealKeyOnly, sealStanza, sessionKey, startRatchet } from '../src/envelope/index.js';
import { type HandshakeLog, initiateAsync } from '../src/handshake/index.js';
import { type DeviceState, bundleOf, createDeviceState, dangerouslyExportDeviceState, verifyBundle } from '../src/identity/index.js';
import { deviceId } from '../src/identity/device.js';
import { labeledContent, seededRng } from '../src/suite/index.js';
import { Element, SealedElement, type SealedValue, decodeWrappedKey, encodeWrappedKey, parseXml, xml } from '../src/wire/index.js';
import { codeOf } from './support/errors.js';
import { fcParams } from './support/property.js';

const NOW = 1795683600;
const SEAL_NS = 'urn:xmpp:seal:0';

interface Device {
  state: DeviceState;
  log: HandshakeLog;
  sessions: Map<string, PeerSession>;
}

function device(jid: string, seed: string): Device {
  return { state: createDeviceState({ jid, now: NOW, rng: seededRng(seed), oneTimePrekeys: 3 }), log: [], sessions: new Map() };
}

/** `from` starts an asynchronous session with `to` (as the initiator). */
function connect(from: Device, to: Device, seed: string): void {
  const started = initiateAsync({ self: from.state, peer: verifyBundle(bundleOf(to.state), { jid: to.state.jid, deviceId: to.state.deviceId, now: NOW }), rng: seededRng(seed) });
  from.sessions.set(sessionKey(to.state.jid, to.state.deviceId), { ratchet: startRatchet(started.session, seededRng(`${seed} ratchet`)), confirmation: { state: 'unconfirmed', header: started.header } });
}

const address = (d: Device) => ({ jid: d.state.jid, deviceId: d.state.deviceId });

function sendText(sender: Device, recipients: Device[], text: string): string {
  const sealed = sealStanza({
    to: recipients[0]!.state.jid, from: `${sender.state.jid}/res`, senderDeviceId: sender.state.deviceId,
    content: [xml('body', {}, [text])], recipients: recipients.map(address), sessions: sender.sessions, rng: seededRng(text), now: NOW,
  });
  sender.sessions = sealed.sessions;
  return sealed.stanza.toString();
}

function sendKeyOnly(sender: Device, recipients: Device[], seed = 'key only'): string {
  const sealed = sealKeyOnly({ to: recipients[0]!.state.jid, from: sender.state.jid, id: 'k', senderDeviceId: sender.state.deviceId, recipients: recipients.map(address), sessions: sender.sessions, rng: seededRng(seed), now: NOW });
  sender.sessions = sealed.sessions;
  return sealed.stanza.toString();
}

function receive(receiver: Device, stanza: string, now = NOW + 5) {
  const result = openStanza({ stanza: parseXml(stanza), self: receiver.state, log: receiver.log, sessions: receiver.sessions, now });
  if (result.kind === 'ok') {
    receiver.sessions = result.sessions;
    receiver.state = result.state;
    receiver.log = result.log;
  }
  return result;
}

/** What an open gave: `key-only`, the body, `duplicate`, `not-for-this-device`, or the error code. */
function outcome(result: ReturnType<typeof receive>): string {
  if (result.kind === 'ok') return result.keyOnly ? 'key-only' : result.content[0]!.getText();
  return result.kind === 'error' ? result.error.code : result.kind;
}

/** Every byte a device keeps, secrets included, for "state unchanged" checks. */
function snapshot(d: Device): string {
  const plain = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return toHex(v);
    if (v !== null && typeof v === 'object' && typeof (v as { dangerouslyExposeBytes?: unknown }).dangerouslyExposeBytes === 'function') return toHex((v as { dangerouslyExposeBytes(): Uint8Array }).dangerouslyExposeBytes());
    if (v instanceof Map) return [...v].map(([k, x]) => [k, plain(x)]);
    if (Array.isArray(v)) return v.map(plain);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, plain((v as Record<string, unknown>)[k])]));
    return v;
  };
  return JSON.stringify([dangerouslyExportDeviceState(d.state), d.log, plain(d.sessions)]);
}

const sealedOf = (stanza: string): SealedValue => SealedElement.fromXml(parseXml(stanza).getChild('sealed', SEAL_NS)!);

/** The stanza with its `<sealed/>` replaced by `value`'s element (or by `element` as given). */
function withSealed(stanza: string, replacement: SealedValue | Element): string {
  const message = parseXml(stanza);
  const element = replacement instanceof Element ? replacement : SealedElement.toXml(replacement);
  message.children = message.children.map((c: unknown) => (c instanceof Element && c.getName() === 'sealed' ? element : c)) as never;
  return message.toString();
}

/** Alice's device a1 with a session to Bob's b1 that b1 has already accepted (it opened a message). */
function pair() {
  const a1 = device('alice@example.org', 'a1');
  const b1 = device('bob@example.net', 'b1');
  connect(a1, b1, 'a1-b1');
  expect(outcome(receive(b1, sendText(a1, [b1], 'hello')))).toBe('hello');
  return { a1, b1 };
}

describe('§envelope.key-only', () => {
  it('is a chat message with the storage hint, a <sealed/> without <payload/>, no body and no marker', () => {
    // @req envelope.key-only-stanza
    const { a1, b1 } = pair();
    const stanza = parseXml(sendKeyOnly(b1, [a1]));
    expect(stanza.attrs.type).toBe('chat');
    expect(stanza.attrs.id).toBe('k');
    expect(stanza.getChild('store', 'urn:xmpp:hints')).toBeDefined();
    expect(stanza.getChild('body')).toBeUndefined();
    expect(stanza.getChild('encryption', 'urn:xmpp:eme:0')).toBeUndefined();
    const sealed = stanza.getChild('sealed', SEAL_NS)!;
    expect(sealed.getChild('payload')).toBeUndefined();
    const value = SealedElement.fromXml(sealed);
    expect(value.payload).toBeUndefined();
    expect(value.commitment).toBeUndefined();
    // The responder's session is confirmed: no header, and the key element is the 88-byte RatchetMessage.
    const key = value.recipients[0]!.keys[0]!;
    expect([value.recipients[0]!.jid, key.rid, key.handshake, key.data.length]).toEqual([a1.state.jid, a1.state.deviceId, false, 88]);
  });

  it('wraps 32 zero bytes under LabeledContent("Seal-v0 key only", "") and opens with no content at the receiver\'s time', () => {
    // @req envelope.key-only
    // @req envelope.key-only-open
    const { a1, b1 } = pair();
    const before = b1.sessions.get(sessionKey(a1.state.jid, a1.state.deviceId))!;
    const stanza = sendKeyOnly(b1, [a1]);
    // The key element by its formula: RatchetEncrypt(session, 0^32, context = LabeledContent("Seal-v0 key only", "")).
    const expected = ratchetEncrypt(before.ratchet, new Uint8Array(32), labeledContent('key only', new Uint8Array(0)), seededRng('key only'));
    expect(ENVELOPE_LABELS.keyOnly).toBe('key only');
    expect(toHex(sealedOf(stanza).recipients[0]!.keys[0]!.data)).toBe(toHex(encodeWrappedKey({ handshake: undefined, header: expected.header, ciphertext: expected.ciphertext })));
    const result = receive(a1, stanza, NOW + 77);
    expect(result.kind).toBe('ok');
    if (result.kind !== 'ok') return;
    expect(result.keyOnly).toBe(true);
    expect(result.content).toEqual([]);
    expect(result.time).toBe(NOW + 77);
    expect(result.sender).toEqual({ jid: b1.state.jid, deviceId: b1.state.deviceId });
    // A message with content says so too.
    const text = receive(b1, sendText(a1, [b1], 'after'));
    expect(text.kind === 'ok' && !text.keyOnly && text.content[0]!.getText()).toBe('after');
  });

  it('a key-only reply confirms the initiator\'s session: its next message carries no handshake header', () => {
    // @req envelope.key-only-open
    const { a1, b1 } = pair();
    expect(a1.sessions.get(sessionKey(b1.state.jid, b1.state.deviceId))!.confirmation.state).toBe('unconfirmed');
    expect(sealedOf(sendText(a1, [b1], 'still unconfirmed')).recipients[0]!.keys[0]!.handshake).toBe(true);
    expect(outcome(receive(a1, sendKeyOnly(b1, [a1])))).toBe('key-only');
    expect(a1.sessions.get(sessionKey(b1.state.jid, b1.state.deviceId))!.confirmation.state).toBe('confirmed');
    const next = sendText(a1, [b1], 'confirmed');
    expect(sealedOf(next).recipients[0]!.keys[0]!.handshake).toBe(false);
    // b1 missed "still unconfirmed": it opens late from a skipped key, then the confirmed one.
    expect(outcome(receive(b1, next))).toBe('confirmed');
  });

  it('a key-only message with a handshake header establishes the session at the responder', () => {
    // @req envelope.key-only
    // @req envelope.key-only-open
    const a1 = device('alice@example.org', 'a1');
    const b1 = device('bob@example.net', 'b1');
    connect(a1, b1, 'a1-b1');
    // A repair: a1 announces its new session with a key-only message, which carries the header.
    const stanza = sendKeyOnly(a1, [b1]);
    const key = sealedOf(stanza).recipients[0]!.keys[0]!;
    expect(key.handshake).toBe(true);
    expect(decodeWrappedKey(key.data, true).handshake).toBeDefined();
    const prekeys = b1.state.oneTimePrekeys.length;
    expect(outcome(receive(b1, stanza))).toBe('key-only');
    expect(b1.sessions.has(sessionKey(a1.state.jid, a1.state.deviceId))).toBe(true);
    expect(b1.log).toHaveLength(1);
    expect(b1.state.oneTimePrekeys.length).toBe(prekeys - 1);
    // The session works both ways, and b1's key-only confirmation ends the header on a1's side.
    expect(outcome(receive(a1, sendKeyOnly(b1, [a1], 'confirm')))).toBe('key-only');
    expect(outcome(receive(b1, sendText(a1, [b1], 'repaired')))).toBe('repaired');
    expect(sealedOf(sendText(a1, [b1], 'no header')).recipients[0]!.keys[0]!.handshake).toBe(false);
  });

  it('a second delivery is a duplicate; a device without a key element gets not-for-this-device', () => {
    // @req envelope.key-only-open
    const { a1, b1 } = pair();
    const a2 = device('alice@example.org', 'a2');
    const stanza = sendKeyOnly(b1, [a1]);
    expect(outcome(receive(a1, stanza))).toBe('key-only');
    const before = snapshot(a1);
    expect(outcome(receive(a1, stanza))).toBe('duplicate');
    expect(snapshot(a1)).toBe(before);
    expect(outcome(receive(a2, stanza))).toBe('not-for-this-device');
  });

  it('rejects a wrapped value other than 32 zero bytes, and a payload stripped off or grafted on, leaving state unchanged', () => {
    // @req envelope.key-only-open
    // @req envelope.open-transactional
    const { a1, b1 } = pair();
    const session = b1.sessions.get(sessionKey(a1.state.jid, a1.state.deviceId))!;
    const honest = sendKeyOnly(b1, [a1]);
    const value = sealedOf(honest);
    const rewrap = (plaintext: Uint8Array) => {
      const w = ratchetEncrypt(session.ratchet, plaintext, labeledContent(ENVELOPE_LABELS.keyOnly, new Uint8Array(0)), seededRng('key only'));
      return withSealed(honest, { ...value, recipients: [{ jid: a1.state.jid, keys: [{ rid: a1.state.deviceId, handshake: false, data: encodeWrappedKey({ handshake: undefined, header: w.header, ciphertext: w.ciphertext }) }] }] });
    };
    expect(rewrap(new Uint8Array(32))).toBe(honest);
    const before = snapshot(a1);
    const one = new Uint8Array(32);
    one[31] = 1;
    expect(outcome(receive(a1, rewrap(one)))).toBe('authentication-failed');
    expect(outcome(receive(a1, rewrap(new Uint8Array(32).fill(0xff))))).toBe('authentication-failed');
    // A payload and commitment (of a real message) grafted onto the key-only message.
    const message = sealedOf(sendText(b1, [a1], 'donor'));
    expect(outcome(receive(a1, withSealed(honest, { ...value, commitment: message.commitment!, payload: message.payload! })))).toBe('authentication-failed');
    // A <payload/> without its commitment is malformed.
    const bare = SealedElement.toXml(value);
    bare.c('payload').t('AAAAAAAAAAAAAAAAAAAAAA==');
    expect(outcome(receive(a1, withSealed(honest, bare)))).toBe('schema-violation');
    expect(snapshot(a1)).toBe(before);
    expect(outcome(receive(a1, honest))).toBe('key-only');

    // The payload of a message removed: it does not open as a key-only message.
    const text = sendText(a1, [b1], 'do not lose me');
    const stripped = sealedOf(text);
    delete (stripped as { payload?: Uint8Array }).payload;
    delete (stripped as { commitment?: Uint8Array }).commitment;
    const beforeB1 = snapshot(b1);
    expect(outcome(receive(b1, withSealed(text, stripped)))).toBe('authentication-failed');
    expect(snapshot(b1)).toBe(beforeB1);
    expect(outcome(receive(b1, text))).toBe('do not lose me');
  });

  it('any single-bit flip of a key element or the sid is rejected and leaves every state byte-identical', () => {
    // @req envelope.key-only-open
    // @req envelope.open-transactional
    const { a1, b1 } = pair();
    const stanza = sendKeyOnly(b1, [a1]);
    const value = sealedOf(stanza);
    const before = snapshot(a1);
    fc.assert(fc.property(fc.nat(), fc.nat(7), fc.boolean(), (at, bit, sid) => {
      const key = value.recipients[0]!.keys[0]!;
      const data = key.data.slice();
      data[at % data.length]! ^= 1 << bit;
      const mutated: SealedValue = sid
        ? { ...value, sid: deviceId((value.sid ^ (1 << (bit + (at % 23)))) || 1) }
        : { ...value, recipients: [{ jid: value.recipients[0]!.jid, keys: [{ ...key, data }] }] };
      const result = receive(a1, withSealed(stanza, mutated));
      expect(result.kind === 'error' || result.kind === 'not-for-this-device').toBe(true);
      expect(snapshot(a1)).toBe(before);
    }), fcParams(60));
    expect(outcome(receive(a1, stanza))).toBe('key-only');
  });

  it('key-only messages and messages interleaved, delivered in any order and twice, each open exactly once', () => {
    // @req envelope.key-only-open
    fc.assert(fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (kinds, order) => {
      const { a1, b1 } = pair();
      const sent = kinds.map((keyOnly, i) => ({ keyOnly, text: `m${i}`, stanza: keyOnly ? sendKeyOnly(a1, [b1], `k${i}`) : sendText(a1, [b1], `m${i}`) }));
      const opened = new Set<number>();
      const deliveries = [...order.map((n) => n % sent.length), ...sent.map((_, i) => i)];
      for (const i of deliveries) {
        const result = receive(b1, sent[i]!.stanza);
        if (result.kind === 'ok') {
          expect(opened.has(i)).toBe(false);
          opened.add(i);
          expect(result.keyOnly).toBe(sent[i]!.keyOnly);
          if (!result.keyOnly) expect(result.content[0]!.getText()).toBe(sent[i]!.text);
        } else expect(result.kind).toBe('duplicate');
      }
      expect(opened.size).toBe(sent.length);
      // Heartbeats went one way; b1's key-only answer makes a DH step and a1 opens it.
      expect(outcome(receive(a1, sendKeyOnly(b1, [a1], 'answer')))).toBe('key-only');
    }), fcParams(20));
  });

  it('sealKeyOnly draws randomness only for a DH step and refuses recipients without a session', () => {
    // @req envelope.key-only
    const { a1, b1 } = pair();
    const none = () => { throw new Error('no randomness expected'); };
    // a1 (initiator) has a sending chain: nothing to draw.
    expect(codeOf(() => sealKeyOnly({ to: b1.state.jid, from: a1.state.jid, senderDeviceId: a1.state.deviceId, recipients: [address(b1)], sessions: a1.sessions, rng: none, now: NOW }))).toBe('ok');
    // b1 (responder) makes the sending half of a DH step: 32 bytes.
    const drawn: number[] = [];
    const counting = (n: number) => (drawn.push(n), seededRng('dh')(n));
    sealKeyOnly({ to: a1.state.jid, from: b1.state.jid, senderDeviceId: b1.state.deviceId, recipients: [address(a1)], sessions: b1.sessions, rng: counting, now: NOW });
    expect(drawn).toEqual([32]);
    const stranger = device('carol@example.com', 'c1');
    expect(codeOf(() => sealKeyOnly({ to: stranger.state.jid, from: a1.state.jid, senderDeviceId: a1.state.deviceId, recipients: [address(stranger)], sessions: a1.sessions, rng: none, now: NOW }))).toBe('no-session');
    expect(codeOf(() => sealKeyOnly({ to: b1.state.jid, from: a1.state.jid, senderDeviceId: a1.state.deviceId, recipients: [], sessions: a1.sessions, rng: none, now: NOW }))).toBe('length-out-of-range');
  });
});

describe('<sealed/> with and without <payload/>', () => {
  const keyArb = fc.record({ rid: fc.integer({ min: 1, max: 0x7fffffff }), handshake: fc.boolean(), data: fc.uint8Array({ minLength: 1, maxLength: 200 }) });
  const sealedArb = fc.record({
    sid: fc.integer({ min: 1, max: 0x7fffffff }),
    recipients: fc.array(fc.record({ jid: fc.constantFrom('alice@example.org', 'bob@example.net', 'carol@example.com'), keys: fc.array(keyArb, { minLength: 1, maxLength: 4 }) }), { minLength: 1, maxLength: 3 }),
    content: fc.option(fc.record({ commitment: fc.uint8Array({ minLength: 32, maxLength: 32 }), payload: fc.uint8Array({ minLength: 16, maxLength: 300 }) }), { nil: undefined }),
  }).map(({ content, ...rest }) => ({ ...rest, ...(content ?? {}) }) as SealedValue);

  it('parse(encode(v)) = v and encode(parse(e)) = e, for key-only messages and messages', () => {
    // @req envelope.key-only
    fc.assert(fc.property(sealedArb, (value) => {
      const element = SealedElement.toXml(value);
      const parsed = SealedElement.fromXml(parseXml(element.toString()));
      expect(parsed).toEqual(value);
      expect('payload' in parsed).toBe(value.payload !== undefined);
      expect(SealedElement.toXml(parsed).toString()).toBe(element.toString());
      expect(element.getChildren('payload')).toHaveLength(value.payload === undefined ? 0 : 1);
    }), fcParams(100));
  });

  it('accepts zero or one <payload/>, with its commitment, and nothing else', () => {
    // @req envelope.key-only
    const keys = "<keys jid='bob@example.net'><key rid='7'>AAAA</key></keys>";
    const payload = "<payload commitment='AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='>AAAAAAAAAAAAAAAAAAAAAA==</payload>";
    const read = (inner: string) => codeOf(() => SealedElement.fromXml(parseXml(`<sealed xmlns='${SEAL_NS}' sid='1'>${inner}</sealed>`)));
    expect(read(keys)).toBe('ok');
    expect(read(keys + payload)).toBe('ok');
    expect(read(keys + payload + payload)).toBe('schema-violation');
    expect(read(`${keys}<payload>AAAAAAAAAAAAAAAAAAAAAA==</payload>`)).toBe('schema-violation');
    expect(read(`${keys}<other/>`)).toBe('schema-violation');
    expect(read(payload)).toBe('schema-violation');
    // Values: a commitment without payload, or the reverse, is no element.
    const value = SealedElement.fromXml(parseXml(`<sealed xmlns='${SEAL_NS}' sid='1'>${keys}</sealed>`));
    expect(codeOf(() => SealedElement.toXml({ ...value, commitment: new Uint8Array(32) }))).toBe('schema-violation');
    expect(codeOf(() => SealedElement.toXml({ ...value, payload: new Uint8Array(16) }))).toBe('schema-violation');
  });
});
