/**
 * Helpers shared by the vector generators: an Rng that replays recorded values, so that every
 * random value a case consumes is an explicit input; a device's complete secrets in JSON form;
 * and little-endian scalars for crafted keys.
 *
 * @see spec §impl.randomness
 * @module
 */
import * as z from 'zod/mini';
import { fromHex, toHex } from '../codec/bytes.js';
import { deviceId } from '../identity/device.js';
import { bareJid } from '../identity/jid.js';
import type { DeviceState } from '../identity/state.js';
import type { Rng } from '../suite/rng.js';
import { Ed25519SecretKey, X25519SecretKey } from '../suite/types.js';
import { Hex } from './format.js';

/** An Rng that returns exactly `values`, in order, and throws on any other request. */
export function scriptedRng(values: readonly Uint8Array[]): Rng & { assertDone(): void } {
  let next = 0;
  const rng = (length: number): Uint8Array => {
    const value = values[next];
    if (value === undefined || value.length !== length) {
      throw new Error(`scripted rng: request ${next + 1} is for ${length} bytes, but the case supplies ${value === undefined ? 'no more values' : `${value.length} bytes`}`);
    }
    next++;
    return value.slice();
  };
  return Object.assign(rng, {
    assertDone: () => {
      if (next !== values.length) throw new Error(`scripted rng: ${values.length - next} supplied values were not consumed`);
    },
  });
}

/** A 32-byte little-endian integer (X25519 u-coordinates, Ed25519 scalars). */
export function le32(n: bigint): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, k) => Number((n >> BigInt(8 * k)) & 0xffn));
}

/** A device's complete secrets in JSON form (hex), as vector inputs. */
export const DeviceInput = z.strictObject({
  jid: z.string(),
  deviceId: z.int(),
  signingSecretKey: Hex,
  agreementSecretKey: Hex,
  signedPrekeys: z.array(z.strictObject({ id: z.int(), created: z.int(), expires: z.int(), secretKey: Hex })),
  kemPrekeys: z.array(z.strictObject({ id: z.int(), created: z.int(), expires: z.int(), seed: Hex })),
  oneTimePrekeys: z.array(z.strictObject({ id: z.int(), secretKey: Hex })),
  nextPrekeyId: z.int(),
});
/** {@link DeviceInput}'s type. */
export type DeviceIn = z.infer<typeof DeviceInput>;

/** A device state from its secrets in JSON form. */
export function stateFromInputs(d: DeviceIn): DeviceState {
  return {
    jid: bareJid(d.jid),
    deviceId: deviceId(d.deviceId),
    signingKey: new Ed25519SecretKey(fromHex(d.signingSecretKey, 'signingSecretKey')),
    agreementKey: new X25519SecretKey(fromHex(d.agreementSecretKey, 'agreementSecretKey')),
    signedPrekeys: d.signedPrekeys.map((k) => ({ id: k.id, created: k.created, expires: k.expires, secretKey: new X25519SecretKey(fromHex(k.secretKey, 'signedPrekeys.secretKey')) })),
    kemPrekeys: d.kemPrekeys.map((k) => ({ id: k.id, created: k.created, expires: k.expires, seed: fromHex(k.seed, 'kemPrekeys.seed') })),
    oneTimePrekeys: d.oneTimePrekeys.map((k) => ({ id: k.id, secretKey: new X25519SecretKey(fromHex(k.secretKey, 'oneTimePrekeys.secretKey')) })),
    nextPrekeyId: d.nextPrekeyId,
  };
}

/** The JSON form of a device state (the inverse of {@link stateFromInputs}). */
export function stateToInputs(s: DeviceState): DeviceIn {
  const secret = (k: { dangerouslyExposeBytes(): Uint8Array }) => toHex(k.dangerouslyExposeBytes());
  return {
    jid: s.jid,
    deviceId: s.deviceId,
    signingSecretKey: secret(s.signingKey),
    agreementSecretKey: secret(s.agreementKey),
    signedPrekeys: s.signedPrekeys.map((k) => ({ id: k.id, created: k.created, expires: k.expires, secretKey: secret(k.secretKey) })),
    kemPrekeys: s.kemPrekeys.map((k) => ({ id: k.id, created: k.created, expires: k.expires, seed: toHex(k.seed) })),
    oneTimePrekeys: s.oneTimePrekeys.map((k) => ({ id: k.id, secretKey: secret(k.secretKey) })),
    nextPrekeyId: s.nextPrekeyId,
  };
}

