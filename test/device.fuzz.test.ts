/**
 * §device: `receive()` fuzzed with mutated real stanzas (sealed messages, a handshake, a
 * key-only message, an interactive message, carbons, archive results, a device-list
 * notification, an error bounce), forged wrappers around them, and restarts of the device from
 * its store at random points. Properties, for every input:
 *
 * - no exception escapes `receive()`;
 * - an input that causes none of the events that legitimately change state (opened,
 *   session-started, repair-sent/-received, held, decision-needed, key-changed, device-added,
 *   device-removed) leaves the store byte for byte as it was — a duplicate included; the only
 *   exceptions are stated where they are checked (a device list the input carries or makes the
 *   device fetch, and the repair log of a repair attempt);
 * - no message is opened twice (by body and by eventId), across restarts;
 * - a restart changes nothing in the store and keeps the device id;
 * - text that is not namespace-well-formed (a duplicate attribute, two roots, text outside the
 *   root, a mismatched end tag, an undeclared prefix) is `malformed-xml` for `parseXml`, and the
 *   tree a lenient parser (ltx's, as xmpp.js uses) builds from it goes through the properties above;
 * - a lookalike (an element moved into another namespace with its local name kept) on the path
 *   to a `<sealed/>` or `<interactive/>` changes nothing; a prefix bound to no namespace is
 *   `malformed-xml` and changes nothing.
 *
 * Every run starts the device from the same prepared store, so the real stanzas are new to it.
 * `SEAL_FUZZ_INPUTS` sets the number of inputs (default sized for CI); the seed is printed.
 */
import fc from 'fast-check';
import { parse as lenientParse } from 'ltx';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../src/codec/base64.js';
import { MemoryStore, type StoreRecord } from '../src/device/store.js';
import type { SealEvent } from '../src/device/types.js';
import { DEVICE_LIST_NODE } from '../src/identity/pep.js';
import { SealClient, type XmppConnection } from '../src/net/index.js';
import { isSealError } from '../src/errors.js';
import { seededRng } from '../src/suite/rng.js';
import { type Element, childElements, parseXml, xml } from '../src/wire/xml.js';
import { fcParams } from './support/property.js';
import { ALICE, BOB, MALLORY, SealWorld } from './support/store-conformance.js';

const INPUTS = Number(process.env.SEAL_FUZZ_INPUTS ?? 6000);
const PER_RUN = 250;
const SEAL = 'urn:xmpp:seal:0';
const QUERYID = '{{queryid}}';

/**
 * Events after which the store may have changed. (Stricter than "no opened, duplicate,
 * session-started or device-list event": a duplicate changes nothing either.)
 */
const CHANGING: ReadonlySet<SealEvent['kind']> = new Set(['opened', 'session-started', 'repair-sent', 'repair-received', 'held', 'decision-needed', 'key-changed', 'device-added', 'device-removed']);

interface Prepared {
  world: SealWorld;
  clock: number;
  records: StoreRecord[];
  /** The real stanzas, as text; `{{queryid}}` stands for the device's current archive query id. */
  stanzas: string[];
  /** Bodies the prepared device has already opened. */
  openedBefore: string[];
}

function lastSealed(sent: readonly Element[], fromFull: string, predicate: (s: Element) => boolean = () => true): Element {
  const stanza = parseXml([...sent].reverse().find((s) => s.getChild('sealed', SEAL) !== undefined && predicate(s))!.toString());
  stanza.attrs.from = fromFull;
  return stanza;
}

/** `inner` as a server forwards it: qualified by jabber:client (XEP-0297). */
const asForwarded = (inner: Element): Element => {
  if (inner.attrs.xmlns === undefined) inner.attrs.xmlns = 'jabber:client';
  return inner;
};
const carbon = (kind: 'sent' | 'received', from: string | undefined, inner: Element) =>
  xml('message', { ...(from === undefined ? {} : { from }), to: `${ALICE}/a`, type: 'chat' }, [xml(kind, { xmlns: 'urn:xmpp:carbons:2' }, [xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, [asForwarded(inner)])])]);
const archived = (from: string | undefined, queryid: string, inner: Element) =>
  xml('message', { ...(from === undefined ? {} : { from }), to: `${ALICE}/a`, id: 'mam-1' }, [xml('result', { xmlns: 'urn:xmpp:mam:2', queryid, id: 'archive-1' }, [xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, [xml('delay', { xmlns: 'urn:xmpp:delay', stamp: '2026-11-26T09:00:00Z' }), asForwarded(inner)])])]);

/** A world in which Alice's device (stopped, its store kept) has real stanzas waiting. */
async function prepare(): Promise<Prepared> {
  const world = new SealWorld('fuzz');
  const store = new MemoryStore();
  const a = await world.client(`${ALICE}/a`, { store });
  const b = await world.client(`${BOB}/b`);
  await a.client.send(BOB, 'hello bob');
  await world.flush();
  await b.client.send(ALICE, 'hello alice');
  await world.flush();
  const b2 = await world.client(`${BOB}/b2`, { accountSecret: b.client.dangerouslyAccountSecret()! });
  await world.flush();
  const seen = lastSealed(b.wire.sent, `${BOB}/b`, (s) => s.attrs.to === ALICE && s.getChild('body') !== undefined);
  const confirmation = lastSealed(b.wire.sent, `${BOB}/b`, (s) => s.attrs.to === ALICE && s.getChild('body') === undefined);
  await a.wire.connection.close();
  const records = store.snapshot();
  const clock = world.clock;
  // What arrives for Alice while she is away.
  await b.client.send(ALICE, 'fuzz live');
  const live = lastSealed(b.wire.sent, `${BOB}/b`, (s) => s.attrs.to === ALICE);
  await b2.client.send(ALICE, 'fuzz handshake'); // a new session from Bob's second device
  const handshake = lastSealed(b2.wire.sent, `${BOB}/b2`, (s) => s.attrs.to === ALICE);
  await b.client.startInteractive(`${ALICE}/a`, a.client.state.deviceId);
  const interactive = parseXml([...b.wire.sent].reverse().find((s) => s.getChild('interactive', SEAL) !== undefined)!.toString());
  interactive.attrs.from = `${BOB}/b`;
  const list = world.server.pepItems(BOB, DEVICE_LIST_NODE)[0]!;
  const notification = xml('message', { from: BOB, to: `${ALICE}/a`, type: 'headline', id: 'pep-1' }, [xml('event', { xmlns: 'http://jabber.org/protocol/pubsub#event' }, [xml('items', { node: DEVICE_LIST_NODE }, [list])])]);
  const bounce = xml('message', { from: BOB, to: `${ALICE}/a`, type: 'error', id: 'seal-x' }, [live.getChild('sealed', SEAL)!, xml('error', { type: 'cancel' }, [xml('service-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })])]);
  await b.wire.connection.close();
  await b2.wire.connection.close();
  const stanzas = [
    live,
    handshake,
    seen,
    confirmation,
    interactive,
    carbon('received', ALICE, live),
    carbon('sent', ALICE, handshake),
    archived(undefined, QUERYID, live),
    archived(ALICE, QUERYID, handshake),
    archived(undefined, QUERYID, seen),
    notification,
    bounce,
  ].map((s) => s.toString());
  return { world, clock, records, stanzas, openedBefore: ['hello alice'] };
}

// ------------------------------------------------------------------ mutations

const VALUES = ['', 'x', '0', '1', '-1', '4294967296', 'true', 'error', 'chat', 'headline', ALICE, `${ALICE}/a`, `${ALICE}/b`, BOB, `${BOB}/b`, `${BOB}/b2`, MALLORY, `${MALLORY}/x`, 'urn:xmpp:seal:0', 'urn:xmpp:carbons:2', 'urn:xmpp:mam:2', 'AAAA', '=', QUERYID, 'other-query', '2026-11-26T09:00:00Z', '\u00e9\u{1F512}'];
const NAMES = ['from', 'to', 'type', 'id', 'xmlns', 'sid', 'rid', 'jid', 'handshake', 'commitment', 'queryid', 'step', 'device', 'node', 'issued', 'signing', 'key', 'signature', 'added'];
const FROMS = [undefined, ALICE, `${ALICE}/a`, `${ALICE}/other`, BOB, `${BOB}/b`, MALLORY, `${MALLORY}/x`, 'example.org', ''];

type Op =
  | { k: 'attr'; target: number; name: number; value: number }
  | { k: 'delattr'; target: number; name: number }
  | { k: 'flip'; target: number; pos: number; bit: number }
  | { k: 'remove'; target: number }
  | { k: 'dup'; target: number }
  | { k: 'text'; target: number; value: number }
  | { k: 'from'; value: number }
  | { k: 'queryid'; value: number };

type Wrap = { k: 'none' } | { k: 'carbon'; sent: boolean; from: number } | { k: 'mam'; from: number; queryid: number };

/** A text-level break of well-formedness. */
type Breakage = 'dup-attr' | 'two-roots' | 'text-outside' | 'mismatch' | 'undeclared';
/** A lookalike: `foreign` moves an element into another namespace (prefixed or by default), `same` writes it with a prefix bound to its own, `unbound` with a prefix declared nowhere. */
type Lookalike = 'foreign-prefix' | 'foreign-default' | 'same' | 'unbound';

type Input =
  | { k: 'restart' }
  | { k: 'stanza'; base: number; ops: Op[]; wrap: Wrap }
  | { k: 'malformed'; base: number; breakage: Breakage; at: number }
  | { k: 'lookalike'; base: number; target: number; variant: Lookalike; wrap: Wrap };

const nat = fc.nat({ max: 1 << 20 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('attr' as const), target: nat, name: nat, value: nat }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('delattr' as const), target: nat, name: nat }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('flip' as const), target: nat, pos: nat, bit: fc.nat({ max: 7 }) }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('remove' as const), target: nat }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('dup' as const), target: nat }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('text' as const), target: nat, value: nat }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('from' as const), value: nat }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('queryid' as const), value: nat }), weight: 1 },
);
const wrapArb: fc.Arbitrary<Wrap> = fc.oneof(
  { arbitrary: fc.constant({ k: 'none' as const }), weight: 6 },
  { arbitrary: fc.record({ k: fc.constant('carbon' as const), sent: fc.boolean(), from: nat }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('mam' as const), from: nat, queryid: nat }), weight: 1 },
);
const inputArb = (bases: number): fc.Arbitrary<Input> =>
  fc.oneof(
    { arbitrary: fc.constant({ k: 'restart' as const }), weight: 1 },
    { arbitrary: fc.record({ k: fc.constant('stanza' as const), base: fc.nat({ max: bases - 1 }), ops: fc.array(opArb, { maxLength: 3 }), wrap: wrapArb }), weight: 60 },
    { arbitrary: fc.record({ k: fc.constant('malformed' as const), base: fc.nat({ max: bases - 1 }), breakage: fc.constantFrom<Breakage>('dup-attr', 'two-roots', 'text-outside', 'mismatch', 'undeclared'), at: nat }), weight: 8 },
    { arbitrary: fc.record({ k: fc.constant('lookalike' as const), base: fc.nat({ max: bases - 1 }), target: nat, variant: fc.constantFrom<Lookalike>('foreign-prefix', 'foreign-default', 'same', 'unbound'), wrap: wrapArb }), weight: 12 },
  );

function elementsOf(root: Element): Element[] {
  const out: Element[] = [root];
  for (let i = 0; i < out.length; i++) out.push(...childElements(out[i]!));
  return out;
}

function pick<T>(items: readonly T[], n: number): T {
  return items[n % items.length]!;
}

/** Applies `op` to `root` in place (returns the root, which a wrapper may replace). */
function mutate(root: Element, op: Op, queryid: string): void {
  const all = elementsOf(root);
  const value = (n: number) => pick(VALUES, n).replace(QUERYID, queryid);
  switch (op.k) {
    case 'attr': {
      const target = pick(all, op.target);
      const names = [...Object.keys(target.attrs), ...NAMES];
      target.attrs[pick(names, op.name)] = value(op.value);
      return;
    }
    case 'delattr': {
      const target = pick(all, op.target);
      const names = Object.keys(target.attrs);
      if (names.length > 0) delete target.attrs[pick(names, op.name)];
      return;
    }
    case 'flip': {
      const texts = all.filter((e) => e.children.some((c) => typeof c === 'string' && c.length > 0));
      const attrs = all.flatMap((e) => Object.keys(e.attrs).filter((k) => /^[A-Za-z0-9+/=]{8,}$/.test(String(e.attrs[k]))).map((k) => [e, k] as const));
      const slots = texts.length + attrs.length;
      if (slots === 0) return;
      const slot = op.target % slots;
      const read = slot < texts.length ? texts[slot]!.getText() : String(attrs[slot - texts.length]![0].attrs[attrs[slot - texts.length]![1]]);
      let flipped: string;
      try {
        const bytes = decodeBase64(read);
        if (bytes.length === 0) return;
        bytes[op.pos % bytes.length]! ^= 1 << op.bit;
        flipped = encodeBase64(bytes);
      } catch {
        const i = op.pos % read.length;
        flipped = read.slice(0, i) + String.fromCharCode(read.charCodeAt(i) ^ (1 << op.bit)) + read.slice(i + 1);
      }
      if (slot < texts.length) texts[slot]!.children = [flipped];
      else attrs[slot - texts.length]![0].attrs[attrs[slot - texts.length]![1]] = flipped;
      return;
    }
    case 'remove': {
      if (all.length < 2) return;
      const target = all[1 + (op.target % (all.length - 1))]!;
      const parent = target.parent as Element;
      parent.children = parent.children.filter((c) => c !== target);
      return;
    }
    case 'dup': {
      if (all.length < 2) return;
      const target = all[1 + (op.target % (all.length - 1))]!;
      const parent = target.parent as Element;
      // A copy of the tree (which earlier mutations may have made not well-formed), as ltx builds it.
      const copy = lenientParse(target.toString()) as Element;
      parent.children.splice(parent.children.indexOf(target) + 1, 0, copy);
      copy.parent = parent;
      return;
    }
    case 'text': {
      const target = pick(all, op.target);
      target.children = [...target.children.filter((c) => typeof c !== 'string'), value(op.value)];
      return;
    }
    case 'from': {
      const from = pick(FROMS, op.value);
      if (from === undefined) delete root.attrs.from;
      else root.attrs.from = from;
      return;
    }
    case 'queryid': {
      const result = all.find((e) => e.name === 'result');
      if (result !== undefined) result.attrs.queryid = op.value % 2 === 0 ? 'other-query' : `${queryid}x`;
      return;
    }
    default: {
      const never: never = op;
      return never;
    }
  }
}

function build(prepared: Prepared, input: Extract<Input, { k: 'stanza' }>, queryid: string): Element {
  let stanza = parseXml(prepared.stanzas[input.base]!.replaceAll(QUERYID, queryid));
  for (const op of input.ops) mutate(stanza, op, queryid);
  const wrap = input.wrap;
  if (wrap.k === 'carbon') stanza = carbon(wrap.sent ? 'sent' : 'received', pick(FROMS, wrap.from), stanza);
  else if (wrap.k === 'mam') stanza = archived(pick(FROMS, wrap.from), wrap.queryid % 3 === 0 ? 'forged-query' : queryid, stanza);
  return stanza;
}

/** `text` with its well-formedness broken as `breakage` says (`at` picks the place). */
function breakText(text: string, breakage: Breakage, at: number): string {
  const startTags = [...text.matchAll(/<([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")+)\s*\/?>/g)];
  const insertInto = (attribute: (first: string) => string) => {
    const tag = startTags[at % startTags.length]!;
    const first = /\s+([\w:.-]+)="/.exec(tag[2]!)![1]!;
    const end = tag.index! + 1 + tag[1]!.length;
    return text.slice(0, end) + attribute(first) + text.slice(end);
  };
  switch (breakage) {
    case 'dup-attr': // the first attribute again, before the original: a lenient parser keeps the original's value
      return insertInto((first) => ` ${first}="${pick(VALUES, at)}"`);
    case 'two-roots':
      return at % 2 === 0 ? text + text : `${text}<message from="${MALLORY}/x"/>`;
    case 'text-outside':
      return at % 2 === 0 ? `${text}x` : `x${text}`;
    case 'mismatch': {
      const ends = [...text.matchAll(/<\/([\w:.-]+)>/g)];
      const end = ends[at % ends.length]!;
      return text.slice(0, end.index!) + `</${end[1]}x>` + text.slice(end.index! + end[0].length);
    }
    case 'undeclared':
      return insertInto(() => ' zz:forged="1"');
    default: {
      const never: never = breakage;
      return never;
    }
  }
}

/** Whether `a` is `b` or one of its ancestors. */
function ancestorOrSelf(a: Element, b: Element): boolean {
  for (let e: Element | null = b; e; e = e.parent as Element | null) if (e === a) return true;
  return false;
}

/**
 * Applies a lookalike to one element of the stanza. `unchanged` is what the input must cause:
 * `malformed` (a prefix bound nowhere), `nothing` (a foreign lookalike on the way to or inside a
 * `<sealed/>` or `<interactive/>`: no event that changes state), or `any`.
 */
function lookalike(prepared: Prepared, input: Extract<Input, { k: 'lookalike' }>, queryid: string): { stanza: Element; expect: 'malformed' | 'nothing' | 'any' } {
  let stanza = parseXml(prepared.stanzas[input.base]!.replaceAll(QUERYID, queryid));
  const all = elementsOf(stanza);
  const target = pick(all, input.target);
  const seal = all.filter((e) => (e.getName() === 'sealed' || e.getName() === 'interactive') && e.getNS() === SEAL);
  const onPath = seal.some((e) => ancestorOrSelf(target, e) || ancestorOrSelf(e, target));
  const local = target.getName();
  let expect: 'malformed' | 'nothing' | 'any' = 'any';
  switch (input.variant) {
    case 'foreign-prefix':
      target.name = `x:${local}`;
      target.attrs['xmlns:x'] = 'urn:example:lookalike';
      expect = onPath ? 'nothing' : 'any';
      break;
    case 'foreign-default':
      target.name = local;
      target.attrs.xmlns = 'urn:example:lookalike';
      expect = onPath ? 'nothing' : 'any';
      break;
    case 'same': {
      const ns = target.getNS() as string | undefined;
      if (ns !== undefined) {
        target.name = `s:${local}`;
        target.attrs['xmlns:s'] = ns;
      }
      break;
    }
    case 'unbound':
      target.name = `u:${local}`;
      expect = 'malformed';
      break;
    default: {
      const never: never = input.variant;
      return never;
    }
  }
  const wrap = input.wrap;
  if (wrap.k === 'carbon') stanza = carbon(wrap.sent ? 'sent' : 'received', pick(FROMS, wrap.from), stanza);
  else if (wrap.k === 'mam') stanza = archived(pick(FROMS, wrap.from), wrap.queryid % 3 === 0 ? 'forged-query' : queryid, stanza);
  return { stanza, expect };
}

// ------------------------------------------------------------------ the device under test

/** How many device lists and bundles the device fetched. */
interface Fetches {
  lists: number;
  bundles: number;
}

/**
 * A connection whose archive queries the "server" answers with an empty page (nothing is
 * replayed into the run), and that counts the device lists the client fetches.
 */
function quietArchive(connection: XmppConnection, fetches: Fetches): XmppConnection {
  return {
    jid: connection.jid,
    send: (s) => connection.send(s),
    onStanza: (h) => connection.onStanza(h),
    close: () => connection.close(),
    iq: async (iq) => {
      if (iq.getChild('query', 'urn:xmpp:mam:2') !== undefined) return xml('iq', { type: 'result', id: String(iq.attrs.id) }, [xml('fin', { xmlns: 'urn:xmpp:mam:2', complete: 'true' })]);
      const text = iq.toString();
      if (text.includes(`node="${DEVICE_LIST_NODE}"`)) fetches.lists++;
      if (text.includes(`node="${SEAL}:bundle:`)) fetches.bundles++;
      return connection.iq(iq);
    },
  };
}

async function start(prepared: Prepared, store: MemoryStore, seed: number, n: number, fetches: Fetches): Promise<{ client: SealClient; queryid: string; errors: unknown[] }> {
  const errors: unknown[] = [];
  const client = await SealClient.create({ connection: quietArchive(prepared.world.server.connect(`${ALICE}/a`), fetches), store, now: prepared.world.now, rng: seededRng(`fuzz ${seed} ${n}`), onError: (e) => errors.push(e) });
  await client.fetchArchive();
  return { client, queryid: [...client.engine.state.queries].at(-1)!, errors };
}

/** Which records differ between two snapshots (for failure messages). */
function changedRecords(before: string, after: string): string {
  const index = (text: string) => new Map((JSON.parse(text) as StoreRecord[]).map((r) => [`${r.table}/${r.key}`, r.value]));
  const a = index(before);
  const b = index(after);
  const keys = new Set([...a.keys(), ...b.keys()]);
  const detail = (x: string | undefined, y: string | undefined) => {
    if (x === undefined || y === undefined) return '';
    let i = 0;
    while (i < x.length && x[i] === y[i]) i++;
    return ` at ${i}: ${x.slice(Math.max(0, i - 80), i + 120)} -> ${y.slice(Math.max(0, i - 80), i + 120)}`;
  };
  return [...keys].filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.has(k) ? (b.has(k) ? 'changed' : 'deleted') : 'added'}${detail(a.get(k), b.get(k))}`).join('; ');
}

interface Totals {
  inputs: number;
  restarts: number;
  /** Inputs made not well-formed, and those a lenient parser still built a tree from. */
  malformed: number;
  lenientTrees: number;
  /** Inputs with a lookalike element. */
  lookalikes: number;
  opened: number;
  failed: number;
  unchanged: number;
  changed: number;
}

async function run(prepared: Prepared, seed: number, inputs: readonly Input[], totals: Totals): Promise<void> {
  prepared.world.clock = prepared.clock;
  const store = new MemoryStore(prepared.records);
  let restarts = 0;
  const fetches: Fetches = { lists: 0, bundles: 0 };
  let device = await start(prepared, store, seed, restarts, fetches);
  const deviceId = device.client.state.deviceId;
  const bodies = new Set(prepared.openedBefore);
  const eventIds = new Set<string>();
  let snapshot = JSON.stringify(store.snapshot());
  let commits = store.commits;
  const current = () => {
    if (store.commits !== commits) {
      snapshot = JSON.stringify(store.snapshot());
      commits = store.commits;
    }
    return snapshot;
  };
  for (const input of inputs) {
    totals.inputs++;
    if (input.k === 'restart') {
      const before = current();
      restarts++;
      totals.restarts++;
      device = await start(prepared, store, seed, restarts, fetches);
      expect(device.client.state.deviceId).toBe(deviceId);
      expect(current(), 'a restart changes nothing').toBe(before);
      continue;
    }
    let stanza: Element;
    let expected: 'malformed' | 'nothing' | 'any' = 'any';
    if (input.k === 'stanza') stanza = build(prepared, input, device.queryid);
    else if (input.k === 'malformed') {
      totals.malformed++;
      // @req encoding.xml-well-formed: Seal's parser refuses the text, whatever a lenient one makes of it.
      const text = breakText(prepared.stanzas[input.base]!.replaceAll(QUERYID, device.queryid), input.breakage, input.at);
      let code = 'ok';
      try {
        parseXml(text);
      } catch (e) {
        code = isSealError(e) ? e.code : `raw ${String(e)}`;
      }
      expect(code, `parseXml of ${input.breakage}: ${text.slice(0, 400)}`).toBe('malformed-xml');
      // The tree a lenient stream parser hands over instead (if any) goes through the device like any stanza.
      let tree: unknown;
      try {
        tree = lenientParse(text);
      } catch {
        continue;
      }
      if (typeof tree !== 'object' || tree === null) continue;
      totals.lenientTrees++;
      stanza = tree as Element;
    } else {
      totals.lookalikes++;
      ({ stanza, expect: expected } = lookalike(prepared, input, device.queryid));
    }
    const before = current();
    const mark = device.client.events.length;
    const lists = fetches.lists;
    const bundles = fetches.bundles;
    let events: SealEvent[];
    try {
      await device.client.receive(stanza);
      events = device.client.events.slice(mark);
    } catch (e) {
      throw new Error(`receive threw for ${stanza.toString()}: ${String(e)}`);
    }
    // @req encoding.xml-namespaces: a lookalike is not the element; an unbound prefix is not XML.
    if (expected === 'malformed') expect(events.map((e) => (e.kind === 'failed' ? e.code : e.kind)), stanza.toString().slice(0, 400)).toEqual(['malformed-xml']);
    if (expected === 'nothing') expect(events.filter((e) => CHANGING.has(e.kind)).map((e) => e.kind), stanza.toString().slice(0, 400)).toEqual([]);
    for (const e of events) {
      if (e.kind === 'failed') totals.failed++;
      if (e.kind !== 'opened') continue;
      totals.opened++;
      expect(bodies.has(e.body), `opened twice: ${e.body} from ${stanza.toString()}`).toBe(false);
      expect(eventIds.has(e.eventId)).toBe(false);
      bodies.add(e.body);
      eventIds.add(e.eventId);
    }
    if (events.some((e) => CHANGING.has(e.kind))) {
      totals.changed++;
      continue;
    }
    totals.unchanged++;
    // A device list the input carries (a PEP notification) or made the device fetch (for a
    // repair, or for a held stanza) is an input that changes state by nature: it may update the
    // account's record (the genuine list replaces a pending one without an event), and the
    // stanzas held for that account's list are decided (opened, or failed and dropped).
    // A failure that made the device fetch a bundle to start a new session (a repair) records
    // the attempt in the repair log, even when the bundle turns out to be missing or invalid:
    // the rate limit also bounds the fetches.
    const listSeen = fetches.lists !== lists || stanza.getChild('event', 'http://jabber.org/protocol/pubsub#event') !== undefined;
    const ignored = [...(listSeen ? ['account', 'held'] : []), ...(fetches.bundles !== bundles ? ['repair'] : [])];
    const except = (text: string) => (ignored.length === 0 ? text : JSON.stringify((JSON.parse(text) as StoreRecord[]).filter((r) => !ignored.includes(r.table))));
    if (except(current()) !== except(before)) throw new Error(`state changed without a reason: events ${JSON.stringify(events)}; records ${changedRecords(before, current())}; input ${stanza.toString().slice(0, 600)}`);
  }
}

describe('§device: receive() fuzzed with mutated stanzas, forged wrappers and restarts', () => {
  it(`${INPUTS} inputs: no exception, no state change on failure, nothing opened twice`, async () => {
    // @req device.receive-never-throws
    // @req device.commit-first
    // @req offline.forwarded-carbons
    // @req offline.forwarded-archive
    // @req encoding.xml-well-formed
    // @req encoding.xml-namespaces
    const prepared = await prepare();
    const totals: Totals = { inputs: 0, restarts: 0, malformed: 0, lenientTrees: 0, lookalikes: 0, opened: 0, failed: 0, unchanged: 0, changed: 0 };
    const runs = Math.max(1, Math.ceil(INPUTS / PER_RUN));
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.array(inputArb(prepared.stanzas.length), { minLength: PER_RUN, maxLength: PER_RUN }), async (seed, inputs) => {
        await run(prepared, seed, inputs, totals);
      }),
      { ...fcParams(runs), numRuns: runs, endOnFailure: true },
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`device fuzz: ${totals.inputs} inputs (${totals.restarts} restarts, ${totals.malformed} not well-formed of which ${totals.lenientTrees} leniently parsed, ${totals.lookalikes} with a lookalike) in ${seconds} s; ${totals.opened} opened, ${totals.failed} failed events, ${totals.changed} inputs that changed state legitimately, ${totals.unchanged} checked unchanged`);
    expect(totals.inputs).toBeGreaterThanOrEqual(INPUTS);
    expect(totals.opened).toBeGreaterThan(0);
    expect(totals.malformed).toBeGreaterThan(0);
    expect(totals.lookalikes).toBeGreaterThan(0);
  }, 3_600_000);
});
