/**
 * `npm start -- --server xmpp://HOST:PORT --jid alice@host --password … --peer bob@host
 * --peer-password …`: the core of the demo against a real XMPP server, through the @xmpp/client
 * adapter: bundles and signed device lists through the server's PEP, the peer offline while the
 * first account sends, delivery from offline storage, the archive's copies recognised as
 * duplicates, a reply. Exit code 0 only if every message arrived exactly once.
 *
 * Every run is a new device of each account, and the demo keeps no keys between runs. An account
 * whose Seal device list is already signed by an account key (an earlier run, another Seal
 * client) cannot take a new device without that key (spec §device.account-key): the demo says so
 * and stops, unless `--fresh` tells it to delete both accounts' Seal device lists and bundles
 * first.
 *
 * @see spec §device
 * @see spec §offline
 * @module
 */
import { isSealError } from '../errors.js';
import type { DeviceId } from '../identity/device.js';
import { verifyDeviceList } from '../identity/devicelist.js';
import { type BareJid, bareJid } from '../identity/jid.js';
import { DEVICE_LIST_NODE, bundleNode } from '../identity/pep.js';
import { SealClient, type XmppConnection, fetchItem } from '../net/index.js';
import { type RealServerOptions, connectToServer } from '../net/real.js';
import { systemRng } from '../suite/rng.js';
import { DeviceListElement } from '../wire/devices.js';
import { PUBSUB_OWNER_NS } from '../wire/pep.js';
import { type Element, xml } from '../wire/xml.js';
import { wireText } from './demo.js';

/** Connection settings of the two accounts, and how to run. */
export interface RealDemoOptions {
  readonly server: string;
  readonly jid: string;
  readonly password: string;
  readonly peer: string;
  readonly peerPassword: string;
  readonly print: (line: string) => void;
  /** Where a failure's one-line explanation goes (default `print`; the CLI passes stderr). */
  readonly fail?: (line: string) => void;
  /** How to connect an account (default {@link connectToServer}; tests pass the embedded server). */
  readonly connect?: (options: RealServerOptions) => Promise<XmppConnection>;
  /** Print every stanza sent and received (default false). */
  readonly verbose?: boolean;
  /**
   * Delete both accounts' Seal device lists and bundles before the demo, so that its new
   * devices can create new account keys (default false). The accounts' existing Seal devices
   * stop receiving: for demo accounts only.
   */
  readonly fresh?: boolean;
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** A one-line description of why something failed (no stack). */
function reason(e: unknown): string {
  const text = e instanceof Error ? e.message || e.name : String(e);
  return text.split('\n')[0]!.slice(0, 300);
}

/**
 * Why connecting `jid` to `server` failed, in one line: the network (refused, unknown host, no
 * answer), the server refusing the stream (a domain it does not serve), or the login.
 */
export function connectFailure(e: unknown, server: string, jid: string): string {
  const shaped = (typeof e === 'object' && e !== null ? e : {}) as { code?: unknown; name?: unknown; condition?: unknown; text?: unknown };
  const condition = typeof shaped.condition === 'string' ? shaped.condition : undefined;
  const text = typeof shaped.text === 'string' && shaped.text !== '' ? ` (${shaped.text})` : '';
  if (typeof shaped.code === 'string' && /^E[A-Z]+$/.test(shaped.code)) return `cannot connect to ${server}: ${reason(e)}`;
  if (shaped.name === 'TimeoutError') return `cannot connect to ${server}: the server did not answer in time`;
  if (shaped.name === 'StreamError') return `${server} refused the connection for ${jid.split('@')[1]}: ${condition ?? reason(e)}${text}`;
  if (shaped.name === 'SASLError') return `cannot log in to ${server} as ${jid}: ${condition ?? reason(e)}${text}${condition === 'not-authorized' ? ': wrong password or no such account' : ''}`;
  return `cannot log in to ${server} as ${jid}: ${reason(e)}`;
}

/** `connection`, printing every stanza it sends and receives. */
function observed(connection: XmppConnection, print: (line: string) => void): XmppConnection {
  const show = (arrow: string, stanza: Element) => print(`    ${arrow}\n${wireText(stanza)}`);
  return {
    jid: connection.jid,
    async send(stanza) {
      show(`→ server (${connection.jid})`, stanza);
      await connection.send(stanza);
    },
    async iq(request) {
      show(`→ server (${connection.jid})`, request);
      const answer = await connection.iq(request);
      show(`← ${connection.jid}`, answer);
      return answer;
    },
    onStanza(handler) {
      connection.onStanza((stanza) => {
        show(`← ${connection.jid}`, stanza);
        return handler(stanza);
      });
    },
    close: () => connection.close(),
  };
}

/**
 * Deletes `connection`'s account's Seal device list and the bundles of the devices it names
 * (XEP-0060 §8.4 node deletion by the owner); returns how many nodes it deleted.
 */
async function deleteSealNodes(connection: XmppConnection, jid: BareJid): Promise<number> {
  const list = await fetchItem(connection, jid, DEVICE_LIST_NODE);
  let ids: DeviceId[] = [];
  try {
    ids = list === undefined ? [] : verifyDeviceList(jid, DeviceListElement.fromXml(list)).devices.map((d) => d.id);
  } catch {
    // A list this code cannot read: delete the node all the same.
  }
  let deleted = 0;
  for (const node of [...ids.map((id) => bundleNode(id)), ...(list === undefined ? [] : [DEVICE_LIST_NODE])]) {
    try {
      await connection.iq(xml('iq', { type: 'set', id: `seal-demo-delete-${deleted}-${node.length}` }, [xml('pubsub', { xmlns: PUBSUB_OWNER_NS }, [xml('delete', { node })])]));
      deleted++;
    } catch {
      // item-not-found: nothing to delete.
    }
  }
  return deleted;
}

/** Runs the demo against a real server; returns the exit code (0 only if every check passed). */
export async function runRealDemo(options: RealDemoOptions): Promise<number> {
  const { print } = options;
  const fail = options.fail ?? print;
  const now = () => Math.floor(Date.now() / 1000);
  const alice = bareJid(options.jid);
  const bob = bareJid(options.peer);
  let failures = 0;
  const check = (what: string, ok: boolean) => {
    print(`  ${ok ? '✓' : '✗'} ${what}`);
    if (!ok) failures++;
  };
  print(`Seal demo against ${options.server}\n`);
  const connections: XmppConnection[] = [];
  const closeAll = async () => {
    for (const c of connections) await c.close().catch(() => undefined);
  };
  const connect = async (jid: BareJid, password: string): Promise<XmppConnection> => {
    const [local, domain] = jid.split('@') as [string, string];
    const connection = await (options.connect ?? connectToServer)({ service: options.server, domain, username: local, password, resource: `seal-demo-${Date.now().toString(36)}` });
    connections.push(connection);
    return options.verbose === true ? observed(connection, print) : connection;
  };
  let aliceConnection: XmppConnection;
  let bobConnection: XmppConnection;
  try {
    aliceConnection = await connect(alice, options.password);
    bobConnection = await connect(bob, options.peerPassword);
  } catch (e) {
    fail(`seal demo: ${connectFailure(e, options.server, connections.length === 0 ? alice : bob)}`);
    await closeAll();
    return 1;
  }
  const device = async (jid: BareJid, connection: XmppConnection, name: string): Promise<SealClient | undefined> => {
    try {
      const client = await SealClient.create({ connection, now, rng: systemRng, oneTimePrekeys: 10 });
      client.onMessage((m) => print(`     ${name} opened "${m.body}" (from ${m.from.jid} device ${m.from.deviceId}, ${m.via}, key ${m.trust})`));
      return client;
    } catch (e) {
      if (isSealError(e) && e.code === 'account-key-required') {
        fail(`seal demo: ${jid} already has a Seal device list signed by its account key (from an earlier run of`);
        fail('  this demo, or another Seal client). A new device can add itself to a signed list only with that');
        fail('  account key (spec §device.account-key), and this demo keeps no keys between runs. Use accounts');
        fail('  without Seal devices, or add --fresh to delete both accounts\' Seal device lists and bundles first');
        fail('  (their existing Seal devices then stop receiving).');
      } else {
        fail(`seal demo: ${jid}: cannot set up a Seal device: ${reason(e)}`);
      }
      return undefined;
    }
  };
  try {
    if (options.fresh === true) {
      const deleted = (await deleteSealNodes(aliceConnection, alice)) + (await deleteSealNodes(bobConnection, bob));
      print(`0. --fresh: deleted ${deleted} Seal PEP nodes (device lists and bundles) of both accounts`);
    }
    const a = await device(alice, aliceConnection, alice);
    const b = a === undefined ? undefined : await device(bob, bobConnection, bob);
    if (a === undefined || b === undefined) return 1;
    print(`1. both devices published bundles and signed device lists (devices ${a.state.deviceId} and ${b.state.deviceId})`);
    await a.connection.send(a.presence());
    const texts = ['Are you there?', 'The plan changed.', 'Call me when you are back.'];
    for (const text of texts) await a.send(bob, text);
    print(`2. ${alice} sent three messages while ${bob} had sent no presence (offline)`);
    await b.connection.send(b.presence());
    check('the peer opened them from offline storage', await until(() => texts.every((t) => b.received.some((m) => m.body === t)), 15_000));
    await b.fetchArchive();
    check("the archive's copies were recognised as duplicates", await until(() => b.events.filter((e) => e.kind === 'duplicate').length >= 3, 15_000));
    await b.send(alice, 'Back now.');
    check('the reply arrived', await until(() => a.received.some((m) => m.body === 'Back now.'), 15_000));
    check('no message was opened twice', new Set(b.received.map((m) => m.body)).size === b.received.length && a.received.filter((m) => m.body === 'Back now.').length === 1);
    return failures === 0 ? 0 : 1;
  } catch (e) {
    fail(`seal demo: ${reason(e)}`);
    return 1;
  } finally {
    await closeAll();
  }
}
