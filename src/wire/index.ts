/**
 * The wire layer: every XML element Seal sends or receives is defined here, once.
 *
 * @see spec §encoding.xml
 * @module
 */
export * from './xml.js';
export * from './element.js';
export * from './marker.js';

import type { WireElement } from './element.js';
import { EncryptionMarker, StoreHint } from './marker.js';

/** Every wire element Seal defines, for tools that map any element to its definition. */
export const WIRE_ELEMENTS: readonly WireElement<unknown>[] = [EncryptionMarker, StoreHint] as readonly WireElement<unknown>[];
