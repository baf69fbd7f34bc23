/**
 * Noise handshake patterns as data (Noise rev. 34 §7.4, §7.5), the `psk` pattern modifiers
 * (§9.4), and the parsing of protocol names (§8) for the one set of crypto functions Seal
 * implements, `25519_ChaChaPoly_SHA256`. Part of Seal's interactive handshake.
 *
 * @see spec §handshake.interactive
 * @see https://noiseprotocol.org/noise.html (revision 34)
 * @module
 */
import { utf8Encode } from '../codec/bytes.js';
import { SealError } from '../errors.js';

/** A token of a message pattern (Noise §7.1, `psk` from §9.2). */
export type NoiseToken = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk';

/** A token of a pre-message pattern (Noise §7.1): `e`, `s`, `e, s` or empty. */
export type NoisePreMessageToken = 'e' | 's';

/** The base patterns implemented here: the ones Seal uses or that the published vectors cover. */
export type NoiseBasePatternName = 'NN' | 'N' | 'KK' | 'XK' | 'IK' | 'XX';

/**
 * A handshake pattern (Noise §7.1): the two pre-message patterns and the message patterns.
 * Messages alternate, starting with the initiator (message 0 is initiator → responder).
 *
 * @see spec §handshake.interactive
 */
export interface HandshakePattern {
  /** The pattern name section (§8.1), e.g. `XX` or `XXpsk3`. */
  readonly name: string;
  /** Public keys of the initiator known to the responder beforehand; hashed first (§7.1). */
  readonly initiatorPreMessage: readonly NoisePreMessageToken[];
  /** Public keys of the responder known to the initiator beforehand. */
  readonly responderPreMessage: readonly NoisePreMessageToken[];
  /** The message patterns, in order. */
  readonly messages: readonly (readonly NoiseToken[])[];
  /** A one-way pattern (§7.4): after it only the initiator sends. */
  readonly oneWay: boolean;
  /** PSK mode (§9.2): at least one `psk` token, so every `"e"` is followed by `MixKey(e.public_key)`. */
  readonly pskMode: boolean;
}

function pattern(
  name: string,
  initiatorPreMessage: readonly NoisePreMessageToken[],
  responderPreMessage: readonly NoisePreMessageToken[],
  messages: readonly (readonly NoiseToken[])[],
): HandshakePattern {
  return { name, initiatorPreMessage, responderPreMessage, messages, oneWay: messages.length === 1, pskMode: false };
}

/**
 * The base handshake patterns, transcribed from Noise rev. 34: `N` from §7.4 (one-way), the
 * others from §7.5 (fundamental interactive patterns). All satisfy the validity rules of §7.3.
 *
 * @see spec §handshake.interactive
 */
export const NOISE_BASE_PATTERNS: { readonly [P in NoiseBasePatternName]: HandshakePattern } = {
  // N:  <- s  ...  -> e, es
  N: pattern('N', [], ['s'], [['e', 'es']]),
  // NN: -> e  <- e, ee
  NN: pattern('NN', [], [], [['e'], ['e', 'ee']]),
  // KK: -> s  <- s  ...  -> e, es, ss  <- e, ee, se
  KK: pattern('KK', ['s'], ['s'], [['e', 'es', 'ss'], ['e', 'ee', 'se']]),
  // XK: <- s  ...  -> e, es  <- e, ee  -> s, se
  XK: pattern('XK', [], ['s'], [['e', 'es'], ['e', 'ee'], ['s', 'se']]),
  // IK: <- s  ...  -> e, es, s, ss  <- e, ee, se
  IK: pattern('IK', [], ['s'], [['e', 'es', 's', 'ss'], ['e', 'ee', 'se']]),
  // XX: -> e  <- e, ee, s, es  -> s, se
  XX: pattern('XX', [], [], [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']]),
};

/** The crypto-function name sections this implementation accepts (Noise §8.2, §12). */
const DH = '25519';
const CIPHER = 'ChaChaPoly';
const HASH = 'SHA256';

/**
 * A parsed protocol name (Noise §8): the pattern with its modifiers applied, and the crypto
 * functions, which are always `25519`, `ChaChaPoly` and `SHA256` here.
 *
 * @see spec §handshake.interactive
 */
export interface NoiseProtocol {
  /** The full protocol name, hashed into `h` by `InitializeSymmetric()` (§5.2). */
  readonly name: string;
  /** The handshake pattern with modifiers applied. */
  readonly pattern: HandshakePattern;
  /** DH functions (§12.1). */
  readonly dh: typeof DH;
  /** Cipher functions (§12.3). */
  readonly cipher: typeof CIPHER;
  /** Hash functions (§12.5). */
  readonly hash: typeof HASH;
}

function isBasePattern(name: string): name is NoiseBasePatternName {
  return Object.hasOwn(NOISE_BASE_PATTERNS, name);
}

/**
 * The handshake pattern for a pattern name section (Noise §8.1): a base pattern followed by zero
 * or more `psk` modifiers joined with `+` (e.g. `XXpsk3`, `NNpsk0+psk2`). `psk0` puts a `psk`
 * token at the start of the first message, `pskN` at the end of message N (§9.4). Modifiers must
 * be distinct and in ascending order (§8.1 asks for alphabetical order where order does not
 * matter). Every base pattern here has each party send `"e"` in its first message, so every
 * placement satisfies the PSK validity rule (§9.3).
 *
 * @throws SealError `invalid-value` for an unknown base pattern, an unknown modifier (such as
 *   `fallback`, §10.2), a `pskN` beyond the last message, or modifiers out of order.
 * @see spec §handshake.interactive
 * @example
 * ```ts
 * noisePattern('XXpsk3').messages[2] // ['s', 'se', 'psk']
 * ```
 */
export function noisePattern(nameSection: string): HandshakePattern {
  const match = /^([A-Z][A-Z0-9]*)([a-z][a-z0-9]*(?:\+[a-z][a-z0-9]*)*)?$/.exec(nameSection);
  const baseName = match?.[1];
  if (match === null || baseName === undefined || !isBasePattern(baseName)) {
    throw new SealError('invalid-value', `Noise pattern: expected one of ${Object.keys(NOISE_BASE_PATTERNS).join(', ')} with optional psk modifiers, got ${JSON.stringify(nameSection)}`);
  }
  const base = NOISE_BASE_PATTERNS[baseName];
  if (match[2] === undefined) return base;
  const messages = base.messages.map((tokens) => [...tokens]);
  let previous = -1;
  for (const modifier of match[2].split('+')) {
    const psk = /^psk(0|[1-9][0-9]*)$/.exec(modifier);
    if (psk === null) throw new SealError('invalid-value', `Noise pattern modifier: expected pskN, got ${JSON.stringify(modifier)}`);
    const position = Number(psk[1]);
    if (position > messages.length) {
      throw new SealError('invalid-value', `Noise pattern modifier: ${modifier} expects at least ${position} messages, ${baseName} has ${messages.length}`);
    }
    if (position <= previous) throw new SealError('invalid-value', `Noise pattern modifiers: expected distinct psk modifiers in ascending order, got ${nameSection}`);
    previous = position;
    // §9.4: psk0 at the beginning of the first message; pskN at the end of the Nth message.
    if (position === 0) messages[0]!.unshift('psk');
    else messages[position - 1]!.push('psk');
  }
  return { ...base, name: nameSection, messages, pskMode: true };
}

/**
 * Parses `Noise_<PATTERN>_25519_ChaChaPoly_SHA256` (Noise §8). The name is at most 255 bytes and
 * its sections are alphanumeric with `+` and `/` (§8); other DH, cipher or hash functions are
 * not implemented and rejected.
 *
 * @throws SealError `invalid-value` for a malformed name, DH functions other than `25519`, a
 *   cipher other than `ChaChaPoly`, a hash other than `SHA256`, or a pattern that
 *   {@link noisePattern} rejects.
 * @see spec §handshake.interactive
 * @example
 * ```ts
 * parseNoiseProtocolName('Noise_XX_25519_ChaChaPoly_SHA256').pattern.messages.length // 3
 * ```
 */
export function parseNoiseProtocolName(name: string): NoiseProtocol {
  const match = typeof name === 'string' ? /^Noise_([A-Za-z0-9+/]+)_([A-Za-z0-9+/]+)_([A-Za-z0-9+/]+)_([A-Za-z0-9+/]+)$/.exec(name) : null;
  if (match === null || utf8Encode(name).length > 255) {
    throw new SealError('invalid-value', `Noise protocol name: expected Noise_<pattern>_<dh>_<cipher>_<hash> of at most 255 bytes, got ${JSON.stringify(name)}`);
  }
  const [, patternName, dh, cipher, hash] = match;
  if (dh !== DH) throw new SealError('invalid-value', `Noise DH functions: expected ${DH}, got ${dh}`);
  if (cipher !== CIPHER) throw new SealError('invalid-value', `Noise cipher functions: expected ${CIPHER}, got ${cipher}`);
  if (hash !== HASH) throw new SealError('invalid-value', `Noise hash functions: expected ${HASH}, got ${hash}`);
  return { name, pattern: noisePattern(patternName!), dh: DH, cipher: CIPHER, hash: HASH };
}
