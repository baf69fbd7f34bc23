/**
 * What the three groups of `vectors/envelope.json` share: the time, the six devices of the
 * fan-out scenario, every random value (drawn once, in a fixed order, from
 * `seededRng('vectors/envelope.json')`), the scripted Rng, and device states in JSON form.
 *
 * @see spec §envelope
 * @module
 */
import { fromHex, toHex } from '../codec/bytes.js';
import { buildContent, contentBody } from '../envelope/index.js';
import { type DeviceState, createDeviceState } from '../identity/index.js';
import { type Rng, constantTimeEqual, seededRng } from '../suite/index.js';
import { type Element, xml } from '../wire/index.js';
import type { Fields } from './kind.js';

/** 2026-11-26T09:00:00Z, the time of every step. */
export const NOW = 1795683600;
const DAY = 86400;
export const ALICE = 'alice@example.org';
export const BOB = 'bob@example.net';
/** The full JIDs the senders of the scenario use in the stanza's `from`. */
export const ALICE_A1 = `${ALICE}/laptop`;
export const BOB_B1 = `${BOB}/phone`;

export const hex = (inputs: Fields, field: string): Uint8Array => fromHex(inputs[field] as string, field);
export const secretHex = (k: { dangerouslyExposeBytes(): Uint8Array }): string => toHex(k.dangerouslyExposeBytes());

export { scriptedRng } from './scripted.js';

/** Throws (a generation-time consistency failure, not a SealError) unless the two byte strings are equal. */
export function mustEqual(what: string, a: Uint8Array, b: Uint8Array): void {
  if (a.length !== b.length || !constantTimeEqual(a, b)) throw new Error(`envelope vectors: ${what} differ`);
}

/** `bytes` with bit `mask` of byte `index` flipped. */
export function flipBit(bytes: Uint8Array, index: number, mask: number): Uint8Array {
  if (index < 0 || index >= bytes.length) throw new Error(`envelope vectors: byte ${index} is outside the ${bytes.length} bytes`);
  const out = bytes.slice();
  out[index]! ^= mask;
  return out;
}

/** The text of the first `<body/>` among the opened content elements. */
export function bodyOf(content: readonly Element[]): string | undefined {
  return contentBody(content);
}

/** The content of every sealed stanza of the vectors: one `<body/>`. */
export const contentOf = (body: string): Element[] => [xml('body', {}, [body])];

/** How many padding bytes buildContent draws for this content (the Padmé fill of §envelope.content). */
export function paddingLength(body: string, to: string, from: string): number {
  let requested = -1;
  buildContent({ content: contentOf(body), to, from, time: NOW, rng: (n) => ((requested = n), new Uint8Array(n)) });
  return requested;
}

// ---------------------------------------------------------------------------------------------
// Device states in JSON form

export { DeviceInput, type DeviceIn, stateFromInputs, stateToInputs } from './scripted.js';

// ---------------------------------------------------------------------------------------------
// Fixtures

export const DEVICE_NAMES = ['A1', 'A2', 'A3', 'B1', 'B2', 'B3'] as const;
export type DeviceName = (typeof DEVICE_NAMES)[number];

/** The bodies of the three stanzas of the scenario with content (its key-only messages have none). */
export const BODIES = {
  'seal-1': 'Hi Bob! This reaches your three devices and my own other two.',
  'seal-2': 'Hi Alice, replying from my phone.',
  'seal-3': 'Good, the first reply confirmed our session.',
} as const;

/** The random values of one ratchet send: the plaintext (a content key), its context, and a ratchet key for a DH step. */
const sendRandomness = (r: Rng) => ({ plaintext: r(32), context: r(64), ratchetSecretKey: r(32) });

/** The random values of one asynchronous initiation and the ratchet start that follows it. */
const initiation = (r: Rng) => ({ oneTimePrekeyChoice: r(4), ephemeralSecretKey: r(32), kemRandomness: r(32), ratchetSecretKey: r(32) });

/**
 * Every secret and random value of the file, drawn in this fixed order: the six devices (created
 * a day before NOW, two one-time prekeys each), the two ratchet sequences, the fan-out scenario,
 * the negative cases, then the key-only messages of the scenario and their negative case.
 */
export function fixtures() {
  const r = seededRng('vectors/envelope.json');
  const devices = {} as Record<DeviceName, DeviceState>;
  for (const name of DEVICE_NAMES) {
    const jid = name.startsWith('A') ? ALICE : BOB;
    const taken = Object.values(devices).filter((d) => d.jid === jid).map((d) => d.deviceId);
    devices[name] = createDeviceState({ jid, now: NOW - DAY, rng: r, oneTimePrekeys: 2, takenDeviceIds: taken });
  }
  const ratchet = [0, 1].map(() => ({
    rootKey: r(32),
    sessionId: r(32),
    initiatorRatchetSecretKey: r(32),
    responderRatchetSecretKey: r(32),
    sends: Array.from({ length: 6 }, () => sendRandomness(r)),
  }));
  const initiations = {
    'A1-B1': initiation(r),
    'A1-B2': initiation(r),
    'A1-B3': initiation(r),
    'A1-A2': initiation(r),
    'A1-A3': initiation(r),
    'B1-A2': initiation(r),
  };
  const seal = (id: keyof typeof BODIES, to: string, from: string) => ({ contentKey: r(32), padding: r(paddingLength(BODIES[id], to, from)) });
  const seals = {
    'seal-1': seal('seal-1', BOB, ALICE),
    'seal-2': { ...seal('seal-2', ALICE, BOB), ratchetSecretKeys: { A1: r(32) } },
    'seal-3': { ...seal('seal-3', BOB, ALICE), ratchetSecretKeys: { B1: r(32) } },
  };
  const negative = { otherContentKey: r(32), salamanderKey: r(32) };
  // Drawn last, so that every value above keeps its bytes: the key-only messages of the scenario
  // (B2's confirmation to A1 makes a DH step; A2 starts a session with B3 and announces it).
  // After opening key-1, A1's next send to B2 (in seal-3) makes a DH step as well.
  const keyOnly = { 'key-1': { ratchetSecretKeys: { A1: r(32) } }, 'key-2': {}, 'key-3': {} };
  const seal3 = { ...seals['seal-3'], ratchetSecretKeys: { ...seals['seal-3'].ratchetSecretKeys, B2: r(32) } };
  const lateInitiations = { 'A2-B3': initiation(r) };
  const keyOnlyNegative = { nonZeroValue: r(32) };
  return { devices, ratchet, initiations: { ...initiations, ...lateInitiations }, seals: { ...seals, 'seal-3': seal3 }, negative, keyOnly, keyOnlyNegative };
}

export type Fixtures = ReturnType<typeof fixtures>;
