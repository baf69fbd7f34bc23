/**
 * The bundle: the public keys a device publishes through PEP so that others can start an
 * asynchronous handshake with it while it is offline. One XML element and one canonical binary
 * encoding, and the signed contents of its three signatures.
 *
 * @see spec §identity.bundle
 * @module
 */
import * as z from 'zod/mini';
import { type Codec, encode, fixed, opaque, struct, u32, u64n, vector } from '../codec/binary.js';
import { SealError } from '../errors.js';
import { LENGTHS } from '../suite/types.js';
import { SEAL_NS } from '../suite/suite.js';
import { defineElement } from './element.js';
import { Seconds, Uint32Id, base64, binaryAttr, bytesOf, dateTimeAttr, fixedBinaryText, formatDateTime, idAttr } from './fields.js';
import { type Element, childElements, childrenNamed, isNamed, onlyChild, optionalAttr, xml } from './xml.js';

/** Largest number of one-time prekeys in a bundle. @see spec §identity.bundle */
export const MAX_ONE_TIME_PREKEYS = 100;
/** Largest bare JID in bytes (RFC 7622 §3.1: 1023 + 1 + 1023, rounded up to the full-JID bound). */
export const MAX_JID_BYTES = 3071;

/** A device id: 1..2^31-1. @see spec §identity.keys */
export const DeviceIdSchema = z.int().check(z.gte(1), z.lte(0x7fffffff));

/** Schema of a Identity value. */
export const IdentitySchema = z.object({ signingKey: bytesOf(LENGTHS.ed25519PublicKey), agreementKey: bytesOf(LENGTHS.x25519PublicKey), signature: bytesOf(LENGTHS.ed25519Signature) });
/** Schema of a SignedPrekey value. */
export const SignedPrekeySchema = z.object({ id: Uint32Id, created: Seconds, expires: Seconds, publicKey: bytesOf(LENGTHS.x25519PublicKey), signature: bytesOf(LENGTHS.ed25519Signature) });
/** Schema of a KemPrekey value. */
export const KemPrekeySchema = z.object({ id: Uint32Id, created: Seconds, expires: Seconds, publicKey: bytesOf(LENGTHS.mlKemPublicKey), signature: bytesOf(LENGTHS.ed25519Signature) });
/** Schema of a OneTimePrekey value. */
export const OneTimePrekeySchema = z.object({ id: Uint32Id, publicKey: bytesOf(LENGTHS.x25519PublicKey) });

/** Schema of a bundle value. @see spec §identity.bundle */
export const BundleSchema = z.object({
  identity: IdentitySchema,
  signedPrekey: SignedPrekeySchema,
  kemPrekey: KemPrekeySchema,
  oneTimePrekeys: z.array(OneTimePrekeySchema).check(z.maxLength(MAX_ONE_TIME_PREKEYS)),
});

/** A device's identity keys with the signing key's signature over {@link IdentityKeysContent}. */
export type IdentityKeysValue = z.infer<typeof IdentitySchema>;
/** A signed X25519 prekey with its validity period and signature over {@link SignedPrekeyContent}. */
export type SignedPrekeyValue = z.infer<typeof SignedPrekeySchema>;
/** The signed ML-KEM-768 prekey with its validity period and signature over {@link KemPrekeyContent}. */
export type KemPrekeyValue = z.infer<typeof KemPrekeySchema>;
/** An unsigned one-time X25519 prekey. */
export type OneTimePrekeyValue = z.infer<typeof OneTimePrekeySchema>;
/** A bundle, as published. @see spec §identity.bundle */
export type BundleValue = z.infer<typeof BundleSchema>;

const jidField = opaque(2, { min: 1, max: MAX_JID_BYTES }, 'jid');
const ed25519Key = fixed(LENGTHS.ed25519PublicKey, 'Ed25519 public key');
const x25519Key = fixed(LENGTHS.x25519PublicKey, 'X25519 public key');
const signatureField = fixed(LENGTHS.ed25519Signature, 'signature');

/**
 * What the identity signature covers (label `identity keys`):
 * `struct { opaque jid<1..3071>; uint32 device_id; opaque signing_key[32]; opaque agreement_key[32]; }`.
 *
 * @see spec §identity.bundle
 */
export const IdentityKeysContent: Codec<{ jid: Uint8Array; deviceId: number; signingKey: Uint8Array; agreementKey: Uint8Array }> = struct('IdentityKeysContent', {
  jid: jidField,
  deviceId: u32,
  signingKey: ed25519Key,
  agreementKey: x25519Key,
});

/**
 * What a signed prekey's signature covers (label `signed prekey`):
 * `struct { uint32 id; uint64 created; uint64 expires; opaque public_key[32]; }`.
 *
 * @see spec §identity.bundle
 */
export const SignedPrekeyContent: Codec<{ id: number; created: number; expires: number; publicKey: Uint8Array }> = struct('SignedPrekeyContent', {
  id: u32,
  created: u64n,
  expires: u64n,
  publicKey: x25519Key,
});

/**
 * What the KEM prekey's signature covers (label `kem prekey`):
 * `struct { uint32 id; uint64 created; uint64 expires; opaque public_key[1184]; }`.
 *
 * @see spec §identity.bundle
 */
export const KemPrekeyContent: Codec<{ id: number; created: number; expires: number; publicKey: Uint8Array }> = struct('KemPrekeyContent', {
  id: u32,
  created: u64n,
  expires: u64n,
  publicKey: fixed(LENGTHS.mlKemPublicKey, 'ML-KEM-768 public key'),
});

/**
 * The canonical binary encoding of a whole bundle:
 * `struct { IdentityKeys identity; SignedPrekey signed_prekey; KemPrekey kem_prekey; OneTimePrekey one_time_prekeys<0..100>; }`.
 *
 * @see spec §identity.bundle
 */
export const BundleCodec: Codec<BundleValue> = struct('Bundle', {
  identity: struct('IdentityKeys', { signingKey: ed25519Key, agreementKey: x25519Key, signature: signatureField }),
  signedPrekey: struct('SignedPrekey', { id: u32, created: u64n, expires: u64n, publicKey: x25519Key, signature: signatureField }),
  kemPrekey: struct('KemPrekey', { id: u32, created: u64n, expires: u64n, publicKey: fixed(LENGTHS.mlKemPublicKey, 'ML-KEM-768 public key'), signature: signatureField }),
  oneTimePrekeys: vector(1, { max: MAX_ONE_TIME_PREKEYS }, struct('OneTimePrekey', { id: u32, publicKey: x25519Key }), 'Bundle.one_time_prekeys'),
}) as Codec<BundleValue>;

/** Canonical bytes of a bundle. @see spec §identity.bundle */
export function encodeBundle(bundle: BundleValue): Uint8Array {
  return encode(BundleCodec, bundle);
}

function only(element: Element, name: string): Element {
  return onlyChild(element, name, SEAL_NS);
}

function signedKeyElement(name: string, key: SignedPrekeyValue | KemPrekeyValue): Element {
  return xml(name, { id: String(key.id), created: formatDateTime(key.created), expires: formatDateTime(key.expires), signature: base64(key.signature) }, [base64(key.publicKey)]);
}

function readSignedKey(element: Element, keyLength: number) {
  const publicKey = fixedBinaryText(element, keyLength);
  return { id: idAttr(element, 'id'), created: dateTimeAttr(element, 'created'), expires: dateTimeAttr(element, 'expires'), publicKey, signature: binaryAttr(element, 'signature', LENGTHS.ed25519Signature) };
}

/** A binary attribute's encoding and length, when the attribute is there (its absence is a schema error, found later). */
function presentAttr(element: Element, name: string, length: number): void {
  if (optionalAttr(element, name) !== undefined) binaryAttr(element, name, length);
}

/** A binary text's encoding and length, when the element holds text only (anything else is a schema error, found later). */
function presentText(element: Element, length: number): void {
  if (element.children.every((child: unknown) => typeof child === 'string')) fixedBinaryText(element, length);
}

/**
 * The first checks of a `<bundle/>`, in the order identity.verify-bundle gives: the number of
 * one-time prekeys, then the encoding and length of every binary value present, in the order of
 * the Bundle structure. The rest of the schema is read after them.
 */
function checkCountAndEncodings(element: Element): void {
  const lists = childrenNamed(element, 'prekeys', SEAL_NS);
  // @req identity.one-time-prekeys: the count before anything else, as for a device list.
  for (const list of lists) {
    const count = childrenNamed(list, 'prekey', SEAL_NS).length;
    if (count > MAX_ONE_TIME_PREKEYS) throw new SealError('length-out-of-range', `<prekeys>: expected at most ${MAX_ONE_TIME_PREKEYS} prekeys, got ${count}`);
  }
  // @req identity.verify-bundle: encodings and lengths before the rest of the schema.
  for (const identity of childrenNamed(element, 'identity', SEAL_NS)) {
    presentAttr(identity, 'signing', LENGTHS.ed25519PublicKey);
    presentAttr(identity, 'agreement', LENGTHS.x25519PublicKey);
    presentAttr(identity, 'signature', LENGTHS.ed25519Signature);
  }
  for (const [name, length] of [['signed-prekey', LENGTHS.x25519PublicKey], ['kem-prekey', LENGTHS.mlKemPublicKey]] as const) {
    for (const key of childrenNamed(element, name, SEAL_NS)) {
      presentText(key, length);
      presentAttr(key, 'signature', LENGTHS.ed25519Signature);
    }
  }
  for (const list of lists) for (const prekey of childrenNamed(list, 'prekey', SEAL_NS)) presentText(prekey, LENGTHS.x25519PublicKey);
}

/**
 * `<bundle xmlns='urn:xmpp:seal:0'>`: identity keys, signed prekey, KEM prekey, one-time prekeys.
 *
 * @see spec §identity.bundle
 */
export const BundleElement = defineElement<BundleValue>({
  name: 'bundle',
  ns: SEAL_NS,
  schema: BundleSchema,
  write: (bundle) =>
    xml('bundle', { xmlns: SEAL_NS }, [
      xml('identity', { signing: base64(bundle.identity.signingKey), agreement: base64(bundle.identity.agreementKey), signature: base64(bundle.identity.signature) }),
      signedKeyElement('signed-prekey', bundle.signedPrekey),
      signedKeyElement('kem-prekey', bundle.kemPrekey),
      xml('prekeys', {}, bundle.oneTimePrekeys.map((k) => xml('prekey', { id: String(k.id) }, [base64(k.publicKey)]))),
    ]),
  read: (element) => {
    checkCountAndEncodings(element);
    const known = new Set(['identity', 'signed-prekey', 'kem-prekey', 'prekeys']);
    // @req encoding.xml-namespaces: a child is known by local name and namespace.
    for (const child of childElements(element)) if (!known.has(child.getName()) || child.getNS() !== SEAL_NS) throw new SealError('schema-violation', `<bundle>: unexpected child <${child.name}/>`);
    const identity = only(element, 'identity');
    const prekeys = childElements(only(element, 'prekeys'));
    return {
      identity: {
        signingKey: binaryAttr(identity, 'signing', LENGTHS.ed25519PublicKey),
        agreementKey: binaryAttr(identity, 'agreement', LENGTHS.x25519PublicKey),
        signature: binaryAttr(identity, 'signature', LENGTHS.ed25519Signature),
      },
      signedPrekey: readSignedKey(only(element, 'signed-prekey'), LENGTHS.x25519PublicKey),
      kemPrekey: readSignedKey(only(element, 'kem-prekey'), LENGTHS.mlKemPublicKey),
      oneTimePrekeys: prekeys.map((prekey) => {
        if (!isNamed(prekey, 'prekey', SEAL_NS)) throw new SealError('schema-violation', `<prekeys>: unexpected child <${prekey.name}/>`);
        return { id: idAttr(prekey, 'id'), publicKey: fixedBinaryText(prekey, LENGTHS.x25519PublicKey) };
      }),
    };
  },
});
