/**
 * `vectors/files.json`: §files. Seal's stream cipher on files of 0, 1, CHUNK_SIZE − 1, CHUNK_SIZE,
 * CHUNK_SIZE + 1 and 3·CHUNK_SIZE + 5 bytes (payload key, every chunk's nonce and ciphertext),
 * its decryption and every rejection of a received ciphertext (truncated, chunks swapped, bytes
 * after the final chunk, another key, a tampered chunk, a size the descriptor does not state);
 * `aesgcm://` links with 12- and 16-byte IVs, sealed and opened, and the links a receiver
 * refuses; the XEP-0447/0448 descriptor written and read, with its rejections; and a downloaded
 * file opened against its descriptor with every check of §files.receive (wrong hashes, wrong
 * size, an unknown cipher).
 *
 * Every operation runs Seal's own asynchronous file API (`encryptFileStream`,
 * `decryptFileStream`, `encryptAesgcm`, `decryptAesgcm`, `openSharedFile`) with the default
 * provider (noble); only the case list builds a few literal ciphertexts with noble's AES-GCM.
 *
 * @see spec §files
 * @module
 */
import { gcm } from '@noble/ciphers/aes.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as z from 'zod/mini';
import { decodeBase64, encodeBase64 } from '../codec/base64.js';
import { concatBytes, fromHex, toHex, utf8Encode } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import { nobleFileCipher } from '../files/cipher.js';
import { AES_256_GCM_CIPHER, FILES_CONSTANTS, SEAL_STREAM_CIPHER } from '../files/constants.js';
import { decryptAesgcm, encryptAesgcm, formatAesgcmLink, parseAesgcmLink } from '../files/aesgcm.js';
import { readSharedFiles } from '../files/shared.js';
import { openSharedFile } from '../files/seal-file.js';
import { type FileSecrets, chunkNonce, collectBytes, decryptFileStream, encryptFileStream, filePayloadKey } from '../files/stream.js';
import { seededRng } from '../suite/index.js';
import { FileSharingElement, type FileDescriptorValue } from '../wire/files.js';
import { parseXml } from '../wire/xml.js';
import { Hex } from './format.js';
import type { Fields, GroupKind, VectorKind } from './kind.js';

const { CHUNK_SIZE, CHUNK_TAG_BYTES } = FILES_CONSTANTS;
/** A chunk's ciphertext is recorded in full up to this many bytes (or when the file has one chunk); otherwise by its digest, head and tail. */
const FULL_CHUNK_LIMIT = 1024;
/** Bytes of a long chunk's ciphertext recorded in full at each end. */
const EDGE = 64;
/** Inputs are fed to the streaming API in pieces of this many bytes, so that chunks straddle them. */
const FEED = 7919;

/** A plaintext: its bytes in hexadecimal, or a length and the pattern byte i = i mod 251. */
const Plaintext = z.union([
  z.strictObject({ hex: Hex }).check(z.describe('the plaintext bytes')),
  z.strictObject({ length: z.int().check(z.gte(0)), pattern: z.literal('i mod 251') }).check(z.describe('`length` bytes; byte i (counting from 0) is i mod 251')),
]);
type PlaintextIn = z.infer<typeof Plaintext>;

/** A piece of a received ciphertext. */
const Piece = z.union([
  z.strictObject({ chunk: z.int().check(z.gte(0)) }).check(z.describe('chunk `chunk` (from 0) of the ciphertext of `plaintext` under `key` and `iv`, as StreamEncrypt computes it')),
  z.strictObject({ counter: z.int().check(z.gte(0)), last: z.boolean(), plaintext: Hex }).check(z.describe('`plaintext` sealed with AES-256-GCM under the payload key of `key` and `iv` and ChunkNonce(counter, last), the tag appended')),
  z.strictObject({ hex: Hex }).check(z.describe('these bytes')),
]);
type PieceIn = z.infer<typeof Piece>;

const Chunk = z.union([
  z.strictObject({ nonce: Hex, ciphertext: Hex }).check(z.describe('the chunk\'s ChunkNonce and its whole ciphertext (encrypted chunk and tag)')),
  z.strictObject({ nonce: Hex, length: z.int(), sha256: Hex, head: Hex, tail: Hex }).check(z.describe(`a chunk of more than ${FULL_CHUNK_LIMIT} ciphertext bytes in a file of several chunks: its ChunkNonce, the ciphertext's length, SHA-256, first and last ${EDGE} bytes (the tail ends with the tag)`)),
]);

/** A descriptor's value as JSON: the fields of FileDescriptorValue, bytes in hexadecimal. */
const Descriptor = z.strictObject({
  mediaType: z.string(),
  name: z.string(),
  size: z.int(),
  hash: Hex,
  desc: z.optional(z.string()),
  thumbnail: z.optional(z.strictObject({ uri: z.string(), width: z.int(), height: z.int() })),
  cipher: z.string(),
  key: Hex,
  iv: Hex,
  encryptedHash: Hex,
  url: z.string(),
});
type DescriptorIn = z.infer<typeof Descriptor>;

const BYTE_FIELDS = ['hash', 'key', 'iv', 'encryptedHash'] as const;

function descriptorFromJson(d: DescriptorIn): FileDescriptorValue {
  return { ...d, hash: fromHex(d.hash), key: fromHex(d.key), iv: fromHex(d.iv), encryptedHash: fromHex(d.encryptedHash) };
}

function descriptorToJson(d: FileDescriptorValue): DescriptorIn {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) out[k] = (BYTE_FIELDS as readonly string[]).includes(k) ? toHex(v as Uint8Array) : v;
  return out as DescriptorIn;
}

function plaintextOf(p: PlaintextIn): Uint8Array {
  return 'hex' in p ? fromHex(p.hex) : Uint8Array.from({ length: p.length }, (_, i) => i % 251);
}

/** `bytes` as a stream of FEED-byte pieces. */
function* fed(bytes: Uint8Array): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += FEED) yield bytes.subarray(offset, offset + FEED);
}

function secretsOf(i: Fields): FileSecrets {
  return { key: fromHex(i.key as string), iv: fromHex(i.iv as string) };
}

/** The chunks of Seal's stream cipher over `plaintext`, through `encryptFileStream`. */
async function encryptChunks(plaintext: Uint8Array, secrets: FileSecrets): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of encryptFileStream(fed(plaintext), secrets)) chunks.push(chunk.slice());
  return chunks;
}

/** A received ciphertext assembled from `pieces` (see {@link Piece}). */
async function assemblePieces(pieces: readonly PieceIn[], plaintext: PlaintextIn, secrets: FileSecrets): Promise<Uint8Array> {
  let chunks: Uint8Array[] | undefined;
  const parts: Uint8Array[] = [];
  for (const piece of pieces) {
    if ('hex' in piece) parts.push(fromHex(piece.hex));
    else if ('counter' in piece) {
      const handle = await nobleFileCipher.importKey(filePayloadKey(secrets));
      parts.push(await handle.seal(chunkNonce(piece.counter, piece.last), fromHex(piece.plaintext)));
    } else {
      chunks ??= await encryptChunks(plaintextOf(plaintext), secrets);
      const chunk = chunks[piece.chunk];
      if (chunk === undefined) throw new Error(`piece: the file has no chunk ${piece.chunk}`);
      parts.push(chunk);
    }
  }
  return concatBytes(...parts);
}

/** Length and SHA-256 of a plaintext a receiver obtained. */
function digestOf(plaintext: Uint8Array): Fields {
  return { length: plaintext.length, sha256: toHex(sha256(plaintext)) };
}

// --- StreamEncrypt ----------------------------------------------------------------------------

const SIZES: readonly [string, number][] = [
  ['empty file: one empty final chunk', 0],
  ['one byte', 1],
  ['one byte short of a chunk', CHUNK_SIZE - 1],
  ['exactly one full chunk, which is the final one', CHUNK_SIZE],
  ['one byte past a chunk: a full chunk and a final chunk of one byte', CHUNK_SIZE + 1],
  ['three full chunks and a final chunk of five bytes', 3 * CHUNK_SIZE + 5],
];

function plaintextInput(size: number): PlaintextIn {
  return size <= 64 ? { hex: toHex(Uint8Array.from({ length: size }, (_, i) => i % 251)) } : { length: size, pattern: 'i mod 251' };
}

function streamSecrets(label: string): Fields {
  const rng = seededRng(`files.json ${label}`);
  return { key: toHex(rng(32)), iv: toHex(rng(16)) };
}

const streamEncrypt: GroupKind = {
  type: 'StreamEncrypt',
  description:
    'Seal\'s stream cipher (urn:xmpp:ciphers:seal-stream-aes-256-gcm:0): payloadKey = DeriveKey("file payload key", ikm = key, salt = iv, context = "", 32); ' +
    `the plaintext cut into n = max(1, ceil(L / ${CHUNK_SIZE})) chunks, chunk i sealed with AES-256-GCM under payloadKey, nonce ChunkNonce(i, i = n - 1) = uint88(i) || last, no associated data; ` +
    `each chunk's ciphertext (encrypted chunk || 16-byte tag) in full when the file has one chunk or the chunk has at most ${FULL_CHUNK_LIMIT} ciphertext bytes, else its length, SHA-256, first and last ${EDGE} bytes; ` +
    'ciphertextSha256 is the SHA-256 of the concatenated chunks (the descriptor\'s ciphertext hash), plaintextSha256 that of the plaintext',
  inputs: z.strictObject({ key: Hex, iv: Hex, plaintext: Plaintext }),
  outputs: z.strictObject({ payloadKey: Hex, plaintextSha256: Hex, chunks: z.array(Chunk), ciphertextLength: z.int(), ciphertextSha256: Hex }),
  operation: async (i) => {
    const secrets = secretsOf(i);
    const plaintext = plaintextOf(i.plaintext as PlaintextIn);
    const chunks = await encryptChunks(plaintext, secrets);
    const ciphertext = concatBytes(...chunks);
    return {
      payloadKey: toHex(filePayloadKey(secrets)),
      plaintextSha256: toHex(sha256(plaintext)),
      chunks: chunks.map((chunk, index) => {
        const nonce = toHex(chunkNonce(index, index === chunks.length - 1));
        if (chunks.length === 1 || chunk.length <= FULL_CHUNK_LIMIT) return { nonce, ciphertext: toHex(chunk) };
        return { nonce, length: chunk.length, sha256: toHex(sha256(chunk)), head: toHex(chunk.subarray(0, EDGE)), tail: toHex(chunk.subarray(chunk.length - EDGE)) };
      }),
      ciphertextLength: ciphertext.length,
      ciphertextSha256: toHex(sha256(ciphertext)),
    };
  },
  cases: () => SIZES.map(([comment, size]) => ({ comment: `${size} bytes: ${comment}`, inputs: { ...streamSecrets(`stream ${size}`), plaintext: plaintextInput(size) } })),
};

// --- StreamDecrypt ----------------------------------------------------------------------------

const streamDecrypt: GroupKind = {
  type: 'StreamDecrypt',
  description:
    'a receiver decrypts a downloaded ciphertext with Seal\'s stream cipher: the bytes assembled from `ciphertext` (pieces: a chunk of StreamEncrypt(key, iv, plaintext), a chunk sealed under the payload key with a given ChunkNonce, or literal bytes), ' +
    `opened under openKey (default key) and iv in blocks of ${CHUNK_SIZE + CHUNK_TAG_BYTES} bytes, the final block with last = 1; with \`size\`, the plaintext size a descriptor states. ` +
    'Outputs the plaintext\'s length and SHA-256, or the error: authentication-failed (a block that opens with neither flag), truncated (the final block opens only as non-final, or is shorter than a tag), trailing-bytes (a non-final block opens as the final one, or the input is longer than `size` implies), invalid-length (an empty final chunk after others, a total other than `size`)',
  inputs: z.strictObject({ key: Hex, iv: Hex, plaintext: Plaintext, ciphertext: z.array(Piece), openKey: z.optional(Hex), size: z.optional(z.int()) }),
  outputs: z.strictObject({ length: z.int(), sha256: Hex }),
  operation: async (i) => {
    const secrets = secretsOf(i);
    const bytes = await assemblePieces(i.ciphertext as PieceIn[], i.plaintext as PlaintextIn, secrets);
    const open: FileSecrets = { key: i.openKey === undefined ? secrets.key : fromHex(i.openKey as string), iv: secrets.iv };
    return digestOf(await collectBytes(decryptFileStream(fed(bytes), open, i.size === undefined ? {} : { size: i.size as number })));
  },
  cases: () => {
    const all = (size: number) => Array.from({ length: Math.max(1, Math.ceil(size / CHUNK_SIZE)) }, (_, chunk) => ({ chunk }));
    const file = (size: number) => ({ ...streamSecrets(`stream ${size}`), plaintext: plaintextInput(size) });
    const many = 3 * CHUNK_SIZE + 5;
    // A one-byte file's chunk with its first ciphertext byte flipped (built with noble directly).
    const one = file(1);
    const oneSecrets = secretsOf(one);
    const sealed = gcm(filePayloadKey(oneSecrets), chunkNonce(0, true)).encrypt(new Uint8Array([0]));
    sealed[0]! ^= 0x01;
    return [
      ...SIZES.map(([comment, size]) => ({ comment: `${size} bytes: ${comment}`, inputs: { ...file(size), ciphertext: all(size) } })),
      { comment: `${many} bytes, with the size the descriptor states`, inputs: { ...file(many), ciphertext: all(many), size: many } },
      { comment: 'truncated: the final chunk of four dropped', flags: ['Truncated'], inputs: { ...file(many), ciphertext: all(many).slice(0, 3) } },
      { comment: 'truncated: the final one-byte chunk dropped, a full non-final chunk remains', flags: ['Truncated'], inputs: { ...file(CHUNK_SIZE + 1), ciphertext: [{ chunk: 0 }] } },
      { comment: 'truncated: the final chunk sealed as non-final (its flag dropped)', flags: ['Truncated'], inputs: { ...file(CHUNK_SIZE + 1), ciphertext: [{ chunk: 0 }, { counter: 1, last: false, plaintext: '00' }] } },
      { comment: 'truncated: fewer bytes than a tag', flags: ['Truncated'], inputs: { ...file(1), ciphertext: [{ hex: '00'.repeat(CHUNK_TAG_BYTES - 1) }] } },
      { comment: 'truncated: an empty download', flags: ['Truncated'], inputs: { ...file(0), ciphertext: [] } },
      { comment: 'chunks 0 and 1 swapped', flags: ['Reordered'], inputs: { ...file(many), ciphertext: [{ chunk: 1 }, { chunk: 0 }, { chunk: 2 }, { chunk: 3 }] } },
      { comment: 'extended: a byte after a full final chunk', flags: ['Extended'], inputs: { ...file(CHUNK_SIZE), ciphertext: [{ chunk: 0 }, { hex: '00' }] } },
      { comment: 'extended: a second final chunk after a full final chunk', flags: ['Extended'], inputs: { ...file(CHUNK_SIZE), ciphertext: [{ chunk: 0 }, { counter: 1, last: true, plaintext: '00' }] } },
      { comment: 'an empty final chunk after a full chunk', flags: ['EmptyFinalChunk'], inputs: { ...file(CHUNK_SIZE + 1), ciphertext: [{ chunk: 0 }, { counter: 1, last: true, plaintext: '' }] } },
      { comment: 'wrong key', flags: ['WrongKey'], inputs: { ...one, ciphertext: [{ chunk: 0 }], openKey: streamSecrets('another key').key } },
      { comment: 'a ciphertext bit flipped', flags: ['Tampered'], inputs: { ...one, ciphertext: [{ hex: toHex(sealed) }] } },
      { comment: 'longer than the stated size implies (stopped before decrypting)', flags: ['SizeMismatch'], inputs: { ...one, ciphertext: [{ chunk: 0 }], size: 0 } },
      { comment: 'a plaintext shorter than the stated size', flags: ['SizeMismatch'], inputs: { ...one, ciphertext: [{ chunk: 0 }], size: 2 } },
    ];
  },
};

// --- aesgcm:// links --------------------------------------------------------------------------

const UPLOAD = 'https://upload.montague.lit/4a771ac1f0b24a4a9700f2a2/0d6f1b7e3c2a4f5e8d9c0b1a2e3f4d5c.bin';
const NOTE = utf8Encode('O Romeo, Romeo! wherefore art thou Romeo?\n');

function aesgcmSecrets(label: string, ivLength: number): Fields {
  const rng = seededRng(`files.json aesgcm ${label}`);
  return { key: toHex(rng(32)), iv: toHex(rng(ivLength)) };
}

const aesgcmSeal: GroupKind = {
  type: 'AesgcmSeal',
  description:
    'an aesgcm:// link (XEP-0454) for an upload at `url`: link = "aesgcm://" || url without "https://" || "#" || hex(iv) || hex(key); ciphertext = AES-256-GCM(key, iv, plaintext), no associated data, the 16-byte tag appended',
  inputs: z.strictObject({ url: z.string(), key: Hex, iv: Hex, plaintext: Hex }),
  outputs: z.strictObject({ link: z.string(), ciphertext: Hex }),
  operation: async (i) => {
    const secrets = secretsOf(i);
    return { link: formatAesgcmLink(i.url as string, secrets), ciphertext: toHex(await encryptAesgcm(fromHex(i.plaintext as string), secrets)) };
  },
  cases: () => [
    { comment: '12-byte IV', inputs: { url: UPLOAD, ...aesgcmSecrets('12', 12), plaintext: toHex(NOTE) } },
    { comment: '16-byte IV (older clients)', inputs: { url: UPLOAD, ...aesgcmSecrets('16', 16), plaintext: toHex(NOTE) } },
    { comment: 'empty file', inputs: { url: UPLOAD, ...aesgcmSecrets('empty', 12), plaintext: '' } },
    { comment: 'an http:// URL has no aesgcm form', flags: ['NotHttps'], inputs: { url: UPLOAD.replace('https:', 'http:'), ...aesgcmSecrets('12', 12), plaintext: toHex(NOTE) } },
    { comment: 'an 8-byte IV', flags: ['IvLength'], inputs: { url: UPLOAD, ...aesgcmSecrets('8', 8), plaintext: toHex(NOTE) } },
  ],
};

const aesgcmOpen: GroupKind = {
  type: 'AesgcmOpen',
  description:
    'a receiver reads an aesgcm:// link (fragment of exactly 88 or 96 hexadecimal digits, IV first, a host and no credentials; anything else is schema-violation) and decrypts the download with AES-256-GCM, the tag at its end; ' +
    'url is the link with scheme https and without fragment. Errors: schema-violation (the link), truncated (fewer bytes than a tag), authentication-failed (the tag)',
  inputs: z.strictObject({ link: z.string(), ciphertext: Hex }),
  outputs: z.strictObject({ url: z.string(), key: Hex, iv: Hex, plaintext: Hex }),
  operation: async (i) => {
    const link = parseAesgcmLink(i.link as string);
    const plaintext = await decryptAesgcm(fromHex(i.ciphertext as string), link.secrets);
    return { url: link.url, key: toHex(link.secrets.key), iv: toHex(link.secrets.iv), plaintext: toHex(plaintext) };
  },
  cases: () => {
    const made = (label: string, ivLength: number, plaintext = NOTE) => {
      const s = aesgcmSecrets(label, ivLength);
      const secrets = secretsOf(s);
      return { link: formatAesgcmLink(UPLOAD, secrets), ciphertext: toHex(gcm(secrets.key, secrets.iv).encrypt(plaintext)), secrets };
    };
    const a = made('12', 12);
    const b = made('16', 16);
    const empty = made('empty', 12, new Uint8Array(0));
    const [base, fragment] = a.link.split('#') as [string, string];
    const other = made('other', 12);
    const flipped = fromHex(a.ciphertext);
    flipped[flipped.length - 1]! ^= 0x80;
    return [
      { comment: '12-byte IV', inputs: { link: a.link, ciphertext: a.ciphertext } },
      { comment: '16-byte IV (older clients)', inputs: { link: b.link, ciphertext: b.ciphertext } },
      { comment: 'empty file: the tag alone', inputs: { link: empty.link, ciphertext: empty.ciphertext } },
      { comment: 'upper-case hexadecimal in the fragment', inputs: { link: `${base}#${fragment.toUpperCase()}`, ciphertext: a.ciphertext } },
      { comment: 'fragment one digit short (87)', flags: ['BadFragment'], inputs: { link: `${base}#${fragment.slice(1)}`, ciphertext: a.ciphertext } },
      { comment: 'fragment of 80 digits (an 8-byte IV)', flags: ['BadFragment'], inputs: { link: `${base}#${fragment.slice(8)}`, ciphertext: a.ciphertext } },
      { comment: 'fragment with a non-hexadecimal digit', flags: ['BadFragment'], inputs: { link: `${base}#g${fragment.slice(1)}`, ciphertext: a.ciphertext } },
      { comment: 'no fragment', flags: ['BadFragment'], inputs: { link: base, ciphertext: a.ciphertext } },
      { comment: 'scheme https instead of aesgcm', flags: ['BadScheme'], inputs: { link: a.link.replace('aesgcm:', 'https:'), ciphertext: a.ciphertext } },
      { comment: 'credentials in the URL', flags: ['Credentials'], inputs: { link: a.link.replace('aesgcm://', 'aesgcm://user:pass@'), ciphertext: a.ciphertext } },
      { comment: 'wrong key: the link of another upload', flags: ['WrongKey'], inputs: { link: other.link, ciphertext: a.ciphertext } },
      { comment: 'the tag\'s last bit flipped', flags: ['Tampered'], inputs: { link: a.link, ciphertext: toHex(flipped) } },
      { comment: 'truncated: fewer bytes than a tag', flags: ['Truncated'], inputs: { link: a.link, ciphertext: a.ciphertext.slice(0, 2 * (CHUNK_TAG_BYTES - 1)) } },
    ];
  },
};

// --- Descriptors ------------------------------------------------------------------------------

const FILE_URL = 'https://upload.montague.lit/4a771ac1f0b24a4a9700f2a2/6b0d2c1e5f3a4d7c9e8b1a2f3c4d5e6f.bin';
const THUMBNAIL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==';
const NOTE_TEXT = utf8Encode('The council meets at nine.\n');

/** The descriptor of `plaintext` encrypted with Seal's stream cipher under `secrets` (computed with noble directly). */
function streamDescriptor(plaintext: Uint8Array, secrets: FileSecrets, metadata: Pick<FileDescriptorValue, 'name' | 'mediaType'> & Partial<FileDescriptorValue>): FileDescriptorValue {
  const payloadKey = filePayloadKey(secrets);
  const n = Math.max(1, Math.ceil(plaintext.length / CHUNK_SIZE));
  const chunks = Array.from({ length: n }, (_, i) => gcm(payloadKey, chunkNonce(i, i === n - 1)).encrypt(plaintext.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE)));
  return { size: plaintext.length, hash: sha256(plaintext), cipher: SEAL_STREAM_CIPHER, key: secrets.key, iv: secrets.iv, encryptedHash: sha256(concatBytes(...chunks)), url: FILE_URL, ...metadata };
}

function aesgcmDescriptor(plaintext: Uint8Array, secrets: FileSecrets, name: string): { descriptor: FileDescriptorValue; ciphertext: Uint8Array } {
  const ciphertext = gcm(secrets.key, secrets.iv).encrypt(plaintext);
  return { descriptor: { mediaType: 'text/plain', name, size: plaintext.length, hash: sha256(plaintext), cipher: AES_256_GCM_CIPHER, key: secrets.key, iv: secrets.iv, encryptedHash: sha256(ciphertext), url: FILE_URL }, ciphertext };
}

function secretsFrom(label: string, ivLength = 16): FileSecrets {
  const rng = seededRng(`files.json descriptor ${label}`);
  return { key: rng(32), iv: rng(ivLength) };
}

const xmlOf = (d: FileDescriptorValue) => FileSharingElement.toXml(d).toString();

function descriptors(): { comment: string; descriptor: FileDescriptorValue }[] {
  const many = plaintextOf({ length: 3 * CHUNK_SIZE + 5, pattern: 'i mod 251' });
  return [
    { comment: 'a short text file', descriptor: streamDescriptor(NOTE_TEXT, secretsFrom('note'), { name: 'note.txt', mediaType: 'text/plain' }) },
    {
      comment: 'a file of four chunks, with a description and an inline thumbnail',
      descriptor: streamDescriptor(many, secretsFrom('many'), { name: 'summit.png', mediaType: 'image/png', desc: 'The summit at dawn\n(second try)', thumbnail: { uri: THUMBNAIL, width: 1, height: 1 } }),
    },
    { comment: 'an empty file with a non-ASCII name', descriptor: streamDescriptor(new Uint8Array(0), secretsFrom('empty'), { name: 'leer – vide.txt', mediaType: 'text/plain; charset=utf-8' }) },
    {
      comment: 'a name and description with every character the canonical form escapes in text (& < >), an apostrophe and a tab',
      descriptor: streamDescriptor(NOTE_TEXT, secretsFrom('escapes'), { name: "R&J <draft> 'v2'.txt", mediaType: 'text/plain', desc: 'act\t1 & 2 < 3 > 0' }),
    },
    { comment: `XEP-0448's ${AES_256_GCM_CIPHER} (the whole file under one tag)`, descriptor: aesgcmDescriptor(NOTE_TEXT, secretsFrom('aes-256-gcm', 12), 'note.txt').descriptor },
  ];
}

const descriptorWrite: GroupKind = {
  type: 'DescriptorWrite',
  description:
    'the <file-sharing xmlns="urn:xmpp:sfs:0"/> element of a descriptor (§files.descriptor): <file xmlns="urn:xmpp:file:metadata:0"> with media-type, name, size, the plaintext\'s sha-256 hash, desc and thumbnail when present; ' +
    '<sources> with one <encrypted xmlns="urn:xmpp:esfs:0" cipher=…> holding key, iv (base64), the ciphertext\'s sha-256 hash and the URL in <sources><url-data target=…/></sources>. The XML is in the canonical form of §encoding.xml',
  inputs: z.strictObject({ descriptor: Descriptor }),
  outputs: z.strictObject({ xml: z.string() }),
  operation: (i) => ({ xml: xmlOf(descriptorFromJson(i.descriptor as DescriptorIn)) }),
  cases: () => descriptors().map((d) => ({ comment: d.comment, inputs: { descriptor: descriptorToJson(d.descriptor) } })),
};

/** The one file readSharedFiles reads from `xml` as the decrypted content, or its rejection thrown. */
function readOne(xml: string) {
  const files = readSharedFiles([parseXml(xml)]);
  const file = files[0];
  if (files.length !== 1 || file === undefined) throw new Error(`expected one file, got ${files.length}`);
  if (file.kind === 'rejected') throw new SealError(file.code, file.message);
  return file;
}

const descriptorRead: GroupKind = {
  type: 'DescriptorRead',
  description:
    'a receiver reads a <file-sharing/> element from a sealed message\'s content and checks it (files.descriptor-check): kind is "stream" for urn:xmpp:ciphers:seal-stream-aes-256-gcm:0 (16-byte iv), "aes-256-gcm" for urn:xmpp:ciphers:aes-256-gcm-nopadding:0 (12-byte iv); ' +
    'hashes of other algorithms and sources after the first url-data are ignored. Errors: unknown-version (another cipher), invalid-length (an IV of the wrong length), schema-violation and invalid-base64 (the structure)',
  inputs: z.strictObject({ xml: z.string() }),
  outputs: z.strictObject({ kind: z.enum(['stream', 'aes-256-gcm']), descriptor: Descriptor }),
  operation: (i) => {
    const file = readOne(i.xml as string);
    if (file.kind !== 'stream' && file.kind !== 'aes-256-gcm') throw new Error(`not a descriptor: ${file.kind}`);
    return { kind: file.kind, descriptor: descriptorToJson(file.descriptor) };
  },
  cases: () => {
    const list = descriptors();
    const note = list[0]!;
    const many = list[1]!;
    const base = xmlOf(note.descriptor);
    const edit = (from: string | RegExp, to: string) => {
      const out = base.replace(from, to);
      if (out === base) throw new Error(`descriptor case: ${String(from)} not found`);
      return out;
    };
    const iv = encodeBase64(note.descriptor.iv);
    const key = encodeBase64(note.descriptor.key);
    return [
      ...descriptors().map((d) => ({ comment: d.comment, inputs: { xml: xmlOf(d.descriptor) } })),
      { comment: 'a sha-512 hash beside the sha-256 one and a second source, both ignored', inputs: { xml: edit('</file>', '<hash xmlns="urn:xmpp:hashes:2" algo="sha-512">AAAA</hash></file>').replace('"/></sources>', '"/><url-data xmlns="http://jabber.org/protocol/url-data" target="https://mirror.example.org/x.bin"/></sources>') } },
      { comment: 'an unknown cipher', flags: ['UnknownCipher'], inputs: { xml: edit(SEAL_STREAM_CIPHER, 'urn:xmpp:ciphers:aes-256-cbc-pkcs7:0') } },
      { comment: 'the stream cipher with a 12-byte IV', flags: ['IvLength'], inputs: { xml: edit(`<iv>${iv}</iv>`, `<iv>${iv.slice(0, 16)}</iv>`) } },
      { comment: 'a 31-byte key', flags: ['KeyLength'], inputs: { xml: edit(`<key>${key}</key>`, `<key>${toB64Prefix(key)}</key>`) } },
      { comment: 'a non-canonical size (leading zero)', flags: ['Schema'], inputs: { xml: edit(/<size>(\d+)<\/size>/, '<size>0$1</size>') } },
      { comment: 'no url-data source', flags: ['Schema'], inputs: { xml: edit(/<url-data [^>]*\/>/, '') } },
      { comment: 'a source URL that is not http(s)', flags: ['Schema'], inputs: { xml: edit(FILE_URL, FILE_URL.replace('https:', 'ftp:')) } },
      { comment: 'a thumbnail fetched from the network', flags: ['Thumbnail'], inputs: { xml: xmlOf(many.descriptor).replace(THUMBNAIL, 'https://upload.montague.lit/thumb.png') } },
      { comment: 'a key that is not canonical base64', flags: ['Base64'], inputs: { xml: edit(`<key>${key}</key>`, `<key>${key.slice(0, -2)}Z=</key>`) } },
    ];
  },
};

/** Base64 of the first 31 bytes of the 32 a base64 text encodes. */
function toB64Prefix(text: string): string {
  return encodeBase64(decodeBase64(text).subarray(0, 31));
}

// --- SharedFileOpen ---------------------------------------------------------------------------

const sharedFileOpen: GroupKind = {
  type: 'SharedFileOpen',
  description:
    'a receiver opens a downloaded file against the descriptor `xml` it read (files.receive-checks): the ciphertext, assembled from `ciphertext` pieces as in StreamDecrypt under `key` and `iv` (the secrets the sender encrypted with), ' +
    'must hash to the descriptor\'s ciphertext hash, open under the descriptor\'s cipher, key and iv, have the descriptor\'s size, and hash to its plaintext hash; only then is the plaintext (length and SHA-256 here) presented. ' +
    'Errors: the descriptor\'s own (DescriptorRead), authentication-failed (a hash or a tag), invalid-length (the size), truncated, trailing-bytes',
  inputs: z.strictObject({ xml: z.string(), key: Hex, iv: Hex, plaintext: Plaintext, ciphertext: z.array(Piece) }),
  outputs: z.strictObject({ length: z.int(), sha256: Hex }),
  operation: async (i) => {
    const file = readOne(i.xml as string);
    const bytes = await assemblePieces(i.ciphertext as PieceIn[], i.plaintext as PlaintextIn, secretsOf(i));
    return digestOf(await openSharedFile(fed(bytes), file));
  },
  cases: () => {
    const noteSecrets = secretsFrom('note');
    const note = streamDescriptor(NOTE_TEXT, noteSecrets, { name: 'note.txt', mediaType: 'text/plain' });
    const noteInputs = { key: toHex(noteSecrets.key), iv: toHex(noteSecrets.iv), plaintext: { hex: toHex(NOTE_TEXT) } };
    const manySecrets = secretsFrom('many');
    const manyPlain: PlaintextIn = { length: 3 * CHUNK_SIZE + 5, pattern: 'i mod 251' };
    const many = streamDescriptor(plaintextOf(manyPlain), manySecrets, { name: 'summit.png', mediaType: 'image/png' });
    const gcmSecrets = secretsFrom('aes-256-gcm', 12);
    const whole = aesgcmDescriptor(NOTE_TEXT, gcmSecrets, 'note.txt');
    const altered = (d: FileDescriptorValue, change: Partial<FileDescriptorValue>) => xmlOf({ ...d, ...change });
    const flip = (bytes: Uint8Array) => Uint8Array.from(bytes, (b, i) => (i === 0 ? b ^ 1 : b));
    const other = secretsFrom('other');
    return [
      { comment: 'a short text file', inputs: { xml: xmlOf(note), ...noteInputs, ciphertext: [{ chunk: 0 }] } },
      { comment: 'a file of four chunks', inputs: { xml: xmlOf(many), key: toHex(manySecrets.key), iv: toHex(manySecrets.iv), plaintext: manyPlain, ciphertext: [0, 1, 2, 3].map((chunk) => ({ chunk })) } },
      { comment: `${AES_256_GCM_CIPHER}: the whole file under one tag`, inputs: { xml: xmlOf(whole.descriptor), key: toHex(gcmSecrets.key), iv: toHex(gcmSecrets.iv), plaintext: { hex: toHex(NOTE_TEXT) }, ciphertext: [{ hex: toHex(whole.ciphertext) }] } },
      { comment: 'wrong plaintext hash in the descriptor', flags: ['WrongHash'], inputs: { xml: altered(note, { hash: flip(note.hash) }), ...noteInputs, ciphertext: [{ chunk: 0 }] } },
      { comment: 'wrong ciphertext hash in the descriptor', flags: ['WrongHash'], inputs: { xml: altered(note, { encryptedHash: flip(note.encryptedHash) }), ...noteInputs, ciphertext: [{ chunk: 0 }] } },
      { comment: `${AES_256_GCM_CIPHER}: wrong plaintext hash in the descriptor`, flags: ['WrongHash'], inputs: { xml: xmlOf({ ...whole.descriptor, hash: flip(whole.descriptor.hash) }), key: toHex(gcmSecrets.key), iv: toHex(gcmSecrets.iv), plaintext: { hex: toHex(NOTE_TEXT) }, ciphertext: [{ hex: toHex(whole.ciphertext) }] } },
      { comment: 'another file served: encrypted under another key, its hash not the descriptor\'s', flags: ['WrongKey'], inputs: { xml: xmlOf(note), key: toHex(other.key), iv: toHex(other.iv), plaintext: { hex: toHex(NOTE_TEXT) }, ciphertext: [{ chunk: 0 }] } },
      { comment: 'a size one byte larger in the descriptor', flags: ['SizeMismatch'], inputs: { xml: altered(note, { size: note.size + 1 }), ...noteInputs, ciphertext: [{ chunk: 0 }] } },
      { comment: 'the download truncated: the final chunk dropped', flags: ['Truncated'], inputs: { xml: xmlOf(many), key: toHex(manySecrets.key), iv: toHex(manySecrets.iv), plaintext: manyPlain, ciphertext: [0, 1, 2].map((chunk) => ({ chunk })) } },
      { comment: 'an unknown cipher', flags: ['UnknownCipher'], inputs: { xml: altered(note, { cipher: 'urn:xmpp:ciphers:aes-256-cbc-pkcs7:0' }), ...noteInputs, ciphertext: [{ chunk: 0 }] } },
    ];
  },
};

/** The kind of `vectors/files.json`. @see spec §files */
export const filesVectors: VectorKind = {
  file: 'files.json',
  section: 'files',
  version: 1,
  description: 'Seal-v0 files: the stream cipher (every chunk), its decryption and rejections, aesgcm:// links, the file descriptor, and a downloaded file opened against its descriptor',
  groups: [streamEncrypt, streamDecrypt, aesgcmSeal, aesgcmOpen, descriptorWrite, descriptorRead, sharedFileOpen],
};
