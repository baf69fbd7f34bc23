/**
 * `OpenNegative` of `vectors/envelope.json`: one device opening one stanza, from the device's
 * complete state (its secrets, its handshake log, and the stanzas it opened before, which give
 * its sessions), with each negative case breaking exactly one rule of §envelope on a stanza of
 * the SealOpen scenario (messages with content and key-only messages).
 *
 * @see spec §envelope.open
 * @see spec §envelope.key-only
 * @module
 */
import * as z from 'zod/mini';
import { concatBytes } from '../codec/bytes.js';
import { decodeBase64, encodeBase64 } from '../codec/base64.js';
import { isSealError } from '../errors.js';
import { ENVELOPE_LABELS, type PeerSession, keyCommitment, openStanza, ratchetEncrypt, sessionKey } from '../envelope/index.js';
import type { DeviceState } from '../identity/index.js';
import { SEAL_NS, SymmetricKey, labeledContent, sha256, x25519 } from '../suite/index.js';
import { type Element, decodeWrappedKey, encodeWrappedKey, parseXml } from '../wire/index.js';
import { Hex } from './format.js';
import { ALICE, BOB, BODIES, DeviceInput, type DeviceIn, NOW, bodyOf, fixtures, flipBit, mustEqual, scriptedRng, stateFromInputs, stateToInputs } from './envelope-common.js';
import { runScenario, scenarioInputs } from './envelope-fanout.js';
import type { Fields, GroupKind } from './kind.js';

/** Opens `stanza` as the receiver after it opened `delivered` in order (each must open). */
function runOpen(i: Fields): Fields {
  let state = stateFromInputs(i.receiver as DeviceIn);
  let log: readonly string[] = i.log as string[];
  let sessions = new Map<string, PeerSession>();
  const now = i.now as number;
  (i.delivered as string[]).forEach((text, n) => {
    const result = openStanza({ stanza: parseXml(text), self: state, log, sessions, now });
    if (result.kind !== 'ok') throw new Error(`envelope vectors: delivered stanza ${n + 1} gives ${result.kind === 'error' ? result.error.code : result.kind}, not ok`);
    ({ state, log, sessions } = result);
  });
  const result = openStanza({ stanza: parseXml(i.stanza as string), self: state, log, sessions, now });
  switch (result.kind) {
    case 'error':
      throw result.error;
    case 'duplicate':
      return { kind: 'duplicate' };
    case 'not-for-this-device':
      return { kind: 'not-for-this-device', sender: result.sender.jid, senderDeviceId: result.sender.deviceId };
    case 'ok':
      return result.keyOnly
        ? { kind: 'ok', keyOnly: true, sender: result.sender.jid, senderDeviceId: result.sender.deviceId }
        : { kind: 'ok', keyOnly: false, sender: result.sender.jid, senderDeviceId: result.sender.deviceId, body: bodyOf(result.content) ?? '', time: result.time };
  }
}

// ---------------------------------------------------------------------------------------------
// Stanza surgery

/** The stanza text with one edit applied to its parsed form. */
function edit(text: string, change: (message: Element) => void): string {
  const message = parseXml(text);
  change(message);
  return message.toString();
}

const sealedOf = (message: Element): Element => message.getChild('sealed', SEAL_NS)!;

function keyElement(message: Element, device: DeviceState): Element {
  const keys = sealedOf(message).getChildren('keys', SEAL_NS).find((k) => k.attrs.jid === device.jid);
  const key = keys?.getChildren('key', SEAL_NS).find((k) => k.attrs.rid === String(device.deviceId));
  if (key === undefined) throw new Error(`envelope vectors: no key element for device ${device.deviceId}`);
  return key;
}

function setText(element: Element, text: string): void {
  element.children.length = 0;
  element.t(text);
}

/** Replaces the bytes of `device`'s key element. */
const editKey = (message: Element, device: DeviceState, change: (data: Uint8Array, handshake: boolean) => Uint8Array): void => {
  const key = keyElement(message, device);
  setText(key, encodeBase64(change(decodeBase64(key.getText()), key.attrs.handshake === 'true')));
};

/** Replaces the ratchet header inside `device`'s key element. */
const editRatchetHeader = (message: Element, device: DeviceState, change: (header: Uint8Array) => Uint8Array): void =>
  editKey(message, device, (data, handshake) => {
    const wrapped = decodeWrappedKey(data, handshake);
    return encodeWrappedKey({ ...wrapped, header: change(wrapped.header) });
  });

// ---------------------------------------------------------------------------------------------
// Cases

type Expect = { ok: keyof typeof BODIES } | { keyOnly: true } | { kind: 'duplicate' | 'not-for-this-device' } | { error: string };

function describeOutcome(i: Fields): string {
  try {
    const out = runOpen(i);
    return out.kind === 'ok' ? (out.keyOnly === true ? 'ok:key-only' : `ok:${String(out.body)}`) : String(out.kind);
  } catch (e) {
    if (isSealError(e)) return `error:${e.code}`;
    throw e;
  }
}

function openCases() {
  const f = fixtures();
  const { A3, B1, B2, B3 } = f.devices;
  const { trace } = runScenario(scenarioInputs(f));
  const s1 = trace.stanzas.get('seal-1')!;
  const s2 = trace.stanzas.get('seal-2')!;
  const s3 = trace.stanzas.get('seal-3')!;
  const k2 = trace.stanzas.get('key-2')!;

  // The invisible salamander: A1 wraps another content key for B2, under the commitment and payload of seal-1.
  const payloadElement = sealedOf(parseXml(s1)).getChild('payload', SEAL_NS)!;
  const commitment = decodeBase64(String(payloadElement.attrs.commitment));
  const payload = decodeBase64(payloadElement.getText());
  const k1 = new SymmetricKey(trace.contentKeys.get('seal-1')!);
  mustEqual('the commitment of seal-1', commitment, keyCommitment(k1));
  const toB2 = trace.sessionsBefore.get('seal-1')!.get(sessionKey(B2.jid, B2.deviceId))!;
  if (toB2.confirmation.state !== 'unconfirmed') throw new Error('envelope vectors: the session with B2 should be unconfirmed');
  const handshake = toB2.confirmation.header;
  const context = concatBytes(commitment, sha256(payload));
  const wrap = (key: Uint8Array) => ratchetEncrypt(toB2.ratchet, key, context, scriptedRng([]));
  // The wrap context by its formula: re-wrapping the real key gives B2's key element of seal-1.
  const honest = wrap(k1.dangerouslyExposeBytes());
  const honestData = encodeWrappedKey({ handshake, header: honest.header, ciphertext: honest.ciphertext });
  mustEqual('B2\'s key element of seal-1', decodeBase64(keyElement(parseXml(s1), B2).getText()), honestData);
  const forged = wrap(f.negative.salamanderKey);
  const salamander = edit(s1, (m) => editKey(m, B2, () => encodeWrappedKey({ handshake, header: forged.header, ciphertext: forged.ciphertext })));

  // X25519 ignores the top bit of a u-coordinate: flipping it leaves B1's DH (and so every key) unchanged.
  const b1Header = decodeWrappedKey(decodeBase64(keyElement(parseXml(s1), B1).getText()), true).header;
  const spk = B1.signedPrekeys[0]!.secretKey;
  mustEqual('DH with the top bit of the ratchet key flipped', x25519(spk, flipBit(b1Header.slice(0, 32), 31, 0x80)).dangerouslyExposeBytes(), x25519(spk, b1Header.slice(0, 32)).dangerouslyExposeBytes());

  // A2's key-only message key-2 to B3, re-wrapped with another value than 32 zero bytes, under the key-only context.
  const toB3 = trace.sessionsBefore.get('key-2')!.get(sessionKey(B3.jid, B3.deviceId))!;
  if (toB3.confirmation.state !== 'unconfirmed') throw new Error('envelope vectors: the session of A2 with B3 should be unconfirmed');
  const b3Handshake = toB3.confirmation.header;
  const keyOnlyContext = labeledContent(ENVELOPE_LABELS.keyOnly, new Uint8Array(0));
  const wrapKeyOnly = (value: Uint8Array) => {
    const w = ratchetEncrypt(toB3.ratchet, value, keyOnlyContext, scriptedRng([]));
    return encodeWrappedKey({ handshake: b3Handshake, header: w.header, ciphertext: w.ciphertext });
  };
  // The key-only context by its formula: re-wrapping 32 zero bytes gives B3's key element of key-2.
  mustEqual('B3\'s key element of key-2', decodeBase64(keyElement(parseXml(k2), B3).getText()), wrapKeyOnly(new Uint8Array(32)));
  const nonZero = edit(k2, (m) => editKey(m, B3, () => wrapKeyOnly(f.keyOnlyNegative.nonZeroValue)));
  const payloadOfSeal1 = sealedOf(parseXml(s1)).getChild('payload', SEAL_NS)!;

  const input = (receiver: DeviceState, stanza: string, delivered: string[] = []): Fields => ({ receiver: stateToInputs(receiver), log: [], now: NOW, delivered, stanza });
  const cases: { comment: string; flags: string[]; inputs: Fields; expect: Expect }[] = [
    { comment: 'B1, fresh, opens seal-1 (its key carries A1\'s handshake header): the baseline the negative cases change', flags: [], inputs: input(B1, s1), expect: { ok: 'seal-1' } },
    {
      comment: 'seal-1 with one bit of the payload flipped: every wrapped key binds SHA-256(payload), so B1\'s key does not authenticate',
      flags: ['TamperedPayload'],
      inputs: input(B1, edit(s1, (m) => {
        const p = sealedOf(m).getChild('payload', SEAL_NS)!;
        setText(p, encodeBase64(flipBit(decodeBase64(p.getText()), 10, 0x04)));
      })),
      expect: { error: 'authentication-failed' },
    },
    {
      comment: 'seal-1 with the top bit of the ratchet key in B1\'s ratchet header flipped: X25519 ignores that bit, so every key is unchanged and only the header\'s binding as associated data rejects it',
      flags: ['TamperedHeader'],
      inputs: input(B1, edit(s1, (m) => editRatchetHeader(m, B1, (h) => flipBit(h, 31, 0x80)))),
      expect: { error: 'authentication-failed' },
    },
    {
      comment: 'seal-1 with previous_count 1 instead of 0 in B1\'s ratchet header (a first message: nothing to skip, only the associated data differs)',
      flags: ['TamperedHeader'],
      inputs: input(B1, edit(s1, (m) => editRatchetHeader(m, B1, (h) => flipBit(h, 35, 0x01)))),
      expect: { error: 'authentication-failed' },
    },
    {
      comment: 'seal-1 with the commitment of another content key, the wrapped keys and the payload unchanged: every wrapped key binds the commitment',
      flags: ['WrongCommitment'],
      inputs: input(B1, edit(s1, (m) => {
        sealedOf(m).getChild('payload', SEAL_NS)!.attrs.commitment = encodeBase64(keyCommitment(new SymmetricKey(f.negative.otherContentKey)));
      })),
      expect: { error: 'authentication-failed' },
    },
    {
      comment: 'seal-1 as a malicious A1 sends it: B2\'s key wraps another content key (with the same commitment and payload as associated data); the unwrapped key does not match the commitment',
      flags: ['InvisibleSalamander'],
      inputs: input(B2, salamander),
      expect: { error: 'authentication-failed' },
    },
    { comment: 'the same malicious stanza opened by B1, whose key wraps the committed key: B1 reads the message', flags: ['InvisibleSalamander'], inputs: input(B1, salamander), expect: { ok: 'seal-1' } },
    {
      comment: 'seal-1 with its outer to changed to carol@example.com: the <to/> affix names bob@example.net',
      flags: ['RedirectedStanza'],
      inputs: input(B1, edit(s1, (m) => void (m.attrs.to = 'carol@example.com'))),
      expect: { error: 'redirected-stanza' },
    },
    {
      comment: 'seal-1 with its outer to changed to the full JID bob@example.net/tablet: the affix is compared with the bare JID, so it opens',
      flags: [],
      inputs: input(B1, edit(s1, (m) => void (m.attrs.to = `${BOB}/tablet`))),
      expect: { ok: 'seal-1' },
    },
    {
      comment: 'seal-1 with B1\'s key element (a KeyExchangeMessage, handshake=\'true\') one byte short',
      flags: ['TruncatedKey'],
      inputs: input(B1, edit(s1, (m) => editKey(m, B1, (data) => data.slice(0, -1)))),
      expect: { error: 'truncated' },
    },
    { comment: 'A3 opens seal-2, which B1 sealed for A1 and A2 only', flags: ['NotForThisDevice'], inputs: input(A3, s2), expect: { kind: 'not-for-this-device' } },
    { comment: 'B1 opens seal-1 a second time (after opening it once): a duplicate, state unchanged', flags: ['Duplicate'], inputs: input(B1, s1, [s1]), expect: { kind: 'duplicate' } },
    {
      comment: 'B1 without any session (say, restored from an old backup) opens seal-3, whose key for B1 carries no handshake header',
      flags: ['NoSession'],
      inputs: input(B1, s3),
      expect: { error: 'no-session' },
    },
    { comment: 'B3, fresh, opens the key-only message key-2 (its key carries A2\'s handshake header): the session is established, nothing is delivered', flags: ['KeyOnly'], inputs: input(B3, k2), expect: { keyOnly: true } },
    { comment: 'B3 opens key-2 a second time (after opening it once): a duplicate, state unchanged', flags: ['KeyOnly', 'Duplicate'], inputs: input(B3, k2, [k2]), expect: { kind: 'duplicate' } },
    {
      comment: 'key-2 with B3\'s key wrapping 32 bytes that are not all zero (under the key-only context, so the ratchet message authenticates): a key-only message wraps 32 zero bytes',
      flags: ['KeyOnlyNonZero'],
      inputs: input(B3, nonZero),
      expect: { error: 'authentication-failed' },
    },
    {
      comment: 'key-2 with a <payload/> without commitment attribute: payload and commitment come together or not at all',
      flags: ['PayloadWithoutCommitment'],
      inputs: input(B3, edit(k2, (m) => void sealedOf(m).c('payload').t(payloadOfSeal1.getText()))),
      expect: { error: 'schema-violation' },
    },
    {
      comment: 'key-2 with the payload and commitment of seal-1 added: B3\'s key was wrapped under the key-only context, not under commitment || SHA-256(payload)',
      flags: ['KeyOnlyWithPayload'],
      inputs: input(B3, edit(k2, (m) => void sealedOf(m).c('payload', { commitment: String(payloadOfSeal1.attrs.commitment) }).t(payloadOfSeal1.getText()))),
      expect: { error: 'authentication-failed' },
    },
    {
      comment: 'seal-1 with its <payload/> removed: B1\'s key was wrapped under commitment || SHA-256(payload), so it does not open as a key-only message',
      flags: ['PayloadStripped'],
      inputs: input(B1, edit(s1, (m) => void sealedOf(m).remove('payload'))),
      expect: { error: 'authentication-failed' },
    },
    {
      comment: 'seal-1 with the <keys/> element for B1\'s account moved into another namespace (<x:keys xmlns:x=\'urn:example:keys\'>): not Seal\'s <keys/> but an unexpected child of <sealed/>, though a reader matching local names only would find B1\'s key in it',
      flags: ['ForeignNamespace'],
      inputs: input(B1, edit(s1, (m) => {
        const keys = sealedOf(m).getChildren('keys', SEAL_NS).find((k) => k.attrs.jid === B1.jid)!;
        keys.name = 'x:keys';
        keys.attrs['xmlns:x'] = 'urn:example:keys';
      })),
      expect: { error: 'schema-violation' },
    },
    {
      comment: 'seal-1 with the <keys/> element for B1\'s account written with a prefix bound to Seal\'s namespace (<s:keys xmlns:s=\'urn:xmpp:seal:0\'>): the same element, so it opens',
      flags: [],
      inputs: input(B1, edit(s1, (m) => {
        const keys = sealedOf(m).getChildren('keys', SEAL_NS).find((k) => k.attrs.jid === B1.jid)!;
        keys.name = 's:keys';
        keys.attrs['xmlns:s'] = SEAL_NS;
      })),
      expect: { ok: 'seal-1' },
    },
    {
      comment: 'seal-1 with a second sid attribute on <sealed/> (sid="1" written before the real one): not well-formed XML, rejected whichever value a lenient parser would keep',
      flags: ['DuplicateAttribute'],
      inputs: input(B1, s1.replace('<sealed ', '<sealed sid="1" ')),
      expect: { error: 'malformed-xml' },
    },
    {
      comment: `key-2 with its outer from changed to ${ALICE.replace('alice', 'carol')}: a key-only message has no affixes, but A2's handshake binds its bare JID`,
      flags: ['KeyOnly', 'WrongSender'],
      inputs: input(B3, edit(k2, (m) => void (m.attrs.from = ALICE.replace('alice', 'carol')))),
      expect: { error: 'authentication-failed' },
    },
  ];
  for (const c of cases) {
    const expected = 'ok' in c.expect ? `ok:${BODIES[c.expect.ok]}` : 'keyOnly' in c.expect ? 'ok:key-only' : 'kind' in c.expect ? c.expect.kind : `error:${c.expect.error}`;
    const actual = describeOutcome(c.inputs);
    if (actual !== expected) throw new Error(`envelope vectors: "${c.comment}" gives ${actual}, expected ${expected}`);
  }
  return cases.map(({ comment, flags, inputs }) => ({ comment, flags, inputs }));
}

export const openNegative: GroupKind = {
  type: 'OpenNegative',
  description:
    'one device opening one stanza (openStanza at now) from its complete state: its secrets (receiver), its handshake log, and its sessions, which are those it obtains by opening the stanzas of delivered first, in order (each opens). ' +
    'The stanzas are those of the SealOpen scenario (messages with content and key-only messages), each negative case with exactly one change. The outputs are kind ok with keyOnly false, the sender, body and time, or with keyOnly true and the sender; or kind duplicate or not-for-this-device; an error result is recorded as the error code',
  inputs: z.strictObject({ receiver: DeviceInput, log: z.array(Hex), now: z.int(), delivered: z.array(z.string()), stanza: z.string() }),
  outputs: z.union([
    z.strictObject({ kind: z.literal('ok'), keyOnly: z.literal(false), sender: z.string(), senderDeviceId: z.int(), body: z.string(), time: z.int() }),
    z.strictObject({ kind: z.literal('ok'), keyOnly: z.literal(true), sender: z.string(), senderDeviceId: z.int() }),
    z.strictObject({ kind: z.literal('duplicate') }),
    z.strictObject({ kind: z.literal('not-for-this-device'), sender: z.string(), senderDeviceId: z.int() }),
  ]),
  operation: runOpen,
  cases: openCases,
};
