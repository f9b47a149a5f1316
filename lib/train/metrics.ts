// SPDX-License-Identifier: MIT
// Training/evaluation metrics: running mean, argmax, confusion matrix with accuracies, and an images/s meter; no I/O.
import { checkInt, checkNumber, describe, isInt32Array } from '../check';
import { ShapeError } from '../errors';
import { formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

/**
 * A weighted running mean. Feed it each batch's mean loss with the batch size as weight and `mean`
 * is the exact per-sample mean over everything seen, even when the last batch is smaller.
 *
 * @example
 * const m = new RunningMean();
 * m.add(2.0, 64); m.add(1.0, 16);
 * m.mean; // 1.8
 */
export class RunningMean {
  private sum = 0;
  private weight = 0;

  /** Adds `value` with `weight` (default 1, must be >= 0). */
  add(value: number, weight = 1): void {
    if (typeof value !== 'number')
      throw new TypeError(`RunningMean.add: value must be a number, got ${describe(value)}`);
    checkNumber('RunningMean.add: weight', weight, { min: 0 });
    this.sum += value * weight;
    this.weight += weight;
  }

  /** The weighted mean so far; NaN before anything was added. */
  get mean(): number {
    return this.weight === 0 ? NaN : this.sum / this.weight;
  }

  /** Total weight added (the number of samples when weights are batch sizes). */
  get count(): number {
    return this.weight;
  }

  reset(): void {
    this.sum = 0;
    this.weight = 0;
  }
}

/**
 * The index of the largest value in each row of a [N, K] tensor (the predicted class per sample).
 * Ties go to the lowest index and NaN never wins, like torch.argmax on finite rows.
 */
export function argmaxRows(logits: Tensor): Int32Array {
  if (!(logits instanceof Tensor)) throw new TypeError(`argmaxRows: logits must be a Tensor, got ${describe(logits)}`);
  if (logits.ndim !== 2)
    throw new ShapeError(`argmaxRows: logits must have shape [N, K], got ${formatShape(logits.shape)}`);
  const [n, k] = logits.shape;
  const d = logits.data;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * k;
    let best = 0;
    let bestValue = d[row];
    for (let j = 1; j < k; j++) {
      const v = d[row + j];
      if (v > bestValue || (bestValue !== bestValue && v === v)) {
        best = j;
        bestValue = v;
      }
    }
    out[i] = best;
  }
  return out;
}

/**
 * A numClasses x numClasses confusion matrix: row = true class, column = predicted class (the
 * scikit-learn / torchmetrics convention). Counts are exact integers.
 *
 * @example
 * const cm = new ConfusionMatrix(10);
 * cm.update(logits, labels);             // or cm.add(predicted, target) per sample
 * cm.accuracy; cm.perClassAccuracy();    // fractions in [0, 1]
 */
export class ConfusionMatrix {
  readonly numClasses: number;
  /** Row-major counts: counts[target * numClasses + predicted]. */
  readonly counts: Float64Array;
  private correctCount = 0;
  private totalCount = 0;

  constructor(numClasses: number) {
    this.numClasses = checkInt('ConfusionMatrix: numClasses', numClasses, 1);
    this.counts = new Float64Array(this.numClasses * this.numClasses);
  }

  /** Counts one sample. */
  add(predicted: number, target: number): void {
    const k = this.numClasses;
    if (!Number.isInteger(target) || target < 0 || target >= k) {
      throw new RangeError(`ConfusionMatrix: label ${target} is outside 0..${k - 1} (the model has ${k} outputs)`);
    }
    if (!Number.isInteger(predicted) || predicted < 0 || predicted >= k) {
      throw new RangeError(`ConfusionMatrix: prediction ${predicted} is outside 0..${k - 1}`);
    }
    this.counts[target * k + predicted] += 1;
    this.totalCount += 1;
    if (predicted === target) this.correctCount += 1;
  }

  /** Counts a batch: argmax of each row of logits [N, numClasses] against labels [N]. Returns the batch's correct count. */
  update(logits: Tensor, labels: Int32Array): number {
    if (!isInt32Array(labels))
      throw new TypeError(`ConfusionMatrix.update: labels must be an Int32Array, got ${describe(labels)}`);
    if (
      logits instanceof Tensor &&
      (logits.ndim !== 2 || logits.shape[0] !== labels.length || logits.shape[1] !== this.numClasses)
    ) {
      throw new ShapeError(
        `ConfusionMatrix.update: logits shape ${formatShape(logits.shape)} != [${labels.length}, ${this.numClasses}] (labels, classes)`,
      );
    }
    const predicted = argmaxRows(logits);
    const before = this.correctCount;
    for (let i = 0; i < labels.length; i++) this.add(predicted[i], labels[i]);
    return this.correctCount - before;
  }

  get correct(): number {
    return this.correctCount;
  }

  get total(): number {
    return this.totalCount;
  }

  /** correct / total as a fraction; NaN when empty. */
  get accuracy(): number {
    return this.totalCount === 0 ? NaN : this.correctCount / this.totalCount;
  }

  /** Samples of each true class (the row sums). */
  perClassTotal(): number[] {
    const k = this.numClasses;
    return Array.from({ length: k }, (_, t) => {
      let s = 0;
      for (let p = 0; p < k; p++) s += this.counts[t * k + p];
      return s;
    });
  }

  /** Correctly classified samples of each true class (the diagonal). */
  perClassCorrect(): number[] {
    const k = this.numClasses;
    return Array.from({ length: k }, (_, t) => this.counts[t * k + t]);
  }

  /** Per-class accuracy (recall): diagonal / row sum; NaN for a class with no samples. */
  perClassAccuracy(): number[] {
    const totals = this.perClassTotal();
    return this.perClassCorrect().map((c, t) => (totals[t] === 0 ? NaN : c / totals[t]));
  }

  /** The matrix as rows of plain numbers (rows = true class). */
  toArray(): number[][] {
    const k = this.numClasses;
    return Array.from({ length: k }, (_, t) => Array.from(this.counts.subarray(t * k, (t + 1) * k)));
  }

  reset(): void {
    this.counts.fill(0);
    this.correctCount = 0;
    this.totalCount = 0;
  }
}

/**
 * Measures throughput: images processed per second of wall time since start(). The clock is
 * injectable (milliseconds) so tests can give exact numbers.
 *
 * @example
 * const meter = new ThroughputMeter(); meter.start();
 * meter.add(64); meter.imagesPerSecond;
 */
export class ThroughputMeter {
  private startMs = NaN;
  private imageCount = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Starts (or restarts) the clock and zeroes the count. */
  start(): void {
    this.startMs = this.now();
    this.imageCount = 0;
  }

  add(images: number): void {
    checkInt('ThroughputMeter.add: images', images, 0);
    if (Number.isNaN(this.startMs)) this.start();
    this.imageCount += images;
  }

  get images(): number {
    return this.imageCount;
  }

  /** Seconds since start(); 0 before it. */
  get seconds(): number {
    return Number.isNaN(this.startMs) ? 0 : Math.max(0, this.now() - this.startMs) / 1000;
  }

  /** images / seconds; 0 while no time has passed. */
  get imagesPerSecond(): number {
    const s = this.seconds;
    return s > 0 ? this.imageCount / s : 0;
  }
}
