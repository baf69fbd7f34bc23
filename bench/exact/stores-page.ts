/**
 * The browser half of the store bench (bundled for the browser with the recording shims by
 * bench/stores.ts and run in headless Chromium): the commits of one message applied to an
 * IndexedDbStore, without and with a wrapping key, against the exact replay of the message's
 * primitive calls. The rows are left in `window.benchResult`.
 *
 * @see spec §device.store
 * @module
 */
import { IndexedDbStore } from '../../src/store/indexeddb.js';
import { messageWork, storeRow } from './stores.js';

async function main(): Promise<unknown> {
  const work = await messageWork();
  const plain = await IndexedDbStore.open('bench plain');
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  const wrapped = await IndexedDbStore.open('bench wrapped', { wrappingKey: key });
  const rows = [await storeRow('IndexedDbStore (strict durability)', plain, work), await storeRow('IndexedDbStore with a wrapping key (AES-GCM per value)', wrapped, work)];
  return { rows, machine: navigator.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? navigator.userAgent };
}

main().then(
  (result) => ((window as { benchResult?: unknown }).benchResult = result),
  (e: unknown) => ((window as { benchResult?: unknown }).benchResult = { error: `${String(e)} ${(e as Error).stack ?? ''}` }),
);
