/**
 * §files: Seal's stream cipher (round trips at every chunk boundary, with any input chunking and
 * every provider; truncation, reordering, extension, another key, altered bytes and a wrong size
 * all fail with their codes), `aesgcm://` links, the descriptor, and files sent and received
 * through the device engine and the embedded server's upload service.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSealError } from '../src/errors.js';
import { type FileCipherProvider, nobleFileCipher, webCryptoFileCipher } from '../src/files/cipher.js';
import { FILES_CONSTANTS, SEAL_STREAM_CIPHER } from '../src/files/constants.js';
import { decryptAesgcm, encryptAesgcm, formatAesgcmLink, parseAesgcmLink } from '../src/files/aesgcm.js';
import { collectBytes, decryptFileStream, encryptFileStream, newFileSecrets, streamCiphertextSize } from '../src/files/stream.js';
import { readSharedFiles } from '../src/files/shared.js';
import { openSharedFile } from '../src/files/seal-file.js';
import { sha256 } from '../src/suite/kdf.js';
import { concatBytes } from '../src/codec/bytes.js';
import { nodeFileCipher } from '../src/native/node.js';
import { seededRng } from '../src/suite/rng.js';
import { FileSharingElement } from '../src/wire/files.js';
import { HttpUpload, readSlot } from '../src/net/upload.js';
import { parseXml, xml } from '../src/wire/xml.js';
import type { XmppConnection } from '../src/net/connection.js';
import { MemoryStore } from '../src/device/store.js';
import { fcParams } from './support/property.js';
import { ALICE, BOB, SealWorld } from './support/store-conformance.js';

const { CHUNK_SIZE } = FILES_CONSTANTS;
const PROVIDERS: FileCipherProvider[] = [nobleFileCipher, webCryptoFileCipher, nodeFileCipher];
const rng = seededRng('files test');

function bytes(length: number, seed = length): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function encryptChunks(plaintext: Uint8Array, secrets = newFileSecrets(rng), provider = nobleFileCipher) {
  const chunks: Uint8Array[] = [];
  for await (const c of encryptFileStream(plaintext, secrets, provider)) chunks.push(c);
  return { chunks, secrets };
}

const concat = (parts: Uint8Array[]) => collectBytes((async function* () { yield* parts; })());

async function failure(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (e) {
    if (isSealError(e)) return e.code;
    throw e;
  }
  return 'no error';
}

describe('§files.cipher: the stream cipher', () => {
  it('round-trips at every chunk boundary, in every provider, whatever the input pieces', async () => {
    // @req files.stream
    // @req files.stream-open
    for (const provider of PROVIDERS) {
      for (const size of [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE, 3 * CHUNK_SIZE + 7]) {
        const plaintext = bytes(size);
        const { chunks, secrets } = await encryptChunks(plaintext, undefined, provider);
        expect(chunks.length, `${provider.name} ${size}`).toBe(Math.max(1, Math.ceil(size / CHUNK_SIZE)));
        const ciphertext = await concat(chunks);
        expect(ciphertext.length).toBe(streamCiphertextSize(size));
        // Decrypted by another provider: they compute the same function.
        const other = PROVIDERS[(PROVIDERS.indexOf(provider) + 1) % PROVIDERS.length]!;
        expect(await collectBytes(decryptFileStream(ciphertext, secrets, { provider: other, size }))).toEqual(plaintext);
      }
    }
  });

  it('a provider that decrypts in place still yields chunks of their own (the stream reuses one chunk buffer)', async () => {
    // @req files.stream-open
    const inPlace: FileCipherProvider = {
      name: 'in-place',
      async importKey(key) {
        const inner = await nobleFileCipher.importKey(key);
        return { seal: (nonce, plaintext) => inner.seal(nonce, plaintext), async open(nonce, ciphertext) { const p = await inner.open(nonce, ciphertext); ciphertext.set(p); return ciphertext.subarray(0, p.length); } };
      },
    };
    const plaintext = bytes(3 * CHUNK_SIZE + 7);
    const { chunks, secrets } = await encryptChunks(plaintext);
    expect(await collectBytes(decryptFileStream(await concat(chunks), secrets, { provider: inPlace, size: plaintext.length }))).toEqual(plaintext);
  });

  it('property: any file cut into any pieces decrypts to itself, and memory holds one chunk', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3 * CHUNK_SIZE + 100 }), fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 8 }), async (size, cuts) => {
        const plaintext = bytes(size, cuts[0]);
        const pieces = (data: Uint8Array) => {
          const out: Uint8Array[] = [];
          let offset = 0;
          for (let i = 0; offset < data.length; i++) {
            const n = cuts[i % cuts.length]!;
            out.push(data.subarray(offset, offset + n));
            offset += n;
          }
          return out;
        };
        const secrets = newFileSecrets(rng);
        const chunks: Uint8Array[] = [];
        for await (const c of encryptFileStream(pieces(plaintext), secrets)) {
          expect(c.length).toBeLessThanOrEqual(CHUNK_SIZE + 16);
          chunks.push(c);
        }
        const ciphertext = await concat(chunks);
        const out: Uint8Array[] = [];
        for await (const c of decryptFileStream(pieces(ciphertext), secrets, { size })) out.push(c);
        expect(await concat(out)).toEqual(plaintext);
      }),
      fcParams(25),
    );
  });

  it('detects truncation, reordering, extension, another key, an altered byte and a wrong size', async () => {
    const plaintext = bytes(3 * CHUNK_SIZE + 5);
    const { chunks, secrets } = await encryptChunks(plaintext);
    const open = (parts: Uint8Array[], s = secrets, size?: number) => failure(async () => collectBytes(decryptFileStream(parts.length === 0 ? new Uint8Array(0) : parts, s, size === undefined ? {} : { size })));
    // @req files.stream-open
    expect(await open(chunks.slice(0, 3))).toBe('truncated');
    expect(await open([])).toBe('truncated');
    expect(await open([chunks[0]!, chunks[2]!, chunks[1]!, chunks[3]!])).toBe('authentication-failed');
    // Bytes after a short final chunk join it in one block: it no longer verifies; with the
    // descriptor's size, the download is cut off as too long before that.
    expect(await open([...chunks, chunks[3]!])).toBe('authentication-failed');
    expect(await open([...chunks, chunks[3]!], secrets, plaintext.length)).toBe('trailing-bytes');
    // After a full final chunk they are a block of their own.
    const full = await encryptChunks(bytes(2 * CHUNK_SIZE));
    expect(await failure(async () => collectBytes(decryptFileStream([...full.chunks, new Uint8Array([1, 2, 3])], full.secrets)))).toBe('trailing-bytes');
    expect(await failure(async () => collectBytes(decryptFileStream([...full.chunks, full.chunks[1]!], full.secrets)))).toBe('trailing-bytes');
    expect(await open(chunks, newFileSecrets(rng))).toBe('authentication-failed');
    const altered = chunks.map((c) => c.slice());
    altered[1]![100]! ^= 1;
    expect(await open(altered)).toBe('authentication-failed');
    expect(await open(chunks, secrets, plaintext.length - 1)).toBe('trailing-bytes');
    expect(await open(chunks, secrets, plaintext.length + 1)).toBe('invalid-length');
    // A chunk released before the failure is authentic: the first chunks come out, then the error.
    const released: Uint8Array[] = [];
    const code = await failure(async () => { for await (const c of decryptFileStream(chunks.slice(0, 3), secrets)) released.push(c); });
    expect(code).toBe('truncated');
    expect(released).toHaveLength(2);
    expect(released[0]).toEqual(plaintext.subarray(0, CHUNK_SIZE));
  });

  it('refuses files above MAX_FILE_SIZE before reading anything', () => {
    // @req files.limits
    expect(() => streamCiphertextSize(FILES_CONSTANTS.MAX_FILE_SIZE + 1)).toThrow(expect.objectContaining({ code: 'too-large' }));
    expect(streamCiphertextSize(FILES_CONSTANTS.MAX_FILE_SIZE)).toBe(FILES_CONSTANTS.MAX_FILE_SIZE + 16 * 2 ** 20);
  });

  it('fresh secrets for every file', () => {
    // @req files.fresh-key
    const a = newFileSecrets(seededRng('a'));
    const b = newFileSecrets(seededRng('b'));
    expect(a.key).toHaveLength(32);
    expect(a.iv).toHaveLength(16);
    expect(a.key).not.toEqual(b.key);
  });
});

describe('§files.aesgcm: aesgcm:// links', () => {
  it('reads 12- and 16-byte IVs, writes 12, and refuses anything else', async () => {
    // @req files.aesgcm-link
    const secrets = { key: bytes(32), iv: bytes(12) };
    const link = formatAesgcmLink('https://upload.example.org/a/b%20c.jpg', secrets);
    expect(link).toMatch(/^aesgcm:\/\/upload\.example\.org\/a\/b%20c\.jpg#[0-9a-f]{88}$/);
    expect(parseAesgcmLink(link)).toEqual({ url: 'https://upload.example.org/a/b%20c.jpg', secrets });
    const legacy = parseAesgcmLink(`aesgcm://h.example/x#${'ab'.repeat(16)}${'cd'.repeat(32)}`);
    expect(legacy.secrets.iv).toHaveLength(16);
    for (const bad of ['https://h.example/x#' + 'ab'.repeat(44), 'aesgcm://h.example/x#' + 'ab'.repeat(43), 'aesgcm://h.example/x#' + 'zz'.repeat(44), 'aesgcm://u:p@h.example/x#' + 'ab'.repeat(44), 'aesgcm://h.example/x']) {
      expect(() => parseAesgcmLink(bad), bad).toThrow(expect.objectContaining({ code: 'schema-violation' }));
    }
  });

  it('an XEP-0448 AES-256-GCM file is read no further than its descriptor\'s size and tag', async () => {
    // @req files.receive-checks
    const secrets = { key: bytes(32, 7), iv: bytes(12, 8) };
    const plaintext = bytes(1000);
    const ciphertext = await encryptAesgcm(plaintext, secrets);
    const file = { kind: 'aes-256-gcm' as const, descriptor: { mediaType: 'application/octet-stream', name: 'x', size: plaintext.length, hash: sha256(plaintext), cipher: 'urn:xmpp:ciphers:aes-256-gcm-nopadding:0', key: secrets.key, iv: secrets.iv, encryptedHash: sha256(ciphertext), url: 'https://h.example/x' } };
    expect(await openSharedFile(ciphertext, file)).toEqual(plaintext);
    expect(await failure(() => openSharedFile(concatBytes(ciphertext, new Uint8Array([0])), file))).toBe('trailing-bytes');
  });

  it('decrypts only when the single tag verifies, in every provider', async () => {
    // @req files.aesgcm-receive
    for (const provider of PROVIDERS) {
      for (const ivLength of [12, 16]) {
        const secrets = { key: bytes(32, 1), iv: bytes(ivLength, 2) };
        const plaintext = bytes(100_000);
        const ciphertext = await encryptAesgcm(plaintext, secrets, provider);
        expect(ciphertext.length).toBe(plaintext.length + 16);
        expect(await decryptAesgcm(ciphertext, secrets, nobleFileCipher)).toEqual(plaintext);
        const altered = ciphertext.slice();
        altered[5]! ^= 1;
        expect(await failure(() => decryptAesgcm(altered, secrets, provider))).toBe('authentication-failed');
        expect(await failure(() => decryptAesgcm(ciphertext.subarray(0, 10), secrets, provider))).toBe('truncated');
      }
    }
  });
});

describe('§files.descriptor', () => {
  const descriptor = { mediaType: 'image/jpeg', name: 'summit.jpg', size: 3032449, hash: bytes(32, 3), cipher: SEAL_STREAM_CIPHER, key: bytes(32, 4), iv: bytes(16, 5), encryptedHash: bytes(32, 6), url: 'https://upload.example.org/4a77/x.bin' };

  it('round-trips, and a descriptor that fails a check is offered as rejected with its error', () => {
    // @req files.descriptor-check
    const element = FileSharingElement.toXml(descriptor);
    expect(FileSharingElement.fromXml(element)).toEqual(descriptor);
    expect(readSharedFiles([element])).toEqual([{ kind: 'stream', descriptor }]);
    const unknown = FileSharingElement.toXml({ ...descriptor, cipher: 'urn:xmpp:ciphers:aes-256-cbc-pkcs7:0' });
    const shortIv = FileSharingElement.toXml({ ...descriptor, iv: bytes(12) });
    const noScheme = FileSharingElement.toXml(descriptor);
    noScheme.getChild('sources')!.getChild('encrypted')!.getChild('sources')!.getChild('url-data')!.attrs.target = 'file:///etc/passwd';
    const codes = readSharedFiles([unknown, shortIv, noScheme]).map((f) => (f.kind === 'rejected' ? f.code : f.kind));
    expect(codes).toEqual(['unknown-version', 'invalid-length', 'schema-violation']);
  });

  it('a thumbnail is inline: one behind a URL is refused', () => {
    // @req files.thumbnail
    const inline = { ...descriptor, thumbnail: { uri: 'data:image/png;base64,iVBORw0KGgo=', width: 4, height: 3 } };
    expect(FileSharingElement.fromXml(FileSharingElement.toXml(inline))).toEqual(inline);
    const remote = FileSharingElement.toXml(inline);
    remote.getChild('file')!.getChild('thumbnail')!.attrs.uri = 'https://tracker.example/t.png';
    expect(readSharedFiles([remote])).toEqual([expect.objectContaining({ kind: 'rejected', code: 'schema-violation' })]);
  });

  it('reads at most MAX_FILES_PER_MESSAGE descriptors from one message', () => {
    const element = FileSharingElement.toXml(descriptor);
    expect(readSharedFiles(Array.from({ length: 40 }, () => element))).toHaveLength(FILES_CONSTANTS.MAX_FILES_PER_MESSAGE);
  });
});

describe('§files parsers, fuzzed', () => {
  const element = FileSharingElement.toXml({ mediaType: 'image/jpeg', name: 'summit.jpg', size: 3032449, hash: bytes(32, 3), desc: 'a view', thumbnail: { uri: 'data:image/png;base64,iVBORw0KGgo=', width: 4, height: 3 }, cipher: SEAL_STREAM_CIPHER, key: bytes(32, 4), iv: bytes(16, 5), encryptedHash: bytes(32, 6), url: 'https://upload.example.org/4a77/x.bin' });
  const text = element.toString();
  const codes = new Set<string>();

  it('mutated descriptors, links and slots give a value or a typed SealError, nothing else', () => {
    // Every parser is bounded: mutations of a valid descriptor (bytes replaced, cut, repeated),
    // arbitrary links and slot answers never throw anything but a SealError.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: text.length - 1 }), fc.string({ maxLength: 12 }), fc.integer({ min: 0, max: 40 }), fc.string({ maxLength: 120 }), (at, insert, cut, link) => {
        const mutated = text.slice(0, at) + insert + text.slice(Math.min(text.length, at + cut));
        for (const run of [
          () => readSharedFiles([parseXml(mutated)]),
          () => parseAesgcmLink(`aesgcm://${link}`),
          () => parseAesgcmLink(link),
          () => readSlot(parseXml(`<iq type='result'><slot xmlns='urn:xmpp:http:upload:0'>${insert}<put url='https://h.example/${link.replace(/[<&'"]/g, '')}'/><get url='https://h.example/g'/></slot></iq>`)),
        ]) {
          try {
            const result = run();
            if (Array.isArray(result)) for (const f of result) if (f.kind === 'rejected') codes.add(f.code);
          } catch (e) {
            if (!isSealError(e)) throw e;
            codes.add(e.code);
          }
        }
      }),
      fcParams(3000),
    );
    // The fuzz reached the checks: several distinct refusals, not one catch-all.
    expect(codes.size).toBeGreaterThanOrEqual(4);
  });
});

describe('§files through the engine and the embedded upload service', () => {
  async function setup(name: string) {
    const world = new SealWorld(name, { upload: { domain: 'upload.example.org' } });
    const aliceStore = new MemoryStore();
    const a = await world.client(`${ALICE}/a`, { store: aliceStore });
    const b = await world.client(`${BOB}/b`);
    const uploadOf = (connection: XmppConnection) => new HttpUpload({ connection, service: 'upload.example.org', fetch: world.server.upload!.fetch, rng: seededRng(`${name} upload`) });
    return { world, aliceStore, alice: a.client, aliceUpload: uploadOf(a.wire.connection), bob: b.client, bobUpload: uploadOf(b.wire.connection) };
  }

  it('Alice sends a file; Bob is offered it, downloads and opens it; the upload service learned only a random name and the size', async () => {
    const { world, alice, aliceUpload, bob, bobUpload } = await setup('files engine');
    const data = bytes(2 * CHUNK_SIZE + 10);
    // @req files.send
    await alice.sendFile(BOB, { name: 'plan.pdf', mediaType: 'application/pdf', data, size: data.length }, aliceUpload);
    await world.flush();
    const message = bob.received.at(-1)!;
    expect(message.body).toBe('plan.pdf');
    // @req files.receive
    expect(message.files).toHaveLength(1);
    const file = message.files[0]!;
    expect(file.kind).toBe('stream');
    if (file.kind !== 'stream') throw new Error('unreachable');
    expect(file.descriptor).toMatchObject({ name: 'plan.pdf', mediaType: 'application/pdf', size: data.length });
    // @req files.receive-checks
    expect(await bobUpload.download(file)).toEqual(data);
    // @req files.upload-privacy
    const [request] = world.server.upload!.requests;
    expect(request).toMatchObject({ size: streamCiphertextSize(data.length), contentType: 'application/octet-stream' });
    expect(request!.filename).toMatch(/^[0-9a-f]{32}\.bin$/);
    // The server altered the upload: nothing of the file is returned.
    const stored = world.server.upload!.objects.get(file.descriptor.url)!;
    const altered = stored.slice();
    altered[altered.length - 1]! ^= 1;
    world.server.upload!.objects.set(file.descriptor.url, altered);
    expect(await failure(() => bobUpload.download(file))).toBe('authentication-failed');
    // The server swapped in another upload of Alice's (the right key, the wrong file): the hash tells.
    const swapped = bytes(2 * CHUNK_SIZE + 10, 99);
    await alice.sendFile(BOB, { name: 'other.pdf', mediaType: 'application/pdf', data: swapped, size: swapped.length }, aliceUpload);
    await world.flush();
    const other = bob.received.at(-1)!.files[0]!;
    if (other.kind !== 'stream') throw new Error('unreachable');
    world.server.upload!.objects.set(file.descriptor.url, world.server.upload!.objects.get(other.descriptor.url)!);
    expect(await failure(() => bobUpload.download(file))).toBe('authentication-failed');
  });

  it('an aesgcm:// link is sent as the whole body and opened by its tag', async () => {
    const { world, alice, aliceUpload, bob, bobUpload } = await setup('files aesgcm');
    const data = bytes(5000);
    // @req files.aesgcm-send
    await alice.sendFile(BOB, { name: 'x.jpg', mediaType: 'image/jpeg', data, size: data.length }, aliceUpload, { cipher: 'aesgcm' });
    await world.flush();
    const message = bob.received.at(-1)!;
    expect(message.body).toMatch(/^aesgcm:\/\/upload\.example\.org\/upload\/[0-9a-f]+\/[0-9a-f]{32}\.bin#[0-9a-f]{88}$/);
    expect(message.files.map((f) => f.kind)).toEqual(['aesgcm-link']);
    expect(await bobUpload.download(message.files[0]!)).toEqual(data);
  });

  it('a descriptor outside the sealed content is never offered; a bad one inside is offered as rejected', async () => {
    const { world, alice, bob } = await setup('files outside');
    const descriptor = FileSharingElement.toXml({ mediaType: 'text/plain', name: 'a.txt', size: 1, hash: bytes(32), cipher: 'urn:example:unknown', key: bytes(32), iv: bytes(16), encryptedHash: bytes(32), url: 'https://h.example/a' });
    await alice.send(BOB, [xml('body', {}, ['see file']), descriptor]);
    await world.flush();
    expect(bob.received.at(-1)!.files).toEqual([{ kind: 'rejected', code: 'unknown-version', message: expect.stringContaining('urn:example:unknown') }]);
    expect(bob.received.every((m) => m.files.every((f) => f.kind === 'rejected'))).toBe(true);
  });

  it('the engine refuses an aesgcm:// link beside another body, and changes nothing', async () => {
    const { world, alice, aliceStore, bob } = await setup('files refuse');
    await alice.send(BOB, 'first');
    await world.flush();
    const link = formatAesgcmLink('https://h.example/a', { key: bytes(32), iv: bytes(12) });
    const before = JSON.stringify(aliceStore.snapshot());
    // @req files.send
    expect(() => alice.engine.step({ kind: 'send', to: BOB, content: [xml('body', {}, ['hi'])], id: 'x', files: [{ kind: 'aesgcm-link', link }] }, { now: world.now(), rng })).toThrow(expect.objectContaining({ code: 'schema-violation' }));
    expect(JSON.stringify(aliceStore.snapshot())).toBe(before);
    await alice.send(BOB, 'second');
    await world.flush();
    expect(bob.received.map((m) => m.body)).toEqual(['first', 'second']);
  });
});
