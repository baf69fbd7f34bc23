#!/usr/bin/env node
/**
 * The `seal` command: the demo (`npm start`), the vector generator and checker, and the spec's
 * build (generate, check, render). Every command and option is listed in `seal --help`
 * (`USAGE` in `./args.ts`); an unknown option or command, and any failure, is one line on stderr
 * and a non-zero exit (2 for a wrong command line, 1 for a failed run).
 *
 * Node-specific (file system, child processes): the protocol code under src/ stays browser-safe.
 *
 * @see spec §impl
 * @module
 */
import { USAGE, parseArgs } from './args.js';

/** A one-line description of a failure (its message's first line, or its name). */
function oneLine(e: unknown): string {
  const text = e instanceof Error ? e.message || e.name : String(e);
  return text.split('\n')[0]!.slice(0, 300);
}

async function main(args: readonly string[]): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed.kind === 'error') {
    // One line, and where to look: the usage text would bury the error.
    console.error(`${parsed.message} (seal --help lists every command and option)`);
    return 2;
  }
  if (parsed.kind === 'help') {
    console.log(USAGE);
    return 0;
  }
  const { runCommand } = await import('./commands.js');
  return runCommand(parsed);
}

// `seal demo | head`: a closed pipe ends the output quietly, not with an EPIPE stack.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    // A missing directory, an unreadable file, a failed connection: one line, not a stack.
    console.error(`seal ${process.argv.slice(2, 4).join(' ')}: ${oneLine(e)}`);
    process.exit(1);
  },
);
