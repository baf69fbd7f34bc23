/**
 * The Node file store (src/store/file.ts, spec §device.store): the store conformance suite, and
 * what it does with files a crash or a disk left behind: an interrupted last commit is cut off;
 * anything else truncated, corrupted or foreign is refused with a typed error naming the file,
 * the byte and the problem, and nothing is loaded.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from '../src/store/file.js';
import { isSealError } from '../src/errors.js';
import { storeConformance } from './support/store-conformance.js';

const base = mkdtempSync(path.join(os.tmpdir(), 'seal-file-store-'));
let count = 0;
const fresh = () => path.join(base, `s${count++}`);
afterAll(() => rmSync(base, { recursive: true, force: true }));

storeConformance('FileStore (snapshot and journal, fsync)', async () => FileStore.open(fresh()));
storeConformance('FileStore compacting after every commit', async () => FileStore.open(fresh(), { compactAfterBytes: 0 }));

/** A store in a new directory with three commits (the last deletes what the first put). */
async function written(options = {}): Promise<string> {
  const dir = fresh();
  const store = FileStore.open(dir, options);
  await store.commit({ put: [{ table: 'peer', key: 'a', value: 'one' }, { table: 'device', key: 'self', value: '{"k":1}' }], delete: [] });
  await store.commit({ put: [{ table: 'peer', key: 'b', value: 'two' }], delete: [] });
  await store.commit({ put: [{ table: 'inbox', key: 'c', value: 'three' }], delete: [{ table: 'peer', key: 'a' }] });
  await store.close();
  return dir;
}

function refused(dir: string): string {
  try {
    FileStore.open(dir);
  } catch (e) {
    expect(isSealError(e, 'invalid-state'), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('the store opened');
}

describe('FileStore on disk', () => {
  it('reopens with every commit, in order, from the journal and after compaction', async () => {
    // @req device.commit-first
    for (const options of [{}, { compactAfterBytes: 0 }]) {
      const dir = await written(options);
      const reopened = FileStore.open(dir);
      expect((await reopened.load()).map((r) => `${r.table}/${r.key}=${r.value}`).sort()).toEqual(['device/self={"k":1}', 'inbox/c=three', 'peer/b=two']);
      expect(reopened.recovered).toBeUndefined();
      await reopened.close();
      await expect(reopened.commit({ put: [{ table: 'peer', key: 'x', value: 'y' }], delete: [] })).rejects.toThrow(/closed/);
    }
  });

  it('cuts off a last commit a crash interrupted (any prefix of its frame), keeping every earlier one', async () => {
    // @req device.store-integrity
    const dir = await written();
    const journal = path.join(dir, 'journal');
    const full = readFileSync(journal);
    const store = FileStore.open(dir);
    await store.commit({ put: [{ table: 'peer', key: 'late', value: 'x'.repeat(100) }], delete: [] });
    await store.close();
    const withLate = readFileSync(journal);
    for (const cut of [full.length + 1, full.length + 4, full.length + 36, withLate.length - 1]) {
      writeFileSync(journal, withLate.subarray(0, cut));
      const reopened = FileStore.open(dir);
      expect(reopened.recovered).toEqual({ tornCommitAt: full.length });
      expect((await reopened.load()).some((r) => r.key === 'late')).toBe(false);
      expect(await reopened.load()).toHaveLength(3);
      // The cut is repaired on disk: the next commit follows commit 3.
      await reopened.commit({ put: [{ table: 'peer', key: 'after', value: 'z' }], delete: [] });
      await reopened.close();
      const again = FileStore.open(dir);
      expect(again.recovered).toBeUndefined();
      expect((await again.load()).map((r) => r.key).sort()).toEqual(['after', 'b', 'c', 'self']);
      await again.close();
      writeFileSync(journal, full);
    }
  });

  it('refuses a corrupted journal frame, a truncated snapshot, a foreign file and a missing snapshot, naming the problem', async () => {
    // @req device.store-integrity
    const dir = await written();
    const journal = path.join(dir, 'journal');
    const good = readFileSync(journal);
    // A flipped byte in the middle of a complete frame.
    const flipped = Buffer.from(good);
    flipped[good.length - 10] = flipped[good.length - 10]! ^ 1;
    writeFileSync(journal, flipped);
    expect(refused(dir)).toMatch(/journal at byte \d+: frame fails its SHA-256; nothing was loaded/);
    // A frame whose length field was corrupted to something huge.
    const huge = Buffer.from(good);
    huge.writeUInt32BE(0xfffffff0, 16);
    writeFileSync(journal, huge);
    expect(refused(dir)).toMatch(/journal at byte 16: frame length \d+ exceeds/);
    writeFileSync(journal, good);
    // A truncated snapshot (compacted store, so the snapshot holds the records).
    const compacted = await written({ compactAfterBytes: 0 });
    const snapshot = path.join(compacted, 'snapshot');
    truncateSync(snapshot, readFileSync(snapshot).length - 3);
    expect(refused(compacted)).toMatch(/snapshot at byte 16: snapshot is truncated/);
    // A file that is not a Seal store.
    writeFileSync(journal, 'SQLite format 3\u0000');
    expect(refused(dir)).toMatch(/journal at byte 0: not a Seal store journal/);
    // A journal without its snapshot.
    writeFileSync(journal, good);
    rmSync(path.join(dir, 'snapshot'));
    expect(refused(dir)).toMatch(/snapshot is missing but a journal exists/);
  });

  it('refuses a gap in the commit numbers and a record of no Seal table', async () => {
    const dir = await written();
    const journal = path.join(dir, 'journal');
    const good = readFileSync(journal);
    // Drop the second frame: commit 3 then follows commit 1.
    const frames: Buffer[] = [];
    for (let offset = 16; offset < good.length; ) {
      const length = good.readUInt32BE(offset);
      frames.push(good.subarray(offset, offset + 36 + length));
      offset += 36 + length;
    }
    expect(frames).toHaveLength(3);
    writeFileSync(journal, Buffer.concat([good.subarray(0, 16), frames[0]!, frames[2]!]));
    expect(refused(dir)).toMatch(/commit 3 follows commit 1/);
    // A well-formed frame (right hash) for a table Seal does not have.
    const { createHash } = await import('node:crypto');
    const body = Buffer.from(JSON.stringify({ n: 4, put: [['passwords', 'k', 'v']], delete: [] }));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    writeFileSync(journal, good);
    appendFileSync(journal, Buffer.concat([head, createHash('sha256').update(body).digest(), body]));
    expect(refused(dir)).toMatch(/record of no Seal table/);
  });

  it('writes nothing for an empty commit and refuses a record of an unknown table at commit time', async () => {
    const dir = fresh();
    const store = FileStore.open(dir);
    const before = readFileSync(path.join(dir, 'journal'));
    await store.commit({ put: [], delete: [] });
    expect(readFileSync(path.join(dir, 'journal'))).toEqual(before);
    await expect(store.commit({ put: [{ table: 'nope' as 'peer', key: 'k', value: 'v' }], delete: [] })).rejects.toThrow(/no table nope/);
    expect(await store.load()).toEqual([]);
    expect(existsSync(path.join(dir, 'snapshot.tmp'))).toBe(false);
    await store.close();
  });
});
