/**
 * spec/seal.xml: valid against the XSF DTD, follows the XEP-0001 ProtoXEP rules, its error
 * registry equals the code's, its examples parse with the wire schemas, and every requirement
 * id is cited by code and by a test (requirement tracing, after awslabs/duvet).
 */
import { writeFileSync, mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPLETE_EXAMPLES, TRUNCATE_ABOVE, TRUNCATE_KEEP, generatedExamples, prettyXml, specExamples, truncateBase64, truncateValue } from '../src/cli/examples.js';
import { SECTION_CONSTANTS, SECTION_LABELS } from '../src/cli/registry.js';
import { DEVICE_CONSTANTS } from '../src/device/constants.js';
import { WIRE_ELEMENTS, canonicalXml, parseXml } from '../src/wire/index.js';
import { type KindedDocument, anchorProblems, companionProblems, linkProblems, shownDifference, truncationProblems } from '../src/cli/spec.js';
import { constantsProblems, dtdProblems, enginePath, isClientRule, requirementIndexProblems, schemaValidationProblems, exampleDrift, exampleProblems, labelProblems, loadSpec, protoXepProblems, registryProblems, requirements, traceRequirements, withGeneratedExamples } from '../src/cli/spec.js';
import { hasCommand, missing, ROOT, sharedFile } from './support/environment.js';

const SPEC = path.join(ROOT, 'spec', 'seal.xml');
const spec = loadSpec(SPEC);

/** A copy of the spec with `edit` applied, loaded from a temporary file. */
function edited(edit: (text: string) => string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seal-spec-'));
  const file = path.join(dir, 'seal.xml');
  const original = readFileSync(SPEC, 'utf8');
  const text = edit(original);
  // An edit that no longer finds its place in the text would test nothing.
  if (text === original) throw new Error('edited: the edit changed nothing in spec/seal.xml');
  writeFileSync(file, text);
  return { file, spec: loadSpec(file) };
}

const dtd = sharedFile('xsf', 'xep.dtd');
const skipDtd = missing('xmllint or the XSF DTD', dtd.present && hasCommand('xmllint'), 'apt-get install libxml2-utils; SEAL_SHARED_DATA');

/** A stable place in the XEP to insert test text: the opening tag of §suite.aead. */
const AEAD_SECTION = "<section2 topic='Authenticated Encryption' anchor='suite.aead'>";

describe('spec/seal.xml', () => {
  it.skipIf(skipDtd !== undefined)('validates against the XSF DTD with xmllint', () => {
    const xsf = path.dirname(dtd.file);
    expect(dtdProblems(SPEC, xsf)).toEqual([]);
    // The check can fail: an element the DTD does not allow is reported.
    expect(dtdProblems(edited((t) => t.replace('<section1 topic=\'Glossary\'', '<bogus/><section1 topic=\'Glossary\'')).file, xsf)).not.toEqual([]);
  });

  it.skipIf(skipDtd !== undefined)('every Seal element in the examples matches the XML Schema of §schema', () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'seal-xsd-'));
    // Generated examples are validated as the code produced them (their text shortens long base64).
    const result = schemaValidationProblems(spec, work, { generated: generatedExamples() });
    expect(result.problems).toEqual([]);
    expect(schemaValidationProblems(loadSpec(path.join(ROOT, 'spec', 'seal-impl.xml')), work, { schemaFrom: spec, generated: generatedExamples() }).problems).toEqual([]);
    expect(result.checked).toBeGreaterThanOrEqual(3);
    // The check can fail: an attribute the schema does not allow is reported.
    const broken = edited((t) => t.replace("<devices xmlns='urn:xmpp:seal:0' issued=", "<devices xmlns='urn:xmpp:seal:0' bogus='1' issued="));
    expect(schemaValidationProblems(broken.spec, work).problems.length).toBeGreaterThan(0);
    // Hand-written (not generated), a shortened value is validated as it is, and fails.
    expect(schemaValidationProblems(spec, work).problems.length).toBeGreaterThan(0);
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
    const result = exampleProblems(spec, generatedExamples());
    expect(result.problems).toEqual([]);
    expect(result.checked).toBeGreaterThan(0);
    // Read as hand-written, the shortened values do not parse: the check is not weakened.
    expect(exampleProblems(spec).problems.length).toBeGreaterThan(0);
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
    // Each generated example is in the XEP or in its companion (the complete worked example).
    const companionText = readFileSync(path.join(ROOT, 'spec', 'seal-impl.xml'), 'utf8');
    expect(exampleDrift([spec.text, companionText], generated)).toEqual([]);
    expect(withGeneratedExamples(spec.text, generated)).toBe(spec.text);
    const stale = spec.text.replace("label='Laptop'", "label='Tablet'");
    expect(exampleDrift([stale, companionText], generated)).toHaveLength(1);
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
    const extra = edited((t) => t.replace(AEAD_SECTION, `${AEAD_SECTION}<p><span class='req'>[suite.uncited]</span> Implementations MUST do a thing nobody cites.</p>`));
    const problems = traceRequirements(extra.spec, ROOT).problems;
    const cite = `${'@'}req suite.uncited`; // built so that this file does not itself cite the id
    expect(problems).toContain(`suite.uncited: no code cites it (${cite} in src/)`);
    expect(problems).toContain(`suite.uncited: no test cites it (${cite} in test/)`);
    const unmarked = edited((t) => t.replace(AEAD_SECTION, `${AEAD_SECTION}<p>Clients MUST NOT be lax.</p>`));
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

const COMPANION = path.join(ROOT, 'spec', 'seal-impl.xml');
const companion = loadSpec(COMPANION);
const both: KindedDocument[] = [{ kind: 'xep', spec }, { kind: 'companion', spec: companion }];

/** A companion document of its own, written to a temporary file (independent of spec/seal-impl.xml). */
function companionOf(body: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seal-impl-'));
  const file = path.join(dir, 'seal-impl.xml');
  writeFileSync(file, `<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE companion SYSTEM 'xep.dtd' [\n  <!ENTITY % ents SYSTEM 'xep.ent'>\n%ents;\n]>\n<companion title='Test Notes' for='seal.xml'>\n${body}\n</companion>\n`);
  return loadSpec(file);
}
const twoSections = "<section1 topic='One' anchor='t-one'><p>See <link url='seal.html#suite'>the suite</link>, &xep0384; and <link url='#t-two'>below</link>.</p></section1><section1 topic='Two' anchor='t-two'><p>The implementation may <em>cache</em> keys.</p><code>const MAY = 'MUST';</code></section1>";

describe('the companion document spec/seal-impl.xml (informative)', () => {
  it('exists and has no requirement ids and no RFC 2119 keywords; the checks can fail', () => {
    expect(companionProblems(companion)).toEqual([]);
    expect(companionProblems(companionOf(twoSections))).toEqual([]);
    const withReq = companionOf(twoSections.replace('<p>The implementation', "<p><span class='req'>[suite.cache]</span> The implementation"));
    expect(companionProblems(withReq)).toEqual(['companion §t-two: a requirement id [suite.cache] in the informative document (requirements belong in the XEP)']);
    const withKeyword = companionOf(twoSections.replace('may <em>cache</em>', 'SHOULD <em>cache</em>'));
    expect(companionProblems(withKeyword)).toHaveLength(1);
    expect(companionProblems(withKeyword)[0]).toContain('the RFC 2119 keyword SHOULD');
    expect(companionProblems(companionOf(twoSections.replace('<em>cache</em>', '<em>MUST NOT cache</em>')))[0]).toContain('MUST NOT');
    // The keyword check is on the companion only: requirement tracing stays on the XEP.
    expect(requirements(companion).requirements).toEqual([]);
  });

  it('shares no anchor with the XEP, and uses none the rendered page reserves', () => {
    expect(anchorProblems(both)).toEqual([]);
    const clash = companionOf(twoSections.replace("anchor='t-two'", "anchor='suite'"));
    expect(anchorProblems([{ kind: 'xep', spec }, { kind: 'companion', spec: clash }])).toEqual(["anchor 'suite': used twice (in the xep and the companion); anchors are unique across both documents"]);
    const twice = companionOf(twoSections.replace("anchor='t-two'", "anchor='t-one'"));
    expect(anchorProblems([{ kind: 'companion', spec: twice }])).toHaveLength(1);
    expect(anchorProblems([{ kind: 'companion', spec: companionOf(twoSections.replace("anchor='t-two'", "anchor='footnotes'")) }])[0]).toContain('footnotes');
  });

  it('links within and between the two documents only to anchors that exist; a broken cross-link is reported', () => {
    expect(linkProblems(both)).toEqual([]);
    const own = companionOf(twoSections);
    // (The XEP's own links into spec/seal-impl.xml are left out: this companion is a different one.)
    const fromCompanion = (c: typeof own) => linkProblems([{ kind: 'xep', spec }, { kind: 'companion', spec: c }]).filter((p) => p.startsWith('companion:'));
    expect(fromCompanion(own)).toEqual([]);
    const broken = companionOf(twoSections.replace("seal.html#suite'", "seal.html#no-such-section'").replace("url='#t-two'", "url='#t-three'"));
    expect(fromCompanion(broken)).toEqual([
      "companion: link to seal.html#no-such-section: no section or requirement of the xep has the anchor 'no-such-section'",
      "companion: link to #t-three: no section or requirement of the companion has the anchor 't-three'",
    ]);
    // From the XEP to the companion: seal-impl.html#anchor.
    const xepLinking = edited((t) => t.replace(AEAD_SECTION, `${AEAD_SECTION}<p>See <link url='seal-impl.html#t-one'>the notes</link> and <link url='seal-impl.html#t-nowhere'>nowhere</link>.</p>`)).spec;
    expect(linkProblems([{ kind: 'xep', spec: xepLinking }, { kind: 'companion', spec: own }]).filter((p) => p.includes('#t-'))).toEqual(["xep: link to seal-impl.html#t-nowhere: no section or requirement of the companion has the anchor 't-nowhere'"]);
    // A requirement id is a link target too.
    const toReq = companionOf(twoSections.replace("seal.html#suite'", "seal.html#suite.constant-time'"));
    expect(fromCompanion(toReq)).toEqual([]);
  });

  it('writes its examples in the canonical form; generated ones are exactly the generation, checked by the wire schemas in full', () => {
    const examples = [...companion.text.matchAll(/<example caption='([^']*)'><!\[CDATA\[\n?([\s\S]*?)\]\]><\/example>/g)].map((m) => ({ caption: m[1]!, text: m[2]!.trim() }));
    expect(examples.filter((e) => canonicalXml(parseXml(e.text), { indent: true }) !== e.text).map((e) => e.caption)).toEqual([]);
    const generated = generatedExamples();
    expect(exampleDrift([spec.text, companion.text], specExamples())).toEqual([]);
    expect(withGeneratedExamples(companion.text, specExamples())).toBe(companion.text);
    expect(exampleProblems(companion, generated).problems).toEqual([]);
    expect(truncationProblems(companion, generated)).toEqual([]);
  });
});

describe('truncated base64 in the examples', () => {
  const generated = generatedExamples();
  const base64Values = (text: string) => [...text.matchAll(/(?<=[>'])([A-Za-z0-9+/]+={0,2})(?=[<'])/g)].map((m) => m[1]!);

  it('shortens a base64 value longer than 64 characters to its first 40 and …, and nothing else', () => {
    const long = 'A'.repeat(TRUNCATE_ABOVE + 1);
    expect(truncateValue(long)).toBe(`${'A'.repeat(TRUNCATE_KEEP)}\u2026`);
    expect(truncateValue('B'.repeat(TRUNCATE_ABOVE))).toBe('B'.repeat(TRUNCATE_ABOVE));
    const url = `https://upload.montague.lit/${'a'.repeat(80)}.bin`;
    expect(truncateValue(url)).toBe(url);
    const element = parseXml(`<x xmlns='urn:t' a='${long}' u='${url}'><y>${long}==</y><z>short</z></x>`);
    expect(canonicalXml(truncateBase64(element))).toBe(`<x xmlns='urn:t' a='${'A'.repeat(40)}\u2026' u='${url}'><y>${'A'.repeat(40)}\u2026</y><z>short</z></x>`);
    expect(element.attrs.a).toBe(long); // the original is unchanged
  });

  it('shows every generated example truncated, except the complete ones', () => {
    expect(COMPLETE_EXAMPLES).toContain('A complete sealed message (worked example)');
    let truncated = 0;
    for (const [caption, example] of generated) {
      if (COMPLETE_EXAMPLES.includes(caption)) {
        expect(example.text, caption).toBe(prettyXml(example.element));
        expect(example.text, caption).not.toContain('\u2026');
        continue;
      }
      expect(base64Values(example.text).filter((v) => v.length > TRUNCATE_ABOVE), caption).toEqual([]);
      expect(shownDifference(parseXml(example.text), example.element), caption).toBeUndefined();
      if (example.text.includes('\u2026')) truncated++;
    }
    expect(truncated).toBeGreaterThanOrEqual(5);
    // The worked example shows what the truncated sealed message shortens.
    const full = generated.get('A complete sealed message (worked example)')!;
    expect(base64Values(full.text).some((v) => v.length > TRUNCATE_ABOVE)).toBe(true);
  });

  it('reports a truncated example that drifts from the generation, and validates the untruncated element', () => {
    const caption = 'Publishing a bundle';
    const example = generated.get(caption)!;
    const cut = /signature='([A-Za-z0-9+/]{40})\u2026'/.exec(example.text)!;
    expect(cut).not.toBeNull();
    expect(spec.text).toContain(cut[0]);
    // The shown prefix of a truncated value changes: drift, and the check by the wire schemas sees it.
    const stale = edited((t) => t.replace(cut[0], `signature='${cut[1]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}\u2026'`));
    expect(exampleDrift([stale.spec.text, companion.text], specExamples())).toEqual([`example "${caption}": differs from what the code generates (run: npm run spec:generate)`]);
    expect(exampleProblems(stale.spec, generated).problems.some((p) => p.startsWith(`example "${caption}": differs from the element the code generates`))).toBe(true);
    // Something else in a truncated example changes: reported too (the truncation weakens nothing else).
    const relabelled = edited((t) => t.replace(example.text, example.text.replace("id='1'", "id='9'")));
    expect(exampleProblems(relabelled.spec, generated).problems.some((p) => p.includes(`"${caption}": differs`) && p.includes('@id'))).toBe(true);
    // The wire schemas check the element in full: a generated element whose truncated value is
    // not a valid signature is reported although the example shows only its first 40 characters.
    const full = example.element;
    const broken = parseXml(canonicalXml(full));
    const identity = broken.getChild('pubsub')!.getChild('publish')!.getChild('item')!.getChild('bundle')!.getChild('identity')!;
    identity.attrs.signature = `${String(identity.attrs.signature).slice(0, 40)}${'A'.repeat(28)}`;
    expect(prettyXml(truncateBase64(broken))).toBe(example.text);
    const withBroken = new Map(generated).set(caption, { ...example, element: broken });
    expect(exampleProblems(spec, withBroken).problems.filter((p) => p.includes(caption))).toHaveLength(1);
    expect(exampleProblems(spec, generated).problems).toEqual([]);
  });

  it('never lets a hand-written example shorten a value', () => {
    expect(truncationProblems(spec, generated)).toEqual([]);
    const handWritten = edited((t) => t.replace(AEAD_SECTION, `${AEAD_SECTION}<example caption='Hand-written'><![CDATA[\n<x xmlns='urn:t' a='${'A'.repeat(40)}\u2026'/>\n]]></example>`)).spec;
    expect(truncationProblems(handWritten, generated)).toHaveLength(1);
  });
});
