/**
 * Branded byte types for key roles, and the secret-holding wrapper that never prints its bytes.
 *
 * A branded type is a `Uint8Array` that has passed the length check of its role, so an
 * X25519 public key cannot be passed where an Ed25519 public key is expected.
 *
 * @see spec §suite
 * @module
 */
import { SealError } from '../errors.js';

declare const brand: unique symbol;
/** `T` marked with the role `B`; created only by the checked constructors of this module. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Ed25519 public key, 32 bytes (RFC 8032 §5.1.5). */
export type Ed25519PublicKey = Brand<Uint8Array, 'Ed25519PublicKey'>;
/** Ed25519 signature, 64 bytes (RFC 8032 §5.1.6). */
export type Ed25519Signature = Brand<Uint8Array, 'Ed25519Signature'>;
/** X25519 public key (u-coordinate), 32 bytes (RFC 7748 §5). */
export type X25519PublicKey = Brand<Uint8Array, 'X25519PublicKey'>;
/** ML-KEM-768 encapsulation key, 1184 bytes (FIPS 203 §8). */
export type MlKemPublicKey = Brand<Uint8Array, 'MlKemPublicKey'>;
/** ML-KEM-768 ciphertext, 1088 bytes (FIPS 203 §8). */
export type MlKemCiphertext = Brand<Uint8Array, 'MlKemCiphertext'>;

/** Byte lengths of the suite's values. @see spec §suite */
export const LENGTHS = {
  ed25519PublicKey: 32,
  ed25519SecretKey: 32,
  ed25519Signature: 64,
  x25519PublicKey: 32,
  x25519SecretKey: 32,
  x25519SharedSecret: 32,
  mlKemPublicKey: 1184,
  mlKemSecretKey: 2400,
  mlKemSeed: 64,
  mlKemCiphertext: 1088,
  mlKemSharedSecret: 32,
  aeadKey: 32,
  aeadNonce: 12,
  aeadTag: 16,
  hash: 32,
} as const;

/** Checks a byte length once, at a public entry point. @throws SealError `invalid-length`. */
export function checkLength(value: Uint8Array, length: number, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new SealError('invalid-length', `${field}: expected a Uint8Array`);
  if (value.length !== length) throw new SealError('invalid-length', `${field}: expected ${length} bytes, got ${value.length}`);
  return value;
}

/** Checks and brands an Ed25519 public key. @throws SealError `invalid-length`. */
export function ed25519PublicKey(bytes: Uint8Array): Ed25519PublicKey {
  return checkLength(bytes, LENGTHS.ed25519PublicKey, 'Ed25519 public key') as Ed25519PublicKey;
}
/** Checks and brands an Ed25519 signature. @throws SealError `invalid-length`. */
export function ed25519Signature(bytes: Uint8Array): Ed25519Signature {
  return checkLength(bytes, LENGTHS.ed25519Signature, 'Ed25519 signature') as Ed25519Signature;
}
/** Checks and brands an X25519 public key. @throws SealError `invalid-length`. */
export function x25519PublicKey(bytes: Uint8Array): X25519PublicKey {
  return checkLength(bytes, LENGTHS.x25519PublicKey, 'X25519 public key') as X25519PublicKey;
}
/** Checks and brands an ML-KEM-768 ciphertext. @throws SealError `invalid-length`. */
export function mlKemCiphertext(bytes: Uint8Array): MlKemCiphertext {
  return checkLength(bytes, LENGTHS.mlKemCiphertext, 'ML-KEM-768 ciphertext') as MlKemCiphertext;
}

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * Holds secret bytes. `toString`, `toJSON` and Node's `util.inspect` show only the kind, so a
 * secret never reaches a log by accident; the bytes are reachable only through the explicitly
 * named {@link SecretBytes.dangerouslyExposeBytes}.
 */
export class SecretBytes<K extends string = string> {
  readonly kind: K;
  readonly #bytes: Uint8Array;

  constructor(kind: K, bytes: Uint8Array, length: number) {
    this.kind = kind;
    this.#bytes = checkLength(bytes, length, kind).slice();
  }

  /**
   * The raw secret, for persistence and for the suite's own primitives. Never log it.
   * Returns a copy so the caller cannot mutate the held key.
   */
  dangerouslyExposeBytes(): Uint8Array {
    return this.#bytes.slice();
  }

  /** Overwrites the held bytes with zeros (best effort; JavaScript gives no guarantee). */
  wipe(): void {
    this.#bytes.fill(0);
  }

  /** The kind only, e.g. `X25519SecretKey(<secret>)`; never the bytes. */
  toString(): string {
    return `${this.kind}(<secret>)`;
  }

  /** JSON form: the same redacted text as {@link SecretBytes.toString}. */
  toJSON(): string {
    return this.toString();
  }

  /** Node's `util.inspect` form: the same redacted text. */
  [inspectSymbol](): string {
    return this.toString();
  }
}

/** Ed25519 secret key (the 32-byte seed of RFC 8032 §5.1.5). */
export class Ed25519SecretKey extends SecretBytes<'Ed25519SecretKey'> {
  constructor(bytes: Uint8Array) {
    super('Ed25519SecretKey', bytes, LENGTHS.ed25519SecretKey);
  }
}
/** X25519 secret key (32 bytes, clamped when used, RFC 7748 §5). */
export class X25519SecretKey extends SecretBytes<'X25519SecretKey'> {
  constructor(bytes: Uint8Array) {
    super('X25519SecretKey', bytes, LENGTHS.x25519SecretKey);
  }
}
/** ML-KEM-768 decapsulation key (2400 bytes, FIPS 203 §7.1). */
export class MlKemSecretKey extends SecretBytes<'MlKemSecretKey'> {
  constructor(bytes: Uint8Array) {
    super('MlKemSecretKey', bytes, LENGTHS.mlKemSecretKey);
  }
}
/** A 32-byte symmetric secret: an AEAD key, a shared secret or a derived key. */
export class SymmetricKey extends SecretBytes<'SymmetricKey'> {
  constructor(bytes: Uint8Array) {
    super('SymmetricKey', bytes, 32);
  }
}
