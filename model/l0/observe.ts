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

/** Per existing device, the stanzas on their way to it, as sorted `label@via`. */
export function inboxes(state: SystemState): Partial<Record<DeviceName, string[]>> {
  const out: Partial<Record<DeviceName, string[]>> = {};
  for (const d of DEVICES) {
    const device = state.devices[d];
    if (device !== undefined) out[d] = device.inbox.map((i) => `${i.stanza.label}@${i.via}`).sort();
  }
  return out;
}

/** A device's view of one peer device: no session, unconfirmed or confirmed, and the ids of the sessions kept. */
export interface SessionShape { state: 'unconfirmed' | 'confirmed'; active: string; alternate: string | undefined }

/** Per pair `device>peer` with a session, its shape. */
export function sessionShapes(state: SystemState): Record<string, SessionShape> {
  const out: Record<string, SessionShape> = {};
  for (const d of DEVICES) {
    for (const [peer, session] of Object.entries(state.devices[d]?.sessions ?? {}) as [DeviceName, Session][]) {
      if (session.kind === 'none') continue;
      const id = (r: Ratchet) => state.sessionIds[r.sid] ?? `unbound session ${r.sid}`;
      out[`${d}>${peer}`] = { state: session.kind === 'established' ? 'confirmed' : 'unconfirmed', active: id(session.active), alternate: session.alternate === undefined ? undefined : id(session.alternate) };
    }
  }
  return out;
}
