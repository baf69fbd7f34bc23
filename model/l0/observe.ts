/**
 * What the L0 system test compares besides each action's observation, read from the model's
 * state: the stanzas in flight to every device, every device's sessions, and every device's
 * trust records (pins, keys waiting for the user, accepted lists and account keys, held stanzas);
 * and the binding of the real session ids the model needs for simultaneous initiation.
 *
 * @see spec §offline.simultaneous
 * @see spec §device.pinning
 * @module
 */
import { ACCOUNTS, DEVICES, type DeviceName, PEERS, type PeerName, type SystemState } from './system.js';
import type { Ratchet } from './ratchet.js';

/** A session slot of the model whose real session id the test must bind. */
export interface UnboundSession { sid: number; device: DeviceName; peer: PeerName; slot: 'active' | 'alternate' }

/** Sessions held by a device whose real session id is not bound yet. */
export function unboundSessions(state: SystemState): UnboundSession[] {
  const out: UnboundSession[] = [];
  for (const d of DEVICES) {
    for (const peer of PEERS) {
      const record = state.devices[d]?.peers[peer];
      if (record === undefined) continue;
      if (state.sessionIds[record.active.sid] === undefined) out.push({ sid: record.active.sid, device: d, peer, slot: 'active' });
      if (record.alternate !== undefined && state.sessionIds[record.alternate.sid] === undefined) out.push({ sid: record.alternate.sid, device: d, peer, slot: 'alternate' });
    }
  }
  return out;
}

/** The state with the real id of session `sid`. */
export function bindSession(state: SystemState, sid: number, id: string): SystemState {
  return { ...state, sessionIds: { ...state.sessionIds, [sid]: id } };
}

/** Per existing device, the stanzas on their way to it, as sorted `label@via`. */
export function inboxes(state: SystemState): Partial<Record<DeviceName, string[]>> {
  const out: Partial<Record<DeviceName, string[]>> = {};
  for (const d of DEVICES) {
    const device = state.devices[d];
    if (device !== undefined) out[d] = device.inbox.map((i) => `${i.stanza.label}@${i.via}`).sort();
  }
  return out;
}

/**
 * One ratchet as compared: the session id, the counters Ns, Nr and PN, and how many skipped
 * message keys it holds (spec §envelope.ratchet). Written as one string so a difference reads at a glance.
 */
export type RatchetShape = string;

/** `id ns=… nr=… pn=… skipped=…`. */
export function ratchetShape(id: string, ns: number, nr: number, pn: number, skipped: number): RatchetShape {
  return `${id} ns=${ns} nr=${nr} pn=${pn} skipped=${skipped}`;
}

/**
 * A device's view of one peer device: the identity key its sessions are bound to, unconfirmed
 * or confirmed, the active ratchet and the previous one kept for late messages.
 */
export interface SessionShape { key: string; state: 'unconfirmed' | 'confirmed'; active: RatchetShape; alternate: RatchetShape | undefined }

/** Per pair `device>peer` with a session, its shape. */
export function sessionShapes(state: SystemState): Record<string, SessionShape> {
  const out: Record<string, SessionShape> = {};
  const shape = (r: Ratchet) => ratchetShape(state.sessionIds[r.sid] ?? `unbound session ${r.sid}`, r.ns, r.nr, r.pn, r.skipped.length);
  for (const d of DEVICES) {
    for (const peer of PEERS) {
      const record = state.devices[d]?.peers[peer];
      if (record === undefined) continue;
      out[`${d}>${peer}`] = { key: record.key, state: record.header === undefined ? 'confirmed' : 'unconfirmed', active: shape(record.active), alternate: record.alternate === undefined ? undefined : shape(record.alternate) };
    }
  }
  return out;
}

/**
 * A device's trust records, as compared (spec device.pinning, device.account-key,
 * device.unlisted-device): per peer device the pinned key (`B1=B1`) and a key waiting for the
 * user (`B1?e3`); per account the accepted account key, the accepted list and an account key
 * waiting for the user; the held stanzas with the reason.
 */
export interface TrustShape { pins: string; accounts: string; held: string[] }

/** Per existing device, its trust records. */
export function trustShapes(state: SystemState): Partial<Record<DeviceName, TrustShape>> {
  const out: Partial<Record<DeviceName, TrustShape>> = {};
  for (const name of DEVICES) {
    const d = state.devices[name];
    if (d === undefined) continue;
    const pins: string[] = [];
    const accounts: string[] = [];
    for (const account of ACCOUNTS) {
      const v = d.accounts[account];
      if (v === undefined) continue;
      for (const p of PEERS) {
        const pinned = v.pins[p];
        if (pinned !== undefined) pins.push(`${p}=${pinned.key}${pinned.level === 'undecided' ? '' : `(${pinned.level})`}`);
        const pending = v.pendingDevices[p];
        if (pending !== undefined) pins.push(`${p}?${pending}`);
      }
      if (v.accountKey === undefined && v.list === undefined && v.pendingAccount === undefined) continue;
      const list = v.list === undefined ? '-' : PEERS.filter((p) => v.list!.devices.some((x) => x.device === p)).join(',');
      accounts.push(`${account}: key=${v.accountKey === undefined ? '-' : `${v.accountKey.key}(${v.accountKey.level})`} list=${list}${v.pendingAccount === undefined ? '' : ` pending=${v.pendingAccount.key === '' ? 'unsigned' : v.pendingAccount.key}`}`);
    }
    out[name] = { pins: pins.join(' '), accounts: accounts.join('; '), held: d.held.map((h) => `${h.stanza.label} from ${h.from}: ${h.reason}`) };
  }
  return out;
}
