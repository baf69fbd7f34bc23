/**
 * §identity.devices and §identity.trust: the device list binds each device id to its identity
 * signing key. A verified account key vouches for the listed keys only, so a server that serves
 * its own (correctly self-signed) bundle for a listed device id gets neither a verified bundle nor
 * trust; the keys survive XML and the canonical encoding, and the account signature covers them.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../src/codec/bytes.js';
import {
  type DeviceState,
  addDevice,
  bareJid,
  bundleNode,
  bundleOf,
  createDeviceList,
  createDeviceState,
  decide,
  DEVICE_LIST_NODE,
  isTrusted,
  ITEM_ID,
  listedSigningKey,
  observeAccountKey,
  observeDeviceKey,
  verifyBundle,
  verifyDeviceList,
} from '../src/identity/index.js';
import { sessionKey } from '../src/envelope/index.js';
import { EmbeddedServer, SealClient } from '../src/net/index.js';
import { ed25519PublicKeyOf, generateEd25519KeyPair, seededRng } from '../src/suite/index.js';
import { BundleElement, DeviceListElement, childElements, deviceListContent, encodeDeviceList, parseXml, xml, type DeviceListValue } from '../src/wire/index.js';
import { DeviceListCodec } from '../src/wire/devices.js';
import { decode } from '../src/codec/binary.js';
import { codeOf } from './support/errors.js';

const NOW = 1795683600; // 2026-11-26T09:00:00Z
const juliet = bareJid('juliet@capulet.lit');
const rng = seededRng('identity devicelist test');
const laptop = createDeviceState({ jid: juliet, now: NOW, rng, oneTimePrekeys: 1 });
const phone = createDeviceState({ jid: juliet, now: NOW, rng, oneTimePrekeys: 1, takenDeviceIds: [laptop.deviceId] });
const account = generateEd25519KeyPair(rng);
const entry = (state: DeviceState, label?: string) => ({ id: state.deviceId as number, added: NOW - 100, signingKey: ed25519PublicKeyOf(state.signingKey), ...(label === undefined ? {} : { label }) });
const signed = createDeviceList(juliet, [entry(laptop, 'Laptop'), entry(phone)], NOW, { secretKey: account.secretKey });
const unsigned = createDeviceList(juliet, [entry(laptop, 'Laptop'), entry(phone)], NOW);

/** The server's own device state for the phone's id: a correctly self-signed bundle under another key. */
const forgedPhone: DeviceState = { ...createDeviceState({ jid: juliet, now: NOW, rng: seededRng('server-made'), oneTimePrekeys: 1 }), deviceId: phone.deviceId };
const forgedBundle = bundleOf(forgedPhone);

describe('§identity.devices: listed keys', () => {
  it('carries each device\'s signing key in XML (signing attribute, base64) and in the canonical encoding', () => {
    // @req identity.device-list-keys
    const element = DeviceListElement.toXml(signed);
    const devices = childElements(element).filter((c) => c.name === 'device');
    expect(devices.map((d) => d.attrs.signing)).toEqual(signed.devices.map((d) => Buffer.from(d.signingKey).toString('base64')));
    for (const list of [signed, unsigned, createDeviceList(juliet, [entry(phone, 'Phone')], NOW, { secretKey: account.secretKey, bindings: [{ kind: 'x509', certificate: new Uint8Array([1]), signature: new Uint8Array([2]) }] })]) {
      expect(DeviceListElement.fromXml(parseXml(DeviceListElement.toXml(list).toString()))).toEqual(list);
      expect(decode(DeviceListCodec, encodeDeviceList(list))).toEqual(list);
    }
    // DeviceEntry is id (4) + added (8) + signing_key (32) + label length (1) + label.
    const one = createDeviceList(juliet, [entry(phone)], NOW);
    expect(encodeDeviceList(one).length).toBe(8 + 1 + (4 + 8 + 32 + 1) + 1);
    expect(toHex(deviceListContent(juliet, one, account.publicKey))).toContain(toHex(ed25519PublicKeyOf(phone.signingKey)));
    const verified = verifyDeviceList(juliet, signed);
    expect(toHex(listedSigningKey(verified, phone.deviceId)!)).toBe(toHex(ed25519PublicKeyOf(phone.signingKey)));
    expect(listedSigningKey(verified, 1)).toBeUndefined();
  });

  it('requires the key on every <device/>, of 32 bytes in canonical base64, and a valid Ed25519 point', () => {
    // @req identity.device-list-keys
    // @req identity.key-check
    const withAttr = (value: string | undefined) => {
      const element = DeviceListElement.toXml(unsigned);
      const attrs = childElements(element)[0]!.attrs as Record<string, string>;
      if (value === undefined) delete attrs.signing;
      else attrs.signing = value;
      return element.toString();
    };
    const key = Buffer.from(ed25519PublicKeyOf(laptop.signingKey));
    expect(codeOf(() => DeviceListElement.fromXml(parseXml(withAttr(undefined))))).toBe('schema-violation');
    expect(codeOf(() => DeviceListElement.fromXml(parseXml(withAttr(key.subarray(1).toString('base64')))))).toBe('invalid-length');
    expect(codeOf(() => DeviceListElement.fromXml(parseXml(withAttr(key.toString('base64').replace('=', '')))))).toBe('invalid-base64');
    const identityPoint = new Uint8Array(32);
    identityPoint[0] = 1;
    expect(codeOf(() => createDeviceList(juliet, [{ ...entry(laptop), signingKey: identityPoint }], NOW))).toBe('invalid-key');
    expect(codeOf(() => verifyDeviceList(juliet, { ...unsigned, devices: [{ ...entry(laptop), signingKey: identityPoint }] }))).toBe('invalid-key');
    expect(codeOf(() => createDeviceList(juliet, [{ ...entry(laptop), signingKey: new Uint8Array(31) }], NOW))).toBe('invalid-length');
  });

  it('is covered by the account signature: replacing a listed key after signing breaks it', () => {
    // @req identity.account-signature
    // @req identity.device-list-keys
    const swapped: DeviceListValue = { ...signed, devices: signed.devices.map((d) => (d.id === phone.deviceId ? { ...d, signingKey: ed25519PublicKeyOf(forgedPhone.signingKey) } : d)) };
    expect(codeOf(() => verifyDeviceList(juliet, swapped))).toBe('authentication-failed');
    expect(codeOf(() => verifyDeviceList(juliet, DeviceListElement.fromXml(parseXml(DeviceListElement.toXml(swapped).toString()))))).toBe('authentication-failed');
    // Re-adding a device with a new key is a change the account key holder signs.
    const rekeyed = addDevice(juliet, signed, { ...entry(forgedPhone) }, NOW + 1, { secretKey: account.secretKey });
    expect(toHex(listedSigningKey(verifyDeviceList(juliet, rekeyed), phone.deviceId)!)).toBe(toHex(ed25519PublicKeyOf(forgedPhone.signingKey)));
  });

  it('rejects a bundle whose key is not the one the signed list names (the server-made bundle)', () => {
    // @req identity.device-list-keys
    const list = verifyDeviceList(juliet, signed);
    const context = { jid: juliet, deviceId: phone.deviceId, now: NOW };
    // Without the list the server's bundle verifies: its self-signature is correct.
    expect(codeOf(() => verifyBundle(forgedBundle, context))).toBe('ok');
    expect(codeOf(() => verifyBundle(forgedBundle, { ...context, deviceList: list }))).toBe('identity-key-changed');
    expect(codeOf(() => verifyBundle(bundleOf(phone), { ...context, deviceList: list }))).toBe('ok');
    // A list of another account is a misuse.
    const romeo = bareJid('romeo@montague.lit');
    expect(codeOf(() => verifyBundle(bundleOf(phone), { ...context, deviceList: { ...list, jid: romeo } }))).toBe('invalid-value');
  });

  it('compares an unsigned list\'s key too, though it is only a hint', () => {
    // @req identity.device-list-key-hint
    const list = verifyDeviceList(juliet, unsigned);
    const context = { jid: juliet, deviceId: phone.deviceId, now: NOW, deviceList: list };
    expect(codeOf(() => verifyBundle(forgedBundle, context))).toBe('identity-key-changed');
    expect(codeOf(() => verifyBundle(bundleOf(phone), context))).toBe('ok');
  });
});

describe('§identity.devices: the order of checks, and which error each failure gives', () => {
  it('count, key encoding, schema, key validity and uniqueness, signature: the first failure names the error; entry order is the signed order', () => {
    // @req identity.device-list
    const rng = seededRng('check order');
    const jid = bareJid('order@example.org');
    const account = generateEd25519KeyPair(rng);
    const entry = (id: number) => ({ id, added: 1000, signingKey: generateEd25519KeyPair(rng).publicKey });
    const text = DeviceListElement.toXml(createDeviceList(jid, [entry(5), entry(3)], 2000, { secretKey: account.secretKey })).toString();
    const [first, second] = [...text.matchAll(/<device [^>]*\/>/g)].map((m) => m[0]);
    const verdict = (t: string) => codeOf(() => verifyDeviceList(jid, DeviceListElement.fromXml(parseXml(t))));
    const signing = (e: string, bytes: Buffer) => e.replace(/signing="[^"]*"/, `signing="${bytes.toString('base64')}"`);
    const smallOrder = Buffer.from('01'.padEnd(64, '0'), 'hex');
    expect(verdict(text)).toBe('ok');
    expect(verdict(text.replace(first!, '').replace(second!, ''))).toBe('length-out-of-range');
    // 65 entries with a bad id among them: the count is checked first.
    expect(verdict(text.replace('id="3"', 'id="0"').replace(second!, second!.repeat(64)))).toBe('length-out-of-range');
    expect(verdict(text.replace(first!, signing(first!, Buffer.alloc(31))).replace('id="5"', 'id="0"'))).toBe('invalid-length');
    expect(verdict(text.replace('id="5"', 'id="0"').replace(second!, signing(second!, smallOrder)))).toBe('schema-violation');
    expect(verdict(text.replace(second!, signing(first!, smallOrder)))).toBe('invalid-key');
    expect(verdict(text.replace(second!, first!))).toBe('duplicate-id');
    // Sorted on creation; a receiver does not re-sort: swapped entries break the signature.
    expect(verdict(text.replace(first!, 'X').replace(second!, first!).replace('X', second!))).toBe('authentication-failed');
  });
});

describe('§identity.trust: a verified account key vouches for the listed keys only', () => {
  const phoneKey = ed25519PublicKeyOf(phone.signingKey);
  const forgedKey = ed25519PublicKeyOf(forgedPhone.signingKey);
  const list = verifyDeviceList(juliet, signed);
  const verifiedAccount = decide(observeAccountKey({}, list).store, juliet, 'account', account.publicKey, 'verified');

  it('trusts the listed key and not a server key presented for the same device id', () => {
    // @req identity.trust-listed-key
    for (const policy of ['manual', 'blind-trust-before-verification'] as const) {
      const honest = observeDeviceKey(verifiedAccount, juliet, phone.deviceId, phoneKey).store;
      expect(isTrusted(honest, policy, juliet, phone.deviceId, phoneKey, list)).toBe(true);
      // The client has not seen the phone before; the server presents its own key for the id.
      const attacked = observeDeviceKey(verifiedAccount, juliet, phone.deviceId, forgedKey).store;
      expect(isTrusted(attacked, policy, juliet, phone.deviceId, forgedKey, list)).toBe(false);
    }
  });

  it('counts a list only under the recorded account key, and for its own account', () => {
    // @req identity.trust-listed-key
    const honest = observeDeviceKey(verifiedAccount, juliet, phone.deviceId, phoneKey).store;
    const other = generateEd25519KeyPair(seededRng('other account key'));
    const otherList = verifyDeviceList(juliet, createDeviceList(juliet, signed.devices, NOW, { secretKey: other.secretKey }));
    expect(isTrusted(honest, 'manual', juliet, phone.deviceId, phoneKey, otherList)).toBe(false);
    expect(isTrusted(honest, 'manual', juliet, phone.deviceId, phoneKey, verifyDeviceList(juliet, unsigned))).toBe(false);
    expect(isTrusted(honest, 'manual', juliet, phone.deviceId, phoneKey, undefined)).toBe(false);
    const romeo = bareJid('romeo@montague.lit');
    expect(isTrusted(honest, 'manual', romeo, phone.deviceId, phoneKey, { ...list, jid: romeo })).toBe(false);
  });

  it('distrusts every device id listed under a distrusted account key, whatever key it presents', () => {
    // @req identity.trust-distrusted
    const distrusted = decide(verifiedAccount, juliet, 'account', account.publicKey, 'distrusted');
    const forged = observeDeviceKey(distrusted, juliet, phone.deviceId, forgedKey).store;
    expect(isTrusted(decide(forged, juliet, { deviceId: phone.deviceId }, forgedKey, 'verified'), 'manual', juliet, phone.deviceId, forgedKey, list)).toBe(false);
  });
});

describe('§identity.devices over the network: SealClient does not encrypt to a server-made bundle', () => {
  it('rejects, before any session, a bundle served for a listed device id under another key', async () => {
    // @req identity.device-list-keys
    let clock = Date.UTC(2026, 10, 26, 9);
    const now = () => Math.floor((clock += 1000) / 1000);
    const server = new EmbeddedServer({ clock: () => clock, rng: seededRng('devicelist server') });
    const alice = bareJid('alice@example.org');
    const bob = bareJid('bob@example.net');
    server.createAccount(alice);
    server.createAccount(bob);
    const clientRng = seededRng('devicelist clients');
    const a = await SealClient.create({ connection: server.connect(`${alice}/a`), now, rng: clientRng, oneTimePrekeys: 2 });
    const b1 = await SealClient.create({ connection: server.connect(`${bob}/b1`), now, rng: clientRng, oneTimePrekeys: 2 });
    // Lists are signed by the account key the first device created; the second device is given it.
    const b2 = await SealClient.create({ connection: server.connect(`${bob}/b2`), now, rng: clientRng, oneTimePrekeys: 2, accountSecret: b1.dangerouslyAccountSecret()! });
    const current = DeviceListElement.fromXml(childElements(server.pepItems(bob, DEVICE_LIST_NODE)[0]!)[0]!);
    expect(current.devices.map((d) => toHex(d.signingKey)).sort()).toEqual([b1, b2].map((c) => toHex(ed25519PublicKeyOf(c.state.signingKey))).sort());
    expect(current.account).toBeDefined();
    // The server answers for b2's bundle node with its own device's bundle.
    const mallory: DeviceState = { ...createDeviceState({ jid: bob, now: now(), rng: seededRng('mallory'), oneTimePrekeys: 1 }), deviceId: b2.state.deviceId };
    server.adversary.rewritePepItem = (owner, node) => (owner === bob && node === bundleNode(b2.state.deviceId) ? xml('item', { id: ITEM_ID }, [BundleElement.toXml(bundleOf(mallory))]) : undefined);
    // The send goes to b1 only; the substituted bundle is a typed failure, never a session.
    await a.send(bob, 'hello');
    expect(a.events.some((e) => e.kind === 'failed' && e.code === 'identity-key-changed' && e.from?.deviceId === b2.state.deviceId)).toBe(true);
    expect(a.sessions.has(sessionKey(bob, b2.state.deviceId))).toBe(false); // no session with the server's key
    expect(a.sessions.has(sessionKey(bob, b1.state.deviceId))).toBe(true);
    // With the honest bundle, the same send goes through to both of Bob's devices.
    delete server.adversary.rewritePepItem;
    await a.send(bob, 'hello');
    expect([...a.sessions.keys()].sort()).toEqual([sessionKey(bob, b1.state.deviceId), sessionKey(bob, b2.state.deviceId)].sort());
  });
});
