/**
 * The vector pipeline: every vector file kind, generation and verification, with no file I/O
 * (the CLI reads and writes files; a browser page can run the same checks).
 *
 * @see spec §impl.vectors
 * @module
 */
import { codecVectors } from './codec.js';
import { envelopeVectors } from './envelope.js';
import { filesVectors } from './files.js';
import { handshakeAsyncVectors } from './handshake-async.js';
import { handshakeInteractiveVectors } from './handshake-interactive.js';
import { identityVectors } from './identity.js';
import type { VectorKind } from './kind.js';
import { offlineVectors } from './offline.js';
import { groupsVectors } from './groups.js';
import { suiteVectors } from './suite.js';

export * from './format.js';
export * from './kind.js';

/** Every vector file kind, in spec order. */
export const VECTOR_KINDS: readonly VectorKind[] = [suiteVectors, codecVectors, identityVectors, handshakeAsyncVectors, handshakeInteractiveVectors, envelopeVectors, offlineVectors, groupsVectors, filesVectors];
