/**
 * What runs inside the browser page: every vector file verified against the code, and a
 * conversation between two devices (asynchronous handshake, messages both ways). Bundled by
 * esbuild for the browser; the result is left in `window.sealResult`.
 */
import { openStanza, sealStanza, sessionKey, startRatchet, type PeerSession } from '../../src/envelope/index.js';
import { initiateAsync } from '../../src/handshake/index.js';
import { bundleOf, createDeviceState, verifyBundle } from '../../src/identity/index.js';
import { systemRng } from '../../src/suite/index.js';
import { VECTOR_KINDS, verify } from '../../src/vectors/index.js';
import { parseXml, xml } from '../../src/wire/index.js';

declare global {
  interface Window { sealResult?: unknown }
}

async function main() {
  const vectors = [];
  for (const kind of VECTOR_KINDS) {
    const document = await (await fetch(`/vectors/${kind.file}`)).json();
    const result = verify(kind, document);
    vectors.push({ file: kind.file, cases: result.cases, passed: result.passed, failures: result.failures.slice(0, 3) });
  }
  const now = Math.floor(Date.now() / 1000);
  const alice = createDeviceState({ jid: 'alice@example.org', now, rng: systemRng, oneTimePrekeys: 2 });
  const bob = createDeviceState({ jid: 'bob@example.net', now, rng: systemRng, oneTimePrekeys: 2 });
  const started = initiateAsync({ self: alice, peer: verifyBundle(bundleOf(bob), { jid: bob.jid, deviceId: bob.deviceId, now }), rng: systemRng });
  let aliceSessions = new Map<string, PeerSession>([[sessionKey(bob.jid, bob.deviceId), { ratchet: startRatchet(started.session, systemRng), confirmation: { state: 'unconfirmed', header: started.header } }]]);
  let bobSessions = new Map<string, PeerSession>();
  const bodies: string[] = [];
  let bobState = bob;
  let bobLog: readonly string[] = [];
  for (const text of ['hello from a browser', 'second']) {
    const sealed = sealStanza({ to: bob.jid, from: alice.jid, senderDeviceId: alice.deviceId, content: [xml('body', {}, [text])], recipients: [{ jid: bob.jid, deviceId: bob.deviceId }], sessions: aliceSessions, rng: systemRng, now });
    aliceSessions = sealed.sessions;
    const opened = openStanza({ stanza: parseXml(sealed.stanza.toString()), self: bobState, log: bobLog, sessions: bobSessions, now });
    if (opened.kind === 'ok') {
      bodies.push(opened.content[0]!.getText());
      bobSessions = opened.sessions;
      bobState = opened.state;
      bobLog = opened.log;
    }
  }
  const reply = sealStanza({ to: alice.jid, from: bob.jid, senderDeviceId: bob.deviceId, content: [xml('body', {}, ['reply'])], recipients: [{ jid: alice.jid, deviceId: alice.deviceId }], sessions: bobSessions, rng: systemRng, now });
  const back = openStanza({ stanza: parseXml(reply.stanza.toString()), self: alice, log: [], sessions: aliceSessions, now });
  if (back.kind === 'ok') bodies.push(back.content[0]!.getText());
  window.sealResult = { vectors, bodies, userAgent: navigator.userAgent };
  document.body.textContent = JSON.stringify(window.sealResult, null, 2);
}

main().catch((e: unknown) => {
  window.sealResult = { error: String(e) };
});
