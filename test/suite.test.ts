/**
 * §suite: labels and domain separation, strict signatures, X25519 zero check, AEAD failure
 * behaviour, randomness injection, and secrets that never print.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { codeOf } from './support/errors.js';
import { malleateSignature } from '../src/vectors/suite.js';
import { encode, toHex, utf8Encode } from '../src/codec/index.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import {
  KdfInfo,
  LabeledContent,
  macsWithLabels,
  LABEL_PREFIX,
  SUITE_ID,
  SymmetricKey,
  X25519SecretKey,
  aeadOpen,
  aeadSeal,
  deriveKey,
  ed25519Sign,
  ed25519Verify,
  generateEd25519KeyPair,
  generateMlKemKeyPair,
  generateX25519KeyPair,
  labelBytes,
  labeledContent,
  macWithLabel,
  mlKemDecapsulate,
  mlKemEncapsulate,
  mlKemPublicKey,
  seededRng,
  signWithLabel,
  systemRng,
  verifyWithLabel,
  x25519,
} from '../src/suite/index.js';


describe('§suite', () => {
  it('names the one suite and the label prefix', () => {
    expect(SUITE_ID).toBe('Seal-v0-X25519-MLKEM768-ChaCha20Poly1305-SHA256');
    expect(LABEL_PREFIX).toBe('Seal-v0 ');
  });

  it('prefixes every label with "Seal-v0 " and rejects bad labels', () => {
    // @req suite.labels-prefix
    expect(new TextDecoder().decode(labelBytes('root'))).toBe('Seal-v0 root');
    expect(codeOf(() => labelBytes(''))).toBe('invalid-value');
    expect(codeOf(() => labelBytes(' leading space'))).toBe('invalid-value');
    expect(codeOf(() => labelBytes('ümlaut'))).toBe('invalid-value');
    expect(codeOf(() => labelBytes('x'.repeat(201)))).toBe('invalid-value');
    expect(toHex(labeledContent('ab', new Uint8Array([7])))).toBe(`0a${toHex(utf8Encode('Seal-v0 ab'))}0000000107`);
  });

  it('KDF outputs differ by label, context and length (domain separation)', () => {
    // @req suite.labels-kdf
    const ikm = new Uint8Array(32).fill(1);
    const a = toHex(deriveKey({ label: 'a', ikm, length: 32 }));
    expect(toHex(deriveKey({ label: 'b', ikm, length: 32 }))).not.toBe(a);
    expect(toHex(deriveKey({ label: 'a', ikm, context: new Uint8Array([0]), length: 32 }))).not.toBe(a);
    expect(toHex(deriveKey({ label: 'a', ikm, length: 64 })).slice(0, 64)).not.toBe(a);
    expect(codeOf(() => deriveKey({ label: 'a', ikm, length: 0 }))).toBe('invalid-length');
    expect(codeOf(() => deriveKey({ label: 'a', ikm, length: 8161 }))).toBe('invalid-length');
  });

  it('labelled MACs differ by label', () => {
    // @req suite.labels-mac
    const key = new SymmetricKey(new Uint8Array(32).fill(2));
    expect(toHex(macWithLabel(key, 'one', new Uint8Array()))).not.toBe(toHex(macWithLabel(key, 'two', new Uint8Array())));
  });

  it('labelled signatures do not verify under another label or as plain signatures', () => {
    // @req suite.labels-signature
    const { secretKey, publicKey } = generateEd25519KeyPair(seededRng('sig'));
    const content = utf8Encode('content');
    const signature = signWithLabel(secretKey, 'one', content);
    expect(verifyWithLabel(publicKey, 'one', content, signature)).toBe(true);
    expect(verifyWithLabel(publicKey, 'two', content, signature)).toBe(false);
    expect(ed25519Verify(publicKey, content, signature)).toBe(false);
  });

  it('verifies strictly: a signature with S + L is rejected', () => {
    // @req suite.ed25519-strict
    const { secretKey, publicKey } = generateEd25519KeyPair(seededRng('strict'));
    const message = utf8Encode('m');
    const signature = ed25519Sign(secretKey, message);
    expect(ed25519Verify(publicKey, message, signature)).toBe(true);
    // S' = S + L is the same scalar mod L; RFC 8032 §5.1.7 requires S < L.
    expect(ed25519Verify(publicKey, message, malleateSignature(signature))).toBe(false);
    expect(ed25519Verify(publicKey, message, signature.slice(0, 63))).toBe(false);
  });

  it('rejects the all-zero X25519 shared secret', () => {
    // @req suite.x25519-zero
    const { secretKey } = generateX25519KeyPair(seededRng('x'));
    expect(codeOf(() => x25519(secretKey, new Uint8Array(32)))).toBe('zero-shared-secret');
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(codeOf(() => x25519(secretKey, one))).toBe('zero-shared-secret');
    expect(codeOf(() => x25519(secretKey, new Uint8Array(31)))).toBe('invalid-length');
  });

  it('agrees on X25519 and ML-KEM-768 shared secrets', () => {
    const rng = seededRng('agree');
    const a = generateX25519KeyPair(rng);
    const b = generateX25519KeyPair(rng);
    expect(toHex(x25519(a.secretKey, b.publicKey).dangerouslyExposeBytes())).toBe(toHex(x25519(b.secretKey, a.publicKey).dangerouslyExposeBytes()));
    const kem = generateMlKemKeyPair(rng);
    const { ciphertext, sharedSecret } = mlKemEncapsulate(mlKemPublicKey(kem.publicKey), rng);
    expect(toHex(mlKemDecapsulate(kem.secretKey, ciphertext).dangerouslyExposeBytes())).toBe(toHex(sharedSecret.dangerouslyExposeBytes()));
  });

  it('AEAD failures all look alike and release nothing', () => {
    // @req suite.aead-reject
    const key = new SymmetricKey(new Uint8Array(32).fill(3));
    const nonce = new Uint8Array(12);
    const sealed = aeadSeal(key, nonce, utf8Encode('hello'), utf8Encode('ad'));
    expect(new TextDecoder().decode(aeadOpen(key, nonce, sealed, utf8Encode('ad')))).toBe('hello');
    const tampered = sealed.slice();
    tampered[0]! ^= 1;
    expect(codeOf(() => aeadOpen(key, nonce, tampered, utf8Encode('ad')))).toBe('authentication-failed');
    expect(codeOf(() => aeadOpen(key, nonce, sealed, utf8Encode('other')))).toBe('authentication-failed');
    expect(codeOf(() => aeadOpen(key, nonce, sealed.slice(0, 15), utf8Encode('ad')))).toBe('authentication-failed');
    expect(codeOf(() => aeadOpen(key, new Uint8Array(24), sealed, utf8Encode('ad')))).toBe('invalid-length');
  });

  it('takes randomness only from the injected Rng', () => {
    // @req suite.randomness
    expect(toHex(generateX25519KeyPair(seededRng('s')).publicKey)).toBe(toHex(generateX25519KeyPair(seededRng('s')).publicKey));
    expect(toHex(generateX25519KeyPair(seededRng('s')).publicKey)).not.toBe(toHex(generateX25519KeyPair(seededRng('t')).publicKey));
    const requested: number[] = [];
    const counting = (n: number) => {
      requested.push(n);
      return systemRng(n);
    };
    generateMlKemKeyPair(counting);
    generateEd25519KeyPair(counting);
    expect(requested).toEqual([64, 32]);
    expect(systemRng(70000).length).toBe(70000);
    const stream = seededRng('split');
    const whole = seededRng('split')(100);
    expect(toHex(new Uint8Array([...stream(10), ...stream(90)]))).toBe(toHex(whole));
  });

  it('never prints a secret', () => {
    const key = new X25519SecretKey(new Uint8Array(32).fill(0xab));
    const shown = [String(key), JSON.stringify({ key }), inspect(key), inspect({ nested: key }), `${key}`];
    for (const text of shown) expect(text).not.toMatch(/ab|171/);
    expect(String(key)).toBe('X25519SecretKey(<secret>)');
  });

  it('builds LabeledContent and KdfInfo directly with exactly the codecs\' bytes', () => {
    // labeledContent and deriveKey assemble these structures without the codec (they run on every
    // message); the codecs stay the definition.
    const rng = seededRng('fast paths');
    for (const label of ['a', 'ratchet chain key', 'x'.repeat(200), '~ printable ASCII !']) {
      for (const size of [0, 1, 31, 32, 300]) {
        const content = rng(size);
        expect(toHex(labeledContent(label, content))).toBe(toHex(encode(LabeledContent, { label: labelBytes(label), content })));
        for (const length of [1, 32, 44, 64, 8160]) {
          const ikm = rng(32);
          const info = encode(KdfInfo, { length, label: labelBytes(label), context: content });
          expect(toHex(deriveKey({ label, ikm, context: content, length }))).toBe(toHex(hkdf(nobleSha256, ikm, new Uint8Array(0), info, length)));
          const salt = rng(32);
          expect(toHex(deriveKey({ label, ikm, salt, context: content, length }))).toBe(toHex(hkdf(nobleSha256, ikm, salt, info, length)));
        }
      }
    }
    // The cached label is not shared with callers.
    const bytes = labelBytes('root');
    bytes[0] = 0;
    expect(new TextDecoder().decode(labelBytes('root'))).toBe('Seal-v0 root');
  });

  it('macsWithLabels equals macWithLabel per label', () => {
    // @req suite.labels-mac
    const key = new SymmetricKey(seededRng('macs')(32));
    const message = utf8Encode('message');
    const labels = ['one', 'two', 'one'];
    expect(macsWithLabels(key, labels, message).map(toHex)).toEqual(labels.map((label) => toHex(macWithLabel(key, label, message))));
    expect(toHex(macWithLabel(key, 'one', message))).toBe(toHex(hmac(nobleSha256, key.dangerouslyExposeBytes(), labeledContent('one', message))));
    expect(codeOf(() => macsWithLabels(key, ['ok', ''], message))).toBe('invalid-value');
  });

  it('checks an ML-KEM-768 key\'s coefficients against q without encapsulating, as encapsulation does', () => {
    // @req suite.kem-key-check
    const { publicKey } = generateMlKemKeyPair(seededRng('modulus'));
    const withCoefficient = (index: number, value: number) => {
      const key = publicKey.slice();
      const at = Math.floor(index / 2) * 3;
      if (index % 2 === 0) {
        key[at] = value & 0xff;
        key[at + 1] = (key[at + 1]! & 0xf0) | (value >> 8);
      } else {
        key[at + 1] = (key[at + 1]! & 0x0f) | ((value & 0x0f) << 4);
        key[at + 2] = value >> 4;
      }
      return key;
    };
    for (const index of [0, 1, 300, 767]) {
      for (const value of [0, 3328, 3329, 4095]) {
        const key = withCoefficient(index, value);
        const expected = codeOf(() => mlKemEncapsulate(key, seededRng('m')));
        expect(expected).toBe(value < 3329 ? 'ok' : 'invalid-key');
        expect(codeOf(() => mlKemPublicKey(key)), `coefficient ${index} = ${value}`).toBe(expected);
      }
    }
  });
});
