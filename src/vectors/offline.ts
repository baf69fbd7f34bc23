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
import { SEAL_ERROR_CODES, SealError, type SealErrorCode, isSealError } from '../errors.js';
import { type PeerSession, openStanza, sessionKey, startRatchet } from '../envelope/index.js';
import { initiateAsync } from '../handshake/index.js';
import { bareJid, deviceId, verifyBundle } from '../identity/index.js';
import { BundleElement, type Element, parseXml } from '../wire/index.js';
import { Hex } from './format.js';
import { DeviceInput, type DeviceIn, bodyOf, hex, scriptedRng, stateFromInputs } from './envelope-common.js';
import type { Fields, GroupKind, VectorKind } from './kind.js';
import { type Expect, offlineCases } from './offline-scenarios.js';
import { forwardedStanza } from './offline-forwarded.js';

/** A session the device started from a peer's bundle, as the random values it drew (shared with the groups vectors). */
export const Initiated = z.strictObject({
  peer: z.string(),
  peerDeviceId: z.int(),
  bundleXml: z.string(),
  oneTimePrekeyChoice: z.optional(Hex),
  ephemeralSecretKey: Hex,
  kemRandomness: Hex,
  ratchetSecretKey: Hex,
});
/** The inputs of {@link Initiated}. */
export type InitiatedIn = z.infer<typeof Initiated>;

const OkResult = z.strictObject({
  kind: z.literal('ok'),
  sender: z.string(),
  senderDeviceId: z.int(),
  body: z.string(),
  time: z.int(),
  session: Hex,
  otherSession: z.optional(Hex),
  confirmed: z.boolean(),
});
const DuplicateResult = z.strictObject({ kind: z.literal('duplicate') });
const NotForThisDeviceResult = z.strictObject({ kind: z.literal('not-for-this-device'), sender: z.string(), senderDeviceId: z.int() });
const ErrorResult = z.strictObject({ kind: z.literal('error'), error: z.enum(SEAL_ERROR_CODES as [SealErrorCode, ...SealErrorCode[]]) });

/** The session a device started with a peer device, rebuilt from the random values it drew (unconfirmed: the header is attached). @see spec §handshake.async */
export function initiatedSession(self: ReturnType<typeof stateFromInputs>, i: InitiatedIn, now: number): PeerSession {
  const peer = verifyBundle(BundleElement.fromXml(parseXml(i.bundleXml)), { jid: bareJid(i.peer), deviceId: deviceId(i.peerDeviceId), now });
  const choice = i.oneTimePrekeyChoice === undefined ? [] : [hex(i, 'oneTimePrekeyChoice')];
  const rng = scriptedRng([...choice, hex(i, 'ephemeralSecretKey'), hex(i, 'kemRandomness'), hex(i, 'ratchetSecretKey')]);
  const started = initiateAsync({ self, peer, rng });
  const ratchet = startRatchet(started.session, rng);
  rng.assertDone();
  return { ratchet, confirmation: { state: 'unconfirmed', header: started.header } };
}

/** Replays the deliveries of a PassiveClient case and lists the result of each. */
function runPassive(i: Fields): Fields {
  const now = i.now as number;
  let state = stateFromInputs(i.receiver as DeviceIn);
  let log: readonly string[] = i.log as string[];
  let sessions = new Map<string, PeerSession>();
  for (const started of i.initiated as InitiatedIn[]) {
    const key = sessionKey(bareJid(started.peer), started.peerDeviceId);
    if (sessions.has(key)) throw new SealError('duplicate-id', `initiated: two sessions with device ${started.peerDeviceId} of ${started.peer}`);
    sessions.set(key, initiatedSession(state, started, now));
  }
  // Every delivery must be a stanza: one that is not well-formed XML rejects the inputs as a whole.
  const stanzas: Element[] = (i.stanzas as string[]).map((text) => parseXml(text));
  const results: Fields[] = [];
  for (const stanza of stanzas) {
    const result = openStanza({ stanza, self: state, log, sessions, now });
    switch (result.kind) {
      case 'error':
        results.push({ kind: 'error', error: result.error.code });
        break;
      case 'duplicate':
        results.push({ kind: 'duplicate' });
        break;
      case 'not-for-this-device':
        results.push({ kind: 'not-for-this-device', sender: result.sender.jid, senderDeviceId: result.sender.deviceId });
        break;
      case 'ok': {
        ({ state, log, sessions } = result);
        const session = sessions.get(sessionKey(result.sender.jid, result.sender.deviceId))!;
        results.push({
          kind: 'ok',
          sender: result.sender.jid,
          senderDeviceId: result.sender.deviceId,
          body: bodyOf(result.content) ?? '',
          time: result.time,
          session: toHex(session.ratchet.sessionId),
          ...(session.alternate === undefined ? {} : { otherSession: toHex(session.alternate.sessionId) }),
          confirmed: session.confirmation.state === 'confirmed',
        });
        break;
      }
    }
  }
  return { results };
}

// ---------------------------------------------------------------------------------------------
// Generation-time checks: every case gives what its scenario says

function matches(actual: Fields, expected: Expect): boolean {
  if ('error' in expected) return actual.kind === 'error' && actual.error === expected.error;
  if ('kind' in expected) return actual.kind === expected.kind;
  if (actual.kind !== 'ok' || actual.body !== expected.ok) return false;
  if (expected.session !== undefined && actual.session !== toHex(expected.session)) return false;
  if (expected.otherSession !== undefined && actual.otherSession !== (expected.otherSession === null ? undefined : toHex(expected.otherSession))) return false;
  return expected.confirmed === undefined || actual.confirmed === expected.confirmed;
}

function checkedCases() {
  return offlineCases().map((c) => {
    let outcome: Fields[] | string;
    try {
      outcome = runPassive(c.inputs).results as Fields[];
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
    'results lists, per stanza: kind ok with the sender, its device id, the body, the <time/> of the envelope, and the sessions with that sender device after the stanza (session: the active session\'s id, used to send; otherSession: the id of the other session kept for receiving, if any; confirmed: false while the receiver\'s own handshake header would still be attached); ' +
    'or kind duplicate; or kind not-for-this-device with the sender; or kind error with the error code (state unchanged)',
  inputs: z.strictObject({ receiver: DeviceInput, log: z.array(Hex), initiated: z.array(Initiated), now: z.int(), stanzas: z.array(z.string()) }),
  outputs: z.strictObject({ results: z.array(z.union([OkResult, DuplicateResult, NotForThisDeviceResult, ErrorResult])) }),
  operation: runPassive,
  cases: checkedCases,
};

/** The kind of `vectors/offline.json`. @see spec §offline */
export const offlineVectors: VectorKind = {
  file: 'offline.json',
  section: 'offline',
  version: 1,
  description:
    'Seal-v0 store-and-forward delivery as a passive client sees it: a receiving device\'s complete state and the stanzas a server delivers to it (an offline backlog shuffled and then repeated from the archive, a gap beyond MAX_SKIP, tampered re-deliveries, a simultaneous initiation, a new device reading the archive, a handshake to rotated prekeys within and after the grace period), with the result of opening each in order; and how a device reads carbons, archive results, bounces and PEP notifications, rejecting forged wrappers',
  groups: [passiveClient, forwardedStanza],
};
