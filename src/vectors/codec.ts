/**
 * `vectors/codec.json`: strict base64 and the canonical binary encoding, decoded through the
 * structures the suite defines (LabeledContent, KdfInfo), valid and invalid.
 *
 * @see spec §encoding
 * @module
 */
import * as z from 'zod/mini';
import { decode, encode } from '../codec/binary.js';
import { decodeBase64, encodeBase64 } from '../codec/base64.js';
import { fromHex, toHex, utf8Encode } from '../codec/bytes.js';
import { KdfInfo, LabeledContent } from '../suite/index.js';
import { Hex } from './format.js';
import type { Fields, GroupKind, VectorKind } from './kind.js';

const base64 = (text: string) => ({ comment: `"${text}"`, inputs: { text } });

const base64Group: GroupKind = {
  type: 'Base64Decode',
  description: 'strict RFC 4648 §4 base64: standard alphabet, padding, zero pad bits, no whitespace',
  inputs: z.strictObject({ text: z.string() }),
  outputs: z.strictObject({ bytes: Hex }),
  operation: (i) => ({ bytes: toHex(decodeBase64(i.text as string)) }),
  cases: () => [
    ...['', 'Zg==', 'Zm8=', 'Zm9v', 'Zm9vYmFy', '+/8=', encodeBase64(new Uint8Array(32).fill(0xff))].map(base64),
    { comment: 'missing padding', flags: ['MissingPadding'], inputs: { text: 'Zg' } },
    { comment: 'extra padding', flags: ['ExtraPadding'], inputs: { text: 'Zg===' } },
    { comment: 'non-zero pad bits (two =)', flags: ['NonZeroPadBits'], inputs: { text: 'Zh==' } },
    { comment: 'non-zero pad bits (one =)', flags: ['NonZeroPadBits'], inputs: { text: 'Zm9=' } },
    { comment: 'space', flags: ['Whitespace'], inputs: { text: 'Zm9v Zg==' } },
    { comment: 'line feed', flags: ['Whitespace'], inputs: { text: 'Zm9v\nYmFy' } },
    { comment: 'URL-safe alphabet', flags: ['UrlAlphabet'], inputs: { text: '-_8=' } },
    { comment: 'padding in the middle', flags: ['MisplacedPadding'], inputs: { text: 'Zg==Zg==' } },
  ],
};

const decodeStructure = (codec: typeof LabeledContent | typeof KdfInfo) => (i: Fields) => {
  const value = decode(codec as typeof LabeledContent, fromHex(i.encoded as string)) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v instanceof Uint8Array ? toHex(v) : v]));
};

const labeledContentDecode: GroupKind = {
  type: 'LabeledContentDecode',
  description: 'decode struct { opaque label<9..255>; opaque content<0..2^32-1>; } LabeledContent strictly',
  inputs: z.strictObject({ encoded: Hex }),
  outputs: z.strictObject({ label: Hex, content: Hex }),
  operation: decodeStructure(LabeledContent),
  cases: () => {
    const good = encode(LabeledContent, { label: utf8Encode('Seal-v0 example'), content: new Uint8Array([1, 2, 3]) });
    const h = toHex(good);
    return [
      { comment: 'valid', inputs: { encoded: h } },
      { comment: 'one byte short', flags: ['Truncated'], inputs: { encoded: h.slice(0, -2) } },
      { comment: 'one byte too many', flags: ['TrailingBytes'], inputs: { encoded: `${h}00` } },
      { comment: 'empty input', flags: ['Truncated'], inputs: { encoded: '' } },
      { comment: 'label shorter than the prefix plus one character', flags: ['LengthOutOfRange'], inputs: { encoded: `08${toHex(utf8Encode('Seal-v0 '))}00000000` } },
      { comment: 'label without the Seal-v0 prefix', flags: ['InvalidLabel'], inputs: { encoded: `09${toHex(utf8Encode('Seal-v1 x'))}00000000` } },
      { comment: 'content length larger than the input', flags: ['Truncated'], inputs: { encoded: `${h.slice(0, 2 + 30)}ffffffff` } },
    ];
  },
};

const kdfInfoDecode: GroupKind = {
  type: 'KdfInfoDecode',
  description: 'decode struct { uint16 length; opaque label<9..255>; opaque context<0..2^32-1>; } KdfInfo strictly',
  inputs: z.strictObject({ encoded: Hex }),
  outputs: z.strictObject({ length: z.int(), label: Hex, context: Hex }),
  operation: decodeStructure(KdfInfo),
  cases: () => {
    const h = toHex(encode(KdfInfo, { length: 32, label: utf8Encode('Seal-v0 example'), context: utf8Encode('ctx') }));
    return [
      { comment: 'valid', inputs: { encoded: h } },
      { comment: 'truncated inside the length field', flags: ['Truncated'], inputs: { encoded: h.slice(0, 2) } },
      { comment: 'trailing byte', flags: ['TrailingBytes'], inputs: { encoded: `${h}ff` } },
    ];
  },
};

/** The kind of `vectors/codec.json`. @see spec §encoding */
export const codecVectors: VectorKind = {
  file: 'codec.json',
  section: 'encoding',
  version: 1,
  description: 'Seal-v0 encodings: strict base64 and the canonical binary encoding, valid and invalid',
  groups: [base64Group, labeledContentDecode, kdfInfoDecode],
};
