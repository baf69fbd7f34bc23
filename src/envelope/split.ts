/**
 * Keeping a sealed stanza within a server's stanza size limit: when a message with the handshake
 * header of every unconfirmed session would be too large, the headers go ahead in key-only
 * stanzas of a bounded number of devices, and the message follows without them. One function for
 * one-to-one messages (§envelope.wire, envelope.stanza-size) and room messages (§groups.limits,
 * groups.size).
 *
 * @see spec §envelope.wire
 * @module
 */
import { utf8Encode } from '../codec/bytes.js';
import { SealError } from '../errors.js';
import type { DeviceId } from '../identity/device.js';
import type { BareJid } from '../identity/jid.js';
import type { Element } from '../wire/xml.js';
import { type PeerSession, sessionKey } from './envelope.js';

/** The UTF-8 length of a stanza's XML. @see spec §envelope.wire */
export function stanzaBytes(stanza: Element): number {
  return utf8Encode(stanza.toString()).length;
}

/** A recipient device. */
export interface Recipient {
  readonly jid: BareJid;
  readonly deviceId: DeviceId;
}

/** A sealing function: the stanza for the given sessions, and the sessions after it. */
export type Sealer<A extends unknown[]> = (...args: A) => { stanza: Element; sessions: Map<string, PeerSession> };

/**
 * Seals a message for `recipients` within `maxBytes`: `seal(sessions)` seals the message (with the
 * header of each unconfirmed session attached, as `sealStanza` does); when its stanza is larger
 * than `maxBytes`, `sealKeys(batch, sessions, n)` seals the `n`th key-only stanza for at most
 * `batch` unconfirmed devices (carrying their headers), and the message is sealed once more with
 * those sessions marked as not needing a header. The sessions stay unconfirmed afterwards, so a
 * later message attaches the headers again while it fits.
 *
 * Implements requirements `envelope.stanza-size` (one-to-one) and `groups.size` (rooms).
 *
 * @param input.what - names the conversation in error messages (`bob@example.org`, `room r@muc…`).
 * @returns the stanzas in sending order (key-only stanzas, then the message) and the sessions.
 * @throws SealError `too-large` when the message exceeds `maxBytes` even without headers, or a
 *   key-only stanza does; any error of `seal` and `sealKeys`.
 * @see spec §envelope.wire
 * @see spec §groups.limits
 */
export function sealWithinLimit(input: {
  readonly recipients: readonly Recipient[];
  readonly sessions: ReadonlyMap<string, PeerSession>;
  readonly maxBytes: number;
  readonly batch: number;
  readonly what: string;
  readonly seal: Sealer<[sessions: ReadonlyMap<string, PeerSession>]>;
  readonly sealKeys: Sealer<[batch: readonly Recipient[], sessions: ReadonlyMap<string, PeerSession>, index: number]>;
}): { stanzas: Element[]; sessions: Map<string, PeerSession> } {
  const { recipients, maxBytes, what } = input;
  const whole = input.seal(input.sessions);
  if (stanzaBytes(whole.stanza) <= maxBytes) return { stanzas: [whole.stanza], sessions: whole.sessions };
  let sessions = new Map(input.sessions);
  const unconfirmed = recipients.filter((r) => sessions.get(sessionKey(r.jid, r.deviceId))?.confirmation.state === 'unconfirmed');
  const stanzas: Element[] = [];
  for (let i = 0; i < unconfirmed.length; i += input.batch) {
    const batch = unconfirmed.slice(i, i + input.batch);
    const keys = input.sealKeys(batch, sessions, stanzas.length + 1);
    if (stanzaBytes(keys.stanza) > maxBytes) throw new SealError('too-large', `${what}: a key-only stanza for ${batch.length} devices exceeds ${maxBytes} bytes`);
    stanzas.push(keys.stanza);
    sessions = keys.sessions;
  }
  const withoutHeaders = new Map(sessions);
  for (const r of unconfirmed) {
    const key = sessionKey(r.jid, r.deviceId);
    withoutHeaders.set(key, { ...sessions.get(key)!, confirmation: { state: 'confirmed' } });
  }
  const message = input.seal(withoutHeaders);
  if (stanzaBytes(message.stanza) > maxBytes) throw new SealError('too-large', `${what}: the message to ${recipients.length} devices exceeds ${maxBytes} bytes even without handshake headers`);
  for (const r of unconfirmed) {
    const key = sessionKey(r.jid, r.deviceId);
    message.sessions.set(key, { ...message.sessions.get(key)!, confirmation: sessions.get(key)!.confirmation });
  }
  stanzas.push(message.stanza);
  return { stanzas, sessions: message.sessions };
}
