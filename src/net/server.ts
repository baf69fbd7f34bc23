/**
 * An in-memory XMPP server with the semantics of a real one (Prosody 0.12 as reference), for
 * tests and the demo: accounts with several resources, presence, message routing, offline
 * storage, the message archive (XEP-0313) with server-assigned stanza ids (XEP-0359), carbons
 * (XEP-0280) and PEP (XEP-0163). Everything it sends to clients goes through an
 * {@link AdversarialNetwork}, and a {@link ServerAdversary} can make it lie about PEP items.
 *
 * What Seal depends on, and this server reproduces:
 * - a message to an account with no available resource is stored and delivered, with
 *   `<delay/>` and the archive's `<stanza-id/>`, only after an initial presence;
 * - the same message can then arrive a second time from the archive, with the same id;
 * - a body-less message is archived only with a storage hint (or marker, receipt, EME element);
 * - an iq to another account's full JID goes to that connection only (never carbon-copied,
 *   archived or stored), and to a resource that is not connected is answered
 *   `service-unavailable` (RFC 6120 §10.5.3), as the interactive handshake needs;
 * - PEP items are readable by other accounts only with `pubsub#access_model=open`, and
 *   publish-options contradicting an existing node fail with `precondition-not-met`.
 *
 * Simplifications: no rosters (presence subscriptions are discarded, and only the `open` access
 * model admits other accounts), no stream management, one server for all domains.
 *
 * @see spec §offline
 * @see spec §identity.pep
 * @module
 */
import { SealError } from '../errors.js';
import { type Rng, seededRng } from '../suite/rng.js';
import { DATA_FORMS_NS, PUBSUB_NS, PUBSUB_OWNER_NS } from '../wire/pep.js';
import { type Element, childElements, isNamed, sameNamespaceChildren, xml } from '../wire/xml.js';
import { MessageArchive, type ArchivedMessage, shouldArchive, stripOwnStanzaIds } from './archive.js';
import { carbon, shouldCopy } from './carbons.js';
import { XmppError, type XmppConnection, errorElement } from './connection.js';
import { AdversarialNetwork } from './network.js';
import { PepService, type ServerFlavour } from './pep.js';
import { MucService } from './muc.js';
import { UploadService } from './upload-service.js';
import { type Router, Session } from './session.js';
import {
  CARBONS_NS,
  CLIENT_NS,
  DELAY_NS,
  DISCO_INFO_NS,
  FORWARD_NS,
  MAM_NS,
  PING_NS,
  PUBSUB_EVENT_NS,
  RSM_NS,
  STANZA_ID_NS,
  bareOf,
  cloneElement,
  splitJid,
  xmppTimestamp,
} from './stanzas.js';

/**
 * Hooks through which a test makes the server lie. Each is optional; set them on
 * `server.adversary` at any time.
 *
 * @see spec §reqs.threat-model
 */
export interface ServerAdversary {
  /**
   * Called for every PEP item the server is about to serve: in a retrieval result and in a
   * notification. `item` is `<item id='…'>payload</item>`; `requester` the bare JID it is served
   * to. Return a replacement `<item/>` (a stale one from `server.pepHistory`, or a forged one),
   * `null` to withhold the item, or `undefined` to serve the truth.
   *
   * @example
   * ```ts
   * server.adversary.rewritePepItem = (owner, node, item, requester) =>
   *   node === DEVICE_LIST_NODE && requester === 'bob@example.org' ? server.pepHistory(owner, node)[0] : undefined;
   * ```
   */
  rewritePepItem?: (owner: string, node: string, item: Element, requester: string) => Element | null | undefined;
  /**
   * Called for every PEP request (`<pubsub/>` of either namespace) before the service handles
   * it: return an {@link XmppError} to answer the request with instead, leaving the node
   * unchanged (a busy server's `wait`/`resource-constraint`, a refusal), or `undefined` to handle
   * it normally. `request` is a copy of the `<pubsub/>` element; `requester` the bare JID asking.
   *
   * @example
   * ```ts
   * let busy = 1;
   * server.adversary.refusePepRequest = (_owner, request) =>
   *   request.getChild('publish', PUBSUB_NS) && busy-- > 0 ? new XmppError('wait', 'resource-constraint') : undefined;
   * ```
   */
  refusePepRequest?: (owner: string, request: Element, requester: string) => XmppError | undefined;
}

/** Options of {@link EmbeddedServer}. */
export interface EmbeddedServerOptions {
  /** The network to clients; default a new zero-policy {@link AdversarialNetwork}. */
  readonly network?: AdversarialNetwork;
  /** Randomness for server-assigned ids (stanza ids, item ids); default `seededRng('seal embedded server')`. */
  readonly rng?: Rng;
  /** The clock, in milliseconds since the epoch, for `<delay/>` stamps and the archive; default `Date.now`. */
  readonly clock?: () => number;
  /** Which server to imitate where PEP behaviour differs; default `'prosody'`. */
  readonly flavour?: ServerFlavour;
  /** The domain of a Multi-User Chat service (XEP-0045, `src/net/muc.ts`), e.g. `conference.example.org`; none by default. */
  readonly muc?: string;
  /** The domain of an HTTP File Upload service (XEP-0363, `src/net/upload-service.ts`), e.g. `upload.example.org`, with its options; none by default. */
  readonly upload?: { readonly domain: string; readonly baseUrl?: string; readonly maxSize?: number };
}

interface Account {
  readonly bare: string;
  readonly domain: string;
  /** Connected sessions by resource, oldest first. */
  readonly sessions: Map<string, Session>;
  readonly archive: MessageArchive;
  /** Messages stored while no resource was available, oldest first. */
  offline: Array<{ stanza: Element; stamp: number }>;
  readonly pep: PepService;
  /** Accounts whose PEP notifications this account receives (see `subscribeToPep`). */
  readonly following: Set<string>;
  /** Accounts that receive this account's PEP notifications. */
  readonly followers: Set<string>;
}

function checkBareJid(text: string): string {
  const at = text.indexOf('@');
  if (at <= 0 || at === text.length - 1 || text.includes('/') || text.indexOf('@', at + 1) >= 0 || /[\s\u0000-\u001f\u007f]/u.test(text)) {
    throw new SealError('invalid-value', `account: expected a bare JID local@domain, got ${JSON.stringify(text.slice(0, 64))}`);
  }
  return text;
}

/**
 * The embedded server.
 *
 * Delivery: every stanza for a client waits in `server.network` until `await network.flush()`;
 * iq answers return directly from `iq()`.
 *
 * @see spec §offline
 * @example
 * ```ts
 * const server = new EmbeddedServer();
 * server.createAccount('alice@example.org');
 * server.createAccount('bob@example.org');
 * const alice = server.connect('alice@example.org/phone');
 * const bob = server.connect('bob@example.org/laptop');
 * bob.onStanza((stanza) => console.log(stanza.toString()));
 * await alice.send(xml('message', { to: 'bob@example.org', type: 'chat' }, [xml('body', {}, ['hi'])]));
 * await bob.send(presence());           // Bob comes online: the stored message is delivered
 * await server.network.flush();
 * ```
 */
export class EmbeddedServer {
  /** The network between this server and its clients. */
  readonly network: AdversarialNetwork;
  /** Which server is imitated where PEP behaviour differs. */
  readonly flavour: ServerFlavour;
  /** The adversary's hooks (none set: an honest server). */
  readonly adversary: ServerAdversary = {};
  /** The Multi-User Chat service, when the options name its domain. @see spec §groups */
  readonly muc: MucService | undefined;
  /** The HTTP File Upload service, when the options name its domain. @see spec §files.upload */
  readonly upload: UploadService | undefined;

  readonly #rng: Rng;
  readonly #clock: () => number;
  readonly #accounts = new Map<string, Account>();
  readonly #router: Router;

  constructor(options: EmbeddedServerOptions = {}) {
    this.network = options.network ?? new AdversarialNetwork();
    this.flavour = options.flavour ?? 'prosody';
    this.#rng = options.rng ?? seededRng('seal embedded server');
    this.#clock = options.clock ?? Date.now;
    this.muc = options.muc === undefined ? undefined : new MucService(options.muc, { deliver: (jid, stanza) => this.#deliverTo(jid, stanza), newId: () => this.#newId(), clock: () => this.#clock() });
    this.upload = options.upload === undefined ? undefined : new UploadService(options.upload.domain, { ...options.upload, rng: seededRng(`seal embedded upload ${options.upload.domain}`) });
    this.#router = {
      stanza: (session, stanza) => (stanza.name === 'message' ? this.#message(session, stanza) : stanza.name === 'iq' ? this.#sentIq(session, stanza) : this.#presence(session, stanza)),
      iq: (session, iq) => this.#iq(session, iq),
      closed: (session) => this.#closed(session),
      observe: (session, direction, stanza) => this.network.observe(direction, stanza, session.jid),
    };
  }

  /**
   * Registers an account.
   *
   * @throws SealError `invalid-value` when `bareJid` is not `local@domain` or already registered.
   */
  createAccount(bareJid: string): void {
    const bare = checkBareJid(bareJid);
    if (this.#accounts.has(bare)) throw new SealError('invalid-value', `account: ${bare} already exists`);
    this.#accounts.set(bare, {
      bare,
      domain: splitJid(bare).domain,
      sessions: new Map(),
      archive: new MessageArchive(),
      offline: [],
      pep: new PepService(bare, this.flavour, () => this.#newId()),
      following: new Set(),
      followers: new Set(),
    });
  }

  /** Whether `bareJid` is a registered account. */
  hasAccount(bareJid: string): boolean {
    return this.#accounts.has(bareJid);
  }

  /**
   * Opens a session for `fullJid` (`local@domain/resource`). The session is not available until
   * it sends a presence: messages to the bare JID are stored meanwhile. A second connection
   * with the same full JID replaces the first, which is closed (Prosody's default).
   *
   * @throws SealError `invalid-value` when `fullJid` has no resource; XmppError
   *   `auth`/`not-authorized` when the account does not exist.
   */
  connect(fullJid: string): XmppConnection {
    const split = splitJid(fullJid);
    if (split.resource === undefined || split.resource === '') throw new SealError('invalid-value', `connect: expected a full JID local@domain/resource, got ${JSON.stringify(fullJid.slice(0, 64))}`);
    const account = this.#accounts.get(split.bare);
    if (!account) throw new XmppError('auth', 'not-authorized', undefined, `no account ${split.bare}`);
    account.sessions.get(split.resource)?.end();
    const session = new Session(fullJid, this.#router);
    account.sessions.set(split.resource, session);
    return session;
  }

  /**
   * Makes `subscriber` receive PEP notifications of `owner`'s nodes that it may read, on every
   * available resource, and sends it the last item of each such node now (to resources already
   * available) and whenever one of its resources sends an initial presence.
   *
   * This stands in for presence-based PEP delivery (XEP-0163 §4: a presence subscription plus
   * `+notify` in entity capabilities), which needs rosters this server does not keep. It grants
   * no read access: only nodes with `pubsub#access_model=open` (or the subscriber's own) notify.
   *
   * @throws SealError `invalid-value` when either account does not exist.
   */
  subscribeToPep(subscriberBareJid: string, ownerBareJid: string): void {
    const subscriber = this.#account(subscriberBareJid);
    const owner = this.#account(ownerBareJid);
    if (owner.followers.has(subscriber.bare)) return;
    owner.followers.add(subscriber.bare);
    subscriber.following.add(owner.bare);
    for (const session of subscriber.sessions.values()) if (session.available) this.#sendLastItems(owner, session);
  }

  /**
   * The archive of `bareJid`, oldest first (copies).
   * @throws SealError `invalid-value` when the account does not exist.
   */
  archiveOf(bareJid: string): ArchivedMessage[] {
    return this.#account(bareJid).archive.entries().map((entry) => ({ ...entry, stanza: cloneElement(entry.stanza) }));
  }

  /**
   * The messages stored for `bareJid` until one of its resources becomes available (copies).
   * @throws SealError `invalid-value` when the account does not exist.
   */
  offlineOf(bareJid: string): Element[] {
    return this.#account(bareJid).offline.map((entry) => cloneElement(entry.stanza));
  }

  /**
   * The current items of `owner`'s `node`, oldest first, as `<item id>payload</item>` (copies);
   * empty when the node does not exist.
   * @throws SealError `invalid-value` when the account does not exist.
   */
  pepItems(ownerBareJid: string, node: string): Element[] {
    return this.#account(ownerBareJid).pep.items(node);
  }

  /**
   * Every item ever published to `owner`'s `node`, oldest first (copies): what a lying server
   * could serve as a stale answer.
   * @throws SealError `invalid-value` when the account does not exist.
   */
  pepHistory(ownerBareJid: string, node: string): Element[] {
    return this.#account(ownerBareJid).pep.history(node);
  }

  #account(bare: string): Account {
    const account = this.#accounts.get(bare);
    if (!account) throw new SealError('invalid-value', `account: no account ${JSON.stringify(bare.slice(0, 64))}`);
    return account;
  }

  /** A server-assigned id in UUID form, from the server's rng. */
  #newId(): string {
    const hex = Array.from(this.#rng(16), (b) => b.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  #send(session: Session, stanza: Element): void {
    this.network.enqueue(session, stanza);
  }


  // ---- presence (RFC 6121 §4) ----

  #presence(session: Session, stanza: Element): void {
    const account = this.#accounts.get(session.bare)!;
    const type = stanza.attrs.type as string | undefined;
    const to = stanza.attrs.to as string | undefined;
    if (to !== undefined && this.muc?.handles(to)) return this.muc.presence(session.jid, stanza);
    if (to !== undefined) {
      // Directed presence. Subscription management needs rosters: discarded.
      if (type !== undefined && type !== 'unavailable' && type !== 'error') return;
      const target = splitJid(to);
      const recipients = this.#accounts.get(target.bare)?.sessions;
      if (!recipients) return;
      for (const recipient of recipients.values()) {
        if (target.resource === undefined ? recipient.available : recipient.resource === target.resource) this.#send(recipient, stanza);
      }
      return;
    }
    if (type === 'unavailable') {
      if (!session.available) return;
      session.available = false;
      session.presence = undefined;
      this.#broadcastOwnPresence(account, session, stanza);
      return;
    }
    if (type !== undefined) return;
    const initial = !session.available;
    session.available = true;
    session.presence = cloneElement(stanza);
    const priority = sameNamespaceChildren(stanza, 'priority')[0]?.getText() ?? null;
    session.priority = priority !== null && /^[+-]?\d{1,3}$/.test(priority.trim()) ? Math.max(-128, Math.min(127, Number(priority.trim()))) : 0;
    this.#broadcastOwnPresence(account, session, stanza);
    if (!initial) return;
    // The presences of the account's other available resources, to the new one.
    for (const other of account.sessions.values()) {
      if (other !== session && other.available && other.presence) {
        const copy = cloneElement(other.presence);
        copy.attrs.to = session.jid;
        this.#send(session, copy);
      }
    }
    // Offline messages go to the first resource that becomes available with priority >= 0, with
    // <delay/> (XEP-0203), then are deleted (Prosody's mod_offline).
    if (session.priority >= 0 && account.offline.length > 0) {
      const stored = account.offline;
      account.offline = [];
      for (const { stanza: message, stamp } of stored) {
        const copy = cloneElement(message);
        copy.cnode(xml('delay', { xmlns: DELAY_NS, from: account.domain, stamp: xmppTimestamp(stamp) }));
        this.#send(session, copy);
      }
    }
    for (const owner of account.following) this.#sendLastItems(this.#accounts.get(owner)!, session);
  }

  #broadcastOwnPresence(account: Account, from: Session, stanza: Element): void {
    for (const other of account.sessions.values()) {
      if (other !== from && other.available) {
        const copy = cloneElement(stanza);
        copy.attrs.to = other.jid;
        this.#send(other, copy);
      }
    }
  }

  /** Sends `stanza` to the connected session `fullJid`, if any (the MUC service's way out). */
  #deliverTo(fullJid: string, stanza: Element): void {
    const split = splitJid(fullJid);
    const session = split.resource === undefined ? undefined : this.#accounts.get(split.bare)?.sessions.get(split.resource);
    if (session !== undefined) this.#send(session, stanza);
  }

  #closed(session: Session): void {
    this.muc?.closed(session.jid);
    const account = this.#accounts.get(session.bare);
    if (!account || account.sessions.get(session.resource) !== session) return;
    account.sessions.delete(session.resource);
    if (session.available) {
      session.available = false;
      this.#broadcastOwnPresence(account, session, xml('presence', { type: 'unavailable', from: session.jid }));
    }
  }

  // ---- messages (RFC 6121 §8.5, XEP-0280, XEP-0313, XEP-0359) ----

  #message(session: Session, stanza: Element): void {
    if (typeof stanza.attrs.to === 'string' && this.muc?.handles(stanza.attrs.to)) return this.muc.message(session.jid, stanza);
    const sender = this.#accounts.get(session.bare)!;
    // A message without 'to' is addressed to the sender's own account.
    if (stanza.attrs.to === undefined) stanza.attrs.to = sender.bare;
    const outgoing = stripOwnStanzaIds(stanza, sender.bare);
    if (shouldArchive(outgoing, true)) {
      sender.archive.append({ id: this.#newId(), stamp: this.#clock(), with: bareOf(String(outgoing.attrs.to)), stanza: cloneElement(outgoing) });
    }
    if (shouldCopy(outgoing, true, sender.bare)) {
      for (const other of sender.sessions.values()) {
        if (other !== session && other.carbons) this.#send(other, carbon('sent', sender.bare, other.jid, outgoing));
      }
    }
    this.#route(outgoing, session);
  }

  /** Delivers a message to its recipient's sessions, or stores it (RFC 6121 §8.5.2, §8.5.3). */
  #route(stanza: Element, origin: Session): void {
    const to = splitJid(String(stanza.attrs.to));
    const type = (stanza.attrs.type as string | undefined) ?? 'normal';
    const account = this.#accounts.get(to.bare);
    if (!account) {
      this.#bounce(stanza, origin, 'service-unavailable');
      return;
    }
    if (to.resource !== undefined) {
      const target = account.sessions.get(to.resource);
      if (target) {
        const incoming = this.#archiveIncoming(account, stanza);
        this.#receivedCarbons(account, incoming, (other) => other === target);
        this.#send(target, this.#stripPrivate(incoming));
        return;
      }
      // §8.5.3.2.1: to an unconnected resource, chat and normal messages go to the bare JID;
      // others are not delivered.
      if (type !== 'chat' && type !== 'normal') {
        if (type === 'groupchat') this.#bounce(stanza, origin, 'service-unavailable');
        return;
      }
    }
    if (type === 'error') return;
    if (type === 'groupchat') {
      this.#bounce(stanza, origin, 'service-unavailable');
      return;
    }
    const available = [...account.sessions.values()].filter((s) => s.available && s.priority >= 0);
    if (type === 'headline') {
      for (const recipient of available) this.#send(recipient, stanza);
      return;
    }
    // Chat and normal: to the available resources of highest non-negative priority
    // (with equal priorities: all of them); received carbons to the others.
    const incoming = this.#archiveIncoming(account, stanza);
    const top = available.length === 0 ? -1 : Math.max(...available.map((s) => s.priority));
    const targets = available.filter((s) => s.priority === top);
    this.#receivedCarbons(account, incoming, (other) => targets.includes(other));
    if (targets.length > 0) {
      for (const target of targets) this.#send(target, this.#stripPrivate(incoming));
      return;
    }
    const stored = cloneElement(incoming);
    stored.attrs.to = account.bare;
    account.offline.push({ stanza: stored, stamp: this.#clock() });
  }

  /** The recipient's copy: forged stanza ids removed, archived with a new one if eligible. */
  #archiveIncoming(account: Account, stanza: Element): Element {
    const incoming = stripOwnStanzaIds(cloneElement(stanza), account.bare);
    if (!shouldArchive(incoming, false)) return incoming;
    const id = this.#newId();
    account.archive.append({ id, stamp: this.#clock(), with: bareOf(String(incoming.attrs.from)), stanza: cloneElement(incoming) });
    incoming.cnode(xml('stanza-id', { xmlns: STANZA_ID_NS, by: account.bare, id }));
    return incoming;
  }

  #receivedCarbons(account: Account, incoming: Element, receivesAnyway: (session: Session) => boolean): void {
    if (!shouldCopy(incoming, false, account.bare)) return;
    for (const other of account.sessions.values()) {
      if (other.carbons && !receivesAnyway(other)) this.#send(other, carbon('received', account.bare, other.jid, incoming));
    }
  }

  /** XEP-0280 §8: the `<private/>` element is removed before delivery. */
  #stripPrivate(message: Element): Element {
    const marker = message.getChild('private', CARBONS_NS);
    if (!marker) return message;
    const copy = cloneElement(message);
    copy.remove('private', CARBONS_NS);
    return copy;
  }

  /** Returns an error message to the sender (never for an error). */
  #bounce(stanza: Element, origin: Session, condition: string): void {
    if (stanza.attrs.type === 'error' || !origin.isOpen()) return;
    const attrs: Record<string, string> = { type: 'error', from: String(stanza.attrs.to), to: origin.jid };
    if (typeof stanza.attrs.id === 'string') attrs.id = stanza.attrs.id;
    this.#send(origin, xml('message', attrs, [errorElement('cancel', condition)]));
  }

  // ---- iq (RFC 6120 §8.2.3, §10.5.3) ----

  /**
   * The connected session of another client that an iq to the full JID `to` goes to, `null` when
   * `to` is a full JID of an account here with no such resource, `undefined` when the server (or
   * one of its services) handles `to` itself.
   */
  #iqTarget(to: string | undefined): Session | null | undefined {
    if (to === undefined || this.muc?.handles(to) || this.upload?.handles(to)) return undefined;
    const target = splitJid(to);
    if (target.resource === undefined) return undefined;
    const account = this.#accounts.get(target.bare);
    if (account === undefined) return undefined;
    return account.sessions.get(target.resource) ?? null;
  }

  /**
   * An iq a client handed to `send`: a request to another client's full JID is routed to that
   * connection as it is, an answer too (RFC 6120 §10.5.3.1: never carbon-copied, never stored);
   * a request to a resource that is not connected is answered `service-unavailable` by the server,
   * an answer to one is dropped; a request to the server, an account or a service is answered as
   * {@link EmbeddedServer} answers `iq()`, through the network.
   */
  #sentIq(session: Session, iq: Element): void {
    const type = iq.attrs.type;
    const to = iq.attrs.to as string | undefined;
    const target = this.#iqTarget(to);
    if (type === 'result' || type === 'error') {
      if (target) this.#send(target, iq);
      return;
    }
    if (target === undefined) {
      const answer = this.#iq(session, iq);
      if (answer !== undefined) this.#send(session, answer);
      return;
    }
    if (target === null) {
      this.#send(session, xml('iq', { type: 'error', id: String(iq.attrs.id ?? ''), to: session.jid, from: String(to) }, [errorElement('cancel', 'service-unavailable')]));
      return;
    }
    this.#send(target, iq);
  }

  #iq(session: Session, iq: Element): Element | undefined {
    const to = iq.attrs.to as string | undefined;
    const reply = (type: 'result' | 'error', children: Element[]): Element =>
      xml('iq', { type, id: String(iq.attrs.id), to: session.jid, ...(to === undefined ? {} : { from: to }) }, children);
    // A request to another client's full JID goes to that client (RFC 6120 §10.5.3.1), which answers it.
    const target = this.#iqTarget(to);
    if (target === null) return reply('error', [errorElement('cancel', 'service-unavailable')]);
    if (target !== undefined) {
      this.#send(target, iq);
      return undefined;
    }
    try {
      return reply('result', this.#answer(session, iq));
    } catch (e) {
      if (e instanceof XmppError) return reply('error', [e.toElement()]);
      throw e;
    }
  }

  /** The children of the result of `iq`. @throws XmppError the error to answer with. */
  #answer(session: Session, iq: Element): Element[] {
    const type = iq.attrs.type as 'get' | 'set';
    const children = childElements(iq);
    if (children.length !== 1) throw new XmppError('modify', 'bad-request', undefined, 'an iq request has exactly one child element');
    const payload = children[0]!;
    const to = iq.attrs.to as string | undefined;
    const target = to === undefined ? undefined : splitJid(to);
    if (to !== undefined && this.muc?.handles(to)) return this.muc.iq(session.jid, type, payload, to);
    if (to !== undefined && this.upload?.handles(to)) return this.upload.iq(session.jid, type, payload);
    const account = target === undefined ? this.#accounts.get(session.bare)! : this.#accounts.get(target.bare);
    const self = account?.bare === session.bare;
    if (!account) {
      const served = [...this.#accounts.values()].some((a) => a.domain === target!.bare);
      if (!served) throw new XmppError('cancel', target!.bare.includes('@') ? 'service-unavailable' : 'remote-server-not-found');
      return this.#serverIq(type, payload);
    }
    if (isNamed(payload, 'pubsub', PUBSUB_NS) || isNamed(payload, 'pubsub', PUBSUB_OWNER_NS)) {
      const owner = account;
      const refusal = this.adversary.refusePepRequest?.(owner.bare, cloneElement(payload), session.bare);
      if (refusal !== undefined) throw refusal;
      const outcome = owner.pep.handle(type, payload, session.bare, (node, item) => this.adversary.rewritePepItem?.(owner.bare, node, item, session.bare));
      if (outcome.event) this.#notifyPep(owner, outcome.event.node, outcome.event.element, outcome.event.mayRead);
      return outcome.payload ? [outcome.payload] : [];
    }
    if (isNamed(payload, 'query', MAM_NS)) {
      if (!self) throw new XmppError('auth', 'forbidden', undefined, "only the account's own archive can be queried");
      if (type === 'get') return [xml('query', { xmlns: MAM_NS }, [mamForm()])];
      return [this.#mamQuery(session, account, payload, to)];
    }
    if ((isNamed(payload, 'enable', CARBONS_NS) || isNamed(payload, 'disable', CARBONS_NS)) && self && type === 'set') {
      session.carbons = payload.getName() === 'enable';
      return [];
    }
    if (isNamed(payload, 'ping', PING_NS) && self && type === 'get') return [];
    if (isNamed(payload, 'query', DISCO_INFO_NS) && type === 'get') {
      return [
        xml('query', { xmlns: DISCO_INFO_NS }, [
          xml('identity', { category: 'account', type: 'registered' }),
          xml('identity', { category: 'pubsub', type: 'pep' }),
          ...[PUBSUB_NS + '#publish', PUBSUB_NS + '#publish-options', MAM_NS, STANZA_ID_NS].map((v) => xml('feature', { var: v })),
        ]),
      ];
    }
    throw new XmppError('cancel', 'service-unavailable');
  }

  #serverIq(type: 'get' | 'set', payload: Element): Element[] {
    if (isNamed(payload, 'ping', PING_NS) && type === 'get') return [];
    if (isNamed(payload, 'query', DISCO_INFO_NS) && type === 'get') {
      return [
        xml('query', { xmlns: DISCO_INFO_NS }, [
          xml('identity', { category: 'server', type: 'im' }),
          ...[DISCO_INFO_NS, CARBONS_NS, PING_NS, 'urn:xmpp:carbons:rules:0'].map((v) => xml('feature', { var: v })),
        ]),
      ];
    }
    throw new XmppError('cancel', 'service-unavailable');
  }

  /** Sends the archive results as messages, and returns the `<fin/>` (XEP-0313 §4). */
  #mamQuery(session: Session, account: Account, query: Element, to: string | undefined): Element {
    const page = account.archive.query(query);
    const queryid = query.attrs.queryid as string | undefined;
    for (const entry of page.results) {
      const archived = cloneElement(entry.stanza);
      archived.attrs.xmlns = CLIENT_NS;
      const result = xml('result', { xmlns: MAM_NS, ...(queryid === undefined ? {} : { queryid }), id: entry.id }, [
        xml('forwarded', { xmlns: FORWARD_NS }, [xml('delay', { xmlns: DELAY_NS, stamp: xmppTimestamp(entry.stamp) }), archived]),
      ]);
      this.#send(session, xml('message', { to: session.jid, ...(to === undefined ? {} : { from: to }), id: this.#newId() }, [result]));
    }
    const set: Element[] = [];
    const first = page.results[0];
    const last = page.results.at(-1);
    if (first && last) set.push(xml('first', {}, [first.id]), xml('last', {}, [last.id]));
    set.push(xml('count', {}, [String(page.count)]));
    return xml('fin', { xmlns: MAM_NS, ...(queryid === undefined ? {} : { queryid }), ...(page.complete ? { complete: 'true' } : {}) }, [xml('set', { xmlns: RSM_NS }, set)]);
  }

  // ---- PEP notifications (XEP-0163 §4.3) ----

  /** Wraps `element` in a PEP notification to `session`, after the adversary had its say. */
  #pepNotification(owner: Account, node: string, element: Element, session: Session): Element | undefined {
    const event = cloneElement(element);
    const rewrite = this.adversary.rewritePepItem;
    if (rewrite && event.getName() === 'items') {
      for (const item of sameNamespaceChildren(event, 'item')) {
        const answer = rewrite(owner.bare, node, cloneElement(item), session.bare);
        if (answer === undefined) continue;
        const index = event.children.indexOf(item);
        if (answer === null) event.children.splice(index, 1);
        else event.children[index] = cloneElement(answer);
      }
      if (childElements(event).length === 0) return undefined;
    }
    return xml('message', { from: owner.bare, to: session.jid, type: 'headline', id: this.#newId() }, [xml('event', { xmlns: PUBSUB_EVENT_NS }, [event])]);
  }

  #notifyPep(owner: Account, node: string, element: Element, mayRead: (bare: string) => boolean): void {
    for (const followerBare of owner.followers) {
      if (!mayRead(followerBare)) continue;
      for (const session of this.#accounts.get(followerBare)!.sessions.values()) {
        if (!session.available) continue;
        const message = this.#pepNotification(owner, node, element, session);
        if (message) this.#send(session, message);
      }
    }
  }

  #sendLastItems(owner: Account, session: Session): void {
    for (const items of owner.pep.lastItems(session.bare)) {
      const message = this.#pepNotification(owner, String(items.attrs.node), items, session);
      if (message) this.#send(session, message);
    }
  }
}

/** The search form of the archive (XEP-0313 §4.1.1). */
function mamForm(): Element {
  return xml('x', { xmlns: DATA_FORMS_NS, type: 'form' }, [
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, [xml('value', {}, [MAM_NS])]),
    xml('field', { var: 'with', type: 'jid-single' }),
    xml('field', { var: 'start', type: 'text-single' }),
    xml('field', { var: 'end', type: 'text-single' }),
  ]);
}
