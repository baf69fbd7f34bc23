/**
 * Interleaved timing for the bench: two operations timed alternately (A B, then B A) in the same
 * loop, each half at least MIN_HALF_MS long, reduced to the median and interquartile range of the
 * per-round ratios A/B, so that load on the machine hits both halves of a round alike.
 *
 * @see spec §envelope.overhead
 * @module
 */
const QUICK = process.env.SEAL_BENCH_QUICK !== undefined;
/** Rounds per comparison (`SEAL_BENCH_ROUNDS`; 60, or 6 in a quick run). */
export const ROUNDS = Number(process.env.SEAL_BENCH_ROUNDS ?? (QUICK ? 6 : 60));
/** Each half of a round runs at least this long (so the clock's resolution does not matter). */
export const MIN_HALF_MS = QUICK ? 2 : 20;

export interface Interleaved { readonly median: number; readonly q1: number; readonly q3: number; readonly min: number; readonly aPerUnit: number; readonly bPerUnit: number; readonly rounds: number; readonly batch: number }

const quantile = (sorted: readonly number[], q: number): number => {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  return sorted[lo]! + (sorted[Math.ceil(i)]! - sorted[lo]!) * (i - lo);
};

/** Times `a` and `b` alternately (A B, then B A) over `rounds` rounds; returns the per-round ratios a/b. */
export async function interleave(a: () => unknown, b: () => unknown, rounds = ROUNDS): Promise<Interleaved> {
  const time = async (f: () => unknown, n: number): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const r = f();
      if (r instanceof Promise) await r;
    }
    return performance.now() - t0;
  };
  // Warm up both, then size the batch so the slower half lasts MIN_HALF_MS.
  await time(a, 2);
  await time(b, 2);
  const one = Math.max(await time(a, 1), await time(b, 1), 1e-3);
  const batch = Math.max(1, Math.ceil(MIN_HALF_MS / one));
  const ratios: number[] = [];
  let aTotal = 0;
  let bTotal = 0;
  for (let r = 0; r < rounds; r++) {
    let ta: number;
    let tb: number;
    if (r % 2 === 0) {
      ta = await time(a, batch);
      tb = await time(b, batch);
    } else {
      tb = await time(b, batch);
      ta = await time(a, batch);
    }
    ratios.push(ta / tb);
    aTotal += ta;
    bTotal += tb;
  }
  const sorted = [...ratios].sort((x, y) => x - y);
  return { median: quantile(sorted, 0.5), q1: quantile(sorted, 0.25), q3: quantile(sorted, 0.75), min: sorted[0]!, aPerUnit: aTotal / rounds / batch, bPerUnit: bTotal / rounds / batch, rounds, batch };
}

