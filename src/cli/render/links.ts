/**
 * Links between the two documents of the spec: the XEP (`spec/seal.xml`, rendered to
 * `index.html`) and its informative companion (`spec/seal-impl.xml`, rendered to
 * `seal-impl.html`). A `<link url='…'/>` names an anchor of its own document (`#anchor`) or of
 * either document by page (`seal.html#anchor` or `index.html#anchor` for the XEP,
 * `seal-impl.html#anchor` for the companion; the `.xml` names are accepted too). The renderer
 * and `seal spec check` resolve links with the same function, so a link to an anchor that exists
 * in neither document is reported by both.
 *
 * @see spec §conventions
 * @module
 */

/** The two documents. */
export type SpecDocumentKind = 'xep' | 'companion';

/** The file name of each document's page in the output folder. */
export const SPEC_PAGES: Readonly<Record<SpecDocumentKind, string>> = { xep: 'index.html', companion: 'seal-impl.html' };

/** The companion's file name beside `spec/seal.xml`. */
export const COMPANION_FILE = 'seal-impl.xml';

const NAMES: Readonly<Record<string, SpecDocumentKind>> = {
  'seal.html': 'xep',
  'index.html': 'xep',
  'seal.xml': 'xep',
  'seal-impl.html': 'companion',
  'seal-impl.xml': 'companion',
};

/** Where a link into the spec points: the document and the anchor (empty for the top of the page). */
export interface SpecLinkTarget {
  readonly doc: SpecDocumentKind;
  readonly anchor: string;
}

/**
 * The document and anchor a link's `url` names, seen from document `from`; `undefined` for a link
 * that leaves the spec (another site, a repository file).
 */
export function resolveSpecLink(url: string, from: SpecDocumentKind): SpecLinkTarget | undefined {
  if (url.startsWith('#')) return { doc: from, anchor: decodeURIComponent(url.slice(1)) };
  const match = /^(?:\.\/)?([a-z-]+\.(?:html|xml))(?:#(.*))?$/.exec(url);
  const doc = match === null ? undefined : NAMES[match[1]!];
  return doc === undefined ? undefined : { doc, anchor: decodeURIComponent(match![2] ?? '') };
}

/** The anchors a document offers to links: its section anchors and its requirement ids. */
export interface LinkAnchors {
  readonly sectionAnchors: readonly string[];
  /** Requirement id to the HTML id of its anchor. */
  readonly requirementAnchors: ReadonlyMap<string, string>;
}

/**
 * The HTML id a link target resolves to in its document (a section anchor is its own id, a
 * requirement id the id of its anchor, an empty anchor the top of the page), or `undefined` when
 * the document has no such anchor.
 */
export function targetId(target: SpecLinkTarget, anchors: LinkAnchors): string | undefined {
  if (target.anchor === '') return '';
  if (anchors.sectionAnchors.includes(target.anchor)) return target.anchor;
  return anchors.requirementAnchors.get(target.anchor);
}
