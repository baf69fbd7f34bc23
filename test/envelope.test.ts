/**
 * §envelope: sealing and opening stanzas between two accounts with several devices each, in both
 * directions, out of order and duplicated; key commitment; redirect protection; padding; and the
 * rule that a failed open changes nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/codec/bytes.js';
import { ENVELOPE_CONSTANTS, FALLBACK_BODY, SCE_NS, buildContent, chainStep, contentBody, ENVELOPE_LABELS, keyCommitment, payloadKey, openContent, rootStep, openStanza, padme, ratchetDecrypt, ratchetEncrypt, sealStanza, sessionKey, startRatchet, type PeerSession } from '../src/envelope/index.js';
import { initiateAsync, respondAsync, type HandshakeLog } from '../src/handshake/index.js';
import { bundleOf, createDeviceState, dangerouslyExportDeviceState, verifyBundle, type DeviceState } from '../src/identity/index.js';
import { SymmetricKey, aeadOpen, deriveKey, labeledContent, macWithLabel, seededRng } from '../src/suite/index.js';
import { encodeAsyncHeader } from '../src/wire/index.js';
import { Element, SealedElement, parseXml, xml } from '../src/wire/index.js';
import { codeOf } from './support/errors.js';
import { fcParams } from './support/property.js';

const NOW = 1795683600;

interface Device {
  state: DeviceState;
  log: HandshakeLog;
  sessions: Map<string, PeerSession>;
}

function device(jid: string, seed: string): Device {
  return { state: createDeviceState({ jid, now: NOW, rng: seededRng(seed), oneTimePrekeys: 5 }), log: [], sessions: new Map() };
}

/** `from` starts an asynchronous session with `to` (as the initiator). */
function connect(from: Device, to: Device, seed: string): void {
  const started = initiateAsync({ self: from.state, peer: verifyBundle(bundleOf(to.state), { jid: to.state.jid, deviceId: to.state.deviceId, now: NOW }), rng: seededRng(seed) });
  from.sessions.set(sessionKey(to.state.jid, to.state.deviceId), { ratchet: startRatchet(started.session, seededRng(`${seed} ratchet`)), confirmation: { state: 'unconfirmed', header: started.header } });
}

function send(sender: Device, recipients: Device[], text: string, rng = seededRng(text)) {
  const peer = recipients.find((r) => r.state.jid !== sender.state.jid) ?? recipients[0]!;
  const sealed = sealStanza({
    to: `${peer.state.jid}/res`, from: `${sender.state.jid}/res`, senderDeviceId: sender.state.deviceId,
    content: [xml('body', {}, [text])], recipients: recipients.map((r) => ({ jid: r.state.jid, deviceId: r.state.deviceId })),
    sessions: sender.sessions, rng, now: NOW,
  });
  sender.sessions = sealed.sessions;
  return sealed.stanza.toString();
}

function receive(receiver: Device, stanza: string) {
  const result = openStanza({ stanza: parseXml(stanza), self: receiver.state, log: receiver.log, sessions: receiver.sessions, now: NOW + 5 });
  if (result.kind === 'ok') {
    receiver.sessions = result.sessions;
    receiver.state = result.state;
    receiver.log = result.log;
  }
  return result;
}

const bodyOf = (result: ReturnType<typeof receive>) => (result.kind === 'ok' ? result.content[0]!.getText() : result.kind === 'error' ? result.error.code : result.kind);

function world() {
  const a1 = device('alice@example.org', 'a1');
  const a2 = device('alice@example.org', 'a2');
  const b1 = device('bob@example.net', 'b1');
  const b2 = device('bob@example.net', 'b2');
  connect(a1, b1, 'a1-b1');
  connect(a1, b2, 'a1-b2');
  connect(a1, a2, 'a1-a2');
  return { a1, a2, b1, b2 };
}

describe('§envelope', () => {
  it('delivers one stanza to the peer devices and the sender\'s own other device, and back', () => {
    // @req envelope.fan-out
    // @req envelope.content-once
    const { a1, a2, b1, b2 } = world();
    const stanza = send(a1, [b1, b2, a2], 'hello');
    const parsed = SealedElement.fromXml(parseXml(stanza).getChild('sealed', 'urn:xmpp:seal:0')!);
    expect(parsed.recipients.map((r) => [r.jid, r.keys.length])).toEqual([['bob@example.net', 2], ['alice@example.org', 1]]);
    expect(parsed.recipients.flatMap((r) => r.keys).every((k) => k.handshake)).toBe(true);
    for (const d of [b1, b2, a2]) expect(bodyOf(receive(d, stanza))).toBe('hello');
    // Bob's device 1 replies to Alice's device 1 (the session from the handshake); Alice confirms.
    const reply = send(b1, [a1], 'hi alice');
    expect(bodyOf(receive(a1, reply))).toBe('hi alice');
    const next = send(a1, [b1, b2, a2], 'second');
    const keys = SealedElement.fromXml(parseXml(next).getChild('sealed', 'urn:xmpp:seal:0')!).recipients.flatMap((r) => r.keys);
    expect(keys.find((k) => k.rid === b1.state.deviceId)!.handshake).toBe(false); // confirmed: no header
    expect(keys.find((k) => k.rid === b2.state.deviceId)!.handshake).toBe(true); // not yet
    for (const d of [b1, b2, a2]) expect(bodyOf(receive(d, next))).toBe('second');
  });

  it('carries the EME marker, the storage hint and a fallback body; wraps keys in 88 bytes', () => {
    // @req envelope.markers
    const { a1, b1 } = world();
    const stanza = parseXml(send(a1, [b1], 'x'));
    expect(stanza.getChild('encryption', 'urn:xmpp:eme:0')?.attrs.namespace).toBe('urn:xmpp:seal:0');
    expect(stanza.getChild('store', 'urn:xmpp:hints')).toBeDefined();
    expect(stanza.getChildText('body')).toBe(FALLBACK_BODY);
    receive(b1, stanza.toString());
    const second = send(b1, [a1], 'z');
    const key = SealedElement.fromXml(parseXml(second).getChild('sealed', 'urn:xmpp:seal:0')!).recipients[0]!.keys[0]!;
    expect(key.data.length).toBe(88);
  });

  it('opens out-of-order and duplicated deliveries exactly once', () => {
    fc.assert(fc.property(fc.array(fc.nat(9), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 10 }), (order, count) => {
      const { a1, b1 } = world();
      const stanzas = Array.from({ length: count }, (_, i) => send(a1, [b1], `m${i}`));
      const opened = new Set<string>();
      for (const index of [...order.map((i) => i % count), ...Array.from({ length: count }, (_, i) => i)]) {
        const result = receive(b1, stanzas[index]!);
        if (result.kind === 'ok') {
          const text = result.content[0]!.getText();
          expect(opened.has(text)).toBe(false);
          opened.add(text);
        } else {
          expect(result.kind).toBe('duplicate');
        }
      }
      expect(opened.size).toBe(count);
    }), fcParams(40));
  });

  it('random interleavings of sends in both directions, delivered late and twice, open exactly once', () => {
    fc.assert(fc.property(fc.array(fc.record({ fromAlice: fc.boolean(), deliverNow: fc.boolean() }), { minLength: 1, maxLength: 14 }), fc.nat(1000), (script, seed) => {
      const { a1, b1 } = world();
      // Bob can only send after he has opened Alice's first message.
      const first = send(a1, [b1], 'first', seededRng(`f${seed}`));
      expect(bodyOf(receive(b1, first))).toBe('first');
      const inFlight: { to: Device; stanza: string; text: string }[] = [];
      const opened = new Set<string>();
      script.forEach((step, i) => {
        const text = `m${i}`;
        const [from, to] = step.fromAlice ? [a1, b1] : [b1, a1];
        inFlight.push({ to, stanza: send(from, [to], text, seededRng(`${seed}-${i}`)), text });
        if (step.deliverNow) {
          const m = inFlight.shift()!;
          const r = receive(m.to, m.stanza);
          expect(bodyOf(r)).toBe(m.text);
          opened.add(m.text);
        }
      });
      // Deliver the rest newest first, then everything again (offline storage and archive).
      for (const m of [...inFlight].reverse()) {
        expect(bodyOf(receive(m.to, m.stanza))).toBe(m.text);
        opened.add(m.text);
      }
      for (const m of inFlight) expect(receive(m.to, m.stanza).kind).toBe('duplicate');
      expect(opened.size).toBe(script.length);
    }), fcParams(25));
  });

  it('any single-bit flip is rejected and leaves every state byte-identical', () => {
    // @req envelope.open-transactional
    const { a1, b1 } = world();
    const stanza = send(a1, [b1], 'secret');
    const element = parseXml(stanza).getChild('sealed', 'urn:xmpp:seal:0')!;
    const value = SealedElement.fromXml(element);
    const snapshot = () => [dangerouslyExportDeviceState(b1.state), JSON.stringify(b1.log), b1.sessions.size];
    const before = snapshot();
    fc.assert(fc.property(fc.constantFrom('payload', 'commitment', 'key'), fc.nat(), fc.nat(7), (field, at, bit) => {
      const flip = (bytes: Uint8Array) => { const out = bytes.slice(); out[at % out.length]! ^= 1 << bit; return out; };
      const mutated = {
        ...value,
        payload: field === 'payload' ? flip(value.payload!) : value.payload,
        commitment: field === 'commitment' ? flip(value.commitment!) : value.commitment,
        recipients: value.recipients.map((r) => ({ ...r, keys: r.keys.map((k) => ({ ...k, data: field === 'key' ? flip(k.data) : k.data })) })),
      };
      const message = parseXml(stanza);
      message.children = message.children.map((c: unknown) => (c instanceof Element && c.getName() === 'sealed' ? SealedElement.toXml(mutated) : c)) as never;
      const result = openStanza({ stanza: message, self: b1.state, log: b1.log, sessions: b1.sessions, now: NOW });
      expect(result.kind).toBe('error');
      expect(snapshot()).toEqual(before);
    }), fcParams(60));
    expect(bodyOf(receive(b1, stanza))).toBe('secret');
  });

  it('rejects a payload whose commitment does not match the unwrapped key (invisible salamanders)', () => {
    // @req envelope.commitment
    const k1 = new SymmetricKey(seededRng('k1')(32));
    const k2 = new SymmetricKey(seededRng('k2')(32));
    expect(toHex(keyCommitment(k1))).not.toBe(toHex(keyCommitment(k2)));
    const { a1, b1 } = world();
    const stanza = parseXml(send(a1, [b1], 'x'));
    const sealed = SealedElement.fromXml(stanza.getChild('sealed', 'urn:xmpp:seal:0')!);
    stanza.children = stanza.children.map((c: unknown) => (c instanceof Element && c.getName() === 'sealed' ? SealedElement.toXml({ ...sealed, commitment: keyCommitment(k2) }) : c)) as never;
    const result = receive(b1, stanza.toString());
    expect(result.kind === 'error' && result.error.code).toBe('authentication-failed');
  });

  it('encrypts the payload under the derived payload key, never under the content key', () => {
    // @req envelope.payload-key
    const { a1, b1 } = world();
    const stanza = parseXml(send(a1, [b1], 'separate keys', seededRng('payload-key')));
    const contentKey = new SymmetricKey(seededRng('payload-key')(32));
    const sealed = SealedElement.fromXml(stanza.getChild('sealed', 'urn:xmpp:seal:0')!);
    const ad = labeledContent(ENVELOPE_LABELS.payload, sealed.commitment!);
    expect(toHex(payloadKey(contentKey).dangerouslyExposeBytes())).toBe(toHex(deriveKey({ label: 'payload key', ikm: contentKey.dangerouslyExposeBytes(), length: 32 })));
    expect(toHex(keyCommitment(contentKey))).toBe(toHex(sealed.commitment!));
    expect(new TextDecoder().decode(aeadOpen(payloadKey(contentKey), new Uint8Array(12), sealed.payload!, ad))).toContain('separate keys');
    expect(codeOf(() => aeadOpen(contentKey, new Uint8Array(12), sealed.payload!, ad))).toBe('authentication-failed');
  });

  it('rejects a redirected stanza and reports messages not for this device', () => {
    // @req envelope.redirect
    const { a1, b1, b2 } = world();
    const stanza = send(a1, [b1], 'for bob');
    const redirected = stanza.replace("to=\"bob@example.net/res\"", "to=\"carol@example.net/res\"");
    const result = receive(b1, redirected);
    expect(result.kind === 'error' && result.error.code).toBe('redirected-stanza');
    expect(receive(b2, stanza).kind).toBe('not-for-this-device');
    expect(bodyOf(receive(b1, stanza))).toBe('for bob');
  });

  it('pads the content with Padmé', () => {
    // @req envelope.padding
    expect([1, 2, 9, 100, 1000, 1024, 1025, 5000].map(padme)).toEqual([1, 2, 10, 104, 1024, 1024, 1088, 5120]);
    for (let n = 3; n < 5000; n += 37) {
      expect(padme(n)).toBeGreaterThanOrEqual(n);
      expect(padme(n) / n).toBeLessThanOrEqual(1.12);
    }
  });

  it('bounds skipped keys and rejects replays of used keys', () => {
    // @req envelope.skip-bounds
    // @req envelope.ratchet-transactional
    const { a1, b1 } = world();
    const init = respondAsync({ self: b1.state, log: [], header: (a1.sessions.get(sessionKey(b1.state.jid, b1.state.deviceId))!.confirmation as unknown as { header: never }).header, initiatorJid: a1.state.jid, initiatorDeviceId: a1.state.deviceId, now: NOW });
    if (init.kind !== 'established') throw new Error('handshake');
    let sender = a1.sessions.get(sessionKey(b1.state.jid, b1.state.deviceId))!.ratchet;
    let receiver = startRatchet(init.session);
    const rng = seededRng('skip');
    const messages = [];
    for (let i = 0; i < ENVELOPE_CONSTANTS.MAX_SKIP + 2; i++) {
      const m = ratchetEncrypt(sender, new Uint8Array([i % 256]), new Uint8Array(), rng);
      sender = m.state;
      messages.push(m);
    }
    const last = messages[messages.length - 1]!;
    expect(codeOf(() => ratchetDecrypt(receiver, last.header, last.ciphertext, new Uint8Array(), NOW))).toBe('skip-limit');
    const within = messages[ENVELOPE_CONSTANTS.MAX_SKIP]!;
    const opened = ratchetDecrypt(receiver, within.header, within.ciphertext, new Uint8Array(), NOW);
    if (opened.kind !== 'ok') throw new Error('expected ok');
    expect(opened.state.skipped).toHaveLength(ENVELOPE_CONSTANTS.MAX_SKIP);
    receiver = opened.state;
    expect(ratchetDecrypt(receiver, within.header, within.ciphertext, new Uint8Array(), NOW).kind).toBe('duplicate');
    // Skipped keys expire.
    const early = messages[3]!;
    expect(codeOf(() => ratchetDecrypt(receiver, early.header, early.ciphertext, new Uint8Array(), NOW + ENVELOPE_CONSTANTS.SKIPPED_KEY_MAX_AGE))).toBe('message-key-unavailable');
    expect(ratchetDecrypt(receiver, early.header, early.ciphertext, new Uint8Array(), NOW + 60).kind).toBe('ok');
  });

  it('derives ratchet keys through the labelled KDF and MAC', () => {
    // @req envelope.ratchet-kdf
    const rk = new SymmetricKey(seededRng('rk')(32));
    const dh = new SymmetricKey(seededRng('dh')(32));
    const expected = deriveKey({ label: 'ratchet root', ikm: dh.dangerouslyExposeBytes(), salt: rk.dangerouslyExposeBytes(), length: 64 });
    const step = rootStep(rk, dh);
    expect(toHex(step.rootKey.dangerouslyExposeBytes()) + toHex(step.chainKey.dangerouslyExposeBytes())).toBe(toHex(expected));
    const chain = chainStep(step.chainKey);
    expect(toHex(chain.messageKey.dangerouslyExposeBytes())).toBe(toHex(macWithLabel(step.chainKey, 'ratchet message key', new Uint8Array())));
    expect(toHex(chain.chainKey.dangerouslyExposeBytes())).toBe(toHex(macWithLabel(step.chainKey, 'ratchet chain key', new Uint8Array())));
  });

  it('starts the initiator with a sending chain and the responder without one', () => {
    // @req envelope.ratchet-init
    const { a1, b1 } = world();
    const initiator = a1.sessions.get(sessionKey(b1.state.jid, b1.state.deviceId))!;
    expect(initiator.ratchet.sendingChain).toBeDefined();
    expect(initiator.confirmation.state).toBe('unconfirmed');
    const header = (initiator.confirmation as unknown as { header: never }).header;
    const response = respondAsync({ self: b1.state, log: [], header, initiatorJid: a1.state.jid, initiatorDeviceId: a1.state.deviceId, now: NOW });
    if (response.kind !== 'established') throw new Error('handshake');
    const responder = startRatchet(response.session);
    expect(responder.sendingChain).toBeUndefined();
    expect(codeOf(() => ratchetEncrypt(responder, new Uint8Array(1), new Uint8Array(), seededRng('x')))).toBe('invalid-value');
  });

  it('deletes the private ratchet key at each DH step on receipt (the responder keeps no signed prekey in its session)', () => {
    // @req envelope.ratchet-init
    // Found by model/l1 (finding "a responder's session state holds its signed prekey until it sends").
    const { a1, b1 } = world();
    const header = (a1.sessions.get(sessionKey(b1.state.jid, b1.state.deviceId))!.confirmation as unknown as { header: never }).header;
    const response = respondAsync({ self: b1.state, log: [], header, initiatorJid: a1.state.jid, initiatorDeviceId: a1.state.deviceId, now: NOW });
    if (response.kind !== 'established') throw new Error('handshake');
    const responder = startRatchet(response.session);
    const first = ratchetEncrypt(a1.sessions.get(sessionKey(b1.state.jid, b1.state.deviceId))!.ratchet, new Uint8Array([1]), new Uint8Array(), seededRng('first'));
    const opened = ratchetDecrypt(responder, first.header, first.ciphertext, new Uint8Array(), NOW);
    if (opened.kind !== 'ok') throw new Error('expected ok');
    expect(responder.sendingRatchet).toBeDefined(); // the signed prekey's pair, before the step
    expect(opened.state.sendingRatchet).toBeUndefined(); // deleted with the step
    const reply = ratchetEncrypt(opened.state, new Uint8Array([2]), new Uint8Array(), seededRng('reply'));
    expect(reply.state.sendingRatchet).toBeDefined(); // a new pair, drawn at the next send
    expect(toHex(reply.state.sendingRatchet!.publicKey)).not.toBe(toHex(responder.sendingRatchet!.publicKey));
    // The initiator's step on the reply deletes its first ratchet key in the same way.
    const back = ratchetDecrypt(first.state, reply.header, reply.ciphertext, new Uint8Array(), NOW);
    if (back.kind !== 'ok') throw new Error('expected ok');
    expect(back.state.sendingRatchet).toBeUndefined();
  });

  it('rejects with a typed error a message that names the initiator\'s initial remote ratchet key', () => {
    // @req envelope.open-transactional
    // Found by model/l1: this used to surface as a TypeError (reported as schema-violation).
    const { a1, b1 } = world();
    const initiator = a1.sessions.get(sessionKey(b1.state.jid, b1.state.deviceId))!.ratchet;
    const forged = new Uint8Array(40);
    forged.set(initiator.remoteRatchetKey!, 0);
    expect(codeOf(() => ratchetDecrypt(initiator, forged, new Uint8Array(48), new Uint8Array(), NOW))).toBe('authentication-failed');
  });

  it('writes time, to, from and rpad affixes and pads to Padmé', () => {
    // @req envelope.affixes
    const bytes = buildContent({ content: [xml('body', {}, ['hi'])], to: 'bob@example.net', from: 'alice@example.org', time: NOW, rng: seededRng('pad') });
    const root = parseXml(new TextDecoder().decode(bytes));
    expect(root.getNS()).toBe(SCE_NS);
    expect(root.getChild('time')!.attrs.stamp).toBe('2026-11-26T09:00:00Z');
    expect(root.getChild('to')!.attrs.jid).toBe('bob@example.net');
    expect(root.getChild('from')!.attrs.jid).toBe('alice@example.org');
    const unpadded = bytes.length - root.getChildText('rpad')!.length - 13;
    expect(bytes.length).toBe(padme(unpadded + 14));
    expect(openContent(bytes, { to: 'bob@example.net/x', from: 'alice@example.org/y' }).time).toBe(NOW);
    const noTime = new TextEncoder().encode(`<envelope xmlns='${SCE_NS}'><content/><rpad/><to jid='bob@example.net'/><from jid='alice@example.org'/></envelope>`);
    expect(codeOf(() => openContent(noTime, { to: 'bob@example.net', from: 'alice@example.org' }))).toBe('schema-violation');
  });

  it('writes the plaintext bytes of §envelope.content exactly: the body in jabber:client, escaping, affix order, padding length', () => {
    // @req envelope.content-bytes
    // @req envelope.padding
    const rng = seededRng('exact');
    const bytes = buildContent({ content: [xml('body', {}, ['a < b & "c"']), xml('x', { xmlns: 'urn:example', v: `1'2"3<>&` })], to: 'bob@example.net', from: 'alice@example.org', time: NOW, rng });
    const text = new TextDecoder().decode(bytes);
    const unpadded = '<envelope xmlns="urn:xmpp:sce:1"><content><body xmlns="jabber:client">a &lt; b &amp; "c"</body><x xmlns="urn:example" v="1&apos;2&quot;3&lt;&gt;&amp;"/></content><time stamp="2026-11-26T09:00:00Z"/><to jid="bob@example.net"/><from jid="alice@example.org"/></envelope>';
    const L = new TextEncoder().encode(unpadded).length;
    const pad = padme(L + 14) - L - 13;
    expect(pad).toBeGreaterThanOrEqual(1);
    const rpad = /<rpad>([A-Za-z0-9]*)<\/rpad>/.exec(text)!;
    expect(rpad[1]).toHaveLength(pad);
    expect(text.replace(rpad[0], '')).toBe(unpadded);
    expect(text.indexOf('<rpad>')).toBe(unpadded.indexOf('</content>') + '</content>'.length);
    expect(bytes.length).toBe(padme(L + 14));
    // Padmé rounds up, as the spec's examples say.
    expect([100, 1000, 5000].map(padme)).toEqual([104, 1024, 5120]);
    // Only a jabber:client body is the body: an unqualified one inside <content/> is in urn:xmpp:sce:1.
    const sceBody = new TextEncoder().encode(`<envelope xmlns='${SCE_NS}'><content><body>hi</body></content><rpad>x</rpad><time stamp='2026-11-26T09:00:00Z'/><to jid='bob@example.net'/><from jid='alice@example.org'/></envelope>`);
    const opened = openContent(sceBody, { to: 'bob@example.net', from: 'alice@example.org' });
    expect(contentBody(opened.content)).toBeUndefined();
    expect(contentBody(openContent(bytes, { to: 'bob@example.net', from: 'alice@example.org' }).content)).toBe('a < b & "c"');
  });

  it('a restored device that uses a message key again for another message never repeats a key and nonce (wrap keys depend on the context)', () => {
    // @req envelope.wrap-keys
    const { a1, b1 } = world();
    const state = a1.sessions.get(sessionKey(b1.state.jid, b1.state.deviceId))!.ratchet;
    const p1 = new Uint8Array(32).fill(0x11);
    const p2 = new Uint8Array(32).fill(0x22);
    // The same ratchet state twice, as after a restore from a backup: the same message key.
    const c1 = ratchetEncrypt(state, p1, new Uint8Array(64).fill(1), seededRng('restore'));
    const c2 = ratchetEncrypt(state, p2, new Uint8Array(64).fill(2), seededRng('restore'));
    expect(toHex(c1.header)).toBe(toHex(c2.header));
    const xor = (a: Uint8Array, b: Uint8Array) => a.subarray(0, 32).map((x, i) => x ^ b[i]!);
    // With one key and nonce the ciphertexts' XOR would be the plaintexts' XOR.
    expect(toHex(xor(c1.ciphertext, c2.ciphertext))).not.toBe(toHex(xor(p1, p2)));
  });

  it('measures the overhead stated in the spec', () => {
    const { a1, b1 } = world();
    const header = (a1.sessions.get(sessionKey(b1.state.jid, b1.state.deviceId))!.confirmation as unknown as { header: Parameters<typeof encodeAsyncHeader>[0] }).header;
    expect(encodeAsyncHeader(header).length).toBe(1293);
    const { oneTimePrekeyId: _, ...withoutOpk } = header;
    expect(encodeAsyncHeader(withoutOpk).length).toBe(1289);
  });
});
