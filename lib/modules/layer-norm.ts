// SPDX-License-Identifier: MIT
// LayerNorm: normalises each sample over its last dims (normalizedShape), with a per-element weight and bias.
import { checkArray, checkBool, checkInt, checkNumber, checkOptions, describe } from '../check';
import { ShapeError } from '../errors';
import { expectShape, formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';
import { normRowsBackward, normRowsForward, type RowStats } from './norm-rows';
import { Parameter } from './parameter';

export interface LayerNormOptions {
  /** The trailing dims normalised together: one size or a list, e.g. [C, H, W] or the feature count. */
  normalizedShape: number | readonly number[];
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Learnable `weight` (ones) and `bias` (zeros) of shape normalizedShape. Default true. */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, also learn the bias. Default true. */
  bias?: boolean;
}

/** Most values the weight may hold (the tensor cap). */
const MAX_VALUES = 2 ** 32;

/**
 * Layer normalisation, as torch.nn.LayerNorm: each input is normalised over its last normalizedShape.length dims with
 * their mean and biased variance, y = (x - mean) / sqrt(var + eps) * weight + bias, in training and eval mode alike.
 * Options: normalizedShape, eps = 1e-5, elementwiseAffine = true, bias = true (both as PyTorch's).
 *
 * Shape: [*, ...normalizedShape] -> same.
 *
 * @example
 * const ln = new LayerNorm({ normalizedShape: [16, 8, 8] });
 * ln.forward(x); // x [N, 16, 8, 8]: each sample normalised as a whole
 */
export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  private saved: { input: Tensor; stats: RowStats } | null = null;

  constructor(options: LayerNormOptions) {
    super();
    if (options === undefined || options === null)
      throw new TypeError('LayerNorm: options must be an object with normalizedShape, got ' + describe(options));
    const o = checkOptions('LayerNorm', options, ['normalizedShape', 'eps', 'elementwiseAffine', 'bias']);
    const shape = o.normalizedShape;
    if (shape === undefined || shape === null)
      throw new TypeError(`LayerNorm: normalizedShape must be a number or an array of numbers, got ${describe(shape)}`);
    const dims = typeof shape === 'number' ? [shape] : checkArray('LayerNorm: normalizedShape', shape);
    if (dims.length === 0) throw new RangeError('LayerNorm: normalizedShape must hold at least one size, got []');
    this.normalizedShape = Object.freeze(dims.map((d) => checkInt('LayerNorm: normalizedShape', d, 1)));
    const values = this.normalizedShape.reduce((a, b) => a * b, 1);
    if (values > MAX_VALUES)
      throw new RangeError(
        `LayerNorm: normalizedShape ${formatShape(this.normalizedShape)} holds more than 2^32 values`,
      );
    this.eps = checkNumber('LayerNorm: eps', o.eps ?? 1e-5, { min: 0 });
    this.elementwiseAffine = checkBool('LayerNorm: elementwiseAffine', o.elementwiseAffine ?? true);
    const withBias = checkBool('LayerNorm: bias', o.bias ?? true);
    const ones = (): Parameter => {
      const p = new Parameter(Tensor.zeros(this.normalizedShape));
      p.data.data.fill(1);
      return p;
    };
    this.weight = this.elementwiseAffine ? this.registerParameter('weight', ones()) : null;
    this.bias =
      this.elementwiseAffine && withBias
        ? this.registerParameter('bias', new Parameter(Tensor.zeros(this.normalizedShape)))
        : null;
  }

  /** [rows, values per row] for an input ending in normalizedShape; a ShapeError otherwise. */
  private dims(shape: readonly number[]): [number, number] {
    const k = this.normalizedShape.length;
    const tail = shape.slice(shape.length - k);
    if (shape.length < k || tail.some((d, i) => d !== this.normalizedShape[i]))
      throw new ShapeError(
        `LayerNorm: input ${formatShape(shape)} does not end in normalizedShape ${formatShape(this.normalizedShape)}`,
      );
    const m = tail.reduce((a, b) => a * b, 1);
    return [shape.slice(0, shape.length - k).reduce((a, b) => a * b, 1), m];
  }

  outputShape(inputShape: readonly number[]): number[] {
    this.dims(inputShape);
    return [...inputShape];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    const [rows, m] = this.dims(input.shape);
    const out = this.scratch('out', input.shape, ctx.reuse);
    const w = this.weight?.data.data ?? null;
    const stats = normRowsForward(out.data, input.data, w, this.bias?.data.data ?? null, rows, m, this.eps);
    if (ctx.keepState !== false) this.saved = { input, stats };
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const { input, stats } = requireSaved(this.saved, 'LayerNorm');
    expectShape('LayerNorm.backward: doutput', doutput.shape, input.shape);
    const [rows, m] = this.dims(input.shape);
    const dinput = ctx.inputGrad ? this.scratch('dinput', input.shape, ctx.reuse) : null;
    normRowsBackward(
      dinput?.data ?? null,
      this.weight?.grad.data ?? null,
      this.bias?.grad.data ?? null,
      doutput.data,
      input.data,
      stats,
      this.weight?.data.data ?? null,
      rows,
      m,
    );
    return dinput;
  }

  override extraRepr(): string {
    return `${formatShape(this.normalizedShape)}, eps=${this.eps}, elementwiseAffine=${this.elementwiseAffine}, bias=${this.bias !== null}`;
  }
}
