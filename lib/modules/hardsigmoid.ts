// SPDX-License-Identifier: MIT
// Hardsigmoid activation (relu6(x + 3) / 6), any shape.
import { checkOptions } from '../check';
import { ElementwiseActivation } from './activation';

/**
 * 0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 between, element-wise, as torch.nn.Hardsigmoid. The gradient is 1/6 strictly
 * inside (-3, 3) and 0 elsewhere, as PyTorch's. Takes no options (`inplace` is not supported).
 *
 * Shape: any -> same.
 *
 * @example
 * new Hardsigmoid().forward(Tensor.fromArray([-4, 0, 1.5], [3])); // [0, 0.5, 0.75]
 */
export class Hardsigmoid extends ElementwiseActivation {
  protected readonly savesInput = true;

  constructor(options: Record<string, never> = {}) {
    super();
    checkOptions('Hardsigmoid', options, []);
  }

  protected apply(out: Float32Array, x: Float32Array): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      out[i] = v <= -3 ? 0 : v >= 3 ? 1 : v / 6 + 0.5;
    }
  }

  protected gradient(dx: Float32Array, g: Float32Array, x: Float32Array): void {
    for (let i = 0; i < x.length; i++) dx[i] = x[i] > -3 && x[i] < 3 ? g[i] / 6 : 0;
  }
}
