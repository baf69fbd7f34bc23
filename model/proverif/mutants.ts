/**
 * model/proverif/mutants.ts (DESIGN.md §7, L3): the mutants of the ProVerif models. Each mutant
 * is a deliberately broken variant of one protocol, made from the committed model by textual
 * patches (each must match the model exactly as often as stated, so a patch cannot silently stop
 * applying when the model changes), together with the queries whose recorded result it must
 * change. `test/model.proverif.test.ts` checks the patches against the models always, and with
 * `SEAL_PROVERIF` runs every mutant and fails when one leaves a query it must flip unchanged.
 *
 * Run `npx tsx model/proverif/mutants.ts <dir>` to write every mutant as `<dir>/<name>.pv`
 * (generated files: they are not committed).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One textual replacement; `count` is how often `find` must occur in the model (default 1). */
export interface Patch {
  readonly find: string;
  readonly replace: string;
  readonly count?: number;
}

/** A broken variant of one model and the queries that must catch it. */
export interface Mutant {
  /** `<model>.<what is broken>`. */
  readonly name: string;
  readonly model: 'async.pv' | 'interactive.pv';
  /** What the variant gets wrong, in the spec's words. */
  readonly what: string;
  readonly patches: readonly Patch[];
  /** Queries (marker names) whose recorded result the mutant must change. */
  readonly mustFlip: readonly string[];
}

/** Removes one whole line of the model (given without its leading spaces and line break). */
function dropLine(line: string, indent: string, count = 1): Patch {
  return { find: `\n${indent}${line}\n`, replace: '\n', count };
}

/** Declares a constant right after the suite constant (a placeholder a mutant puts in place of a value). */
function declare(name: string, type: string): Patch {
  return { find: 'const suite: bitstring.', replace: `const suite: bitstring.\nconst ${name}: ${type}.` };
}

export const MUTANTS: readonly Mutant[] = [
  {
    name: 'async.initiator-skips-signed-prekey-signature',
    model: 'async.pv',
    what: 'the initiator uses a signed prekey without verifying its signature',
    patches: [dropLine('if verify(sb, SignedPrekeyContent(spk), spksig) then', '  ')],
    mustFlip: ['async.fs.initiator'],
  },
  {
    name: 'async.initiator-skips-kem-prekey-signature',
    model: 'async.pv',
    what: 'the initiator uses a KEM prekey without verifying its signature',
    patches: [dropLine('if verify(sb, KemPrekeyContent(pq), pqsig) then', '  ')],
    mustFlip: ['async.hndl.initiator'],
  },
  {
    name: 'async.initiator-skips-identity-signature',
    model: 'async.pv',
    what: "the initiator uses the bundle's identity agreement key without verifying the identity signature",
    patches: [dropLine('if verify(sb, IdentityKeysContent(jb, db, sb, ikb), idsig_b) then', '  ')],
    mustFlip: ['async.secrecy.initiator', 'async.hndl.initiator'],
  },
  {
    name: 'async.kem-ciphertext-not-in-transcript',
    model: 'async.pv',
    what: 'the transcript leaves out the KEM ciphertext',
    patches: [declare('noct', 'bitstring'), { find: 'spk, opt, pq, ek, ct) in', replace: 'spk, opt, pq, ek, noct) in', count: 2 }],
    mustFlip: ['async.auth.responder', 'async.downgrade'],
  },
  {
    name: 'async.kem-prekey-not-in-transcript',
    model: 'async.pv',
    what: 'the transcript leaves out the KEM prekey',
    patches: [declare('nopq', 'kempk'), { find: 'spk, opt, pq, ek, ct) in', replace: 'spk, opt, nopq, ek, ct) in', count: 2 }],
    mustFlip: ['async.auth.responder', 'async.downgrade'],
  },
  {
    name: 'async.responder-skips-identity-signature',
    model: 'async.pv',
    what: "the responder uses the initiator's identity agreement key without verifying its identity signature",
    patches: [dropLine('if verify(sa, IdentityKeysContent(ja, da, sa, ika), idsig_a) then', '   ')],
    mustFlip: ['async.secrecy.responder', 'async.auth.responder'],
  },
  {
    name: 'async.responder-skips-confirmation',
    model: 'async.pv',
    what: 'the responder does not check the confirmation value',
    patches: [dropLine('if conf = kdf_async_confirmation(hs, sha256(tr)) then', '   ')],
    mustFlip: ['async.auth.responder'],
  },
  {
    name: 'async.dh1-without-signed-prekey',
    model: 'async.pv',
    what: "DH1 is computed between the two identity keys instead of the initiator's identity key and the signed prekey",
    patches: [
      { find: 'let dh1 = dh(ika_s, spk) in', replace: 'let dh1 = dh(ika_s, ikb) in' },
      { find: 'let dh1 = dh(spk_s, ika) in', replace: 'let dh1 = dh(ikb_s, ika) in' },
    ],
    mustFlip: ['async.secrecy.responder', 'async.auth.responder'],
  },
  {
    name: 'async.kem-secret-not-in-kdf',
    model: 'async.pv',
    what: 'the KEM shared secret is left out of the handshake secret (so the responder does not decapsulate)',
    // The responder's decapsulation goes too: its result would be unused, and with it kept
    // ProVerif 2.05 did not finish the authentication queries (over 220 000 clauses after 79 min).
    patches: [
      declare('nokem', 'bitstring'),
      { find: 'IKM3(dh1, dh2, dh3, ss)', replace: 'IKM3(dh1, dh2, dh3, nokem)', count: 2 },
      { find: 'dh(ek_s, opk_of(opt)), ss))', replace: 'dh(ek_s, opk_of(opt)), nokem))' },
      { find: 'dh(opk_s, ek), ss))', replace: 'dh(opk_s, ek), nokem))' },
      dropLine('let ss = kemdec(pq_s, ct) in', '   '),
    ],
    mustFlip: ['async.hndl.initiator', 'async.hndl'],
  },
  {
    name: 'interactive.prologue-without-identities',
    model: 'interactive.pv',
    what: 'the prologue leaves out both JIDs and device ids',
    patches: [declare('noj', 'jid'), declare('nod', 'devid'), { find: 'Prologue(suite, ja, da, jb, db)', replace: 'Prologue(suite, noj, nod, noj, nod)', count: 2 }],
    mustFlip: ['interactive.auth.initiator'],
  },
  {
    name: 'interactive.initiator-skips-identity-signature',
    model: 'interactive.pv',
    what: "the initiator accepts the responder's static key without verifying its identity signature",
    patches: [dropLine('if verify(sb, IdentityKeysContent(jb, db, sb, rsb), idsig_b) then', '  ')],
    mustFlip: ['interactive.secrecy.initiator', 'interactive.auth.initiator'],
  },
  {
    name: 'interactive.responder-skips-identity-signature',
    model: 'interactive.pv',
    what: "the responder accepts the initiator's static key without verifying its identity signature",
    patches: [dropLine('if verify(sa, IdentityKeysContent(ja, da, sa, rsa), idsig_a) then', '  ')],
    mustFlip: ['interactive.secrecy.responder', 'interactive.auth.responder'],
  },
  {
    name: 'interactive.kem-key-not-hashed',
    model: 'interactive.pv',
    what: "message 1's ML-KEM key is not mixed into the handshake hash",
    patches: [{ find: 'let h1 = mix_hash(mix_hash(h0, pt(ea)), kpk(pkk)) in', replace: 'let h1 = mix_hash(h0, pt(ea)) in', count: 2 }],
    mustFlip: ['interactive.auth.responder', 'interactive.downgrade'],
  },
  {
    name: 'interactive.kem-secret-not-mixed',
    model: 'interactive.pv',
    what: 'the KEM shared secret is not mixed into the chaining key after message 2',
    patches: [
      declare('nokem', 'bitstring'),
      { find: 'mix_ck(ck2, ss)', replace: 'mix_ck(ck2, nokem)', count: 2 },
      { find: 'mix_k(ck2, ss)', replace: 'mix_k(ck2, nokem)', count: 2 },
    ],
    mustFlip: ['interactive.hndl'],
  },
];

/** Applies a mutant's patches to its model's text; throws when a patch does not match as stated. */
export function applyMutant(text: string, mutant: Mutant): string {
  let out = text;
  for (const patch of mutant.patches) {
    const found = out.split(patch.find).length - 1;
    const count = patch.count ?? 1;
    if (found !== count) throw new Error(`${mutant.name}: ${JSON.stringify(patch.find)} occurs ${found} times, expected ${count}`);
    out = out.split(patch.find).join(patch.replace);
  }
  return out;
}

/** The folder of the models. */
export const MODEL_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Writes every mutant as `<dir>/<name>.pv`; returns the files written. */
export function writeMutants(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return MUTANTS.map((m) => {
    const file = path.join(dir, `${m.name}.pv`);
    writeFileSync(file, applyMutant(readFileSync(path.join(MODEL_DIR, m.model), 'utf8'), m));
    return file;
  });
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (dir === undefined) {
    console.error('usage: npx tsx model/proverif/mutants.ts <dir>');
    process.exit(2);
  }
  for (const file of writeMutants(dir)) console.log(file);
}
