/**
 * XEP-0115 entity capabilities for a Seal device: the `<c/>` element a client puts in its
 * presence so that a server learns that it wants device-list notifications
 * (`urn:xmpp:seal:0:devices+notify`, XEP-0163 §4) without querying it, and the verification
 * string of its disco#info. SHA-1 here is XEP-0115's, a cache key, not a security function.
 *
 * @see spec §identity.pep
 * @module
 */
import { encodeBase64 } from '../codec/base64.js';
import { compareBytes, utf8Encode } from '../codec/bytes.js';
import { capsSha1 } from '../suite/kdf.js';
import { DATA_FORMS_NS } from './pep.js';
import { DISCO_INFO_NS, type Element, childElements, isNamed, xml } from './xml.js';

/** The caps namespace (XEP-0115). */
export const CAPS_NS = 'http://jabber.org/protocol/caps';
/** The node that names Seal's reference client in its caps (a URI of the software, XEP-0115 §4). */
export const SEAL_CAPS_NODE = 'urn:xmpp:seal:0:client';

/** Sorts by the octets of the UTF-8 encoding (XEP-0115 §5.1: "i;octet" collation). */
const byOctets = (a: string, b: string): number => compareBytes(utf8Encode(a), utf8Encode(b));

/**
 * The verification string of a disco#info `<query/>` (XEP-0115 §5.1): identities
 * `category/type/lang/name<` sorted, features `var<` sorted, then each data form by FORM_TYPE with
 * its fields sorted by var and their values sorted; SHA-1, base64.
 *
 * @see spec §identity.pep
 * @example
 * ```ts
 * capsVer(query) // 'QgayPKawpkPSDYmwT/WM94uAlu0='
 * ```
 */
export function capsVer(query: Element): string {
  const children = childElements(query);
  const identities = children
    .filter((c) => isNamed(c, 'identity', DISCO_INFO_NS))
    .map((c) => `${String(c.attrs.category ?? '')}/${String(c.attrs.type ?? '')}/${String(c.attrs['xml:lang'] ?? '')}/${String(c.attrs.name ?? '')}`)
    .sort(byOctets);
  const features = children.filter((c) => isNamed(c, 'feature', DISCO_INFO_NS)).map((c) => String(c.attrs.var)).sort(byOctets);
  const forms = children
    .filter((c) => isNamed(c, 'x', DATA_FORMS_NS))
    .map((form) => {
      const fields = childElements(form).filter((f) => isNamed(f, 'field', DATA_FORMS_NS));
      const values = (f: Element) => childElements(f).filter((v) => isNamed(v, 'value', DATA_FORMS_NS)).map((v) => v.getText());
      const formType = fields.find((f) => f.attrs.var === 'FORM_TYPE');
      const rest = fields.filter((f) => f.attrs.var !== 'FORM_TYPE').sort((a, b) => byOctets(String(a.attrs.var), String(b.attrs.var)));
      return { type: formType === undefined ? '' : (values(formType)[0] ?? ''), text: rest.map((f) => `${String(f.attrs.var)}<${values(f).sort(byOctets).map((v) => `${v}<`).join('')}`).join('') };
    })
    .sort((a, b) => byOctets(a.type, b.type));
  const s = [...identities.map((i) => `${i}<`), ...features.map((f) => `${f}<`), ...forms.map((f) => `${f.type}<${f.text}`)].join('');
  return encodeBase64(capsSha1(utf8Encode(s)));
}

/**
 * `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='…' ver='…'/>` for a disco#info
 * `<query/>` (XEP-0115 §4), to be sent in the client's presence.
 *
 * @see spec §identity.pep
 */
export function capsElement(query: Element, node = SEAL_CAPS_NODE): Element {
  return xml('c', { xmlns: CAPS_NS, hash: 'sha-1', node, ver: capsVer(query) });
}
