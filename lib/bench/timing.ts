// SPDX-License-Identifier: MIT
// The timing loop every benchmark shares (warm-up, then the median of repetitions); what is timed and any result checks live with the callers.
import { checkInt, checkNumber } from '../check';

/** How long and how often one case is timed. */
export interface TimingOptions {
  /** Most repetitions (samples) taken. */
  reps: number;
  /** Time allowed for the samples of one case, in ms; fewer reps are taken when a call is slow. */
  budgetMs: number;
  /** Warm-up time in ms (at least one call). */
  warmMs: number;
  /** Shortest sample in ms: fast calls are repeated inside a sample so the clock resolves them. */
  sampleMs: number;
  /** Samples of a call slower than half the budget (each one call, taken in the warm-up). */
  slowReps: number;
}

/** What measure() found. */
export interface Timing {
  /** Median time of one call, ms. */
  msPerCall: number;
  reps: number;
  callsPerRep: number;
  /** (slowest - fastest) / median of the samples, in percent: the run's noise. */
  spreadPct: number;
}

/**
 * The median of `xs` (the mean of the middle two for an even count); `xs` is not changed.
 *
 * @example
 * median([3, 1, 2]); // 2
 * median([4, 1, 2, 3]); // 2.5
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median: xs must not be empty');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Milliseconds from a monotonic clock. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * Timing options that spend about `seconds` on one case: a fifth warming up, the rest on up to
 * `reps` samples that fill it (each sample repeats a fast call so that it lasts budget / reps).
 * @throws TypeError/RangeError (lib/check.ts) when seconds is not a finite number > 0 or reps not an integer >= 1.
 *
 * @example
 * const t = await measure(() => model.predict(x), timingForSeconds(2));
 */
export function timingForSeconds(seconds: number, reps = 15): TimingOptions {
  checkNumber('timingForSeconds: seconds', seconds, { minExclusive: 0 });
  checkInt('timingForSeconds: reps', reps, 1);
  const budgetMs = seconds * 800;
  return { reps, budgetMs, warmMs: seconds * 200, sampleMs: budgetMs / reps, slowReps: 3 };
}

/**
 * Times `fn` (sync or async) after its result was checked by the caller: calls it for opt.warmMs,
 * then takes up to opt.reps samples within opt.budgetMs and returns the median time per call. A
 * call slower than half the budget is timed by its warm-up calls alone (a 25-second step gets
 * opt.slowReps samples, not fifteen). `clock` (ms) is replaceable for tests.
 *
 * @example
 * const t = await measure(() => model.predict(x), { reps: 15, budgetMs: 1600, warmMs: 400, sampleMs: 100, slowReps: 3 });
 * console.log(`${(x.shape[0] / t.msPerCall) * 1000} images/s, spread ${t.spreadPct.toFixed(1)}%`);
 */
export async function measure(fn: () => unknown, opt: TimingOptions, clock: () => number = nowMs): Promise<Timing> {
  let isAsync = false;
  const run = async (n: number): Promise<number> => {
    const t0 = clock();
    if (isAsync) for (let i = 0; i < n; i++) await fn();
    else for (let i = 0; i < n; i++) fn();
    return (clock() - t0) / n;
  };
  const warm: number[] = [];
  const start = clock();
  const first = fn(); // the first warm-up call also tells whether fn is async
  isAsync = first instanceof Promise;
  await first;
  warm.push(clock() - start);
  while (clock() - start < opt.warmMs) warm.push(await run(1));
  const perCall = median(warm);
  let samples: number[];
  let callsPerRep = 1;
  if (perCall * 2 > opt.budgetMs) {
    while (warm.length < opt.slowReps) warm.push(await run(1));
    samples = warm;
  } else {
    // A call that the clock sees as 0 ms still gets a finite number of calls per sample.
    callsPerRep = Math.max(1, Math.ceil(opt.sampleMs / Math.max(perCall, 1e-6)));
    const reps = Math.max(1, Math.min(opt.reps, Math.floor(opt.budgetMs / (callsPerRep * perCall))));
    samples = [];
    for (let r = 0; r < reps; r++) samples.push(await run(callsPerRep));
  }
  const ms = median(samples);
  const spreadPct = ms > 0 ? (100 * (Math.max(...samples) - Math.min(...samples))) / ms : 0;
  return { msPerCall: ms, reps: samples.length, callsPerRep, spreadPct };
}
