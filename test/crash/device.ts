/**
 * The device of the crash test (test/store.crash.test.ts): Alice's SealClient over a FileStore,
 * in a child process that the test kills with SIGKILL at random points. Its XMPP connection is
 * a bridge over Node's IPC channel to the embedded server in the parent, with acknowledgements
 * in the manner of stream management (XEP-0198): the parent sends an incoming stanza again to the
 * next process until this one has processed it (SealClient's stanza handler resolved, so its
 * commit is on disk). Spec §device.store: a restarted device continues from its store.
 *
 * argv: store directory, rng seed. Messages to the parent: `ready`, `opened`, `sent`, `event`,
 * `stanza-out`, `iq`, `ack`, `load-failed`. From the parent: `stanza`, `iq-result`, `send`.
 */
import { FileStore } from '../../src/store/file.js';
import { SealClient } from '../../src/net/client.js';
import { presence } from '../../src/net/stanzas.js';
import type { XmppConnection } from '../../src/net/connection.js';
import { XmppError } from '../../src/net/connection.js';
import { seededRng } from '../../src/suite/rng.js';
import { bareJid } from '../../src/identity/jid.js';
import { parseXml, type Element } from '../../src/wire/xml.js';

type FromParent =
  | { t: 'stanza'; seq: number; xml: string }
  | { t: 'iq-result'; id: number; xml?: string; error?: { type: string; condition: string; application?: string; text?: string } }
  | { t: 'send'; body: string };

const [dir, seed] = process.argv.slice(2) as [string, string];
const FULL = 'alice@example.org/a';
const BOB = bareJid('bob@example.org');
const post = (message: object) => process.send!(message);

let handler: ((stanza: Element) => void | Promise<void>) | undefined;
const early: { seq: number; xml: string }[] = [];
const iqs = new Map<number, { resolve: (e: Element) => void; reject: (e: unknown) => void }>();
let iqId = 0;

async function handle(seq: number, xml: string): Promise<void> {
  await handler!(parseXml(xml));
  post({ t: 'ack', seq });
}

const connection: XmppConnection = {
  jid: FULL,
  send: async (stanza) => {
    post({ t: 'stanza-out', xml: stanza.toString() });
  },
  iq: (request) =>
    new Promise<Element>((resolve, reject) => {
      const id = ++iqId;
      iqs.set(id, { resolve, reject });
      post({ t: 'iq', id, xml: request.toString() });
    }),
  onStanza: (h) => {
    handler = h;
  },
  close: async () => undefined,
};

// Stanzas are processed one at a time, in order, as a real connection's would be.
let chain: Promise<void> = Promise.resolve();
process.on('message', (message: FromParent) => {
  if (message.t === 'stanza') {
    if (handler === undefined) early.push(message);
    else chain = chain.then(() => handle(message.seq, message.xml));
  } else if (message.t === 'iq-result') {
    const waiting = iqs.get(message.id);
    iqs.delete(message.id);
    if (message.error) waiting?.reject(new XmppError(message.error.type as 'cancel', message.error.condition, message.error.application, message.error.text));
    else waiting?.resolve(parseXml(message.xml!));
  } else if (message.t === 'send') {
    chain = chain.then(async () => {
      await client.send(BOB, message.body);
      post({ t: 'sent', body: message.body });
    });
  }
});

let store: FileStore;
try {
  store = FileStore.open(dir);
} catch (e) {
  post({ t: 'load-failed', message: String(e) });
  process.exit(3);
}
const now = () => Math.floor(Date.now() / 1000);
// Listeners from the start: a restored device hands over its inbox again during create.
const client = await SealClient.create({
  connection,
  store,
  now,
  rng: seededRng(seed),
  oneTimePrekeys: 5,
  onEvent: (event) => {
    if (event.kind === 'opened') post({ t: 'opened', body: event.body, eventId: event.eventId });
    else post({ t: 'event', kind: event.kind, ...('code' in event ? { code: event.code } : {}) });
  },
});
await connection.send(presence());
for (const m of early.splice(0)) chain = chain.then(() => handle(m.seq, m.xml));
post({ t: 'ready', recovered: store.recovered?.tornCommitAt ?? null });
