/**
 * §handshake.exporter and key confirmation: exporter keys agree and are independent per label and
 * context; Jingle DTLS fingerprints are authenticated by the session; the initiator attaches its
 * header until the first reply.
 */
import { describe, expect, it } from 'vitest';
import { toHex, utf8Encode } from '../src/codec/bytes.js';
import { authenticateDtlsFingerprints, confirmedByReply, exportKey, headerToAttach, initiateAsync, respondAsync, verifyDtlsFingerprints, type KeyConfirmation } from '../src/handshake/index.js';
import { bundleOf, createDeviceState, verifyBundle } from '../src/identity/index.js';
import { seededRng } from '../src/suite/index.js';
import { DtlsFingerprintsElement, parseXml } from '../src/wire/index.js';
import { codeOf } from './support/errors.js';

const NOW = 1795683600;
const alice = createDeviceState({ jid: 'alice@example.org', now: NOW, rng: seededRng('alice'), oneTimePrekeys: 1 });
const bob = createDeviceState({ jid: 'bob@example.net', now: NOW, rng: seededRng('bob'), oneTimePrekeys: 1 });
const started = initiateAsync({ self: alice, peer: verifyBundle(bundleOf(bob), { jid: bob.jid, deviceId: bob.deviceId, now: NOW }), rng: seededRng('h') });
const done = respondAsync({ self: bob, log: [], header: started.header, initiatorJid: alice.jid, initiatorDeviceId: alice.deviceId, now: NOW });
if (done.kind !== 'established') throw new Error('handshake failed');
const [a, b] = [started.session, done.session];

describe('§handshake.exporter', () => {
  it('gives both sides the same key, independent per label, context and length', () => {
    // @req handshake.exporter
    const key = toHex(exportKey(a, 'file transfer', utf8Encode('sid-1'), 32));
    expect(toHex(exportKey(b, 'file transfer', utf8Encode('sid-1'), 32))).toBe(key);
    expect(toHex(exportKey(a, 'file transfer', utf8Encode('sid-2'), 32))).not.toBe(key);
    expect(toHex(exportKey(a, 'other use', utf8Encode('sid-1'), 32))).not.toBe(key);
    expect(toHex(exportKey(a, 'file transfer', utf8Encode('sid-1'), 64)).slice(0, 64)).not.toBe(key);
    expect(key).not.toBe(toHex(a.rootKey.dangerouslyExposeBytes()));
    expect(codeOf(() => exportKey(a, '', new Uint8Array(), 32))).toBe('invalid-value');
    expect(codeOf(() => exportKey(a, ' x', new Uint8Array(), 32))).toBe('invalid-value');
    expect(codeOf(() => exportKey(a, 'x'.repeat(191), new Uint8Array(), 32))).toBe('ok');
    expect(codeOf(() => exportKey(a, 'x'.repeat(192), new Uint8Array(), 32))).toBe('invalid-value');
  });

  it('authenticates Jingle DTLS fingerprints; any mismatch fails', () => {
    // @req handshake.jingle-dtls
    const fingerprint = { hash: 'sha-256' as const, value: seededRng('cert')(32) };
    // Alice initiated the Jingle session 1; Bob answers it.
    const sent = authenticateDtlsFingerprints(a, { sid: 'jingle-sid-1', role: 'initiator' }, [fingerprint]);
    const received = DtlsFingerprintsElement.fromXml(parseXml(DtlsFingerprintsElement.toXml(sent).toString()));
    expect(received.deviceId).toBe(alice.deviceId);
    expect(codeOf(() => verifyDtlsFingerprints(b, { sid: 'jingle-sid-1', role: 'responder' }, received, fingerprint))).toBe('ok');
    expect(codeOf(() => verifyDtlsFingerprints(b, { sid: 'jingle-sid-2', role: 'responder' }, received, fingerprint))).toBe('authentication-failed');
    expect(codeOf(() => verifyDtlsFingerprints(b, { sid: 'jingle-sid-1', role: 'responder' }, received, { ...fingerprint, value: seededRng('other cert')(32) }))).toBe('authentication-failed');
    const swapped = { ...received, fingerprints: [{ hash: 'sha-256' as const, value: seededRng('mitm cert')(32) }] };
    expect(codeOf(() => verifyDtlsFingerprints(b, { sid: 'jingle-sid-1', role: 'responder' }, swapped, swapped.fingerprints[0]!))).toBe('authentication-failed');
    expect(codeOf(() => DtlsFingerprintsElement.toXml({ ...sent, fingerprints: [{ hash: 'sha-384', value: fingerprint.value }] }))).toBe('schema-violation');
  });

  it('binds the sender\'s device and Jingle role: a reflected element, one naming another device or role, fails', () => {
    // @req handshake.jingle-binding
    const fingerprint = { hash: 'sha-256' as const, value: seededRng('cert')(32) };
    const jingle = { sid: 'jingle-sid-1', role: 'initiator' as const };
    const fromAlice = authenticateDtlsFingerprints(a, jingle, [fingerprint]);
    // Reflected: Alice's own element handed back to Alice (same session secret, same sid) fails,
    // whatever role Alice believes she has: it names her own device and her role, not her peer's.
    expect(codeOf(() => verifyDtlsFingerprints(a, { sid: 'jingle-sid-1', role: 'initiator' }, fromAlice, fingerprint))).toBe('authentication-failed');
    expect(codeOf(() => verifyDtlsFingerprints(a, { sid: 'jingle-sid-1', role: 'responder' }, fromAlice, fingerprint))).toBe('authentication-failed');
    // Bob believing he initiated (both sides claim the initiator role): fails.
    expect(codeOf(() => verifyDtlsFingerprints(b, { sid: 'jingle-sid-1', role: 'initiator' }, fromAlice, fingerprint))).toBe('authentication-failed');
    // Another device id on the element (a cross-device element, or the attribute edited): fails.
    expect(codeOf(() => verifyDtlsFingerprints(b, { sid: 'jingle-sid-1', role: 'responder' }, { ...fromAlice, deviceId: alice.deviceId + 1 }, fingerprint))).toBe('authentication-failed');
    // The MAC really covers the role: the same fingerprints under the other role give another MAC.
    const asResponder = authenticateDtlsFingerprints(a, { sid: 'jingle-sid-1', role: 'responder' }, [fingerprint]);
    expect(toHex(asResponder.mac)).not.toBe(toHex(fromAlice.mac));
    // Bob's own element, for the same Jingle session, verifies at Alice.
    const fromBob = authenticateDtlsFingerprints(b, { sid: 'jingle-sid-1', role: 'responder' }, [fingerprint]);
    expect(codeOf(() => verifyDtlsFingerprints(a, jingle, fromBob, fingerprint))).toBe('ok');
  });

  it('accepts a Jingle sid of 1 to 255 UTF-8 bytes, exactly what the MAC encodes: a longer one is a schema violation, never a length error at verification', () => {
    // @req handshake.jingle-sid
    const fingerprint = { hash: 'sha-256' as const, value: seededRng('cert')(32) };
    const colon = [...fingerprint.value].map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join(':');
    const element = (sid: string) => `<dtls-fingerprints xmlns='urn:xmpp:seal:0' device='${alice.deviceId}' sid='${sid}' mac='${'A'.repeat(43)}='><fingerprint hash='sha-256'>${colon}</fingerprint></dtls-fingerprints>`;
    for (const sid of ['s', 'x'.repeat(255), '\u00e9'.repeat(127)]) {
      // Within the bound: the element validates, and the session decides (the MAC here is all zeros).
      const received = DtlsFingerprintsElement.fromXml(parseXml(element(sid)));
      expect(codeOf(() => verifyDtlsFingerprints(b, { sid, role: 'responder' }, received, fingerprint))).toBe('authentication-failed');
      const sent = authenticateDtlsFingerprints(a, { sid, role: 'initiator' }, [fingerprint]);
      expect(codeOf(() => verifyDtlsFingerprints(b, { sid, role: 'responder' }, DtlsFingerprintsElement.fromXml(parseXml(DtlsFingerprintsElement.toXml(sent).toString())), fingerprint))).toBe('ok');
    }
    // 256 characters, and 128 two-byte characters (256 bytes): the schema said yes and verification said length-out-of-range.
    for (const sid of ['x'.repeat(256), '\u00e9'.repeat(128)]) {
      expect(codeOf(() => DtlsFingerprintsElement.fromXml(parseXml(element(sid))))).toBe('schema-violation');
      expect(codeOf(() => DtlsFingerprintsElement.toXml({ deviceId: alice.deviceId, sid, fingerprints: [fingerprint], mac: new Uint8Array(32) }))).toBe('schema-violation');
    }
  });

  it('attaches the handshake header until the responder has replied', () => {
    // @req handshake.key-confirmation
    let confirmation: KeyConfirmation = { state: 'unconfirmed', header: started.header };
    expect(headerToAttach(confirmation)).toBe(started.header);
    expect(headerToAttach(confirmation)).toBe(started.header);
    confirmation = confirmedByReply(confirmation);
    expect(headerToAttach(confirmation)).toBeUndefined();
  });
});
