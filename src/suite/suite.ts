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
  return encodedLabel(label).slice(1);
}

/**
 * Labels already checked and encoded as the field `opaque label<9..255>` (length byte, then
 * `"Seal-v0 " || label`). Seal uses a few dozen fixed labels on every message; the cache is
 * bounded in case a caller passes labels of its own.
 */
const encodedLabels = new Map<string, Uint8Array>();
const MAX_CACHED_LABELS = 256;

/**
 * The label field's bytes, checked and encoded once per label through the {@link labelField}
 * codec, so the fast paths below produce exactly the codec's bytes. Internal; never mutate it.
 */
function encodedLabel(label: string): Uint8Array {
  let field = encodedLabels.get(label);
  if (field === undefined) {
    // @req suite.labels-prefix
    if (!/^[\x21-\x7e][\x20-\x7e]{0,199}$/.test(label)) {
      throw new SealError('invalid-value', `label: expected 1..200 printable ASCII characters, got ${JSON.stringify(label)}`);
    }
    field = encode(LABEL_FIELD, utf8Encode(LABEL_PREFIX + label));
    if (encodedLabels.size < MAX_CACHED_LABELS) encodedLabels.set(label, field);
  }
  return field;
}

/**
 * `labelPrefix || uint32(content.length) || content`, the tail every labelled structure ends
 * with; the same bytes as encoding `label` and `content` with their codecs, without a Writer.
 */
function labelledBytes(head: number, label: string, content: Uint8Array): Uint8Array {
  const field = encodedLabel(label);
  if (content.length > 0xffffffff) throw new SealError('length-out-of-range', `content: expected at most 4294967295 bytes, got ${content.length}`);
  const out = new Uint8Array(head + field.length + 4 + content.length);
  out.set(field, head);
  const at = head + field.length;
  out[at] = content.length >>> 24;
  out[at + 1] = (content.length >>> 16) & 0xff;
  out[at + 2] = (content.length >>> 8) & 0xff;
  out[at + 3] = content.length & 0xff;
  out.set(content, at + 4);
  return out;
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

const LABEL_FIELD = labelField('label');

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
  // Equal to encode(LabeledContent, { label: labelBytes(label), content }) (a test checks it);
  // built directly because every MAC and signature of every message goes through here.
  return labelledBytes(0, label, content);
}

