/**
 * §handshake.interactive: the Noise Protocol Framework (revision 34) for 25519 / ChaChaPoly /
 * SHA256, checked against every published vector of the cacophony set for NN, N, KK, XK, IK, XX
 * and XXpsk3 (read from SEAL_SHARED_DATA, default ../shared/data, never copied into the
 * repository), then against misuse: tampered and truncated messages, out-of-turn calls, used-up
 * states, size limits, the reserved nonce, and Seal's mixKey hook.
 */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8Encode } from '../src/codec/bytes.js';
import {
  CipherState,
  type CompletedHandshake,
  type HandshakeOptions,
  HandshakeState,
  type HandshakeStep,
  NOISE_MAX_MESSAGE_LENGTH,
  SymmetricState,
  noiseHkdf,
  noisePattern,
  parseNoiseProtocolName,
} from '../src/handshake/noise.js';
import {
  SymmetricKey,
  type X25519KeyPair,
  X25519SecretKey,
  aeadSeal,
  generateX25519KeyPair,
  hkdfSha256,
  seededRng,
  x25519PublicKeyOf,
} from '../src/suite/index.js';
import { missing, sharedFile } from './support/environment.js';
import { codeOf } from './support/errors.js';
import { fcParams } from './support/property.js';

interface NoiseVector {
  protocol_name: string;
  init_prologue: string;
  init_static?: string;
  init_ephemeral?: string;
  init_remote_static?: string;
  init_psks?: string[];
  resp_prologue: string;
  resp_static?: string;
  resp_ephemeral?: string;
  resp_remote_static?: string;
  resp_psks?: string[];
  handshake_hash?: string;
  messages: { payload: string; ciphertext: string }[];
}

const EMPTY = new Uint8Array(0);
const XX = 'Noise_XX_25519_ChaChaPoly_SHA256';

function keyPairOf(secret: Uint8Array): X25519KeyPair {
  const secretKey = new X25519SecretKey(secret);
  return { secretKey, publicKey: x25519PublicKeyOf(secretKey) };
}

/** The HandshakeState options of one side of a vector: exactly the keys the vector gives. */
function optionsFor(v: NoiseVector, side: 'init' | 'resp'): HandshakeOptions {
  const field = (name: string) => (v as unknown as Record<string, unknown>)[`${side}_${name}`];
  const hex = (name: string) => (typeof field(name) === 'string' ? fromHex(field(name) as string, `${side}_${name}`) : undefined);
  const s = hex('static');
  const e = hex('ephemeral');
  const rs = hex('remote_static');
  const psks = field('psks') as string[] | undefined;
  return {
    protocolName: v.protocol_name,
    initiator: side === 'init',
    prologue: hex('prologue') ?? EMPTY,
    ...(s === undefined ? {} : { staticKeyPair: keyPairOf(s) }),
    ...(e === undefined ? {} : { ephemeralKeyPair: keyPairOf(e) }),
    ...(rs === undefined ? {} : { remoteStaticKey: rs }),
    ...(psks === undefined ? {} : { psks: psks.map((p) => new SymmetricKey(fromHex(p, 'psk'))) }),
  };
}

function ongoing(step: HandshakeStep): HandshakeState {
  if (step.kind !== 'handshake') throw new Error('expected the handshake to continue');
  return step;
}

function completed(step: HandshakeStep): CompletedHandshake {
  if (step.kind !== 'complete') throw new Error('expected the handshake to be complete');
  return step;
}

/** Runs a vector through both parties; returns the numbers of handshake and transport messages checked. */
function runVector(v: NoiseVector): { handshake: number; transport: number } {
  let init: HandshakeStep = HandshakeState.initialize(optionsFor(v, 'init'));
  let resp: HandshakeStep = HandshakeState.initialize(optionsFor(v, 'resp'));
  const { pattern } = init.protocol;
  const count = pattern.messages.length;
  for (let i = 0; i < count; i++) {
    const { payload, ciphertext } = v.messages[i]!;
    const fromInitiator = i % 2 === 0;
    const sender = ongoing(fromInitiator ? init : resp);
    const receiver = ongoing(fromInitiator ? resp : init);
    const written = sender.writeMessage(fromHex(payload));
    expect(toHex(written.message), `handshake message ${i}`).toBe(ciphertext);
    const read = receiver.readMessage(written.message);
    expect(toHex(read.payload), `handshake payload ${i}`).toBe(payload);
    if (fromInitiator) [init, resp] = [written.next, read.next];
    else [resp, init] = [written.next, read.next];
  }
  const a = completed(init);
  const b = completed(resp);
  expect(toHex(a.handshakeHash())).toBe(toHex(b.handshakeHash()));
  if (v.handshake_hash !== undefined) expect(toHex(a.handshakeHash())).toBe(v.handshake_hash);
  if (v.resp_static !== undefined) expect(toHex(a.remoteStaticKey!)).toBe(toHex(keyPairOf(fromHex(v.resp_static)).publicKey));
  if (v.init_static !== undefined) expect(toHex(b.remoteStaticKey!)).toBe(toHex(keyPairOf(fromHex(v.init_static)).publicKey));

  const initSplit = a.split();
  const respSplit = b.split();
  expect(toHex(initSplit.tempK1.dangerouslyExposeBytes())).toBe(toHex(respSplit.tempK1.dangerouslyExposeBytes()));
  expect(toHex(initSplit.tempK2.dangerouslyExposeBytes())).toBe(toHex(respSplit.tempK2.dangerouslyExposeBytes()));
  for (let i = count; i < v.messages.length; i++) {
    const { payload, ciphertext } = v.messages[i]!;
    // The alternation continues; after a one-way pattern only the initiator sends (Noise §7.4).
    const fromInitiator = pattern.oneWay || i % 2 === 0;
    const [encrypt, decrypt] = fromInitiator
      ? [initSplit.initiatorToResponder, respSplit.initiatorToResponder]
      : [respSplit.responderToInitiator, initSplit.responderToInitiator];
    const sealed = encrypt.encryptWithAd(EMPTY, fromHex(payload));
    expect(toHex(sealed), `transport message ${i}`).toBe(ciphertext);
    expect(toHex(decrypt.decryptWithAd(EMPTY, sealed)), `transport payload ${i}`).toBe(payload);
  }
  return { handshake: count, transport: v.messages.length - count };
}

const source = sharedFile('noise', 'noise-25519-chachapoly-sha256.json');
const skipped = missing('Noise test vectors', source.present, 'set SEAL_SHARED_DATA or place ../shared/data beside the checkout');
const vectors: NoiseVector[] = skipped === undefined ? (JSON.parse(readFileSync(source.file, 'utf8')) as { vectors: NoiseVector[] }).vectors : [];

describe.skipIf(skipped !== undefined)('Noise rev. 34 vectors (cacophony, 25519 / ChaChaPoly / SHA256)', () => {
  it('holds the seven protocols', () => {
    const patterns = vectors.map((v) => parseNoiseProtocolName(v.protocol_name).pattern.name).sort();
    expect([...new Set(patterns)]).toEqual(['IK', 'KK', 'N', 'NN', 'XK', 'XX', 'XXpsk3']);
  });

  it.each(vectors.map((v, i) => [`${i}: ${v.protocol_name}`, v] as const))('%s: every message byte for byte, both directions', (_, v) => {
    const { handshake, transport } = runVector(v);
    expect(handshake + transport).toBe(v.messages.length);
    console.log(`${v.protocol_name}: ${handshake + transport} messages checked (${handshake} handshake, ${transport} transport)`);
  });
});

/** An XX pair from seeded keys, optionally with a prologue. */
function xxPair(seed: string, prologue: Uint8Array = EMPTY) {
  const rng = seededRng(seed);
  const alice = generateX25519KeyPair(rng);
  const bob = generateX25519KeyPair(rng);
  const init = HandshakeState.initialize({ protocolName: XX, initiator: true, prologue, staticKeyPair: alice, rng: seededRng(`${seed} alice`) });
  const resp = HandshakeState.initialize({ protocolName: XX, initiator: false, prologue, staticKeyPair: bob, rng: seededRng(`${seed} bob`) });
  return { alice, bob, init, resp };
}

/** Flips one bit of a copy. */
function flip(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index]! ^= 0x01;
  return copy;
}

describe('HandshakeState: failures change nothing', () => {
  it('a tampered message 2 or 3 fails with authentication-failed; the same state then reads the genuine one', () => {
    const { init, resp, alice, bob } = xxPair('tamper');
    const m1 = init.writeMessage(utf8Encode('one'));
    const resp1 = ongoing(resp.readMessage(m1.message).next);
    const m2 = resp1.writeMessage(utf8Encode('two'));
    const init1 = ongoing(m1.next);
    // Bytes 0..31: responder's e (changes ee); 32..79: encrypted s; then the encrypted payload.
    for (const index of [0, 31, 32, 79, 80, m2.message.length - 1]) {
      expect(codeOf(() => init1.readMessage(flip(m2.message, index))), `byte ${index}`).toBe('authentication-failed');
    }
    const read2 = init1.readMessage(m2.message);
    expect(new TextDecoder().decode(read2.payload)).toBe('two');
    const init2 = ongoing(read2.next);
    expect(toHex(init2.remoteStaticKey!)).toBe(toHex(bob.publicKey));
    const m3 = init2.writeMessage(utf8Encode('three'));
    const resp2 = ongoing(m2.next);
    for (const index of [0, 47, 48, m3.message.length - 1]) {
      expect(codeOf(() => resp2.readMessage(flip(m3.message, index))), `byte ${index}`).toBe('authentication-failed');
    }
    const done = completed(resp2.readMessage(m3.message).next);
    expect(toHex(done.remoteStaticKey!)).toBe(toHex(alice.publicKey));
    expect(toHex(done.handshakeHash())).toBe(toHex(completed(m3.next).handshakeHash()));
  });

  it('a truncated or oversized message fails with invalid-length and changes nothing', () => {
    const { init, resp } = xxPair('length');
    const m1 = init.writeMessage();
    expect(codeOf(() => resp.readMessage(m1.message.subarray(0, 31)))).toBe('invalid-length');
    expect(codeOf(() => resp.readMessage(new Uint8Array(NOISE_MAX_MESSAGE_LENGTH + 1)))).toBe('invalid-length');
    const resp1 = ongoing(resp.readMessage(m1.message).next);
    const m2 = resp1.writeMessage();
    expect(m2.message.length).toBe(32 + 48 + 16);
    const init1 = ongoing(m1.next);
    expect(codeOf(() => init1.readMessage(m2.message.subarray(0, 95)))).toBe('invalid-length');
    expect(completed(ongoing(init1.readMessage(m2.message).next).writeMessage().next).kind).toBe('complete');
  });

  it('writing a message over 65535 bytes fails with invalid-length and the state can still write', () => {
    const { init } = xxPair('big');
    // Message 1 of XX is e (32 bytes) and a cleartext payload.
    expect(codeOf(() => init.writeMessage(new Uint8Array(NOISE_MAX_MESSAGE_LENGTH - 31)))).toBe('invalid-length');
    expect(init.writeMessage(new Uint8Array(NOISE_MAX_MESSAGE_LENGTH - 32)).message.length).toBe(NOISE_MAX_MESSAGE_LENGTH);
  });

  it('a low-order ephemeral key gives zero-shared-secret (Seal\'s x25519 rejects the zero output)', () => {
    const { resp } = xxPair('zero');
    const resp1 = ongoing(resp.readMessage(new Uint8Array(32)).next);
    expect(codeOf(() => resp1.writeMessage())).toBe('zero-shared-secret');
    expect(codeOf(() => resp1.writeMessage())).toBe('zero-shared-secret');
  });
});

describe('HandshakeState: misuse is a typed error or does not compile', () => {
  it('out-of-turn writes and reads give invalid-value', () => {
    const { init, resp } = xxPair('turns');
    expect(init.isMyTurn).toBe(true);
    expect(resp.isMyTurn).toBe(false);
    expect(codeOf(() => resp.writeMessage())).toBe('invalid-value');
    expect(codeOf(() => init.readMessage(new Uint8Array(32)))).toBe('invalid-value');
    const m1 = init.writeMessage();
    const init1 = ongoing(m1.next);
    expect(codeOf(() => init1.writeMessage())).toBe('invalid-value');
  });

  it('a used-up state gives invalid-value, including reading after completion', () => {
    const { init, resp } = xxPair('used');
    const m1 = init.writeMessage();
    expect(codeOf(() => init.writeMessage())).toBe('invalid-value');
    expect(codeOf(() => init.mixKey(new Uint8Array(32)))).toBe('invalid-value');
    const resp1 = ongoing(resp.readMessage(m1.message).next);
    expect(codeOf(() => resp.readMessage(m1.message))).toBe('invalid-value');
    const m2 = resp1.writeMessage();
    const init2 = ongoing(ongoing(m1.next).readMessage(m2.message).next);
    const m3 = init2.writeMessage();
    const resp2 = ongoing(m2.next);
    const done = completed(resp2.readMessage(m3.message).next);
    // The state that read the last message is used up: no further read or write.
    expect(codeOf(() => resp2.readMessage(m3.message))).toBe('invalid-value');
    expect(codeOf(() => resp2.writeMessage())).toBe('invalid-value');
    expect(String(resp2)).toContain('used');
    expect(done.kind).toBe('complete');
  });

  it('split exists only on a completed handshake, and only once', () => {
    const { init, resp } = xxPair('split');
    // @ts-expect-error A HandshakeState has no split(): splitting before completion does not compile.
    expect(() => init.split()).toThrow(TypeError);
    expect('split' in init).toBe(false);
    // @ts-expect-error Nor a handshake hash before completion (Noise §5.2 GetHandshakeHash).
    expect(init.handshakeHash).toBeUndefined();
    const m1 = init.writeMessage();
    const m2 = ongoing(resp.readMessage(m1.message).next).writeMessage();
    const m3 = ongoing(ongoing(m1.next).readMessage(m2.message).next).writeMessage();
    const done = completed(m3.next);
    // @ts-expect-error A completed handshake cannot read: reading after completion does not compile.
    expect(done.readMessage).toBeUndefined();
    done.split();
    expect(codeOf(() => done.split())).toBe('invalid-value');
    expect(done.handshakeHash()).toHaveLength(32);
  });

  it('rejects other crypto functions, unknown patterns and bad modifiers with invalid-value', () => {
    for (const name of [
      'Noise_XX_448_ChaChaPoly_SHA256',
      'Noise_XX_25519_AESGCM_SHA256',
      'Noise_XX_25519_ChaChaPoly_BLAKE2s',
      'Noise_XX_25519_ChaChaPoly_SHA512',
      'Noise_NK_25519_ChaChaPoly_SHA256',
      'Noise_XXfallback_25519_ChaChaPoly_SHA256',
      'Noise_XXpsk4_25519_ChaChaPoly_SHA256',
      'Noise_NNpsk2+psk0_25519_ChaChaPoly_SHA256',
      'Noise_NNpsk01_25519_ChaChaPoly_SHA256',
      'Noise_XX_25519_ChaChaPoly_SHA256_X',
      'noise_XX_25519_ChaChaPoly_SHA256',
      'Noise_xx_25519_ChaChaPoly_SHA256',
    ]) {
      expect(codeOf(() => parseNoiseProtocolName(name)), name).toBe('invalid-value');
    }
    expect(noisePattern('XXpsk3').messages).toEqual([['e'], ['e', 'ee', 's', 'es'], ['s', 'se', 'psk']]);
    expect(noisePattern('NNpsk0+psk2').messages).toEqual([['psk', 'e'], ['e', 'ee', 'psk']]);
    expect(noisePattern('NN').pskMode).toBe(false);
    expect(noisePattern('N').oneWay).toBe(true);
  });

  it('checks Initialize() arguments against the pattern', () => {
    const rng = seededRng('init');
    const a = generateX25519KeyPair(rng);
    const b = generateX25519KeyPair(rng);
    const base = { initiator: true, rng };
    expect(codeOf(() => HandshakeState.initialize({ ...base, protocolName: XX }))).toBe('invalid-value');
    expect(codeOf(() => HandshakeState.initialize({ ...base, protocolName: 'Noise_NN_25519_ChaChaPoly_SHA256', staticKeyPair: a }))).toBe('invalid-value');
    expect(codeOf(() => HandshakeState.initialize({ ...base, protocolName: 'Noise_XXpsk3_25519_ChaChaPoly_SHA256', staticKeyPair: a }))).toBe('invalid-value');
    expect(codeOf(() => HandshakeState.initialize({ protocolName: XX, initiator: true, staticKeyPair: a }))).toBe('invalid-value');
    expect(codeOf(() => HandshakeState.initialize({ ...base, protocolName: XX, staticKeyPair: a, ephemeralKeyPair: b }))).toBe('invalid-value');
    expect(codeOf(() => HandshakeState.initialize({ ...base, protocolName: XX, staticKeyPair: a, remoteStaticKey: b.publicKey }))).toBe('invalid-value');
    expect(codeOf(() => HandshakeState.initialize({ ...base, protocolName: 'Noise_IK_25519_ChaChaPoly_SHA256', staticKeyPair: a }))).toBe('invalid-value');
    expect(codeOf(() => HandshakeState.initialize({ ...base, protocolName: 'Noise_IK_25519_ChaChaPoly_SHA256', staticKeyPair: a, remoteStaticKey: new Uint8Array(31) }))).toBe('invalid-length');
    expect(codeOf(() => HandshakeState.initialize({ ...base, protocolName: XX, staticKeyPair: { secretKey: a.secretKey, publicKey: b.publicKey } }))).toBe('invalid-key');
    // The responder of a one-way pattern sends nothing, so it needs neither an ephemeral key nor randomness.
    const n = { protocolName: 'Noise_N_25519_ChaChaPoly_SHA256', initiator: false, staticKeyPair: a };
    expect(HandshakeState.initialize(n).isMyTurn).toBe(false);
    expect(HandshakeState.initialize({ ...n, rng }).isMyTurn).toBe(false);
    expect(codeOf(() => HandshakeState.initialize({ ...n, ephemeralKeyPair: b }))).toBe('invalid-value');
  });

  it('never prints a secret', () => {
    const { init, resp } = xxPair('print');
    const m1 = init.writeMessage();
    const m2 = ongoing(resp.readMessage(m1.message).next).writeMessage();
    const m3 = ongoing(ongoing(m1.next).readMessage(m2.message).next).writeMessage();
    const done = completed(m3.next);
    const split = done.split();
    const secrets = [split.tempK1, split.tempK2].map((k) => toHex(k.dangerouslyExposeBytes()));
    for (const text of [String(init), JSON.stringify(init), inspect(init), String(done), inspect(done), JSON.stringify(split), inspect(split, { depth: 5 })]) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
    expect(JSON.stringify(split)).toContain('<secret>');
    expect(String(split.initiatorToResponder)).toBe('CipherState(k: <secret>, n: 0)');
  });
});

describe('CipherState and SymmetricState (Noise §5.1, §5.2, §4.3)', () => {
  const key = new SymmetricKey(new Uint8Array(32).fill(7));
  const nonceOf = (n: bigint) => {
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setBigUint64(4, n, true);
    return nonce;
  };

  it('ChaChaPoly uses 4 zero bytes and the 64-bit little-endian counter as nonce (§12.3)', () => {
    const cipher = new CipherState(key);
    const ad = utf8Encode('ad');
    expect(toHex(cipher.encryptWithAd(ad, utf8Encode('x')))).toBe(toHex(aeadSeal(key, nonceOf(0n), utf8Encode('x'), ad)));
    expect(cipher.nonce).toBe(1n);
    cipher.setNonce(0x0102030405060708n);
    expect(toHex(cipher.encryptWithAd(ad, utf8Encode('y')))).toBe(toHex(aeadSeal(key, fromHex('000000000807060504030201'), utf8Encode('y'), ad)));
  });

  it('reserves the nonce 2^64-1 (§5.1)', () => {
    const max = 2n ** 64n - 1n;
    const cipher = new CipherState(key);
    cipher.setNonce(max - 1n);
    const sealed = cipher.encryptWithAd(EMPTY, EMPTY);
    expect(codeOf(() => cipher.encryptWithAd(EMPTY, EMPTY))).toBe('invalid-value');
    const receiver = new CipherState(key);
    receiver.setNonce(max - 1n);
    expect(receiver.decryptWithAd(EMPTY, sealed)).toEqual(EMPTY);
    expect(codeOf(() => receiver.decryptWithAd(EMPTY, sealed))).toBe('invalid-value');
    expect(codeOf(() => cipher.setNonce(max + 1n))).toBe('invalid-value');
    expect(codeOf(() => cipher.setNonce(-1n))).toBe('invalid-value');
  });

  it('a failed decryption does not increment n (§5.1)', () => {
    const sender = new CipherState(key);
    const receiver = new CipherState(key);
    const sealed = sender.encryptWithAd(EMPTY, utf8Encode('hello'));
    expect(codeOf(() => receiver.decryptWithAd(EMPTY, flip(sealed, 0)))).toBe('authentication-failed');
    expect(codeOf(() => receiver.decryptWithAd(EMPTY, sealed.subarray(0, 15)))).toBe('authentication-failed');
    expect(receiver.nonce).toBe(0n);
    expect(new TextDecoder().decode(receiver.decryptWithAd(EMPTY, sealed))).toBe('hello');
  });

  it('Rekey() sets k to the first 32 bytes of ENCRYPT(k, 2^64-1, zerolen, zeros) and keeps n (§4.2)', () => {
    const cipher = new CipherState(key);
    cipher.encryptWithAd(EMPTY, EMPTY);
    cipher.rekey();
    expect(cipher.nonce).toBe(1n);
    const expected = new CipherState(new SymmetricKey(aeadSeal(key, nonceOf(2n ** 64n - 1n), new Uint8Array(32), EMPTY).subarray(0, 32)));
    expected.setNonce(1n);
    expect(toHex(cipher.encryptWithAd(EMPTY, utf8Encode('z')))).toBe(toHex(expected.encryptWithAd(EMPTY, utf8Encode('z'))));
    expect(codeOf(() => new CipherState().rekey())).toBe('invalid-value');
  });

  it('passes data through without a key and limits messages to 65535 bytes (§3)', () => {
    expect(new CipherState().encryptWithAd(EMPTY, utf8Encode('plain'))).toEqual(utf8Encode('plain'));
    expect(new CipherState(key).encryptWithAd(EMPTY, new Uint8Array(NOISE_MAX_MESSAGE_LENGTH - 16))).toHaveLength(NOISE_MAX_MESSAGE_LENGTH);
    expect(codeOf(() => new CipherState(key).encryptWithAd(EMPTY, new Uint8Array(NOISE_MAX_MESSAGE_LENGTH - 15)))).toBe('invalid-length');
    expect(codeOf(() => new CipherState(key).decryptWithAd(EMPTY, new Uint8Array(NOISE_MAX_MESSAGE_LENGTH + 1)))).toBe('invalid-length');
  });

  it('HKDF is RFC 5869 HKDF with ck as salt and empty info (§4.3), for 2 and 3 outputs', () => {
    const ck = new SymmetricKey(new Uint8Array(32).fill(1));
    const ikm = new Uint8Array(32).fill(2);
    const two = noiseHkdf(ck, ikm, 2).map((k) => toHex(k.dangerouslyExposeBytes())).join('');
    const three = noiseHkdf(ck, EMPTY, 3).map((k) => toHex(k.dangerouslyExposeBytes())).join('');
    expect(two).toBe(toHex(hkdfSha256(ikm, ck.dangerouslyExposeBytes(), EMPTY, 64)));
    expect(three).toBe(toHex(hkdfSha256(EMPTY, ck.dangerouslyExposeBytes(), EMPTY, 96)));
    expect(codeOf(() => noiseHkdf(ck, new Uint8Array(16), 2))).toBe('invalid-length');
  });

  it('InitializeSymmetric pads a short name and hashes a long one (§5.2)', () => {
    const short = SymmetricState.initializeSymmetric('Noise_NN_25519_ChaChaPoly_SHA256');
    expect(toHex(short.getHandshakeHash())).toBe(toHex(utf8Encode('Noise_NN_25519_ChaChaPoly_SHA256')));
    const long = SymmetricState.initializeSymmetric('Noise_XXpsk3_25519_ChaChaPoly_SHA256');
    expect(long.getHandshakeHash()).toHaveLength(32);
    expect(toHex(long.getHandshakeHash())).not.toContain(toHex(utf8Encode('Noise_XX')));
  });
});

/** Runs XX to completion between two parties; optionally each mixes a secret after message 2. */
function runXX(options: {
  a: X25519KeyPair; b: X25519KeyPair; ea: X25519KeyPair; eb: X25519KeyPair; prologue: Uint8Array; payloads: Uint8Array[];
  mixA?: Uint8Array; mixB?: Uint8Array;
}) {
  const { a, b, ea, eb, prologue, payloads } = options;
  const init = HandshakeState.initialize({ protocolName: XX, initiator: true, prologue, staticKeyPair: a, ephemeralKeyPair: ea });
  const resp = HandshakeState.initialize({ protocolName: XX, initiator: false, prologue, staticKeyPair: b, ephemeralKeyPair: eb });
  const m1 = init.writeMessage(payloads[0]);
  const r1 = resp.readMessage(m1.message);
  let m2 = ongoing(r1.next).writeMessage(payloads[1]);
  let r2 = ongoing(m1.next).readMessage(m2.message);
  let respAfter = ongoing(m2.next);
  let initAfter = ongoing(r2.next);
  if (options.mixA !== undefined) initAfter = initAfter.mixKey(options.mixA);
  if (options.mixB !== undefined) respAfter = respAfter.mixKey(options.mixB);
  const m3 = initAfter.writeMessage(payloads[2]);
  const r3 = respAfter.readMessage(m3.message);
  expect(r1.payload).toEqual(payloads[0]);
  expect(r2.payload).toEqual(payloads[1]);
  expect(r3.payload).toEqual(payloads[2]);
  return { initiator: completed(m3.next), responder: completed(r3.next) };
}

describe('XX between random parties (property)', () => {
  const secret = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const payload = fc.uint8Array({ maxLength: 64 });

  it('agrees on the handshake hash, the split keys and each other\'s static key', () => {
    fc.assert(
      fc.property(secret, secret, secret, secret, fc.uint8Array({ maxLength: 48 }), fc.array(payload, { minLength: 3, maxLength: 3 }), fc.option(secret, { nil: undefined }), (sa, sb, ea, eb, prologue, payloads, mix) => {
        const a = keyPairOf(sa);
        const b = keyPairOf(sb);
        const { initiator, responder } = runXX({ a, b, ea: keyPairOf(ea), eb: keyPairOf(eb), prologue, payloads, ...(mix === undefined ? {} : { mixA: mix, mixB: mix }) });
        expect(toHex(initiator.handshakeHash())).toBe(toHex(responder.handshakeHash()));
        expect(toHex(initiator.remoteStaticKey!)).toBe(toHex(b.publicKey));
        expect(toHex(responder.remoteStaticKey!)).toBe(toHex(a.publicKey));
        const x = initiator.split();
        const y = responder.split();
        expect(toHex(x.tempK1.dangerouslyExposeBytes())).toBe(toHex(y.tempK1.dangerouslyExposeBytes()));
        expect(toHex(x.tempK2.dangerouslyExposeBytes())).toBe(toHex(y.tempK2.dangerouslyExposeBytes()));
        expect(toHex(x.tempK1.dangerouslyExposeBytes())).not.toBe(toHex(x.tempK2.dangerouslyExposeBytes()));
        const sealed = y.responderToInitiator.encryptWithAd(EMPTY, payloads[0]!);
        expect(x.responderToInitiator.decryptWithAd(EMPTY, sealed)).toEqual(payloads[0]);
      }),
      fcParams(100),
    );
  });
});

describe('mixKey: Seal\'s hook between messages (outside Noise)', () => {
  const rng = seededRng('mixKey');
  const keys = { a: generateX25519KeyPair(rng), b: generateX25519KeyPair(rng), ea: generateX25519KeyPair(rng), eb: generateX25519KeyPair(rng) };
  const payloads = [EMPTY, EMPTY, EMPTY];
  const prologue = utf8Encode('prologue');

  it('the same secret on both sides after message 2 changes the keys and the transcript, and both agree', () => {
    const plain = runXX({ ...keys, prologue, payloads });
    const mixed = runXX({ ...keys, prologue, payloads, mixA: new Uint8Array(32).fill(9), mixB: new Uint8Array(32).fill(9) });
    expect(toHex(mixed.initiator.handshakeHash())).toBe(toHex(mixed.responder.handshakeHash()));
    expect(toHex(mixed.initiator.handshakeHash())).not.toBe(toHex(plain.initiator.handshakeHash()));
    const k = mixed.initiator.split().tempK1.dangerouslyExposeBytes();
    expect(toHex(k)).toBe(toHex(mixed.responder.split().tempK1.dangerouslyExposeBytes()));
    expect(toHex(k)).not.toBe(toHex(plain.initiator.split().tempK1.dangerouslyExposeBytes()));
  });

  it('different secrets make message 3 fail with authentication-failed; a wrong length is invalid-length', () => {
    expect(codeOf(() => runXX({ ...keys, prologue, payloads, mixA: new Uint8Array(32).fill(1), mixB: new Uint8Array(32).fill(2) }))).toBe('authentication-failed');
    expect(codeOf(() => runXX({ ...keys, prologue, payloads, mixA: new Uint8Array(32).fill(1) }))).toBe('authentication-failed');
    const init = HandshakeState.initialize({ protocolName: XX, initiator: true, staticKeyPair: keys.a, ephemeralKeyPair: keys.ea });
    expect(codeOf(() => init.mixKey(new Uint8Array(31)))).toBe('invalid-length');
    expect(init.writeMessage().message).toHaveLength(32);
  });
});
