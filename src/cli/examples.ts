/**
 * The XML examples of spec/seal.xml that show Seal elements with real keys and signatures,
 * generated from the code with fixed seeds. `seal spec generate` writes them into the spec; a test checks that
 * the spec's examples with these captions are exactly these texts, so an example can never show
 * something the code would reject or produce differently. A base64 value longer than 64
 * characters is shown as its first 40 characters and `…`, except in the complete examples
 * ({@link COMPLETE_EXAMPLES}, the worked example of the companion document's appendix); the checks
 * validate the element in full.
 *
 * @see spec §identity
 * @module
 */
import { FileSharingElement } from '../wire/files.js';
import { SEAL_STREAM_CIPHER } from '../files/constants.js';
import { addDevice, bundleOf, bundleNode, createDeviceList, createDeviceState, DEVICE_LIST_NODE, ITEM_ID, publishOptions } from '../identity/index.js';
import { bareJid } from '../identity/jid.js';
import { verifyBundle } from '../identity/bundle.js';
import { authenticateDtlsFingerprints, initiateAsync, startInteractive } from '../handshake/index.js';
import { type PeerSession, openStanza, sealKeyOnly, sealStanza, sessionKey, startRatchet } from '../envelope/index.js';
import { ed25519PublicKeyOf, generateEd25519KeyPair, seededRng } from '../suite/index.js';
import { BundleElement, DeviceListElement, DtlsFingerprintsElement, EncryptionMarker, InteractiveMessageElement, StoreHint, type Element, canonicalXml, interactiveIqId, parseXml, publishIq, xml } from '../wire/index.js';
import { SEAL_NS } from '../suite/suite.js';
import { sealRoomMessage } from '../groups/room.js';

/** The fixed time of the examples: 2026-11-26T09:00:00Z. */
export const EXAMPLE_TIME = Date.UTC(2026, 10, 26, 9, 0, 0) / 1000;

/** An element in the canonical form with two-space indentation (§encoding.xml-canonical), as the XEP's examples show it. */
export function prettyXml(element: Element): string {
  return canonicalXml(element, { indent: true });
}

/** Base64 values longer than this are shown truncated in the examples (§conventions). */
export const TRUNCATE_ABOVE = 64;
/** How many characters of a truncated value are shown, before `…` (U+2026). */
export const TRUNCATE_KEEP = 40;

/**
 * The captions of the generated examples shown with every byte (no truncation): the complete
 * worked example of the companion document's appendix. Every other generated example shows a
 * base64 value longer than {@link TRUNCATE_ABOVE} characters as its first {@link TRUNCATE_KEEP}
 * characters followed by `…`.
 */
export const COMPLETE_EXAMPLES: readonly string[] = ['A complete sealed message (worked example)'];

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Whether `value` is a base64 value long enough to be truncated in an example. */
export function isTruncatable(value: string): boolean {
  return value.length > TRUNCATE_ABOVE && BASE64.test(value);
}

/** `value` as an example shows it: truncated with `…` when {@link isTruncatable}, else unchanged. */
export function truncateValue(value: string): string {
  return isTruncatable(value) ? `${value.slice(0, TRUNCATE_KEEP)}\u2026` : value;
}

/** Whether `shown` is `full` as an example shows it, truncated or not. */
export function showsValue(shown: string, full: string): boolean {
  return shown === full || (isTruncatable(full) && shown === truncateValue(full));
}

/**
 * A copy of `element` in which every base64 text content or attribute value longer than
 * {@link TRUNCATE_ABOVE} characters is truncated ({@link truncateValue}). The original is unchanged.
 */
export function truncateBase64(element: Element): Element {
  const copy = parseXml(canonicalXml(element));
  const visit = (e: Element) => {
    for (const [name, value] of Object.entries(e.attrs as Record<string, unknown>)) {
      if (name !== 'xmlns' && !name.startsWith('xmlns:') && typeof value === 'string') (e.attrs as Record<string, unknown>)[name] = truncateValue(value);
    }
    e.children = (e.children as (Element | string)[]).map((c) => (typeof c === 'string' ? truncateValue(c) : (visit(c), c)));
  };
  visit(copy);
  return copy;
}

/** A generated example: the element the code produced, and the text the spec shows. */
export interface GeneratedExample {
  /** The element as the code produced it, every byte present. */
  readonly element: Element;
  /** The text of the example: the canonical indented form, long base64 truncated unless the caption is in {@link COMPLETE_EXAMPLES}. */
  readonly text: string;
  /** Whether the text shows every value in full. */
  readonly complete: boolean;
}

/** Every generated example: caption → XML text as the spec shows it. */
export function specExamples(): Map<string, string> {
  return new Map([...generatedExamples()].map(([caption, example]) => [caption, example.text]));
}

/**
 * Every generated example by caption: the element and its text. Examples whose caption is in
 * {@link COMPLETE_EXAMPLES} are shown in full, all others with long base64 values truncated.
 */
export function generatedExamples(): Map<string, GeneratedExample> {
  const out = new Map<string, GeneratedExample>();
  for (const [caption, element] of exampleElements()) {
    const complete = COMPLETE_EXAMPLES.includes(caption);
    out.set(caption, { element, complete, text: prettyXml(complete ? element : truncateBase64(element)) });
  }
  return out;
}

/** Every generated example: caption → the element, in full. */
function exampleElements(): Map<string, Element> {
  const rng = seededRng('spec examples');
  const juliet = bareJid('juliet@capulet.lit');
  const device = createDeviceState({ jid: juliet, now: EXAMPLE_TIME, rng, oneTimePrekeys: 3 });
  const account = generateEd25519KeyPair(rng);
  const laptop = { id: device.deviceId, added: EXAMPLE_TIME - 86400 * 30, signingKey: ed25519PublicKeyOf(device.signingKey), label: 'Laptop' };
  // The phone's key comes from its own seed, so that the other examples keep their bytes.
  const phone = { id: 1094281337, added: EXAMPLE_TIME - 86400 * 200, signingKey: generateEd25519KeyPair(seededRng('spec examples phone')).publicKey, label: 'Phone' };
  const list = createDeviceList(juliet, [phone], EXAMPLE_TIME - 86400 * 200, { secretKey: account.secretKey });
  const updated = addDevice(juliet, list, laptop, EXAMPLE_TIME - 86400 * 30, { secretKey: account.secretKey });
  const withBinding = createDeviceList(juliet, updated.devices, updated.issued, {
    secretKey: account.secretKey,
    bindings: [{ kind: 'openpgp', certificate: rng(48), signature: rng(64) }],
  });
  const examples = new Map<string, Element>();
  // Each element is copied when it is set, so that nothing drawn later can change it.
  const set = examples.set.bind(examples);
  examples.set = (caption, element) => set(caption, parseXml(canonicalXml(element)));
  const fileRng = seededRng('spec examples file');
  examples.set('A file descriptor and its fallback text in the content of a sealed message',
    xml('content', { xmlns: 'urn:xmpp:sce:1' }, [
      FileSharingElement.toXml({ mediaType: 'image/jpeg', name: 'summit.jpg', size: 3032449, hash: fileRng(32), cipher: SEAL_STREAM_CIPHER, key: fileRng(32), iv: fileRng(16), encryptedHash: fileRng(32), url: 'https://upload.montague.lit/4a771ac1f0b24a4a9700f2a2/6b0d2c1e5f3a4d7c9e8b1a2f3c4d5e6f.bin' }),
      xml('body', { xmlns: 'jabber:client' }, ['summit.jpg']),
    ]),
  );
  examples.set('The explicit-encryption marker and the storage hint',
    xml('message', { xmlns: 'jabber:client', to: 'juliet@capulet.lit', type: 'chat' }, [EncryptionMarker.toXml({ namespace: SEAL_NS, name: 'Seal' }), StoreHint.toXml({})]),
  );
  examples.set('Publishing the device list, signed by the account key',
    publishIq('pub-devices', DEVICE_LIST_NODE, ITEM_ID, DeviceListElement.toXml(updated), publishOptions()),
  );
  examples.set('Publishing a bundle',
    publishIq('pub-bundle', bundleNode(device.deviceId), ITEM_ID, BundleElement.toXml(bundleOf(device)), publishOptions()),
  );
  examples.set('A device list whose account key is vouched for by an OpenPGP key (placeholder certificate and signature bytes)',
    DeviceListElement.toXml(withBinding),
  );
  const romeo = createDeviceState({ jid: 'romeo@montague.lit', now: EXAMPLE_TIME, rng, oneTimePrekeys: 0 });
  const started = initiateAsync({ self: romeo, peer: verifyBundle(bundleOf(device), { jid: juliet, deviceId: device.deviceId, now: EXAMPLE_TIME }), rng });
  const fingerprints = authenticateDtlsFingerprints(started.session, { sid: 'a73sjjvkla37jfea', role: 'initiator' }, [{ hash: 'sha-256', value: rng(32) }]);
  examples.set('DTLS fingerprints authenticated by a Seal session',
    xml('message', { xmlns: 'jabber:client', from: 'romeo@montague.lit/orchard', to: 'juliet@capulet.lit/balcony', type: 'chat' }, [DtlsFingerprintsElement.toXml(fingerprints)]),
  );
  const interactive = startInteractive({ self: romeo, peer: { jid: juliet, deviceId: device.deviceId }, rng, now: EXAMPLE_TIME });
  examples.set('Message 1 of an interactive handshake',
    xml('iq', { xmlns: 'jabber:client', from: 'romeo@montague.lit/orchard', to: 'juliet@capulet.lit/balcony', type: 'set', id: interactiveIqId(interactive.message.sid, 1) }, [InteractiveMessageElement.toXml(interactive.message)]),
  );
  // Romeo's device sends to two of Juliet's devices and to his own other device.
  const juliet2 = createDeviceState({ jid: juliet, now: EXAMPLE_TIME, rng, oneTimePrekeys: 1, takenDeviceIds: [device.deviceId] });
  const romeo2 = createDeviceState({ jid: 'romeo@montague.lit', now: EXAMPLE_TIME, rng, oneTimePrekeys: 1, takenDeviceIds: [romeo.deviceId] });
  const sessions = new Map<string, PeerSession>();
  for (const peer of [device, juliet2, romeo2]) {
    const start = initiateAsync({ self: romeo, peer: verifyBundle(bundleOf(peer), { jid: peer.jid, deviceId: peer.deviceId, now: EXAMPLE_TIME }), rng });
    sessions.set(sessionKey(peer.jid, peer.deviceId), { ratchet: startRatchet(start.session, rng), confirmation: peer === device ? { state: 'confirmed' } : { state: 'unconfirmed', header: start.header } });
  }
  const sealed = sealStanza({
    to: 'juliet@capulet.lit', from: 'romeo@montague.lit/orchard', id: 'msg-1', senderDeviceId: romeo.deviceId,
    content: [xml('body', {}, ['Wherefore art thou?'])],
    recipients: [device, juliet2, romeo2].map((d) => ({ jid: d.jid, deviceId: d.deviceId })), sessions, rng, now: EXAMPLE_TIME,
  });
  examples.set('A sealed message to two devices of the peer and one own device', sealed.stanza);
  // The worked example of the companion's appendix: the same message, every byte shown.
  examples.set('A complete sealed message (worked example)', sealed.stanza);
  // Juliet's second device opens msg-1 (its key's handshake header establishes the session) and
  // confirms the session to Romeo's device. Drawn last, so the examples above keep their bytes.
  const opened = openStanza({ stanza: sealed.stanza, self: juliet2, log: [], sessions: new Map(), now: EXAMPLE_TIME });
  if (opened.kind !== 'ok') throw new Error(`spec examples: msg-1 does not open on Juliet's second device (${opened.kind})`);
  const confirmation = sealKeyOnly({
    to: 'romeo@montague.lit', from: 'juliet@capulet.lit/balcony', id: 'key-1', senderDeviceId: juliet2.deviceId,
    recipients: [{ jid: romeo.jid, deviceId: romeo.deviceId }], sessions: opened.sessions, rng, now: EXAMPLE_TIME,
  });
  examples.set('A key-only message confirming a session', confirmation.stanza);
  // Juliet's laptop cannot open a message from Romeo's second device (it has no session with it):
  // it repairs by starting a session from that device's bundle and announcing it. Drawn last.
  const repair = initiateAsync({ self: device, peer: verifyBundle(bundleOf(romeo2), { jid: romeo2.jid, deviceId: romeo2.deviceId, now: EXAMPLE_TIME }), rng });
  const repairSessions = new Map<string, PeerSession>([[sessionKey(romeo2.jid, romeo2.deviceId), { ratchet: startRatchet(repair.session, rng), confirmation: { state: 'unconfirmed', header: repair.header } }]]);
  const announcement = sealKeyOnly({
    to: 'romeo@montague.lit', from: 'juliet@capulet.lit/balcony', id: 'repair-1', senderDeviceId: device.deviceId,
    recipients: [{ jid: romeo2.jid, deviceId: romeo2.deviceId }], sessions: repairSessions, rng, now: EXAMPLE_TIME,
  });
  examples.set('A key-only message announcing a repair: a new session with its handshake header', announcement.stanza);
  // §groups: Romeo writes to a room whose members are Romeo and Juliet: one key for each of
  // Juliet's two devices and one for his own other device, on sessions that are confirmed.
  // Drawn last, so the examples above keep their bytes.
  const room = bareJid('balcony@rooms.capulet.lit');
  const roomSessions = new Map<string, PeerSession>();
  for (const peer of [device, juliet2, romeo2]) {
    const start = initiateAsync({ self: romeo, peer: verifyBundle(bundleOf(peer), { jid: peer.jid, deviceId: peer.deviceId, now: EXAMPLE_TIME }), rng });
    roomSessions.set(sessionKey(peer.jid, peer.deviceId), { ratchet: startRatchet(start.session, rng), confirmation: { state: 'confirmed' } });
  }
  const roomMessage = sealRoomMessage({
    room, sender: romeo.jid, senderDeviceId: romeo.deviceId, id: 'room-1', content: [xml('body', {}, ['Parting is such sweet sorrow.'])],
    recipients: [device, juliet2, romeo2].map((d) => ({ jid: d.jid, deviceId: d.deviceId })), sessions: roomSessions, rng, now: EXAMPLE_TIME,
  }).stanzas[0]!;
  examples.set('A message to a room', roomMessage);
  // The same message as the room's archive returns it (XEP-0313): from the occupant JID, with the
  // room's own claim about the sender's real JID, which a receiver does not use.
  const archived = parseXml(roomMessage.toString());
  archived.attrs = { xmlns: 'jabber:client', from: `${room}/romeo`, id: 'room-1', type: 'groupchat' };
  archived.cnode(xml('x', { xmlns: 'http://jabber.org/protocol/muc#user' }, [xml('item', { affiliation: 'owner', role: 'participant', jid: 'romeo@montague.lit' })]));
  examples.set('A room message as the archive of the room returns it',
    xml('message', { xmlns: 'jabber:client', from: room, to: 'juliet@capulet.lit/balcony', id: 'mam-7' }, [
      xml('result', { xmlns: 'urn:xmpp:mam:2', queryid: 'q-balcony', id: '5d3e6f1a' }, [
        xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, [xml('delay', { xmlns: 'urn:xmpp:delay', stamp: '2026-11-26T09:00:00Z' }), archived]),
      ]),
    ]),
  );
  return examples;
}
