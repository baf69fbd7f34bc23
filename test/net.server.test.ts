/**
 * §offline (transport): the embedded XMPP server behaves as Prosody 0.12 does where Seal depends
 * on it (offline storage after initial presence, archive ids, carbons, PEP access and errors, a
 * lying PEP service), and the seeded adversarial network is deterministic and does what its
 * policy says.
 */
import { describe, expect, it } from 'vitest';
import { encodeBase64 } from '../src/codec/base64.js';
import {
  AdversarialNetwork,
  DELAY_NS,
  EmbeddedServer,
  type NetworkPolicy,
  STANZA_ID_NS,
  XmppError,
  type XmppConnection,
  carbonsEnableIq,
  delayOf,
  mamQueryIq,
  presence,
  readMamFin,
  readPubsubItems,
  stanzaIdOf,
  unwrapCarbon,
  unwrapMamResult,
  unwrapPepEvent,
} from '../src/net/index.js';
import { seededRng } from '../src/suite/rng.js';
import { HINTS_NS } from '../src/wire/marker.js';
import { PUBSUB_NS, configureIq, publishIq, retrieveIq } from '../src/wire/pep.js';
import { type Element, parseXml, xml } from '../src/wire/xml.js';

const ALICE = 'alice@example.org';
const BOB = 'bob@example.org';
const NODE = 'urn:xmpp:seal:0:devices';
const OPEN = { 'pubsub#access_model': 'open' };
/** A fixed clock: 2024-01-01T00:00:00Z, one second per reading. */
function fixedClock(): () => number {
  let t = Date.UTC(2024, 0, 1);
  return () => (t += 1000);
}

function setup(options: { network?: AdversarialNetwork; flavour?: 'prosody' | 'ejabberd' } = {}) {
  const server = new EmbeddedServer({ clock: fixedClock(), ...options });
  server.createAccount(ALICE);
  server.createAccount(BOB);
  return server;
}

function collect(connection: XmppConnection): Element[] {
  const received: Element[] = [];
  connection.onStanza((stanza) => {
    received.push(stanza);
  });
  return received;
}

const messages = (stanzas: Element[]) => stanzas.filter((s) => s.name === 'message');

function chat(to: string, body: string, extra: Element[] = []): Element {
  return xml('message', { to, type: 'chat', id: body }, [xml('body', {}, [body]), ...extra]);
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

describe('offline storage and the archive', () => {
  it('stores a message while no resource is available and delivers it after initial presence, with <delay/> and <stanza-id/>', async () => {
    const server = setup();
    const alice = server.connect(`${ALICE}/phone`);
    await alice.send(presence());
    const bob = server.connect(`${BOB}/laptop`);
    const inbox = collect(bob);
    await alice.send(chat(BOB, 'hello'));
    await server.network.flush();
    expect(inbox).toEqual([]); // connected but not available: stored
    expect(server.offlineOf(BOB)).toHaveLength(1);

    await bob.send(presence());
    await server.network.flush();
    const [delivered] = messages(inbox);
    expect(messages(inbox)).toHaveLength(1);
    expect(delivered!.attrs.from).toBe(`${ALICE}/phone`);
    expect(delivered!.getChildText('body')).toBe('hello');
    expect(delivered!.getChild('delay', DELAY_NS)?.attrs.from).toBe('example.org');
    expect(delayOf(delivered!)).toMatch(/^2024-01-01T00:00:\d\dZ$/);
    expect(stanzaIdOf(delivered!, BOB)).toMatch(/^[0-9a-f]{8}-/);
    expect(server.offlineOf(BOB)).toEqual([]);
  });

  it('stores a body-less message offline, but archives it only with a storage hint (as Prosody)', async () => {
    const server = setup();
    const alice = server.connect(`${ALICE}/phone`);
    await alice.send(xml('message', { to: BOB, type: 'chat' }, [xml('x', { xmlns: 'urn:example' })]));
    await alice.send(xml('message', { to: BOB, type: 'chat' }, [xml('x', { xmlns: 'urn:example' }), xml('store', { xmlns: HINTS_NS })]));
    expect(server.offlineOf(BOB)).toHaveLength(2);
    expect(server.archiveOf(BOB)).toHaveLength(1);
    expect(server.archiveOf(ALICE)).toHaveLength(1);
    const [plain, hinted] = server.offlineOf(BOB);
    expect(plain!.getChild('stanza-id', STANZA_ID_NS)).toBeUndefined();
    expect(stanzaIdOf(hinted!, BOB)).toBe(server.archiveOf(BOB)[0]!.id);
  });

  it('answers an archive query with the same message under the same id, then <fin complete=true/>', async () => {
    const server = setup();
    const alice = server.connect(`${ALICE}/phone`);
    const bob = server.connect(`${BOB}/laptop`);
    const inbox = collect(bob);
    await alice.send(chat(BOB, 'archived'));
    await bob.send(presence());
    await server.network.flush();
    const offline = messages(inbox)[0]!;
    const id = stanzaIdOf(offline, BOB)!;

    const fin = readMamFin(await bob.iq(mamQueryIq('q1', 'catch-up')));
    expect(fin).toEqual({ complete: true, first: id, last: id, count: 1 });
    await server.network.flush();
    const results = messages(inbox).flatMap((m) => unwrapMamResult(m, BOB) ?? []);
    expect(results).toHaveLength(1);
    expect(results[0]!.id).toBe(id);
    expect(results[0]!.queryid).toBe('catch-up');
    expect(results[0]!.stamp).toMatch(/^2024-01-01T/);
    const archived = results[0]!.message;
    expect(archived.attrs.from).toBe(`${ALICE}/phone`);
    expect(archived.attrs.id).toBe(offline.attrs.id);
    expect(archived.getChildText('body')).toBe('archived');
    // The same message twice: the client must recognise it by the id.
    expect(stanzaIdOf(offline, BOB)).toBe(results[0]!.id);
  });

  it('pages the archive (XEP-0059) and filters by correspondent', async () => {
    const server = setup();
    server.createAccount('carol@example.org');
    const alice = server.connect(`${ALICE}/phone`);
    const carol = server.connect('carol@example.org/x');
    for (let i = 0; i < 5; i++) await alice.send(chat(BOB, `a${i}`));
    await carol.send(chat(BOB, 'c0'));
    const bob = server.connect(`${BOB}/laptop`);
    const page1 = readMamFin(await bob.iq(mamQueryIq('p1', 'p', { max: 2 })))!;
    expect(page1.complete).toBe(false);
    expect(page1.count).toBe(6);
    const page2 = readMamFin(await bob.iq(mamQueryIq('p2', 'p', { max: 10, after: page1.last! })))!;
    expect(page2.complete).toBe(true);
    expect(page2.count).toBe(6);
    expect(readMamFin(await bob.iq(mamQueryIq('p3', 'p', { with: 'carol@example.org' })))!.count).toBe(1);
    const unknown = await xmppError(bob.iq(mamQueryIq('p4', 'p', { after: 'no-such-id' })));
    expect(unknown.condition).toBe('item-not-found');
    const foreign = await xmppError(bob.iq(xml('iq', { type: 'set', to: ALICE }, [xml('query', { xmlns: 'urn:xmpp:mam:2' })])));
    expect(foreign.condition).toBe('forbidden');
  });

  it('strips a <stanza-id/> forged in the name of the recipient (XEP-0359 §7)', async () => {
    const server = setup();
    const alice = server.connect(`${ALICE}/phone`);
    await alice.send(chat(BOB, 'forged', [xml('stanza-id', { xmlns: STANZA_ID_NS, by: BOB, id: 'forged-id' })]));
    const [stored] = server.offlineOf(BOB);
    expect(stored!.getChildren('stanza-id', STANZA_ID_NS)).toHaveLength(1);
    expect(stanzaIdOf(stored!, BOB)).not.toBe('forged-id');
  });

  it('delivers to every available resource, and bounces a message to an unknown account', async () => {
    const server = setup();
    const alice = server.connect(`${ALICE}/phone`);
    const aliceInbox = collect(alice);
    const bob1 = server.connect(`${BOB}/one`);
    const bob2 = server.connect(`${BOB}/two`);
    const inbox1 = collect(bob1);
    const inbox2 = collect(bob2);
    await bob1.send(presence());
    await bob2.send(presence());
    await alice.send(chat(BOB, 'both'));
    await alice.send(chat('nobody@example.org', 'lost'));
    await server.network.flush();
    expect(messages(inbox1).map((m) => m.getChildText('body'))).toEqual(['both']);
    expect(messages(inbox2).map((m) => m.getChildText('body'))).toEqual(['both']);
    expect(stanzaIdOf(messages(inbox1)[0]!, BOB)).toBe(stanzaIdOf(messages(inbox2)[0]!, BOB));
    const bounce = messages(aliceInbox)[0]!;
    expect(bounce.attrs.type).toBe('error');
    expect(XmppError.fromStanza(bounce).condition).toBe('service-unavailable');
    // Bob's resources saw each other's presence.
    expect(inbox1.filter((s) => s.name === 'presence').map((p) => p.attrs.from)).toEqual([`${BOB}/two`]);
  });
});

describe('carbons (XEP-0280)', () => {
  it('copies a sent message to the account\'s other resource, and a message to one resource to the other', async () => {
    const server = setup();
    const phone = server.connect(`${ALICE}/phone`);
    const laptop = server.connect(`${ALICE}/laptop`);
    const laptopInbox = collect(laptop);
    await phone.send(presence());
    await laptop.send(presence());
    expect((await laptop.iq(carbonsEnableIq('c1'))).attrs.type).toBe('result');
    const bob = server.connect(`${BOB}/x`);
    await bob.send(presence());

    await phone.send(chat(BOB, 'from phone'));
    await bob.send(chat(`${ALICE}/phone`, 'to phone'));
    await server.network.flush();
    const carbons = messages(laptopInbox).map((m) => unwrapCarbon(m, ALICE));
    expect(carbons.map((c) => c?.direction)).toEqual(['sent', 'received']);
    expect(carbons[0]!.message.attrs.from).toBe(`${ALICE}/phone`);
    expect(carbons[0]!.message.attrs.to).toBe(BOB);
    expect(carbons[0]!.message.getChildText('body')).toBe('from phone');
    expect(carbons[1]!.message.getChildText('body')).toBe('to phone');
    expect(stanzaIdOf(carbons[1]!.message, ALICE)).toBeDefined();
  });

  it('ignores a carbon that does not come from the own bare JID (XEP-0280 §11)', () => {
    const fake = xml('message', { from: BOB, to: `${ALICE}/laptop` }, [
      xml('sent', { xmlns: 'urn:xmpp:carbons:2' }, [xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, [xml('message', { xmlns: 'jabber:client', from: `${ALICE}/phone`, to: BOB })])]),
    ]);
    expect(unwrapCarbon(fake, ALICE)).toBeUndefined();
    expect(unwrapCarbon(fake, BOB)?.direction).toBe('sent');
  });

  it('sends no carbon to a resource that did not enable them', async () => {
    const server = setup();
    const phone = server.connect(`${ALICE}/phone`);
    const laptop = server.connect(`${ALICE}/laptop`);
    const laptopInbox = collect(laptop);
    await phone.send(presence());
    await laptop.send(presence());
    await phone.send(chat(BOB, 'quiet'));
    await server.network.flush();
    expect(messages(laptopInbox)).toEqual([]);
  });
});

describe('iq between clients (RFC 6120 §10.5.3)', () => {
  const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

  it('routes a request to another account\'s full JID to that connection only, and its answer back; no carbon, no archive, no offline storage', async () => {
    const server = setup();
    const alice = server.connect(`${ALICE}/phone`);
    const aliceOther = server.connect(`${ALICE}/laptop`);
    const bob = server.connect(`${BOB}/x`);
    const bobOther = server.connect(`${BOB}/y`);
    const [aliceInbox, aliceOtherInbox, bobInbox, bobOtherInbox] = [collect(alice), collect(aliceOther), collect(bob), collect(bobOther)];
    for (const c of [alice, aliceOther, bob, bobOther]) await c.send(presence());
    for (const c of [aliceOther, bobOther]) await c.iq(carbonsEnableIq(`c-${c.jid}`));
    await server.network.flush();
    await alice.send(xml('iq', { type: 'set', to: `${BOB}/x`, id: 'step-1' }, [xml('interactive', { xmlns: 'urn:xmpp:seal:0' })]));
    await server.network.flush();
    const requests = bobInbox.filter((s) => s.name === 'iq');
    expect(requests.map((r) => [r.attrs.type, r.attrs.from, r.attrs.id])).toEqual([['set', `${ALICE}/phone`, 'step-1']]);
    await bob.send(xml('iq', { type: 'result', to: `${ALICE}/phone`, id: 'step-1' }));
    await server.network.flush();
    expect(aliceInbox.filter((s) => s.name === 'iq').map((r) => [r.attrs.type, r.attrs.from, r.attrs.id])).toEqual([['result', `${BOB}/x`, 'step-1']]);
    // The other resources saw nothing of it (no carbons of iq stanzas), and nothing was archived.
    expect([...aliceOtherInbox, ...bobOtherInbox].filter((s) => s.name !== 'presence')).toEqual([]);
    expect(readMamFin(await bob.iq(mamQueryIq('m1', 'q1')))?.count).toBe(0);
  });

  it('answers a request to a resource that is not connected with service-unavailable (nothing stored); drops an answer to one', async () => {
    const server = setup();
    const alice = server.connect(`${ALICE}/phone`);
    const aliceInbox = collect(alice);
    await alice.send(presence());
    await alice.send(xml('iq', { type: 'set', to: `${BOB}/gone`, id: 'step-1' }, [xml('interactive', { xmlns: 'urn:xmpp:seal:0' })]));
    await alice.send(xml('iq', { type: 'result', to: `${BOB}/gone`, id: 'other' }));
    await server.network.flush();
    const answers = aliceInbox.filter((s) => s.name === 'iq');
    expect(answers.map((a) => [a.attrs.type, a.attrs.from, a.attrs.id, a.getChild('error')?.getChild('service-unavailable', STANZAS) !== undefined])).toEqual([['error', `${BOB}/gone`, 'step-1', true]]);
    // Bob's resource coming online later receives nothing.
    const bob = server.connect(`${BOB}/gone`);
    const bobInbox = collect(bob);
    await bob.send(presence());
    await server.network.flush();
    expect(bobInbox.filter((s) => s.name !== 'presence')).toEqual([]);
    // iq() to a resource that is not connected fails the same way, at once.
    expect((await xmppError(alice.iq(xml('iq', { type: 'get', to: `${BOB}/other`, id: 'd1' }, [xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })])))).condition).toBe('service-unavailable');
  });

  it('iq() to another client\'s full JID resolves with that client\'s answer, which does not reach the handlers; server-answered requests still work through send()', async () => {
    const server = setup();
    const alice = server.connect(`${ALICE}/phone`);
    const bob = server.connect(`${BOB}/x`);
    const aliceInbox = collect(alice);
    bob.onStanza(async (stanza) => {
      if (stanza.name === 'iq' && stanza.attrs.type === 'get') await bob.send(xml('iq', { type: 'error', to: String(stanza.attrs.from), id: String(stanza.attrs.id) }, [xml('error', { type: 'cancel' }, [xml('feature-not-implemented', { xmlns: STANZAS })])]));
    });
    const asked = xmppError(alice.iq(xml('iq', { type: 'get', to: `${BOB}/x`, id: 'd2' }, [xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })])));
    await server.network.flush();
    expect((await asked).condition).toBe('feature-not-implemented');
    // A ping to the own server through send(): the server's answer arrives as a stanza.
    await alice.send(xml('iq', { type: 'get', id: 'ping-1' }, [xml('ping', { xmlns: 'urn:xmpp:ping' })]));
    await server.network.flush();
    expect(aliceInbox.filter((s) => s.name === 'iq').map((a) => [a.attrs.type, a.attrs.id])).toEqual([['result', 'ping-1']]);
  });
});

describe('PEP (XEP-0163)', () => {
  const payload = (n: number) => xml('devices', { xmlns: 'urn:xmpp:seal:0', version: String(n) });

  it('publishes with access model open, readable by another account; replaces item "current"; item-not-found', async () => {
    const server = setup();
    const alice = server.connect(`${ALICE}/phone`);
    const bob = server.connect(`${BOB}/x`);
    const published = await alice.iq(publishIq('p1', NODE, 'current', payload(1), OPEN));
    expect(published.getChild('pubsub', PUBSUB_NS)?.getChild('publish')?.getChild('item')?.attrs.id).toBe('current');

    const read1 = await bob.iq(retrieveIq('r1', ALICE, NODE, 'current'));
    expect(read1.attrs.from).toBe(ALICE);
    expect(readPubsubItems(read1).map((i) => [i.id, i.payload?.attrs.version])).toEqual([['current', '1']]);

    await alice.iq(publishIq('p2', NODE, 'current', payload(2), OPEN));
    const read2 = await bob.iq(retrieveIq('r2', ALICE, NODE, 'current'));
    expect(readPubsubItems(read2).map((i) => [i.id, i.payload?.attrs.version])).toEqual([['current', '2']]);
    expect(server.pepItems(ALICE, NODE)).toHaveLength(1);
    expect(server.pepHistory(ALICE, NODE)).toHaveLength(2);

    expect((await xmppError(bob.iq(retrieveIq('r3', ALICE, 'urn:example:none', 'current')))).condition).toBe('item-not-found');
    expect((await xmppError(bob.iq(retrieveIq('r4', ALICE, NODE, 'other')))).condition).toBe('item-not-found');
    expect((await xmppError(bob.iq(retrieveIq('r5', 'nobody@example.org', NODE, 'current')))).condition).toBe('service-unavailable');
  });

  it('answers forbidden to a non-owner reading a node without access model open, and to a foreign publish', async () => {
    const server = setup();
    const alice = server.connect(`${ALICE}/phone`);
    const bob = server.connect(`${BOB}/x`);
    await alice.iq(publishIq('p1', 'urn:example:private', 'current', payload(1), {}));
    const denied = await xmppError(bob.iq(retrieveIq('r1', ALICE, 'urn:example:private', 'current')));
    expect([denied.type, denied.condition]).toEqual(['auth', 'forbidden']);
    expect(readPubsubItems(await alice.iq(retrieveIq('r2', ALICE, 'urn:example:private', 'current')))).toHaveLength(1);
    const foreign = publishIq('p2', NODE, 'current', payload(1), OPEN);
    foreign.attrs.to = ALICE;
    expect((await xmppError(bob.iq(foreign))).condition).toBe('forbidden');
    const empty = xml('iq', { type: 'set' }, [xml('pubsub', { xmlns: PUBSUB_NS }, [xml('publish', { node: NODE }, [xml('item', { id: 'current' })])])]);
    const noPayload = await xmppError(alice.iq(empty));
    expect([noPayload.condition, noPayload.application]).toEqual(['bad-request', 'payload-required']);
  });

  it('rejects publish-options that contradict the node with conflict + precondition-not-met; configure then publish works', async () => {
    const server = setup();
    const alice = server.connect(`${ALICE}/phone`);
    await alice.iq(publishIq('p1', NODE, 'current', payload(1), {}));
    const error = await xmppError(alice.iq(publishIq('p2', NODE, 'current', payload(2), OPEN)));
    expect([error.type, error.condition, error.application]).toEqual(['cancel', 'conflict', 'precondition-not-met']);
    expect(server.pepItems(ALICE, NODE)[0]!.getChild('devices')?.attrs.version).toBe('1');
    await alice.iq(configureIq('c1', NODE, OPEN));
    await alice.iq(publishIq('p3', NODE, 'current', payload(3), OPEN));
    expect(server.pepItems(ALICE, NODE)[0]!.getChild('devices')?.attrs.version).toBe('3');
  });

  it('imitates ejabberd: unknown publish option is a wait error, one item per node, presence-subscription-required', async () => {
    const server = setup({ flavour: 'ejabberd' });
    const alice = server.connect(`${ALICE}/phone`);
    const bob = server.connect(`${BOB}/x`);
    const wait = await xmppError(alice.iq(publishIq('p1', NODE, 'current', payload(1), { ...OPEN, 'pubsub#max_items': 'max' })));
    expect([wait.type, wait.condition]).toEqual(['wait', 'resource-constraint']);
    for (const id of ['dev1', 'dev2', 'dev3']) await alice.iq(publishIq(id, 'urn:example:many', id, payload(1), OPEN));
    expect(server.pepItems(ALICE, 'urn:example:many').map((i) => i.attrs.id)).toEqual(['dev3']);
    await alice.iq(publishIq('p2', 'urn:example:private', 'current', payload(1), {}));
    const denied = await xmppError(bob.iq(retrieveIq('r1', ALICE, 'urn:example:private', 'current')));
    expect([denied.type, denied.condition, denied.application]).toEqual(['auth', 'not-authorized', 'presence-subscription-required']);
  });

  it('notifies subscribed accounts of new items and sends the last item on initial presence', async () => {
    const server = setup();
    const alice = server.connect(`${ALICE}/phone`);
    await alice.iq(publishIq('p1', NODE, 'current', payload(1), OPEN));
    server.subscribeToPep(BOB, ALICE);
    const bob = server.connect(`${BOB}/x`);
    const inbox = collect(bob);
    await bob.send(presence());
    await alice.iq(publishIq('p2', NODE, 'current', payload(2), OPEN));
    await alice.iq(publishIq('p3', 'urn:example:private', 'current', payload(9), {}));
    await server.network.flush();
    const events = messages(inbox).flatMap((m) => unwrapPepEvent(m) ?? []);
    expect(events.map((e) => [e.from, e.node, e.items[0]?.id, e.items[0]?.payload?.attrs.version])).toEqual([
      [ALICE, NODE, 'current', '1'],
      [ALICE, NODE, 'current', '2'],
    ]);
  });

  it('serves what the adversary chooses: a stale item, or none', async () => {
    const server = setup();
    const alice = server.connect(`${ALICE}/phone`);
    const bob = server.connect(`${BOB}/x`);
    const inbox = collect(bob);
    await bob.send(presence());
    server.subscribeToPep(BOB, ALICE);
    await alice.iq(publishIq('p1', NODE, 'current', payload(1), OPEN));
    await alice.iq(publishIq('p2', NODE, 'current', payload(2), OPEN));
    server.adversary.rewritePepItem = (owner, node, _item, requester) => (requester === BOB ? server.pepHistory(owner, node)[0] : undefined);
    const stale = await bob.iq(retrieveIq('r1', ALICE, NODE, 'current'));
    expect(readPubsubItems(stale)[0]!.payload?.attrs.version).toBe('1');
    // The owner is told the truth.
    expect(readPubsubItems(await alice.iq(retrieveIq('r2', ALICE, NODE, 'current')))[0]!.payload?.attrs.version).toBe('2');
    await alice.iq(publishIq('p3', NODE, 'current', payload(3), OPEN));
    await server.network.flush();
    const versions = messages(inbox).flatMap((m) => unwrapPepEvent(m)?.items.map((i) => i.payload?.attrs.version) ?? []);
    expect(versions).toEqual(['1', '2', '1']);

    server.adversary.rewritePepItem = () => null;
    expect((await xmppError(bob.iq(retrieveIq('r3', ALICE, NODE, 'current')))).condition).toBe('item-not-found');
    delete server.adversary.rewritePepItem;
    expect(readPubsubItems(await bob.iq(retrieveIq('r4', ALICE, NODE, 'current')))[0]!.payload?.attrs.version).toBe('3');
  });
});

describe('adversarial network', () => {
  /** Alice sends `count` messages to Bob (available); returns what Bob received, in order, and the network. */
  async function run(count: number, network: AdversarialNetwork, payload: (i: number) => Element[] = (i) => [xml('body', {}, [String(i)])]) {
    const server = setup({ network });
    const alice = server.connect(`${ALICE}/phone`);
    const bob = server.connect(`${BOB}/x`);
    await bob.send(presence());
    await network.flush();
    const start = network.stats.delivered;
    const inbox = collect(bob);
    for (let i = 0; i < count; i++) await alice.send(xml('message', { to: BOB, type: 'chat', id: `m${i}` }, payload(i)));
    await network.flush();
    return { received: messages(inbox), deliveredBefore: start };
  }

  it('delivers everything exactly once, in order, under the zero policy', async () => {
    const network = new AdversarialNetwork();
    const { received } = await run(50, network);
    expect(received.map((m) => m.attrs.id)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(network.stats).toMatchObject({ sent: 50, delivered: 50, dropped: 0, duplicated: 0, replayed: 0, tampered: 0, reordered: 0, delayed: 0 });
    expect(network.pending).toBe(0);
  });

  const POLICY: Partial<NetworkPolicy> = { drop: 0.05, duplicate: 0.05, reorder: 0.1, reorderWindow: 3, delay: 0.02, replayOld: 0.03, tamper: 0.05 };

  it('is reproducible: the same seed gives the same stats and the same order', async () => {
    const payload = (i: number) => [xml('body', {}, [String(i)]), xml('payload', { xmlns: 'urn:xmpp:seal:0' }, [encodeBase64(new Uint8Array([i, i + 1, i + 2]))])];
    const a = new AdversarialNetwork({ seed: 'net-1', policy: POLICY });
    const b = new AdversarialNetwork({ seed: 'net-1', policy: POLICY });
    const c = new AdversarialNetwork({ seed: 'net-2', policy: POLICY });
    const ra = await run(200, a, payload);
    const rb = await run(200, b, payload);
    const rc = await run(200, c, payload);
    const trace = (r: { received: Element[] }) => r.received.map((m) => `${m.attrs.id}:${m.getChildText('payload')}`);
    expect(b.stats).toEqual(a.stats);
    expect(trace(rb)).toEqual(trace(ra));
    expect(trace(rc)).not.toEqual(trace(ra));
    expect(a.stats.delivered).toBe(a.stats.sent - a.stats.dropped + a.stats.duplicated + a.stats.replayed);
  });

  it('drops and duplicates at about the configured rates over 1000 stanzas', async () => {
    const network = new AdversarialNetwork({ rng: seededRng('rates'), policy: { drop: 0.1, duplicate: 0.1 } });
    const { received } = await run(1000, network);
    const { dropped, duplicated, delivered, sent } = network.stats;
    // Exact for this seed (a change here means the policy's use of randomness changed).
    expect({ sent, dropped, duplicated, delivered }).toEqual({ sent: 1000, dropped: 95, duplicated: 89, delivered: 994 });
    // And near the configured 10 % each (±4 standard deviations).
    expect(dropped).toBeGreaterThan(60);
    expect(dropped).toBeLessThan(140);
    expect(duplicated).toBeGreaterThan(60);
    expect(duplicated).toBeLessThan(140);
    expect(received).toHaveLength(delivered);
    const ids = received.map((m) => m.attrs.id as string);
    expect(new Set(ids).size).toBe(1000 - dropped);
  });

  it('reorders within the window without losing or duplicating', async () => {
    const network = new AdversarialNetwork({ seed: 'reorder', policy: { reorder: 0.3, reorderWindow: 2 } });
    const { received } = await run(100, network);
    const ids = received.map((m) => Number(String(m.attrs.id).slice(1)));
    expect([...ids].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(ids).not.toEqual([...ids].sort((x, y) => x - y));
    expect(network.stats.reordered).toBeGreaterThan(0);
  });

  it('replays old stanzas and delays some to the end', async () => {
    const network = new AdversarialNetwork({ seed: 'replay', policy: { replayOld: 0.2, delay: 0.1 } });
    const { received } = await run(100, network);
    const ids = received.map((m) => m.attrs.id as string);
    expect(network.stats.replayed).toBeGreaterThan(0);
    expect(network.stats.delayed).toBeGreaterThan(0);
    expect(ids).toHaveLength(100 + network.stats.replayed);
    expect(new Set(ids).size).toBe(100);
  });

  it('tampers by flipping exactly one bit of one base64 text node, keeping the XML well-formed', async () => {
    const network = new AdversarialNetwork({ seed: 'tamper', policy: { tamper: 1 } });
    const original = new Uint8Array(32).fill(0xaa);
    const { received } = await run(20, network, () => [xml('payload', { xmlns: 'urn:xmpp:seal:0' }, [encodeBase64(original)]), xml('body', {}, ['not base64!'])]);
    expect(network.stats.tampered).toBe(20);
    for (const message of received) {
      const reparsed = parseXml(message.toString());
      expect(reparsed.getChildText('body')).toBe('not base64!');
      const bytes = Uint8Array.from(atob(reparsed.getChildText('payload')!), (ch) => ch.charCodeAt(0));
      const flipped = bytes.reduce((n, byte, i) => n + popcount(byte ^ original[i]!), 0);
      expect(flipped).toBe(1);
    }
  });

  it('shows every stanza to the wire observer, both ways', async () => {
    const seen: string[] = [];
    const network = new AdversarialNetwork({ onWire: (direction, stanza, jid) => seen.push(`${direction} ${jid} ${stanza.name}`) });
    const server = setup({ network });
    const alice = server.connect(`${ALICE}/phone`);
    await alice.send(presence());
    await alice.iq(carbonsEnableIq('c1'));
    await alice.send(chat(ALICE, 'self'));
    await network.flush();
    expect(seen).toEqual([
      `to-server ${ALICE}/phone presence`,
      `to-server ${ALICE}/phone iq`,
      `to-client ${ALICE}/phone iq`,
      `to-server ${ALICE}/phone message`,
      `to-client ${ALICE}/phone message`,
    ]);
  });

  it('rejects probabilities outside [0, 1]', () => {
    expect(() => new AdversarialNetwork({ policy: { drop: 1.5 } })).toThrow(RangeError);
    expect(() => new AdversarialNetwork({ policy: { reorderWindow: 0 } })).toThrow(RangeError);
  });
});

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v > 0; v >>= 1) n += v & 1;
  return n;
}
