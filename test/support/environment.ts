/**
 * Where the tests find what lives outside the repository (the shared corpora, system tools),
 * and the rule for when it is absent: a visible skip on a developer's machine, a failure under
 * `CI=true` so CI never skips silently.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The shared data folder: `SEAL_SHARED_DATA`, default `../shared/data` beside the checkout. */
export const SHARED_DATA = path.resolve(ROOT, process.env.SEAL_SHARED_DATA ?? '../shared/data');

/** True when running under CI (`CI=true`), where a missing dependency is a failure. */
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Decides whether a test that needs something external can run. Returns the reason to skip, or
 * `undefined` to run; under CI a missing dependency throws instead.
 */
export function missing(what: string, present: boolean, install: string): string | undefined {
  if (present) return undefined;
  const reason = `SKIPPED: ${what} is absent (${install})`;
  if (IN_CI) throw new Error(`${reason}; CI=true forbids skipping`);
  console.warn(reason);
  return reason;
}

/** The path of a file under the shared data folder, and whether it exists. */
export function sharedFile(...parts: string[]): { file: string; present: boolean } {
  const file = path.join(SHARED_DATA, ...parts);
  return { file, present: existsSync(file) };
}

/** Whether a command is on the PATH. */
export function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
