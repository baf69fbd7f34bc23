/**
 * L1 symbolic model, the attacker's knowledge: a set of terms closed under analysis
 * (decomposition), with synthesis (composition) checked on demand by `derivable`.
 *
 * Analysis rules (applied until nothing new is learnt):
 *   tuple → its components; signature → the signed message; AEAD ciphertext → its nonce and
 *   associated data, and its plaintext once the key is derivable; KEM ciphertext (or a mauled
 *   one) → the shared secret once the decapsulation key is derivable.
 * Synthesis rules (`derivable(t)`):
 *   a known term or a public atom (label, JID, device id, counter); `pk(x)`, `kdf`, `mac`, `hash`, `aead`, `sig`, `kem`, `maul` and tuples from
 *   derivable arguments; `dh(a, b)` when one exponent and the other's public key are derivable,
 *   or always when Diffie-Hellman is broken (the harvest-now-decrypt-later switch).
 *
 * A knowledge value is immutable; `add` returns a new one. It remembers the terms it was built
 * from (its roots), which identify it: the closure is a function of the roots.
 *
 * @see spec §reqs.threat-model (the adversary reads everything on the network and the server)
 * @module
 */
import { type Term, pk } from './terms.js';

/** How to judge derivability. */
export interface Mode {
  /** Every `dh` term is derivable: a quantum computer broke X25519 (the KEM stays secure). */
  readonly dhBroken: boolean;
}

const CLASSICAL: Mode = { dhBroken: false };

/** The attacker's knowledge. */
export class Knowledge {
  private readonly memo = new Map<number, boolean>();
  private quantumView: Knowledge | undefined;

  private constructor(
    private readonly known: ReadonlySet<number>,
    private readonly pending: readonly Term[],
    /** Ids of the terms this knowledge was built from, sorted. */
    readonly roots: readonly number[],
    private readonly rootTerms: readonly Term[],
    /** The mode analysis and synthesis use. */
    readonly mode: Mode,
  ) {}

  /** Knowledge of exactly the given terms and everything analysis yields from them. */
  static of(terms: readonly Term[], mode: Mode = CLASSICAL): Knowledge {
    return new Knowledge(new Set(), [], [], [], mode).add(terms);
  }

  /** This knowledge plus `terms` (e.g. a stanza on the network, or leaked secrets). */
  add(terms: readonly Term[]): Knowledge {
    const fresh = terms.filter((t) => !this.roots.includes(t.id));
    if (fresh.length === 0) return this;
    const known = new Set(this.known);
    let locked: Term[] = [...this.pending];
    // Closure: decompose every new term; retry locked ciphertexts until a pass opens nothing.
    const learn = (t: Term): void => {
      if (known.has(t.id)) return;
      known.add(t.id);
      switch (t.op) {
        case 'tup':
          t.args.forEach(learn);
          return;
        case 'sig':
          learn(t.args[1]!);
          return;
        case 'aead':
          learn(t.args[1]!);
          learn(t.args[3]!);
          locked.push(t);
          return;
        case 'kem':
        case 'maul':
          locked.push(t);
          return;
        default:
          return;
      }
    };
    fresh.forEach(learn);
    for (let progress = true; progress; ) {
      progress = false;
      const probe = new Knowledge(known, [], [], [], this.mode);
      const current = locked;
      locked = [];
      for (const t of current) {
        const opened = probe.unlock(t);
        if (opened === undefined) locked.push(t);
        else {
          progress = true;
          learn(opened);
        }
      }
    }
    const roots = [...this.roots, ...fresh.map((t) => t.id)].sort((a, b) => a - b);
    return new Knowledge(known, locked, roots, [...this.rootTerms, ...fresh], this.mode);
  }

  /** What analysis gets out of a locked term once its key is derivable. */
  private unlock(t: Term): Term | undefined {
    if (t.op === 'aead') return this.derivable(t.args[0]!) ? t.args[2] : undefined;
    const base = t.op === 'maul' ? t.args[0]! : t;
    if (base.op !== 'kem') return undefined;
    const pub = base.args[0]!;
    return pub.op === 'pk' && this.derivable(pub.args[0]!) ? base.args[1] : undefined;
  }

  /**
   * Whether the attacker can compute `t` (synthesis over the analysed knowledge). With
   * `{ dhBroken: true }` the question is asked of the same roots analysed by an attacker who
   * derives every DH value (the harvest-now-decrypt-later attacker, later).
   */
  derivable(t: Term, mode: Mode = this.mode): boolean {
    if (mode.dhBroken !== this.mode.dhBroken) {
      this.quantumView ??= Knowledge.of(this.rootTerms, mode);
      return this.quantumView.derivable(t, mode);
    }
    const cached = this.memo.get(t.id);
    if (cached !== undefined) return cached;
    const result = this.synth(t);
    this.memo.set(t.id, result);
    return result;
  }

  private synth(t: Term): boolean {
    if (this.known.has(t.id)) return true;
    switch (t.op) {
      case 'atom':
        return t.kind === 'public';
      case 'dh': {
        if (this.mode.dhBroken) return true;
        const [a, b] = t.args as [Term, Term];
        return (this.derivable(a) && this.derivable(pk(b))) || (this.derivable(b) && this.derivable(pk(a)));
      }
      default:
        return t.args.every((a) => this.derivable(a));
    }
  }

  /** A string that identifies this knowledge (for state deduplication). */
  key(): string {
    return this.roots.join('.');
  }

  /** Number of analysed terms. */
  get size(): number {
    return this.known.size;
  }
}
