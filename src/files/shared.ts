/**
 * Files in sealed messages: the content elements a sender adds for a file (a XEP-0447/0448
 * descriptor, or an `aesgcm://` link with its XEP-0066 element), and the files a receiver reads
 * from a message's decrypted content, each checked against §files before it is offered, and a
 * typed refusal for each that fails. Nothing here does IO; the device engine applies it, and
 * `download.ts` fetches.
 *
 * @see spec §files.descriptor
 * @see spec §files.aesgcm
 * @module
 */
import { SealError, type SealErrorCode, isSealError } from '../errors.js';
import { FileSharingElement, type FileDescriptorValue, SFS_NS, oobElement } from '../wire/files.js';
import { CLIENT_NS, type Element, childElements, isNamed, xml } from '../wire/xml.js';
import { type AesgcmLink, parseAesgcmLink } from './aesgcm.js';
import { AES_256_GCM_CIPHER, FILES_CONSTANTS, SEAL_STREAM_CIPHER } from './constants.js';
import { FILE_NONCE_BYTES } from './stream.js';

/**
 * A file a sealed message offers, or why one could not be offered.
 *
 * - `stream`: a descriptor with Seal's stream cipher;
 * - `aes-256-gcm`: a descriptor with XEP-0448's AES-256-GCM (the whole file, its tag appended);
 * - `aesgcm-link`: an `aesgcm://` link (XEP-0454) as the message's body;
 * - `rejected`: a descriptor that failed §files.descriptor, with the error.
 *
 * @see spec §files.receive
 */
export type SharedFile =
  | { readonly kind: 'stream'; readonly descriptor: FileDescriptorValue }
  | { readonly kind: 'aes-256-gcm'; readonly descriptor: FileDescriptorValue }
  | { readonly kind: 'aesgcm-link'; readonly link: AesgcmLink }
  | { readonly kind: 'rejected'; readonly code: SealErrorCode; readonly message: string };

/** A file to attach to an outgoing message: a descriptor, or an `aesgcm://` link. @see spec §files.descriptor */
export type OutgoingFile = { readonly kind: 'descriptor'; readonly descriptor: FileDescriptorValue } | { readonly kind: 'aesgcm-link'; readonly link: string };

/**
 * Checks a descriptor beyond its schema: a cipher this version knows, with the IV length of that
 * cipher, and a source URL of scheme `https:` or `http:`.
 *
 * Implements requirement `files.descriptor-check`.
 *
 * @throws SealError `unknown-version` for another cipher; `invalid-length` for an IV of the wrong length.
 * @see spec §files.descriptor
 */
export function checkDescriptor(descriptor: FileDescriptorValue): 'stream' | 'aes-256-gcm' {
  // @req files.descriptor-check: a known cipher and its IV length; the schema bounded the rest.
  if (descriptor.cipher === SEAL_STREAM_CIPHER) {
    if (descriptor.iv.length !== FILE_NONCE_BYTES) throw new SealError('invalid-length', `<iv>: ${SEAL_STREAM_CIPHER} takes ${FILE_NONCE_BYTES} bytes, got ${descriptor.iv.length}`);
    return 'stream';
  }
  if (descriptor.cipher === AES_256_GCM_CIPHER) {
    if (descriptor.iv.length !== 12) throw new SealError('invalid-length', `<iv>: ${AES_256_GCM_CIPHER} takes 12 bytes, got ${descriptor.iv.length}`);
    if (descriptor.size > FILES_CONSTANTS.MAX_AESGCM_SIZE) throw new SealError('too-large', `an ${AES_256_GCM_CIPHER} file of ${descriptor.size} bytes exceeds MAX_AESGCM_SIZE`);
    return 'aes-256-gcm';
  }
  throw new SealError('unknown-version', `cipher ${descriptor.cipher} is not one this version of Seal defines`);
}

/**
 * The files a message's decrypted content offers: each `<file-sharing/>` child (at most
 * MAX_FILES_PER_MESSAGE), and a body that is exactly one `aesgcm://` link. Only the decrypted
 * content is read: a descriptor outside `<sealed/>` is never offered.
 *
 * Implements requirement `files.receive`.
 *
 * @see spec §files.receive
 */
export function readSharedFiles(content: readonly Element[]): SharedFile[] {
  const files: SharedFile[] = [];
  // @req files.receive: descriptors only from the sealed content, each checked, a bounded number.
  for (const element of content.filter((e) => isNamed(e, 'file-sharing', SFS_NS)).slice(0, FILES_CONSTANTS.MAX_FILES_PER_MESSAGE)) {
    try {
      const descriptor = FileSharingElement.fromXml(element);
      files.push({ kind: checkDescriptor(descriptor), descriptor });
    } catch (e) {
      if (!isSealError(e)) throw e;
      files.push({ kind: 'rejected', code: e.code, message: e.message });
    }
  }
  // The message's body: a <body xmlns='jabber:client'/>, as §envelope.content writes it.
  const body = content.find((e) => isNamed(e, 'body', CLIENT_NS));
  const text = body === undefined || childElements(body).length > 0 ? undefined : body.getText().trim();
  if (text !== undefined && /^aesgcm:\/\/\S+$/.test(text)) {
    try {
      files.push({ kind: 'aesgcm-link', link: parseAesgcmLink(text) });
    } catch (e) {
      if (!isSealError(e)) throw e;
      files.push({ kind: 'rejected', code: e.code, message: e.message });
    }
  }
  return files;
}

/**
 * The content elements that carry `file` in a message: the descriptor (checked) followed by a
 * `<body/>` with `text` for clients that do not read descriptors; or, for an `aesgcm://` link,
 * the link as the whole body and the XEP-0066 element with the same link (XEP-0454).
 *
 * Implements requirement `files.send`.
 *
 * @throws SealError from the descriptor's schema and {@link checkDescriptor}; `schema-violation` for a link that does not parse.
 * @see spec §files.descriptor
 */
export function fileContent(file: OutgoingFile, text?: string): Element[] {
  // @req files.send: the descriptor (or link) goes into the sealed content, never beside it.
  if (file.kind === 'aesgcm-link') {
    parseAesgcmLink(file.link);
    return [xml('body', {}, [file.link]), oobElement(file.link)];
  }
  checkDescriptor(file.descriptor);
  const element = FileSharingElement.toXml(file.descriptor);
  return text === undefined ? [element] : [element, xml('body', {}, [text])];
}
