/**
 * The XEP's entities, resolved for rendering: the XSF entity file (`xep.ent`, from the shared
 * data folder) and the spec's own DOCTYPE subset are read into one table, and the spec text is
 * turned into plain XML that ltx can parse: entity references replaced by their XML, CDATA
 * sections turned into escaped text, comments, processing instructions and the DOCTYPE dropped.
 * An entity that is not in the table becomes a `<seal-missing-entity name='…'/>` element, which
 * the renderer shows by name, and is reported.
 *
 * @see spec §conventions
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';

/** Entity name to replacement text (XML). */
export type EntityTable = ReadonlyMap<string, string>;

/** The five entities XML predefines; they are left for the XML parser. */
const PREDEFINED = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);

/** Nesting bound of entity expansion (the XSF file nests two deep). */
const MAX_DEPTH = 8;

/**
 * The general entities declared in DTD text (`<!ENTITY name "…">` or `'…'`); parameter entities
 * and external entities are skipped. The first declaration of a name wins, as in XML.
 */
export function parseEntityDeclarations(dtd: string): Map<string, string> {
  const table = new Map<string, string>();
  const text = dtd.replace(/<!--[\s\S]*?-->/g, '');
  for (const match of text.matchAll(/<!ENTITY\s+([A-Za-z_][\w.:-]*)\s+(?:"([^"]*)"|'([^']*)')\s*>/g)) {
    if (!table.has(match[1]!)) table.set(match[1]!, match[2] ?? match[3] ?? '');
  }
  return table;
}

/** Reads the XSF entity file, or returns `undefined` when it is absent. */
export function loadEntityFile(file: string): Map<string, string> | undefined {
  return existsSync(file) ? parseEntityDeclarations(readFileSync(file, 'utf8')) : undefined;
}

/** Escapes text for XML character data. */
function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The spec text as plain XML, and the names of entities that were not in the table. */
export interface PreparedXml {
  readonly xml: string;
  readonly missing: readonly string[];
}

/**
 * Turns the XEP source into plain XML: the DOCTYPE's own entity declarations are added in front
 * of `entities` (they take precedence), then the DOCTYPE, comments and processing instructions
 * are dropped, CDATA sections become escaped text (ltx would lose text after a CDATA section)
 * and entity references are expanded, recursively, outside CDATA.
 */
export function prepareXml(source: string, entities: EntityTable): PreparedXml {
  const doctype = /<!DOCTYPE[^[>]*(?:\[([\s\S]*?)\])?\s*>/.exec(source);
  const table = new Map([...parseEntityDeclarations(doctype?.[1] ?? ''), ...entities]);
  const body = doctype === null ? source : source.slice(0, doctype.index) + source.slice(doctype.index + doctype[0].length);
  const missing = new Set<string>();
  const expand = (text: string, depth: number): string =>
    text.replace(/<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|&([A-Za-z_][\w.:-]*);/g, (whole, cdata: string | undefined, name: string | undefined) => {
      if (cdata !== undefined) return escapeText(cdata);
      if (name === undefined) return '';
      if (PREDEFINED.has(name)) return whole;
      const value = table.get(name);
      if (value === undefined || depth >= MAX_DEPTH) {
        missing.add(name);
        return `<seal-missing-entity name='${name}'/>`;
      }
      return expand(value, depth + 1);
    });
  return { xml: expand(body, 0).trim(), missing: [...missing].sort() };
}
