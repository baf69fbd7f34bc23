/**
 * The size a browser client pays for Seal: the client entry (identity, handshake, envelope,
 * offline, wire, and the suite they use) bundled for the browser with esbuild, minified, and
 * gzipped at level 9. Run with `npm run bench:size`.
 *
 * @see spec §impl.reference
 * @module
 */
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';

const entry = `
export { createDeviceState, bundleOf, verifyBundle, verifyDeviceList, createDeviceList, safetyNumber, deviceFingerprint } from './src/identity/index.js';
export { initiateAsync, respondAsync, startInteractive, acceptInteractive, completeInitiator, completeResponder, exportKey } from './src/handshake/index.js';
export { sealStanza, openStanza, startRatchet } from './src/envelope/index.js';
export { replenishOneTimePrekeys, rotatePrekeys, signalRepair, acceptRepair } from './src/offline/index.js';
export { BundleElement, DeviceListElement, SealedElement, parseXml } from './src/wire/index.js';
`;
const result = await build({
  stdin: { contents: entry, resolveDir: process.cwd(), loader: 'ts' },
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  metafile: true,
});
const code = result.outputFiles[0]!.contents;
const gzip = gzipSync(code, { level: 9 });
const byPackage = new Map<string, number>();
for (const [file, info] of Object.entries(Object.values(result.metafile.outputs)[0]!.inputs)) {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? 'seal (src/)';
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + info.bytesInOutput);
}
console.log(`client entry: ${(code.length / 1024).toFixed(1)} KB minified, ${(gzip.length / 1024).toFixed(1)} KB gzip -9`);
for (const [pkg, bytes] of [...byPackage].sort((a, b) => b[1] - a[1])) console.log(`  ${pkg.padEnd(24)} ${(bytes / 1024).toFixed(1)} KB minified`);
