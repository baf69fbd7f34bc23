/**
 * `aesgcm://` links (XEP-0454, "OMEMO Media sharing"): the convention by which OMEMO clients share
 * files over HTTP File Upload. The file is encrypted with AES-256-GCM as a whole, the 16-byte tag
 * appended; the link is the upload's `https://` URL with the scheme replaced by `aesgcm` and, as
 * its fragment, the hexadecimal IV (12 bytes; 16 in older clients) followed by the 32-byte key.
 * Seal reads and writes these links so that its users can exchange files with clients that only
 * know this convention; its own stream cipher is preferred (§files.aesgcm says when).
 *
 * @see spec §files.aesgcm
 * @module
 */
import { fromHex, toHex } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import type { Rng } from '../suite/rng.js';
import { type FileCipherProvider, nobleFileCipher } from './cipher.js';
import { FILES_CONSTANTS } from './constants.js';
import type { FileSecrets } from './stream.js';

/** A parsed `aesgcm://` link. @see spec §files.aesgcm */
export interface AesgcmLink {
  /** The `https://` URL the ciphertext is downloaded from (the link without its fragment, scheme `https`). */
  readonly url: string;
  /** The 32-byte key and the 12- or 16-byte IV. */
  readonly secrets: FileSecrets;
}

const HEX = /^[0-9a-f]+$/i;

/**
 * Reads an `aesgcm://` link: the scheme, a host, no credentials, and a fragment of exactly 88
 * (12-byte IV) or 96 (16-byte IV) hexadecimal digits, IV first.
 *
 * Implements requirement `files.aesgcm-link`.
 *
 * @throws SealError `schema-violation` for anything else.
 * @see spec §files.aesgcm
 */
export function parseAesgcmLink(text: string): AesgcmLink {
  if (text.length > FILES_CONSTANTS.MAX_FILE_FIELD_CHARS) throw new SealError('too-large', `aesgcm link: longer than ${FILES_CONSTANTS.MAX_FILE_FIELD_CHARS} characters`);
  if (!text.startsWith('aesgcm://')) throw new SealError('schema-violation', 'aesgcm link: the scheme is not aesgcm');
  let parsed: URL;
  try {
    parsed = new URL(`https://${text.slice('aesgcm://'.length)}`);
  } catch {
    throw new SealError('schema-violation', 'aesgcm link: not a URL');
  }
  if (parsed.username !== '' || parsed.password !== '') throw new SealError('schema-violation', 'aesgcm link: credentials in the URL');
  const fragment = parsed.hash.slice(1);
  // @req files.aesgcm-link: IV then key, 12- or 16-byte IV, nothing else.
  if (!HEX.test(fragment) || (fragment.length !== 88 && fragment.length !== 96)) throw new SealError('schema-violation', `aesgcm link: the fragment must be 88 or 96 hexadecimal digits, got ${fragment.length} characters`);
  const ivLength = fragment.length === 88 ? 12 : 16;
  const bytes = fromHex(fragment, 'aesgcm link fragment');
  parsed.hash = '';
  return { url: parsed.toString(), secrets: { iv: bytes.slice(0, ivLength), key: bytes.slice(ivLength) } };
}

/**
 * Writes the `aesgcm://` link of an upload: its `https://` URL with the scheme replaced, and the
 * IV and key as lower-case hexadecimal fragment.
 *
 * @throws SealError `schema-violation` when the URL is not `https://` or already has a fragment; `invalid-length` for bad secrets.
 * @see spec §files.aesgcm
 */
export function formatAesgcmLink(url: string, secrets: FileSecrets): string {
  if (!url.startsWith('https://') || url.includes('#')) throw new SealError('schema-violation', 'aesgcm link: the upload URL must be https:// without a fragment');
  checkAesgcmSecrets(secrets);
  return `aesgcm://${url.slice('https://'.length)}#${toHex(secrets.iv)}${toHex(secrets.key)}`;
}

function checkAesgcmSecrets(secrets: FileSecrets): void {
  if (secrets.key.length !== 32) throw new SealError('invalid-length', `aesgcm key: expected 32 bytes, got ${secrets.key.length}`);
  if (secrets.iv.length !== 12 && secrets.iv.length !== 16) throw new SealError('invalid-length', `aesgcm IV: expected 12 or 16 bytes, got ${secrets.iv.length}`);
}

/** Fresh secrets for an `aesgcm://` file: a 32-byte key and a 12-byte IV. @see spec §files.aesgcm */
export function newAesgcmSecrets(rng: Rng): FileSecrets {
  // @req files.fresh-key: as for the stream cipher, never reused.
  return { key: rng(32), iv: rng(12) };
}

/**
 * Encrypts a whole file for an `aesgcm://` link: AES-256-GCM, the tag appended.
 *
 * @throws SealError `too-large` above MAX_AESGCM_SIZE; `invalid-length` for bad secrets.
 * @see spec §files.aesgcm
 */
export async function encryptAesgcm(plaintext: Uint8Array, secrets: FileSecrets, provider: FileCipherProvider = nobleFileCipher): Promise<Uint8Array> {
  checkAesgcmSecrets(secrets);
  if (plaintext.length > FILES_CONSTANTS.MAX_AESGCM_SIZE) throw new SealError('too-large', `aesgcm file: ${plaintext.length} bytes exceed MAX_AESGCM_SIZE`);
  return (await provider.importKey(secrets.key)).seal(secrets.iv, plaintext);
}

/**
 * Decrypts an `aesgcm://` download: the whole ciphertext and its final tag, which is checked
 * before a byte of plaintext is returned.
 *
 * Implements requirement `files.aesgcm-receive`.
 *
 * @throws SealError `authentication-failed` when the tag does not verify; `truncated` below 16
 *   bytes; `too-large` above MAX_AESGCM_SIZE + 16; `invalid-length` for bad secrets.
 * @see spec §files.aesgcm
 */
export async function decryptAesgcm(ciphertext: Uint8Array, secrets: FileSecrets, provider: FileCipherProvider = nobleFileCipher): Promise<Uint8Array> {
  checkAesgcmSecrets(secrets);
  // @req files.aesgcm-receive: bounded, and nothing returned before the single tag verified.
  if (ciphertext.length > FILES_CONSTANTS.MAX_AESGCM_SIZE + 16) throw new SealError('too-large', `aesgcm download: ${ciphertext.length} bytes exceed MAX_AESGCM_SIZE`);
  if (ciphertext.length < 16) throw new SealError('truncated', `aesgcm download: ${ciphertext.length} bytes, shorter than the tag`);
  try {
    return await (await provider.importKey(secrets.key)).open(secrets.iv, ciphertext);
  } catch {
    throw new SealError('authentication-failed', 'aesgcm download: the tag does not verify');
  }
}
