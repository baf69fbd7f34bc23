/**
 * `RatchetSequence` of `vectors/envelope.json`: the Double Ratchet of one session from its
 * session secret, both sides, through a scripted sequence of sends and deliveries (out of
 * order, skipped and late, across DH ratchet steps, a re-delivery), with every intermediate key
 * the public API exposes (`rootStep`, `chainStep`, `messageKeys`) and every random value explicit.
 *
 * @see spec §envelope.ratchet
 * @module
 */
import * as z from 'zod/mini';
import { decode } from '../codec/binary.js';
import { concatBytes, fromHex, toHex } from '../codec/bytes.js';
import { type RatchetState, RatchetHeaderCodec, chainStep, messageKeys, ratchetDecrypt, ratchetEncrypt, rootStep, startRatchet } from '../envelope/index.js';
import { type SessionSecret, sessionBinding } from '../handshake/index.js';
import type { DeviceState } from '../identity/index.js';
import { SymmetricKey, X25519SecretKey, aeadSeal, ed25519PublicKeyOf, x25519, x25519PublicKey, x25519PublicKeyOf } from '../suite/index.js';
import { Hex } from './format.js';
import { type Fixtures, NOW, fixtures, mustEqual, scriptedRng, secretHex } from './envelope-common.js';
import type { Fields, GroupKind } from './kind.js';

type Role = 'initiator' | 'responder';
const other = (role: Role): Role => (role === 'initiator' ? 'responder' : 'initiator');

const SessionFields = { sessionId: Hex, rootKey: Hex, associatedData: Hex };
const InitiatorSession = z.strictObject({ role: z.literal('initiator'), ...SessionFields, peerRatchetKey: Hex, ratchetSecretKey: Hex });
const ResponderSession = z.strictObject({ role: z.literal('responder'), ...SessionFields, ratchetSecretKey: Hex });
const SendStep = z.strictObject({ send: z.enum(['initiator', 'responder']), plaintext: Hex, context: Hex, ratchetSecretKey: z.optional(Hex) });
const ReceiveStep = z.strictObject({ receive: z.int() });
type InitiatorIn = z.infer<typeof InitiatorSession>;
type ResponderIn = z.infer<typeof ResponderSession>;
type StepIn = z.infer<typeof SendStep> | z.infer<typeof ReceiveStep>;

const SendOutput = z.strictObject({
  message: z.int(),
  ratchetPublicKey: z.optional(Hex),
  dhOutput: z.optional(Hex),
  rootKey: z.optional(Hex),
  chainKey: Hex,
  messageKey: Hex,
  nextChainKey: Hex,
  aeadKey: Hex,
  nonce: Hex,
  previousCount: z.int(),
  counter: z.int(),
  header: Hex,
  ciphertext: Hex,
});
const ReceiveOutput = z.strictObject({
  message: z.int(),
  result: z.literal('ok'),
  dhOutput: z.optional(Hex),
  rootKey: z.optional(Hex),
  chainKey: z.optional(Hex),
  messageKey: Hex,
  plaintext: Hex,
  skippedKeys: z.int(),
});
const DuplicateOutput = z.strictObject({ message: z.int(), result: z.literal('duplicate') });

/**
 * The session secret as the ratchet reads it. startRatchet takes a whole SessionSecret but reads
 * only the role, the session id, the root key, the associated data and the ratchet start; the
 * other fields (handshake, exporter secret, parties) do not exist for these inputs.
 */
type RatchetSessionInput = Pick<SessionSecret, 'sessionId' | 'rootKey' | 'associatedData'> &
  ({ role: 'initiator'; peerRatchetKey: ReturnType<typeof x25519PublicKey> } | { role: 'responder'; ratchetKeyPair: { secretKey: X25519SecretKey; publicKey: ReturnType<typeof x25519PublicKey> } });
const asSessionSecret = (s: RatchetSessionInput): SessionSecret => s as SessionSecret;

interface Sent {
  readonly from: Role;
  readonly header: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly context: Uint8Array;
  readonly plaintext: Uint8Array;
  readonly messageKey: Uint8Array;
}

/** Runs a RatchetSequence case, checking every intermediate value against the formulas of §envelope.ratchet. */
function runSequence(i: Fields): Fields {
  const ini = i.initiator as InitiatorIn;
  const res = i.responder as ResponderIn;
  const common = (s: InitiatorIn | ResponderIn) => ({ sessionId: fromHex(s.sessionId, 'sessionId'), rootKey: new SymmetricKey(fromHex(s.rootKey, 'rootKey')), associatedData: fromHex(s.associatedData, 'associatedData') });
  const peerRatchetKey = x25519PublicKey(fromHex(ini.peerRatchetKey, 'initiator.peerRatchetKey'));
  const startRng = scriptedRng([fromHex(ini.ratchetSecretKey, 'initiator.ratchetSecretKey')]);
  const initiator = startRatchet(asSessionSecret({ role: 'initiator', ...common(ini), peerRatchetKey }), startRng);
  startRng.assertDone();
  const responderKey = new X25519SecretKey(fromHex(res.ratchetSecretKey, 'responder.ratchetSecretKey'));
  const responder = startRatchet(asSessionSecret({ role: 'responder', ...common(res), ratchetKeyPair: { secretKey: responderKey, publicKey: x25519PublicKeyOf(responderKey) } }));

  // The initiator's first DH ratchet step, by the formula.
  const startDh = x25519(initiator.sendingRatchet!.secretKey, peerRatchetKey);
  const first = rootStep(common(ini).rootKey, startDh);
  mustEqual('the initiator\'s first root key', first.rootKey.dangerouslyExposeBytes(), initiator.rootKey.dangerouslyExposeBytes());
  mustEqual('the initiator\'s first sending chain', first.chainKey.dangerouslyExposeBytes(), initiator.sendingChain!.dangerouslyExposeBytes());
  const start = {
    ratchetPublicKey: toHex(initiator.sendingRatchet!.publicKey),
    dhOutput: secretHex(startDh),
    rootKey: secretHex(initiator.rootKey),
    chainKey: secretHex(initiator.sendingChain!),
  };

  const states: Record<Role, RatchetState> = { initiator, responder };
  const sent: Sent[] = [];
  const steps: Fields[] = [];
  for (const step of i.steps as StepIn[]) {
    if ('send' in step) {
      const before = states[step.send];
      const plaintext = fromHex(step.plaintext, 'plaintext');
      const context = fromHex(step.context, 'context');
      const rng = scriptedRng(step.ratchetSecretKey === undefined ? [] : [fromHex(step.ratchetSecretKey, 'ratchetSecretKey')]);
      const out = ratchetEncrypt(before, plaintext, context, rng);
      rng.assertDone();
      let chainKey = before.sendingChain;
      let dh: Fields = {};
      if (chainKey === undefined) {
        // The sending half of a DH ratchet step.
        const dhOutput = x25519(out.state.sendingRatchet!.secretKey, before.remoteRatchetKey!);
        const rs = rootStep(before.rootKey, dhOutput);
        mustEqual('the root key of a DH step', rs.rootKey.dangerouslyExposeBytes(), out.state.rootKey.dangerouslyExposeBytes());
        chainKey = rs.chainKey;
        dh = { ratchetPublicKey: toHex(out.state.sendingRatchet!.publicKey), dhOutput: secretHex(dhOutput), rootKey: secretHex(rs.rootKey) };
      }
      const cs = chainStep(chainKey);
      mustEqual('the next sending chain key', cs.chainKey.dangerouslyExposeBytes(), out.state.sendingChain!.dangerouslyExposeBytes());
      const mk = messageKeys(cs.messageKey, context);
      mustEqual('the ciphertext', aeadSeal(mk.key, mk.nonce, plaintext, concatBytes(before.associatedData, out.header, context)), out.ciphertext);
      const header = decode(RatchetHeaderCodec, out.header);
      mustEqual('the header ratchet key', header.ratchetKey, out.state.sendingRatchet!.publicKey);
      states[step.send] = out.state;
      sent.push({ from: step.send, header: out.header, ciphertext: out.ciphertext, context, plaintext, messageKey: cs.messageKey.dangerouslyExposeBytes() });
      steps.push({
        message: sent.length - 1,
        ...dh,
        chainKey: secretHex(chainKey),
        messageKey: secretHex(cs.messageKey),
        nextChainKey: secretHex(cs.chainKey),
        aeadKey: secretHex(mk.key),
        nonce: toHex(mk.nonce),
        previousCount: header.previousCount,
        counter: header.counter,
        header: toHex(out.header),
        ciphertext: toHex(out.ciphertext),
      });
      continue;
    }
    const m = sent[step.receive];
    if (m === undefined) throw new Error(`envelope vectors: message ${step.receive} has not been sent`);
    const side = other(m.from);
    const before = states[side];
    const result = ratchetDecrypt(before, m.header, m.ciphertext, m.context, NOW);
    if (result.kind === 'duplicate') {
      steps.push({ message: step.receive, result: 'duplicate' });
      continue;
    }
    mustEqual('the plaintext', result.plaintext, m.plaintext);
    // The receiver's message key by the formulas: a stored skipped key, or the chain (after a DH step) stepped to the counter.
    const header = decode(RatchetHeaderCodec, m.header);
    const ratchetHex = toHex(header.ratchetKey);
    const stored = before.skipped.find((k) => k.ratchetKey === ratchetHex && k.counter === header.counter);
    const dhStep = stored === undefined && (before.remoteRatchetKey === undefined || toHex(before.remoteRatchetKey) !== ratchetHex);
    let dh: Fields = {};
    let expectedSkipped = before.skipped.length;
    let messageKey: SymmetricKey;
    if (stored !== undefined) {
      messageKey = stored.messageKey;
      expectedSkipped -= 1;
    } else {
      let chain = before.receivingChain;
      let from = before.receiveCount;
      if (dhStep) {
        if (before.receivingChain !== undefined) expectedSkipped += Math.max(0, header.previousCount - before.receiveCount);
        const dhOutput = x25519(before.sendingRatchet!.secretKey, header.ratchetKey);
        const rs = rootStep(before.rootKey, dhOutput);
        mustEqual('the root key of a received DH step', rs.rootKey.dangerouslyExposeBytes(), result.state.rootKey.dangerouslyExposeBytes());
        dh = { dhOutput: secretHex(dhOutput), rootKey: secretHex(rs.rootKey), chainKey: secretHex(rs.chainKey) };
        chain = rs.chainKey;
        from = 0;
      }
      expectedSkipped += header.counter - from;
      let walk = chainStep(chain!);
      for (let n = from; n < header.counter; n++) walk = chainStep(walk.chainKey);
      mustEqual('the receiving chain after the message', walk.chainKey.dangerouslyExposeBytes(), result.state.receivingChain!.dangerouslyExposeBytes());
      messageKey = walk.messageKey;
    }
    mustEqual('the message keys of sender and receiver', messageKey.dangerouslyExposeBytes(), m.messageKey);
    if (result.state.skipped.length !== expectedSkipped) throw new Error(`envelope vectors: ${result.state.skipped.length} skipped keys stored, expected ${expectedSkipped}`);
    states[side] = result.state;
    steps.push({ message: step.receive, result: 'ok', ...dh, messageKey: secretHex(messageKey), plaintext: toHex(result.plaintext), skippedKeys: result.state.skipped.length });
  }
  return { start, steps };
}

// ---------------------------------------------------------------------------------------------
// Cases

/** A party of SessionBinding from a device's identity keys. */
const party = (d: DeviceState) => ({ jid: d.jid, deviceId: d.deviceId, signingKey: ed25519PublicKeyOf(d.signingKey), agreementKey: x25519PublicKeyOf(d.agreementKey) });

/**
 * One sequence: `script` lists sends (`'I'` initiator, `'R'` responder; `+` marks a send that
 * makes a DH ratchet step and so draws a ratchet key) and deliveries (message numbers).
 */
function sequenceInputs(f: Fixtures, n: 0 | 1, parties: [DeviceState, DeviceState], script: readonly (string | number)[]): Fields {
  const c = f.ratchet[n]!;
  const associatedData = toHex(sessionBinding(party(parties[0]), party(parties[1])));
  const session = { sessionId: toHex(c.sessionId), rootKey: toHex(c.rootKey), associatedData };
  const responderKey = new X25519SecretKey(c.responderRatchetSecretKey);
  let sends = 0;
  const steps = script.map((s) => {
    if (typeof s === 'number') return { receive: s };
    const r = c.sends[sends++]!;
    return { send: s.startsWith('I') ? 'initiator' : 'responder', plaintext: toHex(r.plaintext), context: toHex(r.context), ...(s.endsWith('+') ? { ratchetSecretKey: toHex(r.ratchetSecretKey) } : {}) };
  });
  return {
    initiator: { role: 'initiator', ...session, peerRatchetKey: toHex(x25519PublicKeyOf(responderKey)), ratchetSecretKey: toHex(c.initiatorRatchetSecretKey) },
    responder: { role: 'responder', ...session, ratchetSecretKey: toHex(c.responderRatchetSecretKey) },
    now: NOW,
    steps,
  };
}

export const ratchetSequence: GroupKind = {
  type: 'RatchetSequence',
  description:
    'the Double Ratchet of one session, both sides started from the session secret (startRatchet): the initiator draws its first ratchet key (initiator.ratchetSecretKey) and computes KDF_RK(rootKey, X25519(it, peerRatchetKey)) for its sending chain (outputs.start); the responder starts with its ratchet key pair (responder.ratchetSecretKey) and no chains. ' +
    'Then the steps in order: a send encrypts plaintext (32 bytes, as a wrapped content key) with context (bound as further associated data: ad = associatedData || header || context) as the next message of that side, numbered from 0 in sending order; a send that completes a DH ratchet step (the first send after receiving a new ratchet key) draws ratchetSecretKey and gives ratchetPublicKey, dhOutput and rootKey (KDF_RK). ' +
    'Every send gives chainKey (the sending chain key used), messageKey and nextChainKey (KDF_CK), aeadKey and nonce (DeriveKey("ratchet message", messageKey, salt = "", context = the context of the send, 44)), the header and the ciphertext. ' +
    'A receive step delivers message n to the other side (RatchetDecrypt at now): plaintext, the message key the receiver used (a stored skipped key, or its receiving chain stepped to the counter), dhOutput, rootKey and chainKey (the new receiving chain) when the message starts a DH ratchet step, and skippedKeys, the number of skipped message keys the receiver holds afterwards; a message already opened gives result duplicate',
  inputs: z.strictObject({ initiator: InitiatorSession, responder: ResponderSession, now: z.int(), steps: z.array(z.union([SendStep, ReceiveStep])) }),
  outputs: z.strictObject({
    start: z.strictObject({ ratchetPublicKey: Hex, dhOutput: Hex, rootKey: Hex, chainKey: Hex }),
    steps: z.array(z.union([SendOutput, ReceiveOutput, DuplicateOutput])),
  }),
  operation: runSequence,
  cases: () => {
    const f = fixtures();
    const { A1, A2, B1 } = f.devices;
    return [
      {
        comment:
          'I sends 0, 1, 2; R receives 0, then 2 (message 1 skipped: one stored key), then 1 (out of order, from the stored key); R replies 3, 4 (DH step); I receives 4 (DH step, message 3 skipped); I sends 5 (DH step, previous_count 3); R receives 5; I receives 3 late from its stored key',
        inputs: sequenceInputs(f, 0, [A1, B1], ['I', 'I', 'I', 0, 2, 1, 'R+', 'R', 4, 'I+', 5, 3]),
      },
      {
        comment:
          'skipping across a DH step: I sends 0, 1, 2; R receives only 0 and replies 3 (DH step); I receives 3 and sends 4 (DH step, previous_count 3); R receives 4, storing the keys of 1 and 2 of the old chain (previous_count), then 2 and 1; message 1 again is a duplicate; R sends 5 (DH step), I receives it',
        inputs: sequenceInputs(f, 1, [B1, A2], ['I', 'I', 'I', 0, 'R+', 3, 'I+', 4, 2, 1, 1, 'R+', 5]),
      },
    ];
  },
};
