// SPDX-License-Identifier: MIT
// The timing loop every case shares (warm-up, then the median of repetitions); checks live with the cases.

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

export const QUICK: TimingOptions = { reps: 5, budgetMs: 1500, warmMs: 200, sampleMs: 20, slowReps: 1 };
export const FULL: TimingOptions = { reps: 15, budgetMs: 6000, warmMs: 1000, sampleMs: 100, slowReps: 3 };

export interface Timing {
  /** Median time of one call, ms. */
  msPerCall: number;
  reps: number;
  callsPerRep: number;
  /** (slowest - fastest) / median of the samples, in percent: the run's noise. */
  spreadPct: number;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * Times `fn` after its result was checked by the caller. A call slower than half the budget is
 * timed by its warm-up calls alone (a 25-second tfjs step gets opt.slowReps samples, not fifteen).
 */
export async function measure(fn: () => unknown, opt: TimingOptions): Promise<Timing> {
  let isAsync = false;
  const run = async (n: number): Promise<number> => {
    const t0 = nowMs();
    if (isAsync) for (let i = 0; i < n; i++) await fn();
    else for (let i = 0; i < n; i++) fn();
    return (nowMs() - t0) / n;
  };
  const warm: number[] = [];
  const start = nowMs();
  const first = fn(); // the first warm-up call also tells whether fn is async
  isAsync = first instanceof Promise;
  await first;
  warm.push(nowMs() - start);
  while (nowMs() - start < opt.warmMs) warm.push(await run(1));
  const perCall = median(warm);
  let samples: number[];
  let callsPerRep = 1;
  if (perCall * 2 > opt.budgetMs) {
    while (warm.length < opt.slowReps) warm.push(await run(1));
    samples = warm;
  } else {
    callsPerRep = Math.max(1, Math.ceil(opt.sampleMs / perCall));
    const reps = Math.max(1, Math.min(opt.reps, Math.floor(opt.budgetMs / (callsPerRep * perCall))));
    samples = [];
    for (let r = 0; r < reps; r++) samples.push(await run(callsPerRep));
  }
  const ms = median(samples);
  const spreadPct = (100 * (Math.max(...samples) - Math.min(...samples))) / ms;
  return { msPerCall: ms, reps: samples.length, callsPerRep, spreadPct };
}
