/**
 * §groups: Seal in members-only, non-anonymous Multi-User Chat rooms (XEP-0045): which rooms,
 * who the recipients are, the room message and its size limit, reflection and membership
 * changes. The device engine (src/device/groups.ts) applies these rules.
 *
 * @see spec §groups
 * @module
 */
export * from './constants.js';
export * from './room.js';
