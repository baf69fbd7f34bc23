/**
 * §suite with each curve provider: the default (noble) and the native Node provider
 * (src/native/node.ts) run the same Wycheproof X25519 and Ed25519 files through Seal's wrappers
 * and verify the same vector files; with the native provider the vectors also regenerate byte for
 * byte (same keys, shared secrets and signatures). Seal's own checks decide whatever the
 * provider: a provider that accepts everything still cannot make a non-canonical, small-order or
 * S >= L signature verify, and the cofactored equation decides mixed-order signatures that
 * OpenSSL's cofactorless equation rejects.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vectorDrift } from '../src/cli/vectors.js';
import { fromHex, toHex } from '../src/codec/index.js';
import { nodeCurveProvider } from '../src/native/node.js';
import {
  type CurveProvider,
  Ed25519SecretKey,
  X25519SecretKey,
  checkEd25519PublicKey,
  curveProvider,
  ed25519PublicKeyOf,
  ed25519Sign,
  ed25519Verify,
  nobleCurveProvider,
  seededRng,
  useCurveProvider,
  x25519,
  x25519PublicKeyOf,
} from '../src/suite/index.js';
import { VECTOR_KINDS, verify } from '../src/vectors/index.js';
import { ROOT } from './support/environment.js';
import { codeOf } from './support/errors.js';
import { type WycheproofTest, wycheproofCases, wycheproofMissing } from './support/wycheproof.js';


const skipped = wycheproofMissing();

const cases = wycheproofCases;

const hex = (test: WycheproofTest, field: string): Uint8Array => fromHex(test[field] as string, field);

/** What ran with each provider, printed at the end. */
const report = new Map<string, Map<string, number>>();
function count(provider: string, what: string, n: number): void {
  if (!report.has(provider)) report.set(provider, new Map());
  report.get(provider)!.set(what, n);
}
afterAll(() => {
  const lines = ['Cases run per curve provider:'];
  for (const [provider, counts] of report) {
    lines.push(`  ${provider}`);
    for (const [what, n] of counts) lines.push(`    ${what.padEnd(48)} ${n}`);
  }
  console.log(lines.join('\n'));
});

describe.each([nobleCurveProvider, nodeCurveProvider])('with the $name curve provider', (provider) => {
  let previous: CurveProvider;
  beforeAll(() => {
    previous = useCurveProvider(provider);
  });
  afterAll(() => {
    useCurveProvider(previous);
  });

  it('is installed', () => {
    expect(curveProvider()).toBe(provider);
  });

  it.skipIf(skipped !== undefined)('x25519_test.json: valid accepted, zero shared secret rejected, other acceptable accepted', () => {
    // @req suite.x25519-zero
    let ran = 0;
    for (const { test } of cases('x25519_test.json')) {
      const secretKey = new X25519SecretKey(hex(test, 'private'));
      const where = `tcId ${test.tcId} (${test.comment ?? ''})`;
      if (test.flags?.includes('ZeroSharedSecret')) {
        expect(codeOf(() => x25519(secretKey, hex(test, 'public'))), where).toBe('zero-shared-secret');
      } else {
        expect(test.result, where).not.toBe('invalid');
        expect(toHex(x25519(secretKey, hex(test, 'public')).dangerouslyExposeBytes()), where).toBe(test.shared);
      }
      ran++;
    }
    count(provider.name, 'Wycheproof x25519_test.json', ran);
  });

  it.skipIf(skipped !== undefined)('ed25519_test.json: strict RFC 8032 verification, the same verdict as noble', () => {
    // @req suite.ed25519-strict
    let ran = 0;
    let decidedBySeal = 0;
    for (const { test, group } of cases('ed25519_test.json')) {
      const publicKey = fromHex((group.publicKey as { pk: string }).pk);
      const expected = test.result === 'valid';
      expect(ed25519Verify(publicKey, hex(test, 'msg'), hex(test, 'sig')), `tcId ${test.tcId} (${test.comment ?? ''})`).toBe(expected);
      // Cases where the provider alone would have said otherwise: Seal's checks decided.
      let raw: boolean;
      try {
        raw = provider.ed25519Verify(hex(test, 'sig'), hex(test, 'msg'), publicKey);
      } catch {
        raw = false;
      }
      if (raw !== expected) decidedBySeal++;
      ran++;
    }
    count(provider.name, 'Wycheproof ed25519_test.json', ran);
    count(provider.name, '  of which the raw provider alone got wrong', decidedBySeal);
  });

  it('derives the same public keys and signatures as noble', () => {
    const rng = seededRng(`provider ${provider.name}`);
    for (let i = 0; i < 32; i++) {
      const seed = rng(32);
      const message = rng(i * 7);
      expect(toHex(provider.x25519PublicKey(seed))).toBe(toHex(nobleCurveProvider.x25519PublicKey(seed)));
      expect(toHex(provider.ed25519PublicKey(seed))).toBe(toHex(nobleCurveProvider.ed25519PublicKey(seed)));
      expect(toHex(provider.ed25519Sign(seed, message))).toBe(toHex(nobleCurveProvider.ed25519Sign(seed, message)));
      const secretKey = new Ed25519SecretKey(seed);
      expect(ed25519Verify(ed25519PublicKeyOf(secretKey), message, ed25519Sign(secretKey, message))).toBe(true);
      // Outputs are plain Uint8Arrays: a Node Buffer's slice() would share the secret's memory.
      expect(x25519(new X25519SecretKey(seed), x25519PublicKeyOf(new X25519SecretKey(rng(32)))).dangerouslyExposeBytes().constructor).toBe(Uint8Array);
    }
  });

  it.each(VECTOR_KINDS.map((kind) => [kind.file, kind] as const))('vectors/%s: every case verifies', async (_, kind) => {
    const document = JSON.parse(readFileSync(path.join(ROOT, 'vectors', kind.file), 'utf8'));
    const result = await verify(kind, document);
    expect(result.failures).toEqual([]);
    expect(result.passed).toBe(document.numberOfTests);
    count(provider.name, `vectors/${kind.file}`, result.passed);
  });
});

describe('with the node curve provider, the vectors regenerate byte for byte', () => {
  // noble's drift check is test/vectors.test.ts; here the same bytes come from OpenSSL.
  it('has no drift', async () => {
    const previous = useCurveProvider(nodeCurveProvider);
    try {
      expect(await vectorDrift(path.join(ROOT, 'vectors'))).toEqual([]);
    } finally {
      useCurveProvider(previous);
    }
    count(nodeCurveProvider.name, 'vector files regenerated without drift', 2 * VECTOR_KINDS.length);
  }, 60_000);
});

/** A scalar from 64 bytes, reduced mod L. */
function scalar(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n % ed25519.Point.CURVE().n;
}

describe('Seal\'s checks decide whatever the provider', () => {
  const L = ed25519.Point.CURVE().n;
  const order8 = ed25519.Point.fromBytes(fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05'));

  it('lists exactly the eight small-order encodings', () => {
    // The subgroup generated by a point of order 8 is the whole 8-torsion: the list in signature.ts.
    expect(order8.double().double().is0()).toBe(false);
    expect(order8.clearCofactor().is0()).toBe(true);
    const encodings = new Set<string>();
    let point = ed25519.Point.ZERO;
    for (let i = 0; i < 8; i++, point = point.add(order8)) encodings.add(toHex(point.toBytes()));
    expect(encodings.size).toBe(8);
    // Canonical and small order: rejected by the wrapper whatever the provider says.
    const yes: CurveProvider = { ...nobleCurveProvider, name: 'accepts everything', ed25519Verify: () => true };
    const previous = useCurveProvider(yes);
    try {
      for (const encoding of encodings) expect(ed25519Verify(fromHex(encoding), new Uint8Array(1), new Uint8Array(64)), encoding).toBe(false);
    } finally {
      useCurveProvider(previous);
    }
  });

  it('rejects non-canonical R or A, S >= L and small-order A before any provider', () => {
    // @req suite.ed25519-strict
    const secretKey = new Ed25519SecretKey(seededRng('strict provider')(32));
    const publicKey = ed25519PublicKeyOf(secretKey);
    const message = new Uint8Array([1, 2, 3]);
    const signature = ed25519Sign(secretKey, message);
    const yes: CurveProvider = { ...nobleCurveProvider, name: 'accepts everything', ed25519Verify: () => true, x25519: () => new Uint8Array(32) };
    const p = 2n ** 255n - 19n;
    const le = (n: bigint, top = 0) => {
      const out = new Uint8Array(32);
      for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
      out[31]! |= top;
      return out;
    };
    const withR = (r: Uint8Array) => new Uint8Array([...r, ...signature.subarray(32)]);
    const withS = (s: bigint) => new Uint8Array([...signature.subarray(0, 32), ...le(s)]);
    const previous = useCurveProvider(yes);
    try {
      expect(ed25519Verify(publicKey, message, signature)).toBe(true);
      expect(ed25519Verify(le(p + 2n), message, signature)).toBe(false); // A: y >= p
      expect(ed25519Verify(le(1n, 0x80), message, signature)).toBe(false); // A: x = 0 with the sign bit
      expect(ed25519Verify(publicKey, message, withR(le(p)))).toBe(false); // R: y >= p
      expect(ed25519Verify(publicKey, message, withR(le(p - 1n, 0x80)))).toBe(false); // R: x = 0 with the sign bit
      expect(ed25519Verify(publicKey, message, withS(L))).toBe(false); // S = L
      expect(ed25519Verify(publicKey, message, withS(2n ** 253n))).toBe(false);
      expect(ed25519Verify(publicKey, message, signature.subarray(0, 63))).toBe(false);
      expect(codeOf(() => x25519(new X25519SecretKey(new Uint8Array(32).fill(1)), new Uint8Array(32).fill(9)))).toBe('zero-shared-secret');
      useCurveProvider({ ...yes, ed25519Verify: () => { throw new Error('provider failure'); }, x25519: () => { throw new Error('provider failure'); } });
      expect(ed25519Verify(publicKey, message, signature)).toBe(false);
      expect(codeOf(() => x25519(new X25519SecretKey(new Uint8Array(32).fill(1)), new Uint8Array(32).fill(9)))).toBe('zero-shared-secret');
      useCurveProvider({ ...yes, ed25519Sign: () => new Uint8Array(63), x25519: () => new Uint8Array(31) });
      expect(codeOf(() => ed25519Sign(secretKey, message))).toBe('invalid-length');
      expect(codeOf(() => x25519(new X25519SecretKey(new Uint8Array(32).fill(1)), new Uint8Array(32).fill(9)))).toBe('invalid-length');
    } finally {
      useCurveProvider(previous);
    }
  });

  it('accepts a mixed-order signature that OpenSSL\'s cofactorless equation rejects (the cofactored equation decides)', () => {
    // A = [a]B + T with T of order 8: not of small order, so a valid published key; R = [r]B,
    // S = r + k·a. Then [8][S]B = [8]R + [8][k]A holds, while [S]B = R + [k]A needs [k]T = 0.
    const rng = seededRng('mixed order');
    const a = scalar(rng(64));
    const A = ed25519.Point.BASE.multiply(a).add(order8).toBytes();
    expect(toHex(checkEd25519PublicKey(A))).toBe(toHex(A));
    let found = false;
    for (let i = 0; i < 16 && !found; i++) {
      const message = rng(16);
      const r = scalar(rng(64));
      const R = ed25519.Point.BASE.multiply(r).toBytes();
      const k = scalar(sha512(new Uint8Array([...R, ...A, ...message])));
      if (k % 8n === 0n) continue;
      const S = (r + k * a) % L;
      const signature = new Uint8Array(64);
      signature.set(R);
      for (let j = 0; j < 32; j++) signature[32 + j] = Number((S >> BigInt(8 * j)) & 0xffn);
      expect(nobleCurveProvider.ed25519Verify(signature, message, A)).toBe(true);
      expect(nodeCurveProvider.ed25519Verify(signature, message, A)).toBe(false);
      for (const provider of [nobleCurveProvider, nodeCurveProvider]) {
        const previous = useCurveProvider(provider);
        try {
          expect(ed25519Verify(A, message, signature), provider.name).toBe(true);
          const tampered = message.slice();
          tampered[0]! ^= 1;
          expect(ed25519Verify(A, tampered, signature), provider.name).toBe(false);
        } finally {
          useCurveProvider(previous);
        }
      }
      found = true;
    }
    expect(found).toBe(true);
  });

  it('useCurveProvider returns the previous provider and refuses an incomplete one', () => {
    const previous = useCurveProvider(nodeCurveProvider);
    expect(useCurveProvider(previous)).toBe(nodeCurveProvider);
    expect(curveProvider()).toBe(previous);
    expect(() => useCurveProvider({ ...nobleCurveProvider, ed25519Sign: undefined } as unknown as CurveProvider)).toThrow(TypeError);
    expect(() => useCurveProvider({ ...nobleCurveProvider, ed25519Equation: 'lenient' } as unknown as CurveProvider)).toThrow(TypeError);
    expect(curveProvider()).toBe(previous);
  });
});
