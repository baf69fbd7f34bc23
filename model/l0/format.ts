/**
 * L0 system actions as text: how failures print them and how regression tests write them
 * (`send A1`, `deliver B1 3`, `forge A1 B1`, `serve-list bob stale`, `add-device`, `wait`).
 *
 * @module
 */
import { type Action, DEVICES, type DeviceName } from './system.js';

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
      return `${action.kind} ${action.device} ${action.target}`;
    case 'deliver':
    case 'duplicate':
    case 'drop':
    case 'delay':
    case 'replay':
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
    switch (kind) {
      case 'wait':
      case 'add-device':
        return { kind };
      case 'serve-list':
        if ((a !== 'alice' && a !== 'bob') || (b !== 'honest' && b !== 'stale' && b !== 'forged')) throw new Error(`action "${t}": expected serve-list alice|bob honest|stale|forged`);
        return { kind, account: a, mode: b };
      case 'serve-bundle':
        if (b !== 'honest' && b !== 'forged') throw new Error(`action "${t}": expected serve-bundle <device> honest|forged`);
        return { kind, device: device(a), mode: b };
      case 'forge':
        return { kind, device: device(a), target: device(b) };
      case 'deliver':
      case 'duplicate':
      case 'drop':
      case 'delay':
      case 'replay':
        return { kind, device: device(a), index: Number(b ?? 0) };
      case 'send':
      case 'offline':
      case 'online':
      case 'backup':
      case 'restore':
      case 'compromise':
      case 'fetch-archive':
        return { kind, device: device(a) };
      default:
        throw new Error(`action "${t}": unknown kind ${kind}`);
    }
  });
}
