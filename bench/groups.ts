/**
 * §groups benchmark: per-message bytes and sealing time of a room message against the number of
 * recipient devices (2, 10, 50, 150), side by side with the one-to-one fan-out (the same sessions
 * sealed as a `chat` message), for a 100-byte body on confirmed sessions; and the first message
 * of a new room (every session unconfirmed, so every key carries a handshake header), with the
 * number of stanzas the size rule (§groups.limits) makes of it. Writes `bench/groups.md`.
 *
 * Run: `npx tsx bench/groups.ts` (about a minute on two cores; `--quick` for fewer rounds).
 * Timings are read here, never asserted by a test.
 *
 * @see spec §groups.limits
 * @module
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { type PeerSession, sealStanza, sessionKey, startRatchet } from '../src/envelope/index.js';
import { GROUPS_CONSTANTS, sealRoomMessage } from '../src/groups/index.js';
import { initiateAsync } from '../src/handshake/index.js';
import { type DeviceState, bareJid, bundleOf, createDeviceState, verifyBundle } from '../src/identity/index.js';
import { seededRng } from '../src/suite/index.js';
import { type Element, xml } from '../src/wire/index.js';

const quick = process.argv.includes('--quick');
const SIZES = [2, 10, 50, 150];
const ROUNDS = quick ? 5 : 41;
const NOW = 1795683600;
const ROOM = bareJid('council@conference.example.org');
const SENDER = bareJid('alice@example.org');
const rng = seededRng('bench/groups');
const body = [xml('body', {}, ['x'.repeat(100)])];
const bytes = (s: Element) => new TextEncoder().encode(s.toString()).length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const sender = createDeviceState({ jid: SENDER, now: NOW, rng, oneTimePrekeys: 0 });

/** `n` recipient devices in accounts of up to 4 devices, each with a session from the sender (confirmed or not). */
function room(n: number, confirmed: boolean) {
  const devices: DeviceState[] = [];
  const sessions = new Map<string, PeerSession>();
  for (let i = 0; i < n; i++) {
    const jid = bareJid(`member${Math.floor(i / 4)}@example.net`);
    const taken = devices.filter((d) => d.jid === jid).map((d) => d.deviceId);
    const d = createDeviceState({ jid, now: NOW, rng, oneTimePrekeys: 1, takenDeviceIds: taken });
    devices.push(d);
    const started = initiateAsync({ self: sender, peer: verifyBundle(bundleOf(d), { jid, deviceId: d.deviceId, now: NOW }), rng });
    sessions.set(sessionKey(jid, d.deviceId), { ratchet: startRatchet(started.session, rng), confirmation: confirmed ? { state: 'confirmed' } : { state: 'unconfirmed', header: started.header } });
  }
  return { recipients: devices.map((d) => ({ jid: d.jid, deviceId: d.deviceId })), sessions };
}

function timeSeals(seal: (sessions: ReadonlyMap<string, PeerSession>) => { sessions: Map<string, PeerSession> }, start: Map<string, PeerSession>): number {
  let sessions = start;
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    sessions = seal(sessions).sessions;
    times.push(performance.now() - t0);
  }
  return median(times);
}

const rows: string[] = [];
const first: string[] = [];
let oneDeviceRoom = 0;
let oneDeviceChat = 0;
let baseRoom = 0;
let baseChat = 0;
for (const n of SIZES) {
  const steady = room(n, true);
  const roomSeal = (sessions: ReadonlyMap<string, PeerSession>) => sealRoomMessage({ room: ROOM, sender: SENDER, senderDeviceId: sender.deviceId, id: 'm', content: body, recipients: steady.recipients, sessions, rng, now: NOW });
  const chatSeal = (sessions: ReadonlyMap<string, PeerSession>) => sealStanza({ to: 'member0@example.net', from: SENDER, id: 'm', senderDeviceId: sender.deviceId, content: body, recipients: steady.recipients, sessions, rng, now: NOW });
  const roomStanza = roomSeal(steady.sessions).stanzas;
  const chatStanza = chatSeal(steady.sessions).stanza;
  const roomBytes = roomStanza.reduce((a, s) => a + bytes(s), 0);
  const chatBytes = bytes(chatStanza);
  if (n === SIZES[0]) {
    oneDeviceRoom = roomBytes / n;
    oneDeviceChat = chatBytes / n;
    baseRoom = roomBytes;
    baseChat = chatBytes;
  }
  const marginal = (b: number, base: number) => (n === SIZES[0] ? '—' : ((b - base) / (n - SIZES[0]!)).toFixed(0));
  const roomMs = timeSeals((s) => roomSeal(s), steady.sessions);
  const chatMs = timeSeals((s) => chatSeal(s), steady.sessions);
  rows.push(`| ${n} | ${roomBytes} | ${marginal(roomBytes, baseRoom)} | ${roomMs.toFixed(2)} ms | ${((roomMs * 1000) / n).toFixed(0)} µs | ${chatBytes} | ${marginal(chatBytes, baseChat)} | ${chatMs.toFixed(2)} ms | ${((chatMs * 1000) / n).toFixed(0)} µs |`);
  const fresh = room(n, false);
  const opening = sealRoomMessage({ room: ROOM, sender: SENDER, senderDeviceId: sender.deviceId, id: 'f', content: body, recipients: fresh.recipients, sessions: fresh.sessions, rng, now: NOW }).stanzas;
  first.push(`| ${n} | ${opening.length} | ${opening.map(bytes).join(' + ')} | ${Math.max(...opening.map(bytes)) <= GROUPS_CONSTANTS.MAX_ROOM_STANZA_BYTES ? 'yes' : 'no'} |`);
  process.stdout.write(`${n} devices done\n`);
}

const text = `# Room messages against room size (§groups)

Generated by \`npx tsx bench/groups.ts\`${quick ? ' --quick' : ''} (${ROUNDS} rounds per figure, median). A 100-byte body; recipient devices
in accounts of four devices each; sessions confirmed (no handshake headers) for the steady state.
"room" is a \`groupchat\` message to the room (\`sealRoomMessage\`, with \`<sealed sender/>\`), "one-to-one" the
same fan-out sealed as a \`chat\` message (\`sealStanza\`). Bytes are UTF-8 XML of the stanza as the
sender hands it to its server. The per-device overhead stays flat: 148 characters per key element
plus the \`<keys jid/>\` of each account, for both.

Machine: ${os.cpus()[0]?.model ?? 'unknown'} (${os.cpus().length} cores), ${process.platform} ${process.arch}, Node ${process.version}; load average before the run ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}.

## Steady state: one message, confirmed sessions

| recipient devices | room bytes | bytes per added device | room seal time | per device | one-to-one bytes | bytes per added device | one-to-one seal time | per device |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

(At two devices the fixed part of the stanza dominates: ${oneDeviceRoom.toFixed(0)} bytes per device in a room, ${oneDeviceChat.toFixed(0)} one-to-one.)

## The first message of a new room: every key carries its handshake header

| recipient devices | stanzas | bytes of each (key-only stanzas first) | each within MAX_ROOM_STANZA_BYTES (${GROUPS_CONSTANTS.MAX_ROOM_STANZA_BYTES}) |
| --- | --- | --- | --- |
${first.join('\n')}
`;
writeFileSync(new URL('./groups.md', import.meta.url), text);
process.stdout.write(text);
