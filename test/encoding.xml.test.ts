/**
 * §encoding.xml: bounded, restricted XML parsing and the wire-element pattern (schema, both
 * mappings, typed errors only), fuzzed with arbitrary input.
 */
import fc from 'fast-check';
import { parse as lenientParse } from 'ltx';
import { describe, expect, it } from 'vitest';
import { SealError } from '../src/errors.js';
import { SEAL_NS } from '../src/suite/index.js';
import { EME_NS, Element, EncryptionMarker, MAX_XML_DEPTH, StoreHint, binaryElement, binaryText, canonicalXml, integerAttr, parseXml, wellFormedCopy, xml } from '../src/wire/index.js';
import { codeOf } from './support/errors.js';
import { fcParams } from './support/property.js';


describe('§encoding.xml', () => {
  it('parses one element and rejects what XMPP forbids', () => {
    // @req encoding.xml-restricted
    expect(parseXml("<a xmlns='x'><b>&lt;&#65;</b></a>").getChildText('b')).toBe('<A');
    expect(codeOf(() => parseXml("<!DOCTYPE a [<!ENTITY x 'y'>]><a/>"))).toBe('malformed-xml');
    expect(codeOf(() => parseXml('<a>&x;</a>'))).toBe('malformed-xml');
    expect(codeOf(() => parseXml('<?xml version="1.0"?><a/>'))).toBe('malformed-xml');
    expect(codeOf(() => parseXml('<a><!-- c --></a>'))).toBe('malformed-xml');
    expect(codeOf(() => parseXml('<a><b></a>'))).toBe('malformed-xml');
    expect(codeOf(() => parseXml('text'))).toBe('malformed-xml');
    expect(codeOf(() => parseXml(`<a>${'x'.repeat(100)}</a>`, 50))).toBe('too-large');
  });

  it('accepts only namespace-well-formed XML and repairs nothing (a lenient parser read all of these)', () => {
    // @req encoding.xml-well-formed
    const notWellFormed = [
      '<a><b></c></b></a>', // an end tag that matches nothing
      '<a/><b/>', // two root elements
      '<a/>x', // text after the root
      'x<a/>', // text before the root
      `<sealed xmlns='${SEAL_NS}' sid='1' sid='2'/>`, // the same attribute twice
      "<a xmlns:p='urn:x' xmlns:q='urn:x' p:n='1' q:n='2'/>", // the same {namespace}name twice
      '<p:a/>', // an undeclared element prefix
      "<a p:n='1'/>", // an undeclared attribute prefix
      "<a xmlns:p=''/>", // a prefix bound to no namespace
      '<a>\u0001</a>', // a character XML does not allow
      '<a>\uD800</a>', // a lone surrogate
      '<1a/>', // not a name
      "<a b='x<y'/>", // '<' in an attribute value
      '<a>]]></a>', // ']]>' in text
      "<a b=1/>", // an unquoted attribute value
    ];
    for (const text of notWellFormed) {
      expect(codeOf(() => parseXml(text)), JSON.stringify(text)).toBe('malformed-xml');
    }
    // xmlns='' under a default namespace: ltx would read <b/> in the parent's namespace, so it is refused.
    // @req encoding.xml-namespaces
    expect(codeOf(() => parseXml("<a xmlns='urn:x'><b xmlns=''/></a>"))).toBe('malformed-xml');
    expect(parseXml("<a><b xmlns=''/></a>").getChild('b')?.getNS()).toBeUndefined();
    // Nesting is bounded.
    const nested = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
    expect(codeOf(() => parseXml(nested(MAX_XML_DEPTH)))).toBe('ok');
    expect(codeOf(() => parseXml(nested(MAX_XML_DEPTH + 1)))).toBe('too-large');
    // What is well-formed still parses: prefixes, xml:lang, CDATA, white space around the root.
    const sealed = parseXml(` <s:sealed xmlns:s='${SEAL_NS}' sid='7' xml:lang='en'><s:keys jid='a@b'/><![CDATA[<x>]]></s:sealed>\n`);
    expect([sealed.getName(), sealed.getNS(), sealed.attrs.sid, sealed.getText()]).toEqual(['sealed', SEAL_NS, '7', '<x>']);
    expect(sealed.getChild('keys', SEAL_NS)?.attrs.jid).toBe('a@b');
  });

  it('checks a tree another library parsed exactly as text: undeclared prefixes, bad characters and deep nesting are refused', () => {
    // @req encoding.xml-well-formed
    // ltx's own parser (the one xmpp.js uses) builds trees that are not namespace-well-formed.
    const lenient = lenientParse(`<message><s:sealed sid='1'/></message>`) as Element;
    expect(lenient.getChildren('sealed').length).toBe(1);
    expect(codeOf(() => wellFormedCopy(lenient))).toBe('malformed-xml');
    // A subtree keeps the declarations in scope where it stands.
    const inScope = lenientParse(`<message xmlns:s='${SEAL_NS}'><s:sealed sid='1'><keys jid='a@b'/></s:sealed></message>`) as Element;
    const copy = wellFormedCopy(inScope.getChild('sealed', SEAL_NS)!);
    expect([copy.getNS(), copy.parent, copy.getChild('keys')?.getNS()]).toEqual([SEAL_NS, null, undefined]);
    // Characters survive exactly: white space in attributes, carriage returns in text.
    const spaced = new Element('a', { label: 'x\ty\nz' }).t('1\r\n2');
    expect([wellFormedCopy(spaced).attrs.label, wellFormedCopy(spaced).getText()]).toEqual(['x\ty\nz', '1\r\n2']);
    expect(codeOf(() => wellFormedCopy(new Element('a').t('\u0000')))).toBe('malformed-xml');
    expect(codeOf(() => wellFormedCopy(new Element('a', { 'p:b': '1' })))).toBe('malformed-xml');
    const trap = new Element('a', { xmlns: 'urn:x' });
    trap.cnode(new Element('b', { xmlns: '' }));
    expect(codeOf(() => wellFormedCopy(trap))).toBe('malformed-xml');
    // 100000 levels: too-large, not a stack overflow.
    let deep = new Element('a');
    for (let i = 0; i < 100000; i++) deep = new Element('a').cnode(deep).root();
    expect(codeOf(() => wellFormedCopy(deep))).toBe('too-large');
  });

  it('maps the explicit-encryption marker both ways and validates it', () => {
    // @req encoding.xml-validate
    const element = EncryptionMarker.toXml({ namespace: SEAL_NS, name: 'Seal' });
    expect(element.toString()).toBe(`<encryption xmlns="${EME_NS}" namespace="${SEAL_NS}" name="Seal"/>`);
    expect(EncryptionMarker.fromXml(parseXml(element.toString()))).toEqual({ namespace: SEAL_NS, name: 'Seal' });
    expect(codeOf(() => EncryptionMarker.fromXml(parseXml(`<encryption xmlns='${EME_NS}' namespace='urn:xmpp:omemo:2'/>`)))).toBe('schema-violation');
    expect(codeOf(() => EncryptionMarker.fromXml(parseXml(`<encryption xmlns='${EME_NS}'/>`)))).toBe('schema-violation');
    expect(codeOf(() => EncryptionMarker.fromXml(parseXml(`<encryption xmlns='urn:other' namespace='${SEAL_NS}'/>`)))).toBe('unexpected-element');
    expect(codeOf(() => EncryptionMarker.toXml({ namespace: 'urn:other' } as never))).toBe('schema-violation');
    expect(StoreHint.fromXml(StoreHint.toXml({}))).toEqual({});
  });

  it('carries binary fields as strict base64 text with a size bound', () => {
    const element = binaryElement('key', SEAL_NS, new Uint8Array([1, 2, 3]), { id: '7' });
    expect(element.toString()).toBe(`<key xmlns="${SEAL_NS}" id="7">AQID</key>`);
    expect([...binaryText(element, 3)]).toEqual([1, 2, 3]);
    expect(codeOf(() => binaryText(element, 2))).toBe('too-large');
    expect(codeOf(() => binaryText(parseXml('<key>AQI</key>'), 9))).toBe('invalid-base64');
    expect(codeOf(() => binaryText(parseXml('<key>AQ<x/></key>'), 9))).toBe('schema-violation');
    expect(integerAttr(element, 'id')).toBe(7);
    for (const bad of ['07', '-1', ' 7', '1e3', '']) {
      expect(codeOf(() => integerAttr(new Element('k', { id: bad }), 'id'))).toBe('schema-violation');
    }
  });

  it('fuzz: non-well-formed stanzas are always malformed-xml; whatever is accepted, a lenient parser reads the same way', () => {
    // @req encoding.xml-well-formed
    const stanzas = [
      `<message xmlns='jabber:client' from='romeo@montague.lit/orchard' to='juliet@capulet.lit' type='chat' id='m1'><sealed xmlns='${SEAL_NS}' sid='1864894878'><keys jid='juliet@capulet.lit'><key rid='969685994' handshake='true'>AAAA</key></keys><payload commitment='AAAA'>AAAA</payload></sealed><store xmlns='urn:xmpp:hints'/></message>`,
      `<message from='juliet@capulet.lit' to='juliet@capulet.lit/balcony'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='romeo@montague.lit/orchard'><s:sealed xmlns:s='${SEAL_NS}' sid='1'/></message></forwarded></received></message>`,
    ];
    const startTags = (text: string) => [...text.matchAll(/<([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+='[^']*')+)\s*\/?>/g)];
    type Breakage = { k: 'dup-attr' | 'two-roots' | 'text-outside' | 'mismatch' | 'undeclared'; at: number };
    const breakage: fc.Arbitrary<Breakage> = fc.record({ k: fc.constantFrom('dup-attr', 'two-roots', 'text-outside', 'mismatch', 'undeclared'), at: fc.nat() });
    const breakIt = (text: string, b: Breakage): string => {
      switch (b.k) {
        case 'dup-attr': {
          const tags = startTags(text);
          const tag = tags[b.at % tags.length]!;
          const first = /\s+([\w:.-]+)='/.exec(tag[2]!)!;
          return text.slice(0, tag.index! + 1 + tag[1]!.length) + ` ${first[1]}='forged'` + text.slice(tag.index! + 1 + tag[1]!.length);
        }
        case 'two-roots':
          return b.at % 2 === 0 ? text + text : `<x/>${text}`;
        case 'text-outside':
          return b.at % 2 === 0 ? `${text}x` : `x${text}`;
        case 'mismatch': {
          const ends = [...text.matchAll(/<\/([\w:.-]+)>/g)];
          const end = ends[b.at % ends.length]!;
          return text.slice(0, end.index!) + `</${end[1]}x>` + text.slice(end.index! + end[0].length);
        }
        case 'undeclared': {
          const tags = startTags(text);
          const tag = tags[b.at % tags.length]!;
          return text.slice(0, tag.index! + 1 + tag[1]!.length) + " zz:attr='1'" + text.slice(tag.index! + 1 + tag[1]!.length);
        }
      }
    };
    fc.assert(fc.property(fc.constantFrom(...stanzas), breakage, (text, b) => {
      expect(codeOf(() => parseXml(breakIt(text, b)))).toBe('malformed-xml');
    }), fcParams(1000));
    // Random edits: a SealError, or a tree that ltx's own (lenient) parser builds the same way.
    const edited = fc.record({ text: fc.constantFrom(...stanzas), at: fc.nat(), cut: fc.nat({ max: 6 }), insert: fc.string({ maxLength: 6, unit: fc.constantFrom('<', '>', '/', "'", '"', '=', ' ', 'a', ':', '&', ';', 'x', '#') }) })
      .map(({ text, at, cut, insert }) => text.slice(0, at % text.length) + insert + text.slice((at % text.length) + cut));
    let accepted = 0;
    fc.assert(fc.property(edited, (text) => {
      let tree: Element;
      try {
        tree = parseXml(text);
      } catch (e) {
        expect(e).toBeInstanceOf(SealError);
        return;
      }
      accepted++;
      expect((lenientParse(text) as Element).toString()).toBe(tree.toString());
    }), fcParams(3000));
    expect(accepted).toBeGreaterThan(0);
  });

  it('fuzz: arbitrary text and mutated elements give a value or a SealError, nothing else', () => {
    const good = EncryptionMarker.toXml({ namespace: SEAL_NS, name: 'Seal' }).toString();
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.record({ at: fc.nat(good.length), insert: fc.string({ maxLength: 8 }), cut: fc.nat(good.length) }).map(({ at, insert, cut }) => good.slice(0, at) + insert + good.slice(at + cut - at > 0 ? cut : at)),
    );
    fc.assert(fc.property(text, (input) => {
      try {
        EncryptionMarker.fromXml(parseXml(input));
      } catch (e) {
        expect(e).toBeInstanceOf(SealError);
      }
    }), fcParams(1000));
  });
});

describe('§encoding.xml canonical form', () => {
  it('sorts attributes, declares namespaces only where they change, drops white space between elements and escapes exactly the listed characters', () => {
    const text = `<message to="b@x" xmlns="jabber:client" from="a@x" id="q'&lt;">\n  <sealed sid="7" xmlns="urn:xmpp:seal:0"><keys jid="b@x"><key rid="2">AA==</key></keys></sealed>\n  <body>1 &lt; 2 &amp;&amp; 3 &gt; 2 </body></message>`;
    expect(canonicalXml(parseXml(text))).toBe(
      `<message from='a@x' id='q&apos;&lt;' to='b@x'><sealed xmlns='urn:xmpp:seal:0' sid='7'><keys jid='b@x'><key rid='2'>AA==</key></keys></sealed><body>1 &lt; 2 &amp;&amp; 3 &gt; 2 </body></message>`,
    );
    expect(canonicalXml(parseXml(`<a xmlns='urn:a' v='&#9;&#10;&#13;'/>`))).toBe(`<a xmlns='urn:a' v='&#9;&#10;&#13;'/>`);
    // A stanza is written as on the client stream (default namespace jabber:client), declared or not; content in jabber:client inside another namespace keeps its declaration.
    expect(canonicalXml(parseXml(`<message to='b@x'><body>x</body></message>`))).toBe(canonicalXml(parseXml(`<message xmlns='jabber:client' to='b@x'><body>x</body></message>`)));
    expect(canonicalXml(parseXml(`<envelope xmlns='urn:xmpp:sce:1'><body xmlns='jabber:client'>x</body></envelope>`))).toBe(`<envelope xmlns='urn:xmpp:sce:1'><body xmlns='jabber:client'>x</body></envelope>`);
    expect(canonicalXml(parseXml(`<a xmlns='urn:a'><b xmlns=''/></a>`.replace(" xmlns=''", " xmlns='urn:b'")))).toBe(`<a xmlns='urn:a'><b xmlns='urn:b'/></a>`);
  });

  it('is a fixed point that parses back to the same tree, for any attribute order and white space (property)', () => {
    const name = fc.constantFrom('a', 'b', 'sid', 'jid', 'to', 'from');
    const value = fc.string({ maxLength: 6 }).filter((v) => [...v].every((c) => c >= ' ' || c === '\t' || c === '\n'));
    const tree = fc.letrec((tie) => ({
      node: fc.record({
        attrs: fc.dictionary(name, value, { maxKeys: 4 }),
        ns: fc.constantFrom('urn:xmpp:seal:0', 'jabber:client', 'urn:x'),
        children: fc.oneof({ maxDepth: 3 }, fc.constant([]), fc.array(tie('node'), { maxLength: 3 }), fc.string({ maxLength: 5 }).map((t) => [t])),
      }),
    })).node;
    type Node = { attrs: Record<string, string>; ns: string; children: (Node | string)[] };
    const build = (n: Node, spaced: boolean): Element => xml('e', { ...n.attrs, xmlns: n.ns }, n.children.flatMap((c) => (typeof c === 'string' ? [c] : spaced ? ['\n  ', build(c, spaced)] : [build(c, spaced)])));
    fc.assert(fc.property(tree, (n) => {
      const canonical = canonicalXml(build(n as Node, false));
      expect(canonicalXml(parseXml(canonical))).toBe(canonical);
      expect(canonicalXml(parseXml(build(n as Node, true).toString()))).toBe(canonical);
      expect(canonicalXml(parseXml(canonicalXml(build(n as Node, true), { indent: true })))).toBe(canonical);
    }), fcParams(200));
  });
});
