/**
 * The repair signal: a small, unencrypted element by which a device that cannot open a message
 * tells the sending device, so that the sender re-establishes the session instead of the
 * conversation failing silently.
 *
 * @see spec §offline.repair
 * @module
 */
import * as z from 'zod/mini';
import { SEAL_NS } from '../suite/suite.js';
import { DeviceIdSchema } from './bundle.js';
import { defineElement } from './element.js';
import { integerAttr, requiredAttr, xml } from './xml.js';

/** Why a device asks for repair. @see spec §offline.repair */
export const REPAIR_REASONS = ['no-session', 'not-for-this-device', 'message-key-unavailable', 'authentication-failed', 'unknown-prekey', 'expired-prekey', 'skip-limit'] as const;
/** A repair reason. */
export type RepairReason = (typeof REPAIR_REASONS)[number];

/** Schema of a repair signal. @see spec §offline.repair */
export const RepairSchema = z.object({ device: DeviceIdSchema, sender: DeviceIdSchema, reason: z.enum(REPAIR_REASONS) });
/** A repair signal: `device` could not open a message from `sender`, for `reason`. */
export type RepairValue = z.infer<typeof RepairSchema>;

/**
 * `<repair xmlns='urn:xmpp:seal:0' device='…' sender='…' reason='…'/>`.
 *
 * @see spec §offline.repair
 */
export const RepairElement = defineElement<RepairValue>({
  name: 'repair',
  ns: SEAL_NS,
  schema: RepairSchema,
  write: (v) => xml('repair', { xmlns: SEAL_NS, device: String(v.device), sender: String(v.sender), reason: v.reason }),
  read: (element) => ({ device: integerAttr(element, 'device'), sender: integerAttr(element, 'sender'), reason: requiredAttr(element, 'reason') }),
});
