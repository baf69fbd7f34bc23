/**
 * §device.store: the reference in-memory store passes the store conformance suite (the durable
 * stores of the next issue run the same suite), and a corrupted store is refused on restore.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/device/store.js';
import { SealClient, presence } from '../src/net/index.js';
import { ALICE, BOB, SealWorld, storeConformance } from './support/store-conformance.js';

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

describe('§device.store: a restart resumes what the stopped process had started', () => {
  it('a list fetch lost with the process is made again by the restart tick, and the held stanzas open', async () => {
    // @req device.restart-tick
    const world = new SealWorld('restart tick');
    const store = new MemoryStore();
    // Alice's first process: its fetch of Bob's device list never returns (the process dies in it).
    const connection = world.server.connect(`${ALICE}/a`);
    let hung = 0;
    const dying = { ...connection, jid: connection.jid, iq: (request: Parameters<typeof connection.iq>[0]) => (request.toString().includes(BOB) ? (hung++, new Promise<never>(() => undefined)) : connection.iq(request)), send: connection.send.bind(connection), onStanza: (handler: Parameters<typeof connection.onStanza>[0]) => connection.onStanza((stanza) => void handler(stanza)), close: connection.close.bind(connection) };
    const first = await SealClient.create({ connection: dying, store, now: world.now, rng: world.rng, oneTimePrekeys: 5 });
    await dying.send(presence());
    await world.flush();
    const { client: bob } = await world.client(`${BOB}/b`);
    await bob.send(ALICE, 'one');
    await world.flush();
    expect(hung).toBe(1);
    expect(first.received).toEqual([]);
    expect(store.snapshot().filter((r) => r.table === 'held')).toHaveLength(1);
    await connection.close();
    // Bob goes on writing while Alice is down.
    await bob.send(ALICE, 'two');
    await world.flush();
    // The restarted device asks for the list again at once and opens both, each once.
    const opened: string[] = [];
    const again = await SealClient.create({ connection: world.server.connect(`${ALICE}/a`), store, now: world.now, rng: world.rng, onMessage: (m) => opened.push(m.body) });
    await again.connection.send(presence());
    await world.flush();
    await again.idle();
    expect(opened).toEqual(['one', 'two']);
    expect(store.snapshot().filter((r) => r.table === 'held')).toEqual([]);
  });

  it('listeners given to create see the inbox a restored device hands over again (device.inbox)', async () => {
    // @req device.inbox
    const world = new SealWorld('inbox listeners');
    const store = new MemoryStore();
    const alice = await world.client(`${ALICE}/a`, { store });
    const { client: bob } = await world.client(`${BOB}/b`);
    // The application never acknowledges: its store commit of 'delivered' fails.
    alice.client.onMessage(() => {
      store.failNextCommit = true;
    });
    await bob.send(ALICE, 'unacknowledged');
    await world.flush();
    await alice.client.idle();
    expect(store.snapshot().filter((r) => r.table === 'inbox')).toHaveLength(1);
    await alice.wire.connection.close();
    const seen: string[] = [];
    const events: string[] = [];
    const again = await SealClient.create({ connection: world.server.connect(`${ALICE}/a`), store, now: world.now, rng: world.rng, onMessage: (m) => seen.push(`${m.body} ${m.eventId}`), onEvent: (e) => events.push(e.kind) });
    expect(seen).toEqual([`unacknowledged ${alice.client.received[0]!.eventId}`]);
    expect(events).toContain('opened');
    expect(again.received.map((m) => m.body)).toEqual(['unacknowledged']);
    // Taken this time: the inbox is empty.
    expect(store.snapshot().filter((r) => r.table === 'inbox')).toEqual([]);
  });
});
