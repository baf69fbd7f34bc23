/**
 * Seal's file cipher: AES-256-GCM in the STREAM construction (Hoang, Reyhanitabar, Rogaway and
 * Vizár, "Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", 2015), as age
 * uses it with ChaCha20-Poly1305. A fresh file key and nonce per file give, through the labelled
 * KDF, the payload key; the file is cut into CHUNK_SIZE chunks, each sealed under the nonce
 * `uint88(counter) || last-flag`. A receiver decrypts chunk by chunk with bounded memory and
 * releases a chunk only after its tag verified; a missing final chunk (truncation), chunks in
 * another order and bytes after the final chunk (extension) all fail.
 *
 * @see spec §files.cipher
 * @module
 */
import { concatBytes } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import { deriveKey } from '../suite/kdf.js';
import type { Rng } from '../suite/rng.js';
import { type FileCipherProvider, type FileKeyHandle, nobleFileCipher } from './cipher.js';
import { FILES_CONSTANTS, FILES_LABELS } from './constants.js';

const { CHUNK_SIZE, CHUNK_TAG_BYTES, MAX_FILE_SIZE } = FILES_CONSTANTS;
const BLOCK = CHUNK_SIZE + CHUNK_TAG_BYTES;

/** Bytes of a file key. */
export const FILE_KEY_BYTES = 32;
/** Bytes of a stream cipher's nonce (the XEP-0448 `<iv/>`). */
export const FILE_NONCE_BYTES = 16;

/** The secrets of one encrypted file: what the descriptor's `<key/>` and `<iv/>` carry. @see spec §files.cipher */
export interface FileSecrets {
  /** 32 random bytes, fresh for every file. */
  readonly key: Uint8Array;
  /** 16 random bytes for the stream cipher (the KDF salt); 12 (or 16) for AES-256-GCM. */
  readonly iv: Uint8Array;
}

/** Anything a file's bytes can come from: one buffer, an (async) iterable of buffers, or a `ReadableStream`. */
export type ByteSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>;

/**
 * Fresh secrets for one file from the CSPRNG.
 *
 * Implements requirement `files.fresh-key`.
 *
 * @see spec §files.cipher
 */
export function newFileSecrets(rng: Rng): FileSecrets {
  // @req files.fresh-key: a new key and nonce for every file, never reused for another upload.
  return { key: rng(FILE_KEY_BYTES), iv: rng(FILE_NONCE_BYTES) };
}

/**
 * The ciphertext size of a file of `size` plaintext bytes: every chunk adds a 16-byte tag, and
 * an empty file is one empty final chunk.
 *
 * @throws SealError `too-large` above MAX_FILE_SIZE; `invalid-value` for a size that is not a non-negative integer.
 * @see spec §files.cipher
 */
export function streamCiphertextSize(size: number): number {
  checkFileSize(size);
  return size + CHUNK_TAG_BYTES * Math.max(1, Math.ceil(size / CHUNK_SIZE));
}

/** @throws SealError for a size the spec does not allow. */
export function checkFileSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new SealError('invalid-value', `file size: expected a non-negative integer, got ${size}`);
  // @req files.limits: no file above MAX_FILE_SIZE, sent or accepted.
  if (size > MAX_FILE_SIZE) throw new SealError('too-large', `file size ${size} exceeds MAX_FILE_SIZE (${MAX_FILE_SIZE})`);
}

/** The 12-byte nonce of chunk `counter`: 11 bytes of big-endian counter, then 0x01 for the final chunk, else 0x00. */
export function chunkNonce(counter: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(12);
  let c = counter;
  for (let i = 10; i >= 0 && c > 0; i--) {
    nonce[i] = c % 256;
    c = Math.floor(c / 256);
  }
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/**
 * The AES-256-GCM payload key of a file: `DeriveKey("file payload key", ikm = key, salt = iv, context = "", 32)`.
 *
 * @throws SealError `invalid-length` for a key that is not 32 bytes or an iv that is not 16.
 * @see spec §files.cipher
 */
export function filePayloadKey(secrets: FileSecrets): Uint8Array {
  if (secrets.key.length !== FILE_KEY_BYTES) throw new SealError('invalid-length', `file key: expected ${FILE_KEY_BYTES} bytes, got ${secrets.key.length}`);
  if (secrets.iv.length !== FILE_NONCE_BYTES) throw new SealError('invalid-length', `file nonce: expected ${FILE_NONCE_BYTES} bytes, got ${secrets.iv.length}`);
  return deriveKey({ label: FILES_LABELS.payloadKey, ikm: secrets.key, salt: secrets.iv, length: 32 });
}

async function payloadHandle(secrets: FileSecrets, provider: FileCipherProvider): Promise<FileKeyHandle> {
  const key = filePayloadKey(secrets);
  try {
    return await provider.importKey(key);
  } finally {
    key.fill(0);
  }
}

/** The buffers of a {@link ByteSource}, in order (a `ReadableStream` read through its reader, so it works where streams are not async-iterable). */
export async function* byteChunks(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  yield* source as AsyncIterable<Uint8Array>;
}

/**
 * Cuts `source` into pieces of exactly `size` bytes (the last one shorter, possibly empty only
 * when the whole source is), telling for each whether it is the last: a full piece is known not
 * to be last only once another byte has arrived. Memory: one piece plus one input buffer.
 *
 * Every piece is a view of one buffer, reused for the next piece (a fresh 64 KiB buffer per
 * chunk cost the fast providers, node:crypto and Web Crypto, 10-25 % of their throughput;
 * bench/README.md): a piece is valid only until the generator is resumed, so the consumer
 * finishes with it first and never passes it on (see {@link detached}).
 */
async function* pieces(source: ByteSource, size: number): AsyncGenerator<{ bytes: Uint8Array; last: boolean }> {
  const buffer = new Uint8Array(size);
  let filled = 0;
  let held = false; // buffer is full and waiting to learn whether more follows
  for await (const input of byteChunks(source)) {
    let offset = 0;
    while (offset < input.length) {
      if (held) {
        yield { bytes: buffer, last: false };
        filled = 0;
        held = false;
      }
      if (filled === 0 && input.length - offset > size) {
        // A whole piece with more bytes after it in this input: not the last, and no copy needed.
        yield { bytes: input.subarray(offset, offset + size), last: false };
        offset += size;
        continue;
      }
      const take = Math.min(size - filled, input.length - offset);
      buffer.set(input.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === size) held = true;
    }
  }
  yield { bytes: buffer.subarray(0, filled), last: true };
}

/** A provider's output as bytes of its own: a copy only if it is a view of the piece's buffer (the reused one, or the caller's input; a provider working in place). */
function detached(output: Uint8Array, piece: Uint8Array): Uint8Array {
  return output.buffer === piece.buffer ? output.slice() : output;
}

/**
 * Encrypts a file with Seal's stream cipher, yielding one ciphertext chunk (plaintext + 16-byte
 * tag) per CHUNK_SIZE bytes of plaintext, with bounded memory.
 *
 * Implements requirement `files.stream`.
 *
 * @throws SealError `too-large` when the file grows beyond MAX_FILE_SIZE; `invalid-length` for bad secrets.
 * @see spec §files.cipher
 */
export async function* encryptFileStream(source: ByteSource, secrets: FileSecrets, provider: FileCipherProvider = nobleFileCipher): AsyncGenerator<Uint8Array> {
  const handle = await payloadHandle(secrets, provider);
  let counter = 0;
  let total = 0;
  for await (const piece of pieces(source, CHUNK_SIZE)) {
    total += piece.bytes.length;
    checkFileSize(total);
    // @req files.stream: chunk i under nonce uint88(i) || last, the final chunk flagged, and only the final one.
    yield detached(await handle.seal(chunkNonce(counter, piece.last), piece.bytes), piece.bytes);
    counter++;
  }
}

/** Options of {@link decryptFileStream}. */
export interface DecryptFileOptions {
  readonly provider?: FileCipherProvider;
  /** The plaintext size the descriptor states: more ciphertext than it implies fails at once, and a different total fails at the end. */
  readonly size?: number;
}

/**
 * Decrypts a file encrypted with Seal's stream cipher, yielding each chunk's plaintext only after
 * its tag verified. The iteration throws at the first chunk that does not verify; a consumer
 * that writes the chunks somewhere MUST discard what it wrote when the iteration throws, and
 * present the file only when it ends normally (`files.receive`).
 *
 * Implements requirement `files.stream-open`.
 *
 * @throws SealError `authentication-failed` for a chunk that does not verify (another key,
 *   altered or reordered chunks); `truncated` when the final chunk is missing; `trailing-bytes`
 *   when bytes follow the final chunk; `invalid-length` for an empty final chunk after others, or
 *   a total that differs from `size`; `too-large` beyond MAX_FILE_SIZE.
 * @see spec §files.cipher
 */
export async function* decryptFileStream(source: ByteSource, secrets: FileSecrets, options: DecryptFileOptions = {}): AsyncGenerator<Uint8Array> {
  const provider = options.provider ?? nobleFileCipher;
  const expected = options.size === undefined ? undefined : streamCiphertextSize(options.size);
  const handle = await payloadHandle(secrets, provider);
  const attempt = async (counter: number, last: boolean, block: Uint8Array) => {
    try {
      return await handle.open(chunkNonce(counter, last), block);
    } catch {
      return undefined;
    }
  };
  let counter = 0;
  let total = 0;
  let read = 0;
  const bounded = async function* (): AsyncGenerator<Uint8Array> {
    for await (const input of byteChunks(source)) {
      read += input.length;
      // @req files.limits: a download longer than the descriptor's size implies stops at once.
      if (expected !== undefined && read > expected) throw new SealError('trailing-bytes', `the download is longer than the ${expected} bytes a file of ${options.size} bytes encrypts to`);
      yield input;
    }
  };
  // @req files.stream-open: a chunk is released only after its tag verified, as final only at the end of the input.
  for await (const piece of pieces(bounded(), BLOCK)) {
    if (piece.bytes.length < CHUNK_TAG_BYTES) throw new SealError('truncated', `chunk ${counter}: ${piece.bytes.length} bytes, shorter than its tag`);
    let plaintext = await attempt(counter, piece.last, piece.bytes);
    if (plaintext === undefined) {
      // Tell truncation and extension apart from tampering: only for the error message and code.
      const other = await attempt(counter, !piece.last, piece.bytes);
      if (other !== undefined && piece.last) throw new SealError('truncated', `the input ends after chunk ${counter}, which is not the final chunk`);
      if (other !== undefined) throw new SealError('trailing-bytes', `bytes follow the final chunk ${counter}`);
      throw new SealError('authentication-failed', `chunk ${counter} does not verify (another key, or the chunk was altered or moved)`);
    }
    if (piece.last && plaintext.length === 0 && counter > 0) throw new SealError('invalid-length', `the final chunk ${counter} is empty; only an empty file has an empty final chunk`);
    total += plaintext.length;
    checkFileSize(total);
    counter++;
    yield detached(plaintext, piece.bytes);
    plaintext = undefined;
  }
  if (options.size !== undefined && total !== options.size) throw new SealError('invalid-length', `the file has ${total} bytes, the descriptor says ${options.size}`);
}

/** All bytes of an async iterable, concatenated. */
export async function collectBytes(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return concatBytes(...parts);
}
