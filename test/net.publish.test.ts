/**
 * §identity.pep (publishing): publishItem and fetchItem on the embedded server, in both server
 * flavours — the node reconfigured after precondition-not-met, one retry after a wait error and
 * not before PUBLISH_WAIT_RETRY seconds, the second failure thrown with its type and condition,
 * item-not-found read as "no item" — and the real-server adapter (src/net/real.ts, with
 * @xmpp/client replaced by a fake) keeping what an error answer says and surviving a failing
 * stanza handler.
 */
import StanzaError from '@xmpp/middleware/lib/StanzaError.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { IDENTITY_CONSTANTS } from '../src/identity/constants.js';
import { ITEM_ID } from '../src/identity/pep.js';
import { EmbeddedServer, STANZA_ERRORS_NS, XmppError, type XmppConnection, fetchItem, publishItem } from '../src/net/index.js';
import { connectToServer, xmppErrorOf } from '../src/net/real.js';
import { DATA_FORMS_NS, PUBSUB_NS, PUBSUB_OWNER_NS, publishIq } from '../src/wire/pep.js';
import { type Element, childElements, parseXml, xml } from '../src/wire/xml.js';
import { ROOT } from './support/environment.js';

/** @xmpp/client replaced by a fake the test drives: no server, no socket. */
const fakes = vi.hoisted(() => {
  type Listener = (...args: unknown[]) => void;
  class FakeXmpp {
    readonly listeners = new Map<string, Listener[]>();
    readonly sent: unknown[] = [];
    readonly requests: unknown[] = [];
    stopped = false;
    /** How iqCaller.request answers. */
    answer: (request: unknown) => Promise<unknown> = async () => {
      throw new Error('no answer');
    };
    readonly iqCaller = {
      request: (request: unknown): Promise<unknown> => {
        this.requests.push(request);
        return this.answer(request);
      },
    };
    /** The iq routes the adapter registers (xmpp.js's iqCallee): namespace and element to handler. */
    readonly routes: { type: 'get' | 'set'; ns: string; name: string; handler: unknown }[] = [];
    readonly iqCallee = {
      set: (ns: string, name: string, handler: unknown): void => void this.routes.push({ type: 'set', ns, name, handler }),
      get: (ns: string, name: string, handler: unknown): void => void this.routes.push({ type: 'get', ns, name, handler }),
    };
    on(event: string, listener: Listener): void {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    }
    emit(event: string, ...args: unknown[]): void {
      for (const listener of this.listeners.get(event) ?? []) listener(...args);
    }
    async start(): Promise<{ toString(): string }> {
      return { toString: () => 'alice@localhost/laptop' };
    }
    async send(stanza: unknown): Promise<void> {
      this.sent.push(stanza);
    }
    async stop(): Promise<void> {
      this.stopped = true;
    }
  }
  return { FakeXmpp, created: [] as FakeXmpp[] };
});

vi.mock('@xmpp/client', () => ({
  client: () => {
    const fake = new fakes.FakeXmpp();
    fakes.created.push(fake);
    return fake;
  },
}));

const ALICE = 'alice@example.org';
const BOB = 'bob@example.org';
const NODE = 'urn:xmpp:seal:0:devices';
const PUBSUB_ERRORS_NS = 'http://jabber.org/protocol/pubsub#errors';
const WAIT = IDENTITY_CONSTANTS.PUBLISH_WAIT_RETRY;

const payload = (n: number) => xml('devices', { xmlns: 'urn:xmpp:seal:0', version: String(n) });
const versionOf = (element: Element | undefined) => element?.attrs.version as string | undefined;

function setup(flavour: 'prosody' | 'ejabberd' = 'prosody') {
  let t = Date.UTC(2024, 0, 1);
  const server = new EmbeddedServer({ clock: () => (t += 1000), flavour });
  server.createAccount(ALICE);
  server.createAccount(BOB);
  return server;
}

/** What a PEP request is, for the record: `publish`, `configure`, `items`. */
function kindOf(iq: Element): string {
  return childElements(childElements(iq)[0]!).find((child) => child.name !== 'publish-options')!.name;
}

/**
 * A connection that records every iq it forwards (kind, and the clock when sent), with a fake
 * clock and a sleep that advances it by what was asked (or by `early` seconds less, once: a timer
 * that fires early).
 */
function recorded(connection: XmppConnection, options: { early?: number } = {}) {
  let clock = 1_000_000;
  let early = options.early ?? 0;
  const requests: Array<{ kind: string; at: number; iq: Element }> = [];
  const sleeps: number[] = [];
  const wrapped: XmppConnection = {
    jid: connection.jid,
    send: (stanza) => connection.send(stanza),
    iq: (request) => {
      requests.push({ kind: kindOf(request), at: clock, iq: request });
      return connection.iq(request);
    },
    onStanza: (handler) => connection.onStanza(handler),
    close: () => connection.close(),
  };
  const now = () => clock;
  const sleep = async (seconds: number) => {
    sleeps.push(seconds);
    clock += seconds - early;
    early = 0;
  };
  return { connection: wrapped, requests, sleeps, now, sleep, kinds: () => requests.map((r) => r.kind) };
}

async function xmppError(promise: Promise<unknown>): Promise<XmppError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof XmppError) return e;
    throw e;
  }
  throw new Error('expected an XmppError');
}

describe.each(['prosody', 'ejabberd'] as const)('publishItem and fetchItem on the embedded server (%s)', (flavour) => {
  it('publishes item "current" with access model open, readable by another account', async () => {
    const server = setup(flavour);
    const alice = recorded(server.connect(`${ALICE}/phone`));
    const bob = server.connect(`${BOB}/x`);
    await publishItem(alice.connection, NODE, payload(1), alice);
    await publishItem(alice.connection, NODE, payload(2), alice);
    expect(alice.kinds()).toEqual(['publish', 'publish']);
    expect(server.pepItems(ALICE, NODE).map((item) => item.attrs.id)).toEqual([ITEM_ID]);
    expect(versionOf(await fetchItem(bob, ALICE, NODE))).toBe('2');
  });

  it('recovers from precondition-not-met (a node another client created with access model presence) by reconfiguring it, then publishing once more', async () => {
    // @req identity.pep-errors
    const server = setup(flavour);
    const tablet = server.connect(`${ALICE}/tablet`);
    await tablet.iq(publishIq('old', NODE, ITEM_ID, payload(1), {}));
    const bob = server.connect(`${BOB}/x`);
    expect((await xmppError(fetchItem(bob, ALICE, NODE))).type).toBe('auth');

    const alice = recorded(server.connect(`${ALICE}/phone`));
    await publishItem(alice.connection, NODE, payload(2), alice);
    expect(alice.kinds()).toEqual(['publish', 'configure', 'publish']);
    expect(alice.sleeps).toEqual([]);
    // The configure request is XEP-0060 §8.2's, setting only the access model and persistence.
    const configure = alice.requests[1]!.iq;
    expect(configure.attrs.type).toBe('set');
    const form = configure.getChild('pubsub', PUBSUB_OWNER_NS)?.getChild('configure')?.getChild('x', DATA_FORMS_NS);
    expect(configure.getChild('pubsub', PUBSUB_OWNER_NS)?.getChild('configure')?.attrs.node).toBe(NODE);
    expect(form?.attrs.type).toBe('submit');
    expect(form?.getChildren('field').map((f) => [f.attrs.var, f.getChildText('value')])).toEqual([
      ['FORM_TYPE', 'http://jabber.org/protocol/pubsub#node_config'],
      ['pubsub#access_model', 'open'],
      ['pubsub#persist_items', 'true'],
    ]);
    expect(versionOf(await fetchItem(bob, ALICE, NODE))).toBe('2');
  });

  it('retries a publish refused with a wait error exactly once, after the injected sleep of PUBLISH_WAIT_RETRY (60) seconds', async () => {
    // @req identity.pep-errors
    const server = setup(flavour);
    let busy = 1;
    server.adversary.refusePepRequest = (_owner, request) => (request.getChild('publish') && busy-- > 0 ? new XmppError('wait', 'resource-constraint') : undefined);
    const alice = recorded(server.connect(`${ALICE}/phone`));
    await publishItem(alice.connection, NODE, payload(1), alice);
    expect(WAIT).toBe(60);
    expect(alice.sleeps).toEqual([WAIT]);
    expect(alice.kinds()).toEqual(['publish', 'publish']);
    expect(alice.requests[1]!.at - alice.requests[0]!.at).toBe(WAIT);
    expect(versionOf(await fetchItem(server.connect(`${BOB}/x`), ALICE, NODE))).toBe('1');
  });

  it('does not retry before 60 seconds have passed by the clock, even when the sleep ends early', async () => {
    // @req identity.pep-errors
    const server = setup(flavour);
    let busy = 1;
    server.adversary.refusePepRequest = (_owner, request) => (request.getChild('publish') && busy-- > 0 ? new XmppError('wait', 'resource-constraint') : undefined);
    const alice = recorded(server.connect(`${ALICE}/phone`), { early: 1 });
    await publishItem(alice.connection, NODE, payload(1), alice);
    expect(alice.sleeps).toEqual([WAIT, 1]);
    expect(alice.requests[1]!.at - alice.requests[0]!.at).toBe(WAIT);
  });

  it('throws the second failure with its type and condition: wait twice, precondition-not-met twice, wait after a reconfiguration', async () => {
    // @req identity.pep-errors
    const server = setup(flavour);
    const alice = recorded(server.connect(`${ALICE}/phone`));
    server.adversary.refusePepRequest = (_owner, request) => (request.getChild('publish') ? new XmppError('wait', 'resource-constraint', undefined, 'busy') : undefined);
    const wait = await xmppError(publishItem(alice.connection, NODE, payload(1), alice));
    expect([wait.type, wait.condition, wait.text]).toEqual(['wait', 'resource-constraint', 'busy']);
    expect(alice.kinds()).toEqual(['publish', 'publish']);
    expect(alice.sleeps).toEqual([WAIT]);

    const again = recorded(server.connect(`${ALICE}/laptop`));
    delete server.adversary.refusePepRequest;
    await again.connection.iq(publishIq('setup', 'urn:example:node', ITEM_ID, payload(0), {}));
    again.requests.length = 0;
    server.adversary.refusePepRequest = (_owner, request) => (request.getChild('publish') ? new XmppError('cancel', 'conflict', 'precondition-not-met') : undefined);
    const conflict = await xmppError(publishItem(again.connection, 'urn:example:node', payload(1), again));
    expect([conflict.type, conflict.condition, conflict.application]).toEqual(['cancel', 'conflict', 'precondition-not-met']);
    expect(again.kinds()).toEqual(['publish', 'configure', 'publish']);

    // A node with another access model, and a server that asks to wait after the reconfiguration.
    const tablet = server.connect(`${ALICE}/tablet`);
    delete server.adversary.refusePepRequest;
    await tablet.iq(publishIq('old', NODE, ITEM_ID, payload(1), {}));
    let configured = false;
    server.adversary.refusePepRequest = (_owner, request) => {
      if (request.getChild('configure')) configured = true;
      return configured && request.getChild('publish') ? new XmppError('wait', 'resource-constraint') : undefined;
    };
    const third = recorded(server.connect(`${ALICE}/desktop`));
    const late = await xmppError(publishItem(third.connection, NODE, payload(2), third));
    expect([late.type, late.condition]).toEqual(['wait', 'resource-constraint']);
    expect(third.kinds()).toEqual(['publish', 'configure', 'publish']);
    expect(third.sleeps).toEqual([]);
  });

  it('throws any other error at once, without a retry; a failed reconfiguration is thrown too', async () => {
    // @req identity.pep-errors
    const server = setup(flavour);
    const alice = recorded(server.connect(`${ALICE}/phone`));
    server.adversary.refusePepRequest = () => new XmppError('auth', 'forbidden');
    const forbidden = await xmppError(publishItem(alice.connection, NODE, payload(1), alice));
    expect([forbidden.type, forbidden.condition]).toEqual(['auth', 'forbidden']);
    expect(alice.kinds()).toEqual(['publish']);

    delete server.adversary.refusePepRequest;
    await server.connect(`${ALICE}/tablet`).iq(publishIq('old', NODE, ITEM_ID, payload(1), {}));
    server.adversary.refusePepRequest = (_owner, request) => (request.getChild('configure') ? new XmppError('cancel', 'not-allowed') : undefined);
    const other = recorded(server.connect(`${ALICE}/laptop`));
    expect((await xmppError(publishItem(other.connection, NODE, payload(2), other))).condition).toBe('not-allowed');
    expect(other.kinds()).toEqual(['publish', 'configure']);
    expect(versionOf(server.pepItems(ALICE, NODE)[0]!.getChild('devices'))).toBe('1');
  });

  it('fetchItem: undefined for item-not-found (no node, no item "current"); other errors are thrown', async () => {
    // @req identity.pep-errors
    const server = setup(flavour);
    const alice = server.connect(`${ALICE}/phone`);
    const bob = server.connect(`${BOB}/x`);
    expect(await fetchItem(bob, ALICE, NODE)).toBeUndefined();
    await alice.iq(publishIq('other', NODE, 'other', payload(1), { 'pubsub#access_model': 'open' }));
    expect(await fetchItem(bob, ALICE, NODE)).toBeUndefined();
    expect(await fetchItem(alice, ALICE, NODE)).toBeUndefined();
    await alice.iq(publishIq('private', 'urn:example:private', ITEM_ID, payload(1), {}));
    const denied = await xmppError(fetchItem(bob, ALICE, 'urn:example:private'));
    expect(denied.type).toBe('auth');
    expect(versionOf(await fetchItem(alice, ALICE, 'urn:example:private'))).toBe('1');
    expect((await xmppError(fetchItem(bob, 'nobody@example.org', NODE))).condition).toBe('service-unavailable');
    // The adversary withholding the item reads as no item.
    await publishItem(alice, NODE, payload(2));
    server.adversary.rewritePepItem = () => null;
    expect(await fetchItem(bob, ALICE, NODE)).toBeUndefined();
  });
});

/** The `<error/>` child of `text`, parsed. */
function errorOf(text: string): Element {
  return parseXml(text);
}

describe('the real-server adapter (src/net/real.ts)', () => {
  it('maps what @xmpp/client rejects with (StanzaError.fromElement of the <error/>), keeping type, condition, application and text', () => {
    // @req identity.pep-errors
    const cases: Array<[string, [string, string, string | undefined, string | undefined]]> = [
      [`<error type='wait'><resource-constraint xmlns='${STANZA_ERRORS_NS}'/><text xmlns='${STANZA_ERRORS_NS}'>Unknown field: pubsub#max_items</text></error>`, ['wait', 'resource-constraint', undefined, 'Unknown field: pubsub#max_items']],
      [`<error type='cancel'><conflict xmlns='${STANZA_ERRORS_NS}'/><precondition-not-met xmlns='${PUBSUB_ERRORS_NS}'/></error>`, ['cancel', 'conflict', 'precondition-not-met', undefined]],
      // xmpp.js alone would report the <text/> as the application condition here.
      [`<error type='cancel'><conflict xmlns='${STANZA_ERRORS_NS}'/><precondition-not-met xmlns='${PUBSUB_ERRORS_NS}'/><text xmlns='${STANZA_ERRORS_NS}'>options differ</text></error>`, ['cancel', 'conflict', 'precondition-not-met', 'options differ']],
      [`<error type='auth'><not-authorized xmlns='${STANZA_ERRORS_NS}'/><presence-subscription-required xmlns='${PUBSUB_ERRORS_NS}'/></error>`, ['auth', 'not-authorized', 'presence-subscription-required', undefined]],
      [`<error type='cancel'><item-not-found xmlns='${STANZA_ERRORS_NS}'/></error>`, ['cancel', 'item-not-found', undefined, undefined]],
      [`<error type='nonsense'><item-not-found xmlns='${STANZA_ERRORS_NS}'/></error>`, ['cancel', 'item-not-found', undefined, undefined]],
    ];
    for (const [text, expected] of cases) {
      const element = errorOf(text);
      const rejected = StanzaError.fromElement(element);
      const mapped = xmppErrorOf(rejected);
      expect(mapped).toBeInstanceOf(XmppError);
      expect([mapped.type, mapped.condition, mapped.application, mapped.text], text).toEqual(expected);
      // The caller's element is not re-parented.
      expect(element.parent).toBeFalsy();
    }
  });

  it("reads every error answer of the embedded server through xmpp.js as the embedded connection does", () => {
    // @req identity.pep-errors
    const errors = [
      new XmppError('wait', 'resource-constraint', undefined, 'Unknown field: pubsub#max_items'),
      new XmppError('cancel', 'conflict', 'precondition-not-met'),
      new XmppError('auth', 'not-authorized', 'presence-subscription-required'),
      new XmppError('modify', 'bad-request', 'nodeid-required', 'no node'),
      new XmppError('auth', 'forbidden'),
      new XmppError('cancel', 'item-not-found', undefined, 'no item current'),
    ];
    for (const error of errors) {
      // Through text, as a socket would carry it.
      const wire = parseXml(error.toElement().toString());
      const mapped = xmppErrorOf(StanzaError.fromElement(wire));
      expect([mapped.type, mapped.condition, mapped.application, mapped.text]).toEqual([error.type, error.condition, error.application, error.text]);
    }
  });

  it('maps errors built by hand and failures that are no stanza error; an XmppError passes unchanged', () => {
    const handMade = xmppErrorOf(new StanzaError('conflict', '', xml('precondition-not-met', { xmlns: PUBSUB_ERRORS_NS }), 'cancel'));
    expect([handMade.type, handMade.condition, handMade.application, handMade.text]).toEqual(['cancel', 'conflict', 'precondition-not-met', undefined]);
    const shaped = xmppErrorOf({ condition: 'resource-constraint', type: 'wait', text: 'later', application: 'x' });
    expect([shaped.type, shaped.condition, shaped.application, shaped.text]).toEqual(['wait', 'resource-constraint', 'x', 'later']);
    expect(xmppErrorOf({ condition: 'gone', type: 'bogus' }).type).toBe('cancel');

    const timeout = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
    const mapped = xmppErrorOf(timeout);
    expect([mapped.type, mapped.condition, mapped.text]).toEqual(['cancel', 'undefined-condition', 'TimeoutError: timeout']);
    expect(mapped.cause).toBe(timeout);
    expect(xmppErrorOf('odd').condition).toBe('undefined-condition');
    expect(xmppErrorOf(undefined).text).toBe('unknown failure');
    const own = new XmppError('wait', 'resource-constraint');
    expect(xmppErrorOf(own)).toBe(own);
  });

  it('a failing stanza handler is reported through onError; the other handlers and later stanzas still run, and nothing is left unhandled', async () => {
    const reported: Array<[unknown, Element | undefined]> = [];
    const connection = await connectToServer({ service: 'xmpp://127.0.0.1:1', domain: 'localhost', username: 'alice', password: 'pw', resource: 'laptop', onError: (e, stanza) => reported.push([e, stanza]) });
    const fake = fakes.created.at(-1)!;
    expect(connection.jid).toBe('alice@localhost/laptop');
    const seen: string[] = [];
    connection.onStanza(async (stanza) => {
      if (stanza.attrs.id === 'bad') throw new Error('handler failed');
      seen.push(`first ${String(stanza.attrs.id)}`);
    });
    connection.onStanza((stanza) => {
      if (stanza.attrs.id === 'worse') throw new Error('sync failure');
      seen.push(`second ${String(stanza.attrs.id)}`);
    });
    fake.emit('error', new Error('stream error'));
    for (const id of ['bad', 'ok', 'worse', 'last']) fake.emit('stanza', xml('message', { id }));
    fake.emit('stanza', xml('iq', { id: 'ignored', type: 'result' }));
    await connection.close();
    expect(seen).toEqual(['second bad', 'first ok', 'second ok', 'first worse', 'first last', 'second last']);
    expect(reported.map(([e, stanza]) => [(e as Error).message, stanza?.attrs.id])).toEqual([
      ['stream error', undefined],
      ['handler failed', 'bad'],
      ['sync failure', 'worse'],
    ]);
    expect(fake.stopped).toBe(true);
    const closed = await xmppError(connection.send(xml('message', {})));
    expect([closed.type, closed.condition]).toEqual(['cancel', 'service-unavailable']);
  });

  it('without onError, and with an onError that throws, a failing handler still leaves the pipeline running', async () => {
    for (const onError of [undefined, () => { throw new Error('reporter failed'); }]) {
      const connection = await connectToServer({ service: 'xmpp://127.0.0.1:1', domain: 'localhost', username: 'alice', password: 'pw', resource: 'laptop', ...(onError === undefined ? {} : { onError }) });
      const fake = fakes.created.at(-1)!;
      const seen: unknown[] = [];
      connection.onStanza((stanza) => {
        if (stanza.attrs.id === 'bad') return Promise.reject(new Error('rejected'));
        seen.push(stanza.attrs.id);
        return undefined;
      });
      for (const id of ['bad', 'good']) fake.emit('stanza', xml('presence', { id }));
      await connection.close();
      expect(seen).toEqual(['good']);
    }
  });

  it('routes the interactive handshake\'s iq sets and disco#info gets to the client instead of letting xmpp.js refuse them', async () => {
    // @req handshake.interactive-iq
    await connectToServer({ service: 'xmpp://127.0.0.1:1', domain: 'localhost', username: 'alice', password: 'pw', resource: 'laptop' });
    const fake = fakes.created.at(-1)!;
    expect(fake.routes.map((r) => `${r.type} ${r.ns} ${r.name}`).sort()).toEqual(['get http://jabber.org/protocol/disco#info query', 'set urn:xmpp:seal:0 interactive']);
  });

  it('a precondition-not-met answered through @xmpp/client is recovered by publishItem (type and application condition survive the adapter)', async () => {
    // @req identity.pep-errors
    const connection = await connectToServer({ service: 'xmpp://127.0.0.1:1', domain: 'localhost', username: 'alice', password: 'pw', resource: 'laptop' });
    const fake = fakes.created.at(-1)!;
    let publishes = 0;
    fake.answer = async (request) => {
      const iq = request as Element;
      if (kindOf(iq) === 'publish' && ++publishes === 1) {
        throw StanzaError.fromElement(errorOf(`<error type='cancel'><conflict xmlns='${STANZA_ERRORS_NS}'/><precondition-not-met xmlns='${PUBSUB_ERRORS_NS}'/></error>`));
      }
      return xml('iq', { type: 'result', id: String(iq.attrs.id) });
    };
    await publishItem(connection, NODE, payload(1));
    expect((fake.requests as Element[]).map(kindOf)).toEqual(['publish', 'configure', 'publish']);

    // A wait answer keeps its type: one retry, after the sleep.
    const sleeps: number[] = [];
    let clock = 0;
    fake.requests.length = 0;
    fake.answer = async () => {
      throw StanzaError.fromElement(errorOf(`<error type='wait'><resource-constraint xmlns='${STANZA_ERRORS_NS}'/></error>`));
    };
    const error = await xmppError(publishItem(connection, NODE, payload(2), { now: () => clock, sleep: async (s) => { sleeps.push(s); clock += s; } }));
    expect([error.type, error.condition]).toEqual(['wait', 'resource-constraint']);
    expect(sleeps).toEqual([WAIT]);
    expect(fake.requests).toHaveLength(2);

    // item-not-found through the adapter is "no item".
    fake.answer = async () => {
      throw StanzaError.fromElement(errorOf(`<error type='cancel'><item-not-found xmlns='${STANZA_ERRORS_NS}'/></error>`));
    };
    expect(await fetchItem(connection, 'bob@localhost', NODE)).toBeUndefined();
    fake.answer = async (request) => xml('iq', { type: 'result', id: String((request as Element).attrs.id) }, [xml('pubsub', { xmlns: PUBSUB_NS }, [xml('items', { node: NODE }, [xml('item', { id: ITEM_ID }, [payload(7)])])])]);
    expect(versionOf(await fetchItem(connection, 'bob@localhost', NODE))).toBe('7');
    await connection.close();
  });

  it('is a package subpath of its own, and the browser-safe entry src/net/index.ts does not re-export it', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(pkg.exports['./net/real']).toEqual({ types: './dist/net/real.d.ts', default: './dist/net/real.js' });
    const index = readFileSync(path.join(ROOT, 'src/net/index.ts'), 'utf8');
    expect(index).not.toMatch(/from '\.\/real(\.js)?'/);
  });
});
