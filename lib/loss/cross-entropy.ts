// SPDX-License-Identifier: MIT
// CrossEntropyLoss: softmax + negative log-likelihood on logits with integer class targets (mean).
import { describe, isInt32Array } from '../errors';
import { native } from '../native';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

/**
 * torch.nn.CrossEntropyLoss with reduction 'mean' and class-index targets.
 *
 * Shape: logits [N, K], targets Int32Array of N values in [0, K) -> a number.
 *
 * @example
 * const lossFn = new CrossEntropyLoss();
 * const loss = lossFn.forward(logits, labels);
 * model.backward(lossFn.backward());
 */
export class CrossEntropyLoss {
  private saved: { probs: Float32Array; targets: Int32Array; shape: readonly number[] } | null = null;

  /** Returns the mean loss; keeps the softmax for backward. */
  forward(logits: Tensor, targets: Int32Array): number {
    if (!(logits instanceof Tensor)) throw new TypeError(`CrossEntropyLoss: logits must be a Tensor, got ${describe(logits)}`);
    if (!isInt32Array(targets)) throw new TypeError(`CrossEntropyLoss: targets must be an Int32Array, got ${describe(targets)}`);
    expectShape('CrossEntropyLoss: logits', logits.shape, [targets.length, -1]);
    const [n, k] = logits.shape;
    // Reuse the saved buffers while the shape holds: a training loop allocates nothing here.
    const same = this.saved?.probs.length === logits.size && this.saved.targets.length === targets.length;
    const probs = same ? this.saved!.probs : new Float32Array(logits.size);
    const saved = same ? this.saved!.targets : new Int32Array(targets.length);
    saved.set(targets); // a copy: the caller may change its labels before backward()
    const loss = native.crossEntropyForward(probs, logits.data, saved, n, k);
    this.saved = { probs, targets: saved, shape: logits.shape };
    return loss;
  }

  /** Gradient of the last loss with respect to the logits, [N, K]. */
  backward(scale = 1): Tensor {
    if (!this.saved) throw new Error('CrossEntropyLoss.backward: call forward() first');
    const { probs, targets, shape } = this.saved;
    const dlogits = Tensor.zeros(shape);
    native.crossEntropyBackward(dlogits.data, probs, targets, scale, shape[0], shape[1]);
    return dlogits;
  }

  /** Softmax probabilities of the last forward, [N, K]. */
  get probabilities(): Tensor | null {
    return this.saved ? new Tensor(this.saved.probs, this.saved.shape) : null;
  }
}
