/**
 * The commands of `seal` once the command line is parsed (`./args.ts`): the demo on the embedded
 * or a real server, the vector generator and checker, and the spec's build. Loaded by `main.ts`
 * only when a command runs, so `seal --help` and a wrong command line answer at once.
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
import type { ParsedArgs } from './args.js';
import { runDemo } from './demo.js';
import { runRealDemo } from './demo-real.js';
import { generatedExamples, specExamples } from './examples.js';
import { SECTION_CONSTANTS, SECTION_LABELS } from './registry.js';
import { COMPANION_FILE } from './render/links.js';
import { writeSpecHtml } from './render/spec-html.js';
import { type KindedDocument, anchorProblems, companionProblems, constantsProblems, dtdProblems, exampleDrift, exampleProblems, linkProblems, truncationProblems, labelProblems, loadSpec, protoXepProblems, registryProblems, schemaValidationProblems, requirementIndexProblems, traceRequirements, withGeneratedErrorTable, withGeneratedExamples, withGeneratedRequirementIndex } from './spec.js';
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

/** The companion document beside the XEP `file` (`seal-impl.xml`). */
function companionOf(file: string): string {
  return path.join(path.dirname(file), COMPANION_FILE);
}

function specCheck(file: string): void {
  const spec = loadSpec(file);
  const problems: string[] = [];
  const companionFile = companionOf(file);
  const companion = existsSync(companionFile) ? loadSpec(companionFile) : undefined;
  if (companion === undefined) problems.push(`${path.relative(process.cwd(), companionFile)}: the companion document is missing`);
  const generated = generatedExamples();
  const docs: KindedDocument[] = [{ kind: 'xep', spec }, ...(companion === undefined ? [] : [{ kind: 'companion' as const, spec: companion }])];
  const xsf = path.join(SHARED_DATA, 'xsf');
  if (!existsSync(path.join(xsf, 'xep.dtd')) || !commandExists('xmllint')) {
    const reason = !commandExists('xmllint') ? 'xmllint is absent (apt-get install libxml2-utils)' : `the XSF DTD is absent (${xsf}; set SEAL_SHARED_DATA)`;
    if (IN_CI) problems.push(`DTD validation cannot run: ${reason}`);
    else console.warn(`SKIPPED DTD validation: ${reason}`);
  } else {
    problems.push(...dtdProblems(file, xsf));
    let checked = 0;
    for (const doc of docs) {
      const schema = schemaValidationProblems(doc.spec, mkdtempSync(path.join(os.tmpdir(), 'seal-xsd-')), { schemaFrom: spec, generated });
      problems.push(...schema.problems.map((p) => (doc.kind === 'xep' ? p : `companion: ${p}`)));
      checked += schema.checked;
    }
    console.log(`XSF DTD: checked; §schema: ${checked} example elements validated with xmllint`);
  }
  problems.push(...protoXepProblems(spec), ...registryProblems(spec), ...constantsProblems(spec, SECTION_CONSTANTS), ...labelProblems(spec, SECTION_LABELS), ...requirementIndexProblems(spec.text));
  problems.push(...exampleDrift(docs.map((d) => d.spec.text), specExamples()), ...anchorProblems(docs), ...linkProblems(docs));
  if (companion !== undefined) problems.push(...companionProblems(companion));
  let checked = 0;
  for (const doc of docs) {
    const examples = exampleProblems(doc.spec, generated);
    problems.push(...examples.problems.map((p) => (doc.kind === 'xep' ? p : `companion: ${p}`)), ...truncationProblems(doc.spec, generated));
    checked += examples.checked;
  }
  console.log(`examples: ${checked} Seal elements parsed by their wire schemas (generated examples in full)`);
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

/**
 * Runs a parsed command; resolves to the exit code.
 *
 * @see spec §impl
 */
export async function runCommand(parsed: Exclude<ParsedArgs, { kind: 'help' | 'error' }>): Promise<number> {
  if (parsed.kind === 'demo') {
    const print = (line: string) => console.log(line);
    const fail = (line: string) => console.error(line);
    return parsed.real === undefined ? runDemo({ verbose: parsed.verbose, print }) : runRealDemo({ ...parsed.real, verbose: parsed.verbose, fresh: parsed.fresh, print, fail });
  }
  const { command, target } = parsed;
  const vectorsDir = path.resolve(target ?? path.join(ROOT, 'vectors'));
  if (parsed.kind === 'vectors' && command === 'generate') {
    const written = await generateVectors(vectorsDir);
    console.log(`wrote ${written.length} files to ${path.relative(process.cwd(), vectorsDir) || '.'}`);
  } else if (parsed.kind === 'vectors' && command === 'check') {
    const drift = await vectorDrift(vectorsDir);
    if (drift.length > 0) {
      console.error('vector drift: the committed vectors differ from what the code generates (run npm run vectors):');
      fail(drift);
    }
    console.log('vectors: no drift');
  } else if (parsed.kind === 'vectors' && command === 'verify') {
    const results = await verifyVectors(vectorsDir);
    console.log(verificationTable(results));
    const failures = results.flatMap((r) => r.failures.map((f) => `${r.file}: ${f}`));
    if (failures.length > 0) fail(failures);
  } else if (parsed.kind === 'spec' && command === 'generate') {
    const file = path.resolve(target ?? path.join(ROOT, 'spec', 'seal.xml'));
    const examples = specExamples();
    writeFileSync(file, withGeneratedRequirementIndex(withGeneratedErrorTable(withGeneratedExamples(readFileSync(file, 'utf8'), examples))));
    console.log(`examples, error registry and requirement index written into ${path.relative(process.cwd(), file)}`);
    const companion = companionOf(file);
    if (existsSync(companion)) {
      writeFileSync(companion, withGeneratedExamples(readFileSync(companion, 'utf8'), examples));
      console.log(`examples written into ${path.relative(process.cwd(), companion)}`);
    }
  } else if (parsed.kind === 'spec' && command === 'check') {
    specCheck(path.resolve(target ?? path.join(ROOT, 'spec', 'seal.xml')));
  } else {
    const rendered = writeSpecHtml({ root: ROOT, sharedData: SHARED_DATA, outDir: path.resolve(target ?? path.join(ROOT, 'spec', 'html')) });
    for (const warning of rendered.warnings) console.warn(`WARNING: ${warning}`);
    console.log(`spec rendered to ${path.relative(process.cwd(), rendered.file)}: ${rendered.sectionAnchors.length} sections, ${rendered.requirementAnchors.size} requirement ids, ${rendered.diagrams.length} diagrams`);
    if (rendered.companion === undefined) console.warn('WARNING: no companion document (spec/seal-impl.xml): rendered the XEP alone');
    else {
      for (const warning of rendered.companion.warnings) console.warn(`WARNING (companion): ${warning}`);
      console.log(`companion rendered to ${path.relative(process.cwd(), rendered.companionFile!)}: ${rendered.companion.sectionAnchors.length} sections`);
    }
  }
  return 0;
}
