// SPDX-License-Identifier: MIT
// NLLLoss: negative log-likelihood of class targets given log-probabilities [N, K], with its input gradient.
import { checkInt, checkOptions, describe, isInt32Array } from '../check';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { checkReduction, type LossValue, type Reduction, upstreamGrad } from './reduction';

export interface NLLLossOptions<R extends Reduction = Reduction> {
  /**
   * 'mean' (default) divides by the number of targets not ignored; 'sum' does not; 'none' returns each sample's loss
   * as a Tensor [N] (0 for an ignored target).
   */
  reduction?: R;
  /** Targets equal to this add nothing to the loss, the count or the gradient. Default -100. */
  ignoreIndex?: number;
}

/**
 * torch.nn.NLLLoss with class-index targets and no class weights: -input[i, target[i]] averaged
 * over the targets that are not ignoreIndex (or summed, or per sample). Feed it LogSoftmax({ dim: 1 }) output;
 * the two together equal CrossEntropyLoss.
 *
 * Shape: input [N, K] (log-probabilities), targets Int32Array of N values in [0, K) or ignoreIndex -> a number, or a
 * Tensor [N] for reduction 'none' (whose backward(g) takes the per-sample upstream gradient, a Tensor [N] or a number).
 *
 * @example
 * const logp = new LogSoftmax({ dim: 1 });
 * const lossFn = new NLLLoss();
 * const loss = lossFn.forward(logp.forward(logits), labels);
 * logp.backward(lossFn.backward());
 */
export class NLLLoss<R extends Reduction = 'mean'> {
  readonly reduction: R;
  readonly ignoreIndex: number;
  private saved: { targets: Int32Array; shape: readonly number[]; count: number } | null = null;

  constructor(options: NLLLossOptions<R> = {}) {
    const o = checkOptions('NLLLoss', options, ['reduction', 'ignoreIndex']);
    this.reduction = checkReduction('NLLLoss', o.reduction) as R;
    this.ignoreIndex = checkInt('NLLLoss: ignoreIndex', o.ignoreIndex ?? -100, -(2 ** 31));
  }

  /** Returns the loss ('mean' is NaN when every target is ignored, as in PyTorch); keeps the targets for backward. */
  forward(input: Tensor, targets: Int32Array): LossValue<R> {
    if (!(input instanceof Tensor)) throw new TypeError(`NLLLoss: input must be a Tensor, got ${describe(input)}`);
    if (!isInt32Array(targets)) throw new TypeError(`NLLLoss: targets must be an Int32Array, got ${describe(targets)}`);
    expectShape('NLLLoss: input', input.shape, [targets.length, -1]);
    const [n, k] = input.shape;
    const saved = this.saved?.targets.length === n ? this.saved.targets : new Int32Array(n);
    const each = this.reduction === 'none' ? Tensor.zeros([n]) : null;
    let sum = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const t = targets[i];
      if (t === this.ignoreIndex) continue;
      if (t < 0 || t >= k)
        throw new RangeError(
          `NLLLoss: targets[${i}] = ${t} is outside 0..${k - 1} (and is not ignoreIndex ${this.ignoreIndex})`,
        );
      if (each) each.data[i] = -input.data[i * k + t];
      sum -= input.data[i * k + t];
      count++;
    }
    saved.set(targets); // a copy: the caller may change its labels before backward()
    this.saved = { targets: saved, shape: input.shape, count };
    return (each ?? (this.reduction === 'mean' ? sum / count : sum)) as LossValue<R>;
  }

  /**
   * Gradient of the last loss with respect to the input: -grad [/ count] at each target, 0 elsewhere (`grad` a number;
   * for 'none' also a Tensor [N] of per-sample upstream gradients).
   */
  backward(grad: number | Tensor = 1): Tensor {
    if (!this.saved) throw new Error('NLLLoss.backward: call forward() first');
    const { targets, shape, count } = this.saved;
    const [n, k] = shape;
    const up = upstreamGrad('NLLLoss', this.reduction, grad, [n]);
    const dinput = Tensor.zeros(shape);
    const scale = typeof up === 'number' ? up : 0;
    const g = -(this.reduction === 'mean' ? scale / count : scale);
    for (let i = 0; i < n; i++) {
      if (targets[i] === this.ignoreIndex) continue;
      dinput.data[i * k + targets[i]] = typeof up === 'number' ? g : -up[i];
    }
    return dinput;
  }
}
