/**
 * L1 symbolic model, the explorer: breadth-first search over action sequences up to a depth,
 * with states deduplicated by their key. Every reachable state is checked against the
 * properties; sanity witnesses are looked for in every state; the first violation of each
 * property is kept with its trace (the shortest, since the search is breadth-first).
 *
 * @see spec §impl.models
 * @module
 */
import { type Scenario, replayPrefix, successors } from './actions.js';
import type { ProtocolOptions } from './options.js';
import type { Property } from './properties.js';
import { termCount } from './terms.js';
import { type World, initialWorld, stateKey } from './world.js';

/** A counterexample or a witness: the actions from the initial state. */
export interface Trace {
  readonly actions: readonly string[];
  readonly message: string;
}

/** What one exploration found. */
export interface Exploration {
  readonly scenario: string;
  readonly depth: number;
  /** Distinct states reached (including the prefix's end state). */
  readonly states: number;
  /** Whether the search stopped early (a violation when asked to stop, or the state limit). */
  readonly truncated: boolean;
  readonly violations: Readonly<Record<string, Trace>>;
  readonly witnesses: Readonly<Record<string, Trace>>;
  readonly terms: number;
}

/** Search options. */
export interface SearchOptions {
  readonly depth: number;
  /** Stop at the first violation of any property (for mutants). */
  readonly stopAtViolation?: boolean;
  /** Give up after this many states (a safety net; the defaults never reach it). */
  readonly maxStates?: number;
}

/**
 * Explores `scenario` under `options` and checks `properties` in every state.
 *
 * @example explore(SCENARIOS.core, SPEC, [secrecy], { depth: 6 })
 */
export function explore(scenario: Scenario, options: ProtocolOptions, properties: readonly Property[], search: SearchOptions): Exploration {
  const start = replayPrefix(initialWorld(scenario.setup, options, scenario.budget), scenario);
  const labels: string[] = [''];
  const parents: number[] = [-1];
  const seen = new Set<string>([stateKey(start.world)]);
  const violations: Record<string, Trace> = {};
  const witnesses: Record<string, Trace> = {};
  const maxStates = search.maxStates ?? 2_000_000;
  const traceOf = (index: number): string[] => {
    const out: string[] = [];
    for (let i = index; i > 0; i = parents[i]!) out.push(labels[i]!);
    return [...start.trace.map((l) => `(setup) ${l}`), ...out.reverse()];
  };
  let truncated = false;
  const visit = (w: World, index: number): boolean => {
    for (const p of properties) {
      if (!(p.name in violations)) {
        const message = p.check(w);
        if (message !== undefined) {
          violations[p.name] = { actions: traceOf(index), message };
          if (search.stopAtViolation) return true;
        }
      }
      for (const s of p.sanity) {
        const key = `${p.name}: ${s.name}`;
        if (!(key in witnesses) && s.reached(w)) witnesses[key] = { actions: traceOf(index), message: s.name };
      }
    }
    return false;
  };
  let frontier: { w: World; index: number }[] = [{ w: start.world, index: 0 }];
  if (visit(start.world, 0)) truncated = true;
  for (let depth = 0; depth < search.depth && frontier.length > 0 && !truncated; depth++) {
    const next: { w: World; index: number }[] = [];
    for (const { w, index } of frontier) {
      for (const s of successors(w, scenario)) {
        const key = stateKey(s.world);
        if (seen.has(key)) continue;
        seen.add(key);
        labels.push(s.label);
        parents.push(index);
        const at = labels.length - 1;
        next.push({ w: s.world, index: at });
        if (visit(s.world, at) || seen.size >= maxStates) {
          truncated = true;
          break;
        }
      }
      if (truncated) break;
    }
    frontier = next;
  }
  return { scenario: scenario.name, depth: search.depth, states: seen.size, truncated, violations, witnesses, terms: termCount() };
}

/** A trace as printable text. */
export function formatTrace(title: string, trace: Trace): string {
  return [`${title}: ${trace.message}`, ...trace.actions.map((a, i) => `  ${String(i + 1).padStart(2)}. ${a}`)].join('\n');
}
