/**
 * The real-server adapter: {@link XmppConnection} over @xmpp/client, so the same SealClient runs
 * against a real XMPP server (Prosody in CI) as against the embedded one. Node-specific; the only
 * part of src/net besides the embedded server that a browser bundle does not need.
 *
 * @see spec §offline
 * @module
 */
import { client } from '@xmpp/client';
import { type Element } from '../wire/xml.js';
import { type XmppConnection, XmppError } from './connection.js';

/** Options of {@link connectToServer}. */
export interface RealServerOptions {
  /** e.g. `xmpp://127.0.0.1:5222` */
  readonly service: string;
  readonly domain: string;
  readonly username: string;
  readonly password: string;
  readonly resource: string;
}

/**
 * Connects to a real server and resolves when the session is online (before initial presence:
 * offline messages arrive only after the caller sends `<presence/>`, as on the embedded server).
 *
 * @see spec §offline
 */
export async function connectToServer(options: RealServerOptions): Promise<XmppConnection> {
  const xmpp = client({ service: options.service, domain: options.domain, username: options.username, password: options.password, resource: options.resource });
  const handlers: ((stanza: Element) => void | Promise<void>)[] = [];
  let chain = Promise.resolve();
  xmpp.on('stanza', (stanza: Element) => {
    if (stanza.name !== 'message' && stanza.name !== 'presence') return;
    // Handlers run one after another, in order of arrival, as on the embedded network.
    chain = chain.then(async () => {
      for (const handler of handlers) await handler(stanza);
    });
  });
  xmpp.on('error', () => undefined);
  const address = await xmpp.start();
  return {
    jid: address.toString(),
    async send(stanza: Element) {
      await xmpp.send(stanza);
    },
    async iq(request: Element) {
      try {
        return (await xmpp.iqCaller.request(request)) as Element;
      } catch (e) {
        const error = e as { condition?: string; element?: Element; type?: string };
        const element = error.element?.getChild?.('error');
        throw element !== undefined ? XmppError.fromStanza(error.element!) : new XmppError('cancel', error.condition ?? 'undefined-condition');
      }
    },
    onStanza(handler) {
      handlers.push(handler);
    },
    async close() {
      await chain;
      await xmpp.stop();
    },
  };
}
