/**
 * The device list: creating, changing and signing it with the optional account key, verifying a
 * fetched one, and the bytes a foreign (X.509 or OpenPGP) key signs to vouch for the account key.
 *
 * @see spec §identity.devices
 * @module
 */
import { encode } from '../codec/binary.js';
import { utf8Encode } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import { labeledContent } from '../suite/suite.js';
import { assertSignedWithLabel, checkEd25519PublicKey, ed25519PublicKeyOf, signWithLabel } from '../suite/signature.js';
import type { Ed25519PublicKey, Ed25519SecretKey } from '../suite/types.js';
import { AccountKeyBindingContent, DeviceEntrySchema, type BindingKind, type BindingValue, type DeviceEntryValue, type DeviceListValue, bindingKindNumber, deviceListContent } from '../wire/devices.js';
import { IDENTITY_CONSTANTS } from './constants.js';
import { type DeviceId, deviceId } from './device.js';
import type { BareJid } from './jid.js';
import { SIGNATURE_LABELS } from './labels.js';

/** The account key's secret and the binding statements published with it. */
export interface AccountSigner {
  readonly secretKey: Ed25519SecretKey;
  readonly bindings?: readonly BindingValue[];
}

/**
 * Builds a device list issued at `issued`, signed by the account key when one is given.
 * Devices are sorted by id so that the same set always gives the same list.
 *
 * Implements requirement `identity.account-signature`.
 *
 * @throws SealError `duplicate-id`, `length-out-of-range` (0 or more than 64 devices).
 * @see spec §identity.devices
 */
export function createDeviceList(jid: BareJid, devices: readonly DeviceEntryValue[], issued: number, account?: AccountSigner): DeviceListValue {
  const sorted = [...devices].sort((a, b) => a.id - b.id);
  checkEntries(sorted);
  const list = { issued, devices: sorted };
  if (account === undefined) return list;
  const accountKey = ed25519PublicKeyOf(account.secretKey);
  // @req identity.account-signature
  const signature = signWithLabel(account.secretKey, SIGNATURE_LABELS.deviceList, deviceListContent(jid, list, accountKey));
  return { ...list, account: { accountKey, signature, bindings: [...(account.bindings ?? [])] } };
}

/**
 * The list with `entry` added (or its label and time replaced), issued at `max(now, issued + 1)`
 * and re-signed.
 *
 * @see spec §identity.devices
 */
export function addDevice(jid: BareJid, list: DeviceListValue, entry: DeviceEntryValue, now: number, account?: AccountSigner): DeviceListValue {
  const devices = [...list.devices.filter((d) => d.id !== entry.id), entry];
  return createDeviceList(jid, devices, Math.max(now, list.issued + 1), account);
}

/**
 * The list without device `id`, issued at `max(now, issued + 1)` and re-signed.
 *
 * @throws SealError `length-out-of-range` when it would leave the list empty.
 * @see spec §identity.devices
 */
export function removeDevice(jid: BareJid, list: DeviceListValue, id: number, now: number, account?: AccountSigner): DeviceListValue {
  return createDeviceList(jid, list.devices.filter((d) => d.id !== id), Math.max(now, list.issued + 1), account);
}

function checkEntries(devices: readonly DeviceEntryValue[]): void {
  // @req identity.device-list
  if (devices.length < 1 || devices.length > IDENTITY_CONSTANTS.MAX_DEVICES) {
    throw new SealError('length-out-of-range', `device list: expected 1..${IDENTITY_CONSTANTS.MAX_DEVICES} devices, got ${devices.length}`);
  }
  const seen = new Set<number>();
  for (const d of devices) {
    deviceId(d.id);
    if (!DeviceEntrySchema.safeParse(d).success) throw new SealError('schema-violation', `device list: entry ${d.id} has an invalid time or label`);
    if (seen.has(d.id)) throw new SealError('duplicate-id', `device list: device id ${d.id} appears twice`);
    seen.add(d.id);
  }
}

/** A device list whose structure and (when present) account signature have been checked. */
export interface VerifiedDeviceList {
  readonly jid: BareJid;
  readonly issued: number;
  readonly devices: readonly (DeviceEntryValue & { readonly id: DeviceId })[];
  /** The account key that signed the list, when it is signed. */
  readonly accountKey?: Ed25519PublicKey;
  /** Binding statements as published; the reference implementation does not verify them. */
  readonly bindings: readonly BindingValue[];
}

/**
 * Verifies a device list fetched from `jid`'s device-list node.
 *
 * Implements requirements `identity.device-list`, `identity.account-signature` and
 * `identity.device-list-rollback`.
 *
 * @param newestIssued - the `issued` time of the newest list this client has accepted before
 *   under the same account key, if any.
 * @throws SealError `duplicate-id`, `length-out-of-range`, `invalid-key` (account key),
 *   `authentication-failed` (account signature), `stale-device-list` (older than `newestIssued`).
 * @see spec §identity.devices
 */
export function verifyDeviceList(jid: BareJid, list: DeviceListValue, newestIssued?: number): VerifiedDeviceList {
  checkEntries(list.devices);
  const devices = list.devices.map((d) => ({ ...d, id: deviceId(d.id) }));
  if (list.account === undefined) return { jid, issued: list.issued, devices, bindings: [] };
  const accountKey = checkEd25519PublicKey(list.account.accountKey);
  // @req identity.account-signature
  assertSignedWithLabel(accountKey, SIGNATURE_LABELS.deviceList, deviceListContent(jid, list, accountKey), list.account.signature);
  // @req identity.device-list-rollback
  if (newestIssued !== undefined && list.issued < newestIssued) {
    throw new SealError('stale-device-list', `device list: issued ${list.issued} is older than the accepted ${newestIssued}`);
  }
  return { jid, issued: list.issued, devices, accountKey, bindings: list.account.bindings };
}

/**
 * The exact bytes an X.509 or OpenPGP key signs to vouch for an account key:
 * `LabeledContent("Seal-v0 account key binding", AccountKeyBindingContent(kind, jid, account key))`.
 * How that signature is made and checked is the foreign system's (a CMS/PKCS#1 signature of an
 * X.509 certificate's key, or an OpenPGP binary-document signature); Seal only carries it.
 *
 * @see spec §identity.binding
 */
export function accountKeyBindingContent(jid: BareJid, accountKey: Uint8Array, kind: BindingKind): Uint8Array {
  const content = encode(AccountKeyBindingContent, { kind: bindingKindNumber(kind), jid: utf8Encode(jid), accountKey });
  return labeledContent(SIGNATURE_LABELS.accountKeyBinding, content);
}
