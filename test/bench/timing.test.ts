// SPDX-License-Identifier: MIT
// Tests of lib/bench/timing.ts with a fake clock: each call of the timed function advances it by a known cost, so counts and medians are exact.
import { measure, median, timingForSeconds, type TimingOptions } from '../../lib/bench/timing';

/** A fake clock and a function whose calls cost `costs[i]` ms each (the last cost repeats), counting its calls. */
function fakeWork(costs: number[]): { clock: () => number; fn: () => void; calls: () => number } {
  let now = 1000;
  let calls = 0;
  return {
    clock: () => now,
    fn: () => {
      now += costs[Math.min(calls, costs.length - 1)];
      calls++;
    },
    calls: () => calls,
  };
}

test('a fast call: warm-up, then reps samples of several calls each', async () => {
  const w = fakeWork([2]);
  const opt: TimingOptions = { reps: 5, budgetMs: 100, warmMs: 10, sampleMs: 8, slowReps: 3 };
  const t = await measure(w.fn, opt, w.clock);
  // Warm-up: 5 calls reach 10 ms; then ceil(8 / 2) = 4 calls per sample, 5 samples.
  expect(t).toEqual({ msPerCall: 2, reps: 5, callsPerRep: 4, spreadPct: 0 });
  expect(w.calls()).toBe(5 + 5 * 4);
});

test('the budget limits the samples', async () => {
  const w = fakeWork([2]);
  const t = await measure(w.fn, { reps: 5, budgetMs: 20, warmMs: 0, sampleMs: 8, slowReps: 3 }, w.clock);
  expect(t).toMatchObject({ reps: 2, callsPerRep: 4 }); // floor(20 / (4 * 2)) samples
  expect(w.calls()).toBe(1 + 2 * 4);
});

test('a call slower than half the budget is timed by slowReps warm-up calls alone', async () => {
  const w = fakeWork([60, 70, 50]);
  const t = await measure(w.fn, { reps: 15, budgetMs: 100, warmMs: 10, sampleMs: 8, slowReps: 3 }, w.clock);
  expect(t).toEqual({ msPerCall: 60, reps: 3, callsPerRep: 1, spreadPct: (100 * 20) / 60 });
  expect(w.calls()).toBe(3);
});

test('the median of the samples, and their spread as (max - min) / median', async () => {
  // One warm-up call of 10 ms, then one call per sample (sampleMs 1): samples 10, 20, 40.
  const w = fakeWork([10, 10, 20, 40]);
  const t = await measure(w.fn, { reps: 3, budgetMs: 1000, warmMs: 0, sampleMs: 1, slowReps: 1 }, w.clock);
  expect(t).toEqual({ msPerCall: 20, reps: 3, callsPerRep: 1, spreadPct: 150 });
});

test('an async function is awaited on every call', async () => {
  let now = 0;
  let calls = 0;
  const fn = async (): Promise<void> => {
    await Promise.resolve();
    now += 3;
    calls++;
  };
  const t = await measure(fn, { reps: 4, budgetMs: 100, warmMs: 6, sampleMs: 6, slowReps: 1 }, () => now);
  expect(t).toEqual({ msPerCall: 3, reps: 4, callsPerRep: 2, spreadPct: 0 });
  expect(calls).toBe(2 + 4 * 2);
});

test('with the real clock it returns positive, finite times', async () => {
  let sink = 0;
  const t = await measure(() => {
    for (let i = 0; i < 1000; i++) sink += Math.sqrt(i);
  }, timingForSeconds(0.02));
  expect(sink).toBeGreaterThan(0);
  expect(t.msPerCall).toBeGreaterThan(0);
  expect(Number.isFinite(t.msPerCall)).toBe(true);
  expect(t.reps).toBeGreaterThanOrEqual(1);
  expect(Number.isFinite(t.spreadPct)).toBe(true);
});

test('median', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 2, 3])).toBe(2.5);
  expect(median([7])).toBe(7);
  const xs = [3, 1, 2];
  median(xs);
  expect(xs).toEqual([3, 1, 2]);
  expect(() => median([])).toThrow(RangeError);
});

test('timingForSeconds: a fifth warms up, the samples fill the rest', () => {
  expect(timingForSeconds(2)).toEqual({ reps: 15, budgetMs: 1600, warmMs: 400, sampleMs: 1600 / 15, slowReps: 3 });
  expect(timingForSeconds(1, 4)).toMatchObject({ reps: 4, sampleMs: 200 });
  for (const bad of [0, -1, NaN, Infinity]) {
    expect(() => timingForSeconds(bad)).toThrow(/^timingForSeconds: seconds must be (> 0|finite), got /);
    expect(() => timingForSeconds(bad)).toThrow(RangeError);
  }
  expect(() => timingForSeconds('2' as never)).toThrow(TypeError);
  expect(() => timingForSeconds(1, 0)).toThrow(/reps must be an integer >= 1, got 0/);
});
