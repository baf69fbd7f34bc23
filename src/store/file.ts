/**
 * A durable {@link SealStore} for Node: a snapshot file and an append-only journal in one
 * directory, each commit synced (`fsync`) before it resolves, each new snapshot written to a
 * temporary file and renamed into place. No native module (see README "Durable stores" for why
 * not SQLite).
 *
 * Files: `snapshot` (every record as of commit `S`) and `journal` (the commits after it). Each
 * starts with `SEAL-STORE-v1\n` and a kind line (`S` or `J`); a frame is
 * `uint32 length || SHA-256(body) || body`, the body the UTF-8 JSON
 * `{ n, put: [[table, key, value]…], delete: [[table, key]…] }`. Loading replays the journal
 * frames numbered above the snapshot's, in order.
 *
 * Loading refuses (SealError `invalid-state` naming file, byte and problem; nothing loaded) a
 * foreign header, a truncated or failing snapshot, a complete frame that fails its hash or does
 * not parse, a gap in the commit numbers, an unknown table. It cuts off only an incomplete last
 * journal frame: a commit a crash interrupted before it was synced, so before it resolved
 * ({@link FileStore.recovered}). One process per directory: the store takes no lock.
 *
 * @see spec §device.store
 * @module
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, existsSync, writeSync, ftruncateSync } from 'node:fs';
import path from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { SealError } from '../errors.js';
import { type SealStore, type StoreCommit, type StoreRecord, type StoreTable, STORE_TABLES } from '../device/store.js';

const MAGIC = 'SEAL-STORE-v1\n';
const HEADER_BYTES = MAGIC.length + 2;
const FRAME_HEAD = 4 + 32;
/** A frame larger than this is refused on load (a corrupted length), and never written. */
const MAX_FRAME_BYTES = 1 << 30;
const TABLES = new Set<string>(STORE_TABLES);

/** Options of {@link FileStore.open}. */
export interface FileStoreOptions {
  /**
   * Journal size (bytes) above which the next commit writes a new snapshot and starts an empty
   * journal. Default 4 MiB.
   */
  readonly compactAfterBytes?: number;
}

interface Frame {
  readonly n: number;
  readonly put: [string, string, string][];
  readonly delete: [string, string][];
}

function header(kind: 'S' | 'J'): Uint8Array {
  return new TextEncoder().encode(`${MAGIC}${kind}\n`);
}

function frameBytes(frame: Frame): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(frame));
  if (body.length > MAX_FRAME_BYTES) throw new SealError('too-large', `store: a commit of ${body.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  const out = new Uint8Array(FRAME_HEAD + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(sha256(body), 4);
  out.set(body, FRAME_HEAD);
  return out;
}

function corrupt(file: string, offset: number, problem: string): SealError {
  return new SealError('invalid-state', `store: ${path.basename(file)} at byte ${offset}: ${problem}; nothing was loaded`);
}

/** Reads the frames of `file`; `torn` is the offset of an incomplete last frame, if any. */
function readFrames(file: string, kind: 'S' | 'J'): { frames: Frame[]; torn: number | undefined } {
  const bytes = readFileSync(file);
  const expected = header(kind);
  if (bytes.length < HEADER_BYTES || !expected.every((b, i) => bytes[i] === b)) throw corrupt(file, 0, `not a Seal store ${kind === 'S' ? 'snapshot' : 'journal'} (header missing or foreign)`);
  const frames: Frame[] = [];
  let offset = HEADER_BYTES;
  while (offset < bytes.length) {
    if (bytes.length - offset < FRAME_HEAD) return { frames, torn: offset };
    const length = new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0);
    if (length > MAX_FRAME_BYTES) throw corrupt(file, offset, `frame length ${length} exceeds ${MAX_FRAME_BYTES}`);
    if (bytes.length - offset - FRAME_HEAD < length) return { frames, torn: offset };
    const body = bytes.subarray(offset + FRAME_HEAD, offset + FRAME_HEAD + length);
    const digest = sha256(body);
    if (!digest.every((b, i) => bytes[offset + 4 + i] === b)) throw corrupt(file, offset, 'frame fails its SHA-256');
    frames.push(parseFrame(file, offset, body));
    offset += FRAME_HEAD + length;
  }
  return { frames, torn: undefined };
}

function parseFrame(file: string, offset: number, body: Uint8Array): Frame {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw corrupt(file, offset, 'frame is not UTF-8 JSON');
  }
  const v = value as Partial<Frame> | null;
  const isText = (x: unknown): x is string => typeof x === 'string';
  if (v === null || typeof v !== 'object' || !Number.isSafeInteger(v.n) || (v.n as number) < 0 || !Array.isArray(v.put) || !Array.isArray(v.delete)) throw corrupt(file, offset, 'frame is not a commit');
  for (const p of v.put) if (!Array.isArray(p) || p.length !== 3 || !p.every(isText) || !TABLES.has(p[0])) throw corrupt(file, offset, 'frame holds a record of no Seal table');
  for (const d of v.delete) if (!Array.isArray(d) || d.length !== 2 || !d.every(isText) || !TABLES.has(d[0])) throw corrupt(file, offset, 'frame deletes from no Seal table');
  return v as Frame;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `bytes` to `file` through a synced temporary file and an atomic rename. */
function replaceFile(file: string, bytes: Uint8Array): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  syncDir(path.dirname(file));
}

/**
 * A store in a directory: snapshot plus journal, each commit synced to disk before it resolves.
 *
 * @see spec §device.store
 * @example
 * ```ts
 * import { FileStore } from 'xmpp-seal/store/file';
 * const store = FileStore.open('./seal-state');
 * const client = await SealClient.create({ connection, store, now, rng: systemRng });
 * ```
 */
export class FileStore implements SealStore {
  readonly #dir: string;
  readonly #records = new Map<string, StoreRecord>();
  readonly #compactAfter: number;
  #journalFd: number;
  #journalBytes: number;
  #n: number;
  #queue: Promise<void> = Promise.resolve();
  #broken: SealError | undefined;
  /** What opening the store repaired: the byte offset of an interrupted last commit it cut off, if any. */
  readonly recovered: { readonly tornCommitAt: number } | undefined;

  private constructor(dir: string, options: FileStoreOptions) {
    this.#dir = dir;
    this.#compactAfter = options.compactAfterBytes ?? 4 * 1024 * 1024;
    mkdirSync(dir, { recursive: true });
    const snapshotFile = path.join(dir, 'snapshot');
    const journalFile = path.join(dir, 'journal');
    let n = 0;
    // @req device.store-integrity: all of the last completed commit, or a refusal naming the problem.
    if (existsSync(snapshotFile)) {
      const { frames, torn } = readFrames(snapshotFile, 'S');
      if (torn !== undefined || frames.length !== 1) throw corrupt(snapshotFile, torn ?? HEADER_BYTES, torn !== undefined ? 'snapshot is truncated' : `snapshot holds ${frames.length} frames, not 1`);
      n = frames[0]!.n;
      this.#apply(frames[0]!);
    } else if (existsSync(journalFile)) {
      // A journal is only ever created after its snapshot.
      throw corrupt(snapshotFile, 0, 'snapshot is missing but a journal exists');
    } else {
      replaceFile(snapshotFile, concat(header('S'), frameBytes({ n: 0, put: [], delete: [] })));
    }
    let recovered: { tornCommitAt: number } | undefined;
    if (existsSync(journalFile)) {
      const { frames, torn } = readFrames(journalFile, 'J');
      for (const [i, frame] of frames.entries()) {
        if (frame.n <= n) continue; // already in the snapshot (a crash between snapshot and new journal)
        if (frame.n !== n + 1) throw corrupt(journalFile, HEADER_BYTES, `commit ${frame.n} follows commit ${n} (frame ${i})`);
        this.#apply(frame);
        n = frame.n;
      }
      if (torn !== undefined) {
        const fd = openSync(journalFile, 'r+');
        try {
          ftruncateSync(fd, torn);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        recovered = { tornCommitAt: torn };
      }
    } else {
      replaceFile(journalFile, header('J'));
    }
    this.recovered = recovered;
    this.#n = n;
    this.#journalFd = openSync(journalFile, 'a');
    this.#journalBytes = readFileSync(journalFile).length;
  }

  /**
   * Opens the store in `dir` (created, with its parents, when absent).
   *
   * @throws SealError `invalid-state` when the files are truncated, corrupted or not a Seal store.
   * @see spec §device.store
   */
  static open(dir: string, options: FileStoreOptions = {}): FileStore {
    return new FileStore(dir, options);
  }

  #apply(frame: Frame): void {
    for (const [table, key] of frame.delete) this.#records.delete(`${table}\u0000${key}`);
    for (const [table, key, value] of frame.put) this.#records.set(`${table}\u0000${key}`, { table: table as StoreTable, key, value });
  }

  /** Every stored record. @see spec §device.store */
  async load(): Promise<readonly StoreRecord[]> {
    return [...this.#records.values()];
  }

  /**
   * Appends the commit to the journal and syncs it; resolves once it is on disk. Commits run one
   * at a time, in call order. After a failed write the store refuses further commits (reopen it).
   *
   * @see spec §device.store
   */
  commit(commit: StoreCommit): Promise<void> {
    const run = this.#queue.then(() => this.#commitNow(commit));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #commitNow(commit: StoreCommit): void {
    if (this.#broken) throw this.#broken;
    if (commit.put.length === 0 && commit.delete.length === 0) return;
    const frame: Frame = { n: this.#n + 1, put: commit.put.map((r) => [r.table, r.key, r.value]), delete: commit.delete.map((d) => [d.table, d.key]) };
    for (const [table] of [...frame.put, ...frame.delete]) if (!TABLES.has(table)) throw new SealError('invalid-value', `store: no table ${table}`);
    const bytes = frameBytes(frame);
    try {
      writeSync(this.#journalFd, bytes);
      fsyncSync(this.#journalFd);
    } catch (e) {
      // The journal may now end in part of this frame: the next open cuts it off.
      this.#broken = new SealError('invalid-state', `store: writing commit ${frame.n} failed (${(e as Error).message}); reopen the store`);
      throw this.#broken;
    }
    this.#n = frame.n;
    this.#journalBytes += bytes.length;
    this.#apply(frame);
    if (this.#journalBytes > this.#compactAfter) this.#compact();
  }

  /** Writes every record as a new snapshot, then starts an empty journal. */
  #compact(): void {
    const put = [...this.#records.values()].map((r): [string, string, string] => [r.table, r.key, r.value]);
    replaceFile(path.join(this.#dir, 'snapshot'), concat(header('S'), frameBytes({ n: this.#n, put, delete: [] })));
    closeSync(this.#journalFd);
    const journalFile = path.join(this.#dir, 'journal');
    replaceFile(journalFile, header('J'));
    this.#journalFd = openSync(journalFile, 'a');
    this.#journalBytes = HEADER_BYTES;
  }

  /** Closes the journal file. Later commits reject. */
  async close(): Promise<void> {
    await this.#queue;
    if (this.#broken === undefined) {
      closeSync(this.#journalFd);
      this.#broken = new SealError('invalid-state', 'store: closed');
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
