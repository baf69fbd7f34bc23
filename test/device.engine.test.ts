/**
 * §device: the device engine through its IO shell (SealClient on the embedded server) and, where
 * the shell would hide it, through `SealEngine.step`. One regression per defect of issue 13, each
 * asserting the concrete outcome the old client got wrong; each names the requirement it checks.
 */
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../src/codec/base64.js';
import { toHex } from '../src/codec/bytes.js';
import { DEVICE_CONSTANTS } from '../src/device/constants.js';
import { SealEngine } from '../src/device/engine.js';
import { MemoryStore, type StoreRecord } from '../src/device/store.js';
import type { SealEvent } from '../src/device/types.js';
import { type PeerSession, openStanza, sealStanza, sessionKey, startRatchet } from '../src/envelope/index.js';
import { SEAL_ERROR_CODES } from '../src/errors.js';
import { initiateAsync } from '../src/handshake/async.js';
import { acceptInteractive, completeInitiator, startInteractive } from '../src/handshake/interactive.js';
import { verifyBundle } from '../src/identity/bundle.js';
import type { DeviceId } from '../src/identity/device.js';
import { createDeviceList, signOmemoBinding } from '../src/identity/devicelist.js';
import { type BareJid, bareJid } from '../src/identity/jid.js';
import { DEVICE_LIST_NODE, ITEM_ID, bundleNode } from '../src/identity/pep.js';
import { type DeviceState, bundleOf, createDeviceState } from '../src/identity/state.js';
import { EmbeddedServer, SealClient, fetchItem } from '../src/net/index.js';
import { seededRng } from '../src/suite/rng.js';
import { ed25519PublicKeyOf, generateEd25519KeyPair } from '../src/suite/signature.js';
import { BundleElement } from '../src/wire/bundle.js';
import { type BindingValue, DeviceListElement, type DeviceListValue } from '../src/wire/devices.js';
import { INTERACTIVE_FEATURE, InteractiveMessageElement, type InteractiveMessageValue, interactiveIqId, readInteractiveDiscoInfo } from '../src/wire/handshake.js';
import { publishIq } from '../src/wire/pep.js';
import { type Element, childElements, parseXml, xml } from '../src/wire/xml.js';
import { ALICE, BOB, MALLORY, SealWorld, opened, failedCodes, conversation } from './support/store-conformance.js';

const keyOf = (state: DeviceState) => toHex(ed25519PublicKeyOf(state.signingKey));
const kinds = (events: readonly SealEvent[]) => events.map((e) => e.kind);


/** The bundle of `jid`'s device `id` as the server serves it, verified. */
function bundleFromServer(world: SealWorld, jid: BareJid, id: DeviceId) {
  const item = world.server.pepItems(jid, bundleNode(id))[0]!;
  return verifyBundle(BundleElement.fromXml(childElements(item)[0]!), { jid, deviceId: id, now: world.now() });
}

/** A device of `jid` the attacker made, under a fresh identity key, claiming device id `id`. */
function impostor(world: SealWorld, jid: BareJid, id: DeviceId, seed: string): DeviceState {
  return { ...createDeviceState({ jid, now: world.now(), rng: seededRng(seed), oneTimePrekeys: 1 }), deviceId: id };
}

/** An asynchronous handshake from `from` to `to`'s device, and a message on it, as `from`'s full JID `fromFull`. */
function forgedHandshake(world: SealWorld, from: DeviceState, fromFull: string, to: BareJid, toDevice: DeviceId, body: string, seed: string): { stanza: Element; sessions: Map<string, PeerSession> } {
  const started = initiateAsync({ self: from, peer: bundleFromServer(world, to, toDevice), rng: seededRng(`${seed} handshake`) });
  const sessions = new Map<string, PeerSession>([[sessionKey(to, toDevice), { ratchet: startRatchet(started.session, seededRng(`${seed} ratchet`)), confirmation: { state: 'unconfirmed', header: started.header } }]]);
  const out = sealStanza({ to, from: fromFull, id: `forged-${seed}`, senderDeviceId: from.deviceId, content: [xml('body', {}, [body])], recipients: [{ jid: to, deviceId: toDevice }], sessions, rng: seededRng(`${seed} seal`), now: world.now() });
  return { stanza: out.stanza, sessions: out.sessions };
}

/** What changed in the events list since `mark`. */
function since(client: SealClient, mark: number): SealEvent[] {
  return client.events.slice(mark);
}

describe('§device.pinning: a handshake under another identity key for a known device id (asynchronous)', () => {
  it('is held for a decision, never becomes the active session; accepting it later opens the held message', async () => {
    // @req device.pinning
    // @req device.session-binding
    // @req identity.key-change
    const { world, alice, aliceWire, bob } = await conversation('pinning async');
    const bobDevice = bob.state.deviceId;
    const peer = sessionKey(BOB, bobDevice);
    const before = alice.engine.state.peers.get(peer)!;
    const mallory = impostor(world, BOB, bobDevice, 'impostor');
    const forged = forgedHandshake(world, mallory, `${BOB}/evil`, ALICE, alice.state.deviceId, 'I am bob, really', 'forged');

    const mark = alice.events.length;
    await alice.receive(forged.stanza);
    const events = since(alice, mark);
    expect(opened(events)).toEqual([]);
    expect(events).toContainEqual({ kind: 'held', from: { jid: BOB, deviceId: bobDevice }, reason: 'awaiting-decision' });
    expect(events).toContainEqual({ kind: 'decision-needed', jid: BOB, deviceId: bobDevice, reason: 'key-changed', key: keyOf(mallory), previousKey: keyOf(bob.state) });
    // The session with the real Bob is untouched: same key binding, same ratchet.
    const after = alice.engine.state.peers.get(peer)!;
    expect(after.signingKey).toBe(keyOf(bob.state));
    expect(after.session.ratchet.sessionId).toEqual(before.session.ratchet.sessionId);
    expect(after.session).toBe(before.session);

    // Alice's next message is for the real Bob, and the impostor cannot open it.
    const sentBefore = aliceWire.sent.length;
    await alice.send(BOB, 'for the real bob');
    await world.flush();
    expect(opened(bob.events)).toEqual(['hello bob', 'for the real bob']);
    const next = aliceWire.sent.slice(sentBefore).find((s) => s.getChild('body') !== undefined)!;
    const attempt = openStanza({ stanza: parseXml(next.toString()), self: mallory, log: [], sessions: forged.sessions, now: world.now() });
    expect(attempt.kind).toBe('error');

    // The user accepts the new key: the held message opens, and it is now Bob's device's key.
    await alice.decide(BOB, { deviceId: bobDevice }, keyOf(mallory), 'undecided');
    expect(opened(since(alice, mark))).toEqual(['I am bob, really']);
    expect(since(alice, mark)).toContainEqual({ kind: 'key-changed', jid: BOB, deviceId: bobDevice, key: keyOf(mallory), previousKey: keyOf(bob.state), acceptedBy: 'user' });
    expect(alice.engine.state.peers.get(peer)!.signingKey).toBe(keyOf(mallory));
  });

  it('refused (distrusted) then offered again: nothing opens while refused; a later acceptance opens the new handshake', async () => {
    // @req device.pinning
    // @req identity.trust-distrusted
    const { world, alice, bob } = await conversation('pinning refuse');
    const bobDevice = bob.state.deviceId;
    const mallory = impostor(world, BOB, bobDevice, 'impostor 2');
    const first = forgedHandshake(world, mallory, `${BOB}/evil`, ALICE, alice.state.deviceId, 'first try', 'f1');
    const mark = alice.events.length;
    await alice.receive(first.stanza);
    await alice.decide(BOB, { deviceId: bobDevice }, keyOf(mallory), 'distrusted');
    expect(opened(since(alice, mark))).toEqual([]);
    expect(alice.engine.state.held.size).toBe(0); // dropped with the refusal
    expect(alice.engine.state.peers.get(sessionKey(BOB, bobDevice))!.signingKey).toBe(keyOf(bob.state));
    // The real Bob still talks to Alice.
    await bob.send(ALICE, 'still me');
    await world.flush();
    expect(opened(since(alice, mark))).toEqual(['still me']);
    // The same key presented again asks again; accepting it then opens that message.
    const second = forgedHandshake(world, mallory, `${BOB}/evil`, ALICE, alice.state.deviceId, 'second try', 'f2');
    const mark2 = alice.events.length;
    await alice.receive(second.stanza);
    expect(opened(since(alice, mark2))).toEqual([]);
    expect(kinds(since(alice, mark2))).toContain('decision-needed');
    await alice.decide(BOB, { deviceId: bobDevice }, keyOf(mallory), 'verified');
    expect(opened(since(alice, mark2))).toEqual(['second try']);
  });
});

/** The interactive message (value) in the last stanza of `sent` that carries one. */
function lastInteractive(sent: readonly Element[]): { stanza: Element; value: InteractiveMessageValue } {
  const stanza = [...sent].reverse().find((s) => s.getChild('interactive', 'urn:xmpp:seal:0') !== undefined)!;
  return { stanza, value: InteractiveMessageElement.fromXml(stanza.getChild('interactive', 'urn:xmpp:seal:0')!) };
}

/** A step of an interactive handshake as the server delivers it: an iq set from `from` (handshake.interactive-iq). */
function interactiveStanza(from: string, to: string, value: InteractiveMessageValue): Element {
  return xml('iq', { from, to, type: 'set', id: interactiveIqId(value.sid, value.step) }, [InteractiveMessageElement.toXml(value)]);
}

/** What a device sent in answer to iq requests since `from`: `[type, to, id, condition]`. */
function iqAnswers(sent: readonly Element[], from = 0): [string, string, string, string | undefined][] {
  return sent.slice(from).filter((s) => s.name === 'iq' && (s.attrs.type === 'result' || s.attrs.type === 'error')).map((s) => [String(s.attrs.type), String(s.attrs.to), String(s.attrs.id), (s.getChild('error')?.children.find((c) => typeof c !== 'string') as Element | undefined)?.name]);
}

/** Flushes the network until `pending` settles (a request whose answer travels through the network). */
async function settle<T>(world: SealWorld, pending: Promise<T>): Promise<T> {
  let done = false;
  const watched = pending.finally(() => {
    done = true;
  });
  // Handled here while the network is flushed; the caller still sees the rejection.
  watched.catch(() => undefined);
  for (let i = 0; i < 50 && !done; i++) {
    await world.flush();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return watched;
}

describe('§device.interactive-pinning: an interactive handshake under another identity key for a known device id', () => {
  it('as initiator: a responder answering for Bob\'s device with another key fails the handshake; no session, the old one stays', async () => {
    // @req device.interactive-pinning
    // @req device.pinning
    const { world, alice, aliceWire, bob } = await conversation('interactive initiator');
    const bobDevice = bob.state.deviceId;
    const before = alice.engine.state.peers.get(sessionKey(BOB, bobDevice))!;
    await alice.startInteractive(`${BOB}/b`, bobDevice);
    const m1 = lastInteractive(aliceWire.sent);
    expect(m1.value.step).toBe(1);
    // The server keeps message 1 from Bob and answers itself, as Bob's device, under its own key.
    const mallory = impostor(world, BOB, bobDevice, 'interactive impostor');
    const answer = acceptInteractive({ self: mallory, peer: { jid: ALICE, deviceId: alice.state.deviceId }, message: m1.value, rng: seededRng('m2'), now: world.now() });
    const mark = alice.events.length;
    const sentBefore = aliceWire.sent.length;
    await alice.receive(interactiveStanza(`${BOB}/b`, `${ALICE}/a`, answer.message));
    const events = since(alice, mark);
    expect(failedCodes(events)).toEqual(['identity-key-changed']);
    expect(kinds(events)).not.toContain('session-started');
    expect(alice.engine.state.peers.get(sessionKey(BOB, bobDevice))).toBe(before);
    expect(alice.engine.state.interactive.size).toBe(0);
    // No message 3 to the impostor: message 2 is refused, so its sender abandons at once (handshake.interactive-iq).
    expect(aliceWire.sent.slice(sentBefore).filter((s) => s.getChild('interactive', 'urn:xmpp:seal:0') !== undefined)).toEqual([]);
    expect(iqAnswers(aliceWire.sent, sentBefore)).toEqual([['error', `${BOB}/b`, interactiveIqId(answer.message.sid, 2), 'not-acceptable']]);
  });

  it('as responder: an initiator claiming Bob\'s device under another key fails at message 3; no session', async () => {
    // @req device.interactive-pinning
    // @req device.pinning
    const { world, alice, aliceWire, bob } = await conversation('interactive responder');
    const bobDevice = bob.state.deviceId;
    const before = alice.engine.state.peers.get(sessionKey(BOB, bobDevice))!;
    const mallory = impostor(world, BOB, bobDevice, 'interactive impostor 2');
    const started = startInteractive({ self: mallory, peer: { jid: ALICE, deviceId: alice.state.deviceId }, rng: seededRng('m1'), now: world.now() });
    const mark = alice.events.length;
    await alice.receive(interactiveStanza(`${BOB}/evil`, `${ALICE}/a`, started.message));
    const m2 = lastInteractive(aliceWire.sent);
    expect(m2.value.step).toBe(2);
    expect(m2.stanza.attrs.to).toBe(`${BOB}/evil`);
    expect(m2.stanza.name).toBe('iq');
    const done = completeInitiator({ state: started.state, message: m2.value, now: world.now() });
    const sentBefore = aliceWire.sent.length;
    await alice.receive(interactiveStanza(`${BOB}/evil`, `${ALICE}/a`, done.message));
    const events = since(alice, mark);
    expect(failedCodes(events)).toEqual(['identity-key-changed']);
    expect(iqAnswers(aliceWire.sent, sentBefore)).toEqual([['error', `${BOB}/evil`, interactiveIqId(done.message.sid, 3), 'not-acceptable']]);
    expect(kinds(events)).not.toContain('session-started');
    expect(alice.engine.state.peers.get(sessionKey(BOB, bobDevice))).toBe(before);
    // The real Bob still opens what Alice sends.
    await alice.send(BOB, 'after the attempt');
    await world.flush();
    expect(opened(bob.events)).toEqual(['hello bob', 'after the attempt']);
  });

  it('an interactive handshake between the real devices completes, and the responder can send on it at once', async () => {
    // @req device.interactive-pinning
    // @req device.key-only
    const world = new SealWorld('interactive honest');
    const { client: alice } = await world.client(`${ALICE}/a`);
    const { client: bob } = await world.client(`${BOB}/b`);
    await alice.startInteractive(`${BOB}/b`, bob.state.deviceId);
    await world.flush(); // message 1 → Bob (held for Alice's list, then answered), 2 → Alice, 3 and Alice's key-only message → Bob
    const startedA = alice.events.filter((e) => e.kind === 'session-started');
    const startedB = bob.events.filter((e) => e.kind === 'session-started');
    expect(startedA).toMatchObject([{ handshake: 'interactive', role: 'initiator' }]);
    expect(startedB).toMatchObject([{ handshake: 'interactive', role: 'responder' }]);
    const sessionId = (startedA[0] as { sessionId: string }).sessionId;
    expect((startedB[0] as { sessionId: string }).sessionId).toBe(sessionId);
    // The responder sends first, on the new session (it has no other): the initiator's key-only
    // message arrived first and gave it a sending chain.
    await bob.send(ALICE, 'responder speaks');
    await world.flush();
    expect(opened(alice.events)).toEqual(['responder speaks']);
    expect(toHex(bob.engine.state.peers.get(sessionKey(ALICE, alice.state.deviceId))!.session.ratchet.sessionId)).toBe(sessionId);
    expect(failedCodes([...alice.events, ...bob.events])).toEqual([]);
  });
});

describe('§handshake.interactive: the steps travel as iq stanzas, and a refused step fails the handshake at once', () => {
  it('discovers the feature and the device id on the peer\'s full JID, runs the three steps as iq sets, each answered with a result', async () => {
    // @req handshake.interactive-iq
    // @req handshake.interactive-discovery
    const world = new SealWorld('interactive iq');
    const { client: alice, wire: aliceWire } = await world.client(`${ALICE}/a`);
    const { client: bob, wire: bobWire } = await world.client(`${BOB}/b`);
    // Bob's device answers disco#info on its full JID: the feature, and its device id in a Seal form.
    const probe = world.server.connect(`${MALLORY}/probe`);
    const info = await settle(world, probe.iq(xml('iq', { type: 'get', to: `${BOB}/b`, id: 'disco-1' }, [xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })])));
    const query = info.getChild('query', 'http://jabber.org/protocol/disco#info')!;
    expect(query.getChildren('feature').map((f) => f.attrs.var)).toContain(INTERACTIVE_FEATURE);
    expect(readInteractiveDiscoInfo(query)).toEqual({ interactive: true, deviceId: bob.state.deviceId });
    // Without a device id, Alice's client asks the same question, then starts with the device named there.
    await settle(world, alice.startInteractive(`${BOB}/b`));
    await world.flush();
    const steps = (sent: readonly Element[]) => sent.filter((s) => s.getChild('interactive', 'urn:xmpp:seal:0') !== undefined).map((s) => [s.name, s.attrs.type, s.attrs.to]);
    expect(steps(aliceWire.sent)).toEqual([['iq', 'set', `${BOB}/b`], ['iq', 'set', `${BOB}/b`]]);
    expect(steps(bobWire.sent)).toEqual([['iq', 'set', `${ALICE}/a`]]);
    const sid = InteractiveMessageElement.fromXml(aliceWire.sent.find((s) => s.getChild('interactive', 'urn:xmpp:seal:0') !== undefined)!.getChild('interactive', 'urn:xmpp:seal:0')!).sid;
    expect(iqAnswers(bobWire.sent).filter((a) => a[2].startsWith('seal-i-'))).toEqual([['result', `${ALICE}/a`, interactiveIqId(sid, 1), undefined], ['result', `${ALICE}/a`, interactiveIqId(sid, 3), undefined]]);
    expect(iqAnswers(aliceWire.sent).filter((a) => a[2].startsWith('seal-i-'))).toEqual([['result', `${BOB}/b`, interactiveIqId(sid, 2), undefined]]);
    expect(alice.events.filter((e) => e.kind === 'session-started')).toMatchObject([{ handshake: 'interactive', role: 'initiator' }]);
    expect(bob.events.filter((e) => e.kind === 'session-started')).toMatchObject([{ handshake: 'interactive', role: 'responder' }]);
    // Nothing is left pending on either side once message 3 is answered.
    expect(alice.engine.state.interactive.size).toBe(0);
    expect(bob.engine.state.interactive.size).toBe(0);
    expect(failedCodes([...alice.events, ...bob.events])).toEqual([]);
  });

  it('a resource that is gone: the server answers service-unavailable and the initiator abandons at once, with no time passing', async () => {
    // @req handshake.interactive-fail-fast
    const { world, alice } = await conversation('interactive gone');
    const bobDevice = (await alice.devicesOf(BOB))[0]!;
    const mark = alice.events.length;
    await alice.startInteractive(`${BOB}/gone`, bobDevice);
    expect(alice.engine.state.interactive.size).toBe(1);
    await world.flush();
    expect(since(alice, mark)).toEqual([{ kind: 'interactive-failed', peer: { jid: BOB, deviceId: bobDevice }, to: `${BOB}/gone`, step: 1, condition: 'service-unavailable' }]);
    expect(alice.engine.state.interactive.size).toBe(0);
    // Nothing was stored for later delivery: Bob's resource coming online receives no step.
    const later = world.server.connect(`${BOB}/gone`);
    const received: Element[] = [];
    later.onStanza((stanza) => {
      received.push(stanza);
    });
    await later.send(xml('presence', {}));
    await world.flush();
    expect(received.filter((r) => r.getChild('interactive', 'urn:xmpp:seal:0') !== undefined)).toEqual([]);
  });

  it('a client without the feature: discovery refuses to start (interactive-unsupported); a step sent anyway is answered service-unavailable and fails at once', async () => {
    // @req handshake.interactive-discovery
    // @req handshake.interactive-fail-fast
    const { world, alice, bob } = await conversation('interactive unsupported');
    // Bob's other resource runs a client without Seal's interactive handshake: it answers every request service-unavailable.
    const plain = world.server.connect(`${BOB}/plain`);
    plain.onStanza(async (stanza) => {
      if (stanza.name !== 'iq' || (stanza.attrs.type !== 'get' && stanza.attrs.type !== 'set')) return;
      const children = stanza.attrs.type === 'get' ? [xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }, [xml('identity', { category: 'client', type: 'pc' }), xml('feature', { var: 'http://jabber.org/protocol/disco#info' })])] : [];
      if (stanza.attrs.type === 'get') await plain.send(xml('iq', { type: 'result', to: String(stanza.attrs.from), id: String(stanza.attrs.id) }, children));
      else await plain.send(xml('iq', { type: 'error', to: String(stanza.attrs.from), id: String(stanza.attrs.id) }, [xml('error', { type: 'cancel' }, [xml('service-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })])]));
    });
    await expect(settle(world, alice.startInteractive(`${BOB}/plain`))).rejects.toMatchObject({ code: 'interactive-unsupported' });
    expect(alice.engine.state.interactive.size).toBe(0);
    const mark = alice.events.length;
    await alice.startInteractive(`${BOB}/plain`, bob.state.deviceId);
    await world.flush();
    expect(since(alice, mark)).toEqual([{ kind: 'interactive-failed', peer: { jid: BOB, deviceId: bob.state.deviceId }, to: `${BOB}/plain`, step: 1, condition: 'service-unavailable' }]);
    expect(alice.engine.state.interactive.size).toBe(0);
  });

  it('message 3 refused: the initiator takes back the session it adopted after message 2, and the previous one is active again', async () => {
    // @req handshake.interactive-fail-fast
    const { world, alice, aliceWire, bob } = await conversation('interactive refused 3');
    const bobDevice = bob.state.deviceId;
    const before = alice.engine.state.peers.get(sessionKey(BOB, bobDevice))!;
    await alice.startInteractive(`${BOB}/b`, bobDevice);
    const m1 = lastInteractive(aliceWire.sent);
    // Bob's genuine message 2 (computed here, so the test controls what Alice receives next).
    const m2 = acceptInteractive({ self: bob.state, peer: { jid: ALICE, deviceId: alice.state.deviceId }, message: m1.value, rng: seededRng('genuine m2'), now: world.now() });
    await alice.receive(interactiveStanza(`${BOB}/b`, `${ALICE}/a`, m2.message));
    const adopted = alice.engine.state.peers.get(sessionKey(BOB, bobDevice))!;
    expect(toHex(adopted.session.ratchet.sessionId)).not.toBe(toHex(before.session.ratchet.sessionId));
    expect(lastInteractive(aliceWire.sent).value.step).toBe(3);
    const mark = alice.events.length;
    await alice.receive(xml('iq', { type: 'error', from: `${BOB}/b`, to: `${ALICE}/a`, id: interactiveIqId(m1.value.sid, 3) }, [xml('error', { type: 'cancel' }, [xml('not-acceptable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })])]));
    expect(since(alice, mark)).toEqual([{ kind: 'interactive-failed', peer: { jid: BOB, deviceId: bobDevice }, to: `${BOB}/b`, step: 3, condition: 'not-acceptable' }]);
    const after = alice.engine.state.peers.get(sessionKey(BOB, bobDevice))!;
    expect(toHex(after.session.ratchet.sessionId)).toBe(toHex(before.session.ratchet.sessionId));
    expect(after.session.alternate).toBeUndefined();
    expect(alice.engine.state.interactive.size).toBe(0);
    // An error from another full JID, or for a step this device did not send, changes nothing.
    await alice.startInteractive(`${BOB}/b`, bobDevice);
    const again = lastInteractive(aliceWire.sent).value.sid;
    const mark2 = alice.events.length;
    await alice.receive(xml('iq', { type: 'error', from: `${BOB}/evil`, to: `${ALICE}/a`, id: interactiveIqId(again, 1) }, [xml('error', { type: 'cancel' }, [xml('service-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })])]));
    await alice.receive(xml('iq', { type: 'error', from: `${BOB}/b`, to: `${ALICE}/a`, id: interactiveIqId(again, 2) }, [xml('error', { type: 'cancel' }, [xml('service-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })])]));
    expect(since(alice, mark2)).toEqual([]);
    expect(alice.engine.state.interactive.has(again)).toBe(true);
  });

  it('an error for message 3 after the initiator opened a message on the new session is not the peer\'s: the session stays', async () => {
    // @req handshake.interactive-fail-fast
    const { world, alice, bob, bobWire } = await conversation('interactive error after use');
    const bobDevice = bob.state.deviceId;
    // The server withholds Bob's result for message 3 (and so can answer it with an error of its own).
    const send = bobWire.connection.send;
    let withheld: Element | undefined;
    bobWire.connection.send = async (stanza) => {
      if (stanza.name === 'iq' && stanza.attrs.type === 'result' && /-3$/.test(String(stanza.attrs.id))) {
        withheld = stanza;
        return;
      }
      return send(stanza);
    };
    await alice.startInteractive(`${BOB}/b`, bobDevice);
    await world.flush();
    expect(withheld).toBeDefined();
    const adopted = toHex(alice.engine.state.peers.get(sessionKey(BOB, bobDevice))!.session.ratchet.sessionId);
    expect(toHex(bob.engine.state.peers.get(sessionKey(ALICE, alice.state.deviceId))!.session.ratchet.sessionId)).toBe(adopted);
    await bob.send(ALICE, 'on the new session');
    await world.flush();
    expect(opened(alice.events).at(-1)).toBe('on the new session');
    const mark = alice.events.length;
    await alice.receive(xml('iq', { type: 'error', from: `${BOB}/b`, to: `${ALICE}/a`, id: String(withheld!.attrs.id) }, [xml('error', { type: 'cancel' }, [xml('not-acceptable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })])]));
    expect(since(alice, mark)).toEqual([]);
    expect(toHex(alice.engine.state.peers.get(sessionKey(BOB, bobDevice))!.session.ratchet.sessionId)).toBe(adopted);
    expect(alice.engine.state.interactive.size).toBe(0);
    // The conversation goes on, both ways, with nothing failed.
    await alice.send(BOB, 'still here');
    await world.flush();
    await bob.send(ALICE, 'me too');
    await world.flush();
    expect(opened(bob.events).at(-1)).toBe('still here');
    expect(opened(alice.events).at(-1)).toBe('me too');
    expect(failedCodes([...alice.events, ...bob.events])).toEqual([]);
  });
});

describe('§device.unlisted-device: a first message from a device on none of the account\'s lists', () => {
  it('is held, the list is fetched, the user is asked (unlisted-device); it opens only once accepted', async () => {
    // @req device.unlisted-device
    const { world, alice, bob } = await conversation('unlisted');
    const invented = createDeviceState({ jid: BOB, now: world.now(), rng: seededRng('invented device'), oneTimePrekeys: 1 });
    expect(invented.deviceId).not.toBe(bob.state.deviceId);
    const forged = forgedHandshake(world, invented, `${BOB}/b`, ALICE, alice.state.deviceId, 'from a new device', 'invented');
    const mark = alice.events.length;
    await alice.receive(forged.stanza);
    const events = since(alice, mark);
    const from = { jid: BOB, deviceId: invented.deviceId };
    expect(events).toEqual([
      { kind: 'held', from, reason: 'awaiting-device-list' },
      // The list (fetched after the hold) does not name the device:
      { kind: 'decision-needed', jid: BOB, deviceId: invented.deviceId, reason: 'unlisted-device', key: keyOf(invented), previousKey: undefined },
      { kind: 'held', from, reason: 'awaiting-decision' },
    ]);
    expect(alice.sessions.has(sessionKey(BOB, invented.deviceId))).toBe(false);
    // Alice's messages still go to Bob's listed device only.
    await alice.send(BOB, 'to listed devices');
    await world.flush();
    expect(opened(bob.events)).toEqual(['hello bob', 'to listed devices']);
    expect(alice.sessions.has(sessionKey(BOB, invented.deviceId))).toBe(false);
    await alice.decide(BOB, { deviceId: invented.deviceId }, keyOf(invented), 'undecided');
    expect(opened(since(alice, mark))).toEqual(['from a new device']);
  });
});

const CARBONS = 'urn:xmpp:carbons:2';
const FORWARD = 'urn:xmpp:forward:0';
const MAM = 'urn:xmpp:mam:2';

/** A copy of `inner` as a server forwards it: qualified by jabber:client (XEP-0297). */
function forwardedCopy(inner: Element): Element {
  const copy = parseXml(inner.toString());
  copy.attrs.xmlns = 'jabber:client';
  return copy;
}

function carbonOf(kind: 'sent' | 'received', wrapperFrom: string | undefined, to: string, inner: Element): Element {
  return xml('message', { ...(wrapperFrom === undefined ? {} : { from: wrapperFrom }), to, type: 'chat' }, [xml(kind, { xmlns: CARBONS }, [xml('forwarded', { xmlns: FORWARD }, [forwardedCopy(inner)])])]);
}

function archiveResultOf(wrapperFrom: string | undefined, to: string, queryid: string, inner: Element): Element {
  return xml('message', { ...(wrapperFrom === undefined ? {} : { from: wrapperFrom }), to, id: `r-${queryid}` }, [xml('result', { xmlns: MAM, queryid, id: 'archive-id-1' }, [xml('forwarded', { xmlns: FORWARD }, [xml('delay', { xmlns: 'urn:xmpp:delay', stamp: '2026-11-26T09:00:00Z' }), forwardedCopy(inner)])])]);
}

/** The last sealed message `sent` holds, with `from` as the server stamps it. */
function lastSealed(sent: readonly Element[], fromFull: string): Element {
  const stanza = parseXml([...sent].reverse().find((s) => s.getChild('sealed', 'urn:xmpp:seal:0') !== undefined)!.toString());
  stanza.attrs.from = fromFull;
  return stanza;
}

describe('§offline.forwarded: carbons and archive results only from the own account, archive results only for own queries', () => {
  it('forged carbons and archive results fail with forged-forward and change nothing; the genuine copy still opens', async () => {
    // @req offline.forwarded-carbons
    // @req offline.forwarded-archive
    const { world, alice, aliceStore, bob, bobWire } = await conversation('forwarded');
    await alice.fetchArchive(); // one query of Alice's own is outstanding
    await world.flush();
    const queryid = [...alice.engine.state.queries][0]!;
    // Through the server: any account can send such a stanza (here with a message Alice has).
    const mallory = world.server.connect(`${MALLORY}/x`);
    const mark = alice.events.length;
    await mallory.send(carbonOf('received', undefined, ALICE, lastSealed(bobWire.sent, `${BOB}/b`)));
    await world.flush();
    expect(since(alice, mark)).toMatchObject([{ kind: 'failed', code: 'forged-forward' }]);
    await bob.send(ALICE, 'secret'); // not yet delivered
    const inner = lastSealed(bobWire.sent, `${BOB}/b`);
    const forgeries: Element[] = [
      carbonOf('received', `${MALLORY}/x`, `${ALICE}/a`, inner),
      carbonOf('sent', `${MALLORY}/x`, `${ALICE}/a`, inner),
      carbonOf('received', MALLORY, `${ALICE}/a`, inner),
      carbonOf('received', `${ALICE}/other`, `${ALICE}/a`, inner), // a carbon comes from the bare JID
      carbonOf('received', `${BOB}/b`, `${ALICE}/a`, inner),
      carbonOf('received', undefined, `${ALICE}/a`, inner),
      archiveResultOf(`${MALLORY}/x`, `${ALICE}/a`, queryid, inner),
      archiveResultOf(MALLORY, `${ALICE}/a`, queryid, inner),
      archiveResultOf(ALICE, `${ALICE}/a`, 'a-query-alice-never-sent', inner),
      archiveResultOf(undefined, `${ALICE}/a`, 'a-query-alice-never-sent', inner),
    ];
    const before = JSON.stringify(aliceStore.snapshot());
    const commits = aliceStore.commits;
    for (const forged of forgeries) {
      const events = await alice.receive(forged);
      expect(events, forged.toString().slice(0, 120)).toMatchObject([{ kind: 'failed', code: 'forged-forward' }]);
    }
    expect(JSON.stringify(aliceStore.snapshot())).toBe(before);
    expect(aliceStore.commits).toBe(commits);

    // A genuine received carbon (from the own bare JID) opens; the live copy is then a duplicate.
    const genuine = await alice.receive(carbonOf('received', ALICE, `${ALICE}/a`, inner));
    expect(genuine).toMatchObject([{ kind: 'opened', body: 'secret', via: 'carbon-received', from: { jid: BOB, deviceId: bob.state.deviceId } }]);
    const mark2 = alice.events.length;
    await world.flush();
    expect(kinds(since(alice, mark2))).toEqual(['duplicate']);
    // A genuine archive result (own query, no from or the own bare JID) is a duplicate.
    expect(await alice.receive(archiveResultOf(ALICE, `${ALICE}/a`, queryid, inner))).toMatchObject([{ kind: 'duplicate', via: 'archive' }]);
    expect(await alice.receive(archiveResultOf(undefined, `${ALICE}/a`, queryid, inner))).toMatchObject([{ kind: 'duplicate', via: 'archive' }]);
  });

  it('the server\'s own carbons and archive results go through: a sent carbon opens on the other device, archive results are duplicates', async () => {
    // @req offline.forwarded-carbons
    // @req offline.forwarded-archive
    const { world, alice, bob } = await conversation('forwarded genuine');
    const second = await world.client(`${ALICE}/a2`, { accountSecret: alice.dangerouslyAccountSecret()! });
    await second.wire.connection.iq(xml('iq', { type: 'set', id: 'carbons' }, [xml('enable', { xmlns: CARBONS })]));
    await alice.send(BOB, 'copied to my other device');
    await world.flush();
    expect(second.client.events.filter((e) => e.kind === 'opened')).toMatchObject([{ via: 'carbon-sent', body: 'copied to my other device', to: BOB, from: { jid: ALICE, deviceId: alice.state.deviceId } }]);
    expect(opened(bob.events)).toEqual(['hello bob', 'copied to my other device']);
    const mark = alice.events.length;
    await alice.fetchArchive();
    await world.flush();
    const fromArchive = since(alice, mark);
    expect(fromArchive.length).toBeGreaterThan(0);
    expect(fromArchive.every((e) => e.kind === 'duplicate' && e.via === 'archive')).toBe(true);
  });
});

/** A copy of `stanza` whose wrapped key for `jid`'s device `rid` has its last byte flipped. */
function corruptKey(stanza: Element, jid: string, rid: number): Element {
  const copy = parseXml(stanza.toString());
  const key = copy.getChild('sealed', 'urn:xmpp:seal:0')!.getChildren('keys').find((k) => k.attrs.jid === jid)!.getChildren('key').find((k) => k.attrs.rid === String(rid))!;
  const bytes = decodeBase64(key.getText());
  bytes[bytes.length - 1]! ^= 1;
  key.children = [encodeBase64(bytes)];
  return copy;
}

const isKeyOnly = (s: Element) => s.getChild('sealed', 'urn:xmpp:seal:0') !== undefined && s.getChild('sealed', 'urn:xmpp:seal:0')!.getChild('payload') === undefined;
const carriesHandshake = (s: Element) => s.getChild('sealed', 'urn:xmpp:seal:0')!.getChildren('keys').some((k) => k.getChildren('key').some((key) => key.attrs.handshake === 'true'));

describe('§offline.repair: the receiver of a failed message starts a new session itself', () => {
  /**
   * Bob sends two messages on the session he has with Alice; corrupted copies reach Alice first:
   * the first makes her start a new session (the repair), the second, within REPAIR_INTERVAL,
   * nothing. Then everything in flight arrives.
   */
  async function repaired() {
    const { world, alice, aliceWire, bob, bobWire } = await conversation('repair');
    const peer = sessionKey(BOB, bob.state.deviceId);
    const oldSession = toHex(alice.engine.state.peers.get(peer)!.session.ratchet.sessionId);
    await bob.send(ALICE, 'late 1'); // sealed on the old session, still on its way
    const mark = alice.events.length;
    const sentBefore = aliceWire.sent.length;
    await alice.receive(corruptKey(lastSealed(bobWire.sent, `${BOB}/b`), ALICE, alice.state.deviceId));
    const first = { events: since(alice, mark), sent: aliceWire.sent.slice(sentBefore), record: alice.engine.state.peers.get(peer)! };
    await bob.send(ALICE, 'late 2');
    const mark2 = alice.events.length;
    const sent2 = aliceWire.sent.length;
    await alice.receive(corruptKey(lastSealed(bobWire.sent, `${BOB}/b`), ALICE, alice.state.deviceId));
    const second = { events: since(alice, mark2), sent: aliceWire.sent.slice(sent2) };
    const markB = bob.events.length;
    await world.flush();
    return { world, alice, bob, bobWire, peer, oldSession, repairSession: toHex(first.record.session.ratchet.sessionId), mark, markB, first, second };
  }

  it('a corrupted stanza makes Alice start a new session (key-only message with a handshake); late messages on the old session still open; one repair per interval', async () => {
    // @req offline.repair-signal
    // @req offline.repair-reset
    // @req offline.previous-session
    // @req device.key-only
    const { world, alice, bob, bobWire, oldSession, repairSession, mark, markB, first, second } = await repaired();
    expect(failedCodes(first.events)).toEqual(['authentication-failed']);
    expect(first.events).toContainEqual({ kind: 'repair-sent', peer: { jid: BOB, deviceId: bob.state.deviceId }, reason: 'authentication-failed' });
    expect(first.sent).toHaveLength(1);
    expect(isKeyOnly(first.sent[0]!) && carriesHandshake(first.sent[0]!)).toBe(true);
    expect(repairSession).not.toBe(oldSession);
    expect(toHex(first.record.session.alternate!.sessionId)).toBe(oldSession); // kept for late messages
    // The second failure, within the interval, started nothing.
    expect(kinds(second.events)).toEqual(['failed']);
    expect(second.sent).toEqual([]);
    // Everything in flight arrived: the late messages opened on the old session, Bob took up the new one.
    expect(opened(since(alice, mark))).toEqual(['late 1', 'late 2']);
    expect(kinds(since(bob, markB))).toEqual(['session-started', 'repair-received']);
    expect(bob.events.filter((e) => e.kind === 'session-started').at(-1)).toMatchObject({ sessionId: repairSession, role: 'responder' });
    // After REPAIR_INTERVAL, a failure may start a new session again.
    world.advance(DEVICE_CONSTANTS.REPAIR_INTERVAL);
    await bob.send(ALICE, 'later');
    const mark3 = alice.events.length;
    await alice.receive(corruptKey(lastSealed(bobWire.sent, `${BOB}/b`), ALICE, alice.state.deviceId));
    expect(kinds(since(alice, mark3))).toContain('repair-sent');
  });

  it('after a repair both sides send on the new session (late messages on the old one do not pull the repairing device back), the previous session goes once the new one carried messages both ways, and a later repair loses nothing', async () => {
    // @req offline.previous-session
    // @req offline.simultaneous
    // @req offline.repair-reset
    const { world, alice, bob, bobWire, peer, repairSession, mark } = await repaired();
    const activeOf = (c: SealClient, k: string) => toHex(c.engine.state.peers.get(k)!.session.ratchet.sessionId);
    const back = sessionKey(ALICE, alice.state.deviceId);
    expect(activeOf(bob, back)).toBe(repairSession);
    expect(activeOf(alice, peer)).toBe(repairSession);
    await bob.send(ALICE, 'on the new session');
    await world.flush();
    await alice.send(BOB, 'and back');
    await world.flush();
    await bob.send(ALICE, 'and again');
    await world.flush();
    expect(opened(since(alice, mark))).toEqual(['late 1', 'late 2', 'on the new session', 'and again']);
    expect(opened(bob.events).at(-1)).toBe('and back');
    // The new session carried messages both ways: the previous one is dropped, on both sides.
    expect(alice.engine.state.peers.get(peer)!.session.alternate).toBeUndefined();
    expect(bob.engine.state.peers.get(back)!.session.alternate).toBeUndefined();
    // A second repair an hour later: Bob's message on the session he sends with still opens.
    world.advance(DEVICE_CONSTANTS.REPAIR_INTERVAL);
    await bob.send(ALICE, 'later');
    const mark3 = alice.events.length;
    await alice.receive(corruptKey(lastSealed(bobWire.sent, `${BOB}/b`), ALICE, alice.state.deviceId));
    expect(kinds(since(alice, mark3))).toContain('repair-sent');
    await world.flush();
    expect(opened(since(alice, mark3))).toEqual(['later']);
    expect(activeOf(alice, peer)).toBe(activeOf(bob, back));
  });

  it('a repair never takes a substituted bundle: the new session needs the listed key, and the old one stays', async () => {
    // @req offline.repair-reset
    // @req device.session-binding
    const { world, alice, aliceWire, bob, bobWire } = await conversation('repair substituted bundle');
    const peer = sessionKey(BOB, bob.state.deviceId);
    const before = alice.engine.state.peers.get(peer)!;
    const mallory = impostor(world, BOB, bob.state.deviceId, 'bundle impostor');
    world.server.adversary.rewritePepItem = (owner, node) => (owner === BOB && node === bundleNode(bob.state.deviceId) ? xml('item', { id: ITEM_ID }, [BundleElement.toXml(bundleOf(mallory))]) : undefined);
    await bob.send(ALICE, 'after the attack');
    const genuine = lastSealed(bobWire.sent, `${BOB}/b`);
    const mark = alice.events.length;
    const sent = aliceWire.sent.length;
    await alice.receive(corruptKey(genuine, ALICE, alice.state.deviceId));
    const events = since(alice, mark);
    expect(failedCodes(events)).toEqual(['authentication-failed', 'identity-key-changed']);
    expect(kinds(events)).not.toContain('repair-sent');
    expect(kinds(events)).not.toContain('session-started');
    expect(aliceWire.sent.length).toBe(sent);
    expect(alice.engine.state.peers.get(peer)).toBe(before);
    delete world.server.adversary.rewritePepItem;
    await world.flush();
    expect(opened(since(alice, mark))).toEqual(['after the attack']);
  });

  it('no repair for archive results, error bounces, old message keys, or a device on no list', async () => {
    // @req offline.repair-signal
    // @req device.no-repair-for-bounces
    const { world, alice, aliceWire, aliceStore, bob, bobWire } = await conversation('no repair');
    const quiet = async (stanza: Element, expected: SealEvent['kind'][], code?: string) => {
      const sent = aliceWire.sent.length;
      const before = JSON.stringify(aliceStore.snapshot());
      const mark = alice.events.length;
      await alice.receive(stanza);
      const events = since(alice, mark);
      expect(kinds(events), stanza.toString().slice(0, 100)).toEqual(expected);
      if (code !== undefined) expect(failedCodes(events)).toEqual([code]);
      expect(aliceWire.sent.length).toBe(sent);
      expect(JSON.stringify(aliceStore.snapshot())).toBe(before);
      expect(alice.engine.state.pendingRepairs.size).toBe(0);
    };
    // An archive result of Alice's own query carrying a corrupted message.
    await alice.fetchArchive();
    await world.flush();
    const queryid = [...alice.engine.state.queries][0]!;
    await bob.send(ALICE, 'fresh');
    const fresh = lastSealed(bobWire.sent, `${BOB}/b`);
    await quiet(archiveResultOf(ALICE, `${ALICE}/a`, queryid, corruptKey(fresh, ALICE, alice.state.deviceId)), ['failed'], 'authentication-failed');
    // An error bounce of a message Alice sent: reported, never answered.
    await quiet(xml('message', { type: 'error', from: BOB, to: `${ALICE}/a`, id: 'seal-1' }, [xml('error', { type: 'cancel' }, [xml('service-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })])]), ['bounced']);
    expect(alice.events.at(-1)).toEqual({ kind: 'bounced', stanzaId: 'seal-1', to: BOB, condition: 'service-unavailable' });
    // A bounce that carries the sealed message back (as servers do) is still only a bounce.
    const echoed = lastSealed(bobWire.sent, `${BOB}/b`);
    echoed.attrs.type = 'error';
    echoed.children.push(xml('error', { type: 'cancel' }, [xml('recipient-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })]));
    await quiet(echoed, ['bounced']);
    // An old message (its key used) re-sent with another ciphertext: message-key-unavailable.
    await world.flush();
    expect(opened(alice.events).at(-1)).toBe('fresh');
    await quiet(corruptKey(fresh, ALICE, alice.state.deviceId), ['failed'], 'message-key-unavailable');
    // A replay of it as it was: a duplicate.
    await quiet(fresh, ['duplicate']);
    // A corrupted message from a device on none of Bob's lists: the list is fetched, no session started.
    const invented = createDeviceState({ jid: BOB, now: world.now(), rng: seededRng('invented 2'), oneTimePrekeys: 1 });
    const forged = forgedHandshake(world, invented, `${BOB}/b`, ALICE, alice.state.deviceId, 'x', 'inv2');
    const noHandshake = parseXml(forged.stanza.toString());
    const key = noHandshake.getChild('sealed', 'urn:xmpp:seal:0')!.getChild('keys')!.getChild('key')!;
    delete key.attrs.handshake; // now claims an existing session: no-session
    const mark = alice.events.length;
    const sent = aliceWire.sent.length;
    await alice.receive(noHandshake);
    expect(failedCodes(since(alice, mark))[0]).toBeDefined();
    expect(kinds(since(alice, mark))).not.toContain('repair-sent');
    expect(aliceWire.sent.length).toBe(sent);
    expect(alice.sessions.has(sessionKey(BOB, invented.deviceId))).toBe(false);
    expect(alice.engine.state.pendingRepairs.size).toBe(0);
  });
});

/** The device list `jid` publishes now (the value of its item). */
function publishedList(world: SealWorld, jid: BareJid): DeviceListValue {
  return DeviceListElement.fromXml(childElements(world.server.pepItems(jid, DEVICE_LIST_NODE)[0]!)[0]!);
}

const listItem = (list: DeviceListValue) => xml('item', { id: ITEM_ID }, [DeviceListElement.toXml(list)]);

describe('§device.account-key: device lists are signed by an account key; rollback and key changes per account key', () => {
  it('the first device signs the list; a second device needs the account key and joins the signed list', async () => {
    // @req device.account-key
    const world = new SealWorld('account key');
    const { client: first } = await world.client(`${ALICE}/a`);
    const list = publishedList(world, ALICE);
    expect(list.account).toBeDefined();
    const accountKey = toHex(list.account!.accountKey);
    expect(toHex(ed25519PublicKeyOf(first.dangerouslyAccountSecret()!))).toBe(accountKey);
    // Without the account key, a new device cannot add itself.
    const store = new MemoryStore();
    await expect(SealClient.create({ connection: world.server.connect(`${ALICE}/b`), store, now: world.now, rng: world.rng })).rejects.toMatchObject({ name: 'SealError', code: 'account-key-required' });
    expect(store.snapshot()).toEqual([]);
    expect(publishedList(world, ALICE).devices).toHaveLength(1);
    // With it, the device joins, and the list stays signed by the same key.
    const { client: second } = await world.client(`${ALICE}/b`, { accountSecret: first.dangerouslyAccountSecret()! });
    const joined = publishedList(world, ALICE);
    expect(joined.devices.map((d) => d.id).sort()).toEqual([first.state.deviceId, second.state.deviceId].sort());
    expect(toHex(joined.account!.accountKey)).toBe(accountKey);
    expect(joined.issued).toBeGreaterThan(list.issued);
    // A wrong account key is refused too.
    const wrong = createDeviceState({ jid: ALICE, now: world.now(), rng: seededRng('wrong'), oneTimePrekeys: 0 }).signingKey;
    await expect(SealClient.create({ connection: world.server.connect(`${ALICE}/c`), now: world.now, rng: world.rng, accountSecret: wrong })).rejects.toMatchObject({ code: 'authentication-failed' });
  });

  it('an older list of the accepted account key is refused (stale-device-list) and the stored list stays', async () => {
    // @req identity.device-list-rollback
    const { world, alice, bob } = await conversation('rollback');
    await world.client(`${BOB}/b2`, { accountSecret: bob.dangerouslyAccountSecret()! });
    await alice.refreshDeviceList(BOB);
    const accepted = alice.engine.trustOf(BOB)!.list!;
    expect(accepted.devices).toHaveLength(2);
    const record = JSON.stringify(alice.engine.trustOf(BOB));
    const oldest = world.server.pepHistory(BOB, DEVICE_LIST_NODE)[0]!;
    expect(DeviceListElement.fromXml(childElements(oldest)[0]!).issued).toBeLessThan(accepted.issued);
    world.server.adversary.rewritePepItem = (owner, node) => (owner === BOB && node === DEVICE_LIST_NODE ? oldest : undefined);
    const mark = alice.events.length;
    await alice.refreshDeviceList(BOB);
    expect(since(alice, mark)).toMatchObject([{ kind: 'failed', code: 'stale-device-list' }]);
    expect(JSON.stringify(alice.engine.trustOf(BOB))).toBe(record);
    // Sending still reaches both of Bob's devices.
    await alice.send(BOB, 'to both');
    expect(alice.sessions.size).toBe(2);
  });

  it('a list under another account key waits for the user; once accepted, the new key and its time are recorded, so an older or unsigned list is refused or flagged', async () => {
    // @req identity.key-change
    // @req device.account-key
    // @req identity.device-list-rollback
    const { world, alice, aliceWire, aliceStore } = await conversation('account key change');
    const original = publishedList(world, BOB);
    const oldKey = toHex(original.account!.accountKey);
    const newSecret = createDeviceState({ jid: BOB, now: world.now(), rng: seededRng('new account key'), oneTimePrekeys: 0 }).signingKey;
    const newKey = toHex(ed25519PublicKeyOf(newSecret));
    const reissued = createDeviceList(BOB, original.devices, original.issued + 100, { secretKey: newSecret });
    world.server.adversary.rewritePepItem = (owner, node) => (owner === BOB && node === DEVICE_LIST_NODE ? listItem(reissued) : undefined);
    const accountRecord = () => alice.engine.trustOf(BOB)!;
    const mark = alice.events.length;
    await alice.refreshDeviceList(BOB);
    expect(since(alice, mark)).toEqual([{ kind: 'decision-needed', jid: BOB, deviceId: undefined, reason: 'account-key-changed', key: newKey, previousKey: oldKey }]);
    expect(accountRecord().trust.accountKey?.key).toBe(oldKey);
    expect(accountRecord().list!.issued).toBe(original.issued);
    // Asked once: the same list again asks nothing new.
    await alice.refreshDeviceList(BOB);
    expect(since(alice, mark).filter((e) => e.kind === 'decision-needed')).toHaveLength(1);

    await alice.decide(BOB, 'account', newKey, 'undecided');
    expect(accountRecord().trust.accountKey).toEqual({ key: newKey, level: 'undecided' });
    expect(accountRecord().list!.issued).toBe(reissued.issued);
    expect(accountRecord().pendingAccount).toBeUndefined();
    // Persisted: the device restarted from its store has the new key and time.
    await aliceWire.connection.close();
    const restarted = (await world.client(`${ALICE}/a`, { store: aliceStore })).client;
    const accountRecord2 = () => restarted.engine.trustOf(BOB)!;
    expect(restarted.engine.trustOf(BOB)!.trust.accountKey).toEqual({ key: newKey, level: 'undecided' });
    expect(restarted.engine.trustOf(BOB)!.list!.issued).toBe(reissued.issued);

    // An older list signed by the new key: refused.
    const older = createDeviceList(BOB, original.devices, original.issued + 50, { secretKey: newSecret });
    world.server.adversary.rewritePepItem = (owner, node) => (owner === BOB && node === DEVICE_LIST_NODE ? listItem(older) : undefined);
    const mark2 = restarted.events.length;
    await restarted.refreshDeviceList(BOB);
    expect(since(restarted, mark2)).toMatchObject([{ kind: 'failed', code: 'stale-device-list' }]);
    expect(accountRecord2().list!.issued).toBe(reissued.issued);
    // An unsigned list: flagged (account-key-removed), not accepted.
    const unsigned = createDeviceList(BOB, original.devices, original.issued + 200);
    world.server.adversary.rewritePepItem = (owner, node) => (owner === BOB && node === DEVICE_LIST_NODE ? listItem(unsigned) : undefined);
    const mark3 = restarted.events.length;
    await restarted.refreshDeviceList(BOB);
    expect(since(restarted, mark3)).toEqual([{ kind: 'decision-needed', jid: BOB, deviceId: undefined, reason: 'account-key-removed', key: '', previousKey: newKey }]);
    expect(accountRecord2().list!.issued).toBe(reissued.issued);
    expect(accountRecord2().list!.accountKey).toBeDefined();
    // The old account key's (genuine) list is now the one that needs a decision.
    delete world.server.adversary.rewritePepItem;
    const mark4 = restarted.events.length;
    await restarted.refreshDeviceList(BOB);
    expect(since(restarted, mark4)).toMatchObject([{ kind: 'decision-needed', reason: 'account-key-changed', key: oldKey, previousKey: newKey }]);
    expect(accountRecord2().list!.issued).toBe(reissued.issued);
  });
});

const SEAL = 'urn:xmpp:seal:0';

describe('§device.receive-never-throws: receive() resolves whatever arrives, and a failure changes nothing', () => {
  it('malformed sealed and interactive elements, repair signals and junk: typed failures or nothing, never an exception, no state change', async () => {
    // @req device.receive-never-throws
    const { world, alice, aliceStore, bob, bobWire } = await conversation('never throws');
    await bob.send(ALICE, 'real');
    const real = lastSealed(bobWire.sent, `${BOB}/b`);
    const variant = (edit: (sealed: Element, message: Element) => void) => {
      const copy = parseXml(real.toString());
      edit(copy.getChild('sealed', SEAL)!, copy);
      return copy;
    };
    const from = `${BOB}/b`;
    const to = `${ALICE}/a`;
    const junk: Element[] = [
      xml('message', { from, to }, [xml('sealed', { xmlns: SEAL })]),
      xml('message', { from, to }, [xml('sealed', { xmlns: SEAL, sid: 'x' })]),
      xml('message', { from, to }, [xml('sealed', { xmlns: SEAL, sid: '0' }, [xml('keys', { jid: ALICE }, [xml('key', { rid: String(alice.state.deviceId) }, ['!!'])])])]),
      xml('message', { from, to }, [xml('sealed', { xmlns: SEAL, sid: '99999999999' })]),
      variant((s) => { s.attrs.sid = '-1'; }),
      variant((s) => { s.getChild('keys')!.getChild('key')!.attrs.handshake = 'yes'; }),
      variant((s) => { s.getChild('keys')!.getChild('key')!.attrs.handshake = 'true'; }),
      variant((s) => { s.getChild('keys')!.getChild('key')!.children = ['AAAA']; }),
      variant((s) => { s.getChild('payload')!.attrs.commitment = 'AAAA'; }),
      variant((s) => { s.getChild('payload')!.children = []; }),
      variant((s) => { s.children.push(xml('payload', { commitment: 'AA==' }, ['AA=='])); }),
      variant((s) => { s.remove('payload'); }),
      variant((s) => { s.children.push(xml('unexpected', {})); }),
      variant((s) => { s.getChild('keys')!.attrs.jid = 'not a jid'; }),
      variant((_s, m) => { m.attrs.from = ''; }),
      variant((_s, m) => { delete m.attrs.from; }),
      variant((_s, m) => { m.attrs.from = '@/'; }),
      variant((_s, m) => { m.attrs.from = `${'x'.repeat(2000)}@example.org/r`; }),
      variant((_s, m) => { m.attrs.to = 'someone@else.example'; }),
      xml('message', { from, to }, [xml('repair', { xmlns: SEAL, device: 'x', sender: '-5', reason: '' })]),
      xml('message', { from, to }, [xml('repair', { xmlns: SEAL, device: String(alice.state.deviceId), sender: String(bob.state.deviceId), reason: 'no-session' })]),
      xml('message', { from, to }, [xml('interactive', { xmlns: SEAL })]),
      xml('message', { from, to }, [xml('interactive', { xmlns: SEAL, sid: 'abcdefgh', step: '1', device: String(bob.state.deviceId) }, ['AAAA'])]),
      xml('message', { from, to }, [xml('interactive', { xmlns: SEAL, sid: 'abcdefgh', step: '2', device: String(bob.state.deviceId) }, ['AAAA'])]),
      xml('message', { from, to }, [xml('interactive', { xmlns: SEAL, sid: 'abcdefgh', step: '3', device: '1' }, ['AAAA'])]),
      xml('message', { from, to }, [xml('interactive', { xmlns: SEAL, sid: '$$', step: '7', device: '0' }, ['%%'])]),
      xml('message', { from: 'nobody', to }, [xml('interactive', { xmlns: SEAL, sid: 'abcdefgh', step: '1', device: '5' }, ['AAAA'])]),
      xml('message', { from: BOB, to, type: 'headline' }, [xml('event', { xmlns: 'http://jabber.org/protocol/pubsub#event' }, [xml('items', { node: DEVICE_LIST_NODE }, [xml('item', { id: ITEM_ID }, [xml('devices', { xmlns: SEAL, issued: 'yesterday' })])])])]),
      xml('message', { from: '', to, type: 'headline' }, [xml('event', { xmlns: 'http://jabber.org/protocol/pubsub#event' }, [xml('items', { node: DEVICE_LIST_NODE }, [xml('item', { id: ITEM_ID })])])]),
      xml('message', { from: ALICE, to }, [xml('received', { xmlns: CARBONS }), xml('sent', { xmlns: CARBONS })]),
      xml('message', { from: ALICE, to }, [xml('received', { xmlns: CARBONS }, [xml('forwarded', { xmlns: FORWARD })])]),
      xml('message', { type: 'error' }),
      xml('presence', { from }),
      xml('iq', { from, type: 'get' }),
      xml('message', {}),
      xml('message', { from, to }, ['just text']),
    ];
    const without = (tables: string[]) => JSON.stringify(aliceStore.snapshot().filter((r) => !tables.includes(r.table)));
    for (const stanza of junk) {
      const before = { all: without([]), unheld: without(['held', 'meta']) };
      const mark = alice.events.length;
      await expect(alice.receive(stanza)).resolves.toBeDefined();
      const events = since(alice, mark);
      expect(opened(events), stanza.toString()).toEqual([]);
      for (const e of events) expect(['failed', 'bounced', 'held', 'decision-needed', 'session-started', 'repair-sent'], stanza.toString().slice(0, 200)).toContain(e.kind);
      // A failure changes nothing, except that a corrupted message from a listed device starts a
      // new session (a repair), and a stanza from an unknown device is held for its list.
      if (kinds(events).includes('repair-sent')) continue;
      if (kinds(events).includes('held')) expect(without(['held', 'meta']), stanza.toString().slice(0, 200)).toBe(before.unheld);
      else expect(without([]), stanza.toString().slice(0, 200)).toBe(before.all);
    }
    expect(kinds(alice.events)).toContain('repair-sent');
    // The real message still opens.
    await world.flush();
    expect(opened(alice.events).at(-1)).toBe('real');
  });

  it('a store whose commit rejects: receive resolves, nothing changed, and the same stanza opens later', async () => {
    // @req device.receive-never-throws
    // @req device.commit-first
    const { alice, aliceStore, bob, bobWire } = await conversation('commit fails');
    await bob.send(ALICE, 'after a failed commit');
    const stanza = lastSealed(bobWire.sent, `${BOB}/b`);
    const before = JSON.stringify(aliceStore.snapshot());
    const state = alice.engine.state;
    const received = alice.received.length;
    aliceStore.failNextCommit = true;
    await expect(alice.receive(stanza)).resolves.toEqual([]);
    expect(JSON.stringify(aliceStore.snapshot())).toBe(before);
    expect(alice.engine.state).toBe(state);
    expect(alice.received.length).toBe(received);
    const events = await alice.receive(stanza);
    expect(opened(events)).toEqual(['after a failed commit']);
  });

  it('a connection whose send rejects: receive resolves, the message opens, the stanza to send stays in the outbox', async () => {
    // @req device.receive-never-throws
    // @req device.outbox
    const world = new SealWorld('send fails');
    const a = await world.client(`${ALICE}/a`);
    const b = await world.client(`${BOB}/b`);
    await b.client.send(ALICE, 'first contact'); // a handshake: Alice answers with a key-only confirmation
    const errors: unknown[] = [];
    a.wire.failSends = 1;
    const mark = a.client.events.length;
    await expect(a.client.receive(lastSealed(b.wire.sent, `${BOB}/b`))).resolves.toBeDefined();
    expect(opened(since(a.client, mark))).toEqual(['first contact']);
    expect(a.wire.failSends).toBe(0); // the confirmation was attempted, and failed
    expect(a.client.engine.state.outbox.size).toBe(1);
    expect((a.client.store as MemoryStore).snapshot().filter((r) => r.table === 'outbox')).toHaveLength(1);
    expect(errors).toEqual([]);
  });
});

describe.each(['prosody', 'ejabberd'] as const)('§identity.pep-errors through SealClient.create (%s)', (flavour) => {
  it('a device-list node another client created with access model presence is reconfigured, and create succeeds', async () => {
    // @req identity.pep-errors
    const world = new SealWorld(`pep errors ${flavour}`);
    const server = new EmbeddedServer({ clock: () => world.clock, rng: seededRng(`pep ${flavour}`), flavour });
    for (const jid of [ALICE, BOB]) server.createAccount(jid);
    // An older client of Alice's created the node with the default access model and an unsigned list.
    const legacy = createDeviceState({ jid: ALICE, now: world.now(), rng: seededRng('legacy'), oneTimePrekeys: 0 });
    const legacyList = createDeviceList(ALICE, [{ id: legacy.deviceId, added: world.now(), signingKey: ed25519PublicKeyOf(legacy.signingKey) }], world.now());
    const tablet = server.connect(`${ALICE}/tablet`);
    await tablet.iq(publishIq('legacy', DEVICE_LIST_NODE, ITEM_ID, DeviceListElement.toXml(legacyList), {}));
    const bobConnection = server.connect(`${BOB}/b`);
    await expect(fetchItem(bobConnection, ALICE, DEVICE_LIST_NODE)).rejects.toMatchObject({ type: 'auth' });

    const requests: string[] = [];
    const connection = server.connect(`${ALICE}/a`);
    const watched = { ...connection, jid: connection.jid, send: connection.send.bind(connection), onStanza: connection.onStanza.bind(connection), close: connection.close.bind(connection), iq: (iq: Element) => {
      const pubsub = childElements(iq)[0]!;
      requests.push(`${iq.attrs.type} ${childElements(pubsub).find((c) => c.name !== 'publish-options')?.name ?? pubsub.name}`);
      return connection.iq(iq);
    } };
    const alice = await SealClient.create({ connection: watched, now: world.now, rng: world.rng, oneTimePrekeys: 2 });
    expect(requests).toContain('set configure');
    // Bob (another account) can now read the list: Alice's new device joined it, signed.
    const list = DeviceListElement.fromXml((await fetchItem(bobConnection, ALICE, DEVICE_LIST_NODE))!);
    expect(list.devices.map((d) => d.id).sort()).toEqual([legacy.deviceId, alice.state.deviceId].sort());
    expect(list.account).toBeDefined();
  });
});

describe('§device.store: a restarted device is the same device, and a crash loses nothing and opens nothing twice', () => {
  /** Closes `old`'s connection and starts the device again over `store` on a new connection of the same full JID. */
  async function restart(world: SealWorld, old: { wire: { connection: { close(): Promise<void> } } } | undefined, fullJid: string, store: MemoryStore) {
    if (old !== undefined) await old.wire.connection.close();
    return world.client(fullJid, { store });
  }

  it('70 restarts keep one device on the list, its id, sessions and trust; the conversation continues', async () => {
    // @req device.commit-first
    // @req identity.state-validate
    const world = new SealWorld('restarts');
    const store = new MemoryStore();
    let a = await world.client(`${ALICE}/a`, { store });
    const { client: bob } = await world.client(`${BOB}/b`);
    const id = a.client.state.deviceId;
    for (let i = 0; i < 70; i++) {
      if (i % 10 === 0) {
        await a.client.send(BOB, `a${i}`);
        await world.flush();
        await bob.send(ALICE, `b${i}`);
        await world.flush();
      }
      const sessions = [...a.client.sessions.keys()];
      const trust = a.client.engine.trustOf(BOB);
      a = await restart(world, a, `${ALICE}/a`, store);
      expect(a.client.state.deviceId).toBe(id);
      expect([...a.client.sessions.keys()]).toEqual(sessions);
      expect(a.client.engine.trustOf(BOB)).toEqual(trust);
    }
    expect(publishedList(world, ALICE).devices.map((d) => d.id)).toEqual([id]);
    await a.client.send(BOB, 'after 70 restarts');
    await world.flush();
    await bob.send(ALICE, 'welcome back');
    await world.flush();
    expect(opened(bob.events)).toEqual([...Array.from({ length: 7 }, (_, i) => `a${i * 10}`), 'after 70 restarts']);
    expect(opened(a.client.events)).toEqual(['welcome back']);
    expect(failedCodes([...a.client.events, ...bob.events])).toEqual([]);
    expect(bob.events.filter((e) => e.kind === 'session-started')).toHaveLength(1); // never a new session
  });

  it('a commit that fails while a message arrives opens nothing; after a restart the message comes from the archive and opens once', async () => {
    // @req device.commit-first
    // @req offline.forwarded-archive
    const { world, aliceWire, aliceStore, alice, bob } = await conversation('crash on receive');
    await bob.send(ALICE, 'lost in the crash');
    aliceStore.failNextCommit = true;
    const mark = alice.events.length;
    await world.flush();
    expect(opened(since(alice, mark))).toEqual([]);
    const again = await restart(world, { wire: aliceWire }, `${ALICE}/a`, aliceStore);
    await again.client.fetchArchive();
    await world.flush();
    await again.client.fetchArchive(); // and once more: still only once
    await world.flush();
    expect(again.client.events.filter((e) => e.kind === 'opened')).toMatchObject([{ body: 'lost in the crash', via: 'archive' }]);
    expect(failedCodes(again.client.events)).toEqual([]);
  });

  it('an opened message the application had not taken before a crash is delivered again with the same eventId, and only once', async () => {
    // @req device.inbox
    const { world, alice, bob } = await conversation('crash before delivered');
    let crashed: StoreRecord[] | undefined;
    let eventId: string | undefined;
    alice.onEvent((e) => {
      if (e.kind === 'opened' && crashed === undefined) {
        eventId = e.eventId;
        crashed = (alice.store as MemoryStore).snapshot(); // committed, not yet acknowledged
      }
    });
    await bob.send(ALICE, 'deliver me again');
    await world.flush();
    expect(crashed!.filter((r) => r.table === 'inbox')).toHaveLength(1);
    expect(alice.engine.state.inbox.size).toBe(0); // acknowledged in the run that did not crash
    // The device restarts from the store as it was at the crash.
    const store = new MemoryStore(crashed);
    const again = await world.client(`${ALICE}/a`, { store });
    expect(again.client.events).toMatchObject([{ kind: 'opened', eventId, body: 'deliver me again' }]);
    expect(store.snapshot().filter((r) => r.table === 'inbox')).toEqual([]);
    // A second restart delivers nothing.
    const third = await world.client(`${ALICE}/a`, { store });
    expect(opened(third.client.events)).toEqual([]);
  });

  it('a stanza whose send failed stays in the outbox and is sent after a restart, once', async () => {
    // @req device.outbox
    const { world, alice, aliceWire, aliceStore, bob } = await conversation('outbox');
    aliceWire.failSends = 1;
    await alice.send(BOB, 'sent after the restart');
    await world.flush();
    expect(opened(bob.events)).toEqual(['hello bob']);
    expect(aliceStore.snapshot().filter((r) => r.table === 'outbox')).toHaveLength(1);
    const again = await restart(world, { wire: aliceWire }, `${ALICE}/a`, aliceStore);
    await world.flush();
    expect(opened(bob.events)).toEqual(['hello bob', 'sent after the restart']);
    expect(aliceStore.snapshot().filter((r) => r.table === 'outbox')).toEqual([]);
    await restart(world, again, `${ALICE}/a`, aliceStore);
    await world.flush();
    expect(opened(bob.events)).toEqual(['hello bob', 'sent after the restart']);
  });
});

describe('§device: the smaller defects of issue 13', () => {
  it('a send racing with receives loses nothing (per-device serialization)', async () => {
    // @req device.commit-first
    const world = new SealWorld('race');
    const a = await world.client(`${ALICE}/a`);
    const b = await world.client(`${BOB}/b`);
    await b.client.send(ALICE, 'b1'); // a new session from Bob, not yet delivered
    await b.client.send(ALICE, 'b2');
    const fromBob = b.wire.sent.filter((s) => s.getChild('sealed', SEAL) !== undefined).map((s) => lastSealed([s], `${BOB}/b`));
    // Alice sends while Bob's handshake is being received: nothing awaited in between.
    const racing = [a.client.receive(fromBob[0]!), a.client.send(BOB, 'a1'), a.client.receive(fromBob[1]!), a.client.send(BOB, 'a2')];
    await Promise.all(racing);
    await world.flush();
    expect(opened(a.client.events)).toEqual(['b1', 'b2']);
    expect(opened(b.client.events)).toEqual(['a1', 'a2']);
    for (let i = 0; i < 3; i++) {
      await Promise.all([a.client.send(BOB, `a${i + 3}`), b.client.send(ALICE, `b${i + 3}`)]);
      await world.flush();
    }
    expect(opened(a.client.events)).toEqual(['b1', 'b2', 'b3', 'b4', 'b5']);
    expect(opened(b.client.events)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(failedCodes([...a.client.events, ...b.client.events])).toEqual([]);
    // Both ended on the same active session.
    expect(toHex(a.client.engine.state.peers.get(sessionKey(BOB, b.client.state.deviceId))!.session.ratchet.sessionId)).toBe(toHex(b.client.engine.state.peers.get(sessionKey(ALICE, a.client.state.deviceId))!.session.ratchet.sessionId));
  });

  it('pending interactive handshakes are bounded and expire after the 60 s timeout', async () => {
    // @req handshake.interactive-timeout
    // @req device.bounds
    const { world, alice, aliceWire, bob } = await conversation('interactive expiry');
    for (let i = 0; i < DEVICE_CONSTANTS.MAX_PENDING_INTERACTIVE + 4; i++) await alice.startInteractive(`${BOB}/b`, bob.state.deviceId);
    expect(alice.engine.state.interactive.size).toBe(DEVICE_CONSTANTS.MAX_PENDING_INTERACTIVE);
    const first = lastInteractive(aliceWire.sent);
    world.advance(61);
    await alice.tick();
    expect(alice.engine.state.interactive.size).toBe(0);
    // Bob's (late) answers to all of them start nothing.
    const mark = alice.events.length;
    await world.flush();
    expect(kinds(since(alice, mark)).filter((k) => k === 'session-started')).toEqual([]);
    expect(first.value.step).toBe(1);
  });

  it('sending to an account without Seal is an error the caller sees (no-devices); nothing is sent', async () => {
    // @req device.send-no-device
    const { alice, aliceWire } = await conversation('no devices');
    const sent = aliceWire.sent.length;
    await expect(alice.send(MALLORY, 'anyone there?')).rejects.toMatchObject({ name: 'SealError', code: 'no-devices' });
    expect(aliceWire.sent.length).toBe(sent);
    // An account that does not exist: the fetch of its list fails, and that is thrown too.
    await expect(alice.send(bareJid('nobody@example.org'), 'x')).rejects.toThrow();
    expect(aliceWire.sent.length).toBe(sent);
  });

  it('failed events carry the SealError code of the failure', async () => {
    // @req device.receive-never-throws
    const { alice, bob, bobWire } = await conversation('failed codes');
    await bob.send(ALICE, 'x');
    const stanza = lastSealed(bobWire.sent, `${BOB}/b`);
    const tampered = parseXml(stanza.toString());
    tampered.getChild('sealed', SEAL)!.getChild('payload')!.attrs.commitment = encodeBase64(new Uint8Array(32));
    const events = await alice.receive(tampered);
    const failed = events.find((e) => e.kind === 'failed')!;
    expect(failed).toMatchObject({ kind: 'failed', code: 'authentication-failed', from: { jid: BOB, deviceId: bob.state.deviceId }, via: 'live', stanzaId: stanza.attrs.id });
    for (const e of alice.events) if (e.kind === 'failed') expect([...SEAL_ERROR_CODES, 'not-for-this-device']).toContain(e.code);
  });

  it(`a key-only heartbeat goes back after ${DEVICE_CONSTANTS.HEARTBEAT_INTERVAL} messages received without sending`, async () => {
    // @req device.key-only
    const { world, alice, aliceWire, bob } = await conversation('heartbeat');
    const keyOnlyToBob = () => aliceWire.sent.filter((s) => isKeyOnly(s) && s.attrs.to === BOB).length;
    const peer = sessionKey(BOB, bob.state.deviceId);
    const base = keyOnlyToBob();
    // Key-only messages count too: Bob's confirmation already made one.
    const already = alice.engine.state.peers.get(peer)!.receivedSinceSend;
    expect(already).toBeGreaterThan(0);
    for (let round = 0; round < 2; round++) {
      const start = round === 0 ? already : 0;
      for (let i = start + 1; i <= DEVICE_CONSTANTS.HEARTBEAT_INTERVAL; i++) {
        await bob.send(ALICE, `one way ${round}.${i}`);
        await world.flush();
        expect(keyOnlyToBob(), `round ${round}, message ${i}`).toBe(base + round + (i === DEVICE_CONSTANTS.HEARTBEAT_INTERVAL ? 1 : 0));
      }
      expect(alice.engine.state.peers.get(peer)!.receivedSinceSend).toBe(0);
    }
    expect(opened(bob.events)).toEqual(['hello bob']); // heartbeats are not messages
    expect(failedCodes(bob.events)).toEqual([]);
  });
});

describe('§device.bounds: what a sender can make a device keep is bounded, whatever device ids it invents', () => {
  it('300 first messages from invented device ids of one account: held stanzas, keys waiting for a decision and prompts stay bounded', async () => {
    // @req device.bounds
    // @req device.unlisted-device
    const world = new SealWorld('bounds');
    const store = new MemoryStore();
    const { client: alice } = await world.client(`${ALICE}/a`, { store });
    const mallory = createDeviceState({ jid: MALLORY, now: world.now(), rng: seededRng('mallory device'), oneTimePrekeys: 1 });
    const forged = forgedHandshake(world, mallory, `${MALLORY}/x`, ALICE, alice.state.deviceId, 'hi', 'bounds');
    // Count the device-list fetches the flood causes (device.bounds: MAX_LIST_FETCHES per LIST_FETCH_INTERVAL).
    let listFetches = 0;
    world.server.adversary.refusePepRequest = (owner, request) => {
      if (owner === MALLORY && request.getChild('items')?.attrs.node === DEVICE_LIST_NODE) listFetches++;
      return undefined;
    };
    // The key is read from the handshake header before any verification: only the device id changes.
    for (let i = 0; i < 300; i++) {
      const stanza = parseXml(forged.stanza.toString());
      stanza.getChild('sealed', SEAL)!.attrs.sid = String(1000 + i);
      await alice.receive(stanza);
    }
    expect(listFetches).toBeGreaterThan(0);
    expect(listFetches).toBeLessThanOrEqual(DEVICE_CONSTANTS.MAX_LIST_FETCHES);
    // Once the window has passed, a tick fetches the list for the stanzas still waiting for it.
    const waiting = [...alice.engine.state.held.values()].some((h) => h.reason === 'awaiting-device-list');
    expect(waiting).toBe(true);
    const afterFlood = listFetches;
    world.advance(DEVICE_CONSTANTS.LIST_FETCH_INTERVAL);
    await alice.tick();
    expect(listFetches).toBe(afterFlood + 1);
    const bound = DEVICE_CONSTANTS.MAX_HELD_PER_ACCOUNT;
    const account = alice.engine.trustOf(MALLORY)!;
    expect(Object.keys(account.pendingDevices).length).toBeLessThanOrEqual(bound);
    expect(alice.events.filter((e) => e.kind === 'decision-needed').length).toBeLessThanOrEqual(bound);
    expect(alice.engine.state.held.size).toBeLessThanOrEqual(bound);
    expect(store.snapshot().find((r) => r.table === 'account' && r.key === MALLORY)!.value.length).toBeLessThan(10_000);
    expect(opened(alice.events)).toEqual([]);
    // Beyond the bound the stanzas are refused with a typed failure.
    expect(failedCodes(alice.events).filter((c) => c === 'untrusted-key').length).toBeGreaterThan(0);
  });
});

describe('SealEngine.step: the engine without its shell', () => {
  it('computes the next state without changing the engine; failures are typed events with an empty commit; a send that cannot be honoured throws', () => {
    // @req device.receive-never-throws
    // @req device.send-no-device
    // @req offline.forwarded-carbons
    const rng = seededRng('engine step');
    const now = 1795683600;
    const created = SealEngine.create({ jid: ALICE, existingList: undefined, now, rng });
    expect(created.output.commit.put.length).toBeGreaterThan(0);
    expect(created.output.publish.map((p) => p.node)).toContain(DEVICE_LIST_NODE);
    const engine = created.engine;
    engine.adopt(created.state);
    const state = engine.state;
    const inputs: Element[] = [
      xml('message', { from: `${MALLORY}/x`, to: `${ALICE}/a` }, [xml('received', { xmlns: CARBONS }, [xml('forwarded', { xmlns: FORWARD }, [xml('message', { from: `${BOB}/b` }, [xml('sealed', { xmlns: SEAL, sid: '1' })])])])]),
      xml('message', { from: `${BOB}/b`, to: `${ALICE}/a` }, [xml('sealed', { xmlns: SEAL, sid: 'nope' })]),
      // An interactive step in a message (not an iq): ignored (handshake.interactive-iq).
      xml('message', { from: `${BOB}/b`, to: `${ALICE}/a` }, [xml('interactive', { xmlns: SEAL, sid: 'short' })]),
    ];
    const codes: string[] = [];
    for (const stanza of inputs) {
      const { output } = engine.step({ kind: 'stanza', stanza }, { now, rng });
      expect(output.commit).toEqual({ put: [], delete: [] });
      expect(output.send).toEqual([]);
      codes.push(...failedCodes(output.events));
    }
    expect(codes).toEqual(['forged-forward', 'schema-violation']);
    // Iq requests are answered, and change nothing: a malformed step (bad-request, and a failed
    // event), a request without a child (bad-request), one the device does not serve (service-unavailable).
    const answered: [Element, string, string[]][] = [
      [xml('iq', { type: 'set', from: `${BOB}/b`, id: 'i1' }, [xml('interactive', { xmlns: SEAL, sid: 'short' })]), 'bad-request', ['schema-violation']],
      [xml('iq', { type: 'get', from: `${BOB}/b`, id: 'i2' }), 'bad-request', []],
      [xml('iq', { type: 'get', from: `${BOB}/b`, id: 'i3' }, [xml('time', { xmlns: 'urn:xmpp:time' })]), 'service-unavailable', []],
    ];
    for (const [stanza, condition, failures] of answered) {
      const { output } = engine.step({ kind: 'stanza', stanza }, { now, rng });
      expect(output.commit).toEqual({ put: [], delete: [] });
      expect(output.send.map((o) => [o.stanza.attrs.type, o.stanza.attrs.to, o.stanza.attrs.id, o.stanza.getChild('error')?.children.map((c) => (c as Element).name)])).toEqual([['error', `${BOB}/b`, stanza.attrs.id, [condition]]]);
      expect(failedCodes(output.events)).toEqual(failures);
    }
    expect(engine.state).toBe(state);
    // A step that would change something still leaves the engine alone until adopt().
    const queried = engine.step({ kind: 'archive-query', queryid: 'q1' }, { now, rng });
    expect(queried.state.queries.has('q1')).toBe(true);
    expect(engine.state.queries.has('q1')).toBe(false);
    expect(() => engine.step({ kind: 'send', to: BOB, content: [xml('body', {}, ['x'])], id: 'm1' }, { now, rng })).toThrow(expect.objectContaining({ code: 'no-devices' }));
    expect(engine.state).toBe(state);
  });
});

describe('§discovery.omemo: Seal is sticky per contact; a verified OMEMO key can vouch for the account key', () => {
  it('a device list that disappears keeps Seal in use with the last accepted list and tells the user (device-list-withdrawn)', async () => {
    // @req discovery.sticky
    // @req discovery.choice
    const { world, alice, bob } = await conversation('sticky');
    expect(await alice.usesSeal(BOB)).toBe(true);
    expect(await alice.usesSeal(MALLORY)).toBe(false);
    const before = JSON.stringify(alice.engine.trustOf(BOB));
    world.server.adversary.rewritePepItem = (owner, node) => (owner === BOB && node === DEVICE_LIST_NODE ? null : undefined);
    const mark = alice.events.length;
    await alice.refreshDeviceList(BOB);
    expect(kinds(since(alice, mark))).toContain('device-list-withdrawn');
    expect(JSON.stringify(alice.engine.trustOf(BOB))).toBe(before);
    // Seal stays: the message goes to Bob's device, sealed, and opens there.
    const bobMark = bob.events.length;
    await alice.send(BOB, 'still sealed');
    await world.flush();
    expect(opened(since(bob, bobMark))).toEqual(['still sealed']);
    expect(await alice.usesSeal(BOB)).toBe(true);
    // A contact that never had an accepted list produces no such event.
    const other = alice.events.length;
    await alice.refreshDeviceList(MALLORY).catch(() => undefined);
    expect(kinds(since(alice, other))).not.toContain('device-list-withdrawn');
  });

  it('an omemo binding statement on the signed list lets a verified OMEMO key verify the account key; anything else is refused and changes nothing', async () => {
    // @req discovery.omemo-binding
    const { world, alice, bob } = await conversation('omemo vouch');
    const accountSecret = bob.dangerouslyAccountSecret()!;
    const accountKey = ed25519PublicKeyOf(accountSecret);
    const omemo = generateEd25519KeyPair(seededRng('bob omemo identity'));
    const stranger = generateEd25519KeyPair(seededRng('someone else'));
    const current = publishedList(world, BOB);
    const publishWith = (bindings: BindingValue[], issued: number) => {
      const list = createDeviceList(BOB, current.devices, issued, { secretKey: accountSecret, bindings });
      world.server.adversary.rewritePepItem = (owner, node) => (owner === BOB && node === DEVICE_LIST_NODE ? listItem(list) : undefined);
    };
    // No statement yet: refused.
    await alice.refreshDeviceList(BOB);
    const record = JSON.stringify(alice.engine.trustOf(BOB));
    await expect(alice.omemoVouch(BOB, omemo.publicKey)).rejects.toMatchObject({ code: 'untrusted-key' });
    // A statement whose signature was made by another key: authentication-failed.
    const forged = { ...signOmemoBinding(BOB, accountKey, stranger.secretKey), certificate: omemo.publicKey };
    publishWith([forged], current.issued + 1);
    await alice.refreshDeviceList(BOB);
    const withForged = JSON.stringify(alice.engine.trustOf(BOB));
    await expect(alice.omemoVouch(BOB, omemo.publicKey)).rejects.toMatchObject({ code: 'authentication-failed' });
    expect(JSON.stringify(alice.engine.trustOf(BOB))).toBe(withForged);
    // An OpenPGP statement with the same bytes is never checked as an OMEMO one.
    publishWith([{ ...signOmemoBinding(BOB, accountKey, omemo.secretKey), kind: 'openpgp' }], current.issued + 2);
    await alice.refreshDeviceList(BOB);
    await expect(alice.omemoVouch(BOB, omemo.publicKey)).rejects.toMatchObject({ code: 'untrusted-key' });
    // The genuine statement: the account key becomes verified.
    publishWith([signOmemoBinding(BOB, accountKey, omemo.secretKey)], current.issued + 3);
    await alice.refreshDeviceList(BOB);
    expect(alice.engine.trustOf(BOB)!.trust.accountKey).toMatchObject({ key: toHex(accountKey), level: 'undecided' });
    await expect(alice.omemoVouch(BOB, stranger.publicKey)).rejects.toMatchObject({ code: 'untrusted-key' });
    await alice.omemoVouch(BOB, omemo.publicKey);
    expect(alice.engine.trustOf(BOB)!.trust.accountKey).toEqual({ key: toHex(accountKey), level: 'verified' });
    expect(record).not.toBe(JSON.stringify(alice.engine.trustOf(BOB)));
  });
});
