/**
 * §encoding.xml: bounded, restricted XML parsing and the wire-element pattern (schema, both
 * mappings, typed errors only), fuzzed with arbitrary input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SealError } from '../src/errors.js';
import { SEAL_NS } from '../src/suite/index.js';
import { EME_NS, Element, EncryptionMarker, StoreHint, binaryElement, binaryText, integerAttr, parseXml } from '../src/wire/index.js';
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
