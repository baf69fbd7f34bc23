/**
 * The annotated XEP: `spec/seal.xml` rendered to one self-contained HTML page. Beside the text of
 * the XSF format (header, revision history, numbered sections with self-links, lists, glossary,
 * tables, escaped examples, footnotes, the XSF entities) it shows what makes Seal an executable
 * specification: every requirement id is an anchor with links to the code and tests that cite
 * it, each protocol section has a box linking its source folder, vectors, tests and API pages,
 * and the handshakes and the envelope have sequence diagrams drawn at build time. Links to the
 * repository are relative to the output folder, so the page works from a checkout, offline.
 * The informative companion (`spec/seal-impl.xml`, root `<companion title='…' for='seal.xml'>`,
 * same markup and entities) is rendered beside it to `seal-impl.html`; each page links to the
 * other, and links between them (./links.ts) are checked against the other page's anchors.
 *
 * @see spec §conventions
 * @see spec §impl
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Element as LtxElement, parse as ltxParse } from 'ltx';
import { DIAGRAMS, type SequenceDiagram, renderDiagram } from './diagrams.js';
import { loadEntityFile, prepareXml } from './entities.js';
import { type LinkAnchors, type SpecDocumentKind, COMPANION_FILE, SPEC_PAGES, resolveSpecLink, targetId } from './links.js';
import { SPEC_CSS } from './style.js';
import { type Citation, type Citations, type SectionLinks, scanCitations, sectionLinks } from './trace.js';

/** Where to read the spec and its data, and the folder the page is written to (links are relative to it). */
export interface RenderOptions {
  /** The repository root. */
  readonly root: string;
  /** The shared data folder (`SEAL_SHARED_DATA`); its `xsf/xep.ent` resolves the XSF entities. */
  readonly sharedData: string;
  /** The output folder; default `spec/html` under the root. */
  readonly outDir?: string;
  /** The XEP source; default `spec/seal.xml` under the root. */
  readonly specFile?: string;
  /**
   * The companion document (informative implementation notes); default `seal-impl.xml` beside
   * the XEP when that file exists; `false` renders the XEP alone.
   */
  readonly companionFile?: string | false;
}

/** The rendered page and what it contains. */
export interface RenderedSpec {
  readonly html: string;
  /** Problems that did not stop rendering (missing entity file, unknown entities, dangling links). */
  readonly warnings: readonly string[];
  /** The anchor of every section, in document order. */
  readonly sectionAnchors: readonly string[];
  /** Requirement id to the HTML id of its anchor (the id itself, or `req-<id>` where a section has that anchor). */
  readonly requirementAnchors: ReadonlyMap<string, string>;
  /** The diagrams drawn, by id. */
  readonly diagrams: readonly string[];
}

/** The rendered XEP and, when there is one, its companion document. */
export interface RenderedSpecs extends RenderedSpec {
  /** The companion's page (`seal-impl.html`), with its own warnings. */
  readonly companion?: RenderedSpec;
}

type Node = LtxElement | string;

const SECTIONS = ['section1', 'section2', 'section3', 'section4'];
const REQ_ID = /^\[([a-z0-9]+(?:\.[a-z0-9-]+)+)\]$/;
const SECTION_REF = /§([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*)/g;

/** Escapes text for HTML (and XML) character data and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const children = (e: LtxElement): Node[] => e.children as Node[];
const elements = (e: LtxElement): LtxElement[] => children(e).filter((c): c is LtxElement => c instanceof LtxElement);
const textOf = (e: Node): string => (typeof e === 'string' ? e : children(e).map(textOf).join(''));

function walk(e: LtxElement, visit: (e: LtxElement) => void): void {
  visit(e);
  for (const c of elements(e)) walk(c, visit);
}

/** The section anchors and the requirement anchors of a document (XEP or companion). */
export function documentAnchors(doc: LtxElement): LinkAnchors {
  const sectionAnchors: string[] = [];
  walk(doc, (e) => {
    if (SECTIONS.includes(e.name) && typeof e.attrs.anchor === 'string') sectionAnchors.push(e.attrs.anchor);
  });
  const anchors = new Set(sectionAnchors);
  const requirementAnchors = new Map<string, string>();
  walk(doc, (e) => {
    const id = e.name === 'span' && e.attrs.class === 'req' ? REQ_ID.exec(textOf(e).trim())?.[1] : undefined;
    if (id !== undefined) requirementAnchors.set(id, anchors.has(id) ? `req-${id}` : id);
  });
  return { sectionAnchors, requirementAnchors };
}

/** The other document of the spec, as a page links from this one see it. */
interface OtherDocument {
  readonly kind: SpecDocumentKind;
  readonly anchors: LinkAnchors;
  /** Its title, for the links between the pages. */
  readonly title: string;
}

/** Renders one XEP (or its companion); holds the counters and the footnotes while it walks the tree. */
class SpecRenderer {
  private readonly notes: string[] = [];
  private examples = 0;
  private tables = 0;
  private inLink = 0;
  readonly warnings: string[] = [];
  readonly sectionAnchors: string[] = [];
  readonly requirementAnchors = new Map<string, string>();
  private readonly unknownElements = new Set<string>();
  private readonly protocolSections: ReadonlySet<string>;
  private readonly links: ReadonlyMap<string, SectionLinks>;
  private readonly diagrams: ReadonlyMap<string, SequenceDiagram>;
  private readonly drawn: string[] = [];

  constructor(
    private readonly xep: LtxElement,
    private readonly root: string,
    private readonly outDir: string,
    private readonly citations: Citations,
    private readonly kind: SpecDocumentKind = 'xep',
    private readonly other?: OtherDocument,
  ) {
    const own = documentAnchors(xep);
    this.sectionAnchors.push(...own.sectionAnchors);
    for (const [id, anchor] of own.requirementAnchors) this.requirementAnchors.set(id, anchor);
    const anchors = new Set(this.sectionAnchors);
    const ids = [...this.requirementAnchors.keys()];
    this.protocolSections = new Set(xep.getChildren('section1').map((s) => String(s.attrs.anchor)).filter((a) => ids.some((id) => id.startsWith(`${a}.`))));
    this.links = sectionLinks(root, [...this.protocolSections], ids, citations);
    // The diagrams belong to the XEP's sections; the companion has none.
    const diagrams = kind === 'xep' ? DIAGRAMS : [];
    this.diagrams = new Map(diagrams.map((d) => [d.anchor, d]));
    for (const d of diagrams) if (!anchors.has(d.anchor)) this.warnings.push(`diagram ${d.id}: the spec has no section '${d.anchor}'`);
  }

  /** A link from the page to a repository path (relative to the output folder). */
  private href(repoPath: string): string {
    const rel = path.relative(this.outDir, path.join(this.root, repoPath)).split(path.sep).join('/');
    return repoPath.endsWith('/') ? `${rel}/` : rel;
  }

  private fileLink(repoPath: string, label = repoPath): string {
    return `<a href="${escapeHtml(this.href(repoPath))}"><code>${escapeHtml(label)}</code></a>`;
  }

  /** The name of a document in warnings. */
  private static docName(kind: SpecDocumentKind): string {
    return kind === 'xep' ? 'the XEP' : 'the companion document';
  }

  /**
   * Text with `§anchor` references to known sections turned into links: to this page, or to the
   * other document's page when only it has the section.
   */
  private text(text: string): string {
    const escaped = escapeHtml(text);
    if (this.inLink > 0) return escaped;
    return escaped.replace(SECTION_REF, (whole, anchor: string) => {
      if (this.sectionAnchors.includes(anchor)) return `<a href="#${escapeHtml(anchor)}">${whole}</a>`;
      if (this.other?.anchors.sectionAnchors.includes(anchor)) return `<a href="${SPEC_PAGES[this.other.kind]}#${escapeHtml(anchor)}">${whole}</a>`;
      return whole;
    });
  }

  private inline(nodes: readonly Node[]): string {
    return nodes.map((n) => (typeof n === 'string' ? this.text(n) : this.element(n))).join('');
  }

  /** The citations of the requirement ids inside `e`, as a trace block (empty without ids). */
  private trace(e: LtxElement): string {
    const ids: string[] = [];
    walk(e, (c) => {
      const id = c.name === 'span' && c.attrs.class === 'req' ? REQ_ID.exec(textOf(c).trim())?.[1] : undefined;
      if (id !== undefined) ids.push(id);
    });
    if (ids.length === 0) return '';
    const list = (cites: readonly Citation[] | undefined) => {
      if (cites === undefined || cites.length === 0) return '<em>none</em>';
      const byFile = new Map<string, number[]>();
      for (const c of cites) byFile.set(c.file, [...(byFile.get(c.file) ?? []), c.line]);
      return [...byFile].map(([file, lines]) => `<a href="${escapeHtml(this.href(file))}">${escapeHtml(file)}</a> (l. ${lines.join(', ')})`).join(', ');
    };
    const rows = ids.map((id) => `<div><span class="label">${escapeHtml(id)}</span> code: ${list(this.citations.code.get(id))}; tests: ${list(this.citations.tests.get(id))}</div>`);
    return `<div class="trace">${rows.join('')}</div>`;
  }

  private figure(kind: 'example' | 'code', e: LtxElement): string {
    const body = textOf(e).replace(/^[ \t]*\n/, '').replace(/\s+$/, '');
    const caption = typeof e.attrs.caption === 'string' ? e.attrs.caption : undefined;
    const label = kind === 'example' ? `<strong>Example ${++this.examples}.</strong> ` : '';
    const figcaption = caption === undefined && label === '' ? '' : `<figcaption>${label}${escapeHtml(caption ?? '')}</figcaption>`;
    return `<figure class="${kind}">${figcaption}<pre><code>${escapeHtml(body)}</code></pre></figure>`;
  }

  private table(e: LtxElement): string {
    const caption = typeof e.attrs.caption === 'string' ? `<caption>Table ${++this.tables}: ${escapeHtml(e.attrs.caption)}</caption>` : '';
    const rows = elements(e).filter((r) => r.name === 'tr').map((tr) => `<tr>${elements(tr).map((cell) => {
      const tag = cell.name === 'th' ? 'th' : 'td';
      const span = ['colspan', 'rowspan'].filter((a) => cell.attrs[a] !== undefined).map((a) => ` ${a}="${escapeHtml(String(cell.attrs[a]))}"`).join('');
      return `<${tag}${span}>${this.inline(children(cell))}${this.trace(cell)}</${tag}>`;
    }).join('')}</tr>`);
    return `<table>${caption}${rows.join('')}</table>`;
  }

  /**
   * `<link url='…'/>`. A link into the spec (`#anchor`, `seal.html#anchor`, `seal-impl.html#anchor`,
   * see ./links.ts) must name a section or a requirement of that document, or it is reported; a
   * link whose text is a requirement id goes to the requirement, not only to its section.
   */
  private link(e: LtxElement): string {
    const url = String(e.attrs.url ?? '');
    const label = textOf(e).trim();
    let target = url;
    const resolved = resolveSpecLink(url, this.kind);
    if (resolved !== undefined) {
      const own = resolved.doc === this.kind;
      const anchors: LinkAnchors | undefined = own ? this : this.other?.kind === resolved.doc ? this.other.anchors : undefined;
      const page = own ? '' : SPEC_PAGES[resolved.doc];
      if (anchors === undefined) {
        this.warnings.push(`link to ${url}: ${SpecRenderer.docName(resolved.doc)} is not rendered with this page`);
      } else {
        const id = targetId(resolved, anchors);
        const requirement = anchors.requirementAnchors.get(label);
        if (id === undefined) this.warnings.push(`link to ${url}: no section or requirement of ${SpecRenderer.docName(resolved.doc)} has the anchor '${resolved.anchor}'`);
        else if (requirement !== undefined && id !== '') target = `${page}#${requirement}`;
        else target = id === '' ? page || '#' : `${page}#${id}`;
      }
    }
    this.inLink++;
    const inner = this.inline(children(e));
    this.inLink--;
    return `<a href="${escapeHtml(target)}">${inner}</a>`;
  }

  /** `<tt>`: code; a requirement id links to its anchor, an existing repository path to the file. */
  private tt(e: LtxElement): string {
    const text = textOf(e);
    const code = `<code>${escapeHtml(text)}</code>`;
    if (this.inLink > 0) return code;
    const req = this.requirementAnchors.get(text.trim());
    if (req !== undefined) return `<a href="#${escapeHtml(req)}">${code}</a>`;
    const elsewhere = this.other?.anchors.requirementAnchors.get(text.trim());
    if (elsewhere !== undefined) return `<a href="${SPEC_PAGES[this.other!.kind]}#${escapeHtml(elsewhere)}">${code}</a>`;
    if (/^(src|test|vectors|model|docs|bench)\/[\w./-]*$/.test(text) && existsSync(path.join(this.root, text))) return `<a href="${escapeHtml(this.href(text))}">${code}</a>`;
    return code;
  }

  private note(e: LtxElement): string {
    this.notes.push(this.inline(children(e)));
    const n = this.notes.length;
    return `<sup class="fn"><a id="nt-${n}-ref" href="#nt-${n}">${n}</a></sup>`;
  }

  private requirement(e: LtxElement): string {
    const id = REQ_ID.exec(textOf(e).trim())?.[1];
    if (id === undefined) {
      this.warnings.push(`requirement id '${textOf(e)}' is not of the form [section.name]`);
      return `<span class="req">${escapeHtml(textOf(e))}</span>`;
    }
    const anchor = this.requirementAnchors.get(id)!;
    return `<a class="req" id="${escapeHtml(anchor)}" href="#${escapeHtml(anchor)}" title="requirement ${escapeHtml(id)}">[${escapeHtml(id)}]</a>`;
  }

  /** One element of section content. */
  element(e: LtxElement): string {
    const inner = () => this.inline(children(e));
    switch (e.name) {
      case 'p': {
        const cls = typeof e.attrs.class === 'string' ? ` class="${escapeHtml(e.attrs.class)}"` : '';
        return `<p${cls}>${inner()}</p>${this.trace(e)}`;
      }
      case 'ul':
      case 'ol':
        return `<${e.name}>${this.inline(elements(e))}</${e.name}>`;
      case 'li':
        return `<li>${inner()}${this.trace(e)}</li>`;
      case 'dl':
        return `<dl class="glossary">${this.inline(elements(e))}</dl>`;
      case 'di':
        return `<div>${this.inline(elements(e))}</div>`;
      case 'dt':
      case 'dd':
        return `<${e.name}>${inner()}</${e.name}>`;
      case 'table':
        return this.table(e);
      case 'code':
        return this.figure('code', e);
      case 'example':
        return this.figure('example', e);
      case 'note':
        return this.note(e);
      case 'link':
        return this.link(e);
      case 'tt':
        return this.tt(e);
      case 'strong':
      case 'em':
      case 'cite':
        return `<${e.name}>${inner()}</${e.name}>`;
      case 'br':
        return '<br/>';
      case 'span':
        if (e.attrs.class === 'req') return this.requirement(e);
        if (e.attrs.class === 'super') return `<sup>${inner()}</sup>`;
        if (e.attrs.class === 'sub') return `<sub>${inner()}</sub>`;
        return `<span class="${escapeHtml(String(e.attrs.class ?? ''))}">${inner()}</span>`;
      case 'seal-missing-entity':
        return `<span class="missing-entity" title="entity not resolved">&amp;${escapeHtml(String(e.attrs.name))};</span>`;
      default:
        this.unknownElements.add(e.name);
        return `<span class="xep-${escapeHtml(e.name)}">${inner()}</span>`;
    }
  }

  private sectionBox(anchor: string): string {
    const links = this.links.get(anchor);
    if (links === undefined) return '';
    const none = '<em>none yet</em>';
    const join = (items: readonly string[]) => (items.length === 0 ? none : items.join(', '));
    const groups = new Map<string, string[]>();
    for (const fn of links.api) {
      for (const a of fn.anchors.filter((a) => a === anchor || a.startsWith(`${anchor}.`))) {
        groups.set(a, [...(groups.get(a) ?? []), `<a href="${escapeHtml(this.href(`docs/api/${fn.page}`))}"><code>${escapeHtml(fn.name)}</code></a>`]);
      }
    }
    const order = this.sectionAnchors.filter((a) => groups.has(a));
    const api = order.map((a) => `<div><a class="group" href="#${escapeHtml(a)}">§${escapeHtml(a)}</a>: ${groups.get(a)!.join(', ')}</div>`).join('');
    const ids = [...this.requirementAnchors.keys()].filter((id) => id.startsWith(`${anchor}.`));
    const coverage = `${ids.length} requirement ids; cited by code: ${ids.filter((id) => this.citations.code.has(id)).length}, by tests: ${ids.filter((id) => this.citations.tests.has(id)).length}`;
    return [
      `<aside class="section-links" aria-label="Where §${escapeHtml(anchor)} lives in the repository"><dl>`,
      `<dt>Implemented in</dt><dd>${join(links.modules.map((m) => this.fileLink(m.path)))}</dd>`,
      `<dt>Vectors</dt><dd>${join(links.vectors.map((v) => this.fileLink(v)))}</dd>`,
      `<dt>Tests</dt><dd>${join(links.tests.map((t) => this.fileLink(t)))}</dd>`,
      `<dt>API</dt><dd>${api === '' ? none : api}</dd>`,
      `<dt>Requirements</dt><dd>${coverage}</dd>`,
      '</dl></aside>',
    ].join('');
  }

  private diagram(d: SequenceDiagram): string {
    this.drawn.push(d.id);
    return `<figure class="diagram" id="${escapeHtml(d.id)}"><figcaption><strong>Figure.</strong> ${escapeHtml(d.caption)}</figcaption>${renderDiagram(d)}</figure>`;
  }

  private section(e: LtxElement, numbers: readonly number[]): string {
    const anchor = String(e.attrs.anchor ?? '');
    const level = Math.min(numbers.length + 1, 6);
    const number = numbers.join('.') + (numbers.length === 1 ? '.' : '');
    const heading = `<h${level}><span class="secno">${number}</span>${escapeHtml(String(e.attrs.topic ?? ''))}<a class="self" href="#${escapeHtml(anchor)}" aria-label="Link to this section">¶</a></h${level}>`;
    const parts = [heading, numbers.length === 1 && this.protocolSections.has(anchor) ? this.sectionBox(anchor) : ''];
    const diagram = this.diagrams.get(anchor);
    let placed = diagram === undefined;
    let sub = 0;
    for (const child of children(e)) {
      if (typeof child === 'string') {
        if (child.trim() !== '') parts.push(`<p>${this.text(child)}</p>`);
        continue;
      }
      if (SECTIONS.includes(child.name)) {
        if (!placed) parts.push(this.diagram(diagram!));
        placed = true;
        parts.push(this.section(child, [...numbers, ++sub]));
        continue;
      }
      parts.push(this.element(child));
      // The diagram follows the paragraph that introduces the section.
      if (!placed && child.name === 'p') {
        parts.push(this.diagram(diagram!));
        placed = true;
      }
    }
    if (!placed) parts.push(this.diagram(diagram!));
    return `<section id="${escapeHtml(anchor)}" class="${e.name}">${parts.join('\n')}</section>`;
  }

  private toc(sections: readonly LtxElement[], numbers: readonly number[]): string {
    if (sections.length === 0) return '';
    const items = sections.map((s, i) => {
      const n = [...numbers, i + 1];
      const sub = this.toc(elements(s).filter((c) => SECTIONS.includes(c.name)), n);
      return `<li><a href="#${escapeHtml(String(s.attrs.anchor))}"><span class="secno">${n.join('.')}${n.length === 1 ? '.' : ''}</span>${escapeHtml(String(s.attrs.topic))}</a>${sub}</li>`;
    });
    return `<ol>${items.join('')}</ol>`;
  }

  private header(h: LtxElement | undefined): string {
    if (h === undefined) {
      this.warnings.push('the spec has no <header/>');
      return '';
    }
    const child = (name: string) => h.getChildText(name) ?? '';
    const revisions = h.getChildren('revision');
    const latest = revisions[0];
    const row = (label: string, value: string) => (value === '' ? '' : `<tr><th scope="row">${label}</th><td>${value}</td></tr>`);
    const authors = h.getChildren('author').map((a) => {
      const name = `${a.getChildText('firstname') ?? ''} ${a.getChildText('surname') ?? ''}`.trim();
      const email = a.getChildText('email');
      const jid = a.getChildText('jid');
      return `${escapeHtml(name)}${email ? ` (email: <a href="mailto:${escapeHtml(email)}">${escapeHtml(email)}</a>` : ''}${jid ? `${email ? ', ' : ' ('}JabberID: <a href="xmpp:${escapeHtml(jid)}">${escapeHtml(jid)}</a>)` : email ? ')' : ''}`;
    });
    const deps = h.getChild('dependencies')?.getChildren('spec').map((s) => escapeHtml(textOf(s))) ?? [];
    const tags = h.getChild('tags')?.getChildren('tag').map((t) => escapeHtml(textOf(t))) ?? [];
    const legal = h.getChild('legal');
    const legalHtml = legal === undefined
      ? this.inline(elements(h).filter((e) => e.name === 'seal-missing-entity'))
      : `<details class="legal"><summary>Legal notice</summary>${elements(legal).map((part) => `<p>${this.inline(children(part))}</p>`).join('')}</details>`;
    const remark = (r: LtxElement) => {
      const rem = r.getChild('remark');
      if (rem === undefined) return '';
      return elements(rem).some((c) => c.name === 'p' || c.name === 'ul') ? this.inline(children(rem).filter((c) => typeof c !== 'string' || c.trim() !== '')) : this.inline(children(rem));
    };
    const history = revisions.map((r) => `<tr><td>${escapeHtml(r.getChildText('version') ?? '')}</td><td>${escapeHtml(r.getChildText('date') ?? '')}</td><td>${escapeHtml(r.getChildText('initials') ?? '')}</td><td>${remark(r)}</td></tr>`);
    return [
      '<header class="xep" id="header">',
      '<p class="series">XMPP Extension Protocol</p>',
      `<h1>XEP-${escapeHtml(child('number'))}: ${escapeHtml(child('title'))}</h1>`,
      `<p class="abstract"><strong>Abstract:</strong> ${this.inline(children(h.getChild('abstract') ?? new LtxElement('abstract')))}</p>`,
      '<table class="meta">',
      row('Number', escapeHtml(child('number'))),
      row('Status', escapeHtml(child('status'))),
      row('Version', latest === undefined ? '' : `${escapeHtml(latest.getChildText('version') ?? '')} (${escapeHtml(latest.getChildText('date') ?? '')})`),
      row('Type', escapeHtml(child('type'))),
      row('SIG', escapeHtml(child('sig'))),
      row('Approver', escapeHtml(child('approver'))),
      row('Dependencies', deps.join(', ')),
      row('Supersedes', escapeHtml(child('supersedes')) || 'None'),
      row('Superseded by', escapeHtml(child('supersededby')) || 'None'),
      row('Short name', escapeHtml(child('shortname'))),
      row('Tags', tags.join(', ')),
      row('Authors', authors.join('<br/>')),
      this.other === undefined ? '' : row('Companion', `<a href="${SPEC_PAGES[this.other.kind]}">${escapeHtml(this.other.title)}</a> (informative)`),
      '</table>',
      legalHtml,
      '<section id="revision-history"><h2>Revision history<a class="self" href="#revision-history" aria-label="Link to this section">¶</a></h2>',
      `<table><tr><th>Version</th><th>Date</th><th>Initials</th><th>Remark</th></tr>${history.join('')}</table></section>`,
      '</header>',
    ].join('\n');
  }

  /** The companion's header: its title, what it is, and the link to the XEP. */
  private companionHeader(): string {
    const title = String(this.xep.attrs.title ?? 'Implementation notes');
    const xep = this.other?.kind === 'xep' ? `<a href="${SPEC_PAGES.xep}">${escapeHtml(this.other.title)}</a>` : escapeHtml(String(this.xep.attrs.for ?? 'the XEP'));
    if (this.other?.kind !== 'xep') this.warnings.push('the companion document is rendered without the XEP it accompanies');
    return [
      '<header class="xep companion" id="header">',
      `<p class="series">Companion document to ${xep}</p>`,
      `<h1>${escapeHtml(title)}</h1>`,
      `<p class="abstract">This document is informative: it describes this repository's implementation, its tests and measurements. Nothing in it is a requirement of the protocol; the normative text is ${xep}.</p>`,
      '</header>',
    ].join('\n');
  }

  /** The title of the page. */
  get title(): string {
    if (this.kind === 'companion') return String(this.xep.attrs.title ?? 'Implementation notes');
    const h = this.xep.getChild('header');
    return `XEP-${h?.getChildText('number') ?? 'xxxx'}: ${h?.getChildText('title') ?? 'Seal'}`;
  }

  /** The whole page. */
  render(specHref: string): string {
    const sections = this.xep.getChildren('section1');
    const header = this.kind === 'companion' ? this.companionHeader() : this.header(this.xep.getChild('header'));
    const body = sections.map((s, i) => this.section(s, [i + 1])).join('\n');
    const notes = this.notes.length === 0 ? '' : `<section id="footnotes"><h2>Notes<a class="self" href="#footnotes" aria-label="Link to this section">¶</a></h2><ol class="notes">${this.notes.map((n, i) => `<li id="nt-${i + 1}">${n} <a href="#nt-${i + 1}-ref" aria-label="Back to the text">↩</a></li>`).join('')}</ol></section>`;
    if (this.unknownElements.size > 0) this.warnings.push(`elements rendered as plain spans: ${[...this.unknownElements].sort().join(', ')}`);
    const title = this.title;
    const history = this.kind === 'xep' ? '<li><a href="#revision-history">Revision history</a></li>' : '';
    const otherPage = this.other === undefined ? '' : `<ol class="other-document"><li><a href="${SPEC_PAGES[this.other.kind]}">${this.other.kind === 'companion' ? 'Companion: ' : ''}${escapeHtml(this.other.title)}</a></li></ol>`;
    const toc = `<nav class="toc" aria-label="Contents"><p><strong>Contents</strong></p><ol><li><a href="#header">${escapeHtml(title)}</a></li>${history}</ol>${this.toc(sections, [])}${notes === '' ? '' : '<ol><li><a href="#footnotes">Notes</a></li></ol>'}${otherPage}</nav>`;
    const warnings = this.warnings.length === 0 ? '' : `<div class="warnings" role="alert"><strong>Rendering warnings:</strong><ul>${this.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul></div>`;
    return [
      '<!DOCTYPE html>',
      '<html lang="en">',
      '<head>',
      '<meta charset="utf-8"/>',
      '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
      `<title>${escapeHtml(title)}</title>`,
      `<style>${SPEC_CSS}</style>`,
      '</head>',
      '<body>',
      '<div class="layout">',
      toc,
      '<main>',
      warnings,
      header,
      body,
      notes,
      this.kind === 'xep'
        ? `<footer><p>Rendered from <a href="${escapeHtml(specHref)}"><code>spec/${escapeHtml(path.posix.basename(specHref))}</code></a> by <code>npm run spec</code>. Requirement ids link to the code (<code>src/</code>) and the tests (<code>test/</code>, <code>model/</code>) that cite them with <code>@req</code>.</p></footer>`
        : `<footer><p>Rendered from <a href="${escapeHtml(specHref)}"><code>spec/${escapeHtml(path.posix.basename(specHref))}</code></a> by <code>npm run spec</code>. Informative; the requirements are in the XEP.</p></footer>`,
      '</main>',
      '</div>',
      '</body>',
      '</html>',
      '',
    ].join('\n');
  }

  /** The ids of the diagrams drawn so far. */
  get diagramIds(): readonly string[] {
    return this.drawn;
  }
}

/** Reads a spec document (XEP or companion) as plain XML with its entities resolved. */
function readDocument(file: string, entities: ReadonlyMap<string, string> | undefined): { doc: LtxElement; missing: readonly string[] } {
  const prepared = prepareXml(readFileSync(file, 'utf8'), entities ?? new Map());
  return { doc: ltxParse(prepared.xml) as LtxElement, missing: prepared.missing };
}

/** The default companion file of `specFile`: `seal-impl.xml` beside it, when it exists. */
export function defaultCompanionFile(specFile: string): string | undefined {
  const file = path.join(path.dirname(specFile), COMPANION_FILE);
  return existsSync(file) ? file : undefined;
}

/**
 * Renders the XEP to HTML, and its companion document when there is one (each page links to the
 * other, and links between them are checked against the other's anchors). Never throws for
 * content problems: a missing entity file, unknown entities, dangling links (within a page or to
 * the other page) and unknown elements are reported in `warnings` (and shown at the top of the
 * page). Throws only when a document is not well-formed XML or cannot be read.
 */
export function renderSpecHtml(options: RenderOptions): RenderedSpecs {
  const root = path.resolve(options.root);
  const outDir = path.resolve(options.outDir ?? path.join(root, 'spec', 'html'));
  const specFile = path.resolve(options.specFile ?? path.join(root, 'spec', 'seal.xml'));
  const companionFile = options.companionFile === false ? undefined : options.companionFile === undefined ? defaultCompanionFile(specFile) : path.resolve(options.companionFile);
  const entityFile = path.join(options.sharedData, 'xsf', 'xep.ent');
  const entities = loadEntityFile(entityFile);
  const xep = readDocument(specFile, entities);
  const companion = companionFile === undefined ? undefined : readDocument(companionFile, entities);
  const citations = scanCitations(root);
  const xepTitle = `XEP-${xep.doc.getChild('header')?.getChildText('number') ?? 'xxxx'}: ${xep.doc.getChild('header')?.getChildText('title') ?? 'Seal'}`;
  const renderOne = (kind: SpecDocumentKind, file: string, self: { doc: LtxElement; missing: readonly string[] }, other?: OtherDocument): RenderedSpec => {
    const renderer = new SpecRenderer(self.doc, root, outDir, citations, kind, other);
    if (entities === undefined) renderer.warnings.push(`the XSF entity file is absent (${entityFile}; set SEAL_SHARED_DATA): entities are shown by name`);
    else if (self.missing.length > 0) renderer.warnings.push(`entities not in ${entityFile}: ${self.missing.map((m) => `&${m};`).join(' ')}`);
    if (kind === 'companion' && self.doc.name !== 'companion') renderer.warnings.push(`${path.basename(file)}: the root element is <${self.doc.name}>, not <companion>`);
    const html = renderer.render(path.relative(outDir, file).split(path.sep).join('/'));
    return { html, warnings: renderer.warnings, sectionAnchors: renderer.sectionAnchors, requirementAnchors: renderer.requirementAnchors, diagrams: renderer.diagramIds };
  };
  const main = renderOne('xep', specFile, xep, companion === undefined ? undefined : { kind: 'companion', anchors: documentAnchors(companion.doc), title: String(companion.doc.attrs.title ?? 'Implementation notes') });
  if (companion === undefined) return main;
  return { ...main, companion: renderOne('companion', companionFile!, companion, { kind: 'xep', anchors: documentAnchors(xep.doc), title: xepTitle }) };
}

/**
 * Renders the XEP and writes `index.html` into the output folder, and the companion's
 * `seal-impl.html` beside it when there is one. Returns the result and the files.
 */
export function writeSpecHtml(options: RenderOptions): RenderedSpecs & { file: string; companionFile?: string } {
  const outDir = path.resolve(options.outDir ?? path.join(options.root, 'spec', 'html'));
  const rendered = renderSpecHtml({ ...options, outDir });
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, SPEC_PAGES.xep);
  writeFileSync(file, rendered.html);
  if (rendered.companion === undefined) return { ...rendered, file };
  const companionFile = path.join(outDir, SPEC_PAGES.companion);
  writeFileSync(companionFile, rendered.companion.html);
  return { ...rendered, file, companionFile };
}
