// SPDX-License-Identifier: MIT
// DataLoader: turns a Dataset into seeded, reproducible mini-batches (shuffle + augmentation); no file I/O here.
import { checkBool, checkFunction, checkInt, checkOptions, describe, isFloat32Array } from '../check';
import { ShapeError } from '../errors';
import { Generator } from '../random';
import { formatShape, shapeSize } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import type { Batch, Dataset } from './dataset';
import type { Transform } from './transforms';

export interface DataLoaderOptions {
  /** Samples per batch. Default 64. */
  batchSize?: number;
  /** Visit samples in a random order that changes every epoch. Default false. */
  shuffle?: boolean;
  /** Seed of the shuffle and augmentation streams (integer >= 0). Default 0. */
  seed?: number;
  /** Skip the last batch when it has fewer than batchSize samples. Default false. */
  dropLast?: boolean;
  /** Applied in place to each sample after the dataset produced it. */
  transform?: Transform;
}

const KNOWN = ['batchSize', 'shuffle', 'seed', 'dropLast', 'transform'];

/**
 * Iterates a dataset in mini-batches. Each `for (const batch of loader)` (each `[Symbol.iterator]()` call)
 * runs one epoch and advances `loader.epoch`; `setEpoch(e)` jumps. The sample order of epoch e depends only
 * on (seed, e), and the augmentation generator of batch b only on (seed, e, b), so `batches(e, b)` resumes
 * a run mid-epoch with exactly the same data.
 *
 * A yielded batch's buffers are reused: it is valid until the next batch is requested. Keep one with
 * `batch.images.clone()` and `batch.labels.slice()`.
 *
 * Options: batchSize = 64, shuffle = false, seed = 0, dropLast = false, transform (none).
 * Shape: yields images [B, C, H, W] (B = batchSize, the last batch may be smaller) and labels Int32Array [B].
 *
 * @example
 * const loader = new DataLoader(train, { batchSize: 128, shuffle: true, seed: 1, transform: randomHorizontalFlip() });
 * for (const { images, labels } of loader) { ... }
 */
export class DataLoader implements Iterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly transform?: Transform;
  private nextEpoch = 0;

  constructor(dataset: Dataset, options: DataLoaderOptions = {}) {
    if (dataset === null || typeof dataset !== 'object' || typeof dataset.get !== 'function') {
      throw new TypeError(`DataLoader: dataset must be a Dataset (an object with get()), got ${describe(dataset)}`);
    }
    checkInt('DataLoader: dataset.length', dataset.length, 0);
    const s = dataset.sampleShape;
    if (!Array.isArray(s) || s.length !== 3 || s.some((d) => !Number.isSafeInteger(d) || d < 1)) {
      throw new ShapeError(
        `DataLoader: dataset.sampleShape must be [C, H, W] with sizes >= 1, got ${Array.isArray(s) ? formatShape(s) : describe(s)}`,
      );
    }
    const o = checkOptions('DataLoader', options, KNOWN);
    this.dataset = dataset;
    this.batchSize = checkInt('DataLoader: batchSize', o.batchSize ?? 64, 1);
    this.shuffle = checkBool('DataLoader: shuffle', o.shuffle ?? false);
    this.seed = checkInt('DataLoader: seed', o.seed ?? 0, 0);
    this.dropLast = checkBool('DataLoader: dropLast', o.dropLast ?? false);
    this.transform =
      o.transform === undefined || o.transform === null
        ? undefined
        : checkFunction<Transform>('DataLoader: transform', o.transform);
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The epoch the next iteration will run (0 at first). */
  get epoch(): number {
    return this.nextEpoch;
  }

  /** Makes the next iteration run epoch `e` (e.g. when resuming a checkpoint). */
  setEpoch(e: number): void {
    this.nextEpoch = checkInt('DataLoader.setEpoch: epoch', e, 0);
  }

  /** Runs epoch `this.epoch`, then advances the counter. */
  [Symbol.iterator](): IterableIterator<Batch> {
    const e = this.nextEpoch++;
    return this.batches(e);
  }

  /** Sample indices of epoch `e` in visiting order (0..n-1 without shuffle). */
  order(e: number): Int32Array {
    checkInt('DataLoader.order: epoch', e, 0);
    const n = this.dataset.length;
    if (!this.shuffle) return Int32Array.from({ length: n }, (_, i) => i);
    return new Generator(deriveSeed(this.seed, e, 0)).permutation(n);
  }

  /** Batches of epoch `e` from batch `start` on; does not touch the epoch counter. */
  *batches(e: number, start = 0): IterableIterator<Batch> {
    const order = this.order(e);
    checkInt('DataLoader.batches: start', start, 0);
    const ds = this.dataset;
    const shape = ds.sampleShape;
    const size = shapeSize(shape);
    const bs = this.batchSize;
    const count = this.length;
    // One buffer per epoch, reused by every batch; the last (smaller) batch is a view of its front.
    const images = new Float32Array(Math.min(bs, order.length) * size);
    const labels = new Int32Array(Math.min(bs, order.length));
    for (let b = start; b < count; b++) {
      const idx = order.subarray(b * bs, Math.min((b + 1) * bs, order.length));
      const n = idx.length;
      const img = n === labels.length ? images : images.subarray(0, n * size);
      const lab = n === labels.length ? labels : labels.subarray(0, n);
      if (ds.getBatch) ds.getBatch(idx, img, lab);
      else fillFromGet(ds, idx, img, lab, size);
      if (this.transform) {
        const rng = new Generator(deriveSeed(this.seed, e, b + 1));
        for (let i = 0; i < n; i++) this.transform(img.subarray(i * size, (i + 1) * size), shape, rng);
      }
      yield { images: new Tensor(img, [n, ...shape]), labels: lab };
    }
  }
}

function fillFromGet(ds: Dataset, idx: Int32Array, images: Float32Array, labels: Int32Array, size: number): void {
  for (let i = 0; i < idx.length; i++) {
    const { image, label } = ds.get(idx[i]);
    if (!isFloat32Array(image) || image.length !== size) {
      throw new ShapeError(
        `DataLoader: dataset.get(${idx[i]}).image must be a Float32Array of ${size} floats, got ${describe(image)} of length ${image?.length}`,
      );
    }
    if (!Number.isInteger(label))
      throw new TypeError(`DataLoader: dataset.get(${idx[i]}).label must be an integer, got ${String(label)}`);
    images.set(image, i * size);
    labels[i] = label;
  }
}

/**
 * A 32-bit seed from integers (each < 2^53): murmur3's finaliser over every 32-bit half, so nearby inputs
 * (epoch 1 vs 2) give unrelated streams. 32 bits because Generator.manualSeed mixes a seed through 32 bits.
 */
export function deriveSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = fmix32(h ^ (p >>> 0));
    h = fmix32(h ^ Math.floor(p / 2 ** 32));
  }
  return h >>> 0;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
