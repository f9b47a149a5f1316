// SPDX-License-Identifier: MIT
// evaluate(): loss, accuracy and confusion matrix of a model over a loader, in eval mode; no training here.
import { checkFunction, checkInstance, checkInt, checkOneOf, checkOptions, describe } from '../check';
import type { Batch } from '../data/dataset';
import { mirrorRows } from '../data/transforms';
import { CrossEntropyLoss } from '../loss/cross-entropy';
import { Module } from '../modules/module';
import { Tensor } from '../tensor/tensor';
import { ConfusionMatrix, RunningMean } from './metrics';

/** What fit() and evaluate() need of a loss: CrossEntropyLoss has this shape. */
export interface LossFunction {
  /** Mean loss of the batch; keeps what backward() needs. */
  forward(logits: Tensor, targets: Int32Array): number;
  /** Gradient of the last loss with respect to the logits. */
  backward(): Tensor;
}

/** Anything that yields batches once per iteration (a DataLoader); `length` (batches) is used for progress when present. */
export type BatchSource = Iterable<Batch> & { readonly length?: number };

export interface EvaluateOptions {
  /** Loss to report. Default: a new CrossEntropyLoss. */
  lossFn?: LossFunction;
  /** Size of the confusion matrix. Default: the model's output width (logits [N, K] -> K). */
  numClasses?: number;
  /** Aborting stops after the current batch and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called after each batch with the number of batches done (progress output). */
  onBatch?: (batchesDone: number) => void;
  /**
   * Test-time augmentation. 'flip': each image is scored as given and mirrored left-right, and the two logits rows are
   * averaged (twice the work). Default: none.
   */
  tta?: 'flip';
}

export interface EvaluateResult {
  /** Mean loss per sample (NaN for an empty loader). */
  loss: number;
  /** correct / total, a fraction in [0, 1] (NaN for an empty loader). */
  accuracy: number;
  correct: number;
  total: number;
  /** confusion[trueClass][predictedClass] = count. */
  confusion: number[][];
  /** Per true class: correct / samples of that class (NaN for a class with no samples). */
  perClassAccuracy: number[];
}

/**
 * Runs the model over every batch of `loader` in eval mode and measures loss and accuracy (the argmax
 * of each logits row against its label). The training mode of every module is restored afterwards.
 * Async: it yields to the event loop between batches so a server stays responsive.
 *
 * @example
 * const { accuracy, perClassAccuracy } = await evaluate(model, new DataLoader(test, { batchSize: 256 }));
 */
export async function evaluate(
  model: Module,
  loader: BatchSource,
  options: EvaluateOptions = {},
): Promise<EvaluateResult> {
  checkInstance('evaluate: model', model, Module);
  checkBatchSource('evaluate: loader', loader);
  const o = checkOptions('evaluate', options, ['lossFn', 'numClasses', 'signal', 'onBatch', 'tta']);
  if (o.tta !== undefined) checkOneOf('evaluate: tta', o.tta, TTA_MODES);
  if (o.lossFn !== undefined) checkLossFunction('evaluate: lossFn', o.lossFn);
  if (o.numClasses !== undefined) checkInt('evaluate: numClasses', o.numClasses, 1);
  if (o.signal !== undefined) checkInstance('evaluate: signal', o.signal, AbortSignal, 'an AbortSignal');
  if (o.onBatch !== undefined) checkFunction('evaluate: onBatch', o.onBatch);
  const lossFn = o.lossFn ?? new CrossEntropyLoss();
  const signal = o.signal;
  signal?.throwIfAborted();
  const loss = new RunningMean();
  let matrix = o.numClasses === undefined ? null : new ConfusionMatrix(o.numClasses);
  let done = 0;
  for (const { images, labels } of loader) {
    // Eval-mode output; modes and training state untouched.
    const logits = o.tta === 'flip' ? flipAveragedLogits(model, images) : model.predict(images);
    matrix ??= new ConfusionMatrix(logits.shape[1] ?? 1);
    loss.add(lossFn.forward(logits, labels), labels.length);
    matrix.update(logits, labels);
    o.onBatch?.(++done);
    await yieldToEventLoop();
    signal?.throwIfAborted();
  }
  return {
    loss: loss.mean,
    accuracy: matrix?.accuracy ?? NaN,
    correct: matrix?.correct ?? 0,
    total: matrix?.total ?? 0,
    confusion: matrix?.toArray() ?? [],
    perClassAccuracy: matrix?.perClassAccuracy() ?? [],
  };
}

/** The test-time augmentations evaluate() offers. */
export const TTA_MODES: readonly 'flip'[] = Object.freeze(['flip']);

/** The mean of the model's logits for NCHW `images` and for the same images mirrored left-right. */
function flipAveragedLogits(model: Module, images: Tensor): Tensor {
  const plain = model.predict(images);
  const sum = plain.data.slice(); // a copy: the next predict() may reuse the output buffer
  const mirrored = images.data.slice();
  mirrorRows(mirrored, images.shape[images.shape.length - 1]);
  const flipped = model.predict(new Tensor(mirrored, images.shape)).data;
  for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] + flipped[i]) / 2;
  return new Tensor(sum, plain.shape);
}

/** Resolves on the next turn of the event loop (after pending I/O and timers; a timer in browsers). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );
}

/** TypeError unless `lossFn` has forward() and backward() (a CrossEntropyLoss, NLLLoss, ...). */
export function checkLossFunction(what: string, lossFn: unknown): LossFunction {
  const f = lossFn as Partial<LossFunction> | null;
  if (f === null || typeof f !== 'object' || typeof f.forward !== 'function' || typeof f.backward !== 'function')
    throw new TypeError(
      `${what} must have forward() and backward() (e.g. a CrossEntropyLoss), got ${describe(lossFn)}`,
    );
  // A per-sample loss Tensor would turn the running mean into NaN: say so instead.
  if ((f as { reduction?: unknown }).reduction === 'none')
    throw new RangeError(
      `${what} has reduction 'none' (forward returns a Tensor); fit and evaluate need 'mean' or 'sum'`,
    );
  return lossFn as LossFunction;
}

/** TypeError unless `loader` is iterable. */
export function checkBatchSource(what: string, loader: unknown): void {
  if (
    loader === null ||
    typeof loader !== 'object' ||
    typeof (loader as Iterable<Batch>)[Symbol.iterator] !== 'function'
  ) {
    throw new TypeError(`${what} must be an iterable of batches (a DataLoader), got ${describe(loader)}`);
  }
}
