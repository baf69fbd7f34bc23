/**
 * §encoding: the canonical binary encoding and strict base64 shared by every section.
 *
 * @see spec §encoding
 * @module
 */
export * from './binary.js';
export * from './base64.js';
export * from './bytes.js';
