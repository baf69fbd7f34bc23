/**
 * L1 symbolic model (DESIGN.md §7), the term algebra: the messages and keys of Seal as symbolic
 * terms, perfect cryptography in the Dolev-Yao sense. A term is an atom (a name, nonce or key
 * with an owner), a public key `pk(x)`, a Diffie-Hellman value `dh(a, b)` (stored with its two
 * exponents sorted, so `dh(a, pk(b)) = dh(b, pk(a))`), a KEM ciphertext `kem(pk(x), ss)`, a
 * re-randomised ("mauled") ciphertext, a labelled KDF or MAC, a hash, an AEAD ciphertext, a
 * signature, or a tuple.
 *
 * Terms are hash-consed: equal terms are the same object with the same `id`, so equality is `===`
 * and a term can be used as a map key through its id. Ids are only meaningful within one process.
 *
 * @see spec §suite (the primitives these constructors abstract)
 * @see spec §suite.labels (every KDF and MAC carries its label, so keys of different purposes are distinct terms)
 * @module
 */

/** What an atom stands for. `public` atoms (labels, JIDs, device ids, counters) are known to everyone. */
export type AtomKind = 'public' | 'dh' | 'sign' | 'kem' | 'secret' | 'content';

/** The constructors of the algebra. */
export type Op = 'atom' | 'pk' | 'dh' | 'kem' | 'maul' | 'kdf' | 'mac' | 'hash' | 'aead' | 'sig' | 'tup';

/** A hash-consed symbolic term. */
export interface Term {
  readonly id: number;
  readonly op: Op;
  readonly args: readonly Term[];
  /** The atom's name, or the label of a `kdf`/`mac`; empty otherwise. */
  readonly name: string;
  /** Atoms only. */
  readonly kind: AtomKind | undefined;
  /** Atoms only: the device that generated it, `attacker`, or `public`. */
  readonly owner: string;
  /** Atoms only: the value of the model's compromise clock when the atom was drawn (see world.ts). */
  readonly born: number;
}

const table = new Map<string, Term>();
let nextId = 0;

function intern(op: Op, name: string, args: readonly Term[], kind?: AtomKind, owner = '', born = 0): Term {
  let key = op + '|' + name;
  for (const a of args) key += ',' + a.id;
  const found = table.get(key);
  if (found !== undefined) return found;
  const term: Term = { id: nextId++, op, args, name, kind, owner, born };
  table.set(key, term);
  return term;
}

/** Number of distinct terms built so far (a measure of the explorer's work). */
export function termCount(): number {
  return table.size;
}

/**
 * An atom. Names are unique: the first call fixes kind, owner and birth time.
 *
 * @param born - the compromise clock when the value was drawn (post-compromise security asks
 *   whether a ratchet key is younger than the last compromise).
 */
export function atom(name: string, kind: AtomKind, owner = 'public', born = 0): Term {
  return intern('atom', name, [], kind, owner, born);
}

/** A public constant: a label, JID, device id or counter. */
export function label(name: string): Term {
  return atom(name, 'public');
}

/** The absent optional field (no one-time prekey, no KEM part, no header). */
export const NONE = label('none');

/** A public number (device ids, ratchet counters). */
export function num(n: number): Term {
  return label(`#${n}`);
}

/** Reads back a number made by {@link num}; `undefined` for any other term. */
export function numberOf(t: Term): number | undefined {
  if (t.op !== 'atom' || t.kind !== 'public' || !t.name.startsWith('#')) return undefined;
  return Number(t.name.slice(1));
}

/** The public key of a secret (X25519, Ed25519 or ML-KEM). */
export function pk(secret: Term): Term {
  return intern('pk', '', [secret]);
}

/**
 * `dh(a, pk(b))`: the X25519 shared secret of two secret exponents, normalised so that
 * `dh(a, b) = dh(b, a)`.
 *
 * @see spec §suite.agreement
 */
export function dh(a: Term, b: Term): Term {
  return a.id <= b.id ? intern('dh', '', [a, b]) : intern('dh', '', [b, a]);
}

/**
 * X25519 of a secret and a public key term. A public key that is not `pk(atom)` (a value the
 * attacker made up) gives a value nobody else can compute, as a low-order or random point would.
 */
export function dhPub(secret: Term, pub: Term): Term {
  const other = pub.op === 'pk' ? pub.args[0] : undefined;
  if (other === undefined || other.op !== 'atom') return kdf('X25519 of a non-key', secret, pub);
  return dh(secret, other);
}

/** ML-KEM encapsulation of the shared secret `ss` to the public key `pub`. @see spec §suite.kem */
export function kem(pub: Term, ss: Term): Term {
  return intern('kem', '', [pub, ss]);
}

/**
 * A different ciphertext that decapsulates to the same shared secret. ML-KEM does not allow this
 * for honestly generated keys; the model grants it anyway (a KEM that does not bind its
 * ciphertext), so that the transcript's binding of the ciphertext is what the model checks.
 */
export function maul(ct: Term): Term {
  return intern('maul', '', [ct]);
}

/**
 * ML-KEM decapsulation with implicit rejection: the encapsulated secret when `ct` was made for
 * `pk(sk)` (or mauled from such a ciphertext), otherwise a pseudo-random value that depends on
 * the secret key and the ciphertext.
 *
 * @see spec §handshake.async (handshake.async-responder) (decapsulation never fails)
 */
export function decaps(sk: Term, ct: Term): Term {
  const base = ct.op === 'maul' ? ct.args[0]! : ct;
  if (base.op === 'kem' && base.args[0] === pk(sk)) return base.args[1]!;
  return kdf('ML-KEM implicit rejection', sk, ct);
}

/** `DeriveKey(label, inputs…)`: a one-way function of all inputs. @see spec §suite.kdf */
export function kdf(name: string, ...inputs: Term[]): Term {
  return intern('kdf', name, inputs);
}

/** `MacWithLabel(key, label, "")`. @see spec §suite.kdf */
export function mac(key: Term, name: string): Term {
  return intern('mac', name, [key]);
}

/** SHA-256. */
export function hash(x: Term): Term {
  return intern('hash', '', [x]);
}

/** AEAD encryption (ChaCha20-Poly1305) of `plaintext` with associated data `ad`. @see spec §suite.aead */
export function aead(key: Term, nonce: Term, plaintext: Term, ad: Term): Term {
  return intern('aead', '', [key, nonce, plaintext, ad]);
}

/**
 * AEAD decryption: the plaintext when `ct` was made with exactly this key and associated data,
 * otherwise `undefined` (authentication failure). Perfect AEAD is key-committing.
 */
export function aeadOpen(ct: Term, key: Term, ad: Term): Term | undefined {
  if (ct.op !== 'aead' || ct.args[0] !== key || ct.args[3] !== ad) return undefined;
  return ct.args[2];
}

/** A signature over `msg` by the signing secret `sk`. @see spec §suite.signature */
export function sig(sk: Term, msg: Term): Term {
  return intern('sig', '', [sk, msg]);
}

/** The signed message when `s` is a signature that verifies under `pub`; otherwise `undefined`. */
export function verify(s: Term, pub: Term): Term | undefined {
  if (s.op !== 'sig' || pk(s.args[0]!) !== pub) return undefined;
  return s.args[1];
}

/** A tuple (the canonical encoding of a struct). */
export function tup(...items: Term[]): Term {
  return intern('tup', '', items);
}

/** Short printable form of a term, for traces. */
export function show(t: Term, depth = 2): string {
  if (t.op === 'atom') return t.name;
  if (depth <= 0) return `${t.op}(…)`;
  const inner = t.args.map((a) => show(a, depth - 1)).join(', ');
  switch (t.op) {
    case 'kdf':
      return `kdf[${t.name}](${inner})`;
    case 'mac':
      return `mac[${t.name}](${inner})`;
    case 'tup':
      return `<${inner}>`;
    default:
      return `${t.op}(${inner})`;
  }
}
