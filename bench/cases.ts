// SPDX-License-Identifier: MIT
// One case = check the result against a reference, then time it; the result record both share (LeNet and the CNN cases).
import { maxAbsDiff } from './reference';
import { measure, TimingOptions } from './timing';

export type Status = 'ok' | 'wrong result' | 'cannot train' | 'error' | 'skipped';

/** What a case's result must match: logits [n, classes] of the shared images and the first loss of a batch. */
export interface CaseReference {
  logits: ArrayLike<number>;
  classes: number;
  /** The mean cross-entropy of the first n images before any step. */
  loss(n: number): number;
  /** Largest |difference| allowed, for logits and the first loss. */
  tol: number;
  /** What the reference is, for messages ("the float64 reference"). */
  name: string;
}

export interface CaseResult {
  /** The network, when it is not LeNet (the CNN cases: "resnet20", "vgg"). */
  model?: string;
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

function failure(
  base: Pick<CaseResult, 'case' | 'batch' | 'system' | 'model'>,
  err: unknown,
  maxDiff?: number,
): CaseResult {
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
  base: Pick<CaseResult, 'case' | 'batch' | 'system' | 'model'>,
  t: Awaited<ReturnType<typeof measure>>,
  maxDiff: number,
): CaseResult {
  return { ...base, imagesPerSec: (1000 * base.batch) / t.msPerCall, ...t, maxDiff, status: 'ok' };
}

/** Inference: `fn` returns logits [batch, classes] for the first `batch` shared images. */
export async function inferCase(
  system: string,
  batch: number,
  ref: CaseReference,
  opt: TimingOptions,
  prepare: () => Promise<Prepared<ArrayLike<number> | Promise<ArrayLike<number>>>>,
  model?: string,
): Promise<CaseResult> {
  const base = { case: 'infer' as const, batch, system, ...(model ? { model } : {}) };
  let p: Prepared<ArrayLike<number> | Promise<ArrayLike<number>>> | undefined;
  let diff: number | undefined;
  try {
    p = await prepare();
    const out = await p.fn();
    const n = batch * ref.classes;
    diff = out.length === n ? maxAbsDiff(out, ref.logits, n) : Infinity;
    if (!(diff < ref.tol))
      throw new CheckError(`logits differ from ${ref.name} by ${fmt(diff)} (> ${ref.tol}), got ${out.length} values`);
    return timed(base, await measure(p.fn, opt), diff);
  } catch (err) {
    return failure(base, err, diff);
  } finally {
    p?.dispose?.();
  }
}

/**
 * Training: `fn` runs one step (zero grads, forward, cross-entropy, backward, optimizer step) on the first
 * `batch` shared images with fresh shared weights and returns the loss before the update. The first loss must
 * match the reference; the last (after every timed step on the same batch) must be lower.
 */
export async function trainCase(
  system: string,
  batch: number,
  ref: CaseReference,
  opt: TimingOptions,
  prepare: () => Promise<Prepared<number>>,
  model?: string,
): Promise<CaseResult> {
  const base = { case: 'train' as const, batch, system, ...(model ? { model } : {}) };
  let p: Prepared<number> | undefined;
  let diff: number | undefined;
  try {
    p = await prepare();
    const step = p.fn;
    const first = step();
    diff = Math.abs(first - ref.loss(batch));
    if (!(diff < ref.tol))
      throw new CheckError(`first loss ${first} differs from ${ref.name}'s ${ref.loss(batch)} by ${fmt(diff)}`);
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
