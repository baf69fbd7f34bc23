/**
 * The file descriptor of §files: a XEP-0447 `<file-sharing/>` element whose sources hold one
 * XEP-0448 `<encrypted/>` source (cipher, key, IV, hash of the ciphertext, and the upload's URL
 * as its own source), with the XEP-0446 `<file/>` metadata of the plaintext (media type, name,
 * size, SHA-256 hash, optional description and inline thumbnail). It travels only inside sealed
 * content. One encoder/decoder pair; reading is bounded and strict about what Seal relies on, and
 * ignores what it does not use (other hash algorithms, other sources).
 *
 * @see spec §files.descriptor
 * @module
 */
import * as z from 'zod/mini';
import { SealError } from '../errors.js';
import { defineElement } from './element.js';
import { base64, bytesOf, bytesWithin } from './fields.js';
import { type Element, binaryText, childElements, childrenNamed, onlyChild, optionalAttr, requiredAttr, xml } from './xml.js';

/** Namespace of XEP-0447 (Stateless file sharing). */
export const SFS_NS = 'urn:xmpp:sfs:0';
/** Namespace of XEP-0448 (Encryption for stateless file sharing). */
export const ESFS_NS = 'urn:xmpp:esfs:0';
/** Namespace of XEP-0446 (File metadata element). */
export const FILE_METADATA_NS = 'urn:xmpp:file:metadata:0';
/** Namespace of XEP-0300 (Use of Cryptographic Hash Functions in XMPP). */
export const HASHES_NS = 'urn:xmpp:hashes:2';
/** Namespace of XEP-0103 (URL Address Information). */
export const URL_DATA_NS = 'http://jabber.org/protocol/url-data';
/** Namespace of XEP-0264 (Jingle Content Thumbnails). */
export const THUMBS_NS = 'urn:xmpp:thumbs:1';
/** Namespace of XEP-0066 (Out of Band Data), as `aesgcm://` messages use it. */
export const OOB_NS = 'jabber:x:oob';

/** Bounds of the descriptor's fields (the §files.constants table states them). @see spec §files.constants */
export const FILE_DESCRIPTOR_LIMITS = {
  /** Longest file name, media type, description or source URL, in characters. */
  MAX_FILE_FIELD_CHARS: 2048,
  /** Longest inline thumbnail, in characters of its `data:` URI. */
  MAX_THUMBNAIL_CHARS: 16384,
  /** Largest file, in plaintext bytes (64 GiB). */
  MAX_FILE_SIZE: 68719476736,
} as const;

const { MAX_FILE_FIELD_CHARS, MAX_THUMBNAIL_CHARS, MAX_FILE_SIZE } = FILE_DESCRIPTOR_LIMITS;

/** Text of 1..max characters without C0 controls (with `lines`: tab and line feed aside), DEL or C1 controls. */
function text(max: number, lines = false) {
  const controls = lines ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/ : /[\u0000-\u001f\u007f-\u009f]/;
  return z.string().check(z.minLength(1), z.maxLength(max), z.refine((s) => !controls.test(s), { message: 'control characters' }));
}

/** The value of a file descriptor. @see spec §files.descriptor */
export const FileDescriptorSchema = z.object({
  /** XEP-0446 `<media-type/>`, a `type/subtype` (parameters allowed). */
  mediaType: z.string().check(z.maxLength(255), z.regex(/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;.*)?$/)),
  /** XEP-0446 `<name/>`: the file's name as the sender chose it (a receiver sanitises it before it names a file). */
  name: text(MAX_FILE_FIELD_CHARS),
  /** Plaintext size in bytes. */
  size: z.int().check(z.gte(0), z.lte(MAX_FILE_SIZE)),
  /** SHA-256 of the plaintext (XEP-0300 `sha-256`). */
  hash: bytesOf(32),
  /** XEP-0446 `<desc/>`. */
  desc: z.optional(text(MAX_FILE_FIELD_CHARS, true)),
  /** An inline thumbnail (XEP-0264 element, `data:` URI only). */
  // @req files.thumbnail: inline only; a URL would be fetched in the clear.
  thumbnail: z.optional(z.object({
    uri: z.string().check(z.maxLength(MAX_THUMBNAIL_CHARS), z.regex(/^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+/]*={0,2}$/)),
    width: z.int().check(z.gte(1), z.lte(65535)),
    height: z.int().check(z.gte(1), z.lte(65535)),
  })),
  /** The cipher's namespace (XEP-0448 `cipher`). */
  cipher: z.string().check(z.minLength(1), z.maxLength(255)),
  /** The file key. */
  key: bytesOf(32),
  /** The IV (16 bytes for Seal's stream cipher, 12 for AES-256-GCM). */
  iv: bytesWithin(12, 16),
  /** SHA-256 of the ciphertext as uploaded. */
  encryptedHash: bytesOf(32),
  /** Where the ciphertext is downloaded from (`https:`, or `http:`). */
  url: z.string().check(z.maxLength(MAX_FILE_FIELD_CHARS), z.regex(/^https?:\/\/[^\s#]+$/)),
});
/** A file descriptor. */
export type FileDescriptorValue = z.infer<typeof FileDescriptorSchema>;

function hashElement(hash: Uint8Array): Element {
  return xml('hash', { xmlns: HASHES_NS, algo: 'sha-256' }, [base64(hash)]);
}

/** The one `sha-256` hash among `parent`'s XEP-0300 hashes (others ignored). */
function sha256Of(parent: Element): Uint8Array {
  const hashes = childrenNamed(parent, 'hash', HASHES_NS).filter((h) => optionalAttr(h, 'algo') === 'sha-256');
  if (hashes.length !== 1) throw new SealError('schema-violation', `<${parent.name}>: expected one sha-256 <hash/>, got ${hashes.length}`);
  return binaryText(hashes[0]!, 33);
}

/** The text of the single child `<name/>` in `ns`, or undefined. */
function childText(parent: Element, name: string, ns: string, required: boolean): string | undefined {
  const found = childrenNamed(parent, name, ns);
  if (found.length > 1 || (required && found.length === 0)) throw new SealError('schema-violation', `<${parent.name}>: expected ${required ? 'one' : 'at most one'} <${name}/>`);
  if (found.length === 0) return undefined;
  if (childElements(found[0]!).length > 0) throw new SealError('schema-violation', `<${name}>: expected text only`);
  return found[0]!.getText();
}

function decimal(value: string | undefined, what: string): number {
  if (value === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(value)) throw new SealError('schema-violation', `${what}: expected a canonical decimal integer`);
  return Number(value);
}

/**
 * `<file-sharing xmlns='urn:xmpp:sfs:0'>` with `<file/>` metadata and one `<encrypted/>` source,
 * written in the order and form of §files.descriptor.
 *
 * @see spec §files.descriptor
 */
export const FileSharingElement = defineElement<FileDescriptorValue>({
  name: 'file-sharing',
  ns: SFS_NS,
  schema: FileDescriptorSchema,
  write: (v) =>
    xml('file-sharing', { xmlns: SFS_NS }, [
      xml('file', { xmlns: FILE_METADATA_NS }, [
        xml('media-type', {}, [v.mediaType]),
        xml('name', {}, [v.name]),
        xml('size', {}, [String(v.size)]),
        hashElement(v.hash),
        ...(v.desc === undefined ? [] : [xml('desc', {}, [v.desc])]),
        ...(v.thumbnail === undefined ? [] : [xml('thumbnail', { xmlns: THUMBS_NS, uri: v.thumbnail.uri, 'media-type': /^data:([^;]+);/.exec(v.thumbnail.uri)![1]!, width: String(v.thumbnail.width), height: String(v.thumbnail.height) })]),
      ]),
      xml('sources', {}, [
        xml('encrypted', { xmlns: ESFS_NS, cipher: v.cipher }, [
          xml('key', {}, [base64(v.key)]),
          xml('iv', {}, [base64(v.iv)]),
          hashElement(v.encryptedHash),
          xml('sources', { xmlns: SFS_NS }, [xml('url-data', { xmlns: URL_DATA_NS, target: v.url })]),
        ]),
      ]),
    ]),
  read: (element) => {
    const file = onlyChild(element, 'file', FILE_METADATA_NS);
    const sources = onlyChild(element, 'sources', SFS_NS);
    const encrypted = onlyChild(sources, 'encrypted', ESFS_NS);
    const inner = onlyChild(encrypted, 'sources', SFS_NS);
    const urls = childrenNamed(inner, 'url-data', URL_DATA_NS);
    if (urls.length === 0) throw new SealError('schema-violation', '<encrypted>: no <url-data/> source');
    const thumbs = childrenNamed(file, 'thumbnail', THUMBS_NS);
    if (thumbs.length > 1) throw new SealError('schema-violation', '<file>: more than one <thumbnail/>');
    const desc = childText(file, 'desc', FILE_METADATA_NS, false);
    const thumb = thumbs[0];
    return {
      mediaType: childText(file, 'media-type', FILE_METADATA_NS, true),
      name: childText(file, 'name', FILE_METADATA_NS, true),
      size: decimal(childText(file, 'size', FILE_METADATA_NS, true), '<size>'),
      hash: sha256Of(file),
      ...(desc === undefined ? {} : { desc }),
      ...(thumb === undefined ? {} : { thumbnail: { uri: requiredAttr(thumb, 'uri'), width: decimal(optionalAttr(thumb, 'width'), '<thumbnail width>'), height: decimal(optionalAttr(thumb, 'height'), '<thumbnail height>') } }),
      cipher: requiredAttr(encrypted, 'cipher'),
      key: binaryText(onlyChild(encrypted, 'key', ESFS_NS), 33),
      iv: binaryText(onlyChild(encrypted, 'iv', ESFS_NS), 17),
      encryptedHash: sha256Of(encrypted),
      url: requiredAttr(urls[0]!, 'target'),
    };
  },
});

/** `<x xmlns='jabber:x:oob'><url>…</url></x>` (XEP-0066), which accompanies an `aesgcm://` link in the body. @see spec §files.aesgcm */
export function oobElement(url: string): Element {
  return xml('x', { xmlns: OOB_NS }, [xml('url', {}, [url])]);
}
