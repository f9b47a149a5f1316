// SPDX-License-Identifier: MIT
// The bench's two timing presets (--quick and the full run); the loop itself is lib/bench/timing.ts, shared with `simdnet bench`.
import type { TimingOptions } from '../lib/bench/timing';

export { measure, type Timing, type TimingOptions } from '../lib/bench/timing';

export const QUICK: TimingOptions = { reps: 5, budgetMs: 1500, warmMs: 200, sampleMs: 20, slowReps: 1 };
export const FULL: TimingOptions = { reps: 15, budgetMs: 6000, warmMs: 1000, sampleMs: 100, slowReps: 3 };
