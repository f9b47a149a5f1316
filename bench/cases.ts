// SPDX-License-Identifier: MIT
// One LeNet case = check the result against the float64 reference, then time it; the result record both share.
import { BenchData, TOL } from './data';
import { maxAbsDiff } from './reference';
import { measure, TimingOptions } from './timing';

export type Status = 'ok' | 'wrong result' | 'cannot train' | 'error' | 'skipped';

export interface CaseResult {
  case: 'train' | 'infer';
  batch: number;
  system: string;
  imagesPerSec: number | null;
  msPerCall?: number;
  reps?: number;
  callsPerRep?: number;
  spreadPct?: number;
  /** Max |logits - reference| (infer) or |first loss - reference loss| (train). */
  maxDiff?: number;
  status: Status;
  note?: string;
}

/** A case's timed function and what to free afterwards. */
export interface Prepared<T> {
  fn: () => T;
  dispose?: () => void;
}

class CheckError extends Error {}

const fmt = (x: number): string => x.toExponential(1);

function failure(base: Pick<CaseResult, 'case' | 'batch' | 'system'>, err: unknown, maxDiff?: number): CaseResult {
  const msg = (err as Error)?.message ?? String(err);
  if (err instanceof CheckError) return { ...base, imagesPerSec: null, maxDiff, status: 'wrong result', note: msg };
  return {
    ...base,
    imagesPerSec: null,
    maxDiff,
    status: base.case === 'train' ? 'cannot train' : 'error',
    note: msg.split('\n')[0],
  };
}

function timed(
  base: Pick<CaseResult, 'case' | 'batch' | 'system'>,
  t: Awaited<ReturnType<typeof measure>>,
  maxDiff: number,
): CaseResult {
  return { ...base, imagesPerSec: (1000 * base.batch) / t.msPerCall, ...t, maxDiff, status: 'ok' };
}

/** Inference: `fn` returns logits [batch, 10] for the first `batch` shared images. */
export async function inferCase(
  system: string,
  batch: number,
  data: BenchData,
  opt: TimingOptions,
  prepare: () => Promise<Prepared<ArrayLike<number> | Promise<ArrayLike<number>>>>,
): Promise<CaseResult> {
  const base = { case: 'infer' as const, batch, system };
  let p: Prepared<ArrayLike<number> | Promise<ArrayLike<number>>> | undefined;
  let diff: number | undefined;
  try {
    p = await prepare();
    const out = await p.fn();
    diff = out.length === batch * 10 ? maxAbsDiff(out, data.refLogits, batch * 10) : Infinity;
    if (!(diff < TOL))
      throw new CheckError(
        `logits differ from the float64 reference by ${fmt(diff)} (> ${TOL}), got ${out.length} values`,
      );
    return timed(base, await measure(p.fn, opt), diff);
  } catch (err) {
    return failure(base, err, diff);
  } finally {
    p?.dispose?.();
  }
}

/**
 * Training: `fn` runs one step (zero grads, forward, cross-entropy, backward, Adam) on the first `batch`
 * shared images with fresh shared weights and returns the loss before the update. The first loss must
 * match the reference; the last (after every timed step on the same batch) must be lower.
 */
export async function trainCase(
  system: string,
  batch: number,
  data: BenchData,
  opt: TimingOptions,
  prepare: () => Promise<Prepared<number>>,
): Promise<CaseResult> {
  const base = { case: 'train' as const, batch, system };
  let p: Prepared<number> | undefined;
  let diff: number | undefined;
  try {
    p = await prepare();
    const step = p.fn;
    const first = step();
    diff = Math.abs(first - data.refLoss(batch));
    if (!(diff < TOL))
      throw new CheckError(`first loss ${first} differs from the reference ${data.refLoss(batch)} by ${fmt(diff)}`);
    let last = first;
    const t = await measure(() => (last = step()), opt);
    if (!(last < first)) throw new CheckError(`loss did not fall after the timed steps (${first} -> ${last})`);
    return timed(base, t, diff);
  } catch (err) {
    return failure(base, err, diff);
  } finally {
    p?.dispose?.();
  }
}
