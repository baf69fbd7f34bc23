/**
 * §identity rules on the engine's path: what a device does with the device lists, bundles and
 * account keys a server serves it, checked through SealClient on the embedded server (the unit
 * tests of the helpers are in test/identity*.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { sessionKey } from '../src/envelope/index.js';
import { createDeviceList } from '../src/identity/devicelist.js';
import { DEVICE_LIST_NODE, ITEM_ID, bundleNode } from '../src/identity/pep.js';
import { bundleOf, createDeviceState } from '../src/identity/state.js';
import type { XmppConnection } from '../src/net/connection.js';
import { SealClient, presence } from '../src/net/index.js';
import { seededRng } from '../src/suite/rng.js';
import { ed25519PublicKeyOf } from '../src/suite/signature.js';
import { BundleElement } from '../src/wire/bundle.js';
import { DeviceListElement } from '../src/wire/devices.js';
import { type Element, childElements, xml } from '../src/wire/xml.js';
import { ALICE, BOB, SealWorld, failedCodes } from './support/store-conformance.js';


/** A connection that records every iq request it sends. */
function recordingIq(connection: XmppConnection): { connection: XmppConnection; iqs: Element[] } {
  const iqs: Element[] = [];
  return {
    iqs,
    connection: {
      jid: connection.jid,
      send: (s) => connection.send(s),
      iq: (r) => {
        iqs.push(r);
        return connection.iq(r);
      },
      onStanza: (h) => connection.onStanza(h),
      close: () => connection.close(),
    },
  };
}

describe('§offline.prekeys on the engine path', () => {
  it('a used one-time prekey leaves the published bundle at once, and the bundle is refilled below the threshold', async () => {
    // @req offline.replenish
    const world = new SealWorld('replenish');
    const { client: alice } = await world.client(`${ALICE}/a`);
    const { client: bob } = await world.client(`${BOB}/b`, { oneTimePrekeys: 26 });
    const published = () => BundleElement.fromXml(childElements(world.server.pepItems(BOB, bundleNode(bob.state.deviceId))[0]!)[0]!).oneTimePrekeys.map((k) => k.id);
    const before = published();
    expect(before).toHaveLength(26);
    await alice.send(BOB, 'first contact');
    await world.flush();
    expect(bob.received.map((m) => m.body)).toEqual(['first contact']);
    // One prekey was used: it is gone from Bob's state and from what the server now serves.
    const after = published();
    expect(after).toHaveLength(25);
    expect(after).toEqual(bob.state.oneTimePrekeys.map((k) => k.id));
    expect(before.filter((id) => !after.includes(id))).toHaveLength(1);
    // 25 left is the threshold: the next handshake takes Bob below it, and he refills to the maximum.
    const { client: alice2 } = await world.client(`${ALICE}/a2`, { accountSecret: alice.dangerouslyAccountSecret()! });
    await alice2.send(BOB, 'second contact');
    await world.flush();
    expect(published().length).toBeGreaterThan(25);
    expect(new Set(published()).size).toBe(published().length);
  });
});

describe('§identity on the engine path', () => {
  it('a device list with two entries of one device id is rejected whole; the accepted list stays', async () => {
    // @req identity.device-list
    const world = new SealWorld('list duplicates');
    const { client: alice } = await world.client(`${ALICE}/a`);
    const { client: bob } = await world.client(`${BOB}/b`);
    await alice.send(BOB, 'hi');
    await world.flush();
    const accepted = alice.engine.trustOf(BOB)!.list!;
    world.server.adversary.rewritePepItem = (owner, node, item) => {
      if (owner !== BOB || node !== DEVICE_LIST_NODE) return undefined;
      const list = childElements(item)[0]!;
      const device = list.getChild('device')!;
      return xml('item', { id: ITEM_ID }, [xml('devices', { ...list.attrs }, [device, device, ...childElements(list).filter((c) => c.getName() !== 'device')])]);
    };
    const mark = alice.events.length;
    await alice.refreshDeviceList(BOB);
    expect(failedCodes(alice.events.slice(mark))).toEqual(['duplicate-id']);
    expect(alice.engine.trustOf(BOB)!.list).toBe(accepted);
    // Sending still uses the accepted list.
    delete world.server.adversary.rewritePepItem;
    await alice.send(BOB, 'still there');
    await world.flush();
    expect(bob.received.map((m) => m.body)).toEqual(['hi', 'still there']);
  });

  it('an unsigned list naming one key and a bundle with another: the bundle is rejected, no session', async () => {
    // @req identity.device-list-key-hint
    const world = new SealWorld('unsigned hint');
    const { client: alice } = await world.client(`${ALICE}/a`);
    const { client: bob } = await world.client(`${BOB}/b`);
    const device = bob.state.deviceId;
    // The server serves an unsigned list (Alice has seen none before) and a bundle of its own for Bob's device.
    const unsigned = createDeviceList(BOB, [{ id: device, added: world.now(), signingKey: ed25519PublicKeyOf(bob.state.signingKey) }], world.now());
    const forged = { ...createDeviceState({ jid: BOB, now: world.now(), rng: seededRng('server device'), oneTimePrekeys: 1 }), deviceId: device };
    world.server.adversary.rewritePepItem = (owner, node) => {
      if (owner !== BOB) return undefined;
      if (node === DEVICE_LIST_NODE) return xml('item', { id: ITEM_ID }, [DeviceListElement.toXml(unsigned)]);
      if (node === bundleNode(device)) return xml('item', { id: ITEM_ID }, [BundleElement.toXml(bundleOf(forged))]);
      return undefined;
    };
    await expect(alice.send(BOB, 'hello')).rejects.toMatchObject({ code: 'untrusted-key' });
    expect(failedCodes(alice.events)).toContain('identity-key-changed');
    expect(alice.sessions.has(sessionKey(BOB, device))).toBe(false);
  });

  it('a verified account key vouches for the keys its list names, not for another key under a listed id', async () => {
    // @req identity.trust-listed-key
    const world = new SealWorld('listed key');
    const { client: alice } = await world.client(`${ALICE}/a`);
    const { client: bob } = await world.client(`${BOB}/b`);
    await alice.send(BOB, 'first');
    await world.flush();
    const account = alice.engine.trustOf(BOB)!.trust.accountKey!;
    await alice.decide(BOB, 'account', account.key, 'verified');
    await bob.send(ALICE, 'from the listed key');
    await world.flush();
    // The real device's key is the one the verified account key's list names: verified.
    expect(alice.received.map((m) => [m.body, m.trust])).toEqual([['from the listed key', 'verified']]);
    // A bundle for the same listed id under another key is not trusted through the account key.
    const other = { ...createDeviceState({ jid: BOB, now: world.now(), rng: seededRng('other key'), oneTimePrekeys: 1 }), deviceId: bob.state.deviceId };
    const { client: alice2 } = await world.client(`${ALICE}/a2`, { accountSecret: alice.dangerouslyAccountSecret()! });
    await alice2.refreshDeviceList(BOB);
    await alice2.decide(BOB, 'account', account.key, 'verified');
    world.server.adversary.rewritePepItem = (owner, node) => (owner === BOB && node === bundleNode(bob.state.deviceId) ? xml('item', { id: ITEM_ID }, [BundleElement.toXml(bundleOf(other))]) : undefined);
    await expect(alice2.send(BOB, 'to whom?')).rejects.toMatchObject({ code: 'untrusted-key' });
    expect(failedCodes(alice2.events)).toContain('identity-key-changed');
    expect(alice2.sessions.has(sessionKey(BOB, bob.state.deviceId))).toBe(false);
  });

  it('every item is published with access model open and no other option', async () => {
    // @req identity.pep-publish-options
    const world = new SealWorld('publish options');
    const recorded = recordingIq(world.server.connect(`${ALICE}/a`));
    const alice = await SealClient.create({ connection: recorded.connection, now: world.now, rng: world.rng, oneTimePrekeys: 5 });
    await recorded.connection.send(presence());
    const publishes = recorded.iqs.filter((iq) => iq.getChild('pubsub')?.getChild('publish') !== undefined);
    expect(publishes.map((iq) => iq.getChild('pubsub')!.getChild('publish')!.attrs.node).sort()).toEqual([DEVICE_LIST_NODE, bundleNode(alice.state.deviceId)].sort());
    for (const iq of publishes) {
      const form = iq.getChild('pubsub')!.getChild('publish-options')!.getChild('x')!;
      const fields = form.getChildren('field').map((f) => [f.attrs.var, f.getChild('value')?.getText()]);
      expect(fields).toEqual([
        ['FORM_TYPE', 'http://jabber.org/protocol/pubsub#publish-options'],
        ['pubsub#access_model', 'open'],
        ['pubsub#persist_items', 'true'],
      ]);
    }
  });
});
