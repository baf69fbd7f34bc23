/**
 * The store bench's measurement, shared by Node (bench/exact/stores-node.ts: FileStore,
 * MemoryStore) and the browser page (bench/exact/stores-page.ts: IndexedDbStore): what a durable
 * store adds to one message, as a ratio to the message's own crypto.
 *
 * One steady-state message goes from Alice's SealClient to Bob's on the embedded server while
 * (1) the primitive calls it makes at both ends are captured (bench/exact/recorder.ts) and (2) the
 * store commits both devices make for it are recorded (Alice: the send, the server's
 * acknowledgement; Bob: the stanza, the application's acknowledgement). The row times, interleaved
 * (bench/exact/timing.ts), A = applying those commits to the store under test and B = the exact
 * replay of the message's primitive calls.
 *
 * @see spec §device.store
 * @module
 */
import { type SealStore, type StoreCommit, MemoryStore } from '../../src/device/store.js';
import { bareJid } from '../../src/identity/jid.js';
import { SealClient } from '../../src/net/client.js';
import { EmbeddedServer } from '../../src/net/server.js';
import { presence } from '../../src/net/stanzas.js';
import { nobleCurveProvider, seededRng, useCurveProvider } from '../../src/suite/index.js';
import { capture, note, summarize, type PrimitiveCall } from './recorder.js';
import { instrumented, prepareReplay } from './replay.js';
import { type Interleaved, interleave } from './timing.js';

/** A MemoryStore that also keeps the commits made while `recording`. */
class RecordingStore extends MemoryStore {
  recording = false;
  readonly recorded: StoreCommit[] = [];
  override async commit(commit: StoreCommit): Promise<void> {
    if (this.recording) this.recorded.push(structuredClone(commit));
    return super.commit(commit);
  }
}

/** One message's store commits (both ends) and primitive calls (both ends). */
export interface MessageWork {
  readonly commits: readonly StoreCommit[];
  readonly calls: readonly PrimitiveCall[];
  readonly bytes: number;
}

let instrumentedOnce = false;
/** Records the platform CSPRNG and the curve provider's calls (once per process or page). */
function instrument(): void {
  if (instrumentedOnce) return;
  instrumentedOnce = true;
  const getRandomValues = crypto.getRandomValues.bind(crypto);
  crypto.getRandomValues = ((array: ArrayBufferView) => {
    note(() => ({ kind: 'random', bytes: array.byteLength }));
    return getRandomValues(array as Uint8Array);
  }) as typeof crypto.getRandomValues;
  useCurveProvider(instrumented(nobleCurveProvider));
}

/** Sends messages until the session is in its steady state, then captures one message's work. */
export async function messageWork(): Promise<MessageWork> {
  instrument();
  let clock = Date.UTC(2026, 10, 26, 9);
  const now = () => Math.floor((clock += 1000) / 1000);
  const server = new EmbeddedServer({ clock: () => clock, rng: seededRng('store bench server') });
  const A = bareJid('alice@example.org');
  const B = bareJid('bob@example.net');
  server.createAccount(A);
  server.createAccount(B);
  const aliceStore = new RecordingStore();
  const bobStore = new RecordingStore();
  const alice = await SealClient.create({ connection: server.connect(`${A}/bench`), store: aliceStore, now, rng: seededRng('store bench alice') });
  const bob = await SealClient.create({ connection: server.connect(`${B}/bench`), store: bobStore, now, rng: seededRng('store bench bob') });
  await alice.connection.send(presence());
  await bob.connection.send(presence());
  await server.network.flush();
  for (let i = 0; i < 5; i++) {
    await alice.send(B, `warm-up ${i}`);
    await server.network.flush();
    await bob.send(A, `reply ${i}`);
    await server.network.flush();
  }
  aliceStore.recording = true;
  bobStore.recording = true;
  const calls = await capture(async () => {
    await alice.send(B, 'x'.repeat(100));
    await server.network.flush();
  });
  if (bob.received.at(-1)?.body !== 'x'.repeat(100)) throw new Error('store bench: the message was not opened');
  const commits = [...aliceStore.recorded, ...bobStore.recorded];
  const bytes = commits.reduce((n, c) => n + c.put.reduce((m, r) => m + r.table.length + r.key.length + r.value.length, 0) + c.delete.reduce((m, d) => m + d.table.length + d.key.length, 0), 0);
  return { commits, calls, bytes };
}

/** A row of the store bench. */
export interface StoreRow {
  readonly label: string;
  readonly result: Interleaved;
  readonly commits: number;
  readonly bytes: number;
  readonly calls: string;
}

/** Times applying `work`'s commits to `store` against the replay of its primitive calls, interleaved. */
export async function storeRow(label: string, store: SealStore, work: MessageWork): Promise<StoreRow> {
  const replay = prepareReplay(work.calls, { noble: nobleCurveProvider });
  const apply = async () => {
    for (const commit of work.commits) await store.commit(commit);
  };
  const result = await interleave(apply, replay);
  return { label, result, commits: work.commits.length, bytes: work.bytes, calls: `${work.calls.length}: ${summarize(work.calls)}` };
}
