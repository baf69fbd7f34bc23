/**
 * §encoding.base64: strict RFC 4648 base64, one text form per value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../src/codec/index.js';
import { isSealError } from '../src/errors.js';
import { codeOf } from './support/errors.js';
import { fcParams } from './support/property.js';

const decodeCode = (text: string, max?: number) => codeOf(() => decodeBase64(text, max));

describe('§encoding.base64', () => {
  it('matches the RFC 4648 §10 test vectors', () => {
    const cases: [string, string][] = [['', ''], ['f', 'Zg=='], ['fo', 'Zm8='], ['foo', 'Zm9v'], ['foob', 'Zm9vYg=='], ['fooba', 'Zm9vYmE='], ['foobar', 'Zm9vYmFy']];
    for (const [plain, encoded] of cases) {
      expect(encodeBase64(new TextEncoder().encode(plain))).toBe(encoded);
      expect(new TextDecoder().decode(decodeBase64(encoded))).toBe(plain);
    }
  });

  it('rejects every non-canonical form', () => {
    // @req encoding.base64-strict
    expect(decodeCode('Zg')).toBe('invalid-base64'); // missing padding
    expect(decodeCode('Zg===')).toBe('invalid-base64'); // extra padding
    expect(decodeCode('Zh==')).toBe('invalid-base64'); // non-zero pad bits
    expect(decodeCode('Zm9=')).toBe('invalid-base64'); // non-zero pad bits, one '='
    expect(decodeCode('Zm 9v')).toBe('invalid-base64'); // whitespace
    expect(decodeCode('Zm9v\n')).toBe('invalid-base64');
    expect(decodeCode('-_8=')).toBe('invalid-base64'); // URL alphabet
    expect(decodeCode('Zg=a')).toBe('invalid-base64'); // padding inside
    expect(decodeCode('=Zg=')).toBe('invalid-base64');
    expect(decodeCode('Zm9vé===')).toBe('invalid-base64'); // non-ASCII
    expect(decodeCode('Zm9vYmFy', 5)).toBe('too-large');
  });

  it('decode(encode(x)) = x', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      expect([...decodeBase64(encodeBase64(bytes))]).toEqual([...bytes]);
    }), fcParams());
  });

  it('every accepted string re-encodes to itself', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n';
    const text = fc.array(fc.constantFrom(...alphabet), { maxLength: 24 }).map((chars) => chars.join(''));
    fc.assert(fc.property(text, (candidate) => {
      let bytes: Uint8Array;
      try {
        bytes = decodeBase64(candidate);
      } catch (e) {
        expect(isSealError(e, 'invalid-base64')).toBe(true);
        return;
      }
      expect(encodeBase64(bytes)).toBe(candidate);
    }), fcParams(2000));
  });
});
