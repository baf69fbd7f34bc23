/**
 * L1 symbolic model, the envelope: a stanza's content (with its `<from/>` and `<to/>` affixes) is
 * encrypted once under a fresh content key; the key commitment `MAC(content key)` travels with
 * the payload; the content key is wrapped through the ratchet for every device the sender
 * trusts at send time, each wrap binding the commitment and the payload's hash. Opening mirrors
 * the reference receiver: handshake header (or duplicate), sessions tried in turn, commitment,
 * payload, affixes — and nothing is stored unless all of it succeeds.
 *
 * @see spec §envelope
 * @see spec §envelope.open
 * @see spec §offline.simultaneous
 * @module
 */
import { respondAsync, trustedKey } from './handshake.js';
import { is } from './options.js';
import { ratchetDecrypt, ratchetEncrypt } from './ratchet.js';
import { NONE, type Term, aead, aeadOpen, hash, label, mac, num, tup } from './terms.js';
import { type Device, type Msg, type Recipient, type Retired, type Session, type Stanza, type Via, type World, L, device, freshAtom, honestServer, withDevice } from './world.js';

/** The key commitment. @see spec §envelope.commitment */
export function commitmentOf(contentKey: Term): Term {
  return mac(contentKey, 'key commitment');
}

/** The payload: `AEAD(content key, 0, plaintext, "payload" || commitment)`. */
export function payloadOf(contentKey: Term, plaintext: Term, commitment: Term): Term {
  return aead(contentKey, L.zero, plaintext, tup(L.payload, commitment));
}

/** The context every wrapped key binds: commitment and SHA-256 of the payload. */
export function wrapContext(w: World, commitment: Term, payload: Term): Term {
  return is(w.options, 'no-key-commitment') ? NONE : tup(commitment, hash(payload));
}

/** The XEP-0420 content with its affixes. @see spec §envelope.content (envelope.affixes) */
export function plaintextOf(content: Term, toJid: string, fromJid: string): Term {
  return tup(content, label(toJid), label(fromJid));
}

/** The active session of `d` with `peer`. */
export function activeSession(d: Device, peer: string): Session | undefined {
  return d.sessions.find((s) => s.peer === peer);
}

/**
 * The devices `x` wraps for when it writes to account `toJid`: the peer's and its own other
 * devices that it trusts now (verified, or on its accepted list) and has a session with.
 *
 * @see spec §envelope.wire (envelope.fan-out)
 */
export function recipientsOf(w: World, x: Device, toJid: string): string[] {
  return w.devices
    .filter((d) => d.name !== x.name && (d.jid === toJid || d.jid === x.jid) && activeSession(x, d.name) !== undefined)
    .filter((d) => trustedKey(w, x, d) !== undefined)
    .map((d) => d.name);
}

/**
 * The devices `x` wraps for when it writes to the scenario's room: those of the member accounts
 * on the lists it processed last, and its own other devices (groups.recipients), each with an
 * active session and a trusted key. The mutant `keeps-sending-to-removed` wraps for every account
 * that was ever a member.
 *
 * @see spec §groups.recipients
 */
export function roomRecipientsOf(w: World, x: Device): string[] {
  const room = w.room!;
  const view = room.views[x.name] ?? [];
  // @req groups.membership
  const wrapTo = is(w.options, 'keeps-sending-to-removed') ? [...new Set([...view, ...room.everMembers])] : view;
  return w.devices
    .filter((d) => d.name !== x.name && (wrapTo.includes(d.jid) || d.jid === x.jid) && activeSession(x, d.name) !== undefined)
    .filter((d) => trustedKey(w, x, d) !== undefined)
    .map((d) => d.name);
}

/** The devices `x` should trust at send time: by the newest authentic list served to it, or verified. */
export function trustedAtSend(w: World, x: Device, toJid: string): string[] {
  return w.devices
    .filter((d) => d.name !== x.name && (d.jid === toJid || d.jid === x.jid))
    .filter((d) => {
      const view = x.lists[d.jid];
      if (view === undefined) return (w.setup.verified[x.name] ?? []).includes(d.name);
      const newest = w.published.find((p) => p.jid === d.jid && p.issued === view.newestServed);
      return newest?.devices.includes(d.name) ?? false;
    })
    .map((d) => d.name);
}

/** Whether a ratchet chain is younger than every compromise of its two devices (post-compromise security). */
function healed(w: World, sender: string, r: string, own: Term, remote: Term | undefined): boolean {
  const last = Math.max(w.lastCompromise[sender] ?? -1, w.lastCompromise[r] ?? -1);
  const theirs = remote?.op === 'pk' ? remote.args[0] : undefined;
  return own.owner === sender && own.born >= last && theirs !== undefined && theirs.owner === r && theirs.kind === 'dh' && theirs.born >= last;
}

/**
 * Device `x` sends a new message to account `toJid`.
 *
 * @returns the new world, or `undefined` when there is nobody to send to.
 * @see spec §envelope.wire (envelope.content-once)
 * @see spec §envelope.wire (envelope.fan-out)
 */
export function send(w: World, x: Device, toJid: string, keyOnlyTo?: string): World | undefined {
  // @req device.key-only: a key-only message goes to one device (here: to announce a repair's session).
  const room = keyOnlyTo === undefined && w.room !== undefined && w.setup.room?.jid === toJid ? w.room : undefined;
  const to = keyOnlyTo !== undefined ? (activeSession(x, keyOnlyTo) === undefined ? [] : [keyOnlyTo]) : room !== undefined ? roomRecipientsOf(w, x) : recipientsOf(w, x, toJid);
  if (to.length === 0) return undefined;
  let d = x;
  let content: Term;
  let ck: Term;
  [content, d] = freshAtom(w, d, keyOnlyTo === undefined ? 'm' : 'ko', 'content');
  [ck, d] = freshAtom(w, d, 'k', 'secret');
  const commitment = commitmentOf(ck);
  const payload = payloadOf(ck, plaintextOf(content, toJid, x.jid), commitment);
  const context = wrapContext(w, commitment, payload);
  const entries: Stanza['entries'][number][] = [];
  const recipients: Recipient[] = [];
  let sessions = [...d.sessions];
  for (const r of to) {
    const s = activeSession(d, r)!;
    const wrapped = ratchetEncrypt(w, d, s, ck, context);
    if (wrapped === undefined) continue; // a responder that has not received yet cannot send (spec §envelope.ratchet (envelope.ratchet-init))
    d = wrapped.device;
    sessions = sessions.map((o) => (o === s ? wrapped.session : o));
    entries.push({ to: r, header: s.header, rmsg: wrapped.rmsg });
    const ws = wrapped.session;
    recipients.push({ dev: r, rk0: s.rk0, own: ws.dhs!, remote: ws.dhr, opk: s.opk, responder: s.responder, spk: s.spk, kemKey: s.kemKey, forged: s.forged === true });
  }
  if (entries.length === 0) return undefined;
  d = { ...d, sessions };
  for (const r of recipients) d = pruneFor(w, d, r.dev);
  const id = w.msgs.length;
  const stanza: Stanza = { msg: id, from: x.name, toJid, entries, commitment, payload };
  const onWire = tup(L.stanza, label(x.jid), num(x.id), label(toJid), commitment, payload, ...entries.map((e) => tup(label(device(w, e.to).jid), num(device(w, e.to).id), e.header ?? NONE, e.rmsg)));
  const involved = [x.name, ...recipients.map((r) => r.dev)];
  const afterCompromise = involved.some((n) => w.lastCompromise[n] !== undefined);
  const msg: Msg = {
    id,
    sender: x.name,
    content,
    ck,
    to: recipients,
    fsExposed: afterCompromise,
    pcsClaim: afterCompromise && recipients.every((r) => healed(w, x.name, r.dev, r.own, r.remote)),
    afterCompromise,
    trustedAtSend: keyOnlyTo === undefined && room === undefined ? trustedAtSend(w, x, toJid) : undefined,
    ...(keyOnlyTo === undefined ? {} : { keyOnly: true as const }),
    ...(room === undefined
      ? {}
      : { room: { excluded: room.everMembers.filter((j) => !(room.views[x.name] ?? []).includes(j)), removed: room.everMembers.filter((j) => !room.members.includes(j)) } }),
  };
  const next = withDevice(w, d);
  // With an honest server, the attacking account sees only the stanzas addressed to it.
  const seen = !honestServer(w) || w.devices.some((o) => o.control === 'attacker' && o.jid === toJid);
  return { ...next, know: seen ? next.know.add([onWire]) : next.know, stanzas: [...w.stanzas, stanza], msgs: [...w.msgs, msg] };
}

/** One delivery of a wrapped key (an entry of a stanza) to a device, as the attacker presents it. */
export interface Delivery {
  /** The device the stanza claims as sender (`from` and `sid`). */
  readonly from: string;
  readonly to: string;
  readonly header: Term | undefined;
  readonly rmsg: Term;
  readonly commitment: Term;
  readonly payload: Term;
  /** Whether the attacker changed or made it (for budgets and notes). */
  readonly forged: string | undefined;
  /** The honest message it delivers unchanged (for the late-message property). */
  readonly msg?: number;
  /** How it arrives (default `live`); for a carbon or an archive result, the wrapper's `from`
   * (a bare JID, or `undefined` for none) and the archive result's query id. */
  readonly via?: Via;
  readonly wrapper?: string;
  readonly queryid?: Term;
  /** Ground truth: who put it on the network (default: the claimed sender's account for an
   * unchanged honest stanza, `server` otherwise); see `Accept.origin`. */
  readonly origin?: string;
}

/** The account that put delivery `c` on the network (see `Accept.origin`). */
export function originOf(w: World, c: Delivery): string {
  return c.origin ?? (c.forged === undefined ? device(w, c.from).jid : 'server');
}

/**
 * The checks of a forwarded stanza: a carbon only from the account's own bare JID; an archive
 * result only from it or with no `from`, and only for one of the device's own outstanding
 * queries. Then the stanza inside is read with its own `from` (the claimed sender).
 *
 * @returns the rejection reason, or `undefined`.
 * @see spec §offline.forwarded
 */
export function forwardedCheck(w: World, y: Device, c: Delivery): string | undefined {
  const via = c.via ?? 'live';
  if (via === 'live') return undefined;
  // @req offline.forwarded-carbons
  // @req offline.forwarded-archive
  const fromOwn = via === 'archive' ? c.wrapper === undefined || c.wrapper === y.jid : c.wrapper === y.jid;
  if (!fromOwn && !is(w.options, 'no-forward-check')) return `forged-forward: ${via} wrapper from ${c.wrapper ?? '(none)'}, not ${y.jid}`;
  if (via === 'archive' && (c.queryid === undefined || !y.queries.includes(c.queryid))) return 'forged-forward: archive result for a query this device did not send';
  return undefined;
}

/** The outcome of a delivery. */
export type Opened =
  | {
      readonly kind: 'accepted';
      readonly world: World;
      /** Opened on the previous session (not the active one, not a new one). */
      readonly previous: boolean;
      /** Its handshake header established a new session. */
      readonly established: boolean;
    }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'rejected'; readonly reason: string };

function retire(s: Session, why: Retired['why']): Retired {
  return { peer: s.peer, rk0: s.rk0, opk: s.opk, why };
}

/**
 * Stores a session the peer's handshake established. At most two sessions per peer, the active
 * one first: with its own session unconfirmed (simultaneous initiation) the smaller session id is
 * active and both are kept; otherwise the new session replaces the active one, which is kept for
 * receiving late messages (the mutant `no-previous-session` discards it). A session pushed out
 * of the two is dropped.
 *
 * @see spec §offline.simultaneous (offline.simultaneous)
 * @see spec §offline.repair (offline.previous-session)
 */
export function mergeIncoming(w: World, d: Device, incoming: Session): Device {
  const mine = d.sessions.filter((s) => s.peer === incoming.peer);
  const others = d.sessions.filter((s) => s.peer !== incoming.peer);
  const active = mine[0];
  const pushedOut = mine.slice(1).map((s) => retire(s, 'displaced'));
  if (active !== undefined && active.role === 'initiator' && active.header !== undefined) {
    // Both unconfirmed: the smaller session id is active; both are kept.
    const pair = incoming.rk0.id < active.rk0.id ? [incoming, active] : [active, incoming];
    return { ...d, sessions: [...others, ...pair], retired: [...d.retired, ...pushedOut] };
  }
  return replaceActive(w, d, incoming);
}

/**
 * Makes `fresh` the active session with its peer; the active one becomes the previous session,
 * kept for receiving (the mutant `no-previous-session` discards it), and an older previous
 * session is dropped (at most one is kept).
 *
 * @see spec §offline.repair (offline.previous-session)
 */
export function replaceActive(w: World, d: Device, fresh: Session): Device {
  const mine = d.sessions.filter((s) => s.peer === fresh.peer);
  const others = d.sessions.filter((s) => s.peer !== fresh.peer);
  const active = mine[0];
  const retired = mine.slice(1).map((s) => retire(s, 'displaced'));
  // @req offline.previous-session
  const keep = active !== undefined && !is(w.options, 'no-previous-session');
  if (active !== undefined && !keep) retired.push(retire(active, 'discarded'));
  return { ...d, sessions: [...others, fresh, ...(keep ? [active] : [])], retired: [...d.retired, ...retired] };
}

/**
 * Drops the previous session with `peer` once the active one has carried messages in both
 * directions (opened one and sent one).
 *
 * @see spec §offline.repair (offline.previous-session)
 */
export function pruneFor(_w: World, d: Device, peer: string): Device {
  const mine = d.sessions.filter((s) => s.peer === peer);
  const active = mine[0];
  if (active === undefined || mine.length < 2) return d;
  const sent = active.ns > 0 || active.pn > 0;
  if (!sent || active.opened.length === 0) return d;
  // @req offline.previous-session: dropped once the new session carried messages both ways.
  return { ...d, sessions: d.sessions.filter((s) => s.peer !== peer || s === active), retired: [...d.retired, ...mine.slice(1).map((s) => retire(s, 'both-ways'))] };
}

/**
 * Device `to` opens a delivery. Nothing changes unless every check passes.
 *
 * @see spec §envelope.open
 * @see spec §envelope.open (envelope.open-transactional)
 * @see spec §envelope.content (envelope.redirect)
 */
export function open(w: World, c: Delivery): Opened {
  const y = device(w, c.to);
  const p = device(w, c.from);
  if (y.control !== 'honest') return { kind: 'rejected', reason: 'not an honest device' };
  const forwarded = forwardedCheck(w, y, c);
  if (forwarded !== undefined) return { kind: 'rejected', reason: forwarded };
  if (p.name === y.name || trustedKey(w, y, p) === undefined) return { kind: 'rejected', reason: 'untrusted sender' };
  let dev = y;
  let candidates = y.sessions.filter((s) => s.peer === p.name);
  let incoming: Session | undefined;
  if (c.header !== undefined) {
    const r = respondAsync(w, y, p, c.header);
    // A header naming a prekey the device does not hold (also a signed prekey whose log is full)
    // is ignored when a session with the sender exists, as the reference does (spec
    // §offline.simultaneous (offline.simultaneous)).
    if (r.kind === 'error' && !(r.reason.startsWith('unknown-prekey') && candidates.length > 0)) return { kind: 'rejected', reason: r.reason };
    if (r.kind === 'established') {
      incoming = c.forged === undefined ? r.session : { ...r.session, forged: true };
      dev = r.device;
      candidates = [incoming, ...candidates];
    }
  }
  if (candidates.length === 0) return { kind: 'rejected', reason: 'no-session' };
  const context = wrapContext(w, c.commitment, c.payload);
  let firstError = 'no-session';
  for (const s of candidates) {
    const r = ratchetDecrypt(w, dev, s, c.rmsg, context);
    if (r.kind === 'duplicate') return { kind: 'duplicate' };
    if (r.kind === 'error') {
      if (firstError === 'no-session') firstError = r.reason;
      continue;
    }
    const contentKey = r.plaintext;
    // @req envelope.commitment: checked before the payload is decrypted.
    if (!is(w.options, 'no-key-commitment') && commitmentOf(contentKey) !== c.commitment) return { kind: 'rejected', reason: 'authentication-failed: commitment' };
    const plain = aeadOpen(c.payload, contentKey, tup(L.payload, c.commitment));
    if (plain === undefined || plain.op !== 'tup' || plain.args.length !== 3) return { kind: 'rejected', reason: 'authentication-failed: payload' };
    // @req envelope.redirect: the <from/> affix names the stanza's sender.
    if (plain.args[2] !== label(p.jid)) return { kind: 'rejected', reason: 'redirected-stanza' };
    const content = plain.args[0]!;
    // Store: the session used (confirmed if it is an initiator's and this is the peer's message).
    let used: Session = r.session;
    if (used.role === 'initiator' && used.header !== undefined) used = { ...used, header: undefined };
    let after: Device = r.device;
    if (s === incoming) after = mergeIncoming(w, after, used);
    else {
      after = { ...after, sessions: after.sessions.map((o) => (o === s ? used : o)) };
      // A new handshake is kept even when the message opened on an older session (as the reference does).
      if (incoming !== undefined) after = mergeIncoming(w, after, incoming);
    }
    after = pruneFor(w, after, p.name);
    const previous = s !== incoming && s !== y.sessions.find((o) => o.peer === p.name);
    const msg = w.msgs.find((m) => m.content === content)?.id ?? -1;
    const world = withDevice(w, after);
    return { kind: 'accepted', previous, established: incoming !== undefined, world: { ...world, accepts: [...w.accepts, { dev: y.name, from: p.name, content, msg, origin: originOf(w, c) }] } };
  }
  return { kind: 'rejected', reason: firstError };
}
