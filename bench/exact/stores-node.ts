/**
 * The Node half of the store bench (bundled with the recording shims by bench/stores.ts): the
 * commits of one message applied to a FileStore (journal with fsync, in a temporary directory of
 * `SEAL_BENCH_DIR` or the OS's), and to a MemoryStore for reference, each against the exact replay
 * of the message's primitive calls. Prints its rows as one JSON line.
 *
 * @see spec §device.store
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryStore } from '../../src/device/store.js';
import { FileStore } from '../../src/store/file.js';
import { messageWork, storeRow } from './stores.js';

const work = await messageWork();
const dir = mkdtempSync(path.join(process.env.SEAL_BENCH_DIR ?? os.tmpdir(), 'seal-store-bench-'));
try {
  const file = FileStore.open(dir);
  const rows = [await storeRow(`FileStore (fsync per commit; ${dir})`, file, work), await storeRow('MemoryStore (no IO, reference)', new MemoryStore(), work)];
  await file.close();
  console.log(JSON.stringify({ rows, machine: `${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores), ${os.platform()} ${os.arch()}, Node ${process.version}` }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
