/**
 * The bench's record of primitive calls: while `capture` runs an operation, every call Seal makes
 * into @noble/* (through the shims of ./shims, swapped in by the bench's esbuild plugin) and into
 * the curve provider is appended with the sizes it was made at, so that ./replay.ts can make the
 * same calls again at the same sizes. Outside `capture` the shims only pass calls through.
 *
 * @see spec §envelope.overhead
 * @module
 */

/** One primitive call, with the sizes that decide its cost. */
export type PrimitiveCall =
  | { readonly kind: 'x25519' | 'x25519-public' | 'ed25519-public' | 'ed25519-decode' | 'mlkem-keygen' | 'mlkem-encapsulate' | 'mlkem-decapsulate'; readonly provider: string }
  | { readonly kind: 'ed25519-sign' | 'ed25519-verify'; readonly provider: string; readonly message: number; readonly valid?: boolean }
  | { readonly kind: 'sha256'; readonly message: number }
  | { readonly kind: 'hmac'; readonly key: number; readonly message: number }
  | { readonly kind: 'hmac-key'; readonly key: number }
  | { readonly kind: 'hmac-keyed'; readonly message: number }
  | { readonly kind: 'hkdf'; readonly ikm: number; readonly salt: number; readonly info: number; readonly length: number }
  | { readonly kind: 'hkdf-expand'; readonly info: number; readonly length: number }
  | { readonly kind: 'aead-seal'; readonly plaintext: number; readonly associatedData: number }
  | { readonly kind: 'aead-open'; readonly ciphertext: number; readonly associatedData: number; readonly valid: boolean }
  | { readonly kind: 'random'; readonly bytes: number };

let calls: PrimitiveCall[] | undefined;

/** Appends a call when an operation is being captured. */
export function note(call: PrimitiveCall | (() => PrimitiveCall)): void {
  if (calls !== undefined) calls.push(typeof call === 'function' ? call() : call);
}

/** Whether an operation is being captured (shims skip their bookkeeping otherwise). */
export function capturing(): boolean {
  return calls !== undefined;
}

/** Runs `operation` once and returns the primitive calls it made, in order. */
export async function capture(operation: () => unknown): Promise<PrimitiveCall[]> {
  calls = [];
  try {
    await operation();
    return calls;
  } finally {
    calls = undefined;
  }
}

/** A call's name with its sizes, for the results table (`aead-seal 300+52`). */
export function describeCall(c: PrimitiveCall): string {
  switch (c.kind) {
    case 'sha256': return `SHA-256 ${c.message} B`;
    case 'hmac': return `HMAC ${c.message} B`;
    case 'hmac-key': return 'HMAC key setup';
    case 'hmac-keyed': return `HMAC (keyed) ${c.message} B`;
    case 'hkdf': return `HKDF ${c.ikm}+${c.info} B → ${c.length}`;
    case 'hkdf-expand': return `HKDF-Expand ${c.info} B → ${c.length}`;
    case 'aead-seal': return `AEAD seal ${c.plaintext} B + ${c.associatedData} B AD`;
    case 'aead-open': return `AEAD open ${c.ciphertext} B + ${c.associatedData} B AD${c.valid ? '' : ' (rejected)'}`;
    case 'random': return `random ${c.bytes} B`;
    case 'ed25519-sign': return `Ed25519 sign ${c.message} B (${c.provider})`;
    case 'ed25519-verify': return `Ed25519 verify ${c.message} B (${c.provider})${c.valid === false ? ' (rejected)' : ''}`;
    default: return `${c.kind} (${c.provider})`;
  }
}

/** Counts calls by kind (sizes summed into the description of the most frequent size). */
export function summarize(list: readonly PrimitiveCall[]): string {
  const counts = new Map<string, number>();
  for (const c of list) {
    const key = c.kind === 'sha256' || c.kind === 'hmac' || c.kind === 'hmac-keyed' || c.kind === 'aead-seal' || c.kind === 'aead-open' || c.kind === 'hkdf' || c.kind === 'hkdf-expand' || c.kind === 'random' || c.kind === 'hmac-key' ? c.kind : `${c.kind} (${'provider' in c ? c.provider : ''})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}
