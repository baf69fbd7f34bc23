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
import { type DtlsFingerprintsValue, dtlsFingerprintsContent } from '../wire/handshake.js';
import { HANDSHAKE_LABELS } from './constants.js';
import { type SessionSecret, exportKey } from './session.js';

/** The exporter label of the Jingle DTLS key. */
export const JINGLE_DTLS_EXPORTER_LABEL = 'jingle dtls';

function fingerprintMac(session: SessionSecret, value: Pick<DtlsFingerprintsValue, 'sid' | 'fingerprints'>): Uint8Array {
  const key = new SymmetricKey(exportKey(session, JINGLE_DTLS_EXPORTER_LABEL, utf8Encode(value.sid), 32));
  return macWithLabel(key, HANDSHAKE_LABELS.dtlsFingerprints, dtlsFingerprintsContent(value));
}

/**
 * The `<dtls-fingerprints/>` value a device sends for Jingle session `sid`: its DTLS
 * certificate fingerprints and their MAC under the session's exporter.
 *
 * @see spec §handshake.exporter
 */
export function authenticateDtlsFingerprints(session: SessionSecret, sid: string, fingerprints: DtlsFingerprintsValue['fingerprints']): DtlsFingerprintsValue {
  return { sid, fingerprints, mac: fingerprintMac(session, { sid, fingerprints }) };
}

/**
 * Checks received `<dtls-fingerprints/>` against the session with the sending device and the
 * fingerprint of the certificate the peer presented in DTLS. On failure the caller terminates
 * the Jingle session with the reason `security-error`.
 *
 * Implements requirement `handshake.jingle-dtls`.
 *
 * @param presented - the peer certificate's fingerprint, computed with `hash`.
 * @throws SealError `authentication-failed` when the MAC does not verify, the sid differs, or
 *   the presented fingerprint is not listed.
 * @see spec §handshake.exporter
 */
export function verifyDtlsFingerprints(session: SessionSecret, expectedSid: string, received: DtlsFingerprintsValue, presented: { hash: DtlsFingerprintsValue['fingerprints'][number]['hash']; value: Uint8Array }): void {
  // @req handshake.jingle-dtls
  if (received.sid !== expectedSid || !constantTimeEqual(fingerprintMac(session, received), received.mac)) {
    throw new SealError('authentication-failed', 'dtls-fingerprints: MAC does not verify for this session and Jingle sid');
  }
  if (!received.fingerprints.some((f) => f.hash === presented.hash && constantTimeEqual(f.value, presented.value))) {
    throw new SealError('authentication-failed', 'dtls-fingerprints: the presented certificate is not among the authenticated fingerprints');
  }
}
