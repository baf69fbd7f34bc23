/**
 * The command line of `seal`: every command and option in one usage text, and a parser that
 * checks all of them (an unknown option or command, a missing or extra argument is an error with
 * a one-line message, never ignored). Kept apart from `main.ts` so tests can read it without
 * running a command.
 *
 * @see spec §impl
 * @module
 */

/** Every command and option; `seal --help` prints it. */
export const USAGE = `usage: seal COMMAND [OPTIONS]

commands:
  seal demo [--verbose]             the scripted conversation on the embedded in-memory XMPP server
                                    (what npm start runs)
  seal demo --server URL --jid JID --password PASSWORD --peer JID --peer-password PASSWORD [--fresh] [--verbose]
                                    its core (offline delivery, archive duplicates, a reply) on a real
                                    server with two existing accounts
  seal vectors generate [DIR]       write vectors/*.json and vectors/schema/*.json from the code
  seal vectors check [DIR]          fail if the committed vectors differ from what the code generates
  seal vectors verify [DIR]         check every vector file against the code and print a table
  seal spec generate [FILE]         write the generated examples, error registry and requirement
                                    index into the XEP (default spec/seal.xml) and the examples
                                    into its companion (seal-impl.xml beside it)
  seal spec check [FILE]            validate the XEP and its companion and print requirement
                                    coverage per section
  seal spec render [DIR]            render the XEP to DIR/index.html and its companion to
                                    DIR/seal-impl.html (default spec/html/)
  seal help                         this text

options of seal demo:
  --verbose                 print every stanza sent and received (with or without --server)
  --server URL              a real server: xmpp://HOST[:PORT] (STARTTLS when offered) or
                            xmpps://HOST[:PORT] (direct TLS)
  --jid JID                 the first account, a bare JID (local@domain)
  --password PASSWORD       its password
  --peer JID                the second account
  --peer-password PASSWORD  its password
  --fresh                   first delete both accounts' Seal device lists and bundles (needed when
                            an earlier run left a list signed by an account key this run does not
                            hold; the accounts' existing Seal devices stop receiving)

options of every command:
  -h, --help                print this text and exit`;

/** The real-server settings of `seal demo --server …`. */
export interface RealServerArgs {
  readonly server: string;
  readonly jid: string;
  readonly password: string;
  readonly peer: string;
  readonly peerPassword: string;
}

/** What the command line asks for, or the one-line error to print. */
export type ParsedArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'demo'; readonly verbose: boolean; readonly fresh: boolean; readonly real: RealServerArgs | undefined }
  | { readonly kind: 'vectors' | 'spec'; readonly command: string; readonly target: string | undefined }
  | { readonly kind: 'error'; readonly message: string };

/** The options of `seal demo` that take no value. */
export const DEMO_FLAGS = ['--verbose', '--fresh'];
/** The options of `seal demo` that take a value. */
export const DEMO_VALUED = ['--server', '--jid', '--password', '--peer', '--peer-password'];
/** The commands of `seal vectors` and `seal spec`. */
export const SUBCOMMANDS: Readonly<Record<string, readonly string[]>> = { vectors: ['generate', 'check', 'verify'], spec: ['generate', 'check', 'render'] };

/** Whether `url` is a server address the demo can connect to (`xmpp://` or `xmpps://`, a host, an optional port). */
export function serverUrlProblem(url: string): string | undefined {
  const match = /^(xmpps?):\/\/([^/:?#\s]+)(?::(\d+))?\/?$/.exec(url);
  if (match === null) return `--server: expected xmpp://HOST[:PORT] or xmpps://HOST[:PORT], got ${JSON.stringify(url)}`;
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return `--server: the port must be 1-65535, got ${port}`;
  return undefined;
}

/**
 * Parses the command line. Every option is checked: an unknown option or command, a missing or
 * extra argument is an error, never ignored.
 */
export function parseArgs(args: readonly string[]): ParsedArgs {
  if (args.some((a) => a === '--help' || a === '-h') || args[0] === 'help') {
    return args[0] === 'help' && args.length > 1 && !args.slice(1).every((a) => a === '--help' || a === '-h') ? { kind: 'error', message: `seal help: unexpected argument ${JSON.stringify(args[1])}` } : { kind: 'help' };
  }
  const [group, ...rest] = args;
  if (group === undefined) return { kind: 'error', message: 'seal: a command is needed' };
  if (group === 'demo') {
    const flags = new Set<string>();
    const valued = new Map<string, string>();
    for (let i = 0; i < rest.length; i++) {
      const arg = rest[i]!;
      if (DEMO_FLAGS.includes(arg)) flags.add(arg);
      else if (DEMO_VALUED.includes(arg)) {
        const value = rest[++i];
        if (value === undefined || value.startsWith('--')) return { kind: 'error', message: `seal demo: ${arg} needs a value` };
        valued.set(arg.slice(2), value);
      } else return { kind: 'error', message: `seal demo: ${arg.startsWith('-') ? 'unknown option' : 'unexpected argument'} ${JSON.stringify(arg)}` };
    }
    const base = { kind: 'demo' as const, verbose: flags.has('--verbose'), fresh: flags.has('--fresh') };
    if (valued.size === 0) return flags.has('--fresh') ? { kind: 'error', message: 'seal demo: --fresh needs --server' } : { ...base, real: undefined };
    const [server, jid, password, peer, peerPassword] = ['server', 'jid', 'password', 'peer', 'peer-password'].map((k) => valued.get(k));
    if (server === undefined || jid === undefined || password === undefined || peer === undefined || peerPassword === undefined) {
      return { kind: 'error', message: 'seal demo: a real server needs all of --server, --jid, --password, --peer and --peer-password' };
    }
    const problem = serverUrlProblem(server);
    if (problem !== undefined) return { kind: 'error', message: `seal demo: ${problem}` };
    for (const [flag, value] of [['--jid', jid], ['--peer', peer]] as const) {
      if (!/^[^@/\s]+@[^@/\s]+$/.test(value)) return { kind: 'error', message: `seal demo: ${flag}: expected a bare JID local@domain, got ${JSON.stringify(value)}` };
    }
    return { ...base, real: { server, jid, password, peer, peerPassword } };
  }
  const commands = SUBCOMMANDS[group];
  if (commands === undefined) return { kind: 'error', message: `seal: unknown command ${JSON.stringify(group)}` };
  const [command, target, ...extra] = rest;
  if (command === undefined || !commands.includes(command)) {
    return { kind: 'error', message: `seal ${group}: ${command === undefined ? 'needs' : `unknown command ${JSON.stringify(command)}; expected`} one of ${commands.join(', ')}` };
  }
  const unexpected = [target, ...extra].find((a) => a !== undefined && a.startsWith('-')) ?? extra[0];
  if (unexpected !== undefined) return { kind: 'error', message: `seal ${group} ${command}: ${unexpected.startsWith('-') ? 'unknown option' : 'unexpected argument'} ${JSON.stringify(unexpected)}` };
  return { kind: group as 'vectors' | 'spec', command, target };
}
