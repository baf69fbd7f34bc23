/**
 * Message Carbons (XEP-0280) as Prosody 0.12's mod_carbons applies them: which messages are
 * copied to an account's other resources, and the copy's wrapping.
 *
 * @see spec §offline
 * @module
 */
import { type Element, childElements, sameNamespaceChildren, xml } from '../wire/xml.js';
import { CARBONS_NS, CLIENT_NS, FORWARD_NS, STANZA_ID_NS, cloneElement, splitJid } from './stanzas.js';

/**
 * Whether Prosody's mod_carbons copies `message` (XEP-0280 §6): not with `<private/>` or a
 * `<no-copy/>` hint; chat messages, normal ones with a body, bounces to a bare JID, call
 * invitations, and messages archived by `userBare`.
 *
 * @param fromClient - the message was sent by a client of this account (a "sent" carbon).
 */
export function shouldCopy(message: Element, fromClient: boolean, userBare: string): boolean {
  const type = (message.attrs.type as string | undefined) ?? 'normal';
  if (message.getChild('private', CARBONS_NS) || message.getChild('no-copy', 'urn:xmpp:hints')) return false;
  if (type === 'chat') return true;
  if (type === 'normal' && sameNamespaceChildren(message, 'body').length > 0) return true;
  if (type === 'error' && !fromClient && splitJid(String(message.attrs.from ?? '')).resource === undefined) return true;
  if (childElements(message).some((child) => child.getNS() === 'urn:xmpp:jingle-message:0')) return true;
  return message.getChildren('stanza-id', STANZA_ID_NS).some((child) => child.attrs.by === userBare);
}

/** `<message from to type><sent|received><forwarded><message…/></forwarded></…></message>`. */
export function carbon(direction: 'sent' | 'received', bare: string, to: string, message: Element): Element {
  const inner = cloneElement(message);
  inner.attrs.xmlns = CLIENT_NS;
  return xml('message', { from: bare, to, type: (message.attrs.type as string | undefined) ?? 'normal' }, [
    xml(direction, { xmlns: CARBONS_NS }, [xml('forwarded', { xmlns: FORWARD_NS }, [inner])]),
  ]);
}

