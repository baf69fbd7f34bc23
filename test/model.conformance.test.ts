/**
 * L0 model-based conformance (DESIGN.md §7): fast-check `fc.commands` + `fc.modelRun` drive the
 * abstract model of model/l0/delivery.ts and the real implementation (two devices, asynchronous
 * sessions started at the same time from both sides, sealStanza/openStanza) with the same
 * actions: sends in both directions, deliveries in any order, re-deliveries and drops. Every
 * observable result must agree. Failures print the seed and the replay path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INITIAL, type ModelState, type Party, step } from '../model/l0/delivery.js';
import { openStanza, sealStanza, sessionKey, startRatchet, type OpenResult, type PeerSession } from '../src/envelope/index.js';
import { initiateAsync, type HandshakeLog } from '../src/handshake/index.js';
import { bundleOf, createDeviceState, verifyBundle, type DeviceState } from '../src/identity/index.js';
import { seededRng } from '../src/suite/index.js';
import { parseXml, xml } from '../src/wire/index.js';
import { fcParams } from './support/property.js';

const NOW = 1795683600;

interface Device { state: DeviceState; log: HandshakeLog; sessions: Map<string, PeerSession> }

/** The real system: two devices and the stanzas in flight between them. */
class Real {
  readonly devices: Record<Party, Device>;
  inFlight: { id: number; from: Party; stanza: string }[] = [];
  nextId = 0;
  readonly rng = seededRng('model conformance');

  constructor() {
    const make = (jid: string, seed: string): Device => ({ state: createDeviceState({ jid, now: NOW, rng: seededRng(seed), oneTimePrekeys: 3 }), log: [], sessions: new Map() });
    this.devices = { A: make('alice@example.org', 'model A'), B: make('bob@example.net', 'model B') };
    // Both start a session with the other before anything is delivered (simultaneous initiation).
    for (const [self, peer] of [['A', 'B'], ['B', 'A']] as const) {
      const s = this.devices[self];
      const p = this.devices[peer];
      const started = initiateAsync({ self: s.state, peer: verifyBundle(bundleOf(p.state), { jid: p.state.jid, deviceId: p.state.deviceId, now: NOW }), rng: this.rng });
      s.sessions.set(sessionKey(p.state.jid, p.state.deviceId), { ratchet: startRatchet(started.session, this.rng), confirmation: { state: 'unconfirmed', header: started.header } });
    }
  }

  send(from: Party): number {
    const self = this.devices[from];
    const peer = this.devices[from === 'A' ? 'B' : 'A'];
    const id = this.nextId++;
    const out = sealStanza({ to: peer.state.jid, from: self.state.jid, senderDeviceId: self.state.deviceId, content: [xml('body', {}, [String(id)])], recipients: [{ jid: peer.state.jid, deviceId: peer.state.deviceId }], sessions: self.sessions, rng: this.rng, now: NOW });
    self.sessions = out.sessions;
    this.inFlight.push({ id, from, stanza: out.stanza.toString() });
    return id;
  }

  take(index: number, keep: boolean): OpenResult | undefined {
    if (this.inFlight.length === 0) return undefined;
    const at = index % this.inFlight.length;
    const stanza = this.inFlight[at]!;
    if (!keep) this.inFlight.splice(at, 1);
    const receiver = this.devices[stanza.from === 'A' ? 'B' : 'A'];
    const result = openStanza({ stanza: parseXml(stanza.stanza), self: receiver.state, log: receiver.log, sessions: receiver.sessions, now: NOW });
    if (result.kind === 'ok') Object.assign(receiver, { state: result.state, log: result.log, sessions: result.sessions });
    return result;
  }

  drop(index: number): void {
    if (this.inFlight.length > 0) this.inFlight.splice(index % this.inFlight.length, 1);
  }
}

type Cmd = fc.Command<{ state: ModelState }, Real>;
const observe = (result: OpenResult | undefined) => (result === undefined ? { kind: 'none' } : result.kind === 'ok' ? { kind: 'opened', id: Number(result.content[0]!.getText()) } : result.kind === 'duplicate' ? { kind: 'duplicate' } : { kind: `${result.kind}${result.kind === 'error' ? `:${result.error.code}` : ''}` });

function command(action: Parameters<typeof step>[1]): Cmd {
  return {
    check: () => true,
    run(model, real) {
      const expected = step(model.state, action);
      model.state = expected.state;
      let actual: unknown;
      if (action.kind === 'send') actual = { kind: 'sent', id: real.send(action.from) };
      else if (action.kind === 'drop') {
        real.drop(action.index);
        actual = { kind: 'none' };
      } else actual = observe(real.take(action.index, action.kind === 'redeliver'));
      expect(actual).toEqual(expected.observation);
    },
    toString: () => JSON.stringify(action),
  };
}

describe('L0: the implementation conforms to the delivery model', () => {
  it('same observations for random sends, deliveries in any order, re-deliveries and drops', () => {
    const party = fc.constantFrom<Party>('A', 'B');
    const commands = fc.commands([
      party.map((from) => command({ kind: 'send', from })),
      fc.nat(20).map((index) => command({ kind: 'deliver', index })),
      fc.nat(20).map((index) => command({ kind: 'redeliver', index })),
      fc.nat(20).map((index) => command({ kind: 'drop', index })),
    ], { maxCommands: 40 });
    fc.assert(fc.property(commands, (cmds) => {
      fc.modelRun(() => ({ model: { state: INITIAL }, real: new Real() }), cmds);
    }), fcParams(30));
  });
});
