// SPDX-License-Identifier: MIT
// The Dataset/Sample/Batch contracts and TensorDataset (samples already in memory); no file reading here.
import { checkInt, checkOptions, describe, isFloat32Array, isInt32Array } from '../check';
import { ShapeError } from '../errors';
import { checkShape, formatShape, shapeSize } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

/** One sample: `image` holds C*H*W floats in CHW order. */
export interface Sample {
  image: Float32Array;
  label: number;
}

/** A random-access collection of labelled images of one shape. */
export interface Dataset {
  readonly length: number;
  /** [C, H, W] of every sample. */
  readonly sampleShape: readonly number[];
  readonly classes?: readonly string[];
  get(index: number): Sample;
  /** Optional fast path: write samples `indices` into images (len = indices.length*C*H*W) and labels. */
  getBatch?(indices: ArrayLike<number>, images: Float32Array, labels: Int32Array): void;
}

/** A mini-batch: images [B, C, H, W] and B labels. */
export interface Batch {
  images: Tensor;
  labels: Int32Array;
}

export interface TensorDatasetOptions {
  /** [C, H, W]; required when images is a flat Float32Array, checked against the tensor otherwise. */
  sampleShape?: readonly number[];
  /** Class names; when given, every label must be < classes.length. */
  classes?: readonly string[];
}

/**
 * A dataset over images and labels already in memory (no copy is made of either).
 *
 * Options: `sampleShape` ([C, H, W], needed for a flat Float32Array), `classes` (names, optional).
 * Shape: images [N, C, H, W] (a Tensor, or a Float32Array of N*C*H*W floats), labels Int32Array [N].
 *
 * @example
 * const ds = new TensorDataset(new Float32Array(4 * 1 * 2 * 2), Int32Array.from([0, 1, 1, 0]), { sampleShape: [1, 2, 2] });
 * ds.get(1); // { image: Float32Array(4), label: 1 }
 */
export class TensorDataset implements Dataset {
  readonly length: number;
  readonly sampleShape: readonly number[];
  readonly classes?: readonly string[];
  private readonly data: Float32Array;
  private readonly labels: Int32Array;
  private readonly sampleSize: number;

  constructor(images: Float32Array | Tensor, labels: Int32Array, options: TensorDatasetOptions = {}) {
    options = checkOptions('TensorDataset', options, ['sampleShape', 'classes']);
    if (!isInt32Array(labels)) {
      throw new TypeError(`TensorDataset: labels must be an Int32Array, got ${describe(labels)}`);
    }
    const n = labels.length;
    let shape: readonly number[];
    if (images instanceof Tensor) {
      if (images.ndim !== 4)
        throw new ShapeError(`TensorDataset: images must have shape [N, C, H, W], got ${formatShape(images.shape)}`);
      if (images.shape[0] !== n) {
        throw new ShapeError(
          `TensorDataset: images has ${images.shape[0]} samples (shape ${formatShape(images.shape)}) but labels has ${n}`,
        );
      }
      shape = images.shape.slice(1);
      if (options.sampleShape !== undefined) {
        const given = checkSampleShape(options.sampleShape);
        if (formatShape(given) !== formatShape(shape)) {
          throw new ShapeError(
            `TensorDataset: sampleShape ${formatShape(given)} != images shape ${formatShape(images.shape)} without N`,
          );
        }
      }
      this.data = images.data;
    } else if (isFloat32Array(images)) {
      if (options.sampleShape === undefined) {
        throw new TypeError('TensorDataset: options.sampleShape ([C, H, W]) is required when images is a Float32Array');
      }
      shape = checkSampleShape(options.sampleShape);
      const want = n * shapeSize(shape);
      if (images.length !== want) {
        throw new ShapeError(
          `TensorDataset: images length ${images.length} != N*C*H*W = ${n}*${shapeSize(shape)} = ${want}`,
        );
      }
      this.data = images;
    } else {
      throw new TypeError(`TensorDataset: images must be a Tensor or a Float32Array, got ${describe(images)}`);
    }
    const k = options.classes?.length;
    if (
      options.classes !== undefined &&
      (!Array.isArray(options.classes) || options.classes.some((c) => typeof c !== 'string'))
    ) {
      throw new TypeError('TensorDataset: options.classes must be an array of strings');
    }
    for (let i = 0; i < n; i++) {
      // Negative or out-of-range labels would index past the logits in the loss; catch them here.
      if (labels[i] < 0 || (k !== undefined && labels[i] >= k)) {
        throw new RangeError(
          `TensorDataset: labels[${i}] = ${labels[i]}, expected 0..${k === undefined ? 'max' : k - 1}`,
        );
      }
    }
    this.length = n;
    this.sampleShape = Object.freeze(shape.slice());
    this.sampleSize = shapeSize(shape);
    this.labels = labels;
    if (options.classes !== undefined) this.classes = Object.freeze(options.classes.slice());
  }

  /** Sample `index` with a copy of its image (transforms may then change it freely). */
  get(index: number): Sample {
    checkIndex('TensorDataset.get', index, this.length);
    const s = this.sampleSize;
    return { image: this.data.slice(index * s, (index + 1) * s), label: this.labels[index] };
  }

  getBatch(indices: ArrayLike<number>, images: Float32Array, labels: Int32Array): void {
    checkBatchArgs('TensorDataset.getBatch', this.length, this.sampleSize, indices, images, labels);
    const s = this.sampleSize;
    for (let b = 0; b < indices.length; b++) {
      const i = indices[b];
      images.set(this.data.subarray(i * s, (i + 1) * s), b * s);
      labels[b] = this.labels[i];
    }
  }
}

function checkSampleShape(shape: unknown): readonly number[] {
  const s = checkShape('TensorDataset: sampleShape', shape);
  if (s.length !== 3 || s.some((d) => d < 1)) {
    throw new ShapeError(`TensorDataset: sampleShape must be [C, H, W] with sizes >= 1, got ${formatShape(s)}`);
  }
  return s;
}

/** RangeError unless `index` is an integer in [0, length). */
export function checkIndex(what: string, index: number, length: number): void {
  if (typeof index !== 'number') throw new TypeError(`${what}: index must be a number, got ${describe(index)}`);
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(`${what}: index ${index} out of range 0..${length - 1}`);
  }
}

/** Checks getBatch arguments: buffer kinds, images.length == B*sampleSize, labels.length == B, every index in range. */
export function checkBatchArgs(
  what: string,
  length: number,
  sampleSize: number,
  indices: ArrayLike<number>,
  images: Float32Array,
  labels: Int32Array,
): void {
  if (!isFloat32Array(images)) throw new TypeError(`${what}: images must be a Float32Array, got ${describe(images)}`);
  if (!isInt32Array(labels)) throw new TypeError(`${what}: labels must be an Int32Array, got ${describe(labels)}`);
  const b = checkInt(`${what}: indices.length`, indices?.length, 0);
  if (images.length !== b * sampleSize) {
    throw new ShapeError(
      `${what}: images length ${images.length} != indices.length*C*H*W = ${b}*${sampleSize} = ${b * sampleSize}`,
    );
  }
  if (labels.length !== b) throw new ShapeError(`${what}: labels length ${labels.length} != indices.length = ${b}`);
  for (let j = 0; j < b; j++) checkIndex(what, indices[j], length);
}
