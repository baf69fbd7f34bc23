/**
 * §device.store: the reference in-memory store passes the store conformance suite (the durable
 * stores of the next issue run the same suite), and a corrupted store is refused on restore.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/device/store.js';
import { SealClient } from '../src/net/index.js';
import { ALICE, SealWorld, storeConformance } from './support/store-conformance.js';

storeConformance('MemoryStore', async () => new MemoryStore());

describe('§device.store: restoring validates every record', () => {
  it('a store with a corrupted or unknown record is refused (invalid-state), never run on half-read state', async () => {
    // @req identity.state-validate
    const world = new SealWorld('corrupted store');
    const store = new MemoryStore();
    const first = await world.client(`${ALICE}/a`, { store });
    await first.wire.connection.close();
    const good = store.snapshot();
    const corruptions: Array<(records: ReturnType<MemoryStore['snapshot']>) => void> = [
      (r) => r.splice(r.findIndex((x) => x.table === 'device'), 1),
      (r) => { const i = r.findIndex((x) => x.table === 'account'); r[i] = { ...r[i]!, value: r[i]!.value.replace('"format":"seal-account"', '"format":"seal-acount"') }; },
      (r) => { const i = r.findIndex((x) => x.table === 'account'); r[i] = { ...r[i]!, key: 'someone@else.example' }; },
      (r) => r.push({ table: 'peer', key: 'bob@example.net/1', value: '{}' }),
      (r) => r.push({ table: 'outbox', key: '000000000001', value: '<message' }),
      (r) => r.push({ table: 'nonsense' as 'peer', key: 'x', value: 'y' }),
      (r) => { const i = r.findIndex((x) => x.table === 'device'); r[i] = { ...r[i]!, value: r[i]!.value.slice(0, -10) }; },
    ];
    for (const corrupt of corruptions) {
      const records = good.map((r) => ({ ...r }));
      corrupt(records);
      await expect(SealClient.create({ connection: world.server.connect(`${ALICE}/a`), store: new MemoryStore(records), now: world.now, rng: world.rng }), corrupt.toString()).rejects.toMatchObject({ name: 'SealError', code: expect.stringMatching(/^(invalid-state|unknown-version)$/) });
    }
    // The good records still restore the device.
    const again = await world.client(`${ALICE}/a`, { store: new MemoryStore(good) });
    expect(again.client.state.deviceId).toBe(first.client.state.deviceId);
  });

  it('a store holding another account\'s device is refused', async () => {
    // @req identity.state-validate
    const world = new SealWorld('other account');
    const store = new MemoryStore();
    const first = await world.client(`${ALICE}/a`, { store });
    await first.wire.connection.close();
    await expect(SealClient.create({ connection: world.server.connect('bob@example.net/b'), store, now: world.now, rng: world.rng })).rejects.toMatchObject({ code: 'invalid-state' });
  });
});
