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
import { EmbeddedServer, HttpUpload, SealClient, presence } from '../../src/net/index.js';
import { webCryptoFileCipher } from '../../src/files/index.js';
import { bareJid } from '../../src/identity/jid.js';

declare global {
  interface Window { sealResult?: unknown }
}

async function main() {
  const vectors = [];
  for (const kind of VECTOR_KINDS) {
    const document = await (await fetch(`/vectors/${kind.file}`)).json();
    const result = await verify(kind, document);
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
  window.sealResult = { vectors, bodies, file: await shareFile(), userAgent: navigator.userAgent };
  document.body.textContent = JSON.stringify(window.sealResult, null, 2);
}

/**
 * §files in the page: two Seal clients on the embedded server, whose upload slots point at the
 * test's HTTP server; Alice encrypts with WebCrypto and uploads with the page's fetch, Bob
 * downloads with fetch and decrypts with WebCrypto.
 */
async function shareFile(): Promise<{ name: string; size: number; kind: string; equal: boolean; tampered: string }> {
  const server = new EmbeddedServer({ upload: { domain: 'upload.example.org', baseUrl: `${location.origin}/upload/` } });
  server.createAccount('alice@example.org');
  server.createAccount('bob@example.org');
  const now = () => Math.floor(Date.now() / 1000);
  const aliceConnection = server.connect('alice@example.org/page');
  const bobConnection = server.connect('bob@example.org/page');
  const alice = await SealClient.create({ connection: aliceConnection, now, rng: systemRng, oneTimePrekeys: 2 });
  const bob = await SealClient.create({ connection: bobConnection, now, rng: systemRng, oneTimePrekeys: 2 });
  await aliceConnection.send(presence());
  await bobConnection.send(presence());
  await server.network.flush();
  const data = new Uint8Array(150_000).map((_, i) => (i * 13) % 256);
  await alice.sendFile(bareJid('bob@example.org'), { name: 'photo.jpg', mediaType: 'image/jpeg', data, size: data.length }, new HttpUpload({ connection: aliceConnection, service: 'upload.example.org', rng: systemRng }), { provider: webCryptoFileCipher });
  await server.network.flush();
  const file = bob.received[0]!.files[0]!;
  const bobUpload = new HttpUpload({ connection: bobConnection, service: 'upload.example.org', rng: systemRng });
  const opened = await bobUpload.download(file, webCryptoFileCipher);
  // The test's server flips a byte of every upload it serves with ?tampered.
  let tampered = 'no error';
  if (file.kind === 'stream') {
    try {
      await bobUpload.download({ ...file, descriptor: { ...file.descriptor, url: `${file.descriptor.url}?tampered` } }, webCryptoFileCipher);
    } catch (e) {
      tampered = (e as { code?: string }).code ?? String(e);
    }
  }
  return { name: bob.received[0]!.body, size: opened.length, kind: file.kind, equal: opened.every((b, i) => b === data[i]) && opened.length === data.length, tampered };
}

main().catch((e: unknown) => {
  window.sealResult = { error: String(e) };
});
