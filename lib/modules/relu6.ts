// SPDX-License-Identifier: MIT
// ReLU6 activation (x clamped to [0, 6]), any shape.
import { checkOptions } from '../check';
import { Hardtanh } from './hardtanh';

/**
 * min(max(x, 0), 6) element-wise, as torch.nn.ReLU6 (a Hardtanh with minVal 0 and maxVal 6, as in PyTorch). It takes
 * no options. The gradient passes only strictly inside (0, 6).
 *
 * Shape: any -> same.
 *
 * @example
 * new ReLU6().forward(Tensor.fromArray([-1, 3, 7], [3])); // [0, 3, 6]
 */
export class ReLU6 extends Hardtanh {
  constructor(options: Record<string, never> = {}) {
    checkOptions('ReLU6', options, []);
    super({ minVal: 0, maxVal: 6 });
  }

  override extraRepr(): string {
    return '';
  }
}
