/**
 * The curve provider: the raw X25519 (RFC 7748) and Ed25519 (RFC 8032) operations behind one
 * small synchronous interface, so that a platform's native implementation can stand in for
 * noble's. Only the raw operations move; every check Seal makes (lengths, the zero shared
 * secret, canonical encodings, small-order keys, S < L, the cofactored equation) stays in the
 * suite's wrappers and applies whatever the provider.
 *
 * @see spec §suite.agreement
 * @see spec §suite.signature
 * @see spec §impl
 * @module
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { SealError } from '../errors.js';

/**
 * The raw curve operations the suite delegates. Every method is synchronous, because Seal's API
 * is: sealing and opening a stanza are plain function calls, so a provider backed by an
 * asynchronous API (the browser's `crypto.subtle`) cannot implement it. All values are raw
 * 32-byte keys (the RFC 7748 scalar and u-coordinate, the RFC 8032 seed and point encoding) and
 * 64-byte signatures; a provider never sees Seal's key objects.
 *
 * A provider is trusted to compute these functions correctly (the tests run every Wycheproof and
 * Seal vector through each provider); it is not trusted to check anything: the suite's wrappers
 * validate inputs before and outputs after each call.
 *
 * @see spec §impl
 */
export interface CurveProvider {
  /** A short name for reports and errors, e.g. `"noble"`. */
  readonly name: string;
  /**
   * Which Ed25519 verification equation {@link CurveProvider.ed25519Verify} checks: the
   * cofactored `[8][S]B = [8]R + [8][k]A` that Seal requires, or the cofactorless
   * `[S]B = R + [k]A` (OpenSSL, and so Node). The two differ only when R or A has a small-order
   * component; a cofactorless `true` implies a cofactored `true`, so Seal accepts it, and a
   * cofactorless `false` is confirmed with noble's cofactored equation before Seal rejects.
   */
  readonly ed25519Equation: 'cofactored' | 'cofactorless';
  /**
   * X25519(k, u) of RFC 7748 §5: the scalar clamped, the most significant bit of u ignored,
   * non-canonical u and points on the twist accepted. Returns the 32-byte result; for a
   * low-order u it may return all zeros or throw (Seal rejects both alike).
   */
  x25519(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** X25519(k, 9), the public key of a secret key (RFC 7748 §6.1). */
  x25519PublicKey(secretKey: Uint8Array): Uint8Array;
  /** The public key A of an Ed25519 seed (RFC 8032 §5.1.5). */
  ed25519PublicKey(secretKey: Uint8Array): Uint8Array;
  /** The deterministic Ed25519 signature of `message` under the seed (RFC 8032 §5.1.6). */
  ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
  /**
   * The verification equation of RFC 8032 §5.1.7 (as stated by `ed25519Equation`). Seal calls it
   * only for inputs that have passed its own checks (lengths, canonical R and A, S < L, A not of
   * small order). Returns `false`, or throws, for a signature that does not verify.
   */
  ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

/**
 * The default provider: @noble/curves in pure JavaScript (audited, constant-time where it
 * matters, runs everywhere). Its Ed25519 verification is RFC 8032 strict with the cofactored
 * equation (`zip215: false`), which is Seal's definition of a valid signature.
 *
 * @see spec §impl
 * @example
 * ```ts
 * nobleCurveProvider.x25519PublicKey(new Uint8Array(32)).length // 32
 * ```
 */
export const nobleCurveProvider: CurveProvider = Object.freeze({
  name: 'noble',
  ed25519Equation: 'cofactored',
  x25519: (secretKey: Uint8Array, publicKey: Uint8Array) => x25519.getSharedSecret(secretKey, publicKey),
  x25519PublicKey: (secretKey: Uint8Array) => x25519.getPublicKey(secretKey),
  ed25519PublicKey: (secretKey: Uint8Array) => ed25519.getPublicKey(secretKey),
  ed25519Sign: (secretKey: Uint8Array, message: Uint8Array) => ed25519.sign(message, secretKey),
  ed25519Verify: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => ed25519.verify(signature, message, publicKey, { zip215: false }),
} as const);

let current: CurveProvider = nobleCurveProvider;

/**
 * The provider the suite's X25519 and Ed25519 wrappers use now.
 *
 * @see spec §impl
 */
export function curveProvider(): CurveProvider {
  return current;
}

/**
 * Installs `provider` for every later X25519 and Ed25519 operation of the suite and returns the
 * one it replaces, so a caller can restore it.
 *
 * The choice is process-global (one module-level variable), not a parameter, because Seal's API
 * is synchronous and its functions take no context object: threading a provider through every
 * call of every layer would change every signature for an optimisation. Install a provider once
 * at start-up, before the first key is used; results do not depend on the provider (the same
 * keys, shared secrets and signatures, and the same verdict on every signature), only speed does.
 *
 * @param provider - an object with every method of {@link CurveProvider}.
 * @returns the provider that was installed before.
 * @throws TypeError when `provider` lacks a method or names an unknown equation.
 * @see spec §impl
 * @example
 * ```ts
 * const previous = useCurveProvider(nobleCurveProvider);
 * useCurveProvider(previous);
 * ```
 */
export function useCurveProvider(provider: CurveProvider): CurveProvider {
  const methods = ['x25519', 'x25519PublicKey', 'ed25519PublicKey', 'ed25519Sign', 'ed25519Verify'] as const;
  for (const method of methods) {
    if (typeof (provider as unknown as Record<string, unknown>)?.[method] !== 'function') throw new TypeError(`curve provider: expected a function ${method}`);
  }
  if (provider.ed25519Equation !== 'cofactored' && provider.ed25519Equation !== 'cofactorless') {
    throw new TypeError(`curve provider: expected ed25519Equation 'cofactored' or 'cofactorless', got ${String(provider.ed25519Equation)}`);
  }
  const previous = current;
  current = provider;
  return previous;
}

/**
 * A provider's output as a plain `Uint8Array` of the expected length (a Node `Buffer` is copied,
 * since its `slice` shares memory). Internal.
 *
 * @throws SealError `invalid-length` when the provider returned something else.
 * @internal
 */
export function providerOutput(value: Uint8Array, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw new SealError('invalid-length', `${what} from curve provider ${curveProvider().name}: expected ${length} bytes`);
  }
  return value.constructor === Uint8Array ? value : new Uint8Array(value);
}
