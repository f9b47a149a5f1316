// SPDX-License-Identifier: MIT
// Hardswish activation (x * relu6(x + 3) / 6), any shape.
import { checkOptions } from '../check';
import { ElementwiseActivation } from './activation';

/**
 * x * relu6(x + 3) / 6 element-wise, as torch.nn.Hardswish (MobileNetV3): 0 for x <= -3, x for x >= 3. The gradient
 * is PyTorch's: 0 for x <= -3, x / 3 + 1/2 strictly between, 1 for x >= 3. Takes no options (`inplace` is not supported).
 *
 * Shape: any -> same.
 *
 * @example
 * new Hardswish().forward(Tensor.fromArray([-4, 1, 4], [3])); // [0, 0.6667, 4]
 */
export class Hardswish extends ElementwiseActivation {
  protected readonly savesInput = true;

  constructor(options: Record<string, never> = {}) {
    super();
    checkOptions('Hardswish', options, []);
  }

  protected apply(out: Float32Array, x: Float32Array): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      out[i] = v <= -3 ? 0 : v >= 3 ? v : (v * (v + 3)) / 6;
    }
  }

  protected gradient(dx: Float32Array, g: Float32Array, x: Float32Array): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      dx[i] = v <= -3 ? 0 : v < 3 ? g[i] * (v / 3 + 0.5) : g[i];
    }
  }
}
