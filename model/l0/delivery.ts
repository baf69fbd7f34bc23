/**
 * L0 model (DESIGN.md §7): the observable behaviour of two Seal devices exchanging messages over a
 * network that reorders, duplicates and drops, as an abstract `step(state, action)` machine.
 * Model-based tests drive this model and the real implementation with the same actions and
 * compare every observable result.
 *
 * The model's promise (spec §envelope.ratchet, §offline): the first delivery of a message opens
 * it; every later delivery of the same stanza is a duplicate; a dropped stanza is never opened;
 * nothing else happens (within the bounds, which these schedules respect).
 *
 * @see spec §offline
 * @module
 */

/** A device of the model. */
export type Party = 'A' | 'B';

/** One stanza in flight. */
export interface InFlight {
  readonly id: number;
  readonly from: Party;
}

/** The abstract state: stanzas sent, which were opened, what is in flight. */
export interface ModelState {
  readonly nextId: number;
  readonly inFlight: readonly InFlight[];
  readonly opened: ReadonlySet<number>;
}

/** What the network or a device does. */
export type Action =
  | { readonly kind: 'send'; readonly from: Party }
  | { readonly kind: 'deliver'; readonly index: number }
  | { readonly kind: 'redeliver'; readonly index: number }
  | { readonly kind: 'drop'; readonly index: number };

/** What can be observed of one step. */
export type Observation = { readonly kind: 'sent'; readonly id: number } | { readonly kind: 'opened'; readonly id: number } | { readonly kind: 'duplicate' } | { readonly kind: 'none' };

/** The initial state. */
export const INITIAL: ModelState = { nextId: 0, inFlight: [], opened: new Set() };

/**
 * One step of the model. `deliver` and `drop` take the stanza at `index` (modulo the number in
 * flight) off the network; `redeliver` delivers a copy and leaves it in flight.
 */
export function step(state: ModelState, action: Action): { state: ModelState; observation: Observation } {
  if (action.kind === 'send') {
    const id = state.nextId;
    return { state: { ...state, nextId: id + 1, inFlight: [...state.inFlight, { id, from: action.from }] }, observation: { kind: 'sent', id } };
  }
  if (state.inFlight.length === 0) return { state, observation: { kind: 'none' } };
  const at = action.index % state.inFlight.length;
  const stanza = state.inFlight[at]!;
  const rest = action.kind === 'redeliver' ? state.inFlight : state.inFlight.filter((_, i) => i !== at);
  if (action.kind === 'drop') return { state: { ...state, inFlight: rest }, observation: { kind: 'none' } };
  if (state.opened.has(stanza.id)) return { state: { ...state, inFlight: rest }, observation: { kind: 'duplicate' } };
  return { state: { ...state, inFlight: rest, opened: new Set([...state.opened, stanza.id]) }, observation: { kind: 'opened', id: stanza.id } };
}
