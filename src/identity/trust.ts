/**
 * Trust decisions: per key a state of undecided, verified or distrusted; blind trust before
 * verification as a permitted policy; and key changes, which are never accepted silently.
 *
 * The store is plain data (JSON-serializable) and every function returns a new store.
 *
 * @see spec §identity.trust
 * @module
 */
import { toHex } from '../codec/bytes.js';
import { type VerifiedDeviceList, listedSigningKey } from './devicelist.js';

/** The user's decision about one key. @see spec §identity.trust */
export type TrustLevel = 'undecided' | 'verified' | 'distrusted';

/** A key (hex) and the decision about it. */
export interface KeyRecord {
  readonly key: string;
  readonly level: TrustLevel;
}

/** What a client knows about one account's keys. */
export interface AccountTrust {
  readonly accountKey?: KeyRecord;
  readonly devices: { readonly [deviceId: string]: KeyRecord };
}

/** Per bare JID, what the client knows. */
export type TrustStore = { readonly [jid: string]: AccountTrust };

/**
 * How undecided keys are treated. `blind-trust-before-verification`: an account's undecided
 * keys are used until the user has verified any key of that account, after which new keys wait
 * for a decision. `manual`: undecided keys are never used.
 *
 * @see spec §identity.trust
 */
export type TrustPolicy = 'blind-trust-before-verification' | 'manual';

/** What observing a key revealed. `key-changed` must be shown to the user. */
export type KeyEvent = 'new' | 'unchanged' | 'key-changed';

function account(store: TrustStore, jid: string): AccountTrust {
  return store[jid] ?? { devices: {} };
}

/**
 * Records the identity signing key seen for a device. A device id whose key differs from the
 * recorded one is a key change: the new key replaces the old one as `undecided`, whatever the old
 * decision was, and the event is `key-changed`, which a client shows to the user.
 *
 * Implements requirement `identity.key-change`.
 *
 * @see spec §identity.trust
 */
export function observeDeviceKey(store: TrustStore, jid: string, deviceId: number, signingKey: Uint8Array): { store: TrustStore; event: KeyEvent } {
  const current = account(store, jid);
  const key = toHex(signingKey);
  const known = current.devices[deviceId];
  if (known?.key === key) return { store, event: 'unchanged' };
  // @req identity.key-change
  const devices = { ...current.devices, [deviceId]: { key, level: 'undecided' as const } };
  return { store: { ...store, [jid]: { ...current, devices } }, event: known === undefined ? 'new' : 'key-changed' };
}

/**
 * Records the account key of a verified device list (or its absence). A different key than the
 * recorded one, or a list that is no longer signed, is `key-changed`.
 *
 * Implements requirement `identity.key-change`.
 *
 * @see spec §identity.trust
 */
export function observeAccountKey(store: TrustStore, list: VerifiedDeviceList): { store: TrustStore; event: KeyEvent } {
  const current = account(store, list.jid);
  const key = list.accountKey === undefined ? undefined : toHex(list.accountKey);
  if (current.accountKey?.key === key) return { store, event: 'unchanged' };
  if (key === undefined) {
    // A previously signed account publishes an unsigned list: keep the record, report the change.
    return { store, event: current.accountKey === undefined ? 'unchanged' : 'key-changed' };
  }
  // @req identity.key-change
  const next: AccountTrust = { ...current, accountKey: { key, level: 'undecided' } };
  return { store: { ...store, [list.jid]: next }, event: current.accountKey === undefined ? 'new' : 'key-changed' };
}

/**
 * Sets the user's decision for a device key or the account key, if the recorded key is `key`
 * (so a decision made on a stale screen cannot apply to a key the user never saw).
 *
 * @returns the new store, unchanged when the key does not match.
 * @see spec §identity.trust
 */
export function decide(store: TrustStore, jid: string, target: { deviceId: number } | 'account', key: Uint8Array, level: TrustLevel): TrustStore {
  const current = account(store, jid);
  const hex = toHex(key);
  if (target === 'account') {
    if (current.accountKey?.key !== hex) return store;
    return { ...store, [jid]: { ...current, accountKey: { key: hex, level } } };
  }
  if (current.devices[target.deviceId]?.key !== hex) return store;
  return { ...store, [jid]: { ...current, devices: { ...current.devices, [target.deviceId]: { key: hex, level } } } };
}

/**
 * Whether a client may encrypt to (and accept messages from) a device: never when the device key
 * or the account key that signs its list is distrusted; always when the device key is verified,
 * or when the device is on a list signed by a verified account key and that list names exactly
 * `signingKey` for it; for an undecided key, as the policy says.
 *
 * Implements requirements `identity.trust-distrusted` and `identity.trust-listed-key`.
 *
 * @param signingKey - the identity signing key the device presents (from its verified bundle).
 * @param deviceList - the account's current device list, verified with `verifyDeviceList`, or
 *   `undefined` when the client has none. It counts only when it is `jid`'s, signed, and signed
 *   by the account key recorded in `store`.
 * @returns whether the device may be used.
 * @see spec §identity.trust
 * @example
 * ```ts
 * if (isTrusted(store, 'manual', jid, bundle.deviceId, bundle.signingKey, verifiedList)) send();
 * ```
 */
export function isTrusted(store: TrustStore, policy: TrustPolicy, jid: string, deviceId: number, signingKey: Uint8Array, deviceList: VerifiedDeviceList | undefined): boolean {
  const current = account(store, jid);
  const record = current.devices[deviceId];
  const key = toHex(signingKey);
  // Under the recorded account key: a list signed by another key says nothing about this account's trust.
  const signedList = deviceList !== undefined && deviceList.jid === jid && deviceList.accountKey !== undefined && current.accountKey?.key === toHex(deviceList.accountKey) ? deviceList : undefined;
  const listed = signedList === undefined ? undefined : listedSigningKey(signedList, deviceId);
  // @req identity.trust-distrusted
  if (record === undefined || record.key !== key || record.level === 'distrusted') return false;
  // Listing the device id under a distrusted account key is enough to distrust it, whatever key is listed.
  if (listed !== undefined && current.accountKey?.level === 'distrusted') return false;
  if (record.level === 'verified') return true;
  // @req identity.binding-unverified: binding statements never make a key verified here; only
  // the user's decision (or the client's own verification of a binding, recorded with decide()) does.
  // @req identity.trust-listed-key: the account key vouches for the key its list names, not for
  // whatever key a device with a listed id presents.
  if (listed !== undefined && toHex(listed) === key && current.accountKey?.level === 'verified') return true;
  if (policy === 'manual') return false;
  const anyVerified = current.accountKey?.level === 'verified' || Object.values(current.devices).some((d) => d.level === 'verified');
  return !anyVerified;
}
