/**
 * The wire layer: every XML element Seal sends or receives is defined here, once.
 *
 * @see spec §encoding.xml
 * @module
 */
export * from './xml.js';
export * from './caps.js';
export * from './element.js';
export * from './marker.js';
export * from './fields.js';
export * from './bundle.js';
export * from './devices.js';
export * from './pep.js';
export * from './handshake.js';
export * from './sealed.js';
export * from './muc.js';
export * from './files.js';

import type { WireElement } from './element.js';
import { EncryptionMarker, StoreHint } from './marker.js';
import { BundleElement } from './bundle.js';
import { DeviceListElement } from './devices.js';
import { DtlsFingerprintsElement, InteractiveMessageElement } from './handshake.js';
import { SealedElement } from './sealed.js';
import { FileSharingElement } from './files.js';

/** Every wire element Seal defines, for tools that map any element to its definition. */
export const WIRE_ELEMENTS: readonly WireElement<unknown>[] = [EncryptionMarker, StoreHint, BundleElement, DeviceListElement, InteractiveMessageElement, DtlsFingerprintsElement, SealedElement, FileSharingElement] as readonly WireElement<unknown>[];
