/**
 * `vectors/identity.json`: device keys and fingerprints, fingerprint URIs, safety numbers,
 * signing and verifying bundles and device lists, and the bytes of an account key binding, with
 * every verification rule of §identity exercised by a negative case.
 *
 * Every case gives its secrets explicitly (secret keys, the ML-KEM seed), so an implementation
 * can consume it without Seal's random number generator. Invalid bundles and device lists that
 * test a rule other than a signature are correctly signed, so an implementation that skips the
 * rule accepts them.
 *
 * @see spec §identity
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import * as z from 'zod/mini';
import { encode } from '../codec/binary.js';
import { fromHex, toHex, utf8Encode } from '../codec/bytes.js';
import {
  type DeviceState,
  accountFingerprint,
  accountKeyBindingContent,
  bareJid,
  bundleOf,
  createDeviceList,
  deviceFingerprint,
  deviceId,
  fingerprintUri,
  formatFingerprint,
  generateDeviceId,
  parseFingerprintUri,
  safetyNumber,
  SIGNATURE_LABELS,
  verifyBundle,
  verifyDeviceList,
} from '../identity/index.js';
import { Ed25519SecretKey, X25519SecretKey, ed25519PublicKeyOf, mlKemKeyPairFromSeed, seededRng, signWithLabel, x25519PublicKeyOf } from '../suite/index.js';
import {
  type BindingValue,
  type BundleValue,
  BundleElement,
  type DeviceEntryValue,
  type DeviceListValue,
  DeviceListElement,
  type Element,
  IdentityKeysContent,
  KemPrekeyContent,
  SignedPrekeyContent,
  base64,
  childElements,
  deviceListContent,
  encodeBundle,
  encodeDeviceList,
  parseXml,
  xml,
} from '../wire/index.js';
import { Hex } from './format.js';
import type { Fields, GroupKind, VectorKind } from './kind.js';
import { le32 } from './scripted.js';

const hex = (inputs: Fields, field: string): Uint8Array => fromHex(inputs[field] as string, field);

/** 2026-11-26T09:00:00Z, the time of every case. */
const NOW = 1795683600;
const DAY = 86400;
const JULIET = 'juliet@capulet.lit';
const ROMEO = 'romeo@montague.lit';
/** p = 2^255 - 19 */
const P = 2n ** 255n - 19n;
/** The order of the Ed25519 base point. */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;


/** X25519 u-coordinates of low order (RFC 7748 §5 lists them; cr.yp.to/ecdh.html#validate). */
const LOW_ORDER_U = {
  zero: le32(0n),
  one: le32(1n),
  order8: fromHex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'),
};

/** The Ed25519 identity point (0, 1): order 1, a small-order public key. */
const ED25519_IDENTITY = fromHex(`01${'00'.repeat(31)}`);

/**
 * A signature (R, S) = ([s]B, s) that satisfies [S]B = R + [k]A for every message when A is the
 * identity point, since [k]A is then the identity: anyone can "sign" for a small-order key.
 */
function forgeForIdentityKey(scalarBytes: Uint8Array): Uint8Array {
  let s = 0n;
  for (let i = scalarBytes.length - 1; i >= 0; i--) s = (s << 8n) | BigInt(scalarBytes[i]!);
  s = (s % (L - 1n)) + 1n;
  const out = new Uint8Array(64);
  out.set(ed25519.Point.BASE.multiply(s).toBytes(), 0);
  out.set(le32(s), 32);
  return out;
}

/**
 * Every secret the cases use, drawn in a fixed order from `seededRng('vectors/identity.json')`,
 * so that the groups share keys (the device of DeviceKeys is the one whose bundle is signed).
 */
function fixtures() {
  const r = seededRng('vectors/identity.json');
  const device = (oneTimePrekeys: number) => ({
    deviceId: generateDeviceId(r) as number,
    signingSecretKey: r(32),
    agreementSecretKey: r(32),
    signedPrekeySecretKey: r(32),
    kemSeed: r(64),
    oneTimePrekeySecretKeys: Array.from({ length: oneTimePrekeys }, () => r(32)),
  });
  const juliet = device(3);
  const romeo = device(2);
  const julietPhoneId = generateDeviceId(r, [juliet.deviceId]) as number;
  const julietAccount = r(32);
  const romeoAccount = r(32);
  const otherSignedPrekey = r(32);
  const forgery = r(32);
  const placeholderCertificate = r(48);
  const placeholderSignature = r(64);
  const manyPrekeys = Array.from({ length: 101 }, () => x25519PublicKeyOf(new X25519SecretKey(r(32))));
  const manyDeviceIds = Array.from({ length: 65 }, () => generateDeviceId(r) as number);
  // Drawn last, so that the values above keep their bytes.
  const julietPhoneSigning = r(32);
  const serverSigning = r(32);
  return { juliet, romeo, julietPhoneId, julietAccount, romeoAccount, otherSignedPrekey, forgery, placeholderCertificate, placeholderSignature, manyPrekeys, manyDeviceIds, julietPhoneSigning, serverSigning };
}

const edPublic = (secret: Uint8Array): Uint8Array => ed25519PublicKeyOf(new Ed25519SecretKey(secret));
const xPublic = (secret: Uint8Array): Uint8Array => x25519PublicKeyOf(new X25519SecretKey(secret));

// ---------------------------------------------------------------------------------------------
// Device keys, fingerprints, URIs, safety numbers

const deviceKeys: GroupKind = {
  type: 'DeviceKeys',
  description: 'a device\'s identity public keys from its secret keys (Ed25519 RFC 8032 §5.1.5, X25519 RFC 7748 §6.1), its fingerprint SHA-256(LabeledContent("Seal-v0 device fingerprint", signing key)) and the display form (8 groups of 8 lower-case hex digits)',
  inputs: z.strictObject({ signingSecretKey: Hex, agreementSecretKey: Hex }),
  outputs: z.strictObject({ signingKey: Hex, agreementKey: Hex, fingerprint: Hex, fingerprintDisplay: z.string() }),
  operation: (i) => {
    const signingKey = ed25519PublicKeyOf(new Ed25519SecretKey(hex(i, 'signingSecretKey')));
    const agreementKey = x25519PublicKeyOf(new X25519SecretKey(hex(i, 'agreementSecretKey')));
    const fingerprint = deviceFingerprint(signingKey);
    return { signingKey: toHex(signingKey), agreementKey: toHex(agreementKey), fingerprint: toHex(fingerprint), fingerprintDisplay: formatFingerprint(fingerprint) };
  },
  cases: () => {
    const { juliet, romeo } = fixtures();
    return [
      { comment: 'juliet\'s device', inputs: { signingSecretKey: toHex(juliet.signingSecretKey), agreementSecretKey: toHex(juliet.agreementSecretKey) } },
      { comment: 'romeo\'s device', inputs: { signingSecretKey: toHex(romeo.signingSecretKey), agreementSecretKey: toHex(romeo.agreementSecretKey) } },
      { comment: 'signing secret key of 31 bytes', flags: ['InvalidLength'], inputs: { signingSecretKey: toHex(juliet.signingSecretKey.slice(1)), agreementSecretKey: toHex(juliet.agreementSecretKey) } },
    ];
  },
};

const fingerprints: GroupKind = {
  type: 'Fingerprint',
  description: 'device and account fingerprints and their xmpp: URIs (RFC 5122, XEP-0147 query type "seal"): xmpp:JID?seal;device=ID;fingerprint=HEX and xmpp:JID?seal;account=HEX, the JID percent-encoded',
  inputs: z.strictObject({ jid: z.string(), deviceId: z.int(), signingKey: Hex, accountKey: Hex }),
  outputs: z.strictObject({ deviceFingerprint: Hex, accountFingerprint: Hex, deviceUri: z.string(), accountUri: z.string() }),
  operation: (i) => {
    const jid = bareJid(i.jid as string);
    const id = deviceId(i.deviceId as number);
    const device = deviceFingerprint(hex(i, 'signingKey'));
    const account = accountFingerprint(hex(i, 'accountKey'));
    return {
      deviceFingerprint: toHex(device),
      accountFingerprint: toHex(account),
      deviceUri: fingerprintUri({ kind: 'device', jid, deviceId: id, fingerprint: device }),
      accountUri: fingerprintUri({ kind: 'account', jid, fingerprint: account }),
    };
  },
  cases: () => {
    const f = fixtures();
    const juliet = { jid: JULIET, deviceId: f.juliet.deviceId, signingKey: toHex(edPublic(f.juliet.signingSecretKey)), accountKey: toHex(edPublic(f.julietAccount)) };
    const romeo = { jid: ROMEO, deviceId: f.romeo.deviceId, signingKey: toHex(edPublic(f.romeo.signingSecretKey)), accountKey: toHex(edPublic(f.romeoAccount)) };
    return [
      { comment: 'juliet', inputs: juliet },
      { comment: 'romeo', inputs: romeo },
      { comment: 'non-ASCII localpart: percent-encoded UTF-8 in the URI', inputs: { ...romeo, jid: 'roméo@montague.lit' } },
      { comment: 'JID without a localpart (a domain)', inputs: { ...juliet, jid: 'capulet.lit' } },
      { comment: 'largest device id', inputs: { ...juliet, deviceId: 2147483647 } },
      { comment: 'JID with a resource', flags: ['FullJid'], inputs: { ...juliet, jid: `${JULIET}/balcony` } },
      { comment: 'device id 0', flags: ['InvalidDeviceId'], inputs: { ...juliet, deviceId: 0 } },
      { comment: 'device id 2^31', flags: ['InvalidDeviceId'], inputs: { ...juliet, deviceId: 2147483648 } },
      { comment: 'signing key of 31 bytes', flags: ['InvalidLength'], inputs: { ...juliet, signingKey: juliet.signingKey.slice(2) } },
    ];
  },
};

const fingerprintUriParse: GroupKind = {
  type: 'FingerprintUriParse',
  description: 'parsing a fingerprint URI: exactly xmpp:JID?seal;device=ID;fingerprint=HEX or xmpp:JID?seal;account=HEX with 64 lower-case hex digits, a bare JID and a device id in 1..2^31-1; anything else is invalid-value',
  inputs: z.strictObject({ uri: z.string() }),
  outputs: z.strictObject({ kind: z.enum(['device', 'account']), jid: z.string(), deviceId: z.optional(z.int()), fingerprint: Hex }),
  operation: (i) => {
    const parsed = parseFingerprintUri(i.uri as string);
    return parsed.kind === 'device'
      ? { kind: parsed.kind, jid: parsed.jid, deviceId: parsed.deviceId, fingerprint: toHex(parsed.fingerprint) }
      : { kind: parsed.kind, jid: parsed.jid, fingerprint: toHex(parsed.fingerprint) };
  },
  cases: () => {
    const f = fixtures();
    const fp = toHex(deviceFingerprint(edPublic(f.juliet.signingSecretKey)));
    const afp = toHex(accountFingerprint(edPublic(f.julietAccount)));
    const id = f.juliet.deviceId;
    const device = `xmpp:${JULIET}?seal;device=${id};fingerprint=${fp}`;
    const bad = (comment: string, flag: string, uri: string) => ({ comment, flags: [flag], inputs: { uri } });
    return [
      { comment: 'device fingerprint', inputs: { uri: device } },
      { comment: 'account fingerprint', inputs: { uri: `xmpp:${JULIET}?seal;account=${afp}` } },
      { comment: 'percent-encoded non-ASCII localpart', inputs: { uri: `xmpp:rom%C3%A9o@montague.lit?seal;account=${afp}` } },
      { comment: 'a JID without a localpart (a domain account): the encoded domainpart alone, no @', inputs: { uri: `xmpp:capulet.lit?seal;account=${afp}` } },
      bad('the @ percent-encoded', 'WrongSyntax', `xmpp:juliet%40capulet.lit?seal;account=${afp}`),
      bad('query type other than seal', 'WrongQueryType', `xmpp:${JULIET}?omemo;device=${id};fingerprint=${fp}`),
      bad('no query type', 'WrongQueryType', `xmpp:${JULIET}?device=${id};fingerprint=${fp}`),
      bad('upper-case hex digits', 'UpperCaseHex', `xmpp:${JULIET}?seal;device=${id};fingerprint=${fp.toUpperCase()}`),
      bad('63 hex digits', 'InvalidLength', `xmpp:${JULIET}?seal;device=${id};fingerprint=${fp.slice(1)}`),
      bad('65 hex digits', 'InvalidLength', `xmpp:${JULIET}?seal;account=${afp}0`),
      bad('JID with a resource', 'FullJid', `xmpp:${JULIET}/balcony?seal;device=${id};fingerprint=${fp}`),
      bad('JID with a percent-encoded resource', 'FullJid', `xmpp:${JULIET}%2Fbalcony?seal;device=${id};fingerprint=${fp}`),
      bad('device id 0', 'InvalidDeviceId', `xmpp:${JULIET}?seal;device=0;fingerprint=${fp}`),
      bad('device id with a leading zero', 'InvalidDeviceId', `xmpp:${JULIET}?seal;device=0${id};fingerprint=${fp}`),
      bad('device id 2^31', 'InvalidDeviceId', `xmpp:${JULIET}?seal;device=2147483648;fingerprint=${fp}`),
      bad('parameters in the other order', 'WrongSyntax', `xmpp:${JULIET}?seal;fingerprint=${fp};device=${id}`),
      bad('device without fingerprint', 'WrongSyntax', `xmpp:${JULIET}?seal;device=${id}`),
      bad('not an xmpp: URI', 'WrongSyntax', `https://capulet.lit/?seal;account=${afp}`),
      bad('bad percent-encoding', 'WrongSyntax', `xmpp:juliet%ZZ@capulet.lit?seal;account=${afp}`),
      bad('mixed-case JID (not the canonical form of RFC 7622)', 'NonCanonicalJid', `xmpp:Juliet@Capulet.lit?seal;account=${afp}`),
    ];
  },
};

const safetyNumberGroup: GroupKind = {
  type: 'SafetyNumber',
  description: 'pairwise safety number: per party h = SHA-256(LabeledContent("Seal-v0 safety number", struct { opaque jid<1..3071>; opaque key[32]; })), 30 digits from six 5-byte big-endian chunks of h mod 100000; the two halves sorted, concatenated and shown in 12 groups of 5',
  inputs: z.strictObject({ jidA: z.string(), keyA: Hex, jidB: z.string(), keyB: Hex }),
  outputs: z.strictObject({ safetyNumber: z.string() }),
  operation: (i) => ({ safetyNumber: safetyNumber({ jid: i.jidA as string, key: hex(i, 'keyA') }, { jid: i.jidB as string, key: hex(i, 'keyB') }) }),
  cases: () => {
    const f = fixtures();
    const julietKey = toHex(edPublic(f.julietAccount));
    const romeoKey = toHex(edPublic(f.romeoAccount));
    const julietDevice = toHex(edPublic(f.juliet.signingSecretKey));
    const romeoDevice = toHex(edPublic(f.romeo.signingSecretKey));
    return [
      { comment: 'juliet and romeo, account keys', inputs: { jidA: JULIET, keyA: julietKey, jidB: ROMEO, keyB: romeoKey } },
      { comment: 'the same pair in the other order: the same number', inputs: { jidA: ROMEO, keyA: romeoKey, jidB: JULIET, keyB: julietKey } },
      { comment: 'juliet\'s key changed: a different number', inputs: { jidA: JULIET, keyA: julietDevice, jidB: ROMEO, keyB: romeoKey } },
      { comment: 'device identity signing keys (accounts without account keys)', inputs: { jidA: JULIET, keyA: julietDevice, jidB: ROMEO, keyB: romeoDevice } },
      { comment: 'same keys, juliet\'s JID changed: a different number', inputs: { jidA: 'juliet@capulet.example', keyA: julietKey, jidB: ROMEO, keyB: romeoKey } },
      { comment: 'JID with a resource', flags: ['FullJid'], inputs: { jidA: `${JULIET}/balcony`, keyA: julietKey, jidB: ROMEO, keyB: romeoKey } },
      { comment: 'key of 31 bytes', flags: ['InvalidLength'], inputs: { jidA: JULIET, keyA: julietKey.slice(2), jidB: ROMEO, keyB: romeoKey } },
      { comment: 'mixed-case JID: refused, not folded (it would give another number than the canonical JID)', flags: ['NonCanonicalJid'], inputs: { jidA: 'Juliet@capulet.lit', keyA: julietKey, jidB: ROMEO, keyB: romeoKey } },
    ];
  },
};

// ---------------------------------------------------------------------------------------------
// Bundles

const SignedPrekeyInput = z.strictObject({ id: z.int(), created: z.int(), expires: z.int(), secretKey: Hex });
const KemPrekeyInput = z.strictObject({ id: z.int(), created: z.int(), expires: z.int(), seed: Hex });
const OneTimePrekeyInput = z.strictObject({ id: z.int(), secretKey: Hex });

type SignedPrekeyIn = { id: number; created: number; expires: number; secretKey: string };
type KemPrekeyIn = { id: number; created: number; expires: number; seed: string };
type OneTimePrekeyIn = { id: number; secretKey: string };

/** The validity of every prekey, MAX_PREKEY_VALIDITY: PREKEY_ROTATION_PERIOD + MAX_CLOCK_SKEW (7 days and 300 s). */
const VALIDITY = 7 * DAY + 300;
/** The validity of the prekeys in the bundle cases: created a day ago, VALIDITY long. */
const CREATED = NOW - DAY;
const EXPIRES = CREATED + VALIDITY;

/** BundleSign inputs of a device of the fixtures. */
function bundleSignInputs(jid: string, d: ReturnType<typeof fixtures>['juliet'], oneTimePrekeys = d.oneTimePrekeySecretKeys.length) {
  return {
    jid,
    deviceId: d.deviceId,
    signingSecretKey: toHex(d.signingSecretKey),
    agreementSecretKey: toHex(d.agreementSecretKey),
    signedPrekey: { id: 1, created: CREATED, expires: EXPIRES, secretKey: toHex(d.signedPrekeySecretKey) },
    kemPrekey: { id: 2, created: CREATED, expires: EXPIRES, seed: toHex(d.kemSeed) },
    oneTimePrekeys: d.oneTimePrekeySecretKeys.slice(0, oneTimePrekeys).map((k, n) => ({ id: 3 + n, secretKey: toHex(k) })),
  };
}

const bundleSign: GroupKind = {
  type: 'BundleSign',
  description: 'a device\'s bundle from its secrets: identity signature SignWithLabel(signing key, "identity keys", IdentityKeysContent(jid, device id, signing key, agreement key)), prekey signatures with labels "signed prekey" and "kem prekey" (ML-KEM-768 key from the 64-byte seed d || z, FIPS 203 ML-KEM.KeyGen_internal); outputs the canonical binary Bundle and the <bundle/> element as serialized by the reference implementation',
  inputs: z.strictObject({
    jid: z.string(),
    deviceId: z.int(),
    signingSecretKey: Hex,
    agreementSecretKey: Hex,
    signedPrekey: SignedPrekeyInput,
    kemPrekey: KemPrekeyInput,
    oneTimePrekeys: z.array(OneTimePrekeyInput),
  }),
  outputs: z.strictObject({ bundle: Hex, bundleXml: z.string() }),
  operation: (i) => {
    const sp = i.signedPrekey as SignedPrekeyIn;
    const kp = i.kemPrekey as KemPrekeyIn;
    const otp = i.oneTimePrekeys as OneTimePrekeyIn[];
    const state: DeviceState = {
      jid: bareJid(i.jid as string),
      deviceId: deviceId(i.deviceId as number),
      signingKey: new Ed25519SecretKey(hex(i, 'signingSecretKey')),
      agreementKey: new X25519SecretKey(hex(i, 'agreementSecretKey')),
      signedPrekeys: [{ id: sp.id, created: sp.created, expires: sp.expires, secretKey: new X25519SecretKey(fromHex(sp.secretKey, 'signedPrekey.secretKey')) }],
      kemPrekeys: [{ id: kp.id, created: kp.created, expires: kp.expires, seed: fromHex(kp.seed, 'kemPrekey.seed') }],
      oneTimePrekeys: otp.map((k) => ({ id: k.id, secretKey: new X25519SecretKey(fromHex(k.secretKey, 'oneTimePrekeys.secretKey')) })),
      nextPrekeyId: Math.max(sp.id, kp.id, ...otp.map((k) => k.id)) + 1,
    };
    const bundle = bundleOf(state);
    return { bundle: toHex(encodeBundle(bundle)), bundleXml: BundleElement.toXml(bundle).toString() };
  },
  cases: () => {
    const f = fixtures();
    const juliet = bundleSignInputs(JULIET, f.juliet);
    return [
      { comment: 'juliet\'s device with three one-time prekeys', inputs: juliet },
      { comment: 'romeo\'s device with two one-time prekeys', inputs: bundleSignInputs(ROMEO, f.romeo) },
      { comment: 'no one-time prekeys', inputs: bundleSignInputs(JULIET, f.juliet, 0) },
      { comment: 'ML-KEM seed of 63 bytes', flags: ['InvalidLength'], inputs: { ...juliet, kemPrekey: { ...juliet.kemPrekey, seed: juliet.kemPrekey.seed.slice(2) } } },
    ];
  },
};

/** The public parts of a bundle and the key that signs them. */
interface BundleParts {
  readonly jid: string;
  readonly deviceId: number;
  readonly signer: Ed25519SecretKey;
  readonly agreementKey: Uint8Array;
  readonly signedPrekey: { id: number; created: number; expires: number; publicKey: Uint8Array };
  readonly kemPrekey: { id: number; created: number; expires: number; publicKey: Uint8Array };
  readonly oneTimePrekeys: readonly { id: number; publicKey: Uint8Array }[];
  /** The label the signed prekey is signed with (default "signed prekey"). */
  readonly signedPrekeyLabel?: string;
}

/** Signs the parts as bundleOf does, whatever they hold (so invalid keys and times are signed too). */
function signBundle(p: BundleParts): BundleValue {
  const signingKey = ed25519PublicKeyOf(p.signer);
  const identity = encode(IdentityKeysContent, { jid: utf8Encode(p.jid), deviceId: p.deviceId, signingKey, agreementKey: p.agreementKey });
  const signed = encode(SignedPrekeyContent, p.signedPrekey);
  const kem = encode(KemPrekeyContent, p.kemPrekey);
  return {
    identity: { signingKey, agreementKey: p.agreementKey, signature: signWithLabel(p.signer, SIGNATURE_LABELS.identityKeys, identity) },
    signedPrekey: { ...p.signedPrekey, signature: signWithLabel(p.signer, p.signedPrekeyLabel ?? SIGNATURE_LABELS.signedPrekey, signed) },
    kemPrekey: { ...p.kemPrekey, signature: signWithLabel(p.signer, SIGNATURE_LABELS.kemPrekey, kem) },
    oneTimePrekeys: [...p.oneTimePrekeys],
  };
}

const bundleXml = (bundle: BundleValue): string => BundleElement.toXml(bundle).toString();

/** The `<prekeys/>` child of a bundle element. */
function prekeysOf(element: Element): Element {
  return childElements(element).find((c) => c.name === 'prekeys')!;
}

const bundleVerify: GroupKind = {
  type: 'BundleVerify',
  description: 'verifying a <bundle/> fetched from the bundle node of device deviceId of account jid at time now, in this order (the first failure gives the error): at most 100 one-time prekeys (length-out-of-range); the base64 and length of each binary value in the order of the Bundle structure (invalid-base64, then invalid-length for any wrong length); the rest of the schema (schema-violation); the keys, each one-time prekey\'s key followed by its id\'s uniqueness (invalid-key, duplicate-id); the identity signature, then the prekey signatures; the validity periods; the device list\'s key. In detail: every key checked (lengths, canonical encodings, no low-order X25519 or small-order Ed25519 key, the ML-KEM-768 modulus check), the identity signature with jid and deviceId from the context, both prekey signatures, both validity periods (now < expires, created <= now + 300, 1 s <= expires - created <= MAX_PREKEY_VALIDITY = 605100 s, PREKEY_ROTATION_PERIOD + MAX_CLOCK_SKEW), at most 100 one-time prekeys with unique ids; when deviceListXml is given (the account\'s device list, which verifies as in DeviceListVerify), the identity signing key must be the one the list names for deviceId (identity-key-changed; required for a signed list, recommended for an unsigned one, which the flag UnsignedListKeyMismatch marks)',
  inputs: z.strictObject({ jid: z.string(), deviceId: z.int(), now: z.int(), bundleXml: z.string(), deviceListXml: z.optional(z.string()) }),
  outputs: z.strictObject({}),
  operation: (i) => {
    const jid = bareJid(i.jid as string);
    const deviceList = i.deviceListXml === undefined ? undefined : verifyDeviceList(jid, DeviceListElement.fromXml(parseXml(i.deviceListXml as string)));
    verifyBundle(BundleElement.fromXml(parseXml(i.bundleXml as string)), { jid, deviceId: deviceId(i.deviceId as number), now: i.now as number, ...(deviceList === undefined ? {} : { deviceList }) });
    return {};
  },
  cases: () => {
    const f = fixtures();
    const d = f.juliet;
    const signer = new Ed25519SecretKey(d.signingSecretKey);
    const kemPublic = mlKemKeyPairFromSeed(d.kemSeed).publicKey;
    const base: BundleParts = {
      jid: JULIET,
      deviceId: d.deviceId,
      signer,
      agreementKey: xPublic(d.agreementSecretKey),
      signedPrekey: { id: 1, created: CREATED, expires: EXPIRES, publicKey: xPublic(d.signedPrekeySecretKey) },
      kemPrekey: { id: 2, created: CREATED, expires: EXPIRES, publicKey: kemPublic },
      oneTimePrekeys: d.oneTimePrekeySecretKeys.map((k, n) => ({ id: 3 + n, publicKey: xPublic(k) })),
    };
    const context = { jid: JULIET, deviceId: d.deviceId, now: NOW };
    const valid = signBundle(base);
    const withSigned = (signedPrekey: Partial<BundleParts['signedPrekey']>) => signBundle({ ...base, signedPrekey: { ...base.signedPrekey, ...signedPrekey } });
    const withKem = (kemPrekey: Partial<BundleParts['kemPrekey']>) => signBundle({ ...base, kemPrekey: { ...base.kemPrekey, ...kemPrekey } });
    const withOneTime = (publicKey: Uint8Array) => signBundle({ ...base, oneTimePrekeys: [...base.oneTimePrekeys.slice(0, 2), { id: 5, publicKey }] });
    type Over = Partial<typeof context> & { deviceListXml?: string };
    const ok = (comment: string, bundle: BundleValue | string, over: Over = {}) => ({ comment, inputs: { ...context, ...over, bundleXml: typeof bundle === 'string' ? bundle : bundleXml(bundle) } });
    const bad = (comment: string, flag: string, bundle: BundleValue | string, over: Over = {}) => ({ ...ok(comment, bundle, over), flags: [flag] });

    // Juliet's device list naming this device's signing key, signed and unsigned, and a bundle
    // the server made for the same device id under its own signing key (correctly self-signed).
    const listed = {
      issued: NOW - 30 * DAY,
      devices: [
        { id: d.deviceId, added: NOW - 30 * DAY, signingKey: edPublic(d.signingSecretKey), label: 'Laptop' },
        { id: f.julietPhoneId, added: NOW - 200 * DAY, signingKey: edPublic(f.julietPhoneSigning), label: 'Phone' },
      ].sort((a, b) => a.id - b.id),
    };
    const signedListXml = DeviceListElement.toXml(signList(JULIET, listed, f.julietAccount)).toString();
    const unsignedListXml = DeviceListElement.toXml(listed).toString();
    const serverMade = signBundle({ ...base, signer: new Ed25519SecretKey(f.serverSigning) });

    // Identity signature with one bit flipped.
    const flipped = { ...valid, identity: { ...valid.identity, signature: valid.identity.signature.slice() } };
    flipped.identity.signature[0]! ^= 0x01;

    // Signed prekey replaced, or its expiry extended, after signing.
    const replacedPrekey = { ...valid, signedPrekey: { ...valid.signedPrekey, publicKey: xPublic(f.otherSignedPrekey) } };
    const extended = { ...valid, signedPrekey: { ...valid.signedPrekey, expires: valid.signedPrekey.expires + DAY } };

    // 100 one-time prekeys (the most), and 101 in XML (one more than the schema allows).
    const hundred = signBundle({ ...base, oneTimePrekeys: f.manyPrekeys.slice(0, 100).map((publicKey, n) => ({ id: 3 + n, publicKey })) });
    const tooMany = BundleElement.toXml(hundred);
    prekeysOf(tooMany).cnode(xml('prekey', { id: '103' }, [base64(f.manyPrekeys[100]!)]));

    // A one-time prekey of 31 bytes in XML.
    const shortKey = BundleElement.toXml(valid);
    const lastPrekey = childElements(prekeysOf(shortKey))[2]!;
    lastPrekey.children = [base64(base.oneTimePrekeys[2]!.publicKey.slice(0, 31))];

    // Values of the wrong length in XML, each in an otherwise valid bundle: a 63-byte identity
    // signature, a 33-byte agreement key, a 1183-byte ML-KEM key, a 40-byte signed prekey.
    const wrongLength = (edit: (element: Element) => void) => {
      const element = BundleElement.toXml(valid);
      edit(element);
      return element.toString();
    };
    const child = (element: Element, name: string) => childElements(element).find((c) => c.name === name)!;
    const shortSignature = wrongLength((e) => { child(e, 'identity').attrs['signature'] = base64(valid.identity.signature.slice(0, 63)); });
    const longAgreementKey = wrongLength((e) => { child(e, 'identity').attrs['agreement'] = base64(Uint8Array.from([...valid.identity.agreementKey, 0])); });
    const shortKemKey = wrongLength((e) => { child(e, 'kem-prekey').children = [base64(kemPublic.slice(0, 1183))]; });
    const longSignedPrekey = wrongLength((e) => { child(e, 'signed-prekey').children = [base64(Uint8Array.from([...valid.signedPrekey.publicKey, ...new Uint8Array(8)]))]; });

    // No <kem-prekey/>.
    const noKem = BundleElement.toXml(valid);
    noKem.children = noKem.children.filter((c: unknown) => !(typeof c !== 'string' && (c as Element).name === 'kem-prekey'));

    // A small-order signing key (the identity point) with signatures that satisfy the
    // verification equation for every message.
    const forged = forgeForIdentityKey(f.forgery);
    const smallOrder: BundleValue = {
      identity: { ...valid.identity, signingKey: ED25519_IDENTITY, signature: forged },
      signedPrekey: { ...valid.signedPrekey, signature: forged },
      kemPrekey: { ...valid.kemPrekey, signature: forged },
      oneTimePrekeys: valid.oneTimePrekeys,
    };

    // The first coefficient of the ML-KEM key set to 0xfff (>= q = 3329), correctly signed.
    const badKem = kemPublic.slice();
    badKem[0] = 0xff;
    badKem[1]! |= 0x0f;

    return [
      ok('valid bundle (the output of the first BundleSign case)', valid),
      ok('valid one second before the prekeys expire', valid, { now: EXPIRES - 1 }),
      ok('signed prekey created MAX_CLOCK_SKEW (300 s) in the future', withSigned({ created: NOW + 300, expires: NOW + 300 + VALIDITY })),
      ok('signed prekey created two days ago, valid for exactly MAX_PREKEY_VALIDITY (7 days and 300 s)', withSigned({ created: NOW - 2 * DAY, expires: NOW - 2 * DAY + VALIDITY })),
      ok('no one-time prekeys', signBundle({ ...base, oneTimePrekeys: [] })),
      ok('100 one-time prekeys (MAX_ONE_TIME_PREKEYS)', hundred),
      ok('the signing key is the one the signed device list names for the device', valid, { deviceListXml: signedListXml }),
      ok('the signing key is the one the unsigned device list names for the device', valid, { deviceListXml: unsignedListXml }),
      ok('a bundle made by the server for a listed device id, checked without the list: only the list can tell', serverMade),
      bad('identity signature with one bit flipped', 'BadSignature', flipped),
      bad('verified for another JID', 'WrongJid', valid, { jid: ROMEO }),
      bad('verified for another device id', 'WrongDeviceId', valid, { deviceId: d.deviceId + 1 }),
      bad('signed prekey signed with the label "kem prekey"', 'WrongLabel', signBundle({ ...base, signedPrekeyLabel: SIGNATURE_LABELS.kemPrekey })),
      bad('signed prekey public key replaced after signing', 'ModifiedSignedPrekey', replacedPrekey),
      bad('signed prekey expiry extended by a day after signing', 'ModifiedSignedPrekey', extended),
      bad('signed prekey expires exactly now', 'ExpiredSignedPrekey', withSigned({ created: NOW - VALIDITY, expires: NOW })),
      bad('KEM prekey expired a day ago', 'ExpiredKemPrekey', withKem({ created: NOW - DAY - VALIDITY, expires: NOW - DAY })),
      bad('signed prekey created 301 s in the future', 'CreatedInFuture', withSigned({ created: NOW + 301, expires: NOW + 301 + VALIDITY })),
      bad('signed prekey valid for MAX_PREKEY_VALIDITY and 1 s', 'ValidityTooLong', withSigned({ expires: CREATED + VALIDITY + 1 })),
      bad('KEM prekey valid for 28 days', 'ValidityTooLong', withKem({ expires: CREATED + 28 * DAY })),
      bad('signed prekey with expires equal to created', 'EmptyValidity', withSigned({ created: NOW, expires: NOW })),
      bad('two one-time prekeys with id 4', 'DuplicatePrekeyId', signBundle({ ...base, oneTimePrekeys: [base.oneTimePrekeys[0]!, base.oneTimePrekeys[1]!, { id: 4, publicKey: base.oneTimePrekeys[2]!.publicKey }] })),
      bad('101 one-time prekeys', 'TooManyPrekeys', tooMany.toString()),
      bad('one-time prekey of 31 bytes', 'WrongKeyLength', shortKey.toString()),
      bad('identity signature of 63 bytes (invalid-length: lengths are checked before the schema and the signatures)', 'WrongSignatureLength', shortSignature),
      bad('identity agreement key of 33 bytes (invalid-length, not invalid-key: the length is checked first)', 'WrongKeyLength', longAgreementKey),
      bad('KEM prekey of 1183 bytes (invalid-length, not invalid-key: the length is checked before the modulus check)', 'WrongKeyLength', shortKemKey),
      bad('signed prekey of 40 bytes (invalid-length whatever the length, not too-large)', 'WrongKeyLength', longSignedPrekey),
      bad('one-time prekey u = 0 (low order)', 'LowOrderPrekey', withOneTime(LOW_ORDER_U.zero)),
      bad('one-time prekey u = 1 (low order)', 'LowOrderPrekey', withOneTime(LOW_ORDER_U.one)),
      bad('one-time prekey u = p + 9 (non-canonical encoding of the base point)', 'NonCanonicalPrekey', withOneTime(le32(P + 9n))),
      bad('one-time prekey u = 9 with the most significant bit set', 'NonCanonicalPrekey', withOneTime(le32(2n ** 255n + 9n))),
      bad('signed prekey of order 8, correctly signed', 'LowOrderPrekey', withSigned({ publicKey: LOW_ORDER_U.order8 })),
      bad('identity agreement key of order 8, correctly signed', 'LowOrderAgreementKey', signBundle({ ...base, agreementKey: LOW_ORDER_U.order8 })),
      bad('identity signing key is the identity point; its signatures (R, S) = ([s]B, s) satisfy [S]B = R + [k]A', 'SmallOrderSigningKey', smallOrder),
      bad('ML-KEM key whose first coefficient is 4095 (>= q), correctly signed', 'InvalidKemKey', withKem({ publicKey: badKem })),
      bad('no <kem-prekey/>', 'MissingKemPrekey', noKem.toString()),
      bad('a bundle made by the server for a device id on the signed list, under another signing key (correctly self-signed)', 'ListKeyMismatch', serverMade, { deviceListXml: signedListXml }),
      bad('the same bundle against the unsigned list (SHOULD reject; the reference implementation does)', 'UnsignedListKeyMismatch', serverMade, { deviceListXml: unsignedListXml }),
    ];
  },
};

// ---------------------------------------------------------------------------------------------
// Device lists

const DeviceInput = z.strictObject({ id: z.int(), added: z.int(), signingKey: Hex, label: z.optional(z.string()) });
const BindingInput = z.strictObject({ kind: z.enum(['x509', 'openpgp', 'omemo']), certificate: Hex, signature: Hex });
type DeviceIn = { id: number; added: number; signingKey: string; label?: string };
type BindingIn = { kind: 'x509' | 'openpgp' | 'omemo'; certificate: string; signature: string };

const deviceListSign: GroupKind = {
  type: 'DeviceListSign',
  description: 'a device list: each entry with the device\'s identity signing key (a valid Ed25519 public key), devices sorted by id, signed when an account key is given with SignWithLabel(account key, "device list", DeviceListContent(jid, issued, devices, account key)); outputs the canonical binary DeviceList and the <devices/> element as serialized by the reference implementation',
  inputs: z.strictObject({ jid: z.string(), issued: z.int(), devices: z.array(DeviceInput), accountSecretKey: z.optional(Hex), bindings: z.optional(z.array(BindingInput)) }),
  outputs: z.strictObject({ deviceList: Hex, deviceListXml: z.string() }),
  operation: (i) => {
    const devices: DeviceEntryValue[] = (i.devices as DeviceIn[]).map((d) => {
      const entry = { id: d.id, added: d.added, signingKey: fromHex(d.signingKey, 'signingKey') };
      return d.label === undefined ? entry : { ...entry, label: d.label };
    });
    const bindings: BindingValue[] = ((i.bindings ?? []) as BindingIn[]).map((b) => ({ kind: b.kind, certificate: fromHex(b.certificate, 'certificate'), signature: fromHex(b.signature, 'signature') }));
    const account = i.accountSecretKey === undefined ? undefined : { secretKey: new Ed25519SecretKey(hex(i, 'accountSecretKey')), bindings };
    const list = createDeviceList(bareJid(i.jid as string), devices, i.issued as number, account);
    return { deviceList: toHex(encodeDeviceList(list)), deviceListXml: DeviceListElement.toXml(list).toString() };
  },
  cases: () => {
    const f = fixtures();
    const laptop = { id: f.juliet.deviceId, added: NOW - 30 * DAY, signingKey: toHex(edPublic(f.juliet.signingSecretKey)), label: 'Laptop' };
    const phone = { id: f.julietPhoneId, added: NOW - 200 * DAY, signingKey: toHex(edPublic(f.julietPhoneSigning)), label: 'Juliet\u2019s phone' };
    const devices = [laptop, phone].sort((a, b) => b.id - a.id); // descending: the list sorts them
    const accountSecretKey = toHex(f.julietAccount);
    const issued = NOW - 30 * DAY;
    return [
      { comment: 'unsigned, one device without a label', inputs: { jid: ROMEO, issued: NOW - 10 * DAY, devices: [{ id: f.romeo.deviceId, added: NOW - 10 * DAY, signingKey: toHex(edPublic(f.romeo.signingSecretKey)) }] } },
      { comment: 'signed by the account key; devices given in descending id order, non-ASCII label', inputs: { jid: JULIET, issued, devices, accountSecretKey } },
      { comment: 'a label with every character the canonical form escapes in attributes (& < \') and a >', inputs: { jid: ROMEO, issued: NOW - 10 * DAY, devices: [{ id: f.romeo.deviceId, added: NOW - 10 * DAY, signingKey: toHex(edPublic(f.romeo.signingSecretKey)), label: "Romeo's <work> & home" }] } },
      { comment: 'signed, with an OpenPGP binding statement (placeholder certificate and signature bytes)', inputs: { jid: JULIET, issued, devices, accountSecretKey, bindings: [{ kind: 'openpgp', certificate: toHex(f.placeholderCertificate), signature: toHex(f.placeholderSignature) }] } },
      { comment: 'the same device id twice', flags: ['DuplicateDeviceId'], inputs: { jid: JULIET, issued, devices: [laptop, { ...laptop, label: 'Tablet' }], accountSecretKey } },
      { comment: 'no devices', flags: ['EmptyList'], inputs: { jid: JULIET, issued, devices: [], accountSecretKey } },
      { comment: '65 devices', flags: ['TooManyDevices'], inputs: { jid: JULIET, issued, devices: f.manyDeviceIds.map((id) => ({ id, added: issued, signingKey: phone.signingKey })) } },
      { comment: 'device id 0', flags: ['InvalidDeviceId'], inputs: { jid: JULIET, issued, devices: [{ id: 0, added: issued, signingKey: phone.signingKey }], accountSecretKey } },
      { comment: 'a device\'s signing key is the identity point (small order)', flags: ['SmallOrderDeviceKey'], inputs: { jid: JULIET, issued, devices: [{ ...laptop, signingKey: toHex(ED25519_IDENTITY) }], accountSecretKey } },
      { comment: 'a device\'s signing key of 31 bytes', flags: ['InvalidLength'], inputs: { jid: JULIET, issued, devices: [{ ...laptop, signingKey: laptop.signingKey.slice(2) }], accountSecretKey } },
    ];
  },
};

/** Signs a list as createDeviceList does, without its checks (so invalid lists are signed too). */
function signList(jid: string, list: Pick<DeviceListValue, 'issued' | 'devices'>, accountSecret: Uint8Array, label: string = SIGNATURE_LABELS.deviceList): DeviceListValue {
  const secretKey = new Ed25519SecretKey(accountSecret);
  const accountKey = ed25519PublicKeyOf(secretKey);
  return { ...list, account: { accountKey, signature: signWithLabel(secretKey, label, deviceListContent(jid, list, accountKey)), bindings: [] } };
}

const deviceListVerify: GroupKind = {
  type: 'DeviceListVerify',
  description: 'verifying a <devices/> fetched from the device-list node of account jid: 1..64 devices with unique ids, each with its identity signing key (the signing attribute, checked like a bundle\'s: canonical, not of small order); when signed, the account key checked the same way and its signature over DeviceListContent (which covers every device\'s signing key) with jid from the context; a signed list issued before newestIssued (the newest list accepted before under that key) is stale. Outputs each device id with its signing key, and the account key of a signed list',
  inputs: z.strictObject({ jid: z.string(), deviceListXml: z.string(), newestIssued: z.optional(z.int()) }),
  outputs: z.strictObject({ devices: z.array(z.strictObject({ id: z.int(), signingKey: Hex })), accountKey: z.optional(Hex) }),
  operation: (i) => {
    const verified = verifyDeviceList(bareJid(i.jid as string), DeviceListElement.fromXml(parseXml(i.deviceListXml as string)), i.newestIssued as number | undefined);
    const devices = verified.devices.map((d) => ({ id: d.id as number, signingKey: toHex(d.signingKey) }));
    return verified.accountKey === undefined ? { devices } : { devices, accountKey: toHex(verified.accountKey) };
  },
  cases: () => {
    const f = fixtures();
    const issued = NOW - 30 * DAY;
    const laptopKey = edPublic(f.juliet.signingSecretKey);
    const devices = [
      { id: f.juliet.deviceId, added: NOW - 30 * DAY, signingKey: laptopKey, label: 'Laptop' },
      { id: f.julietPhoneId, added: NOW - 200 * DAY, signingKey: edPublic(f.julietPhoneSigning), label: 'Phone' },
    ].sort((a, b) => a.id - b.id);
    const plain = { issued, devices };
    const signed = signList(JULIET, plain, f.julietAccount);
    const toXml = (list: DeviceListValue) => DeviceListElement.toXml(list).toString();
    const ok = (comment: string, list: DeviceListValue | string, over: { jid?: string; newestIssued?: number } = {}) => ({ comment, inputs: { jid: JULIET, ...over, deviceListXml: typeof list === 'string' ? list : toXml(list) } });
    const bad = (comment: string, flag: string, list: DeviceListValue | string, over: { jid?: string; newestIssued?: number } = {}) => ({ ...ok(comment, list, over), flags: [flag] });

    const flipped = { ...signed, account: { ...signed.account!, signature: signed.account!.signature.slice() } };
    flipped.account.signature[10]! ^= 0x40;
    const withBinding = { ...signed, account: { ...signed.account!, bindings: [{ kind: 'openpgp' as const, certificate: f.placeholderCertificate, signature: f.placeholderSignature }] } };

    const duplicate = signList(JULIET, { issued, devices: [devices[0]!, { ...devices[0]!, label: 'Tablet' }] }, f.julietAccount);

    const empty = DeviceListElement.toXml(plain);
    empty.children = [];
    const many = DeviceListElement.toXml({ issued, devices: f.manyDeviceIds.slice(0, 64).sort((a, b) => a - b).map((id) => ({ id, added: issued, signingKey: laptopKey })) });
    many.cnode(xml('device', { id: String(f.manyDeviceIds[64]!), added: '2026-10-27T09:00:00Z', signing: base64(laptopKey) }));

    // The server swaps a device's signing key for its own after signing: the signature covers it.
    const swappedKey = { ...signed, devices: signed.devices.map((d) => (d.id === f.juliet.deviceId ? { ...d, signingKey: edPublic(f.serverSigning) } : d)) };
    // Correctly signed lists with a bad listed key, and a <device/> without its key.
    const smallOrderDevice = signList(JULIET, { issued, devices: devices.map((d) => (d.id === f.juliet.deviceId ? { ...d, signingKey: ED25519_IDENTITY } : d)) }, f.julietAccount);
    const noKey = DeviceListElement.toXml(plain);
    delete (childElements(noKey)[0]!.attrs as Record<string, string>)['signing'];
    const shortDeviceKey = DeviceListElement.toXml(plain);
    (childElements(shortDeviceKey)[0]!.attrs as Record<string, string>)['signing'] = base64(laptopKey.slice(1));
    const shortAccountSignature = DeviceListElement.toXml(signed);
    (childElements(shortAccountSignature).find((c) => c.name === 'account-key')!.attrs as Record<string, string>)['signature'] = base64(signed.account!.signature.slice(0, 63));

    const smallOrder = { ...signed, account: { accountKey: ED25519_IDENTITY, signature: forgeForIdentityKey(f.forgery), bindings: [] } };
    const modified = { ...signed, devices: [{ ...devices[0]!, id: devices[0]!.id + 1 }, devices[1]!] };
    const added = { ...signed, devices: [...devices, { id: f.romeo.deviceId, added: NOW - DAY, signingKey: edPublic(f.romeo.signingSecretKey) }].sort((a, b) => a.id - b.id) };
    const reissued = { ...signed, issued: issued + DAY };

    return [
      ok('signed by the account key', signed),
      ok('unsigned', plain),
      ok('signed, with an OpenPGP binding statement (not verified by the reference implementation)', withBinding),
      ok('signed, issued exactly at the newest accepted time', signed, { newestIssued: issued }),
      ok('signed, newer than the newest accepted list', signed, { newestIssued: issued - 1 }),
      ok('unsigned list older than newestIssued: no rollback check without an account key', plain, { newestIssued: issued + 1 }),
      ok('a signed list with its <account-key/> removed verifies as unsigned (trust must notice the change, identity.key-change)', { issued, devices }),
      bad('account signature with one bit flipped', 'BadSignature', flipped),
      bad('verified for another JID', 'WrongJid', signed, { jid: ROMEO }),
      bad('signed with the label "identity keys"', 'WrongLabel', signList(JULIET, plain, f.julietAccount, SIGNATURE_LABELS.identityKeys)),
      bad('the same device id twice, correctly signed', 'DuplicateDeviceId', duplicate),
      bad('no devices', 'EmptyList', empty.toString()),
      bad('65 devices (unsigned)', 'TooManyDevices', many.toString()),
      bad('signed, issued before the newest accepted list', 'StaleList', signed, { newestIssued: issued + 1 }),
      bad('account key is the identity point; its signature (R, S) = ([s]B, s) satisfies [S]B = R + [k]A', 'SmallOrderAccountKey', smallOrder),
      bad('a device id changed after signing', 'ModifiedDevice', modified),
      bad('a device added after signing', 'ModifiedDevice', added),
      bad('issued time changed after signing', 'ModifiedIssued', reissued),
      bad('a device\'s signing key replaced (by the server\'s) after signing', 'ModifiedSigningKey', swappedKey),
      bad('a device\'s signing key is the identity point (small order), correctly signed', 'SmallOrderDeviceKey', smallOrderDevice),
      bad('a <device/> without its signing key', 'MissingSigningKey', noKey.toString()),
      bad('a device\'s signing key of 31 bytes', 'WrongKeyLength', shortDeviceKey.toString()),
      bad('account signature of 63 bytes (invalid-length: lengths are checked before the signature)', 'WrongSignatureLength', shortAccountSignature.toString()),
    ];
  },
};

const accountKeyBinding: GroupKind = {
  type: 'AccountKeyBinding',
  description: 'the bytes an X.509, OpenPGP or OMEMO key signs in a binding statement: LabeledContent("Seal-v0 account key binding", struct { uint8 kind; opaque jid<1..3071>; opaque account_key[32]; }) with kind 1 = X.509, 2 = OpenPGP, 3 = OMEMO',
  inputs: z.strictObject({ jid: z.string(), accountKey: Hex, kind: z.enum(['x509', 'openpgp', 'omemo']) }),
  outputs: z.strictObject({ content: Hex }),
  operation: (i) => ({ content: toHex(accountKeyBindingContent(bareJid(i.jid as string), hex(i, 'accountKey'), i.kind as 'x509' | 'openpgp' | 'omemo')) }),
  cases: () => {
    const f = fixtures();
    const accountKey = toHex(edPublic(f.julietAccount));
    return [
      { comment: 'X.509', inputs: { jid: JULIET, accountKey, kind: 'x509' } },
      { comment: 'OpenPGP', inputs: { jid: JULIET, accountKey, kind: 'openpgp' } },
      { comment: 'OMEMO (the OMEMO identity key signs this with Ed25519)', inputs: { jid: JULIET, accountKey, kind: 'omemo' } },
      { comment: 'JID with a resource', flags: ['FullJid'], inputs: { jid: `${JULIET}/balcony`, accountKey, kind: 'openpgp' } },
      { comment: 'account key of 31 bytes', flags: ['InvalidLength'], inputs: { jid: JULIET, accountKey: accountKey.slice(2), kind: 'x509' } },
    ];
  },
};

/** The kind of `vectors/identity.json`. @see spec §identity */
export const identityVectors: VectorKind = {
  file: 'identity.json',
  section: 'identity',
  version: 1,
  description: 'Seal-v0 identity: device keys and fingerprints, fingerprint URIs, safety numbers, signing and verifying bundles and device lists (every key, signature, validity and count rule with a correctly signed negative case), and the bytes of an account key binding',
  groups: [deviceKeys, fingerprints, fingerprintUriParse, safetyNumberGroup, bundleSign, bundleVerify, deviceListSign, deviceListVerify, accountKeyBinding],
};
