/**
 * The wire layer: every XML element Seal sends or receives is defined here, once.
 *
 * @see spec §encoding.xml
 * @module
 */
export * from './xml.js';
export * from './element.js';
export * from './marker.js';
