#!/usr/bin/env node
/**
 * The `seal` command.
 *
 *   seal demo [--verbose]          the scripted conversation on the embedded server
 *   seal demo --server URL --jid A --password P --peer B --peer-password Q [--fresh] [--verbose]
 *                                 its core on a real server with two existing accounts
 *   seal help                     this text (also --help, -h)
 *   seal vectors generate [dir]   write vectors/*.json and vectors/schema/*.json from the code
 *   seal vectors check [dir]      fail if the committed vectors differ from what the code generates
 *   seal vectors verify [dir]     check every vector file against the code and print a table
 *   seal spec generate [file]     write the generated examples, error table and requirement index into the XEP
 *   seal spec check [file]        validate the XEP (XSF DTD, ProtoXEP rules, error registry,
 *                                 examples) and print requirement coverage per section
 *   seal spec render [dir]        render the XEP to dir/index.html (default spec/html/): the annotated
 *                                 spec, linked to the code, tests, vectors and API pages
 *
 * Node-specific (file system, child processes): the protocol code under src/ stays browser-safe.
 *
 * @see spec §impl
 * @module
 */
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync, writeFileSync } from 'node:fs';
import { runDemo } from './demo.js';
import { runRealDemo } from './demo-real.js';
import { specExamples } from './examples.js';
import { SECTION_CONSTANTS, SECTION_LABELS } from './registry.js';
import { writeSpecHtml } from './render/spec-html.js';
import { constantsProblems, dtdProblems, exampleDrift, exampleProblems, labelProblems, loadSpec, protoXepProblems, registryProblems, schemaValidationProblems, requirementIndexProblems, traceRequirements, withGeneratedErrorTable, withGeneratedExamples, withGeneratedRequirementIndex } from './spec.js';
import { generateVectors, vectorDrift, verificationTable, verifyVectors } from './vectors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED_DATA = path.resolve(ROOT, process.env.SEAL_SHARED_DATA ?? '../shared/data');
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

function fail(lines: readonly string[]): never {
  for (const line of lines) console.error(`  ${line}`);
  process.exit(1);
}

function commandExists(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => existsSync(path.join(dir, command)));
}

function specCheck(file: string): void {
  const spec = loadSpec(file);
  const problems: string[] = [];
  const xsf = path.join(SHARED_DATA, 'xsf');
  if (!existsSync(path.join(xsf, 'xep.dtd')) || !commandExists('xmllint')) {
    const reason = !commandExists('xmllint') ? 'xmllint is absent (apt-get install libxml2-utils)' : `the XSF DTD is absent (${xsf}; set SEAL_SHARED_DATA)`;
    if (IN_CI) problems.push(`DTD validation cannot run: ${reason}`);
    else console.warn(`SKIPPED DTD validation: ${reason}`);
  } else {
    problems.push(...dtdProblems(file, xsf));
    const schema = schemaValidationProblems(spec, mkdtempSync(path.join(os.tmpdir(), 'seal-xsd-')));
    problems.push(...schema.problems);
    console.log(`XSF DTD: checked; §schema: ${schema.checked} example elements validated with xmllint`);
  }
  problems.push(...protoXepProblems(spec), ...registryProblems(spec), ...constantsProblems(spec, SECTION_CONSTANTS), ...labelProblems(spec, SECTION_LABELS), ...exampleDrift(spec.text, specExamples()), ...requirementIndexProblems(spec.text));
  const examples = exampleProblems(spec);
  problems.push(...examples.problems);
  console.log(`examples: ${examples.checked} Seal elements parsed by their wire schemas`);
  const report = traceRequirements(spec, ROOT);
  console.log('requirement coverage (cited by code / by tests):');
  for (const row of report.rows) {
    const pct = (n: number) => `${Math.round((100 * n) / row.total)}%`;
    console.log(`  §${row.section.padEnd(10)} ${String(row.total).padStart(3)} requirements  code ${pct(row.code).padStart(4)}  tests ${pct(row.tests).padStart(4)}`);
  }
  problems.push(...report.problems);
  if (problems.length > 0) {
    console.error(`spec check: ${problems.length} problem(s)`);
    fail(problems);
  }
  console.log('spec check: ok');
}

const USAGE = `usage:
  seal demo [--verbose]           the scripted conversation on the embedded in-memory server
                                  (--verbose: every stanza on the wire)
  seal demo --server xmpp://HOST:PORT --jid A --password P --peer B --peer-password Q [--fresh] [--verbose]
                                  its core (offline delivery, archive duplicates, a reply) on a real
                                  server with two existing accounts; --fresh first deletes both
                                  accounts' Seal device lists and bundles (needed when an earlier run
                                  left a list signed by an account key this run does not hold)
  seal vectors generate|check|verify [dir]
  seal spec check|generate [file]
  seal spec render [dir]
  seal help`;

/** The real-server settings of `seal demo --server …`. */
interface RealServerArgs {
  readonly server: string;
  readonly jid: string;
  readonly password: string;
  readonly peer: string;
  readonly peerPassword: string;
}

/** Parses the options of `seal demo`; a string is the error to print. */
function parseDemoArgs(args: readonly string[]): { verbose: boolean; fresh: boolean; help: boolean; real: RealServerArgs | undefined } | string {
  const valued = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--verbose' || arg === '--fresh' || arg === '--help' || arg === '-h') flags.add(arg);
    else if (['--server', '--jid', '--password', '--peer', '--peer-password'].includes(arg)) {
      const value = args[++i];
      if (value === undefined || value.startsWith('--')) return `${arg} needs a value`;
      valued.set(arg.slice(2), value);
    } else return `unknown option ${JSON.stringify(arg)}`;
  }
  const help = flags.has('--help') || flags.has('-h');
  const base = { verbose: flags.has('--verbose'), fresh: flags.has('--fresh'), help };
  if (valued.size === 0) return flags.has('--fresh') ? '--fresh needs --server' : { ...base, real: undefined };
  const [server, jid, password, peer, peerPassword] = ['server', 'jid', 'password', 'peer', 'peer-password'].map((k) => valued.get(k));
  if (server === undefined || jid === undefined || password === undefined || peer === undefined || peerPassword === undefined) {
    return `a real server needs all of --server, --jid, --password, --peer and --peer-password`;
  }
  return { ...base, real: { server, jid, password, peer, peerPassword } };
}

function main(args: readonly string[]): void {
  const [group, command, target] = args;
  const vectorsDir = path.resolve(target ?? path.join(ROOT, 'vectors'));
  if (group === 'help' || group === '--help' || group === '-h') {
    console.log(USAGE);
    return;
  }
  if (group === 'demo') {
    const parsed = parseDemoArgs(args.slice(1));
    if (typeof parsed === 'string') {
      console.error(`seal demo: ${parsed}\n\n${USAGE}`);
      process.exit(2);
    }
    if (parsed.help) {
      console.log(USAGE);
      return;
    }
    const print = (line: string) => console.log(line);
    const run = parsed.real === undefined ? runDemo({ verbose: parsed.verbose, print }) : runRealDemo({ ...parsed.real, verbose: parsed.verbose, fresh: parsed.fresh, print });
    void run.then(
      (code) => process.exit(code),
      (e: unknown) => {
        console.error(`seal demo: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(1);
      },
    );
    return;
  }
  if (group === 'vectors' && command === 'generate') {
    const written = generateVectors(vectorsDir);
    console.log(`wrote ${written.length} files to ${path.relative(process.cwd(), vectorsDir) || '.'}`);
  } else if (group === 'vectors' && command === 'check') {
    const drift = vectorDrift(vectorsDir);
    if (drift.length > 0) {
      console.error('vector drift: the committed vectors differ from what the code generates (run npm run vectors):');
      fail(drift);
    }
    console.log('vectors: no drift');
  } else if (group === 'vectors' && command === 'verify') {
    const results = verifyVectors(vectorsDir);
    console.log(verificationTable(results));
    const failures = results.flatMap((r) => r.failures.map((f) => `${r.file}: ${f}`));
    if (failures.length > 0) fail(failures);
  } else if (group === 'spec' && command === 'generate') {
    const file = path.resolve(target ?? path.join(ROOT, 'spec', 'seal.xml'));
    writeFileSync(file, withGeneratedRequirementIndex(withGeneratedErrorTable(withGeneratedExamples(readFileSync(file, 'utf8'), specExamples()))));
    console.log(`examples, error registry and requirement index written into ${path.relative(process.cwd(), file)}`);
  } else if (group === 'spec' && command === 'check') {
    specCheck(path.resolve(target ?? path.join(ROOT, 'spec', 'seal.xml')));
  } else if (group === 'spec' && command === 'render') {
    const rendered = writeSpecHtml({ root: ROOT, sharedData: SHARED_DATA, outDir: path.resolve(target ?? path.join(ROOT, 'spec', 'html')) });
    for (const warning of rendered.warnings) console.warn(`WARNING: ${warning}`);
    console.log(`spec rendered to ${path.relative(process.cwd(), rendered.file)}: ${rendered.sectionAnchors.length} sections, ${rendered.requirementAnchors.size} requirement ids, ${rendered.diagrams.length} diagrams`);
  } else {
    console.error(group === undefined ? USAGE : `seal: unknown command ${JSON.stringify(args.join(' '))}\n\n${USAGE}`);
    process.exit(2);
  }
}

main(process.argv.slice(2));
