/**
 * §identity.state, the device engine's records: real sessions (skipped keys, an alternate
 * ratchet, an unconfirmed handshake header) survive a round trip and continue the conversation
 * exactly as the originals would; every record kind round-trips; the largest records the bounds
 * allow fit their text bound; and mutated, truncated or garbage text always gives SealError
 * `invalid-state` or `unknown-version`, never another error.
 *
 * @req identity.state-validate
 */
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBase64 } from '../src/codec/base64.js';
import { encode } from '../src/codec/binary.js';
import { toHex } from '../src/codec/bytes.js';
import {
  RECORD_FORMATS, RECORD_LIMITS, RECORD_VERSION,
  dangerouslyEncodeAccountSecret, dangerouslyEncodeSession, decodeAccountSecret, decodeAccountTrust, decodeDeviceListRecord, decodeHandshakeLog, decodeSession, decodeTimestamps,
  encodeAccountTrust, encodeDeviceListRecord, encodeHandshakeLog, encodeTimestamps,
} from '../src/device/records.js';
import { ENVELOPE_CONSTANTS, openStanza, sealStanza, sessionKey, startRatchet, type OpenResult, type PeerSession, type RatchetState } from '../src/envelope/index.js';
import { HANDSHAKE_CONSTANTS, HandshakeLogEntryCodec, initiateAsync, type HandshakeLog } from '../src/handshake/index.js';
import {
  bareJid, bundleOf, createDeviceList, createDeviceState, dangerouslyExportDeviceState, decide, importDeviceState, observeAccountKey, observeDeviceKey, verifyBundle, verifyDeviceList,
  type DeviceState, type TrustStore,
} from '../src/identity/index.js';
import { isSealError } from '../src/errors.js';
import { Ed25519SecretKey, SymmetricKey, X25519SecretKey, ed25519PublicKeyOf, generateX25519KeyPair, seededRng, x25519PublicKey } from '../src/suite/index.js';
import { parseXml, xml } from '../src/wire/index.js';
import { codeOf } from './support/errors.js';
import { fcParams } from './support/property.js';

const NOW = 1795683600;

interface Device { state: DeviceState; log: HandshakeLog; sessions: Map<string, PeerSession> }
const device = (jid: string, seed: string): Device => ({ state: createDeviceState({ jid, now: NOW, rng: seededRng(seed), oneTimePrekeys: 5 }), log: [], sessions: new Map() });

function connect(from: Device, to: Device, seed: string): void {
  const started = initiateAsync({ self: from.state, peer: verifyBundle(bundleOf(to.state), { jid: to.state.jid, deviceId: to.state.deviceId, now: NOW }), rng: seededRng(seed) });
  from.sessions.set(sessionKey(to.state.jid, to.state.deviceId), { ratchet: startRatchet(started.session, seededRng(`${seed} ratchet`)), confirmation: { state: 'unconfirmed', header: started.header } });
}
function send(from: Device, to: Device, text: string): string {
  const out = sealStanza({ to: to.state.jid, from: `${from.state.jid}/r`, senderDeviceId: from.state.deviceId, content: [xml('body', {}, [text])], recipients: [{ jid: to.state.jid, deviceId: to.state.deviceId }], sessions: from.sessions, rng: seededRng(text), now: NOW });
  from.sessions = out.sessions;
  return out.stanza.toString();
}
function receive(to: Device, stanza: string): OpenResult {
  const result = openStanza({ stanza: parseXml(stanza), self: to.state, log: to.log, sessions: to.sessions, now: NOW + 5 });
  if (result.kind === 'ok') Object.assign(to, { sessions: result.sessions, state: result.state, log: result.log });
  return result;
}
const text = (r: OpenResult) => (r.kind === 'ok' ? r.content[0]!.getText() : r.kind === 'error' ? r.error.code : r.kind);
const sessionOf = (d: Device, peer: Device) => d.sessions.get(sessionKey(peer.state.jid, peer.state.deviceId))!;

/** A device as it comes back after a restart: everything through its persisted records. */
function restart(d: Device): Device {
  return {
    state: importDeviceState(dangerouslyExportDeviceState(d.state)),
    log: decodeHandshakeLog(encodeHandshakeLog(d.log)),
    sessions: new Map([...d.sessions].map(([key, session]) => [key, decodeSession(dangerouslyEncodeSession(session))])),
  };
}

/**
 * Alice and Bob start sessions with each other at the same time; Alice sends three messages of
 * which Bob receives only the third. Alice's session is unconfirmed (it carries her header); Bob's
 * holds two skipped keys and an alternate ratchet (his own session, or Alice's).
 */
function scenario() {
  const a = device('alice@example.org', 'ra');
  const b = device('bob@example.net', 'rb');
  connect(a, b, 'a->b');
  connect(b, a, 'b->a');
  const m = [send(a, b, 'm0'), send(a, b, 'm1'), send(a, b, 'm2')];
  expect(text(receive(b, m[2]!))).toBe('m2');
  return { a, b, m };
}

/** Every record kind, with a sample value's text (for the mutation properties). */
function samples() {
  const { a, b } = scenario();
  const jid = bareJid('juliet@capulet.lit');
  const accountSecret = new Ed25519SecretKey(seededRng('account')(32));
  const signing = (seed: string) => ed25519PublicKeyOf(new Ed25519SecretKey(seededRng(seed)(32)));
  const list = verifyDeviceList(jid, createDeviceList(jid, [{ id: 7, added: NOW, signingKey: signing('d7'), label: 'phone' }, { id: 9, added: NOW, signingKey: signing('d9') }], NOW, { secretKey: accountSecret, bindings: [{ kind: 'openpgp', certificate: new Uint8Array([1, 2, 3]), signature: new Uint8Array([4, 5]) }] }));
  let trust: TrustStore = observeDeviceKey({}, jid, 7, signing('d7')).store;
  trust = observeAccountKey(trust, list).store;
  trust = decide(trust, jid, 'account', list.accountKey!, 'verified');
  return {
    jid,
    records: [
      { name: 'session', text: dangerouslyEncodeSession(sessionOf(b, a)), decode: decodeSession },
      { name: 'unconfirmed session', text: dangerouslyEncodeSession(sessionOf(a, b)), decode: decodeSession },
      { name: 'handshake log', text: encodeHandshakeLog(b.log), decode: decodeHandshakeLog },
      { name: 'timestamps', text: encodeTimestamps({ 'alice@example.org/123': NOW, 'bob@example.net/9': 0 }), decode: decodeTimestamps },
      { name: 'account trust', text: encodeAccountTrust(trust[jid]!), decode: decodeAccountTrust },
      { name: 'device list', text: encodeDeviceListRecord(list), decode: (t: string) => decodeDeviceListRecord(jid, t) },
      { name: 'account secret', text: dangerouslyEncodeAccountSecret(accountSecret), decode: decodeAccountSecret },
    ],
  };
}

describe('§identity.state: device engine records', () => {
  it('round-trips real sessions: skipped keys, an alternate, an unconfirmed header', () => {
    // @req identity.state-validate
    const { a, b } = scenario();
    const bobs = sessionOf(b, a);
    const alices = sessionOf(a, b);
    expect(bobs.ratchet.skipped.length + (bobs.alternate?.skipped.length ?? 0)).toBe(2);
    expect(bobs.alternate).toBeDefined();
    expect(alices.confirmation.state).toBe('unconfirmed');
    for (const session of [bobs, alices]) {
      const text = dangerouslyEncodeSession(session);
      const decoded = decodeSession(text);
      expect(dangerouslyEncodeSession(decoded)).toBe(text); // one canonical text
      expect(JSON.parse(text)).toMatchObject({ format: 'seal-session', version: RECORD_VERSION });
      // Public parts come back equal, including the derived ratchet public keys.
      for (const [original, copy] of [[session.ratchet, decoded.ratchet], [session.alternate, decoded.alternate]] as const) {
        expect(copy === undefined).toBe(original === undefined);
        if (original === undefined || copy === undefined) continue;
        expect(copy.sendingRatchet?.publicKey).toEqual(original.sendingRatchet?.publicKey);
        expect(copy.remoteRatchetKey).toEqual(original.remoteRatchetKey);
        expect(copy.sessionId).toEqual(original.sessionId);
        expect(copy.associatedData).toEqual(original.associatedData);
        expect(copy.skipped.map((k) => [k.ratchetKey, k.counter, k.stored])).toEqual(original.skipped.map((k) => [k.ratchetKey, k.counter, k.stored]));
        expect(copy.recentlyOpened).toEqual(original.recentlyOpened);
      }
      expect(decoded.confirmation).toEqual(session.confirmation);
    }
  });

  it('a restarted device continues the conversation exactly as the original would', () => {
    // @req identity.state-validate
    const { a, b, m } = scenario();
    const b2 = restart(b);
    const a2 = restart(a);
    // The late messages open from the stored skipped keys, on the original and on the copy.
    for (const late of [m[0]!, m[1]!]) {
      expect(text(receive(b, late))).toBe(text(receive(b2, late)));
    }
    expect(text(receive(b2, m[0]!))).toBe('duplicate');
    // The copy seals the same stanza as the original (same randomness), and the peer opens it.
    const reply = send(b, a, 'reply');
    expect(send(b2, a2, 'reply')).toBe(reply);
    expect(text(receive(a2, reply))).toBe('reply');
    expect(text(receive(a, reply))).toBe('reply');
    const next = send(a2, b2, 'after restart');
    expect(send(a, b, 'after restart')).toBe(next);
    expect(text(receive(b2, next))).toBe('after restart');
    expect(text(receive(b, next))).toBe('after restart');
    // The sessions and the logs remain identical records.
    for (const [x, y] of [[a, a2], [b, b2]] as const) {
      expect([...y.sessions].map(([k, s]) => [k, dangerouslyEncodeSession(s)])).toEqual([...x.sessions].map(([k, s]) => [k, dangerouslyEncodeSession(s)]));
      expect(encodeHandshakeLog(y.log)).toBe(encodeHandshakeLog(x.log));
    }
  });

  it('the decoded session prints no secret; only the dangerously… encoder writes them', () => {
    const { a, b } = scenario();
    const session = decodeSession(dangerouslyEncodeSession(sessionOf(b, a)));
    const secrets = [session.ratchet.rootKey, session.ratchet.receivingChain, session.ratchet.sendingChain, session.ratchet.sendingRatchet?.secretKey, ...session.ratchet.skipped.map((k) => k.messageKey)]
      .filter((k) => k !== undefined)
      .map((k) => encodeBase64(k.dangerouslyExposeBytes()));
    expect(secrets.length).toBeGreaterThan(2);
    const printed = [JSON.stringify(session), inspect(session, { depth: 10 }), String(session.ratchet.rootKey)];
    for (const secret of secrets) for (const out of printed) expect(out).not.toContain(secret);
    const written = dangerouslyEncodeSession(session);
    for (const secret of secrets) expect(written).toContain(secret);
    for (const plain of [encodeHandshakeLog(b.log), encodeHandshakeLog(a.log)]) for (const secret of secrets) expect(plain).not.toContain(secret);
  });

  it('the largest session the bounds allow fits the record, and one skipped key more is refused when read back', () => {
    // @req identity.state-validate
    const { a, b } = scenario();
    const unconfirmed = sessionOf(a, b);
    const key = new SymmetricKey(new Uint8Array(32).fill(7));
    const largest: RatchetState = {
      sessionId: new Uint8Array(32),
      associatedData: new Uint8Array(RECORD_LIMITS.MAX_ASSOCIATED_DATA_BYTES).fill(1),
      rootKey: key,
      sendingRatchet: generateX25519KeyPair(seededRng('dhs')),
      remoteRatchetKey: x25519PublicKey(new Uint8Array(32).fill(9)),
      sendingChain: key,
      receivingChain: key,
      sendCount: 2 ** 32,
      receiveCount: 2 ** 32,
      previousCount: 2 ** 32,
      skipped: Array.from({ length: ENVELOPE_CONSTANTS.MAX_SKIPPED_KEYS }, () => ({ ratchetKey: 'f'.repeat(64), counter: 0xffffffff, messageKey: key, stored: Number.MAX_SAFE_INTEGER })),
      recentlyOpened: Array.from({ length: ENVELOPE_CONSTANTS.MAX_RECENTLY_OPENED }, () => 'e'.repeat(64)),
    };
    const session: PeerSession = { ratchet: largest, confirmation: unconfirmed.confirmation, alternate: largest };
    const written = dangerouslyEncodeSession(session);
    expect(written.length).toBeLessThanOrEqual(RECORD_LIMITS.MAX_SESSION_CHARS);
    expect(dangerouslyEncodeSession(decodeSession(written))).toBe(written);
    const tooMany = { ...largest, skipped: [...largest.skipped, largest.skipped[0]!] };
    // Sessions are written on every message without a schema pass (the ratchet keeps its own
    // bounds); a record beyond them is refused when it is read back.
    expect(codeOf(() => decodeSession(dangerouslyEncodeSession({ ...session, ratchet: tooMany })))).toBe('invalid-state');
    const tooManyOpened = { ...largest, recentlyOpened: [...largest.recentlyOpened, 'e'.repeat(64)] };
    expect(codeOf(() => decodeSession(dangerouslyEncodeSession({ ...session, alternate: tooManyOpened })))).toBe('invalid-state');
    expect(codeOf(() => decodeSession(dangerouslyEncodeSession({ ...session, ratchet: { ...largest, sendCount: 2 ** 32 + 1 } })))).toBe('invalid-state');
  });

  it('rejects sessions whose fields are wrong, naming the field', () => {
    const { a, b } = scenario();
    const base = JSON.parse(dangerouslyEncodeSession(sessionOf(b, a)));
    const variant = (change: (r: any) => void) => {
      const r = structuredClone(base);
      change(r);
      return JSON.stringify(r);
    };
    const cases: [string, (r: any) => void][] = [
      ['a 31-byte root key', (r) => { r.ratchet.rootKey = encodeBase64(new Uint8Array(31)); }],
      ['a 33-byte chain key', (r) => { r.ratchet.receivingChain = encodeBase64(new Uint8Array(33)); }],
      ['the URL-safe alphabet', (r) => { r.ratchet.rootKey = `-${r.ratchet.rootKey.slice(1)}`; }],
      ['non-canonical base64', (r) => { r.ratchet.rootKey = `${r.ratchet.rootKey.slice(0, 42)}B=`; }],
      ['a sending chain without its key pair', (r) => { r.ratchet.sendingRatchet = null; r.ratchet.sendingChain = r.ratchet.rootKey; }],
      ['a receiving chain without a remote key', (r) => { r.ratchet.remoteRatchetKey = null; r.ratchet.receivingChain = r.ratchet.rootKey; }],
      ['a skipped counter over uint32', (r) => { r.ratchet.skipped.push({ ...r.ratchet.skipped[0] ?? r.alternate.skipped[0], counter: 2 ** 32 }); }],
      ['a negative time', (r) => { (r.ratchet.skipped[0] ?? r.alternate.skipped[0]).stored = -1; }],
      ['an upper-case fingerprint', (r) => { r.ratchet.recentlyOpened.push('A'.repeat(64)); }],
      ['a fractional counter', (r) => { r.ratchet.sendCount = 1.5; }],
      ['an extra field', (r) => { r.ratchet.extra = 1; }],
      ['a missing field', (r) => { delete r.ratchet.rootKey; }],
      ['too many skipped keys', (r) => { r.ratchet.skipped = Array.from({ length: ENVELOPE_CONSTANTS.MAX_SKIPPED_KEYS + 1 }, () => r.ratchet.skipped[0] ?? r.alternate.skipped[0]); }],
      ['a header that does not decode', (r) => { r.confirmation = { state: 'unconfirmed', header: encodeBase64(new Uint8Array(40)) }; }],
      ['a confirmed state with a header', (r) => { r.confirmation = { state: 'confirmed', header: 'AAAA' }; }],
      ['another confirmation state', (r) => { r.confirmation = { state: 'maybe' }; }],
      ['another format', (r) => { r.format = 'seal-handshake-log'; }],
      ['a version as text', (r) => { r.version = '1'; }],
      ['no version', (r) => { delete r.version; }],
    ];
    for (const [name, change] of cases) {
      let error: unknown;
      try {
        decodeSession(variant(change));
      } catch (e) {
        error = e;
      }
      expect(isSealError(error, 'invalid-state'), name).toBe(true);
      expect((error as Error).message, name).toMatch(/^invalid-state: session/);
    }
    expect(codeOf(() => decodeSession(variant((r) => { r.version = 2; })))).toBe('unknown-version');
    expect(codeOf(() => decodeSession('x'.repeat(RECORD_LIMITS.MAX_SESSION_CHARS + 1)))).toBe('invalid-state');
  });

  it('round-trips the handshake log and checks each entry by decoding it', () => {
    // @req identity.state-validate
    const { a, b } = scenario();
    expect(b.log.length).toBeGreaterThan(0);
    expect(decodeHandshakeLog(encodeHandshakeLog(b.log))).toEqual(b.log);
    expect(decodeHandshakeLog(encodeHandshakeLog(a.log))).toEqual([]);
    const entry = (signedPrekeyId: number, oneTime: number, n: number) => toHex(encode(HandshakeLogEntryCodec, { signedPrekeyId, oneTime, headerHash: new Uint8Array(32).fill(n % 256).map((x, i) => (i < 4 ? (n >> (8 * i)) & 255 : x)) }));
    const record = (entries: string[]) => JSON.stringify({ format: RECORD_FORMATS.handshakeLog, version: 1, entries });
    const max = HANDSHAKE_CONSTANTS.MAX_PROCESSED_HANDSHAKES;
    const full = [...Array.from({ length: max }, (_, i) => entry(1, 1, i)), ...Array.from({ length: max }, (_, i) => entry(1, 0, i)), ...Array.from({ length: max }, (_, i) => entry(2, 0, i))];
    expect(decodeHandshakeLog(record(full))).toHaveLength(3 * max);
    expect(codeOf(() => decodeHandshakeLog(record([...full, entry(1, 1, max)])))).toBe('invalid-state'); // one-time entries over the bound
    expect(codeOf(() => decodeHandshakeLog(record([...full, entry(2, 0, max)])))).toBe('invalid-state'); // entries of one signed prekey over the bound
    expect(codeOf(() => encodeHandshakeLog([...full, entry(2, 0, max)]))).toBe('invalid-state'); // refused when written too
    expect(codeOf(() => decodeHandshakeLog(record([entry(1, 2, 0)])))).toBe('invalid-state'); // one_time neither 0 nor 1
    expect(codeOf(() => decodeHandshakeLog(record([entry(1, 1, 0), entry(1, 1, 0)])))).toBe('invalid-state'); // twice
    expect(codeOf(() => decodeHandshakeLog(record([entry(1, 1, 0xab).toUpperCase()])))).toBe('invalid-state'); // not the log's form
    expect(codeOf(() => decodeHandshakeLog(record([entry(1, 1, 0).slice(2)])))).toBe('invalid-state'); // truncated entry
    expect(codeOf(() => decodeHandshakeLog(record([`${entry(1, 1, 0)}00`])))).toBe('invalid-state'); // trailing byte
  });

  it('round-trips maps of times, including keys that are special to JavaScript', () => {
    // @req identity.state-validate
    fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 40 }), fc.maxSafeNat(), { maxKeys: 30 }), (map) => {
      const decoded = decodeTimestamps(encodeTimestamps(map));
      expect(Object.entries(decoded)).toEqual(Object.entries(map));
    }), fcParams(100));
    const special = decodeTimestamps('{"format":"seal-timestamps","version":1,"entries":{"__proto__":5,"constructor":6}}');
    expect(Object.getPrototypeOf(special)).toBe(Object.prototype);
    expect(Object.entries(special)).toEqual([['__proto__', 5], ['constructor', 6]]);
    expect(encodeTimestamps(special)).toBe('{"format":"seal-timestamps","version":1,"entries":{"__proto__":5,"constructor":6}}');
    const record = (entries: unknown) => JSON.stringify({ format: 'seal-timestamps', version: 1, entries });
    for (const bad of [{ a: -1 }, { a: 1.5 }, { a: '1' }, { a: null }, { '': 1 }, { a: 2 ** 53 }, { ['x'.repeat(RECORD_LIMITS.MAX_TIMESTAMP_KEY_CHARS + 1)]: 1 }, [], null, 5]) {
      expect(codeOf(() => decodeTimestamps(record(bad))), JSON.stringify(bad).slice(0, 30)).toBe('invalid-state');
    }
    const many = Object.fromEntries(Array.from({ length: RECORD_LIMITS.MAX_TIMESTAMP_ENTRIES + 1 }, (_, i) => [`k${i}`, i]));
    expect(codeOf(() => decodeTimestamps(record(many)))).toBe('invalid-state');
    expect(codeOf(() => encodeTimestamps(many))).toBe('invalid-state');
    expect(codeOf(() => encodeTimestamps({ a: -1 }))).toBe('invalid-state');
  });

  it('round-trips account trust, device lists and the account secret', () => {
    // @req identity.state-validate
    const { jid, records } = samples();
    const byName = Object.fromEntries(records.map((r) => [r.name, r]));
    const trust = decodeAccountTrust(byName['account trust']!.text);
    expect(trust.accountKey?.level).toBe('verified');
    expect(Object.keys(trust.devices)).toEqual(['7']);
    expect(encodeAccountTrust(trust)).toBe(byName['account trust']!.text);
    expect(decodeAccountTrust(encodeAccountTrust({ devices: {} }))).toEqual({ devices: {} });
    const trustRecord = (r: object) => JSON.stringify({ format: 'seal-account-trust', version: 1, devices: {}, ...r });
    const hex = 'ab'.repeat(32);
    for (const bad of [{ devices: { 0: { key: hex, level: 'verified' } } }, { devices: { '07': { key: hex, level: 'verified' } } }, { devices: { 2147483648: { key: hex, level: 'verified' } } }, { devices: { 1: { key: hex.slice(2), level: 'verified' } } }, { devices: { 1: { key: hex.toUpperCase(), level: 'verified' } } }, { devices: { 1: { key: hex, level: 'trusted' } } }, { accountKey: { key: hex } }, { devices: [] }]) {
      expect(codeOf(() => decodeAccountTrust(trustRecord(bad))), JSON.stringify(bad)).toBe('invalid-state');
    }
    expect(codeOf(() => encodeAccountTrust({ devices: { 1: { key: 'xyz', level: 'verified' } } }))).toBe('invalid-state');

    const secretKey = new Ed25519SecretKey(seededRng('account')(32));
    const signing = (seed: string) => ed25519PublicKeyOf(new Ed25519SecretKey(seededRng(seed)(32)));
    const signed = verifyDeviceList(jid, createDeviceList(jid, [{ id: 7, added: NOW, signingKey: signing('d7'), label: 'phone' }, { id: 9, added: NOW, signingKey: signing('d9') }], NOW, { secretKey, bindings: [{ kind: 'openpgp', certificate: new Uint8Array([1, 2, 3]), signature: new Uint8Array([4, 5]) }] }));
    const unsigned = verifyDeviceList(jid, createDeviceList(jid, [{ id: 3, added: NOW - 10, signingKey: signing('d3') }], NOW));
    for (const list of [signed, unsigned]) {
      const text = encodeDeviceListRecord(list);
      expect(decodeDeviceListRecord(jid, text)).toEqual(list);
      expect(encodeDeviceListRecord(decodeDeviceListRecord(jid, text))).toBe(text);
    }
    const listText = encodeDeviceListRecord(signed);
    expect(codeOf(() => decodeDeviceListRecord(bareJid('romeo@montague.lit'), listText))).toBe('invalid-state');
    const listVariant = (change: (r: any) => void) => { const r = JSON.parse(listText); change(r); return JSON.stringify(r); };
    for (const change of [
      (r: any) => { r.devices[1].id = 7; }, // duplicate id (verifyDeviceList's duplicate-id)
      (r: any) => { r.devices[0].signingKey = encodeBase64(new Uint8Array(32)); }, // a small-order key (invalid-key)
      (r: any) => { r.accountKey = encodeBase64(new Uint8Array(32)); },
      (r: any) => { r.devices[0].label = 'a\u0001'; }, // a control character in a label (schema-violation)
      (r: any) => { r.devices = []; },
      (r: any) => { delete r.accountKey; }, // bindings without an account key
      (r: any) => { r.bindings[0].kind = 'pgp'; },
      (r: any) => { r.bindings[0].certificate = ''; },
    ]) {
      expect(codeOf(() => decodeDeviceListRecord(jid, listVariant(change))), change.toString()).toBe('invalid-state');
    }

    const secret = decodeAccountSecret(dangerouslyEncodeAccountSecret(secretKey));
    expect(ed25519PublicKeyOf(secret)).toEqual(ed25519PublicKeyOf(secretKey));
    expect(JSON.stringify(secret)).not.toContain(encodeBase64(secretKey.dangerouslyExposeBytes()));
    expect(codeOf(() => decodeAccountSecret(JSON.stringify({ format: 'seal-account-secret', version: 1, secretKey: encodeBase64(new Uint8Array(31)) })))).toBe('invalid-state');
    // An X25519 key is not an Ed25519 account key record, whatever its bytes.
    expect(codeOf(() => decodeAccountSecret(JSON.stringify({ format: 'seal-session', version: 1, secretKey: encodeBase64(new X25519SecretKey(new Uint8Array(32).fill(1)).dangerouslyExposeBytes()) })))).toBe('invalid-state');
  });

  it('every record of another version is unknown-version; of another format, invalid-state', () => {
    const { records } = samples();
    for (const record of records) {
      const json = JSON.parse(record.text);
      expect(codeOf(() => record.decode(record.text)), record.name).toBe('ok');
      for (const version of [0, 2, 99, -1, 1.5]) expect(codeOf(() => record.decode(JSON.stringify({ ...json, version }))), record.name).toBe('unknown-version');
      expect(codeOf(() => record.decode(JSON.stringify({ ...json, format: 'seal-other', version: 2 }))), record.name).toBe('invalid-state');
      for (const other of records.filter((r) => JSON.parse(r.text).format !== json.format)) {
        expect(codeOf(() => record.decode(other.text)), `${other.name} as ${record.name}`).toBe('invalid-state');
      }
    }
  });

  it('mutated records load or fail with invalid-state / unknown-version, never another error', () => {
    // @req identity.state-validate
    const { records } = samples();
    const parsed = records.map((r) => ({ ...r, json: JSON.parse(r.text) as unknown, paths: pathsOf(JSON.parse(r.text)) }));
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('replace' as const), value: fc.jsonValue({ maxDepth: 2 }) }),
      fc.record({ kind: fc.constant('delete' as const) }),
      fc.record({ kind: fc.constant('add' as const), key: fc.string({ maxLength: 8 }), value: fc.jsonValue({ maxDepth: 1 }) }),
      fc.record({ kind: fc.constant('tweak' as const), at: fc.nat(), char: fc.constantFrom('A', '/', '+', '=', '0', 'f', '-', ' ', '"', '\u00e9') }),
    );
    const tally = new Map<string, number>();
    fc.assert(fc.property(fc.nat(parsed.length - 1), fc.nat(), mutation, (which, at, change) => {
      const record = parsed[which]!;
      const path = record.paths[at % record.paths.length]!;
      const json = mutate(structuredClone(record.json), path, change);
      const code = outcome(() => record.decode(JSON.stringify(json)));
      tally.set(code, (tally.get(code) ?? 0) + 1);
      expect(['ok', 'invalid-state', 'unknown-version']).toContain(code);
    }), fcParams(300));
    expect(tally.get('invalid-state')).toBeGreaterThan(0); // the mutations do reach the checks
  });

  it('truncated, spliced and garbage text always fails with invalid-state', () => {
    const { records } = samples();
    fc.assert(fc.property(fc.nat(records.length - 1), fc.nat(), (which, cut) => {
      const record = records[which]!;
      const text = record.text.slice(0, cut % record.text.length);
      expect(outcome(() => record.decode(text))).toBe('invalid-state');
    }), fcParams(200));
    fc.assert(fc.property(fc.nat(records.length - 1), fc.nat(), fc.string({ maxLength: 6 }), (which, at, inserted) => {
      const record = records[which]!;
      const i = at % record.text.length;
      expect(['ok', 'invalid-state', 'unknown-version']).toContain(outcome(() => record.decode(record.text.slice(0, i) + inserted + record.text.slice(i + 1))));
    }), fcParams(200));
    fc.assert(fc.property(fc.nat(records.length - 1), fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)), fc.anything().map((v) => { try { return JSON.stringify(v) ?? 'undefined'; } catch { return '{'; } })), (which, garbage) => {
      expect(outcome(() => records[which]!.decode(garbage))).toBe('invalid-state');
    }), fcParams(200));
    for (const record of records) {
      for (const garbage of ['', 'null', '[]', '{}', '"seal"', '1e999', '{"format":"x"}', '['.repeat(100_000), `{"a":${'['.repeat(5000)}`]) {
        expect(outcome(() => record.decode(garbage)), `${record.name}: ${garbage.slice(0, 10)}`).toBe('invalid-state');
      }
      expect(outcome(() => record.decode(undefined as unknown as string))).toBe('invalid-state');
    }
  });
});

type Path = readonly (string | number)[];
type Mutation = { kind: 'replace'; value: unknown } | { kind: 'delete' } | { kind: 'add'; key: string; value: unknown } | { kind: 'tweak'; at: number; char: string };

/** Every path in a JSON value (the root included). Long arrays contribute their first and last few elements. */
function pathsOf(value: unknown, path: Path = []): Path[] {
  const out: Path[] = [path];
  if (Array.isArray(value)) {
    const indexes = value.length <= 6 ? value.map((_, i) => i) : [0, 1, 2, value.length - 2, value.length - 1];
    for (const i of indexes) out.push(...pathsOf(value[i], [...path, i]));
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...path, k]));
  }
  return out;
}

/** Applies a mutation at `path`; the root can only be replaced or tweaked. */
function mutate(root: unknown, path: Path, change: Mutation): unknown {
  const target = (value: unknown): unknown => {
    switch (change.kind) {
      case 'replace':
        return change.value;
      case 'tweak':
        if (typeof value === 'string') { const i = change.at % (value.length + 1); return value.slice(0, i) + change.char + value.slice(i + 1); }
        if (typeof value === 'number') return value + (change.at % 3) - 1;
        return value;
      case 'add':
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { ...value, [change.key]: change.value };
        if (Array.isArray(value)) return [...value, change.value];
        return value;
      case 'delete':
        return value;
    }
  };
  if (path.length === 0) return target(root);
  const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], root);
  const last = path[path.length - 1]!;
  if (change.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else {
    parent[last] = target(parent[last]);
  }
  return root;
}

/** `'ok'`, or the SealError code thrown; any other exception is reported as such and fails the assertion. */
function outcome(run: () => unknown): string {
  try {
    run();
    return 'ok';
  } catch (e) {
    return isSealError(e) ? e.code : `not a SealError: ${String(e)}`;
  }
}
