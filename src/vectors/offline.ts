/**
 * `vectors/offline.json`: passive-client scenarios in the style of the MLS passive-client
 * vectors. A receiving device's complete initial state (its secrets, its handshake log, the
 * sessions it started itself from the random values it drew) and the stanzas a server delivers
 * to it (reordered, duplicated, tampered, beyond bounds); the operation opens them in order,
 * keeping the new state only after a stanza opens, and lists every result. The sending side was
 * simulated when the cases were built, so another implementation needs only the receiver side.
 *
 * @see spec §offline
 * @module
 */
import * as z from 'zod/mini';
import { toHex } from '../codec/bytes.js';
import { isSealError } from '../errors.js';
import { type Element, parseXml } from '../wire/index.js';
import { Hex } from './format.js';
import { DeviceInput, type DeviceIn } from './envelope-common.js';
import type { Fields, GroupKind, VectorKind } from './kind.js';
import { type Expect, type OfflineCase, offlineCases } from './offline-scenarios.js';
import { forwardedStanza } from './offline-forwarded.js';
import { DuplicateResult, ErrorResult, Initiated, type InitiatedIn, NotForThisDeviceResult, OkResult, SendStep, SentResult, type Step, runSteps } from './offline-run.js';
import { receiverStepCases } from './offline-steps.js';

export { Initiated, type InitiatedIn, initiatedSession } from './offline-run.js';

/** The receiving device's starting point in a case's inputs. */
const start = (i: Fields) => ({ receiver: i.receiver as DeviceIn, log: i.log as string[], initiated: i.initiated as InitiatedIn[], now: i.now as number });

/** Replays the deliveries of a PassiveClient case and lists the result of each. */
function runPassive(i: Fields): Fields {
  // Every delivery must be a stanza: one that is not well-formed XML rejects the inputs as a whole.
  const stanzas: Element[] = (i.stanzas as string[]).map((text) => parseXml(text));
  return { results: runSteps(start(i), stanzas.map((stanza) => ({ at: i.now as number, stanza }))) };
}

/** Runs the steps of a ReceiverSteps case and lists the result of each. */
function runReceiverSteps(i: Fields): Fields {
  const raw = i.steps as ({ at: number; stanza: string } | { at: number; send: z.infer<typeof SendStep> })[];
  // As for PassiveClient: every delivery must be well-formed XML, or the inputs are rejected as a whole.
  const steps: Step[] = raw.map((s) => ('stanza' in s ? { at: s.at, stanza: parseXml(s.stanza) } : s));
  return { results: runSteps(start(i), steps) };
}

// ---------------------------------------------------------------------------------------------
// Generation-time checks: every case gives what its scenario says

function matches(actual: Fields, expected: Expect): boolean {
  if ('error' in expected) return actual.kind === 'error' && actual.error === expected.error;
  if ('sent' in expected) return actual.kind === 'sent' && actual.key === expected.sent;
  if ('kind' in expected) return actual.kind === expected.kind;
  if (actual.kind !== 'ok' || actual.body !== expected.ok) return false;
  if (expected.session !== undefined && actual.session !== toHex(expected.session)) return false;
  if (expected.otherSession !== undefined && actual.otherSession !== (expected.otherSession === null ? undefined : toHex(expected.otherSession))) return false;
  if (expected.keyOnly !== undefined && (actual.keyOnly === true) !== expected.keyOnly) return false;
  return expected.confirmed === undefined || actual.confirmed === expected.confirmed;
}

function checked(cases: readonly OfflineCase[], run: (i: Fields) => Fields) {
  return cases.map((c) => {
    let outcome: Fields[] | string;
    try {
      outcome = run(c.inputs).results as Fields[];
    } catch (e) {
      if (!isSealError(e)) throw e;
      outcome = e.code;
    }
    const fine =
      c.rejectedWith !== undefined
        ? outcome === c.rejectedWith
        : typeof outcome !== 'string' && c.expect !== undefined && outcome.length === c.expect.length && outcome.every((r, n) => matches(r, c.expect![n]!));
    if (!fine) throw new Error(`offline vectors: "${c.comment.slice(0, 60)}…" gives ${JSON.stringify(outcome)}`);
    return { comment: c.comment, flags: c.flags, inputs: c.inputs };
  });
}

/** `PassiveClient`: one receiving device, a sequence of deliveries, the result of each. @see spec §offline */
export const passiveClient: GroupKind = {
  type: 'PassiveClient',
  description:
    'a receiving device that only receives: its complete initial state is receiver (secrets), log (its handshake log) and the sessions of initiated, each a session it started itself and that is still unconfirmed ' +
    '(verify bundleXml for peer and peerDeviceId at now, initiateAsync drawing oneTimePrekeyChoice, ephemeralSecretKey and kemRandomness, then startRatchet drawing ratchetSecretKey; the header stays attached; its own sends on it do not affect receiving); it has no other sessions. ' +
    'The stanzas are the <message/> stanzas a server delivers, in order (after removing any archive or carbons wrapper); all of them must be well-formed XML, or the inputs are rejected as a whole. ' +
    'Each is opened with openStanza at now; the new state (device state, handshake log, sessions) is kept only when the result is ok. ' +
    'results lists, per stanza: kind ok with the sender, its device id, the body, the <time/> of the envelope, keyOnly (whether it was a key-only message, as in envelope.json), and the sessions with that sender device after the stanza (session: the active session\'s id, used to send; otherSession: the id of the other session kept for receiving, if any; confirmed: false while the receiver\'s own handshake header would still be attached); ' +
    'or kind duplicate; or kind not-for-this-device with the sender; or kind error with the error code (state unchanged)',
  inputs: z.strictObject({ receiver: DeviceInput, log: z.array(Hex), initiated: z.array(Initiated), now: z.int(), stanzas: z.array(z.string()) }),
  outputs: z.strictObject({ results: z.array(z.union([OkResult, DuplicateResult, NotForThisDeviceResult, ErrorResult])) }),
  operation: runPassive,
  cases: () => checked(offlineCases(), runPassive),
};

/** `ReceiverSteps`: as PassiveClient, with a time per delivery and key-only messages the device sends. @see spec §offline */
export const receiverSteps: GroupKind = {
  type: 'ReceiverSteps',
  description:
    'as PassiveClient (receiver, log, initiated and now are the same inputs; initiated sessions are rebuilt at now), with steps instead of stanzas, processed in order. ' +
    'A step {at, stanza} delivers the <message/> stanza, opened with openStanza at time at (skipped message keys are stored with that time and expire SKIPPED_KEY_MAX_AGE later); the new state is kept only when it opens. ' +
    'A step {at, send} makes the device send a key-only message (sealKeyOnly, envelope.key-only) on its active session with device send.peerDeviceId of send.peer, drawing send.ratchetSecretKey (32 bytes) as its new ratchet key when the session has no sending chain (the deferred half of a DH ratchet step, envelope.ratchet-init) and nothing otherwise; its result is kind sent with key, the base64 of the key element it produced (88 bytes: RatchetMessage), and the new state is kept. ' +
    'results as for PassiveClient, where an ok result of a key-only message has keyOnly true, body empty and time at',
  inputs: z.strictObject({
    receiver: DeviceInput,
    log: z.array(Hex),
    initiated: z.array(Initiated),
    now: z.int(),
    steps: z.array(z.union([z.strictObject({ at: z.int(), stanza: z.string() }), z.strictObject({ at: z.int(), send: SendStep })])),
  }),
  outputs: z.strictObject({ results: z.array(z.union([OkResult, DuplicateResult, NotForThisDeviceResult, ErrorResult, SentResult])) }),
  operation: runReceiverSteps,
  cases: () => checked(receiverStepCases(), runReceiverSteps),
};

/** The kind of `vectors/offline.json`. @see spec §offline */
export const offlineVectors: VectorKind = {
  file: 'offline.json',
  section: 'offline',
  version: 1,
  description:
    'Seal-v0 store-and-forward delivery as a passive client sees it: a receiving device\'s complete state and the stanzas a server delivers to it (an offline backlog shuffled and then repeated from the archive, a gap beyond MAX_SKIP, tampered re-deliveries, a simultaneous initiation, a new device reading the archive, a handshake to rotated prekeys within, at the end of and after the grace period); the same with a time per delivery and key-only messages the device sends (MAX_SKIP per chain across two chains, skipped-key eviction and expiry, a key-only confirmation, a repair announced by a key-only message with a handshake header, the receive limits), with the result of each step in order; and how a device reads carbons, archive results, bounces and PEP notifications, rejecting forged wrappers',
  groups: [passiveClient, receiverSteps, forwardedStanza],
};
