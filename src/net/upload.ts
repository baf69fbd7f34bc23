/**
 * HTTP File Upload (XEP-0363) and the download of shared files, as §files uses them: ask the
 * upload service for a slot (an iq through the {@link XmppConnection}), PUT the ciphertext with
 * exactly the headers the slot allows, GET it back. HTTP goes through an injected `fetch` (the
 * platform's by default), so this file is browser-safe and the embedded server can serve uploads
 * from memory. Only ciphertext passes through here; the slot request names a random file name and
 * `application/octet-stream`, never the file's own (files.upload-privacy).
 *
 * @see spec §files.upload
 * @module
 */
import { SealError } from '../errors.js';
import type { Rng } from '../suite/rng.js';
import { type FileCipherProvider, nobleFileCipher } from '../files/cipher.js';
import { type SharedFile } from '../files/shared.js';
import { collectBytes } from '../files/stream.js';
import { downloadUrl, openSharedFile, openFileStream } from '../files/seal-file.js';
import { type Element, childrenNamed, onlyChild, requiredAttr, xml } from '../wire/xml.js';
import { toHex } from '../codec/bytes.js';
import type { XmppConnection } from './connection.js';

/** Namespace of XEP-0363 (HTTP File Upload), version 0.3 and later. */
export const HTTP_UPLOAD_NS = 'urn:xmpp:http:upload:0';

/** The headers XEP-0363 §5 lets a slot ask for; any other is dropped. */
const SLOT_HEADERS = ['authorization', 'cookie', 'expires'];

/** A response as {@link HttpFetch} returns it (the subset of the Fetch API's `Response` used here). */
export interface HttpResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly body: ReadableStream<Uint8Array> | null;
  /** The whole body, for a response without a stream. */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** The Fetch API's `fetch`, or anything that answers the same requests (the embedded upload service). */
export type HttpFetch = (url: string, init: { method: 'PUT' | 'GET'; headers?: Record<string, string>; body?: Uint8Array | ReadableStream<Uint8Array>; duplex?: 'half' }) => Promise<HttpResponse>;

/** An upload slot: where to PUT, with which headers, and the URL to GET. @see spec §files.upload */
export interface UploadSlot {
  readonly put: string;
  readonly get: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * `<request xmlns='urn:xmpp:http:upload:0' filename size content-type/>` in an iq get to `service`.
 *
 * @see spec §files.upload
 */
export function slotRequestIq(service: string, filename: string, size: number): Element {
  return xml('iq', { type: 'get', to: service }, [xml('request', { xmlns: HTTP_UPLOAD_NS, filename, size: String(size), 'content-type': 'application/octet-stream' })]);
}

/**
 * Reads a slot: one `<put url/>` and one `<get url/>`, both `https:` or `http:`; of the PUT's
 * headers only Authorization, Cookie and Expires, with line breaks removed (XEP-0363 §5).
 *
 * @throws SealError `schema-violation` for any other answer.
 * @see spec §files.upload
 */
export function readSlot(result: Element): UploadSlot {
  const slot = onlyChild(result, 'slot', HTTP_UPLOAD_NS);
  const put = onlyChild(slot, 'put', HTTP_UPLOAD_NS);
  const get = onlyChild(slot, 'get', HTTP_UPLOAD_NS);
  const url = (e: Element) => {
    const u = requiredAttr(e, 'url');
    if (!/^https?:\/\/[^\s#]+$/.test(u) || u.length > 2048) throw new SealError('schema-violation', `upload slot: not an http(s) URL: ${u.slice(0, 80)}`);
    return u;
  };
  const headers: Record<string, string> = {};
  for (const header of childrenNamed(put, 'header', HTTP_UPLOAD_NS)) {
    const name = String(header.attrs.name ?? '').toLowerCase();
    if (SLOT_HEADERS.includes(name)) headers[name] = header.getText().replace(/[\r\n]/g, '');
  }
  return { put: url(put), get: url(get), headers };
}

/** Options of {@link HttpUpload}. */
export interface HttpUploadOptions {
  readonly connection: XmppConnection;
  /** The upload service's JID (found by disco#items on the account's domain; e.g. `upload.example.org`). */
  readonly service: string;
  /** HTTP; default `globalThis.fetch`. */
  readonly fetch?: HttpFetch;
  /** Randomness for the slot's file name. */
  readonly rng: Rng;
  /**
   * Stream the PUT's body instead of collecting the ciphertext first (default false). Node's
   * fetch streams over HTTP/1.1; browsers stream request bodies only over HTTP/2, so a page
   * leaves this off (the ciphertext of the file is then held once, in memory).
   */
  readonly streaming?: boolean;
}

/**
 * An account's HTTP upload service, and downloads of shared files.
 *
 * @see spec §files.upload
 */
export class HttpUpload {
  readonly #connection: XmppConnection;
  readonly #service: string;
  readonly #fetch: HttpFetch;
  readonly #rng: Rng;
  readonly #streaming: boolean;

  constructor(options: HttpUploadOptions) {
    this.#streaming = options.streaming ?? false;
    this.#connection = options.connection;
    this.#service = options.service;
    // Called as a plain function: browsers refuse `fetch` called on another object.
    this.#fetch = options.fetch ?? (((url, init) => globalThis.fetch(url, init as RequestInit)) as HttpFetch);
    this.#rng = options.rng;
  }

  /**
   * Uploads `size` bytes of ciphertext and returns the URL to GET them from.
   *
   * Implements requirement `files.upload-privacy`.
   *
   * @throws XmppError when the service refuses the slot (e.g. `not-acceptable` for a file too large); SealError `invalid-state` when the PUT fails.
   * @see spec §files.upload
   */
  async upload(ciphertext: Uint8Array | AsyncIterable<Uint8Array>, size: number): Promise<string> {
    // @req files.upload-privacy: a random name and a generic media type; the service learns the size only.
    const filename = `${toHex(this.#rng(16))}.bin`;
    const slot = readSlot(await this.#connection.iq(slotRequestIq(this.#service, filename, size)));
    const body = ciphertext instanceof Uint8Array ? ciphertext : this.#streaming ? toStream(ciphertext) : await collectBytes(ciphertext);
    const response = await this.#fetch(slot.put, { method: 'PUT', headers: { ...slot.headers, 'content-type': 'application/octet-stream', 'content-length': String(size) }, body, ...(body instanceof Uint8Array ? {} : { duplex: 'half' as const }) });
    if (!response.ok) throw new SealError('invalid-state', `upload: PUT answered ${response.status}`);
    return slot.get;
  }

  /**
   * Downloads and opens a shared file, returning it only when every check of §files.receive
   * passed. The download stops as soon as it is longer than the descriptor implies.
   *
   * @throws SealError as `openSharedFile`; `invalid-state` when the GET fails.
   * @see spec §files.receive
   */
  async download(file: SharedFile, provider: FileCipherProvider = nobleFileCipher): Promise<Uint8Array> {
    return openSharedFile(await this.#get(file), file, provider);
  }

  /**
   * Downloads and opens a Seal stream-cipher file chunk by chunk (bounded memory). The consumer
   * MUST discard what it received if the iteration throws.
   *
   * @see spec §files.receive
   */
  async *downloadStream(file: Extract<SharedFile, { kind: 'stream' | 'aes-256-gcm' }>, provider: FileCipherProvider = nobleFileCipher): AsyncGenerator<Uint8Array> {
    yield* openFileStream(await this.#get(file), file, provider);
  }

  async #get(file: SharedFile): Promise<ReadableStream<Uint8Array> | Uint8Array> {
    const url = downloadUrl(file);
    const response = await this.#fetch(url, { method: 'GET' });
    if (!response.ok) throw new SealError('invalid-state', `download: GET answered ${response.status}`);
    return response.body ?? new Uint8Array(await response.arrayBuffer());
  }
}

function toStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (e) {
        controller.error(e);
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
