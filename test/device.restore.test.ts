/**
 * §offline.restore: a device started from an older copy of its store finds out from its own
 * published bundle, replaces every prekey, republishes, drops the sessions of the copy and starts
 * new ones; a handshake or message the newer state accepted, replayed after the restore, is not
 * accepted again. Through the device engine and its IO shell (SealClient on the embedded server),
 * with MemoryStore snapshots as the backup.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/codec/bytes.js';
import { MemoryStore } from '../src/device/store.js';
import { sessionKey } from '../src/envelope/envelope.js';
import type { DeviceId } from '../src/identity/device.js';
import { bundleNode } from '../src/identity/pep.js';
import { bundleOf, createDeviceState } from '../src/identity/state.js';
import { restoredFromBackup } from '../src/offline/restore.js';
import { seededRng } from '../src/suite/rng.js';
import { SEAL_NS } from '../src/suite/suite.js';
import { BundleElement } from '../src/wire/bundle.js';
import { type Element, childElements, parseXml } from '../src/wire/xml.js';
import { ALICE, BOB, MALLORY, SealWorld, opened, failedCodes } from './support/store-conformance.js';


/** The sealed stanzas with content a client handed to the server, as their recipient receives them from `fullJid`. */
function sealedFrom(sent: readonly Element[], fullJid: string): Element[] {
  return sent
    .filter((s) => s.getChild('sealed', SEAL_NS)?.getChild('payload', SEAL_NS) !== undefined)
    .map((s) => {
      const copy = parseXml(s.toString());
      copy.attrs.from = fullJid;
      return copy;
    });
}

function publishedBundle(world: SealWorld, jid: string, deviceId: DeviceId) {
  const item = world.server.pepItems(jid, bundleNode(deviceId))[0]!;
  return BundleElement.fromXml(childElements(item)[0]!);
}

describe('§offline.restore: a device restored from an older copy of its store', () => {
  it('detects it from its own bundle, replaces every prekey, republishes, starts its sessions again; replayed stanzas are not accepted twice', async () => {
    // @req offline.restore-detect
    // @req offline.restore-rotate
    // @req offline.restore-sessions
    const world = new SealWorld('restore');
    const a = await world.client(`${ALICE}/a`, { store: new MemoryStore() });
    const bobStore = new MemoryStore();
    const b = await world.client(`${BOB}/b`, { store: bobStore });
    const alice = a.client;
    let bob = b.client;
    await alice.send(BOB, 'hello bob');
    await world.flush();
    await bob.send(ALICE, 'hello alice');
    await world.flush();
    const deviceId = bob.state.deviceId;

    // The backup.
    const backup = bobStore.snapshot();
    const oldSession = toHex(bob.engine.state.peers.get(sessionKey(ALICE, alice.state.deviceId))!.session.ratchet.sessionId);
    const backupPrekeys = new Set(bob.state.oneTimePrekeys.map((k) => k.id));

    // After the backup: a first message from a new contact (a handshake on a one-time prekey), and a
    // message from Alice on the existing session. Both open.
    const m = await world.client(`${MALLORY}/m`, { store: new MemoryStore() });
    await m.client.send(BOB, 'from mallory');
    await alice.send(BOB, 'after the backup');
    await world.flush();
    expect(opened(bob.events)).toEqual(['hello bob', 'from mallory', 'after the backup']);
    const [fromMallory] = sealedFrom(m.wire.sent, `${MALLORY}/m`);
    const afterBackup = sealedFrom(a.wire.sent, `${ALICE}/a`).at(-1)!;
    const newestId = bob.state.nextPrekeyId - 1;
    const usedSince = [...backupPrekeys].filter((id) => !bob.state.oneTimePrekeys.some((k) => k.id === id));
    expect(usedSince).toHaveLength(1);

    // Bob's device stops, and starts again from the backup.
    await bob.connection.close();
    const restored = await world.client(`${BOB}/b`, { store: new MemoryStore(backup) });
    bob = restored.client;
    expect(bob.state.deviceId).toBe(deviceId);
    expect(bob.events).toContainEqual({ kind: 'restored', sessions: 1 });
    expect(bob.events).toContainEqual({ kind: 'repair-sent', peer: { jid: ALICE, deviceId: alice.state.deviceId }, reason: 'restored' });

    // Every prekey is new, with ids above every id published before, and the bundle is republished.
    const ids = [...bob.state.signedPrekeys, ...bob.state.kemPrekeys, ...bob.state.oneTimePrekeys].map((k) => k.id);
    expect(bob.state.signedPrekeys).toHaveLength(1);
    expect(bob.state.kemPrekeys).toHaveLength(1);
    expect(Math.min(...ids)).toBeGreaterThan(newestId);
    const published = publishedBundle(world, BOB, deviceId);
    expect(published.signedPrekey.id).toBe(bob.state.signedPrekeys[0]!.id);
    expect(published.oneTimePrekeys.map((k) => k.id)).toEqual(bob.state.oneTimePrekeys.map((k) => k.id));
    // The session of the backup is gone, none is kept for late messages; the new one is Bob's own
    // (Alice has already confirmed it: the world delivers what is queued when a client comes online).
    const session = bob.engine.state.peers.get(sessionKey(ALICE, alice.state.deviceId))!.session;
    expect(session.alternate).toBeUndefined();
    expect(toHex(session.ratchet.sessionId)).not.toBe(oldSession);
    expect(toHex(alice.engine.state.peers.get(sessionKey(BOB, deviceId))!.session.ratchet.sessionId)).toBe(toHex(session.ratchet.sessionId));

    // Replays of what the newer state accepted: not opened again.
    const mark = bob.events.length;
    await bob.receive(fromMallory!);
    await bob.receive(afterBackup);
    const replayed = bob.events.slice(mark);
    expect(opened(replayed)).toEqual([]);
    expect(failedCodes(replayed)).toContain('unknown-prekey');

    // The conversation has healed: Alice took Bob's new session and writes on it.
    await world.flush();
    expect(alice.events.map((e) => e.kind)).toContain('repair-received');
    await alice.send(BOB, 'healed');
    await world.flush();
    expect(opened(bob.events)).toEqual(['healed']);
    await bob.send(ALICE, 'back');
    await world.flush();
    expect(opened(alice.events)).toEqual(['hello alice', 'back']);
  });

  it('a restart from the current store is no restore: same prekeys, same sessions, nothing published', async () => {
    // @req offline.restore-detect
    const world = new SealWorld('restart');
    const a = await world.client(`${ALICE}/a`, { store: new MemoryStore() });
    const bobStore = new MemoryStore();
    const b = await world.client(`${BOB}/b`, { store: bobStore });
    await a.client.send(BOB, 'hello bob');
    await world.flush();
    await b.client.send(ALICE, 'hello alice');
    await world.flush();
    const before = bobStore.snapshot();
    const published = publishedBundle(world, BOB, b.client.state.deviceId);
    await b.client.connection.close();
    const again = await world.client(`${BOB}/b`, { store: bobStore });
    expect(again.client.events.map((e) => e.kind)).not.toContain('restored');
    expect(bobStore.snapshot()).toEqual(before);
    expect(publishedBundle(world, BOB, b.client.state.deviceId)).toEqual(published);
    await a.client.send(BOB, 'still here');
    await world.flush();
    expect(opened(again.client.events)).toEqual(['still here']);
  });

  it('what the published bundle shows: a newer state, or only an older one (a publish that failed)', () => {
    // @req offline.restore-detect
    const state = createDeviceState({ jid: BOB, now: 1_800_000_000, rng: seededRng('restore unit'), oneTimePrekeys: 5 });
    const current = bundleOf(state);
    expect(restoredFromBackup(state, current)).toBe(false);
    // The newer state consumed prekey 4 and republished: the copy still holds it.
    expect(restoredFromBackup(state, { ...current, oneTimePrekeys: current.oneTimePrekeys.filter((k) => k.id !== 4) })).toBe(true);
    // The newer state issued new ids.
    expect(restoredFromBackup(state, { ...current, oneTimePrekeys: [...current.oneTimePrekeys, { id: state.nextPrekeyId, publicKey: current.oneTimePrekeys[0]!.publicKey }] })).toBe(true);
    expect(restoredFromBackup(state, { ...current, signedPrekey: { ...current.signedPrekey, id: state.nextPrekeyId + 1 } })).toBe(true);
    // Only older: the state consumed prekey 3 but the republish failed; or the state's newest
    // prekeys were never published.
    const consumed = { ...state, oneTimePrekeys: state.oneTimePrekeys.filter((k) => k.id !== 3) };
    expect(restoredFromBackup(consumed, current)).toBe(false);
    expect(restoredFromBackup(state, { ...current, oneTimePrekeys: current.oneTimePrekeys.slice(0, 3) })).toBe(false);
  });
});
