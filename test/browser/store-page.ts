/**
 * What runs inside the browser page of the IndexedDB store test (test/browser.store.test.ts):
 * Alice's SealClient over an IndexedDbStore, its XMPP connection a bridge to the embedded server
 * in the test process through functions playwright exposes (`sealOut`, `sealIq`, `sealReport`).
 * Incoming stanzas arrive through `window.sealDeliver(seq, xml)` and are acknowledged once
 * processed (their commit done), so that the test sends what a reloaded or crashed page had not
 * processed to the next one, as stream management (XEP-0198) would. Spec §device.store.
 */
import { IndexedDbStore } from '../../src/store/indexeddb.js';
import { SealClient } from '../../src/net/client.js';
import { presence } from '../../src/net/stanzas.js';
import { XmppError, type XmppConnection } from '../../src/net/connection.js';
import { systemRng } from '../../src/suite/rng.js';
import { bareJid } from '../../src/identity/jid.js';
import { parseXml, type Element } from '../../src/wire/xml.js';

interface Bridge {
  sealOut(xml: string): Promise<void>;
  sealIq(xml: string): Promise<{ xml?: string; error?: { type: string; condition: string; application?: string; text?: string } }>;
  sealReport(report: object): Promise<void>;
}
declare global {
  interface Window {
    sealDeliver?: (seq: number, xml: string) => void;
    sealSend?: (body: string) => void;
  }
}
const bridge = window as unknown as Bridge;
const BOB = bareJid('bob@example.org');

let handler: ((stanza: Element) => void | Promise<void>) | undefined;
const early: [number, string][] = [];
let chain: Promise<void> = Promise.resolve();
const handle = async (seq: number, xml: string) => {
  await handler!(parseXml(xml));
  await bridge.sealReport({ t: 'ack', seq });
};

const connection: XmppConnection = {
  jid: 'alice@example.org/browser',
  send: (stanza) => bridge.sealOut(stanza.toString()),
  iq: async (request) => {
    const answer = await bridge.sealIq(request.toString());
    if (answer.error) throw new XmppError(answer.error.type as 'cancel', answer.error.condition, answer.error.application, answer.error.text);
    return parseXml(answer.xml!);
  },
  onStanza: (h) => {
    handler = h;
  },
  close: async () => undefined,
};

window.sealDeliver = (seq, xml) => {
  if (handler === undefined) early.push([seq, xml]);
  else chain = chain.then(() => handle(seq, xml));
};

async function main(): Promise<void> {
  let store: IndexedDbStore;
  try {
    // The wrapping key lives in the page's own IndexedDB as a non-extractable CryptoKey.
    store = await IndexedDbStore.open('seal alice', { wrappingKey: await wrappingKey() });
  } catch (e) {
    await bridge.sealReport({ t: 'load-failed', message: String(e) });
    return;
  }
  const client = await SealClient.create({
    connection,
    store,
    now: () => Math.floor(Date.now() / 1000),
    rng: systemRng,
    oneTimePrekeys: 5,
    onEvent: (event) => {
      void bridge.sealReport(event.kind === 'opened' ? { t: 'opened', body: event.body, eventId: event.eventId } : { t: 'event', kind: event.kind, ...('code' in event ? { code: event.code } : {}) });
    },
  });
  window.sealSend = (body) => {
    chain = chain.then(async () => {
      await client.send(BOB, body);
      await bridge.sealReport({ t: 'sent', body });
    });
  };
  await connection.send(presence());
  for (const [seq, xml] of early.splice(0)) chain = chain.then(() => handle(seq, xml));
  await bridge.sealReport({ t: 'ready', userAgent: navigator.userAgent });
}

/** A non-extractable AES-GCM key kept in IndexedDB (structured clone keeps CryptoKeys). */
async function wrappingKey(): Promise<CryptoKey> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open('seal keys', 1);
    request.onupgradeneeded = () => request.result.createObjectStore('keys');
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const get = () => new Promise<CryptoKey | undefined>((resolve, reject) => {
    const r = db.transaction('keys').objectStore('keys').get('wrapping');
    r.onsuccess = () => resolve(r.result as CryptoKey | undefined);
    r.onerror = () => reject(r.error);
  });
  const existing = await get();
  if (existing !== undefined) return existing;
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  await new Promise<void>((resolve, reject) => {
    const tx = db.transaction('keys', 'readwrite', { durability: 'strict' });
    tx.objectStore('keys').put(key, 'wrapping');
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
  return key;
}

main().catch((e: unknown) => void bridge.sealReport({ t: 'load-failed', message: `${String(e)} ${(e as Error).stack ?? ''}` }));
