/**
 * The real-server adapter: {@link XmppConnection} over @xmpp/client, so the same SealClient runs
 * against a real XMPP server (Prosody in CI) as against the embedded one. Node-specific; the only
 * part of src/net besides the embedded server that a browser bundle does not need, so
 * `src/net/index.ts` does not re-export it: import it as `xmpp-seal/net/real`.
 *
 * Nothing escapes it: a stanza handler's error is reported through `onError` and the next
 * handler and stanza still run; an iq's error answer becomes an {@link XmppError} with its type,
 * condition, application condition and text, which the PEP rules (`identity.pep-errors`) read.
 *
 * @see spec §offline
 * @see spec §identity.pep
 * @module
 */
import { client, xml as xmppXml } from '@xmpp/client';
import { DISCO_INFO_NS, type Element, Element as ElementClass, sameNamespaceChildren } from '../wire/xml.js';
import { STANZA_ERRORS_NS, type XmppConnection, XmppError, type XmppErrorType } from './connection.js';

/** The namespace of Seal's elements (the interactive handshake's `<interactive/>`). */
const SEAL_NS = 'urn:xmpp:seal:0';

/** Options of {@link connectToServer}. */
export interface RealServerOptions {
  /** e.g. `xmpp://127.0.0.1:5222` */
  readonly service: string;
  readonly domain: string;
  readonly username: string;
  readonly password: string;
  readonly resource: string;
  /**
   * Told of every error that would otherwise be lost: one a stanza handler threw or rejected
   * with (with that stanza), or one the connection emitted (without a stanza). Default: ignored.
   * What it throws is ignored too.
   */
  readonly onError?: (error: unknown, stanza?: Element) => void;
}

const ERROR_TYPES: readonly string[] = ['auth', 'cancel', 'continue', 'modify', 'wait'];

/** Whether `value` is an XML element, by shape: xmpp.js may hand out elements of ltx's CommonJS build. */
function isElement(value: unknown): value is Element {
  if (typeof value !== 'object' || value === null) return false;
  const shape = value as { name?: unknown; attrs?: unknown; children?: unknown; getChild?: unknown; getName?: unknown };
  return typeof shape.name === 'string' && typeof shape.attrs === 'object' && shape.attrs !== null && Array.isArray(shape.children) && typeof shape.getChild === 'function' && typeof shape.getName === 'function';
}

/** A short description of a non-stanza failure, for {@link XmppError.text}. */
function describe(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : typeof e === 'string' ? e : 'unknown failure';
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * Maps what @xmpp/client rejects with to the {@link XmppError} that {@link XmppConnection}
 * promises, keeping everything the answer said.
 *
 * - an {@link XmppError}: returned unchanged;
 * - an xmpp.js `StanzaError` (what `iqCaller.request` rejects with, built by
 *   `StanzaError.fromElement(<error/>)`): read from its `element`, the `<error/>` itself, exactly
 *   as the embedded server's answers are read ({@link XmppError.fromStanza}): type (`wait`
 *   included), defined condition, application condition (XEP-0060's `precondition-not-met`), text;
 * - an object with a `condition` string but no element (built by hand): its `type` (default
 *   `cancel`), `condition`, `application` (an element's name, or a string) and non-empty `text`;
 * - anything else (a timeout, a closed socket): `cancel`/`undefined-condition`, its name and
 *   message as the text and the original as `cause`.
 *
 * @param e - what a call into @xmpp/client threw or rejected with.
 * @returns the stanza error; never throws.
 * @see spec §identity.pep
 * @example
 * ```ts
 * try { await xmpp.iqCaller.request(iq) } catch (e) { throw xmppErrorOf(e) }
 * ```
 */
export function xmppErrorOf(e: unknown): XmppError {
  if (e instanceof XmppError) return e;
  if (typeof e === 'object' && e !== null) {
    const shaped = e as { element?: unknown; condition?: unknown; type?: unknown; application?: unknown; text?: unknown };
    const element = shaped.element;
    if (isElement(element)) {
      // @req identity.pep-errors: the `wait` type and the application condition survive, so the
      // publish rules can tell a node to reconfigure from a server asking to wait.
      const stanza = element.name === 'error' ? stanzaAround(element) : element;
      if (sameNamespaceChildren(stanza, 'error').length > 0) return XmppError.fromStanza(stanza);
    }
    if (typeof shaped.condition === 'string' && shaped.condition !== '') {
      const type = (typeof shaped.type === 'string' && ERROR_TYPES.includes(shaped.type) ? shaped.type : 'cancel') as XmppErrorType;
      const app = shaped.application;
      // xmpp.js takes the third child as the application condition even when it is the <text/>.
      const application = isElement(app) ? (app.getNS() === STANZA_ERRORS_NS ? undefined : app.getName()) : typeof app === 'string' && app !== '' ? app : undefined;
      const text = typeof shaped.text === 'string' && shaped.text !== '' ? shaped.text : undefined;
      return new XmppError(type, shaped.condition, application, text);
    }
  }
  const failure = new XmppError('cancel', 'undefined-condition', undefined, describe(e));
  failure.cause = e;
  return failure;
}

/** `element` rebuilt with xmpp.js's own element class (its ltx build may differ from this module's). */
function xmppElement(element: Element): Element {
  return xmppXml(element.name, { ...element.attrs }, ...element.children.map((c) => (typeof c === 'string' ? c : xmppElement(c)))) as unknown as Element;
}

/** An `<iq type='error'/>` holding `error` (not re-parented: the caller's element is not touched). */
function stanzaAround(error: Element): Element {
  const stanza = new ElementClass('iq', { type: 'error' });
  stanza.children.push(error);
  return stanza;
}

/**
 * Connects to a real server and resolves when the session is online (before initial presence:
 * offline messages arrive only after the caller sends `<presence/>`, as on the embedded server).
 *
 * Incoming messages and presences go to the handlers one after another, in order of arrival, as
 * on the embedded network; so do iq requests of the interactive handshake and disco#info queries
 * of this full JID (the handler's answer, sent with `send`, becomes xmpp.js's reply; xmpp.js
 * answers other requests `service-unavailable`), and the answers to iq requests made with `send`. A handler that throws or rejects is reported through
 * `options.onError`; the other handlers still get that stanza and later stanzas still arrive.
 * Every failure of `send` and `iq` is an {@link XmppError} (see {@link xmppErrorOf}); after
 * `close()` they reject with `cancel`/`service-unavailable`, as on the embedded server.
 *
 * @throws whatever @xmpp/client's `start()` rejects with (unreachable server, failed login).
 * @see spec §offline
 * @example
 * ```ts
 * const connection = await connectToServer({ service: 'xmpp://127.0.0.1:5222', domain: 'localhost', username: 'alice', password: 'pw', resource: 'laptop', onError: console.error });
 * ```
 */
export async function connectToServer(options: RealServerOptions): Promise<XmppConnection> {
  const report = (error: unknown, stanza?: Element): void => {
    try {
      options.onError?.(error, stanza);
    } catch {
      // The reporter's own failure has nowhere left to go.
    }
  };
  const xmpp = client({ service: options.service, domain: options.domain, username: options.username, password: options.password, resource: options.resource });
  const handlers: ((stanza: Element) => void | Promise<void>)[] = [];
  const deliver = async (stanza: Element): Promise<void> => {
    for (const handler of [...handlers]) {
      try {
        await handler(stanza);
      } catch (e) {
        report(e, stanza);
      }
    }
  };
  // Never rejects: `deliver` catches every handler's error, so one failing handler neither stops
  // the chain nor becomes an unhandled rejection.
  let chain = Promise.resolve();
  let closed = false;
  // The ids of iq requests made with send() (the interactive handshake's steps): their answers go to the handlers.
  const sentRequests = new Set<string>();
  // Requests handed to the handlers, waiting for the answer they send: xmpp.js's iq callee sends it.
  const answering = new Map<string, (answer: Element) => void>();
  const requestKey = (peer: unknown, id: unknown) => `${String(peer ?? '')} ${String(id ?? '')}`;
  xmpp.on('stanza', (stanza: Element) => {
    const type = stanza.attrs.type;
    const answer = stanza.name === 'iq' && (type === 'result' || type === 'error') && sentRequests.delete(String(stanza.attrs.id));
    if (stanza.name !== 'message' && stanza.name !== 'presence' && !answer) return;
    chain = chain.then(() => deliver(stanza));
  });
  // Without a route, xmpp.js answers every iq request service-unavailable itself; the Seal client
  // answers its own (the interactive handshake's steps, disco#info of this full JID): they are
  // handed to the handlers, and the answer they send is xmpp.js's reply.
  const callee = (ctx: { stanza: Element }): Promise<Element | boolean> =>
    new Promise((resolve) => {
      answering.set(requestKey(ctx.stanza.attrs.from, ctx.stanza.attrs.id), (answer) => {
        // xmpp.js tests its reply with instanceof against its own ltx build: rebuilt there.
        if (answer.attrs.type === 'error') resolve(xmppElement(sameNamespaceChildren(answer, 'error')[0] ?? new ElementClass('error', { type: 'cancel' })));
        const child = answer.children.find((c): c is Element => typeof c !== 'string');
        resolve(child === undefined ? true : xmppElement(child));
      });
      chain = chain.then(() => deliver(ctx.stanza));
    });
  xmpp.iqCallee.set(SEAL_NS, 'interactive', callee);
  xmpp.iqCallee.get(DISCO_INFO_NS, 'query', callee);
  xmpp.on('error', (e: unknown) => report(e));
  const address = await xmpp.start();
  const jid = address.toString();
  const checkOpen = (): void => {
    if (closed) throw new XmppError('cancel', 'service-unavailable', undefined, `${jid}: connection closed`);
  };
  return {
    jid,
    async send(stanza: Element) {
      checkOpen();
      const type = stanza.attrs.type;
      if (stanza.name === 'iq' && (type === 'result' || type === 'error')) {
        const key = requestKey(stanza.attrs.to, stanza.attrs.id);
        const reply = answering.get(key);
        answering.delete(key);
        // The answer to a request handed over by xmpp.js's iq callee: xmpp.js sends it (with the
        // request's from and id). Any other answer (one to a request held across a restart) is sent as it is.
        if (reply !== undefined) {
          reply(stanza);
          return;
        }
      }
      if (stanza.name === 'iq') sentRequests.add(String(stanza.attrs.id));
      try {
        await xmpp.send(stanza);
      } catch (e) {
        throw xmppErrorOf(e);
      }
    },
    async iq(request: Element) {
      checkOpen();
      try {
        return (await xmpp.iqCaller.request(request)) as Element;
      } catch (e) {
        throw xmppErrorOf(e);
      }
    },
    onStanza(handler) {
      handlers.push(handler);
    },
    async close() {
      if (closed) return;
      closed = true;
      await chain;
      await xmpp.stop();
    },
  };
}
