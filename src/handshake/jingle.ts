/**
 * Authenticating the DTLS fingerprints of a Jingle session (XEP-0166, XEP-0320) with a Seal
 * session, through the exporter: end-to-end trust for calls and file transfers without a
 * certificate authority.
 *
 * @see spec §handshake.exporter
 * @module
 */
import { utf8Encode } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import { constantTimeEqual, macWithLabel } from '../suite/kdf.js';
import { SymmetricKey } from '../suite/types.js';
import { type DtlsFingerprintsValue, type JingleRole, dtlsFingerprintsContent } from '../wire/handshake.js';
import { HANDSHAKE_LABELS } from './constants.js';
import { type SessionSecret, exportKey } from './session.js';

/** The exporter label of the Jingle DTLS key. */
export const JINGLE_DTLS_EXPORTER_LABEL = 'jingle dtls';

function fingerprintMac(session: SessionSecret, value: Pick<DtlsFingerprintsValue, 'deviceId' | 'sid' | 'fingerprints'>, senderRole: JingleRole): Uint8Array {
  const key = new SymmetricKey(exportKey(session, JINGLE_DTLS_EXPORTER_LABEL, utf8Encode(value.sid), 32));
  return macWithLabel(key, HANDSHAKE_LABELS.dtlsFingerprints, dtlsFingerprintsContent(value, senderRole));
}

const otherRole = (role: JingleRole): JingleRole => (role === 'initiator' ? 'responder' : 'initiator');

/**
 * The `<dtls-fingerprints/>` value a device sends for Jingle session `sid`, in which it has
 * `role`: its DTLS certificate fingerprints and their MAC under the session's exporter, covering
 * its own device id, its role and the sid. It is sent before the DTLS handshake starts (with the
 * session-initiate or session-accept, §handshake.exporter).
 *
 * Implements requirement `handshake.jingle-binding`.
 *
 * @see spec §handshake.exporter
 * @example
 * ```ts
 * const element = DtlsFingerprintsElement.toXml(authenticateDtlsFingerprints(session, { sid: 'a73sjjvkla37jfea', role: 'initiator' }, [{ hash: 'sha-256', value: certHash }]));
 * ```
 */
export function authenticateDtlsFingerprints(session: SessionSecret, jingle: { readonly sid: string; readonly role: JingleRole }, fingerprints: DtlsFingerprintsValue['fingerprints']): DtlsFingerprintsValue {
  // @req handshake.jingle-binding: the MAC covers the sender's device id and role with the sid.
  const value = { deviceId: session.local.deviceId, sid: jingle.sid, fingerprints };
  return { ...value, mac: fingerprintMac(session, value, jingle.role) };
}

/**
 * Checks received `<dtls-fingerprints/>` against the session with the sending device, the Jingle
 * session this device takes part in (its sid, and this device's own role: the sender's is the
 * other one) and the fingerprint of the certificate the peer presented in DTLS. On failure the
 * caller terminates the Jingle session with the reason `security-error`.
 *
 * Implements requirements `handshake.jingle-dtls` and `handshake.jingle-binding`.
 *
 * @param presented - the peer certificate's fingerprint, computed with `hash`.
 * @throws SealError `authentication-failed` when the element names another device than the
 *   session's peer, the MAC does not verify for this sid and the sender's role (a reflected
 *   element, one from another session or device), or the presented fingerprint is not listed.
 * @see spec §handshake.exporter
 */
export function verifyDtlsFingerprints(session: SessionSecret, jingle: { readonly sid: string; readonly role: JingleRole }, received: DtlsFingerprintsValue, presented: { hash: DtlsFingerprintsValue['fingerprints'][number]['hash']; value: Uint8Array }): void {
  // @req handshake.jingle-dtls
  // @req handshake.jingle-binding: the sender is the session's peer device, in the other role.
  if (received.deviceId !== session.peer.deviceId || received.sid !== jingle.sid || !constantTimeEqual(fingerprintMac(session, received, otherRole(jingle.role)), received.mac)) {
    throw new SealError('authentication-failed', 'dtls-fingerprints: MAC does not verify for this session, sending device, role and Jingle sid');
  }
  if (!received.fingerprints.some((f) => f.hash === presented.hash && constantTimeEqual(f.value, presented.value))) {
    throw new SealError('authentication-failed', 'dtls-fingerprints: the presented certificate is not among the authenticated fingerprints');
  }
}
