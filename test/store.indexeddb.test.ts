/**
 * The browser store (src/store/indexeddb.ts, spec §device.store) in Node over fake-indexeddb: the
 * store conformance suite, with and without a wrapping key, and what it refuses. The test that
 * counts for durability runs in Chromium (test/browser.store.test.ts); this one checks the
 * contract and the wrapping.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDB } from 'idb';
import { IndexedDbStore } from '../src/store/indexeddb.js';
import { isSealError } from '../src/errors.js';
import { storeConformance } from './support/store-conformance.js';

let count = 0;
const fresh = () => `seal-test-${count++}`;
const aesKey = (extractable = false) => crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, extractable, ['encrypt', 'decrypt']);

storeConformance('IndexedDbStore (fake-indexeddb)', () => IndexedDbStore.open(fresh()));
storeConformance('IndexedDbStore with a wrapping key (fake-indexeddb)', async () => IndexedDbStore.open(fresh(), { wrappingKey: await aesKey() }));

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    expect(isSealError(e, 'invalid-state'), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('the store opened');
}

describe('IndexedDbStore', () => {
  it('stores wrapped values as AES-GCM ciphertext bound to table and key, and opens them only with that key', async () => {
    const name = fresh();
    const key = await aesKey();
    const store = await IndexedDbStore.open(name, { wrappingKey: key });
    await store.commit({ put: [{ table: 'device', key: 'self', value: 'secret device keys' }, { table: 'peer', key: 'bob@example.net/7', value: 'session keys' }], delete: [] });
    store.close();
    // What is on disk: no plaintext value, a 12-byte IV and ciphertext with its 16-byte tag.
    const raw = await openDB(name, 1);
    const values = (await raw.getAll('records')) as { table: string; key: string; value?: string; iv: Uint8Array; ct: Uint8Array }[];
    expect(values.map((v) => v.value)).toEqual([undefined, undefined]);
    expect(values.map((v) => [v.iv.length, v.ct.length])).toEqual([[12, 'secret device keys'.length + 16], [12, 'session keys'.length + 16]]);
    // A value moved to another record does not open (the table and key are associated data).
    const moved = values.find((v) => v.table === 'device')!;
    await raw.put('records', { ...moved, table: 'peer', key: 'bob@example.net/7' }, ['peer', 'bob@example.net/7']);
    raw.close();
    const reopened = await IndexedDbStore.open(name, { wrappingKey: key });
    expect(await refusal(reopened.load())).toMatch(/record peer\/bob@example.net\/7 does not open under the wrapping key/);
    reopened.close();
    // Another key, no key.
    const other = await IndexedDbStore.open(name, { wrappingKey: await aesKey() });
    expect(await refusal(other.load())).toMatch(/does not open under the wrapping key/);
    other.close();
    expect(await refusal(IndexedDbStore.open(name))).toMatch(/was written with a wrapping key, and none was given/);
  });

  it('refuses a plain store opened with a key, a database of another format and a record of no Seal table', async () => {
    // @req device.store-integrity
    const plain = fresh();
    (await IndexedDbStore.open(plain)).close();
    expect(await refusal(IndexedDbStore.open(plain, { wrappingKey: await aesKey() }))).toMatch(/was written without a wrapping key, and one was given/);
    const foreign = fresh();
    (await openDB(foreign, 1, { upgrade: (db) => db.createObjectStore('other') })).close();
    expect(await refusal(IndexedDbStore.open(foreign))).toMatch(/is not a Seal store/);
    const odd = fresh();
    (await IndexedDbStore.open(odd)).close();
    const raw = await openDB(odd, 1);
    await raw.put('records', { table: 'passwords', key: 'k', value: 'v' }, ['passwords', 'k']);
    raw.close();
    const store = await IndexedDbStore.open(odd);
    expect(await refusal(store.load())).toMatch(/record of no Seal table/);
    store.close();
  });
});
