/**
 * §identity: device keys and ids, key checks, JIDs, bundles (signatures, validity, one-time
 * prekeys), device lists (account signature, rollback), fingerprints and safety numbers, trust,
 * PEP publication rules and persisted device state.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode } from '../src/codec/binary.js';
import { toHex, utf8Encode } from '../src/codec/bytes.js';
import {
  DEVICE_LIST_NODE,
  IDENTITY_CONSTANTS,
  SIGNATURE_LABELS,
  accountFingerprint,
  addDevice,
  bareJid,
  bundleNode,
  bundleOf,
  checkPrekeyValidity,
  createDeviceList,
  createDeviceState,
  dangerouslyExportDeviceState,
  decide,
  deviceFingerprint,
  deviceId,
  fingerprintUri,
  formatFingerprint,
  generateDeviceId,
  importDeviceState,
  isTrusted,
  observeAccountKey,
  observeDeviceKey,
  onPublishError,
  parseFingerprintUri,
  publishOptions,
  removeDevice,
  safetyNumber,
  verifyBundle,
  verifyDeviceList,
  type BareJid,
  type DeviceState,
  type TrustStore,
} from '../src/identity/index.js';
import {
  checkEd25519PublicKey,
  checkX25519PublicKey,
  ed25519PublicKeyOf,
  generateEd25519KeyPair,
  seededRng,
  signWithLabel,
  x25519,
  x25519PublicKeyOf,
} from '../src/suite/index.js';
import { BundleElement, DeviceListElement, SignedPrekeyContent, parseXml, publishIq, type BundleValue } from '../src/wire/index.js';
import { codeOf } from './support/errors.js';
import { fcParams } from './support/property.js';

const NOW = 1795683600; // 2026-11-26T09:00:00Z
const juliet = bareJid('juliet@capulet.lit');
const device = createDeviceState({ jid: juliet, now: NOW, rng: seededRng('identity test'), oneTimePrekeys: 5 });
const bundle = bundleOf(device);
const context = { jid: juliet, deviceId: device.deviceId, now: NOW + 60 };

/** The bundle with the signed prekey changed and correctly re-signed. */
function resignedPrekey(change: Partial<BundleValue['signedPrekey']>, label: string = SIGNATURE_LABELS.signedPrekey): BundleValue {
  const signedPrekey = { ...bundle.signedPrekey, ...change };
  const content = encode(SignedPrekeyContent, signedPrekey);
  return { ...bundle, signedPrekey: { ...signedPrekey, signature: signWithLabel(device.signingKey, label, content) } };
}

const p = 2n ** 255n - 19n;
const le = (n: bigint) => Uint8Array.from({ length: 32 }, (_, k) => Number((n >> BigInt(8 * k)) & 0xffn));
const LOW_ORDER_U = [0n, 1n, p - 1n, 325606250916557431795983626356110631294008115727848805560023387167927233504n, 39382357235489614581723060781553021112529911719440698176882885853963445705823n];

describe('§identity.keys', () => {
  it('draws device ids in 1..2^31-1 that avoid the account list', () => {
    // @req identity.device-id
    fc.assert(fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.array(fc.integer({ min: 1, max: 0x7fffffff }), { maxLength: 5 }), (first, taken) => {
      let call = 0;
      const rng = (n: number) => (call++ === 0 ? first : seededRng(`next ${call}`)(n));
      const id = generateDeviceId(rng, taken);
      expect(id).toBeGreaterThanOrEqual(1);
      expect(id).toBeLessThanOrEqual(0x7fffffff);
      expect(taken).not.toContain(id);
    }), fcParams());
    // An rng that first returns a taken id and then zero must be asked again.
    const answers = [[0, 0, 0, 7], [0x80, 0, 0, 0], [0, 0, 0, 9]];
    expect(generateDeviceId(() => Uint8Array.from(answers.shift()!), [7])).toBe(9);
    expect(codeOf(() => generateDeviceId(() => new Uint8Array(4)))).toBe('invalid-value');
    expect(codeOf(() => deviceId(0))).toBe('invalid-value');
    expect(codeOf(() => deviceId(2 ** 31))).toBe('invalid-value');
  });

  it('generates the agreement key independently of the signing key', () => {
    // @req identity.separate-keys
    const signing = ed25519PublicKeyOf(device.signingKey);
    const agreement = x25519PublicKeyOf(device.agreementKey);
    expect(toHex(agreement)).not.toBe(toHex(ed25519.utils.toMontgomery(signing)));
    // The rng bytes 4..36 are the signing key and 36..68 the agreement key.
    const stream = seededRng('identity test')(68);
    expect(toHex(device.signingKey.dangerouslyExposeBytes())).toBe(toHex(stream.slice(4, 36)));
    expect(toHex(device.agreementKey.dangerouslyExposeBytes())).toBe(toHex(stream.slice(36, 68)));
  });

  it('rejects low-order, non-canonical and small-order published keys', () => {
    // @req identity.key-check
    for (const u of LOW_ORDER_U) expect(codeOf(() => checkX25519PublicKey(le(u)))).toBe('invalid-key');
    // The list is exactly the canonical keys that X25519 maps to zero: every Wycheproof public key
    // that gives a zero shared secret is rejected, by the canonical check or by the list.
    for (const u of LOW_ORDER_U) expect(codeOf(() => x25519(device.agreementKey, le(u)))).toBe('zero-shared-secret');
    expect(codeOf(() => checkX25519PublicKey(le(p)))).toBe('invalid-key'); // non-canonical 0
    expect(codeOf(() => checkX25519PublicKey(le(p + 9n)))).toBe('invalid-key'); // non-canonical 9
    const highBit = x25519PublicKeyOf(device.agreementKey).slice();
    highBit[31]! |= 0x80;
    expect(codeOf(() => checkX25519PublicKey(highBit))).toBe('invalid-key');
    expect(codeOf(() => checkX25519PublicKey(new Uint8Array(31)))).toBe('invalid-length');
    expect(codeOf(() => checkX25519PublicKey(x25519PublicKeyOf(device.agreementKey)))).toBe('ok');
    const identityPoint = new Uint8Array(32);
    identityPoint[0] = 1;
    expect(codeOf(() => checkEd25519PublicKey(identityPoint))).toBe('invalid-key');
    const nonCanonical = new Uint8Array(32).fill(0xff);
    nonCanonical[31] = 0x7f; // y = 2^255 - 1 >= p
    expect(codeOf(() => checkEd25519PublicKey(nonCanonical))).toBe('invalid-key');
    expect(codeOf(() => checkEd25519PublicKey(ed25519PublicKeyOf(device.signingKey)))).toBe('ok');
  });

  it('accepts only JIDs in the canonical form of RFC 7622 (lower case, NFC): a mixed-case JID is refused, never folded', () => {
    // @req identity.jid-canonical
    for (const bad of ['Juliet@capulet.lit', 'juliet@Capulet.lit', 'Жуль@пример.рф', 'JULIET@CAPULET.LIT', 'jule\u0301s@capulet.lit']) {
      expect(codeOf(() => bareJid(bad)), bad).toBe('invalid-value');
    }
    expect(bareJid('jul\u00e9s@capulet.lit')).toBe('jul\u00e9s@capulet.lit');
    // Refused wherever a JID is bound: a safety number or a fingerprint URI with a mixed-case JID.
    expect(codeOf(() => parseFingerprintUri('xmpp:Juliet@capulet.lit?seal;account=' + '00'.repeat(32)))).toBe('invalid-value');
  });

  it('accepts only bare JIDs', () => {
    // @req identity.jid
    for (const good of ['juliet@capulet.lit', 'capulet.lit', 'ju.liet@xn--caplet-1ta.lit', 'жуль@пример.рф']) expect(bareJid(good)).toBe(good);
    for (const bad of ['', 'juliet@capulet.lit/balcony', '@capulet.lit', 'juliet@', 'ju liet@capulet.lit', 'a@b@c', 'x\u0000@y', `${'a'.repeat(3072)}`]) {
      expect(codeOf(() => bareJid(bad)), bad).toBe('invalid-value');
    }
  });
});

describe('§identity.bundle', () => {
  it('verifies a bundle built by bundleOf', () => {
    // @req identity.verify-bundle
    const verified = verifyBundle(bundle, context);
    expect(verified.oneTimePrekeys).toHaveLength(5);
    expect(toHex(verified.signingKey)).toBe(toHex(ed25519PublicKeyOf(device.signingKey)));
  });

  it('binds the identity signature to the JID and device id', () => {
    // @req identity.identity-signature
    expect(codeOf(() => verifyBundle(bundle, { ...context, jid: bareJid('romeo@montague.lit') }))).toBe('authentication-failed');
    expect(codeOf(() => verifyBundle(bundle, { ...context, deviceId: deviceId(device.deviceId + 1) }))).toBe('authentication-failed');
    const other = createDeviceState({ jid: juliet, now: NOW, rng: seededRng('other device'), oneTimePrekeys: 0 });
    const swapped = { ...bundle, identity: { ...bundle.identity, agreementKey: x25519PublicKeyOf(other.agreementKey) } };
    expect(codeOf(() => verifyBundle(swapped, context))).toBe('authentication-failed');
  });

  it('checks both prekey signatures and their labels', () => {
    // @req identity.prekey-signatures
    expect(codeOf(() => verifyBundle({ ...bundle, signedPrekey: { ...bundle.signedPrekey, id: bundle.signedPrekey.id + 1 } }, context))).toBe('authentication-failed');
    expect(codeOf(() => verifyBundle(resignedPrekey({}, SIGNATURE_LABELS.kemPrekey), context))).toBe('authentication-failed');
    expect(codeOf(() => verifyBundle(resignedPrekey({ id: 77 }), context))).toBe('ok');
    const kem = bundle.kemPrekey.publicKey.slice();
    kem[100]! ^= 1;
    expect(codeOf(() => verifyBundle({ ...bundle, kemPrekey: { ...bundle.kemPrekey, publicKey: kem } }, context))).toBe('authentication-failed');
  });

  it('rejects expired, future and over-long prekeys', () => {
    // @req identity.prekey-validity
    const { expires, created } = bundle.signedPrekey;
    expect(codeOf(() => verifyBundle(bundle, { ...context, now: expires }))).toBe('expired-prekey');
    expect(codeOf(() => verifyBundle(bundle, { ...context, now: created - IDENTITY_CONSTANTS.MAX_CLOCK_SKEW - 1 }))).toBe('expired-prekey');
    expect(codeOf(() => verifyBundle(bundle, { ...context, now: created - IDENTITY_CONSTANTS.MAX_CLOCK_SKEW }))).toBe('ok');
    expect(codeOf(() => verifyBundle(resignedPrekey({ expires: created + IDENTITY_CONSTANTS.MAX_PREKEY_VALIDITY + 1 }), context))).toBe('expired-prekey');
    expect(codeOf(() => verifyBundle(resignedPrekey({ expires: created }), context))).toBe('expired-prekey');
    expect(codeOf(() => checkPrekeyValidity('k', { created: NOW, expires: NOW + IDENTITY_CONSTANTS.MAX_PREKEY_VALIDITY }, NOW))).toBe('ok');
  });

  it('rejects duplicate, excess and low-order one-time prekeys', () => {
    // @req identity.one-time-prekeys
    const first = bundle.oneTimePrekeys[0]!;
    expect(codeOf(() => verifyBundle({ ...bundle, oneTimePrekeys: [...bundle.oneTimePrekeys, { ...first, publicKey: bundle.oneTimePrekeys[1]!.publicKey }] }, context))).toBe('duplicate-id');
    const many = Array.from({ length: 101 }, (_, i) => ({ id: i + 1, publicKey: first.publicKey }));
    expect(codeOf(() => verifyBundle({ ...bundle, oneTimePrekeys: many }, context))).toBe('length-out-of-range');
    expect(codeOf(() => BundleElement.toXml({ ...bundle, oneTimePrekeys: many }))).toBe('schema-violation');
    expect(codeOf(() => verifyBundle({ ...bundle, oneTimePrekeys: [{ id: 9, publicKey: le(0n) }] }, context))).toBe('invalid-key');
  });

  it('round-trips through XML and the canonical encoding; mutated XML gives a SealError or the same bundle', () => {
    const text = BundleElement.toXml(bundle).toString();
    const parsed = BundleElement.fromXml(parseXml(text));
    expect(parsed).toEqual(bundle);
    expect(codeOf(() => verifyBundle(parsed, context))).toBe('ok');
    fc.assert(fc.property(fc.nat(text.length - 1), fc.constantFrom('', 'A', '"', '<', '=', ' ', 'x/>'), (at, insert) => {
      const mutated = text.slice(0, at) + insert + text.slice(at + 1);
      try {
        verifyBundle(BundleElement.fromXml(parseXml(mutated)), context);
      } catch (e) {
        expect(codeOf(() => { throw e; })).not.toBe('ok');
      }
    }), fcParams(300));
  });
});

describe('§identity.devices', () => {
  const account = generateEd25519KeyPair(seededRng('account'));
  const phone = { id: 1094281337, added: NOW - 1000, signingKey: generateEd25519KeyPair(seededRng('phone')).publicKey, label: 'Phone' };
  const laptop = { id: device.deviceId, added: NOW, signingKey: ed25519PublicKeyOf(device.signingKey), label: 'Laptop' };
  const signed = createDeviceList(juliet, [laptop, phone], NOW, { secretKey: account.secretKey });

  it('holds 1..64 devices with unique ids, sorted', () => {
    // @req identity.device-list
    expect(signed.devices.map((d) => d.id)).toEqual([device.deviceId, 1094281337].sort((a, b) => a - b));
    expect(codeOf(() => createDeviceList(juliet, [phone, phone], NOW))).toBe('duplicate-id');
    expect(codeOf(() => createDeviceList(juliet, [], NOW))).toBe('length-out-of-range');
    expect(codeOf(() => createDeviceList(juliet, Array.from({ length: 65 }, (_, i) => ({ id: i + 1, added: NOW, signingKey: phone.signingKey })), NOW))).toBe('length-out-of-range');
    expect(codeOf(() => verifyDeviceList(juliet, { issued: NOW, devices: [phone, phone] }))).toBe('duplicate-id');
    expect(codeOf(() => removeDevice(juliet, createDeviceList(juliet, [phone], NOW), phone.id, NOW))).toBe('length-out-of-range');
    expect(codeOf(() => createDeviceList(juliet, [{ ...phone, label: 'tab\there' }], NOW))).toBe('schema-violation');
    expect(codeOf(() => createDeviceList(juliet, [{ ...phone, label: 'x'.repeat(65) }], NOW))).toBe('schema-violation');
    expect(codeOf(() => DeviceListElement.fromXml(parseXml("<devices xmlns='urn:xmpp:seal:0' issued='2026-11-26T09:00:00Z'/>")))).toBe('length-out-of-range');
  });

  it('is signed by the account key; a change or another JID breaks the signature', () => {
    // @req identity.account-signature
    expect(toHex(verifyDeviceList(juliet, signed).accountKey!)).toBe(toHex(account.publicKey));
    expect(codeOf(() => verifyDeviceList(bareJid('romeo@montague.lit'), signed))).toBe('authentication-failed');
    expect(codeOf(() => verifyDeviceList(juliet, { ...signed, devices: signed.devices.map((d) => (d.id === phone.id ? { ...d, label: 'Stolen' } : d)) }))).toBe('authentication-failed');
    expect(codeOf(() => verifyDeviceList(juliet, { ...signed, issued: NOW + 1 }))).toBe('authentication-failed');
    const added = addDevice(juliet, signed, { id: 5, added: NOW + 10, signingKey: phone.signingKey }, NOW + 10, { secretKey: account.secretKey });
    expect(added.issued).toBe(NOW + 10);
    expect(verifyDeviceList(juliet, added).devices.map((d) => d.id)).toContain(5);
    const removed = removeDevice(juliet, added, 5, NOW, { secretKey: account.secretKey });
    expect(removed.issued).toBe(NOW + 11); // never goes back in time
    expect(codeOf(() => verifyDeviceList(juliet, removed))).toBe('ok');
  });

  it('rejects a signed list older than one already accepted', () => {
    // @req identity.device-list-rollback
    const newer = removeDevice(juliet, signed, phone.id, NOW + 100, { secretKey: account.secretKey });
    const accepted = verifyDeviceList(juliet, newer).issued;
    expect(codeOf(() => verifyDeviceList(juliet, signed, accepted))).toBe('stale-device-list');
    expect(codeOf(() => verifyDeviceList(juliet, newer, accepted))).toBe('ok');
  });

  it('round-trips through XML and the canonical encoding, with bindings', () => {
    const withBinding = createDeviceList(juliet, signed.devices, NOW, { secretKey: account.secretKey, bindings: [{ kind: 'x509', certificate: new Uint8Array([1, 2]), signature: new Uint8Array([3]) }] });
    for (const list of [signed, withBinding, createDeviceList(juliet, [{ id: 3, added: NOW, signingKey: laptop.signingKey }], NOW)]) {
      expect(DeviceListElement.fromXml(parseXml(DeviceListElement.toXml(list).toString()))).toEqual(list);
    }
  });

  it('publishes with access_model=open and persist_items=true only, one item per node', () => {
    // @req identity.pep-publish-options
    expect(publishOptions()).toEqual({ 'pubsub#access_model': 'open', 'pubsub#persist_items': 'true' });
    const iq = publishIq('x', DEVICE_LIST_NODE, 'current', DeviceListElement.toXml(signed), publishOptions()).toString();
    expect(iq).not.toContain('max_items');
    expect(iq).toContain("var=\"pubsub#access_model\"");
    expect(bundleNode(deviceId(42))).toBe('urn:xmpp:seal:0:bundle:42');
  });

  it('handles publish errors without loops', () => {
    // @req identity.pep-errors
    expect(onPublishError({ type: 'cancel', condition: 'precondition-not-met' }, 1)).toEqual({ action: 'configure-then-publish' });
    expect(onPublishError({ type: 'cancel', condition: 'conflict', application: 'precondition-not-met' }, 1)).toEqual({ action: 'configure-then-publish' });
    expect(onPublishError({ type: 'wait', condition: 'resource-constraint' }, 1)).toEqual({ action: 'retry-after', seconds: 60 });
    expect(onPublishError({ type: 'wait', condition: 'resource-constraint' }, 2)).toEqual({ action: 'give-up' });
    expect(onPublishError({ type: 'cancel', condition: 'precondition-not-met' }, 2)).toEqual({ action: 'give-up' });
    expect(onPublishError({ type: 'auth', condition: 'forbidden' }, 1)).toEqual({ action: 'give-up' });
  });
});

describe('§identity.fingerprint', () => {
  const signingKey = ed25519PublicKeyOf(device.signingKey);

  it('is SHA-256 over the label and the signing key, shown as 8 groups of 8 hex digits', () => {
    // @req identity.fingerprint
    const fingerprint = deviceFingerprint(signingKey);
    expect(formatFingerprint(fingerprint)).toMatch(/^([0-9a-f]{8} ){7}[0-9a-f]{8}$/);
    expect(toHex(accountFingerprint(signingKey))).not.toBe(toHex(fingerprint)); // labels separate them
    const uri = fingerprintUri({ kind: 'device', jid: juliet, deviceId: device.deviceId, fingerprint });
    expect(uri).toBe(`xmpp:juliet@capulet.lit?seal;device=${device.deviceId};fingerprint=${toHex(fingerprint)}`);
    expect(parseFingerprintUri(uri)).toEqual({ kind: 'device', jid: juliet, deviceId: device.deviceId, fingerprint });
    const accountUri = fingerprintUri({ kind: 'account', jid: bareJid('ä@b.example'), fingerprint });
    expect(accountUri).toBe(`xmpp:%C3%A4@b.example?seal;account=${toHex(fingerprint)}`);
    expect(parseFingerprintUri(accountUri).jid).toBe('ä@b.example');
    for (const bad of [uri.replace('seal', 'omemo'), uri.toUpperCase(), uri.slice(0, -1), uri.replace('@capulet.lit', '@capulet.lit%2Fres'), uri.replace(/device=\d+/, 'device=0'), uri.replace('xmpp:juliet', 'xmpp:%6Auliet'), accountUri.replace('%C3%A4', '%c3%a4'), uri.replace('device=', 'device=0'), uri.replace('juliet', 'juli%65t')]) {
      expect(codeOf(() => parseFingerprintUri(bad)), bad).toBe('invalid-value');
    }
  });

  it('gives both sides the same safety number, which changes with either key', () => {
    // @req identity.safety-number
    const a = { jid: 'juliet@capulet.lit', key: signingKey };
    const b = { jid: 'romeo@montague.lit', key: generateEd25519KeyPair(seededRng('romeo')).publicKey };
    const number = safetyNumber(a, b);
    expect(number).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(safetyNumber(b, a)).toBe(number);
    expect(safetyNumber(a, { ...b, key: generateEd25519KeyPair(seededRng('mallory')).publicKey })).not.toBe(number);
    expect(safetyNumber({ ...a, jid: 'juliet@capulet.example' }, b)).not.toBe(number);
  });
});

describe('§identity.trust', () => {
  const key1 = ed25519PublicKeyOf(device.signingKey);
  const key2 = generateEd25519KeyPair(seededRng('new key')).publicKey;

  it('reports a changed device key and resets it to undecided', () => {
    // @req identity.key-change
    let store: TrustStore = {};
    let result = observeDeviceKey(store, juliet, 7, key1);
    expect(result.event).toBe('new');
    store = decide(result.store, juliet, { deviceId: 7 }, key1, 'verified');
    expect(observeDeviceKey(store, juliet, 7, key1).event).toBe('unchanged');
    result = observeDeviceKey(store, juliet, 7, key2);
    expect(result.event).toBe('key-changed');
    expect(result.store[juliet]!.devices[7]).toEqual({ key: toHex(key2), level: 'undecided' });
    // A decision about the old key cannot be applied to the new one.
    expect(decide(result.store, juliet, { deviceId: 7 }, key1, 'verified')).toBe(result.store);
  });

  it('reports a changed or removed account key', () => {
    // @req identity.key-change
    const a = generateEd25519KeyPair(seededRng('acct a'));
    const b = generateEd25519KeyPair(seededRng('acct b'));
    const listA = verifyDeviceList(juliet, createDeviceList(juliet, [{ id: 7, added: NOW, signingKey: key1 }], NOW, { secretKey: a.secretKey }));
    const listB = verifyDeviceList(juliet, createDeviceList(juliet, [{ id: 7, added: NOW, signingKey: key1 }], NOW, { secretKey: b.secretKey }));
    const unsigned = verifyDeviceList(juliet, createDeviceList(juliet, [{ id: 7, added: NOW, signingKey: key1 }], NOW));
    const first = observeAccountKey({}, listA);
    expect(first.event).toBe('new');
    expect(observeAccountKey(first.store, listB).event).toBe('key-changed');
    expect(observeAccountKey(first.store, unsigned).event).toBe('key-changed');
    expect(observeAccountKey(first.store, listA).event).toBe('unchanged');
  });

  it('never trusts a distrusted key; trusts verified keys and devices under a verified account key', () => {
    // @req identity.trust-distrusted
    // @req identity.binding-unverified
    let store = observeDeviceKey({}, juliet, 7, key1).store;
    expect(isTrusted(store, 'blind-trust-before-verification', juliet, 7, key1, undefined)).toBe(true);
    expect(isTrusted(store, 'manual', juliet, 7, key1, undefined)).toBe(false);
    expect(isTrusted(store, 'blind-trust-before-verification', juliet, 7, key2, undefined)).toBe(false);
    const distrustedDevice = generateEd25519KeyPair(seededRng('acct 7'));
    const list7 = verifyDeviceList(juliet, createDeviceList(juliet, [{ id: 7, added: NOW, signingKey: key1 }], NOW, { secretKey: distrustedDevice.secretKey }));
    store = decide(observeAccountKey(store, list7).store, juliet, 'account', distrustedDevice.publicKey, 'verified');
    store = decide(store, juliet, { deviceId: 7 }, key1, 'distrusted');
    expect(isTrusted(store, 'blind-trust-before-verification', juliet, 7, key1, list7)).toBe(false);
    // Account key: verified → devices on its list are trusted; bindings alone verify nothing.
    const account = generateEd25519KeyPair(seededRng('acct'));
    const list = verifyDeviceList(juliet, createDeviceList(juliet, [{ id: 8, added: NOW, signingKey: key2 }], NOW, {
      secretKey: account.secretKey,
      bindings: [{ kind: 'openpgp', certificate: new Uint8Array([1]), signature: new Uint8Array([2]) }],
    }));
    let s2 = observeAccountKey(observeDeviceKey({}, juliet, 8, key2).store, list).store;
    expect(isTrusted(s2, 'manual', juliet, 8, key2, list)).toBe(false);
    s2 = decide(s2, juliet, 'account', account.publicKey, 'verified');
    expect(isTrusted(s2, 'manual', juliet, 8, key2, list)).toBe(true);
    expect(isTrusted(s2, 'manual', juliet, 8, key2, undefined)).toBe(false);
    // Blind trust ends once any key of the account is verified.
    const s3 = observeDeviceKey(s2, juliet, 9, key1).store;
    expect(isTrusted(s3, 'blind-trust-before-verification', juliet, 9, key1, list)).toBe(false);
    expect(isTrusted(decide(s2, juliet, 'account', account.publicKey, 'distrusted'), 'blind-trust-before-verification', juliet, 8, key2, list)).toBe(false);
  });
});

describe('§identity.state', () => {
  it('round-trips the persisted form exactly', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 2 ** 40 }), (seed, count, now) => {
      const state = createDeviceState({ jid: 'juliet@capulet.lit', now, rng: seededRng(seed), oneTimePrekeys: count });
      const text = dangerouslyExportDeviceState(state);
      const loaded: DeviceState = importDeviceState(text);
      expect(dangerouslyExportDeviceState(loaded)).toBe(text);
      expect(toHex(encode(SignedPrekeyContent, bundleOf(loaded).signedPrekey))).toBe(toHex(encode(SignedPrekeyContent, bundleOf(state).signedPrekey)));
    }), fcParams(30));
  });

  it('rejects corrupted and foreign states with typed errors', () => {
    // @req identity.state-validate
    const text = dangerouslyExportDeviceState(device);
    const json = JSON.parse(text);
    expect(codeOf(() => importDeviceState('{'))).toBe('invalid-state');
    expect(codeOf(() => importDeviceState(JSON.stringify({ ...json, version: 2 })))).toBe('unknown-version');
    expect(codeOf(() => importDeviceState(JSON.stringify({ ...json, format: 'other' })))).toBe('invalid-state');
    expect(codeOf(() => importDeviceState(JSON.stringify({ ...json, signingKey: json.signingKey.slice(4) })))).toBe('invalid-state');
    expect(codeOf(() => importDeviceState(JSON.stringify({ ...json, signingKey: `${json.signingKey.slice(0, -2)}!=` })))).toBe('invalid-state');
    expect(codeOf(() => importDeviceState(JSON.stringify({ ...json, nextPrekeyId: 2 })))).toBe('invalid-state');
    expect(codeOf(() => importDeviceState(JSON.stringify({ ...json, deviceId: 0 })))).toBe('invalid-state');
    expect(codeOf(() => importDeviceState(JSON.stringify({ ...json, jid: 'a@b/c' })))).toBe('invalid-state');
    expect(codeOf(() => importDeviceState(JSON.stringify({ ...json, extra: 1 })))).toBe('invalid-state');
    expect(codeOf(() => importDeviceState(JSON.stringify({ ...json, oneTimePrekeys: [...json.oneTimePrekeys, json.oneTimePrekeys[0]] })))).toBe('invalid-state');
    expect(codeOf(() => importDeviceState(text))).toBe('ok');
    expect(String(device.signingKey)).not.toContain(json.signingKey);
  });
});


describe('§identity: text that is not Unicode (lone UTF-16 surrogates)', () => {
  it('a JID, a label or a safety-number input with a lone surrogate is invalid-value; "\\uD800@x" never encodes as "\\uFFFD@x"', () => {
    // @req encoding.text-well-formed
    // @req identity.jid
    for (const bad of ['\uD800@x', 'a\uDC00@x', 'juliet@capulet.lit\uD83D', '\uDD12\uD83D@x']) {
      expect(codeOf(() => bareJid(bad)), JSON.stringify(bad)).toBe('invalid-value');
      expect(codeOf(() => utf8Encode(bad))).toBe('invalid-value');
      expect(codeOf(() => safetyNumber({ jid: bad, key: ed25519PublicKeyOf(device.signingKey) }, { jid: 'romeo@montague.lit', key: ed25519PublicKeyOf(device.signingKey) }))).toBe('invalid-value');
    }
    // U+FFFD and a surrogate pair are Unicode text: accepted, and encoded as themselves.
    expect(bareJid('\uFFFD@x')).toBe('\uFFFD@x');
    expect(toHex(utf8Encode('\uD83D\uDD12'))).toBe('f09f9492');
    const list = DeviceListElement.toXml({ issued: NOW, devices: [{ id: device.deviceId, added: NOW, signingKey: ed25519PublicKeyOf(device.signingKey), label: 'phone' }] });
    expect(codeOf(() => DeviceListElement.toXml({ issued: NOW, devices: [{ id: device.deviceId, added: NOW, signingKey: ed25519PublicKeyOf(device.signingKey), label: 'ph\uD800one' }] }))).toBe('schema-violation');
    expect(DeviceListElement.fromXml(parseXml(list.toString())).devices[0]!.label).toBe('phone');
  });

  it('parseFingerprintUri gives invalid-value for every text, lone surrogates and bad percent-encodings included, never another exception', () => {
    // @req identity.fingerprint-uri
    const hex = 'ab'.repeat(32);
    for (const bad of [`xmpp:\uD800@x?seal;account=${hex}`, `xmpp:j\uDC00@x?seal;account=${hex}`, `xmpp:%ED%A0%80@x?seal;account=${hex}`, `xmpp:%@x?seal;account=${hex}`, `xmpp:j@x?seal;account=${hex}\uD800`]) {
      expect(codeOf(() => parseFingerprintUri(bad)), JSON.stringify(bad)).toBe('invalid-value');
    }
    expect(codeOf(() => fingerprintUri({ kind: 'account', jid: '\uD800@x' as BareJid, fingerprint: new Uint8Array(32) }))).toBe('invalid-value');
    // Any UTF-16 text around a valid URI: a result or invalid-value.
    const units = fc.array(fc.oneof(fc.integer({ min: 0xd800, max: 0xdfff }), fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0, max: 0xffff })), { maxLength: 12 }).map((codes) => String.fromCharCode(...codes));
    fc.assert(fc.property(units, units, (jid, tail) => {
      const code = codeOf(() => parseFingerprintUri(`xmpp:${jid}@capulet.lit?seal;account=${hex}${tail}`));
      expect(['ok', 'invalid-value']).toContain(code);
    }), fcParams(2000));
  });
});
