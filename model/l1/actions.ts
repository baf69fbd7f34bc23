/**
 * L1 symbolic model, the actions: what honest devices do (start a handshake, send, rotate
 * prekeys, publish device lists), what the attacker does (serve bundles and lists, deliver,
 * modify or forge messages, compromise any device's identity keys, prekeys or session state at
 * any time), and `successors`, which lists every action enabled in a state with the world it
 * leads to. A scenario (scenarios.ts) chooses which actions are enabled and bounds them.
 *
 * @see spec §handshake
 * @see spec §envelope
 * @see spec §offline.prekeys
 * @see spec §identity.devices
 * @module
 */
import { type Attack, bundleChoices, deliveries, interactiveDeliveries } from './attacker.js';
import { type Delivery, mergeIncoming, open, originOf, replaceActive, send } from './envelope.js';
import { KEY_CHANGED, LOG_FULL, initiateAsync, logFull, readInteractive2, readInteractive3, respondInteractive1, startInteractive, verifyBundle } from './handshake.js';
import { is } from './options.js';
import { type Term, atom, num, pk, tup, verify } from './terms.js';
import {
  type Budget,
  type CompromiseKind,
  type Device,
  type Loss,
  type Setup,
  type World,
  accountKey,
  device,
  freshAtom,
  freshAtomNamed,
  honestServer,
  kemStatement,
  keysOf,
  listTerm,
  spkStatement,
  withDevice,
} from './world.js';

/** A bounded exploration problem: who exists, what may happen, how often. */
export interface Scenario {
  readonly name: string;
  readonly setup: Setup;
  /** Budgets: `starts`, `sends`, `compromises`, `rotations`, `revocations`, `serves`, `forged` (attacker-made messages accepted). */
  readonly budget: Budget;
  /** Default exploration depth (actions after the prefix). */
  readonly depth: number;
  readonly asyncStarts?: readonly (readonly [string, string])[];
  readonly interactiveStarts?: readonly (readonly [string, string])[];
  /** [device, JID of the account it writes to]. */
  readonly sends?: readonly (readonly [string, string])[];
  readonly compromises?: readonly { readonly dev: string; readonly kind: CompromiseKind }[];
  readonly rotations?: readonly string[];
  /**
   * The grace period is modelled: a rotation keeps the replaced signed and KEM prekeys, which
   * still complete handshakes (handshake.prekey-grace), until an action ends their grace period
   * (not budgeted: time passing); without it, rotation deletes them at once.
   */
  readonly grace?: boolean;
  /** A device is stolen (fully compromised) and its owner publishes a list without it. */
  readonly revocations?: readonly { readonly jid: string; readonly dev: string }[];
  /** Devices the server serves device lists to. */
  readonly serveListsTo?: readonly string[];
  readonly attacks: readonly Attack[];
  /** Labels of actions replayed before the exploration starts (an honest setup). */
  readonly prefix?: readonly string[];
  /** Record rejected attacks of these kinds as notes (for sanity queries). */
  readonly notes?: readonly string[];
  /** Devices repair after a repairable failure (offline.repair-reset); budget `intervals` lets
   * REPAIR_INTERVAL pass. */
  readonly repair?: boolean;
  /** Record a genuine message whose in-order delivery fails (the late-message property). */
  readonly losses?: boolean;
  /** Devices that query their archive (budget `queries`). */
  readonly queries?: readonly string[];
  /** A device that accepted a handshake (not from an archive result) confirms it at once with a
   * key-only message to that device, on its active session (device.key-only). */
  readonly confirm?: boolean;
  /** Member accounts the room's owner may remove (budget `removals`; the setup's `room`). */
  readonly removable?: readonly string[];
}

/** One enabled action and its outcome. */
export interface Successor {
  readonly label: string;
  readonly world: World;
}

function spend(w: World, what: string): World {
  return { ...w, budget: { ...w.budget, [what]: (w.budget[what] ?? 0) - 1 } };
}

function has(w: World, what: string): boolean {
  return (w.budget[what] ?? 0) > 0;
}

function note(w: World, n: string): World | undefined {
  return w.notes.includes(n) ? undefined : { ...w, notes: [...w.notes, n] };
}

function noted(w: World, n: string): World {
  return note(w, n) ?? w;
}

/**
 * The failures a new session can fix: not duplicates, old keys (`message-key-unavailable`),
 * malformed or redirected stanzas, forged wrappers, untrusted senders or key changes.
 *
 * @see spec §offline.repair (offline.repair-signal)
 */
function repairable(reason: string): boolean {
  return ['no-session', 'authentication-failed', 'unknown-prekey', 'skip-limit'].some((r) => reason.startsWith(r));
}

/**
 * What a device does after delivery `c` failed with `reason`, beyond keeping its state: hold a
 * handshake under another key for the user (recorded with an honest server), decide on a repair
 * with the claimed sender (at most one per peer device per REPAIR_INTERVAL, never for an archive
 * result), and, for the late-message property, record a genuine message lost in order.
 *
 * @returns the world after it and what happened, or `undefined` when nothing did.
 * @see spec §offline.repair (offline.repair-reset)
 */
function afterRejection(w: World, sc: Scenario, c: Delivery, reason: string): { world: World; what: string } | undefined {
  let next = w;
  const what: string[] = [];
  const y = device(w, c.to);
  const via = c.via ?? 'live';
  if (reason === KEY_CHANGED) {
    // @req device.pinning: held for a decision, never accepted.
    next = noted(next, 'held:key-change');
    if (honestServer(w) && !w.attributed.some((a) => a.dev === y.name && a.from === c.from && a.kind === 'key-change' && a.origin === originOf(w, c))) {
      next = { ...next, attributed: [...next.attributed, { dev: y.name, from: c.from, kind: 'key-change', origin: originOf(w, c) }] };
    }
    what.push('held for a key decision');
  }
  if (sc.repair === true && repairable(reason)) {
    if (via === 'archive') {
      // @req offline.repair-signal: never for archive results.
      next = noted(next, 'repair:not-for-archive');
      what.push('no repair (archive result)');
    } else if (!y.repairing.includes(c.from)) {
      if (y.repaired.includes(c.from) && w.options.mutant !== 'no-repair-limit') {
        next = noted(next, 'repair:rate-limited');
        what.push('no repair (one per REPAIR_INTERVAL)');
      } else {
        const d = device(next, y.name);
        next = withDevice(next, { ...d, repairing: [...d.repairing, c.from], repaired: d.repaired.includes(c.from) ? d.repaired : [...d.repaired, c.from] });
        next = { ...next, repairs: [...next.repairs, { dev: y.name, peer: c.from, interval: w.interval, via }] };
        if (honestServer(w)) next = { ...next, attributed: [...next.attributed, { dev: y.name, from: c.from, kind: 'repair', origin: originOf(w, c) }] };
        if (c.forged === 'garbage') next = spend(next, 'garbage');
        what.push(`${y.name} decides to repair its session with ${c.from}`);
      }
    }
  }
  if (sc.losses === true && c.msg !== undefined && c.forged === undefined && c.origin === undefined) {
    const loss = lossOf(w, c.msg, y, reason);
    if (loss !== undefined) {
      next = { ...next, losses: [...next.losses, loss] };
      what.push(loss.limit === undefined ? 'LOST' : `lost (${loss.limit})`);
    }
  }
  return next === w ? undefined : { world: next, what: what.join('; ') };
}

/**
 * Whether a failed genuine delivery of message `msg` to `y` loses it, and which limit of the spec
 * explains the loss, if one does. Counted only when every earlier message of its sender to `y`
 * was accepted: `reordered` when a later one was accepted first (and its session was dropped),
 * `after-reorder` when the earlier ones were accepted out of order; otherwise it was delivered in
 * order, and only `two-replacements` or `one-time-prekey-reused` explain a loss.
 *
 * @see spec §offline.repair (offline.previous-session)
 */
function lossOf(w: World, msg: number, y: Device, reason: string): Loss | undefined {
  const m = w.msgs[msg]!;
  if (w.losses.some((l) => l.dev === y.name && l.msg === msg)) return undefined;
  const accepted = (id: number) => w.accepts.some((a) => a.dev === y.name && a.msg === id);
  if (accepted(msg)) return undefined;
  const mine = w.msgs.filter((o) => o.sender === m.sender && o.to.some((r) => r.dev === y.name));
  if (!mine.filter((o) => o.id < msg).every((o) => accepted(o.id))) return undefined;
  const rk0 = m.to.find((r) => r.dev === y.name)!.rk0;
  const retired = y.retired.find((r) => r.rk0 === rk0);
  const loss = (limit?: Loss['limit']): Loss => ({ dev: y.name, msg, reason, ...(limit === undefined ? {} : { limit }) });
  if (mine.some((o) => o.id > msg && accepted(o.id))) return retired?.why === 'both-ways' ? loss('reordered') : undefined;
  const order = w.accepts.filter((a) => a.dev === y.name && mine.some((o) => o.id === a.msg)).map((a) => a.msg);
  if (order.some((id, i) => i > 0 && id < order[i - 1]!)) return loss('after-reorder');
  if (retired?.why === 'displaced') return loss('two-replacements');
  // A first message whose header names a one-time prekey another handshake used (two handshakes
  // from one bundle before the peer republished it): the header cannot create its session.
  const header = w.stanzas.find((s) => s.msg === msg)?.entries.find((e) => e.to === y.name)?.header;
  const opk = header?.args[2];
  if (header !== undefined && !y.log.some((e) => e.header === header.id) && !y.sessions.some((s) => s.rk0 === rk0) && y.usedOpks.some((k) => pk(k) === opk)) return loss('one-time-prekey-reused');
  return loss();
}

/**
 * The attacker learns what a compromise of `dev` reveals. Compromising one session (`session`
 * with an index) reveals that session's root, chain and ratchet keys and skipped keys.
 *
 * @see spec §reqs.threat-model (device compromise)
 */
export function compromise(w: World, dev: string, kind: CompromiseKind, sessionIndex = -1): World {
  const d = device(w, dev);
  const revealed: Term[] = [];
  if (kind === 'identity' || kind === 'full') revealed.push(d.sign, d.agree);
  if ((kind === 'spk' || kind === 'full') && d.spk !== undefined) revealed.push(d.spk);
  if ((kind === 'kem' || kind === 'full') && d.kem !== undefined) revealed.push(d.kem);
  if (kind === 'spk' || kind === 'full') revealed.push(...d.grace.map((g) => g.spk));
  if (kind === 'kem' || kind === 'full') revealed.push(...d.grace.map((g) => g.kem));
  if (kind === 'full') revealed.push(...d.opks);
  if (kind === 'session' || kind === 'full') {
    d.sessions.forEach((s, i) => {
      if (sessionIndex >= 0 && i !== sessionIndex) return;
      revealed.push(s.rk, ...(s.dhs ? [s.dhs] : []), ...(s.cks ? [s.cks] : []), ...(s.ckr ? [s.ckr] : []), ...s.skipped.map((k) => k.mk));
    });
  }
  if (kind === 'full') for (const p of d.pending) revealed.push(p.e, ...(p.role === 'initiator' ? [p.q] : [p.r, p.k3]));
  const clock = w.clock + 1;
  const accepted = (m: number) => w.accepts.some((a) => a.dev === dev && a.msg === m);
  // Forward secrecy claims a message only if this compromise finds its keys deleted (see properties.ts).
  const msgs = w.msgs.map((m) => {
    const involved = m.sender === dev || m.to.some((r) => r.dev === dev);
    if (!involved) return m;
    let fsExposed = m.fsExposed;
    if ((kind === 'session' || kind === 'full') && m.to.some((r) => r.dev === dev) && !accepted(m.id)) fsExposed = true;
    // Without a one-time prekey the session's root is exposed while the responder holds the signed and KEM prekeys.
    const held = (spk: Term | undefined, kem: Term | undefined) => (spk === d.spk && kem === d.kem) || d.grace.some((g) => g.spk === spk && g.kem === kem);
    if (kind === 'full' && m.to.some((r) => !r.opk && r.responder === dev && held(r.spk, r.kemKey))) fsExposed = true;
    return { ...m, fsExposed, pcsClaim: false };
  });
  const rk0 = sessionIndex >= 0 ? d.sessions[sessionIndex]?.rk0 : undefined;
  return {
    ...w,
    know: w.know.add([tup(...revealed, num(clock))]),
    clock,
    lastCompromise: { ...w.lastCompromise, [dev]: clock },
    msgs,
    compromises: [...w.compromises, { dev, kind, session: sessionIndex, step: w.step, ...(rk0 === undefined ? {} : { rk0 }) }],
  };
}

/**
 * A device replaces its signed prekey and KEM prekey. Without the grace period modelled
 * (`keepReplaced` false) it deletes the old private keys at once and the handshake log drops the
 * entries of the deleted signed prekey (the spec before the fix kept them: its log did not
 * record prekeys). With it, the old keys are held for their grace period, and so are their log
 * entries (handshake.replay-without-one-time-prekey), until `endGrace`.
 *
 * @see spec §offline.prekeys (offline.rotate)
 * @see spec §handshake.async (handshake.duplicate)
 * @see spec §handshake.async (handshake.prekey-grace)
 */
export function rotate(w: World, dev: string, keepReplaced = false): World {
  const d = device(w, dev);
  const gen = d.gen + 1;
  const spk = freshAtomNamed(w, d, `spk${gen}`, 'dh');
  const kem = freshAtomNamed(w, d, `kem${gen}`, 'kem');
  const old = d.spk === undefined ? undefined : pk(d.spk).id;
  const keep = keepReplaced && d.spk !== undefined && d.kem !== undefined;
  const dropOld = w.options.handshakeLogScope !== 'global' && (!keep || is(w.options, 'grace-drops-log'));
  const log = dropOld ? d.log.filter((e) => e.spk !== old) : d.log;
  const grace = keep ? [...d.grace, { spk: d.spk!, kem: d.kem! }] : d.grace;
  const next: Device = { ...d, spk, kem, gen, log, grace };
  const world = withDevice(w, next);
  return { ...world, know: world.know.add([tup(spkStatement(d.sign, pk(spk)), kemStatement(d.sign, pk(kem)))]) };
}

/**
 * The grace period of a device's oldest replaced signed and KEM prekeys ends: their private keys
 * are deleted, and the handshake log drops the entries of that signed prekey.
 *
 * @see spec §handshake.async (handshake.prekey-grace)
 * @see spec §offline.prekeys (offline.rotate)
 */
export function endGrace(w: World, dev: string): World {
  const d = device(w, dev);
  const ended = d.grace[0];
  if (ended === undefined) return w;
  const old = pk(ended.spk).id;
  return withDevice(w, { ...d, grace: d.grace.slice(1), log: d.log.filter((e) => e.spk !== old) });
}

/**
 * Device `dev` of account `jid` is stolen: the attacker gets all of it, and the account
 * publishes a new list without it.
 *
 * @see spec §identity.devices (identity.device-list-rollback)
 */
export function revoke(w: World, jid: string, dev: string): World {
  const last = [...w.published].reverse().find((p) => p.jid === jid);
  if (last === undefined) return w;
  const devices = last.devices.filter((n) => n !== dev);
  const issued = last.issued + 1;
  const term = listTerm(w, accountKey(jid), jid, issued, devices);
  const stolen = compromise(w, dev, 'full');
  return { ...stolen, know: stolen.know.add([term]), published: [...stolen.published, { jid, issued, devices, term }] };
}

/**
 * The server serves a device list to `to`; an authentic list (signed by the account key `to`
 * verified) is accepted unless it is older than the one held.
 *
 * @see spec §identity.devices (identity.account-signature)
 * @see spec §identity.devices (identity.device-list-rollback)
 */
export function serveList(w: World, to: string, list: Term): World | undefined {
  const d = device(w, to);
  const entry = w.published.find((p) => p.term === list);
  if (entry === undefined) return undefined;
  const view = d.lists[entry.jid];
  if (view === undefined || verify(list, pk(accountKey(entry.jid))) === undefined) return undefined;
  const newestServed = Math.max(view.newestServed, entry.issued);
  // @req identity.device-list-rollback
  const accept = entry.issued >= view.issued || w.options.mutant === 'no-rollback-check';
  const next = accept ? { issued: entry.issued, devices: entry.devices, keys: keysOf(w, entry.devices), newestServed } : { ...view, newestServed };
  if (next.issued === view.issued && next.newestServed === view.newestServed && next.devices === view.devices) return undefined;
  return withDevice(w, { ...d, lists: { ...d.lists, [entry.jid]: next } });
}

/**
 * The server serves `to` a forged list of account `jid`: the newest published list with the
 * attacker's own devices of that account added (devices the account never listed), signed by a
 * key the attacker holds instead of the account key. It must be refused; the mutant
 * `no-list-signature-check` accepts it.
 *
 * @see spec §identity.devices (identity.account-signature)
 */
export function serveForgedList(w: World, to: string, jid: string): World | undefined {
  const d = device(w, to);
  const view = d.lists[jid];
  const last = [...w.published].reverse().find((p) => p.jid === jid);
  const phantoms = w.devices.filter((x) => x.jid === jid && x.control === 'attacker').map((x) => x.name);
  if (view === undefined || last === undefined || phantoms.length === 0) return undefined;
  const devices = [...last.devices, ...phantoms];
  const issued = last.issued + 1;
  const term = listTerm(w, atom('attacker.list-key', 'sign', 'attacker'), jid, issued, devices);
  // @req identity.account-signature: only the recorded account key's signature makes a list acceptable.
  if (verify(term, pk(accountKey(jid))) === undefined && !is(w.options, 'no-list-signature-check')) {
    return w.notes.includes('rejected:forged-list') ? undefined : noted(w, 'rejected:forged-list');
  }
  if (view.devices === devices) return undefined;
  // newestServed counts authentic lists only (the ground truth of trustedAtSend).
  return withDevice(w, { ...d, lists: { ...d.lists, [jid]: { issued, devices, keys: keysOf(w, devices), newestServed: view.newestServed } } });
}

function storeSession(w: World, dev: string, session: Parameters<typeof mergeIncoming>[2], forged = false): World {
  const d = device(w, dev);
  return withDevice(w, mergeIncoming(w, d, forged ? { ...session, forged: true } : session));
}

/**
 * Device `y` completes the repair it decided on with `peer`: it fetches the peer's bundle (as the
 * server serves it), checks it against the key it pinned, starts a new async handshake whose
 * session becomes the active one (the replaced session is kept for late messages), and sends a
 * key-only message that carries the handshake header. A bundle under another key ends the repair
 * (held for the user's decision).
 *
 * @see spec §offline.repair (offline.repair-reset)
 * @see spec §device (device.pinning)
 */
function repairs(w: World, attacks: ReadonlySet<string>): Successor[] {
  const out: Successor[] = [];
  for (const y of w.devices) {
    for (const peer of y.repairing) {
      const p = device(w, peer);
      for (const b of bundleChoices(w, p, attacks)) {
        const label = `${y.name} repairs its session with ${peer}: fetches the bundle (${b.label}), starts an async handshake and sends a key-only message`;
        const v = verifyBundle(w, y, p, b.value);
        const done = withDevice(w, { ...y, repairing: y.repairing.filter((n) => n !== peer) });
        if (typeof v === 'string') {
          // @req device.pinning: a bundle under another key is refused (and held for the user).
          out.push({ label: `${y.name} fetches ${peer}'s bundle for a repair (${b.label}) — refused: ${v}`, world: noted(done, v.includes('identity') ? 'rejected:repair-key' : 'rejected:repair-bundle') });
          continue;
        }
        const started = initiateAsync(done, device(done, y.name), p, v);
        let next = withDevice(started.world, replaceActive(w, device(started.world, y.name), started.session));
        let index = -1;
        next.repairs.forEach((r, i) => {
          if (r.dev === y.name && r.peer === peer && r.session === undefined) index = i;
        });
        if (index >= 0) next = { ...next, repairs: next.repairs.map((r, i) => (i === index ? { ...r, session: started.session.rk0 } : r)) };
        // @req device.key-only: the new session is announced at once, with its header.
        next = send(next, device(next, y.name), p.jid, peer) ?? next;
        out.push({ label, world: next });
      }
    }
  }
  return out;
}

/**
 * Every action enabled in `w` and the world it leads to. Deliveries that the receiver rejects
 * or reports as duplicates change nothing and are left out (a rejected attack of a kind in
 * `scenario.notes` is recorded once as a note instead).
 */
export function successors(w: World, sc: Scenario): Successor[] {
  const out: Successor[] = [];
  const attacks = new Set<string>(sc.attacks);
  const notes = new Set(sc.notes ?? []);
  const push = (label: string, world: World | undefined) => {
    if (world !== undefined) out.push({ label, world: { ...world, step: w.step + 1 } });
  };
  const rejected = (label: string, kind: string | undefined) => {
    if (kind !== undefined && notes.has(kind)) push(`${label} — rejected`, note(w, `rejected:${kind}`));
  };

  if (has(w, 'starts')) {
    for (const [from, to] of sc.asyncStarts ?? []) {
      const x = device(w, from);
      const y = device(w, to);
      if (x.sessions.some((s) => s.peer === to) && !has(w, 'restarts')) continue;
      for (const b of bundleChoices(w, y, attacks)) {
        const v = verifyBundle(w, x, y, b.value);
        const label = `${from} starts an async handshake with ${to} (${b.label})`;
        if (typeof v === 'string') {
          rejected(label, v === 'no-kem' ? 'no-kem' : b.label.startsWith('forged bundle') ? 'forge-bundle' : undefined);
          continue;
        }
        const started = initiateAsync(w, x, y, v);
        const stored = storeSession(started.world, from, started.session);
        push(label, spend(x.sessions.some((s) => s.peer === to) ? spend(stored, 'restarts') : stored, 'starts'));
      }
    }
    for (const [from, to] of sc.interactiveStarts ?? []) {
      const x = device(w, from);
      if (x.sessions.some((s) => s.peer === to)) continue;
      const started = startInteractive(w, x, device(w, to));
      if (started === undefined) continue;
      push(`${from} starts an interactive handshake with ${to}`, spend({ ...started.world, imsgs: [...w.imsgs, { step: 1, from, to, body: started.body }], know: started.world.know.add([started.body]) }, 'starts'));
    }
  }

  if (has(w, 'sends')) {
    for (const [from, jid] of sc.sends ?? []) {
      const next = send(w, device(w, from), jid);
      if (next !== undefined) push(`${from} sends m${w.msgs.length} to ${jid}`, spend(next, 'sends'));
    }
  }

  const forge = has(w, 'forged');
  for (const c of deliveries(w, attacks, forge, has(w, 'garbage'))) {
    const r = open(w, c.value);
    const via = c.value.via ?? 'live';
    if (r.kind === 'accepted') {
      let next = c.value.forged === undefined ? r.world : spend(r.world, 'forged');
      if (via !== 'live' && notes.has('forwarded')) next = noted(next, `accepted:${via}${c.value.origin === undefined ? '' : `:${c.value.origin}`}`);
      if (r.previous && notes.has('previous')) next = noted(next, w.repairs.some((x) => x.dev === c.value.to && x.peer === c.value.from) ? 'opened:previous-after-repair' : 'opened:previous');
      if (sc.confirm === true && r.established && via !== 'archive' && device(w, c.value.to).control === 'honest') {
        // @req device.key-only: a device confirms a handshake it accepted with a key-only message.
        const confirmed = send(next, device(next, c.value.to), device(next, c.value.from).jid, c.value.from);
        if (confirmed !== undefined) {
          push(`${c.label}, and ${c.value.to} confirms with a key-only message (m${next.msgs.length})`, confirmed);
          continue;
        }
      }
      push(c.label, next);
    } else if (r.kind === 'duplicate') {
      // A duplicate first message naming a replaced signed prekey in its grace period (the log kept its entry).
      const graceSpk = c.value.header?.args[1];
      const toGrace = device(w, c.value.to).grace.some((g) => pk(g.spk) === graceSpk);
      if (notes.has('duplicate')) push(`${c.label} — duplicate`, note(w, via !== 'live' ? 'duplicate:forwarded' : toGrace ? 'duplicate:grace' : 'duplicate'));
    } else {
      const after = afterRejection(w, sc, c.value, r.reason);
      if (after !== undefined) push(`${c.label} — rejected (${r.reason}): ${after.what}`, after.world);
      else if (r.reason === LOG_FULL) rejected(c.label, device(w, c.value.to).grace.some((g) => pk(g.spk) === c.value.header?.args[1]) ? 'log-full:grace' : 'log-full');
      else rejected(c.label, r.reason.startsWith('forged-forward') ? 'forged-forward' : r.reason === 'unknown-prekey' && c.value.forged === undefined ? 'unknown-prekey' : c.value.forged);
    }
  }

  if (w.room !== undefined) {
    const room = w.room;
    // §groups.membership: the room's owner takes an account off the lists; the notice reaches each device later.
    if (has(w, 'removals')) {
      for (const jid of room.members) {
        if ((sc.removable ?? []).includes(jid)) push(`the room removes ${jid} from its lists`, spend({ ...w, room: { ...room, members: room.members.filter((j) => j !== jid) } }, 'removals'));
      }
    }
    for (const [dev, view] of Object.entries(room.views)) {
      if (view.length !== room.members.length || view.some((j) => !room.members.includes(j))) {
        push(`${dev} processes the room's lists (${room.members.join(', ')})`, { ...w, room: { ...room, views: { ...room.views, [dev]: room.members } } });
      }
    }
  }

  if (sc.repair === true) {
    for (const s of repairs(w, attacks)) push(s.label, s.world);
    // @req offline.repair-reset: the rate limit forgets a repair after REPAIR_INTERVAL.
    if (has(w, 'intervals') && w.devices.some((d) => d.repaired.length > 0)) {
      push('REPAIR_INTERVAL passes', spend({ ...w, interval: w.interval + 1, devices: w.devices.map((d) => (d.repaired.length === 0 ? d : { ...d, repaired: [] })) }, 'intervals'));
    }
  }

  if (has(w, 'queries')) {
    for (const name of sc.queries ?? []) {
      const [q, d] = freshAtom(w, device(w, name), 'query', 'secret');
      const next = withDevice(w, { ...d, queries: [...d.queries, q] });
      // The server sees the query id; an account attacking through an honest server does not.
      push(`${name} queries its archive (query ${q.name})`, spend(honestServer(w) ? next : { ...next, know: next.know.add([q]) }, 'queries'));
    }
  }

  for (const c of interactiveDeliveries(w, attacks, forge)) {
    const m = c.value;
    const to = device(w, m.to);
    const from = device(w, m.from);
    if (to.control !== 'honest') continue;
    let next: World | undefined;
    let failure: string | undefined;
    if (m.step === 1) {
      const r = respondInteractive1(w, to, from, m.body);
      if (typeof r === 'string') failure = r;
      else next = { ...r.world, imsgs: [...w.imsgs, { step: 2, from: m.to, to: m.from, body: r.body }], know: r.world.know.add([r.body]) };
    } else if (m.step === 2) {
      const r = readInteractive2(w, to, from, m.body);
      if (typeof r === 'string') failure = r;
      else {
        const stored = storeSession(r.world, m.to, r.session, m.forged !== undefined);
        next = { ...stored, imsgs: [...w.imsgs, { step: 3, from: m.to, to: m.from, body: r.body }], know: stored.know.add([r.body]) };
      }
    } else {
      const r = readInteractive3(w, to, from, m.body);
      if (typeof r === 'string') failure = r;
      else next = storeSession(withDevice(w, r.device), m.to, r.session, m.forged !== undefined);
    }
    if (next !== undefined) push(c.label, m.forged === undefined ? next : spend(next, 'forged'));
    else rejected(c.label, m.forged ?? (failure === 'no-kem' ? 'strip-kem' : undefined));
  }

  if (has(w, 'compromises')) {
    for (const c of sc.compromises ?? []) {
      if (w.compromises.some((o) => o.dev === c.dev && o.kind === c.kind && c.kind !== 'session')) continue;
      if (c.kind === 'session') {
        device(w, c.dev).sessions.forEach((s, i) => {
          if (w.compromises.some((o) => o.dev === c.dev && o.kind === 'session' && o.rk0 === s.rk0)) return;
          push(`compromise ${c.dev}'s session ${i} with ${s.peer} (state)`, spend(compromise(w, c.dev, 'session', i), 'compromises'));
        });
      } else push(`compromise ${c.dev} (${c.kind === 'full' ? 'all keys and state' : c.kind === 'identity' ? 'identity keys' : c.kind === 'spk' ? 'signed prekey' : 'KEM prekey'})`, spend(compromise(w, c.dev, c.kind), 'compromises'));
    }
  }

  if (has(w, 'rotations')) for (const dev of sc.rotations ?? []) push(`${dev} rotates its signed and KEM prekeys (old ones ${sc.grace === true ? 'kept for their grace period' : 'deleted'})`, spend(rotate(w, dev, sc.grace === true), 'rotations'));
  // @req handshake.prekey-grace: time passes and the oldest replaced prekeys are deleted.
  if (sc.grace === true) for (const d of w.devices) if (d.control === 'honest' && d.grace.length > 0) push(`the grace period of ${d.name}'s replaced signed prekey ends (deleted)`, endGrace(w, d.name));

  // @req handshake.replay-without-one-time-prekey: a device whose signed prekey accepts no more
  // handshakes without a one-time prekey rotates (not budgeted: the protocol requires it; any
  // delay before it is explored too, during which such handshakes are rejected).
  for (const d of w.devices) {
    if (d.control === 'honest' && logFull(w.options, d)) push(`${d.name} rotates its signed and KEM prekeys (its handshake log is full for the signed prekey)`, rotate(w, d.name, sc.grace === true));
  }

  if (has(w, 'revocations')) for (const r of sc.revocations ?? []) push(`${r.dev} is stolen and ${r.jid} publishes a list without it`, spend(revoke(w, r.jid, r.dev), 'revocations'));

  if (has(w, 'serves')) {
    for (const to of sc.serveListsTo ?? []) {
      for (const p of w.published) {
        const next = serveList(w, to, p.term);
        if (next !== undefined) push(`server gives ${to} the ${p.jid} list issued ${p.issued}`, spend(next, 'serves'));
      }
      if (attacks.has('forge-list')) {
        for (const jid of new Set(w.published.map((p) => p.jid))) {
          const next = serveForgedList(w, to, jid);
          if (next !== undefined) push(`server gives ${to} a ${jid} list with the attacker's device added, signed by the attacker's key`, spend(next, 'serves'));
        }
      }
    }
  }
  return out;
}

/** Replays a scenario's prefix (by label) from `w`. */
export function replayPrefix(w: World, sc: Scenario): { world: World; trace: string[] } {
  let world = w;
  const trace: string[] = [];
  for (const label of sc.prefix ?? []) {
    const next = successors(world, sc).find((s) => s.label === label);
    if (next === undefined) throw new Error(`scenario ${sc.name}: prefix action not enabled: ${label}\n  enabled: ${successors(world, sc).map((s) => s.label).join('\n  ')}`);
    world = next.world;
    trace.push(label);
  }
  return { world, trace };
}
