/**
 * The receiving side of `vectors/offline.json`, shared by its PassiveClient and ReceiverSteps
 * groups: a device's complete state, the sessions it started itself, and steps that deliver a
 * stanza at a time (opened with openStanza, the new state kept only when it opens) or make the
 * device send a key-only message to a peer device; the result of each step.
 *
 * @see spec §offline
 * @module
 */
import * as z from 'zod/mini';
import { toHex } from '../codec/bytes.js';
import { SEAL_ERROR_CODES, SealError, type SealErrorCode, isSealError } from '../errors.js';
import { type PeerSession, openStanza, sealKeyOnly, sessionKey, startRatchet } from '../envelope/index.js';
import { initiateAsync } from '../handshake/index.js';
import { bareJid, deviceId, verifyBundle } from '../identity/index.js';
import { BundleElement, type Element, SealedElement, parseXml } from '../wire/index.js';
import { SEAL_NS } from '../suite/index.js';
import { encodeBase64 } from '../codec/base64.js';
import { Hex } from './format.js';
import { type DeviceIn, bodyOf, hex, scriptedRng, stateFromInputs } from './envelope-common.js';
import type { Fields } from './kind.js';

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

/** The results a step can have. */
export const OkResult = z.strictObject({
  kind: z.literal('ok'),
  sender: z.string(),
  senderDeviceId: z.int(),
  body: z.string(),
  time: z.int(),
  session: Hex,
  otherSession: z.optional(Hex),
  confirmed: z.boolean(),
  keyOnly: z.boolean(),
});
export const DuplicateResult = z.strictObject({ kind: z.literal('duplicate') });
export const NotForThisDeviceResult = z.strictObject({ kind: z.literal('not-for-this-device'), sender: z.string(), senderDeviceId: z.int() });
export const ErrorResult = z.strictObject({ kind: z.literal('error'), error: z.enum(SEAL_ERROR_CODES as [SealErrorCode, ...SealErrorCode[]]) });
export const SentResult = z.strictObject({ kind: z.literal('sent'), key: z.string() });

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

/** A key-only message the receiving device sends to one peer device, with the ratchet key it draws if its session needs one. */
export const SendStep = z.strictObject({ peer: z.string(), peerDeviceId: z.int(), ratchetSecretKey: z.optional(Hex) });
/** One step of a case: a delivery (a stanza, parsed) or a send, at time `at`. */
export type Step = { readonly at: number; readonly stanza: Element } | { readonly at: number; readonly send: z.infer<typeof SendStep> };

/** The receiving device's starting point: its secrets, its handshake log and the sessions it started at `now`. */
export interface Receiver {
  readonly receiver: DeviceIn;
  readonly log: readonly string[];
  readonly initiated: readonly InitiatedIn[];
  readonly now: number;
}

/** Runs `steps` from the receiving device's starting point and lists the result of each. */
export function runSteps(start: Receiver, steps: readonly Step[]): Fields[] {
  let state = stateFromInputs(start.receiver);
  let log = start.log;
  let sessions = new Map<string, PeerSession>();
  for (const started of start.initiated) {
    const key = sessionKey(bareJid(started.peer), started.peerDeviceId);
    if (sessions.has(key)) throw new SealError('duplicate-id', `initiated: two sessions with device ${started.peerDeviceId} of ${started.peer}`);
    sessions.set(key, initiatedSession(state, started, start.now));
  }
  const results: Fields[] = [];
  for (const step of steps) {
    if ('send' in step) {
      const rng = scriptedRng(step.send.ratchetSecretKey === undefined ? [] : [hex(step.send, 'ratchetSecretKey')]);
      try {
        const out = sealKeyOnly({ to: step.send.peer, from: state.jid, senderDeviceId: state.deviceId, recipients: [{ jid: bareJid(step.send.peer), deviceId: deviceId(step.send.peerDeviceId) }], sessions, rng, now: step.at });
        rng.assertDone();
        sessions = out.sessions;
        const sealed = SealedElement.fromXml(out.stanza.getChild('sealed', SEAL_NS)!);
        results.push({ kind: 'sent', key: encodeBase64(sealed.recipients[0]!.keys[0]!.data) });
      } catch (e) {
        if (!isSealError(e)) throw e;
        results.push({ kind: 'error', error: e.code });
      }
      continue;
    }
    const result = openStanza({ stanza: step.stanza, self: state, log, sessions, now: step.at });
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
          keyOnly: result.keyOnly,
        });
        break;
      }
    }
  }
  return results;
}
