/**
 * The `ForwardedStanza` group of `vectors/offline.json`: how a device reads the transport around
 * an incoming `<message/>` — carbons (XEP-0280), archive results (XEP-0313), error bounces, PEP
 * notifications — and which wrappers it rejects as forged (`forged-forward`): a carbon that does
 * not come from the account's own bare JID, an archive result from another JID or for a query
 * the device did not send.
 *
 * @see spec §offline.forwarded
 * @module
 */
import * as z from 'zod/mini';
import { SealError } from '../errors.js';
import { bareJid } from '../identity/index.js';
import { classifyIncoming } from '../device/forwarded.js';
import { parseXml } from '../wire/index.js';
import type { Fields, GroupKind } from './kind.js';

const SELF = 'juliet@capulet.lit';
const QUERY = 'f27a1c3e';
const SEALED = "<sealed xmlns='urn:xmpp:seal:0' sid='1864894878'><keys jid='juliet@capulet.lit'><key rid='969685994'>AAAA</key></keys><payload commitment='AAAA'>AAAA</payload></sealed>";
const inner = (from = 'romeo@montague.lit/orchard', to = 'juliet@capulet.lit/balcony') => `<message xmlns='jabber:client' from='${from}' to='${to}' type='chat' id='m1'>${SEALED}</message>`;
const forwarded = (message = inner()) => `<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2026-12-03T08:00:00Z'/>${message}</forwarded>`;
const carbon = (kind: 'sent' | 'received', from: string | undefined, body = forwarded()) =>
  `<message xmlns='jabber:client'${from === undefined ? '' : ` from='${from}'`} to='juliet@capulet.lit/balcony' type='chat'><${kind} xmlns='urn:xmpp:carbons:2'>${body}</${kind}></message>`;
const result = (from: string | undefined, queryid: string | undefined, body = forwarded()) =>
  `<message xmlns='jabber:client'${from === undefined ? '' : ` from='${from}'`} to='juliet@capulet.lit/balcony'><result xmlns='urn:xmpp:mam:2'${queryid === undefined ? '' : ` queryid='${queryid}'`} id='28482-98726-73623'>${body}</result></message>`;

/** Reads one incoming stanza for account `self` with outstanding archive queries `queries`. */
function readForwarded(i: Fields): Fields {
  const stanza = parseXml(i.stanza as string);
  const read = classifyIncoming(stanza, bareJid(i.self as string), new Set(i.queries as string[]));
  switch (read.kind) {
    case 'forged':
      throw new SealError('forged-forward', read.reason);
    case 'message':
      return { kind: 'message', via: read.via, from: String(read.message.attrs.from ?? ''), to: String(read.message.attrs.to ?? '') };
    case 'bounce':
      return { kind: 'bounce', condition: read.condition };
    case 'device-list-notification':
      return { kind: 'device-list-notification', jid: read.jid };
    case 'ignored':
      return { kind: 'ignored' };
  }
}

function cases(): { comment: string; flags?: string[]; inputs: Fields }[] {
  const c = (comment: string, stanza: string, flags: string[] = [], queries: string[] = [QUERY]) => ({ comment, flags, inputs: { self: SELF, queries, stanza } });
  return [
    c('a message delivered to the device (live, or from offline storage): read as it is', inner()),
    c('a carbon of a message the account received, from the account\'s own bare JID', carbon('received', SELF)),
    c('a carbon of a message another of the account\'s clients sent, from the own bare JID', carbon('sent', SELF, forwarded(inner('juliet@capulet.lit/chamber', 'romeo@montague.lit')))),
    c('a "carbon" from another account (the CVE-2017-5589 class): forged', carbon('received', 'mallory@evil.example'), ['forged-wrapper']),
    c('a "carbon" from the own full JID (a carbon comes from the bare JID): forged', carbon('received', 'juliet@capulet.lit/balcony'), ['forged-wrapper']),
    c('a "carbon" without a from: forged', carbon('received', undefined), ['forged-wrapper']),
    c('a carbon from the own bare JID whose <forwarded/> holds two messages: forged', carbon('received', SELF, `<forwarded xmlns='urn:xmpp:forward:0'>${inner()}${inner()}</forwarded>`), ['forged-wrapper']),
    c('an archive result from the own bare JID for the device\'s own query', result(SELF, QUERY)),
    c('an archive result without a from (the account\'s own archive) for the device\'s own query', result(undefined, QUERY)),
    c('an archive result from another account: forged', result('mallory@evil.example', QUERY), ['forged-wrapper']),
    c('an archive result for a query the device did not send: forged', result(SELF, 'guessed-query'), ['forged-wrapper']),
    c('an archive result without a queryid: forged', result(SELF, undefined), ['forged-wrapper']),
    c('an archive result for a query the device no longer waits for (it has none outstanding): forged', result(SELF, QUERY), ['forged-wrapper'], []),
    c('a stanza with a carbon and an archive result at once: forged', `<message xmlns='jabber:client' from='${SELF}'><received xmlns='urn:xmpp:carbons:2'>${forwarded()}</received><result xmlns='urn:xmpp:mam:2' queryid='${QUERY}'>${forwarded()}</result></message>`, ['forged-wrapper']),
    c('an error bounce of a message this device sent: reported, never answered', `<message xmlns='jabber:client' from='romeo@montague.lit' to='juliet@capulet.lit/balcony' type='error' id='m7'>${SEALED}<error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`),
    c('a PEP notification of a contact\'s device list: read as that account\'s list', `<message xmlns='jabber:client' from='romeo@montague.lit' to='juliet@capulet.lit/balcony'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:seal:0:devices'><item id='current'><devices xmlns='urn:xmpp:seal:0' issued='2026-10-27T09:00:00Z'/></item></items></event></message>`),
    c('a PEP notification of another node: not Seal\'s', `<message xmlns='jabber:client' from='romeo@montague.lit' to='juliet@capulet.lit/balcony'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:metadata'/></event></message>`),
    // Elements are matched by namespace and local name (encoding.xml-namespaces).
    c('a carbon from the own bare JID whose forwarded message is <x:message xmlns:x=\'urn:example\'>: not a jabber:client message, so no forwarded message: forged', carbon('received', SELF, forwarded(`<x:message xmlns:x='urn:example' from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony' type='chat'>${SEALED}</x:message>`)), ['forged-wrapper', 'foreign-namespace']),
    c('a carbon from the own bare JID whose forwarded <message/> has no xmlns, so inherits urn:xmpp:forward:0 instead of jabber:client: forged', carbon('received', SELF, forwarded(`<message from='romeo@montague.lit/orchard' to='juliet@capulet.lit/balcony' type='chat'>${SEALED}</message>`)), ['forged-wrapper', 'foreign-namespace']),
    c('a carbon from the own bare JID whose <forwarded/> is in another namespace: no forwarded message, forged', carbon('received', SELF, `<forwarded xmlns='urn:example:forward'>${inner()}</forwarded>`), ['forged-wrapper', 'foreign-namespace']),
    c('a "carbon" wrapper in another namespace (<x:received xmlns:x=\'urn:example:carbons\'>) from another account: not a carbon, read as the live message it is (which carries no Seal element of its own)', `<message xmlns='jabber:client' from='mallory@evil.example' to='juliet@capulet.lit/balcony' type='chat'><x:received xmlns:x='urn:example:carbons'>${forwarded()}</x:received></message>`, ['foreign-namespace']),
    c('a PEP notification whose <items/> is in another namespace: not a notification of Seal\'s device list', `<message xmlns='jabber:client' from='romeo@montague.lit' to='juliet@capulet.lit/balcony'><event xmlns='http://jabber.org/protocol/pubsub#event'><x:items xmlns:x='urn:example' node='urn:xmpp:seal:0:devices'><item id='current'><devices xmlns='urn:xmpp:seal:0' issued='2026-10-27T09:00:00Z'/></item></x:items></event></message>`, ['foreign-namespace']),
    // Only namespace-well-formed XML is read, and nothing is repaired (encoding.xml-well-formed).
    c('a carbon with its from attribute twice (the own bare JID, then another account): not well-formed XML, whichever value a lenient parser would keep', `<message xmlns='jabber:client' from='${SELF}' from='mallory@evil.example' to='juliet@capulet.lit/balcony' type='chat'><received xmlns='urn:xmpp:carbons:2'>${forwarded()}</received></message>`, ['malformed-xml', 'duplicate-attribute']),
    c('a carbon from the own bare JID followed by a second root element: not well-formed XML', `${carbon('received', SELF)}${inner('mallory@evil.example/x')}`, ['malformed-xml', 'two-roots']),
    c('a carbon from the own bare JID with text after its root element: not well-formed XML', `${carbon('received', SELF)}x`, ['malformed-xml', 'text-outside-root']),
    c('a carbon from the own bare JID whose end tags are swapped (</message></received>): not well-formed XML', carbon('received', SELF).replace('</received></message>', '</message></received>'), ['malformed-xml', 'mismatched-tag']),
    c('a message whose <sealed/> has an undeclared prefix (<s:sealed>): not namespace-well-formed XML', inner().replace("<sealed xmlns='urn:xmpp:seal:0'", '<s:sealed').replace('</sealed>', '</s:sealed>'), ['malformed-xml', 'undeclared-prefix']),
  ];
}

/** `ForwardedStanza`: the transport of one incoming stanza and the wrapper checks. @see spec §offline.forwarded */
export const forwardedStanza: GroupKind = {
  type: 'ForwardedStanza',
  description:
    'how the account self, with the archive query ids queries outstanding, reads the incoming <message/> stanza: kind message with via (live, carbon-sent, carbon-received or archive) and the from and to of the message inside (the one the sealed content is checked against); ' +
    'kind bounce with the stanza error condition (type=\'error\': reported, never answered with a repair); kind device-list-notification with the bare JID whose list it is; kind ignored; ' +
    'or error forged-forward for a carbon not from self (the bare JID), an archive result from another JID or for a query id not in queries, several wrappers, or a wrapper without exactly one forwarded message (a <message xmlns=\'jabber:client\'/> inside <forwarded xmlns=\'urn:xmpp:forward:0\'/>); ' +
    'elements are matched by namespace and local name, so a lookalike in another namespace is not the element; error malformed-xml for text that is not one namespace-well-formed XML element (duplicate attribute, two roots, text outside the root, mismatched tags, undeclared prefix)',
  inputs: z.strictObject({ self: z.string(), queries: z.array(z.string()), stanza: z.string() }),
  outputs: z.union([
    z.strictObject({ kind: z.literal('message'), via: z.enum(['live', 'carbon-sent', 'carbon-received', 'archive']), from: z.string(), to: z.string() }),
    z.strictObject({ kind: z.literal('bounce'), condition: z.string() }),
    z.strictObject({ kind: z.literal('device-list-notification'), jid: z.string() }),
    z.strictObject({ kind: z.literal('ignored') }),
  ]),
  operation: readForwarded,
  cases,
};
