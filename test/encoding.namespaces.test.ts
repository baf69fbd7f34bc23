/**
 * §encoding.xml: elements are known by namespace and local name, never by local name alone, and
 * the device reads the trees an XMPP library hands over as it reads XML text. Each wire element
 * refuses a lookalike child in another namespace; the device engine (through SealClient) refuses
 * lookalikes in sealed messages, carbons and device lists, and trees that are not
 * namespace-well-formed, with a typed event and no state change; a lint over `src/` keeps every
 * `getChild`-style lookup namespaced.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as lenientParse } from 'ltx';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../src/codec/bytes.js';
import { MemoryStore } from '../src/device/store.js';
import type { SealEvent } from '../src/device/types.js';
import { contentBody, openContent } from '../src/envelope/content.js';
import { DEVICE_LIST_NODE } from '../src/identity/pep.js';
import { SEAL_NS } from '../src/suite/index.js';
import { BundleElement, DeviceListElement, DtlsFingerprintsElement, SealedElement, formatDateTime } from '../src/wire/index.js';
import { type Element, childElements, parseXml, xml } from '../src/wire/xml.js';
import { codeOf } from './support/errors.js';
import { ALICE, BOB, SealWorld, opened } from './support/store-conformance.js';

const LOOKALIKE = 'urn:example:lookalike';

/** A copy of `text` parsed, changed by `change`, serialised. */
function edited(text: string, change: (root: Element) => void): string {
  const root = parseXml(text);
  change(root);
  return root.toString();
}

/** Moves `element` into the lookalike namespace under prefix `x`, keeping its local name. */
function intoLookalike(element: Element): void {
  element.name = `x:${element.getName()}`;
  element.attrs['xmlns:x'] = LOOKALIKE;
}

function firstNamed(root: Element, name: string): Element {
  const all: Element[] = [root];
  for (let i = 0; i < all.length; i++) all.push(...childElements(all[i]!));
  const found = all.find((e) => e.getName() === name);
  if (found === undefined) throw new Error(`no <${name}/>`);
  return found;
}

// ------------------------------------------------------------------ lint over src/

/** Every `.ts` file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The top-level arguments of the call whose `(` is at `open` (strings and nesting skipped). */
function argumentCount(text: string, open: number): number {
  let depth = 0;
  let count = 0;
  let segment = false; // the current argument has something in it
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"' || c === '`') {
      const close = text.indexOf(c, i + 1);
      i = close < 0 ? text.length : close;
      segment = true;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      if (depth >= 1) segment = true;
      depth++;
    } else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return count + (segment ? 1 : 0);
    } else if (c === ',' && depth === 1) {
      count += segment ? 1 : 0;
      segment = false;
    } else if (!/\s/.test(c)) segment = true;
  }
  return -1;
}

/** ltx lookups and the argument that carries the namespace (1-based): without it they match any namespace. */
const NAMESPACED_LOOKUPS: Readonly<Record<string, number>> = { getChild: 2, getChildren: 2, getChildText: 2, getChildByAttr: 3, getChildrenByAttr: 3, is: 2 };

describe('§encoding.xml: lookups by namespace and local name', () => {
  it('lint: every getChild/getChildren/getChildText (and ltx is/getChild(ren)ByAttr) call in src/ passes a namespace; no namespace is read from the xmlns attribute', () => {
    // @req encoding.xml-namespaces
    // src/cli reads the XEP document itself, whose elements are in no namespace, never a stanza.
    const files = sources('src').filter((path) => !relative('src', path).startsWith('cli'));
    expect(files.length).toBeGreaterThan(50);
    const problems: string[] = [];
    let calls = 0;
    for (const path of files) {
      const text = readFileSync(path, 'utf8');
      for (const match of text.matchAll(/\.(getChild|getChildren|getChildText|getChildByAttr|getChildrenByAttr|is)\(/g)) {
        const method = match[1]!;
        calls++;
        const count = argumentCount(text, match.index! + match[0].length - 1);
        if (count < NAMESPACED_LOOKUPS[method]!) {
          const line = text.slice(0, match.index).split('\n').length;
          problems.push(`${path}:${line}: .${method}(…) without a namespace argument (ltx then matches the local name in any namespace)`);
        }
      }
      for (const match of text.matchAll(/attrs(?:\.xmlns|\[['"]xmlns['"]\])\s*[!=]==/g)) {
        const line = text.slice(0, match.index).split('\n').length;
        problems.push(`${path}:${line}: a namespace read from the xmlns attribute (misses prefixed and inherited namespaces: use getNS())`);
      }
    }
    expect(calls).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });

  it('the lint finds what it looks for', () => {
    // @req encoding.xml-namespaces
    const count = (call: string) => argumentCount(call, call.indexOf('('));
    expect(count("x.getChild('keys')")).toBe(1);
    expect(count("x.getChild('keys', SEAL_NS)")).toBe(2);
    expect(count("x.getChild(name(a, b))")).toBe(1);
    expect(count("x.getChild(\n  'keys',\n  NS,\n)")).toBe(2);
    expect(count("x.getChild('a,b')")).toBe(1);
  });

  it('each wire element refuses a child with its local name in another namespace, and accepts a prefix bound to its own', () => {
    // @req encoding.xml-namespaces
    const sealed = `<sealed xmlns='${SEAL_NS}' sid='1'><keys jid='a@b.example'><key rid='2'>AAAA</key></keys><payload commitment='${'A'.repeat(43)}='>${'A'.repeat(24)}</payload></sealed>`;
    expect(codeOf(() => SealedElement.fromXml(parseXml(sealed)))).toBe('ok');
    for (const name of ['keys', 'key', 'payload']) {
      expect(codeOf(() => SealedElement.fromXml(parseXml(edited(sealed, (r) => intoLookalike(firstNamed(r, name)))))), name).toBe('schema-violation');
      const prefixed = edited(sealed, (r) => {
        const element = firstNamed(r, name);
        element.name = `s:${name}`;
        element.attrs['xmlns:s'] = SEAL_NS;
      });
      expect(SealedElement.fromXml(parseXml(prefixed))).toEqual(SealedElement.fromXml(parseXml(sealed)));
    }
    // The whole <sealed/> in another namespace is not Seal's.
    expect(codeOf(() => SealedElement.fromXml(parseXml(edited(sealed, intoLookalike))))).toBe('unexpected-element');

    const list = DeviceListElement.toXml({ issued: 1795683600, devices: [{ id: 7, added: 1795683600, signingKey: new Uint8Array(32).fill(1) }] }).toString();
    expect(codeOf(() => DeviceListElement.fromXml(parseXml(list)))).toBe('ok');
    const extra = edited(list, (r) => {
      const device = parseXml(childElements(r)[0]!.toString());
      device.attrs.id = '8';
      intoLookalike(device);
      r.cnode(device);
    });
    // A local-name reader counted two devices here.
    expect(codeOf(() => DeviceListElement.fromXml(parseXml(extra)))).toBe('schema-violation');

    const bundle = parseXml(BundleElement.toXml({
      identity: { signingKey: new Uint8Array(32).fill(1), agreementKey: new Uint8Array(32).fill(2), signature: new Uint8Array(64) },
      signedPrekey: { id: 1, created: 1795683600, expires: 1796288400, publicKey: new Uint8Array(32).fill(3), signature: new Uint8Array(64) },
      kemPrekey: { id: 2, created: 1795683600, expires: 1796288400, publicKey: new Uint8Array(1184).fill(4), signature: new Uint8Array(64) },
      oneTimePrekeys: [{ id: 3, publicKey: new Uint8Array(32).fill(5) }],
    }).toString());
    expect(codeOf(() => BundleElement.fromXml(bundle))).toBe('ok');
    for (const name of ['identity', 'prekeys', 'prekey']) {
      expect(codeOf(() => BundleElement.fromXml(parseXml(edited(bundle.toString(), (r) => intoLookalike(firstNamed(r, name)))))), name).toBe('schema-violation');
    }

    const dtls = `<dtls-fingerprints xmlns='${SEAL_NS}' device='1' sid='s1' mac='${'A'.repeat(43)}='><fingerprint hash='sha-256'>${Array(32).fill('AB').join(':')}</fingerprint></dtls-fingerprints>`;
    expect(codeOf(() => DtlsFingerprintsElement.fromXml(parseXml(dtls)))).toBe('ok');
    expect(codeOf(() => DtlsFingerprintsElement.fromXml(parseXml(edited(dtls, (r) => intoLookalike(firstNamed(r, 'fingerprint'))))))).toBe('schema-violation');

    // The encrypted envelope: its affixes are SCE's (a lookalike <to/> is not the affix).
    const envelope = (to: string) => utf8Encode(`<envelope xmlns='urn:xmpp:sce:1'><content><body xmlns='jabber:client'>hi</body></content><rpad>x</rpad><time stamp='2026-11-26T09:00:00Z'/>${to}<from jid='${BOB}'/></envelope>`);
    expect(codeOf(() => openContent(envelope(`<to jid='${ALICE}'/>`), { to: ALICE, from: BOB }))).toBe('ok');
    expect(codeOf(() => openContent(envelope(`<x:to xmlns:x='${LOOKALIKE}' jid='${ALICE}'/>`), { to: ALICE, from: BOB }))).toBe('schema-violation');
  });

  it('opened content elements stand alone: a prefix declared on <content/> or <envelope/> is written on the element, so the inbox can store and parse it again', () => {
    // @req encoding.xml-namespaces
    const plaintext = utf8Encode(`<envelope xmlns='urn:xmpp:sce:1' xmlns:c='jabber:client'><content xmlns:x='${LOOKALIKE}'><c:body>hi</c:body><x:ext a='1'/><body>plain</body></content><rpad>x</rpad><time stamp='2026-11-26T09:00:00Z'/><to jid='${ALICE}'/><from jid='${BOB}'/></envelope>`);
    const { content } = openContent(plaintext, { to: ALICE, from: BOB });
    const stored = content.map((c) => c.toString());
    const reloaded = stored.map((text) => parseXml(text));
    expect(reloaded.map((c) => [c.getName(), c.getNS()])).toEqual([['body', 'jabber:client'], ['ext', LOOKALIKE], ['body', 'urn:xmpp:sce:1']]);
    expect(contentBody(content)).toBe('hi');
    expect(contentBody([parseXml(`<x:body xmlns:x='${LOOKALIKE}'>not the body</x:body>`)])).toBeUndefined();
  });
});

// ------------------------------------------------------------------ through the device

describe('§encoding.xml through the device: lookalikes and trees that are not namespace-well-formed change nothing', () => {
  it('a sealed message with a lookalike <keys/>, an undeclared prefix or xmlns=\'\' fails with a typed event and changes nothing; a carbon of a lookalike message is forged; the genuine message then opens once', async () => {
    // @req encoding.xml-namespaces
    // @req encoding.xml-well-formed
    const world = new SealWorld('namespaces');
    const aliceStore = new MemoryStore();
    const a = await world.client(`${ALICE}/a`, { store: aliceStore });
    const b = await world.client(`${BOB}/b`);
    await a.client.send(BOB, 'hello bob');
    await world.flush();
    await a.wire.connection.close(); // Alice is away: what Bob sends next is handed to her by the test.
    await b.client.send(ALICE, 'secret');
    const genuine = [...b.wire.sent].reverse().find((s) => s.getChild('sealed', SEAL_NS) !== undefined)!.toString();
    const stanza = (text: string) => {
      const element = parseXml(text);
      element.attrs.from = `${BOB}/b`;
      return element;
    };
    const alice = a.client;
    const records = JSON.stringify(aliceStore.snapshot());
    const attempt = async (element: Element, what = element.toString()): Promise<SealEvent[]> => {
      const mark = alice.events.length;
      await alice.receive(element);
      expect(JSON.stringify(aliceStore.snapshot()), what).toBe(records);
      return alice.events.slice(mark);
    };
    // <keys/> for Alice in another namespace: a reader by local name opened this.
    const lookalike = edited(genuine, (r) => intoLookalike(r.getChild('sealed', SEAL_NS)!.getChildren('keys', SEAL_NS).find((k) => k.attrs.jid === ALICE)!));
    expect(await attempt(stanza(lookalike))).toMatchObject([{ kind: 'failed', code: 'schema-violation' }]);
    // xmlns='' on <keys/>: ltx reads it in Seal's namespace, XML in none; refused rather than read two ways.
    const undeclared = genuine.replace('<keys ', '<keys xmlns="" ');
    expect(undeclared).not.toBe(genuine);
    expect(await attempt(lenientParse(undeclared) as Element)).toMatchObject([{ kind: 'failed', code: 'malformed-xml' }]);
    // A tree with an undeclared prefix, as a lenient stream parser builds it: a local-name reader opened this too.
    const prefixed = genuine.replace('<sealed xmlns="urn:xmpp:seal:0"', '<s:sealed').replace('</sealed>', '</s:sealed>');
    expect(prefixed).toContain('<s:sealed ');
    const tree = lenientParse(prefixed) as Element;
    tree.attrs.from = `${BOB}/b`;
    expect(await attempt(tree)).toMatchObject([{ kind: 'failed', code: 'malformed-xml' }]);
    // A carbon from Alice's own bare JID whose forwarded message is a lookalike <x:message/>.
    const inner = stanza(genuine);
    intoLookalike(inner);
    const carbon = xml('message', { from: ALICE, to: `${ALICE}/a`, type: 'chat' }, [xml('received', { xmlns: 'urn:xmpp:carbons:2' }, [xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, [inner])])]);
    expect(await attempt(carbon)).toMatchObject([{ kind: 'failed', code: 'forged-forward' }]);
    // 100000 nested elements: too-large, not a stack overflow.
    let deep = xml('a', {});
    for (let i = 0; i < 100000; i++) deep = xml('a', {}, [deep]);
    expect(await attempt(xml('message', { from: `${BOB}/b`, to: `${ALICE}/a` }, [deep]), '100000 levels')).toMatchObject([{ kind: 'failed', code: 'too-large' }]);
    // Nothing was changed: the genuine message opens, once.
    await alice.receive(stanza(genuine));
    await alice.receive(stanza(genuine));
    expect(opened(alice.events)).toEqual(['secret']);
  });

  it('a device-list notification with a lookalike <device/> in another namespace is refused, not a new device', async () => {
    // @req encoding.xml-namespaces
    const world = new SealWorld('namespaces-list');
    const aliceStore = new MemoryStore();
    const a = await world.client(`${ALICE}/a`, { store: aliceStore });
    await world.client(`${BOB}/b`);
    await a.client.send(BOB, 'hello bob');
    await world.flush();
    const list = parseXml(childElements(world.server.pepItems(BOB, DEVICE_LIST_NODE)[0]!)[0]!.toString());
    const real = childElements(list)[0]!;
    const forged = parseXml(real.toString());
    forged.attrs.id = String(Number(real.attrs.id) === 1 ? 2 : 1);
    intoLookalike(forged);
    list.cnode(forged);
    list.attrs.issued = formatDateTime(world.now() + 60);
    const notification = xml('message', { from: BOB, to: `${ALICE}/a`, type: 'headline', id: 'pep-x' }, [xml('event', { xmlns: 'http://jabber.org/protocol/pubsub#event' }, [xml('items', { node: DEVICE_LIST_NODE }, [xml('item', { id: 'current' }, [list])])])]);
    const records = JSON.stringify(aliceStore.snapshot());
    const mark = a.client.events.length;
    await a.client.receive(notification);
    const events = a.client.events.slice(mark);
    expect(events).toMatchObject([{ kind: 'failed', code: 'schema-violation' }]);
    expect(events.some((e) => e.kind === 'device-added')).toBe(false);
    expect(JSON.stringify(aliceStore.snapshot())).toBe(records);
  });
});
