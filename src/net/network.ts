/**
 * A seeded adversarial network between the embedded server and its clients: every stanza the
 * server delivers to a client waits in one queue, and an explicit {@link AdversarialNetwork.flush}
 * delivers it, after a policy driven by a seeded {@link Rng} may have dropped, delayed, reordered,
 * duplicated, tampered with or replayed it. The same seed, policy and traffic give the same run,
 * so a failure found by a seed can be replayed exactly.
 *
 * It models what an attacker on the path, or a faulty server, can do to messages, which Seal's
 * offline delivery must survive (duplicates recognised, replays rejected, tampering detected,
 * lost messages not blocking later ones). Iq answers are not subject to it: they model the
 * client's own request/response exchange, and lies in them are the server adversary's
 * ({@link ServerAdversary}).
 *
 * @see spec §offline
 * @see spec §reqs.threat-model
 * @module
 */
import { decodeBase64, encodeBase64 } from '../codec/base64.js';
import { type Rng, seededRng } from '../suite/rng.js';
import type { Element } from '../wire/xml.js';
import { cloneElement } from './stanzas.js';

/**
 * What the network does to stanzas on their way to clients. Every field is a probability in
 * [0, 1] (drawn independently, once per stanza, in the order drop, reorder, delay, tamper,
 * duplicate, replayOld), except `reorderWindow`.
 *
 * - `drop`: the stanza is lost.
 * - `reorder`: the stanza is overtaken by up to `reorderWindow` stanzas queued after it.
 * - `delay`: the stanza is held until the network is otherwise quiet (after everything queued and
 *   everything that traffic causes), then delivered.
 * - `tamper`: one bit of one base64 text node is flipped (the result is still well-formed XML
 *   and still canonical base64); a stanza without base64 text is left alone.
 * - `duplicate`: a second copy is delivered up to `reorderWindow` stanzas later.
 * - `replayOld`: after the delivery, a stanza delivered earlier to the same client is delivered
 *   again.
 */
export interface NetworkPolicy {
  readonly drop: number;
  readonly reorder: number;
  /** How far a reordered stanza or a duplicate may move back, in stanzas (an integer >= 1). */
  readonly reorderWindow: number;
  readonly delay: number;
  readonly tamper: number;
  readonly duplicate: number;
  readonly replayOld: number;
}

/** The policy that changes nothing: every stanza is delivered once, in order. */
export const ZERO_POLICY: NetworkPolicy = { drop: 0, reorder: 0, reorderWindow: 4, delay: 0, tamper: 0, duplicate: 0, replayOld: 0 };

/** Counts of what the network did. `delivered` counts every hand-over to a client, copies included. */
export interface NetworkStats {
  /** Stanzas handed to the network by the server. */
  sent: number;
  /** Hand-overs to clients (originals, duplicates and replays). */
  delivered: number;
  dropped: number;
  reordered: number;
  delayed: number;
  tampered: number;
  duplicated: number;
  replayed: number;
  /** Stanzas that reached a connection already closed, and were lost. */
  discarded: number;
}

/** Which way a stanza travels, seen from the client. */
export type WireDirection = 'to-server' | 'to-client';

/**
 * Observes every stanza on the wire: what clients send (before the server processes it) and
 * what they receive (as delivered, after tampering). `jid` is the client connection's full JID.
 */
export type WireObserver = (direction: WireDirection, stanza: Element, jid: string) => void;

/** The receiving end of a client connection, as the network sees it. @internal */
export interface NetworkEndpoint {
  /** The connection's full JID. */
  readonly jid: string;
  /** Whether the connection is still open. */
  isOpen(): boolean;
  /** Hands a stanza to the connection's handlers; a returned promise is awaited. */
  deliver(stanza: Element): void | Promise<void>;
}

/** Options of {@link AdversarialNetwork}. */
export interface NetworkOptions {
  /** The policy (missing fields are zero); default {@link ZERO_POLICY}. */
  readonly policy?: Partial<NetworkPolicy>;
  /** The randomness of the policy; default `seededRng(seed)`. */
  readonly rng?: Rng;
  /** The seed of the default rng; default `'seal network'`. */
  readonly seed?: string;
  /** An observer of every stanza (see {@link WireObserver}). */
  readonly onWire?: WireObserver;
  /** How many stanzas per client are remembered for `replayOld` (default 1000). */
  readonly replayMemory?: number;
}

interface Entry {
  readonly target: NetworkEndpoint;
  readonly stanza: Element;
  /** False once the policy was applied (a reordered stanza, a duplicate, a delayed one). */
  fresh: boolean;
}

function checkProbability(name: string, value: number): number {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`policy.${name}: expected a probability in [0, 1], got ${value}`);
  return value;
}

function checkPolicy(policy: Partial<NetworkPolicy>): NetworkPolicy {
  const merged = { ...ZERO_POLICY, ...policy };
  for (const key of ['drop', 'reorder', 'delay', 'tamper', 'duplicate', 'replayOld'] as const) checkProbability(key, merged[key]);
  if (!Number.isSafeInteger(merged.reorderWindow) || merged.reorderWindow < 1) throw new RangeError(`policy.reorderWindow: expected an integer >= 1, got ${merged.reorderWindow}`);
  return merged;
}

const BASE64_TEXT = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$|^[A-Za-z0-9+/]{2}==$|^[A-Za-z0-9+/]{3}=$/;

/** Text nodes of `element` (depth first) that hold canonical base64, with their position. */
function base64Texts(element: Element, out: Array<{ parent: Element; index: number }> = []): Array<{ parent: Element; index: number }> {
  element.children.forEach((child, index) => {
    if (typeof child !== 'string') {
      base64Texts(child, out);
      return;
    }
    if (!BASE64_TEXT.test(child)) return;
    try {
      decodeBase64(child);
      out.push({ parent: element, index });
    } catch {
      // not canonical: not a candidate
    }
  });
  return out;
}

/**
 * The seeded adversarial network. The embedded server hands it every stanza for a client;
 * nothing reaches a client until {@link flush} is awaited.
 *
 * A policy of all zeros delivers every stanza exactly once, in the order the server sent them.
 *
 * @see spec §offline
 * @example
 * ```ts
 * const network = new AdversarialNetwork({ seed: 'run 7', policy: { duplicate: 0.1, reorder: 0.2 } });
 * const server = new EmbeddedServer({ network });
 * // … clients send …
 * await network.flush();
 * network.stats.duplicated;
 * ```
 */
export class AdversarialNetwork {
  /** What the network did so far. */
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, reordered: 0, delayed: 0, tampered: 0, duplicated: 0, replayed: 0, discarded: 0 };
  /** The wire observer; may be set or replaced at any time. */
  onWire: WireObserver | undefined;

  #policy: NetworkPolicy;
  readonly #rng: Rng;
  readonly #replayMemory: number;
  #queue: Entry[] = [];
  #held: Entry[] = [];
  readonly #history = new Map<NetworkEndpoint, Element[]>();
  #flushing: Promise<void> | undefined;

  /**
   * @throws RangeError when a probability is outside [0, 1] or the window is not an integer >= 1.
   */
  constructor(options: NetworkOptions = {}) {
    this.#policy = checkPolicy(options.policy ?? {});
    this.#rng = options.rng ?? seededRng(options.seed ?? 'seal network');
    this.onWire = options.onWire;
    this.#replayMemory = options.replayMemory ?? 1000;
  }

  /** The current policy. */
  get policy(): NetworkPolicy {
    return this.#policy;
  }

  /**
   * Replaces the policy for stanzas not yet considered (missing fields are zero).
   * @throws RangeError as the constructor.
   */
  setPolicy(policy: Partial<NetworkPolicy>): void {
    this.#policy = checkPolicy(policy);
  }

  /** How many stanzas wait for delivery. */
  get pending(): number {
    return this.#queue.length + this.#held.length;
  }

  /** Reports a stanza on the wire to the observer. @internal Used by the server. */
  observe(direction: WireDirection, stanza: Element, jid: string): void {
    this.onWire?.(direction, stanza, jid);
  }

  /**
   * Queues `stanza` for `target`. The network keeps its own copy.
   * @internal Used by the server.
   */
  enqueue(target: NetworkEndpoint, stanza: Element): void {
    this.stats.sent += 1;
    this.#queue.push({ target, stanza: cloneElement(stanza), fresh: true });
  }

  /**
   * Delivers everything queued, applying the policy, until the network is quiet: stanzas that
   * deliveries cause are delivered in the same flush, and so are delayed ones, last. Handlers'
   * promises are awaited one delivery at a time. Do not await `flush` from inside a handler.
   *
   * @throws whatever a handler throws (the flush stops there; the rest stays queued).
   */
  flush(): Promise<void> {
    this.#flushing ??= this.#run().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #run(): Promise<void> {
    for (;;) {
      while (this.#queue.length > 0) await this.#step(this.#queue.shift()!);
      // Let work scheduled by handlers without awaiting (timers, unawaited promises) run.
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      if (this.#queue.length > 0) continue;
      if (this.#held.length === 0) return;
      this.#queue = this.#held;
      this.#held = [];
    }
  }

  /** A uniform draw in [0, 1) from 32 random bits. */
  #uniform(): number {
    const b = this.#rng(4);
    return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) / 2 ** 32;
  }

  /** Whether an event of probability `p` happens (no randomness is drawn for 0). */
  #chance(p: number): boolean {
    return p > 0 && this.#uniform() < p;
  }

  /** A uniform integer in [0, n). */
  #below(n: number): number {
    return Math.min(n - 1, Math.floor(this.#uniform() * n));
  }

  async #step(entry: Entry): Promise<void> {
    const policy = this.#policy;
    let stanza = entry.stanza;
    if (entry.fresh) {
      entry.fresh = false;
      if (this.#chance(policy.drop)) {
        this.stats.dropped += 1;
        return;
      }
      if (this.#chance(policy.reorder) && this.#queue.length > 0) {
        this.stats.reordered += 1;
        const by = 1 + this.#below(Math.min(policy.reorderWindow, this.#queue.length));
        this.#queue.splice(by, 0, entry);
        return;
      }
      if (this.#chance(policy.delay)) {
        this.stats.delayed += 1;
        this.#held.push(entry);
        return;
      }
      if (this.#chance(policy.tamper)) {
        const tampered = this.#tamper(stanza);
        if (tampered) {
          this.stats.tampered += 1;
          stanza = tampered;
        }
      }
      if (this.#chance(policy.duplicate)) {
        this.stats.duplicated += 1;
        const at = this.#below(Math.min(policy.reorderWindow, this.#queue.length) + 1);
        this.#queue.splice(at, 0, { target: entry.target, stanza, fresh: false });
      }
      await this.#deliver(entry.target, stanza);
      if (this.#chance(policy.replayOld)) {
        const history = this.#history.get(entry.target) ?? [];
        // An old stanza: one delivered before this one.
        if (history.length > 1) {
          this.stats.replayed += 1;
          await this.#deliver(entry.target, history[this.#below(history.length - 1)]!, false);
        }
      }
      return;
    }
    await this.#deliver(entry.target, stanza);
  }

  async #deliver(target: NetworkEndpoint, stanza: Element, remember = true): Promise<void> {
    if (!target.isOpen()) {
      this.stats.discarded += 1;
      return;
    }
    this.stats.delivered += 1;
    if (remember) {
      const history = this.#history.get(target) ?? [];
      history.push(stanza);
      if (history.length > this.#replayMemory) history.shift();
      this.#history.set(target, history);
    }
    const copy = cloneElement(stanza);
    this.onWire?.('to-client', copy, target.jid);
    await target.deliver(copy);
  }

  /** A copy of `stanza` with one bit of one base64 text node flipped, or `undefined` if it has none. */
  #tamper(stanza: Element): Element | undefined {
    const copy = cloneElement(stanza);
    const candidates = base64Texts(copy);
    if (candidates.length === 0) return undefined;
    const { parent, index } = candidates[this.#below(candidates.length)]!;
    const bytes = decodeBase64(parent.children[index] as string);
    const bit = this.#below(bytes.length * 8);
    bytes[bit >> 3]! ^= 1 << (bit & 7);
    parent.children[index] = encodeBase64(bytes);
    return copy;
  }
}
