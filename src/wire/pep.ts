/**
 * The XEP-0060 / XEP-0163 stanzas through which Seal publishes its device list and bundles:
 * publish with publish-options, node configuration, and retrieval.
 *
 * @see spec §identity.pep
 * @module
 */
import { type Element, xml } from './xml.js';

/** XEP-0060 namespaces. */
export const PUBSUB_NS = 'http://jabber.org/protocol/pubsub';
/** XEP-0060 owner namespace. */
export const PUBSUB_OWNER_NS = 'http://jabber.org/protocol/pubsub#owner';
/** XEP-0004 data forms namespace. */
export const DATA_FORMS_NS = 'jabber:x:data';

function form(formType: string, fields: Record<string, string>): Element {
  return xml('x', { xmlns: DATA_FORMS_NS, type: 'submit' }, [
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, [xml('value', {}, [formType])]),
    ...Object.entries(fields).map(([name, value]) => xml('field', { var: name }, [xml('value', {}, [value])])),
  ]);
}

/**
 * `<iq type='set'>` publishing `payload` as item `itemId` of `node`, with the publish-options
 * `options` (XEP-0060 §7.1.5; Seal's are `pubsub#access_model` and `pubsub#persist_items`).
 *
 * @see spec §identity.pep
 */
export function publishIq(id: string, node: string, itemId: string, payload: Element, options: Record<string, string>): Element {
  return xml('iq', { type: 'set', id }, [
    xml('pubsub', { xmlns: PUBSUB_NS }, [
      xml('publish', { node }, [xml('item', { id: itemId }, [payload])]),
      xml('publish-options', {}, [form('http://jabber.org/protocol/pubsub#publish-options', options)]),
    ]),
  ]);
}

/**
 * `<iq type='set'>` configuring `node` (XEP-0060 §8.2), used when a publish fails with
 * `precondition-not-met` because the node exists with another configuration.
 *
 * @see spec §identity.pep
 */
export function configureIq(id: string, node: string, options: Record<string, string>): Element {
  return xml('iq', { type: 'set', id }, [
    xml('pubsub', { xmlns: PUBSUB_OWNER_NS }, [xml('configure', { node }, [form('http://jabber.org/protocol/pubsub#node_config', options)])]),
  ]);
}

/**
 * `<iq type='get'>` retrieving item `itemId` of `node` of account `to` (XEP-0060 §6.5.8).
 *
 * @see spec §identity.pep
 */
export function retrieveIq(id: string, to: string, node: string, itemId: string): Element {
  return xml('iq', { type: 'get', id, to }, [xml('pubsub', { xmlns: PUBSUB_NS }, [xml('items', { node }, [xml('item', { id: itemId })])])]);
}

/**
 * `<iq type='set'>` deleting the account's own node `node` (XEP-0060 §8.4): a removed device's
 * bundle node, or the device-list node when the account's last device is removed.
 *
 * @see spec §identity.pep
 */
export function deleteIq(id: string, node: string): Element {
  return xml('iq', { type: 'set', id }, [xml('pubsub', { xmlns: PUBSUB_OWNER_NS }, [xml('delete', { node })])]);
}
