/**
 * The store contract of the device engine: everything a Seal device must remember across a
 * restart, as records of text in named tables, and one atomic commit per engine step. Durable
 * stores (SQLite, IndexedDB) implement the same two methods; {@link MemoryStore} is the
 * reference and the store of tests. Stores hold secrets (device keys, session keys) and the
 * plaintext of opened messages not yet acknowledged by the application: protect them as such.
 *
 * @see spec §device.store
 * @module
 */

/**
 * The tables of a store. `device`, `account-secret`, `log`, `repair` and `meta` hold one record
 * (key `self`); `peer` one record per peer device (`jid/deviceId`); `account` one per contact
 * account (bare JID); `held` stanzas waiting for a device list or a trust decision; `outbox`
 * stanzas committed but not yet handed to the server; `inbox` opened messages not yet
 * acknowledged by the application; `room` one per room the device tracks (§groups: its
 * configuration and affiliation lists, with when they were fetched).
 *
 * @see spec §device.store
 */
export const STORE_TABLES = ['device', 'account-secret', 'log', 'repair', 'meta', 'peer', 'account', 'held', 'outbox', 'inbox', 'room'] as const;

/** One table of a store. @see spec §device.store */
export type StoreTable = (typeof STORE_TABLES)[number];

/** One record: a table, a key within it, and its text (JSON or XML, written by the engine). */
export interface StoreRecord {
  readonly table: StoreTable;
  readonly key: string;
  readonly value: string;
}

/**
 * What one engine step changes: records to write and records to delete. A store applies a
 * commit atomically: after a crash, either all of it or none of it is visible.
 *
 * @see spec §device.store
 */
export interface StoreCommit {
  readonly put: readonly StoreRecord[];
  readonly delete: readonly { readonly table: StoreTable; readonly key: string }[];
}

/** A commit that changes nothing. */
export const EMPTY_COMMIT: StoreCommit = { put: [], delete: [] };

/** Whether a commit changes nothing. */
export function isEmptyCommit(commit: StoreCommit): boolean {
  return commit.put.length === 0 && commit.delete.length === 0;
}

/**
 * The contract every Seal store implements.
 *
 * - `load` returns every record (in any order), or an empty array for a new store; a store that
 *   cannot return every record of its last completed commit throws instead of returning part.
 * - `commit` applies all puts and deletes of one step atomically and resolves only once they
 *   are durable; if it rejects, nothing of it may be visible to a later `load`.
 *
 * @see spec §device.store
 */
// @req device.store-integrity: the contract's load is all of the last completed commit, or an error.
export interface SealStore {
  /** Every stored record, or none for a new store. */
  load(): Promise<readonly StoreRecord[]>;
  /** Applies one step's puts and deletes atomically; resolves once they are durable. */
  commit(commit: StoreCommit): Promise<void>;
}

/**
 * A store in memory: the reference implementation of {@link SealStore}, used by tests and by
 * the demo. `snapshot()` returns the stored records, so that a test can compare the state
 * before and after a step byte for byte, or start a second device over a copy.
 *
 * @see spec §device.store
 * @example
 * ```ts
 * const store = new MemoryStore();
 * const client = await SealClient.create({ connection, store, now, rng });
 * ```
 */
export class MemoryStore implements SealStore {
  readonly #tables = new Map<string, string>();
  /** Number of commits applied (for tests). */
  commits = 0;
  /** When set, the next commit rejects without applying anything (tests of crash safety). */
  failNextCommit = false;

  constructor(records: readonly StoreRecord[] = []) {
    for (const r of records) this.#tables.set(`${r.table}\u0000${r.key}`, r.value);
  }

  /** Every stored record (a copy). */
  async load(): Promise<readonly StoreRecord[]> {
    return this.snapshot();
  }

  /** Applies the commit at once (or rejects without applying anything when `failNextCommit` is set). */
  async commit(commit: StoreCommit): Promise<void> {
    if (this.failNextCommit) {
      this.failNextCommit = false;
      throw new Error('MemoryStore: commit failed (simulated crash)');
    }
    this.applySync(commit);
  }

  /** Applies a commit synchronously (the in-memory store has no IO). */
  applySync(commit: StoreCommit): void {
    for (const d of commit.delete) this.#tables.delete(`${d.table}\u0000${d.key}`);
    for (const r of commit.put) this.#tables.set(`${r.table}\u0000${r.key}`, r.value);
    this.commits++;
  }

  /** Every record, sorted by table and key. */
  snapshot(): StoreRecord[] {
    return [...this.#tables]
      .map(([k, value]) => {
        const i = k.indexOf('\u0000');
        return { table: k.slice(0, i) as StoreTable, key: k.slice(i + 1), value };
      })
      .sort((a, b) => (a.table === b.table ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.table < b.table ? -1 : 1));
  }
}
