/**
 * L1 symbolic model, the scenarios and the catalogue: which devices exist, which actions are
 * enabled and how often, how deep the search goes by default; which properties each scenario
 * checks; which mutant each property must catch; and the three fixed findings, kept as regressions.
 *
 * Depths are chosen so that the whole test file runs in well under a minute on a slow two-core
 * machine. `SEAL_L1_DEPTH=k` explores k actions deeper in every scenario (and raises the
 * budgets with it).
 *
 * @see spec §security
 * @see spec §impl.models
 * @module
 */
import type { Scenario } from './actions.js';
import { type Mutant, type ProtocolOptions, SPEC } from './options.js';
import {
  type Property,
  authentication,
  delivery,
  downgrade,
  fanOut,
  forwardSecrecy,
  forwardedInjection,
  hndl,
  interactiveAgreement,
  kci,
  lateMessages,
  pinning,
  postCompromise,
  repairBound,
  roomRemoval,
  secrecy,
  sessionIndependence,
  sessionIndependenceAuth,
  type Witness,
  unknownKeyShare,
} from './properties.js';
import type { DeviceSpec } from './world.js';

const alice: DeviceSpec = { name: 'A', jid: 'alice', id: 1 };
const bob: DeviceSpec = { name: 'B', jid: 'bob', id: 1 };
const bob2: DeviceSpec = { name: 'B2', jid: 'bob', id: 2 };
const carol: DeviceSpec = { name: 'C', jid: 'carol', id: 1 };
const eve: DeviceSpec = { name: 'E', jid: 'eve', id: 1, control: 'attacker' };
/** A device of Bob's account that Bob never listed: the attacker's, with keys it made (a phantom device a forged list would add). */
const bobPhantom: DeviceSpec = { name: 'BX', jid: 'bob', id: 3, control: 'attacker' };

/** The repair scenario's devices and rules, an honest prefix that ends next to a limit, and one more action. */
function repairLimit(prefix: readonly string[]): Scenario {
  return {
    name: 'repair-limit',
    setup: { devices: [alice, bob], verified: { A: ['B'], B: ['A'] } },
    budget: { starts: 1, sends: 4, garbage: 2, intervals: 1 },
    depth: 1,
    asyncStarts: [['A', 'B']],
    sends: [
      ['A', 'bob'],
      ['B', 'alice'],
    ],
    attacks: ['garbage'],
    repair: true,
    losses: true,
    confirm: true,
    prefix: ['A starts an async handshake with B (bundle)', 'A sends m0 to bob', 'deliver m0 to B, and B confirms with a key-only message (m1)', ...prefix],
  };
}

/** The scenarios, by name. */
export const SCENARIOS = {
  /** Alice writes to Bob's two devices over async handshakes; the network is fully hostile; one device may be compromised. */
  core: {
    name: 'core',
    setup: { devices: [alice, bob, bob2], verified: { A: ['B', 'B2'], B: ['A'], B2: ['A'] } },
    budget: { starts: 2, sends: 3, compromises: 1, forged: 1 },
    depth: 6,
    asyncStarts: [
      ['A', 'B'],
      ['A', 'B2'],
    ],
    sends: [
      ['A', 'bob'],
      ['B', 'alice'],
    ],
    compromises: [
      { dev: 'B2', kind: 'full' },
      { dev: 'A', kind: 'full' },
    ],
    attacks: ['strip-opk', 'strip-kem', 'swap-opk', 'forge-bundle', 'tamper-header', 'claim', 'redirect', 'swap-payload', 'forge-handshake', 'forge-ratchet'],
    notes: ['strip-opk', 'no-kem', 'claim'],
  },
  /** The interactive handshake between Alice and Bob, with a man in the middle. */
  interactive: {
    name: 'interactive',
    setup: { devices: [alice, bob, eve], verified: { A: ['B', 'E'], B: ['A', 'E'] } },
    budget: { starts: 1, sends: 2, compromises: 1, forged: 2 },
    depth: 7,
    interactiveStarts: [['A', 'B']],
    sends: [
      ['A', 'bob'],
      ['B', 'alice'],
    ],
    compromises: [{ dev: 'B', kind: 'full' }],
    attacks: ['strip-kem', 'claim', 'reroute-interactive', 'forge-interactive', 'forge-ratchet'],
    notes: ['strip-kem', 'claim'],
  },
  /** The server registered Alice's public identity keys under a second device id of her account, and Bob verified that (same) fingerprint. */
  uks: {
    name: 'uks',
    setup: { devices: [alice, { name: 'A2', jid: 'alice', id: 2, control: { clone: 'A' } }, bob], verified: { A: ['B'], B: ['A', 'A2'] } },
    budget: { starts: 2, sends: 3, forged: 2 },
    depth: 7,
    asyncStarts: [
      ['A', 'B'],
      ['B', 'A2'],
    ],
    sends: [
      ['A', 'bob'],
      ['B', 'alice'],
    ],
    attacks: ['claim', 'redirect', 'forge-handshake', 'tamper-header'],
    notes: ['claim'],
  },
  /** A full compromise of either device at any time, before or after the signed and KEM prekeys are rotated; either handshake. */
  fs: {
    name: 'fs',
    setup: { devices: [alice, bob], verified: { A: ['B'], B: ['A'] } },
    budget: { starts: 1, sends: 3, compromises: 1, rotations: 1 },
    depth: 8,
    asyncStarts: [['A', 'B']],
    interactiveStarts: [['A', 'B']],
    sends: [
      ['A', 'bob'],
      ['B', 'alice'],
    ],
    rotations: ['B'],
    compromises: [
      { dev: 'A', kind: 'full' },
      { dev: 'B', kind: 'full' },
    ],
    attacks: ['strip-opk'],
  },
  /** An established session whose state leaks on one side; then the devices talk on, and the attacker may interfere. */
  pcs: {
    name: 'pcs',
    setup: { devices: [alice, bob], verified: { A: ['B'], B: ['A'] } },
    budget: { starts: 1, sends: 4, compromises: 1, forged: 1 },
    depth: 7,
    asyncStarts: [['A', 'B']],
    sends: [
      ['A', 'bob'],
      ['B', 'alice'],
    ],
    compromises: [
      { dev: 'A', kind: 'session' },
      { dev: 'B', kind: 'session' },
    ],
    attacks: ['forge-ratchet'],
    prefix: ['A starts an async handshake with B (bundle)', 'A sends m0 to bob', 'deliver m0 to B'],
  },
  /** Bob's identity keys (or Alice's) leak; or, for the sanity query, Bob's signed prekey. */
  kci: {
    name: 'kci',
    setup: { devices: [alice, bob], verified: { A: ['B'], B: ['A'] } },
    budget: { starts: 1, sends: 2, compromises: 1, forged: 1 },
    depth: 6,
    asyncStarts: [['A', 'B']],
    interactiveStarts: [['A', 'B']],
    sends: [
      ['A', 'bob'],
      ['B', 'alice'],
    ],
    compromises: [
      { dev: 'B', kind: 'identity' },
      { dev: 'A', kind: 'identity' },
      { dev: 'B', kind: 'spk' },
    ],
    attacks: ['forge-bundle', 'forge-handshake', 'forge-ratchet', 'forge-interactive', 'claim'],
  },
  /** Alice has sessions with Bob and Carol; one session's state leaks. */
  independence: {
    name: 'independence',
    setup: { devices: [alice, bob, carol], verified: { A: ['B', 'C'], B: ['A', 'C'], C: ['A'] } },
    budget: { starts: 2, sends: 4, compromises: 1, forged: 1 },
    depth: 5,
    asyncStarts: [
      ['A', 'B'],
      ['A', 'C'],
    ],
    sends: [
      ['A', 'bob'],
      ['A', 'carol'],
      ['B', 'alice'],
      ['C', 'alice'],
    ],
    compromises: [
      { dev: 'A', kind: 'session' },
      { dev: 'B', kind: 'session' },
      { dev: 'C', kind: 'session' },
    ],
    attacks: ['forge-ratchet', 'forge-handshake'],
    prefix: ['A starts an async handshake with B (bundle)', 'A starts an async handshake with C (bundle)', 'A sends m0 to bob', 'deliver m0 to B', 'A sends m1 to carol', 'deliver m1 to C'],
  },
  /** X25519 is broken later (the property evaluates knowledge so); now the attacker is an active classical one; Bob's KEM prekey may leak. */
  hndl: {
    name: 'hndl',
    setup: { devices: [alice, bob], verified: { A: ['B'], B: ['A'] } },
    budget: { starts: 1, sends: 2, compromises: 1, forged: 1 },
    depth: 6,
    asyncStarts: [['A', 'B']],
    interactiveStarts: [['A', 'B']],
    sends: [
      ['A', 'bob'],
      ['B', 'alice'],
    ],
    compromises: [{ dev: 'B', kind: 'kem' }],
    attacks: ['strip-opk', 'strip-kem', 'tamper-header', 'forge-handshake', 'forge-interactive'],
  },
  /** Both devices may start a session (simultaneous initiation) and send; the network reorders, duplicates and drops; the server may strip one-time prekeys. */
  delivery: {
    name: 'delivery',
    setup: { devices: [alice, bob], verified: { A: ['B'], B: ['A'] } },
    budget: { starts: 2, sends: 5 },
    depth: 9,
    asyncStarts: [
      ['A', 'B'],
      ['B', 'A'],
    ],
    sends: [
      ['A', 'bob'],
      ['B', 'alice'],
    ],
    attacks: ['strip-opk'],
    notes: ['duplicate'],
  },
  /** Bob's account key signs his device list; his second device is stolen and removed; the server serves any list it has. */
  fanout: {
    name: 'fanout',
    setup: { devices: [alice, bob, bob2, bobPhantom], verified: { B: ['A'], B2: ['A'] }, accounts: [{ jid: 'bob', devices: ['B', 'B2'], verifiedBy: ['A'] }] },
    budget: { starts: 3, revocations: 1, serves: 2, sends: 3 },
    depth: 6,
    asyncStarts: [
      ['A', 'B'],
      ['A', 'B2'],
      ['A', 'BX'],
    ],
    sends: [['A', 'bob']],
    revocations: [{ jid: 'bob', dev: 'B2' }],
    serveListsTo: ['A'],
    attacks: ['forge-list'],
    prefix: ['A starts an async handshake with B (bundle)', 'A starts an async handshake with B2 (bundle)', 'A sends m0 to bob', 'deliver m0 to B', 'deliver m0 to B2'],
  },
  /**
   * An honest server, and Eve, an ordinary account, as the attacker: she sees only what is
   * addressed to her and wraps stanzas of her own making (garbage naming Alice's device, a
   * handshake as Alice's device under a fresh identity key) as carbons and archive results
   * (the server stamps her JID on the wrapper). Bob's server relays Alice's messages live, as
   * carbons and as archive results for Bob's query; Bob repairs after a repairable failure.
   */
  forwarded: {
    name: 'forwarded',
    setup: { devices: [alice, bob, eve], verified: { A: ['B'], B: ['A'] }, server: 'honest' },
    budget: { starts: 1, sends: 2, queries: 1, garbage: 1, forged: 1 },
    depth: 5,
    asyncStarts: [['A', 'B']],
    sends: [
      ['A', 'bob'],
      ['B', 'alice'],
    ],
    queries: ['B'],
    attacks: ['forward', 'garbage', 'fresh-key'],
    notes: ['forwarded', 'forged-forward', 'duplicate'],
    repair: true,
    confirm: true,
    prefix: ['A starts an async handshake with B (bundle)', 'A sends m0 to bob'],
  },
  /**
   * The server as the attacker on the forwarded-stanza path: it relays and replays Alice's
   * stanzas to Bob live, as carbons from Bob's own bare JID and as archive results for Bob's
   * query (it sees the query id), and injects garbage naming Alice's device, also as an archive
   * result; Bob repairs after a repairable failure, never after an archive result.
   */
  forwardedServer: {
    name: 'forwarded-server',
    setup: { devices: [alice, bob], verified: { A: ['B'], B: ['A'] } },
    budget: { starts: 1, sends: 2, garbage: 1, queries: 1 },
    depth: 5,
    asyncStarts: [['A', 'B']],
    sends: [
      ['A', 'bob'],
      ['B', 'alice'],
    ],
    queries: ['B'],
    attacks: ['forward', 'garbage'],
    notes: ['duplicate', 'forwarded', 'previous'],
    repair: true,
    losses: true,
    confirm: true,
    prefix: ['A starts an async handshake with B (bundle)', 'A sends m0 to bob', 'deliver m0 to B, and B confirms with a key-only message (m1)'],
  },
  /**
   * Repair against the server: after Alice's first message opened at Bob, the server injects
   * garbage naming either device (the peer repairs, at most once per REPAIR_INTERVAL), serves the
   * repair's bundle genuine or under its own identity key, and presents a handshake as either
   * device under a fresh identity key; messages on a replaced session must still open.
   */
  repair: {
    name: 'repair',
    setup: { devices: [alice, bob], verified: { A: ['B'], B: ['A'] } },
    budget: { starts: 1, sends: 2, garbage: 2, forged: 1, intervals: 1 },
    depth: 6,
    asyncStarts: [['A', 'B']],
    sends: [
      ['A', 'bob'],
      ['B', 'alice'],
    ],
    attacks: ['garbage', 'fresh-key', 'forge-bundle'],
    notes: ['duplicate', 'previous'],
    repair: true,
    losses: true,
    confirm: true,
    prefix: ['A starts an async handshake with B (bundle)', 'A sends m0 to bob', 'deliver m0 to B, and B confirms with a key-only message (m1)'],
  },
  /** The limits of the late-message property, each reached from its own prefix (see LIMITS). */
  twoReplacements: repairLimit([
    'deliver m1 to A',
    'A sends m2 to bob',
    'attacker sends B garbage naming A — rejected (authentication-failed): B decides to repair its session with A',
    'B repairs its session with A: fetches the bundle (bundle), starts an async handshake and sends a key-only message',
    'REPAIR_INTERVAL passes',
    'attacker sends B garbage naming A — rejected (authentication-failed): B decides to repair its session with A',
    'B repairs its session with A: fetches the bundle (bundle), starts an async handshake and sends a key-only message',
  ]),
  oneTimePrekeyReused: repairLimit([
    'deliver m1 to A',
    'attacker sends B garbage naming A — rejected (authentication-failed): B decides to repair its session with A',
    'B repairs its session with A: fetches the bundle (bundle), starts an async handshake and sends a key-only message',
    'REPAIR_INTERVAL passes',
    'attacker sends B garbage naming A — rejected (authentication-failed): B decides to repair its session with A',
    'B repairs its session with A: fetches the bundle (bundle), starts an async handshake and sends a key-only message',
    'deliver m2 to A, and A confirms with a key-only message (m4)',
  ]),
  reordered: repairLimit([
    'deliver m1 to A',
    'A sends m2 to bob',
    'attacker sends B garbage naming A — rejected (authentication-failed): B decides to repair its session with A',
    'B repairs its session with A: fetches the bundle (bundle), starts an async handshake and sends a key-only message',
    'deliver m3 to A, and A confirms with a key-only message (m4)',
    'deliver m4 to B',
  ]),
  /** Open finding 1 (see OPEN): Bob's repair overtakes his confirmation of Alice's session. */
  repairOvertakesConfirmation: repairLimit([
    'attacker sends B garbage naming A — rejected (authentication-failed): B decides to repair its session with A',
    'B repairs its session with A: fetches the bundle (bundle), starts an async handshake and sends a key-only message',
    'deliver m2 to A, and A confirms with a key-only message (m3)',
    'deliver m1 to A',
    'B sends m4 to alice',
  ]),
  /** Fixed finding 1: Bob's account key is verified; Alice starts with Bob's second device; the server forges its bundle. */
  accountKey: {
    name: 'account-key',
    setup: { devices: [alice, bob, bob2], verified: { B: ['A'], B2: ['A'] }, accounts: [{ jid: 'bob', devices: ['B', 'B2'], verifiedBy: ['A'] }] },
    budget: { starts: 1, sends: 1 },
    depth: 3,
    asyncStarts: [['A', 'B2']],
    sends: [['A', 'bob']],
    attacks: ['forge-bundle'],
    notes: ['forge-bundle'],
  },
  /** Fixed finding 2: a handshake log that fills (capacity 1 stands for MAX_PROCESSED_HANDSHAKES), and Eve, a contact of Bob's, who runs handshakes of her own. */
  logEviction: {
    name: 'log-eviction',
    setup: { devices: [alice, bob, eve], verified: { A: ['B'], B: ['A', 'E'] } },
    budget: { starts: 1, sends: 1, forged: 1 },
    depth: 5,
    asyncStarts: [['A', 'B']],
    sends: [['A', 'bob']],
    attacks: ['strip-opk', 'forge-handshake'],
    notes: ['duplicate', 'log-full'],
  },
  /**
   * The handshake log with the current and a replaced signed prekey held: Bob rotates while
   * Alice's first message without a one-time prekey (to the old signed prekey) is in flight or
   * already opened; the old prekeys complete handshakes until their grace period ends, and the
   * log keeps the entries of the old signed prekey until then (handshake.prekey-grace,
   * handshake.replay-without-one-time-prekey). Eve runs handshakes of her own.
   */
  grace: {
    name: 'grace',
    setup: { devices: [alice, bob, eve], verified: { A: ['B'], B: ['A', 'E'] } },
    budget: { starts: 1, sends: 1, forged: 1, rotations: 1 },
    depth: 7,
    grace: true,
    rotations: ['B'],
    asyncStarts: [['A', 'B']],
    sends: [['A', 'bob']],
    attacks: ['strip-opk', 'forge-handshake'],
    notes: ['duplicate', 'log-full', 'log-full:grace', 'unknown-prekey'],
  },
  /** Fixed finding 3: a responder's session state leaks before it has sent in that session. */
  spkInSession: {
    name: 'spk-in-session',
    setup: { devices: [alice, bob, carol], verified: { A: ['B'], B: ['A', 'C'], C: ['B'] } },
    budget: { starts: 1, sends: 1, compromises: 1, forged: 1 },
    depth: 2,
    compromises: [{ dev: 'B', kind: 'session' }],
    attacks: ['forge-handshake'],
    prefix: ['A starts an async handshake with B (bundle)', 'A sends m0 to bob', 'deliver m0 to B'],
    asyncStarts: [['A', 'B']],
    sends: [['A', 'bob']],
  },
  /**
   * A members-only room (§groups) of Alice, Bob and Carol, one device each; Alice writes to it.
   * The room's owner removes Carol; Alice's device processes the new lists some time later
   * (groups.membership); the attacker is the server and the network and can take all of Carol's
   * keys. Carol has read the room before.
   */
  room: {
    name: 'room',
    setup: { devices: [alice, bob, carol], verified: { A: ['B', 'C'], B: ['A'], C: ['A'] }, room: { jid: 'room', members: ['alice', 'bob', 'carol'] } },
    budget: { starts: 2, sends: 3, removals: 1, compromises: 1 },
    depth: 6,
    asyncStarts: [
      ['A', 'B'],
      ['A', 'C'],
    ],
    sends: [['A', 'room']],
    removable: ['carol'],
    compromises: [{ dev: 'C', kind: 'full' }],
    attacks: [],
    prefix: ['A starts an async handshake with B (bundle)', 'A starts an async handshake with C (bundle)', 'A sends m0 to room', 'deliver m0 to C'],
  },
} as const satisfies Record<string, Scenario>;

/** A scenario's name. */
export type ScenarioName = keyof typeof SCENARIOS;

/** Which scenarios check a property, and the mutant(s) it must catch (and where). */
export interface Entry {
  readonly property: Property;
  readonly scenarios: readonly ScenarioName[];
  readonly mutants: readonly { readonly mutant: Mutant; readonly scenario: ScenarioName }[];
  /** Requirement ids of the spec that the property relates to. */
  readonly reqs: readonly string[];
}

/** The catalogue: every property, where it is checked, what it must catch. */
export const CATALOGUE: readonly Entry[] = [
  { property: secrecy, scenarios: ['core', 'interactive'], mutants: [], reqs: ['envelope.content-once', 'envelope.fan-out', 'handshake.async-kdf'] },
  { property: forwardSecrecy, scenarios: ['fs'], mutants: [{ mutant: 'no-opk-deletion', scenario: 'fs' }], reqs: ['handshake.one-time-prekey-once', 'offline.rotate'] },
  { property: postCompromise, scenarios: ['pcs'], mutants: [{ mutant: 'ratchet-without-dh', scenario: 'pcs' }], reqs: ['envelope.ratchet-kdf'] },
  { property: kci, scenarios: ['kci'], mutants: [{ mutant: 'dh1-without-spk', scenario: 'kci' }], reqs: ['handshake.async-kdf', 'handshake.interactive-identity'] },
  {
    property: authentication,
    scenarios: ['core', 'interactive', 'kci', 'repair', 'forwarded', 'forwardedServer'],
    mutants: [
      { mutant: 'kem-ct-not-in-kdf', scenario: 'core' },
      { mutant: 'no-key-commitment', scenario: 'core' },
    ],
    reqs: ['handshake.async-responder', 'handshake.duplicate', 'envelope.commitment', 'handshake.interactive-identity'],
  },
  { property: unknownKeyShare, scenarios: ['uks', 'interactive'], mutants: [{ mutant: 'identities-not-bound', scenario: 'uks' }], reqs: ['identity.identity-signature', 'handshake.async-kdf', 'handshake.interactive-noise'] },
  {
    property: interactiveAgreement,
    scenarios: ['interactive'],
    mutants: [{ mutant: 'identities-not-in-transcript', scenario: 'interactive' }],
    reqs: ['handshake.interactive-noise', 'handshake.interactive-identity'],
  },
  { property: sessionIndependence, scenarios: ['independence'], mutants: [], reqs: ['handshake.session'] },
  { property: hndl, scenarios: ['hndl'], mutants: [{ mutant: 'kem-secret-not-in-kdf', scenario: 'hndl' }], reqs: ['handshake.async-kdf', 'handshake.interactive-noise'] },
  {
    property: downgrade,
    scenarios: ['core', 'interactive', 'hndl'],
    mutants: [{ mutant: 'kem-optional', scenario: 'core' }],
    reqs: ['identity.prekey-signatures', 'handshake.async-kdf'],
  },
  {
    property: delivery,
    scenarios: ['delivery'],
    mutants: [
      { mutant: 'no-replay-cache', scenario: 'delivery' },
      { mutant: 'per-gap-skip-bound', scenario: 'delivery' },
    ],
    reqs: ['envelope.skip-bounds', 'handshake.duplicate'],
  },
  {
    property: fanOut,
    scenarios: ['fanout'],
    mutants: [
      { mutant: 'no-rollback-check', scenario: 'fanout' },
      { mutant: 'no-list-signature-check', scenario: 'fanout' },
    ],
    reqs: ['envelope.fan-out', 'identity.device-list-rollback', 'identity.account-signature'],
  },
  {
    property: forwardedInjection,
    scenarios: ['forwarded', 'forwardedServer'],
    mutants: [{ mutant: 'no-forward-check', scenario: 'forwarded' }],
    reqs: ['offline.forwarded-carbons', 'offline.forwarded-archive'],
  },
  { property: pinning, scenarios: ['repair', 'forwarded', 'forwardedServer'], mutants: [{ mutant: 'no-pinning', scenario: 'repair' }], reqs: ['device.pinning', 'identity.key-change'] },
  { property: repairBound, scenarios: ['repair', 'forwardedServer'], mutants: [{ mutant: 'no-repair-limit', scenario: 'repair' }], reqs: ['offline.repair-reset'] },
  { property: lateMessages, scenarios: ['repair', 'forwardedServer'], mutants: [{ mutant: 'no-previous-session', scenario: 'repair' }], reqs: ['offline.previous-session', 'offline.repair-reset'] },
  { property: roomRemoval, scenarios: ['room'], mutants: [{ mutant: 'keeps-sending-to-removed', scenario: 'room' }], reqs: ['groups.membership', 'groups.recipients'] },
];

/**
 * Mutants that must not be caught: each removes one of two redundant defences. The binding of
 * JIDs and device ids is in the identity signature and in the transcript; and with an honest
 * server, another account's handshake under a fresh identity key for a contact's device is
 * stopped both by the forwarded-wrapper check (it can only arrive in a wrapper from that
 * account) and by key pinning (it is held for a decision): the client of issue 13 had neither.
 */
export const REDUNDANT: readonly { readonly mutant: Mutant; readonly property: Property; readonly scenario: ScenarioName; /** A smaller depth than the scenario's (time). */ readonly depth?: number }[] = [
  { mutant: 'identities-not-in-transcript', property: unknownKeyShare, scenario: 'uks' },
  { mutant: 'identities-not-in-signature', property: unknownKeyShare, scenario: 'uks' },
  { mutant: 'no-pinning', property: pinning, scenario: 'forwarded' },
  // Without the check, Eve's garbage makes repairs: four times the states of the scenario at its depth.
  { mutant: 'no-forward-check', property: authentication, scenario: 'forwarded', depth: 4 },
];

/**
 * A finding that the spec has since fixed, kept as a regression: the spec's rule as it was (on
 * top of SPEC) must violate the property in the scenario, and SPEC must satisfy it there and
 * still deliver messages and reach the witnesses (the new rule is exercised, not bypassed).
 */
export interface FixedFinding {
  readonly name: string;
  readonly property: Property;
  readonly scenario: ScenarioName;
  /** The rule the spec had before the fix. */
  readonly asItWas: Partial<Pick<ProtocolOptions, 'listBindsDeviceKeys' | 'handshakeLogScope' | 'ratchetKeyOnReceipt'>>;
  /** Bounds scaled down so that the scenario reaches them (applied to both runs). */
  readonly bounds: Partial<Pick<ProtocolOptions, 'handshakeLogCapacity'>>;
  /** The requirement ids that now state the fix. */
  readonly reqs: readonly string[];
  /** The subject of the commit that fixed the spec and the reference code. */
  readonly commit: string;
  /** States the protocol as specified must reach in the scenario. */
  readonly witnesses: readonly Witness[];
}

/** The protocol as specified, with a fixed finding's scaled bounds. */
export function asSpecified(f: FixedFinding): ProtocolOptions {
  return { ...SPEC, ...f.bounds };
}

/** The protocol as it was specified before a fixed finding (SPEC with the old rule back). */
export function asItWas(f: FixedFinding): ProtocolOptions {
  return { ...SPEC, ...f.bounds, ...f.asItWas };
}

/** The fixed findings: the spec as it was fails, the spec now passes. */
export const FIXED: readonly FixedFinding[] = [
  {
    name: 'a verified account key trusted whatever identity key a listed device presented',
    property: fanOut,
    scenario: 'accountKey',
    asItWas: { listBindsDeviceKeys: false },
    bounds: {},
    reqs: ['identity.device-list-keys', 'identity.trust-listed-key', 'identity.verify-bundle'],
    commit: 'Device list binds each device id to its identity signing key',
    witnesses: [{ name: "the server's bundle for B2 with its own identity key is refused", reached: (w) => w.notes.includes('rejected:forge-bundle') }],
  },
  {
    name: 'a replayed first message without one-time prekey opened again once its header left the handshake log',
    property: authentication,
    scenario: 'logEviction',
    asItWas: { handshakeLogScope: 'global' },
    bounds: { handshakeLogCapacity: 1 },
    reqs: ['handshake.duplicate', 'handshake.replay-without-one-time-prekey', 'offline.rotate'],
    commit: 'Handshake log: a header without one-time prekey stays logged while its signed prekey is held',
    witnesses: [
      { name: 'a replayed first message is reported as a duplicate', reached: (w) => w.notes.includes('duplicate') },
      { name: 'with the log full for its signed prekey, a handshake without one-time prekey is rejected', reached: (w) => w.notes.includes('rejected:log-full') },
      { name: 'the responder rotates its signed and KEM prekeys when the log is full', reached: (w) => w.devices.some((d) => d.gen > 1) },
    ],
  },
  {
    name: "a responder's session state held its signed prekey until it sent",
    property: sessionIndependenceAuth,
    scenario: 'spkInSession',
    asItWas: { ratchetKeyOnReceipt: 'keep' },
    bounds: {},
    reqs: ['envelope.ratchet-init'],
    commit: 'Ratchet: the private ratchet key is deleted at each DH step on receipt',
    witnesses: [
      {
        name: "a compromise of the responder's session after its first DH step finds no private ratchet key",
        reached: (w) => w.compromises.some((c) => c.kind === 'session' && w.devices.some((d) => d.name === c.dev && d.sessions.some((s) => s.rk0 === c.rk0 && s.role === 'responder' && s.dhs === undefined))),
      },
    ],
  },
];

/**
 * The handshake log with the current and a replaced signed prekey held (scenario `grace`): the
 * properties it must keep, the witnesses showing both signed prekeys held and used, and the
 * mutant that must be caught. `bounds` is a second run with a log of capacity 1 (standing for a
 * full log of MAX_PROCESSED_HANDSHAKES), where the log fills for the replaced signed prekey.
 */
export const GRACE: {
  readonly scenario: ScenarioName;
  readonly properties: readonly Property[];
  readonly mutant: { readonly mutant: Mutant; readonly property: Property };
  readonly bounds: Partial<ProtocolOptions>;
  readonly witnesses: readonly Witness[];
  readonly fullLogWitnesses: readonly Witness[];
  readonly reqs: readonly string[];
} = {
  scenario: 'grace',
  properties: [authentication, delivery],
  mutant: { mutant: 'grace-drops-log', property: authentication },
  bounds: { handshakeLogCapacity: 1 },
  witnesses: [
    {
      name: 'a first message to the replaced signed prekey opens during its grace period',
      reached: (w) => w.devices.some((d) => d.sessions.some((s) => s.role === 'responder' && d.grace.some((g) => g.spk === s.spk))) && w.accepts.some((a) => a.msg >= 0),
    },
    { name: 'a replayed first message to the replaced signed prekey is a duplicate (its log entry is kept)', reached: (w) => w.notes.includes('duplicate:grace') },
    {
      name: 'once the grace period ended, a first message to the replaced signed prekey is rejected (unknown-prekey)',
      reached: (w) => w.notes.includes('rejected:unknown-prekey') && w.devices.some((d) => d.gen > 1 && d.grace.length === 0),
    },
  ],
  fullLogWitnesses: [
    {
      name: 'with the log full for the replaced signed prekey, a handshake without one-time prekey to it is rejected, and no rotation follows',
      reached: (w) => w.notes.includes('rejected:log-full:grace') && w.devices.every((d) => d.gen <= 2),
    },
  ],
  reqs: ['handshake.prekey-grace', 'handshake.replay-without-one-time-prekey', 'handshake.duplicate', 'offline.rotate'],
};

/**
 * A limit the spec states for a property: the protocol as specified satisfies the property (its
 * statement names the limit) and reaches the limit, so that the limit is shown, not assumed.
 */
export interface Limit {
  readonly name: string;
  readonly property: Property;
  readonly scenario: ScenarioName;
  readonly witness: Witness;
  readonly reqs: readonly string[];
}

/** The late-message property's limits (offline.previous-session). */
export const LIMITS: readonly Limit[] = [
  {
    name: 'at most one previous session: a message in transit across two repairs is lost',
    property: lateMessages,
    scenario: 'twoReplacements',
    witness: { name: 'a late message finds its session pushed out by a second repair', reached: (w) => w.losses.some((l) => l.limit === 'two-replacements') },
    reqs: ['offline.previous-session'],
  },
  {
    name: 'two handshakes from one bundle: the second names a used one-time prekey and its first message is lost',
    property: lateMessages,
    scenario: 'oneTimePrekeyReused',
    witness: { name: 'a repair handshake names a one-time prekey the previous repair already used', reached: (w) => w.losses.some((l) => l.limit === 'one-time-prekey-reused') },
    reqs: ['handshake.one-time-prekey-once', 'offline.repair-reset'],
  },
  {
    name: 'a message delivered after the new session carried messages both ways finds its session dropped',
    property: lateMessages,
    scenario: 'reordered',
    witness: { name: 'a reordered late message is lost once the previous session is dropped', reached: (w) => w.losses.some((l) => l.limit === 'reordered') },
    reqs: ['offline.previous-session'],
  },
];

/**
 * A place where the spec as written fails to do what it says, found by the model and not yet
 * fixed: the protocol as specified reaches the witness. When the spec is fixed, the entry moves
 * to FIXED (with the old rule as an option).
 */
export interface OpenFinding {
  readonly name: string;
  readonly scenario: ScenarioName;
  readonly witness: Witness;
  readonly reqs: readonly string[];
}

/** The open findings. */
export const OPEN: readonly OpenFinding[] = [
  {
    name: "a repair that overtakes the peer's confirmation leaves the two devices on different sessions, and later messages in order are lost",
    scenario: 'repairOvertakesConfirmation',
    witness: {
      name: "Alice keeps her unconfirmed session active (the simultaneous-initiation rule), drops the repair's session once her own carried messages both ways, and Bob's next message on it is lost",
      reached: (w) => w.losses.some((l) => l.limit === 'after-reorder' && w.msgs[l.msg]?.keyOnly !== true),
    },
    reqs: ['offline.simultaneous', 'offline.repair-reset', 'offline.previous-session'],
  },
];

/** Extra depth from SEAL_L1_DEPTH (default 0). */
export function extraDepth(env: Record<string, string | undefined> = process.env): number {
  const raw = env['SEAL_L1_DEPTH'];
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 20) throw new Error(`SEAL_L1_DEPTH: expected an integer 0..20, got ${raw}`);
  return n;
}

/** A scenario with `extra` more depth and budgets raised to match. */
export function deeper(sc: Scenario, extra: number): Scenario {
  if (extra === 0) return sc;
  const budget: Record<string, number> = {};
  for (const [k, v] of Object.entries(sc.budget)) budget[k] = v + Math.ceil(extra / 2);
  return { ...sc, depth: sc.depth + extra, budget };
}
