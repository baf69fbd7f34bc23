/**
 * Fingerprints (what users compare to verify a key), their display and `xmpp:` URI forms for QR
 * codes, and the pairwise safety number.
 *
 * @see spec §identity.fingerprint
 * @module
 */
import { encode, fixed, opaque, struct } from '../codec/binary.js';
import { fromHex, isWellFormedText, toHex, utf8Encode } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import { sha256 } from '../suite/kdf.js';
import { labeledContent } from '../suite/suite.js';
import { LENGTHS, checkLength } from '../suite/types.js';
import { MAX_JID_BYTES } from '../wire/bundle.js';
import { type DeviceId, deviceId } from './device.js';
import { type BareJid, bareJid } from './jid.js';
import { HASH_LABELS } from './labels.js';

/**
 * A device fingerprint: SHA-256(LabeledContent("Seal-v0 device fingerprint", signing key)),
 * 32 bytes. It covers the identity signing key only: the agreement key is bound to it by the
 * identity signature.
 *
 * Implements requirement `identity.fingerprint`.
 *
 * @throws SealError `invalid-length` when the key is not 32 bytes.
 * @see spec §identity.fingerprint
 */
export function deviceFingerprint(signingKey: Uint8Array): Uint8Array {
  // @req identity.fingerprint
  return sha256(labeledContent(HASH_LABELS.deviceFingerprint, checkLength(signingKey, LENGTHS.ed25519PublicKey, 'signing key')));
}

/**
 * An account fingerprint: SHA-256(LabeledContent("Seal-v0 account fingerprint", account key)).
 *
 * @see spec §identity.fingerprint
 */
export function accountFingerprint(accountKey: Uint8Array): Uint8Array {
  return sha256(labeledContent(HASH_LABELS.accountFingerprint, checkLength(accountKey, LENGTHS.ed25519PublicKey, 'account key')));
}

/**
 * Display form: 64 lower-case hex digits in 8 groups of 8, separated by spaces.
 *
 * @see spec §identity.fingerprint
 * @example
 * ```ts
 * formatFingerprint(fp) // '3b6a27bc ceb6a42d 62a3a8d0 2a6f0d73 65321577 1de243a6 3ac048a1 8b59da29'
 * ```
 */
export function formatFingerprint(fingerprint: Uint8Array): string {
  return toHex(checkLength(fingerprint, 32, 'fingerprint')).match(/.{8}/g)!.join(' ');
}

/** What a fingerprint URI names: a device's key or an account key. */
export type FingerprintUri =
  | { readonly kind: 'device'; readonly jid: BareJid; readonly deviceId: DeviceId; readonly fingerprint: Uint8Array }
  | { readonly kind: 'account'; readonly jid: BareJid; readonly fingerprint: Uint8Array };

/**
 * The JID in a URI: localpart and domainpart each percent-encoded from UTF-8, leaving only
 * `A-Z a-z 0-9 - _ . ! ~ * ' ( )` unencoded (the set of ECMAScript's encodeURIComponent).
 */
function encodeJid(jid: string): string {
  return jid.split('@').map(encodeURIComponent).join('@');
}

/**
 * The `xmpp:` URI (RFC 5122, XEP-0147 query form) for a QR code:
 * `xmpp:JID?seal;device=ID;fingerprint=HEX` or `xmpp:JID?seal;account=HEX`.
 *
 * @throws SealError `invalid-value` for a JID that is not a bare JID or a device id outside
 *   1..2^31-1, checked in that order; then `invalid-length` for a fingerprint other than 32 bytes.
 *
 * @see spec §identity.fingerprint
 * @example
 * ```ts
 * fingerprintUri({ kind: 'device', jid, deviceId, fingerprint }) // 'xmpp:juliet@capulet.lit?seal;device=31415;fingerprint=3b6a…'
 * ```
 */
export function fingerprintUri(target: FingerprintUri): string {
  // @req identity.jid: the JID, then the device id, then the fingerprint's length.
  const jid = encodeJid(bareJid(target.jid));
  const device = target.kind === 'device' ? deviceId(target.deviceId) : undefined;
  const hex = toHex(checkLength(target.fingerprint, 32, 'fingerprint'));
  return `xmpp:${jid}?seal;${device === undefined ? `account=${hex}` : `device=${device};fingerprint=${hex}`}`;
}

/**
 * Parses a fingerprint URI produced by {@link fingerprintUri} (read from a QR code, for example).
 *
 * Implements requirement `identity.fingerprint-uri`.
 *
 * @throws SealError `invalid-value` for any other text, including text that is not Unicode (a
 *   lone UTF-16 surrogate) and a JID that is not a bare JID; never another exception.
 * @see spec §identity.fingerprint
 */
export function parseFingerprintUri(uri: string): FingerprintUri {
  // @req identity.fingerprint-uri: a typed error for every input, a lone surrogate included.
  if (!isWellFormedText(uri)) throw new SealError('invalid-value', 'fingerprint URI: expected Unicode text (a UTF-16 surrogate without its pair)');
  const match = /^xmpp:([^?#/]+)\?seal;(?:device=([1-9][0-9]{0,9});fingerprint=([0-9a-f]{64})|account=([0-9a-f]{64}))$/.exec(uri);
  if (!match) throw new SealError('invalid-value', 'fingerprint URI: expected xmpp:JID?seal;device=ID;fingerprint=HEX or xmpp:JID?seal;account=HEX');
  let jidText: string;
  try {
    jidText = decodeURIComponent(match[1]!);
  } catch {
    throw new SealError('invalid-value', 'fingerprint URI: bad percent-encoding');
  }
  const jid = bareJid(jidText);
  // One text form per URI: the JID must be encoded exactly as fingerprintUri encodes it.
  if (encodeJid(jid) !== match[1]) throw new SealError('invalid-value', 'fingerprint URI: the JID is not in its canonical percent-encoded form');
  if (match[4] !== undefined) return { kind: 'account', jid, fingerprint: fromHex(match[4]) };
  return { kind: 'device', jid, deviceId: deviceId(Number(match[2])), fingerprint: fromHex(match[3]!) };
}

const SafetyNumberInput = struct('SafetyNumberInput', { jid: opaque(2, { min: 1, max: MAX_JID_BYTES }, 'jid'), key: fixed(32, 'key') });

function half(side: { jid: string; key: Uint8Array }): string {
  const digest = sha256(labeledContent(HASH_LABELS.safetyNumber, encode(SafetyNumberInput, { jid: utf8Encode(bareJid(side.jid)), key: side.key })));
  let digits = '';
  for (let i = 0; i < 6; i++) {
    let chunk = 0;
    for (let j = 0; j < 5; j++) chunk = chunk * 256 + digest[5 * i + j]!;
    digits += String(chunk % 100000).padStart(5, '0');
  }
  return digits;
}

/**
 * The pairwise safety number of two parties, each given by bare JID and public key (account keys
 * when both accounts have one, otherwise the two devices' identity signing keys): 60 decimal
 * digits in 12 groups of 5. Both sides compute the same number; it changes when either key or
 * JID changes.
 *
 * Implements requirement `identity.safety-number`.
 *
 * @see spec §identity.fingerprint
 */
export function safetyNumber(a: { jid: string; key: Uint8Array }, b: { jid: string; key: Uint8Array }): string {
  // @req identity.safety-number
  const halves = [half(a), half(b)].sort();
  return (halves[0]! + halves[1]!).match(/.{5}/g)!.join(' ');
}
