// SPDX-License-Identifier: MIT
// Conv1d: 1-D convolution layer over [N, C, L] input, run by the native conv2d kernels with H = 1 (no maths here).
import { checkBool, checkInstance, checkInt, checkOptions, describe } from '../check';
import { ShapeError } from '../errors';
import { defaultGenerator, Generator } from '../random';
import { expectShape, formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { CONV_OPTIONS } from './conv2d';
import {
  checkPadsFit,
  checkPaddingMode,
  kernelPads,
  resolvePadding,
  type AxisPads,
  type PaddingMode,
} from './conv-padding';
import { checkGroups } from './conv-base';
import { ForwardContext } from './module';
import { PaddedConv, type ConvSizes } from './padded-conv';
import { Parameter } from './parameter';

/** A 1-D size: a number or a one-element array, as PyTorch's `int or (int,)`. */
export type IntOne = number | readonly [number];

export interface Conv1dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: IntOne;
  /** Default 1. */
  stride?: IntOne;
  /**
   * Padding on each side, 'valid' (none) or 'same' (output length = input length; stride 1 only; an even dilated
   * kernel pads one more after than before, as PyTorch). Default 0.
   */
  padding?: IntOne | 'same' | 'valid';
  /** What the padding holds: 'zeros' (default), 'reflect', 'replicate' or 'circular', as PyTorch's padding_mode. */
  paddingMode?: PaddingMode;
  /** Default 1. */
  dilation?: IntOne;
  /** Default 1; must divide inChannels and outChannels. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
  /** Generator for the initial weights; default the global one (manualSeed). */
  generator?: Generator;
}

const KNOWN = [...CONV_OPTIONS, 'generator'];

/** Reads a 1-D size option (`3` or `[3]`) and checks it is an integer >= min. */
function intOne(what: string, value: unknown, min: number): number {
  if (Array.isArray(value)) {
    if (value.length !== 1)
      throw new RangeError(`${what} must be a number or a one-element array, got ${value.length} entries`);
    return checkInt(what, value[0], min);
  }
  if (typeof value !== 'number') {
    throw new TypeError(`${what} must be a number or a one-element array, got ${describe(value)}`);
  }
  return checkInt(what, value, min);
}

/**
 * Applies a 1-D convolution, as torch.nn.Conv1d (padding sizes, 'same', 'valid' and every padding_mode).
 *
 * Shape: input [N, inChannels, L] -> output [N, outChannels, LOut],
 * LOut = floor((L + padBefore + padAfter - dilation (kernelSize - 1) - 1) / stride) + 1.
 * Parameters: `weight` [outChannels, inChannels / groups, kernelSize], `bias` [outChannels].
 * A [N, C, L] tensor is a [N, C, 1, L] image and the weight a [out, in, 1, k] kernel over the same
 * memory, so forward and backward are the native Conv2d kernels with height 1.
 *
 * @example
 * const conv = new Conv1d({ inChannels: 2, outChannels: 2, kernelSize: 3, bias: false });
 * const y = conv.forward(x); // [N, 2, 4] -> [N, 2, 2]
 */
export class Conv1d extends PaddedConv {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  /** The padding option: a size on each side, or 'same' ('valid' is 0). */
  readonly padding: number | 'same';
  /** The resolved padding before and after the length axis. */
  readonly pads: AxisPads;
  readonly paddingMode: PaddingMode;
  readonly dilation: number;
  readonly groups: number;
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  /** The pads of the [N, C, 1, L] view (none on the height axis). */
  protected readonly viewPads: AxisPads;
  protected readonly kernelPads: boolean;

  constructor(options: Conv1dOptions) {
    super();
    const o = checkOptions('Conv1d', options, KNOWN);
    this.inChannels = checkInt('Conv1d: inChannels', o.inChannels);
    this.outChannels = checkInt('Conv1d: outChannels', o.outChannels);
    this.kernelSize = intOne('Conv1d: kernelSize', o.kernelSize, 1);
    this.stride = intOne('Conv1d: stride', o.stride ?? 1, 1);
    this.dilation = intOne('Conv1d: dilation', o.dilation ?? 1, 1);
    this.paddingMode = checkPaddingMode('Conv1d', o.paddingMode);
    const resolved = resolvePadding(
      'Conv1d',
      o.padding ?? 0,
      [this.kernelSize],
      [this.stride],
      [this.dilation],
      (v) => [intOne('Conv1d: padding', v, 0)],
    );
    this.pads = { before: resolved.before, after: resolved.after };
    this.padding = resolved.same ? 'same' : resolved.before[0];
    this.viewPads = { before: [0, resolved.before[0]], after: [0, resolved.after[0]] };
    this.kernelPads = kernelPads(this.pads, this.paddingMode);
    this.groups = checkInt('Conv1d: groups', o.groups ?? 1);
    const bias = checkBool('Conv1d: bias', o.bias ?? true);
    const rng = checkInstance('Conv1d: generator', o.generator ?? defaultGenerator, Generator);
    checkGroups('Conv1d', this.inChannels, this.outChannels, this.groups);
    [this.weight, this.bias] = this.registerConvParameters(
      [this.outChannels, this.inChannels / this.groups, this.kernelSize],
      this.outChannels,
      bias,
    );
    this.resetParameters(rng);
  }

  protected fanIn(): number {
    return (this.inChannels / this.groups) * this.kernelSize;
  }

  outputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 3) {
      throw new ShapeError(
        `Conv1d: input must be [N, C, L] (3 dimensions), got ${formatShape(inputShape)}` +
          (inputShape.length === 2 ? '; reshape one unbatched [C, L] sample to [1, C, L]' : ''),
      );
    }
    expectShape('Conv1d: input', inputShape, [-1, this.inChannels, -1]);
    checkPadsFit('Conv1d', this.paddingMode, this.pads, inputShape.slice(2));
    const span = inputShape[2] + this.pads.before[0] + this.pads.after[0] - this.dilation * (this.kernelSize - 1) - 1;
    if (span < 0) {
      throw new RangeError(
        `Conv1d: input length ${inputShape[2]} is shorter than the (dilated) kernel ${this.dilation * (this.kernelSize - 1) + 1} with padding ${this.padding}`,
      );
    }
    return [inputShape[0], this.outChannels, Math.floor(span / this.stride) + 1];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    if (!(input instanceof Tensor)) throw new TypeError(`Conv1d: input must be a Tensor, got ${describe(input)}`);
    return this.convolve(input, ctx, false);
  }

  /** [N, C, L] as [N, C, 1, L]. */
  protected nchwView(t: Tensor): Tensor {
    const [n, c, l] = t.shape;
    return t.reshape([n, c, 1, l]);
  }

  /** The padding the native kernel applies on the length axis: none when the input was padded before. */
  nativePadding(): number {
    return this.kernelPads ? this.pads.before[0] : 0;
  }

  protected nativeSizes(view: Tensor): ConvSizes {
    const [n, c, , l] = view.shape;
    return [
      n,
      c,
      1,
      l,
      this.outChannels,
      1,
      this.kernelSize,
      1,
      this.stride,
      0,
      this.nativePadding(),
      1,
      this.dilation,
      this.groups,
    ];
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}`, `kernelSize=${this.kernelSize}`];
    if (this.stride !== 1) parts.push(`stride=${this.stride}`);
    if (this.padding !== 0) parts.push(`padding=${this.padding === 'same' ? "'same'" : this.padding}`);
    if (this.dilation !== 1) parts.push(`dilation=${this.dilation}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=false');
    if (this.paddingMode !== 'zeros') parts.push(`paddingMode='${this.paddingMode}'`);
    return parts.join(', ');
  }
}
