// SPDX-License-Identifier: MIT
// CrossEntropyLoss: softmax + negative log-likelihood on logits with integer class targets: class weights, ignored
// targets, label smoothing and reduction mean / sum / none, as PyTorch.
import { checkInt, checkNumber, checkOptions, describe, isInt32Array } from '../check';
import { native } from '../native';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { checkReduction, type LossValue, type Reduction, upstreamGrad } from './reduction';

export interface CrossEntropyLossOptions<R extends Reduction = Reduction> {
  /**
   * eps in [0, 1]: the target distribution becomes (1 - eps) onehot + eps / K, as PyTorch's
   * label_smoothing. Default 0.
   */
  labelSmoothing?: number;
  /** A weight per class (K finite values: a Tensor [K], Float32Array or number array), as PyTorch's weight. Default none. */
  weight?: Tensor | Float32Array | readonly number[];
  /** Targets equal to this add nothing to the loss, the mean's denominator or the gradient. Default -100. */
  ignoreIndex?: number;
  /**
   * 'mean' (default): the weighted mean, sum of losses / sum of the targets' weights over the targets not ignored;
   * 'sum'; 'none': each sample's loss as a Tensor [N] (0 for an ignored target).
   */
  reduction?: R;
}

/** What the last forward() keeps for backward(). */
interface Saved {
  probs: Float32Array;
  targets: Int32Array;
  shape: readonly number[];
  /** The weighted mean's denominator (sum of the kept targets' weights); 1 for 'sum' and 'none'. */
  denom: number;
  /** True when the native kernel's plain mean path ran (no weight, nothing ignored, 'mean'). */
  plain: boolean;
}

/**
 * torch.nn.CrossEntropyLoss with class-index targets.
 *
 * The loss of a row with target t, weights w (all 1 by default) and labelSmoothing eps is
 * (1 - eps) w_t (-log p_t) + (eps / K) sum_k w_k (-log p_k), 0 when t is ignoreIndex; 'mean' divides the sum over rows
 * by the sum of w_t over the rows not ignored (PyTorch's weighted mean, also with label smoothing), 'sum' does not
 * divide, 'none' returns the rows' losses. The gradient of a row is (1 - eps) w_t (p - onehot(t)) + (eps / K)
 * (sum(w) p - w), times the upstream gradient and the mean's 1 / denominator.
 *
 * Shape: logits [N, K], targets Int32Array of N values in [0, K) or ignoreIndex -> a number, or a Tensor [N] for
 * reduction 'none' (whose backward(g) takes the per-sample upstream gradients, a Tensor [N] or one number).
 *
 * @example
 * const lossFn = new CrossEntropyLoss({ labelSmoothing: 0.1 });
 * const loss = lossFn.forward(logits, labels);
 * model.backward(lossFn.backward());
 */
export class CrossEntropyLoss<R extends Reduction = 'mean'> {
  readonly labelSmoothing: number;
  /** The class weights, or null. */
  readonly weight: Tensor | null;
  readonly ignoreIndex: number;
  readonly reduction: R;
  private saved: Saved | null = null;

  constructor(options: CrossEntropyLossOptions<R> = {}) {
    const o = checkOptions('CrossEntropyLoss', options, ['labelSmoothing', 'weight', 'ignoreIndex', 'reduction']);
    this.labelSmoothing = checkNumber('CrossEntropyLoss: labelSmoothing', o.labelSmoothing ?? 0, {
      min: 0,
      max: 1,
    });
    this.weight = o.weight === undefined || o.weight === null ? null : classWeights(o.weight);
    this.ignoreIndex = checkInt('CrossEntropyLoss: ignoreIndex', o.ignoreIndex ?? -100, -(2 ** 31));
    this.reduction = checkReduction('CrossEntropyLoss', o.reduction) as R;
  }

  /** Returns the loss (a Tensor [N] for 'none'); keeps the softmax for backward. */
  forward(logits: Tensor, targets: Int32Array): LossValue<R> {
    if (!(logits instanceof Tensor))
      throw new TypeError(`CrossEntropyLoss: logits must be a Tensor, got ${describe(logits)}`);
    if (!isInt32Array(targets))
      throw new TypeError(`CrossEntropyLoss: targets must be an Int32Array, got ${describe(targets)}`);
    expectShape('CrossEntropyLoss: logits', logits.shape, [targets.length, -1]);
    const [n, k] = logits.shape;
    if (this.weight && this.weight.size !== k)
      throw new RangeError(`CrossEntropyLoss: weight has ${this.weight.size} values, the logits have ${k} classes`);
    // Reuse the saved buffers while the shape holds: a training loop allocates nothing here.
    const same = this.saved?.probs.length === logits.size && this.saved.targets.length === targets.length;
    const probs = same ? this.saved!.probs : new Float32Array(logits.size);
    const saved = same ? this.saved!.targets : new Int32Array(targets.length);
    saved.set(targets); // a copy: the caller may change its labels before backward()
    const plain = this.weight === null && this.reduction === 'mean' && !targets.includes(this.ignoreIndex);
    const eps = this.labelSmoothing;
    if (plain) {
      const loss = native.crossEntropyForward(probs, logits.data, saved, n, k);
      this.saved = { probs, targets: saved, shape: logits.shape, denom: n, plain };
      return (
        eps === 0 ? loss : (1 - eps) * loss + (eps / k) * (negLogProbSums(logits.data, n, k, null) / n)
      ) as LossValue<R>;
    }
    // The softmax through the native kernel, with ignored targets read as class 0 (its loss is not used).
    const kernelTargets = Int32Array.from(targets, (t, i) => {
      if (t === this.ignoreIndex) return 0;
      if (t < 0 || t >= k)
        throw new RangeError(
          `CrossEntropyLoss: targets[${i}] = ${t} is outside 0..${k - 1} (and is not ignoreIndex ${this.ignoreIndex})`,
        );
      return t;
    });
    native.crossEntropyForward(probs, logits.data, kernelTargets, n, k);
    const w = this.weight?.data ?? null;
    const each = rowLosses(logits.data, targets, n, k, w, eps, this.ignoreIndex);
    let denom = 0;
    for (let i = 0; i < n; i++) if (targets[i] !== this.ignoreIndex) denom += w ? w[targets[i]] : 1;
    this.saved = { probs, targets: saved, shape: logits.shape, denom: this.reduction === 'mean' ? denom : 1, plain };
    if (this.reduction === 'none') return new Tensor(Float32Array.from(each), [n]) as LossValue<R>;
    const sum = each.reduce((a, b) => a + b, 0);
    return (this.reduction === 'mean' ? sum / denom : sum) as LossValue<R>;
  }

  /**
   * Gradient of the last loss with respect to the logits, [N, K], times `grad`: a number, or for 'none' a Tensor [N]
   * of per-sample upstream gradients.
   */
  backward(grad: number | Tensor = 1): Tensor {
    if (!this.saved) throw new Error('CrossEntropyLoss.backward: call forward() first');
    const { probs, targets, shape, denom, plain } = this.saved;
    const [n, k] = shape;
    const up = upstreamGrad('CrossEntropyLoss', this.reduction, grad, [n]);
    const dlogits = Tensor.zeros(shape);
    const d = dlogits.data;
    const eps = this.labelSmoothing;
    if (plain) {
      const scale = up as number;
      native.crossEntropyBackward(d, probs, targets, scale, n, k);
      if (eps !== 0 && n > 0) {
        // The native kernel gave (p - onehot) scale / N; p - q adds eps (onehot - 1/K).
        const f = (eps * scale) / n;
        for (let i = 0; i < n; i++) {
          for (let c = 0; c < k; c++) d[i * k + c] -= f / k;
          d[i * k + targets[i]] += f;
        }
      }
      return dlogits;
    }
    const w = this.weight?.data ?? null;
    const wsum = w ? w.reduce((a, b) => a + b, 0) : k;
    for (let i = 0; i < n; i++) {
      const t = targets[i];
      if (t === this.ignoreIndex) continue;
      const g = (typeof up === 'number' ? up : up[i]) / denom;
      const hard = (1 - eps) * (w ? w[t] : 1) * g;
      const soft = (eps / k) * g;
      const row = i * k;
      for (let c = 0; c < k; c++) d[row + c] = hard * probs[row + c] + soft * (wsum * probs[row + c] - (w ? w[c] : 1));
      d[row + t] -= hard;
    }
    return dlogits;
  }

  /** Softmax probabilities of the last forward, [N, K]. */
  get probabilities(): Tensor | null {
    return this.saved ? new Tensor(this.saved.probs, this.saved.shape) : null;
  }
}

/** The weight option as a Tensor [K] of finite numbers (a copy). */
function classWeights(value: unknown): Tensor {
  let values: ArrayLike<unknown>;
  if (value instanceof Tensor) {
    if (value.shape.length !== 1)
      throw new RangeError(`CrossEntropyLoss: weight must be 1-d [K], got a Tensor of ${value.shape.length} dims`);
    values = value.data;
  } else if (value instanceof Float32Array || Array.isArray(value)) values = value;
  else
    throw new TypeError(
      `CrossEntropyLoss: weight must be a Tensor, Float32Array or number array, got ${describe(value)}`,
    );
  if (values.length === 0) throw new RangeError('CrossEntropyLoss: weight must hold one value per class, got none');
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = checkNumber(`CrossEntropyLoss: weight[${i}]`, values[i]);
  return new Tensor(out, [out.length]);
}

/** sum over rows of sum_k w_k (-log softmax(z)_k), w_k = 1 without weights, from the logits (no underflow). */
function negLogProbSums(z: Float32Array, n: number, k: number, w: Float32Array | null): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += smoothTerm(z, i * k, k, w, logSumExp(z, i * k, k));
  return total;
}

function logSumExp(z: Float32Array, row: number, k: number): number {
  let max = -Infinity;
  for (let c = 0; c < k; c++) max = Math.max(max, z[row + c]);
  let sum = 0;
  for (let c = 0; c < k; c++) sum += Math.exp(z[row + c] - max);
  return max + Math.log(sum);
}

/** sum_k w_k (lse - z_k) of one row. */
function smoothTerm(z: Float32Array, row: number, k: number, w: Float32Array | null, lse: number): number {
  let s = 0;
  for (let c = 0; c < k; c++) s += (w ? w[c] : 1) * (lse - z[row + c]);
  return s;
}

/** Each row's loss (1 - eps) w_t (-log p_t) + (eps / K) sum_k w_k (-log p_k), 0 for an ignored target. */
function rowLosses(
  z: Float32Array,
  targets: Int32Array,
  n: number,
  k: number,
  w: Float32Array | null,
  eps: number,
  ignoreIndex: number,
): number[] {
  const out = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    const t = targets[i];
    if (t === ignoreIndex) continue;
    const lse = logSumExp(z, i * k, k);
    out[i] = (1 - eps) * (w ? w[t] : 1) * (lse - z[i * k + t]);
    if (eps !== 0) out[i] += (eps / k) * smoothTerm(z, i * k, k, w, lse);
  }
  return out;
}
