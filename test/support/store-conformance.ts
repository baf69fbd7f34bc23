/**
 * The store conformance suite (spec §device.store): the tests every {@link SealStore} must pass,
 * whatever it keeps its records in. `storeConformance(name, makeStore)` registers them with
 * vitest; each test asks `makeStore` for a new, empty store. The suite uses only the two
 * methods of the contract (`load`, `commit`), so it runs unchanged for the in-memory store, and
 * for SQLite and IndexedDB stores.
 *
 * Also exported: {@link SealWorld}, an embedded server with a controllable clock and the
 * accounts the device tests use, shared by the device engine, fuzz and store tests.
 */
import { describe, expect, it } from 'vitest';
import { bareJid, type BareJid } from '../../src/identity/jid.js';
import { MemoryStore, type SealStore, type StoreCommit, type StoreRecord, STORE_TABLES } from '../../src/device/store.js';
import type { SealEvent } from '../../src/device/types.js';
import { EmbeddedServer, type EmbeddedServerOptions, SealClient, XmppError, presence, type XmppConnection } from '../../src/net/index.js';
import type { SealClientOptions } from '../../src/net/client.js';
import { type Rng, seededRng } from '../../src/suite/rng.js';
import type { Element } from '../../src/wire/xml.js';

export const ALICE: BareJid = bareJid('alice@example.org');
export const BOB: BareJid = bareJid('bob@example.net');
export const MALLORY: BareJid = bareJid('mallory@example.com');

/** A connection wrapper that records what the client sends and can be told to fail sends. */
export interface Recorded {
  readonly connection: XmppConnection;
  /** Every stanza handed to the server, in order. */
  readonly sent: Element[];
  /** How many of the next sends reject (an XmppError, nothing sent). */
  failSends: number;
}

export function recorded(connection: XmppConnection): Recorded {
  const r: Recorded = {
    sent: [],
    failSends: 0,
    connection: {
      jid: connection.jid,
      send: async (stanza) => {
        if (r.failSends > 0) {
          r.failSends--;
          throw new XmppError('cancel', 'service-unavailable', undefined, 'simulated send failure');
        }
        r.sent.push(stanza);
        return connection.send(stanza);
      },
      iq: (request) => connection.iq(request),
      onStanza: (handler) => connection.onStanza(handler),
      close: () => connection.close(),
    },
  };
  return r;
}

/**
 * An embedded server with a clock the test moves (one second per reading of `now`, plus
 * `advance`), accounts alice@, bob@ and mallory@, and clients that come online at once.
 */
export class SealWorld {
  clock = Date.UTC(2026, 10, 26, 9);
  readonly server: EmbeddedServer;
  readonly rng: Rng;
  readonly now = (): number => Math.floor((this.clock += 1000) / 1000);

  constructor(name: string, serverOptions: Omit<EmbeddedServerOptions, 'clock' | 'rng'> = {}) {
    this.server = new EmbeddedServer({ ...serverOptions, clock: () => this.clock, rng: seededRng(`${name} server`) });
    this.rng = seededRng(`${name} clients`);
    for (const jid of [ALICE, BOB, MALLORY]) this.server.createAccount(jid);
  }

  /** Moves the clock forward. */
  advance(seconds: number): void {
    this.clock += seconds * 1000;
  }

  /** A client on a new connection of `fullJid` (available at once unless `online` is false). */
  async client(fullJid: string, options: Partial<Omit<SealClientOptions, 'connection'>> & { online?: boolean } = {}): Promise<{ client: SealClient; wire: Recorded }> {
    const wire = recorded(this.server.connect(fullJid));
    const { online, ...rest } = options;
    const client = await SealClient.create({ connection: wire.connection, now: this.now, rng: this.rng, oneTimePrekeys: 5, ...rest });
    if (online !== false) await wire.connection.send(presence());
    await this.flush();
    return { client, wire };
  }

  async flush(): Promise<void> {
    await this.server.network.flush();
  }
}

/** The bodies of the `opened` events among `events`. */
export const opened = (events: readonly SealEvent[]): string[] => events.flatMap((e) => (e.kind === 'opened' ? [e.body] : []));
/** The codes of the `failed` events among `events`. */
export const failedCodes = (events: readonly SealEvent[]): string[] => events.flatMap((e) => (e.kind === 'failed' ? [e.code] : []));

/** Alice and Bob, each with one device over a MemoryStore, who have exchanged one message each way. */
export async function conversation(name: string) {
  const world = new SealWorld(name);
  const aliceStore = new MemoryStore();
  const a = await world.client(`${ALICE}/a`, { store: aliceStore });
  const b = await world.client(`${BOB}/b`, { store: new MemoryStore() });
  await a.client.send(BOB, 'hello bob');
  await world.flush();
  await b.client.send(ALICE, 'hello alice');
  await world.flush();
  expect(opened(b.client.events)).toEqual(['hello bob']);
  expect(opened(a.client.events)).toEqual(['hello alice']);
  return { world, alice: a.client, aliceWire: a.wire, aliceStore, bob: b.client, bobWire: b.wire };
}

/** Copies every record of a store (for comparisons). */
async function recordsOf(store: SealStore): Promise<StoreRecord[]> {
  const records = [...(await store.load())];
  return records.sort((a, b) => (a.table === b.table ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.table < b.table ? -1 : 1)).map((r) => ({ table: r.table, key: r.key, value: r.value }));
}

function put(...records: StoreRecord[]): StoreCommit {
  return { put: records, delete: [] };
}

/**
 * Registers the conformance tests of the store contract for a store made by `makeStore`
 * (a new, empty store per call). A store that can simulate a failed commit exposes
 * `failNextCommit` (as {@link MemoryStore} does); the atomicity test then makes one fail, and
 * otherwise checks the interface-level promise (a commit that resolved is visible in full).
 *
 * @see spec §device.store
 */
export function storeConformance(name: string, makeStore: () => Promise<SealStore>): void {
  describe(`store conformance: ${name}`, () => {
    it('a new store loads as empty', async () => {
      // @req device.commit-first
      const store = await makeStore();
      expect(await store.load()).toEqual([]);
    });

    it('puts, overwrites and deletes records in every table; keys of one table do not collide with another', async () => {
      // @req device.commit-first
      const store = await makeStore();
      await store.commit(put(...STORE_TABLES.map((table) => ({ table, key: 'k', value: `v ${table}` }))));
      expect(await recordsOf(store)).toEqual(STORE_TABLES.map((table) => ({ table, key: 'k', value: `v ${table}` })).sort((a, b) => (a.table < b.table ? -1 : 1)));
      await store.commit({ put: [{ table: 'peer', key: 'k', value: 'second' }], delete: [{ table: 'held', key: 'k' }] });
      const after = await recordsOf(store);
      expect(after.find((r) => r.table === 'peer')!.value).toBe('second');
      expect(after.some((r) => r.table === 'held')).toBe(false);
      expect(after).toHaveLength(STORE_TABLES.length - 1);
      // Deleting what is not there is no error.
      await store.commit({ put: [{ table: 'inbox', key: 'k', value: 'again' }], delete: [{ table: 'outbox', key: 'absent' }] });
      expect((await recordsOf(store)).find((r) => r.table === 'inbox')!.value).toBe('again');
      // An empty commit changes nothing.
      const before = await recordsOf(store);
      await store.commit({ put: [], delete: [] });
      expect(await recordsOf(store)).toEqual(before);
    });

    it('a commit is atomic: a rejected commit leaves nothing of it visible', async () => {
      // @req device.commit-first
      const store = await makeStore();
      await store.commit(put({ table: 'peer', key: 'a', value: '1' }));
      const failing = store as SealStore & { failNextCommit?: boolean };
      const commit: StoreCommit = { put: [{ table: 'peer', key: 'a', value: '2' }, { table: 'peer', key: 'b', value: '2' }], delete: [{ table: 'peer', key: 'a' }] };
      if ('failNextCommit' in failing) {
        failing.failNextCommit = true;
        await expect(store.commit(commit)).rejects.toThrow();
        expect(await recordsOf(store)).toEqual([{ table: 'peer', key: 'a', value: '1' }]);
      }
      // Whatever the store: a commit that resolved is visible in full, to this and a later load.
      await store.commit(commit);
      expect(await recordsOf(store)).toEqual([{ table: 'peer', key: 'a', value: '2' }, { table: 'peer', key: 'b', value: '2' }]);
    });

    it('keeps large values (2 MiB) intact', async () => {
      const store = await makeStore();
      let text = '';
      for (let i = 0; text.length < 2 * 1024 * 1024; i++) text += `${i.toString(36)}é\u{1F512}<&>"'\n`;
      text = text.slice(0, 2 * 1024 * 1024);
      await store.commit(put({ table: 'peer', key: 'large', value: text }));
      const loaded = (await store.load()).find((r) => r.key === 'large');
      expect(loaded?.value.length).toBe(text.length);
      expect(loaded?.value === text).toBe(true);
    });

    it('keeps many records (5 000 in one commit, then 1 000 deleted)', async () => {
      const store = await makeStore();
      const many = Array.from({ length: 5000 }, (_, i) => ({ table: 'held' as const, key: String(i).padStart(12, '0'), value: `v${i}` }));
      await store.commit(put(...many));
      expect(await store.load()).toHaveLength(5000);
      await store.commit({ put: [], delete: many.slice(0, 1000).map((r) => ({ table: r.table, key: r.key })) });
      const left = await recordsOf(store);
      expect(left).toHaveLength(4000);
      expect(left[0]).toEqual(many[1000]);
    });

    it('keeps keys and values with odd characters apart and intact', async () => {
      // Any text a JID, a JSON record or XML can hold (so no NUL).
      const keys = ['bob@example.net/123', 'a/b/c', "o'brien@example.org/1", 'x"y', 'tab\there', 'line\nbreak', 'ünïcödé@例え.jp/7', '\u{1F512}', ' ', '%', '_', '\\', 'self', 'SELF', '__proto__', 'constructor', 'k'.repeat(3071)];
      const store = await makeStore();
      await store.commit(put(...keys.map((key, i) => ({ table: 'account' as const, key, value: `${i}\r\n${key}` }))));
      const loaded = await recordsOf(store);
      expect(loaded).toHaveLength(keys.length);
      for (const [i, key] of keys.entries()) expect(loaded.find((r) => r.key === key)?.value).toBe(`${i}\r\n${key}`);
      await store.commit({ put: [], delete: [{ table: 'account', key: 'a/b/c' }, { table: 'account', key: 'SELF' }] });
      expect((await recordsOf(store)).map((r) => r.key).sort()).toEqual(keys.filter((k) => k !== 'a/b/c' && k !== 'SELF').sort());
    });

    it('a device restarted over the store is the same device: same id, sessions and trust; the conversation continues', async () => {
      // @req device.commit-first
      // @req identity.state-validate
      const world = new SealWorld(`conformance ${name}`);
      const store = await makeStore();
      const first = await world.client(`${ALICE}/a`, { store });
      const { client: bob } = await world.client(`${BOB}/b`);
      await first.client.send(BOB, 'before');
      await world.flush();
      await bob.send(ALICE, 'reply');
      await world.flush();
      expect(first.client.received.map((m) => m.body)).toEqual(['reply']);
      const id = first.client.state.deviceId;
      const sessions = [...first.client.sessions.keys()];
      const trust = first.client.engine.trustOf(BOB);
      await first.wire.connection.close();

      const again = await world.client(`${ALICE}/a`, { store });
      expect(again.client.state.deviceId).toBe(id);
      expect([...again.client.sessions.keys()]).toEqual(sessions);
      expect(again.client.engine.trustOf(BOB)?.trust).toEqual(trust?.trust);
      expect(again.client.received).toEqual([]); // nothing delivered twice
      await again.client.send(BOB, 'after');
      await world.flush();
      await bob.send(ALICE, 'reply 2');
      await world.flush();
      expect(bob.received.map((m) => m.body)).toEqual(['before', 'after']);
      expect(again.client.received.map((m) => m.body)).toEqual(['reply 2']);
      // No new session was needed: no handshake on either side after the restart.
      expect(again.client.events.filter((e) => e.kind === 'session-started')).toEqual([]);
      expect(bob.events.filter((e) => e.kind === 'session-started')).toHaveLength(1);
    });
  });
}
