/**
 * L1 symbolic model (DESIGN.md §7): a bounded Dolev-Yao explorer over Seal's abstract flows
 * (model/l1/). For every property of the spec's Security Considerations: the protocol as
 * specified passes at the default bound, every sanity query is reached (so the property is not
 * satisfied vacuously, and the attacker demonstrably does what the exceptions allow), and every
 * mutant assigned to it is caught with a printed counterexample. Mutants that each remove one of
 * two redundant defences must not be caught. Three fixed findings are regressions: the spec's
 * rule as it was fails its property, the spec now passes and still delivers. The limits the
 * late-message property states are each reached.
 *
 * `SEAL_L1_DEPTH=k npx vitest run test/model.symbolic.test.ts` explores k actions deeper.
 *
 * Requirements the properties relate to (the catalogue in model/l1/scenarios.ts lists them per property):
 *   secrecy: @req envelope.content-once, @req envelope.fan-out, @req handshake.async-kdf
 *   forward secrecy: @req handshake.one-time-prekey-once, @req offline.rotate
 *   post-compromise security: @req envelope.ratchet-kdf
 *   key-compromise impersonation: @req handshake.async-kdf, @req handshake.interactive-identity
 *   authentication and injective agreement: @req handshake.async-responder, @req handshake.duplicate, @req envelope.commitment
 *   no unknown key-share: @req identity.identity-signature, @req handshake.interactive-noise
 *   session independence: @req handshake.session
 *   downgrade detection: @req identity.prekey-signatures
 *   delivery: @req envelope.skip-bounds
 *   fan-out to trusted devices: @req identity.device-list-rollback
 *   no forwarded injection (carbons and archive results, honest server and malicious server):
 *     @req offline.forwarded-carbons, @req offline.forwarded-archive
 *   key pinning (handshakes and repairs under another identity key): @req device.pinning, @req identity.key-change
 *   repairs are bounded (one per peer device per REPAIR_INTERVAL, none for archive results): @req offline.repair-reset
 *   late messages open on the previous session: @req offline.previous-session, @req offline.repair-reset
 *   a device removed from the room reads nothing sent after the sender processed the removal:
 *     @req groups.membership, @req groups.recipients
 *   fixed findings: @req identity.device-list-keys, @req identity.trust-listed-key,
 *     @req handshake.replay-without-one-time-prekey, @req envelope.ratchet-init
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Exploration, explore, formatTrace } from '../model/l1/explorer.js';
import { SPEC, mutated } from '../model/l1/options.js';
import { type Property, type Witness, progress, secrecy } from '../model/l1/properties.js';
import { CATALOGUE, FIXED, GRACE, LIMITS, OPEN, REDUNDANT, SCENARIOS, type ScenarioName, asItWas, asSpecified, deeper, extraDepth } from '../model/l1/scenarios.js';
import { ROOT } from './support/environment.js';

const EXTRA = extraDepth();
/** Generous per-test limits: the defaults take seconds; deeper runs take what they take. */
const TIMEOUT = EXTRA === 0 ? 180_000 : 24 * 3_600_000;

const explored = new Map<ScenarioName, Exploration>();

/**
 * Requirement ids that issue 13 adds to the spec (the device engine's rules) and that the model
 * already cites; they may be missing from spec/seal.xml until that text lands. Empty this list
 * once it has.
 */
const PENDING_SPEC_IDS: ReadonlySet<string> = new Set(['offline.forwarded-carbons', 'offline.forwarded-archive', 'device.pinning', 'offline.previous-session']);

/** The protocol as specified, in scenario `name`, with every property that scenario checks (explored once). */
function spec(name: ScenarioName): Exploration {
  const cached = explored.get(name);
  if (cached !== undefined) return cached;
  const sc = deeper(SCENARIOS[name], EXTRA);
  const properties = CATALOGUE.filter((e) => e.scenarios.includes(name)).map((e) => e.property);
  const result = explore(sc, SPEC, [...properties, progress], { depth: sc.depth });
  console.log(`L1 scenario ${name}: ${result.states} states explored at depth ${result.depth} (${properties.map((p) => p.name).join(', ')})`);
  explored.set(name, result);
  return result;
}

describe('L1: bounded symbolic (Dolev-Yao) model', () => {
  it('cites only requirement ids that the spec defines', () => {
    const xml = readFileSync(path.join(ROOT, 'spec/seal.xml'), 'utf8');
    const ids = new Set([...xml.matchAll(/class='req'>\[([^\]]+)\]/g)].map((m) => m[1]));
    const cited = [...CATALOGUE.flatMap((e) => e.reqs), ...FIXED.flatMap((f) => f.reqs), ...GRACE.reqs, ...LIMITS.flatMap((l) => l.reqs), ...OPEN.flatMap((o) => o.reqs)];
    expect(cited.length).toBeGreaterThan(0);
    const missing = [...new Set(cited.filter((id) => !ids.has(id)))];
    if (missing.length > 0) console.log(`L1 cites requirement ids the spec does not define yet (pending, issue 13): ${missing.join(', ')}`);
    expect(missing.filter((id) => !PENDING_SPEC_IDS.has(id))).toEqual([]);
  });

  it(
    'every scenario reaches an accepted message (no scenario is vacuous on its own)',
    () => {
      for (const name of new Set(CATALOGUE.flatMap((e) => e.scenarios))) {
        expect(spec(name).witnesses[`${progress.name}: ${progress.sanity[0]!.name}`], name).toBeDefined();
      }
    },
    TIMEOUT,
  );

  for (const entry of CATALOGUE) {
    const property = entry.property;
    describe(property.name, () => {
      it(
        'holds for the protocol as specified',
        () => {
          for (const name of entry.scenarios) {
            const r = spec(name);
            console.log(`${property.name} [${name}]: ${r.states} states, depth ${r.depth}`);
            const violation = r.violations[property.name];
            if (violation !== undefined) console.log(formatTrace(`VIOLATION of ${property.name}`, violation));
            expect(violation).toBeUndefined();
            expect(r.truncated).toBe(false);
          }
        },
        TIMEOUT,
      );

      it(
        'sanity: every witness is reached',
        () => {
          const lines: string[] = [];
          for (const s of property.sanity) {
            const key = `${property.name}: ${s.name}`;
            const found = entry.scenarios.map((n) => spec(n).witnesses[key]).find((t) => t !== undefined);
            lines.push(found === undefined ? `  MISSING ${s.name}` : `  reached ${s.name}\n      ${found.actions.join(' → ')}`);
            expect(found, `sanity query not reached: ${key}`).toBeDefined();
          }
          console.log(`${property.name}, sanity:\n${lines.join('\n')}`);
        },
        TIMEOUT,
      );

      for (const m of entry.mutants) {
        it(
          `catches mutant ${m.mutant}`,
          () => {
            const sc = deeper(SCENARIOS[m.scenario], EXTRA);
            const r = explore(sc, mutated(m.mutant), [property], { depth: sc.depth, stopAtViolation: true });
            const violation = r.violations[property.name];
            expect(violation, `mutant ${m.mutant} not caught by ${property.name} in ${r.states} states`).toBeDefined();
            console.log(formatTrace(`mutant ${m.mutant} caught by ${property.name} (${r.states} states)`, violation!));
          },
          TIMEOUT,
        );
      }
    });
  }

  describe('redundant defences: removing one of two is not caught', () => {
    for (const m of REDUNDANT) {
      it(
        `${m.mutant} leaves ${m.property.name} intact${m.scenario === 'uks' ? '' : ` (scenario ${m.scenario})`}`,
        () => {
          // @req identity.identity-signature
          // @req offline.forwarded-carbons: with an honest server, the wrapper check alone keeps
          // another account's handshake under a fresh key away from a client without pinning,
          // @req device.pinning: and pinning alone keeps it from being accepted without the check.
          const sc = deeper(SCENARIOS[m.scenario], EXTRA);
          const r = explore(sc, mutated(m.mutant), [m.property], { depth: (m.depth ?? SCENARIOS[m.scenario].depth) + (sc.depth - SCENARIOS[m.scenario].depth) });
          console.log(`${m.mutant}: ${r.states} states at depth ${r.depth}, ${m.property.name} holds`);
          expect(r.violations[m.property.name]).toBeUndefined();
        },
        TIMEOUT,
      );
    }
  });

  describe('the handshake log with the current and a replaced signed prekey held (grace period)', () => {
    const sc = () => deeper(SCENARIOS[GRACE.scenario], EXTRA);
    const witnesses = (list: readonly Witness[]): Property => ({ name: 'grace', anchor: 'handshake.async', check: () => undefined, sanity: list });
    const report = (r: Exploration, list: readonly Witness[]) => {
      for (const p of GRACE.properties) {
        const v = r.violations[p.name];
        if (v !== undefined) console.log(formatTrace(`VIOLATION of ${p.name}`, v));
        expect(v).toBeUndefined();
      }
      for (const w of list) {
        const t = r.witnesses[`grace: ${w.name}`];
        expect(t, `not reached: ${w.name}`).toBeDefined();
        console.log(formatTrace(`grace witness: ${w.name}`, t!));
      }
    };

    it(
      'authentication and delivery hold; a first message to the replaced prekey opens in its grace period, its replay is a duplicate, and after the grace period it is rejected',
      () => {
        // @req handshake.prekey-grace
        // @req handshake.replay-without-one-time-prekey: the entry stays while the replaced signed prekey is held.
        const r = explore(sc(), SPEC, [...GRACE.properties, witnesses(GRACE.witnesses)], { depth: sc().depth });
        console.log(`L1 scenario grace: ${r.states} states explored at depth ${r.depth}`);
        expect(r.truncated).toBe(false);
        report(r, GRACE.witnesses);
      },
      TIMEOUT,
    );

    it(
      'with a log of capacity 1, a handshake without one-time prekey to the replaced prekey is rejected once its log is full, without a rotation',
      () => {
        // @req handshake.replay-without-one-time-prekey
        const r = explore(sc(), { ...SPEC, ...GRACE.bounds }, [...GRACE.properties, witnesses(GRACE.fullLogWitnesses)], { depth: sc().depth });
        console.log(`L1 scenario grace, log capacity 1: ${r.states} states explored at depth ${r.depth}`);
        report(r, GRACE.fullLogWitnesses);
      },
      TIMEOUT,
    );

    it(
      `catches mutant ${GRACE.mutant.mutant} (rotation drops the replaced signed prekey's log entries while it is held)`,
      () => {
        const r = explore(sc(), mutated(GRACE.mutant.mutant), [GRACE.mutant.property], { depth: sc().depth, stopAtViolation: true });
        const v = r.violations[GRACE.mutant.property.name];
        expect(v, `mutant ${GRACE.mutant.mutant} not caught in ${r.states} states`).toBeDefined();
        console.log(formatTrace(`mutant ${GRACE.mutant.mutant} caught by ${GRACE.mutant.property.name} (${r.states} states)`, v!));
      },
      TIMEOUT,
    );
  });

  describe('limits of the late-message property: reached, and stated by the property', () => {
    for (const l of LIMITS) {
      it(
        l.name,
        () => {
          // @req offline.previous-session: at most one previous session, dropped once the new one carried messages both ways.
          // @req offline.repair-reset
          const sc = deeper(SCENARIOS[l.scenario], EXTRA);
          const witnesses: Property = { name: 'limit', anchor: 'offline.repair', check: () => undefined, sanity: [l.witness] };
          const r = explore(sc, SPEC, [l.property, witnesses], { depth: sc.depth });
          const v = r.violations[l.property.name];
          if (v !== undefined) console.log(formatTrace(`VIOLATION of ${l.property.name}`, v));
          expect(v).toBeUndefined();
          const t = r.witnesses[`${witnesses.name}: ${l.witness.name}`];
          expect(t, `limit not reached: ${l.witness.name}`).toBeDefined();
          console.log(formatTrace(`limit of ${l.property.name} (${r.states} states)`, t!));
        },
        TIMEOUT,
      );
    }
  });

  describe('open findings: the spec as written still shows them (move to FIXED once fixed)', () => {
    for (const o of OPEN) {
      it(
        o.name,
        () => {
          // @req offline.simultaneous
          // @req offline.repair-reset
          const sc = deeper(SCENARIOS[o.scenario], EXTRA);
          const witnesses: Property = { name: 'open finding', anchor: 'offline.repair', check: () => undefined, sanity: [o.witness] };
          const r = explore(sc, SPEC, [witnesses], { depth: sc.depth });
          const t = r.witnesses[`${witnesses.name}: ${o.witness.name}`];
          expect(t, `no longer reached (fixed? then move it to FIXED): ${o.witness.name}`).toBeDefined();
          console.log(formatTrace(`open finding (${r.states} states)`, t!));
        },
        TIMEOUT,
      );
    }
  });

  describe('fixed findings: the spec as it was fails, the spec now passes', () => {
    it('each differs from the protocol as specified only in the rule it fixed and in scaled bounds', () => {
      for (const f of FIXED) {
        const changed = (o: object) => Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== (SPEC as unknown as Record<string, unknown>)[k]);
        expect(changed(asItWas(f)).sort(), f.name).toEqual([...Object.keys(f.asItWas), ...Object.keys(f.bounds)].sort());
        expect(changed(asSpecified(f)), f.name).toEqual(Object.keys(f.bounds));
      }
    });

    it(
      'with the handshake log scaled to capacity 1, the delivery and forward-secrecy scenarios still hold and deliver',
      () => {
        // @req handshake.replay-without-one-time-prekey: rejection and rotation under honest traffic.
        for (const name of ['delivery', 'fs'] as const) {
          const sc = deeper(SCENARIOS[name], EXTRA);
          const properties = CATALOGUE.filter((e) => e.scenarios.includes(name)).map((e) => e.property);
          const r = explore(sc, { ...SPEC, handshakeLogCapacity: 1 }, [...properties, progress], { depth: sc.depth });
          console.log(`${name} with a handshake log of capacity 1: ${r.states} states`);
          for (const p of properties) {
            const v = r.violations[p.name];
            if (v !== undefined) console.log(formatTrace(`VIOLATION of ${p.name}`, v));
            expect(v, p.name).toBeUndefined();
          }
          expect(r.truncated).toBe(false);
          expect(r.witnesses[`${progress.name}: ${progress.sanity[0]!.name}`], name).toBeDefined();
        }
      },
      TIMEOUT,
    );

    for (const f of FIXED) {
      it(
        f.name,
        () => {
          const sc = deeper(SCENARIOS[f.scenario], EXTRA);
          const old = explore(sc, asItWas(f), [f.property], { depth: sc.depth, stopAtViolation: true });
          const violation = old.violations[f.property.name];
          expect(violation, 'the spec as it was no longer fails: the regression test lost its teeth').toBeDefined();
          console.log(formatTrace(`fixed finding (${f.commit}): the spec as it was violates ${f.property.name} (${old.states} states)`, violation!));
          const witnesses: Property = { name: 'fixed-finding witnesses', anchor: 'impl.models', check: () => undefined, sanity: f.witnesses };
          const now = explore(sc, asSpecified(f), [f.property, secrecy, witnesses], { depth: sc.depth });
          console.log(`  the spec now: ${now.states} states, ${f.property.name} holds`);
          const v = now.violations[f.property.name];
          if (v !== undefined) console.log(formatTrace(`VIOLATION of ${f.property.name}`, v));
          expect(v).toBeUndefined();
          expect(now.truncated).toBe(false);
          // The fix keeps the protocol working: a message is still accepted.
          expect(now.witnesses[`${secrecy.name}: ${secrecy.sanity[0]!.name}`]).toBeDefined();
          // And the new rule is exercised.
          for (const s of f.witnesses) {
            const t = now.witnesses[`${witnesses.name}: ${s.name}`];
            expect(t, `not reached: ${s.name}`).toBeDefined();
            console.log(`  reached ${s.name}\n      ${t!.actions.join(' → ')}`);
          }
        },
        TIMEOUT,
      );
    }
  });
});
