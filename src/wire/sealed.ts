/**
 * The `<sealed/>` element: the sender device, one wrapped content key per recipient device
 * (grouped by bare JID, flagged when a handshake header is attached), the key commitment and
 * the encrypted payload (both absent in a key-only message); and the binary forms of a wrapped
 * key.
 *
 * @see spec §envelope.wire
 * @see spec §envelope.key-only
 * @module
 */
import * as z from 'zod/mini';
import { type Codec, decode, encode, fixed, struct } from '../codec/binary.js';
import { SealError } from '../errors.js';
import { SEAL_NS } from '../suite/suite.js';
import { DeviceIdSchema, MAX_JID_BYTES } from './bundle.js';
import { defineElement } from './element.js';
import { base64, binaryAttr, bytesOf, bytesWithin } from './fields.js';
import { AsyncHeaderCodec, type AsyncHeaderValue } from './handshake.js';
import { binaryText, childElements, integerAttr, isNamed, requiredAttr, xml } from './xml.js';

/** Bytes of a ratchet message carrying a content key (or a key-only message's 32 zero bytes): 40-byte header + 32 bytes + 16-byte tag. */
export const RATCHET_MESSAGE_BYTES = 88;
/** Most recipient devices of one stanza. */
export const MAX_SEALED_RECIPIENTS = 256;
/**
 * Largest payload a receiver accepts, in bytes: the largest padded content a sender can produce,
 * `Padmé(MAX_CONTENT_BYTES + 14)` = 67 584 bytes (§envelope.content), plus the 16-byte tag. The
 * envelope's constants are above this layer, so the value is written out; a test checks it
 * against `padme` and MAX_CONTENT_BYTES.
 *
 * @see spec §envelope.limits
 */
export const MAX_PAYLOAD_BYTES = 67_584 + 16;
/**
 * Largest key element a receiver accepts, in bytes: a `KeyExchangeMessage` with a one-time prekey
 * (1 293-byte handshake header + 88-byte `RatchetMessage`); every key element Seal defines is
 * 88, 1 377 or 1 381 bytes.
 *
 * @see spec §envelope.limits
 */
export const MAX_KEY_ELEMENT_BYTES = 1293 + 88;

/**
 * `struct { opaque header[40]; opaque ciphertext[48]; } RatchetMessage`: the ratchet header and
 * the content key encrypted under the message key.
 *
 * @see spec §envelope.wire
 */
export const RatchetMessageCodec: Codec<{ header: Uint8Array; ciphertext: Uint8Array }> = struct('RatchetMessage', {
  header: fixed(40, 'header'),
  ciphertext: fixed(48, 'ciphertext'),
});

/**
 * `struct { AsyncHandshakeHeader handshake; RatchetMessage message; } KeyExchangeMessage`: what a
 * key element flagged `handshake='true'` carries.
 *
 * @see spec §envelope.wire
 */
export const KeyExchangeCodec: Codec<{ handshake: AsyncHeaderValue; message: { header: Uint8Array; ciphertext: Uint8Array } }> = struct('KeyExchangeMessage', {
  handshake: AsyncHeaderCodec,
  message: RatchetMessageCodec,
});

/** A wrapped key for one device, decoded. */
export type WrappedKey = { readonly handshake: AsyncHeaderValue | undefined; readonly header: Uint8Array; readonly ciphertext: Uint8Array };

/**
 * Decodes the bytes of a key element.
 *
 * @throws SealError `truncated`, `trailing-bytes`, `unknown-version`, … for malformed bytes.
 * @see spec §envelope.wire
 */
export function decodeWrappedKey(data: Uint8Array, handshake: boolean): WrappedKey {
  if (!handshake) return { handshake: undefined, ...decode(RatchetMessageCodec, data) };
  const value = decode(KeyExchangeCodec, data);
  return { handshake: value.handshake, ...value.message };
}

/**
 * Encodes a wrapped key for a key element.
 *
 * @see spec §envelope.wire
 */
export function encodeWrappedKey(key: WrappedKey): Uint8Array {
  const message = { header: key.header, ciphertext: key.ciphertext };
  return key.handshake === undefined ? encode(RatchetMessageCodec, message) : encode(KeyExchangeCodec, { handshake: key.handshake, message });
}

// The bytes of each key are checked only by the device they are for (decodeWrappedKey), so a
// malformed key for one device does not make the stanza unreadable for the others.
const KeySchema = z.object({ rid: DeviceIdSchema, handshake: z.boolean(), data: bytesWithin(1, MAX_KEY_ELEMENT_BYTES) });
const KeysSchema = z.object({ jid: z.string().check(z.minLength(1), z.maxLength(MAX_JID_BYTES)), keys: z.array(KeySchema).check(z.minLength(1)) });
/** The sender's bare JID, which a room message names (§groups.wire); absent from one-to-one messages. */
const SenderSchema = z.string().check(z.minLength(1), z.maxLength(MAX_JID_BYTES));

/**
 * Schema of a `<sealed/>` element. `commitment` and `payload` are both present (a message) or
 * both absent (a key-only message, whose key elements wrap no content key).
 *
 * @see spec §envelope.wire
 * @see spec §envelope.key-only
 */
export const SealedSchema = z
  .object({
    sid: DeviceIdSchema,
    sender: z.optional(SenderSchema),
    recipients: z.array(KeysSchema).check(z.minLength(1), z.refine((r) => r.reduce((n, k) => n + k.keys.length, 0) <= MAX_SEALED_RECIPIENTS, `at most ${MAX_SEALED_RECIPIENTS} keys`)),
    commitment: z.optional(bytesOf(32)),
    payload: z.optional(bytesWithin(16, MAX_PAYLOAD_BYTES)),
  })
  .check(z.refine((v) => (v.commitment === undefined) === (v.payload === undefined), { message: 'commitment and payload: expected both or neither', path: ['payload'] }));
/** A `<sealed/>` element's value; without `commitment` and `payload` it is a key-only message. */
export type SealedValue = z.infer<typeof SealedSchema>;

/**
 * `<sealed xmlns='urn:xmpp:seal:0' sid='SENDER DEVICE'>` with `<keys jid='…'><key rid='…'
 * [handshake='true']>base64</key>…</keys>` per recipient account and
 * `<payload commitment='…'>base64</payload>`, or no `<payload/>` for a key-only message. A room
 * message also names its sender's bare JID (`sender='…'`), because the room's occupant JID does not.
 *
 * @see spec §envelope.wire
 * @see spec §envelope.key-only
 * @see spec §groups.wire
 */
export const SealedElement = defineElement<SealedValue>({
  name: 'sealed',
  ns: SEAL_NS,
  schema: SealedSchema,
  write: (v) =>
    xml('sealed', { xmlns: SEAL_NS, sid: String(v.sid), ...(v.sender === undefined ? {} : { sender: v.sender }) }, [
      ...v.recipients.map((r) => xml('keys', { jid: r.jid }, r.keys.map((k) => xml('key', { rid: String(k.rid), ...(k.handshake ? { handshake: 'true' } : {}) }, [base64(k.data)])))),
      ...(v.payload === undefined || v.commitment === undefined ? [] : [xml('payload', { commitment: base64(v.commitment) }, [base64(v.payload)])]),
    ]),
  read: (element) => {
    const children = childElements(element);
    // @req encoding.xml-namespaces: <x:keys xmlns:x='urn:example'/> is an unexpected child, not Seal's <keys/>.
    const payloads = children.filter((c) => isNamed(c, 'payload', SEAL_NS));
    const keys = children.filter((c) => isNamed(c, 'keys', SEAL_NS));
    if (payloads.length > 1 || keys.length + payloads.length !== children.length) throw new SealError('schema-violation', '<sealed>: expected <keys/> elements and at most one <payload/>');
    const total = keys.reduce((n, k) => n + childElements(k).length, 0);
    // @req envelope.receive-limits
    if (total > MAX_SEALED_RECIPIENTS) throw new SealError('length-out-of-range', `<sealed>: at most ${MAX_SEALED_RECIPIENTS} keys, got ${total}`);
    const payload = payloads[0];
    return {
      sid: integerAttr(element, 'sid'),
      ...(element.attrs.sender === undefined ? {} : { sender: requiredAttr(element, 'sender') }),
      recipients: keys.map((k) => ({
        jid: requiredAttr(k, 'jid'),
        keys: childElements(k).map((key) => {
          if (!isNamed(key, 'key', SEAL_NS)) throw new SealError('schema-violation', `<keys>: unexpected <${key.getName()}/>`);
          const flag = key.attrs.handshake as unknown;
          if (flag !== undefined && flag !== 'true') throw new SealError('schema-violation', "<key handshake>: expected 'true' or absent");
          // @req envelope.receive-limits: sizes are checked while parsing, before any key is used.
          return { rid: integerAttr(key, 'rid'), handshake: flag === 'true', data: binaryText(key, MAX_KEY_ELEMENT_BYTES) };
        }),
      })),
      // A key-only message has neither; a <payload/> always has its commitment.
      ...(payload === undefined ? {} : { commitment: binaryAttr(payload, 'commitment', 32), payload: binaryText(payload, MAX_PAYLOAD_BYTES) }),
    };
  },
});
