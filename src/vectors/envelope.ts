/**
 * `vectors/envelope.json`: the Double Ratchet as scripted sequences with every intermediate key
 * (RatchetSequence), multi-device fan-out as one scripted conversation between two accounts of
 * three devices each (SealOpen), and opening a stanza with every rule of §envelope.open broken
 * by one negative case (OpenNegative). Every random value is an input, drawn from
 * `seededRng('vectors/envelope.json')` and fed back through an Rng that returns exactly the
 * recorded bytes.
 *
 * @see spec §envelope
 * @module
 */
import { sealOpen } from './envelope-fanout.js';
import { openNegative } from './envelope-open.js';
import { ratchetSequence } from './envelope-ratchet.js';
import type { VectorKind } from './kind.js';

/** The kind of `vectors/envelope.json`. @see spec §envelope */
export const envelopeVectors: VectorKind = {
  file: 'envelope.json',
  section: 'envelope',
  version: 1,
  description:
    'Seal-v0 envelope: the Double Ratchet from the session secret through sends and deliveries in and out of order with every intermediate key; sealing for and opening on every device of two accounts (handshake headers attached until confirmed); and opening with one rule broken per negative case',
  groups: [ratchetSequence, sealOpen, openNegative],
};
