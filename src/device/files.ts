/**
 * §files in the device engine: a `send` or `send-room` input may carry files, which the engine
 * puts into the sealed content (never beside it), and every `opened` event lists the files its
 * decrypted content offers, each checked, or refused with its error.
 *
 * @see spec §files.descriptor
 * @see spec §files.receive
 * @module
 */
import { SealError } from '../errors.js';
import { type OutgoingFile, type SharedFile, fileContent, readSharedFiles } from '../files/shared.js';
import { FILES_CONSTANTS } from '../files/constants.js';
import { CLIENT_NS, type Element } from '../wire/xml.js';

/**
 * The content of a message with `files` attached: the caller's elements, then each file's.
 *
 * Implements requirement `files.send`.
 *
 * @throws SealError `length-out-of-range` for more than MAX_FILES_PER_MESSAGE files;
 *   `schema-violation` for an `aesgcm://` link beside another body or file (XEP-0454: the link is
 *   the whole body); the errors of `fileContent` for a descriptor that fails its checks.
 * @see spec §files.descriptor
 */
export function contentWithFiles(content: readonly Element[], files: readonly OutgoingFile[] | undefined): readonly Element[] {
  if (files === undefined || files.length === 0) return content;
  if (files.length > FILES_CONSTANTS.MAX_FILES_PER_MESSAGE) throw new SealError('length-out-of-range', `${files.length} files in one message; at most ${FILES_CONSTANTS.MAX_FILES_PER_MESSAGE}`);
  const links = files.filter((f) => f.kind === 'aesgcm-link');
  // A body the caller built for the stanza (no namespace of its own) or in jabber:client (envelope.content-bytes).
  const hasBody = content.some((e) => e.getName() === 'body' && (e.getNS() === undefined || e.getNS() === CLIENT_NS));
  if (links.length > 0 && (files.length > 1 || hasBody)) throw new SealError('schema-violation', 'an aesgcm:// link is the whole body of its message: send it alone');
  // @req files.send: the engine seals descriptors and links as content, checked first.
  return [...content, ...files.flatMap((f) => fileContent(f))];
}

/**
 * The files an opened message's content offers (`opened.files`).
 *
 * Implements requirement `files.receive`.
 *
 * @see spec §files.receive
 */
export function openedFiles(content: readonly Element[]): readonly SharedFile[] {
  // @req files.receive: read from the decrypted content only.
  return readSharedFiles(content);
}
