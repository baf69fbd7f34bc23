/**
 * A native {@link CurveProvider} for Node: X25519 and Ed25519 through `node:crypto` (OpenSSL),
 * which is synchronous and several times faster than pure JavaScript. Node only: it lives
 * outside the browser-safe core and is not exported by the package's main entry. The browser's
 * `crypto.subtle` cannot back a provider, because it only returns Promises and Seal's API is
 * synchronous.
 *
 * Install it once at start-up:
 *
 * ```ts
 * import { useCurveProvider } from 'xmpp-seal';
 * import { nodeCurveProvider } from 'xmpp-seal/native/node'; // src/native/node.ts
 * useCurveProvider(nodeCurveProvider);
 * ```
 *
 * OpenSSL checks the cofactorless Ed25519 equation; Seal's wrapper makes every verdict the
 * cofactored one of the spec (see `ed25519Verify`), and checks the encodings itself first.
 *
 * @see spec §impl
 * @see spec §suite.agreement
 * @see spec §suite.signature
 * @module
 */
import { type KeyObject, createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, createSecretKey, diffieHellman, sign, verify } from 'node:crypto';
import type { FileCipherProvider } from '../files/cipher.js';
import type { CurveProvider } from '../suite/provider.js';

type Curve = 'X25519' | 'Ed25519';

/** DER prefixes of PKCS #8 private keys (RFC 8410 §7): the 32 raw bytes follow. */
const PKCS8_PREFIX: Record<Curve, Buffer> = {
  X25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
  Ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
};

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** A placeholder `x` for a JWK private key; Node derives the real public key from `d`. */
const PLACEHOLDER_X = base64url(new Uint8Array(32));

function privateFromPkcs8(curve: Curve, secretKey: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX[curve], secretKey]), format: 'der', type: 'pkcs8' });
}

function privateFromJwk(curve: Curve, secretKey: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: curve, d: base64url(secretKey), x: PLACEHOLDER_X }, format: 'jwk' });
}

/**
 * Whether a JWK import with a placeholder `x` gives the same key as the PKCS #8 import, which
 * carries no public key. On the Node versions Seal supports it does (OpenSSL derives the public
 * key from `d`), and the JWK path is about ten times faster than OpenSSL 3's DER decoders. Decided
 * once, on a fixed key, by comparing the derived public keys and a signature; a Node that used or
 * rejected the given `x` falls back to PKCS #8. A key whose public half did not match its secret
 * would make signatures over the same message under two public keys reveal the secret.
 */
let jwkDerivesPublicKey: boolean | undefined;

function jwkIsSafe(): boolean {
  if (jwkDerivesPublicKey === undefined) {
    try {
      const seed = new Uint8Array(32).fill(7);
      const message = new Uint8Array([1, 2, 3]);
      const viaDer = privateFromPkcs8('Ed25519', seed);
      const viaJwk = privateFromJwk('Ed25519', seed);
      const x = (key: KeyObject) => createPublicKey(key).export({ format: 'jwk' }).x;
      const xDer = privateFromPkcs8('X25519', seed);
      const xJwk = privateFromJwk('X25519', seed);
      jwkDerivesPublicKey = x(viaDer) === x(viaJwk) && x(viaJwk) !== PLACEHOLDER_X && sign(null, message, viaDer).equals(sign(null, message, viaJwk)) && x(xDer) === x(xJwk) && x(xJwk) !== PLACEHOLDER_X;
    } catch {
      jwkDerivesPublicKey = false;
    }
  }
  return jwkDerivesPublicKey;
}

function privateKey(curve: Curve, secretKey: Uint8Array): KeyObject {
  return jwkIsSafe() ? privateFromJwk(curve, secretKey) : privateFromPkcs8(curve, secretKey);
}

function publicKey(curve: Curve, bytes: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: curve, x: base64url(bytes) }, format: 'jwk' });
}

function publicKeyOf(curve: Curve, secretKey: Uint8Array): Uint8Array {
  const x = createPublicKey(privateKey(curve, secretKey)).export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new Error(`${curve}: no public key`);
  return plain(Buffer.from(x, 'base64url'));
}

/**
 * X25519 and Ed25519 on Node's OpenSSL (`crypto.diffieHellman`, `crypto.sign` and
 * `crypto.verify` with the `null` algorithm, which is pure Ed25519). Same keys, shared secrets and
 * signatures as noble; its Ed25519 verification checks the cofactorless equation, which Seal's
 * wrapper accounts for. Returns plain `Uint8Array`s (never Node `Buffer`s).
 *
 * @see spec §impl
 * @example
 * ```ts
 * const previous = useCurveProvider(nodeCurveProvider);
 * ```
 */
export const nodeCurveProvider: CurveProvider = Object.freeze({
  name: 'node',
  ed25519Equation: 'cofactorless',
  x25519: (secretKey: Uint8Array, peer: Uint8Array) => plain(diffieHellman({ privateKey: privateKey('X25519', secretKey), publicKey: publicKey('X25519', peer) })),
  x25519PublicKey: (secretKey: Uint8Array) => publicKeyOf('X25519', secretKey),
  ed25519PublicKey: (secretKey: Uint8Array) => publicKeyOf('Ed25519', secretKey),
  ed25519Sign: (secretKey: Uint8Array, message: Uint8Array) => plain(sign(null, message, privateKey('Ed25519', secretKey))),
  ed25519Verify: (signature: Uint8Array, message: Uint8Array, key: Uint8Array) => verify(null, message, publicKey('Ed25519', key), signature),
} as const);

/**
 * AES-256-GCM for files through `node:crypto` (OpenSSL, with AES-NI where the CPU has it): a
 * {@link FileCipherProvider} for `xmpp-seal/files`' stream cipher and `aesgcm://` links.
 *
 * @see spec §impl.providers
 * @see spec §files.cipher
 */
export const nodeFileCipher: FileCipherProvider = {
  name: 'node',
  async importKey(key) {
    const secret = createSecretKey(Buffer.from(key));
    return {
      async seal(nonce, plaintext) {
        const cipher = createCipheriv('aes-256-gcm', secret, nonce);
        const body = cipher.update(plaintext);
        const final = cipher.final();
        const tag = cipher.getAuthTag();
        const out = new Uint8Array(body.length + final.length + tag.length);
        out.set(body, 0);
        out.set(final, body.length);
        out.set(tag, body.length + final.length);
        return out;
      },
      async open(nonce, ciphertext) {
        if (ciphertext.length < 16) throw new Error('ciphertext shorter than the tag');
        const decipher = createDecipheriv('aes-256-gcm', secret, nonce);
        decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
        const body = decipher.update(ciphertext.subarray(0, ciphertext.length - 16));
        const final = decipher.final();
        const out = new Uint8Array(body.length + final.length);
        out.set(body, 0);
        out.set(final, body.length);
        return out;
      },
    };
  },
};
