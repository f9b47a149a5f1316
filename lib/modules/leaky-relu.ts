// SPDX-License-Identifier: MIT
// LeakyReLU activation (x for x > 0, negativeSlope * x otherwise), any shape.
import { checkNumber, checkOptions } from '../check';
import { ElementwiseActivation } from './activation';

export interface LeakyReLUOptions {
  /** Slope for x <= 0. Default 0.01. */
  negativeSlope?: number;
}

/**
 * x if x > 0, else negativeSlope * x, element-wise, as torch.nn.LeakyReLU. The derivative at 0 is
 * negativeSlope, as in PyTorch. (`inplace` is not supported.)
 *
 * Shape: any -> same.
 *
 * @example
 * const act = new LeakyReLU({ negativeSlope: 0.2 });
 * act.forward(Tensor.fromArray([-1, 2], [2])); // [-0.2, 2]
 */
export class LeakyReLU extends ElementwiseActivation {
  readonly negativeSlope: number;
  protected readonly savesInput = true;

  constructor(options: LeakyReLUOptions = {}) {
    super();
    const o = checkOptions('LeakyReLU', options, ['negativeSlope']);
    this.negativeSlope = checkNumber('LeakyReLU: negativeSlope', o.negativeSlope ?? 0.01);
  }

  protected apply(out: Float32Array, x: Float32Array): void {
    const a = this.negativeSlope;
    for (let i = 0; i < x.length; i++) out[i] = x[i] > 0 ? x[i] : x[i] * a;
  }

  protected gradient(dx: Float32Array, g: Float32Array, x: Float32Array): void {
    const a = this.negativeSlope;
    for (let i = 0; i < x.length; i++) dx[i] = x[i] > 0 ? g[i] : g[i] * a;
  }

  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}
