/**
 * Elements that travel beside Seal's own: the XEP-0380 explicit-encryption marker that tells a
 * client without Seal what it received, and the XEP-0334 storage hint that lets servers store a
 * body-less encrypted message.
 *
 * @see spec §encoding.xml
 * @module
 */
import * as z from 'zod/mini';
import { SEAL_NS } from '../suite/suite.js';
import { defineElement } from './element.js';
import { Element, optionalAttr, requiredAttr } from './xml.js';

/** Namespace of XEP-0380 (Explicit Message Encryption). */
export const EME_NS = 'urn:xmpp:eme:0';
/** Namespace of XEP-0334 (Message Processing Hints). */
export const HINTS_NS = 'urn:xmpp:hints';

/** Schema of the explicit-encryption marker: `namespace` is Seal's, `name` optional. */
export const EncryptionMarkerSchema = z.object({ namespace: z.literal(SEAL_NS), name: z.optional(z.string().check(z.maxLength(64))) });
/** The value of the explicit-encryption marker. */
export type EncryptionMarkerValue = z.infer<typeof EncryptionMarkerSchema>;

/**
 * `<encryption xmlns='urn:xmpp:eme:0' namespace='urn:xmpp:seal:0' name='Seal'/>` (XEP-0380).
 *
 * @see spec §encoding.xml
 */
export const EncryptionMarker = defineElement<EncryptionMarkerValue>({
  name: 'encryption',
  ns: EME_NS,
  schema: EncryptionMarkerSchema,
  write: (value) => new Element('encryption', { xmlns: EME_NS, namespace: value.namespace, ...(value.name === undefined ? {} : { name: value.name }) }),
  read: (element) => {
    const name = optionalAttr(element, 'name');
    return { namespace: requiredAttr(element, 'namespace'), ...(name === undefined ? {} : { name }) };
  },
});

/**
 * `<store xmlns='urn:xmpp:hints'/>` (XEP-0334 §4.4).
 *
 * @see spec §encoding.xml
 */
export const StoreHint = defineElement<Record<string, never>>({
  name: 'store',
  ns: HINTS_NS,
  schema: z.strictObject({}),
  write: () => new Element('store', { xmlns: HINTS_NS }),
  read: () => ({}),
});
