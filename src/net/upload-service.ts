/**
 * The embedded server's HTTP File Upload service (XEP-0363), in memory: it answers slot requests
 * to its domain and serves the PUTs and GETs of its slots through a `fetch`-shaped function, so
 * tests and the demo upload and download without sockets. Like a real service it sees only what
 * Seal gives it (ciphertext, its size, the uploader, the time) and it can be made to lie: tests
 * replace or alter stored uploads through {@link UploadService.objects}.
 *
 * @see spec §files.upload
 * @module
 */
import { concatBytes, toHex } from '../codec/bytes.js';
import type { Rng } from '../suite/rng.js';
import { type Element, xml } from '../wire/xml.js';
import { XmppError } from './connection.js';
import { HTTP_UPLOAD_NS, type HttpFetch, type HttpResponse } from './upload.js';

/** Options of {@link UploadService}. */
export interface UploadServiceOptions {
  /** Base of the slot URLs; default `https://<domain>/upload/`. A test that serves uploads over real HTTP sets its own. */
  readonly baseUrl?: string;
  /** Largest upload, in bytes (Prosody's default `http_file_share_size_limit` is 10 MiB). */
  readonly maxSize?: number;
  readonly rng: Rng;
}

function response(status: number, body?: Uint8Array): HttpResponse {
  const bytes = body ?? new Uint8Array(0);
  return {
    ok: status >= 200 && status < 300,
    status,
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        // Served in pieces, as a network would.
        for (let i = 0; i < bytes.length; i += 16384) controller.enqueue(bytes.slice(i, i + 16384));
        controller.close();
      },
    }),
    arrayBuffer: async () => bytes.slice().buffer,
  };
}

/**
 * An in-memory XEP-0363 service.
 *
 * @see spec §files.upload
 */
export class UploadService {
  /** The service's JID (a domain). */
  readonly domain: string;
  /** Stored uploads by GET URL; tests may replace them. */
  readonly objects = new Map<string, Uint8Array>();
  /** Every slot request the service received: what it learns about uploads. */
  readonly requests: { from: string; filename: string; size: number; contentType: string | undefined }[] = [];
  readonly #baseUrl: string;
  readonly #maxSize: number;
  readonly #rng: Rng;
  readonly #slots = new Map<string, { token: string; size: number; get: string }>();

  constructor(domain: string, options: UploadServiceOptions) {
    this.domain = domain;
    this.#baseUrl = options.baseUrl ?? `https://${domain}/upload/`;
    this.#maxSize = options.maxSize ?? 10 * 1024 * 1024;
    this.#rng = options.rng;
  }

  /** Whether `to` is this service. */
  handles(to: string): boolean {
    return to === this.domain;
  }

  /** Answers a slot request. @throws XmppError `not-acceptable` for a file too large, `bad-request` for anything else. */
  iq(from: string, type: 'get' | 'set', payload: Element): Element[] {
    if (type !== 'get' || payload.getName() !== 'request' || payload.getNS() !== HTTP_UPLOAD_NS) throw new XmppError('cancel', 'feature-not-implemented');
    const filename = String(payload.attrs.filename ?? '');
    const sizeText = String(payload.attrs.size ?? '');
    if (filename === '' || !/^[0-9]{1,15}$/.test(sizeText)) throw new XmppError('modify', 'bad-request', undefined, 'filename and size are required');
    const size = Number(sizeText);
    if (size > this.#maxSize) throw new XmppError('modify', 'not-acceptable', undefined, `file too large; the maximum is ${this.#maxSize} bytes`);
    this.requests.push({ from, filename, size, contentType: payload.attrs['content-type'] as string | undefined });
    const id = toHex(this.#rng(12));
    const token = toHex(this.#rng(16));
    const url = `${this.#baseUrl}${id}/${encodeURIComponent(filename)}`;
    this.#slots.set(url, { token, size, get: url });
    return [xml('slot', { xmlns: HTTP_UPLOAD_NS }, [xml('put', { url }, [xml('header', { name: 'Authorization' }, [`Bearer ${token}`])]), xml('get', { url })])];
  }

  /** The service's HTTP side: PUT with the slot's Authorization header and exactly its size, GET of stored uploads. */
  readonly fetch: HttpFetch = async (url, init) => {
    if (init.method === 'GET') {
      const stored = this.objects.get(url);
      return stored === undefined ? response(404) : response(200, stored);
    }
    const slot = this.#slots.get(url);
    const auth = Object.entries(init.headers ?? {}).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
    if (slot === undefined || auth !== `Bearer ${slot.token}`) return response(403);
    const body = init.body;
    let bytes: Uint8Array;
    if (body === undefined) bytes = new Uint8Array(0);
    else if (body instanceof Uint8Array) bytes = body.slice();
    else {
      const parts: Uint8Array[] = [];
      let length = 0;
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        length += value.length;
        if (length > slot.size) return response(413);
        parts.push(value);
      }
      bytes = concatBytes(...parts);
    }
    if (bytes.length !== slot.size) return response(400);
    this.#slots.delete(url);
    this.objects.set(slot.get, bytes);
    return response(201);
  };
}
