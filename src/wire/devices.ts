/**
 * The device list: an account's devices, optionally signed by the account key, with optional
 * binding statements by which an X.509 or OpenPGP key vouches for the account key.
 *
 * @see spec §identity.devices
 * @module
 */
import * as z from 'zod/mini';
import { type Codec, encode, fixed, opaque, optional, struct, u32, u64n, vector, versionByte } from '../codec/binary.js';
import { isWellFormedText, utf8Decode, utf8Encode } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import { LENGTHS } from '../suite/types.js';
import { SEAL_NS } from '../suite/suite.js';
import { DeviceIdSchema, MAX_JID_BYTES } from './bundle.js';
import { defineElement } from './element.js';
import { Seconds, base64, binaryAttr, bytesOf, bytesWithin, dateTimeAttr, formatDateTime } from './fields.js';
import { type Element, binaryText, childElements, integerAttr, isNamed, onlyChild, optionalAttr, requiredAttr, xml } from './xml.js';

/** Largest number of devices on one account's list. @see spec §identity.devices */
export const MAX_DEVICES = 64;
/** Largest device label, in UTF-8 bytes. @see spec §identity.devices */
export const MAX_DEVICE_LABEL_BYTES = 64;
/** Largest number of binding statements for one account key. @see spec §identity.binding */
export const MAX_BINDINGS = 4;
/** Largest foreign certificate or signature in a binding statement, in bytes. @see spec §identity.binding */
export const MAX_BINDING_FIELD_BYTES = 16384;

/** Binding kinds: the foreign key that vouches for the account key. @see spec §identity.binding */
export const BINDING_KINDS = { x509: 1, openpgp: 2, omemo: 3 } as const;
/** A binding kind name. */
export type BindingKind = keyof typeof BINDING_KINDS;

const label = z.string().check(z.minLength(1), z.refine((v) => isWellFormedText(v) && utf8Encode(v).length <= MAX_DEVICE_LABEL_BYTES && !/[\u0000-\u001f\u007f]/.test(v), `expected 1..${MAX_DEVICE_LABEL_BYTES} UTF-8 bytes without control characters`));
/** Schema of a DeviceEntry value: the device id, when it was added, its identity signing key and an optional label. */
export const DeviceEntrySchema = z.object({ id: DeviceIdSchema, added: Seconds, signingKey: bytesOf(LENGTHS.ed25519PublicKey), label: z.optional(label) });
/** Schema of a Binding value. */
export const BindingSchema = z.object({ kind: z.enum(['x509', 'openpgp', 'omemo']), certificate: bytesWithin(1, MAX_BINDING_FIELD_BYTES), signature: bytesWithin(1, MAX_BINDING_FIELD_BYTES) });
/** Schema of a AccountSignature value. */
export const AccountSignatureSchema = z.object({ accountKey: bytesOf(LENGTHS.ed25519PublicKey), signature: bytesOf(LENGTHS.ed25519Signature), bindings: z.array(BindingSchema).check(z.maxLength(MAX_BINDINGS)) });

/** Schema of a device list value. @see spec §identity.devices */
export const DeviceListSchema = z.object({
  issued: Seconds,
  devices: z.array(DeviceEntrySchema).check(z.minLength(1), z.maxLength(MAX_DEVICES)),
  account: z.optional(AccountSignatureSchema),
});

/** One device on the list, with the identity signing key the list binds to its id. */
export type DeviceEntryValue = z.infer<typeof DeviceEntrySchema>;
/** A binding statement: a foreign key's certificate and its signature over {@link AccountKeyBindingContent}. */
export type BindingValue = z.infer<typeof BindingSchema>;
/** The account key, its signature over {@link deviceListContent}, and binding statements. */
export type AccountSignatureValue = z.infer<typeof AccountSignatureSchema>;
/** A device list, as published. @see spec §identity.devices */
export type DeviceListValue = z.infer<typeof DeviceListSchema>;

const DeviceEntryCodec = struct('DeviceEntry', {
  id: u32,
  added: u64n,
  signingKey: fixed(LENGTHS.ed25519PublicKey, 'DeviceEntry.signing_key'),
  label: opaque(1, { max: MAX_DEVICE_LABEL_BYTES }, 'DeviceEntry.label'),
});
const entries = vector(1, { min: 1, max: MAX_DEVICES }, DeviceEntryCodec, 'devices');

function entryToCodec(entry: DeviceEntryValue) {
  return { id: entry.id, added: entry.added, signingKey: entry.signingKey, label: utf8Encode(entry.label ?? '') };
}

/**
 * What the account key signs (label `device list`):
 * `struct { opaque jid<1..3071>; uint64 issued; DeviceEntry devices<1..64>; opaque account_key[32]; }`
 * with `struct { uint32 id; uint64 added; opaque signing_key[32]; opaque label<0..64>; } DeviceEntry`,
 * so the signature binds each listed device id to that device's identity signing key.
 *
 * @see spec §identity.devices
 */
export function deviceListContent(jid: string, list: Pick<DeviceListValue, 'issued' | 'devices'>, accountKey: Uint8Array): Uint8Array {
  const codec = struct('DeviceListContent', { jid: opaque(2, { min: 1, max: MAX_JID_BYTES }, 'jid'), issued: u64n, devices: entries, accountKey: fixed(32, 'account_key') });
  return encode(codec, { jid: utf8Encode(jid), issued: list.issued, devices: list.devices.map(entryToCodec), accountKey });
}

/**
 * What the foreign key of a binding statement signs (label `account key binding`):
 * `struct { uint8 kind; opaque jid<1..3071>; opaque account_key[32]; }`.
 *
 * @see spec §identity.binding
 */
export const AccountKeyBindingContent: Codec<{ kind: number; jid: Uint8Array; accountKey: Uint8Array }> = struct('AccountKeyBindingContent', {
  kind: versionByte([BINDING_KINDS.x509, BINDING_KINDS.openpgp, BINDING_KINDS.omemo], 'binding kind'),
  jid: opaque(2, { min: 1, max: MAX_JID_BYTES }, 'jid'),
  accountKey: fixed(32, 'account_key'),
});

const BindingCodec = struct('Binding', {
  kind: versionByte([BINDING_KINDS.x509, BINDING_KINDS.openpgp, BINDING_KINDS.omemo], 'binding kind'),
  certificate: opaque(2, { min: 1, max: MAX_BINDING_FIELD_BYTES }, 'certificate'),
  signature: opaque(2, { min: 1, max: MAX_BINDING_FIELD_BYTES }, 'signature'),
});

const DeviceListBinary = struct('DeviceList', {
  issued: u64n,
  devices: entries,
  account: optional(struct('AccountSignature', {
    accountKey: fixed(32, 'account_key'),
    signature: fixed(64, 'signature'),
    bindings: vector(1, { max: MAX_BINDINGS }, BindingCodec, 'bindings'),
  })),
});

type BinaryList = { issued: number; devices: readonly { id: number; added: number; signingKey: Uint8Array; label: Uint8Array }[]; account: { accountKey: Uint8Array; signature: Uint8Array; bindings: readonly { kind: number; certificate: Uint8Array; signature: Uint8Array }[] } | undefined };

/**
 * The canonical binary encoding of a whole device list:
 * `struct { uint64 issued; DeviceEntry devices<1..64>; optional<AccountSignature> account; }`.
 *
 * @see spec §identity.devices
 */
export const DeviceListCodec: Codec<DeviceListValue> = {
  name: 'DeviceList',
  encode(writer, list) {
    const value: BinaryList = {
      issued: list.issued,
      devices: list.devices.map(entryToCodec),
      account: list.account && { ...list.account, bindings: list.account.bindings.map((b) => ({ ...b, kind: BINDING_KINDS[b.kind] })) },
    };
    DeviceListBinary.encode(writer, value as never);
  },
  decode(reader) {
    const value = DeviceListBinary.decode(reader) as unknown as BinaryList;
    return {
      issued: value.issued,
      devices: value.devices.map((d) => {
        const text = utf8Decode(d.label, 'DeviceEntry.label');
        return text === '' ? { id: d.id, added: d.added, signingKey: d.signingKey } : { id: d.id, added: d.added, signingKey: d.signingKey, label: text };
      }),
      ...(value.account === undefined ? {} : {
        account: { ...value.account, bindings: value.account.bindings.map((b) => ({ ...b, kind: b.kind === BINDING_KINDS.x509 ? ('x509' as const) : b.kind === BINDING_KINDS.openpgp ? ('openpgp' as const) : ('omemo' as const) })) },
      }),
    };
  },
};

/** Canonical bytes of a device list. @see spec §identity.devices */
export function encodeDeviceList(list: DeviceListValue): Uint8Array {
  return encode(DeviceListCodec, list);
}

function readBinding(element: Element): BindingValue {
  if (!isNamed(element, 'binding', SEAL_NS)) throw new SealError('schema-violation', `<account-key>: unexpected child <${element.name}/>`);
  const kind = requiredAttr(element, 'kind');
  if (kind !== 'x509' && kind !== 'openpgp' && kind !== 'omemo') throw new SealError('schema-violation', `<binding kind>: expected x509, openpgp or omemo`);
  const field = (name: string) => {
    return binaryText(onlyChild(element, name, SEAL_NS), MAX_BINDING_FIELD_BYTES);
  };
  return { kind, certificate: field('certificate'), signature: field('signature') };
}

/**
 * `<devices xmlns='urn:xmpp:seal:0' issued='…'>` with `<device id='…' added='…' signing='…'/>`
 * children (`signing`: the device's identity signing key, base64, required) and an optional
 * `<account-key/>` holding the account key, its signature and binding statements.
 *
 * @see spec §identity.devices
 */
export const DeviceListElement = defineElement<DeviceListValue>({
  name: 'devices',
  ns: SEAL_NS,
  schema: DeviceListSchema,
  write: (list) =>
    xml('devices', { xmlns: SEAL_NS, issued: formatDateTime(list.issued) }, [
      ...list.devices.map((d) => xml('device', { id: String(d.id), added: formatDateTime(d.added), signing: base64(d.signingKey), ...(d.label === undefined ? {} : { label: d.label }) })),
      ...(list.account === undefined ? [] : [
        xml('account-key', { key: base64(list.account.accountKey), signature: base64(list.account.signature) },
          list.account.bindings.map((b) => xml('binding', { kind: b.kind }, [xml('certificate', {}, [base64(b.certificate)]), xml('signature', {}, [base64(b.signature)])]))),
      ]),
    ]),
  read: (element) => {
    const children = childElements(element);
    // @req encoding.xml-namespaces
    const devices = children.filter((c) => isNamed(c, 'device', SEAL_NS));
    const accountKeys = children.filter((c) => isNamed(c, 'account-key', SEAL_NS));
    // @req identity.device-list: the counts first, then the encodings of the keys and the
    // signature, then the rest of the schema.
    if (devices.length < 1 || devices.length > MAX_DEVICES) throw new SealError('length-out-of-range', `<devices>: expected 1..${MAX_DEVICES} devices, got ${devices.length}`);
    for (const a of accountKeys) {
      if (childElements(a).length > MAX_BINDINGS) throw new SealError('length-out-of-range', `<account-key>: expected at most ${MAX_BINDINGS} bindings`);
    }
    for (const d of devices) if (optionalAttr(d, 'signing') !== undefined) binaryAttr(d, 'signing', LENGTHS.ed25519PublicKey);
    for (const a of accountKeys) {
      if (optionalAttr(a, 'key') !== undefined) binaryAttr(a, 'key', LENGTHS.ed25519PublicKey);
      if (optionalAttr(a, 'signature') !== undefined) binaryAttr(a, 'signature', LENGTHS.ed25519Signature);
    }
    if (devices.length + accountKeys.length !== children.length) throw new SealError('schema-violation', '<devices>: unexpected child element');
    if (accountKeys.length > 1) throw new SealError('schema-violation', '<devices>: at most one <account-key/>');
    const account = accountKeys[0];
    const bindings = account === undefined ? [] : childElements(account);
    return {
      issued: dateTimeAttr(element, 'issued'),
      devices: devices.map((d) => {
        const text = optionalAttr(d, 'label');
        const entry = { id: integerAttr(d, 'id'), added: dateTimeAttr(d, 'added'), signingKey: binaryAttr(d, 'signing', LENGTHS.ed25519PublicKey) };
        return text === undefined ? entry : { ...entry, label: text };
      }),
      ...(account === undefined ? {} : {
        account: { accountKey: binaryAttr(account, 'key', 32), signature: binaryAttr(account, 'signature', 64), bindings: bindings.map(readBinding) },
      }),
    };
  },
});

/** The number of a binding kind in {@link AccountKeyBindingContent}. */
export function bindingKindNumber(kind: BindingKind): number {
  return BINDING_KINDS[kind];
}
