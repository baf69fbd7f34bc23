/**
 * What the L0 system test compares besides each action's observation, read from the model's
 * state: the stanzas in flight to every device and every device's sessions; and the binding of
 * the real session ids the model needs for simultaneous initiation.
 *
 * @see spec §offline.simultaneous
 * @module
 */
import { DEVICES, type DeviceName, type Session, type SystemState } from './system.js';
import type { Ratchet } from './ratchet.js';

/** Sessions created by an initiator in the last step whose real session id the test must bind. */
export function unboundSessions(state: SystemState): { sid: number; device: DeviceName; peer: DeviceName }[] {
  const out: { sid: number; device: DeviceName; peer: DeviceName }[] = [];
  for (const d of DEVICES) {
    for (const [peer, session] of Object.entries(state.devices[d]?.sessions ?? {}) as [DeviceName, Session][]) {
      if (session.kind !== 'none' && state.sessionIds[session.active.sid] === undefined) out.push({ sid: session.active.sid, device: d, peer });
    }
  }
  return out;
}

/** The state with the real id of session `sid`. */
export function bindSession(state: SystemState, sid: number, id: string): SystemState {
  return { ...state, sessionIds: { ...state.sessionIds, [sid]: id } };
}

/** The state with the real id of device `name` (device lists are ordered by id). */
export function bindDevice(state: SystemState, name: DeviceName, id: number): SystemState {
  return { ...state, deviceIds: { ...state.deviceIds, [name]: id } };
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

/** A device's view of one peer device: unconfirmed or confirmed, the active ratchet and the one kept for receiving. */
export interface SessionShape { state: 'unconfirmed' | 'confirmed'; active: RatchetShape; alternate: RatchetShape | undefined }

/** Per pair `device>peer` with a session, its shape. */
export function sessionShapes(state: SystemState): Record<string, SessionShape> {
  const out: Record<string, SessionShape> = {};
  const shape = (r: Ratchet) => ratchetShape(state.sessionIds[r.sid] ?? `unbound session ${r.sid}`, r.ns, r.nr, r.pn, r.skipped.length);
  for (const d of DEVICES) {
    for (const [peer, session] of Object.entries(state.devices[d]?.sessions ?? {}) as [DeviceName, Session][]) {
      if (session.kind === 'none') continue;
      out[`${d}>${peer}`] = { state: session.kind === 'established' ? 'confirmed' : 'unconfirmed', active: shape(session.active), alternate: session.alternate === undefined ? undefined : shape(session.alternate) };
    }
  }
  return out;
}
