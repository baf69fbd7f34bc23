/**
 * The pattern every Seal wire element follows: one zod schema for the value, one mapping to an
 * ltx element and one back, and a typed {@link SealError} (never a raw exception) for any input
 * that does not fit. This is the single place where wire elements are defined.
 *
 * @see spec §encoding.xml
 * @module
 */
import type { ZodMiniType } from 'zod/mini';
import { SealError, isSealError } from '../errors.js';
import { type Element, expectElement } from './xml.js';

/** A wire element: its qualified name, its schema, and its two mappings. */
export interface WireElement<T> {
  /** Local name. */
  readonly name: string;
  /** Namespace URI. */
  readonly ns: string;
  /** The schema of the value the element carries. */
  readonly schema: ZodMiniType<T>;
  /**
   * Builds the element from a value.
   * @throws SealError `schema-violation` when the value does not match the schema.
   */
  toXml(value: T): Element;
  /**
   * Reads and validates the element.
   * @throws SealError `unexpected-element`, `schema-violation`, `invalid-base64`, `too-large`.
   */
  fromXml(element: Element): T;
}

/** What an element definition supplies: its mappings without the validation around them. */
export interface ElementDefinition<T> {
  readonly name: string;
  readonly ns: string;
  readonly schema: ZodMiniType<T>;
  /** Builds the element from a value already validated by the schema. */
  write(value: T): Element;
  /** Reads the element's fields (its name and namespace already checked); the result is validated by the schema. */
  read(element: Element): unknown;
}

function check<T>(schema: ZodMiniType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.join('.') : '(value)';
  throw new SealError('schema-violation', `${where}: ${path}: ${issue?.message ?? 'invalid'}`);
}

/**
 * Defines a wire element from its schema and mappings.
 *
 * Implements requirement `encoding.xml-validate`.
 *
 * @see spec §encoding.xml
 * @example
 * ```ts
 * const Marker = defineElement({ name: 'marker', ns: SEAL_NS, schema: z.object({}),
 *   write: () => new Element('marker', { xmlns: SEAL_NS }), read: () => ({}) });
 * ```
 */
export function defineElement<T>(definition: ElementDefinition<T>): WireElement<T> {
  const where = `<${definition.name} xmlns='${definition.ns}'>`;
  return {
    name: definition.name,
    ns: definition.ns,
    schema: definition.schema,
    toXml(value) {
      return definition.write(check(definition.schema, value, where));
    },
    fromXml(element) {
      expectElement(element, definition.name, definition.ns);
      let raw: unknown;
      try {
        raw = definition.read(element);
      } catch (e) {
        if (isSealError(e)) throw e;
        throw new SealError('schema-violation', `${where}: could not be read`);
      }
      // @req encoding.xml-validate
      return check(definition.schema, raw, where);
    },
  };
}
