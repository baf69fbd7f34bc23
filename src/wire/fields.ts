/**
 * Field schemas and XML accessors shared by the wire elements: byte strings of fixed or bounded
 * length, ids, times (XEP-0082 in XML, seconds since the Unix epoch in binary).
 *
 * @see spec §encoding.xml
 * @module
 */
import * as z from 'zod/mini';
import { decodeBase64, encodeBase64 } from '../codec/base64.js';
import { SealError } from '../errors.js';
import { type Element, binaryText, integerAttr, requiredAttr } from './xml.js';

/** A byte string of exactly `length` bytes. */
export function bytesOf(length: number) {
  return z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length === length, { message: `expected ${length} bytes` });
}

/** A byte string of `min`..`max` bytes. */
export function bytesWithin(min: number, max: number) {
  return z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length >= min && v.length <= max, { message: `expected ${min}..${max} bytes` });
}

/** A non-zero 32-bit id (prekey ids). */
export const Uint32Id = z.int().check(z.gte(1), z.lte(0xffffffff));
/** A time in whole seconds since the Unix epoch. */
export const Seconds = z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));

/**
 * A base64 attribute of exactly `length` bytes. The encoding is checked first, then the length,
 * whatever it is: an over-long value is `invalid-length`, not `too-large` (the XML it comes from
 * is already bounded, encoding.xml-well-formed).
 *
 * Implements requirement `identity.key-check` (a wrong length is `invalid-length`).
 *
 * @throws SealError `schema-violation` when absent, `invalid-base64`, or `invalid-length`.
 * @see spec §identity.keys
 */
export function binaryAttr(element: Element, name: string, length: number): Uint8Array {
  return fixedLength(element, decodeBase64(requiredAttr(element, name), Number.MAX_SAFE_INTEGER, `<${element.name} ${name}>`), length, ` ${name}`);
}

/**
 * The element's text as a base64 value of exactly `length` bytes: encoding first, then length,
 * as {@link binaryAttr}.
 *
 * @throws SealError `schema-violation` when the element has child elements, `invalid-base64`, or `invalid-length`.
 * @see spec §identity.keys
 */
export function fixedBinaryText(element: Element, length: number): Uint8Array {
  return fixedLength(element, binaryText(element, Number.MAX_SAFE_INTEGER), length, '');
}

function fixedLength(element: Element, bytes: Uint8Array, length: number, what: string): Uint8Array {
  // @req identity.key-check: a wrong length, short or long, is invalid-length.
  if (bytes.length !== length) throw new SealError('invalid-length', `<${element.name}${what}>: expected ${length} bytes, got ${bytes.length}`);
  return bytes;
}

/** Base64 text of bytes, for attributes. */
export const base64 = encodeBase64;

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/**
 * Formats seconds since the Unix epoch as an XEP-0082 DateTime in UTC without fractions,
 * e.g. `2026-11-26T09:00:00Z`.
 *
 * @see spec §encoding.xml
 */
export function formatDateTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Parses a time attribute: an XEP-0082 DateTime in UTC (`Z`), whole seconds, year 1970..9999,
 * a real calendar date. Exactly one text form per time.
 *
 * @throws SealError `schema-violation` when absent or not of that form.
 * @see spec §encoding.xml
 */
export function dateTimeAttr(element: Element, name: string): number {
  const text = requiredAttr(element, name);
  const match = DATE_TIME.exec(text);
  const millis = match ? Date.parse(text) : Number.NaN;
  if (!match || Number.isNaN(millis) || formatDateTime(millis / 1000) !== text || millis < 0) {
    throw new SealError('schema-violation', `<${element.name} ${name}>: expected an XEP-0082 UTC DateTime such as 2026-11-26T09:00:00Z`);
  }
  return millis / 1000;
}

/** A non-zero 32-bit id attribute. @throws SealError `schema-violation`. */
export function idAttr(element: Element, name: string): number {
  const value = integerAttr(element, name);
  if (value < 1 || value > 0xffffffff) throw new SealError('schema-violation', `<${element.name} ${name}>: expected 1..4294967295`);
  return value;
}
