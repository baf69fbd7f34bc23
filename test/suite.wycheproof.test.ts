/**
 * §suite against every Wycheproof vector for its primitives, run through Seal's own wrappers
 * (not through noble directly). Files come from SEAL_SHARED_DATA (default ../shared/data) and
 * are never copied into the repository.
 *
 * Rule for Wycheproof "acceptable" results (spec §suite.agreement): X25519 cases flagged
 * ZeroSharedSecret are rejected with `zero-shared-secret`; every other acceptable case (twist
 * points, non-canonical u) is accepted and must produce the expected shared secret.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/index.js';
import {
  MlKemSecretKey,
  SymmetricKey,
  X25519SecretKey,
  aeadOpen,
  checkX25519PublicKey,
  aeadSeal,
  constantTimeEqual,
  ed25519Verify,
  hkdfSha256,
  hmacSha256,
  mlKemDecapsulate,
  mlKemEncapsulate,
  mlKemKeyPairFromSeed,
  mlKemPublicKey,
  x25519,
} from '../src/suite/index.js';
import { codeOf } from './support/errors.js';
import { type WycheproofGroup, type WycheproofTest, wycheproofCases, wycheproofMissing } from './support/wycheproof.js';


const counts = new Map<string, number>();
const skipped = wycheproofMissing();


/** Runs every test of a file; `check` throws (an expect failure) when a case disagrees. */
function runFile(name: string, check: (test: WycheproofTest, group: WycheproofGroup) => void): void {
  let ran = 0;
  for (const { test, group } of wycheproofCases(name)) {
    try {
      check(test, group);
    } catch (e) {
      throw new Error(`${name} tcId ${test.tcId} (${test.result}, ${test.comment ?? ''}): ${e instanceof Error ? e.message : String(e)}`);
    }
    ran++;
  }
  counts.set(name, ran);
}

const hex = (test: WycheproofTest, field: string): Uint8Array => fromHex(test[field] as string, field);

/** Asserts that `run` throws a SealError with one of the given codes. */
function rejects(run: () => unknown, ...codes: string[]): void {
  const code = codeOf(run);
  if (!codes.includes(code)) throw new Error(`expected SealError ${codes.join('|')}, got ${code}`);
}

describe.skipIf(skipped !== undefined)('Wycheproof through Seal\'s suite wrappers', () => {
  afterAll(() => {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(['Wycheproof vectors run through src/suite:', ...[...counts].map(([f, n]) => `  ${f.padEnd(42)} ${n}`), `  ${'total'.padEnd(42)} ${total}`].join('\n'));
  });

  it('x25519_test.json: valid accepted; zero shared secret rejected; other acceptable accepted', () => {
    // @req suite.x25519-zero
    runFile('x25519_test.json', (test) => {
      const secretKey = new X25519SecretKey(hex(test, 'private'));
      const expected = test.shared as string;
      if (test.flags?.includes('ZeroSharedSecret')) {
        expect(expected).toMatch(/^0+$/);
        rejects(() => x25519(secretKey, hex(test, 'public')), 'zero-shared-secret');
        // @req identity.key-check: a published key that would give this is rejected up front.
        rejects(() => checkX25519PublicKey(hex(test, 'public')), 'invalid-key');
        return;
      }
      expect(test.result).not.toBe('invalid');
      expect(toHex(x25519(secretKey, hex(test, 'public')).dangerouslyExposeBytes())).toBe(expected);
    });
  });

  it('ed25519_test.json: strict RFC 8032 verification', () => {
    // @req suite.ed25519-strict
    runFile('ed25519_test.json', (test, group) => {
      const publicKey = fromHex((group.publicKey as { pk: string }).pk);
      expect(ed25519Verify(publicKey, hex(test, 'msg'), hex(test, 'sig'))).toBe(test.result === 'valid');
    });
  });

  it('chacha20_poly1305_test.json: seal and open; 12-byte nonces only', () => {
    // @req suite.aead-reject
    runFile('chacha20_poly1305_test.json', (test) => {
      const key = new SymmetricKey(hex(test, 'key'));
      const nonce = hex(test, 'iv');
      const aad = hex(test, 'aad');
      const sealed = new Uint8Array([...hex(test, 'ct'), ...hex(test, 'tag')]);
      if (nonce.length !== 12) {
        expect(test.result).toBe('invalid');
        rejects(() => aeadOpen(key, nonce, sealed, aad), 'invalid-length');
        rejects(() => aeadSeal(key, nonce, hex(test, 'msg'), aad), 'invalid-length');
        return;
      }
      if (test.result === 'valid') {
        expect(toHex(aeadSeal(key, nonce, hex(test, 'msg'), aad))).toBe(toHex(sealed));
        expect(toHex(aeadOpen(key, nonce, sealed, aad))).toBe(test.msg);
      } else {
        rejects(() => aeadOpen(key, nonce, sealed, aad), 'authentication-failed');
      }
    });
  });

  it('hkdf_sha256_test.json: output and the 255 × 32 byte limit', () => {
    runFile('hkdf_sha256_test.json', (test) => {
      const run = () => hkdfSha256(hex(test, 'ikm'), hex(test, 'salt'), hex(test, 'info'), test.size as number);
      if (test.result === 'valid') expect(toHex(run())).toBe(test.okm);
      else rejects(run, 'invalid-length');
    });
  });

  it('hmac_sha256_test.json: full tag, truncated tags compared on their prefix', () => {
    // @req suite.constant-time
    runFile('hmac_sha256_test.json', (test, group) => {
      const tagBytes = (group.tagSize as number) / 8;
      const tag = hmacSha256(hex(test, 'key'), hex(test, 'msg')).slice(0, tagBytes);
      expect(constantTimeEqual(tag, hex(test, 'tag'))).toBe(test.result === 'valid');
    });
  });

  it('mlkem_768_test.json: key generation from seed, decapsulation, length checks', () => {
    runFile('mlkem_768_test.json', (test) => {
      const seed = hex(test, 'seed');
      const ciphertext = hex(test, 'c');
      if (test.result === 'invalid') {
        rejects(() => mlKemDecapsulate(mlKemKeyPairFromSeed(seed).secretKey, ciphertext), 'invalid-length');
        return;
      }
      const { secretKey, publicKey } = mlKemKeyPairFromSeed(seed);
      expect(toHex(publicKey)).toBe(test.ek);
      expect(toHex(mlKemDecapsulate(secretKey, ciphertext).dangerouslyExposeBytes())).toBe(test.K);
    });
  });

  it('mlkem_768_keygen_seed_test.json: encapsulation and decapsulation keys from seed', () => {
    runFile('mlkem_768_keygen_seed_test.json', (test) => {
      const { secretKey, publicKey } = mlKemKeyPairFromSeed(hex(test, 'seed'));
      expect(toHex(publicKey)).toBe(test.ek);
      expect(toHex(secretKey.dangerouslyExposeBytes())).toBe(test.dk);
    });
  });

  it('mlkem_768_encaps_test.json: encapsulation with the FIPS 203 §7.2 key check', () => {
    // @req suite.kem-key-check
    runFile('mlkem_768_encaps_test.json', (test) => {
      const m = hex(test, 'm');
      const run = () => mlKemEncapsulate(hex(test, 'ek'), () => m);
      // The published-key check (bundles) decides exactly as encapsulation does.
      expect(codeOf(() => mlKemPublicKey(hex(test, 'ek')))).toBe(codeOf(run) === 'ok' ? 'ok' : codeOf(run));
      if (test.result === 'invalid') {
        rejects(run, 'invalid-key', 'invalid-length');
        return;
      }
      const { ciphertext, sharedSecret } = run();
      expect(toHex(ciphertext)).toBe(test.c);
      expect(toHex(sharedSecret.dangerouslyExposeBytes())).toBe(test.K);
    });
  });

  it('mlkem_768_semi_expanded_decaps_test.json: decapsulation with the FIPS 203 §7.3 checks', () => {
    runFile('mlkem_768_semi_expanded_decaps_test.json', (test) => {
      const dk = hex(test, 'dk');
      const run = () => mlKemDecapsulate(new MlKemSecretKey(dk), hex(test, 'c'));
      if (test.result === 'invalid') rejects(run, 'invalid-key', 'invalid-length');
      else expect(toHex(run().dangerouslyExposeBytes())).toBe(test.K);
    });
  });

  it('ran all nine files, every vector in each', () => {
    expect(counts.size).toBe(9);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(1800);
  });
});
