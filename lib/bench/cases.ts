// SPDX-License-Identifier: MIT
// The cases `simdnet bench` times for one model: a training step as fit() runs it and predict(), on seeded random inputs; no model loading or printing.
import { checkInt } from '../check';
import { CrossEntropyLoss } from '../loss/cross-entropy';
import type { Module } from '../modules/module';
import { Adam } from '../optim/adam';
import type { Optimizer } from '../optim/optimizer';
import type { Parameter } from '../modules/parameter';
import { Generator } from '../random';
import { formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { measure, type TimingOptions } from './timing';

/** The cases: `train` = zeroGrad, forward, cross-entropy, backward (no input gradient), Adam step; `infer` = predict(). */
export const BENCH_CASES = ['train', 'infer'] as const;
export type BenchCase = (typeof BENCH_CASES)[number];

/** Default batch sizes per case: a typical training batch; one image (latency) and a batch (throughput). */
export const DEFAULT_BATCHES: Readonly<Record<BenchCase, readonly number[]>> = Object.freeze({
  train: [64],
  infer: [1, 64],
});

/** One timed case. */
export interface BenchResult {
  case: BenchCase;
  batch: number;
  imagesPerSec: number;
  /** Median time of one call (one batch), ms. */
  msPerBatch: number;
  /** (slowest - fastest) / median of the samples, in percent. */
  spreadPct: number;
  reps: number;
  callsPerRep: number;
}

/**
 * A batch of seeded random images, uniform in [-1, 1) (about the range of normalised data), and
 * labels in [0, classes): the same seed gives the same batch.
 *
 * @example
 * const { images, labels } = syntheticBatch([3, 32, 32], 64, 10);
 */
export function syntheticBatch(
  sampleShape: readonly number[],
  batch: number,
  classes: number,
  seed = 0,
): { images: Tensor; labels: Int32Array } {
  checkInt('syntheticBatch: batch', batch, 1);
  checkInt('syntheticBatch: classes', classes, 1);
  const rng = new Generator(seed);
  const images = Tensor.zeros([batch, ...sampleShape]);
  const data = images.data;
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-1, 1);
  const labels = new Int32Array(batch);
  for (let i = 0; i < batch; i++) labels[i] = rng.randint(classes);
  return { images, labels };
}

/**
 * The number of classes a model scores, from its output shape [N, K] for one sample; null when the
 * output is not two-dimensional (such a model can be timed for inference but not trained here).
 *
 * @example
 * outputClasses(new LeNet(), [3, 32, 32]); // 10
 */
export function outputClasses(model: Module, sampleShape: readonly number[]): number | null {
  const out = model.outputShape([1, ...sampleShape]);
  return out.length === 2 ? out[1] : null;
}

/**
 * One training step as fit() takes it: zeroGrad, forward, mean cross-entropy, backward without
 * the input gradient, optimizer step (default Adam, lr 1e-3). The returned function runs a step
 * and returns the loss before the update.
 *
 * @example
 * const step = trainStep(new LeNet(), images, labels);
 * const loss = step();
 * const sgdStep = trainStep(resnet20(), images, labels, (p) => new SGD(p, { lr: 0.01, momentum: 0.9 }));
 */
export function trainStep(
  model: Module,
  images: Tensor,
  labels: Int32Array,
  makeOptimizer: (params: Parameter[]) => Optimizer = (params) => new Adam(params, { lr: 1e-3 }),
): () => number {
  model.train();
  const lossFn = new CrossEntropyLoss();
  const optimizer = makeOptimizer(model.parameters());
  return () => {
    optimizer.zeroGrad();
    const loss = lossFn.forward(model.forward(images), labels);
    model.backward(lossFn.backward(), { inputGrad: false });
    optimizer.step();
    return loss;
  };
}

/**
 * Times one case on a fresh model from `makeModel` (so training in one case does not change the
 * next) with seeded random inputs of `sampleShape` ([C, H, W]).
 * @throws RangeError for `train` when the model's output is not [N, classes].
 *
 * @example
 * const r = await benchCase('infer', () => new LeNet(), [3, 32, 32], 64, timingForSeconds(2));
 * console.log(`${Math.round(r.imagesPerSec)} images/s`);
 */
export async function benchCase(
  name: BenchCase,
  makeModel: () => Module,
  sampleShape: readonly number[],
  batch: number,
  timing: TimingOptions,
  seed = 0,
): Promise<BenchResult> {
  const model = makeModel();
  const classes = outputClasses(model, sampleShape);
  if (name === 'train' && classes === null) {
    const out = formatShape(model.outputShape([batch, ...sampleShape]));
    throw new RangeError(
      `bench train: the model's output ${out} is not [N, classes], so cross-entropy cannot train it (time inference only)`,
    );
  }
  const { images, labels } = syntheticBatch(sampleShape, batch, classes ?? 1, seed);
  let fn: () => unknown;
  if (name === 'train') {
    fn = trainStep(model, images, labels);
  } else {
    model.eval();
    fn = () => model.predict(images);
  }
  const t = await measure(fn, timing);
  return {
    case: name,
    batch,
    imagesPerSec: (batch * 1000) / t.msPerCall,
    msPerBatch: t.msPerCall,
    spreadPct: t.spreadPct,
    reps: t.reps,
    callsPerRep: t.callsPerRep,
  };
}
