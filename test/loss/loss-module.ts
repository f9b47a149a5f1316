// SPDX-License-Identifier: MIT
// Test helper: wraps a loss with fixed targets as a Module (output [1]) so gradcheck can check its backward(scale).
import { Module } from '../../lib/modules/module';
import { Tensor } from '../../lib/tensor/tensor';

interface Loss<T> {
  forward(input: Tensor, target: T): number;
  backward(scale?: number): Tensor;
}

/** forward(x) = [loss(x, target)]; backward(g) = loss.backward(g[0]), i.e. dL/dx scaled by the upstream gradient. */
export class LossModule<T> extends Module {
  constructor(
    private readonly loss: Loss<T>,
    private readonly target: T,
  ) {
    super();
  }

  outputShape(): number[] {
    return [1];
  }

  override forward(input: Tensor): Tensor {
    return Tensor.fromArray([this.loss.forward(input, this.target)], [1]);
  }

  override backward(doutput: Tensor): Tensor {
    return this.loss.backward(doutput.data[0]);
  }
}
