/**
 * spec/seal.xml: valid against the XSF DTD, follows the XEP-0001 ProtoXEP rules, its error
 * registry equals the code's, its examples parse with the wire schemas, and every requirement
 * id is cited by code and by a test (requirement tracing, after awslabs/duvet).
 */
import { writeFileSync, mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { specExamples } from '../src/cli/examples.js';
import { SECTION_CONSTANTS, SECTION_LABELS } from '../src/cli/registry.js';
import { DEVICE_CONSTANTS } from '../src/device/constants.js';
import { WIRE_ELEMENTS, canonicalXml, parseXml } from '../src/wire/index.js';
import { constantsProblems, dtdProblems, enginePath, isClientRule, requirementIndexProblems, schemaValidationProblems, exampleDrift, exampleProblems, labelProblems, loadSpec, protoXepProblems, registryProblems, requirements, traceRequirements, withGeneratedExamples } from '../src/cli/spec.js';
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
    const withOlder = edited((t) => t.replace(/<\/revision>(?![\s\S]*<\/revision>)/, `</revision>\n${older}`)).spec;
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
    const broken = edited((t) => t.replace("name='Seal' namespace='urn:xmpp:seal:0'/>", "name='Seal' namespace='urn:xmpp:seal:0' />\n  <unknown xmlns='urn:xmpp:seal:0'/>"));
    expect(exampleProblems(broken.spec).problems.some((p) => p.includes('no wire definition'))).toBe(true);
  });

  it('writes every XML example in the canonical form of §encoding.xml, indented', () => {
    const examples = [...spec.text.matchAll(/<example caption='([^']*)'><!\[CDATA\[\n?([\s\S]*?)\]\]><\/example>/g)].map((m) => ({ caption: m[1]!, text: m[2]!.trim() }));
    expect(examples.length).toBeGreaterThanOrEqual(12);
    const notCanonical = examples.filter((e) => canonicalXml(parseXml(e.text), { indent: true }) !== e.text).map((e) => e.caption);
    expect(notCanonical).toEqual([]);
    const reordered = "<iq type='set' id='x'/>";
    expect(canonicalXml(parseXml(reordered), { indent: true })).not.toBe(reordered);
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
    expect(SECTION_CONSTANTS.device).toBe(DEVICE_CONSTANTS);
    expect(constantsProblems(edited((t) => t.replace('<td>HEARTBEAT_INTERVAL</td><td>50</td>', '<td>HEARTBEAT_INTERVAL</td><td>100</td>')).spec, SECTION_CONSTANTS)).toEqual(['§device.constants: HEARTBEAT_INTERVAL is 50 in the code but "100" in the spec']);
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

  it('has the device engine section after §offline, and no repair signal on the wire or in the schema', () => {
    const anchors = spec.root.getChildren('section1').map((e) => String(e.attrs.anchor));
    expect(anchors.indexOf('device')).toBe(anchors.indexOf('offline') + 1);
    expect(WIRE_ELEMENTS.map((w) => w.name)).not.toContain('repair');
    expect(spec.text).not.toContain("<xs:element name='repair'>");
    expect(spec.text).not.toMatch(/<repair xmlns=/);
    const ids = requirements(spec).requirements.map((r) => r.id);
    for (const id of ['device.pinning', 'device.session-binding', 'device.unlisted-device', 'device.interactive-pinning', 'device.account-key', 'device.send-no-device', 'device.key-only', 'device.outbox', 'device.inbox', 'device.commit-first', 'device.receive-never-throws', 'device.no-repair-for-bounces', 'device.bounds', 'offline.forwarded-carbons', 'offline.forwarded-archive', 'offline.previous-session', 'offline.repair-signal', 'offline.repair-reset']) expect(ids, id).toContain(id);
  });
});

/**
 * A throw-away repository: a spec with client rules and other rules, an engine, a helper it
 * imports, a helper it does not, a vector generator, and tests that do and do not drive the engine.
 */
function fixture(files: Record<string, string>) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'seal-trace-'));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  return root;
}

const cite = (id: string) => `// ${'@'}req ${id}`; // built so that this file does not itself cite the ids

describe('requirement tracing through the device engine (issue 13)', () => {
  const xep = (ids: readonly string[]) => {
    const sections = [...new Set(ids.map((id) => id.split('.')[0]!))];
    const body = sections.map((s) => `<section1 topic='${s}' anchor='${s}'>${ids.filter((id) => id.startsWith(`${s}.`)).map((id) => `<p><span class='req'>[${id}]</span> A device MUST do ${id}.</p>`).join('')}</section1>`).join('');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'seal-trace-spec-'));
    writeFileSync(path.join(dir, 'seal.xml'), `<xep>${body}</xep>`);
    return loadSpec(path.join(dir, 'seal.xml'));
  };
  const root = fixture({
    'src/device/engine.ts': `import { onPath } from '../identity/used.js';\nimport type { Only } from '../identity/typed.js';\n${cite('device.in-engine')}\nexport class Engine {}\n`,
    'src/net/client.ts': `import { Engine } from '../device/engine.js';\nexport class Client { e = new Engine(); }\n`,
    'src/net/index.ts': `export * from './client.js';\nexport class Server {}\n`,
    'src/identity/used.ts': `${cite('identity.trust-on-path')}\nexport const onPath = 1;\n`,
    'src/identity/typed.ts': `${cite('identity.trust-type-only')}\nexport type Only = 1;\n`,
    'src/identity/unused.ts': `${cite('identity.trust-off-path')}\n${cite('identity.fingerprint-x')}\nexport const offPath = 1;\n`,
    'src/vectors/gen.ts': `${cite('identity.vectors-only')}\n`,
    'test/support/world.ts': `import { Client } from '../../src/net/index.js';\nexport function world() { return new Client(); }\n`,
    'test/unit.test.ts': [
      `import { offPath } from '../src/identity/unused.js';`,
      `it('unit', () => {`, `  ${cite('device.in-engine')}`, `  ${cite('identity.trust-on-path')}`, `  expect(offPath).toBe(1);`, `});`,
      `it('fingerprint', () => {`, `  ${cite('identity.fingerprint-x')}`, `  ${cite('identity.vectors-only')}`, `});`,
    ].join('\n'),
    'test/mixed.test.ts': [
      `import { Client } from '../src/net/client.js';`,
      `import { Engine } from '../src/device/engine.js';`,
      `${cite('identity.trust-type-only')}`,
      `const setup = () => new Client();`,
      `describe('x', () => {`,
      `  it('a unit test next to engine tests, mentioning Client only in a comment', () => {`, `    ${cite('identity.trust-off-path')}`, `    // Client`, `    expect('Client').toBe('Client');`, `  });`,
      `  it('through a helper that uses the shell', () => {`, `    ${cite('identity.trust-on-path')}`, `    setup();`, `  });`,
      `});`,
    ].join('\n'),
    'test/world.test.ts': [`import { world } from './support/world.js';`, `it('through a support module that goes through the engine', () => {`, `  ${cite('device.in-engine')}`, `  world();`, `});`].join('\n'),
  });

  it('classifies the client rules', () => {
    for (const id of ['device.pinning', 'offline.repair-signal', 'identity.trust-distrusted', 'identity.key-change', 'identity.device-list-keys', 'identity.device-list', 'identity.pep-errors']) expect(isClientRule(id), id).toBe(true);
    for (const id of ['identity.fingerprint', 'identity.state-validate', 'handshake.interactive-timeout', 'envelope.key-only', 'suite.randomness']) expect(isClientRule(id), id).toBe(false);
  });

  it('counts a client rule only where the engine path cites it and a test that drives the engine cites it', () => {
    const onPath = [...enginePath(root)].map((f) => path.relative(root, f)).sort();
    expect(onPath).toEqual(['src/device/engine.ts', 'src/identity/used.ts', 'src/net/client.ts']); // a type-only import brings no code
    const report = traceRequirements(xep(['device.in-engine', 'identity.trust-on-path', 'identity.trust-off-path', 'identity.trust-type-only', 'identity.fingerprint-x', 'identity.vectors-only']), root);
    expect(report.problems).toEqual([
      'identity.trust-off-path: no code on the engine\'s path cites it (cited only in src/identity/unused.ts; the path is src/device/, src/net/client.ts and what they import)',
      'identity.trust-off-path: no test through the engine cites it (cited in test/mixed.test.ts, but not in a test that uses src/device/ or src/net/client.ts)',
      'identity.trust-type-only: no code on the engine\'s path cites it (cited only in src/identity/typed.ts; the path is src/device/, src/net/client.ts and what they import)',
      'identity.trust-type-only: no test through the engine cites it (cited in test/mixed.test.ts, but not in a test that uses src/device/ or src/net/client.ts)',
      'identity.vectors-only: only tooling cites it (src/vectors/gen.ts), no implementation',
    ]);
    // Not a client rule: the helper's own module and a unit test are enough.
    expect(report.problems.some((p) => p.startsWith('identity.fingerprint-x'))).toBe(false);
    expect(report.rows).toEqual([
      { section: 'device', total: 1, code: 1, tests: 1 },
      { section: 'identity', total: 5, code: 2, tests: 3 },
    ]);
  });
});
