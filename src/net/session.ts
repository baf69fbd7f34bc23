/**
 * A client's session on the embedded server: the {@link XmppConnection} object a client holds.
 * It stamps `from` on what the client sends (RFC 6120 §8.1.2.1), enforces the stanza size limit,
 * hands stanzas to the server, and receives what the network delivers.
 *
 * @see spec §offline
 * @module
 */
import { type Element, MAX_XML_CHARS } from '../wire/xml.js';
import { XmppError, type XmppConnection } from './connection.js';
import type { NetworkEndpoint } from './network.js';
import { cloneElement, splitJid } from './stanzas.js';

/** What a session asks of the server. @internal */
export interface Router {
  stanza(session: Session, stanza: Element): void;
  /** The server's answer to `iq`, or `undefined` when it routed `iq` to another client, whose answer comes through the network. */
  iq(session: Session, iq: Element): Element | undefined;
  closed(session: Session): void;
  observe(session: Session, direction: 'to-server' | 'to-client', stanza: Element): void;
}

/** A client's session: the connection object handed to the client. @internal Created by the embedded server. */
export class Session implements XmppConnection, NetworkEndpoint {
  readonly jid: string;
  readonly bare: string;
  readonly resource: string;
  /** Sent an available presence and not since an unavailable one. */
  available = false;
  priority = 0;
  carbons = false;
  /** The last available presence (without `to`). */
  presence: Element | undefined;
  #open = true;
  readonly #handlers: Array<(stanza: Element) => void | Promise<void>> = [];
  readonly #router: Router;
  #iqCounter = 0;
  /** Requests routed to other clients, by id, waiting for their answer. */
  readonly #pending = new Map<string, { readonly to: string; readonly resolve: (answer: Element) => void; readonly reject: (error: XmppError) => void }>();

  constructor(jid: string, router: Router) {
    const split = splitJid(jid);
    this.jid = jid;
    this.bare = split.bare;
    this.resource = split.resource ?? '';
    this.#router = router;
  }

  isOpen(): boolean {
    return this.#open;
  }

  async send(stanza: Element): Promise<void> {
    this.#checkOpen();
    if (stanza.name !== 'message' && stanza.name !== 'presence' && stanza.name !== 'iq') throw new XmppError('modify', 'bad-request', undefined, `send: expected <message/>, <presence/> or <iq/>, got <${stanza.name}/>`);
    if (stanza.name === 'iq' && !['get', 'set', 'result', 'error'].includes(String(stanza.attrs.type)) ) throw new XmppError('modify', 'bad-request', undefined, "send: an <iq/> needs type get, set, result or error");
    const copy = this.#stamp(stanza);
    this.#router.stanza(this, copy);
  }

  async iq(request: Element): Promise<Element> {
    this.#checkOpen();
    const type = request.attrs.type as unknown;
    if (request.name !== 'iq' || (type !== 'get' && type !== 'set')) throw new XmppError('modify', 'bad-request', undefined, "iq: expected <iq type='get'|'set'/>");
    const copy = this.#stamp(request);
    if (typeof copy.attrs.id !== 'string' || copy.attrs.id === '') {
      this.#iqCounter += 1;
      copy.attrs.id = `${this.resource}-iq-${this.#iqCounter}`;
    }
    const id = String(copy.attrs.id);
    // Registered first: the answer of a routed request arrives through the network, later.
    const answered = new Promise<Element>((resolve, reject) => this.#pending.set(id, { to: String(copy.attrs.to ?? ''), resolve, reject }));
    const response = this.#router.iq(this, copy);
    if (response === undefined) {
      const answer = await answered;
      if (answer.attrs.type === 'error') throw XmppError.fromStanza(answer);
      return answer;
    }
    this.#pending.delete(id);
    this.#router.observe(this, 'to-client', response);
    if (response.attrs.type === 'error') throw XmppError.fromStanza(response);
    return response;
  }

  onStanza(handler: (stanza: Element) => void | Promise<void>): void {
    this.#handlers.push(handler);
  }

  async close(): Promise<void> {
    this.end();
  }

  /** Ends the session (idempotent). */
  end(): void {
    if (!this.#open) return;
    this.#open = false;
    for (const pending of this.#pending.values()) pending.reject(new XmppError('cancel', 'service-unavailable', undefined, `${this.jid}: connection closed`));
    this.#pending.clear();
    this.#router.closed(this);
  }

  async deliver(stanza: Element): Promise<void> {
    // The answer to a request of iq(): for the caller, not the handlers.
    const type = stanza.attrs.type;
    const pending = stanza.name === 'iq' && (type === 'result' || type === 'error') ? this.#pending.get(String(stanza.attrs.id)) : undefined;
    if (pending !== undefined && String(stanza.attrs.from ?? '') === pending.to) {
      this.#pending.delete(String(stanza.attrs.id));
      pending.resolve(stanza);
      return;
    }
    for (const handler of this.#handlers) await handler(stanza);
  }

  #checkOpen(): void {
    if (!this.#open) throw new XmppError('cancel', 'service-unavailable', undefined, `${this.jid}: connection closed`);
  }

  /** A copy with `from` set to this session (RFC 6120 §8.1.2.1), after the size check. */
  #stamp(stanza: Element): Element {
    const copy = cloneElement(stanza);
    copy.attrs.from = this.jid;
    this.#router.observe(this, 'to-server', copy);
    // Prosody closes the stream of a client that sends a stanza above its limit.
    if (copy.toString().length > MAX_XML_CHARS) {
      this.end();
      throw new XmppError('modify', 'policy-violation', undefined, `stanza larger than ${MAX_XML_CHARS} characters`);
    }
    return copy;
  }
}

