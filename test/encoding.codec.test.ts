/**
 * §encoding.binary: the canonical binary encoding. Strict decoding (truncation, trailing bytes,
 * ranges, versions) and the two round-trip properties every structure must satisfy.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Codec,
  decode,
  encode,
  fixed,
  opaque,
  optional,
  refine,
  struct,
  u16,
  u32,
  u64,
  u8,
  vector,
  versionByte,
} from '../src/codec/index.js';
import { SealError } from '../src/errors.js';
import { codeOf } from './support/errors.js';
import { fcParams } from './support/property.js';


/** A structure using every combinator: the shape later sections use. */
const Sample = struct('Sample', {
  version: versionByte([1], 'Sample.version'),
  id: refine(u32, (v) => v !== 0, 'a non-zero id'),
  counter: u64,
  key: fixed(32, 'Sample.key'),
  label: opaque(1, { min: 1, max: 16 }, 'Sample.label'),
  items: vector(2, { max: 4 }, struct('Item', { kind: u8, body: opaque(2, { max: 40 }, 'Item.body') }), 'Sample.items'),
});
type SampleValue = typeof Sample extends Codec<infer T> ? T : never;

const sampleArb: fc.Arbitrary<SampleValue> = fc.record({
  version: fc.constant(1 as const),
  id: fc.integer({ min: 1, max: 0xffffffff }),
  counter: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
  key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  label: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  items: fc.array(fc.record({ kind: fc.integer({ min: 0, max: 255 }), body: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 4 }),
});

describe('§encoding.binary', () => {
  it('encodes integers big-endian at fixed width', () => {
    expect([...encode(u8, 0xab)]).toEqual([0xab]);
    expect([...encode(u16, 0x0102)]).toEqual([1, 2]);
    expect([...encode(u32, 0x01020304)]).toEqual([1, 2, 3, 4]);
    expect([...encode(u64, 0x0102030405060708n)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(decode(u64, new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255]))).toBe(0xffffffffffffffffn);
  });

  it('refuses to encode out-of-range values', () => {
    expect(codeOf(() => encode(u8, 256))).toBe('invalid-value');
    expect(codeOf(() => encode(u16, -1))).toBe('invalid-value');
    expect(codeOf(() => encode(u32, 1.5))).toBe('invalid-value');
    expect(codeOf(() => encode(fixed(4, 'f'), new Uint8Array(3)))).toBe('invalid-length');
    expect(codeOf(() => encode(opaque(1, { min: 2, max: 3 }, 'o'), new Uint8Array(1)))).toBe('length-out-of-range');
  });

  it('rejects truncation, trailing bytes, lengths out of range and unknown versions, with offsets', () => {
    // @req encoding.binary-strict
    const o = opaque(2, { min: 1, max: 4 }, 'o');
    expect(codeOf(() => decode(o, new Uint8Array([0, 3, 1, 2])))).toBe('truncated');
    expect(codeOf(() => decode(o, new Uint8Array([0, 1, 1, 9])))).toBe('trailing-bytes');
    expect(codeOf(() => decode(o, new Uint8Array([0, 0])))).toBe('length-out-of-range');
    expect(codeOf(() => decode(o, new Uint8Array([0xff, 0xff])))).toBe('length-out-of-range');
    expect(codeOf(() => decode(versionByte([1], 'v'), new Uint8Array([2])))).toBe('unknown-version');
    expect(codeOf(() => decode(refine(u8, (v) => v !== 0, 'non-zero'), new Uint8Array([0])))).toBe('invalid-value');
    // optional<T>: presence 0 (nothing follows) or 1 (the value follows); any other byte is invalid.
    expect(decode(optional(u16), new Uint8Array([0]))).toBeUndefined();
    expect(decode(optional(u16), new Uint8Array([1, 0, 7]))).toBe(7);
    expect(codeOf(() => decode(optional(u16), new Uint8Array([2, 0, 7])))).toBe('invalid-value');
    expect(codeOf(() => decode(optional(u16), new Uint8Array([0, 0, 7])))).toBe('trailing-bytes');
    expect(() => decode(o, new Uint8Array([0, 1, 1, 9, 9]))).toThrow(expect.objectContaining({ code: 'trailing-bytes', offset: 3 }));
    expect(() => decode(o, new Uint8Array([0, 9, 1]))).toThrow(expect.objectContaining({ code: 'length-out-of-range', offset: 0 }));
  });

  it('checks a declared count before reading items (no allocation from a hostile length)', () => {
    const v = vector(4, { max: 10 }, u8, 'v');
    expect(codeOf(() => decode(v, new Uint8Array([0xff, 0xff, 0xff, 0xff])))).toBe('length-out-of-range');
  });

  it('decode(encode(x)) = x for every structure value', () => {
    fc.assert(fc.property(sampleArb, (value) => {
      expect(decode(Sample, encode(Sample, value))).toEqual(value);
    }), fcParams());
  });

  it('encode(decode(b)) = b for every accepted byte string, and every rejection is a SealError', () => {
    const bytesNear = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      sampleArb.chain((value) => {
        const good = encode(Sample, value);
        return fc.record({ at: fc.nat(good.length), byte: fc.integer({ min: 0, max: 255 }), cut: fc.nat(good.length + 2) }).map(({ at, byte, cut }) => {
          const mutated = new Uint8Array([...good, 0, 0]).slice(0, cut);
          if (at < mutated.length) mutated[at] = byte;
          return mutated;
        });
      }),
    );
    fc.assert(fc.property(bytesNear, (bytes) => {
      let value: SampleValue;
      try {
        value = decode(Sample, bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(SealError);
        return;
      }
      expect([...encode(Sample, value)]).toEqual([...bytes]);
    }), fcParams(500));
  });
});
