/**
 * §envelope.time-check through the engine: the sender's `<time/>` is compared with the server's
 * `<delay/>` stamp (offline delivery) or the receiver's clock (live), and a difference beyond
 * TIME_AFFIX_SKEW flags the opened message; nothing is rejected.
 */
import { describe, expect, it } from 'vitest';
import type { SealEvent } from '../src/device/types.js';
import { DEVICE_CONSTANTS } from '../src/device/constants.js';
import { presence } from '../src/net/index.js';
import { ALICE, BOB, SealWorld } from './support/store-conformance.js';

const openedEvents = (events: readonly SealEvent[]) => events.flatMap((e) => (e.kind === 'opened' ? [e] : []));

describe('§envelope.time-check', () => {
  it('live: close clocks pass; a sender clock an hour ahead is flagged, and the message still opens', async () => {
    // @req envelope.time-check
    const world = new SealWorld('clock live');
    const alice = await world.client(`${ALICE}/a`);
    const bob = await world.client(`${BOB}/b`);
    await alice.client.send(BOB, 'on time');
    await world.flush();
    const [first] = openedEvents(bob.client.events);
    expect(first!.body).toBe('on time');
    expect(Math.abs(first!.clockSkew!)).toBeLessThan(60);
    expect(first!.timeMismatch).toBe(false);
    // Alice's second device has a clock one hour ahead.
    const late = await world.client(`${ALICE}/late`, { now: () => world.now() + 3600, accountSecret: alice.client.dangerouslyAccountSecret()! });
    await late.client.send(BOB, 'an hour ahead');
    await world.flush();
    const flagged = openedEvents(bob.client.events).find((e) => e.body === 'an hour ahead')!;
    expect(flagged.timeMismatch).toBe(true);
    expect(flagged.clockSkew!).toBeGreaterThan(3600 - 60);
    expect(flagged.clockSkew!).toBeGreaterThan(DEVICE_CONSTANTS.TIME_AFFIX_SKEW);
  });

  it('offline: compared with the server\'s delay stamp, not with when the device came online two days later', async () => {
    // @req envelope.time-check
    const world = new SealWorld('clock offline');
    const alice = await world.client(`${ALICE}/a`);
    const bob = await world.client(`${BOB}/b`, { online: false });
    await alice.client.send(BOB, 'while you were away');
    await world.flush();
    world.advance(2 * 86400);
    await bob.wire.connection.send(presence());
    await world.flush();
    const [message] = openedEvents(bob.client.events);
    expect(message!.body).toBe('while you were away');
    expect(Math.abs(message!.clockSkew!)).toBeLessThan(60);
    expect(message!.timeMismatch).toBe(false);
  });
});
