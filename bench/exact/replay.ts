/**
 * Exact primitive replay: the calls an operation made (bench/exact/recorder.ts), made again on
 * the same primitives at the same sizes, with inputs prepared beforehand so that the replay does
 * only the primitive work. Valid inputs where validity decides the cost (a verifying signature,
 * an AEAD ciphertext whose tag checks), rejected ones where the operation's call was rejected.
 * The ratio of an operation to its replay is a true lower-bound ratio: it can only be below 1 by
 * measurement error, which the bench reports as a failure.
 *
 * @see spec §envelope.overhead
 * @module
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { expand, hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import type { CurveProvider } from '../../src/suite/index.js';
import { note, type PrimitiveCall } from './recorder.js';

const bytes = (n: number): Uint8Array => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
};

/** A curve provider that records every call into `provider` (and passes it through). */
export function instrumented(provider: CurveProvider): CurveProvider {
  const name = provider.name;
  return Object.freeze({
    name,
    ed25519Equation: provider.ed25519Equation,
    x25519: (k: Uint8Array, u: Uint8Array) => { note({ kind: 'x25519', provider: name }); return provider.x25519(k, u); },
    x25519PublicKey: (k: Uint8Array) => { note({ kind: 'x25519-public', provider: name }); return provider.x25519PublicKey(k); },
    ed25519PublicKey: (k: Uint8Array) => { note({ kind: 'ed25519-public', provider: name }); return provider.ed25519PublicKey(k); },
    ed25519Sign: (k: Uint8Array, m: Uint8Array) => { note({ kind: 'ed25519-sign', provider: name, message: m.length }); return provider.ed25519Sign(k, m); },
    ed25519Verify: (s: Uint8Array, m: Uint8Array, a: Uint8Array) => {
      let valid = false;
      try {
        valid = provider.ed25519Verify(s, m, a);
        return valid;
      } finally {
        note({ kind: 'ed25519-verify', provider: name, message: m.length, valid });
      }
    },
  });
}

/** Prepares the replay of `calls`; `providers` maps a provider name to the provider to replay curve calls on. */
export function prepareReplay(calls: readonly PrimitiveCall[], providers: Readonly<Record<string, CurveProvider>>): () => void {
  const steps: (() => unknown)[] = [];
  const provider = (n: string): CurveProvider => providers[n] ?? (() => { throw new Error(`replay: no provider ${n}`); })();
  const keyPair = ed25519.keygen();
  const point = keyPair.publicKey;
  const kem = ml_kem768.keygen(bytes(64));
  const encapsulated = ml_kem768.encapsulate(kem.publicKey, bytes(32));
  for (const c of calls) {
    switch (c.kind) {
      case 'x25519': { const p = provider(c.provider); const k = bytes(32); const u = p.x25519PublicKey(bytes(32)); steps.push(() => p.x25519(k, u)); break; }
      case 'x25519-public': { const p = provider(c.provider); const k = bytes(32); steps.push(() => p.x25519PublicKey(k)); break; }
      case 'ed25519-public': { const p = provider(c.provider); const k = bytes(32); steps.push(() => p.ed25519PublicKey(k)); break; }
      case 'ed25519-sign': { const p = provider(c.provider); const k = bytes(32); const m = bytes(c.message); steps.push(() => p.ed25519Sign(k, m)); break; }
      case 'ed25519-verify': {
        const p = provider(c.provider);
        const k = bytes(32);
        const m = bytes(c.message);
        const a = p.ed25519PublicKey(k);
        const s = p.ed25519Sign(k, m);
        if (c.valid === false) s[40] = (s[40]! + 1) & 0xff; // a valid encoding whose equation fails
        steps.push(() => { try { return p.ed25519Verify(s, m, a); } catch { return false; } });
        break;
      }
      case 'ed25519-decode': steps.push(() => ed25519.Point.fromBytes(point).isSmallOrder()); break;
      case 'mlkem-keygen': { const seed = bytes(64); steps.push(() => ml_kem768.keygen(seed)); break; }
      case 'mlkem-encapsulate': { const m = bytes(32); steps.push(() => ml_kem768.encapsulate(kem.publicKey, m)); break; }
      case 'mlkem-decapsulate': steps.push(() => ml_kem768.decapsulate(encapsulated.cipherText, kem.secretKey)); break;
      case 'sha256': { const m = bytes(c.message); steps.push(() => sha256(m)); break; }
      case 'hmac': { const k = bytes(c.key); const m = bytes(c.message); steps.push(() => hmac(sha256, k, m)); break; }
      case 'hmac-key': { const k = bytes(c.key); steps.push(() => hmac.create(sha256, k)); break; }
      case 'hmac-keyed': { const keyed = hmac.create(sha256, bytes(32)); const m = bytes(c.message); steps.push(() => keyed.clone().update(m).digest()); break; }
      case 'hkdf': { const ikm = bytes(c.ikm); const salt = bytes(c.salt); const info = bytes(c.info); steps.push(() => hkdf(sha256, ikm, salt, info, c.length)); break; }
      case 'hkdf-expand': { const prk = bytes(32); const info = bytes(c.info); steps.push(() => expand(sha256, prk, info, c.length)); break; }
      case 'aead-seal': { const k = bytes(32); const n = bytes(12); const ad = bytes(c.associatedData); const pt = bytes(c.plaintext); steps.push(() => chacha20poly1305(k, n, ad).encrypt(pt)); break; }
      case 'aead-open': {
        const k = bytes(32);
        const n = bytes(12);
        const ad = bytes(c.associatedData);
        const ct = chacha20poly1305(k, n, ad).encrypt(bytes(Math.max(0, c.ciphertext - 16)));
        if (!c.valid) ct[ct.length - 1] = ct[ct.length - 1]! ^ 1;
        steps.push(() => { try { return chacha20poly1305(k, n, ad).decrypt(ct); } catch { return undefined; } });
        break;
      }
      case 'random': { const out = new Uint8Array(c.bytes); steps.push(() => crypto.getRandomValues(out)); break; }
    }
  }
  return () => {
    for (const step of steps) step();
  };
}
