/**
 * A durable {@link SealStore} for browsers: IndexedDB (through the `idb` wrapper), one
 * read-write transaction with `durability: 'strict'` per engine commit, so that a commit resolves
 * only once the browser has flushed it, and a page closed or killed mid-commit leaves all of it or
 * none of it.
 *
 * The database (`name`, version 1) holds two object stores: `records`, keyed by `[table, key]`,
 * and `format`, one entry saying the format (`seal-store-v1`) and whether values are wrapped.
 *
 * Secrets at rest: the records hold the device's private keys and session keys. Protecting them is
 * the application's (spec §device.store): it may pass a `wrappingKey`, a non-extractable
 * WebCrypto AES-GCM key (for example one kept in the same origin's IndexedDB, or derived from a
 * passphrase), and every value is then stored encrypted under it, with a fresh 12-byte IV and the
 * table and key as associated data (so a value cannot be moved to another record). Table names
 * and keys (peer JIDs and device ids) stay readable. A store written with a wrapping key opens
 * only with that key.
 *
 * @see spec §device.store
 * @module
 */
import { type IDBPDatabase, openDB } from 'idb';
import { SealError } from '../errors.js';
import { type SealStore, type StoreCommit, type StoreRecord, type StoreTable, STORE_TABLES } from '../device/store.js';

const FORMAT = 'seal-store-v1';
const TABLES = new Set<string>(STORE_TABLES);

/** Options of {@link IndexedDbStore.open}. */
export interface IndexedDbStoreOptions {
  /**
   * An AES-GCM `CryptoKey` (usages `encrypt`, `decrypt`; best non-extractable) under which every
   * value is stored. Without it values are stored as they are.
   */
  readonly wrappingKey?: CryptoKey;
}

interface StoredValue {
  readonly table: string;
  readonly key: string;
  readonly value?: string;
  readonly iv?: Uint8Array;
  readonly ct?: Uint8Array;
}

interface FormatEntry {
  readonly format: string;
  readonly wrapped: boolean;
}

function aad(table: string, key: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${table}\u0000${key}`);
}

function corrupt(name: string, problem: string): SealError {
  return new SealError('invalid-state', `store: IndexedDB database ${name}: ${problem}; nothing was loaded`);
}

/**
 * A store in an IndexedDB database.
 *
 * @see spec §device.store
 * @example
 * ```ts
 * import { IndexedDbStore } from 'xmpp-seal/store/indexeddb';
 * const store = await IndexedDbStore.open('seal alice@example.org');
 * const client = await SealClient.create({ connection, store, now, rng: systemRng });
 * ```
 */
export class IndexedDbStore implements SealStore {
  readonly #db: IDBPDatabase;
  readonly #name: string;
  readonly #wrappingKey: CryptoKey | undefined;

  private constructor(db: IDBPDatabase, name: string, wrappingKey: CryptoKey | undefined) {
    this.#db = db;
    this.#name = name;
    this.#wrappingKey = wrappingKey;
  }

  /**
   * Opens (or creates) the database `name`.
   *
   * @throws SealError `invalid-state` when the database is not a Seal store, or was written with
   *   a wrapping key and none (or another) is given.
   * @see spec §device.store
   */
  static async open(name: string, options: IndexedDbStoreOptions = {}): Promise<IndexedDbStore> {
    if (globalThis.indexedDB === undefined) throw new SealError('invalid-state', 'store: this environment has no IndexedDB');
    const wrapped = options.wrappingKey !== undefined;
    let db: IDBPDatabase;
    try {
      db = await openDB(name, 1, {
        upgrade(database) {
          database.createObjectStore('records');
          database.createObjectStore('format').put({ format: FORMAT, wrapped } satisfies FormatEntry, 'format');
        },
      });
    } catch (e) {
      throw corrupt(name, `cannot be opened (${(e as Error).message})`);
    }
    if (!db.objectStoreNames.contains('records') || !db.objectStoreNames.contains('format')) {
      db.close();
      throw corrupt(name, 'is not a Seal store');
    }
    const format = (await db.get('format', 'format')) as FormatEntry | undefined;
    if (format?.format !== FORMAT) {
      db.close();
      throw corrupt(name, `has format ${String(format?.format)}, not ${FORMAT}`);
    }
    if (format.wrapped !== wrapped) {
      db.close();
      throw corrupt(name, format.wrapped ? 'was written with a wrapping key, and none was given' : 'was written without a wrapping key, and one was given');
    }
    return new IndexedDbStore(db, name, options.wrappingKey);
  }

  /** Every stored record (values unwrapped). @see spec §device.store */
  async load(): Promise<readonly StoreRecord[]> {
    const values = (await this.#db.getAll('records')) as StoredValue[];
    const out: StoreRecord[] = [];
    for (const v of values) {
      if (typeof v !== 'object' || v === null || typeof v.table !== 'string' || !TABLES.has(v.table) || typeof v.key !== 'string') throw corrupt(this.#name, 'holds a record of no Seal table');
      out.push({ table: v.table as StoreTable, key: v.key, value: await this.#unwrap(v) });
    }
    return out;
  }

  // @req device.store-integrity: a record that does not read back is a refusal, never skipped.
  async #unwrap(v: StoredValue): Promise<string> {
    if (this.#wrappingKey === undefined) {
      if (typeof v.value !== 'string') throw corrupt(this.#name, `record ${v.table}/${v.key} has no text value`);
      return v.value;
    }
    if (!(v.iv instanceof Uint8Array) || !(v.ct instanceof Uint8Array) || v.iv.length !== 12) throw corrupt(this.#name, `record ${v.table}/${v.key} is not wrapped`);
    try {
      const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: new Uint8Array(v.iv), additionalData: aad(v.table, v.key) }, this.#wrappingKey, new Uint8Array(v.ct));
      return new TextDecoder('utf-8', { fatal: true }).decode(plain);
    } catch {
      throw corrupt(this.#name, `record ${v.table}/${v.key} does not open under the wrapping key`);
    }
  }

  async #wrap(record: StoreRecord): Promise<StoredValue> {
    if (this.#wrappingKey === undefined) return { table: record.table, key: record.key, value: record.value };
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad(record.table, record.key) }, this.#wrappingKey, new TextEncoder().encode(record.value)));
    return { table: record.table, key: record.key, iv, ct };
  }

  /**
   * Applies the commit in one read-write transaction (`durability: 'strict'`); resolves once
   * it has committed.
   *
   * @see spec §device.store
   */
  async commit(commit: StoreCommit): Promise<void> {
    if (commit.put.length === 0 && commit.delete.length === 0) return;
    for (const r of [...commit.put, ...commit.delete]) if (!TABLES.has(r.table)) throw new SealError('invalid-value', `store: no table ${r.table}`);
    // Wrapping is asynchronous: done before the transaction opens, which would otherwise commit
    // early while the requests wait for WebCrypto.
    const values = await Promise.all(commit.put.map((r) => this.#wrap(r)));
    const tx = this.#db.transaction('records', 'readwrite', { durability: 'strict' });
    const records = tx.objectStore('records');
    const requests: Promise<unknown>[] = [];
    for (const d of commit.delete) requests.push(records.delete([d.table, d.key]));
    for (const v of values) requests.push(records.put(v, [v.table, v.key]));
    await Promise.all([...requests, tx.done]);
  }

  /** Closes the database. @see spec §device.store */
  close(): void {
    this.#db.close();
  }
}
