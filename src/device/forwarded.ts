/**
 * Reading the transport around a stanza: carbons (XEP-0280), archive results (XEP-0313), PEP
 * notifications (XEP-0163) and error bounces, with the checks that keep any other account from
 * injecting a forwarded stanza (the CVE-2017-5589 class).
 *
 * @see spec §offline.forwarded
 * @module
 */
import { DEVICE_LIST_NODE } from '../identity/pep.js';
import type { BareJid } from '../identity/jid.js';
import { CLIENT_NS, type Element, childElements, childrenNamed, isStanza, stanzaErrorCondition, wellFormedCopy } from '../wire/xml.js';
import type { Via } from './types.js';

const CARBONS_NS = 'urn:xmpp:carbons:2';
const MAM_NS = 'urn:xmpp:mam:2';
const FORWARD_NS = 'urn:xmpp:forward:0';
const PUBSUB_EVENT_NS = 'http://jabber.org/protocol/pubsub#event';

/** What an incoming stanza is, once its transport has been read. @see spec §offline.forwarded */
export type IncomingStanza =
  | {
      readonly kind: 'message';
      readonly via: Via;
      readonly message: Element;
      /** When the server says it received the message (the XEP-0203 `<delay/>` of offline delivery or of the archive's `<forwarded/>`), seconds since the epoch. */
      readonly stamp?: number;
    }
  | { readonly kind: 'bounce'; readonly stanzaId: string | undefined; readonly to: string; readonly condition: string }
  | { readonly kind: 'device-list-notification'; readonly jid: string; readonly list: Element | undefined }
  | { readonly kind: 'forged'; readonly reason: string }
  | { readonly kind: 'ignored' };

/** The bare part of a JID (everything before the first `/`). */
export function bareOf(jid: string): string {
  const slash = jid.indexOf('/');
  return slash === -1 ? jid : jid.slice(0, slash);
}

/**
 * Classifies an incoming stanza for the account `self`. The stanza is first read as Seal reads
 * XML text (namespace-well-formed, bounded: a tree another library parsed gets the same checks),
 * and every element is matched by local name and namespace. A carbon is accepted only when its
 * wrapper comes from `self` (the bare JID, no resource); an archive result only when it comes
 * from `self` or has no `from` (the account's own archive) and names one of this device's
 * outstanding query ids. The stanza inside is then read with its own `from` and `to`, as the
 * account's own server reported them.
 *
 * Implements requirements `offline.forwarded-carbons`, `offline.forwarded-archive`,
 * `encoding.xml-well-formed` and `encoding.xml-namespaces`.
 *
 * @param queries - the `queryid`s of this device's archive queries that have not ended.
 * @throws SealError `malformed-xml` or `too-large` for a stanza that is not namespace-well-formed
 *   XML within the bounds (the engine reports it as a `failed` event and changes nothing).
 * @see spec §offline.forwarded
 */
export function classifyIncoming(received: Element, self: BareJid, queries: ReadonlySet<string>): IncomingStanza {
  // @req encoding.xml-well-formed: the tree an XMPP library hands over is checked as text would be.
  const stanza = wellFormedCopy(received);
  // @req encoding.xml-namespaces: stanzas and their children by local name and namespace.
  if (!isStanza(stanza, 'message')) return { kind: 'ignored' };
  const from = typeof stanza.attrs.from === 'string' ? stanza.attrs.from : undefined;
  if (stanza.attrs.type === 'error') {
    return { kind: 'bounce', stanzaId: typeof stanza.attrs.id === 'string' ? stanza.attrs.id : undefined, to: from ?? '', condition: stanzaErrorCondition(stanza) };
  }
  const carbons = [...childrenNamed(stanza, 'sent', CARBONS_NS), ...childrenNamed(stanza, 'received', CARBONS_NS)];
  const results = childrenNamed(stanza, 'result', MAM_NS);
  if (carbons.length + results.length > 1) return { kind: 'forged', reason: 'more than one forwarding wrapper' };
  const carbon = carbons[0];
  if (carbon !== undefined) {
    // @req offline.forwarded-carbons: only the account's own bare JID sends carbons (XEP-0280 §11).
    if (from !== self) return { kind: 'forged', reason: `carbon from ${from ?? '(no from)'}, not from ${self}` };
    const inner = forwardedMessage(carbon);
    if (inner === undefined) return { kind: 'forged', reason: 'carbon without a forwarded message' };
    return { kind: 'message', via: carbon.getName() === 'sent' ? 'carbon-sent' : 'carbon-received', message: inner };
  }
  const result = results[0];
  if (result !== undefined) {
    // @req offline.forwarded-archive: the account's own archive, and only for this device's own query.
    if (from !== undefined && from !== self) return { kind: 'forged', reason: `archive result from ${from}, not from ${self}` };
    const queryid = result.attrs.queryid;
    if (typeof queryid !== 'string' || !queries.has(queryid)) return { kind: 'forged', reason: 'archive result for a query this device did not send' };
    const inner = forwardedMessage(result);
    if (inner === undefined) return { kind: 'forged', reason: 'archive result without a forwarded message' };
    const stamp = delayStamp(forwardedOf(result));
    return { kind: 'message', via: 'archive', message: inner, ...(stamp === undefined ? {} : { stamp }) };
  }
  const event = stanza.getChild('event', PUBSUB_EVENT_NS);
  if (event !== undefined) {
    const items = event.getChild('items', PUBSUB_EVENT_NS);
    if (items?.attrs.node !== DEVICE_LIST_NODE || from === undefined) return { kind: 'ignored' };
    const item = items.getChild('item', PUBSUB_EVENT_NS);
    const payload = item === undefined ? undefined : childElements(item)[0];
    return { kind: 'device-list-notification', jid: bareOf(from), list: payload };
  }
  const stamp = delayStamp(stanza);
  return { kind: 'message', via: 'live', message: stanza, ...(stamp === undefined ? {} : { stamp }) };
}

const DELAY_NS = 'urn:xmpp:delay';

/** The `<forwarded/>` child of a wrapper, if exactly one. */
function forwardedOf(wrapper: Element): Element | undefined {
  const found = childrenNamed(wrapper, 'forwarded', FORWARD_NS);
  return found.length === 1 ? found[0] : undefined;
}

/**
 * The stamp of the one `<delay xmlns='urn:xmpp:delay'/>` child of `element` (XEP-0203; an
 * XEP-0082 DateTime, fractions and offsets allowed as servers write them), in whole seconds, or
 * `undefined` when there is none or it does not parse. Used only to check the sender's `<time/>`
 * (envelope.time-check), never to order or accept anything.
 */
export function delayStamp(element: Element | undefined): number | undefined {
  if (element === undefined) return undefined;
  const delays = childrenNamed(element, 'delay', DELAY_NS);
  if (delays.length !== 1) return undefined;
  const text = delays[0]!.attrs.stamp;
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

/** The one `<message xmlns='jabber:client'/>` inside the one `<forwarded xmlns='urn:xmpp:forward:0'/>` of a wrapper (XEP-0297). */
function forwardedMessage(wrapper: Element): Element | undefined {
  const forwarded = childrenNamed(wrapper, 'forwarded', FORWARD_NS);
  if (forwarded.length !== 1) return undefined;
  // @req encoding.xml-namespaces: a forwarded stanza is qualified by jabber:client (XEP-0297).
  const messages = childrenNamed(forwarded[0]!, 'message', CLIENT_NS);
  return messages.length === 1 ? messages[0] : undefined;
}
