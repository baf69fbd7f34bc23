/**
 * §files against a real server: Prosody 0.12's mod_http_file_share (XEP-0363) on 127.0.0.1.
 * Alice asks for a slot, streams the encrypted file to it with Node's fetch, and sends the
 * descriptor sealed; Bob is offered the file, downloads it from Prosody, and opens it only after
 * every check. What Prosody stored is ciphertext under a random name.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BareJid } from '../src/identity/jid.js';
import { HttpUpload, SealClient, presence } from '../src/net/index.js';
import { connectToServer } from '../src/net/real.js';
import { streamCiphertextSize } from '../src/files/stream.js';
import { nodeFileCipher } from '../src/native/node.js';
import { seededRng } from '../src/suite/index.js';
import { hasCommand, missing } from './support/environment.js';
import { type Prosody, startProsody, until } from './support/prosody.js';

const skip = missing('prosody', hasCommand('prosody') && hasCommand('prosodyctl'), 'apt-get install prosody lua-unbound');

describe.skipIf(skip !== undefined)('files on a real server (Prosody mod_http_file_share)', () => {
  let prosody: Prosody;
  beforeAll(async () => {
    prosody = await startProsody(['alice', 'bob', 'carol'], { upload: 'upload.localhost' });
  }, 30_000);
  afterAll(async () => {
    await prosody?.stop();
  });

  it('Alice uploads an encrypted file and sends its descriptor sealed; Bob downloads, checks and opens it', async () => {
    const now = () => Math.floor(Date.now() / 1000);
    const rng = seededRng('prosody files');
    const connect = (username: string, resource: string) => connectToServer({ service: prosody.service, domain: prosody.domain, username, password: 'pw', resource });
    const alice = await SealClient.create({ connection: await connect('alice', 'laptop'), now, rng, oneTimePrekeys: 5 });
    const bob = await SealClient.create({ connection: await connect('bob', 'desktop'), now, rng, oneTimePrekeys: 5 });
    await alice.connection.send(presence());
    await bob.connection.send(presence());
    const data = new Uint8Array(200_000).map((_, i) => (i * 7) % 256);
    // A stream as the source: the file is never held whole by the sender.
    const source = (async function* () {
      for (let i = 0; i < data.length; i += 30_000) yield data.slice(i, i + 30_000);
    })();
    const aliceUpload = new HttpUpload({ connection: alice.connection, service: 'upload.localhost', rng, streaming: true });
    // @req files.send
    await alice.sendFile('bob@localhost' as BareJid, { name: 'report.pdf', mediaType: 'application/pdf', data: source, size: data.length }, aliceUpload, { provider: nodeFileCipher });
    await until('the file message', () => bob.received.length === 1);
    const message = bob.received[0]!;
    expect(message.body).toBe('report.pdf');
    const file = message.files[0]!;
    expect(file.kind).toBe('stream');
    if (file.kind !== 'stream') throw new Error('unreachable');
    expect(file.descriptor.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${prosody.httpPort}/`));
    // @req files.upload-privacy
    expect(file.descriptor.url).not.toContain('report');
    const bobUpload = new HttpUpload({ connection: bob.connection, service: 'upload.localhost', rng });
    // @req files.receive-checks
    expect(await bobUpload.download(file)).toEqual(data);
    // Streaming download: chunk by chunk, the same bytes.
    const parts: Uint8Array[] = [];
    for await (const chunk of bobUpload.downloadStream(file)) parts.push(chunk);
    expect(parts.length).toBe(Math.ceil(data.length / 65536));
    expect(Buffer.concat(parts)).toEqual(Buffer.from(data));
    // What Prosody keeps: one file of exactly the ciphertext's size, without the plaintext.
    const stored = filesUnder(path.join(prosody.dataDir!, 'upload%2elocalhost'));
    const upload = stored.find((f) => statSync(f).size === streamCiphertextSize(data.length));
    expect(upload, stored.join(', ')).toBeDefined();
    expect(Buffer.from(readFileSync(upload!)).indexOf(Buffer.from(data.subarray(0, 64)))).toBe(-1);
    await alice.connection.close();
    await bob.connection.close();
  }, 60_000);

  it('the upload service refuses a file beyond its limit, and nothing is sent', async () => {
    const now = () => Math.floor(Date.now() / 1000);
    const rng = seededRng('prosody files limit');
    const alice = await SealClient.create({ connection: await connectToServer({ service: prosody.service, domain: prosody.domain, username: 'carol', password: 'pw', resource: 'phone' }), now, rng, oneTimePrekeys: 5 });
    const upload = new HttpUpload({ connection: alice.connection, service: 'upload.localhost', rng });
    const big = 17 * 1024 * 1024;
    await expect(alice.sendFile('bob@localhost' as BareJid, { name: 'big.bin', mediaType: 'application/octet-stream', data: new Uint8Array(0), size: big }, upload)).rejects.toMatchObject({ condition: 'not-acceptable' });
    expect(alice.events.filter((e) => e.kind === 'session-started')).toEqual([]);
    await alice.connection.close();
  }, 60_000);
});

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir).flatMap((name) => {
      const file = path.join(dir, name);
      return statSync(file).isDirectory() ? filesUnder(file) : [file];
    });
  } catch {
    return [];
  }
}
