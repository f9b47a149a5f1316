// SPDX-License-Identifier: MIT
// ELU activation (x for x > 0, alpha * (exp(x) - 1) otherwise), any shape.
import { checkNumber, checkOptions } from '../check';
import { ElementwiseActivation } from './activation';

export interface ELUOptions {
  /** Scale of the negative part. Default 1. */
  alpha?: number;
}

/**
 * x if x > 0, else alpha * (exp(x) - 1), element-wise, as torch.nn.ELU. The derivative at 0 is alpha, as in PyTorch.
 * (`inplace` is not supported.)
 *
 * Shape: any -> same.
 *
 * @example
 * new ELU({ alpha: 0.5 }).forward(Tensor.fromArray([-1, 2], [2])); // [-0.316, 2]
 */
export class ELU extends ElementwiseActivation {
  readonly alpha: number;
  protected readonly savesInput = true;

  constructor(options: ELUOptions = {}) {
    super();
    const o = checkOptions('ELU', options, ['alpha']);
    this.alpha = checkNumber('ELU: alpha', o.alpha ?? 1);
  }

  protected apply(out: Float32Array, x: Float32Array): void {
    const a = this.alpha;
    for (let i = 0; i < x.length; i++) out[i] = x[i] > 0 ? x[i] : a * Math.expm1(x[i]);
  }

  protected gradient(dx: Float32Array, g: Float32Array, x: Float32Array): void {
    const a = this.alpha;
    for (let i = 0; i < x.length; i++) dx[i] = x[i] > 0 ? g[i] : g[i] * a * Math.exp(x[i]);
  }

  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}
