/**
 * L1 symbolic model, the Double Ratchet abstractly: root key steps `KDF_RK(rk, DH(own, remote))`,
 * chain steps `mk = MAC(ck, "message key")`, `ck' = MAC(ck, "chain key")`, DH ratchet steps on
 * a new remote ratchet key, skipped message keys bounded per message (MAX_SKIP) and per session
 * (MAX_SKIPPED_KEYS, oldest evicted), used keys deleted, re-deliveries recognised. A wrapped key
 * is `<header, AEAD(mk, content key, ad = associated_data || header || context)>` with
 * `header = <ratchet public key, previous chain length, counter>`.
 *
 * Decryption works on a copy: a failure returns an error and the caller keeps the old state.
 *
 * @see spec §envelope.ratchet
 * @see spec §envelope.ratchet (envelope.skip-bounds)
 * @module
 */
import { type ProtocolOptions, is } from './options.js';
import { type Term, aead, aeadOpen, dhPub, hash, kdf, mac, num, numberOf, pk, tup } from './terms.js';
import { type Device, type Session, type Skipped, type World, L, freshAtom } from './world.js';

/**
 * `KDF_RK(rk, dh_out)` as two halves: the next root key and a chain key.
 *
 * @see spec §envelope.ratchet (envelope.ratchet-kdf)
 */
export function rootStep(options: ProtocolOptions, rk: Term, dhOut: Term, ratchetPub: Term): { rk: Term; ck: Term } {
  if (is(options, 'ratchet-without-dh')) return { rk: kdf('ratchet root', rk, ratchetPub), ck: kdf('ratchet chain', rk, ratchetPub) };
  return { rk: kdf('ratchet root', rk, dhOut), ck: kdf('ratchet chain', rk, dhOut) };
}

/** The message key of a chain key and the next chain key (`KDF_CK`). */
export function chainStep(ck: Term): { mk: Term; ck: Term } {
  return { mk: mac(ck, 'ratchet message key'), ck: mac(ck, 'ratchet chain key') };
}

/** The ratchet fields of a session. */
export type RatchetFields = Pick<Session, 'rk' | 'dhs' | 'dhr' | 'cks' | 'ns' | 'pn' | 'ckr' | 'nr' | 'skipped' | 'opened'>;

/**
 * The initiator's ratchet: a fresh ratchet key pair and the first DH step against the
 * responder's first ratchet key (SPK_B, or R_B of the interactive handshake).
 *
 * @see spec §envelope.ratchet (envelope.ratchet-init)
 */
export function startInitiatorRatchet(w: World, d: Device, rk0: Term, peerRatchet: Term): { device: Device; fields: RatchetFields } {
  const [r, next] = freshAtom(w, d, 'r', 'dh');
  const step = rootStep(w.options, rk0, dhPub(r, peerRatchet), pk(r));
  return { device: next, fields: { rk: step.rk, dhs: r, dhr: peerRatchet, cks: step.ck, ns: 0, pn: 0, ckr: undefined, nr: 0, skipped: [], opened: [] } };
}

/** The wrapped key's associated data. */
function wrapAd(s: Session, header: Term, context: Term): Term {
  return tup(s.ad, header, context);
}

/**
 * Encrypts `plaintext` (a content key) as the next message of the session; a session that has
 * received a new remote ratchet key first draws its new ratchet key pair (the sending half of
 * the DH ratchet step).
 *
 * @see spec §envelope.ratchet (envelope.ratchet-init)
 * @returns `undefined` for a responder that has not received yet (it cannot send).
 */
export function ratchetEncrypt(w: World, d: Device, s: Session, plaintext: Term, context: Term): { device: Device; session: Session; rmsg: Term } | undefined {
  let dev = d;
  let sess = s;
  if (sess.cks === undefined) {
    if (sess.dhr === undefined) return undefined;
    let r: Term;
    [r, dev] = freshAtom(w, dev, 'r', 'dh');
    const step = rootStep(w.options, sess.rk, dhPub(r, sess.dhr), pk(r));
    sess = { ...sess, dhs: r, rk: step.rk, cks: step.ck };
  }
  // A sending chain always comes with its ratchet key pair (drawn above, or the initiator's first).
  if (sess.cks === undefined || sess.dhs === undefined) throw new Error('ratchet: a sending chain without its ratchet key pair');
  const { mk, ck } = chainStep(sess.cks);
  const header = tup(pk(sess.dhs), num(sess.pn), num(sess.ns));
  const ct = aead(mk, L.nonce, plaintext, wrapAd(sess, header, context));
  return { device: dev, session: { ...sess, cks: ck, ns: sess.ns + 1 }, rmsg: tup(header, ct) };
}

/** The outcome of a decryption. */
export type Decrypted =
  | { readonly kind: 'ok'; readonly device: Device; readonly session: Session; readonly plaintext: Term }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'error'; readonly reason: string };

function skipKeys(o: ProtocolOptions, s: Session, until: number): Session | string {
  if (s.ckr === undefined || s.dhr === undefined) return s;
  // @req envelope.skip-bounds: at most MAX_SKIP keys for one message …
  if (until - s.nr > o.maxSkip) return 'skip-limit';
  let ck = s.ckr;
  const added: Skipped[] = [];
  for (let n = s.nr; n < until; n++) {
    const step = chainStep(ck);
    added.push({ rpub: s.dhr, n, mk: step.mk });
    ck = step.ck;
  }
  // … and at most MAX_SKIPPED_KEYS per session, the oldest evicted (the mutant keeps them all).
  const all = [...s.skipped, ...added];
  const skipped = is(o, 'per-gap-skip-bound') ? all : all.slice(Math.max(0, all.length - o.maxSkippedKeys));
  return { ...s, ckr: ck, nr: Math.max(s.nr, until), skipped };
}

/**
 * Decrypts a wrapped key with the session's state (Signal's RatchetDecrypt with Seal's bounds).
 *
 * @see spec §envelope.ratchet (envelope.ratchet-transactional)
 */
export function ratchetDecrypt(w: World, d: Device, s: Session, rmsg: Term, context: Term): Decrypted {
  const o = w.options;
  const fingerprint = hash(tup(rmsg, context)).id;
  // @req envelope.skip-bounds: a re-delivery of an opened message is a duplicate.
  if (!is(o, 'no-replay-cache') && s.opened.includes(fingerprint)) return { kind: 'duplicate' };
  if (rmsg.op !== 'tup' || rmsg.args.length !== 2) return { kind: 'error', reason: 'malformed' };
  const [header, ct] = rmsg.args as [Term, Term];
  if (header.op !== 'tup' || header.args.length !== 3) return { kind: 'error', reason: 'malformed' };
  const rpub = header.args[0]!;
  const pn = numberOf(header.args[1]!);
  const n = numberOf(header.args[2]!);
  if (pn === undefined || n === undefined || rpub.op !== 'pk') return { kind: 'error', reason: 'malformed' };
  const ad = wrapAd(s, header, context);
  const finish = (dev: Device, sess: Session, mk: Term): Decrypted => {
    const plaintext = aeadOpen(ct, mk, ad);
    if (plaintext === undefined) return { kind: 'error', reason: 'authentication-failed' };
    return { kind: 'ok', device: dev, session: { ...sess, opened: is(o, 'no-replay-cache') ? sess.opened : [...sess.opened, fingerprint] }, plaintext };
  };
  const stored = s.skipped.find((k) => k.rpub === rpub && k.n === n);
  if (stored !== undefined) return finish(d, { ...s, skipped: s.skipped.filter((k) => k !== stored) }, stored.mk);
  const sameChain = s.dhr === rpub;
  if (sameChain && n < s.nr) return { kind: 'error', reason: 'message-key-unavailable' };
  let dev = d;
  let sess: Session = s;
  if (!sameChain) {
    const skipped = skipKeys(o, sess, pn);
    if (typeof skipped === 'string') return { kind: 'error', reason: skipped };
    // @req envelope.ratchet-init: a second new remote key before this device sent on its own new
    // one finds no private ratchet key (an honest peer changes its key only after receiving ours).
    if (skipped.dhs === undefined) return { kind: 'error', reason: 'authentication-failed' };
    const received = rootStep(o, skipped.rk, dhPub(skipped.dhs, rpub), rpub);
    sess = { ...skipped, dhr: rpub, rk: received.rk, ckr: received.ck, nr: 0, pn: skipped.ns, ns: 0, cks: undefined };
    if (o.ratchetKeyOnReceipt === 'delete') {
      // @req envelope.ratchet-init: the private key of the current ratchet key pair is deleted at
      // the step (for a responder's first step, SPK_B's or R_B's); a new pair at the next send.
      sess = { ...sess, dhs: undefined };
    } else if (o.ratchetKeyOnReceipt === 'replace') {
      // Signal's DHRatchet: the new sending ratchet key pair right away.
      let r: Term;
      [r, dev] = freshAtom(w, dev, 'r', 'dh');
      const sending = rootStep(o, sess.rk, dhPub(r, rpub), pk(r));
      sess = { ...sess, dhs: r, rk: sending.rk, cks: sending.ck };
    }
  }
  const skipped = skipKeys(o, sess, n);
  if (typeof skipped === 'string') return { kind: 'error', reason: skipped };
  // @req envelope.ratchet-init: a header naming the initiator's first remote ratchet key (SPK_B
  // or R_B, both public, on which the responder never sends): no receiving chain, so it cannot
  // authenticate (the reference throws authentication-failed too).
  if (skipped.ckr === undefined) return { kind: 'error', reason: 'authentication-failed' };
  const step = chainStep(skipped.ckr);
  return finish(dev, { ...skipped, ckr: step.ck, nr: n + 1 }, step.mk);
}
