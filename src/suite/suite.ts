/**
 * The identity of Seal's one mandatory cipher suite and its domain-separation prefix.
 *
 * @see spec §suite
 * @module
 */
import { type Codec, encode, opaque, refine, struct, utf8Encode } from '../codec/index.js';
import { SealError } from '../errors.js';

/**
 * The name of the one mandatory suite. It is bound into every handshake so that a peer cannot be
 * talked down to another suite.
 *
 * @see spec §suite
 */
export const SUITE_ID = 'Seal-v0-X25519-MLKEM768-ChaCha20Poly1305-SHA256';

/**
 * The prefix of every key-derivation label, signature label and MAC label in Seal (ASCII,
 * with the trailing space).
 *
 * @see spec §suite.labels
 */
export const LABEL_PREFIX = 'Seal-v0 ';

/** The XML namespace of Seal version 0. @see spec §registrar */
export const SEAL_NS = 'urn:xmpp:seal:0';

/**
 * The bytes of a full label: `"Seal-v0 " || label`, ASCII. A label is 1 to 200 printable ASCII
 * characters, so the full label fits the one-byte length prefix of every labelled structure.
 *
 * Implements requirement `suite.labels-prefix`.
 *
 * @throws SealError `invalid-value` for an empty, over-long or non-ASCII label.
 * @see spec §suite.labels
 */
export function labelBytes(label: string): Uint8Array {
  // @req suite.labels-prefix
  if (!/^[\x21-\x7e][\x20-\x7e]{0,199}$/.test(label)) {
    throw new SealError('invalid-value', `label: expected 1..200 printable ASCII characters, got ${JSON.stringify(label)}`);
  }
  return utf8Encode(LABEL_PREFIX + label);
}

const PREFIX_BYTES = utf8Encode(LABEL_PREFIX);

/**
 * A full label field `opaque label<9..255>`: it starts with `"Seal-v0 "` and is printable ASCII.
 *
 * @see spec §suite.labels
 */
export function labelField(name: string): Codec<Uint8Array> {
  return refine(
    opaque(1, { min: PREFIX_BYTES.length + 1, max: 255 }, name),
    (label) => PREFIX_BYTES.every((byte, i) => label[i] === byte) && label.every((byte) => byte >= 0x20 && byte <= 0x7e),
    'printable ASCII starting with "Seal-v0 "',
  );
}

/**
 * `struct { opaque label<9..255>; opaque content<0..2^32-1>; } LabeledContent`.
 *
 * @see spec §suite.labels
 */
export const LabeledContent: Codec<{ label: Uint8Array; content: Uint8Array }> = struct('LabeledContent', {
  label: labelField('LabeledContent.label'),
  content: opaque(4, { max: 0xffffffff }, 'LabeledContent.content'),
});

/**
 * The bytes every labelled signature and labelled MAC covers:
 * `struct { opaque label<9..255>; opaque content<0..2^32-1>; } LabeledContent`
 * with `label = "Seal-v0 " || Label`.
 *
 * @see spec §suite.labels
 * @example
 * ```ts
 * labeledContent('example', new Uint8Array([1])) // 0x0f "Seal-v0 example" 0x00000001 0x01
 * ```
 */
export function labeledContent(label: string, content: Uint8Array): Uint8Array {
  return encode(LabeledContent, { label: labelBytes(label), content });
}
