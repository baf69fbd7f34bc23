/**
 * The symbolic Double Ratchet of the L0 system model (DESIGN.md §7): the ratchet of
 * spec §envelope.ratchet with every key replaced by a symbol that names where it came from.
 * A key pair is a fresh symbol, a DH output is the unordered pair of its two key symbols, a root
 * or chain key is the string of DH outputs that produced it, and a message key is its chain and
 * position. Two parties derive the same message key exactly when the real ratchet would, so the
 * model predicts which message opens, which is a duplicate and which fails with which error,
 * including after a device restored an old backup or an attacker used a stolen session, without
 * any cryptography.
 *
 * The state holds the counters (Ns, Nr, PN) and the skipped keys with the bounds of
 * spec §envelope.constants; a failed decryption returns no state (spec
 * envelope.ratchet-transactional).
 *
 * @see spec §envelope.ratchet
 * @module
 */
import type { SealErrorCode } from '../../src/errors.js';
import { ENVELOPE_CONSTANTS } from '../../src/envelope/constants.js';

/** A symbolic key or key derivation: equal symbols are equal keys. */
export type Sym = string;

/** A failure the model predicts: the SealError code the implementation must report. */
export class ModelFailure extends Error {
  override readonly name = 'ModelFailure';
  readonly code: SealErrorCode;
  constructor(code: SealErrorCode) {
    super(code);
    this.code = code;
  }
}

/** Throws the predicted failure `code`. */
export function fail(code: SealErrorCode): never {
  throw new ModelFailure(code);
}

/** A stored skipped message key: the chain's ratchet key, the counter and the key. */
export interface SkippedKey {
  readonly rk: Sym;
  readonly n: number;
  readonly mk: Sym;
  /** When it was stored (seconds), for SKIPPED_KEY_MAX_AGE. */
  readonly stored: number;
}

/** One side of one session: the symbolic form of src/envelope/ratchet.ts's RatchetState. */
export interface Ratchet {
  /** The session (both sides of one handshake share it). */
  readonly sid: number;
  readonly root: Sym;
  /** DHs: this side's current ratchet key pair; none from a DH step on receipt until the next send (its private key is deleted). */
  readonly dhs: Sym | undefined;
  /** DHr: the peer's current ratchet key. */
  readonly dhr: Sym | undefined;
  /** CKs (its first key) and Ns. */
  readonly cks: Sym | undefined;
  readonly ns: number;
  /** CKr (its first key), how many steps it advanced, and Nr. */
  readonly ckr: Sym | undefined;
  readonly ckrPos: number;
  readonly nr: number;
  /** PN. */
  readonly pn: number;
  readonly skipped: readonly SkippedKey[];
  /** Fingerprints of the last MAX_RECENTLY_OPENED messages opened (duplicates). */
  readonly recent: readonly string[];
}

/**
 * A ratchet message as sent: its header (ratchet key, PN, counter), the message key it was
 * encrypted with, and its fingerprint (the real one hashes header, ciphertext and context, so
 * one stanza's key element for one device has one fingerprint however often it is delivered).
 */
export interface RatchetMessage {
  readonly rk: Sym;
  readonly pn: number;
  readonly n: number;
  readonly mk: Sym;
  readonly fp: string;
}

/** DH(a, b) = DH(b, a). */
export function dh(a: Sym, b: Sym): Sym {
  return a < b ? `${a}*${b}` : `${b}*${a}`;
}

/** KDF_RK: the next root key and a new chain key. */
function rootStep(root: Sym, dhOutput: Sym): { root: Sym; chain: Sym } {
  return { root: `${root}|${dhOutput}`, chain: `${root}|${dhOutput}>` };
}

/** The initiator's ratchet at the start of session `sid` (spec envelope.ratchet-init). */
export function initiatorRatchet(sid: number, responderPrekey: Sym, fresh: () => Sym): Ratchet {
  const dhs = fresh();
  const step = rootStep(`S${sid}`, dh(dhs, responderPrekey));
  return { sid, root: step.root, dhs, dhr: responderPrekey, cks: step.chain, ns: 0, ckr: undefined, ckrPos: 0, nr: 0, pn: 0, skipped: [], recent: [] };
}

/** The responder's ratchet: the root key and its signed prekey as first ratchet key, no chains. */
export function responderRatchet(sid: number, signedPrekey: Sym): Ratchet {
  return { sid, root: `S${sid}`, dhs: signedPrekey, dhr: undefined, cks: undefined, ns: 0, ckr: undefined, ckrPos: 0, nr: 0, pn: 0, skipped: [], recent: [] };
}

/** RatchetEncrypt: the next message of the session (a new ratchet key after a DH step on receipt). */
export function encrypt(r: Ratchet, fp: string, fresh: () => Sym): { message: RatchetMessage; ratchet: Ratchet } {
  let s = r;
  if (s.cks === undefined) {
    if (s.dhr === undefined) fail('invalid-value');
    const dhs = fresh();
    const step = rootStep(s.root, dh(dhs, s.dhr));
    s = { ...s, dhs, root: step.root, cks: step.chain };
  }
  const message = { rk: s.dhs!, pn: s.pn, n: s.ns, mk: `${s.cks}#${s.ns}`, fp };
  return { message, ratchet: { ...s, ns: s.ns + 1 } };
}

/** Stores the keys of the receiving chain up to `until` (MAX_SKIP, MAX_SKIPPED_KEYS). */
function skipKeys(s: Ratchet, until: number, now: number): Ratchet {
  if (s.ckr === undefined) return s;
  if (until - s.nr > ENVELOPE_CONSTANTS.MAX_SKIP) fail('skip-limit');
  const added: SkippedKey[] = [];
  let pos = s.ckrPos;
  for (let n = s.nr; n < until; n++) added.push({ rk: s.dhr!, n, mk: `${s.ckr}#${pos++}`, stored: now });
  return { ...s, ckrPos: pos, nr: until, skipped: [...s.skipped, ...added].slice(-ENVELOPE_CONSTANTS.MAX_SKIPPED_KEYS) };
}

/** Whether the session's chains know ratchet key `rk` (openStanza tries such a session first). */
export function knows(r: Ratchet | undefined, rk: Sym): boolean {
  return r !== undefined && (r.dhr === rk || r.skipped.some((k) => k.rk === rk));
}

/**
 * RatchetDecrypt with the bounds of spec §envelope.constants: a duplicate, or the new state.
 * @throws ModelFailure `message-key-unavailable`, `skip-limit` or `authentication-failed`
 *   (the message key derived differs from the one the message was encrypted with).
 */
export function decrypt(r: Ratchet, m: RatchetMessage, now: number): { kind: 'duplicate' } | { kind: 'ok'; ratchet: Ratchet } {
  if (r.recent.includes(m.fp)) return { kind: 'duplicate' };
  const opened = (w: Ratchet): { kind: 'ok'; ratchet: Ratchet } => ({ kind: 'ok', ratchet: { ...w, recent: [...w.recent, m.fp].slice(-ENVELOPE_CONSTANTS.MAX_RECENTLY_OPENED) } });
  let w: Ratchet = { ...r, skipped: r.skipped.filter((k) => now - k.stored < ENVELOPE_CONSTANTS.SKIPPED_KEY_MAX_AGE) };
  const stored = w.skipped.find((k) => k.rk === m.rk && k.n === m.n);
  if (stored !== undefined) {
    if (stored.mk !== m.mk) fail('authentication-failed');
    return opened({ ...w, skipped: w.skipped.filter((k) => k !== stored) });
  }
  const sameChain = w.dhr === m.rk;
  if (sameChain && m.n < w.nr) fail('message-key-unavailable');
  // spec envelope.ratchet-init: the initiator's first remote key has no receiving chain; a second
  // new remote key before this side sent cannot authenticate (its private key is deleted).
  if (sameChain && w.ckr === undefined) fail('authentication-failed');
  // spec envelope.skip-bounds: an earlier chain the session still stores skipped keys of is no new
  // chain; a counter of it that is not stored was used, evicted or expired.
  if (!sameChain && w.skipped.some((k) => k.rk === m.rk)) fail('message-key-unavailable');
  if (!sameChain) {
    w = skipKeys(w, m.pn, now);
    if (w.dhs === undefined) fail(m.n > ENVELOPE_CONSTANTS.MAX_SKIP ? 'skip-limit' : 'authentication-failed');
    const step = rootStep(w.root, dh(w.dhs, m.rk));
    w = { ...w, dhs: undefined, dhr: m.rk, root: step.root, ckr: step.chain, ckrPos: 0, nr: 0, pn: w.ns, ns: 0, cks: undefined };
  }
  w = skipKeys(w, m.n, now);
  const mk = `${w.ckr}#${w.ckrPos}`;
  w = { ...w, ckrPos: w.ckrPos + 1, nr: m.n + 1 };
  if (mk !== m.mk) fail('authentication-failed');
  return opened(w);
}
