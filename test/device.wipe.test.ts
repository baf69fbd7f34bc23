/**
 * §envelope.limits (envelope.wipe): a secret buffer is zeroed when the spec says it is deleted and
 * the deletion is stored: a used skipped message key, a replaced chain key, a consumed one-time
 * prekey, the private ratchet key of a ratchet step. Each test keeps a reference to the buffer,
 * runs the step that deletes it through the device engine (SealClient on the embedded server), and
 * reads it back. A step whose commit fails zeroes nothing.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/device/store.js';
import { sessionKey } from '../src/envelope/envelope.js';
import type { SecretBytes } from '../src/suite/types.js';
import { SEAL_NS } from '../src/suite/suite.js';
import { type Element, parseXml } from '../src/wire/xml.js';
import { ALICE, BOB, SealWorld, opened } from './support/store-conformance.js';

const zero = (secret: SecretBytes) => secret.dangerouslyExposeBytes().every((b) => b === 0);

async function conversation(name: string) {
  const world = new SealWorld(name);
  const aliceStore = new MemoryStore();
  const a = await world.client(`${ALICE}/a`, { store: aliceStore });
  const b = await world.client(`${BOB}/b`, { store: new MemoryStore() });
  return { world, alice: a.client, aliceStore, bob: b.client, bobWire: b.wire };
}

/** Bob's sealed stanzas with content, as Alice receives them. */
function fromBob(sent: readonly Element[]): Element[] {
  return sent
    .filter((s) => s.getChild('sealed', SEAL_NS)?.getChild('payload', SEAL_NS) !== undefined)
    .map((s) => {
      const copy = parseXml(s.toString());
      copy.attrs.from = `${BOB}/b`;
      return copy;
    });
}

describe('envelope.wipe: deleted secrets are zeroed once the deletion is stored', () => {
  it('a consumed one-time prekey, and the responder\'s signed-prekey ratchet key is not (the device still holds it)', async () => {
    // @req envelope.wipe
    const { world, alice, bob } = await conversation('wipe prekey');
    const prekeys = new Map(bob.state.oneTimePrekeys.map((k) => [k.id, k.secretKey]));
    const signed = bob.state.signedPrekeys.at(-1)!.secretKey;
    await alice.send(BOB, 'hello bob');
    await world.flush();
    expect(opened(bob.events)).toEqual(['hello bob']);
    const left = new Set(bob.state.oneTimePrekeys.map((k) => k.id));
    const consumed = [...prekeys].filter(([id]) => !left.has(id));
    expect(consumed).toHaveLength(1);
    expect(zero(consumed[0]![1])).toBe(true);
    for (const [id, key] of prekeys) if (left.has(id)) expect(zero(key)).toBe(false);
    expect(zero(signed)).toBe(false);
  });

  it('a skipped message key once used, a replaced receiving chain key, a replaced sending chain key', async () => {
    // @req envelope.wipe
    const { world, alice, bob, bobWire } = await conversation('wipe chain');
    await alice.send(BOB, 'hello bob');
    await world.flush();
    await bob.send(ALICE, 'one');
    await bob.send(ALICE, 'two');
    await bob.send(ALICE, 'three');
    const [one, two, three] = fromBob(bobWire.sent);
    const peer = sessionKey(BOB, bob.state.deviceId);
    // 'two' first: the key of 'one' is skipped and stored.
    await alice.receive(two!);
    const ratchet = alice.engine.state.peers.get(peer)!.session.ratchet;
    expect(ratchet.skipped).toHaveLength(1);
    const skipped = ratchet.skipped[0]!.messageKey;
    const chain = ratchet.receivingChain!;
    expect(zero(skipped)).toBe(false);
    await alice.receive(one!);
    expect(zero(skipped)).toBe(true);
    expect(zero(chain)).toBe(false); // 'one' used a stored key: the chain did not move
    await alice.receive(three!);
    expect(zero(chain)).toBe(true);
    expect(opened(alice.events)).toEqual(['two', 'one', 'three']);

    const sending = alice.engine.state.peers.get(peer)!.session.ratchet;
    await alice.send(BOB, 'reply');
    const after = alice.engine.state.peers.get(peer)!.session.ratchet;
    // The reply made a ratchet step: the root key and the sending chain key it replaced are zeroed.
    expect(zero(sending.rootKey)).toBe(true);
    expect(after.sendingChain).toBeDefined();
    const sendingChain = after.sendingChain!;
    await alice.send(BOB, 'reply 2');
    expect(zero(sendingChain)).toBe(true);
    await world.flush();
    expect(opened(bob.events)).toEqual(['hello bob', 'reply', 'reply 2']);
  });

  it('a step whose commit fails zeroes nothing: the device goes on with intact keys', async () => {
    // @req envelope.wipe
    // @req device.commit-first
    const { world, alice, aliceStore, bob, bobWire } = await conversation('wipe commit');
    await alice.send(BOB, 'hello bob');
    await world.flush();
    await bob.send(ALICE, 'one');
    const [one] = fromBob(bobWire.sent);
    const peer = sessionKey(BOB, bob.state.deviceId);
    const ratchet = alice.engine.state.peers.get(peer)!.session.ratchet;
    const chain = ratchet.receivingChain!;
    const secrets = [ratchet.rootKey, chain];
    aliceStore.failNextCommit = true;
    await alice.receive(one!);
    expect(opened(alice.events)).toEqual([]);
    for (const secret of secrets) expect(zero(secret)).toBe(false);
    await alice.receive(one!);
    expect(opened(alice.events)).toEqual(['one']);
    expect(zero(chain)).toBe(true); // replaced by the step that opened 'one', now stored
    expect(zero(ratchet.rootKey)).toBe(false);
  });
});
