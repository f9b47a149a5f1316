// SPDX-License-Identifier: MIT
// Tensor: a shape over a Float32Array (NCHW for images). Data is shared, never copied implicitly.
import { describe, isFloat32Array } from '../check';
import { ShapeError } from '../errors';
import { checkShape, formatShape, shapeSize } from './shape';

/**
 * An n-dimensional float32 array in row-major (NCHW) order. Memory is owned by the garbage collector.
 *
 * @example
 * const x = new Tensor(new Float32Array(2 * 3 * 32 * 32), [2, 3, 32, 32]);
 */
export class Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];

  constructor(data: Float32Array, shape: readonly number[]) {
    if (!isFloat32Array(data)) {
      throw new TypeError(`Tensor: data must be a Float32Array, got ${describe(data)}`);
    }
    this.shape = checkShape('Tensor', shape as number[]);
    const n = shapeSize(this.shape);
    if (data.length !== n) {
      throw new ShapeError(`Tensor: data length ${data.length} != product of shape ${formatShape(this.shape)} = ${n}`);
    }
    this.data = data;
  }

  static zeros(shape: readonly number[]): Tensor {
    const s = checkShape('Tensor.zeros', shape as number[]);
    return new Tensor(new Float32Array(shapeSize(s)), s);
  }

  static fromArray(values: ArrayLike<number>, shape: readonly number[]): Tensor {
    return new Tensor(Float32Array.from(values), shape);
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** A tensor with another shape over the same data (like PyTorch's view). */
  reshape(shape: readonly number[]): Tensor {
    return new Tensor(this.data, shape);
  }

  /** A deep copy. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Value at a multi-index, for tests and debugging (slow). */
  at(...index: number[]): number {
    if (index.length !== this.shape.length) {
      throw new RangeError(`Tensor.at: expected ${this.shape.length} indices, got ${index.length}`);
    }
    let offset = 0;
    for (let i = 0; i < index.length; i++) {
      const k = index[i];
      if (!Number.isInteger(k) || k < 0 || k >= this.shape[i]) {
        throw new RangeError(`Tensor.at: index ${i} is ${k}, expected 0..${this.shape[i] - 1}`);
      }
      offset = offset * this.shape[i] + k;
    }
    return this.data[offset];
  }

  toString(): string {
    return `Tensor(shape=${formatShape(this.shape)})`;
  }
}
