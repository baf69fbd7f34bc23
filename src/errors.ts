/**
 * The one error type of Seal and its closed set of codes.
 *
 * Every failure that a caller can observe is a {@link SealError} whose `code` is one of
 * {@link SEAL_ERROR_CODES}; the XEP lists the same codes in its error registry (§errors) and a
 * test checks that the two lists agree. Messages name the field and the expectation and never
 * contain secret material.
 *
 * @see spec §errors
 * @module
 */

/**
 * The error registry: each code, the XEP section that raises it, and its meaning.
 * Kept in the same order as the table in spec §errors.
 *
 * @see spec §errors
 */
export const SEAL_ERROR_REGISTRY = {
  'truncated': { section: 'encoding', meaning: 'the input ended before the structure was complete' },
  'trailing-bytes': { section: 'encoding', meaning: 'bytes remain after a complete structure' },
  'length-out-of-range': { section: 'encoding', meaning: 'a length or count is outside the range its field declares' },
  'unknown-version': { section: 'encoding', meaning: 'a version or type number is not one this specification defines' },
  'invalid-value': { section: 'encoding', meaning: 'a field holds a value outside its declared range' },
  'invalid-base64': { section: 'encoding', meaning: 'text is not canonical RFC 4648 base64' },
  'invalid-length': { section: 'suite', meaning: 'a key, nonce, signature, ciphertext or output has the wrong length' },
  'invalid-key': { section: 'suite', meaning: 'a public or private key is malformed (for example an ML-KEM key that fails its modulus or hash check)' },
  'zero-shared-secret': { section: 'suite', meaning: 'an X25519 computation produced the all-zero value (low-order public key)' },
  'authentication-failed': { section: 'suite', meaning: 'an AEAD tag, MAC or signature did not verify' },
  'malformed-xml': { section: 'encoding', meaning: 'XML text is not well-formed or uses a construct Seal forbids' },
  'too-large': { section: 'encoding', meaning: 'an input exceeds the size bound of its element' },
  'unexpected-element': { section: 'encoding', meaning: 'an element has the wrong name or namespace' },
  'schema-violation': { section: 'encoding', meaning: 'an element or document does not match its schema' },
  'expired-prekey': { section: 'identity', meaning: 'a signed prekey or KEM prekey is expired, not yet valid, or valid for longer than allowed' },
  'duplicate-id': { section: 'identity', meaning: 'two prekeys or two devices in one structure have the same id' },
  'stale-device-list': { section: 'identity', meaning: 'a device list is older than one already accepted for the account' },
  'invalid-state': { section: 'identity', meaning: 'stored device state is corrupted or inconsistent' },
  'unknown-prekey': { section: 'handshake', meaning: 'a handshake names a signed, KEM or one-time prekey the device does not hold (never had, or already consumed)' },
  'identity-key-changed': { section: 'handshake', meaning: 'a peer device presents another identity key than the one recorded for it' },
  'handshake-timeout': { section: 'handshake', meaning: 'an interactive handshake did not complete in time and was abandoned' },
  'interactive-unsupported': { section: 'handshake', meaning: 'the peer\'s full JID does not offer the interactive handshake (its disco#info lacks the feature or names no device, or another one)' },
  'skip-limit': { section: 'envelope', meaning: 'a message would require skipping more message keys than the bounds allow' },
  'message-key-unavailable': { section: 'envelope', meaning: 'the key of an old message was deleted (used, evicted or expired): a replay or a message too late to open' },
  'redirected-stanza': { section: 'envelope', meaning: 'the encrypted to/from affixes do not match the stanza that carried them' },
  'no-session': { section: 'envelope', meaning: 'a message names a sender device with which no session exists and carries no handshake, or a seal names a recipient device without a session' },
  'forged-forward': { section: 'offline', meaning: 'a carbon or archive result that does not come from the account itself, or an archive result for a query this device did not send' },
  'untrusted-key': { section: 'device', meaning: 'a device\'s key is distrusted, or waits for the user\'s decision, so nothing is encrypted to or accepted from it' },
  'no-devices': { section: 'device', meaning: 'the recipient account publishes no Seal device list, so nothing can be encrypted for it' },
  'account-key-required': { section: 'device', meaning: 'the account\'s device list is signed by an account key that a new device was not given' },
  'room-not-secure': { section: 'groups', meaning: 'the room is not members-only and non-anonymous, or its configuration or affiliation lists are unknown or too old, so nothing is encrypted to it' },
} as const satisfies Record<string, { section: string; meaning: string }>;

/** A code from the closed set in {@link SEAL_ERROR_REGISTRY}. @see spec §errors */
export type SealErrorCode = keyof typeof SEAL_ERROR_REGISTRY;

/** Every error code, in registry order. @see spec §errors */
export const SEAL_ERROR_CODES = Object.keys(SEAL_ERROR_REGISTRY) as readonly SealErrorCode[];

/**
 * The only error Seal throws for bad input or failed cryptography.
 *
 * `code` is stable and listed in the XEP; `message` is for humans (field, expectation, no
 * secrets); `offset` is the byte or character position for parse errors, when known.
 *
 * @see spec §errors
 * @example
 * ```ts
 * try { decodeBase64('abc') } catch (e) { if (e instanceof SealError) e.code === 'invalid-base64' }
 * ```
 */
export class SealError extends Error {
  override readonly name = 'SealError';
  readonly code: SealErrorCode;
  readonly offset: number | undefined;

  constructor(code: SealErrorCode, message: string, offset?: number) {
    super(offset === undefined ? `${code}: ${message}` : `${code}: ${message} (at offset ${offset})`);
    this.code = code;
    this.offset = offset;
  }
}

/**
 * Whether `e` is a {@link SealError}, optionally with the given code.
 *
 * @example
 * ```ts
 * isSealError(err, 'truncated')
 * ```
 */
export function isSealError(e: unknown, code?: SealErrorCode): e is SealError {
  return e instanceof SealError && (code === undefined || e.code === code);
}
