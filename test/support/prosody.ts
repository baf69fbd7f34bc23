/**
 * A throw-away Prosody on 127.0.0.1 for integration tests: every file in a temporary folder, a
 * free high port, users created with prosodyctl, stopped by pid at the end (settings from
 * ../shared/notes/prosody-on-loopback.md).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.end(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`prosody: port ${port} not open after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A running Prosody. */
export interface Prosody {
  readonly service: string;
  readonly domain: string;
  /** With `upload`: the HTTP port of mod_http_file_share. */
  readonly httpPort?: number;
  /** Prosody's data directory (uploads are stored under it). */
  readonly dataDir?: string;
  stop(): Promise<void>;
}

/**
 * Starts Prosody with `users` (password `pw`) and resolves once it listens. With `muc`, a
 * Multi-User Chat component (mod_muc with mod_muc_mam, archiving every room) serves that domain,
 * e.g. `conference.localhost`. With `upload`, an HTTP File Upload component
 * (mod_http_file_share, XEP-0363) serves that domain over plain HTTP on another loopback port.
 */
export async function startProsody(users: readonly string[], options: { muc?: string; upload?: string } = {}): Promise<Prosody> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seal-prosody-'));
  const port = await freePort();
  const httpPort = options.upload === undefined ? undefined : await freePort();
  for (const sub of ['data', 'certs', 'plugins']) mkdirSync(path.join(dir, sub));
  const config = path.join(dir, 'prosody.cfg.lua');
  writeFileSync(config, `
run_as_root = true
daemonize = false
pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
certificates = "${dir}/certs"
installer_plugin_path = "${dir}/plugins"
log = { { levels = { min = "error" }, to = "file", filename = "${dir}/prosody.log" } }
interfaces = { "127.0.0.1" }
c2s_ports = { ${port} }
s2s_ports = { }
c2s_direct_tls_ports = { }
modules_disabled = { "s2s", "s2s_auth_certs" }
modules_enabled = { "roster", "saslauth", "disco", "pep", "mam", "carbons", "ping" }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_hashed"
default_iteration_count = 128
default_archive_policy = true
archive_expires_after = "never"
mam_include_total = true
network_settings = { nagle = false }
${httpPort === undefined ? '' : `http_ports = { ${httpPort} }
http_interfaces = { "127.0.0.1" }
https_ports = { }
https_interfaces = { }
http_external_url = "http://127.0.0.1:${httpPort}/"
http_default_host = "${options.upload}"
`}VirtualHost "localhost"
${options.muc === undefined ? '' : `
Component "${options.muc}" "muc"
modules_enabled = { "muc_mam" }
muc_room_locking = false
muc_log_by_default = true
muc_log_all_rooms = true
muc_log_expires_after = "never"
`}${options.upload === undefined ? '' : `
Component "${options.upload}" "http_file_share"
http_file_share_size_limit = ${16 * 1024 * 1024}
`}`);
  for (const user of users) execFileSync('prosodyctl', ['--config', config, 'register', user, 'localhost', 'pw'], { stdio: 'ignore' });
  const child: ChildProcess = spawn('prosody', ['-F', '--config', config], { stdio: 'ignore' });
  await waitForPort(port, 10_000);
  if (httpPort !== undefined) await waitForPort(httpPort, 10_000);
  return {
    service: `xmpp://127.0.0.1:${port}`,
    domain: 'localhost',
    ...(httpPort === undefined ? {} : { httpPort }),
    dataDir: path.join(dir, 'data'),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Waits until `condition` holds (polling every 25 ms), or fails after `ms` naming `what`. */
export async function until(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
