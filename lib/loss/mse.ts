// SPDX-License-Identifier: MIT
// MSELoss: mean, summed or per-element squared difference between two tensors of one shape, with its input gradient.
import { checkOptions, describe } from '../check';
import { expectShape, formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { checkReduction, type LossValue, type Reduction, upstreamGrad } from './reduction';

export interface MSELossOptions<R extends Reduction = Reduction> {
  /**
   * 'mean' (default) divides the sum of squares by the number of elements; 'sum' does not; 'none' returns every
   * squared difference as a Tensor of the input's shape.
   */
  reduction?: R;
}

/**
 * torch.nn.MSELoss: (input - target)^2 per element, summed, or divided by the element count for 'mean'. The target
 * must have the input's shape (no broadcasting) and gets no gradient.
 *
 * Shape: input any, target the same -> a number ('mean', 'sum') or a Tensor of the input's shape ('none').
 * backward(g): g is a number for 'mean' and 'sum'; for 'none' the upstream gradient of each element (a Tensor of the
 * input's shape, or one number for all; default 1), as PyTorch's `loss.backward(g)`.
 *
 * @example
 * const lossFn = new MSELoss();
 * const loss = lossFn.forward(prediction, target);
 * model.backward(lossFn.backward()); // 2 (prediction - target) / N
 */
export class MSELoss<R extends Reduction = 'mean'> {
  readonly reduction: R;
  private saved: { diff: Float32Array; shape: readonly number[] } | null = null;

  constructor(options: MSELossOptions<R> = {}) {
    const o = checkOptions('MSELoss', options, ['reduction']);
    this.reduction = checkReduction('MSELoss', o.reduction) as R;
  }

  /** Returns the loss; keeps input - target for backward. A 'mean' over no elements is NaN, as in PyTorch. */
  forward(input: Tensor, target: Tensor): LossValue<R> {
    if (!(input instanceof Tensor)) throw new TypeError(`MSELoss: input must be a Tensor, got ${describe(input)}`);
    if (!(target instanceof Tensor)) throw new TypeError(`MSELoss: target must be a Tensor, got ${describe(target)}`);
    expectShape(`MSELoss: target (input is ${formatShape(input.shape)})`, target.shape, input.shape);
    // Reuse the saved buffer while the size holds: a training loop allocates nothing here.
    const diff = this.saved?.diff.length === input.size ? this.saved.diff : new Float32Array(input.size);
    const x = input.data;
    const t = target.data;
    this.saved = { diff, shape: input.shape };
    if (this.reduction === 'none') {
      const out = Tensor.zeros(input.shape);
      for (let i = 0; i < diff.length; i++) {
        const d = (diff[i] = x[i] - t[i]);
        out.data[i] = d * d;
      }
      return out as LossValue<R>;
    }
    let sum = 0;
    for (let i = 0; i < diff.length; i++) {
      const d = (diff[i] = x[i] - t[i]);
      sum += d * d;
    }
    return (this.reduction === 'mean' ? sum / diff.length : sum) as LossValue<R>;
  }

  /**
   * Gradient of the last loss with respect to the input: 2 (input - target) [/ N], times `grad` (a number; for
   * 'none' also a Tensor of the input's shape).
   */
  backward(grad: number | Tensor = 1): Tensor {
    if (!this.saved) throw new Error('MSELoss.backward: call forward() first');
    const { diff, shape } = this.saved;
    const g = upstreamGrad('MSELoss', this.reduction, grad, shape);
    const dinput = Tensor.zeros(shape);
    const f = this.reduction === 'mean' ? 2 / diff.length : 2;
    if (typeof g === 'number') {
      const fg = f * g;
      for (let i = 0; i < diff.length; i++) dinput.data[i] = diff[i] * fg;
    } else for (let i = 0; i < diff.length; i++) dinput.data[i] = diff[i] * f * g[i];
    return dinput;
  }
}
