/**
 * Seal in a real browser: the library bundled by esbuild for the browser (no Node built-ins, no
 * WebAssembly), served on 127.0.0.1, run in Debian's headless Chromium through playwright-core
 * (never a downloaded browser). Every vector file verifies in the page, and two devices talk.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT, missing } from './support/environment.js';
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';
const skip = missing('chromium', existsSync(CHROMIUM), 'apt-get install chromium');

describe.skipIf(skip !== undefined)('in headless Chromium', () => {
  it('verifies every vector file and runs a conversation in the page', async () => {
    const bundle = await build({ entryPoints: [path.join(ROOT, 'test/browser/page.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false });
    const script = bundle.outputFiles[0]!.text;
    expect(script).not.toMatch(/require\(["']node:|WebAssembly\./);
    // The upload service's HTTP side for the page (§files): PUT stores, GET serves; `?tampered` flips a byte.
    const uploads = new Map<string, Buffer>();
    const puts: { authorization: string | undefined; contentType: string | undefined }[] = [];
    const server = http.createServer((request, response) => {
      const url = request.url ?? '/';
      if (url.startsWith('/upload/')) {
        const [key, query] = url.split('?');
        if (request.method === 'PUT') {
          const parts: Buffer[] = [];
          request.on('data', (d: Buffer) => parts.push(d));
          request.on('end', () => {
            uploads.set(key!, Buffer.concat(parts));
            puts.push({ authorization: request.headers.authorization, contentType: request.headers['content-type'] });
            response.writeHead(201).end();
          });
          return;
        }
        const stored = uploads.get(key!);
        if (stored === undefined) return response.writeHead(404).end();
        const body = Buffer.from(stored);
        if (query === 'tampered') body[body.length - 1]! ^= 1;
        return response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
      }
      if (url === '/') return response.end('<!doctype html><meta charset="utf-8"><title>Seal</title><body><script type="module" src="/seal.js"></script></body>');
      if (url === '/seal.js') return response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      const file = /^\/vectors\/([a-z-]+\.json)$/.exec(url);
      if (file) return response.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(path.join(ROOT, 'vectors', file[1]!)));
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'] });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => (window as { sealResult?: unknown }).sealResult !== undefined, undefined, { timeout: 120_000 });
      const result = (await page.evaluate(() => (window as { sealResult?: unknown }).sealResult)) as { error?: string; vectors: { file: string; cases: number; passed: number }[]; bodies: string[]; file: { name: string; size: number; kind: string; equal: boolean; tampered: string }; userAgent: string };
      expect(result.error).toBeUndefined();
      console.log(`in ${result.userAgent.match(/Chrome\/[\d.]+/)?.[0]}: ${result.vectors.map((v) => `${v.file} ${v.passed}/${v.cases}`).join(', ')}`);
      for (const v of result.vectors) expect(v.passed).toBe(v.cases);
      expect(result.vectors.length).toBeGreaterThanOrEqual(9);
      expect(result.bodies).toEqual(['hello from a browser', 'second', 'reply']);
      // §files: encrypted with WebCrypto and uploaded from the page, downloaded and opened there.
      // @req files.receive-checks
      expect(result.file).toEqual({ name: 'photo.jpg', size: 150_000, kind: 'stream', equal: true, tampered: 'authentication-failed' });
      expect(puts).toHaveLength(1);
      expect(puts[0]).toEqual({ authorization: expect.stringMatching(/^Bearer [0-9a-f]{32}$/), contentType: 'application/octet-stream' });
      expect([...uploads.values()][0]!.length).toBe(150_000 + 16 * 3);
      // An artifact for people, not an assertion.
      mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'browser.png') });
    } finally {
      await browser.close();
      server.close();
    }
  }, 180_000);
});
