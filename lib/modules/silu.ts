// SPDX-License-Identifier: MIT
// SiLU (swish) activation (x * sigmoid(x)), any shape.
import { checkOptions } from '../check';
import { ElementwiseActivation } from './activation';

/** The logistic sigmoid without overflow for large |x|. */
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * x * sigmoid(x) element-wise, as torch.nn.SiLU. Backward: sigmoid(x) * (1 + x * (1 - sigmoid(x))). Takes no options
 * (`inplace` is not supported).
 *
 * Shape: any -> same.
 *
 * @example
 * new SiLU().forward(Tensor.fromArray([0, 1], [2])); // [0, 0.7311]
 */
export class SiLU extends ElementwiseActivation {
  protected readonly savesInput = true;

  constructor(options: Record<string, never> = {}) {
    super();
    checkOptions('SiLU', options, []);
  }

  protected apply(out: Float32Array, x: Float32Array): void {
    for (let i = 0; i < x.length; i++) out[i] = x[i] * sigmoid(x[i]);
  }

  protected gradient(dx: Float32Array, g: Float32Array, x: Float32Array): void {
    for (let i = 0; i < x.length; i++) {
      const s = sigmoid(x[i]);
      dx[i] = g[i] * s * (1 + x[i] * (1 - s));
    }
  }
}
