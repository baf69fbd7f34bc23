/**
 * L1 symbolic model, the attacker's moves: everything the server and the network can present
 * to a device. The attacker controls delivery entirely, so "deliver" covers delivery, delay,
 * reordering, duplication and replay; a message never delivered is dropped. Beyond the honest
 * stanzas it presents modified ones (one-time prekey or KEM part stripped, KEM ciphertext
 * re-randomised, header dropped, sender relabelled, wrapped key redirected, payload swapped or
 * re-encrypted) and messages it builds itself by running the protocol as any device with its
 * own randomness (a handshake, a ratchet message on a device's session, interactive handshake
 * messages). A candidate is offered only if it is derivable from the attacker's knowledge, so a
 * forgery succeeds exactly when the attacker holds the keys it needs.
 *
 * The candidate set is a finite vocabulary (the protocol's message shapes with fields from the
 * attacker's knowledge), not every derivable term: messages of other shapes are rejected by
 * every receiver's parsing, so they add no behaviour.
 *
 * @see spec §reqs.threat-model
 * @module
 */
import { commitmentOf, type Delivery, payloadOf, plaintextOf, wrapContext } from './envelope.js';
import { type BundleView, asyncInitiation, message1, message2, message3, partyOf } from './handshake.js';
import { chainStep, rootStep } from './ratchet.js';
import { NONE, type Term, aead, dhPub, maul, num, pk, tup } from './terms.js';
import { ATTACKER, type Device, type Via, type World, L, device, honestServer, kemStatement, spkStatement, statement, statementOf } from './world.js';

/** The kinds of attacker moves a scenario enables. */
export type Attack =
  /** Bundles: serve one without its one-time prekeys. */
  | 'strip-opk'
  /** Bundles: serve one without its KEM prekey; interactive: strip the KEM key from message 1. */
  | 'strip-kem'
  /** Bundles: replace the one-time prekey with the attacker's, or serve one already used. */
  | 'swap-opk'
  /** Bundles: the attacker's own identity keys, self-signed or signed by a stolen key. */
  | 'forge-bundle'
  /** Headers: strip the one-time prekey reference; re-randomise the KEM ciphertext; drop the header. */
  | 'tamper-header'
  /** Relabel the sender of a stanza or interactive message as another device. */
  | 'claim'
  /** Deliver a device's wrapped key to another device. */
  | 'redirect'
  /** Device lists: serve an account's list with the attacker's own device of that account added, signed by a key that is not the account key. */
  | 'forge-list'
  /** Deliver an interactive handshake message to another device than its addressee. */
  | 'reroute-interactive'
  /** Combine a wrapped key with another stanza's payload, or a payload re-encrypted under a known content key. */
  | 'swap-payload'
  /** Run the async handshake as any device (succeeds only with the keys it needs). */
  | 'forge-handshake'
  /** Send the next ratchet message on a device's session (continuing a chain, a new DH step, a skipped key). */
  | 'forge-ratchet'
  /** Interactive handshake messages built with the attacker's ephemeral keys. */
  | 'forge-interactive'
  /**
   * Stanzas also arrive wrapped as carbons and archive results. With the attacker as the server:
   * honest stanzas and garbage wrapped from the device's own bare JID (its own server), archive
   * results for the device's own query ids (which the server sees). With an honest server: the
   * server relays honest stanzas so, and the attacking account wraps its own stanzas (the
   * server stamps the wrapper's `from` with that account's JID).
   */
  | 'forward'
  /** A stanza that names a real device as sender and opens for nobody (to trigger a repair). */
  | 'garbage'
  /** An async handshake under a fresh identity key (the attacker's) for a known device id. */
  | 'fresh-key';

/** A candidate with the label shown in traces. */
export interface Candidate<T> {
  readonly label: string;
  readonly value: T;
}

function derivableAll(w: World, terms: readonly (Term | undefined)[]): boolean {
  return terms.every((t) => t === undefined || w.know.derivable(t));
}

/** The device whose published keys a device id shows (the original, for a registered clone). */
function keySource(w: World, d: Device): Device {
  if (d.control !== 'clone') return d;
  const spec = w.setup.devices.find((s) => s.name === d.name)?.control;
  return typeof spec === 'object' ? device(w, spec.clone) : d;
}

/**
 * The bundles the server can serve to `x` for device `y`.
 *
 * @see spec §identity.bundle
 */
export function bundleChoices(w: World, y: Device, attacks: ReadonlySet<string>): Candidate<BundleView>[] {
  const src = keySource(w, y);
  const out: Candidate<BundleView>[] = [];
  if (src.spk !== undefined && src.kem !== undefined) {
    const stmt = statementOf(w, y);
    const spk = spkStatement(src.sign, pk(src.spk));
    const kem = kemStatement(src.sign, pk(src.kem));
    const opk = src.opks[0] === undefined ? undefined : pk(src.opks[0]);
    out.push({ label: 'bundle', value: { stmt, spk, kem, opk } });
    if (attacks.has('strip-opk') && opk !== undefined) out.push({ label: 'bundle without one-time prekey', value: { stmt, spk, kem, opk: undefined } });
    if (attacks.has('strip-kem')) out.push({ label: 'bundle without KEM prekey', value: { stmt, spk, kem: undefined, opk } });
    if (attacks.has('swap-opk')) {
      out.push({ label: "bundle with the attacker's one-time prekey", value: { stmt, spk, kem, opk: pk(ATTACKER.opk) } });
      const used = src.usedOpks[0];
      if (used !== undefined) out.push({ label: 'bundle with a used one-time prekey', value: { stmt, spk, kem, opk: pk(used) } });
    }
  }
  if (attacks.has('forge-bundle')) {
    for (const signer of [src.sign, ATTACKER.sign]) {
      if (!w.know.derivable(signer)) continue;
      const who = signer === ATTACKER.sign ? "the attacker's self-signed" : `${y.name}'s stolen`;
      out.push({
        label: `forged bundle (attacker keys, ${who} identity key)`,
        value: { stmt: statement(w.options, signer, y.jid, y.id, pk(ATTACKER.agree)), spk: spkStatement(signer, pk(ATTACKER.spk)), kem: kemStatement(signer, pk(ATTACKER.kem)), opk: undefined },
      });
    }
  }
  return out.filter((c) => derivableAll(w, [c.value.stmt, c.value.spk, c.value.kem, c.value.opk]));
}

/** A message the attacker authors as `p` to `y` on a ratchet chain with message key `mk`. */
function authored(w: World, p: Device, y: Device, ad: Term, header: Term, mk: Term): { rmsg: Term; commitment: Term; payload: Term } {
  const commitment = commitmentOf(ATTACKER.k);
  const payload = payloadOf(ATTACKER.k, plaintextOf(ATTACKER.m, y.jid, p.jid), commitment);
  const ct = aead(mk, L.nonce, ATTACKER.k, tup(ad, header, wrapContext(w, commitment, payload)));
  return { rmsg: tup(header, ct), commitment, payload };
}

/**
 * Every delivery the attacker can make now: honest stanzas (any number of times, in any order,
 * to their recipients), their modifications, and its own messages.
 *
 * @see spec §reqs.threat-model
 */
export function deliveries(w: World, attacks: ReadonlySet<string>, forge: boolean, garbage = false): Candidate<Delivery>[] {
  const out: Candidate<Delivery>[] = [];
  const honest = w.devices.filter((d) => d.control === 'honest');
  const forward = attacks.has('forward');
  const serverHonest = honestServer(w);
  for (const s of w.stanzas) {
    const m = `m${s.msg}`;
    for (const e of s.entries) {
      const base: Delivery = { from: s.from, to: e.to, header: e.header, rmsg: e.rmsg, commitment: s.commitment, payload: s.payload, forged: undefined, msg: s.msg };
      out.push({ label: `deliver ${m} to ${e.to}`, value: base });
      // The recipient's own server relays the stanza as a carbon or returns it from the archive
      // (honest relays; against a malicious server, also its replays).
      if (forward && device(w, e.to).control === 'honest') out.push(...wrapped(w, `${m} to ${e.to}`, base, device(w, e.to).jid, device(w, e.to).queries, 'server'));
      if (!forge || serverHonest) continue;
      const h = e.header;
      if (attacks.has('tamper-header') && h !== undefined) {
        const args = [...h.args];
        if (args[2] !== NONE) out.push({ label: `deliver ${m} to ${e.to} with the one-time prekey stripped from its header`, value: { ...base, header: tup(...args.slice(0, 2), NONE, ...args.slice(3)), forged: 'strip-opk' } });
        if (args[5]?.op === 'kem') out.push({ label: `deliver ${m} to ${e.to} with its KEM ciphertext re-randomised`, value: { ...base, header: tup(...args.slice(0, 5), maul(args[5]), ...args.slice(6)), forged: 'maul-kem' } });
        out.push({ label: `deliver ${m} to ${e.to} without its handshake header`, value: { ...base, header: undefined, forged: 'drop-header' } });
      }
      if (attacks.has('claim')) {
        for (const d of w.devices) {
          if (d.name === s.from || d.name === e.to) continue;
          out.push({ label: `deliver ${m} to ${e.to} as if from ${d.name}`, value: { ...base, from: d.name, forged: 'claim' } });
        }
      }
      if (attacks.has('redirect')) {
        for (const d of honest) {
          if (d.name === s.from || d.name === e.to) continue;
          out.push({ label: `deliver ${m}'s key for ${e.to} to ${d.name}`, value: { ...base, to: d.name, forged: 'redirect' } });
        }
      }
      if (attacks.has('swap-payload')) {
        for (const o of w.stanzas) {
          if (o === s) continue;
          out.push({ label: `deliver ${m} to ${e.to} with the payload of m${o.msg}`, value: { ...base, commitment: o.commitment, payload: o.payload, forged: 'swap-payload' } });
        }
        const ck = w.msgs[s.msg]!.ck;
        if (w.know.derivable(ck)) {
          const payload = payloadOf(ck, plaintextOf(ATTACKER.m, s.toJid, device(w, s.from).jid), s.commitment);
          out.push({ label: `deliver ${m} to ${e.to} with a payload the attacker encrypted under ${m}'s content key`, value: { ...base, payload, forged: 'forge-payload' } });
        }
      }
    }
  }
  const own: Candidate<Delivery>[] = [];
  for (const y of honest) {
    for (const p of w.devices) {
      if (p.name === y.name) continue;
      if (forge && attacks.has('forge-handshake')) own.push(...forgedHandshakes(w, p, y));
      if (forge && attacks.has('fresh-key') && p.control === 'honest') own.push(...freshKeyHandshakes(w, p, y));
      if (garbage && attacks.has('garbage') && p.control === 'honest') own.push(garbageFrom(p, y));
    }
    if (forge && attacks.has('forge-ratchet')) own.push(...forgedRatchet(w, y));
  }
  if (!serverHonest) {
    out.push(...own);
    // Wrapping its own garbage as an archive result is how the server tests the no-repair rule;
    // its other forgeries gain nothing from a wrapper (it presents them directly).
    if (forward) for (const c of own) if (c.value.forged === 'garbage') out.push(...wrapped(w, c.label, c.value, device(w, c.value.to).jid, device(w, c.value.to).queries, 'server'));
    return out;
  }
  // An honest server stamps every stanza with the account that sent it: the attacking account
  // can name another account's device only inside a carbon or archive result it wraps itself.
  for (const eve of w.devices.filter((d) => d.control === 'attacker')) {
    for (const c of own) {
      const claimed = device(w, c.value.from);
      if (claimed.jid === eve.jid) out.push({ label: `${eve.name} sends: ${c.label}`, value: { ...c.value, origin: eve.jid } });
      else if (forward) out.push(...wrapped(w, c.label, { ...c.value, origin: eve.jid }, eve.jid, [ATTACKER.query], eve.name));
    }
  }
  return out;
}

/**
 * Delivery `base` wrapped as a carbon (sent, when the inner stanza comes from the recipient's own
 * account, else received) and as an archive result for each query id, with the wrapper's `from`
 * set to `wrapper`.
 *
 * @see spec §offline.forwarded
 */
function wrapped(w: World, what: string, base: Delivery, wrapper: string, queries: readonly Term[], by: string): Candidate<Delivery>[] {
  const y = device(w, base.to);
  const carbon: Via = device(w, base.from).jid === y.jid ? 'carbon-sent' : 'carbon-received';
  const out: Candidate<Delivery>[] = [{ label: `${by} wraps ${what} as a carbon (${carbon === 'carbon-sent' ? 'sent' : 'received'}) from ${wrapper}`, value: { ...base, via: carbon, wrapper } }];
  for (const q of queries) out.push({ label: `${by} wraps ${what} as an archive result from ${wrapper} for query ${q.name}`, value: { ...base, via: 'archive', wrapper, queryid: q } });
  return out;
}

/** A stanza naming device `p` as sender, with a wrapped key for `y` that opens on no session. */
function garbageFrom(p: Device, y: Device): Candidate<Delivery> {
  const commitment = commitmentOf(ATTACKER.k);
  const payload = payloadOf(ATTACKER.k, plaintextOf(ATTACKER.m, y.jid, p.jid), commitment);
  const rmsg = tup(tup(pk(ATTACKER.r), num(0), num(0)), ATTACKER.m);
  return { label: `attacker sends ${y.name} garbage naming ${p.name}`, value: { from: p.name, to: y.name, header: undefined, rmsg, commitment, payload, forged: 'garbage' } };
}

/** The attacker's handshake messages depend only on the two devices' keys: built once per key set. */
const handshakeCache = new Map<string, { header: Term; rmsg: Term; commitment: Term; payload: Term }>();

/**
 * The attacker runs the async handshake as `p` towards `y` (with or without y's one-time prekey),
 * to y's current prekeys and to the replaced ones y still holds in their grace period (the
 * attacker kept the old bundle).
 */
function forgedHandshakes(w: World, p: Device, y: Device): Candidate<Delivery>[] {
  if (y.spk === undefined || y.kem === undefined) return [];
  const out: Candidate<Delivery>[] = [];
  for (const held of [{ spk: y.spk, kem: y.kem }, ...y.grace]) out.push(...forgedHandshakesTo(w, p, y, held.spk, held.kem, held.spk !== y.spk));
  return out;
}

function forgedHandshakesTo(w: World, p: Device, y: Device, spk: Term, kemKey: Term, replaced: boolean): Candidate<Delivery>[] {
  const out: Candidate<Delivery>[] = [];
  for (const opk of [undefined, y.opks[0]]) {
    if (opk === undefined && out.length > 0) continue;
    const key = `${w.options.mutant ?? ''}|${p.name}|${y.name}|${spk.id}|${kemKey.id}|${opk?.id ?? ''}`;
    let built = handshakeCache.get(key);
    if (built === undefined) {
      const bundle = { party: partyOf(y), spk: pk(spk), kem: pk(kemKey), opk: opk === undefined ? undefined : pk(opk) };
      const init = asyncInitiation(w.options, { initiator: partyOf(p), ik: p.agree, ek: ATTACKER.ek, ss: ATTACKER.ss, statement: statementOf(w, p), responder: partyOf(y), bundle });
      const first = rootStep(w.options, init.rk0, dhPub(ATTACKER.r, bundle.spk), pk(ATTACKER.r));
      built = { header: init.header, ...authored(w, p, y, init.ad, tup(pk(ATTACKER.r), num(0), num(0)), chainStep(first.ck).mk) };
      handshakeCache.set(key, built);
    }
    if (!w.know.derivable(built.header) || !w.know.derivable(built.rmsg)) continue;
    out.push({ label: `attacker runs the async handshake as ${p.name} to ${y.name}${replaced ? "'s replaced signed prekey" : ''}${opk === undefined ? ' (no one-time prekey)' : ''}`, value: { from: p.name, to: y.name, ...built, forged: 'forge-handshake' } });
  }
  return out;
}

/**
 * The attacker runs the async handshake towards `y` claiming `p`'s JID and device id under its
 * own identity keys (a fresh identity key for a known device id).
 *
 * @see spec §identity.trust (identity.key-change)
 */
function freshKeyHandshakes(w: World, p: Device, y: Device): Candidate<Delivery>[] {
  if (y.spk === undefined || y.kem === undefined) return [];
  const key = `fresh|${w.options.mutant ?? ''}|${p.name}|${y.name}|${y.spk.id}|${y.kem.id}`;
  let built = handshakeCache.get(key);
  if (built === undefined) {
    const bundle = { party: partyOf(y), spk: pk(y.spk), kem: pk(y.kem), opk: undefined };
    const claimed = { jid: p.jid, id: p.id, sign: pk(ATTACKER.sign), agree: pk(ATTACKER.agree) };
    const stmt = statement(w.options, ATTACKER.sign, p.jid, p.id, pk(ATTACKER.agree));
    const init = asyncInitiation(w.options, { initiator: claimed, ik: ATTACKER.agree, ek: ATTACKER.ek, ss: ATTACKER.ss, statement: stmt, responder: partyOf(y), bundle });
    const first = rootStep(w.options, init.rk0, dhPub(ATTACKER.r, bundle.spk), pk(ATTACKER.r));
    built = { header: init.header, ...authored(w, p, y, init.ad, tup(pk(ATTACKER.r), num(0), num(0)), chainStep(first.ck).mk) };
    handshakeCache.set(key, built);
  }
  if (!w.know.derivable(built.header) || !w.know.derivable(built.rmsg)) return [];
  return [{ label: `attacker runs the async handshake as ${p.name} to ${y.name} under a fresh identity key`, value: { from: p.name, to: y.name, ...built, forged: 'fresh-key' } }];
}

/** The attacker writes the next message on one of `y`'s sessions, as the session's peer. */
function forgedRatchet(w: World, y: Device): Candidate<Delivery>[] {
  const out: Candidate<Delivery>[] = [];
  y.sessions.forEach((s, i) => {
    const p = device(w, s.peer);
    const tries: { what: string; header: Term; mk: Term }[] = [];
    if (s.ckr !== undefined && s.dhr !== undefined) tries.push({ what: 'continuing its chain', header: tup(s.dhr, num(0), num(s.nr)), mk: chainStep(s.ckr).mk });
    // A new DH ratchet key opens only on a session that still holds its own ratchet secret.
    if (s.dhr !== pk(ATTACKER.r) && s.dhs !== undefined) {
      const step = rootStep(w.options, s.rk, dhPub(s.dhs, pk(ATTACKER.r)), pk(ATTACKER.r));
      tries.push({ what: 'with a new DH ratchet key', header: tup(pk(ATTACKER.r), num(s.nr), num(0)), mk: chainStep(step.ck).mk });
    }
    for (const k of s.skipped) tries.push({ what: `with skipped key ${k.n}`, header: tup(k.rpub, num(0), num(k.n)), mk: k.mk });
    for (const t of tries) {
      if (!w.know.derivable(t.mk)) continue;
      const msg = authored(w, p, y, s.ad, t.header, t.mk);
      out.push({ label: `attacker writes as ${p.name} to ${y.name} on session ${i} ${t.what}`, value: { from: p.name, to: y.name, header: undefined, ...msg, forged: 'forge-ratchet' } });
    }
  });
  return out;
}

/** An interactive handshake message as presented to `to`. */
export interface IDelivery {
  readonly step: 1 | 2 | 3;
  readonly from: string;
  readonly to: string;
  readonly body: Term;
  readonly forged: string | undefined;
}

/**
 * The interactive handshake messages the attacker can present.
 *
 * @see spec §handshake.interactive
 */
export function interactiveDeliveries(w: World, attacks: ReadonlySet<string>, forge: boolean): Candidate<IDelivery>[] {
  const out: Candidate<IDelivery>[] = [];
  w.imsgs.forEach((m, i) => {
    out.push({ label: `deliver interactive message ${m.step} (#${i}) to ${m.to}`, value: { ...m, forged: undefined } });
    if (!forge) return;
    if (m.step === 1 && attacks.has('strip-kem')) out.push({ label: `deliver interactive message 1 (#${i}) to ${m.to} without its KEM key`, value: { ...m, body: tup(...m.body.args.slice(0, 2), NONE), forged: 'strip-kem' } });
    if (attacks.has('claim')) {
      for (const d of w.devices) {
        if (d.name === m.from || d.name === m.to) continue;
        out.push({ label: `deliver interactive message ${m.step} (#${i}) to ${m.to} as if from ${d.name}`, value: { ...m, from: d.name, forged: 'claim' } });
      }
    }
    if (attacks.has('reroute-interactive')) {
      for (const d of w.devices) {
        if (d.name === m.from || d.name === m.to || d.control !== 'honest') continue;
        out.push({ label: `deliver interactive message ${m.step} (#${i}) of ${m.from} to ${d.name} instead of ${m.to}`, value: { ...m, to: d.name, forged: 'reroute-interactive' } });
      }
    }
  });
  if (!forge || !attacks.has('forge-interactive')) return out;
  const honest = w.devices.filter((d) => d.control === 'honest');
  for (const y of honest) {
    for (const p of w.devices) {
      if (p.name === y.name) continue;
      out.push({ label: `attacker starts an interactive handshake as ${p.name} with ${y.name}`, value: { step: 1, from: p.name, to: y.name, body: message1(ATTACKER.e, pk(ATTACKER.q)), forged: 'forge-interactive' } });
    }
    for (const pending of y.pending) {
      const p = device(w, pending.peer);
      if (pending.role === 'responder') {
        const m3 = message3({ k3: pending.k3, h2: pending.h2, iAgree: p.agree, eRPub: pk(pending.e), stmt: statementOf(w, p) });
        if (w.know.derivable(m3.body)) out.push({ label: `attacker answers ${y.name}'s interactive handshake as ${p.name} (message 3)`, value: { step: 3, from: p.name, to: y.name, body: m3.body, forged: 'forge-interactive' } });
      } else {
        const m2 = message2(w.options, { i: y, r: p, ePub: pk(pending.e), qPub: pending.msg1.args[2]!, eR: ATTACKER.e, rAgree: p.agree, stmt: statementOf(w, p), ss: ATTACKER.ss, ratchet: ATTACKER.r });
        if (w.know.derivable(m2.body)) out.push({ label: `attacker answers ${y.name}'s interactive handshake as ${p.name} (message 2)`, value: { step: 2, from: p.name, to: y.name, body: m2.body, forged: 'forge-interactive' } });
      }
    }
  }
  return out;
}
