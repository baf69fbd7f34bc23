/**
 * L0 system actions as text: how failures print them and how regression tests write them
 * (`send A1`, `deliver B1 3`, `forge A1 B1`, `impostor B1 A1`, `serve-list bob stale`,
 * `add-device`, `wait`).
 *
 * @module
 */
import { type Action, DEVICES, type DeviceName, PEERS, type PeerName } from './system.js';

const LIST_MODES = ['honest', 'stale', 'forged', 'resigned', 'unsigned'] as const;

/** `send A1`, `deliver B1 3`, `forge A1 B1`, `serve-list bob stale`, `add-device`, `wait`, … */
export function formatAction(action: Action): string {
  switch (action.kind) {
    case 'wait':
    case 'add-device':
      return action.kind;
    case 'serve-list':
      return `${action.kind} ${action.account} ${action.mode}`;
    case 'serve-bundle':
      return `${action.kind} ${action.device} ${action.mode}`;
    case 'forge':
    case 'interactive':
    case 'mitm-interactive':
    case 'impostor':
    case 'impostor-interactive':
    case 'corrupt':
      return `${action.kind} ${action.device} ${action.target}`;
    case 'deliver':
    case 'duplicate':
    case 'drop':
    case 'delay':
    case 'replay':
    case 'forge-carbon':
    case 'forge-archive':
      return `${action.kind} ${action.device} ${action.index}`;
    default:
      return `${action.kind} ${action.device}`;
  }
}

/** Parses actions written as {@link formatAction} writes them, separated by `;`, `,` or new lines (a fast-check counterexample, replay-path comment included, parses). */
export function parseActions(text: string): Action[] {
  return text.replace(/\/\*.*?\*\//g, '').split(/[;,\n]/).map((t) => t.trim()).filter((t) => t !== '').map((t): Action => {
    const [kind, a, b] = t.split(/\s+/) as [string, string | undefined, string | undefined];
    const device = (v: string | undefined): DeviceName => {
      if (!DEVICES.includes(v as DeviceName)) throw new Error(`action "${t}": expected a device, got ${v}`);
      return v as DeviceName;
    };
    const peer = (v: string | undefined): PeerName => {
      if (!PEERS.includes(v as PeerName)) throw new Error(`action "${t}": expected a device or XA/XB, got ${v}`);
      return v as PeerName;
    };
    switch (kind) {
      case 'wait':
      case 'add-device':
        return { kind };
      case 'serve-list':
        if ((a !== 'alice' && a !== 'bob') || !LIST_MODES.includes(b as (typeof LIST_MODES)[number])) throw new Error(`action "${t}": expected serve-list alice|bob ${LIST_MODES.join('|')}`);
        return { kind, account: a, mode: b as (typeof LIST_MODES)[number] };
      case 'serve-bundle':
        if (b !== 'honest' && b !== 'forged') throw new Error(`action "${t}": expected serve-bundle <device> honest|forged`);
        return { kind, device: device(a), mode: b };
      case 'forge':
      case 'interactive':
      case 'mitm-interactive':
        return { kind, device: device(a), target: device(b) };
      case 'impostor':
      case 'impostor-interactive':
      case 'corrupt':
        return { kind, device: peer(a), target: device(b) };
      case 'deliver':
      case 'duplicate':
      case 'drop':
      case 'delay':
      case 'replay':
        return { kind, device: device(a), index: Number(b ?? 0) };
      case 'forge-carbon':
      case 'forge-archive':
        return { kind, device: device(a), index: Number(b ?? 0) };
      case 'send':
        return { kind, device: device(a) };
      case 'offline':
      case 'online':
      case 'backup':
      case 'restore':
      case 'restart':
      case 'compromise':
      case 'fetch-archive':
      case 'bounce':
        return { kind, device: device(a) };
      default:
        throw new Error(`action "${t}": unknown kind ${kind}`);
    }
  });
}
