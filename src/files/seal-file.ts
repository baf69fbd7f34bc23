/**
 * A file on its way to an upload, and back: encrypting a file with Seal's stream cipher (or, for
 * `aesgcm://`, AES-256-GCM as a whole) while hashing the plaintext and the ciphertext, so that
 * the descriptor can be completed once the upload is done; and opening a downloaded file with
 * every check of §files.receive (size, both hashes, the cipher's own) before it is presented.
 *
 * @see spec §files.cipher
 * @see spec §files.receive
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { SealError } from '../errors.js';
import type { Rng } from '../suite/rng.js';
import { constantTimeEqual } from '../suite/kdf.js';
import type { FileDescriptorValue } from '../wire/files.js';
import { decryptAesgcm } from './aesgcm.js';
import { type FileCipherProvider, nobleFileCipher } from './cipher.js';
import { FILES_CONSTANTS, SEAL_STREAM_CIPHER } from './constants.js';
import type { SharedFile } from './shared.js';
import { type ByteSource, type FileSecrets, byteChunks, checkFileSize, collectBytes, decryptFileStream, encryptFileStream, newFileSecrets, streamCiphertextSize } from './stream.js';

/** What the sender states about a file (XEP-0446 metadata). @see spec §files.descriptor */
export interface FileMetadata {
  readonly name: string;
  readonly mediaType: string;
  readonly desc?: string;
  readonly thumbnail?: { readonly uri: string; readonly width: number; readonly height: number };
}

/** A file being encrypted: its ciphertext as a stream, and the descriptor once the stream is read to its end. */
export interface SealingFile {
  /** The ciphertext size, known in advance (for the upload slot and Content-Length). */
  readonly ciphertextSize: number;
  /** The ciphertext, chunk by chunk. Read it once. */
  readonly ciphertext: AsyncIterable<Uint8Array>;
  /** The descriptor for the ciphertext at `url`. @throws SealError `invalid-state` before `ciphertext` was read to its end, `invalid-length` when the source had another size than stated. */
  descriptor(url: string): FileDescriptorValue;
}

/**
 * Starts encrypting a file of `size` bytes with Seal's stream cipher under fresh secrets, hashing
 * plaintext and ciphertext on the way (memory: one chunk).
 *
 * @throws SealError `too-large` above MAX_FILE_SIZE.
 * @see spec §files.descriptor
 */
export function sealFile(source: ByteSource, size: number, metadata: FileMetadata, options: { rng: Rng; provider?: FileCipherProvider }): SealingFile {
  checkFileSize(size);
  const secrets = newFileSecrets(options.rng);
  const plainHash = sha256.create();
  const cipherHash = sha256.create();
  let read = 0;
  let done = false;
  const counted = async function* () {
    for await (const chunk of byteChunks(source)) {
      read += chunk.length;
      if (read > size) throw new SealError('invalid-length', `the file has more than the ${size} bytes stated`);
      plainHash.update(chunk);
      yield chunk;
    }
    if (read !== size) throw new SealError('invalid-length', `the file has ${read} bytes, not the ${size} stated`);
  };
  const ciphertext = (async function* () {
    for await (const chunk of encryptFileStream(counted(), secrets, options.provider)) {
      cipherHash.update(chunk);
      yield chunk;
    }
    done = true;
  })();
  return {
    ciphertextSize: streamCiphertextSize(size),
    ciphertext,
    descriptor(url) {
      if (!done) throw new SealError('invalid-state', 'the descriptor is complete only after the whole ciphertext was read');
      return {
        mediaType: metadata.mediaType,
        name: metadata.name,
        size,
        hash: plainHash.digest(),
        ...(metadata.desc === undefined ? {} : { desc: metadata.desc }),
        ...(metadata.thumbnail === undefined ? {} : { thumbnail: metadata.thumbnail }),
        cipher: SEAL_STREAM_CIPHER,
        key: secrets.key,
        iv: secrets.iv,
        encryptedHash: cipherHash.digest(),
        url,
      };
    },
  };
}

/**
 * Opens a downloaded file offered by a descriptor, streaming: yields verified plaintext chunks,
 * and throws (after the last chunk at the latest) when the ciphertext's hash, the size or the
 * plaintext's hash does not match the descriptor. A consumer MUST discard what it received when
 * the iteration throws; {@link openSharedFile} does that for files held in memory.
 *
 * Implements requirement `files.receive-checks`.
 *
 * @throws SealError `authentication-failed` (a chunk, or a hash, does not verify) and the errors of `decryptFileStream`.
 * @see spec §files.receive
 */
export async function* openFileStream(ciphertext: ByteSource, file: Extract<SharedFile, { kind: 'stream' | 'aes-256-gcm' }>, provider: FileCipherProvider = nobleFileCipher): AsyncGenerator<Uint8Array> {
  const d = file.descriptor;
  const cipherHash = sha256.create();
  const plainHash = sha256.create();
  const hashed = async function* () {
    for await (const chunk of byteChunks(ciphertext)) {
      cipherHash.update(chunk);
      yield chunk;
    }
  };
  const secrets: FileSecrets = { key: d.key, iv: d.iv };
  if (file.kind === 'aes-256-gcm') {
    // The whole file under one tag: nothing is released before the tag and the hashes verified.
    // @req files.receive-checks: no more than the descriptor's size implies is read.
    const bytes = await collectBounded(hashed(), d.size + 16, 'trailing-bytes');
    const plaintext = await decryptAesgcm(bytes, secrets, provider);
    checkHashes(d, cipherHash.digest(), sha256(plaintext), plaintext.length);
    yield plaintext;
    return;
  }
  let size = 0;
  for await (const chunk of decryptFileStream(hashed(), secrets, { provider, size: d.size })) {
    plainHash.update(chunk);
    size += chunk.length;
    yield chunk;
  }
  checkHashes(d, cipherHash.digest(), plainHash.digest(), size);
}

function checkHashes(d: FileDescriptorValue, cipherHash: Uint8Array, plainHash: Uint8Array, size: number): void {
  // @req files.receive-checks: the ciphertext's hash, the size and the plaintext's hash all match, or nothing is presented.
  if (!constantTimeEqual(cipherHash, d.encryptedHash)) throw new SealError('authentication-failed', 'the downloaded ciphertext does not match the descriptor\'s hash');
  if (size !== d.size) throw new SealError('invalid-length', `the file has ${size} bytes, the descriptor says ${d.size}`);
  if (!constantTimeEqual(plainHash, d.hash)) throw new SealError('authentication-failed', 'the decrypted file does not match the descriptor\'s hash');
}

async function collectBounded(source: AsyncIterable<Uint8Array>, max: number, code: 'too-large' | 'trailing-bytes' = 'too-large'): Promise<Uint8Array> {
  const bounded = async function* () {
    let read = 0;
    for await (const chunk of source) {
      read += chunk.length;
      if (read > max) throw new SealError(code, `the download exceeds ${max} bytes`);
      yield chunk;
    }
  };
  return collectBytes(bounded());
}

/**
 * Opens a downloaded file completely in memory and returns it only when every check passed:
 * the safe default for files that fit in memory. An `aesgcm://` link is opened by its tag alone
 * (the link carries no hash).
 *
 * @throws SealError as {@link openFileStream}; for a `rejected` file, its own error.
 * @see spec §files.receive
 */
export async function openSharedFile(ciphertext: ByteSource, file: SharedFile, provider: FileCipherProvider = nobleFileCipher): Promise<Uint8Array> {
  if (file.kind === 'rejected') throw new SealError(file.code, file.message);
  if (file.kind === 'aesgcm-link') return decryptAesgcm(await collectBounded(byteChunks(ciphertext), FILES_CONSTANTS.MAX_AESGCM_SIZE + 16), file.link.secrets, provider);
  return collectBytes(openFileStream(ciphertext, file, provider));
}

/** The ciphertext size a file offers, where it is known (for a download's bound). */
export function expectedCiphertextSize(file: SharedFile): number | undefined {
  if (file.kind === 'stream') return streamCiphertextSize(file.descriptor.size);
  if (file.kind === 'aes-256-gcm') return file.descriptor.size + 16;
  return undefined;
}

/** The URL a file's ciphertext is downloaded from. @throws SealError for a rejected file. */
export function downloadUrl(file: SharedFile): string {
  if (file.kind === 'rejected') throw new SealError(file.code, file.message);
  return file.kind === 'aesgcm-link' ? file.link.url : file.descriptor.url;
}

