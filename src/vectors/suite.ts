/**
 * `vectors/suite.json`: the labelled KDF, labelled MAC, labelled signatures, AEAD and X25519 as
 * Seal uses them, with Seal's labels, positive and negative.
 *
 * @see spec §suite
 * @module
 */
import * as z from 'zod/mini';
import { fromHex, toHex, utf8Encode } from '../codec/bytes.js';
import {
  Ed25519SecretKey,
  SymmetricKey,
  X25519SecretKey,
  aeadOpen,
  aeadSeal,
  assertSignedWithLabel,
  deriveKey,
  ed25519PublicKeyOf,
  ed25519Sign,
  generateEd25519KeyPair,
  generateX25519KeyPair,
  labeledContent,
  macWithLabel,
  seededRng,
  signWithLabel,
  x25519,
} from '../suite/index.js';
import { Hex } from './format.js';
import type { Fields, GroupKind, VectorKind } from './kind.js';

const rng = () => seededRng('vectors/suite.json');
const hex = (inputs: Fields, field: string): Uint8Array => fromHex(inputs[field] as string, field);

const labeledKdf: GroupKind = {
  type: 'LabeledKdf',
  description: 'deriveKey: HKDF-SHA-256(salt, ikm, KdfInfo(length, "Seal-v0 " || label, context), length)',
  inputs: z.strictObject({ label: z.string(), ikm: Hex, salt: Hex, context: Hex, length: z.int() }),
  outputs: z.strictObject({ okm: Hex }),
  operation: (i) => ({ okm: toHex(deriveKey({ label: i.label as string, ikm: hex(i, 'ikm'), salt: hex(i, 'salt'), context: hex(i, 'context'), length: i.length as number })) }),
  cases: () => {
    const r = rng();
    const ikm = toHex(r(32));
    const salt = toHex(r(32));
    return [
      { comment: '32-byte output, empty salt and context', inputs: { label: 'example', ikm, salt: '', context: '', length: 32 } },
      { comment: 'same ikm, other label: independent output', inputs: { label: 'example other', ikm, salt: '', context: '', length: 32 } },
      { comment: 'salt and context', inputs: { label: 'example', ikm, salt, context: toHex(utf8Encode('context')), length: 32 } },
      { comment: '64-byte output is not an extension of the 32-byte one', inputs: { label: 'example', ikm, salt: '', context: '', length: 64 } },
      { comment: 'largest output', inputs: { label: 'example', ikm, salt: '', context: '', length: 8160 } },
      { comment: 'zero length', flags: ['InvalidLength'], inputs: { label: 'example', ikm, salt: '', context: '', length: 0 } },
      { comment: 'longer than 255 hash outputs', flags: ['InvalidLength'], inputs: { label: 'example', ikm, salt: '', context: '', length: 8161 } },
      { comment: 'empty label', flags: ['InvalidLabel'], inputs: { label: '', ikm, salt: '', context: '', length: 32 } },
      { comment: 'non-ASCII label', flags: ['InvalidLabel'], inputs: { label: 'exämple', ikm, salt: '', context: '', length: 32 } },
    ];
  },
};

const labeledMac: GroupKind = {
  type: 'LabeledMac',
  description: 'macWithLabel: HMAC-SHA-256(key, LabeledContent("Seal-v0 " || label, message))',
  inputs: z.strictObject({ key: Hex, label: z.string(), message: Hex }),
  outputs: z.strictObject({ mac: Hex }),
  operation: (i) => ({ mac: toHex(macWithLabel(new SymmetricKey(hex(i, 'key')), i.label as string, hex(i, 'message'))) }),
  cases: () => {
    const r = rng();
    const key = toHex(r(32));
    return [
      { comment: 'empty message', inputs: { key, label: 'example', message: '' } },
      { comment: 'message', inputs: { key, label: 'example', message: toHex(r(100)) } },
      { comment: 'key of 31 bytes', flags: ['InvalidLength'], inputs: { key: key.slice(2), label: 'example', message: '' } },
    ];
  },
};

const labeledContentGroup: GroupKind = {
  type: 'LabeledContent',
  description: 'the bytes a labelled signature or MAC covers: struct { opaque label<9..255>; opaque content<0..2^32-1>; }',
  inputs: z.strictObject({ label: z.string(), content: Hex }),
  outputs: z.strictObject({ encoded: Hex }),
  operation: (i) => ({ encoded: toHex(labeledContent(i.label as string, hex(i, 'content'))) }),
  cases: () => [
    { comment: 'empty content', inputs: { label: 'example', content: '' } },
    { comment: 'three bytes of content', inputs: { label: 'example', content: '010203' } },
    { comment: 'longest label (200 characters)', inputs: { label: 'x'.repeat(200), content: '' } },
    { comment: 'label of 201 characters', flags: ['InvalidLabel'], inputs: { label: 'x'.repeat(201), content: '' } },
  ],
};

const labeledSign: GroupKind = {
  type: 'LabeledSign',
  description: 'signWithLabel: Ed25519 (RFC 8032, deterministic) over LabeledContent("Seal-v0 " || label, content)',
  inputs: z.strictObject({ secretKey: Hex, label: z.string(), content: Hex }),
  outputs: z.strictObject({ publicKey: Hex, signature: Hex }),
  operation: (i) => {
    const secretKey = new Ed25519SecretKey(hex(i, 'secretKey'));
    return { publicKey: toHex(ed25519PublicKeyOf(secretKey)), signature: toHex(signWithLabel(secretKey, i.label as string, hex(i, 'content'))) };
  },
  cases: () => {
    const r = rng();
    const secretKey = toHex(generateEd25519KeyPair(r).secretKey.dangerouslyExposeBytes());
    return [
      { comment: 'empty content', inputs: { secretKey, label: 'example', content: '' } },
      { comment: 'content', inputs: { secretKey, label: 'example', content: toHex(utf8Encode('Seal')) } },
    ];
  },
};

/**
 * The signature with S replaced by S + L: the same scalar modulo L, which ZIP-215 accepts and
 * strict verification (§suite.signature) must reject.
 */
export function malleateSignature(signature: Uint8Array): Uint8Array {
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(signature[32 + i]!);
  const t = s + L;
  const out = signature.slice();
  for (let i = 0; i < 32; i++) out[32 + i] = Number((t >> BigInt(8 * i)) & 0xffn);
  return out;
}

const labeledVerify: GroupKind = {
  type: 'LabeledVerify',
  description: 'verifyWithLabel with strict RFC 8032 verification; every failure is authentication-failed',
  inputs: z.strictObject({ publicKey: Hex, label: z.string(), content: Hex, signature: Hex }),
  outputs: z.strictObject({}),
  operation: (i) => {
    assertSignedWithLabel(hex(i, 'publicKey'), i.label as string, hex(i, 'content'), hex(i, 'signature'));
    return {};
  },
  cases: () => {
    const r = rng();
    r(32); // the key of LabeledSign
    const { secretKey, publicKey } = generateEd25519KeyPair(r);
    const content = utf8Encode('Seal');
    const signature = signWithLabel(secretKey, 'example', content);
    const base = { publicKey: toHex(publicKey), label: 'example', content: toHex(content) };
    return [
      { comment: 'valid', inputs: { ...base, signature: toHex(signature) } },
      { comment: 'other label', flags: ['WrongLabel'], inputs: { ...base, label: 'example other', signature: toHex(signature) } },
      { comment: 'plain Ed25519 signature of the content, without the label', flags: ['WrongLabel'], inputs: { ...base, signature: toHex(ed25519Sign(secretKey, content)) } },
      { comment: 'S replaced by S + L (ZIP-215 would accept)', flags: ['NonCanonicalS'], inputs: { ...base, signature: toHex(malleateSignature(signature)) } },
      { comment: 'signature truncated to 63 bytes', flags: ['InvalidLength'], inputs: { ...base, signature: toHex(signature.slice(0, 63)) } },
      { comment: 'content changed', flags: ['ModifiedContent'], inputs: { ...base, content: toHex(utf8Encode('Seal!')), signature: toHex(signature) } },
    ];
  },
};

const aead: GroupKind = {
  type: 'AeadSeal',
  description: 'ChaCha20-Poly1305 (RFC 8439): sealed = ciphertext || 16-byte tag',
  inputs: z.strictObject({ key: Hex, nonce: Hex, plaintext: Hex, associatedData: Hex }),
  outputs: z.strictObject({ sealed: Hex }),
  operation: (i) => ({ sealed: toHex(aeadSeal(new SymmetricKey(hex(i, 'key')), hex(i, 'nonce'), hex(i, 'plaintext'), hex(i, 'associatedData'))) }),
  cases: () => {
    const r = rng();
    const key = toHex(r(32));
    return [
      { comment: 'empty plaintext and associated data', inputs: { key, nonce: toHex(r(12)), plaintext: '', associatedData: '' } },
      { comment: 'plaintext with associated data', inputs: { key, nonce: toHex(r(12)), plaintext: toHex(utf8Encode('<body>hi</body>')), associatedData: toHex(utf8Encode('Seal-v0 example')) } },
      { comment: '24-byte nonce (XChaCha) is not this suite', flags: ['InvalidNonceSize'], inputs: { key, nonce: toHex(r(24)), plaintext: '', associatedData: '' } },
    ];
  },
};

const aeadOpenGroup: GroupKind = {
  type: 'AeadOpen',
  description: 'ChaCha20-Poly1305 open; any tag, ciphertext or associated-data mismatch is authentication-failed',
  inputs: z.strictObject({ key: Hex, nonce: Hex, sealed: Hex, associatedData: Hex }),
  outputs: z.strictObject({ plaintext: Hex }),
  operation: (i) => ({ plaintext: toHex(aeadOpen(new SymmetricKey(hex(i, 'key')), hex(i, 'nonce'), hex(i, 'sealed'), hex(i, 'associatedData'))) }),
  cases: () => {
    const r = rng();
    const keyBytes = r(32);
    const nonce = r(12);
    const ad = utf8Encode('Seal-v0 example');
    const sealed = aeadSeal(new SymmetricKey(keyBytes), nonce, utf8Encode('<body>hi</body>'), ad);
    const flipped = sealed.slice();
    flipped[sealed.length - 1]! ^= 0x80;
    const base = { key: toHex(keyBytes), nonce: toHex(nonce), associatedData: toHex(ad) };
    return [
      { comment: 'valid', inputs: { ...base, sealed: toHex(sealed) } },
      { comment: 'tag bit flipped', flags: ['ModifiedTag'], inputs: { ...base, sealed: toHex(flipped) } },
      { comment: 'other associated data', flags: ['ModifiedAssociatedData'], inputs: { ...base, associatedData: '', sealed: toHex(sealed) } },
      { comment: 'shorter than a tag', flags: ['Truncated'], inputs: { ...base, sealed: toHex(sealed.slice(0, 15)) } },
    ];
  },
};

const x25519Group: GroupKind = {
  type: 'X25519',
  description: 'X25519 (RFC 7748 §5); an all-zero result is rejected (zero-shared-secret)',
  inputs: z.strictObject({ secretKey: Hex, publicKey: Hex }),
  outputs: z.strictObject({ shared: Hex }),
  operation: (i) => ({ shared: toHex(x25519(new X25519SecretKey(hex(i, 'secretKey')), hex(i, 'publicKey')).dangerouslyExposeBytes()) }),
  cases: () => {
    const r = rng();
    const a = generateX25519KeyPair(r);
    const b = generateX25519KeyPair(r);
    const secretKey = toHex(a.secretKey.dangerouslyExposeBytes());
    const p = 2n ** 255n - 19n;
    const le = (n: bigint) => toHex(Uint8Array.from({ length: 32 }, (_, k) => Number((n >> BigInt(8 * k)) & 0xffn)));
    return [
      { comment: 'valid', inputs: { secretKey, publicKey: toHex(b.publicKey) } },
      { comment: 'u = 0 (low order)', flags: ['ZeroSharedSecret'], inputs: { secretKey, publicKey: le(0n) } },
      { comment: 'u = 1 (low order)', flags: ['ZeroSharedSecret'], inputs: { secretKey, publicKey: le(1n) } },
      { comment: 'u = p (non-canonical 0)', flags: ['ZeroSharedSecret'], inputs: { secretKey, publicKey: le(p) } },
      { comment: 'u = p - 1 (order 2)', flags: ['ZeroSharedSecret'], inputs: { secretKey, publicKey: le(p - 1n) } },
      { comment: 'public key of 31 bytes', flags: ['InvalidLength'], inputs: { secretKey, publicKey: toHex(b.publicKey.slice(1)) } },
    ];
  },
};

/** The kind of `vectors/suite.json`. @see spec §suite */
export const suiteVectors: VectorKind = {
  file: 'suite.json',
  section: 'suite',
  version: 1,
  description: 'Seal-v0 suite operations as Seal uses them: labelled KDF, MAC and signatures, AEAD, X25519 with the zero check',
  groups: [labeledKdf, labeledMac, labeledContentGroup, labeledSign, labeledVerify, aead, aeadOpenGroup, x25519Group],
};
