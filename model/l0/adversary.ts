/**
 * L0, the device engine against the spec's adversary: what the spec says a device does when the
 * server or another account forges stanzas, stated as a small `step(state, action)` machine of
 * observations (what opens, what is held for a decision, what is rejected as a forged wrapper,
 * what is a duplicate). `test/model.engine.test.ts` drives the real engine (SealClient on the
 * embedded server) with the same actions and compares every observation; shells that drop key
 * pinning or the forwarded-wrapper check (the client mistakes of issue 13) must be caught.
 *
 * The model holds the spec's rules, not the engine's code: a handshake under a fresh identity key
 * for a known device id is held and never opens (device.pinning); a carbon or archive result from
 * another account is `forged-forward` and changes nothing (offline.forwarded-carbons,
 * offline.forwarded-archive); a re-delivered message is a duplicate; a restart from the store is
 * the same device (device.store); genuine messages open exactly once, on every path.
 *
 * @see spec §device
 * @module
 */

/** What the adversary and the honest parties can do. */
export type AdversaryAction =
  | { readonly kind: 'bob-send' }
  | { readonly kind: 'alice-send' }
  | { readonly kind: 'impostor-handshake' }
  | { readonly kind: 'forged-carbon'; readonly of: 'genuine' | 'impostor' }
  | { readonly kind: 'forged-archive' }
  | { readonly kind: 'replay' }
  | { readonly kind: 'bounce' }
  | { readonly kind: 'forged-list' }
  | { readonly kind: 'restart'; readonly who: 'alice' | 'bob' };

/** What one action shows: bodies opened (by Alice, by Bob), and Alice's verdict on a forged or replayed stanza. */
export interface AdversaryObservation {
  readonly aliceOpened: readonly string[];
  readonly bobOpened: readonly string[];
  readonly verdict: 'none' | 'held' | 'forged-forward' | 'duplicate' | 'bounced';
  /** For Alice's sends: the devices her message was encrypted for, besides her own (always Bob's one real device). */
  readonly aliceRecipients?: number;
}

/** The model's state: labels sent so far by each party (a label is the message body). */
export interface AdversaryState {
  readonly next: number;
  readonly bobSent: readonly string[];
}

export const ADVERSARY_INITIAL: AdversaryState = { next: 0, bobSent: [] };

/**
 * The spec's answer to `action`. `label` is the body the action's message carries (when it
 * sends one).
 */
export function adversaryStep(state: AdversaryState, action: AdversaryAction): { state: AdversaryState; label: string; expect: AdversaryObservation } {
  const label = `${action.kind}-${state.next}`;
  const next = { ...state, next: state.next + 1 };
  const none: AdversaryObservation = { aliceOpened: [], bobOpened: [], verdict: 'none' };
  switch (action.kind) {
    case 'bob-send':
      // Genuine messages open exactly once at their recipient.
      return { state: { ...next, bobSent: [...state.bobSent, label] }, label, expect: { ...none, aliceOpened: [label] } };
    case 'alice-send':
      // identity.device-list-keys, device.pinning: only the devices Alice has accepted get a key,
      // whatever list the server served since (a device it added on its own never does).
      return { state: next, label, expect: { ...none, bobOpened: [label], aliceRecipients: 1 } };
    case 'bounce':
      // device.no-repair-for-bounces: an error bounce is reported, and nothing else happens.
      return { state: next, label, expect: { ...none, verdict: 'bounced' } };
    case 'forged-list':
      // The server serves Bob's list with a device of its own, unsigned or signed by another key:
      // nothing opens, nothing is sent (the next send shows who gets keys).
      return { state: next, label, expect: none };
    case 'impostor-handshake':
      // device.pinning: a fresh key for a known device id is held for the user, never opened.
      return { state: next, label, expect: { ...none, verdict: 'held' } };
    case 'forged-carbon':
    case 'forged-archive':
      // offline.forwarded-carbons / offline.forwarded-archive: another account's wrapper is forged.
      return { state: next, label, expect: { ...none, verdict: 'forged-forward' } };
    case 'replay':
      // A re-delivered genuine message is a duplicate (there is one only once Bob has sent).
      return { state: next, label, expect: { ...none, verdict: state.bobSent.length === 0 ? 'none' : 'duplicate' } };
    case 'restart':
      // device.store: the same device, nothing opened again.
      return { state: next, label, expect: none };
  }
}
