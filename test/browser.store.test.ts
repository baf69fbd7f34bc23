/**
 * The IndexedDB store in the browser that counts (spec §device.store): Alice's device runs in a
 * page of Debian's headless Chromium (through playwright-core) over an IndexedDbStore with a
 * non-extractable wrapping key, and talks to Bob through the embedded server in this process.
 * Mid-conversation the page is reloaded, or its renderer crashed (CDP `Page.crash`, the closest
 * the harness comes to a kill mid-commit) and a new page opened on the same origin; every time,
 * the new page continues from the store. At the end every message whose send resolved was opened
 * exactly once by its recipient, nothing unsent was opened, no session needed repair, and the
 * store never failed to load.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { EmbeddedServer, SealClient, XmppError, presence, type XmppConnection } from '../src/net/index.js';
import { MemoryStore } from '../src/device/store.js';
import { bareJid } from '../src/identity/jid.js';
import { seededRng } from '../src/suite/rng.js';
import { parseXml } from '../src/wire/xml.js';
import { ROOT, missing } from './support/environment.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = missing('chromium', existsSync(CHROMIUM), 'apt-get install chromium');
const RESTARTS = Number(process.env.SEAL_BROWSER_RESTARTS ?? 24);
const ALICE = bareJid('alice@example.org');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Report =
  | { t: 'ready'; userAgent: string }
  | { t: 'opened'; body: string; eventId: string }
  | { t: 'sent'; body: string }
  | { t: 'event'; kind: string; code?: string }
  | { t: 'ack'; seq: number }
  | { t: 'load-failed'; message: string };

describe.skipIf(skip !== undefined)('the IndexedDB store in headless Chromium', () => {
  it(`a page reloaded or crashed ${RESTARTS} times mid-conversation continues from its store: every message opened exactly once, no repair`, async () => {
    // @req device.commit-first
    // @req device.store-integrity
    // @req device.restart-tick
    const seed = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`browser store test seed ${seed} (replay the schedule: FC_SEED=${seed})`);
    const draw = seededRng(`browser store schedule ${seed}`);
    const uniform = () => (draw(4).reduce((a, b) => a * 256 + b, 0) >>> 0) / 2 ** 32;
    const bundle = await build({ entryPoints: [path.join(ROOT, 'test/browser/store-page.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' });
    const script = bundle.outputFiles[0]!.text;
    expect(script).not.toMatch(/require\(["']node:|WebAssembly\./);
    const web = http.createServer((request, response) => {
      if (request.url === '/') return response.end('<!doctype html><meta charset="utf-8"><title>Seal store</title><body><script type="module" src="/store.js"></script></body>');
      if (request.url === '/store.js') return response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const { port } = web.address() as { port: number };

    const server = new EmbeddedServer({ rng: seededRng(`browser store server ${seed}`) });
    server.createAccount(ALICE);
    server.createAccount('bob@example.org');
    const now = () => Math.floor(Date.now() / 1000);
    const bobConnection = server.connect('bob@example.org/b');
    const bob = await SealClient.create({ connection: bobConnection, store: new MemoryStore(), now, rng: seededRng(`browser bob ${seed}`), oneTimePrekeys: 5 });
    await bobConnection.send(presence());
    let pumping = true;
    const pump = (async () => {
      while (pumping) {
        await server.network.flush();
        await sleep(2);
      }
    })();

    const unacked = new Map<number, string>();
    let nextSeq = 0;
    const aliceOpened = new Map<string, Set<string>>();
    const aliceSent = new Set<string>();
    const aliceEvents: string[] = [];
    const failures: string[] = [];
    let userAgent = '';
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'] });
    const context = await browser.newContext();
    type Page = Awaited<ReturnType<typeof context.newPage>>;
    let page: Page | undefined;
    let connection: XmppConnection | undefined;
    let generation = 0;

    /** Opens (or reloads) Alice's page; resolves when it is ready (or failed to load). */
    const open = async (how: 'new' | 'reload') => {
      const mine = ++generation;
      await connection?.close();
      const conn = server.connect(`${ALICE}/browser`);
      connection = conn;
      let ready!: () => void;
      const readyNow = new Promise<void>((resolve) => (ready = resolve));
      const current = () => mine === generation;
      conn.onStanza((stanza) => {
        const seq = nextSeq++;
        const xml = stanza.toString();
        unacked.set(seq, xml);
        if (current()) page?.evaluate(([s, x]) => window.sealDeliver!(s, x), [seq, xml] as const).catch(() => undefined);
      });
      if (how === 'new') {
        page = await context.newPage();
        await page.exposeFunction('sealOut', async (xml: string) => {
          if (generation > 0) await connection!.send(parseXml(xml)).catch(() => undefined);
        });
        await page.exposeFunction('sealIq', async (xml: string) => {
          try {
            return { xml: (await connection!.iq(parseXml(xml))).toString() };
          } catch (e) {
            return { error: e instanceof XmppError ? { type: e.type, condition: e.condition, ...(e.application === undefined ? {} : { application: e.application }), ...(e.text === undefined ? {} : { text: e.text }) } : { type: 'cancel', condition: 'internal-server-error', text: String(e) } };
          }
        });
        await page.exposeFunction('sealReport', (report: Report) => onReport(report));
        await page.goto(`http://127.0.0.1:${port}/`);
      } else {
        await page!.reload();
      }
      pendingReady = () => {
        // Stream resumption: what the previous page had not processed, in order.
        for (const [seq, xml] of [...unacked].sort((a, b) => a[0] - b[0])) page!.evaluate(([s, x]) => window.sealDeliver!(s, x), [seq, xml] as const).catch(() => undefined);
        ready();
      };
      // The timer is cleared when the page is ready: a race alone would leave it to fire later and
      // report a page that was ready as not ready (as it did in CI on a slow machine).
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          failures.push(`page ${mine} was not ready within 60 s`);
          resolve();
        }, 60_000);
      });
      await Promise.race([readyNow, timedOut]);
      clearTimeout(timer);
    };
    let pendingReady: (() => void) | undefined;
    const onReport = (report: Report) => {
      switch (report.t) {
        case 'ready':
          userAgent = report.userAgent;
          pendingReady?.();
          break;
        case 'opened':
          if (!aliceOpened.has(report.body)) aliceOpened.set(report.body, new Set());
          aliceOpened.get(report.body)!.add(report.eventId);
          break;
        case 'sent':
          aliceSent.add(report.body);
          break;
        case 'event':
          aliceEvents.push(report.code === undefined ? report.kind : `${report.kind} ${report.code}`);
          break;
        case 'ack':
          unacked.delete(report.seq);
          break;
        case 'load-failed':
          failures.push(report.message);
          pendingReady?.();
          break;
      }
    };

    try {
      await open('new');
      let step = 0;
      let crashes = 0;
      const bobSent: string[] = [];
      for (let restart = 0; restart < RESTARTS && failures.length === 0; restart++) {
        const burst = 1 + Math.floor(uniform() * 4);
        for (let i = 0; i < burst; i++) {
          const body = `${uniform() < 0.5 ? 'a' : 'b'}${step++}`;
          if (body.startsWith('a')) await page!.evaluate((b) => window.sealSend!(b), body).catch(() => undefined);
          else bob.send(ALICE, body).then(() => bobSent.push(body), () => undefined);
        }
        await sleep(Math.floor(uniform() * 300));
        if (uniform() < 0.5) {
          // The renderer dies mid-work; a new page of the same origin (same IndexedDB) takes over.
          const dying = page!;
          const cdp = await context.newCDPSession(dying);
          void cdp.send('Page.crash').catch(() => undefined);
          await sleep(50);
          await dying.close().catch(() => undefined);
          crashes++;
          await open('new');
        } else {
          await open('reload');
        }
      }
      expect(failures).toEqual([]);
      await page!.evaluate(() => window.sealSend!('a-final'));
      bobSent.push('b-final');
      await bob.send(ALICE, 'b-final');
      for (let waited = 0; waited < 60_000; waited += 200) {
        if (bobSent.every((b) => aliceOpened.has(b)) && [...aliceSent].every((a) => bob.received.some((m) => m.body === a)) && aliceSent.has('a-final') && unacked.size === 0) break;
        await sleep(200);
      }
      const bobOpened = bob.received.map((m) => m.body);
      console.log(`browser store test in ${userAgent.match(/Chrome\/[\d.]+/)?.[0]}: ${RESTARTS} restarts (${crashes} renderer crashes, ${RESTARTS - crashes} reloads); Alice sent ${aliceSent.size} (opened by Bob ${bobOpened.length}), Bob sent ${bobSent.length} (opened by Alice ${aliceOpened.size}); Alice's events: ${[...new Set(aliceEvents)].join(', ')}`);
      expect(failures).toEqual([]);
      for (const body of bobSent) expect(aliceOpened.get(body)?.size, `Bob's ${body} at Alice`).toBe(1);
      for (const body of aliceOpened.keys()) expect(bobSent, body).toContain(body);
      for (const body of aliceSent) expect(bobOpened.filter((b) => b === body), `Alice's ${body} at Bob`).toHaveLength(1);
      expect(new Set(bobOpened).size).toBe(bobOpened.length);
      expect(aliceEvents.filter((e) => e.startsWith('repair') || e.startsWith('failed'))).toEqual([]);
      expect(bob.events.filter((e) => e.kind === 'repair-sent' || e.kind === 'repair-received' || e.kind === 'failed')).toEqual([]);
    } finally {
      pumping = false;
      await pump;
      await browser.close();
      web.close();
    }
  }, 300_000);
});
