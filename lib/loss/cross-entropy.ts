// SPDX-License-Identifier: MIT
// CrossEntropyLoss: softmax + negative log-likelihood on logits with integer class targets (mean), optional label smoothing.
import { checkNumber, checkOptions, describe, isInt32Array } from '../check';
import { native } from '../native';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

export interface CrossEntropyLossOptions {
  /**
   * eps in [0, 1]: the target distribution becomes (1 - eps) onehot + eps / K, as PyTorch's
   * label_smoothing. Default 0.
   */
  labelSmoothing?: number;
}

/**
 * torch.nn.CrossEntropyLoss with reduction 'mean' and class-index targets.
 *
 * With labelSmoothing eps the loss of a row is (1 - eps) (-log p_t) + (eps / K) sum_k (-log p_k)
 * and its gradient (p - q) / N with q = (1 - eps) onehot(t) + eps / K, as in PyTorch.
 *
 * Shape: logits [N, K], targets Int32Array of N values in [0, K) -> a number.
 *
 * @example
 * const lossFn = new CrossEntropyLoss({ labelSmoothing: 0.1 });
 * const loss = lossFn.forward(logits, labels);
 * model.backward(lossFn.backward());
 */
export class CrossEntropyLoss {
  readonly labelSmoothing: number;
  private saved: { probs: Float32Array; targets: Int32Array; shape: readonly number[] } | null = null;

  constructor(options: CrossEntropyLossOptions = {}) {
    const o = checkOptions('CrossEntropyLoss', options, ['labelSmoothing']);
    this.labelSmoothing = checkNumber('CrossEntropyLoss: labelSmoothing', o.labelSmoothing ?? 0, {
      min: 0,
      max: 1,
    });
  }

  /** Returns the mean loss; keeps the softmax for backward. */
  forward(logits: Tensor, targets: Int32Array): number {
    if (!(logits instanceof Tensor))
      throw new TypeError(`CrossEntropyLoss: logits must be a Tensor, got ${describe(logits)}`);
    if (!isInt32Array(targets))
      throw new TypeError(`CrossEntropyLoss: targets must be an Int32Array, got ${describe(targets)}`);
    expectShape('CrossEntropyLoss: logits', logits.shape, [targets.length, -1]);
    const [n, k] = logits.shape;
    // Reuse the saved buffers while the shape holds: a training loop allocates nothing here.
    const same = this.saved?.probs.length === logits.size && this.saved.targets.length === targets.length;
    const probs = same ? this.saved!.probs : new Float32Array(logits.size);
    const saved = same ? this.saved!.targets : new Int32Array(targets.length);
    saved.set(targets); // a copy: the caller may change its labels before backward()
    const loss = native.crossEntropyForward(probs, logits.data, saved, n, k);
    this.saved = { probs, targets: saved, shape: logits.shape };
    const eps = this.labelSmoothing;
    return eps === 0 ? loss : (1 - eps) * loss + (eps / k) * meanNegLogProbSum(logits.data, n, k);
  }

  /** Gradient of the last loss with respect to the logits, [N, K]. */
  backward(scale = 1): Tensor {
    if (!this.saved) throw new Error('CrossEntropyLoss.backward: call forward() first');
    const { probs, targets, shape } = this.saved;
    const [n, k] = shape;
    const dlogits = Tensor.zeros(shape);
    native.crossEntropyBackward(dlogits.data, probs, targets, scale, n, k);
    const eps = this.labelSmoothing;
    if (eps !== 0 && n > 0) {
      // The native kernel gave (p - onehot) scale / N; p - q adds eps (onehot - 1/K).
      const f = (eps * scale) / n;
      const d = dlogits.data;
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < k; c++) d[i * k + c] -= f / k;
        d[i * k + targets[i]] += f;
      }
    }
    return dlogits;
  }

  /** Softmax probabilities of the last forward, [N, K]. */
  get probabilities(): Tensor | null {
    return this.saved ? new Tensor(this.saved.probs, this.saved.shape) : null;
  }
}

/** mean over rows of sum_k -log softmax(z)_k = K logsumexp(z) - sum_k z_k, from the logits (no underflow). */
function meanNegLogProbSum(z: Float32Array, n: number, k: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, z[row + c]);
    let sum = 0;
    let zsum = 0;
    for (let c = 0; c < k; c++) {
      sum += Math.exp(z[row + c] - max);
      zsum += z[row + c] - max;
    }
    total += k * Math.log(sum) - zsum;
  }
  return total / n;
}
