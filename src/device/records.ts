/**
 * The persisted records of the device engine: a peer session (two ratchets and the key
 * confirmation state), the handshake log, maps of times, one account's trust decisions, a
 * verified device list and the account key's secret, each as versioned JSON text
 * (`{ "format": "seal-<record>", "version": 1, … }`) with every binary value in base64. Loading
 * validates a record completely — types, every key's length, every list's bound, the invariants
 * the protocol code relies on — so a corrupted or foreign record gives a typed error instead of
 * undefined behaviour later.
 *
 * Writing checks the same bounds, so a record that would not load is refused when it is written,
 * not discovered after a restart.
 *
 * @see spec §identity.state
 * @module
 */
import * as z from 'zod/mini';
import { decodeBase64, encodeBase64 } from '../codec/base64.js';
import { decode, encode } from '../codec/binary.js';
import { fromHex } from '../codec/bytes.js';
import { SealError, isSealError } from '../errors.js';
import { type X25519KeyPair, x25519PublicKeyOf } from '../suite/agreement.js';
import { checkEd25519PublicKey } from '../suite/signature.js';
import { Ed25519SecretKey, LENGTHS, SymmetricKey, X25519SecretKey, x25519PublicKey } from '../suite/types.js';
import { MAX_JID_BYTES } from '../wire/bundle.js';
import { BindingSchema, MAX_BINDING_FIELD_BYTES, MAX_BINDINGS, MAX_DEVICE_LABEL_BYTES, MAX_DEVICES } from '../wire/devices.js';
import { AsyncHeaderCodec, AsyncHeaderSchema } from '../wire/handshake.js';
import { type VerifiedDeviceList, verifyDeviceList } from '../identity/devicelist.js';
import type { BareJid } from '../identity/jid.js';
import type { AccountTrust, KeyRecord, TrustLevel } from '../identity/trust.js';
import { HANDSHAKE_CONSTANTS } from '../handshake/constants.js';
import { type HandshakeLog, HandshakeLogEntryCodec, type KeyConfirmation } from '../handshake/async.js';
import { ENVELOPE_CONSTANTS } from '../envelope/constants.js';
import type { PeerSession } from '../envelope/envelope.js';
import type { RatchetState, SkippedKey } from '../envelope/ratchet.js';

/** The version of every record format this code writes and reads. @see spec §identity.state */
export const RECORD_VERSION = 1;

/** The format tags, one per record kind. @see spec §identity.state */
export const RECORD_FORMATS = {
  session: 'seal-session',
  handshakeLog: 'seal-handshake-log',
  timestamps: 'seal-timestamps',
  accountTrust: 'seal-account-trust',
  deviceList: 'seal-device-list',
  accountSecret: 'seal-account-secret',
} as const;

/**
 * Signed prekeys a device state holds at most (the bound `importDeviceState` enforces); the
 * handshake log keeps up to MAX_PROCESSED_HANDSHAKES entries without a one-time prekey for each.
 */
const MAX_HELD_SIGNED_PREKEYS = 16;

/**
 * The bounds of the records. Text sizes are in characters (every record is ASCII except device
 * labels and map keys). Each text bound holds the largest record the other bounds allow, except
 * for the two maps, whose text bound is the binding one.
 *
 * @see spec §identity.state
 */
export const RECORD_LIMITS = {
  /** Largest session record: two ratchets with full skipped-key and recently-opened lists (about 1.1 MB). */
  MAX_SESSION_CHARS: 2 * 1024 * 1024,
  /** Largest encoded SessionBinding (the ratchet's associated data): suite<1..255> and two PartyIdentity with the longest JIDs. */
  MAX_ASSOCIATED_DATA_BYTES: 1 + 255 + 2 * (2 + MAX_JID_BYTES + 4 + LENGTHS.ed25519PublicKey + LENGTHS.x25519PublicKey),
  /** Largest AsyncHandshakeHeader accepted before its codec checks the exact length. */
  MAX_HEADER_BYTES: 2048,
  /** Most handshake log entries: MAX_PROCESSED_HANDSHAKES with a one-time prekey, and as many without one per held signed prekey. */
  MAX_HANDSHAKE_LOG_ENTRIES: HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES * (1 + MAX_HELD_SIGNED_PREKEYS),
  /** Largest handshake log record (about 1.3 MB at the entry bound). */
  MAX_HANDSHAKE_LOG_CHARS: 2 * 1024 * 1024,
  /** Most entries of a map of times. */
  MAX_TIMESTAMP_ENTRIES: 10_000,
  /** Longest key of a map of times: a bare JID, or a session key `jid/deviceId`. */
  MAX_TIMESTAMP_KEY_CHARS: MAX_JID_BYTES + 1 + 10,
  /** Largest map-of-times record. */
  MAX_TIMESTAMPS_CHARS: 4 * 1024 * 1024,
  /** Most device keys recorded for one account (devices seen over time, not only the current list). */
  MAX_TRUSTED_DEVICES: 10_000,
  /** Largest account-trust record. */
  MAX_ACCOUNT_TRUST_CHARS: 2 * 1024 * 1024,
  /** Largest device-list record (64 devices with labels, 4 bindings of the largest size: about 180 KB). */
  MAX_DEVICE_LIST_CHARS: 512 * 1024,
  /** Largest account-secret record. */
  MAX_ACCOUNT_SECRET_CHARS: 256,
} as const;

// ---------------------------------------------------------------------------------------------
// Shared pieces: field schemas, the record frame, and the conversions back to typed values.

/** Characters of the padded base64 of `bytes` bytes. */
const base64Chars = (bytes: number) => 4 * Math.ceil(bytes / 3);
/** Base64 of exactly 32 bytes (44 characters; the length is checked again after decoding). */
const Key32 = z.string().check(z.length(base64Chars(32)));
const Hex32 = z.string().check(z.regex(/^[0-9a-f]{64}$/));
const Uint32 = z.int().check(z.gte(0), z.lte(0xffffffff));
/** Ns, Nr and PN: the next counter, which reaches 2^32 after message 2^32 − 1. */
const Count = z.int().check(z.gte(0), z.lte(0x100000000));
const Seconds = z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));
const Level = z.enum(['undecided', 'verified', 'distrusted']);
/** A JSON object (not an array, not null); its entries are checked one by one. */
const PlainObject = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message: 'expected an object' });

/** The frame every record shares. */
function frame<F extends string, S extends z.core.$ZodLooseShape>(format: F, shape: S) {
  return z.strictObject({ format: z.literal(format), version: z.literal(RECORD_VERSION), ...shape });
}

function invalid(what: string, detail: string): SealError {
  return new SealError('invalid-state', `${what}: ${detail}`);
}

/**
 * Parses and checks a record's text: its size, JSON syntax, format tag and version, then the
 * schema. A record of the right format with another numeric version is `unknown-version`.
 */
function parseRecord<T>(text: string, format: string, maxChars: number, schema: z.ZodMiniType<T>, what: string): T {
  // @req identity.state-validate
  if (typeof text !== 'string') throw invalid(what, 'expected text');
  if (text.length > maxChars) throw invalid(what, `larger than ${maxChars} characters`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid(what, 'not JSON');
  }
  const header = json as { format?: unknown; version?: unknown } | null;
  if (typeof header === 'object' && header !== null && header.format === format && typeof header.version === 'number' && header.version !== RECORD_VERSION) {
    throw new SealError('unknown-version', `${what}: version ${header.version} is not ${RECORD_VERSION}`);
  }
  return checkSchema(json, schema, what);
}

/** Runs a schema; the error names the field, never its value (which may be a secret). */
function checkSchema<T>(json: unknown, schema: z.ZodMiniType<T>, what: string): T {
  let parsed: ReturnType<typeof schema.safeParse>;
  try {
    parsed = schema.safeParse(json);
  } catch {
    throw invalid(what, 'invalid');
  }
  // @req identity.state-validate
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(what, `${issue === undefined || issue.path.length === 0 ? 'record' : issue.path.join('.')} is invalid (${issue?.code ?? 'invalid'})`);
  }
  return parsed.data;
}

/**
 * Runs the conversion of checked JSON into typed values; any failure in it (a key of the wrong
 * length, a failed structure decode, a list that does not verify) becomes `invalid-state`.
 */
function rebuild<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (isSealError(e, 'invalid-state')) throw e;
    throw invalid(what, isSealError(e) ? e.message : 'invalid');
  }
}

/** Checks the record about to be written against the schema it is read with, then its size. */
function writeRecord<T>(record: T, schema: z.ZodMiniType<unknown> | undefined, maxChars: number, what: string): string {
  // Sessions are written on every message and their bounds are the ratchet's own: only their size is checked here.
  if (schema !== undefined) checkSchema(record, schema, `${what} (writing)`);
  const text = JSON.stringify(record);
  if (text.length > maxChars) throw invalid(`${what} (writing)`, `larger than ${maxChars} characters`);
  return text;
}

/** Decodes base64 of exactly `length` bytes. */
function bytesOf(text: string, length: number, field: string): Uint8Array {
  const out = decodeBase64(text, length, field);
  // @req identity.state-validate
  if (out.length !== length) throw new SealError('invalid-length', `${field}: expected ${length} bytes, got ${out.length}`);
  return out;
}

const secretText = (key: { dangerouslyExposeBytes(): Uint8Array }) => encodeBase64(key.dangerouslyExposeBytes());

// ---------------------------------------------------------------------------------------------
// Peer session.

const SkippedSchema = z.strictObject({ ratchetKey: Hex32, counter: Uint32, messageKey: Key32, stored: Seconds });
const RatchetSchema = z.strictObject({
  sessionId: Key32,
  associatedData: z.string().check(z.minLength(4), z.maxLength(base64Chars(RECORD_LIMITS.MAX_ASSOCIATED_DATA_BYTES))),
  rootKey: Key32,
  /** The secret of DHs; its public key is derived on load. */
  sendingRatchet: z.nullable(Key32),
  remoteRatchetKey: z.nullable(Key32),
  sendingChain: z.nullable(Key32),
  receivingChain: z.nullable(Key32),
  sendCount: Count,
  receiveCount: Count,
  previousCount: Count,
  // @req identity.state-validate
  skipped: z.array(SkippedSchema).check(z.maxLength(ENVELOPE_CONSTANTS.MAX_SKIPPED_KEYS)),
  recentlyOpened: z.array(Hex32).check(z.maxLength(ENVELOPE_CONSTANTS.MAX_RECENTLY_OPENED)),
});
const ConfirmationSchema = z.discriminatedUnion('state', [
  z.strictObject({ state: z.literal('confirmed') }),
  z.strictObject({ state: z.literal('unconfirmed'), header: z.string().check(z.minLength(4), z.maxLength(base64Chars(RECORD_LIMITS.MAX_HEADER_BYTES))) }),
]);
const SessionSchema = frame(RECORD_FORMATS.session, { ratchet: RatchetSchema, confirmation: ConfirmationSchema, alternate: z.optional(RatchetSchema) });
type RatchetJson = z.infer<typeof RatchetSchema>;

function ratchetJson(state: RatchetState): RatchetJson {
  const optional = (key: { dangerouslyExposeBytes(): Uint8Array } | undefined) => (key === undefined ? null : secretText(key));
  return {
    sessionId: encodeBase64(state.sessionId),
    associatedData: encodeBase64(state.associatedData),
    rootKey: secretText(state.rootKey),
    sendingRatchet: optional(state.sendingRatchet?.secretKey),
    remoteRatchetKey: state.remoteRatchetKey === undefined ? null : encodeBase64(state.remoteRatchetKey),
    sendingChain: optional(state.sendingChain),
    receivingChain: optional(state.receivingChain),
    sendCount: state.sendCount,
    receiveCount: state.receiveCount,
    previousCount: state.previousCount,
    skipped: state.skipped.map((k) => ({ ratchetKey: k.ratchetKey, counter: k.counter, messageKey: secretText(k.messageKey), stored: k.stored })),
    recentlyOpened: [...state.recentlyOpened],
  };
}

function keyPairOf(secretKey: X25519SecretKey): X25519KeyPair {
  return { secretKey, publicKey: x25519PublicKeyOf(secretKey) };
}

function ratchetOf(p: RatchetJson, field: string): RatchetState {
  const key = (text: string, name: string) => new SymmetricKey(bytesOf(text, 32, `${field}.${name}`));
  const optionalKey = (text: string | null, name: string) => (text === null ? undefined : key(text, name));
  // @req identity.state-validate: the ratchet functions rely on these pairs being present together.
  if (p.sendingChain !== null && p.sendingRatchet === null) throw invalid('session', `${field}: a sending chain without a sending ratchet key`);
  if (p.receivingChain !== null && p.remoteRatchetKey === null) throw invalid('session', `${field}: a receiving chain without a remote ratchet key`);
  const associatedData = decodeBase64(p.associatedData, RECORD_LIMITS.MAX_ASSOCIATED_DATA_BYTES, `${field}.associatedData`);
  if (associatedData.length === 0) throw invalid('session', `${field}.associatedData: empty`);
  const skipped: SkippedKey[] = p.skipped.map((k, i) => ({ ratchetKey: k.ratchetKey, counter: k.counter, messageKey: key(k.messageKey, `skipped.${i}.messageKey`), stored: k.stored }));
  return {
    sessionId: bytesOf(p.sessionId, LENGTHS.hash, `${field}.sessionId`),
    associatedData,
    rootKey: key(p.rootKey, 'rootKey'),
    sendingRatchet: p.sendingRatchet === null ? undefined : keyPairOf(new X25519SecretKey(bytesOf(p.sendingRatchet, LENGTHS.x25519SecretKey, `${field}.sendingRatchet`))),
    remoteRatchetKey: p.remoteRatchetKey === null ? undefined : x25519PublicKey(bytesOf(p.remoteRatchetKey, LENGTHS.x25519PublicKey, `${field}.remoteRatchetKey`)),
    sendingChain: optionalKey(p.sendingChain, 'sendingChain'),
    receivingChain: optionalKey(p.receivingChain, 'receivingChain'),
    sendCount: p.sendCount,
    receiveCount: p.receiveCount,
    previousCount: p.previousCount,
    skipped,
    recentlyOpened: [...p.recentlyOpened],
  };
}

/**
 * The record of the session with one peer device: its ratchet, the key confirmation state (an
 * unconfirmed initiator's handshake header, in its canonical binary encoding, base64), and the
 * alternate ratchet kept after a simultaneous initiation or a replaced session. The text holds
 * the session's root, chain and message keys and ratchet private keys: store it as a secret.
 *
 * Implements requirement `identity.state-validate` (the written record is checked against the
 * bounds it is read with).
 *
 * @returns JSON text of format `seal-session`, at most MAX_SESSION_CHARS characters.
 * @throws SealError `invalid-state` when the session exceeds a bound of the record (more skipped
 *   keys or remembered messages than §envelope.constants allow, an oversized header).
 * @see spec §identity.state
 * @example
 * ```ts
 * const text = dangerouslyEncodeSession(sessions.get(sessionKey(jid, deviceId))!);
 * ```
 */
export function dangerouslyEncodeSession(session: PeerSession): string {
  const confirmation = session.confirmation.state === 'confirmed' ? { state: 'confirmed' as const } : { state: 'unconfirmed' as const, header: encodeBase64(encode(AsyncHeaderCodec, session.confirmation.header)) };
  const record = {
    format: RECORD_FORMATS.session,
    version: RECORD_VERSION,
    ratchet: ratchetJson(session.ratchet),
    confirmation,
    ...(session.alternate === undefined ? {} : { alternate: ratchetJson(session.alternate) }),
  };
  return writeRecord(record, undefined, RECORD_LIMITS.MAX_SESSION_CHARS, 'session');
}

/**
 * Loads a session record and checks it completely: format and version; every key's length
 * (32-byte root, chain, message and ratchet keys, 32-byte session id); counters (uint32, the
 * next-message counts up to 2^32); at most MAX_SKIPPED_KEYS skipped keys and MAX_RECENTLY_OPENED
 * remembered messages (lower-case hex SHA-256); times in seconds; a chain only with its ratchet
 * key; the handshake header through its binary codec and schema. Ratchet public keys are
 * derived from their private keys.
 *
 * Implements requirement `identity.state-validate`.
 *
 * @throws SealError `unknown-version` for a `seal-session` record of another version;
 *   `invalid-state` for anything else that is wrong (not JSON, another format, a bad field, an
 *   inconsistent ratchet, more than MAX_SESSION_CHARS characters).
 * @see spec §identity.state
 * @example
 * ```ts
 * const session = decodeSession(text);
 * ```
 */
export function decodeSession(text: string): PeerSession {
  const p = parseRecord(text, RECORD_FORMATS.session, RECORD_LIMITS.MAX_SESSION_CHARS, SessionSchema, 'session');
  return rebuild('session', () => {
    let confirmation: KeyConfirmation;
    if (p.confirmation.state === 'confirmed') {
      confirmation = { state: 'confirmed' };
    } else {
      // @req identity.state-validate: one encoding of the header, its codec's checks and its schema's.
      const text = p.confirmation.header;
      const header = rebuild('session: confirmation.header', () => decode(AsyncHeaderCodec, decodeBase64(text, RECORD_LIMITS.MAX_HEADER_BYTES, 'header')));
      if (!AsyncHeaderSchema.safeParse(header).success) throw invalid('session', 'confirmation.header is invalid');
      confirmation = { state: 'unconfirmed', header };
    }
    const ratchet = ratchetOf(p.ratchet, 'ratchet');
    return p.alternate === undefined ? { ratchet, confirmation } : { ratchet, confirmation, alternate: ratchetOf(p.alternate, 'alternate') };
  });
}

// ---------------------------------------------------------------------------------------------
// Handshake log.

const HandshakeLogSchema = frame(RECORD_FORMATS.handshakeLog, {
  entries: z.array(z.string().check(z.regex(/^[0-9a-f]{74}$/))).check(z.maxLength(RECORD_LIMITS.MAX_HANDSHAKE_LOG_ENTRIES)),
});

/** The log's invariants: entries decode, are unique, and stay within the per-kind bounds of §handshake.async. */
function checkHandshakeLog(entries: readonly string[], what: string): void {
  const seen = new Set<string>();
  let withOneTime = 0;
  const withoutOneTime = new Map<number, number>();
  for (const [i, entry] of entries.entries()) {
    // @req identity.state-validate: each entry by decoding it.
    const value = rebuild(what, () => decode(HandshakeLogEntryCodec, fromHex(entry, `entries.${i}`)));
    if (value.oneTime !== 0 && value.oneTime !== 1) throw invalid(what, `entries.${i}: one_time is ${value.oneTime}, expected 0 or 1`);
    if (seen.has(entry)) throw invalid(what, `entries.${i}: appears twice`);
    seen.add(entry);
    if (value.oneTime === 1) withOneTime++;
    else withoutOneTime.set(value.signedPrekeyId, (withoutOneTime.get(value.signedPrekeyId) ?? 0) + 1);
  }
  const max = HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES;
  if (withOneTime > max) throw invalid(what, `${withOneTime} entries with a one-time prekey, at most ${max}`);
  for (const [id, count] of withoutOneTime) {
    if (count > max) throw invalid(what, `${count} entries without a one-time prekey for signed prekey ${id}, at most ${max}`);
  }
}

/**
 * The record of the handshake log (§handshake.async): its entries in order, as the lower-case
 * hex the log holds. It contains no secret.
 *
 * Implements requirement `identity.state-validate` (the written log is checked as on load).
 *
 * @returns JSON text of format `seal-handshake-log`.
 * @throws SealError `invalid-state` for an entry that does not decode, a repeated entry, more
 *   entries than the log's bounds allow, or a record over MAX_HANDSHAKE_LOG_CHARS characters.
 * @see spec §identity.state
 * @example
 * ```ts
 * const text = encodeHandshakeLog(result.log);
 * ```
 */
export function encodeHandshakeLog(log: HandshakeLog): string {
  const record = { format: RECORD_FORMATS.handshakeLog, version: RECORD_VERSION, entries: [...log] };
  const text = writeRecord(record, HandshakeLogSchema, RECORD_LIMITS.MAX_HANDSHAKE_LOG_CHARS, 'handshake log');
  checkHandshakeLog(record.entries, 'handshake log (writing)');
  return text;
}

/**
 * Loads a handshake log record: each entry lower-case hex of a HandshakeLogEntry that decodes
 * (with one_time 0 or 1), no entry twice, at most MAX_PROCESSED_HANDSHAKES entries with a
 * one-time prekey and as many without one per signed prekey.
 *
 * Implements requirement `identity.state-validate`.
 *
 * @throws SealError `unknown-version` for a `seal-handshake-log` record of another version;
 *   `invalid-state` for anything else that is wrong.
 * @see spec §identity.state
 * @example
 * ```ts
 * const log = decodeHandshakeLog(text);
 * ```
 */
export function decodeHandshakeLog(text: string): HandshakeLog {
  const p = parseRecord(text, RECORD_FORMATS.handshakeLog, RECORD_LIMITS.MAX_HANDSHAKE_LOG_CHARS, HandshakeLogSchema, 'handshake log');
  checkHandshakeLog(p.entries, 'handshake log');
  return p.entries;
}

// ---------------------------------------------------------------------------------------------
// Maps of times (the repair log's halves, and any other per-peer time).

const TimestampsSchema = frame(RECORD_FORMATS.timestamps, { entries: PlainObject });

/** Checks a map of times entry by entry and copies it into a fresh object (own properties only). */
function timestampsOf(map: { readonly [key: string]: unknown }, what: string): { readonly [key: string]: number } {
  const entries = Object.entries(map);
  // @req identity.state-validate
  if (entries.length > RECORD_LIMITS.MAX_TIMESTAMP_ENTRIES) throw invalid(what, `${entries.length} entries, at most ${RECORD_LIMITS.MAX_TIMESTAMP_ENTRIES}`);
  for (const [key, value] of entries) {
    if (key.length < 1 || key.length > RECORD_LIMITS.MAX_TIMESTAMP_KEY_CHARS) throw invalid(what, `a key of ${key.length} characters, expected 1..${RECORD_LIMITS.MAX_TIMESTAMP_KEY_CHARS}`);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid(what, 'a time that is not an integer number of seconds >= 0');
  }
  // Object.fromEntries defines own properties, so even a key `__proto__` stays an entry.
  return Object.fromEntries(entries) as { readonly [key: string]: number };
}

/**
 * The record of a map from a key (a bare JID, or a session key `jid/deviceId`) to a time in
 * seconds, such as either half of the repair log. It contains no secret.
 *
 * Implements requirement `identity.state-validate` (the written map is checked as on load).
 *
 * @param map - at most MAX_TIMESTAMP_ENTRIES entries; keys of 1..MAX_TIMESTAMP_KEY_CHARS
 *   characters; values integers in 0..2^53 − 1.
 * @returns JSON text of format `seal-timestamps`.
 * @throws SealError `invalid-state` for a map outside those bounds or a record over
 *   MAX_TIMESTAMPS_CHARS characters.
 * @see spec §identity.state
 * @example
 * ```ts
 * const text = encodeTimestamps(repairLog.signalled);
 * ```
 */
export function encodeTimestamps(map: { readonly [key: string]: number }): string {
  const record = { format: RECORD_FORMATS.timestamps, version: RECORD_VERSION, entries: timestampsOf(map, 'timestamps (writing)') };
  return writeRecord(record, TimestampsSchema, RECORD_LIMITS.MAX_TIMESTAMPS_CHARS, 'timestamps');
}

/**
 * Loads a map-of-times record, with the bounds of {@link encodeTimestamps}.
 *
 * Implements requirement `identity.state-validate`.
 *
 * @throws SealError `unknown-version` for a `seal-timestamps` record of another version;
 *   `invalid-state` for anything else that is wrong.
 * @see spec §identity.state
 * @example
 * ```ts
 * const signalled = decodeTimestamps(text);
 * ```
 */
export function decodeTimestamps(text: string): { readonly [key: string]: number } {
  const p = parseRecord(text, RECORD_FORMATS.timestamps, RECORD_LIMITS.MAX_TIMESTAMPS_CHARS, TimestampsSchema, 'timestamps');
  return timestampsOf(p.entries, 'timestamps');
}

// ---------------------------------------------------------------------------------------------
// One account's trust decisions.

const KeyRecordSchema = z.strictObject({ key: Hex32, level: Level });
const AccountTrustSchema = frame(RECORD_FORMATS.accountTrust, { accountKey: z.optional(KeyRecordSchema), devices: PlainObject });

/** Checks the devices of an account's trust record and copies them. */
function trustedDevicesOf(devices: { readonly [deviceId: string]: unknown }, what: string): { readonly [deviceId: string]: KeyRecord } {
  const entries = Object.entries(devices);
  // @req identity.state-validate
  if (entries.length > RECORD_LIMITS.MAX_TRUSTED_DEVICES) throw invalid(what, `${entries.length} devices, at most ${RECORD_LIMITS.MAX_TRUSTED_DEVICES}`);
  const out: [string, KeyRecord][] = [];
  for (const [id, value] of entries) {
    // Device ids as trust.ts writes them: canonical decimal of 1..2^31 − 1.
    if (!/^[1-9][0-9]{0,9}$/.test(id) || Number(id) > 0x7fffffff) throw invalid(what, `devices: ${JSON.stringify(id.slice(0, 16))} is not a device id`);
    const record = checkSchema(value, KeyRecordSchema, `${what}: devices.${id}`);
    out.push([id, { key: record.key, level: record.level as TrustLevel }]);
  }
  return Object.fromEntries(out);
}

/**
 * The record of what this device knows about one account's keys (§identity.trust): the account
 * key and each device's identity signing key (lower-case hex of 32 bytes) with the user's
 * decision. It contains no secret.
 *
 * Implements requirement `identity.state-validate` (the written record is checked as on load).
 *
 * @returns JSON text of format `seal-account-trust`.
 * @throws SealError `invalid-state` for a key that is not 64 lower-case hex digits, an unknown
 *   level, a device id outside 1..2^31 − 1, more than MAX_TRUSTED_DEVICES devices, or a record
 *   over MAX_ACCOUNT_TRUST_CHARS characters.
 * @see spec §identity.state
 * @example
 * ```ts
 * const text = encodeAccountTrust(trustStore[jid]!);
 * ```
 */
export function encodeAccountTrust(trust: AccountTrust): string {
  const record = {
    format: RECORD_FORMATS.accountTrust,
    version: RECORD_VERSION,
    ...(trust.accountKey === undefined ? {} : { accountKey: { key: trust.accountKey.key, level: trust.accountKey.level } }),
    devices: trustedDevicesOf(trust.devices, 'account trust (writing)'),
  };
  return writeRecord(record, AccountTrustSchema, RECORD_LIMITS.MAX_ACCOUNT_TRUST_CHARS, 'account trust');
}

/**
 * Loads an account-trust record, with the checks of {@link encodeAccountTrust}.
 *
 * Implements requirement `identity.state-validate`.
 *
 * @throws SealError `unknown-version` for a `seal-account-trust` record of another version;
 *   `invalid-state` for anything else that is wrong.
 * @see spec §identity.state
 * @example
 * ```ts
 * const trust = decodeAccountTrust(text);
 * ```
 */
export function decodeAccountTrust(text: string): AccountTrust {
  const p = parseRecord(text, RECORD_FORMATS.accountTrust, RECORD_LIMITS.MAX_ACCOUNT_TRUST_CHARS, AccountTrustSchema, 'account trust');
  const devices = trustedDevicesOf(p.devices, 'account trust');
  return p.accountKey === undefined ? { devices } : { accountKey: { key: p.accountKey.key, level: p.accountKey.level as TrustLevel }, devices };
}

// ---------------------------------------------------------------------------------------------
// Verified device list.

const DeviceListRecordSchema = frame(RECORD_FORMATS.deviceList, {
  jid: z.string().check(z.minLength(1), z.maxLength(MAX_JID_BYTES)),
  issued: Seconds,
  devices: z.array(z.strictObject({
    id: z.int().check(z.gte(1), z.lte(0x7fffffff)),
    added: Seconds,
    signingKey: Key32,
    label: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_DEVICE_LABEL_BYTES))),
  })).check(z.minLength(1), z.maxLength(MAX_DEVICES)),
  accountKey: z.optional(Key32),
  bindings: z.array(z.strictObject({
    kind: z.enum(['x509', 'openpgp', 'omemo']),
    certificate: z.string().check(z.minLength(4), z.maxLength(base64Chars(MAX_BINDING_FIELD_BYTES))),
    signature: z.string().check(z.minLength(4), z.maxLength(base64Chars(MAX_BINDING_FIELD_BYTES))),
  })).check(z.maxLength(MAX_BINDINGS)),
});

/**
 * The record of an account's verified device list: its JID, issue time, devices (id, time
 * added, identity signing key, label), the account key that signed it and the binding
 * statements. {@link VerifiedDeviceList} does not keep the account signature, so the record
 * holds the list as verified rather than the signed wire form; it contains no secret.
 *
 * @returns JSON text of format `seal-device-list`.
 * @throws SealError `invalid-state` for a list outside the bounds of §identity.devices (which
 *   a list from `verifyDeviceList` never is).
 * @see spec §identity.state
 * @example
 * ```ts
 * const text = encodeDeviceListRecord(verifyDeviceList(jid, fetched));
 * ```
 */
export function encodeDeviceListRecord(list: VerifiedDeviceList): string {
  const record = {
    format: RECORD_FORMATS.deviceList,
    version: RECORD_VERSION,
    jid: list.jid as string,
    issued: list.issued,
    devices: list.devices.map((d) => ({ id: d.id as number, added: d.added, signingKey: encodeBase64(d.signingKey), ...(d.label === undefined ? {} : { label: d.label }) })),
    ...(list.accountKey === undefined ? {} : { accountKey: encodeBase64(list.accountKey) }),
    bindings: list.bindings.map((b) => ({ kind: b.kind, certificate: encodeBase64(b.certificate), signature: encodeBase64(b.signature) })),
  };
  return writeRecord(record, DeviceListRecordSchema, RECORD_LIMITS.MAX_DEVICE_LIST_CHARS, 'device list');
}

/**
 * Loads the device-list record of `jid` and rebuilds the {@link VerifiedDeviceList}: the
 * devices go through `verifyDeviceList` again (1..64 devices, unique ids, valid Ed25519 keys,
 * labels), the account key is checked as an Ed25519 public key, binding statements against
 * their schema. The account signature is not in the record and is not checked again: the
 * record is what this device verified when it accepted the list.
 *
 * Implements requirement `identity.state-validate`.
 *
 * @param jid - the account the record is stored for; a record of another JID is rejected.
 * @throws SealError `unknown-version` for a `seal-device-list` record of another version;
 *   `invalid-state` for anything else that is wrong (including bindings without an account key).
 * @see spec §identity.state
 * @example
 * ```ts
 * const list = decodeDeviceListRecord(bareJid('juliet@capulet.lit'), text);
 * ```
 */
export function decodeDeviceListRecord(jid: BareJid, text: string): VerifiedDeviceList {
  const p = parseRecord(text, RECORD_FORMATS.deviceList, RECORD_LIMITS.MAX_DEVICE_LIST_CHARS, DeviceListRecordSchema, 'device list');
  // @req identity.state-validate
  if (p.jid !== jid) throw invalid('device list', 'the record is of another account');
  if (p.accountKey === undefined && p.bindings.length > 0) throw invalid('device list', 'binding statements without an account key');
  return rebuild('device list', () => {
    const devices = p.devices.map((d, i) => {
      const entry = { id: d.id, added: d.added, signingKey: bytesOf(d.signingKey, LENGTHS.ed25519PublicKey, `devices.${i}.signingKey`) };
      return d.label === undefined ? entry : { ...entry, label: d.label };
    });
    const verified = verifyDeviceList(jid, { issued: p.issued, devices });
    if (p.accountKey === undefined) return verified;
    const accountKey = checkEd25519PublicKey(bytesOf(p.accountKey, LENGTHS.ed25519PublicKey, 'accountKey'));
    const bindings = p.bindings.map((b, i) => {
      const binding = { kind: b.kind, certificate: decodeBase64(b.certificate, MAX_BINDING_FIELD_BYTES, `bindings.${i}.certificate`), signature: decodeBase64(b.signature, MAX_BINDING_FIELD_BYTES, `bindings.${i}.signature`) };
      if (!BindingSchema.safeParse(binding).success) throw invalid('device list', `bindings.${i} is invalid`);
      return binding;
    });
    return { ...verified, accountKey, bindings };
  });
}

// ---------------------------------------------------------------------------------------------
// Account key secret.

const AccountSecretSchema = frame(RECORD_FORMATS.accountSecret, { secretKey: Key32 });

/**
 * The record of the account key's secret (the 32-byte Ed25519 seed), base64. The text is the
 * account key itself: store it as a secret.
 *
 * @returns JSON text of format `seal-account-secret`.
 * @throws SealError `invalid-state` never for a key built by `Ed25519SecretKey` (its length is
 *   checked at construction); listed for symmetry with the other encoders.
 * @see spec §identity.state
 * @example
 * ```ts
 * const text = dangerouslyEncodeAccountSecret(accountSigner.secretKey);
 * ```
 */
export function dangerouslyEncodeAccountSecret(key: Ed25519SecretKey): string {
  const record = { format: RECORD_FORMATS.accountSecret, version: RECORD_VERSION, secretKey: secretText(key) };
  return writeRecord(record, AccountSecretSchema, RECORD_LIMITS.MAX_ACCOUNT_SECRET_CHARS, 'account secret');
}

/**
 * Loads an account-secret record: exactly 32 bytes of canonical base64.
 *
 * Implements requirement `identity.state-validate`.
 *
 * @throws SealError `unknown-version` for a `seal-account-secret` record of another version;
 *   `invalid-state` for anything else that is wrong.
 * @see spec §identity.state
 * @example
 * ```ts
 * const secretKey = decodeAccountSecret(text);
 * ```
 */
export function decodeAccountSecret(text: string): Ed25519SecretKey {
  const p = parseRecord(text, RECORD_FORMATS.accountSecret, RECORD_LIMITS.MAX_ACCOUNT_SECRET_CHARS, AccountSecretSchema, 'account secret');
  return rebuild('account secret', () => new Ed25519SecretKey(bytesOf(p.secretKey, LENGTHS.ed25519SecretKey, 'secretKey')));
}
