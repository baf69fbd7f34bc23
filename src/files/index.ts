/**
 * §files: encrypted file sharing. Seal's stream cipher (AES-256-GCM in the STREAM construction),
 * `aesgcm://` links for OMEMO clients' convention, the XEP-0447/0448 descriptor inside sealed
 * content, and the checks a receiver makes before it presents a file. Uploads and downloads
 * (XEP-0363) are in `src/net/upload.ts`.
 *
 * @see spec §files
 * @module
 */
export * from './constants.js';
export * from './cipher.js';
export * from './stream.js';
export * from './aesgcm.js';
export * from './shared.js';
export * from './seal-file.js';
