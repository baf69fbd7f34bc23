/**
 * L0: the device engine against the spec's adversary (model/l0/adversary.ts). Random schedules of
 * genuine messages, handshakes under fresh identity keys for a known device id, forged carbons and
 * archive results from another account, device lists the server extends with a device of its own,
 * error bounces, replays and restarts from the store run on the real
 * engine (SealClient on the embedded server) and on the model; every observation is compared.
 * Two shells that make the client mistakes of issue 13 — auto-accepting every key change, and
 * unwrapping carbons and archive results itself — must be caught. Seeds are printed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/device/store.js';
import type { SealEvent } from '../src/device/types.js';
import { type PeerSession, sealStanza, sessionKey, startRatchet } from '../src/envelope/index.js';
import { initiateAsync } from '../src/handshake/async.js';
import { verifyBundle } from '../src/identity/bundle.js';
import { DEVICE_LIST_NODE, ITEM_ID, bundleNode } from '../src/identity/pep.js';
import { createDeviceState } from '../src/identity/state.js';
import { SealClient } from '../src/net/index.js';
import { seededRng } from '../src/suite/rng.js';
import { BundleElement } from '../src/wire/bundle.js';
import { DeviceListElement } from '../src/wire/devices.js';
import { generateEd25519KeyPair } from '../src/suite/signature.js';
import { type Element, childElements, parseXml, xml } from '../src/wire/xml.js';
import { ADVERSARY_INITIAL, type AdversaryAction, type AdversaryObservation, adversaryStep } from '../model/l0/adversary.js';
import { ALICE, BOB, MALLORY, type Recorded, SealWorld } from './support/store-conformance.js';
import { fcParams } from './support/property.js';

const RUNS = Number(process.env.SEAL_L0_RUNS ?? 20);
const MAX_ACTIONS = Number(process.env.SEAL_L0_COMMANDS ?? 16);

/** How a client shell hands stanzas to the engine: the honest one, or one of the mistakes of issue 13. */
type Shell = 'honest' | 'auto-accept-key-changes' | 'unwrap-forwarded-itself';

interface Party {
  client: SealClient;
  wire: Recorded;
  readonly store: MemoryStore;
  readonly full: string;
}

class System {
  readonly world: SealWorld;
  alice!: Party;
  bob!: Party;
  readonly shell: Shell;
  /** Genuine stanzas Bob sent Alice (for replays and forged wrappers). */
  readonly bobStanzas: Element[] = [];
  #queryCount = 0;

  constructor(name: string, shell: Shell) {
    this.world = new SealWorld(name);
    this.shell = shell;
  }

  async start(): Promise<void> {
    this.alice = await this.#party(`${ALICE}/a`, new MemoryStore());
    this.bob = await this.#party(`${BOB}/b`, new MemoryStore());
  }

  async #party(full: string, store: MemoryStore): Promise<Party> {
    const { client, wire } = await this.world.client(full, { store });
    return { client, wire, store, full };
  }

  /** Hands a stanza to Alice as this system's shell would. */
  async #toAlice(stanza: Element): Promise<void> {
    if (this.shell === 'unwrap-forwarded-itself') {
      const wrapper = childElements(stanza).find((c) => c.getName() === 'received' || c.getName() === 'result');
      const inner = wrapper?.getChild('forwarded')?.getChild('message');
      if (inner !== undefined) return void (await this.alice.client.receive(inner));
    }
    await this.alice.client.receive(stanza);
  }

  /** A message from Bob's device id under a fresh identity key (the server's forgery). */
  #impostorMessage(label: string): Element {
    const bobDevice = this.bob.client.state.deviceId;
    const impostor = { ...createDeviceState({ jid: BOB, now: this.world.now(), rng: seededRng(`impostor ${label}`), oneTimePrekeys: 1 }), deviceId: bobDevice };
    const item = this.world.server.pepItems(ALICE, bundleNode(this.alice.client.state.deviceId))[0]!;
    const bundle = verifyBundle(BundleElement.fromXml(childElements(item)[0]!), { jid: ALICE, deviceId: this.alice.client.state.deviceId, now: this.world.now() });
    const started = initiateAsync({ self: impostor, peer: bundle, rng: seededRng(`impostor ${label} handshake`) });
    const sessions = new Map<string, PeerSession>([[sessionKey(ALICE, bundle.deviceId), { ratchet: startRatchet(started.session, seededRng(`impostor ${label} ratchet`)), confirmation: { state: 'unconfirmed', header: started.header } }]]);
    return sealStanza({ to: ALICE, from: `${BOB}/evil`, id: `impostor-${label}`, senderDeviceId: bobDevice, content: [xml('body', {}, [label])], recipients: [{ jid: ALICE, deviceId: bundle.deviceId }], sessions, rng: seededRng(`impostor ${label} seal`), now: this.world.now() }).stanza;
  }

  async run(action: AdversaryAction, label: string): Promise<AdversaryObservation> {
    const aliceMark = this.alice.client.events.length;
    const bobMark = this.bob.client.events.length;
    // A stanza this action makes Alice hold (one held before and processed again, when a list
    // arrives or the rate limit allows, is no new verdict).
    const heldBefore = new Set([...this.alice.client.engine.state.held.values()].map((h) => h.stanza));
    const newlyHeld = () => [...this.alice.client.engine.state.held.values()].some((h) => !heldBefore.has(h.stanza));
    switch (action.kind) {
      case 'bob-send': {
        const before = this.bob.wire.sent.length;
        await this.bob.client.send(ALICE, label);
        this.bobStanzas.push(...this.bob.wire.sent.slice(before).filter((s) => s.getChild('body') !== undefined));
        break;
      }
      case 'alice-send': {
        const before = this.alice.wire.sent.length;
        await this.alice.client.send(BOB, label);
        await this.world.flush();
        const sealed = this.alice.wire.sent.slice(before).find((s) => s.getChild('body') !== undefined)!.getChild('sealed', 'urn:xmpp:seal:0')!;
        const rids = sealed.getChildren('keys').filter((k) => k.attrs.jid === BOB).flatMap((k) => k.getChildren('key').map((key) => Number(key.attrs.rid)));
        return { ...observe(this.alice.client.events.slice(aliceMark), this.bob.client.events.slice(bobMark), newlyHeld()), aliceRecipients: rids.length };
      }
      case 'bounce':
        await this.#toAlice(xml('message', { from: BOB, to: this.alice.full, type: 'error', id: label }, [xml('error', { type: 'cancel' }, [xml('service-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })])]));
        break;
      case 'forged-list': {
        // Bob's current list with a device of the server's own added (the signature cannot cover it).
        const item = this.world.server.pepItems(BOB, DEVICE_LIST_NODE)[0]!;
        const list = DeviceListElement.fromXml(childElements(item)[0]!);
        const server = generateEd25519KeyPair(seededRng(`server device ${label}`)).publicKey;
        const forged = DeviceListElement.toXml({ ...list, devices: [...list.devices, { id: 4242 + this.#queryCount++, added: list.issued, signingKey: server }] });
        this.world.server.adversary.rewritePepItem = (owner, node) => (owner === BOB && node === DEVICE_LIST_NODE ? xml('item', { id: ITEM_ID }, [forged]) : undefined);
        await this.alice.client.refreshDeviceList(BOB);
        // Served once (a server that withholds the real list for good only denies service, which
        // is out of scope): the next fetch is honest.
        delete this.world.server.adversary.rewritePepItem;
        break;
      }
      case 'impostor-handshake':
        await this.#toAlice(this.#impostorMessage(label));
        break;
      case 'forged-carbon': {
        const inner = action.of === 'genuine' && this.bobStanzas.length > 0 ? parseXml(this.bobStanzas.at(-1)!.toString()) : this.#impostorMessage(label);
        inner.attrs.from = `${BOB}/b`;
        await this.#toAlice(xml('message', { from: MALLORY, to: this.alice.full, type: 'chat' }, [xml('received', { xmlns: 'urn:xmpp:carbons:2' }, [xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, [inner])])]));
        break;
      }
      case 'forged-archive': {
        const inner = this.bobStanzas.length > 0 ? parseXml(this.bobStanzas.at(-1)!.toString()) : this.#impostorMessage(label);
        inner.attrs.from = `${BOB}/b`;
        await this.#toAlice(xml('message', { from: MALLORY, to: this.alice.full }, [xml('result', { xmlns: 'urn:xmpp:mam:2', queryid: `q${this.#queryCount++}`, id: label }, [xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, [inner])])]));
        break;
      }
      case 'replay':
        if (this.bobStanzas.length > 0) await this.#toAlice(parseXml(this.bobStanzas[0]!.toString()));
        break;
      case 'restart': {
        const party = action.who === 'alice' ? this.alice : this.bob;
        await party.client.idle();
        await party.wire.connection.close();
        const restarted = await this.#party(party.full, party.store);
        if (action.who === 'alice') this.alice = restarted;
        else this.bob = restarted;
        return { aliceOpened: [], bobOpened: [], verdict: 'none' };
      }
    }
    await this.world.flush();
    if (this.shell === 'auto-accept-key-changes') {
      for (const e of this.alice.client.events.slice(aliceMark)) if (e.kind === 'decision-needed' && e.deviceId !== undefined) await this.alice.client.decide(e.jid, { deviceId: e.deviceId }, e.key, 'undecided');
      await this.world.flush();
    }
    return observe(this.alice.client.events.slice(aliceMark), this.bob.client.events.slice(bobMark), newlyHeld());
  }
}

function observe(alice: readonly SealEvent[], bob: readonly SealEvent[], newlyHeld: boolean): AdversaryObservation {
  const opened = (events: readonly SealEvent[]) => events.flatMap((e) => (e.kind === 'opened' ? [e.body] : []));
  // Held: the action's stanza is kept unopened, for the user's decision or (beyond the list-fetch
  // rate limit) for the next device list. A genuine first message is held for the list too, then
  // opens: not a verdict; nor is a stanza held earlier and held again when its list arrives.
  const held = newlyHeld && alice.some((e) => e.kind === 'held') && opened(alice).length === 0;
  const verdict = alice.some((e) => e.kind === 'failed' && e.code === 'forged-forward') ? 'forged-forward' : held ? 'held' : alice.some((e) => e.kind === 'duplicate') ? 'duplicate' : alice.some((e) => e.kind === 'bounced') && !alice.some((e) => e.kind === 'repair-sent') ? 'bounced' : 'none';
  return { aliceOpened: opened(alice), bobOpened: opened(bob), verdict };
}

const actionArb: fc.Arbitrary<AdversaryAction> = fc.oneof(
  fc.constant({ kind: 'bob-send' } as const),
  fc.constant({ kind: 'alice-send' } as const),
  fc.constant({ kind: 'impostor-handshake' } as const),
  fc.constantFrom('genuine', 'impostor').map((of) => ({ kind: 'forged-carbon', of }) as const),
  fc.constant({ kind: 'forged-archive' } as const),
  fc.constant({ kind: 'replay' } as const),
  fc.constant({ kind: 'bounce' } as const),
  fc.constant({ kind: 'forged-list' } as const),
  fc.constantFrom('alice', 'bob').map((who) => ({ kind: 'restart', who }) as const),
);

/** Runs `actions` on the model and on a system with `shell`; returns the first disagreement, if any. */
async function compare(name: string, shell: Shell, actions: readonly AdversaryAction[]): Promise<string | undefined> {
  const system = new System(name, shell);
  await system.start();
  let model = ADVERSARY_INITIAL;
  const trace: string[] = [];
  for (const action of actions) {
    const { state, label, expect: expected } = adversaryStep(model, action);
    model = state;
    const actual = await system.run(action, label);
    trace.push(`${JSON.stringify(action)} => ${JSON.stringify(actual)}`);
    if (JSON.stringify(actual) !== JSON.stringify(expected)) return `${trace.join('\n')}\n  model expected ${JSON.stringify(expected)}`;
  }
  return undefined;
}

describe('L0: the device engine against the spec\'s adversary', () => {
  it(`${RUNS} random schedules of up to ${MAX_ACTIONS} actions: every observation is the model's`, async () => {
    // @req device.pinning
    // @req offline.forwarded-carbons
    // @req offline.forwarded-archive
    // @req device.commit-first
    // @req device.no-repair-for-bounces
    // @req identity.device-list-keys
    let actions = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 3, maxLength: MAX_ACTIONS }), async (schedule) => {
        actions += schedule.length;
        const disagreement = await compare('l0 engine', 'honest', schedule);
        expect(disagreement).toBeUndefined();
      }),
      { ...fcParams(RUNS), numRuns: RUNS },
    );
    console.log(`L0 engine adversary: ${RUNS} schedules, ${actions} actions, no disagreement`);
  }, 120_000);

  it('a shell that accepts every key change by itself (no pinning) is caught', async () => {
    // @req device.pinning
    const disagreement = await compare('l0 mutant pinning', 'auto-accept-key-changes', [{ kind: 'bob-send' }, { kind: 'impostor-handshake' }]);
    console.log(`mutant no-pinning caught:\n${disagreement}`);
    expect(disagreement).toMatch(/impostor-handshake/);
  });

  it('a shell that unwraps carbons and archive results itself (no wrapper check) is caught', async () => {
    // @req offline.forwarded-carbons
    // @req offline.forwarded-archive
    for (const forged of [{ kind: 'forged-carbon', of: 'genuine' }, { kind: 'forged-archive' }] as const) {
      const disagreement = await compare('l0 mutant forward', 'unwrap-forwarded-itself', [{ kind: 'bob-send' }, forged]);
      console.log(`mutant no-forward-check caught (${forged.kind}):\n${disagreement}`);
      expect(disagreement).toMatch(/forged-forward/);
    }
  });
});
