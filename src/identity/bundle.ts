/**
 * Verifying a fetched bundle before any handshake uses it.
 *
 * @see spec §identity.bundle
 * @module
 */
import { encode } from '../codec/binary.js';
import { utf8Encode } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import { checkX25519PublicKey } from '../suite/agreement.js';
import { mlKemPublicKey } from '../suite/kem.js';
import { assertSignedWithLabel, checkEd25519PublicKey } from '../suite/signature.js';
import type { Ed25519PublicKey, MlKemPublicKey, X25519PublicKey } from '../suite/types.js';
import { type BundleValue, IdentityKeysContent, KemPrekeyContent, SignedPrekeyContent } from '../wire/bundle.js';
import { IDENTITY_CONSTANTS } from './constants.js';
import type { DeviceId } from './device.js';
import { type VerifiedDeviceList, assertListedKey } from './devicelist.js';
import type { BareJid } from './jid.js';
import { SIGNATURE_LABELS } from './labels.js';

/** A bundle whose keys, signatures and validity have been checked for one JID and device. */
export interface VerifiedBundle {
  readonly jid: BareJid;
  readonly deviceId: DeviceId;
  readonly signingKey: Ed25519PublicKey;
  readonly agreementKey: X25519PublicKey;
  readonly signedPrekey: { readonly id: number; readonly created: number; readonly expires: number; readonly publicKey: X25519PublicKey };
  readonly kemPrekey: { readonly id: number; readonly created: number; readonly expires: number; readonly publicKey: MlKemPublicKey };
  readonly oneTimePrekeys: readonly { readonly id: number; readonly publicKey: X25519PublicKey }[];
}

/**
 * Checks a prekey's validity period at time `now`.
 *
 * Implements requirement `identity.prekey-validity`.
 *
 * @throws SealError `expired-prekey` when `now` is at or after `expires`, `created` lies more
 *   than MAX_CLOCK_SKEW in the future, `expires` is not after `created`, or the validity is
 *   longer than MAX_PREKEY_VALIDITY.
 * @see spec §identity.bundle
 */
export function checkPrekeyValidity(what: string, key: { created: number; expires: number }, now: number): void {
  // @req identity.prekey-validity
  if (key.expires <= key.created || key.expires - key.created > IDENTITY_CONSTANTS.MAX_PREKEY_VALIDITY) {
    throw new SealError('expired-prekey', `${what}: validity period must be 1 s to ${IDENTITY_CONSTANTS.MAX_PREKEY_VALIDITY} s, got ${key.expires - key.created} s`);
  }
  if (key.created > now + IDENTITY_CONSTANTS.MAX_CLOCK_SKEW) throw new SealError('expired-prekey', `${what}: created in the future`);
  if (now >= key.expires) throw new SealError('expired-prekey', `${what}: expired`);
}

/**
 * Verifies a bundle fetched from the PEP node of device `deviceId` of account `jid`, at time
 * `now` (seconds). Checks, in the order identity.verify-bundle gives (the first failure gives the
 * error): the number of one-time prekeys; the keys in the order of the Bundle structure (length,
 * then value: canonical encodings, no low-order X25519 or small-order Ed25519 keys, the ML-KEM
 * modulus check), each one-time prekey's key followed by its id's uniqueness; the identity
 * signature over the keys, the JID and the device id, then both prekey signatures; both validity
 * periods; and, when the account's verified device list is given, that the identity signing key
 * is the one the list names for the device. ({@link BundleElement} checks the count, then the
 * encodings and lengths, then the rest of the schema, before this runs.)
 *
 * Implements requirements `identity.verify-bundle`, `identity.one-time-prekeys`,
 * `identity.device-list-keys` and `identity.device-list-key-hint`.
 *
 * @param context.deviceList - the account's current device list, verified with
 *   `verifyDeviceList`. A client that has it MUST pass it when the list is signed: without
 *   it a server can present its own keys for a listed device id.
 * @throws SealError `length-out-of-range` for more than 100 one-time prekeys; `invalid-length` or
 *   `invalid-key` for a bad key; `duplicate-id`; `authentication-failed` for a bad signature
 *   (including one made for another JID, device or label); `expired-prekey`;
 *   `identity-key-changed` when `deviceList` names another signing key for the device;
 *   `invalid-value` when `deviceList` is another account's.
 * @see spec §identity.bundle
 * @example
 * ```ts
 * const verified = verifyBundle(bundle, { jid, deviceId, now, deviceList: verifyDeviceList(jid, list) });
 * ```
 */
export function verifyBundle(bundle: BundleValue, context: { jid: BareJid; deviceId: DeviceId; now: number; deviceList?: VerifiedDeviceList }): VerifiedBundle {
  const { jid, deviceId, now } = context;
  // @req identity.one-time-prekeys: the count first.
  if (bundle.oneTimePrekeys.length > IDENTITY_CONSTANTS.MAX_ONE_TIME_PREKEYS) {
    throw new SealError('length-out-of-range', `bundle: expected at most ${IDENTITY_CONSTANTS.MAX_ONE_TIME_PREKEYS} one-time prekeys, got ${bundle.oneTimePrekeys.length}`);
  }
  // @req identity.verify-bundle: the keys in the order of the Bundle structure.
  const signingKey = checkEd25519PublicKey(bundle.identity.signingKey);
  const agreementKey = checkX25519PublicKey(bundle.identity.agreementKey);
  const signedPublic = checkX25519PublicKey(bundle.signedPrekey.publicKey);
  const kemPublic = mlKemPublicKey(bundle.kemPrekey.publicKey);
  const ids = new Set<number>();
  const oneTimePrekeys = bundle.oneTimePrekeys.map((k) => {
    const publicKey = checkX25519PublicKey(k.publicKey);
    // @req identity.one-time-prekeys: each key, then its id's uniqueness.
    if (ids.has(k.id)) throw new SealError('duplicate-id', `bundle: one-time prekey id ${k.id} appears twice`);
    ids.add(k.id);
    return { id: k.id, publicKey };
  });

  // @req identity.identity-signature
  const identityContent = encode(IdentityKeysContent, { jid: utf8Encode(jid), deviceId, signingKey, agreementKey });
  assertSignedWithLabel(signingKey, SIGNATURE_LABELS.identityKeys, identityContent, bundle.identity.signature);
  // @req identity.prekey-signatures
  const { signedPrekey, kemPrekey } = bundle;
  assertSignedWithLabel(signingKey, SIGNATURE_LABELS.signedPrekey, encode(SignedPrekeyContent, { ...signedPrekey, publicKey: signedPublic }), signedPrekey.signature);
  assertSignedWithLabel(signingKey, SIGNATURE_LABELS.kemPrekey, encode(KemPrekeyContent, { ...kemPrekey, publicKey: kemPublic }), kemPrekey.signature);

  checkPrekeyValidity('signed prekey', signedPrekey, now);
  checkPrekeyValidity('KEM prekey', kemPrekey, now);

  // @req identity.device-list-keys
  if (context.deviceList !== undefined) assertListedKey(context.deviceList, jid, deviceId, signingKey);
  return {
    jid,
    deviceId,
    signingKey,
    agreementKey,
    signedPrekey: { id: signedPrekey.id, created: signedPrekey.created, expires: signedPrekey.expires, publicKey: signedPublic },
    kemPrekey: { id: kemPrekey.id, created: kemPrekey.created, expires: kemPrekey.expires, publicKey: kemPublic },
    oneTimePrekeys,
  };
}
