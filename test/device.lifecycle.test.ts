/**
 * §identity.pep and §device.lifecycle: the PEP lifecycle of a device through the engine (SealClient
 * on the embedded server, and `SealEngine.step` where the shell would hide the race): working
 * without device-list notifications, `+notify` in disco#info, re-announcing a device a racing
 * enrolment dropped, removing devices and switching Seal off (bundle and list node deletion), stale
 * devices, and the stanza size limit of a one-to-one fan-out.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/codec/bytes.js';
import { DEVICE_CONSTANTS } from '../src/device/constants.js';
import { SealEngine } from '../src/device/engine.js';
import type { SealEvent, StepOutput } from '../src/device/types.js';
import { ENVELOPE_CONSTANTS, stanzaBytes } from '../src/envelope/index.js';
import { SealError } from '../src/errors.js';
import { OFFLINE_CONSTANTS } from '../src/offline/constants.js';
import { IDENTITY_CONSTANTS } from '../src/identity/constants.js';
import { DEVICE_LIST_NODE, DEVICE_LIST_NOTIFY, bundleNode } from '../src/identity/pep.js';
import { verifyDeviceList } from '../src/identity/devicelist.js';
import { deviceId as toDeviceId } from '../src/identity/device.js';
import { seededRng } from '../src/suite/rng.js';
import { ed25519PublicKeyOf } from '../src/suite/signature.js';
import { DeviceListElement } from '../src/wire/devices.js';
import { type Element, childElements, xml } from '../src/wire/xml.js';
import { CAPS_NS, SEAL_CAPS_NODE, capsVer } from '../src/wire/caps.js';
import { ALICE, BOB, SealWorld, opened } from './support/store-conformance.js';

const DISCO_INFO = 'http://jabber.org/protocol/disco#info';

/** The device-list item an engine step published. */
function publishedList(output: StepOutput): Element | undefined {
  return output.publish.find((p) => p.node === DEVICE_LIST_NODE)?.item;
}

/** The device ids of a list element. */
function idsOf(list: Element): number[] {
  return DeviceListElement.fromXml(list).devices.map((d) => d.id);
}

/** The device ids on `owner`'s device list as the server holds it. */
function serverList(world: SealWorld, owner: string): number[] {
  const item = world.server.pepItems(owner, DEVICE_LIST_NODE)[0];
  return item === undefined ? [] : idsOf(childElements(item)[0]!);
}

describe('§identity.pep: caps announce +notify', () => {
  it('computes XEP-0115\'s verification string (the XEP\'s own simple example)', () => {
    // XEP-0115 §5.2: client/pc//Exodus 0.9.1 with four features.
    const query = xml('query', { xmlns: DISCO_INFO }, [
      xml('identity', { category: 'client', type: 'pc', name: 'Exodus 0.9.1' }),
      ...['http://jabber.org/protocol/caps', 'http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'http://jabber.org/protocol/muc'].map((v) => xml('feature', { var: v })),
    ]);
    expect(capsVer(query)).toBe('QgayPKawpkPSDYmwT/WM94uAlu0=');
    // Order does not matter; a changed feature changes the string.
    expect(capsVer(xml('query', { xmlns: DISCO_INFO }, [...childElements(query)].reverse()))).toBe('QgayPKawpkPSDYmwT/WM94uAlu0=');
    expect(capsVer(xml('query', { xmlns: DISCO_INFO }, childElements(query).slice(0, 4)))).not.toBe('QgayPKawpkPSDYmwT/WM94uAlu0=');
  });

  it('the presence carries caps whose node the engine answers with +notify; another node is item-not-found', async () => {
    // @req identity.pep-notify
    const world = new SealWorld('caps');
    const alice = (await world.client(`${ALICE}/a`)).client;
    const bob = (await world.client(`${BOB}/b1`)).client;
    const c = bob.presence().getChild('c', CAPS_NS)!;
    expect(c.attrs).toMatchObject({ hash: 'sha-1', node: SEAL_CAPS_NODE });
    const ask = async (node: string) => {
      // Settled at once, so that an error answer is not an unhandled rejection while the network flushes.
      const asked = alice.connection.iq(xml('iq', { type: 'get', to: bob.connection.jid, id: `caps-${node}` }, [xml('query', { xmlns: DISCO_INFO, node })])).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      await world.flush();
      await world.flush();
      const settled = await asked;
      if ('error' in settled) throw settled.error;
      return settled.value;
    };
    const answer = await ask(`${SEAL_CAPS_NODE}#${String(c.attrs.ver)}`);
    const query = answer.getChild('query', DISCO_INFO)!;
    expect(query.attrs.node).toBe(`${SEAL_CAPS_NODE}#${String(c.attrs.ver)}`);
    expect(query.getChildren('feature').map((f) => f.attrs.var)).toEqual(expect.arrayContaining(['urn:xmpp:seal:0', DEVICE_LIST_NOTIFY]));
    // What the node names is what the caps hash: the verification string of the answer is the ver.
    expect(capsVer(query)).toBe(c.attrs.ver);
    await expect(ask(`${SEAL_CAPS_NODE}#not-this-version`)).rejects.toMatchObject({ condition: 'item-not-found' });
  });
});

describe('§identity.pep: device lists without notifications', () => {
  it('advertises urn:xmpp:seal:0:devices+notify, and reaches a contact\'s new device without any notification', async () => {
    // @req identity.pep-notify
    const world = new SealWorld('notify');
    // The embedded server sends PEP notifications only after subscribeToPep; no one subscribes here.
    const alice = (await world.client(`${ALICE}/a`)).client;
    const bob = (await world.client(`${BOB}/b1`)).client;
    // The iq travels through the network like any stanza between clients: flush while it is pending.
    const asked = alice.connection.iq(xml('iq', { type: 'get', to: bob.connection.jid, id: 'disco-1' }, [xml('query', { xmlns: DISCO_INFO })]));
    await world.flush();
    await world.flush();
    const answer = await asked;
    const features = answer.getChild('query', DISCO_INFO)!.getChildren('feature').map((f) => f.attrs.var);
    expect(features).toEqual(expect.arrayContaining(['urn:xmpp:seal:0', DEVICE_LIST_NOTIFY]));
    expect(DEVICE_LIST_NOTIFY).toBe('urn:xmpp:seal:0:devices+notify');

    await alice.send(BOB, 'first');
    await world.flush();
    expect(opened(bob.events)).toEqual(['first']);
    // Bob adds a device; Alice hears of it from no notification, only from her fetch before sending.
    const bob2 = (await world.client(`${BOB}/b2`, { accountSecret: bob.dangerouslyAccountSecret()! })).client;
    expect(alice.engine.trustOf(BOB)!.list!.devices.map((d) => d.id)).not.toContain(bob2.state.deviceId);
    await alice.send(BOB, 'second');
    await world.flush();
    expect(opened(bob2.events)).toEqual(['second']);
    // A stanza from a device that Alice's accepted list of Bob does not hold: she fetches the list first.
    const bob3 = (await world.client(`${BOB}/b3`, { accountSecret: bob.dangerouslyAccountSecret()! })).client;
    await bob3.send(ALICE, 'from a device alice has not seen');
    await world.flush();
    expect(opened(alice.events)).toContain('from a device alice has not seen');
    expect(alice.engine.trustOf(BOB)!.list!.devices.map((d) => d.id)).toContain(bob3.state.deviceId);
  });
});

describe('§device.lifecycle: two devices enrolling at once', () => {
  it('the dropped device adds itself again within LIST_RACE_WINDOW; outside it, it takes the removal as deliberate', () => {
    // @req device.list-race
    const t0 = 1_800_000_000;
    const rng = seededRng('list race');
    const first = SealEngine.create({ jid: BOB, existingList: undefined, now: t0, rng, oneTimePrekeys: 1 });
    first.engine.adopt(first.state);
    const base = publishedList(first.output)!;
    const accountSecret = first.engine.state.accountSecret!;
    // Both new devices build their list from the same base; the second publish replaces the first.
    const racer = SealEngine.create({ jid: BOB, existingList: base, now: t0 + 10, rng, accountSecret, oneTimePrekeys: 1 });
    racer.engine.adopt(racer.state);
    const winner = SealEngine.create({ jid: BOB, existingList: base, now: t0 + 11, rng, accountSecret, oneTimePrekeys: 1 });
    winner.engine.adopt(winner.state);
    const winning = publishedList(winner.output)!;
    expect(idsOf(winning)).not.toContain(racer.engine.self.deviceId);

    // No notification need come: a tick within the window fetches the own list, a tick after it does not.
    expect(racer.engine.step({ kind: 'tick' }, { now: t0 + 15, rng }).output.fetch).toContainEqual({ kind: 'device-list', jid: BOB });
    expect(racer.engine.step({ kind: 'tick' }, { now: t0 + 10 + DEVICE_CONSTANTS.LIST_RACE_WINDOW, rng }).output.fetch).not.toContainEqual({ kind: 'device-list', jid: BOB });
    const seen = racer.engine.step({ kind: 'device-list', jid: BOB, list: winning }, { now: t0 + 20, rng });
    racer.engine.adopt(seen.state);
    const republished = publishedList(seen.output)!;
    expect(new Set(idsOf(republished))).toEqual(new Set([first.engine.self.deviceId, racer.engine.self.deviceId, winner.engine.self.deviceId]));
    // Signed with the account key, later than the list it repairs, keeping the device's own addition time.
    const value = DeviceListElement.fromXml(republished);
    const verified = verifyDeviceList(BOB, value, DeviceListElement.fromXml(winning).issued);
    expect(toHex(verified.accountKey!)).toBe(toHex(ed25519PublicKeyOf(accountSecret)));
    expect(value.devices.find((d) => d.id === racer.engine.self.deviceId)!.added).toBe(t0 + 10);
    expect(seen.output.events).toContainEqual({ kind: 'device-reannounced', deviceId: racer.engine.self.deviceId });
    expect(seen.output.events.filter((e) => e.kind === 'device-removed')).toEqual([]);
    // The winner accepts the repaired list: it names it, nothing to re-add.
    const settled = winner.engine.step({ kind: 'device-list', jid: BOB, list: republished }, { now: t0 + 21, rng });
    expect(publishedList(settled.output)).toBeUndefined();
    expect(settled.output.events).toContainEqual({ kind: 'device-added', jid: BOB, deviceId: racer.engine.self.deviceId });

    // Later than LIST_RACE_WINDOW after its addition, a list without the device is a removal that sticks.
    const removal = first.engine.step({ kind: 'device-list', jid: BOB, list: republished }, { now: t0 + 30, rng });
    first.engine.adopt(removal.state);
    const removing = first.engine.step({ kind: 'remove-device', deviceId: racer.engine.self.deviceId }, { now: t0 + 10 + DEVICE_CONSTANTS.LIST_RACE_WINDOW, rng });
    const withoutRacer = publishedList(removing.output)!;
    const late = racer.engine.step({ kind: 'device-list', jid: BOB, list: withoutRacer }, { now: t0 + 10 + DEVICE_CONSTANTS.LIST_RACE_WINDOW, rng });
    expect(publishedList(late.output)).toBeUndefined();
    expect(late.output.events).toContainEqual({ kind: 'device-removed', jid: BOB, deviceId: racer.engine.self.deviceId });
    racer.engine.adopt(late.state);
    // And it stays removed: the next list without it changes nothing either.
    const again = racer.engine.step({ kind: 'device-list', jid: BOB, list: withoutRacer }, { now: t0 + 10 + DEVICE_CONSTANTS.LIST_RACE_WINDOW + 60, rng });
    expect(publishedList(again.output)).toBeUndefined();
  });
});

describe('§device.lifecycle: removing devices and switching Seal off', () => {
  it('removes another device (list re-signed, bundle node deleted), then switches Seal off on the last one (list node deleted)', async () => {
    // @req device.remove
    const world = new SealWorld('remove');
    const alice = (await world.client(`${ALICE}/a`)).client;
    const bob1 = (await world.client(`${BOB}/b1`)).client;
    const bob2 = (await world.client(`${BOB}/b2`, { accountSecret: bob1.dangerouslyAccountSecret()! })).client;
    const [id1, id2] = [bob1.state.deviceId, bob2.state.deviceId];
    expect(serverList(world, BOB)).toEqual([id1, id2].sort((x, y) => x - y));
    // A device that is not on the list cannot be removed; nothing is published or deleted.
    await expect(bob1.removeDevice(toDeviceId(424242))).rejects.toSatisfy((e: unknown) => e instanceof SealError && e.code === 'invalid-value');
    expect(serverList(world, BOB)).toHaveLength(2);

    world.advance(DEVICE_CONSTANTS.LIST_RACE_WINDOW);
    await bob1.removeDevice(id2);
    expect(serverList(world, BOB)).toEqual([id1]);
    expect(world.server.pepItems(BOB, bundleNode(id2))).toEqual([]);
    expect(world.server.pepItems(BOB, bundleNode(id1))).toHaveLength(1);
    expect(bob1.events).toContainEqual({ kind: 'device-removed', jid: BOB, deviceId: id2 });
    // The removed device, past LIST_RACE_WINDOW, does not add itself back.
    await bob2.refreshDeviceList(BOB);
    expect(serverList(world, BOB)).toEqual([id1]);
    expect(bob2.events).toContainEqual({ kind: 'device-removed', jid: BOB, deviceId: id2 });
    // Alice's next message reaches only the remaining device.
    await alice.send(BOB, 'after the removal');
    await world.flush();
    expect(opened(bob1.events)).toEqual(['after the removal']);
    expect(opened(bob2.events)).toEqual([]);

    // Switching Seal off on the last device: no list can be empty, so the node goes.
    await bob1.removeDevice(id1);
    expect(world.server.pepItems(BOB, DEVICE_LIST_NODE)).toEqual([]);
    expect(world.server.pepItems(BOB, bundleNode(id1))).toEqual([]);
    // Alice keeps Seal for Bob (discovery.sticky) and is told the list is gone.
    expect(await alice.usesSeal(BOB)).toBe(true);
    expect(alice.events.map((e) => e.kind)).toContain('device-list-withdrawn');
  });

  it('switching Seal off on one of several devices removes it from the list and deletes its own bundle node', async () => {
    // @req device.remove
    const world = new SealWorld('switch off');
    const bob1 = (await world.client(`${BOB}/b1`)).client;
    const bob2 = (await world.client(`${BOB}/b2`, { accountSecret: bob1.dangerouslyAccountSecret()! })).client;
    await bob2.removeDevice(bob2.state.deviceId);
    expect(serverList(world, BOB)).toEqual([bob1.state.deviceId]);
    expect(world.server.pepItems(BOB, bundleNode(bob2.state.deviceId))).toEqual([]);
    expect(bob2.events).toContainEqual({ kind: 'device-removed', jid: BOB, deviceId: bob2.state.deviceId });
  });
});

describe('§device.lifecycle: stale devices', () => {
  it('a device of the own account that stopped rotating is reported as stale, and can be removed', async () => {
    // @req device.stale
    const world = new SealWorld('stale');
    const alice = (await world.client(`${ALICE}/a`)).client;
    const bob1 = (await world.client(`${BOB}/b1`)).client;
    const bob2 = (await world.client(`${BOB}/b2`, { accountSecret: bob1.dangerouslyAccountSecret()! })).client;
    const stale = bob2.state.deviceId;
    await bob2.connection.close();
    world.advance(IDENTITY_CONSTANTS.MAX_PREKEY_VALIDITY + OFFLINE_CONSTANTS.PREKEY_ROTATION_PERIOD);
    await alice.tick();
    await bob1.tick();
    await bob1.send(ALICE, 'still here');
    await world.flush();
    expect(opened(alice.events)).toEqual(['still here']);
    const staleEvents = bob1.events.filter((e: SealEvent) => e.kind === 'device-stale');
    expect(staleEvents).toEqual([{ kind: 'device-stale', jid: BOB, deviceId: stale }]);
    expect(bob1.events).toContainEqual(expect.objectContaining({ kind: 'failed', code: 'expired-prekey' }));
    await bob1.removeDevice(stale);
    expect(serverList(world, BOB)).toEqual([bob1.state.deviceId]);
    expect(world.server.pepItems(BOB, bundleNode(stale))).toEqual([]);
  });
});

describe('§envelope.wire: the stanza size limit of a one-to-one fan-out', () => {
  it('a long message to 64 new devices goes as key-only stanzas plus the message, each under MAX_STANZA_BYTES, and every device opens it', async () => {
    // @req envelope.stanza-size
    const world = new SealWorld('stanza size');
    const a = await world.client(`${ALICE}/a`);
    const alice = a.client;
    const first = (await world.client(`${BOB}/b0`, { oneTimePrekeys: 1 })).client;
    const bobs = [first];
    const secret = first.dangerouslyAccountSecret()!;
    while (bobs.length < IDENTITY_CONSTANTS.MAX_DEVICES) bobs.push((await world.client(`${BOB}/b${bobs.length}`, { accountSecret: secret, oneTimePrekeys: 1 })).client);
    expect(serverList(world, BOB)).toHaveLength(64);
    const body = 'x'.repeat(60_000);
    const mark = a.wire.sent.length;
    await alice.send(BOB, body);
    await world.flush();
    const sent = a.wire.sent.slice(mark).filter((s) => s.getName() === 'message');
    const sizes = sent.map(stanzaBytes);
    expect(sent.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(ENVELOPE_CONSTANTS.MAX_STANZA_BYTES);
    // With every header in one stanza it would not have fitted.
    expect(sizes.reduce((x, y) => x + y, 0)).toBeGreaterThan(ENVELOPE_CONSTANTS.MAX_STANZA_BYTES);
    for (const bob of bobs) expect(opened(bob.events)).toEqual([body]);
    for (const bob of bobs) expect(bob.events.filter((e) => e.kind === 'failed')).toEqual([]);
  }, 120_000);
});
