/**
 * The labels of §identity (each is prefixed with `Seal-v0 ` by the suite).
 *
 * @see spec §identity.labels
 * @module
 */

/** Labels of the signatures in §identity. @see spec §identity.labels */
export const SIGNATURE_LABELS = {
  identityKeys: 'identity keys',
  signedPrekey: 'signed prekey',
  kemPrekey: 'kem prekey',
  deviceList: 'device list',
  accountKeyBinding: 'account key binding',
} as const;

/** Labels of the hashes in §identity. @see spec §identity.labels */
export const HASH_LABELS = {
  deviceFingerprint: 'device fingerprint',
  accountFingerprint: 'account fingerprint',
  safetyNumber: 'safety number',
} as const;
