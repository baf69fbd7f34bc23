/**
 * L1 symbolic model, the properties: predicates checked in every reachable state, named as the
 * spec's Security Considerations name them, each with sanity witnesses that must be reached
 * somewhere (so a property cannot pass because its premise never happens, and the attacker
 * demonstrably can do what the exceptions allow).
 *
 * Every property reads the state's history: the honest messages (`msgs`, with the flags the
 * actions maintain for forward secrecy and post-compromise security), the acceptances, the
 * sessions, the compromises, and the attacker's knowledge.
 *
 * @see spec §security
 * @module
 */
import { pinnedKey } from './handshake.js';
import type { Knowledge } from './knowledge.js';
import type { Term } from './terms.js';
import { type Device, type Msg, type Session, type World, compromisesOf, device, everCompromised, honestServer } from './world.js';

/** A state the exploration must reach (a sanity query). */
export interface Witness {
  readonly name: string;
  readonly reached: (w: World) => boolean;
}

/** A property: `check` returns a description of the violation, or `undefined`. */
export interface Property {
  readonly name: string;
  /** The Security Considerations subsection it checks. */
  readonly anchor: string;
  readonly check: (w: World) => string | undefined;
  readonly sanity: readonly Witness[];
}

const QUANTUM = { dhBroken: true } as const;

function der(w: World, t: Term | undefined): boolean {
  return t !== undefined && w.know.derivable(t);
}

function involved(m: Msg): string[] {
  return [m.sender, ...m.to.map((r) => r.dev)];
}

function clean(w: World, names: readonly string[]): boolean {
  return names.every((n) => !everCompromised(w, n));
}

function acceptedBy(w: World, m: Msg, dev: string): boolean {
  return w.accepts.some((a) => a.dev === dev && a.msg === m.id);
}

function acceptedByAll(w: World, m: Msg): boolean {
  return m.to.every((r) => acceptedBy(w, m, r.dev));
}

function sessions(w: World): { d: Device; s: Session }[] {
  return w.devices.filter((d) => d.control === 'honest').flatMap((d) => d.sessions.map((s) => ({ d, s })));
}

function sessionKeys(s: Session): Term[] {
  return [s.rk0, s.rk, ...(s.cks ? [s.cks] : []), ...(s.ckr ? [s.ckr] : []), ...s.skipped.map((k) => k.mk)];
}

function genuine(w: World, dev: string, from: string, msg: number): boolean {
  const m = w.msgs[msg];
  return m !== undefined && m.sender === from && m.to.some((r) => r.dev === dev);
}

function name(m: Msg): string {
  return `m${m.id} (${m.sender} → ${m.to.map((r) => r.dev).join(', ')})`;
}

/**
 * Secrecy: the content and content key of a message, and the root and chain keys of a session,
 * stay secret while none of the devices involved was compromised.
 */
export const secrecy: Property = {
  name: 'secrecy',
  anchor: 'security.secrecy',
  check(w) {
    for (const m of w.msgs) {
      if (clean(w, involved(m)) && (der(w, m.content) || der(w, m.ck))) return `${name(m)}: content or content key derivable, and no device involved was compromised`;
    }
    for (const { d, s } of sessions(w)) {
      if (!clean(w, [d.name, s.peer])) continue;
      const leaked = sessionKeys(s).find((k) => der(w, k));
      if (leaked !== undefined) return `${d.name}'s session with ${s.peer}: a session key is derivable, and neither device was compromised`;
    }
    return undefined;
  },
  sanity: [
    { name: 'a message is accepted on an established session', reached: (w) => w.accepts.some((a) => a.msg >= 0) },
    { name: 'a compromise of a device involved does reveal a message', reached: (w) => w.msgs.some((m) => !clean(w, involved(m)) && der(w, m.content)) },
  ],
};

/**
 * Forward secrecy: a compromise reveals no message whose keys were deleted before it. The
 * actions mark a message exposed when a compromise of its sender or a recipient finds a key that
 * opens it: the recipient had not yet opened it (its chain or skipped key was held), or the
 * session used no one-time prekey and the responder still held the signed and KEM prekeys (the
 * limit the spec states), or the message was sent after the compromise.
 */
export const forwardSecrecy: Property = {
  name: 'forward secrecy',
  anchor: 'security.fs',
  check(w) {
    for (const m of w.msgs) {
      if (m.fsExposed || !involved(m).every((n) => w.devices.find((d) => d.name === n)?.control === 'honest')) continue;
      if (der(w, m.content)) return `${name(m)}: derivable after a compromise that happened after its keys were deleted`;
    }
    return undefined;
  },
  sanity: [
    {
      name: 'a device is compromised after it deleted the keys of a message (the claim applies)',
      reached: (w) => w.msgs.some((m) => !m.fsExposed && acceptedByAll(w, m) && w.compromises.some((c) => involved(m).includes(c.dev))),
    },
    {
      name: 'without a one-time prekey, a compromise after the prekeys were rotated finds the message protected',
      reached: (w) => w.msgs.some((m) => !m.fsExposed && m.to.some((r) => !r.opk && w.compromises.some((c) => c.dev === r.responder && c.kind === 'full')) && acceptedByAll(w, m)),
    },
    {
      name: 'without a one-time prekey, a compromise before the prekeys are deleted reveals an earlier, deleted message',
      reached: (w) => w.msgs.some((m) => m.fsExposed && !m.afterCompromise && m.to.some((r) => !r.opk) && acceptedByAll(w, m) && der(w, m.content)),
    },
  ],
};

/**
 * Post-compromise security: after a compromise, a message sent on a chain whose two ratchet keys
 * were both drawn after the last compromise of either device — which one round trip the
 * attacker does not interfere with produces — stays secret (until the next compromise).
 */
export const postCompromise: Property = {
  name: 'post-compromise security',
  anchor: 'security.pcs',
  check(w) {
    const m = w.msgs.find((x) => x.pcsClaim && der(w, x.content));
    return m === undefined ? undefined : `${name(m)}: derivable although sent on a chain renewed on both sides after the compromise`;
  },
  sanity: [
    { name: 'after a compromise, one round trip heals the session and a message on it is accepted', reached: (w) => w.msgs.some((m) => m.pcsClaim && acceptedByAll(w, m)) },
    { name: 'a message sent after the compromise and before the round trip is revealed', reached: (w) => w.msgs.some((m) => m.afterCompromise && !m.pcsClaim && der(w, m.content)) },
  ],
};

/**
 * Key-compromise impersonation: with only its identity keys compromised, a device accepts from
 * another (uncompromised) device only what that device sent to it.
 */
export const kci: Property = {
  name: 'key-compromise impersonation resistance',
  anchor: 'security.kci',
  check(w) {
    for (const a of w.accepts) {
      const kinds = compromisesOf(w, a.dev);
      if (everCompromised(w, a.from) || kinds.some((k) => k !== 'identity')) continue;
      if (!genuine(w, a.dev, a.from, a.msg)) return `${a.dev} accepted content ${a.content.name || '(forged)'} as from ${a.from}, who never sent it; ${a.dev}'s ${kinds.length > 0 ? 'identity keys are' : 'keys are not'} compromised`;
    }
    return undefined;
  },
  sanity: [
    { name: "with a device's identity keys compromised, a genuine message to it is still accepted", reached: (w) => w.accepts.some((a) => a.msg >= 0 && compromisesOf(w, a.dev).includes('identity') && genuine(w, a.dev, a.from, a.msg)) },
    { name: "with the recipient's signed prekey the attacker impersonates others to it (the X3DH limit the spec states)", reached: (w) => w.accepts.some((a) => a.msg < 0 && !everCompromised(w, a.from) && compromisesOf(w, a.dev).includes('spk')) },
  ],
};

/** Whether `d`'s peer holds the other end of session `s` (or held it: it may have dropped it as a previous session). */
function matchingSession(w: World, d: Device, s: Session): boolean {
  const peer = w.devices.find((x) => x.name === s.peer);
  return peer !== undefined && (peer.sessions.some((o) => o.rk0 === s.rk0 && o.peer === d.name) || peer.retired.some((o) => o.rk0 === s.rk0 && o.peer === d.name));
}

/**
 * Mutual authentication and injective agreement: every message a device accepts as coming from
 * an uncompromised device was sent by that device to it, and is accepted once; a device that
 * holds a session as responder, or has opened a reply as initiator, shares it with its peer.
 */
export const authentication: Property = {
  name: 'mutual authentication and injective agreement',
  anchor: 'security.auth',
  check(w) {
    const seen = new Set<string>();
    for (const a of w.accepts) {
      if (!clean(w, [a.dev, a.from])) continue;
      if (!genuine(w, a.dev, a.from, a.msg)) return `${a.dev} accepted content ${a.content.name} as from ${a.from}, who never sent it to ${a.dev}`;
      const key = `${a.dev}:${a.msg}`;
      if (seen.has(key)) return `${a.dev} accepted m${a.msg} twice`;
      seen.add(key);
    }
    for (const { d, s } of sessions(w)) {
      if (!clean(w, [d.name, s.peer])) continue;
      const confirmed = s.role === 'responder' || s.opened.length > 0;
      if (confirmed && !matchingSession(w, d, s)) return `${d.name} holds a ${s.role} session with ${s.peer} that ${s.peer} does not hold`;
    }
    return undefined;
  },
  sanity: [
    {
      name: 'messages are accepted in both directions',
      reached: (w) => w.accepts.some((a) => a.msg >= 0 && w.accepts.some((b) => b.msg >= 0 && b.dev === a.from && b.from === a.dev)),
    },
    { name: "the attacker injects a message when it holds the sender's keys", reached: (w) => w.accepts.some((a) => a.msg < 0 && everCompromised(w, a.from)) },
  ],
};

/**
 * No unknown key-share: two devices that share a session key name each other (JID and device
 * id) as its peer, and a secret message is accepted only as coming from its real sender.
 */
export const unknownKeyShare: Property = {
  name: 'no unknown key-share',
  anchor: 'security.uks',
  check(w) {
    const all = sessions(w);
    for (const { d, s } of all) {
      for (const { d: e, s: t } of all) {
        if (d === e || s.rk0 !== t.rk0) continue;
        if (s.peer !== e.name || t.peer !== d.name) return `${d.name} (peer ${s.peer}) and ${e.name} (peer ${t.peer}) share a session key`;
      }
    }
    for (const a of w.accepts) {
      const m = w.msgs[a.msg];
      if (m === undefined || der(w, m.content)) continue;
      if (m.sender !== a.from || !m.to.some((r) => r.dev === a.dev)) return `${a.dev} accepted m${m.id} of ${m.sender} as from ${a.from}`;
    }
    return undefined;
  },
  sanity: [
    { name: 'two devices hold the two ends of a session', reached: (w) => sessions(w).some(({ d, s }) => matchingSession(w, d, s)) },
    { name: 'a stanza relabelled as from another device is rejected', reached: (w) => w.notes.includes('rejected:claim') },
  ],
};

/**
 * The interactive initiator's agreement at message 2: when an uncompromised device reads message
 * 2 as its peer's and the peer is uncompromised, the peer wrote this very message 2 (the same
 * Noise transcript) in answer to a message 1 it took as coming from that device. The prologue's
 * JIDs and device ids give it: without them, a message 1 relabelled as another device's is
 * answered for that device, and the initiator completes its side although the responder will
 * reject its message 3 (ProVerif's interactive.auth.initiator states the same agreement).
 */
export const interactiveAgreement: Property = {
  name: 'interactive initiator agreement at message 2',
  anchor: 'security.auth',
  check(w) {
    for (const r of w.message2) {
      if (r.role !== 'initiator' || !clean(w, [r.dev, r.peer])) continue;
      const written = w.message2.filter((o) => o.role === 'responder' && o.dev === r.peer && o.h2 === r.h2);
      if (written.length === 0) return `${r.dev} read a message 2 as ${r.peer}'s that ${r.peer} never wrote`;
      if (!written.some((o) => o.peer === r.dev)) return `${r.dev} read ${r.peer}'s message 2, which ${r.peer} wrote for ${written[0]!.peer}`;
    }
    return undefined;
  },
  sanity: [
    {
      name: 'an initiator reads the message 2 its responder wrote for it',
      reached: (w) => w.message2.some((r) => r.role === 'initiator' && w.message2.some((o) => o.role === 'responder' && o.dev === r.peer && o.peer === r.dev && o.h2 === r.h2)),
    },
    {
      name: 'a message 1 relabelled as from another device is answered for that device',
      reached: (w) => w.message2.some((o) => o.role === 'responder' && !w.imsgs.some((m) => m.step === 1 && m.from === o.peer && m.to === o.dev)),
    },
  ],
};

function compromisedSessions(w: World): Set<number> {
  return new Set(w.compromises.flatMap((c) => (c.rk0 === undefined ? [] : [c.rk0.id])));
}

function onlySessionCompromises(w: World, names: readonly string[]): boolean {
  return names.every((n) => w.devices.find((d) => d.name === n)?.control === 'honest' && compromisesOf(w, n).every((k) => k === 'session'));
}

/**
 * Session independence: the compromise of one session's state reveals nothing of another
 * session — neither its messages nor its keys.
 */
export const sessionIndependence: Property = {
  name: 'session independence',
  anchor: 'security.secrecy',
  check(w) {
    const hit = compromisedSessions(w);
    for (const m of w.msgs) {
      // Messages on sessions the attacker set up (an impersonation) are authentication's concern.
      if (!onlySessionCompromises(w, involved(m)) || m.to.some((r) => hit.has(r.rk0.id) || r.forged)) continue;
      if (der(w, m.content)) return `${name(m)}: derivable although only other sessions were compromised`;
    }
    for (const { d, s } of sessions(w)) {
      // Sessions the attacker itself set up (an impersonation) are authentication's concern.
      if (!onlySessionCompromises(w, [d.name, s.peer]) || hit.has(s.rk0.id) || s.forged) continue;
      if (sessionKeys(s).some((k) => der(w, k))) return `${d.name}'s session with ${s.peer}: a key is derivable although only other sessions were compromised`;
    }
    return undefined;
  },
  sanity: [
    {
      name: "after one session's compromise, a message of another session is accepted",
      reached: (w) => compromisedSessions(w).size > 0 && w.msgs.some((m) => !m.to.some((r) => compromisedSessions(w).has(r.rk0.id)) && acceptedByAll(w, m) && w.compromises.some((c) => c.step < w.step && involved(m).includes(c.dev))),
    },
    { name: 'the compromised session itself leaks', reached: (w) => w.msgs.some((m) => m.to.some((r) => compromisedSessions(w).has(r.rk0.id)) && der(w, m.content)) },
  ],
};

/**
 * Authentication part of session independence (a fixed finding, `FIXED` in scenarios.ts): with
 * one session's state compromised, a device accepts from an uncompromised device only what it
 * sent — checked where the attacker cannot write on the compromised session itself (no
 * `forge-ratchet`), since that session's keys do let it impersonate the peer there.
 */
export const sessionIndependenceAuth: Property = {
  name: 'session independence (authentication)',
  anchor: 'security.kci',
  check(w) {
    for (const a of w.accepts) {
      if (everCompromised(w, a.from) || !onlySessionCompromises(w, [a.dev])) continue;
      if (!genuine(w, a.dev, a.from, a.msg)) return `${a.dev} accepted forged content as from ${a.from}; only a session state of ${a.dev} was compromised`;
    }
    return undefined;
  },
  sanity: [{ name: 'a session state is compromised and a genuine message is accepted afterwards', reached: (w) => w.compromises.some((c) => c.kind === 'session') && w.accepts.some((a) => a.msg >= 0) }],
};

function kemLeaked(k: Knowledge, key: Term | undefined): boolean {
  return key !== undefined && k.derivable(key);
}

/**
 * Harvest now, decrypt later: with every Diffie-Hellman value broken (and the KEM secure), the
 * root keys and messages of sessions between uncompromised devices stay secret, unless the KEM
 * private key their handshake used was compromised.
 */
export const hndl: Property = {
  name: 'harvest-now-decrypt-later resistance',
  anchor: 'security.hndl',
  check(w) {
    const kemOnly = (names: readonly string[]) => names.every((n) => w.devices.find((d) => d.name === n)?.control === 'honest' && compromisesOf(w, n).every((k) => k === 'kem'));
    for (const { d, s } of sessions(w)) {
      if (!kemOnly([d.name, s.peer]) || kemLeaked(w.know, s.kemKey)) continue;
      if (w.know.derivable(s.rk0, QUANTUM)) return `${d.name}'s session with ${s.peer}${s.kem ? '' : ' (established without the KEM part)'}: root key derivable once X25519 is broken`;
    }
    for (const m of w.msgs) {
      if (!kemOnly(involved(m)) || m.to.some((r) => kemLeaked(w.know, r.kemKey))) continue;
      if (w.know.derivable(m.content, QUANTUM)) return `${name(m)}: derivable once X25519 is broken`;
    }
    return undefined;
  },
  sanity: [
    { name: 'sessions carry accepted messages that stay secret with X25519 broken', reached: (w) => w.accepts.some((a) => a.msg >= 0) && w.msgs.every((m) => !w.know.derivable(m.content, QUANTUM)) },
    {
      name: 'a KEM prekey compromised after the fact reveals a recorded session to a quantum attacker',
      reached: (w) => w.msgs.some((m) => m.to.some((r) => kemLeaked(w.know, r.kemKey)) && !der(w, m.content) && w.know.derivable(m.content, QUANTUM)),
    },
  ],
};

/**
 * Downgrade detection: no session between uncompromised devices lacks the KEM part, and a
 * responder's session always matches its initiator's, including whether a one-time prekey was
 * used (stripping it from the header is detected).
 */
export const downgrade: Property = {
  name: 'downgrade detection',
  anchor: 'security.downgrade',
  check(w) {
    for (const { d, s } of sessions(w)) {
      if (!clean(w, [d.name, s.peer])) continue;
      if (!s.kem) return `${d.name}'s session with ${s.peer} has no KEM part`;
      if (s.role !== 'responder') continue;
      const peer = w.devices.find((x) => x.name === s.peer);
      if (![...(peer?.sessions ?? []), ...(peer?.retired ?? [])].some((o) => o.rk0 === s.rk0 && o.opk === s.opk)) return `${d.name}'s responder session with ${s.peer} disagrees with the initiator's (one-time prekey ${s.opk ? 'used' : 'not used'})`;
    }
    return undefined;
  },
  sanity: [
    { name: 'a bundle stripped of one-time prekeys still gives a working session (less forward secrecy, same confidentiality)', reached: (w) => w.msgs.some((m) => m.to.some((r) => !r.opk && acceptedBy(w, m, r.dev))) },
    { name: 'a one-time prekey stripped from a header is detected', reached: (w) => w.notes.includes('rejected:strip-opk') },
    { name: 'a bundle without KEM prekey is refused', reached: (w) => w.notes.includes('rejected:no-kem') },
    { name: 'interactive message 1 without its KEM key is refused', reached: (w) => w.notes.includes('rejected:strip-kem') },
  ],
};

/**
 * Delivery: no message accepted twice, nothing accepted that was not sent (to that device, by
 * the device named), and the skipped keys a session stores stay within MAX_SKIPPED_KEYS.
 */
export const delivery: Property = {
  name: 'delivery',
  anchor: 'security.auth',
  check(w) {
    const seen = new Set<string>();
    for (const a of w.accepts) {
      if (!clean(w, [a.dev, a.from])) continue;
      if (!genuine(w, a.dev, a.from, a.msg)) return `${a.dev} accepted something ${a.from} did not send to it`;
      const key = `${a.dev}:${a.msg}`;
      if (seen.has(key)) return `${a.dev} accepted m${a.msg} twice`;
      seen.add(key);
    }
    for (const { d, s } of sessions(w)) {
      if (s.skipped.length > w.options.maxSkippedKeys) return `${d.name}'s session with ${s.peer} stores ${s.skipped.length} skipped keys (bound ${w.options.maxSkippedKeys})`;
    }
    return undefined;
  },
  sanity: [
    { name: 'out-of-order delivery fills the skipped-key store to its bound', reached: (w) => sessions(w).some(({ s }) => s.skipped.length === w.options.maxSkippedKeys) },
    { name: 'a re-delivery is recognised as a duplicate', reached: (w) => w.notes.includes('duplicate') },
  ],
};

/**
 * Fan-out: a message reaches only devices on the list its sender trusted at send time (the
 * newest authentic list served to it, or devices it verified): it is wrapped only for them,
 * accepted only by them, and derivable only if one of them (or the sender) was compromised.
 */
export const fanOut: Property = {
  name: 'messages reach only devices trusted at send time',
  anchor: 'security.secrecy',
  check(w) {
    for (const m of w.msgs) {
      if (m.trustedAtSend === undefined) continue;
      const trusted = new Set([m.sender, ...m.trustedAtSend]);
      // Ground truth, not the sender's view: a recipient of an account that publishes signed lists
      // must be on one of them (or verified by the sender's user), whatever the sender accepted.
      const phantom = m.to.find((r) => {
        const jid = device(w, r.dev).jid;
        const lists = w.published.filter((p) => p.jid === jid);
        return lists.length > 0 && !lists.some((p) => p.devices.includes(r.dev)) && !(w.setup.verified[m.sender] ?? []).includes(r.dev);
      });
      if (phantom !== undefined) return `${name(m)}: wrapped for ${phantom.dev}, which no list of its account signed by the account key names`;
      const outside = m.to.find((r) => !trusted.has(r.dev));
      if (outside !== undefined) return `${name(m)}: wrapped for ${outside.dev}, which the sender should no longer trust`;
      if (der(w, m.content) && ![...trusted].some((n) => everCompromised(w, n))) return `${name(m)}: derivable although no device trusted at send time was compromised`;
      const stray = w.accepts.find((a) => a.msg === m.id && !m.to.some((r) => r.dev === a.dev));
      if (stray !== undefined) return `${name(m)}: accepted by ${stray.dev}, which it was not sent to`;
    }
    return undefined;
  },
  sanity: [
    {
      name: 'after a revocation is served, a message reaches the remaining devices only',
      reached: (w) => w.msgs.some((m) => w.published.some((p) => p.issued > 1 && m.trustedAtSend !== undefined && !m.to.some((r) => !p.devices.includes(r.dev))) && m.to.length > 0 && acceptedByAll(w, m) && w.published.length > 1),
    },
    {
      name: 'a list with a device the account never listed, signed by another key than the account key, is refused',
      reached: (w) => w.notes.includes('rejected:forged-list'),
    },
    {
      name: 'while the server withholds the new list, the stolen device still reads new messages',
      reached: (w) => w.msgs.some((m) => m.to.some((r) => w.compromises.some((c) => c.dev === r.dev && c.step < w.step)) && m.afterCompromise && der(w, m.content)),
    },
  ],
};

function jidOf(w: World, name: string): string {
  return device(w, name).jid;
}

/**
 * No forwarded injection. Against any attacker, a message accepted from a carbon or an archive
 * result is what the named device sent to this device, accepted once: the sealed content is
 * authenticated by the session whatever wraps it, so a server that forges carbons from the
 * account's own bare JID (it is that account's server) can only replay, delay or drop what it
 * has. With an honest server, and another account as the attacker, more holds: a device treats
 * a stanza as coming from account J's device — accepts it, holds it for a key decision, or
 * repairs its session because of it — only if J put it on the network (or the receiving
 * account's own server relayed it as a carbon or archive result). Against the server this
 * second part is not a property (the server stamps every `from`), so it is checked only in the
 * honest-server scenario.
 *
 * @see spec §offline.forwarded
 */
export const forwardedInjection: Property = {
  name: 'no forwarded injection',
  anchor: 'security.auth',
  check(w) {
    const seen = new Set<string>();
    for (const a of w.accepts) {
      if (!clean(w, [a.dev, a.from])) continue;
      if (!genuine(w, a.dev, a.from, a.msg)) return `${a.dev} accepted content ${a.content.name} as from ${a.from}, who never sent it to ${a.dev}`;
      const key = `${a.dev}:${a.msg}`;
      if (seen.has(key)) return `${a.dev} accepted m${a.msg} twice`;
      seen.add(key);
    }
    if (!honestServer(w)) return undefined;
    for (const a of w.accepts) {
      if (a.origin !== jidOf(w, a.from)) return `${a.dev} accepted ${a.msg >= 0 ? `m${a.msg}` : `content ${a.content.name}`} as from ${a.from} (${jidOf(w, a.from)}), but the stanza was put on the network by ${a.origin}`;
    }
    for (const e of w.attributed) {
      if (e.origin !== jidOf(w, e.from)) return `${e.dev} ${e.kind === 'repair' ? 'decided to repair its session with' : 'holds for the user a key change of'} ${e.from} (${jidOf(w, e.from)}) because of a stanza ${e.origin} put on the network`;
    }
    return undefined;
  },
  sanity: [
    { name: 'a genuine carbon is accepted', reached: (w) => w.notes.includes('accepted:carbon-received') || w.notes.includes('accepted:carbon-sent') },
    { name: 'a genuine archive result (for the device\'s own query) is accepted', reached: (w) => w.notes.includes('accepted:archive') },
    { name: "another account's carbon or archive result naming a contact's device is refused", reached: (w) => honestServer(w) && w.notes.includes('rejected:forged-forward') },
    { name: "the server's carbon replaying a message already opened is recognised as a duplicate", reached: (w) => !honestServer(w) && w.notes.includes('duplicate:forwarded') },
  ],
};

/**
 * Key pinning: every session an honest device holds with a peer device is bound to the identity
 * key it pinned for that device (verified, or named by a list signed by a verified account key).
 * No handshake, bundle or repair under another key replaces it: a handshake under a fresh key
 * for a known device id is held for the user's decision, a repair's bundle under another key is
 * refused.
 *
 * @see spec §device (device.pinning)
 */
export const pinning: Property = {
  name: 'key pinning',
  anchor: 'security.auth',
  check(w) {
    for (const { d, s } of sessions(w)) {
      const pinned = pinnedKey(w, d, device(w, s.peer));
      if (pinned === undefined || pinned === 'any' || s.peerKey === pinned) continue;
      return `${d.name} holds a ${s.role} session with ${s.peer} bound to an identity key other than the one it pinned for ${s.peer}${d.sessions.filter((o) => o.peer === s.peer)[0] === s ? ' (its active session)' : ''}`;
    }
    return undefined;
  },
  sanity: [
    { name: 'a handshake under a fresh identity key for a known device id is held for a decision, not accepted', reached: (w) => w.notes.includes('held:key-change') },
    { name: "a repair's bundle under another identity key is refused", reached: (w) => w.notes.includes('rejected:repair-key') },
    { name: 'a repair completes: the peer opens its key-only message on the new session', reached: (w) => repairCompleted(w) },
  ],
};

function repairCompleted(w: World): boolean {
  return w.repairs.some((r) => r.session !== undefined && device(w, r.peer).sessions.some((s) => s.rk0 === r.session && s.opened.length > 0));
}

/**
 * Repairs are bounded: a device decides on at most one repair per peer device within a
 * REPAIR_INTERVAL (so injected garbage naming a real device costs at most one handshake per
 * interval), and never because of an archive result.
 *
 * @see spec §offline.repair (offline.repair-reset)
 */
export const repairBound: Property = {
  name: 'repairs are bounded',
  anchor: 'offline.repair',
  check(w) {
    const seen = new Set<string>();
    for (const r of w.repairs) {
      if (r.via === 'archive') return `${r.dev} decided to repair its session with ${r.peer} because of an archive result`;
      const key = `${r.dev}>${r.peer}@${r.interval}`;
      if (seen.has(key)) return `${r.dev} decided to repair its session with ${r.peer} twice within one REPAIR_INTERVAL`;
      seen.add(key);
    }
    return undefined;
  },
  sanity: [
    { name: 'garbage naming a real device makes its peer repair', reached: (w) => w.repairs.length > 0 },
    { name: 'a second failure within the interval starts no second repair', reached: (w) => w.notes.includes('repair:rate-limited') },
    { name: 'a failure in an archive result starts no repair', reached: (w) => w.notes.includes('repair:not-for-archive') },
  ],
};

/**
 * Late messages open on the previous session: a genuine message delivered in order (every
 * earlier message of its sender to that device accepted, no later one) is accepted, also when
 * the recipient or the sender replaced the session in between (a repair, or the peer's new
 * handshake): the replaced session is kept for receiving until the new one has carried
 * messages in both directions. Stated limits, reached as witnesses where the bounds allow: at
 * most one previous session is kept, so a message in transit across two replacements is lost;
 * and a message delivered after a later one can find its session dropped.
 *
 * @see spec §offline.repair (offline.previous-session)
 */
export const lateMessages: Property = {
  name: 'late messages open on the previous session',
  anchor: 'offline.repair',
  check(w) {
    const lost = w.losses.find((l) => l.limit === undefined);
    return lost === undefined ? undefined : `m${lost.msg}${w.msgs[lost.msg]?.keyOnly === true ? ' (a key-only message)' : ''} to ${lost.dev}, delivered in order, was not accepted (${lost.reason})`;
  },
  sanity: [
    {
      name: 'a repair completes and a late message opens on the previous session',
      reached: (w) => repairCompleted(w) && w.notes.includes('opened:previous-after-repair'),
    },
  ],
};

/** Not a security property: every scenario must reach a state where a message was accepted, so no scenario is vacuous on its own. */
export const progress: Property = {
  name: 'progress',
  anchor: 'impl.models',
  check: () => undefined,
  sanity: [{ name: 'a message is accepted', reached: (w) => w.accepts.some((a) => a.msg >= 0) }],
};

/** All properties, in the order of the spec's Security Considerations. */
export const PROPERTIES: readonly Property[] = [secrecy, forwardSecrecy, postCompromise, kci, authentication, unknownKeyShare, interactiveAgreement, sessionIndependence, hndl, downgrade, delivery, fanOut, forwardedInjection, pinning, repairBound, lateMessages];

/**
 * Room removal (§groups.membership): a message a device sealed for a room after it processed lists
 * without an account is accepted by none of that account's devices, and derivable by an attacker who holds the removed devices' keys and controls the server only if
 * the sender or a device it was wrapped for was compromised.
 */
export const roomRemoval: Property = {
  name: 'a device removed from the room reads nothing sent after the sender processed the removal',
  anchor: 'security.secrecy',
  check(w) {
    for (const m of w.msgs) {
      if (m.room === undefined || m.room.excluded.length === 0) continue;
      const excluded = new Set(m.room.excluded);
      const read = w.accepts.find((a) => a.msg === m.id && excluded.has(jidOf(w, a.dev)));
      if (read !== undefined) return `${name(m)}: accepted by ${read.dev}, whose account the sender had processed as removed`;
      if (der(w, m.content) && clean(w, involved(m))) return `${name(m)}: derivable although neither its sender nor a device it was wrapped for was compromised`;
    }
    return undefined;
  },
  sanity: [
    { name: 'a remaining member reads a room message sealed after the sender processed the removal', reached: (w) => w.accepts.some((a) => { const m = w.msgs[a.msg]; return m?.room !== undefined && m.room.excluded.length > 0 && a.dev !== m.sender; }) },
    { name: 'a removal is processed (a room message is sealed without the removed account)', reached: (w) => w.msgs.some((m) => m.room !== undefined && m.room.excluded.length > 0 && m.to.length > 0) },
    {
      name: 'the stated window: a removed device reads a message sealed before its sender processed the removal',
      reached: (w) => w.accepts.some((a) => { const m = w.msgs[a.msg]; return m?.room !== undefined && m.room.removed.includes(jidOf(w, a.dev)) && !m.room.excluded.includes(jidOf(w, a.dev)); }),
    },
    {
      name: 'the removed device is compromised, and a message sealed after the removal stays secret from the attacker',
      reached: (w) => w.msgs.some((m) => m.room !== undefined && m.room.excluded.length > 0 && m.to.length > 0 && m.room.excluded.some((j) => w.devices.some((d) => d.jid === j && everCompromised(w, d.name))) && !der(w, m.content)),
    },
  ],
};
