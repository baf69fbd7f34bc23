/**
 * The canonical binary encoding of every structure Seal signs, MACs or authenticates as
 * associated data: big-endian fixed-width integers, fixed-length and length-prefixed opaque
 * fields, length-prefixed vectors of structures, fields in a fixed order.
 *
 * A {@link Codec} pairs one encoder with one decoder. Decoding is strict: truncation, a length or
 * count outside the declared range, a value outside its range and trailing bytes are errors, so
 * every accepted byte string has exactly one meaning and re-encodes to itself.
 *
 * @see spec §encoding.binary
 * @module
 */
import { SealError } from '../errors.js';

/** Accumulates the bytes of one structure. Internal to codecs; use {@link encode}. */
export class Writer {
  #chunks: Uint8Array[] = [];
  #length = 0;

  /** Appends raw bytes. */
  bytes(value: Uint8Array): void {
    this.#chunks.push(value.slice());
    this.#length += value.length;
  }

  /** Appends an unsigned big-endian integer of `width` bytes (1, 2 or 4). */
  uint(value: number, width: 1 | 2 | 4): void {
    const out = new Uint8Array(width);
    for (let i = width - 1, v = value; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v & 0xff;
    this.bytes(out);
  }

  /** Appends an unsigned 64-bit big-endian integer. */
  uint64(value: bigint): void {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, value);
    this.bytes(out);
  }

  /** The bytes written so far, as one array. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

/** Reads one structure from a byte string, failing with the offset of the first problem. */
export class Reader {
  readonly #input: Uint8Array;
  #offset = 0;

  constructor(input: Uint8Array) {
    this.#input = input;
  }

  /** Current position in the input. */
  get offset(): number {
    return this.#offset;
  }

  /** Reads exactly `length` bytes (a copy). @throws SealError `truncated`. */
  bytes(length: number, field: string): Uint8Array {
    if (this.#input.length - this.#offset < length) {
      throw new SealError('truncated', `${field}: expected ${length} bytes, ${this.#input.length - this.#offset} left`, this.#offset);
    }
    const out = this.#input.slice(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }

  /** Reads an unsigned big-endian integer of `width` bytes. @throws SealError `truncated`. */
  uint(width: 1 | 2 | 4, field: string): number {
    const raw = this.bytes(width, field);
    let value = 0;
    for (const byte of raw) value = value * 256 + byte;
    return value;
  }

  /** Reads an unsigned 64-bit big-endian integer. @throws SealError `truncated`. */
  uint64(field: string): bigint {
    const raw = this.bytes(8, field);
    return new DataView(raw.buffer, raw.byteOffset, 8).getBigUint64(0);
  }

  /** Fails unless the whole input has been consumed. @throws SealError `trailing-bytes`. */
  end(field: string): void {
    if (this.#offset !== this.#input.length) {
      throw new SealError('trailing-bytes', `${field}: ${this.#input.length - this.#offset} bytes after the end of the structure`, this.#offset);
    }
  }
}

/**
 * One wire structure's encoder and decoder. `decode` reads from a {@link Reader} and leaves it
 * after the structure; {@link decode} adds the trailing-bytes check.
 */
export interface Codec<T> {
  /** Human-readable name used in error messages (the spec's name for the structure). */
  readonly name: string;
  /** Appends the encoding of `value`; throws SealError `invalid-value`/`invalid-length`/`length-out-of-range` for a value outside the structure's ranges. */
  encode(writer: Writer, value: T): void;
  /** Reads one value and leaves the reader after it; throws SealError on malformed input. */
  decode(reader: Reader): T;
}

/**
 * Encodes a value with its codec.
 *
 * @see spec §encoding.binary
 * @example
 * ```ts
 * encode(u16, 258) // Uint8Array [1, 2]
 * ```
 */
export function encode<T>(codec: Codec<T>, value: T): Uint8Array {
  const writer = new Writer();
  codec.encode(writer, value);
  return writer.finish();
}

/**
 * Decodes exactly one value; the input must hold nothing else.
 *
 * Implements requirement `encoding.binary-strict`.
 *
 * @throws SealError `truncated`, `trailing-bytes`, `length-out-of-range`, `invalid-value`,
 *   `unknown-version` (from the structure's own checks).
 * @see spec §encoding.binary
 * @example
 * ```ts
 * decode(u16, new Uint8Array([1, 2])) // 258
 * ```
 */
export function decode<T>(codec: Codec<T>, input: Uint8Array): T {
  // @req encoding.binary-strict
  const reader = new Reader(input);
  const value = codec.decode(reader);
  reader.end(codec.name);
  return value;
}

function uintCodec(width: 1 | 2 | 4, name: string): Codec<number> {
  const max = 2 ** (8 * width) - 1;
  return {
    name,
    encode(writer, value) {
      if (!Number.isInteger(value) || value < 0 || value > max) {
        throw new SealError('invalid-value', `${name}: expected an integer in 0..${max}, got ${value}`);
      }
      writer.uint(value, width);
    },
    decode: (reader) => reader.uint(width, name),
  };
}

/** Unsigned 8-bit integer. @see spec §encoding.binary */
export const u8: Codec<number> = uintCodec(1, 'uint8');
/** Unsigned 16-bit big-endian integer. @see spec §encoding.binary */
export const u16: Codec<number> = uintCodec(2, 'uint16');
/** Unsigned 32-bit big-endian integer. @see spec §encoding.binary */
export const u32: Codec<number> = uintCodec(4, 'uint32');

/** Unsigned 64-bit big-endian integer (a `bigint`). @see spec §encoding.binary */
export const u64: Codec<bigint> = {
  name: 'uint64',
  encode(writer, value) {
    if (value < 0n || value > 0xffffffffffffffffn) {
      throw new SealError('invalid-value', `uint64: expected 0..2^64-1, got ${value}`);
    }
    writer.uint64(value);
  },
  decode: (reader) => reader.uint64('uint64'),
};

/**
 * Unsigned 64-bit big-endian integer exposed as a JavaScript number; values above 2^53 - 1
 * are rejected (`invalid-value`). Used for times in seconds since the Unix epoch.
 *
 * @see spec §encoding.binary
 */
export const u64n: Codec<number> = {
  name: 'uint64',
  encode(writer, value) {
    if (!Number.isSafeInteger(value) || value < 0) throw new SealError('invalid-value', `uint64: expected an integer in 0..2^53-1, got ${value}`);
    writer.uint64(BigInt(value));
  },
  decode(reader) {
    const at = reader.offset;
    const value = reader.uint64('uint64');
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new SealError('invalid-value', `uint64: expected at most 2^53-1, got ${value}`, at);
    return Number(value);
  },
};

/**
 * An optional value: a presence byte (0 absent, 1 present) followed by the value when present.
 * Any other presence byte is `invalid-value`, so absence has one encoding.
 *
 * @see spec §encoding.binary
 */
export function optional<T>(inner: Codec<T>): Codec<T | undefined> {
  return {
    name: inner.name,
    encode(writer, value) {
      writer.uint(value === undefined ? 0 : 1, 1);
      if (value !== undefined) inner.encode(writer, value);
    },
    decode(reader) {
      const at = reader.offset;
      const present = reader.uint(1, `${inner.name} presence`);
      if (present > 1) throw new SealError('invalid-value', `${inner.name}: presence byte must be 0 or 1, got ${present}`, at);
      return present === 1 ? inner.decode(reader) : undefined;
    },
  };
}

/**
 * Opaque field of a fixed length, written without a prefix (`opaque name[n]`).
 *
 * @see spec §encoding.binary
 */
export function fixed(length: number, name: string): Codec<Uint8Array> {
  return {
    name,
    encode(writer, value) {
      if (value.length !== length) {
        throw new SealError('invalid-length', `${name}: expected ${length} bytes, got ${value.length}`);
      }
      writer.bytes(value);
    },
    decode: (reader) => reader.bytes(length, name),
  };
}

/** Width in bytes of a length prefix: `<0..255>`, `<0..65535>` or `<0..2^32-1>`. */
export type PrefixWidth = 1 | 2 | 4;

/** Range of an opaque field's or a vector's length. `max` must fit the prefix width. */
export interface LengthRange {
  readonly min?: number;
  readonly max: number;
}

function checkRange(name: string, what: string, value: number, range: LengthRange, offset?: number): void {
  const min = range.min ?? 0;
  if (value < min || value > range.max) {
    throw new SealError('length-out-of-range', `${name}: expected ${what} in ${min}..${range.max}, got ${value}`, offset);
  }
}

/**
 * Opaque field with a big-endian length prefix of `width` bytes (`opaque name<min..max>`).
 * The decoder checks the declared range before reading the body, so a hostile length never
 * causes a large allocation.
 *
 * @see spec §encoding.binary
 */
export function opaque(width: PrefixWidth, range: LengthRange, name: string): Codec<Uint8Array> {
  if (range.max > 2 ** (8 * width) - 1) throw new RangeError(`${name}: max ${range.max} does not fit a ${width}-byte prefix`);
  return {
    name,
    encode(writer, value) {
      checkRange(name, 'length', value.length, range);
      writer.uint(value.length, width);
      writer.bytes(value);
    },
    decode(reader) {
      const at = reader.offset;
      const length = reader.uint(width, name);
      checkRange(name, 'length', length, range, at);
      return reader.bytes(length, name);
    },
  };
}

/**
 * Vector of structures with a big-endian item count prefix of `width` bytes
 * (`Item name<min..max>`, counted in items, not bytes).
 *
 * @see spec §encoding.binary
 */
export function vector<T>(width: PrefixWidth, range: LengthRange, item: Codec<T>, name: string): Codec<readonly T[]> {
  if (range.max > 2 ** (8 * width) - 1) throw new RangeError(`${name}: max ${range.max} does not fit a ${width}-byte prefix`);
  return {
    name,
    encode(writer, values) {
      checkRange(name, 'item count', values.length, range);
      writer.uint(values.length, width);
      for (const value of values) item.encode(writer, value);
    },
    decode(reader) {
      const at = reader.offset;
      const count = reader.uint(width, name);
      checkRange(name, 'item count', count, range, at);
      const out: T[] = [];
      for (let i = 0; i < count; i++) out.push(item.decode(reader));
      return out;
    },
  };
}

/** The field codecs of a structure, in wire order. */
export type Fields<T> = { readonly [K in keyof T]: Codec<T[K]> };

/**
 * Structure of named fields encoded in the order given (`struct { ... } Name`).
 *
 * @see spec §encoding.binary
 * @example
 * ```ts
 * const Point = struct('Point', { x: u16, y: u16 });
 * encode(Point, { x: 1, y: 2 }) // Uint8Array [0, 1, 0, 2]
 * ```
 */
export function struct<T extends object>(name: string, fields: Fields<T>): Codec<T> {
  const entries = Object.entries(fields) as [keyof T & string, Codec<unknown>][];
  return {
    name,
    encode(writer, value) {
      for (const [key, codec] of entries) codec.encode(writer, value[key]);
    },
    decode(reader) {
      const out: Partial<Record<keyof T, unknown>> = {};
      for (const [key, codec] of entries) out[key] = codec.decode(reader);
      return out as T;
    },
  };
}

/**
 * A version or type byte that must equal one of the listed values; anything else is
 * `unknown-version`.
 *
 * @see spec §encoding.binary
 */
export function versionByte<V extends number>(allowed: readonly V[], name: string): Codec<V> {
  return {
    name,
    encode(writer, value) {
      if (!allowed.includes(value)) throw new SealError('unknown-version', `${name}: expected one of ${allowed.join(', ')}, got ${value}`);
      writer.uint(value, 1);
    },
    decode(reader) {
      const at = reader.offset;
      const value = reader.uint(1, name);
      if (!allowed.includes(value as V)) throw new SealError('unknown-version', `${name}: expected one of ${allowed.join(', ')}, got ${value}`, at);
      return value as V;
    },
  };
}

/**
 * A codec whose decoded value must satisfy `check` (for example a non-zero id). The check runs
 * on both sides, so an invalid value can be neither written nor read.
 *
 * @see spec §encoding.binary
 */
export function refine<T>(inner: Codec<T>, check: (value: T) => boolean, expectation: string): Codec<T> {
  return {
    name: inner.name,
    encode(writer, value) {
      if (!check(value)) throw new SealError('invalid-value', `${inner.name}: expected ${expectation}`);
      inner.encode(writer, value);
    },
    decode(reader) {
      const at = reader.offset;
      const value = inner.decode(reader);
      if (!check(value)) throw new SealError('invalid-value', `${inner.name}: expected ${expectation}`, at);
      return value;
    },
  };
}
