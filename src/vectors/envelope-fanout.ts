/**
 * `SealOpen` of `vectors/envelope.json`: multi-device fan-out as one scripted conversation
 * between two accounts of three devices each, from the devices' complete secrets and every
 * random value: asynchronous handshakes, sealed stanzas with their content key, commitment,
 * payload, plaintext and wrapped keys, key-only messages (a confirmation, a new session announced
 * by one, a heartbeat), and every device's result of opening them; the handshake flag of a key
 * element stays until the responder's first reply (with content or key-only) is opened.
 *
 * @see spec §envelope
 * @see spec §envelope.key-only
 * @module
 */
import * as z from 'zod/mini';
import { fromHex, toHex, utf8Decode } from '../codec/bytes.js';
import { ENVELOPE_LABELS, type PeerSession, bare, buildContent, keyCommitment, openStanza, payloadKey, sealKeyOnly, sealStanza, sessionKey, startRatchet } from '../envelope/index.js';
import { type HandshakeLog, handshakeLogEntry, initiateAsync } from '../handshake/index.js';
import { type DeviceState, bundleOf, verifyBundle } from '../identity/index.js';
import { SEAL_NS, SymmetricKey, aeadOpen, labeledContent, sha256 } from '../suite/index.js';
import { EME_NS, HINTS_NS, SealedElement, sameNamespaceChildren, type SealedValue, decodeWrappedKey, encodeAsyncHeader, parseXml } from '../wire/index.js';
import { Hex } from './format.js';
import {
  ALICE,
  ALICE_A1,
  BOB,
  BOB_B1,
  BODIES,
  DEVICE_NAMES,
  DeviceInput,
  type DeviceIn,
  type DeviceName,
  type Fixtures,
  NOW,
  bodyOf,
  contentOf,
  fixtures,
  mustEqual,
  scriptedRng,
  secretHex,
  stateFromInputs,
  stateToInputs,
} from './envelope-common.js';
import type { Fields, GroupKind } from './kind.js';

const Name = z.enum(DEVICE_NAMES);
const InitiateStep = z.strictObject({
  action: z.literal('initiate'),
  from: Name,
  to: Name,
  oneTimePrekeyChoice: z.optional(Hex),
  ephemeralSecretKey: Hex,
  kemRandomness: Hex,
  ratchetSecretKey: Hex,
});
const SealStep = z.strictObject({
  action: z.literal('seal'),
  id: z.string(),
  from: Name,
  stanzaFrom: z.string(),
  to: z.string(),
  body: z.string(),
  recipients: z.array(Name),
  contentKey: Hex,
  padding: Hex,
  ratchetSecretKeys: z.partialRecord(Name, Hex),
});
const KeyOnlyStep = z.strictObject({
  action: z.literal('seal-key-only'),
  id: z.string(),
  from: Name,
  stanzaFrom: z.string(),
  to: z.string(),
  recipients: z.array(Name),
  ratchetSecretKeys: z.partialRecord(Name, Hex),
});
const OpenStep = z.strictObject({ action: z.literal('open'), stanza: z.string(), at: Name });
type InitiateIn = z.infer<typeof InitiateStep>;
type SealIn = z.infer<typeof SealStep>;
type KeyOnlyIn = z.infer<typeof KeyOnlyStep>;
type StepIn = InitiateIn | SealIn | KeyOnlyIn | z.infer<typeof OpenStep>;

const InitiateOutput = z.strictObject({ action: z.literal('initiate'), oneTimePrekeyId: z.optional(z.int()), sessionId: Hex, rootKey: Hex, headerHash: Hex });
const KeyOutput = z.strictObject({ to: Name, handshake: z.boolean(), ratchetHeader: Hex, wrappedKey: Hex });
const SealOutput = z.strictObject({
  action: z.literal('seal'),
  stanza: z.string(),
  commitment: Hex,
  payload: Hex,
  plaintext: z.string(),
  keys: z.array(KeyOutput),
});
const KeyOnlyOutput = z.strictObject({ action: z.literal('seal-key-only'), stanza: z.string(), keys: z.array(KeyOutput) });
const HandshakeOutcome = z.enum(['established', 'already-processed', 'none']);
const OpenedOutput = z.strictObject({
  action: z.literal('open'),
  kind: z.literal('ok'),
  keyOnly: z.literal(false),
  sender: z.string(),
  senderDeviceId: z.int(),
  body: z.string(),
  time: z.int(),
  handshake: HandshakeOutcome,
});
const OpenedKeyOnlyOutput = z.strictObject({
  action: z.literal('open'),
  kind: z.literal('ok'),
  keyOnly: z.literal(true),
  sender: z.string(),
  senderDeviceId: z.int(),
  handshake: HandshakeOutcome,
});
const NotForThisDeviceOutput = z.strictObject({ action: z.literal('open'), kind: z.literal('not-for-this-device'), sender: z.string(), senderDeviceId: z.int() });
const DuplicateOutput = z.strictObject({ action: z.literal('open'), kind: z.literal('duplicate') });

/** What one device holds while the scenario runs. */
interface Holder {
  state: DeviceState;
  log: HandshakeLog;
  sessions: Map<string, PeerSession>;
}

/** What a scenario run leaves for the OpenNegative cases: the stanzas and each sender's sessions just before it sealed. */
export interface ScenarioTrace {
  readonly stanzas: ReadonlyMap<string, string>;
  readonly sessionsBefore: ReadonlyMap<string, ReadonlyMap<string, PeerSession>>;
  readonly contentKeys: ReadonlyMap<string, Uint8Array>;
}

/** Runs a SealOpen case through Seal's public API, checking the sealed values by their formulas. */
export function runScenario(i: Fields): { outputs: Fields; trace: ScenarioTrace } {
  const now = i.now as number;
  const holders = new Map<string, Holder>();
  for (const [name, d] of Object.entries(i.devices as Record<DeviceName, DeviceIn>)) holders.set(name, { state: stateFromInputs(d), log: [], sessions: new Map() });
  const holder = (name: string): Holder => {
    const h = holders.get(name);
    if (h === undefined) throw new Error(`envelope vectors: no device ${name}`);
    return h;
  };
  const stanzas = new Map<string, string>();
  const bodies = new Map<string, string>();
  const sessionsBefore = new Map<string, ReadonlyMap<string, PeerSession>>();
  const contentKeys = new Map<string, Uint8Array>();
  const steps: Fields[] = [];

  for (const step of i.steps as StepIn[]) {
    if (step.action === 'initiate') {
      const self = holder(step.from);
      const peer = holder(step.to).state;
      const verified = verifyBundle(bundleOf(peer), { jid: peer.jid, deviceId: peer.deviceId, now });
      const randomness = [...(step.oneTimePrekeyChoice === undefined ? [] : [step.oneTimePrekeyChoice]), step.ephemeralSecretKey, step.kemRandomness, step.ratchetSecretKey];
      const rng = scriptedRng(randomness.map((h) => fromHex(h, 'initiate')));
      const started = initiateAsync({ self: self.state, peer: verified, rng });
      const ratchet = startRatchet(started.session, rng);
      rng.assertDone();
      self.sessions = new Map(self.sessions).set(sessionKey(peer.jid, peer.deviceId), { ratchet, confirmation: { state: 'unconfirmed', header: started.header } });
      steps.push({
        action: 'initiate',
        ...(started.header.oneTimePrekeyId === undefined ? {} : { oneTimePrekeyId: started.header.oneTimePrekeyId }),
        sessionId: toHex(started.session.sessionId),
        rootKey: secretHex(started.session.rootKey),
        headerHash: toHex(sha256(encodeAsyncHeader(started.header))),
      });
    } else if (step.action === 'seal') {
      const self = holder(step.from);
      const recipients = step.recipients.map((name) => holder(name).state);
      const contentKey = fromHex(step.contentKey, 'contentKey');
      const padding = fromHex(step.padding, 'padding');
      const ratchetKeys = step.recipients.flatMap((name) => (step.ratchetSecretKeys[name] === undefined ? [] : [fromHex(step.ratchetSecretKeys[name], 'ratchetSecretKeys')]));
      const rng = scriptedRng([contentKey, padding, ...ratchetKeys]);
      sessionsBefore.set(step.id, self.sessions);
      const sealed = sealStanza({
        to: step.to,
        from: step.stanzaFrom,
        id: step.id,
        senderDeviceId: self.state.deviceId,
        content: contentOf(step.body),
        recipients: recipients.map((d) => ({ jid: d.jid, deviceId: d.deviceId })),
        sessions: self.sessions,
        rng,
        now,
      });
      rng.assertDone();
      const before = self.sessions;
      self.sessions = sealed.sessions;
      const text = sealed.stanza.toString();
      stanzas.set(step.id, text);
      bodies.set(step.id, step.body);
      contentKeys.set(step.id, contentKey);

      // The sealed values by the formulas of §envelope.
      const value = SealedElement.fromXml(parseXml(text).getChild('sealed', SEAL_NS)!);
      const { commitment, payload } = value;
      if (commitment === undefined || payload === undefined) throw new Error('envelope vectors: a sealed message without a payload');
      const key = new SymmetricKey(contentKey);
      mustEqual('the commitment', commitment, keyCommitment(key));
      const plaintext = buildContent({ content: contentOf(step.body), to: bare(step.to), from: bare(step.stanzaFrom), time: now, rng: scriptedRng([padding]) });
      mustEqual('the plaintext', aeadOpen(payloadKey(key), new Uint8Array(12), payload, labeledContent(ENVELOPE_LABELS.payload, commitment)), plaintext);
      steps.push({ action: 'seal', stanza: text, commitment: toHex(commitment), payload: toHex(payload), plaintext: utf8Decode(plaintext), keys: keyOutputs(value, step.recipients, recipients, before) });
    } else if (step.action === 'seal-key-only') {
      const self = holder(step.from);
      const recipients = step.recipients.map((name) => holder(name).state);
      const ratchetKeys = step.recipients.flatMap((name) => (step.ratchetSecretKeys[name] === undefined ? [] : [fromHex(step.ratchetSecretKeys[name], 'ratchetSecretKeys')]));
      const rng = scriptedRng(ratchetKeys);
      sessionsBefore.set(step.id, self.sessions);
      const sealed = sealKeyOnly({
        to: step.to,
        from: step.stanzaFrom,
        id: step.id,
        senderDeviceId: self.state.deviceId,
        recipients: recipients.map((d) => ({ jid: d.jid, deviceId: d.deviceId })),
        sessions: self.sessions,
        rng,
        now,
      });
      rng.assertDone();
      const before = self.sessions;
      self.sessions = sealed.sessions;
      const text = sealed.stanza.toString();
      stanzas.set(step.id, text);

      // The form of §envelope.key-only: no payload, no body, no marker, the storage hint.
      const stanza = parseXml(text);
      const value = SealedElement.fromXml(stanza.getChild('sealed', SEAL_NS)!);
      if (value.payload !== undefined || value.commitment !== undefined) throw new Error('envelope vectors: a key-only message with a payload');
      if (sameNamespaceChildren(stanza, 'body').length > 0 || stanza.getChild('encryption', EME_NS) !== undefined || stanza.getChild('store', HINTS_NS) === undefined || stanza.attrs.type !== 'chat') {
        throw new Error('envelope vectors: a key-only stanza with a body or marker, or without the storage hint');
      }
      steps.push({ action: 'seal-key-only', stanza: text, keys: keyOutputs(value, step.recipients, recipients, before) });
    } else {
      const at = holder(step.at);
      const text = stanzas.get(step.stanza);
      if (text === undefined) throw new Error(`envelope vectors: stanza ${step.stanza} has not been sealed`);
      const stanza = parseXml(text);
      const mine = SealedElement.fromXml(stanza.getChild('sealed', SEAL_NS)!).recipients.find((r) => r.jid === at.state.jid)?.keys.find((k) => k.rid === at.state.deviceId);
      const header = mine?.handshake === true ? decodeWrappedKey(mine.data, true).handshake! : undefined;
      const result = openStanza({ stanza, self: at.state, log: at.log, sessions: at.sessions, now });
      if (result.kind === 'error') throw result.error;
      if (result.kind === 'duplicate') {
        steps.push({ action: 'open', kind: 'duplicate' });
      } else if (result.kind === 'not-for-this-device') {
        steps.push({ action: 'open', kind: 'not-for-this-device', sender: result.sender.jid, senderDeviceId: result.sender.deviceId });
      } else {
        // The log before the open: a header already in it was processed before (the existing session is used).
        const handshake = header === undefined ? 'none' : at.log.includes(handshakeLogEntry(header)) ? 'already-processed' : 'established';
        if (result.keyOnly !== !bodies.has(step.stanza)) throw new Error(`envelope vectors: ${step.at} opened ${step.stanza} as ${result.keyOnly ? '' : 'not '}key-only`);
        Object.assign(at, { state: result.state, log: result.log, sessions: result.sessions });
        if (result.keyOnly) {
          if (result.content.length !== 0 || result.time !== now) throw new Error('envelope vectors: a key-only message with content or a time of its own');
          steps.push({ action: 'open', kind: 'ok', keyOnly: true, sender: result.sender.jid, senderDeviceId: result.sender.deviceId, handshake });
        } else {
          const body = bodyOf(result.content);
          if (body !== bodies.get(step.stanza)) throw new Error(`envelope vectors: ${step.at} read another body from ${step.stanza}`);
          steps.push({ action: 'open', kind: 'ok', keyOnly: false, sender: result.sender.jid, senderDeviceId: result.sender.deviceId, body, time: result.time, handshake });
        }
      }
    }
  }
  return { outputs: { steps }, trace: { stanzas, sessionsBefore, contentKeys } };
}

/** Per recipient, the handshake flag (checked against the session's confirmation state) and the ratchet message of its key element. */
function keyOutputs(value: SealedValue, names: readonly DeviceName[], recipients: readonly DeviceState[], before: ReadonlyMap<string, PeerSession>): Fields[] {
  return recipients.map((d, n) => {
    const element = value.recipients.find((r) => r.jid === d.jid)?.keys.find((k) => k.rid === d.deviceId);
    if (element === undefined) throw new Error(`envelope vectors: no key for ${names[n]}`);
    const wrapped = decodeWrappedKey(element.data, element.handshake);
    const session = before.get(sessionKey(d.jid, d.deviceId))!;
    const expected = session.confirmation.state === 'unconfirmed' ? session.confirmation.header : undefined;
    if ((expected === undefined) !== (wrapped.handshake === undefined)) throw new Error('envelope vectors: the handshake flag does not follow the confirmation state');
    if (expected !== undefined) mustEqual('the attached handshake header', encodeAsyncHeader(wrapped.handshake!), encodeAsyncHeader(expected));
    return { to: names[n]!, handshake: element.handshake, ratchetHeader: toHex(wrapped.header), wrappedKey: toHex(wrapped.ciphertext) };
  });
}

// ---------------------------------------------------------------------------------------------
// The scenario

const initiate = (f: Fixtures, from: DeviceName, to: DeviceName): Fields => {
  const r = f.initiations[`${from}-${to}` as keyof Fixtures['initiations']];
  return { action: 'initiate', from, to, oneTimePrekeyChoice: toHex(r.oneTimePrekeyChoice), ephemeralSecretKey: toHex(r.ephemeralSecretKey), kemRandomness: toHex(r.kemRandomness), ratchetSecretKey: toHex(r.ratchetSecretKey) };
};

function seal(f: Fixtures, id: keyof Fixtures['seals'], from: DeviceName, recipients: DeviceName[]): Fields {
  const s: Fixtures['seals'][keyof Fixtures['seals']] = f.seals[id];
  const alice = from.startsWith('A');
  const ratchetSecretKeys = 'ratchetSecretKeys' in s ? Object.fromEntries(Object.entries(s.ratchetSecretKeys).map(([k, v]) => [k, toHex(v)])) : {};
  return {
    action: 'seal',
    id,
    from,
    stanzaFrom: alice ? ALICE_A1 : BOB_B1,
    to: alice ? BOB : ALICE,
    body: BODIES[id],
    recipients,
    contentKey: toHex(s.contentKey),
    padding: toHex(s.padding),
    ratchetSecretKeys,
  };
}

function keyOnly(f: Fixtures, id: keyof Fixtures['keyOnly'], from: DeviceName, recipients: DeviceName[]): Fields {
  const k: Fixtures['keyOnly'][keyof Fixtures['keyOnly']] = f.keyOnly[id];
  const alice = from.startsWith('A');
  const ratchetSecretKeys = 'ratchetSecretKeys' in k ? Object.fromEntries(Object.entries(k.ratchetSecretKeys).map(([name, v]) => [name, toHex(v)])) : {};
  // A device sends to one device of the peer (or of its own account), from its bare JID, as the device engine does.
  return { action: 'seal-key-only', id, from, stanzaFrom: alice ? ALICE : BOB, to: recipients[0]!.startsWith('A') ? ALICE : BOB, recipients, ratchetSecretKeys };
}

const open = (stanza: string, ...at: DeviceName[]): Fields[] => at.map((name) => ({ action: 'open', stanza, at: name }));

/** The inputs of the one SealOpen case. */
export function scenarioInputs(f: Fixtures): Fields {
  const everyone: DeviceName[] = ['B1', 'B2', 'B3', 'A2', 'A3'];
  return {
    now: NOW,
    devices: Object.fromEntries(DEVICE_NAMES.map((name) => [name, stateToInputs(f.devices[name])])),
    steps: [
      ...everyone.map((to) => initiate(f, 'A1', to)),
      seal(f, 'seal-1', 'A1', everyone),
      ...open('seal-1', 'B1', 'B2', 'A2', 'A3'),
      keyOnly(f, 'key-1', 'B2', ['A1']),
      ...open('key-1', 'A1', 'A3'),
      initiate(f, 'B1', 'A2'),
      seal(f, 'seal-2', 'B1', ['A1', 'A2']),
      ...open('seal-2', 'A1', 'A2', 'A3'),
      seal(f, 'seal-3', 'A1', everyone),
      ...open('seal-3', 'B1', 'B2', 'B3', 'A2', 'A3'),
      ...open('seal-1', 'B3'),
      initiate(f, 'A2', 'B3'),
      keyOnly(f, 'key-2', 'A2', ['B3']),
      ...open('key-2', 'B3', 'B3'),
      keyOnly(f, 'key-3', 'A1', ['B1']),
      ...open('key-3', 'B1'),
    ],
  };
}

export const sealOpen: GroupKind = {
  type: 'SealOpen',
  description:
    `multi-device fan-out: devices A1..A3 of ${ALICE} and B1..B3 of ${BOB} (complete secrets; each starts with an empty handshake log and no sessions) run the steps in order at now. ` +
    'initiate: device from starts an asynchronous session with device to from to\'s current bundle (bundleOf its state at that step, verified at now), drawing oneTimePrekeyChoice, ephemeralSecretKey and kemRandomness (initiateAsync), then ratchetSecretKey (startRatchet); the session\'s header is attached to every key for to until a message from to in that session has been opened. ' +
    'seal: device from seals a <message/> to to (from = stanzaFrom, id = id, type chat) with one <body/> for the recipients in order (sealStanza), drawing contentKey (32 bytes), padding (one byte per <rpad/> character: A-Z a-z 0-9 indexed by byte mod 62), then, in recipient order, ratchetSecretKeys[recipient] for each recipient whose ratchet makes a DH step; outputs the stanza as sent, commitment = MacWithLabel(contentKey, "key commitment", ""), payload = ChaCha20-Poly1305(DeriveKey("payload key", ikm = contentKey, salt = "", context = "", 32), nonce 0^12, plaintext, ad = LabeledContent("Seal-v0 payload", commitment)), the plaintext (the XEP-0420 envelope) and, per recipient, the handshake flag and the ratchet header and wrapped key of RatchetEncrypt(session, contentKey, context = commitment || SHA-256(payload)). ' +
    'seal-key-only: device from seals a key-only message to to (from = stanzaFrom, id = id; sealKeyOnly): a <message type=\'chat\'> with a <sealed/> without <payload/> and the storage hint, no <body/> and no encryption marker; per recipient in order it draws ratchetSecretKeys[recipient] when the ratchet makes a DH step and outputs the handshake flag and the ratchet header and wrapped key of RatchetEncrypt(session, 32 zero bytes, context = LabeledContent("Seal-v0 key only", "")). ' +
    'open: device at opens the stanza with that id (openStanza) and keeps the new state on success: kind ok with keyOnly false, the sender, body and time, or keyOnly true and the sender (a key-only message has neither content nor time); and whether the key\'s handshake header established a session, was already processed (the existing session is used) or was absent; or kind not-for-this-device / duplicate',
  inputs: z.strictObject({
    now: z.int(),
    devices: z.record(Name, DeviceInput),
    steps: z.array(z.union([InitiateStep, SealStep, KeyOnlyStep, OpenStep])),
  }),
  outputs: z.strictObject({ steps: z.array(z.union([InitiateOutput, SealOutput, KeyOnlyOutput, OpenedOutput, OpenedKeyOnlyOutput, NotForThisDeviceOutput, DuplicateOutput])) }),
  operation: (i) => runScenario(i).outputs,
  cases: () => {
    const inputs = scenarioInputs(fixtures());
    const steps = runScenario(inputs).outputs.steps as Fields[];
    // The flag changes: key-1 and seal-2 attach no header for A1 (B2 and B1 are the responders of
    // those sessions), seal-3 none for B1 (its reply confirmed the session) nor B2 (its key-only
    // confirmation did); key-2 announces A2's new session with B3; key-3 is A1's heartbeat to B1.
    const flags = steps.filter((s) => s.action === 'seal' || s.action === 'seal-key-only').map((s) => (s.keys as { to: string; handshake: boolean }[]).map((k) => `${k.to}:${k.handshake}`).join(' '));
    const expected = ['B1:true B2:true B3:true A2:true A3:true', 'A1:false', 'A1:false A2:true', 'B1:false B2:false B3:true A2:true A3:true', 'B3:true', 'B1:false'];
    if (flags.join('|') !== expected.join('|')) throw new Error(`envelope vectors: handshake flags ${flags.join('|')}`);
    return [
      {
        comment:
          'A1 starts sessions with B1, B2, B3 and its own A2, A3 and seals seal-1 for all five (every key carries its handshake header); B1, B2, A2, A3 open it (B3 misses it for now). ' +
          'B2 confirms its new session with the key-only message key-1 to A1 (a DH step on B2\'s side); A1 opens it, A3 gets not-for-this-device. ' +
          'B1 starts a session with A2 and replies with seal-2 to A1 (no header: B1 is the responder of that session) and A2 (header); A1 and A2 open it, A3 gets not-for-this-device. ' +
          'A1 seals seal-3 for all five: no header for B1 and B2 any more (B1\'s reply and B2\'s key-only message confirmed the sessions), still a header for the others. B3 opens seal-3 first (its header establishes the session; one message key skipped), then seal-1 late (header already processed, stored key). ' +
          'A2 starts a session with B3 and announces it with the key-only message key-2 (with its header); B3 opens it (session established), then again (duplicate). A1 sends B1 the key-only message key-3 on their confirmed session (a heartbeat: no header); B1 opens it',
        inputs,
      },
    ];
  },
};
