/** Helpers for asserting Seal's typed errors. */
import { isSealError } from '../../src/errors.js';

/** The SealError code `run` throws, or `'ok'` when it returns; any other exception fails the test. */
export function codeOf(run: () => unknown): string {
  try {
    run();
    return 'ok';
  } catch (e) {
    if (isSealError(e)) return e.code;
    throw e;
  }
}
