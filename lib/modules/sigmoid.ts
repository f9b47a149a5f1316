// SPDX-License-Identifier: MIT
// Sigmoid activation 1 / (1 + exp(-x)), any shape.
import { ElementwiseActivation } from './activation';

/**
 * 1 / (1 + exp(-x)) element-wise, as torch.nn.Sigmoid; evaluated without overflow for any x.
 * Backward uses y (1 - y) from the saved output.
 *
 * Shape: any -> same.
 *
 * @example
 * new Sigmoid().forward(Tensor.fromArray([0], [1])); // [0.5]
 */
export class Sigmoid extends ElementwiseActivation {
  protected readonly savesInput = false;

  protected apply(out: Float32Array, x: Float32Array): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v >= 0) {
        out[i] = 1 / (1 + Math.exp(-v));
      } else {
        const e = Math.exp(v); // exp(-v) could overflow; this form cannot
        out[i] = e / (1 + e);
      }
    }
  }

  protected gradient(dx: Float32Array, g: Float32Array, y: Float32Array): void {
    for (let i = 0; i < y.length; i++) dx[i] = g[i] * (1 - y[i]) * y[i];
  }
}
