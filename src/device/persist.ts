/**
 * The engine state as store records and back: which records one step changed (the commit), and
 * the complete validation of every record when a device is restored. A corrupted record is an
 * `invalid-state` error, never a device that runs on half-read state.
 *
 * @see spec §device.store
 * @module
 */
import { openedFiles } from './files.js';
import { clockFields } from './clock.js';
import * as z from 'zod/mini';
import { SealError, isSealError } from '../errors.js';
import { bareJid } from '../identity/jid.js';
import { deviceId as toDeviceId } from '../identity/device.js';
import { dangerouslyExportDeviceState, importDeviceState } from '../identity/state.js';
import { MAX_XML_CHARS, parseXml } from '../wire/xml.js';
import type { AccountRecord, EngineState, HeldStanza, InboxEvent, PeerRecord } from './state.js';
import {
  dangerouslyEncodeAccountSecret,
  dangerouslyEncodeSession,
  decodeAccountSecret,
  decodeAccountTrust,
  decodeDeviceListRecord,
  decodeHandshakeLog,
  decodeSession,
  decodeTimestamps,
  encodeAccountTrust,
  encodeDeviceListRecord,
  encodeHandshakeLog,
  encodeTimestamps,
} from './records.js';
import type { StoreCommit, StoreRecord, StoreTable } from './store.js';
import type { RoomRecord } from '../groups/room.js';
import { decodeRoomRecord, encodeRoomRecord } from './groups.js';

const VERSION = 1;
const SELF = 'self';

/** The persisted part of an engine state. */
export type EngineRecords = Omit<EngineState, 'interactive' | 'queries' | 'pendingRepairs' | 'listTexts' | 'listFetchedAt' | 'roomQueries'>;

const hex64 = z.string().check(z.regex(/^[0-9a-f]{64}$/));
const seconds = z.int().check(z.gte(0), z.lte(Number.MAX_SAFE_INTEGER));
const jidText = z.string().check(z.minLength(1), z.maxLength(3071));
const id = z.int().check(z.gte(1), z.lte(0x7fffffff));
const via = z.enum(['live', 'carbon-sent', 'carbon-received', 'archive']);

const PeerSchema = z.strictObject({
  format: z.literal('seal-peer'),
  version: z.literal(VERSION),
  jid: jidText,
  deviceId: id,
  signingKey: hex64,
  session: z.string().check(z.maxLength(4 * 1024 * 1024)),
  alternateSince: z.nullable(seconds),
  activeSent: z.boolean(),
  activeOpened: z.boolean(),
  receivedSinceSend: seconds,
});

const AccountSchema = z.strictObject({
  format: z.literal('seal-account'),
  version: z.literal(VERSION),
  jid: jidText,
  trust: z.string().check(z.maxLength(65536)),
  list: z.nullable(z.string().check(z.maxLength(262144))),
  pendingAccount: z.nullable(z.strictObject({ key: z.union([hex64, z.literal('')]), list: z.string().check(z.maxLength(262144)) })),
  pendingDevices: z.record(z.string().check(z.regex(/^[1-9][0-9]{0,9}$/)), hex64),
});

const HeldSchema = z.strictObject({
  format: z.literal('seal-held'),
  version: z.literal(VERSION),
  stanza: z.string().check(z.maxLength(MAX_XML_CHARS)),
  via,
  jid: jidText,
  deviceId: id,
  reason: z.enum(['awaiting-device-list', 'awaiting-decision']),
  received: seconds,
  stamp: z.optional(seconds),
});

const InboxSchema = z.strictObject({
  format: z.literal('seal-inbox'),
  version: z.literal(VERSION),
  stanzaId: z.nullable(z.string().check(z.maxLength(3071))),
  jid: jidText,
  deviceId: id,
  to: jidText,
  room: z.optional(jidText),
  via,
  trust: z.enum(['verified', 'trusted']),
  content: z.array(z.string().check(z.maxLength(MAX_XML_CHARS))).check(z.maxLength(1024)),
  body: z.string(),
  time: seconds,
  clockSkew: z.optional(z.int().check(z.gte(-Number.MAX_SAFE_INTEGER), z.lte(Number.MAX_SAFE_INTEGER))),
});

const MetaSchema = z.strictObject({ format: z.literal('seal-meta'), version: z.literal(VERSION), seq: seconds });

function encodePeer(p: PeerRecord): string {
  return JSON.stringify({ format: 'seal-peer', version: VERSION, jid: p.jid, deviceId: p.deviceId, signingKey: p.signingKey, session: dangerouslyEncodeSession(p.session), alternateSince: p.alternateSince ?? null, activeSent: p.activeSent, activeOpened: p.activeOpened, receivedSinceSend: p.receivedSinceSend });
}

function encodeAccount(a: AccountRecord): string {
  return JSON.stringify({
    format: 'seal-account',
    version: VERSION,
    jid: a.jid,
    trust: encodeAccountTrust(a.trust),
    list: a.list === undefined ? null : encodeDeviceListRecord(a.list),
    pendingAccount: a.pendingAccount === undefined ? null : { key: a.pendingAccount.key, list: encodeDeviceListRecord(a.pendingAccount.list) },
    pendingDevices: a.pendingDevices,
  });
}

function encodeHeld(h: HeldStanza): string {
  return JSON.stringify({ format: 'seal-held', version: VERSION, stanza: h.stanza, via: h.via, jid: h.from.jid, deviceId: h.from.deviceId, reason: h.reason, received: h.received, ...(h.stamp === undefined ? {} : { stamp: h.stamp }) });
}

function encodeInbox(e: InboxEvent): string {
  return JSON.stringify({ format: 'seal-inbox', version: VERSION, stanzaId: e.stanzaId ?? null, jid: e.from.jid, deviceId: e.from.deviceId, to: e.to, ...(e.room === undefined ? {} : { room: e.room }), via: e.via, trust: e.trust, content: e.content.map((c) => c.toString()), body: e.body, time: e.time, ...(e.clockSkew === undefined ? {} : { clockSkew: e.clockSkew }) });
}

/**
 * The records that changed from `base` to `next`: a record is written when its value is a new
 * object (every engine transition returns new values for what it changes) and deleted when its
 * key is gone.
 *
 * @see spec §device.store
 */
export function diffRecords(base: EngineRecords, next: EngineRecords): StoreCommit {
  const put: StoreRecord[] = [];
  const del: { table: StoreTable; key: string }[] = [];
  if (next.device !== base.device) put.push({ table: 'device', key: SELF, value: dangerouslyExportDeviceState(next.device) });
  if (next.accountSecret !== base.accountSecret && next.accountSecret !== undefined) put.push({ table: 'account-secret', key: SELF, value: dangerouslyEncodeAccountSecret(next.accountSecret) });
  if (next.log !== base.log) put.push({ table: 'log', key: SELF, value: encodeHandshakeLog(next.log) });
  if (next.repairs !== base.repairs) put.push({ table: 'repair', key: SELF, value: encodeTimestamps(next.repairs) });
  if (next.seq !== base.seq) put.push({ table: 'meta', key: SELF, value: JSON.stringify({ format: 'seal-meta', version: VERSION, seq: next.seq }) });
  const table = <V>(name: StoreTable, a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>, encode: (v: V) => string) => {
    for (const [k, v] of b) if (a.get(k) !== v) put.push({ table: name, key: k, value: encode(v) });
    for (const k of a.keys()) if (!b.has(k)) del.push({ table: name, key: k });
  };
  table('peer', base.peers, next.peers, encodePeer);
  table('account', base.accounts, next.accounts, encodeAccount);
  table('held', base.held, next.held, encodeHeld);
  table('outbox', base.outbox, next.outbox, (v) => v);
  table('inbox', base.inbox, next.inbox, encodeInbox);
  table('room', base.rooms, next.rooms, encodeRoomRecord);
  return { put, delete: del };
}

function parseJson<T>(schema: z.ZodMiniType<T>, text: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SealError('invalid-state', `${what}: not JSON`);
  }
  const header = json as { version?: unknown } | null;
  if (header !== null && typeof header === 'object' && header.version !== undefined && header.version !== VERSION) throw new SealError('unknown-version', `${what}: version ${String(header.version)} is not ${VERSION}`);
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new SealError('invalid-state', `${what}: ${parsed.error.issues[0]?.path.join('.') ?? ''} is invalid`);
  return parsed.data;
}

/**
 * Restores the persisted engine state from a store's records, validating every record.
 *
 * Implements requirement `identity.state-validate` for the whole device.
 *
 * @throws SealError `invalid-state` (a missing device record, a corrupted or inconsistent
 *   record, an unknown table) or `unknown-version`.
 * @see spec §device.store
 */
export function decodeEngineRecords(records: readonly StoreRecord[]): EngineRecords {
  // @req identity.state-validate
  try {
    const one = (table: StoreTable) => records.find((r) => r.table === table && r.key === SELF)?.value;
    const deviceText = one('device');
    if (deviceText === undefined) throw new SealError('invalid-state', 'store: no device record');
    const device = importDeviceState(deviceText);
    const secretText = one('account-secret');
    const logText = one('log');
    const repairText = one('repair');
    const metaText = one('meta');
    const peers = new Map<string, PeerRecord>();
    const accounts = new Map<string, AccountRecord>();
    const held = new Map<string, HeldStanza>();
    const outbox = new Map<string, string>();
    const inbox = new Map<string, InboxEvent>();
    const rooms = new Map<string, RoomRecord>();
    for (const r of records) {
      switch (r.table) {
        case 'device':
        case 'account-secret':
        case 'log':
        case 'repair':
        case 'meta':
          if (r.key !== SELF) throw new SealError('invalid-state', `store: unexpected key in ${r.table}`);
          break;
        case 'peer': {
          const p = parseJson(PeerSchema, r.value, 'peer record');
          const jid = bareJid(p.jid);
          if (r.key !== `${jid}/${p.deviceId}`) throw new SealError('invalid-state', 'peer record: key does not match its device');
          peers.set(r.key, { jid, deviceId: toDeviceId(p.deviceId), signingKey: p.signingKey, session: decodeSession(p.session), alternateSince: p.alternateSince ?? undefined, activeSent: p.activeSent, activeOpened: p.activeOpened, receivedSinceSend: p.receivedSinceSend });
          break;
        }
        case 'account': {
          const a = parseJson(AccountSchema, r.value, 'account record');
          const jid = bareJid(a.jid);
          if (r.key !== jid) throw new SealError('invalid-state', 'account record: key does not match its JID');
          accounts.set(jid, {
            jid,
            trust: decodeAccountTrust(a.trust),
            list: a.list === null ? undefined : decodeDeviceListRecord(jid, a.list),
            pendingAccount: a.pendingAccount === null ? undefined : { key: a.pendingAccount.key, list: decodeDeviceListRecord(jid, a.pendingAccount.list) },
            pendingDevices: a.pendingDevices,
          });
          break;
        }
        case 'held': {
          const h = parseJson(HeldSchema, r.value, 'held stanza');
          parseXml(h.stanza);
          held.set(r.key, { seq: r.key, stanza: h.stanza, via: h.via, from: { jid: bareJid(h.jid), deviceId: toDeviceId(h.deviceId) }, reason: h.reason, received: h.received, ...(h.stamp === undefined ? {} : { stamp: h.stamp }) });
          break;
        }
        case 'outbox':
          parseXml(r.value);
          outbox.set(r.key, r.value);
          break;
        case 'inbox': {
          const e = parseJson(InboxSchema, r.value, 'inbox event');
          const content = e.content.map((c) => parseXml(c));
          inbox.set(r.key, { kind: 'opened', eventId: r.key, stanzaId: e.stanzaId ?? undefined, from: { jid: bareJid(e.jid), deviceId: toDeviceId(e.deviceId) }, to: bareJid(e.to), ...(e.room === undefined ? {} : { room: bareJid(e.room) }), via: e.via, trust: e.trust, content, body: e.body, files: openedFiles(content), time: e.time, ...(e.clockSkew === undefined ? {} : clockFields(e.clockSkew)) });
          break;
        }
        case 'room':
          rooms.set(r.key, decodeRoomRecord(r.key, r.value));
          break;
        default:
          throw new SealError('invalid-state', `store: unknown table ${String((r as StoreRecord).table)}`);
      }
    }
    const sorted = <V>(m: Map<string, V>) => new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return {
      device,
      accountSecret: secretText === undefined ? undefined : decodeAccountSecret(secretText),
      log: logText === undefined ? [] : decodeHandshakeLog(logText),
      repairs: repairText === undefined ? {} : decodeTimestamps(repairText),
      seq: metaText === undefined ? 0 : parseJson(MetaSchema, metaText, 'meta record').seq,
      peers,
      accounts,
      held: sorted(held),
      outbox: sorted(outbox),
      inbox: sorted(inbox),
      rooms: sorted(rooms),
    };
  } catch (e) {
    if (isSealError(e, 'invalid-state') || isSealError(e, 'unknown-version')) throw e;
    throw new SealError('invalid-state', `store: ${isSealError(e) ? e.message : 'a record is invalid'}`);
  }
}
