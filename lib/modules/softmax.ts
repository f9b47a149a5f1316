// SPDX-License-Identifier: MIT
// Softmax and LogSoftmax along one dimension (negative dims count from the end), numerically stable.
import { checkInt, checkOptions } from '../check';
import { expectShape, formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';

export interface SoftmaxOptions {
  /**
   * The dimension that sums to 1; negative counts from the end (-1 is the last). Required:
   * PyTorch's implicit choice of dim is deprecated, so none is guessed here.
   */
  dim: number;
}

/** Softmax and LogSoftmax share dim handling and the [outer, K, inner] loops; the output is saved for backward. */
abstract class SoftmaxBase extends Module {
  readonly dim: number;
  private savedOutput: Tensor | null = null;

  constructor(name: string, options: SoftmaxOptions) {
    super();
    const o = checkOptions(name, options, ['dim']);
    if (o.dim === undefined || o.dim === null) {
      throw new TypeError(`${name}: option 'dim' is required, e.g. new ${name}({ dim: 1 }) for [N, K] input`);
    }
    this.dim = checkInt(`${name}: dim`, o.dim, -64, 63);
  }

  /** [outer, K, inner] for an input shape: K is the size along dim. A 0-d input counts as 1-d. */
  protected layout(shape: readonly number[]): [number, number, number] {
    const nd = Math.max(shape.length, 1);
    const d = this.dim < 0 ? this.dim + nd : this.dim;
    if (d < 0 || d >= nd) {
      throw new RangeError(
        `${this.constructor.name}: dim ${this.dim} is out of range for input shape ${formatShape(shape)} (expected ${-nd}..${nd - 1})`,
      );
    }
    let outer = 1;
    let inner = 1;
    for (let i = 0; i < d; i++) outer *= shape[i];
    for (let i = d + 1; i < shape.length; i++) inner *= shape[i];
    return [outer, shape.length === 0 ? 1 : shape[d], inner];
  }

  outputShape(inputShape: readonly number[]): number[] {
    this.layout(inputShape);
    return [...inputShape];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    const [outer, k, inner] = this.layout(input.shape);
    const out = this.scratch('out', input.shape, ctx.reuse);
    const x = input.data;
    const y = out.data;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * k * inner + j;
        let max = -Infinity;
        for (let c = 0; c < k; c++) max = Math.max(max, x[base + c * inner]);
        this.normalise(y, x, base, k, inner, max);
      }
    }
    if (ctx.keepState !== false) this.savedOutput = out;
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const out = requireSaved(this.savedOutput, this.constructor.name);
    expectShape(`${this.constructor.name}.backward: doutput`, doutput.shape, out.shape);
    if (!ctx.inputGrad) return null;
    const [outer, k, inner] = this.layout(out.shape);
    const dinput = ctx.overwriteGrad ? doutput : this.scratch('dinput', out.shape, ctx.reuse);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) this.gradient(dinput.data, doutput.data, out.data, o * k * inner + j, k, inner);
    }
    return dinput;
  }

  /** Writes one slice y[base + c * inner], c < k, from x and the slice maximum. */
  protected abstract normalise(
    y: Float32Array,
    x: Float32Array,
    base: number,
    k: number,
    inner: number,
    max: number,
  ): void;
  /** Writes one slice of dx (which may be g) from g and the saved output y. */
  protected abstract gradient(
    dx: Float32Array,
    g: Float32Array,
    y: Float32Array,
    base: number,
    k: number,
    inner: number,
  ): void;

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * exp(x_i) / sum_j exp(x_j) along `dim`, as torch.nn.Softmax(dim). The maximum is subtracted first,
 * so large inputs do not overflow; sums are in float64.
 *
 * Shape: any -> same (dim must lie in -ndim..ndim-1).
 *
 * @example
 * const sm = new Softmax({ dim: -1 });
 * sm.forward(Tensor.fromArray([1, 1, 1, 1], [2, 2])); // [[0.5, 0.5], [0.5, 0.5]]
 */
export class Softmax extends SoftmaxBase {
  constructor(options: SoftmaxOptions) {
    super('Softmax', options);
  }

  protected normalise(y: Float32Array, x: Float32Array, base: number, k: number, inner: number, max: number): void {
    let sum = 0;
    for (let c = 0, i = base; c < k; c++, i += inner) {
      const e = Math.exp(x[i] - max);
      y[i] = e;
      sum += e;
    }
    for (let c = 0, i = base; c < k; c++, i += inner) y[i] /= sum;
  }

  // dx = y (g - sum_j g_j y_j): the softmax Jacobian diag(y) - y y^T applied to g.
  protected gradient(dx: Float32Array, g: Float32Array, y: Float32Array, base: number, k: number, inner: number): void {
    let dot = 0;
    for (let c = 0, i = base; c < k; c++, i += inner) dot += g[i] * y[i];
    for (let c = 0, i = base; c < k; c++, i += inner) dx[i] = y[i] * (g[i] - dot);
  }
}

/**
 * x_i - log(sum_j exp(x_j)) along `dim`, as torch.nn.LogSoftmax(dim), by log-sum-exp with the
 * maximum subtracted (finite for any finite input). Pair it with NLLLoss.
 *
 * Shape: any -> same (dim must lie in -ndim..ndim-1).
 *
 * @example
 * const logp = new LogSoftmax({ dim: 1 }).forward(logits); // [N, K] log-probabilities
 */
export class LogSoftmax extends SoftmaxBase {
  constructor(options: SoftmaxOptions) {
    super('LogSoftmax', options);
  }

  protected normalise(y: Float32Array, x: Float32Array, base: number, k: number, inner: number, max: number): void {
    let sum = 0;
    for (let c = 0, i = base; c < k; c++, i += inner) sum += Math.exp(x[i] - max);
    const shift = max + Math.log(sum);
    for (let c = 0, i = base; c < k; c++, i += inner) y[i] = x[i] - shift;
  }

  // dx = g - exp(y) sum_j g_j (PyTorch's log_softmax_backward).
  protected gradient(dx: Float32Array, g: Float32Array, y: Float32Array, base: number, k: number, inner: number): void {
    let sum = 0;
    for (let c = 0, i = base; c < k; c++, i += inner) sum += g[i];
    for (let c = 0, i = base; c < k; c++, i += inner) dx[i] = g[i] - Math.exp(y[i]) * sum;
  }
}
