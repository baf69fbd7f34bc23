/**
 * XML over ltx (the element library of xmpp.js): strict, bounded parsing of XML text (a
 * namespace-aware XML 1.0 parser, saxes, builds the ltx tree), the same check for element trees
 * another library parsed, and the small accessors every element mapping uses (name and namespace
 * check, attributes, binary text).
 *
 * Seal elements are ltx `Element`s, so they can be handed to an xmpp.js client unchanged.
 *
 * @see spec §encoding.xml
 * @module
 */
import { Element as LtxElement } from 'ltx';
import { SaxesParser } from 'saxes';
import { decodeBase64, encodeBase64 } from '../codec/base64.js';
import { SealError } from '../errors.js';

/** An XML element (ltx). */
export type Element = LtxElement;
/** The ltx element constructor. */
export const Element = LtxElement;

/** The namespace of stanzas a client receives (RFC 6120 §4.8.3). @see spec §encoding.xml */
export const CLIENT_NS = 'jabber:client';
/** The service discovery info namespace (XEP-0030). */
export const DISCO_INFO_NS = 'http://jabber.org/protocol/disco#info';
/** The namespace of stanza error conditions (RFC 6120 §8.3). */
export const STANZA_ERRORS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/**
 * Upper bound on XML text handed to {@link parseXml}, in characters: 256 KiB, far above any
 * stanza Seal produces and below the stanza size limits common servers enforce.
 *
 * @see spec §encoding.xml
 */
export const MAX_XML_CHARS = 262144;

/**
 * Upper bound on element nesting accepted by {@link parseXml} and {@link wellFormedCopy}: 64
 * levels, far above the 8 of Seal's deepest structure (a binding statement's certificate in a
 * device list in a PEP notification) and low enough that walking a tree recursively cannot
 * exhaust a call stack.
 *
 * @see spec §encoding.xml
 */
export const MAX_XML_DEPTH = 64;

/** Text that XMPP forbids (RFC 6120 §11.1): declarations, comments, processing instructions, custom entities. */
const FORBIDDEN = /<!(?!\[CDATA\[)|<\?|&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/;

/**
 * Parses one XML element from text, as a receiver of a stanza's text would.
 *
 * Implements requirements `encoding.xml-restricted`, `encoding.xml-well-formed` and
 * `encoding.xml-namespaces`: the text must be a namespace-well-formed XML 1.0 document (one root
 * element, matching tags, no duplicate attribute, no text but white space outside the root,
 * only XML characters, every prefix declared) without document type declarations, processing
 * instructions, comments, or entity references other than the five predefined ones and
 * character references, as RFC 6120 §11.1 restricts XMPP. Nothing is repaired: a lenient
 * reading of such text (the last of two duplicate attributes, the first of two roots) would be
 * a second meaning another implementation may not share.
 *
 * @param maxChars - the largest text accepted, in UTF-16 code units (default {@link MAX_XML_CHARS}).
 * @throws SealError `too-large` above `maxChars` or nested deeper than {@link MAX_XML_DEPTH};
 *   `malformed-xml` for text that is not exactly one namespace-well-formed element or uses a
 *   forbidden construct.
 * @see spec §encoding.xml
 * @example
 * ```ts
 * parseXml("<x xmlns='urn:xmpp:seal:0'/>").attrs.xmlns // 'urn:xmpp:seal:0'
 * ```
 */
export function parseXml(text: string, maxChars = MAX_XML_CHARS): Element {
  if (text.length > maxChars) throw new SealError('too-large', `XML: expected at most ${maxChars} characters, got ${text.length}`);
  // @req encoding.xml-restricted
  const forbidden = FORBIDDEN.exec(text);
  if (forbidden) throw new SealError('malformed-xml', 'XML: declarations, comments, processing instructions and custom entities are not allowed', forbidden.index);
  // @req encoding.xml-well-formed: a conforming, namespace-aware XML 1.0 parser; its first error ends the parse.
  const parser = new SaxesParser({ xmlns: true, position: false });
  let root: Element | undefined;
  let current: Element | undefined;
  let depth = 0;
  parser.on('error', (e) => {
    throw new SealError('malformed-xml', `XML: not well-formed (${e.message})`);
  });
  parser.on('opentag', (tag) => {
    depth += 1;
    if (depth > MAX_XML_DEPTH) throw new SealError('too-large', `XML: elements nested deeper than ${MAX_XML_DEPTH} levels`);
    const attrs: Record<string, string> = {};
    for (const attribute of Object.values(tag.attributes)) {
      // An ltx element keeps attributes in a plain object, which cannot hold this one: refused, not dropped.
      if (attribute.name === '__proto__') throw new SealError('malformed-xml', 'XML: an attribute named __proto__ is not accepted');
      attrs[attribute.name] = attribute.value;
    }
    const element = new LtxElement(tag.name, attrs);
    if (current === undefined) root = element;
    else current.cnode(element);
    // @req encoding.xml-namespaces: ltx resolves namespaces itself when Seal matches elements;
    // where its reading could differ from the parser's (xmlns='' undeclaring a default
    // namespace, which ltx ignores), the text is refused rather than read two ways.
    if ((element.getNS() ?? '') !== tag.uri) throw new SealError('malformed-xml', `XML: <${tag.name}> undeclares its parent's default namespace (xmlns=''), which Seal does not accept`);
    current = element;
  });
  parser.on('closetag', () => {
    depth -= 1;
    current = (current?.parent ?? undefined) as Element | undefined;
  });
  const onText = (t: string): void => {
    if (current !== undefined) current.t(t);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  try {
    parser.write(text).close();
  } catch (e) {
    if (e instanceof SealError) throw e;
    throw new SealError('malformed-xml', `XML: not well-formed (${e instanceof Error ? e.message : 'parse error'})`);
  }
  if (root === undefined) throw new SealError('malformed-xml', 'XML: expected one element');
  return root;
}

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"'\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function escapeText(value: string): string {
  return value.replace(/[&<>\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** XML text of `element`, with `extra` declarations on its start tag; white space in attributes and CR in text kept as character references. */
function serialize(element: Element, extra: Record<string, string>, out: string[]): void {
  out.push('<', element.name);
  const attrs: Record<string, unknown> = { ...extra, ...element.attrs };
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    out.push(' ', name, '="', escapeAttribute(String(value)), '"');
  }
  if (element.children.length === 0) {
    out.push('/>');
    return;
  }
  out.push('>');
  for (const child of element.children as unknown[]) {
    if (typeof child === 'string' || typeof child === 'number') out.push(escapeText(String(child)));
    else if (isElementLike(child)) serialize(child, {}, out);
    else throw new SealError('malformed-xml', `<${element.name}>: a child that is neither an element nor text`);
  }
  out.push('</', element.name, '>');
}

function isElementLike(value: unknown): value is Element {
  return typeof value === 'object' && value !== null && 'name' in value && 'children' in value && 'attrs' in value && typeof (value as { name: unknown }).name === 'string' && Array.isArray((value as { children: unknown }).children);
}

/**
 * Reads an element tree that another library built (a stanza or PEP item an XMPP library
 * parsed, an element an application constructed) exactly as {@link parseXml} reads text: its
 * serialisation, with the namespace declarations in scope where it stands, is parsed again, and
 * the parsed copy is returned. A lenient parser's repairs are not undone (a duplicate attribute
 * it dropped is gone), but nothing that is not namespace-well-formed XML (an undeclared prefix,
 * a name or character XML does not allow, `xmlns=''` under a default namespace) gets through.
 *
 * Implements requirement `encoding.xml-well-formed` for trees.
 *
 * @throws SealError `too-large` above {@link MAX_XML_CHARS} characters or {@link MAX_XML_DEPTH}
 *   levels; `malformed-xml` as {@link parseXml}.
 * @see spec §encoding.xml
 */
export function wellFormedCopy(element: Element, maxChars = MAX_XML_CHARS): Element {
  // Depth first, without recursion: serialising a deeper tree could exhaust the stack.
  const stack: Array<[unknown, number]> = [[element, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!isElementLike(node)) throw new SealError('malformed-xml', 'XML: expected an element');
    if (depth > MAX_XML_DEPTH) throw new SealError('too-large', `XML: elements nested deeper than ${MAX_XML_DEPTH} levels`);
    for (const child of node.children as unknown[]) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  const out: string[] = [];
  // @req encoding.xml-well-formed
  serialize(element, inheritedDeclarations(element), out);
  return parseXml(out.join(''), maxChars);
}

/** The namespace declarations in scope at `element`'s place that it does not make itself (the nearest ancestor's first). */
function inheritedDeclarations(element: Element): Record<string, string> {
  const inScope: Record<string, string> = {};
  for (let ancestor = element.parent as Element | null | undefined; ancestor; ancestor = ancestor.parent as Element | null | undefined) {
    for (const [name, value] of Object.entries(ancestor.attrs)) {
      if ((name === 'xmlns' || name.startsWith('xmlns:')) && typeof value === 'string' && !Object.hasOwn(inScope, name) && !Object.hasOwn(element.attrs, name)) inScope[name] = value;
    }
  }
  return inScope;
}

function cloneTree(element: Element, extra: Record<string, string>): Element {
  const copy = new LtxElement(element.name, { ...extra, ...element.attrs });
  for (const child of element.children as unknown[]) {
    if (isElementLike(child)) copy.cnode(cloneTree(child, {}));
    else if (typeof child === 'string') copy.t(child);
  }
  return copy;
}

/**
 * A copy of `element` that stands on its own: the namespace declarations in scope where it stood
 * are written on the copy, so the copy (and its serialisation) means what the element meant in
 * place. For elements taken out of a larger tree and kept, such as a message's content elements.
 *
 * @see spec §encoding.xml
 * @example
 * ```ts
 * standalone(parseXml("<a xmlns:x='urn:x'><x:b/></a>").children[0] as Element).toString() // '<x:b xmlns:x="urn:x"/>'
 * ```
 */
export function standalone(element: Element): Element {
  return cloneTree(element, inheritedDeclarations(element));
}

/**
 * Whether `element` is `<name/>` in namespace `ns`: local name and namespace name, never the
 * local name or the prefix alone (`<x:keys xmlns:x='urn:example'/>` is not Seal's `<keys/>`).
 *
 * Implements requirement `encoding.xml-namespaces`.
 *
 * @see spec §encoding.xml
 * @example
 * ```ts
 * isNamed(parseXml("<s:keys xmlns:s='urn:xmpp:seal:0'/>"), 'keys', 'urn:xmpp:seal:0') // true
 * ```
 */
export function isNamed(element: Element, name: string, ns: string): boolean {
  // @req encoding.xml-namespaces
  return element.getName() === name && element.getNS() === ns;
}

/**
 * The element children of `element` that are `<name/>` in namespace `ns` ({@link isNamed}).
 *
 * @see spec §encoding.xml
 */
export function childrenNamed(element: Element, name: string, ns: string): Element[] {
  return childElements(element).filter((child) => isNamed(child, name, ns));
}

/**
 * The one child of `parent` that is `<name/>` in namespace `ns` ({@link childrenNamed}).
 *
 * @throws SealError `schema-violation` when there is none or more than one.
 * @see spec §encoding.xml
 */
export function onlyChild(parent: Element, name: string, ns: string): Element {
  const found = childrenNamed(parent, name, ns);
  if (found.length !== 1) throw new SealError('schema-violation', `<${parent.getName()}>: expected exactly one <${name}/>, got ${found.length}`);
  return found[0]!;
}

/**
 * Whether `element` is a stanza (`message`, `presence`, `iq`) named `name`: in `jabber:client`,
 * or with no namespace in scope, which is how a stanza read from a client stream arrives (the
 * stream's default namespace is declared on the stream, not on the stanza).
 *
 * @see spec §encoding.xml
 */
export function isStanza(element: Element, name: string): boolean {
  const ns = element.getNS() as string | undefined;
  return element.getName() === name && (ns === CLIENT_NS || ns === undefined);
}

/**
 * The element children of `parent` named `name` in `parent`'s own namespace: the unqualified
 * children of a namespaced element (`<item/>` in `<items xmlns='…pubsub#event'/>`), or a
 * stanza's `<body/>`, `<error/>`, `<priority/>` (in `jabber:client`, or in no namespace for a
 * stanza read from a stream or built without one).
 *
 * Implements requirement `encoding.xml-namespaces` where the namespace is the parent's.
 *
 * @see spec §encoding.xml
 */
export function sameNamespaceChildren(parent: Element, name: string): Element[] {
  const ns = parent.getNS() as string | undefined;
  return childElements(parent).filter((child) => child.getName() === name && child.getNS() === ns);
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

/** Escapes text content for the canonical form: `&`, `<` and `>`. */
function canonicalText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes an attribute value for the canonical form (single quotes): `&`, `<`, `'`, tab, LF, CR. */
function canonicalAttrValue(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

/**
 * Seal's canonical serialisation of an element, the one form in which the test vectors and the
 * XEP's examples write XML (§encoding.xml-canonical): no XML declaration; every element by its local
 * name, with `xmlns='…'` written first where its namespace differs from its parent's (always on
 * the outermost element that has one, except a stanza in `jabber:client`, the client stream's
 * default namespace, which is written without it); the other attributes sorted by name, each as ` name='value'`;
 * an element without children as `<name/>`; white-space-only text dropped between the children of
 * an element that has element children, all other text kept; `&`, `<`, `>` escaped in text and
 * `&`, `<`, `'`, tab, LF, CR in attribute values, nothing else. With `indent`, each child element
 * of an element-only parent starts on its own line, indented by two spaces per level (the form of
 * the XEP's examples); the indentation is white space between elements and therefore not part of
 * the canonical form.
 *
 * @see spec §encoding.xml
 * @example
 * ```ts
 * canonicalXml(parseXml('<a xmlns="urn:x" z="1" b="&apos;"><b xmlns="urn:x"> </b></a>')) // "<a xmlns='urn:x' b='&apos;' z='1'><b> </b></a>"
 * ```
 */
export function canonicalXml(element: Element, options: { indent?: boolean } = {}): string {
  // A stanza at the top is written as on the client's stream, whose default namespace is
  // jabber:client: no xmlns for it, whether it was declared or left to the stream.
  const ns = element.getNS() ?? '';
  const top = ns === '' || ns === CLIENT_NS ? ns : undefined;
  return canonicalElement(element, top, options.indent === true ? '' : undefined);
}

function canonicalElement(element: Element, parentNs: string | undefined, indent: string | undefined): string {
  const ns = element.getNS() ?? '';
  const attrs = element.attrs as Record<string, unknown>;
  const names = Object.keys(attrs).filter((name) => name !== 'xmlns' && !name.startsWith('xmlns:') && attrs[name] !== undefined && attrs[name] !== null).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const declaration = ns !== (parentNs ?? '') ? ` xmlns='${canonicalAttrValue(ns)}'` : '';
  const start = `<${element.getName()}${declaration}${names.map((name) => ` ${name}='${canonicalAttrValue(String(attrs[name]))}'`).join('')}`;
  const children = element.children as readonly (Element | string)[];
  const hasElements = children.some((child) => typeof child !== 'string');
  const kept = hasElements ? children.filter((child) => typeof child !== 'string' || child.trim() !== '') : children;
  if (kept.length === 0 || kept.every((child) => child === '')) return `${indent ?? ''}${start}/>`;
  const inner = indent !== undefined && kept.every((child) => typeof child !== 'string');
  const body = kept.map((child) => (typeof child === 'string' ? canonicalText(child) : canonicalElement(child, ns, inner ? `${indent}  ` : undefined))).join(inner ? '\n' : '');
  return inner ? `${indent}${start}>\n${body}\n${indent}</${element.getName()}>` : `${indent ?? ''}${start}>${body}</${element.getName()}>`;
}

/**
 * The defined condition of an error stanza (RFC 6120 §8.3): the `<error/>` child in the stanza's
 * own namespace, its first child in the stanza-errors namespace other than `<text/>`;
 * `undefined-condition` when there is none.
 */
export function stanzaErrorCondition(stanza: Element): string {
  const error = sameNamespaceChildren(stanza, 'error')[0];
  return (error === undefined ? undefined : childElements(error).find((c) => c.getNS() === STANZA_ERRORS_NS && c.getName() !== 'text')?.getName()) ?? 'undefined-condition';
}
