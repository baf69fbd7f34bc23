/**
 * §identity: the order of checks, and which error each failure gives, for bundles, device lists,
 * keys, JIDs, device ids, labels and fingerprint URIs. Each input breaks two rules (or more); the
 * check the spec names first decides the error.
 */
import { describe, expect, it } from 'vitest';
import {
  bundleOf,
  createDeviceList,
  createDeviceState,
  fingerprintUri,
  parseFingerprintUri,
  safetyNumber,
  verifyBundle,
  verifyDeviceList,
  type BareJid,
  type DeviceId,
} from '../src/identity/index.js';
import {
  SymmetricKey,
  assertSignedWithLabel,
  checkEd25519PublicKey,
  checkX25519PublicKey,
  generateEd25519KeyPair,
  macWithLabel,
  mlKemPublicKey,
  seededRng,
} from '../src/suite/index.js';
import { BundleElement, DeviceListElement, base64, parseXml } from '../src/wire/index.js';
import { codeOf } from './support/errors.js';

const NOW = 1795683600;
const DAY = 86400;
const juliet = createDeviceState({ jid: 'juliet@capulet.lit', now: NOW, rng: seededRng('check order juliet'), oneTimePrekeys: 3 });
const bundleText = BundleElement.toXml(bundleOf(juliet)).toString();
const context = { jid: juliet.jid, deviceId: juliet.deviceId, now: NOW + 10 };

/** The verdict on a `<bundle/>` text: parsing, the element's checks, then verifyBundle. */
const bundleVerdict = (text: string, over: Partial<typeof context> = {}) => codeOf(() => verifyBundle(BundleElement.fromXml(parseXml(text)), { ...context, ...over }));

/** `text` with attribute `name` of the first `<element>` set to `value`. */
function withAttr(text: string, element: string, name: string, value: string): string {
  const re = new RegExp(`(<${element} [^>]*?\\b${name}=")[^"]*(")`);
  if (!re.test(text)) throw new Error(`no <${element} ${name}>`);
  return text.replace(re, `$1${value}$2`);
}

/** `text` with the text content of the `nth` `<element>` (from 0) set to `value`. */
function withText(text: string, element: string, value: string, nth = 0): string {
  let n = 0;
  const out = text.replace(new RegExp(`(<${element}\\b[^>]*>)[^<]*(</${element}>)`, 'g'), (all, open: string, close: string) => (n++ === nth ? `${open}${value}${close}` : all));
  if (out === text) throw new Error(`no <${element}> ${nth}`);
  return out;
}

const b64 = (bytes: Uint8Array) => base64(bytes);
const bytes = (length: number, fill = 0x11) => new Uint8Array(length).fill(fill);
/** X25519 u = 0: of low order. */
const lowOrderX25519 = new Uint8Array(32);
/** The Ed25519 identity point: of small order. */
const ed25519Identity = Uint8Array.from([1, ...new Array<number>(31).fill(0)]);
/** A bundle text with `extra` more one-time prekeys (ids from 100), copies of the first. */
function withPrekeys(extra: number): string {
  const prekey = /<prekey id="\d+">[^<]*<\/prekey>/.exec(bundleText)![0];
  const more = Array.from({ length: extra }, (_, n) => prekey.replace(/id="\d+"/, `id="${100 + n}"`)).join('');
  return bundleText.replace('</prekeys>', `${more}</prekeys>`);
}

describe('§identity.bundle: the order of checks, and which error each failure gives', () => {
  // @req identity.verify-bundle
  // @req identity.one-time-prekeys
  it('the count of one-time prekeys first: 101 are length-out-of-range whatever else is wrong', () => {
    expect(bundleVerdict(bundleText)).toBe('ok');
    expect(bundleVerdict(withPrekeys(97))).toBe('ok'); // 100 one-time prekeys
    const tooMany = withPrekeys(98);
    expect(bundleVerdict(tooMany)).toBe('length-out-of-range');
    // ... with a 31-byte prekey, a 63-byte identity signature, a prekey without id, a bad time.
    expect(bundleVerdict(withText(tooMany, 'prekey', b64(bytes(31)), 5))).toBe('length-out-of-range');
    expect(bundleVerdict(withAttr(tooMany, 'identity', 'signature', b64(bytes(63))))).toBe('length-out-of-range');
    expect(bundleVerdict(tooMany.replace('<prekey id="100">', '<prekey>'))).toBe('length-out-of-range');
    expect(bundleVerdict(withAttr(tooMany, 'signed-prekey', 'created', 'yesterday'))).toBe('length-out-of-range');
  });

  it('then the encoding and length of each binary value, in the order of the Bundle structure', () => {
    // A 63-byte signature, a 33-byte X25519 key, a 1183-byte ML-KEM key: invalid-length.
    expect(bundleVerdict(withAttr(bundleText, 'identity', 'signature', b64(bytes(63))))).toBe('invalid-length');
    expect(bundleVerdict(withAttr(bundleText, 'identity', 'agreement', b64(bytes(33))))).toBe('invalid-length');
    expect(bundleVerdict(withText(bundleText, 'kem-prekey', b64(bytes(1183, 0xff))))).toBe('invalid-length');
    // An over-long value is invalid-length too, not too-large.
    expect(bundleVerdict(withText(bundleText, 'signed-prekey', b64(bytes(40))))).toBe('invalid-length');
    // Length before the schema: a 63-byte signature with an unexpected child, a missing id, a bad time.
    const shortSignature = withAttr(bundleText, 'kem-prekey', 'signature', b64(bytes(63)));
    expect(bundleVerdict(shortSignature.replace('</bundle>', '<extra/></bundle>'))).toBe('invalid-length');
    expect(bundleVerdict(shortSignature.replace(/<signed-prekey id="\d+"/, '<signed-prekey'))).toBe('invalid-length');
    expect(bundleVerdict(withAttr(shortSignature, 'identity', 'signing', b64(ed25519Identity)).replace(/created="[^"]*"/, 'created="soon"'))).toBe('invalid-length');
    // In struct order: the 33-byte agreement key before the bad base64 of the signed prekey's signature...
    const badBase64 = withAttr(bundleText, 'signed-prekey', 'signature', 'not base64!');
    expect(bundleVerdict(withAttr(badBase64, 'identity', 'agreement', b64(bytes(33))))).toBe('invalid-length');
    // ... and the bad base64 before a 31-byte one-time prekey after it.
    expect(bundleVerdict(withText(badBase64, 'prekey', b64(bytes(31)), 2))).toBe('invalid-base64');
  });

  it('then the rest of the schema, then the keys, each one-time prekey before the next one\'s id', () => {
    // A bad time with a low-order signed prekey: schema-violation.
    const lowOrderSigned = withText(bundleText, 'signed-prekey', b64(lowOrderX25519));
    expect(bundleVerdict(lowOrderSigned)).toBe('invalid-key');
    expect(bundleVerdict(withAttr(lowOrderSigned, 'kem-prekey', 'expires', '2026-02-30T00:00:00Z'))).toBe('schema-violation');
    // Keys in struct order: the small-order signing key before the low-order signed prekey.
    expect(bundleVerdict(withAttr(lowOrderSigned, 'identity', 'signing', b64(ed25519Identity)))).toBe('invalid-key');
    // Per one-time prekey, key then id: prekey 2 repeats prekey 1's id, prekey 3 is of low order.
    const ids = [...bundleText.matchAll(/<prekey id="(\d+)">/g)].map((m) => m[1]!);
    const duplicate = bundleText.replace(`<prekey id="${ids[1]}">`, `<prekey id="${ids[0]}">`);
    expect(bundleVerdict(duplicate)).toBe('duplicate-id');
    expect(bundleVerdict(withText(duplicate, 'prekey', b64(lowOrderX25519), 2))).toBe('duplicate-id');
    // ... and the other way round: prekey 2 of low order, prekey 3 repeating prekey 1's id.
    const later = bundleText.replace(`<prekey id="${ids[2]}">`, `<prekey id="${ids[0]}">`);
    expect(bundleVerdict(withText(later, 'prekey', b64(lowOrderX25519), 1))).toBe('invalid-key');
  });

  it('then the signatures, then the validity periods, last the key the device list names', () => {
    const flipped = withAttr(bundleText, 'identity', 'signature', b64(Uint8Array.from(Buffer.from(/<identity [^>]*signature="([^"]*)"/.exec(bundleText)![1]!, 'base64')).map((b, n) => (n === 0 ? b ^ 1 : b))));
    expect(bundleVerdict(flipped)).toBe('authentication-failed');
    // A duplicate id (unsigned) with a bad signature: duplicate-id.
    const ids = [...bundleText.matchAll(/<prekey id="(\d+)">/g)].map((m) => m[1]!);
    expect(bundleVerdict(flipped.replace(`<prekey id="${ids[1]}">`, `<prekey id="${ids[0]}">`))).toBe('duplicate-id');
    // A bad signature on an expired bundle: authentication-failed.
    const late = NOW + 60 * DAY;
    expect(bundleVerdict(bundleText, { now: late })).toBe('expired-prekey');
    expect(bundleVerdict(flipped, { now: late })).toBe('authentication-failed');
    // An expired bundle whose key the device list does not name: expired-prekey.
    const other = generateEd25519KeyPair(seededRng('another key'));
    const list = verifyDeviceList(juliet.jid, createDeviceList(juliet.jid, [{ id: juliet.deviceId, added: NOW, signingKey: other.publicKey }], NOW, { secretKey: other.secretKey }));
    const bundle = BundleElement.fromXml(parseXml(bundleText));
    expect(codeOf(() => verifyBundle(bundle, { ...context, deviceList: list }))).toBe('identity-key-changed');
    expect(codeOf(() => verifyBundle(bundle, { ...context, now: late, deviceList: list }))).toBe('expired-prekey');
  });
});

describe('§identity.devices: counts and encodings before the rest of the schema', () => {
  // @req identity.device-list
  const jid = juliet.jid;
  const rng = seededRng('device list order');
  const account = generateEd25519KeyPair(rng);
  const entries = [3, 5].map((id) => ({ id, added: NOW, signingKey: generateEd25519KeyPair(rng).publicKey }));
  const text = DeviceListElement.toXml(createDeviceList(jid, entries, NOW, { secretKey: account.secretKey })).toString();
  const verdict = (t: string) => codeOf(() => verifyDeviceList(jid, DeviceListElement.fromXml(parseXml(t))));

  it('0 devices with an unexpected child: length-out-of-range', () => {
    expect(verdict(text)).toBe('ok');
    const empty = text.replace(/<device [^>]*\/>/g, '');
    expect(verdict(empty)).toBe('length-out-of-range');
    expect(verdict(empty.replace('</devices>', '<extra/></devices>'))).toBe('length-out-of-range');
  });

  it('a 31-byte signing key or account key with a bad issued time or a second <account-key/>: invalid-length', () => {
    const shortKey = text.replace(/(<device [^>]*signing=")[^"]*/, `$1${b64(bytes(31))}`);
    expect(verdict(shortKey)).toBe('invalid-length');
    expect(verdict(shortKey.replace(/issued="[^"]*"/, 'issued="now"'))).toBe('invalid-length');
    const shortAccount = withAttr(text, 'account-key', 'key', b64(bytes(31)));
    expect(verdict(shortAccount.replace(/issued="[^"]*"/, 'issued="now"'))).toBe('invalid-length');
    const accountKey = /<account-key[^>]*\/>/.exec(shortAccount)![0];
    expect(verdict(shortAccount.replace(accountKey, accountKey + accountKey))).toBe('invalid-length');
    // A 63-byte account signature with an unexpected child: invalid-length.
    expect(verdict(withAttr(text, 'account-key', 'signature', b64(bytes(63))).replace('</devices>', '<extra/></devices>'))).toBe('invalid-length');
  });

  it('a label is checked in the schema step, in UTF-8 bytes, before the keys', () => {
    const unsigned = DeviceListElement.toXml(createDeviceList(jid, entries, NOW)).toString();
    const labelled = (label: string) => unsigned.replace(/<device id="3"/, `<device label="${label}" id="3"`);
    expect(verdict(labelled('é'.repeat(32)))).toBe('ok'); // 64 bytes
    // 33 two-byte characters are 66 bytes: too long, although 33 characters.
    const smallOrder = (t: string) => t.replace(/(<device id="5"[^>]*signing=")[^"]*/, `$1${b64(ed25519Identity)}`);
    expect(verdict(smallOrder(unsigned))).toBe('invalid-key');
    expect(verdict(smallOrder(labelled('é'.repeat(33))))).toBe('schema-violation');
  });
});

describe('§identity.keys: length before value', () => {
  // @req identity.key-check
  it('a key of the wrong length is invalid-length whatever its bytes', () => {
    expect(codeOf(() => checkX25519PublicKey(lowOrderX25519))).toBe('invalid-key');
    expect(codeOf(() => checkX25519PublicKey(new Uint8Array(33)))).toBe('invalid-length');
    expect(codeOf(() => checkEd25519PublicKey(ed25519Identity))).toBe('invalid-key');
    expect(codeOf(() => checkEd25519PublicKey(ed25519Identity.slice(0, 31)))).toBe('invalid-length');
    expect(codeOf(() => mlKemPublicKey(bytes(1184, 0xff)))).toBe('invalid-key');
    expect(codeOf(() => mlKemPublicKey(bytes(1183, 0xff)))).toBe('invalid-length');
  });

  it('a 31-byte MAC key is invalid-length before its label is checked; a 63-byte signature given to verification does not verify', () => {
    expect(codeOf(() => macWithLabel(new SymmetricKey(bytes(32)), 'x'.repeat(201), new Uint8Array()))).toBe('invalid-value');
    expect(codeOf(() => macWithLabel(new SymmetricKey(bytes(31)), 'x'.repeat(201), new Uint8Array()))).toBe('invalid-length');
    const { publicKey } = generateEd25519KeyPair(seededRng('signer'));
    expect(codeOf(() => assertSignedWithLabel(publicKey, 'example', new Uint8Array(), bytes(63)))).toBe('authentication-failed');
  });
});

describe('§identity.jid and §identity.fingerprint: JID, then device id, then key', () => {
  // @req identity.jid
  // @req identity.fingerprint-uri
  const fingerprint = bytes(32);
  const jid = 'juliet@capulet.lit' as BareJid;
  it('writing a URI: the JID, then the device id, then the fingerprint\'s length', () => {
    expect(codeOf(() => fingerprintUri({ kind: 'device', jid, deviceId: 7 as DeviceId, fingerprint }))).toBe('ok');
    expect(codeOf(() => fingerprintUri({ kind: 'device', jid: 'juliet@capulet.lit/balcony' as BareJid, deviceId: 0 as DeviceId, fingerprint: bytes(31) }))).toBe('invalid-value');
    expect(codeOf(() => fingerprintUri({ kind: 'device', jid, deviceId: 0 as DeviceId, fingerprint: bytes(31) }))).toBe('invalid-value');
    expect(codeOf(() => fingerprintUri({ kind: 'device', jid, deviceId: 7 as DeviceId, fingerprint: bytes(31) }))).toBe('invalid-length');
    expect(codeOf(() => fingerprintUri({ kind: 'account', jid: 'a b@c' as BareJid, fingerprint: bytes(31) }))).toBe('invalid-value');
  });

  it('reading a URI: every failure is invalid-value, so the order is not observable', () => {
    const hex = 'AB'.repeat(32);
    expect(codeOf(() => parseFingerprintUri(`xmpp:${jid}/r?seal;device=0;fingerprint=${hex}`))).toBe('invalid-value');
    expect(codeOf(() => parseFingerprintUri(`xmpp:\uD800?seal;account=${hex.slice(1)}`))).toBe('invalid-value');
  });

  it('a safety number: the first party\'s JID and key, then the second\'s', () => {
    const key = generateEd25519KeyPair(seededRng('party')).publicKey;
    expect(codeOf(() => safetyNumber({ jid: `${jid}/r`, key: bytes(31) }, { jid, key }))).toBe('invalid-value');
    expect(codeOf(() => safetyNumber({ jid, key: bytes(31) }, { jid: `${jid}/r`, key }))).toBe('invalid-length');
    expect(codeOf(() => safetyNumber({ jid, key }, { jid: `${jid}/r`, key: bytes(31) }))).toBe('invalid-value');
  });
});
