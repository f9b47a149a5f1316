// SPDX-License-Identifier: MIT
// Tanh activation, any shape.
import { ElementwiseActivation } from './activation';

/**
 * tanh(x) element-wise, as torch.nn.Tanh. Backward uses 1 - y^2 from the saved output.
 *
 * Shape: any -> same.
 *
 * @example
 * new Tanh().forward(Tensor.fromArray([0, 100], [2])); // [0, 1]
 */
export class Tanh extends ElementwiseActivation {
  protected readonly savesInput = false;

  protected apply(out: Float32Array, x: Float32Array): void {
    for (let i = 0; i < x.length; i++) out[i] = Math.tanh(x[i]);
  }

  protected gradient(dx: Float32Array, g: Float32Array, y: Float32Array): void {
    for (let i = 0; i < y.length; i++) dx[i] = g[i] * (1 - y[i] * y[i]);
  }
}
