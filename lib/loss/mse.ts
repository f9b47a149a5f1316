// SPDX-License-Identifier: MIT
// MSELoss: mean (or summed) squared difference between two tensors of one shape, with its input gradient.
import { checkOptions, describe } from '../check';
import { expectShape, formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { checkReduction, Reduction } from './reduction';

export interface MSELossOptions {
  /** 'mean' (default) divides the sum of squares by the number of elements; 'sum' does not. */
  reduction?: Reduction;
}

/**
 * torch.nn.MSELoss: sum((input - target)^2), divided by the element count for 'mean'. The target
 * must have the input's shape (no broadcasting) and gets no gradient.
 *
 * Shape: input any, target the same -> a number.
 *
 * @example
 * const lossFn = new MSELoss();
 * const loss = lossFn.forward(prediction, target);
 * model.backward(lossFn.backward()); // 2 (prediction - target) / N
 */
export class MSELoss {
  readonly reduction: Reduction;
  private saved: { diff: Float32Array; shape: readonly number[] } | null = null;

  constructor(options: MSELossOptions = {}) {
    const o = checkOptions('MSELoss', options, ['reduction']);
    this.reduction = checkReduction('MSELoss', o.reduction);
  }

  /** Returns the loss; keeps input - target for backward. A 'mean' over no elements is NaN, as in PyTorch. */
  forward(input: Tensor, target: Tensor): number {
    if (!(input instanceof Tensor)) throw new TypeError(`MSELoss: input must be a Tensor, got ${describe(input)}`);
    if (!(target instanceof Tensor)) throw new TypeError(`MSELoss: target must be a Tensor, got ${describe(target)}`);
    expectShape(`MSELoss: target (input is ${formatShape(input.shape)})`, target.shape, input.shape);
    // Reuse the saved buffer while the size holds: a training loop allocates nothing here.
    const diff = this.saved?.diff.length === input.size ? this.saved.diff : new Float32Array(input.size);
    const x = input.data;
    const t = target.data;
    let sum = 0;
    for (let i = 0; i < diff.length; i++) {
      const d = (diff[i] = x[i] - t[i]);
      sum += d * d;
    }
    this.saved = { diff, shape: input.shape };
    return this.reduction === 'mean' ? sum / diff.length : sum;
  }

  /** Gradient of the last loss (times `scale`) with respect to the input: 2 (input - target) [/ N]. */
  backward(scale = 1): Tensor {
    if (!this.saved) throw new Error('MSELoss.backward: call forward() first');
    const { diff, shape } = this.saved;
    const dinput = Tensor.zeros(shape);
    const f = (this.reduction === 'mean' ? 2 / diff.length : 2) * scale;
    for (let i = 0; i < diff.length; i++) dinput.data[i] = diff[i] * f;
    return dinput;
  }
}
