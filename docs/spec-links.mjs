/**
 * A typedoc plugin: the API documentation links back to the annotated XEP. Every `spec §anchor`
 * in a doc comment (as in `@see spec §handshake.async`) becomes a markdown link to
 * `spec/html/index.html#anchor` (the page `npm run spec` renders), with a path relative to the
 * page typedoc is writing, so the link works from `docs/api/index.html` and from
 * `docs/api/functions/*.html` alike. A `§anchor` that names no section of `spec/seal.xml` is
 * reported as a typedoc warning, which fails `npm run docs` (warnings are errors there).
 *
 * The rewriting runs on the comment's markdown just before typedoc renders it (MarkdownEvent.PARSE),
 * not on the source files: the comments stay `@see spec §anchor` in the code.
 *
 * @see spec §impl
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MarkdownEvent } from 'typedoc';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SPEC_XML = path.join(ROOT, 'spec', 'seal.xml');
const SPEC_HTML = path.join(ROOT, 'spec', 'html', 'index.html');

/** `spec §anchor`, not already the label of a markdown link (`[spec §anchor](…)`). */
const SPEC_REF = /(?<!\[)\bspec §([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*)/g;

/** The section anchors of the XEP source (`anchor='…'` of every section). */
export function specAnchors(xml) {
  return new Set([...xml.matchAll(/<section[1-4]\b[^>]*\banchor='([^']+)'/g)].map((m) => m[1]));
}

/**
 * Rewrites every `spec §anchor` of a markdown string into `[spec §anchor](<href>#anchor)`, leaving
 * code spans and fenced code blocks alone. Anchors not in `anchors` (when given) are left as
 * text and passed to `onUnknown`.
 *
 * @param {string} markdown
 * @param {string} href the rendered spec, relative to the page, e.g. `../../../spec/html/index.html`
 * @param {ReadonlySet<string>} [anchors]
 * @param {(anchor: string) => void} [onUnknown]
 * @returns {string}
 */
export function rewriteSpecLinks(markdown, href, anchors, onUnknown) {
  return markdown
    .split(/(```[\s\S]*?```|`[^`\n]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(SPEC_REF, (whole, anchor) => {
      if (anchors !== undefined && !anchors.has(anchor)) {
        onUnknown?.(anchor);
        return whole;
      }
      return `[${whole}](${href}#${anchor})`;
    })))
    .join('');
}

/**
 * The link from a typedoc page to the rendered spec: `pageUrl` is the page's path below the
 * output folder `outDir` (`functions/index.x.html`).
 *
 * @param {string} outDir
 * @param {string} pageUrl
 * @returns {string}
 */
export function specHref(outDir, pageUrl, specHtml = SPEC_HTML) {
  return path.relative(path.dirname(path.join(outDir, pageUrl)), specHtml).split(path.sep).join('/');
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  const anchors = specAnchors(readFileSync(SPEC_XML, 'utf8'));
  const reported = new Set();
  app.renderer.on(
    MarkdownEvent.PARSE,
    (event) => {
      const href = specHref(app.options.getValue('out'), event.page.url);
      event.parsedText = rewriteSpecLinks(event.parsedText, href, anchors, (anchor) => {
        if (reported.has(anchor)) return;
        reported.add(anchor);
        app.logger.warn(`spec-links: "spec §${anchor}" names no section of spec/seal.xml (on ${event.page.url})`);
      });
    },
    // Before typedoc's own handler turns the markdown into HTML.
    100,
  );
}
