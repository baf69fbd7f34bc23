/**
 * The device list: creating, changing and signing it with the optional account key, verifying a
 * fetched one, comparing a bundle's identity signing key with the key the list names for its
 * device, and the bytes a foreign (X.509 or OpenPGP) key signs to vouch for the account key.
 *
 * @see spec §identity.devices
 * @module
 */
import { encode } from '../codec/binary.js';
import { utf8Encode } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import { labeledContent } from '../suite/suite.js';
import { constantTimeEqual } from '../suite/kdf.js';
import { assertSignedWithLabel, checkEd25519PublicKey, ed25519PublicKeyOf, ed25519Sign, ed25519Verify, signWithLabel } from '../suite/signature.js';
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
 * Devices are sorted by id so that the same set always gives the same list. Each entry names
 * its device's identity signing key (`signingKey`, the key of the device's bundle), which the
 * account signature covers.
 *
 * Implements requirements `identity.account-signature` and `identity.device-list-keys`.
 *
 * @throws SealError `duplicate-id`, `length-out-of-range` (0 or more than 64 devices),
 *   `invalid-length` or `invalid-key` (a signing key that is not a valid Ed25519 public key),
 *   `schema-violation` (a bad time or label).
 * @see spec §identity.devices
 * @example
 * ```ts
 * const list = createDeviceList(jid, [{ id: state.deviceId, added: now, signingKey: ed25519PublicKeyOf(state.signingKey) }], now, { secretKey });
 * ```
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

/** A device on a verified list: its id and the identity signing key the list names, both checked. @see spec §identity.devices */
export type ListedDevice = DeviceEntryValue & { readonly id: DeviceId; readonly signingKey: Ed25519PublicKey };

function checkEntries(devices: readonly DeviceEntryValue[]): ListedDevice[] {
  // @req identity.device-list
  if (devices.length < 1 || devices.length > IDENTITY_CONSTANTS.MAX_DEVICES) {
    throw new SealError('length-out-of-range', `device list: expected 1..${IDENTITY_CONSTANTS.MAX_DEVICES} devices, got ${devices.length}`);
  }
  const seen = new Set<number>();
  return devices.map((d) => {
    const id = deviceId(d.id);
    // @req identity.device-list-keys
    // @req identity.key-check: every listed signing key, as for the keys of a bundle.
    const signingKey = checkEd25519PublicKey(d.signingKey);
    if (!DeviceEntrySchema.safeParse(d).success) throw new SealError('schema-violation', `device list: entry ${d.id} has an invalid time or label`);
    if (seen.has(d.id)) throw new SealError('duplicate-id', `device list: device id ${d.id} appears twice`);
    seen.add(d.id);
    return { ...d, id, signingKey };
  });
}

/** A device list whose structure, listed keys and (when present) account signature have been checked. */
export interface VerifiedDeviceList {
  readonly jid: BareJid;
  readonly issued: number;
  readonly devices: readonly ListedDevice[];
  /** The account key that signed the list, when it is signed. */
  readonly accountKey?: Ed25519PublicKey;
  /** Binding statements as published; the reference implementation does not verify them. */
  readonly bindings: readonly BindingValue[];
}

/**
 * Verifies a device list fetched from `jid`'s device-list node.
 *
 * Implements requirements `identity.device-list`, `identity.device-list-keys`,
 * `identity.account-signature` and `identity.device-list-rollback`.
 *
 * @param newestIssued - the `issued` time of the newest list this client has accepted before
 *   under the same account key, if any.
 * @throws SealError `duplicate-id`, `length-out-of-range`, `invalid-length` or `invalid-key`
 *   (a listed signing key or the account key), `authentication-failed` (account signature),
 *   `stale-device-list` (older than `newestIssued`).
 * @see spec §identity.devices
 * @example
 * ```ts
 * const verified = verifyDeviceList(jid, DeviceListElement.fromXml(payload), newestIssued);
 * ```
 */
export function verifyDeviceList(jid: BareJid, list: DeviceListValue, newestIssued?: number): VerifiedDeviceList {
  const devices = checkEntries(list.devices);
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
 * The identity signing key that a verified device list names for device `id`, if the device is
 * on it.
 *
 * @see spec §identity.devices
 */
export function listedSigningKey(list: VerifiedDeviceList, id: number): Ed25519PublicKey | undefined {
  return list.devices.find((d) => d.id === id)?.signingKey;
}

/**
 * Compares the identity signing key a device presents (in its bundle) with the key its
 * account's device list names for it. On a signed list the listed key is authoritative; on an
 * unsigned list it is only a hint, which this implementation checks all the same. A device that
 * is not on the list passes: whether to use it at all is the caller's decision.
 *
 * Implements requirements `identity.device-list-keys` and `identity.device-list-key-hint`.
 *
 * @throws SealError `identity-key-changed` when the list names another key for the device;
 *   `invalid-value` when `list` is another account's.
 * @see spec §identity.devices
 * @example
 * ```ts
 * assertListedKey(verifiedList, jid, deviceId, bundle.identity.signingKey);
 * ```
 */
export function assertListedKey(list: VerifiedDeviceList, jid: BareJid, id: number, signingKey: Uint8Array): void {
  if (list.jid !== jid) throw new SealError('invalid-value', `device list: expected the list of ${jid}, got the list of ${list.jid}`);
  const listed = listedSigningKey(list, id);
  // @req identity.device-list-keys: a signed list binds the device id to this key.
  // @req identity.device-list-key-hint: an unsigned list's key is compared all the same.
  if (listed !== undefined && !constantTimeEqual(listed, signingKey)) {
    throw new SealError('identity-key-changed', `device ${id} of ${jid}: identity key differs from the one the ${list.accountKey === undefined ? 'unsigned' : 'signed'} device list names`);
  }
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

/**
 * An OMEMO binding statement (kind `omemo`) for `accountKey`: the OMEMO device's identity key, in
 * its Ed25519 form, signs `accountKeyBindingContent(jid, accountKey, "omemo")` with Ed25519.
 *
 * @see spec §discovery.omemo
 */
export function signOmemoBinding(jid: BareJid, accountKey: Uint8Array, omemoIdentitySecret: Ed25519SecretKey): BindingValue {
  return { kind: 'omemo', certificate: ed25519PublicKeyOf(omemoIdentitySecret), signature: ed25519Sign(omemoIdentitySecret, accountKeyBindingContent(jid, accountKey, 'omemo')) };
}

/**
 * Checks that `omemoIdentityKey` (an OMEMO identity key the user verified, Ed25519 form as
 * XEP-0384 publishes it) vouches for the account key of the signed list `list`: a binding of kind
 * `omemo` whose certificate is that key and whose Ed25519 signature over the binding content
 * verifies. X.509 and OpenPGP bindings are never accepted here (identity.binding-unverified).
 *
 * Implements requirement `discovery.omemo-binding`.
 *
 * @returns the account key the OMEMO key vouches for.
 * @throws SealError `invalid-length` or `invalid-key` for a malformed OMEMO key; `untrusted-key`
 *   when the list is unsigned or carries no omemo binding for that key; `authentication-failed`
 *   when the binding's signature does not verify.
 * @see spec §discovery.omemo
 */
export function verifyOmemoBinding(list: VerifiedDeviceList, omemoIdentityKey: Uint8Array): Ed25519PublicKey {
  // @req discovery.omemo-binding: the OMEMO key is checked as every Ed25519 key (identity.key-check).
  const key = checkEd25519PublicKey(omemoIdentityKey);
  if (list.accountKey === undefined) throw new SealError('untrusted-key', `${list.jid}: the device list is not signed by an account key`);
  const binding = list.bindings.find((b) => b.kind === 'omemo' && constantTimeEqual(b.certificate, key));
  if (binding === undefined) throw new SealError('untrusted-key', `${list.jid}: no omemo binding statement for this OMEMO identity key`);
  if (!ed25519Verify(key, accountKeyBindingContent(list.jid, list.accountKey, 'omemo'), binding.signature)) {
    throw new SealError('authentication-failed', `${list.jid}: the omemo binding statement's signature does not verify`);
  }
  return list.accountKey;
}
