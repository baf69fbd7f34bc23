/**
 * §envelope.limits through the device engine (SealClient on the embedded server): the receiver's
 * size limits are checked before any key is used, and the work one forged stanza can cost is
 * bounded per stanza and paid once (issue 20). Work is counted, never timed: the suite's KDF,
 * MAC, AEAD and X25519 entry points are wrapped by counters.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeBase64, encodeBase64 } from '../src/codec/base64.js';
import { concatBytes, utf8Encode } from '../src/codec/bytes.js';
import type { SealEvent } from '../src/device/types.js';
import { ENVELOPE_CONSTANTS } from '../src/envelope/constants.js';
import { openContent, padme } from '../src/envelope/content.js';
import { sessionKey } from '../src/envelope/envelope.js';
import { seededRng } from '../src/suite/rng.js';
import { SEAL_NS } from '../src/suite/suite.js';
import { MAX_KEY_ELEMENT_BYTES, MAX_PAYLOAD_BYTES } from '../src/wire/sealed.js';
import { type Element, parseXml, xml } from '../src/wire/xml.js';
import { codeOf } from './support/errors.js';
import { ALICE, BOB, opened, failedCodes, conversation } from './support/store-conformance.js';

const work = vi.hoisted(() => ({ chainSteps: 0, kdf: 0, aeadOpen: 0, x25519: 0 }));

vi.mock('../src/suite/kdf.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/suite/kdf.js')>();
  return {
    ...real,
    deriveKey: (input: Parameters<typeof real.deriveKey>[0]) => {
      work.kdf++;
      return real.deriveKey(input);
    },
    macsWithLabels: (...args: Parameters<typeof real.macsWithLabels>) => {
      work.chainSteps++;
      return real.macsWithLabels(...args);
    },
  };
});
vi.mock('../src/suite/aead.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/suite/aead.js')>();
  return {
    ...real,
    aeadOpen: (...args: Parameters<typeof real.aeadOpen>) => {
      work.aeadOpen++;
      return real.aeadOpen(...args);
    },
  };
});
vi.mock('../src/suite/agreement.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/suite/agreement.js')>();
  return {
    ...real,
    x25519: (...args: Parameters<typeof real.x25519>) => {
      work.x25519++;
      return real.x25519(...args);
    },
  };
});

function resetWork(): void {
  work.chainSteps = 0;
  work.kdf = 0;
  work.aeadOpen = 0;
  work.x25519 = 0;
}
const total = () => work.chainSteps + work.kdf + work.aeadOpen + work.x25519;


/** The last stanza with a `<sealed/>` payload that Bob handed to the server, as Alice would receive it. */
function lastFromBob(sent: readonly Element[]): Element {
  const stanza = [...sent].reverse().find((s) => s.getChild('sealed', SEAL_NS)?.getChild('payload', SEAL_NS) !== undefined)!;
  const copy = parseXml(stanza.toString());
  copy.attrs.from = `${BOB}/b`;
  return copy;
}

function sealedOf(stanza: Element): Element {
  return stanza.getChild('sealed', SEAL_NS)!;
}

function keyFor(stanza: Element, jid: string, rid: number): Element {
  const keys = sealedOf(stanza).getChildren('keys', SEAL_NS).find((k) => k.attrs.jid === jid)!;
  return keys.getChildren('key', SEAL_NS).find((k) => Number(k.attrs.rid) === rid)!;
}

describe('§envelope.limits: what a receiver accepts, checked before any key is used', () => {
  beforeEach(resetWork);
  afterEach(resetWork);

  it('the payload bound is the largest padded content a sender can produce, plus the tag', () => {
    // @req envelope.receive-limits
    expect(MAX_PAYLOAD_BYTES).toBe(padme(ENVELOPE_CONSTANTS.MAX_CONTENT_BYTES + 14) + 16);
    expect(MAX_KEY_ELEMENT_BYTES).toBe(1293 + 88);
  });

  it('a payload above the bound fails with too-large: no KDF, MAC, AEAD or X25519, state unchanged; the genuine stanza then opens', async () => {
    // @req envelope.receive-limits
    const { world, alice, aliceStore, bob, bobWire } = await conversation('limits payload');
    await bob.send(ALICE, 'second');
    const genuine = lastFromBob(bobWire.sent);
    const tampered = parseXml(genuine.toString());
    const payload = sealedOf(tampered).getChild('payload', SEAL_NS)!;
    payload.children = [encodeBase64(seededRng('big payload')(MAX_PAYLOAD_BYTES + 1))];
    const before = aliceStore.snapshot();
    const peers = alice.engine.state.peers;
    resetWork();
    const events = await alice.receive(tampered);
    expect(failedCodes(events)).toEqual(['too-large']);
    expect(total()).toBe(0);
    expect([...alice.engine.state.peers.values()]).toEqual([...peers.values()]);
    expect(aliceStore.snapshot()).toEqual(before);
    // A payload of exactly the bound passes the size check and fails authentication instead.
    payload.children = [encodeBase64(seededRng('big payload')(MAX_PAYLOAD_BYTES))];
    expect(failedCodes(await alice.receive(tampered))).toEqual(['authentication-failed']);
    await world.flush();
    expect(opened(alice.events)).toEqual(['hello alice', 'second']);
  });

  it('a key element above the largest defined size fails the stanza with too-large, even for another device', async () => {
    // @req envelope.receive-limits
    const { world, alice, bob, bobWire } = await conversation('limits key');
    await bob.send(ALICE, 'second');
    const tampered = lastFromBob(bobWire.sent);
    const aliceKeys = sealedOf(tampered).getChildren('keys', SEAL_NS).find((k) => k.attrs.jid === ALICE)!;
    aliceKeys.children.push(xml('key', { rid: '12345' }, [encodeBase64(new Uint8Array(MAX_KEY_ELEMENT_BYTES + 1))]));
    resetWork();
    expect(failedCodes(await alice.receive(tampered))).toEqual(['too-large']);
    expect(total()).toBe(0);
    await world.flush();
    expect(opened(alice.events)).toEqual(['hello alice', 'second']);
  });

  it('content above MAX_CONTENT_BYTES without its padding is refused after decryption (too-large); the largest content passes', () => {
    // @req envelope.receive-limits
    const envelope = (text: string, pad: string) => utf8Encode(`<envelope xmlns='urn:xmpp:sce:1'><content><body xmlns='jabber:client'>${text}</body></content><rpad>${pad}</rpad><time stamp='2026-11-26T09:00:00Z'/><to jid='${ALICE}'/><from jid='${BOB}'/></envelope>`);
    const overhead = envelope('', '').length - 13;
    const largest = 'x'.repeat(ENVELOPE_CONSTANTS.MAX_CONTENT_BYTES - overhead);
    expect(codeOf(() => openContent(envelope(largest, 'ab'), { to: ALICE, from: `${BOB}/b` }))).toBe('ok');
    expect(codeOf(() => openContent(envelope(`${largest}x`, ''), { to: ALICE, from: `${BOB}/b` }))).toBe('too-large');
  });
});

describe('§envelope.limits: the cost of a forged stanza', () => {
  beforeEach(resetWork);
  afterEach(resetWork);

  /**
   * `template` with Alice's key element replaced by a ratchet message that cannot authenticate:
   * under a fresh ratchet key, or under `ratchetKey` when given.
   */
  function forged(template: Element, aliceDevice: number, previousCount: number, counter: number, seed: string, ratchetKey?: Uint8Array): Element {
    const stanza = parseXml(template.toString());
    const rng = seededRng(seed);
    const header = concatBytes(ratchetKey ?? rng(32), u32(previousCount), u32(counter));
    const key = keyFor(stanza, ALICE, aliceDevice);
    delete key.attrs.handshake;
    key.children = [encodeBase64(concatBytes(header, rng(48)))];
    return stanza;
  }

  it('with an active and a kept session, a forged max-skip stanza derives at most 2 MAX_SKIP keys; its re-delivery derives none', async () => {
    // @req envelope.forgery-cost
    const { world, alice, bob, bobWire } = await conversation('forgery cost');
    const aliceDevice = alice.state.deviceId;
    const peer = sessionKey(BOB, bob.state.deviceId);
    // Alice sends again (her old session can take a new ratchet key), then a forged stanza makes her
    // repair: a new active session, the old one kept for late messages.
    await alice.send(BOB, 'again');
    await world.flush();
    await bob.send(ALICE, 'template');
    const template = lastFromBob(bobWire.sent);
    await alice.receive(forged(template, aliceDevice, 0, 1, 'corrupt'));
    const session = alice.engine.state.peers.get(peer)!.session;
    expect(session.alternate).toBeDefined();
    expect(session.alternate!.sendingRatchet).toBeDefined();
    const kept = session.alternate!.receiveCount;

    // Both sessions could take the header's new ratchet key: the kept one would skip MAX_SKIP keys of
    // its chain and MAX_SKIP of the new one, the active one MAX_SKIP of the new one.
    const max = forged(template, aliceDevice, kept + ENVELOPE_CONSTANTS.MAX_SKIP, ENVELOPE_CONSTANTS.MAX_SKIP, 'max skip');
    const state = alice.engine.state;
    resetWork();
    const first = await alice.receive(max);
    expect(failedCodes(first)).toEqual(['authentication-failed']);
    expect(alice.engine.state.peers.get(peer)).toBe(state.peers.get(peer));
    console.log(`forged max-skip stanza: ${work.chainSteps} chain steps, ${work.kdf} KDF, ${work.aeadOpen} AEAD, ${work.x25519} X25519`);
    // One budget for the stanza: 2 MAX_SKIP skipped keys, plus one message key per session tried.
    expect(work.chainSteps).toBeLessThanOrEqual(2 * ENVELOPE_CONSTANTS.MAX_SKIP + 2);
    expect(work.x25519).toBeLessThanOrEqual(2);
    expect(work.aeadOpen).toBeLessThanOrEqual(2);

    // The same stanza again (a re-delivery from offline storage or the archive): a lookup.
    resetWork();
    const again = await alice.receive(max);
    expect(failedCodes(again)).toEqual(['authentication-failed']);
    expect(total()).toBe(0);

    // An honest message still opens.
    await world.flush();
    expect(opened(alice.events)).toContain('template');
  });

  it('a remembered failure is forgotten when the session changes: the stanza is tried again', async () => {
    // @req envelope.forgery-cost
    const { world, alice, bob, bobWire } = await conversation('forgery memory');
    await bob.send(ALICE, 'template');
    const template = lastFromBob(bobWire.sent);
    // On Bob's current ratchet key, five messages ahead: Alice derives keys before the tag fails.
    const bobKey = decodeBase64(keyFor(template, ALICE, alice.state.deviceId).getText()).subarray(0, 32);
    const bad = forged(template, alice.state.deviceId, 0, 5, 'forgotten', bobKey);
    resetWork();
    expect(failedCodes(await alice.receive(bad))).toEqual(['authentication-failed']);
    expect(work.chainSteps).toBeGreaterThan(0);
    // The failure made Alice repair (a new session), so the next delivery meets other sessions and is
    // tried again; the one after that meets the same ones and costs a lookup.
    expect(failedCodes(await alice.receive(bad))).toEqual(['authentication-failed']);
    resetWork();
    const remembered = await alice.receive(bad);
    expect(failedCodes(remembered)).toEqual(['authentication-failed']);
    expect(total()).toBe(0);
    // 'template' opens and Bob answers the repair: the sessions move on, and the stanza is judged
    // against them (it now names a ratchet key neither session expects).
    await world.flush();
    expect(opened(alice.events)).toContain('template');
    const again = await alice.receive(bad);
    expect(failedCodes(again)).toEqual(['authentication-failed']);
    const messageOf = (events: readonly SealEvent[]) => events.flatMap((e) => (e.kind === 'failed' ? [e.message] : []));
    expect(messageOf(again)).not.toEqual(messageOf(remembered));
  });
});

function u32(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}
