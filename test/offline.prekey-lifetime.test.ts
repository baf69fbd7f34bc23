/**
 * §offline.prekeys through the device engine: every signed and KEM prekey is valid for
 * MAX_PREKEY_VALIDITY (PREKEY_ROTATION_PERIOD + MAX_CLOCK_SKEW), is replaced after
 * PREKEY_ROTATION_PERIOD, and its private key is deleted at expires + PREKEY_GRACE_PERIOD whenever
 * the rotation came: the forward-secrecy window of a session started from it is at most
 * MAX_PREKEY_VALIDITY + PREKEY_GRACE_PERIOD (14 days and 5 minutes).
 */
import { describe, expect, it } from 'vitest';
import { SealEngine } from '../src/device/engine.js';
import type { StepOutput } from '../src/device/types.js';
import { HANDSHAKE_CONSTANTS } from '../src/handshake/constants.js';
import { IDENTITY_CONSTANTS } from '../src/identity/constants.js';
import type { DeviceId } from '../src/identity/device.js';
import { bundleNode } from '../src/identity/pep.js';
import { presence } from '../src/net/index.js';
import { OFFLINE_CONSTANTS } from '../src/offline/constants.js';
import { seededRng } from '../src/suite/rng.js';
import { BundleElement } from '../src/wire/bundle.js';
import { childElements } from '../src/wire/xml.js';
import { ALICE, BOB, SealWorld, failedCodes, opened } from './support/store-conformance.js';

const DAY = 86400;
const T0 = 1795683600;
const VALIDITY = IDENTITY_CONSTANTS.MAX_PREKEY_VALIDITY;
const GRACE = HANDSHAKE_CONSTANTS.PREKEY_GRACE_PERIOD;
const ROTATION = OFFLINE_CONSTANTS.PREKEY_ROTATION_PERIOD;

/** Bob's engine, created at T0, and a tick at any time that adopts its state. */
function bobEngine(seed: string) {
  const rng = seededRng(seed);
  const created = SealEngine.create({ jid: BOB, existingList: undefined, now: T0, rng });
  const engine = created.engine;
  engine.adopt(created.state);
  const tick = (now: number): StepOutput => {
    const { state, output } = engine.step({ kind: 'tick' }, { now, rng });
    engine.adopt(state);
    return output;
  };
  const ids = () => ({ signed: engine.state.device.signedPrekeys.map((k) => k.id), kem: engine.state.device.kemPrekeys.map((k) => k.id) });
  return { engine, created: created.output, tick, ids };
}

/** The signed and KEM prekeys of the bundle a step publishes, if it publishes one. */
function publishedBundle(output: StepOutput, deviceId: DeviceId) {
  const item = output.publish.find((p) => p.node === bundleNode(deviceId))?.item;
  return item === undefined ? undefined : BundleElement.fromXml(item);
}

describe('§offline.prekeys: one bound on a prekey\'s life', () => {
  it('the constants: validity = rotation period + clock skew; the window = validity + grace = 14 days and 5 minutes', () => {
    // @req offline.prekey-lifetime
    expect(VALIDITY).toBe(ROTATION + IDENTITY_CONSTANTS.MAX_CLOCK_SKEW);
    expect(VALIDITY + GRACE).toBe(14 * DAY + 300);
  });

  it('on schedule: published with expires = created + MAX_PREKEY_VALIDITY, rotated at PREKEY_ROTATION_PERIOD, the old key deleted at expires + PREKEY_GRACE_PERIOD', () => {
    // @req offline.prekey-lifetime
    // @req offline.rotate
    // @req handshake.prekey-grace
    const bob = bobEngine('prekey lifetime on schedule');
    const id = bob.engine.state.device.deviceId;
    const first = publishedBundle(bob.created, id)!;
    expect(first.signedPrekey.expires - first.signedPrekey.created).toBe(VALIDITY);
    expect(first.kemPrekey.expires - first.kemPrekey.created).toBe(VALIDITY);
    expect(first.signedPrekey.created).toBe(T0);

    expect(publishedBundle(bob.tick(T0 + ROTATION - 1), id)).toBeUndefined();
    expect(bob.ids()).toEqual({ signed: [1], kem: [2] });

    // At PREKEY_ROTATION_PERIOD, MAX_CLOCK_SKEW before the old bundle expires: new keys, republished.
    const rotated = publishedBundle(bob.tick(T0 + ROTATION), id)!;
    expect(rotated.signedPrekey.id).not.toBe(1);
    expect(rotated.signedPrekey.created).toBe(T0 + ROTATION);
    expect(rotated.signedPrekey.expires).toBe(T0 + ROTATION + VALIDITY);
    expect(rotated.kemPrekey.expires).toBe(T0 + ROTATION + VALIDITY);
    expect(bob.ids().signed).toEqual([1, rotated.signedPrekey.id]);

    // The replaced keys stay until their expires + PREKEY_GRACE_PERIOD, and not one second longer
    // (by then the second keys have been replaced in turn, and are kept for their own grace period).
    bob.tick(T0 + VALIDITY + GRACE - 1);
    expect(bob.ids().signed.slice(0, 2)).toEqual([1, rotated.signedPrekey.id]);
    expect(bob.ids().kem.slice(0, 2)).toEqual([2, rotated.kemPrekey.id]);
    bob.tick(T0 + VALIDITY + GRACE);
    expect(bob.ids().signed[0]).toBe(rotated.signedPrekey.id);
    expect(bob.ids().kem[0]).toBe(rotated.kemPrekey.id);
    // The second keys go at their own expires + PREKEY_GRACE_PERIOD.
    bob.tick(T0 + ROTATION + VALIDITY + GRACE);
    expect(bob.ids().signed).not.toContain(rotated.signedPrekey.id);
    expect(bob.ids().signed).toHaveLength(2);
  });

  it('late rotation (the device was offline for ten days): the old key is still deleted at its expires + PREKEY_GRACE_PERIOD, not a grace period after the rotation', () => {
    // @req offline.prekey-lifetime
    // @req offline.rotate
    const bob = bobEngine('prekey lifetime late');
    const id = bob.engine.state.device.deviceId;
    const rotated = publishedBundle(bob.tick(T0 + 10 * DAY), id)!;
    expect(rotated.signedPrekey.expires).toBe(T0 + 10 * DAY + VALIDITY);
    expect(bob.ids().signed).toEqual([1, rotated.signedPrekey.id]);
    bob.tick(T0 + VALIDITY + GRACE - 1);
    expect(bob.ids().signed).toEqual([1, rotated.signedPrekey.id]);
    bob.tick(T0 + VALIDITY + GRACE);
    expect(bob.ids()).toEqual({ signed: [rotated.signedPrekey.id], kem: [rotated.kemPrekey.id] });
    // Ten days after the rotation plus a grace period would have been day 17: by then nothing of key 1 is left anywhere.
    expect(T0 + 10 * DAY + GRACE).toBeGreaterThan(T0 + VALIDITY + GRACE);
  });

  it('a first message to the published prekeys, stored offline: opens after ten days (past expires, within the grace period), fails with expired-prekey after fifteen, and the old key is gone after either', async () => {
    // @req offline.prekey-lifetime
    // @req handshake.prekey-grace
    for (const [days, opensIt] of [
      [10, true],
      [15, false],
    ] as const) {
      const world = new SealWorld(`prekey lifetime offline ${days}`);
      const alice = await world.client(`${ALICE}/a`);
      const bob = await world.client(`${BOB}/b`, { online: false });
      const created = bob.client.state.signedPrekeys[0]!;
      expect(created.expires - created.created).toBe(VALIDITY);
      await alice.client.send(BOB, `sent on day 0, read on day ${days}`);
      await world.flush();
      world.advance(days * DAY);
      await bob.wire.connection.send(presence());
      await world.flush();
      if (opensIt) {
        expect(opened(bob.client.events)).toEqual([`sent on day 0, read on day ${days}`]);
        // The step rotated: the old key is held for its grace period, next to the new one.
        expect(bob.client.state.signedPrekeys.map((k) => k.id)[0]).toBe(created.id);
        expect(bob.client.state.signedPrekeys).toHaveLength(2);
      } else {
        expect(opened(bob.client.events)).toEqual([]);
        expect(failedCodes(bob.client.events)).toContain('expired-prekey');
        // The same step deleted it: past expires + PREKEY_GRACE_PERIOD.
        expect(bob.client.state.signedPrekeys.map((k) => k.id)).not.toContain(created.id);
      }
      // The bundle on the server now carries a fresh key valid for MAX_PREKEY_VALIDITY.
      const item = world.server.pepItems(BOB, bundleNode(bob.client.state.deviceId))[0]!;
      const served = BundleElement.fromXml(childElements(item)[0]!);
      expect(served.signedPrekey.id).not.toBe(created.id);
      expect(served.signedPrekey.expires - served.signedPrekey.created).toBe(VALIDITY);
      world.advance(5 * DAY);
      await bob.client.tick();
      expect(bob.client.state.signedPrekeys.map((k) => k.id)).not.toContain(created.id);
    }
  });
});
