/**
 * The client side of an XMPP connection as Seal uses it: send messages and presences, make iq
 * requests, receive messages and presences. The embedded server ({@link EmbeddedServer}) and a
 * real-server adapter implement the same interface, so the Seal client runs unchanged on both.
 *
 * XMPP stanza errors (RFC 6120 §8.3) are reported as {@link XmppError}, never as a SealError:
 * they are the server's or the peer's answer, not a failure of Seal's own checks.
 *
 * @see spec §offline
 * @see spec §identity.pep
 * @module
 */
import { STANZA_ERRORS_NS, type Element, childElements, sameNamespaceChildren, xml } from '../wire/xml.js';

/** Namespace of RFC 6120 stanza error conditions (re-exported for clients of this module). */
export { STANZA_ERRORS_NS };

/** The error types of RFC 6120 §8.3.2. */
export type XmppErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

const ERROR_TYPES: readonly string[] = ['auth', 'cancel', 'continue', 'modify', 'wait'];

/**
 * A stanza error (RFC 6120 §8.3): an iq answered with `type='error'`, or a stanza the connection
 * refused to send.
 *
 * `condition` is the defined condition (`item-not-found`, `forbidden`, `bad-request`,
 * `conflict`, …); `application` the application-specific condition when present, such as
 * XEP-0060's `precondition-not-met` next to `conflict`; `text` the optional human-readable text.
 *
 * @see spec §identity.pep
 * @example
 * ```ts
 * try { await conn.iq(retrieveIq('r1', 'bob@example.org', DEVICE_LIST_NODE, 'current')) }
 * catch (e) { if (e instanceof XmppError && e.condition === 'item-not-found') { ... } }
 * ```
 */
export class XmppError extends Error {
  override readonly name = 'XmppError';
  /** The error type (how the sender should react). */
  readonly type: XmppErrorType;
  /** The RFC 6120 defined condition, e.g. `item-not-found`. */
  readonly condition: string;
  /** The application-specific condition, e.g. `precondition-not-met`, when the error carries one. */
  readonly application: string | undefined;
  /** The error's text, when the error carries one. */
  readonly text: string | undefined;

  constructor(type: XmppErrorType, condition: string, application?: string, text?: string) {
    super(`${type}/${condition}${application === undefined ? '' : ` (${application})`}${text === undefined ? '' : `: ${text}`}`);
    this.type = type;
    this.condition = condition;
    this.application = application;
    this.text = text;
  }

  /**
   * Reads the `<error/>` child of an error stanza. A missing or unreadable error element reads as
   * `cancel`/`undefined-condition`, as RFC 6120 §8.3.2 prescribes for unknown conditions.
   */
  static fromStanza(stanza: Element): XmppError {
    const error = sameNamespaceChildren(stanza, 'error')[0];
    if (!error) return new XmppError('cancel', 'undefined-condition');
    const rawType = String(error.attrs.type ?? '');
    const type = (ERROR_TYPES.includes(rawType) ? rawType : 'cancel') as XmppErrorType;
    let condition = 'undefined-condition';
    let application: string | undefined;
    let text: string | undefined;
    for (const child of childElements(error)) {
      if (child.getNS() === STANZA_ERRORS_NS) {
        if (child.getName() === 'text') text = child.getText();
        else condition = child.getName();
      } else if (application === undefined) {
        application = child.getName();
      }
    }
    return new XmppError(type, condition, application, text);
  }

  /** This error as an `<error/>` element (RFC 6120 §8.3.2). */
  toElement(): Element {
    return errorElement(this.type, this.condition, this.application === undefined ? undefined : { name: this.application, ns: APPLICATION_NS[this.application] ?? STANZA_ERRORS_NS }, this.text);
  }
}

/** Namespaces of the application-specific conditions this module produces. */
const APPLICATION_NS: Record<string, string> = {
  'precondition-not-met': 'http://jabber.org/protocol/pubsub#errors',
  'presence-subscription-required': 'http://jabber.org/protocol/pubsub#errors',
  'nodeid-required': 'http://jabber.org/protocol/pubsub#errors',
  'item-required': 'http://jabber.org/protocol/pubsub#errors',
  'payload-required': 'http://jabber.org/protocol/pubsub#errors',
  'invalid-payload': 'http://jabber.org/protocol/pubsub#errors',
  'unsupported': 'http://jabber.org/protocol/pubsub#errors',
};

/**
 * Builds `<error type><condition xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>…</error>`
 * (RFC 6120 §8.3.2), with an optional application-specific condition and text.
 *
 * @example
 * ```ts
 * errorElement('cancel', 'item-not-found')
 * ```
 */
export function errorElement(type: XmppErrorType, condition: string, application?: { name: string; ns: string; attrs?: Record<string, string> }, text?: string): Element {
  const children: Element[] = [xml(condition, { xmlns: STANZA_ERRORS_NS })];
  if (application !== undefined) children.push(xml(application.name, { xmlns: application.ns, ...application.attrs }));
  if (text !== undefined) children.push(xml('text', { xmlns: STANZA_ERRORS_NS }, [text]));
  return xml('error', { type }, children);
}

/**
 * One client's connection to its server, as Seal needs it.
 *
 * - `send` hands a `<message/>`, `<presence/>` or `<iq/>` to the server; the server stamps `from`
 *   with this connection's full JID (RFC 6120 §8.1.2.1). An `<iq/>` sent this way is a request
 *   whose answer arrives through `onStanza` (the interactive handshake's steps), or the answer to a
 *   request `onStanza` delivered.
 * - `iq` sends an `<iq type='get'|'set'/>` (adding an `id` when it has none) and resolves with
 *   the `type='result'` answer, or rejects with an {@link XmppError}; to another client's full
 *   JID it waits for that client's answer (on the embedded server: until the network delivers it).
 * - `onStanza` registers a handler for every incoming `<message/>` and `<presence/>`, for every
 *   `<iq type='get'|'set'/>` another entity addressed to this full JID (which the handler must
 *   answer, RFC 6120 §8.2.3; the Seal client answers them all), and for the answers to iq requests
 *   made with `send`, in order of arrival. A handler may return a promise; the embedded network waits for it before the next
 *   delivery. Archive results (XEP-0313) are ordinary incoming messages: a client must not rely on
 *   them arriving before the query's `<fin/>`.
 * - `close` ends the session (an implicit unavailable presence).
 *
 * @see spec §offline
 */
export interface XmppConnection {
  /** The full JID (`local@domain/resource`) of this connection. */
  readonly jid: string;
  /** Sends a message, presence or iq (whose answer comes through `onStanza`). @throws XmppError when the stanza cannot be sent (closed, not a stanza, too large). */
  send(stanza: Element): Promise<void>;
  /** Sends an iq request and resolves with the result. @throws XmppError with the answer's error condition. */
  iq(request: Element): Promise<Element>;
  /** Registers a handler for incoming messages, presences, iq requests and the answers to iqs made with `send`. */
  onStanza(handler: (stanza: Element) => void | Promise<void>): void;
  /** Closes the connection. Later sends reject; stanzas still in flight to it are discarded. */
  close(): Promise<void>;
}
