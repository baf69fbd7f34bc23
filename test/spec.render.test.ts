/**
 * The annotated spec (`npm run spec`): spec/seal.xml rendered to HTML by src/cli/render/. Every
 * section anchor becomes an id, every internal link resolves, every link into the repository
 * points at a file that exists (or, for API pages before typedoc has run, at an exported
 * function), the three sequence diagrams are drawn in their sections, every requirement id is an
 * anchor with links to the code and the tests that cite it, and examples are escaped text. Also
 * the typedoc plugin (docs/spec-links.mjs) that links `spec §anchor` in the API docs back here.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Element as LtxElement, parse as ltxParse } from 'ltx';
import { describe, expect, it } from 'vitest';
import { rewriteSpecLinks, specAnchors, specHref } from '../docs/spec-links.mjs';
import { apiFunctions, citedAnchors } from '../src/cli/render/api.js';
import { parseEntityDeclarations, prepareXml } from '../src/cli/render/entities.js';
import { renderSpecHtml, writeSpecHtml } from '../src/cli/render/spec-html.js';
import { loadSpec, requirements } from '../src/cli/spec.js';
import { ROOT, SHARED_DATA, missing, sharedFile } from './support/environment.js';

const SPEC = path.join(ROOT, 'spec', 'seal.xml');
const outDir = mkdtempSync(path.join(os.tmpdir(), 'seal-spec-html-'));
const rendered = writeSpecHtml({ root: ROOT, sharedData: SHARED_DATA, outDir });
const html = readFileSync(rendered.file, 'utf8');
const page = ltxParse(html.replace(/^<!DOCTYPE html>/, '')) as LtxElement;

function all(e: LtxElement, match: (e: LtxElement) => boolean, found: LtxElement[] = []): LtxElement[] {
  if (match(e)) found.push(e);
  for (const c of e.children) if (c instanceof LtxElement) all(c, match, found);
  return found;
}
const textOf = (e: LtxElement | string): string => (typeof e === 'string' ? e : e.children.map((c) => textOf(c as LtxElement | string)).join(''));
const ids = new Set(all(page, (e) => e.attrs.id !== undefined).map((e) => String(e.attrs.id)));
const hrefs = all(page, (e) => e.name === 'a' && e.attrs.href !== undefined).map((e) => String(e.attrs.href));
const xmlAnchors = [...readFileSync(SPEC, 'utf8').matchAll(/<section[1-4] [^>]*anchor='([^']+)'/g)].map((m) => m[1]!);
const reqs = requirements(loadSpec(SPEC)).requirements;
const entityFile = sharedFile('xsf', 'xep.ent');
const skipEntities = missing('the XSF entity file', entityFile.present, 'SEAL_SHARED_DATA');

describe('the rendered spec (npm run spec)', () => {
  it('is well-formed (it parsed back) and renders without warnings', () => {
    expect(page.name).toBe('html');
    if (entityFile.present) expect(rendered.warnings).toEqual([]);
  });

  it('renders the companion document (spec/seal-impl.xml) to seal-impl.html beside it, each page linking to the other', () => {
    expect(rendered.companion).toBeDefined();
    expect(rendered.companionFile).toBe(path.join(outDir, 'seal-impl.html'));
    if (entityFile.present) expect(rendered.companion!.warnings).toEqual([]);
    const companionPage = ltxParse(readFileSync(rendered.companionFile!, 'utf8').replace(/^<!DOCTYPE html>/, '')) as LtxElement;
    const companionIds = new Set(all(companionPage, (e) => e.attrs.id !== undefined).map((e) => String(e.attrs.id)));
    const companionHrefs = all(companionPage, (e) => e.name === 'a' && e.attrs.href !== undefined).map((e) => String(e.attrs.href));
    expect(hrefs).toContain('seal-impl.html');
    expect(companionHrefs).toContain('index.html');
    // Every link between and within the two pages reaches an id of its target page.
    const pages = { 'index.html': ids, 'seal-impl.html': companionIds };
    const dangling = (from: ReadonlySet<string>, links: readonly string[]) => links.flatMap((h) => {
      const m = /^(index\.html|seal-impl\.html)?#(.+)$/.exec(h);
      if (m === null) return [];
      const target = m[1] === undefined ? from : pages[m[1] as keyof typeof pages];
      return target.has(decodeURIComponent(m[2]!)) ? [] : [h];
    });
    expect(dangling(ids, hrefs)).toEqual([]);
    expect(dangling(companionIds, companionHrefs)).toEqual([]);
    expect(companionHrefs.filter((h) => h.startsWith('#')).length).toBeGreaterThan(0);
    // No HTML id twice on either page.
    for (const p of [page, companionPage]) {
      const all_ = all(p, (e) => e.attrs.id !== undefined).map((e) => String(e.attrs.id));
      expect(all_.filter((id, i) => all_.indexOf(id) !== i)).toEqual([]);
    }
  });

  it('reports a link to an anchor that exists in neither document, from either document', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'seal-two-docs-'));
    const xepFile = path.join(dir, 'seal.xml');
    const companionFile = path.join(dir, 'seal-impl.xml');
    writeFileSync(xepFile, "<?xml version='1.0'?>\n<xep><header><title>T</title><number>xxxx</number></header><section1 topic='Alpha' anchor='alpha'><p><span class='req'>[alpha.rule]</span> A device MUST do it; see <link url='seal-impl.html#impl-one'>the notes</link>, <link url='seal-impl.html'>all notes</link> and <link url='seal-impl.html#impl-gone'>gone</link>.</p></section1></xep>\n");
    writeFileSync(companionFile, "<?xml version='1.0'?>\n<companion title='Test Notes' for='seal.xml'><section1 topic='One' anchor='impl-one'><p>See <link url='seal.html#alpha'>alpha</link>, <link url='seal.html#alpha.rule'>alpha.rule</link>, <link url='#impl-two'>two</link>, <tt>alpha.rule</tt>, §alpha and <link url='seal.html#omega'>omega</link>.</p></section1><section1 topic='Two' anchor='impl-two'><p>Second; <link url='#impl-three'>three</link>.</p></section1></companion>\n");
    const out = path.join(dir, 'html');
    const two = writeSpecHtml({ root: ROOT, sharedData: SHARED_DATA, outDir: out, specFile: xepFile });
    expect(two.warnings.filter((w) => w.includes('link'))).toEqual(["link to seal-impl.html#impl-gone: no section or requirement of the companion document has the anchor 'impl-gone'"]);
    expect(two.companion!.warnings.filter((w) => w.includes('link'))).toEqual([
      "link to seal.html#omega: no section or requirement of the XEP has the anchor 'omega'",
      "link to #impl-three: no section or requirement of the companion document has the anchor 'impl-three'",
    ]);
    expect(two.html).toContain('href="seal-impl.html#impl-one"');
    const notes = readFileSync(path.join(out, 'seal-impl.html'), 'utf8');
    for (const href of ['index.html#alpha', 'index.html#alpha.rule', '#impl-two', 'index.html']) expect(notes).toContain(`href="${href}"`);
    expect(notes).toContain('<a href="index.html#alpha.rule"><code>alpha.rule</code></a>');
    expect(notes).toContain('<a href="index.html#alpha">§alpha</a>');
    expect(notes).toContain('class="warnings"');
    // Without the companion, the XEP's links to it are reported; the XEP renders alone.
    const alone = renderSpecHtml({ root: ROOT, sharedData: SHARED_DATA, outDir: out, specFile: xepFile, companionFile: false });
    expect(alone.companion).toBeUndefined();
    expect(alone.warnings.filter((w) => w.includes('seal-impl.html'))).toHaveLength(3);
  });

  it('gives every section its anchor as id, a ¶ self-link and a table of contents entry', () => {
    expect(xmlAnchors.length).toBeGreaterThan(20);
    expect(rendered.sectionAnchors).toEqual(xmlAnchors);
    const sections = new Map(all(page, (e) => e.name === 'section' && e.attrs.id !== undefined).map((s) => [String(s.attrs.id), s]));
    const toc = all(page, (e) => e.name === 'nav')[0]!;
    const tocLinks = new Set(all(toc, (e) => e.name === 'a').map((a) => String(a.attrs.href)));
    for (const anchor of xmlAnchors) {
      const section = sections.get(anchor);
      expect(section, anchor).toBeDefined();
      const heading = section!.children.find((c): c is LtxElement => c instanceof LtxElement && /^h[2-6]$/.test(c.name))!;
      expect(all(heading, (e) => e.name === 'a' && e.attrs.href === `#${anchor}` && textOf(e) === '¶'), anchor).toHaveLength(1);
      expect(tocLinks.has(`#${anchor}`), anchor).toBe(true);
    }
  });

  it('has no internal link without its target', () => {
    const internal = hrefs.filter((h) => h.startsWith('#'));
    expect(internal.length).toBeGreaterThan(100);
    expect(internal.filter((h) => !ids.has(decodeURIComponent(h.slice(1))))).toEqual([]);
  });

  it('links only to repository files that exist (API pages: to exported functions when docs/api is not built)', () => {
    const relative = hrefs.filter((h) => !h.startsWith('#') && !/^[a-z]+:/.test(h)).map((h) => h.replace(/#.*$/, ''));
    expect(relative.length).toBeGreaterThan(100);
    const api = new Set(apiFunctions(ROOT).map((f) => f.page));
    const built = existsSync(path.join(ROOT, 'docs', 'api', 'functions'));
    const broken = relative.filter((h) => {
      const target = path.resolve(outDir, h);
      const inApi = path.relative(path.join(ROOT, 'docs', 'api'), target);
      if (!built && !inApi.startsWith('..')) return !api.has(inApi.split(path.sep).join('/'));
      return !existsSync(target);
    });
    expect(broken).toEqual([]);
    // Written where `npm run spec` writes it, the links start from spec/html/.
    const atHome = writeSpecHtml({ root: ROOT, sharedData: SHARED_DATA, outDir: path.join(outDir, 'spec', 'html') });
    expect(atHome.html).toContain('href="../../');
  });

  it('links each protocol section to its code, vectors, tests and API pages', () => {
    for (const section of ['suite', 'encoding', 'identity', 'handshake', 'envelope', 'offline']) {
      const box = all(page, (e) => e.name === 'section' && e.attrs.id === section)[0]!.children.find((c): c is LtxElement => c instanceof LtxElement && c.name === 'aside');
      expect(box, section).toBeDefined();
      const labels = all(box!, (e) => e.name === 'dt').map((dt) => textOf(dt));
      expect(labels).toEqual(['Implemented in', 'Vectors', 'Tests', 'API', 'Requirements']);
      const links = all(box!, (e) => e.name === 'a').map((a) => String(a.attrs.href));
      expect(links.some((h) => h.includes('/src/')), section).toBe(true);
      expect(links.some((h) => h.endsWith('/vectors/README.md')), section).toBe(true);
      expect(links.some((h) => h.includes('/test/')), section).toBe(true);
      expect(links.some((h) => h.includes('/docs/api/functions/')), section).toBe(true);
    }
    const handshake = all(page, (e) => e.name === 'aside' && String(e.attrs['aria-label']).includes('§handshake'))[0]!;
    const hrefsOf = all(handshake, (e) => e.name === 'a').map((a) => String(a.attrs.href));
    expect(hrefsOf.some((h) => h.endsWith('src/handshake/'))).toBe(true);
    expect(hrefsOf.some((h) => h.endsWith('vectors/handshake-async.json'))).toBe(true);
    expect(hrefsOf.some((h) => h.endsWith('test/handshake.async.test.ts'))).toBe(true);
    // The page of the package entry that exports it (`xmpp-seal`, docs/api-sections.mjs).
    expect(hrefsOf.some((h) => /docs\/api\/functions\/xmpp-seal\.initiateAsync\.html$/.test(h))).toBe(true);
  });

  it('draws the three sequence diagrams as inline SVG in their sections', () => {
    expect(all(page, (e) => e.name === 'svg')).toHaveLength(3);
    const placed = { 'handshake.async': 'diagram-async', 'handshake.interactive': 'diagram-interactive', envelope: 'diagram-envelope' };
    for (const [anchor, id] of Object.entries(placed)) {
      const section = all(page, (e) => e.name === 'section' && e.attrs.id === anchor)[0]!;
      const figure = all(section, (e) => e.attrs.id === id)[0];
      expect(figure, id).toBeDefined();
      const svg = all(figure!, (e) => e.name === 'svg')[0]!;
      expect(svg.attrs.role).toBe('img');
      expect(all(svg, (e) => e.name === 'line' && String(e.attrs.class).includes('sd-arrow')).length, id).toBeGreaterThanOrEqual(3);
    }
    const interactive = textOf(all(page, (e) => e.attrs.id === 'diagram-interactive')[0]!);
    for (const step of ['message 1:', 'message 2:', 'message 3:', 'MixKey(SS)', 'ML-KEM-768.Encaps']) expect(interactive).toContain(step);
    const envelope = textOf(all(page, (e) => e.attrs.id === 'diagram-envelope')[0]!);
    for (const step of ['carbon', 'key A2', 'key B1', 'key B2', 'one <payload/>']) expect(envelope).toContain(step);
  });

  it('makes every requirement id an anchor with links to the code and the tests that cite it', () => {
    expect(reqs.length).toBeGreaterThan(50);
    const rows = new Map(all(page, (e) => e.name === 'div' && e.attrs.class === 'trace').flatMap((t) => t.getChildren('div')).map((row) => [textOf(row.getChild('span')!), row]));
    for (const { id } of reqs) {
      const anchor = rendered.requirementAnchors.get(id);
      expect(anchor, id).toBeDefined();
      // A requirement whose id is also a section's anchor gets `req-<id>`; all others keep their id.
      expect(anchor, id).toBe(xmlAnchors.includes(id) ? `req-${id}` : id);
      expect(all(page, (e) => e.name === 'a' && e.attrs.id === anchor && e.attrs.class === 'req'), id).toHaveLength(1);
      const links = (rows.get(id)?.getChildren('a') ?? []).map((a) => String(a.attrs.href));
      expect(links.some((h) => h.includes('/src/')), `${id}: a link to the code`).toBe(true);
      expect(links.some((h) => h.includes('/test/') || h.includes('/model/')), `${id}: a link to a test`).toBe(true);
    }
  });

  it('shows examples as escaped, preformatted text with captions', () => {
    const source = loadSpec(SPEC).root;
    const examples = all(source as unknown as LtxElement, (e) => e.name === 'example');
    const figures = all(page, (e) => e.name === 'figure' && e.attrs.class === 'example');
    expect(figures).toHaveLength(examples.length);
    figures.forEach((figure, i) => {
      expect(textOf(figure.getChild('figcaption')!)).toContain(String(examples[i]!.attrs.caption));
      expect(textOf(figure.getChild('pre')!).trim()).toBe(textOf(examples[i]!).trim());
    });
    // No element of an example leaked into the page.
    expect(all(page, (e) => ['message', 'iq', 'sealed', 'interactive', 'query'].includes(e.name))).toEqual([]);
    expect(html).toContain("&lt;interactive xmlns='urn:xmpp:seal:0'");
  });

  it.skipIf(skipEntities !== undefined)('resolves the XSF entities from the shared data folder, with their footnotes', () => {
    expect(html).toContain('OMEMO Encryption (XEP-0384)');
    expect(html).not.toContain('missing-entity"');
    expect(all(page, (e) => e.name === 'li' && /^nt-\d+$/.test(String(e.attrs.id))).length).toBeGreaterThan(30);
  });

  it('shows entities by name, with a visible warning, when the entity file is absent', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'seal-no-shared-'));
    const without = writeSpecHtml({ root: ROOT, sharedData: empty, outDir: path.join(empty, 'out') });
    expect(without.warnings.some((w) => w.includes('entity file is absent'))).toBe(true);
    expect(without.html).toContain('<span class="missing-entity" title="entity not resolved">&amp;xep0384;</span>');
    expect(without.html).toContain('class="warnings"');
  });

  it('expands entities recursively, outside CDATA only', () => {
    const table = parseEntityDeclarations(`<!-- c --><!ENTITY a "<b>&c;</b>"><!ENTITY c 'C'><!ENTITY % p SYSTEM 'x'>`);
    expect([...table]).toEqual([['a', '<b>&c;</b>'], ['c', 'C']]);
    const prepared = prepareXml(`<?xml version='1.0'?><!DOCTYPE x [<!ENTITY d 'D'>]><x>&a;&d;&amp;&zz;<![CDATA[&a; <y>]]>tail</x>`, table);
    expect(prepared.xml).toBe(`<x><b>C</b>D&amp;<seal-missing-entity name='zz'/>&amp;a; &lt;y&gt;tail</x>`);
    expect(prepared.missing).toEqual(['zz']);
  });
});

describe('the typedoc plugin (docs/spec-links.mjs)', () => {
  const anchors = specAnchors(readFileSync(SPEC, 'utf8'));

  it('turns `spec §anchor` into a link to the rendered spec, leaving code and existing links alone', () => {
    const href = '../../../spec/html/index.html';
    expect(rewriteSpecLinks('Opens a message. @see spec §envelope.open', href, anchors)).toBe(`Opens a message. @see [spec §envelope.open](${href}#envelope.open)`);
    expect(rewriteSpecLinks('spec §suite, and spec §handshake.async.', href, anchors)).toBe(`[spec §suite](${href}#suite), and [spec §handshake.async](${href}#handshake.async).`);
    expect(rewriteSpecLinks('`spec §suite` and ```\nspec §suite\n```', href, anchors)).toBe('`spec §suite` and ```\nspec §suite\n```');
    expect(rewriteSpecLinks(`[spec §suite](${href}#suite)`, href, anchors)).toBe(`[spec §suite](${href}#suite)`);
    const unknown: string[] = [];
    expect(rewriteSpecLinks('spec §no-such-section', href, anchors, (a) => unknown.push(a))).toBe('spec §no-such-section');
    expect(unknown).toEqual(['no-such-section']);
  });

  it('computes the link relative to each typedoc page', () => {
    const out = path.join(ROOT, 'docs', 'api');
    expect(specHref(out, 'functions/index.initiateAsync.html')).toBe('../../../spec/html/index.html');
    expect(specHref(out, 'index.html')).toBe('../../spec/html/index.html');
    expect(path.resolve(out, 'functions', specHref(out, 'functions/index.x.html'))).toBe(path.join(ROOT, 'spec', 'html', 'index.html'));
  });

  it('finds every `spec §anchor` of the API comments among the spec anchors (so npm run docs has no warning)', () => {
    const cited = apiFunctions(ROOT).flatMap((f) => f.anchors.map((a) => `${f.name}: §${a}`));
    expect(cited.length).toBeGreaterThan(100);
    expect(cited.filter((c) => !anchors.has(c.split('§')[1]!))).toEqual([]);
    expect(citedAnchors('/** x. @see spec §identity.bundle and spec §offline */')).toEqual(['identity.bundle', 'offline']);
  });
});
