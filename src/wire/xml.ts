/**
 * XML over ltx (the element library of xmpp.js): bounded parsing of XML text, and the small
 * accessors every element mapping uses (name and namespace check, attributes, binary text).
 *
 * Seal elements are ltx `Element`s, so they can be handed to an xmpp.js client unchanged.
 *
 * @see spec §encoding.xml
 * @module
 */
import { Element as LtxElement, parse as ltxParse } from 'ltx';
import { decodeBase64, encodeBase64 } from '../codec/base64.js';
import { SealError } from '../errors.js';

/** An XML element (ltx). */
export type Element = LtxElement;
/** The ltx element constructor. */
export const Element = LtxElement;

/**
 * Upper bound on XML text handed to {@link parseXml}, in characters: 256 KiB, far above any
 * stanza Seal produces and below the stanza size limits common servers enforce.
 *
 * @see spec §encoding.xml
 */
export const MAX_XML_CHARS = 262144;

/**
 * Parses one XML element from text, as a receiver of a stanza's text would.
 *
 * Implements requirement `encoding.xml-restricted`: document type declarations, processing
 * instructions, comments and entity references other than the five predefined ones and
 * character references are rejected, as RFC 6120 §11.1 restricts XMPP XML.
 *
 * @throws SealError `too-large` above `maxChars`; `malformed-xml` for text that is not exactly
 *   one well-formed element or uses a forbidden construct.
 * @see spec §encoding.xml
 * @example
 * ```ts
 * parseXml("<x xmlns='urn:xmpp:seal:0'/>").attrs.xmlns // 'urn:xmpp:seal:0'
 * ```
 */
export function parseXml(text: string, maxChars = MAX_XML_CHARS): Element {
  if (text.length > maxChars) throw new SealError('too-large', `XML: expected at most ${maxChars} characters, got ${text.length}`);
  // @req encoding.xml-restricted
  const forbidden = /<!(?!\[CDATA\[)|<\?|&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/.exec(text);
  if (forbidden) throw new SealError('malformed-xml', 'XML: declarations, comments, processing instructions and custom entities are not allowed', forbidden.index);
  let root: Element;
  try {
    root = ltxParse(text) as Element;
  } catch (e) {
    throw new SealError('malformed-xml', `XML: not well-formed (${e instanceof Error ? e.message : 'parse error'})`);
  }
  if (!(root instanceof LtxElement)) throw new SealError('malformed-xml', 'XML: expected one element');
  return root;
}

/**
 * Fails unless `element` has the given local name and namespace.
 *
 * @throws SealError `unexpected-element`.
 */
export function expectElement(element: Element, name: string, ns: string): void {
  // Local name and in-scope namespace, so inherited and prefixed namespace declarations work.
  if (element.getName() !== name || element.getNS() !== ns) {
    throw new SealError('unexpected-element', `expected <${name} xmlns='${ns}'>, got <${element.getName()} xmlns='${String(element.getNS())}'>`);
  }
}

/**
 * A required attribute's value.
 *
 * @throws SealError `schema-violation` when it is absent.
 */
export function requiredAttr(element: Element, name: string): string {
  const value = element.attrs[name] as unknown;
  if (typeof value !== 'string') throw new SealError('schema-violation', `<${element.name}>: attribute '${name}' is required`);
  return value;
}

/** An optional attribute's value, or `undefined`. */
export function optionalAttr(element: Element, name: string): string | undefined {
  const value = element.attrs[name] as unknown;
  return typeof value === 'string' ? value : undefined;
}

/**
 * Parses a decimal integer attribute in canonical form (no sign, no leading zeros, no spaces).
 *
 * @throws SealError `schema-violation` when absent or not canonical decimal.
 */
export function integerAttr(element: Element, name: string): number {
  const text = requiredAttr(element, name);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) throw new SealError('schema-violation', `<${element.name}>: attribute '${name}' expected a canonical decimal integer`);
  return Number(text);
}

/**
 * The binary value carried as the element's text in strict base64 (§encoding.base64).
 *
 * @throws SealError `invalid-base64`, `too-large`; `schema-violation` if the element has child elements.
 */
export function binaryText(element: Element, maxBytes: number): Uint8Array {
  if (element.children.some((child: unknown) => typeof child !== 'string')) {
    throw new SealError('schema-violation', `<${element.name}>: expected text only`);
  }
  return decodeBase64(element.getText(), maxBytes, `<${element.name}>`);
}

/** Creates `<name xmlns=ns>` carrying `bytes` as base64 text. */
export function binaryElement(name: string, ns: string | undefined, bytes: Uint8Array, attrs: Record<string, string> = {}): Element {
  return new Element(name, ns === undefined ? attrs : { xmlns: ns, ...attrs }).t(encodeBase64(bytes));
}

/**
 * Builds an element with attributes and children (elements, or text when a string).
 *
 * @example
 * ```ts
 * xml('prekeys', {}, [xml('prekey', { id: '1' }, ['AQID'])])
 * ```
 */
export function xml(name: string, attrs: Record<string, string>, children: readonly (Element | string)[] = []): Element {
  const element = new LtxElement(name, attrs);
  for (const child of children) {
    if (typeof child === 'string') element.t(child);
    else element.cnode(child);
  }
  return element;
}

/**
 * The element children (text nodes dropped) of `element`. Tested by shape, not `instanceof`:
 * elements parsed by xmpp.js may come from ltx's CommonJS build, a different class object than
 * the ES module Seal imports.
 */
export function childElements(element: Element): Element[] {
  return element.children.filter((child: unknown): child is Element => typeof child === 'object' && child !== null && 'name' in child && 'children' in child);
}
