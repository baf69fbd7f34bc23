/**
 * fast-check settings shared by every property test: one seed per run, printed, so any failure
 * replays with `FC_SEED=<seed> npx vitest run <file>` (fast-check also prints seed and path).
 */
import fc from 'fast-check';

const seed = process.env.FC_SEED === undefined ? Math.floor(Math.random() * 0x7fffffff) : Number(process.env.FC_SEED);
let printed = false;

/** Parameters for `fc.assert`, with the run's seed (printed once per test file). */
export function fcParams(numRuns = 200): fc.Parameters<unknown> {
  if (!printed) {
    console.log(`fast-check seed ${seed} (replay: FC_SEED=${seed})`);
    printed = true;
  }
  return { seed, numRuns };
}
