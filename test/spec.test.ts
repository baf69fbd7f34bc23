/**
 * spec/seal.xml: valid against the XSF DTD, follows the XEP-0001 ProtoXEP rules, its error
 * registry equals the code's, its examples parse with the wire schemas, and every requirement
 * id is cited by code and by a test (requirement tracing, after awslabs/duvet).
 */
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { specExamples } from '../src/cli/examples.js';
import { SECTION_CONSTANTS, SECTION_LABELS } from '../src/cli/registry.js';
import { constantsProblems, dtdProblems, requirementIndexProblems, schemaValidationProblems, exampleDrift, exampleProblems, labelProblems, loadSpec, protoXepProblems, registryProblems, requirements, traceRequirements, withGeneratedExamples } from '../src/cli/spec.js';
import { hasCommand, missing, ROOT, sharedFile } from './support/environment.js';

const SPEC = path.join(ROOT, 'spec', 'seal.xml');
const spec = loadSpec(SPEC);

/** A copy of the spec with `edit` applied, loaded from a temporary file. */
function edited(edit: (text: string) => string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seal-spec-'));
  const file = path.join(dir, 'seal.xml');
  writeFileSync(file, edit(readFileSync(SPEC, 'utf8')));
  return { file, spec: loadSpec(file) };
}

const dtd = sharedFile('xsf', 'xep.dtd');
const skipDtd = missing('xmllint or the XSF DTD', dtd.present && hasCommand('xmllint'), 'apt-get install libxml2-utils; SEAL_SHARED_DATA');

describe('spec/seal.xml', () => {
  it.skipIf(skipDtd !== undefined)('validates against the XSF DTD with xmllint', () => {
    const xsf = path.dirname(dtd.file);
    expect(dtdProblems(SPEC, xsf)).toEqual([]);
    // The check can fail: an element the DTD does not allow is reported.
    expect(dtdProblems(edited((t) => t.replace('<section1 topic=\'Glossary\'', '<bogus/><section1 topic=\'Glossary\'')).file, xsf)).not.toEqual([]);
  });

  it.skipIf(skipDtd !== undefined)('every Seal element in the examples matches the XML Schema of §schema', () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'seal-xsd-'));
    const result = schemaValidationProblems(spec, work);
    expect(result.problems).toEqual([]);
    expect(result.checked).toBeGreaterThanOrEqual(3);
    // The check can fail: an attribute the schema does not allow is reported.
    const broken = edited((t) => t.replace("<devices xmlns='urn:xmpp:seal:0' issued=", "<devices xmlns='urn:xmpp:seal:0' bogus='1' issued="));
    expect(schemaValidationProblems(broken.spec, work).problems.length).toBeGreaterThan(0);
  });

  it('follows the ProtoXEP rules (status, number, stylesheet, legal notice, revisions newest first, anchors)', () => {
    expect(protoXepProblems(spec)).toEqual([]);
    expect(protoXepProblems(edited((t) => t.replace('<status>ProtoXEP</status>', '<status>Experimental</status>')).spec)).toHaveLength(1);
    expect(protoXepProblems(edited((t) => t.replace('&LEGALNOTICE;', '')).spec)).toContain('header: missing &LEGALNOTICE;');
    const older = '<revision><version>0.0.0</version><date>2026-01-01</date><initials>sa</initials><remark><p>x</p></remark></revision>';
    const withOlder = edited((t) => t.replace(/<\/revision>/, `</revision>\n${older}`)).spec;
    expect(protoXepProblems(withOlder)).toEqual([]);
    const reversed = edited((t) => t.replace(/<revision>/, `${older}\n<revision>`)).spec;
    expect(protoXepProblems(reversed).some((p) => p.includes('newest first'))).toBe(true);
  });

  it('lists exactly the error codes of the code, with their sections and meanings', () => {
    expect(registryProblems(spec)).toEqual([]);
    expect(registryProblems(edited((t) => t.replace('<td>truncated</td>', '<td>cut-short</td>')).spec)).toHaveLength(2);
  });

  it('every example with a Seal element parses with the wire schemas', () => {
    const result = exampleProblems(spec);
    expect(result.problems).toEqual([]);
    expect(result.checked).toBeGreaterThan(0);
    const broken = edited((t) => t.replace("namespace='urn:xmpp:seal:0' name='Seal'/>", "namespace='urn:xmpp:seal:0' name='Seal' />\n  <unknown xmlns='urn:xmpp:seal:0'/>"));
    expect(exampleProblems(broken.spec).problems.some((p) => p.includes('no wire definition'))).toBe(true);
  });

  it('examples with real keys are exactly what the code generates', () => {
    const generated = specExamples();
    expect(generated.size).toBeGreaterThanOrEqual(4);
    expect(exampleDrift(spec.text, generated)).toEqual([]);
    expect(withGeneratedExamples(spec.text, generated)).toBe(spec.text);
    const stale = spec.text.replace("label='Laptop'", "label='Tablet'");
    expect(exampleDrift(stale, generated)).toHaveLength(1);
  });

  it('indexes exactly the requirements of the text in §rules', () => {
    expect(requirementIndexProblems(spec.text)).toEqual([]);
    const removed = spec.text.replace("<span class='req'>[suite.constant-time]</span> ", '');
    expect(requirementIndexProblems(removed)).toHaveLength(1);
  });

  it('states every named constant and label with the value the code uses', () => {
    expect(constantsProblems(spec, SECTION_CONSTANTS)).toEqual([]);
    expect(labelProblems(spec, SECTION_LABELS)).toEqual([]);
    const changed = edited((t) => t.replace('<td>MAX_DEVICES</td><td>64</td>', '<td>MAX_DEVICES</td><td>65</td>')).spec;
    expect(constantsProblems(changed, SECTION_CONSTANTS)).toEqual(['§identity.constants: MAX_DEVICES is 64 in the code but "65" in the spec']);
    const relabelled = edited((t) => t.replace('<td><tt>kem prekey</tt></td>', '<td><tt>pq prekey</tt></td>')).spec;
    expect(labelProblems(relabelled, SECTION_LABELS)).toHaveLength(1);
  });

  it('every requirement is cited by code and by a test; every citation names a requirement', () => {
    const report = traceRequirements(spec, ROOT);
    console.log(['requirement coverage:', ...report.rows.map((r) => `  §${r.section}: ${r.total} requirements, code ${r.code}/${r.total}, tests ${r.tests}/${r.total}`)].join('\n'));
    expect(report.problems).toEqual([]);
    for (const section of ['suite', 'encoding', 'identity']) {
      const row = report.rows.find((r) => r.section === section);
      expect(row?.total).toBeGreaterThan(0);
      expect(row?.code).toBe(row?.total);
      expect(row?.tests).toBe(row?.total);
    }
  });

  it('tracing catches an uncited requirement, an unmarked MUST and a citation of an unknown id', () => {
    const extra = edited((t) => t.replace('<p>ChaCha20-Poly1305 follows', "<p><span class='req'>[suite.uncited]</span> Implementations MUST do a thing nobody cites.</p><p>ChaCha20-Poly1305 follows"));
    const problems = traceRequirements(extra.spec, ROOT).problems;
    const cite = `${'@'}req suite.uncited`; // built so that this file does not itself cite the id
    expect(problems).toContain(`suite.uncited: no code cites it (${cite} in src/)`);
    expect(problems).toContain(`suite.uncited: no test cites it (${cite} in test/)`);
    const unmarked = edited((t) => t.replace('<p>ChaCha20-Poly1305 follows', '<p>Clients MUST NOT be lax. Strict verification makes'));
    expect(requirements(unmarked.spec).problems.some((p) => p.startsWith('normative keyword without a requirement id'))).toBe(true);
    const removed = edited((t) => t.replace("<span class='req'>[suite.constant-time]</span> Implementations MUST", 'Implementations'));
    expect(traceRequirements(removed.spec, ROOT).problems.some((p) => p.startsWith('suite.constant-time: cited in'))).toBe(true);
  });
});
