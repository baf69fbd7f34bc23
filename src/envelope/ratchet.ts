/**
 * The Double Ratchet (Signal, "The Double Ratchet Algorithm", revision 4, 2016) per device pair,
 * started from a handshake's session secret: X25519 DH ratchet, root and chain KDFs through the
 * labelled KDF and MAC, skipped message keys with the bounds of §envelope.constants.
 *
 * The state is plain data; every function returns a new state and leaves its input untouched,
 * so a failed decryption changes nothing.
 *
 * @see spec §envelope.ratchet
 * @module
 */
import { decode, encode, fixed, struct, u32 } from '../codec/binary.js';
import { concatBytes, toHex } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import { type X25519KeyPair, generateX25519KeyPair, x25519 } from '../suite/agreement.js';
import { aeadOpen, aeadSeal } from '../suite/aead.js';
import { deriveKey, macsWithLabels, sha256 } from '../suite/kdf.js';
import type { Rng } from '../suite/rng.js';
import { type SecretBytes, SymmetricKey, type X25519PublicKey, x25519PublicKey } from '../suite/types.js';
import type { SessionSecret } from '../handshake/session.js';
import { ENVELOPE_CONSTANTS, ENVELOPE_LABELS } from './constants.js';

/** A stored skipped message key. */
export interface SkippedKey {
  /** Hex of the ratchet public key of the chain. */
  readonly ratchetKey: string;
  readonly counter: number;
  readonly messageKey: SymmetricKey;
  /** When it was stored (seconds), for expiry. */
  readonly stored: number;
}

/**
 * The ratchet state of one session (one device pair).
 *
 * @see spec §envelope.ratchet
 */
export interface RatchetState {
  readonly sessionId: Uint8Array;
  readonly associatedData: Uint8Array;
  readonly rootKey: SymmetricKey;
  /**
   * DHs. `undefined` after a DH ratchet step on receipt until the next send draws a new pair: the
   * previous private key is deleted at the step (for a responder that is the signed prekey's).
   */
  readonly sendingRatchet: X25519KeyPair | undefined;
  /** DHr */
  readonly remoteRatchetKey: X25519PublicKey | undefined;
  /** CKs */
  readonly sendingChain: SymmetricKey | undefined;
  /** CKr */
  readonly receivingChain: SymmetricKey | undefined;
  /** Ns */
  readonly sendCount: number;
  /** Nr */
  readonly receiveCount: number;
  /** PN */
  readonly previousCount: number;
  readonly skipped: readonly SkippedKey[];
  /** Hex SHA-256 of recently opened ratchet messages, to recognise re-deliveries. */
  readonly recentlyOpened: readonly string[];
}

/** `struct { opaque ratchet_key[32]; uint32 previous_count; uint32 counter; } RatchetHeader` (40 bytes). */
export interface RatchetHeader {
  readonly ratchetKey: X25519PublicKey;
  readonly previousCount: number;
  readonly counter: number;
}

/** The binary form of a ratchet header. @see spec §envelope.ratchet */
export const RatchetHeaderCodec = struct('RatchetHeader', { ratchetKey: fixed(32, 'ratchet_key'), previousCount: u32, counter: u32 });

/**
 * `KDF_RK(rk, dh_out)`: `DeriveKey("ratchet root", ikm = dh_out, salt = rk, 64)` split into the
 * next root key and a chain key.
 *
 * Implements requirement `envelope.ratchet-kdf`.
 *
 * @see spec §envelope.ratchet
 */
export function rootStep(rootKey: SymmetricKey, dhOutput: SymmetricKey): { rootKey: SymmetricKey; chainKey: SymmetricKey } {
  // @req envelope.ratchet-kdf
  const out = deriveKey({ label: ENVELOPE_LABELS.rootStep, ikm: dhOutput.dangerouslyExposeBytes(), salt: rootKey.dangerouslyExposeBytes(), length: 64 });
  const next = { rootKey: new SymmetricKey(out.subarray(0, 32)), chainKey: new SymmetricKey(out.subarray(32)) };
  // @req envelope.wipe: the raw output was copied into the two keys.
  out.fill(0);
  return next;
}

/** `KDF_RK(rk, DH(own, remote))`, the DH output wiped once used. */
function rootStepWith(rootKey: SymmetricKey, own: X25519KeyPair, remote: X25519PublicKey): { rootKey: SymmetricKey; chainKey: SymmetricKey } {
  const dh = x25519(own.secretKey, remote);
  try {
    return rootStep(rootKey, dh);
  } finally {
    dh.wipe();
  }
}

/**
 * Every secret a ratchet state holds: the root key, the private ratchet key, both chain keys and
 * the skipped message keys. The device engine wipes those a new state no longer holds once the
 * new state is stored (spec envelope.wipe).
 *
 * @see spec §envelope.deletion
 */
export function ratchetSecrets(state: RatchetState, withSkipped = true): SecretBytes[] {
  const out: SecretBytes[] = [state.rootKey];
  if (state.sendingRatchet !== undefined) out.push(state.sendingRatchet.secretKey);
  if (state.sendingChain !== undefined) out.push(state.sendingChain);
  if (state.receivingChain !== undefined) out.push(state.receivingChain);
  if (withSkipped) for (const k of state.skipped) out.push(k.messageKey);
  return out;
}

/**
 * The work one received stanza may cost a receiver: at most `remaining` more message keys
 * skipped (derived and stored) over every session it is tried on. `ratchetDecrypt` lowers it by
 * the keys it derives, and refuses (`skip-limit`) a message whose keys would exceed it.
 *
 * @see spec §envelope.limits
 */
export interface SkipBudget {
  remaining: number;
}

/**
 * `KDF_CK(ck)`: `mk = MacWithLabel(ck, "ratchet message key", "")`,
 * `ck' = MacWithLabel(ck, "ratchet chain key", "")`.
 *
 * @see spec §envelope.ratchet
 */
export function chainStep(chainKey: SymmetricKey): { chainKey: SymmetricKey; messageKey: SymmetricKey } {
  const [messageKey, nextChainKey] = macsWithLabels(chainKey, [ENVELOPE_LABELS.messageKey, ENVELOPE_LABELS.chainKey], new Uint8Array(0));
  const next = { messageKey: new SymmetricKey(messageKey!), chainKey: new SymmetricKey(nextChainKey!) };
  messageKey!.fill(0);
  nextChainKey!.fill(0);
  return next;
}

/**
 * The AEAD key and nonce of a message key for one wrap: `DeriveKey("ratchet message", mk,
 * salt = "", context, 44)` split into a 32-byte key and a 12-byte nonce, where `context` is the
 * wrap's context (the commitment and payload hash of the message, or the key-only context). A
 * device restored from a backup that uses a message key again for another message therefore
 * never uses a key and nonce pair again (envelope.wrap-keys).
 *
 * Implements requirement `envelope.wrap-keys`.
 *
 * @see spec §envelope.ratchet
 */
export function messageKeys(messageKey: SymmetricKey, context: Uint8Array): { key: SymmetricKey; nonce: Uint8Array } {
  // @req envelope.wrap-keys: the wrap's key and nonce depend on the message they wrap for.
  const out = deriveKey({ label: ENVELOPE_LABELS.messageExpand, ikm: messageKey.dangerouslyExposeBytes(), context, length: 44 });
  const keys = { key: new SymmetricKey(out.subarray(0, 32)), nonce: out.slice(32) };
  out.fill(0);
  return keys;
}

/**
 * The ratchet state at the start of a session. The initiator draws its first ratchet key pair
 * (32 bytes of `rng`) and performs the first DH ratchet step against the responder's ratchet key;
 * the responder starts with the key pair the handshake gave it (and needs no randomness).
 *
 * Implements requirement `envelope.ratchet-init`.
 *
 * @see spec §envelope.ratchet
 */
export function startRatchet(session: SessionSecret, rng?: Rng): RatchetState {
  const common = { sessionId: session.sessionId, associatedData: session.associatedData, sendCount: 0, receiveCount: 0, previousCount: 0, skipped: [], recentlyOpened: [] };
  // @req envelope.ratchet-init
  if (session.role === 'initiator') {
    if (rng === undefined) throw new SealError('invalid-value', 'ratchet: the initiator needs randomness for its first ratchet key');
    const sendingRatchet = generateX25519KeyPair(rng);
    const step = rootStepWith(session.rootKey, sendingRatchet, session.peerRatchetKey);
    return { ...common, rootKey: step.rootKey, sendingRatchet, remoteRatchetKey: session.peerRatchetKey, sendingChain: step.chainKey, receivingChain: undefined };
  }
  return { ...common, rootKey: session.rootKey, sendingRatchet: session.ratchetKeyPair, remoteRatchetKey: undefined, sendingChain: undefined, receivingChain: undefined };
}

/** The associated data of one ratchet message: the session's binding, the header, and the caller's context. */
function associatedData(state: RatchetState, header: Uint8Array, context: Uint8Array): Uint8Array {
  return concatBytes(state.associatedData, header, context);
}

/**
 * Encrypts `plaintext` as the next message of the session. `context` is bound as further
 * associated data (the envelope binds the key commitment this way).
 *
 * After a DH ratchet step on receipt, the first send draws a new ratchet key pair (32 bytes of
 * `rng`) and completes the step, as in Signal's DHRatchet.
 *
 * @returns the 40-byte header, the ciphertext (plaintext + 16), and the new state.
 * @throws SealError `invalid-value` for a responder that has not yet received a message.
 * @see spec §envelope.ratchet
 */
export function ratchetEncrypt(state: RatchetState, plaintext: Uint8Array, context: Uint8Array, rng: Rng): { header: Uint8Array; ciphertext: Uint8Array; state: RatchetState } {
  if (state.sendingChain === undefined) {
    if (state.remoteRatchetKey === undefined) throw new SealError('invalid-value', 'ratchet: no sending chain yet (the responder sends after its first received message)');
    // The sending half of a DH ratchet step: a new ratchet key pair, then KDF_RK.
    const sendingRatchet = generateX25519KeyPair(rng);
    const step = rootStepWith(state.rootKey, sendingRatchet, state.remoteRatchetKey);
    state = { ...state, sendingRatchet, rootKey: step.rootKey, sendingChain: step.chainKey };
  }
  const step = chainStep(state.sendingChain!);
  const header = encode(RatchetHeaderCodec, { ratchetKey: state.sendingRatchet!.publicKey, previousCount: state.previousCount, counter: state.sendCount });
  const { key, nonce } = messageKeys(step.messageKey, context);
  const ciphertext = aeadSeal(key, nonce, plaintext, associatedData(state, header, context));
  // @req envelope.wipe: the message key is used once, here, and belongs to no state.
  step.messageKey.wipe();
  key.wipe();
  return { header, ciphertext, state: { ...state, sendingChain: step.chainKey, sendCount: state.sendCount + 1 } };
}

/** Throws `skip-limit` when reaching message `until` from `next` would skip more than MAX_SKIP keys. */
function assertSkipWithinBound(next: number, until: number): void {
  // @req envelope.skip-bounds
  if (until - next > ENVELOPE_CONSTANTS.MAX_SKIP) {
    throw new SealError('skip-limit', `ratchet: message ${until} would skip ${until - next} keys (at most ${ENVELOPE_CONSTANTS.MAX_SKIP})`);
  }
}

/** Stores the keys from `state.receiveCount` up to `until` of the current receiving chain. */
function skipKeys(state: RatchetState, until: number, now: number, budget?: SkipBudget): RatchetState {
  if (state.receivingChain === undefined) return state;
  assertSkipWithinBound(state.receiveCount, until);
  if (budget !== undefined && until > state.receiveCount) {
    // @req envelope.forgery-cost: the keys one stanza makes a device derive are bounded over every session tried.
    if (until - state.receiveCount > budget.remaining) {
      throw new SealError('skip-limit', `ratchet: message ${until} would skip ${until - state.receiveCount} keys; this stanza may cost ${budget.remaining} more`);
    }
    budget.remaining -= until - state.receiveCount;
  }
  let chainKey = state.receivingChain;
  const added: SkippedKey[] = [];
  const ratchetKey = toHex(state.remoteRatchetKey!);
  for (let counter = state.receiveCount; counter < until; counter++) {
    const step = chainStep(chainKey);
    added.push({ ratchetKey, counter, messageKey: step.messageKey, stored: now });
    // @req envelope.wipe: a chain key derived here and replaced at once belongs to no state.
    if (chainKey !== state.receivingChain) chainKey.wipe();
    chainKey = step.chainKey;
  }
  const all = [...state.skipped, ...added];
  const skipped = all.slice(-ENVELOPE_CONSTANTS.MAX_SKIPPED_KEYS);
  // Keys derived here and evicted at once belong to no state either.
  for (const evicted of all.slice(0, all.length - skipped.length)) if (!state.skipped.includes(evicted)) evicted.messageKey.wipe();
  return { ...state, receivingChain: chainKey, receiveCount: until, skipped };
}

/** Drops skipped keys older than SKIPPED_KEY_MAX_AGE. */
function expireSkipped(state: RatchetState, now: number): RatchetState {
  const skipped = state.skipped.filter((k) => now - k.stored < ENVELOPE_CONSTANTS.SKIPPED_KEY_MAX_AGE);
  return skipped.length === state.skipped.length ? state : { ...state, skipped };
}

/** The outcome of {@link ratchetDecrypt}. */
export type RatchetResult = { readonly kind: 'ok'; readonly plaintext: Uint8Array; readonly state: RatchetState } | { readonly kind: 'duplicate' };

/**
 * Decrypts a ratchet message (Signal's RatchetDecrypt with the bounds of §envelope.constants).
 * A message already opened is reported as a duplicate; on any failure the input state is the
 * state to keep (nothing changed).
 *
 * Implements requirements `envelope.skip-bounds`, `envelope.ratchet-transactional`,
 * `envelope.forgery-cost` (with `budget`: the keys this call may still skip for the stanza; it is
 * lowered by the keys derived) and `envelope.wipe` (keys derived for this message only, and
 * those of a failed attempt, are zeroed; the caller's state is never touched).
 *
 * @throws SealError `truncated`/`trailing-bytes` for a bad header; `skip-limit`;
 *   `message-key-unavailable` for a message whose key was used or deleted;
 *   `authentication-failed` when the ciphertext does not authenticate.
 * @see spec §envelope.ratchet
 */
export function ratchetDecrypt(state: RatchetState, headerBytes: Uint8Array, ciphertext: Uint8Array, context: Uint8Array, now: number, budget?: SkipBudget): RatchetResult {
  // The whole message, including what the caller binds, so a tampered re-delivery is no duplicate.
  const fingerprint = toHex(sha256(concatBytes(headerBytes, ciphertext, context)));
  if (openedIndex(state.recentlyOpened).has(fingerprint)) return { kind: 'duplicate' };
  const header = decodeHeader(headerBytes);
  // The newest working state, so that a failure can wipe the keys it derived (envelope.wipe).
  let working = state;
  try {
    return decryptWorking();
  } catch (e) {
    wipeNewSecrets(working, state);
    throw e;
  }

  function decryptWorking(): RatchetResult {
    const open = (next: RatchetState, messageKey: SymmetricKey, fresh: boolean): RatchetResult => {
      const { key, nonce } = messageKeys(messageKey, context);
      try {
        const plaintext = aeadOpen(key, nonce, ciphertext, associatedData(state, headerBytes, context));
        const recentlyOpened = withOpened(next.recentlyOpened, fingerprint);
        return { kind: 'ok', plaintext, state: { ...next, recentlyOpened } };
      } finally {
        // @req envelope.wipe: a message key derived for this message belongs to no state; a stored
        // skipped key still belongs to the caller's state and is wiped when that state is replaced.
        key.wipe();
        if (fresh) messageKey.wipe();
      }
    };
    // @req envelope.ratchet-transactional: every step below works on a new state object; the
    // caller's `state` is returned unchanged unless the message authenticates.
    working = expireSkipped(state, now);
    const ratchetHex = toHex(header.ratchetKey);
    const stored = working.skipped.find((k) => k.ratchetKey === ratchetHex && k.counter === header.counter);
    if (stored !== undefined) {
      return open({ ...working, skipped: working.skipped.filter((k) => k !== stored) }, stored.messageKey, false);
    }
    const sameChain = working.remoteRatchetKey !== undefined && toHex(working.remoteRatchetKey) === ratchetHex;
    if (sameChain && header.counter < working.receiveCount) {
      throw new SealError('message-key-unavailable', `ratchet: the key of message ${header.counter} is no longer held`);
    }
    if (sameChain && working.receivingChain === undefined) {
      // The initiator's first remote ratchet key is the responder's published one, on which the
      // responder never sends: no chain exists, so no honest message names it.
      throw new SealError('authentication-failed', 'ratchet: a message on the peer\'s initial ratchet key, which has no receiving chain');
    }
    if (!sameChain) {
      // @req envelope.skip-bounds: a chain the session still stores skipped keys of is no new
      // chain; a counter of it that is not stored was used, evicted or expired.
      if (working.skipped.some((k) => k.ratchetKey === ratchetHex)) {
        throw new SealError('message-key-unavailable', `ratchet: the key of message ${header.counter} of an earlier chain is no longer held`);
      }
      if (working.sendingRatchet === undefined) {
        // A second new remote ratchet key before this device sent: an honest peer only changes its
        // key after receiving this device's new one, so the message cannot authenticate. Refused
        // before any key is derived (envelope.forgery-cost), with the checks the keys would get.
        if (working.receivingChain !== undefined) assertSkipWithinBound(working.receiveCount, header.previousCount);
        assertSkipWithinBound(0, header.counter); // the check a new chain gets first
        throw new SealError('authentication-failed', 'ratchet: a new ratchet key from the peer before this device answered the previous one');
      }
      working = skipKeys(working, header.previousCount, now, budget);
      const received = rootStepWith(working.rootKey, working.sendingRatchet!, header.ratchetKey);
      // The previous receiving chain ends here; a chain key derived by this call belongs to no state.
      if (working.receivingChain !== undefined && working.receivingChain !== state.receivingChain) working.receivingChain.wipe();
      // @req envelope.ratchet-init: the private ratchet key is deleted with the step; the sending
      // half of the step (a new DHs) happens at the next send.
      working = { ...working, sendingRatchet: undefined, remoteRatchetKey: header.ratchetKey, rootKey: received.rootKey, receivingChain: received.chainKey, receiveCount: 0, previousCount: working.sendCount, sendCount: 0, sendingChain: undefined };
    }
    working = skipKeys(working, header.counter, now, budget);
    const step = chainStep(working.receivingChain!);
    if (working.receivingChain !== state.receivingChain) working.receivingChain!.wipe();
    working = { ...working, receivingChain: step.chainKey, receiveCount: header.counter + 1 };
    return open(working, step.messageKey, true);
  }
}

/** Wipes the secrets of `derived` that `original` does not hold (what a failed attempt derived). */
function wipeNewSecrets(derived: RatchetState, original: RatchetState): void {
  if (derived === original) return;
  const kept = new Set<SecretBytes>(ratchetSecrets(original));
  for (const secret of ratchetSecrets(derived)) if (!kept.has(secret)) secret.wipe();
}

/**
 * Indexes of `recentlyOpened` lists (fingerprint -> occurrences), so the duplicate check of every
 * received message is a lookup rather than a scan of up to MAX_RECENTLY_OPENED strings. An index
 * belongs to one list object and always counts exactly its elements: the next state's list takes
 * over its predecessor's index (one fingerprint added, at most one evicted), and a list without
 * one (a state loaded from storage, or an earlier state used again) gets a new one on first use.
 * The lists stay plain arrays, so the state remains plain data.
 */
const openedIndexes = new WeakMap<readonly string[], Map<string, number>>();

function openedIndex(list: readonly string[]): Map<string, number> {
  let index = openedIndexes.get(list);
  if (index === undefined) {
    index = new Map();
    for (const fingerprint of list) index.set(fingerprint, (index.get(fingerprint) ?? 0) + 1);
    openedIndexes.set(list, index);
  }
  return index;
}

/** `[...list, fingerprint].slice(-MAX_RECENTLY_OPENED)`, handing the list's index on to the result. */
function withOpened(list: readonly string[], fingerprint: string): readonly string[] {
  const evicted = Math.max(0, list.length + 1 - ENVELOPE_CONSTANTS.MAX_RECENTLY_OPENED);
  const next = list.slice(evicted);
  next.push(fingerprint);
  const index = openedIndexes.get(list);
  if (index !== undefined) {
    openedIndexes.delete(list);
    for (let i = 0; i < evicted; i++) {
      const left = index.get(list[i]!)! - 1;
      if (left === 0) index.delete(list[i]!);
      else index.set(list[i]!, left);
    }
    index.set(fingerprint, (index.get(fingerprint) ?? 0) + 1);
    openedIndexes.set(next, index);
  }
  return next;
}

function decodeHeader(bytes: Uint8Array): RatchetHeader {
  const value = decode(RatchetHeaderCodec, bytes);
  return { ratchetKey: x25519PublicKey(value.ratchetKey), previousCount: value.previousCount, counter: value.counter };
}
