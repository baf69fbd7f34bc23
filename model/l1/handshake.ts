/**
 * L1 symbolic model, the two handshakes: the asynchronous prekey handshake (DH1..DH4 and the
 * ML-KEM secret into a KDF over a transcript that binds suite, JIDs, device ids, identity keys,
 * prekeys, ephemeral key and KEM ciphertext) and, at a coarser abstraction, the interactive
 * handshake (Noise XX with an ML-KEM exchange mixed in after message 2, identity statements in
 * the encrypted payloads, JIDs and device ids in the prologue). Both end in a root key from
 * which the ratchet starts.
 *
 * The functions compute what an honest device computes; they are also how the attacker builds
 * its forgeries (attacker.ts), with its own atoms in place of fresh randomness, so a forgery is
 * exactly as good as the attacker's knowledge makes it.
 *
 * @see spec §handshake.async
 * @see spec §handshake.interactive
 * @see spec §handshake.session
 * @module
 */
import type { ProtocolOptions } from './options.js';
import { is } from './options.js';
import { startInitiatorRatchet } from './ratchet.js';
import { NONE, type Term, aead, aeadOpen, decaps, dhPub, hash, kdf, kem, label, num, pk, tup, verify } from './terms.js';
import { type Device, type LogEntry, type Pending, type Session, type World, L, freshAtom, statement, statementOf } from './world.js';

/** A device's identity as a handshake binds it. */
export interface Party {
  readonly jid: string;
  readonly id: number;
  readonly sign: Term;
  readonly agree: Term;
}

/** A party from a device's own keys. */
export function partyOf(d: Device): Party {
  return { jid: d.jid, id: d.id, sign: pk(d.sign), agree: pk(d.agree) };
}

function identitiesInTranscript(options: ProtocolOptions): boolean {
  return !is(options, 'identities-not-bound') && !is(options, 'identities-not-in-transcript');
}

/** `SessionBinding(initiator, responder)`: suite, JIDs, device ids, identity keys. @see spec §handshake.async */
export function binding(options: ProtocolOptions, i: Party, r: Party): Term {
  if (!identitiesInTranscript(options)) return tup(L.suite, i.sign, i.agree, r.sign, r.agree);
  return tup(L.suite, label(i.jid), num(i.id), i.sign, i.agree, label(r.jid), num(r.id), r.sign, r.agree);
}

/** What a device trusts as the signing key of `peer`: a key, any key, or nothing. @see spec §identity.trust */
export function trustedKey(w: World, viewer: Device, peer: Device): Term | 'any' | undefined {
  const pinned = pinnedKey(w, viewer, peer);
  // @req device.pinning: the mutant accepts whatever key a known device id presents.
  if (pinned !== undefined && is(w.options, 'no-pinning')) return 'any';
  return pinned;
}

/**
 * The identity signing key `viewer` pinned for device `peer`: the one its user verified, or the
 * one a list signed by a verified account key names for it; `any` when lists name device ids
 * only (the spec before fixed finding 1); `undefined` for a device it does not know.
 *
 * @see spec §identity.trust
 */
export function pinnedKey(w: World, viewer: Device, peer: Device): Term | 'any' | undefined {
  if ((w.setup.verified[viewer.name] ?? []).includes(peer.name)) return pk(peer.sign);
  const view = viewer.lists[peer.jid];
  if (view !== undefined && view.devices.includes(peer.name)) {
    // @req identity.trust-listed-key: a device on a list signed by a verified account key is
    // trusted with the identity signing key that list names for it, and with no other (before
    // the fix the list named device ids only, and any key was trusted).
    return w.options.listBindsDeviceKeys ? view.keys[peer.name] : 'any';
  }
  return undefined;
}

/** The reason a handshake under another identity key for a known device id is not processed. */
export const KEY_CHANGED = 'key-changed: held for the user';

/**
 * Whether `stmt` is a well-formed identity statement for `peer`'s JID and device id, signed by
 * a key other than the one `viewer` pinned: a key change, held for a decision (never accepted).
 *
 * @see spec §identity.trust (identity.key-change)
 */
function keyChange(w: World, viewer: Device, peer: Device, stmt: Term): boolean {
  const pinned = pinnedKey(w, viewer, peer);
  if (pinned === undefined || pinned === 'any' || stmt.op !== 'sig' || pk(stmt.args[0]!) === pinned) return false;
  const msg = verify(stmt, pk(stmt.args[0]!));
  const agree = msg?.args[msg.args.length - 1];
  return agree !== undefined && statement(w.options, stmt.args[0]!, peer.jid, peer.id, agree) === stmt;
}

/**
 * Checks an identity statement as `viewer` does for the claimed device `peer`: a signature by a
 * trusted signing key over peer's JID, device id and keys.
 *
 * @returns the signing and agreement public keys, or `undefined`.
 * @see spec §identity.bundle (identity.verify-bundle)
 * @see spec §handshake.async (handshake.async-responder)
 */
export function checkStatement(w: World, viewer: Device, peer: Device, stmt: Term): Party | undefined {
  if (stmt.op !== 'sig') return undefined;
  const signPub = pk(stmt.args[0]!);
  const trusted = trustedKey(w, viewer, peer);
  if (trusted === undefined || (trusted !== 'any' && trusted !== signPub)) return undefined;
  const msg = verify(stmt, signPub);
  const agree = msg?.args[msg.args.length - 1];
  if (msg === undefined || agree === undefined || agree.op !== 'pk') return undefined;
  const expected = statement(w.options, stmt.args[0]!, peer.jid, peer.id, agree);
  return expected === stmt ? { jid: peer.jid, id: peer.id, sign: signPub, agree } : undefined;
}

/** A bundle as the server serves it. */
export interface BundleView {
  readonly stmt: Term;
  readonly spk: Term;
  readonly kem: Term | undefined;
  readonly opk: Term | undefined;
}

/** A bundle after verification: the public keys to use. */
export interface VerifiedBundle {
  readonly party: Party;
  readonly spk: Term;
  readonly kem: Term | undefined;
  readonly opk: Term | undefined;
}

/**
 * Verifies a served bundle for device `peer` as `viewer` does.
 *
 * @returns the keys, or a rejection reason.
 * @see spec §identity.bundle (identity.verify-bundle)
 * @see spec §identity.bundle (identity.prekey-signatures) (no classical-only handshake)
 */
export function verifyBundle(w: World, viewer: Device, peer: Device, b: BundleView): VerifiedBundle | string {
  const party = checkStatement(w, viewer, peer, b.stmt);
  if (party === undefined) return 'authentication-failed: identity';
  const spkMsg = verify(b.spk, party.sign);
  if (spkMsg === undefined || spkMsg.args[0] !== L.signedPrekey) return 'authentication-failed: signed prekey';
  const spk = spkMsg.args[1]!;
  let kemPub: Term | undefined;
  if (b.kem === undefined) {
    if (!is(w.options, 'kem-optional')) return 'no-kem';
  } else {
    const kemMsg = verify(b.kem, party.sign);
    if (kemMsg === undefined || kemMsg.args[0] !== L.kemPrekey) return 'authentication-failed: kem prekey';
    kemPub = kemMsg.args[1]!;
  }
  return { party, spk, kem: kemPub, opk: b.opk };
}

/** `AsyncTranscript`. @see spec §handshake.async */
export function asyncTranscript(options: ProtocolOptions, bind: Term, spk: Term, opk: Term | undefined, kemPub: Term | undefined, ek: Term, ct: Term): Term {
  const parts = [bind, spk, opk ?? NONE, kemPub ?? NONE, ek];
  if (!is(options, 'kem-ct-not-in-kdf')) parts.push(ct);
  return tup(...parts);
}

/**
 * `handshake_secret = DeriveKey("async handshake", DH1||DH2||DH3[||DH4]||SS, transcript)` and
 * `confirmation = DeriveKey("async confirmation", handshake_secret, SHA-256(transcript))`.
 *
 * @see spec §handshake.async (handshake.async-kdf)
 */
export function asyncSecrets(options: ProtocolOptions, dhs: readonly Term[], ss: Term | undefined, transcript: Term): { hs: Term; conf: Term } {
  const ikm = ss === undefined || is(options, 'kem-secret-not-in-kdf') ? tup(...dhs) : tup(...dhs, ss);
  const hs = kdf('async handshake', ikm, transcript);
  return { hs, conf: kdf('async confirmation', hs, hash(transcript)) };
}

/** `root_key = DeriveKey("root key", handshake_secret, session_id)`. @see spec §handshake.session */
export function rootKey(hs: Term, transcript: Term): Term {
  return kdf('root key', hs, hash(transcript));
}

/** The inputs of an async handshake as its initiator sees them. */
export interface AsyncInputs {
  readonly initiator: Party;
  /** The initiator's agreement secret and ephemeral secret, and the KEM secret it encapsulates. */
  readonly ik: Term;
  readonly ek: Term;
  readonly ss: Term;
  readonly statement: Term;
  readonly responder: Party;
  readonly bundle: VerifiedBundle;
}

/** The header and root key of an async handshake, from the initiator's side. @see spec §handshake.async */
export function asyncInitiation(options: ProtocolOptions, x: AsyncInputs): { header: Term; rk0: Term; ad: Term } {
  const b = x.bundle;
  // @see spec §handshake.async: DH1 = DH(IK_A, SPK_B) (the mutant uses IK_B).
  const dh1 = is(options, 'dh1-without-spk') ? dhPub(x.ik, b.party.agree) : dhPub(x.ik, b.spk);
  const dh2 = dhPub(x.ek, b.party.agree);
  const dh3 = dhPub(x.ek, b.spk);
  const dhs = b.opk === undefined ? [dh1, dh2, dh3] : [dh1, dh2, dh3, dhPub(x.ek, b.opk)];
  const ct = b.kem === undefined ? NONE : kem(b.kem, x.ss);
  const bind = binding(options, x.initiator, x.responder);
  const transcript = asyncTranscript(options, bind, b.spk, b.opk, b.kem, pk(x.ek), ct);
  const { hs, conf } = asyncSecrets(options, dhs, b.kem === undefined ? undefined : x.ss, transcript);
  const header = tup(x.statement, b.spk, b.opk ?? NONE, b.kem ?? NONE, pk(x.ek), ct, conf);
  return { header, rk0: rootKey(hs, transcript), ad: bind };
}

/**
 * An honest device starts an async handshake from a verified bundle: fresh ephemeral and KEM
 * randomness, the header to attach, and the initiator's ratchet (first chain against SPK_B).
 *
 * @see spec §handshake.async (handshake.async-initiator)
 * @see spec §envelope.ratchet (envelope.ratchet-init)
 */
export function initiateAsync(w: World, x: Device, y: Device, b: VerifiedBundle): { world: World; session: Session } {
  let d = x;
  let ek: Term;
  let ss: Term;
  [ek, d] = freshAtom(w, d, 'ek', 'dh');
  [ss, d] = freshAtom(w, d, 'ss', 'secret');
  const init = asyncInitiation(w.options, { initiator: partyOf(x), ik: x.agree, ek, ss, statement: statementOf(w, x), responder: { ...b.party, jid: y.jid, id: y.id }, bundle: b });
  const started = startInitiatorRatchet(w, d, init.rk0, b.spk);
  const session: Session = {
    ...started.fields,
    peer: y.name,
    role: 'initiator',
    via: 'async',
    rk0: init.rk0,
    ad: init.ad,
    header: init.header,
    opk: b.opk !== undefined,
    kem: b.kem !== undefined && !is(w.options, 'kem-secret-not-in-kdf'),
    responder: y.name,
    spk: secretOf(b.spk),
    kemKey: b.kem === undefined ? undefined : secretOf(b.kem),
    peerKey: b.party.sign,
  };
  return { world: { ...w, devices: w.devices.map((o) => (o.name === x.name ? started.device : o)) }, session };
}

function secretOf(pub: Term): Term | undefined {
  return pub.op === 'pk' ? pub.args[0] : undefined;
}

/** The reason a header without one-time prekey is rejected when its signed prekey's log is full. */
export const LOG_FULL = 'unknown-prekey: handshake log full';

/** How many headers without a one-time prekey `d`'s log holds for a signed prekey (by default its current one). */
function withoutOneTime(d: Device, spk = d.spk === undefined ? undefined : pk(d.spk).id): number {
  return d.log.filter((e) => !e.oneTime && e.spk === spk).length;
}

/**
 * Whether device `d`'s current signed prekey accepts no more handshakes without a one-time
 * prekey, so that `d` must rotate it.
 *
 * @see spec §handshake.async (handshake.replay-without-one-time-prekey)
 */
export function logFull(o: ProtocolOptions, d: Device): boolean {
  return o.handshakeLogScope === 'retained-while-prekey-held' && d.spk !== undefined && withoutOneTime(d) >= o.handshakeLogCapacity;
}

/**
 * The log after accepting a header. The spec now: every entry without a one-time prekey stays
 * (rotation drops them with their signed prekey, see actions.ts), entries with one are kept up
 * to the capacity, the oldest dropped first. The spec before the fix: the newest entries up to
 * the capacity, whatever prekeys they used.
 *
 * @see spec §handshake.async (handshake.duplicate)
 * @see spec §handshake.async (handshake.replay-without-one-time-prekey)
 */
function appendToLog(o: ProtocolOptions, log: readonly LogEntry[], entry: LogEntry): LogEntry[] {
  const all = [...log, entry];
  if (o.handshakeLogScope === 'global') return all.slice(-o.handshakeLogCapacity);
  let excess = all.filter((e) => e.oneTime).length - o.handshakeLogCapacity;
  return all.filter((e) => !(e.oneTime && excess-- > 0));
}

/** The outcome of processing a handshake header as responder. */
export type AsyncResponse =
  | { readonly kind: 'established'; readonly device: Device; readonly session: Session }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'error'; readonly reason: string };

/**
 * Responder side: checks a header claimed to come from device `p` and derives the session.
 * Nothing changes on failure.
 *
 * @see spec §handshake.async (handshake.async-responder)
 * @see spec §handshake.async (handshake.one-time-prekey-once)
 * @see spec §handshake.async (handshake.duplicate)
 */
export function respondAsync(w: World, y: Device, p: Device, header: Term): AsyncResponse {
  const o = w.options;
  // @req handshake.duplicate
  if (!is(o, 'no-replay-cache') && y.log.some((e) => e.header === header.id)) return { kind: 'duplicate' };
  if (header.op !== 'tup' || header.args.length !== 7) return { kind: 'error', reason: 'malformed' };
  const [stmt, spkPub, opkRef, kemRef, ekPub, ct, conf] = header.args as [Term, Term, Term, Term, Term, Term, Term];
  const party = checkStatement(w, y, p, stmt);
  // @req device.pinning: another key for a known device id is held for a decision, never processed.
  if (party === undefined) return { kind: 'error', reason: keyChange(w, y, p, stmt) ? KEY_CHANGED : 'authentication-failed' };
  // @req handshake.prekey-grace: the current signed prekey, or a replaced one still in its grace period.
  const spkSecret = [y.spk, ...y.grace.map((g) => g.spk)].find((k) => k !== undefined && pk(k) === spkPub);
  if (spkSecret === undefined) return { kind: 'error', reason: 'unknown-prekey' };
  // @req handshake.replay-without-one-time-prekey: no more handshakes without a one-time prekey
  // to a signed prekey whose entries fill the log (the device rotates it when it is the current
  // one, see actions.ts).
  if (o.handshakeLogScope === 'retained-while-prekey-held' && opkRef === NONE && withoutOneTime(y, spkPub.id) >= o.handshakeLogCapacity) return { kind: 'error', reason: LOG_FULL };
  let kemSecret: Term | undefined;
  if (kemRef === NONE) {
    if (!is(o, 'kem-optional')) return { kind: 'error', reason: 'unknown-prekey' };
  } else {
    kemSecret = [y.kem, ...y.grace.map((g) => g.kem)].find((k) => k !== undefined && pk(k) === kemRef);
    if (kemSecret === undefined) return { kind: 'error', reason: 'unknown-prekey' };
  }
  const opk = opkRef === NONE ? undefined : y.opks.find((k) => pk(k) === opkRef);
  if (opkRef !== NONE && opk === undefined) return { kind: 'error', reason: 'unknown-prekey' };
  if (ekPub.op !== 'pk') return { kind: 'error', reason: 'invalid-key' };
  const ss = kemSecret === undefined ? undefined : decaps(kemSecret, ct);
  const dh1 = is(o, 'dh1-without-spk') ? dhPub(y.agree, party.agree) : dhPub(spkSecret, party.agree);
  const dhs = [dh1, dhPub(y.agree, ekPub), dhPub(spkSecret, ekPub)];
  if (opk !== undefined) dhs.push(dhPub(opk, ekPub));
  const bind = binding(o, party, partyOf(y));
  const transcript = asyncTranscript(o, bind, spkPub, opk === undefined ? undefined : opkRef, kemSecret === undefined ? undefined : kemRef, ekPub, ct);
  const secrets = asyncSecrets(o, dhs, ss, transcript);
  if (secrets.conf !== conf) return { kind: 'error', reason: 'authentication-failed' };
  const rk0 = rootKey(secrets.hs, transcript);
  const session: Session = {
    peer: p.name,
    role: 'responder',
    via: 'async',
    rk0,
    ad: bind,
    rk: rk0,
    dhs: spkSecret,
    dhr: undefined,
    cks: undefined,
    ns: 0,
    pn: 0,
    ckr: undefined,
    nr: 0,
    skipped: [],
    opened: [],
    header: undefined,
    opk: opk !== undefined,
    kem: kemSecret !== undefined && !is(o, 'kem-secret-not-in-kdf'),
    responder: y.name,
    spk: spkSecret,
    kemKey: kemSecret,
    peerKey: party.sign,
  };
  // @req handshake.one-time-prekey-once
  const keep = is(o, 'no-opk-deletion') || opk === undefined;
  const entry: LogEntry = { header: header.id, spk: spkPub.id, oneTime: opk !== undefined };
  const next: Device = {
    ...y,
    opks: keep ? y.opks : y.opks.filter((k) => k !== opk),
    usedOpks: opk === undefined || y.usedOpks.includes(opk) ? y.usedOpks : [...y.usedOpks, opk],
    log: is(o, 'no-replay-cache') ? y.log : appendToLog(o, y.log, entry),
  };
  return { kind: 'established', device: next, session };
}

// ---------------------------------------------------------------------------------------------
// Interactive handshake (Noise XX + ML-KEM), coarse: one KDF step per Noise token group.

/** The Noise prologue: suite, both JIDs and device ids. @see spec §handshake.interactive */
export function prologue(options: ProtocolOptions, i: Device, r: Device): Term {
  if (!identitiesInTranscript(options)) return tup(L.interactive, L.suite);
  return tup(L.interactive, L.suite, label(i.jid), num(i.id), label(r.jid), num(r.id));
}

const I1 = label('i1');
const I2 = label('i2');
const I3 = label('i3');

/** Message 1: `-> e` with the initiator's ephemeral ML-KEM public key in the payload. */
export function message1(e: Term, qPub: Term): Term {
  return tup(I1, pk(e), qPub);
}

/** What the responder computes for message 2 (also the attacker's forgery as responder). */
export function message2(options: ProtocolOptions, x: { i: Device; r: Device; ePub: Term; qPub: Term; eR: Term; rAgree: Term; stmt: Term; ss: Term; ratchet: Term }): { body: Term; k3: Term; h2: Term } {
  const h1 = tup(prologue(options, x.i, x.r), x.ePub, x.qPub, pk(x.eR));
  const k1 = kdf('noise ee', h1, dhPub(x.eR, x.ePub));
  const cS = aead(k1, L.zero, pk(x.rAgree), h1);
  const k2 = kdf('noise es', k1, dhPub(x.rAgree, x.ePub));
  const ct = x.qPub === NONE ? NONE : kem(x.qPub, x.ss);
  const p2 = aead(k2, L.zero, tup(x.stmt, ct, pk(x.ratchet)), tup(h1, cS));
  const k3 = x.qPub === NONE ? k2 : kdf('noise kem', k2, x.ss);
  return { body: tup(I2, pk(x.eR), cS, p2), k3, h2: tup(h1, cS, p2) };
}

/** What the initiator computes for message 3 (also the attacker's forgery as initiator). */
export function message3(x: { k3: Term; h2: Term; iAgree: Term; eRPub: Term; stmt: Term }): { body: Term; rk0: Term } {
  const cSA = aead(x.k3, L.zero, pk(x.iAgree), x.h2);
  const k4 = kdf('noise se', x.k3, dhPub(x.iAgree, x.eRPub));
  const p3 = aead(k4, L.zero, x.stmt, tup(x.h2, cSA));
  return { body: tup(I3, cSA, p3), rk0: interactiveRoot(k4, tup(x.h2, cSA, p3)) };
}

function interactiveRoot(k4: Term, th: Term): Term {
  const hs = kdf('interactive handshake', k4, hash(th));
  return rootKey(hs, th);
}

/** The initiator sends message 1. */
export function startInteractive(w: World, x: Device, y: Device): { world: World; body: Term } | undefined {
  if (x.pending.some((p) => p.peer === y.name)) return undefined;
  let d = x;
  let e: Term;
  let q: Term;
  [e, d] = freshAtom(w, d, 'e', 'dh');
  [q, d] = freshAtom(w, d, 'q', 'kem');
  const body = message1(e, pk(q));
  d = { ...d, pending: [...d.pending, { role: 'initiator', peer: y.name, e, q, msg1: body }] };
  return { world: { ...w, devices: w.devices.map((o) => (o.name === x.name ? d : o)) }, body };
}

/** The responder reads message 1 claimed from `p` and writes message 2. */
export function respondInteractive1(w: World, y: Device, p: Device, body: Term): { world: World; body: Term } | string {
  if (body.op !== 'tup' || body.args.length !== 3 || body.args[0] !== I1) return 'malformed';
  if (y.pending.some((q) => q.peer === p.name)) return 'busy';
  if (trustedKey(w, y, p) === undefined) return 'untrusted';
  const ePub = body.args[1]!;
  const qPub = body.args[2]!;
  if (ePub.op !== 'pk') return 'invalid-key';
  // A missing KEM exchange is a downgrade: refused (spec §security.downgrade).
  if (qPub === NONE && !is(w.options, 'kem-optional')) return 'no-kem';
  let d = y;
  let eR: Term;
  let r: Term;
  let ss: Term;
  [eR, d] = freshAtom(w, d, 'e', 'dh');
  [r, d] = freshAtom(w, d, 'r', 'dh');
  [ss, d] = freshAtom(w, d, 'ss', 'secret');
  const m2 = message2(w.options, { i: p, r: y, ePub, qPub, eR, rAgree: y.agree, stmt: statementOf(w, y), ss, ratchet: r });
  const pending: Pending = { role: 'responder', peer: p.name, e: eR, r, k3: m2.k3, h2: m2.h2, kem: qPub !== NONE };
  d = { ...d, pending: [...d.pending, pending] };
  const written = { role: 'responder', dev: y.name, peer: p.name, h2: m2.h2 } as const;
  return { world: { ...w, devices: w.devices.map((o) => (o.name === y.name ? d : o)), message2: [...w.message2, written] }, body: m2.body };
}

/** The initiator reads message 2 claimed from `y`, writes message 3 and holds the session. */
export function readInteractive2(w: World, x: Device, y: Device, body: Term): { world: World; body: Term; session: Session } | string {
  const pending = x.pending.find((p) => p.role === 'initiator' && p.peer === y.name);
  if (pending === undefined || pending.role !== 'initiator') return 'unexpected';
  if (body.op !== 'tup' || body.args.length !== 4 || body.args[0] !== I2) return 'malformed';
  const [, eRPub, cS, p2] = body.args as [Term, Term, Term, Term];
  const qPub = pending.msg1.args[2]!;
  const h1 = tup(prologue(w.options, x, y), pk(pending.e), qPub, eRPub);
  const k1 = kdf('noise ee', h1, dhPub(pending.e, eRPub));
  const sPub = aeadOpen(cS, k1, h1);
  if (sPub === undefined || sPub.op !== 'pk') return 'authentication-failed';
  const k2 = kdf('noise es', k1, dhPub(pending.e, sPub));
  const payload = aeadOpen(p2, k2, tup(h1, cS));
  if (payload === undefined || payload.op !== 'tup' || payload.args.length !== 3) return 'authentication-failed';
  const [stmt, ct, rPub] = payload.args as [Term, Term, Term];
  const party = checkStatement(w, x, y, stmt);
  if (party === undefined || party.agree !== sPub) return 'authentication-failed';
  if (rPub.op !== 'pk') return 'invalid-key';
  const k3 = qPub === NONE ? k2 : kdf('noise kem', k2, decaps(pending.q, ct));
  const h2 = tup(h1, cS, p2);
  const m3 = message3({ k3, h2, iAgree: x.agree, eRPub, stmt: statementOf(w, x) });
  const rest = { ...x, pending: x.pending.filter((p) => p !== pending) };
  const started = startInitiatorRatchet(w, rest, m3.rk0, rPub);
  const session: Session = {
    ...started.fields,
    peer: y.name,
    role: 'initiator',
    via: 'interactive',
    rk0: m3.rk0,
    ad: binding(w.options, partyOf(x), party),
    header: undefined,
    opk: true,
    kem: qPub !== NONE,
    responder: y.name,
    spk: undefined,
    kemKey: pending.q,
    peerKey: party.sign,
  };
  const read = { role: 'initiator', dev: x.name, peer: y.name, h2 } as const;
  return { world: { ...w, devices: w.devices.map((o) => (o.name === x.name ? started.device : o)), message2: [...w.message2, read] }, body: m3.body, session };
}

/** The responder reads message 3 claimed from `p` and holds the session. */
export function readInteractive3(w: World, y: Device, p: Device, body: Term): { device: Device; session: Session } | string {
  const pending = y.pending.find((q) => q.role === 'responder' && q.peer === p.name);
  if (pending === undefined || pending.role !== 'responder') return 'unexpected';
  if (body.op !== 'tup' || body.args.length !== 3 || body.args[0] !== I3) return 'malformed';
  const [, cSA, p3] = body.args as [Term, Term, Term];
  const sA = aeadOpen(cSA, pending.k3, pending.h2);
  if (sA === undefined || sA.op !== 'pk') return 'authentication-failed';
  const k4 = kdf('noise se', pending.k3, dhPub(pending.e, sA));
  const stmt = aeadOpen(p3, k4, tup(pending.h2, cSA));
  if (stmt === undefined) return 'authentication-failed';
  const party = checkStatement(w, y, p, stmt);
  if (party === undefined || party.agree !== sA) return 'authentication-failed';
  const rk0 = interactiveRoot(k4, tup(pending.h2, cSA, p3));
  const session: Session = {
    peer: p.name,
    role: 'responder',
    via: 'interactive',
    rk0,
    ad: binding(w.options, party, partyOf(y)),
    rk: rk0,
    dhs: pending.r,
    dhr: undefined,
    cks: undefined,
    ns: 0,
    pn: 0,
    ckr: undefined,
    nr: 0,
    skipped: [],
    opened: [],
    header: undefined,
    opk: true,
    kem: pending.kem,
    responder: y.name,
    spk: undefined,
    kemKey: undefined,
    peerKey: party.sign,
  };
  return { device: { ...y, pending: y.pending.filter((q) => q !== pending) }, session };
}
