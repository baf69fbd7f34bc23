/**
 * What the spec checks compare the XEP against: each section's named constants and labels as the
 * code defines them.
 *
 * @see spec §conventions
 * @module
 */
import { FILES_CONSTANTS, FILES_LABELS } from '../files/constants.js';
import { ENVELOPE_CONSTANTS, ENVELOPE_LABELS } from '../envelope/index.js';
import { HANDSHAKE_CONSTANTS, HANDSHAKE_LABELS } from '../handshake/index.js';
import { HASH_LABELS, IDENTITY_CONSTANTS, SIGNATURE_LABELS } from '../identity/index.js';
import { OFFLINE_CONSTANTS } from '../offline/index.js';
import { DEVICE_CONSTANTS } from '../device/constants.js';
import { GROUPS_CONSTANTS } from '../groups/constants.js';

/** Named constants per section (the `<section>.constants` tables). */
export const SECTION_CONSTANTS = { identity: IDENTITY_CONSTANTS, handshake: HANDSHAKE_CONSTANTS, envelope: ENVELOPE_CONSTANTS, offline: OFFLINE_CONSTANTS, device: DEVICE_CONSTANTS, groups: GROUPS_CONSTANTS, files: FILES_CONSTANTS } as const;

/** Labels per section (the `<section>.labels` tables). */
export const SECTION_LABELS = {
  identity: [...Object.values(SIGNATURE_LABELS), ...Object.values(HASH_LABELS)],
  handshake: Object.values(HANDSHAKE_LABELS),
  envelope: Object.values(ENVELOPE_LABELS),
  files: Object.values(FILES_LABELS),
} as const;
