/**
 * The stylesheet of the rendered XEP, inlined in the page so that it works offline and from a
 * file: a readable measure, a table of contents beside the text on wide screens, boxes for the
 * links from each section to its code, vectors, tests and API pages, and the sequence diagrams'
 * styles; light and dark colours follow the reader's system setting.
 *
 * @see spec §impl
 * @module
 */

/** The page's CSS. */
export const SPEC_CSS = `
:root {
  --fg: #1d2125; --muted: #5c6670; --bg: #fdfdfc; --panel: #f3f5f7; --border: #d5dbe1;
  --link: #0b5cad; --accent: #7a4b00; --code-bg: #f4f1ea; --req-bg: #fff3d6; --note: #fffbe8;
  --warn-bg: #fde8e8; --warn-fg: #8a1c1c;
}
@media (prefers-color-scheme: dark) {
  :root {
    --fg: #e4e6e8; --muted: #9aa4ad; --bg: #16191c; --panel: #1f2428; --border: #3a424a;
    --link: #7db7f0; --accent: #f0c070; --code-bg: #22262b; --req-bg: #3b3118; --note: #2b2a1f;
    --warn-bg: #4a1f1f; --warn-fg: #ffc9c9;
  }
}
* { box-sizing: border-box; }
html { scroll-padding-top: 1rem; }
body {
  margin: 0; color: var(--fg); background: var(--bg);
  font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
}
.layout { display: grid; grid-template-columns: minmax(0, 1fr); max-width: 80rem; margin: 0 auto; }
@media (min-width: 70rem) {
  .layout { grid-template-columns: 19rem minmax(0, 1fr); gap: 2rem; }
  nav.toc { position: sticky; top: 0; max-height: 100vh; overflow-y: auto; border-right: 1px solid var(--border); }
}
nav.toc { padding: 1rem 1rem 2rem; font-size: 0.88rem; line-height: 1.45; }
nav.toc ol { list-style: none; padding-left: 0.9rem; margin: 0.2rem 0; }
nav.toc > ol { padding-left: 0; }
nav.toc a { text-decoration: none; }
nav.toc .secno { color: var(--muted); display: inline-block; min-width: 2.4em; }
main { padding: 1rem 1.25rem 4rem; max-width: 62rem; min-width: 0; }
main p, main ul, main ol, main dl.glossary, .trace, header.xep .abstract { max-width: 46rem; }
h1 { font-size: 2rem; line-height: 1.2; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.5rem; margin-top: 2.5rem; border-bottom: 1px solid var(--border); padding-bottom: 0.2rem; }
h3 { font-size: 1.2rem; margin-top: 2rem; }
h4 { font-size: 1.05rem; }
h2, h3, h4 { line-height: 1.3; }
.secno { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: 0.35em; }
a { color: var(--link); }
a.self { color: var(--muted); text-decoration: none; margin-left: 0.3em; font-weight: normal; opacity: 0.5; }
h2:hover a.self, h3:hover a.self, h4:hover a.self, a.self:focus { opacity: 1; }
code, pre, tt { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.88em; }
:not(pre) > code { background: var(--code-bg); padding: 0.05em 0.3em; border-radius: 3px; }
figure { margin: 1.2rem 0; }
figure pre { margin: 0; padding: 0.8rem 1rem; background: var(--code-bg); border: 1px solid var(--border); border-radius: 4px; overflow-x: auto; line-height: 1.4; }
figure pre code { background: none; padding: 0; font-size: 0.82rem; }
figcaption { font-size: 0.9rem; color: var(--muted); margin-bottom: 0.3rem; }
figcaption strong { color: var(--fg); }
figure.diagram { overflow-x: auto; border: 1px solid var(--border); border-radius: 4px; padding: 0.6rem; background: var(--panel); }
figure.diagram figcaption { margin-bottom: 0.5rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.92rem; width: 100%; }
caption { caption-side: top; text-align: left; color: var(--muted); font-size: 0.9rem; padding-bottom: 0.3rem; }
th, td { border: 1px solid var(--border); padding: 0.35rem 0.55rem; vertical-align: top; text-align: left; }
th { background: var(--panel); }
dl.glossary dt { font-weight: 600; margin-top: 0.6rem; }
dl.glossary dd { margin-left: 1.5rem; }
a.req { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85em; background: var(--req-bg); color: var(--accent); padding: 0.05em 0.3em; border-radius: 3px; text-decoration: none; white-space: nowrap; }
a.req:target, .req-target { outline: 2px solid var(--accent); }
.trace { font-size: 0.8rem; color: var(--muted); margin: -0.5rem 0 1rem; padding: 0.2rem 0 0.2rem 0.7rem; border-left: 3px solid var(--req-bg); }
li .trace, td .trace { margin: 0.3rem 0 0; }
.trace .label { font-weight: 600; }
.trace a { color: var(--muted); }
.trace a:hover { color: var(--link); }
aside.section-links { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: 0.6rem 1rem; margin: 1rem 0 1.5rem; font-size: 0.88rem; }
aside.section-links dl { display: grid; grid-template-columns: 8.5rem minmax(0, 1fr); gap: 0.25rem 0.8rem; margin: 0; }
aside.section-links dt { font-weight: 600; }
aside.section-links dd { margin: 0; }
aside.section-links .group { color: var(--muted); }
.missing-entity { color: var(--warn-fg); background: var(--warn-bg); padding: 0 0.2em; border-radius: 3px; }
.warnings { background: var(--warn-bg); color: var(--warn-fg); padding: 0.6rem 1rem; border-radius: 6px; margin: 1rem 0; }
header.xep { border-bottom: 2px solid var(--border); padding-bottom: 1rem; }
header.xep .series { color: var(--muted); text-transform: uppercase; letter-spacing: 0.06em; font-size: 0.8rem; margin: 0; }
header.xep .abstract { font-size: 1.02rem; }
table.meta { width: auto; font-size: 0.88rem; }
table.meta th { white-space: nowrap; }
details.legal { font-size: 0.85rem; color: var(--muted); }
ol.notes { font-size: 0.88rem; }
ol.notes li:target { background: var(--note); }
sup.fn a { text-decoration: none; }
svg.sequence { max-width: 100%; height: auto; display: block; font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
svg.sequence text { fill: var(--fg); }
svg.sequence .sd-head { fill: var(--bg); stroke: var(--fg); stroke-width: 1.2; }
svg.sequence .sd-head-text { font-weight: 600; }
svg.sequence .sd-head-detail { fill: var(--muted); font-size: 11px; }
svg.sequence .sd-lifeline { stroke: var(--muted); stroke-dasharray: 4 4; }
svg.sequence .sd-arrow { stroke: var(--link); stroke-width: 1.6; }
svg.sequence .sd-reply { stroke-dasharray: 6 4; }
svg.sequence .sd-arrowhead { fill: var(--link); }
svg.sequence .sd-label { fill: var(--fg); paint-order: stroke; stroke: var(--panel); stroke-width: 5px; stroke-linejoin: round; white-space: pre; }
svg.sequence .sd-note { fill: var(--note); stroke: var(--accent); stroke-width: 0.8; }
svg.sequence .sd-note-text { white-space: pre; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11px; }
svg.sequence .sd-divider { stroke: var(--border); stroke-width: 2; }
svg.sequence .sd-divider-label { fill: var(--panel); stroke: var(--border); }
svg.sequence .sd-divider-text { fill: var(--muted); font-style: italic; }
`;
