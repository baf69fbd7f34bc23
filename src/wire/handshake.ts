/**
 * The wire forms of §handshake: the asynchronous handshake header that rides on the first
 * messages of a session, the interactive handshake messages, the identity statement exchanged
 * inside the interactive handshake, and the exporter-authenticated Jingle DTLS fingerprints.
 *
 * @see spec §handshake
 * @module
 */
import * as z from 'zod/mini';
import { type Codec, encode, fixed, opaque, optional, struct, u32, u8, vector } from '../codec/binary.js';
import { isWellFormedText, utf8Encode } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import { LENGTHS } from '../suite/types.js';
import { SEAL_NS } from '../suite/suite.js';
import { DeviceIdSchema, IdentitySchema } from './bundle.js';
import { defineElement } from './element.js';
import { DATA_FORMS_NS } from './pep.js';
import { Uint32Id, base64, binaryAttr, bytesOf, bytesWithin } from './fields.js';
import { DISCO_INFO_NS, STANZA_ERRORS_NS, type Element, binaryText, childElements, integerAttr, isNamed, requiredAttr, xml } from './xml.js';

const ed25519Key = fixed(LENGTHS.ed25519PublicKey, 'Ed25519 public key');
const x25519Key = fixed(LENGTHS.x25519PublicKey, 'X25519 public key');
const signatureField = fixed(LENGTHS.ed25519Signature, 'signature');
const IdentityKeysCodec = struct('IdentityKeys', { signingKey: ed25519Key, agreementKey: x25519Key, signature: signatureField });

/** Schema of an asynchronous handshake header. @see spec §handshake.async */
export const AsyncHeaderSchema = z.object({
  initiator: IdentitySchema,
  signedPrekeyId: Uint32Id,
  oneTimePrekeyId: z.optional(Uint32Id),
  kemPrekeyId: Uint32Id,
  ephemeralKey: bytesOf(LENGTHS.x25519PublicKey),
  kemCiphertext: bytesOf(LENGTHS.mlKemCiphertext),
  confirmation: bytesOf(32),
});
/** An asynchronous handshake header. @see spec §handshake.async */
export type AsyncHeaderValue = z.infer<typeof AsyncHeaderSchema>;

/**
 * `struct { IdentityKeys initiator; uint32 signed_prekey_id; optional<uint32> one_time_prekey_id;
 * uint32 kem_prekey_id; opaque ephemeral_key[32]; opaque kem_ciphertext[1088];
 * opaque confirmation[32]; } AsyncHandshakeHeader`.
 *
 * @see spec §handshake.async
 */
export const AsyncHeaderCodec: Codec<AsyncHeaderValue> = struct('AsyncHandshakeHeader', {
  initiator: IdentityKeysCodec,
  signedPrekeyId: u32,
  oneTimePrekeyId: optional(u32),
  kemPrekeyId: u32,
  ephemeralKey: x25519Key,
  kemCiphertext: fixed(LENGTHS.mlKemCiphertext, 'kem_ciphertext'),
  confirmation: fixed(32, 'confirmation'),
}) as Codec<AsyncHeaderValue>;

/** Canonical bytes of a header (what duplicate detection compares). @see spec §handshake.async */
export function encodeAsyncHeader(header: AsyncHeaderValue): Uint8Array {
  return encode(AsyncHeaderCodec, header);
}

/**
 * A party's identity in a session: `struct { opaque jid<1..3071>; uint32 device_id;
 * opaque signing_key[32]; opaque agreement_key[32]; } PartyIdentity`.
 *
 * @see spec §handshake.session
 */
export const PartyIdentityCodec: Codec<{ jid: Uint8Array; deviceId: number; signingKey: Uint8Array; agreementKey: Uint8Array }> = struct('PartyIdentity', {
  jid: opaque(2, { min: 1, max: 3071 }, 'jid'),
  deviceId: u32,
  signingKey: ed25519Key,
  agreementKey: x25519Key,
});

/**
 * What the interactive handshake's responder sends encrypted in message 2:
 * `struct { opaque signing_key[32]; opaque identity_signature[64]; opaque kem_ciphertext[1088];
 * opaque ratchet_key[32]; } ResponderPayload`.
 *
 * @see spec §handshake.interactive
 */
export const ResponderPayloadCodec: Codec<{ signingKey: Uint8Array; identitySignature: Uint8Array; kemCiphertext: Uint8Array; ratchetKey: Uint8Array }> = struct('ResponderPayload', {
  signingKey: ed25519Key,
  identitySignature: signatureField,
  kemCiphertext: fixed(LENGTHS.mlKemCiphertext, 'kem_ciphertext'),
  ratchetKey: x25519Key,
});

/**
 * What the interactive handshake's initiator sends encrypted in message 3:
 * `struct { opaque signing_key[32]; opaque identity_signature[64]; } InitiatorPayload`.
 *
 * @see spec §handshake.interactive
 */
export const InitiatorPayloadCodec: Codec<{ signingKey: Uint8Array; identitySignature: Uint8Array }> = struct('InitiatorPayload', {
  signingKey: ed25519Key,
  identitySignature: signatureField,
});

/** Largest interactive handshake message: the Noise limit (Noise §3). */
export const MAX_NOISE_MESSAGE = 65535;

/** Schema of an interactive handshake message. @see spec §handshake.interactive */
export const InteractiveMessageSchema = z.object({
  sid: z.string().check(z.regex(/^[A-Za-z0-9_-]{8,64}$/)),
  step: z.int().check(z.gte(1), z.lte(3)),
  deviceId: DeviceIdSchema,
  noise: bytesWithin(1, MAX_NOISE_MESSAGE),
});
/** An interactive handshake message. */
export type InteractiveMessageValue = z.infer<typeof InteractiveMessageSchema>;

/**
 * `<interactive xmlns='urn:xmpp:seal:0' sid='…' step='1|2|3' device='…'>base64 Noise message</interactive>`.
 *
 * @see spec §handshake.interactive
 */
export const InteractiveMessageElement = defineElement<InteractiveMessageValue>({
  name: 'interactive',
  ns: SEAL_NS,
  schema: InteractiveMessageSchema,
  write: (m) => xml('interactive', { xmlns: SEAL_NS, sid: m.sid, step: String(m.step), device: String(m.deviceId) }, [base64(m.noise)]),
  read: (element) => ({ sid: requiredAttr(element, 'sid'), step: integerAttr(element, 'step'), deviceId: integerAttr(element, 'device'), noise: binaryText(element, MAX_NOISE_MESSAGE) }),
});

/** The disco#info feature of a device that runs the interactive handshake (XEP-0030). @see spec §handshake.interactive */
export const INTERACTIVE_FEATURE = `${SEAL_NS}:interactive`;


/** The id of the iq that carries step `step` of handshake `sid`: `seal-i-SID-STEP`. @see spec §handshake.interactive */
export function interactiveIqId(sid: string, step: number): string {
  return `seal-i-${sid}-${step}`;
}

/** The handshake and step an iq id names, or `undefined` for an id Seal did not make. @see spec §handshake.interactive */
export function parseInteractiveIqId(id: unknown): { sid: string; step: 1 | 2 | 3 } | undefined {
  if (typeof id !== 'string') return undefined;
  const match = /^seal-i-([A-Za-z0-9_-]{8,64})-([123])$/.exec(id);
  return match === null ? undefined : { sid: match[1]!, step: Number(match[2]) as 1 | 2 | 3 };
}

/**
 * `<iq type='set' to='FULL JID' id='seal-i-SID-STEP'><interactive/></iq>`: one step of an
 * interactive handshake, addressed to the peer's full JID.
 *
 * @see spec §handshake.interactive
 */
export function interactiveIq(to: string, message: InteractiveMessageValue): Element {
  return xml('iq', { type: 'set', to, id: interactiveIqId(message.sid, message.step) }, [InteractiveMessageElement.toXml(message)]);
}

/** Where an answer to `request` goes: its sender (none: the own account, RFC 6120 §8.1.2.1), with its id. */
function answerAddress(request: Element): Record<string, string> {
  const from = request.attrs.from;
  return { ...(typeof from === 'string' ? { to: from } : {}), id: String(request.attrs.id ?? '') };
}

/** The empty `<iq type='result'/>` answering `request` (RFC 6120 §8.2.3). @see spec §handshake.interactive */
export function iqResult(request: Element, children: readonly Element[] = []): Element {
  return xml('iq', { type: 'result', ...answerAddress(request) }, children);
}

/** The `<iq type='error'/>` answering `request` with a defined condition (RFC 6120 §8.3). @see spec §handshake.interactive */
export function iqError(request: Element, type: 'cancel' | 'modify' | 'auth' | 'wait', condition: string): Element {
  return xml('iq', { type: 'error', ...answerAddress(request) }, [xml('error', { type }, [xml(condition, { xmlns: STANZA_ERRORS_NS })])]);
}

/**
 * The disco#info a device answers on its full JID: the feature `urn:xmpp:seal:0:interactive` and
 * an XEP-0128 form (`FORM_TYPE` `urn:xmpp:seal:0`) whose field `device` is its device id.
 *
 * @see spec §handshake.interactive
 */
export function interactiveDiscoInfo(deviceId: number): Element {
  return xml('query', { xmlns: DISCO_INFO_NS }, [
    xml('identity', { category: 'client', type: 'pc' }),
    xml('feature', { var: DISCO_INFO_NS }),
    xml('feature', { var: INTERACTIVE_FEATURE }),
    xml('x', { xmlns: DATA_FORMS_NS, type: 'result' }, [
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, [xml('value', {}, [SEAL_NS])]),
      xml('field', { var: 'device' }, [xml('value', {}, [String(deviceId)])]),
    ]),
  ]);
}

/**
 * Reads a full JID's disco#info result: whether it offers the interactive handshake, and the
 * device id its Seal form names (`undefined` when there is no such form, or its `device` field is
 * not one decimal device id).
 *
 * @throws SealError `unexpected-element` when `query` is not a disco#info `<query/>`.
 * @see spec §handshake.interactive
 */
export function readInteractiveDiscoInfo(query: Element): { readonly interactive: boolean; readonly deviceId: number | undefined } {
  if (!isNamed(query, 'query', DISCO_INFO_NS)) throw new SealError('unexpected-element', `disco#info: expected <query xmlns='${DISCO_INFO_NS}'>`);
  const children = childElements(query);
  const interactive = children.some((c) => isNamed(c, 'feature', DISCO_INFO_NS) && c.attrs.var === INTERACTIVE_FEATURE);
  const values = (form: Element, name: string) => childElements(form).filter((f) => isNamed(f, 'field', DATA_FORMS_NS) && f.attrs.var === name).flatMap((f) => childElements(f).filter((v) => isNamed(v, 'value', DATA_FORMS_NS)).map((v) => v.getText()));
  const forms = children.filter((c) => isNamed(c, 'x', DATA_FORMS_NS) && c.attrs.type === 'result' && values(c, 'FORM_TYPE').join() === SEAL_NS);
  const device = forms.length === 1 ? values(forms[0]!, 'device') : [];
  const deviceId = device.length === 1 && /^[1-9][0-9]{0,9}$/.test(device[0]!) && Number(device[0]) <= 0x7fffffff ? Number(device[0]) : undefined;
  return { interactive, deviceId };
}

/** Hash functions a DTLS fingerprint may use (XEP-0320, RFC 8122). */
export const FINGERPRINT_HASHES = ['sha-256', 'sha-384', 'sha-512'] as const;

const HASH_LENGTHS = { 'sha-256': 32, 'sha-384': 48, 'sha-512': 64 } as const;
const FingerprintSchema = z.object({ hash: z.enum(FINGERPRINT_HASHES), value: bytesWithin(32, 64) }).check(
  z.refine((f) => f.value.length === HASH_LENGTHS[f.hash], 'fingerprint length does not match its hash function'),
);
/** Most UTF-8 bytes of a Jingle session id in `<dtls-fingerprints/>`: what `opaque sid<1..255>` holds. */
const JINGLE_SID_MAX_BYTES = 255;
/**
 * Schema of exporter-authenticated DTLS fingerprints: the Jingle session id is Unicode text of 1
 * to 255 UTF-8 bytes, exactly what the MAC's encoding holds, so a longer one is a schema
 * violation before any MAC is computed.
 *
 * Implements requirement `handshake.jingle-sid`.
 *
 * @see spec §handshake.exporter
 */
export const DtlsFingerprintsSchema = z.object({
  /** The sending device's id: which session the MAC is under, and part of what it covers. */
  deviceId: DeviceIdSchema,
  // @req handshake.jingle-sid
  sid: z.string().check(z.minLength(1), z.refine((v) => isWellFormedText(v) && utf8Encode(v).length <= JINGLE_SID_MAX_BYTES, `expected 1..${JINGLE_SID_MAX_BYTES} bytes of UTF-8`)),
  fingerprints: z.array(FingerprintSchema).check(z.minLength(1), z.maxLength(8)),
  mac: bytesOf(32),
});
/** DTLS fingerprints of a Jingle session, with their exporter MAC. */
export type DtlsFingerprintsValue = z.infer<typeof DtlsFingerprintsSchema>;

/** The role a device has in a Jingle session (XEP-0166): it sent the session-initiate, or it answers it. */
export type JingleRole = 'initiator' | 'responder';

/**
 * What the fingerprint MAC covers:
 * `struct { uint32 sender_device; uint8 sender_role; opaque sid<1..255>; Fingerprint fingerprints<1..8>; } DtlsFingerprints`
 * with `struct { uint8 hash; opaque value<32..64>; } Fingerprint` (hash 1 = sha-256, 2 = sha-384,
 * 3 = sha-512; sender_role 1 = the Jingle session's initiator, 2 = its responder).
 *
 * @see spec §handshake.exporter
 */
export function dtlsFingerprintsContent(value: Pick<DtlsFingerprintsValue, 'deviceId' | 'sid' | 'fingerprints'>, senderRole: JingleRole): Uint8Array {
  const codec = struct('DtlsFingerprints', {
    senderDevice: u32,
    senderRole: u8,
    sid: opaque(1, { min: 1, max: JINGLE_SID_MAX_BYTES }, 'sid'),
    fingerprints: vector(1, { min: 1, max: 8 }, struct('Fingerprint', { hash: u8, value: opaque(1, { min: 32, max: 64 }, 'value') }), 'fingerprints'),
  });
  return encode(codec, { senderDevice: value.deviceId, senderRole: senderRole === 'initiator' ? 1 : 2, sid: utf8Encode(value.sid, 'sid'), fingerprints: value.fingerprints.map((f) => ({ hash: FINGERPRINT_HASHES.indexOf(f.hash) + 1, value: f.value })) });
}

function colonHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
}

function parseColonHex(text: string): Uint8Array {
  if (!/^[0-9A-F]{2}(:[0-9A-F]{2}){31,63}$/.test(text)) throw new SealError('schema-violation', '<fingerprint>: expected upper-case colon-separated hex (RFC 8122)');
  return Uint8Array.from(text.split(':').map((h) => Number.parseInt(h, 16)));
}

/**
 * `<dtls-fingerprints xmlns='urn:xmpp:seal:0' device='…' sid='…' mac='…'>` with
 * `<fingerprint hash='sha-256'>AB:CD:…</fingerprint>` children (RFC 8122 notation).
 *
 * @see spec §handshake.exporter
 */
export const DtlsFingerprintsElement = defineElement<DtlsFingerprintsValue>({
  name: 'dtls-fingerprints',
  ns: SEAL_NS,
  schema: DtlsFingerprintsSchema,
  write: (v) => xml('dtls-fingerprints', { xmlns: SEAL_NS, device: String(v.deviceId), sid: v.sid, mac: base64(v.mac) }, v.fingerprints.map((f) => xml('fingerprint', { hash: f.hash }, [colonHex(f.value)]))),
  read: (element) => {
    const children = childElements(element);
    if (children.length > 8) throw new SealError('length-out-of-range', '<dtls-fingerprints>: at most 8 fingerprints');
    return {
      deviceId: integerAttr(element, 'device'),
      sid: requiredAttr(element, 'sid'),
      mac: binaryAttr(element, 'mac', 32),
      fingerprints: children.map((f) => {
        if (!isNamed(f, 'fingerprint', SEAL_NS)) throw new SealError('schema-violation', `<dtls-fingerprints>: unexpected <${f.getName()}/>`);
        return { hash: requiredAttr(f, 'hash'), value: parseColonHex(f.getText()) };
      }),
    };
  },
});
