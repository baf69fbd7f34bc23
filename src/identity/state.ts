/**
 * A device's secret state (identity keys, prekeys) and its persisted form: versioned JSON,
 * validated on load, so a client can store it and get a typed error for a corrupted or foreign
 * file instead of undefined behaviour.
 *
 * @see spec §identity.state
 * @module
 */
import * as z from 'zod/mini';
import { decodeBase64, encodeBase64 } from '../codec/base64.js';
import { SealError, isSealError } from '../errors.js';
import { generateX25519KeyPair, x25519PublicKeyOf } from '../suite/agreement.js';
import { mlKemKeyPairFromSeed } from '../suite/kem.js';
import type { Rng } from '../suite/rng.js';
import { ed25519PublicKeyOf, signWithLabel } from '../suite/signature.js';
import { Ed25519SecretKey, LENGTHS, X25519SecretKey } from '../suite/types.js';
import { encode } from '../codec/binary.js';
import { utf8Encode } from '../codec/bytes.js';
import { type BundleValue, IdentityKeysContent, type IdentityKeysValue, KemPrekeyContent, SignedPrekeyContent } from '../wire/bundle.js';
import { IDENTITY_CONSTANTS } from './constants.js';
import { type DeviceId, deviceId, generateDeviceId, generateDeviceKeys } from './device.js';
import { type BareJid, bareJid } from './jid.js';
import { SIGNATURE_LABELS } from './labels.js';

/** A signed X25519 prekey's secret and validity. */
export interface SignedPrekeySecret {
  readonly id: number;
  readonly created: number;
  readonly expires: number;
  readonly secretKey: X25519SecretKey;
}

/** The KEM prekey's seed (FIPS 203 key generation input d || z, 64 bytes) and validity. */
export interface KemPrekeySecret {
  readonly id: number;
  readonly created: number;
  readonly expires: number;
  readonly seed: Uint8Array;
}

/** A one-time prekey's secret. */
export interface OneTimePrekeySecret {
  readonly id: number;
  readonly secretKey: X25519SecretKey;
}

/**
 * Everything secret a device holds for §identity. Signed prekeys and KEM prekeys are listed
 * oldest first; the last one is current, older ones are kept for the grace period of §offline.
 *
 * @see spec §identity.state
 */
export interface DeviceState {
  readonly jid: BareJid;
  readonly deviceId: DeviceId;
  readonly signingKey: Ed25519SecretKey;
  readonly agreementKey: X25519SecretKey;
  readonly signedPrekeys: readonly SignedPrekeySecret[];
  readonly kemPrekeys: readonly KemPrekeySecret[];
  readonly oneTimePrekeys: readonly OneTimePrekeySecret[];
  /** The next unused prekey id (prekey ids of all kinds share one counter). */
  readonly nextPrekeyId: number;
}

/** Options of {@link createDeviceState}. */
export interface CreateDeviceOptions {
  readonly jid: string;
  /** Current time, seconds since the Unix epoch. */
  readonly now: number;
  readonly rng: Rng;
  /** Device ids already on the account's list (the new id avoids them). */
  readonly takenDeviceIds?: Iterable<number>;
  /** One-time prekeys to create (default 100). */
  readonly oneTimePrekeys?: number;
}

/**
 * Creates a new device: device id, identity keys, one signed prekey, one KEM prekey and the
 * one-time prekeys, drawing randomness in that order.
 *
 * @see spec §identity.keys
 * @example
 * ```ts
 * const state = createDeviceState({ jid: 'juliet@capulet.lit', now: Date.now() / 1000 | 0, rng: systemRng });
 * ```
 */
export function createDeviceState(options: CreateDeviceOptions): DeviceState {
  const { rng, now } = options;
  const jid = bareJid(options.jid);
  const id = generateDeviceId(rng, options.takenDeviceIds);
  const keys = generateDeviceKeys(rng);
  // @req offline.prekey-lifetime: every prekey is valid for exactly MAX_PREKEY_VALIDITY.
  const expires = now + IDENTITY_CONSTANTS.MAX_PREKEY_VALIDITY;
  const signedPrekey = { id: 1, created: now, expires, secretKey: generateX25519KeyPair(rng).secretKey };
  const kemPrekey = { id: 2, created: now, expires, seed: rng(LENGTHS.mlKemSeed) };
  const count = options.oneTimePrekeys ?? IDENTITY_CONSTANTS.DEFAULT_ONE_TIME_PREKEYS;
  const oneTimePrekeys = Array.from({ length: count }, (_, i) => ({ id: 3 + i, secretKey: generateX25519KeyPair(rng).secretKey }));
  return { jid, deviceId: id, signingKey: keys.signing.secretKey, agreementKey: keys.agreement.secretKey, signedPrekeys: [signedPrekey], kemPrekeys: [kemPrekey], oneTimePrekeys, nextPrekeyId: 3 + count };
}

/**
 * The bundle a device publishes: its identity keys signed together with its JID and device id,
 * its current signed prekey and KEM prekey with their signatures, and its one-time prekeys.
 *
 * Implements requirement `identity.prekey-signatures`.
 *
 * @see spec §identity.bundle
 */
export function bundleOf(state: DeviceState): BundleValue {
  const identity = identityKeysOf(state);
  const signed = state.signedPrekeys[state.signedPrekeys.length - 1];
  const kem = state.kemPrekeys[state.kemPrekeys.length - 1];
  if (signed === undefined || kem === undefined) throw new SealError('invalid-state', 'device state: no current signed prekey or KEM prekey');
  const signedPublic = x25519PublicKeyOf(signed.secretKey);
  const kemPublic = mlKemKeyPairFromSeed(kem.seed).publicKey;
  // @req identity.prekey-signatures
  const signedContent = encode(SignedPrekeyContent, { id: signed.id, created: signed.created, expires: signed.expires, publicKey: signedPublic });
  const kemContent = encode(KemPrekeyContent, { id: kem.id, created: kem.created, expires: kem.expires, publicKey: kemPublic });
  return {
    identity,
    signedPrekey: { id: signed.id, created: signed.created, expires: signed.expires, publicKey: signedPublic, signature: signWithLabel(state.signingKey, SIGNATURE_LABELS.signedPrekey, signedContent) },
    kemPrekey: { id: kem.id, created: kem.created, expires: kem.expires, publicKey: kemPublic, signature: signWithLabel(state.signingKey, SIGNATURE_LABELS.kemPrekey, kemContent) },
    oneTimePrekeys: state.oneTimePrekeys.map((k) => ({ id: k.id, publicKey: x25519PublicKeyOf(k.secretKey) })),
  };
}

/**
 * The device's identity keys with the identity signature over its JID, device id and both keys,
 * as published in its bundle and presented in asynchronous handshake headers.
 *
 * Implements requirement `identity.identity-signature`.
 *
 * @see spec §identity.bundle
 */
export function identityKeysOf(state: DeviceState): IdentityKeysValue {
  // Ed25519 is deterministic: the statement for one key, JID and device id is always the same.
  const cacheKey = `${state.jid}/${state.deviceId}`;
  const cached = identityStatements.get(state.signingKey);
  const value = cached?.cacheKey === cacheKey ? cached.value : computeIdentityKeys(state);
  if (cached?.cacheKey !== cacheKey) identityStatements.set(state.signingKey, { cacheKey, value });
  return { signingKey: value.signingKey.slice(), agreementKey: value.agreementKey.slice(), signature: value.signature.slice() };
}

const identityStatements = new WeakMap<Ed25519SecretKey, { cacheKey: string; value: IdentityKeysValue }>();

function computeIdentityKeys(state: DeviceState): IdentityKeysValue {
  const signingKey = ed25519PublicKeyOf(state.signingKey);
  const agreementKey = x25519PublicKeyOf(state.agreementKey);
  // @req identity.identity-signature
  const content = encode(IdentityKeysContent, { jid: utf8Encode(state.jid), deviceId: state.deviceId, signingKey, agreementKey });
  return { signingKey, agreementKey, signature: signWithLabel(state.signingKey, SIGNATURE_LABELS.identityKeys, content) };
}

/** The format tag of the persisted form. */
export const DEVICE_STATE_FORMAT = 'seal-device-state';
/** The version of the persisted form this code writes and reads. */
export const DEVICE_STATE_VERSION = 1;

const b64 = z.string().check(z.maxLength(200));
const id = z.int().check(z.gte(1), z.lte(0xffffffff));
const seconds = z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));
const PersistedSchema = z.strictObject({
  format: z.literal(DEVICE_STATE_FORMAT),
  version: z.literal(DEVICE_STATE_VERSION),
  jid: z.string().check(z.maxLength(3071)),
  deviceId: z.int(),
  signingKey: b64,
  agreementKey: b64,
  signedPrekeys: z.array(z.strictObject({ id, created: seconds, expires: seconds, secretKey: b64 })).check(z.minLength(1), z.maxLength(16)),
  kemPrekeys: z.array(z.strictObject({ id, created: seconds, expires: seconds, seed: b64 })).check(z.minLength(1), z.maxLength(16)),
  oneTimePrekeys: z.array(z.strictObject({ id, secretKey: b64 })).check(z.maxLength(IDENTITY_CONSTANTS.MAX_ONE_TIME_PREKEYS)),
  nextPrekeyId: z.int().check(z.gte(1), z.lte(0x100000000)),
});

/**
 * The persisted form of a device state: JSON with every secret in base64. The result contains
 * the device's private keys: store it as you would store a password.
 *
 * @see spec §identity.state
 */
export function dangerouslyExportDeviceState(state: DeviceState): string {
  const secret = (key: { dangerouslyExposeBytes(): Uint8Array }) => encodeBase64(key.dangerouslyExposeBytes());
  return JSON.stringify({
    format: DEVICE_STATE_FORMAT,
    version: DEVICE_STATE_VERSION,
    jid: state.jid,
    deviceId: state.deviceId,
    signingKey: secret(state.signingKey),
    agreementKey: secret(state.agreementKey),
    signedPrekeys: state.signedPrekeys.map((k) => ({ id: k.id, created: k.created, expires: k.expires, secretKey: secret(k.secretKey) })),
    kemPrekeys: state.kemPrekeys.map((k) => ({ id: k.id, created: k.created, expires: k.expires, seed: encodeBase64(k.seed) })),
    oneTimePrekeys: state.oneTimePrekeys.map((k) => ({ id: k.id, secretKey: secret(k.secretKey) })),
    nextPrekeyId: state.nextPrekeyId,
  });
}

/** Largest persisted state accepted, in characters. */
const MAX_STATE_CHARS = 65536;

/**
 * Loads a persisted device state and checks it completely: format and version, every field's
 * type and length, unique prekey ids below the next id.
 *
 * Implements requirement `identity.state-validate`.
 *
 * @throws SealError `unknown-version` for another format version; `invalid-state` for anything
 *   else that is wrong (not JSON, wrong format tag, bad field, inconsistent ids, too large).
 * @see spec §identity.state
 */
export function importDeviceState(text: string): DeviceState {
  // @req identity.state-validate
  if (text.length > MAX_STATE_CHARS) throw new SealError('invalid-state', `device state: larger than ${MAX_STATE_CHARS} characters`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SealError('invalid-state', 'device state: not JSON');
  }
  const header = json as { format?: unknown; version?: unknown } | null;
  if (header !== null && typeof header === 'object' && header.format === DEVICE_STATE_FORMAT && header.version !== DEVICE_STATE_VERSION) {
    throw new SealError('unknown-version', `device state: version ${String(header.version)} is not ${DEVICE_STATE_VERSION}`);
  }
  const parsed = PersistedSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SealError('invalid-state', `device state: ${issue?.path.join('.') ?? ''} is invalid`);
  }
  const p = parsed.data;
  try {
    const bytes = (text: string, length: number, field: string) => {
      const out = decodeBase64(text, length, field);
      if (out.length !== length) throw new SealError('invalid-state', `device state: ${field} has ${out.length} bytes, expected ${length}`);
      return out;
    };
    const state: DeviceState = {
      jid: bareJid(p.jid),
      deviceId: deviceId(p.deviceId),
      signingKey: new Ed25519SecretKey(bytes(p.signingKey, 32, 'signingKey')),
      agreementKey: new X25519SecretKey(bytes(p.agreementKey, 32, 'agreementKey')),
      signedPrekeys: p.signedPrekeys.map((k) => ({ id: k.id, created: k.created, expires: k.expires, secretKey: new X25519SecretKey(bytes(k.secretKey, 32, 'signedPrekeys.secretKey')) })),
      kemPrekeys: p.kemPrekeys.map((k) => ({ id: k.id, created: k.created, expires: k.expires, seed: bytes(k.seed, LENGTHS.mlKemSeed, 'kemPrekeys.seed') })),
      oneTimePrekeys: p.oneTimePrekeys.map((k) => ({ id: k.id, secretKey: new X25519SecretKey(bytes(k.secretKey, 32, 'oneTimePrekeys.secretKey')) })),
      nextPrekeyId: p.nextPrekeyId,
    };
    const ids = [...state.signedPrekeys, ...state.kemPrekeys, ...state.oneTimePrekeys].map((k) => k.id);
    if (new Set(ids).size !== ids.length) throw new SealError('invalid-state', 'device state: prekey ids are not unique');
    if (ids.some((i) => i >= state.nextPrekeyId)) throw new SealError('invalid-state', 'device state: a prekey id is not below nextPrekeyId');
    return state;
  } catch (e) {
    if (isSealError(e, 'invalid-state')) throw e;
    throw new SealError('invalid-state', `device state: ${isSealError(e) ? e.message : 'invalid'}`);
  }
}
