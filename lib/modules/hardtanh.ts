// SPDX-License-Identifier: MIT
// Hardtanh activation (x clamped to [minVal, maxVal]), any shape; ReLU6 is its [0, 6] case (relu6.ts).
import { checkNumber, checkOptions } from '../check';
import { ElementwiseActivation } from './activation';

export interface HardtanhOptions {
  /** Lower bound. Default -1. */
  minVal?: number;
  /** Upper bound, above minVal. Default 1. */
  maxVal?: number;
}

/**
 * min(max(x, minVal), maxVal) element-wise, as torch.nn.Hardtanh. The gradient passes only strictly inside
 * (minVal, maxVal), as PyTorch's hardtanh_backward (torch.clamp's passes at the bounds too). (`inplace` is not
 * supported.)
 *
 * Shape: any -> same.
 *
 * @example
 * new Hardtanh({ minVal: -2, maxVal: 2 }).forward(Tensor.fromArray([-3, 0.5, 3], [3])); // [-2, 0.5, 2]
 */
export class Hardtanh extends ElementwiseActivation {
  readonly minVal: number;
  readonly maxVal: number;
  protected readonly savesInput = true;

  constructor(options: HardtanhOptions = {}) {
    super();
    const layer = new.target.name;
    const o = checkOptions(layer, options, ['minVal', 'maxVal']);
    this.minVal = checkNumber(`${layer}: minVal`, o.minVal ?? -1);
    this.maxVal = checkNumber(`${layer}: maxVal`, o.maxVal ?? 1);
    if (!(this.maxVal > this.minVal))
      throw new RangeError(`${layer}: maxVal must be > minVal (${this.minVal}), got ${this.maxVal}`);
  }

  protected apply(out: Float32Array, x: Float32Array): void {
    const [lo, hi] = [this.minVal, this.maxVal];
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      out[i] = v < lo ? lo : v > hi ? hi : v; // NaN stays NaN, as in PyTorch
    }
  }

  protected gradient(dx: Float32Array, g: Float32Array, x: Float32Array): void {
    const [lo, hi] = [this.minVal, this.maxVal];
    for (let i = 0; i < x.length; i++) dx[i] = x[i] > lo && x[i] < hi ? g[i] : 0;
  }

  override extraRepr(): string {
    return `minVal=${this.minVal}, maxVal=${this.maxVal}`;
  }
}
