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
    const server = http.createServer((request, response) => {
      const url = request.url ?? '/';
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
      const result = (await page.evaluate(() => (window as { sealResult?: unknown }).sealResult)) as { error?: string; vectors: { file: string; cases: number; passed: number }[]; bodies: string[]; userAgent: string };
      expect(result.error).toBeUndefined();
      console.log(`in ${result.userAgent.match(/Chrome\/[\d.]+/)?.[0]}: ${result.vectors.map((v) => `${v.file} ${v.passed}/${v.cases}`).join(', ')}`);
      for (const v of result.vectors) expect(v.passed).toBe(v.cases);
      expect(result.vectors.length).toBeGreaterThanOrEqual(7);
      expect(result.bodies).toEqual(['hello from a browser', 'second', 'reply']);
      // An artifact for people, not an assertion.
      mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'browser.png') });
    } finally {
      await browser.close();
      server.close();
    }
  }, 180_000);
});
