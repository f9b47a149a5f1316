// SPDX-License-Identifier: MIT
// Parameter: a trainable tensor with its gradient buffer (same shape, accumulated by backward).
import { Tensor } from '../tensor/tensor';

/** A trainable tensor. `grad` accumulates across backward calls until zeroGrad(), as in PyTorch. */
export class Parameter {
  readonly grad: Tensor;

  constructor(readonly data: Tensor) {
    this.grad = Tensor.zeros(data.shape);
  }

  get shape(): readonly number[] {
    return this.data.shape;
  }

  zeroGrad(): void {
    this.grad.data.fill(0);
  }
}
