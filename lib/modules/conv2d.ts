// SPDX-License-Identifier: MIT
// Conv2d: 2-D convolution layer over NCHW input (state and validation; the maths is in native/).
import { checkBool, checkInstance, checkInt, checkIntPair, checkOptions, type IntPair } from '../check';
import { defaultGenerator, Generator } from '../random';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { checkGroups } from './conv-base';
import { ForwardContext } from './module';
import {
  checkPadsFit,
  checkPaddingMode,
  kernelPads,
  resolvePadding,
  type AxisPads,
  type PaddingMode,
} from './conv-padding';
import { PaddedConv, type ConvSizes } from './padded-conv';
import { pairRepr } from './options';
import { Parameter } from './parameter';

export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: IntPair;
  /** Default 1. */
  stride?: IntPair;
  /**
   * Padding on each side (a size or [h, w]), 'valid' (none) or 'same' (output size = input size; stride 1 only; an
   * even dilated kernel pads one more after than before, as PyTorch). Default 0.
   */
  padding?: IntPair | 'same' | 'valid';
  /** What the padding holds: 'zeros' (default), 'reflect', 'replicate' or 'circular', as PyTorch's padding_mode. */
  paddingMode?: PaddingMode;
  /** Default 1. */
  dilation?: IntPair;
  /** Default 1; must divide inChannels and outChannels. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
  /** Generator for the initial weights; default the global one (manualSeed). */
  generator?: Generator;
}

/** The options Conv1d and Conv2d take besides `generator` (as their JSON spec types list them). */
export const CONV_OPTIONS = [
  'inChannels',
  'outChannels',
  'kernelSize',
  'stride',
  'padding',
  'paddingMode',
  'dilation',
  'groups',
  'bias',
] as const;
const KNOWN = [...CONV_OPTIONS, 'generator'];

/**
 * Applies a 2-D convolution, as torch.nn.Conv2d (padding sizes, 'same', 'valid' and every padding_mode).
 *
 * Shape: input [N, inChannels, H, W] -> output [N, outChannels, OH, OW],
 * OH = floor((H + padTop + padBottom - dilation (kernel - 1) - 1) / stride) + 1.
 * Zero padding equal on both sides runs inside the native kernel; other padding ('same' with an even kernel, reflect,
 * replicate, circular) pads the input first and folds the gradient back in backward.
 * Parameters: `weight` [outChannels, inChannels / groups, kH, kW], `bias` [outChannels].
 *
 * @example
 * const conv = new Conv2d({ inChannels: 3, outChannels: 6, kernelSize: 5 });
 * const y = conv.forward(x); // [N, 3, 32, 32] -> [N, 6, 28, 28]
 */
export class Conv2d extends PaddedConv {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  /** The padding option: [h, w] on each side, or 'same' ('valid' is [0, 0]). */
  readonly padding: [number, number] | 'same';
  /** The resolved padding before and after each of the H and W axes. */
  readonly pads: AxisPads;
  readonly paddingMode: PaddingMode;
  readonly dilation: [number, number];
  readonly groups: number;
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  protected readonly viewPads: AxisPads;
  protected readonly kernelPads: boolean;

  constructor(options: Conv2dOptions) {
    super();
    const o = checkOptions('Conv2d', options, KNOWN);
    this.inChannels = checkInt('Conv2d: inChannels', o.inChannels);
    this.outChannels = checkInt('Conv2d: outChannels', o.outChannels);
    this.kernelSize = checkIntPair('Conv2d: kernelSize', o.kernelSize, 1);
    this.stride = checkIntPair('Conv2d: stride', o.stride ?? 1, 1);
    this.dilation = checkIntPair('Conv2d: dilation', o.dilation ?? 1, 1);
    this.paddingMode = checkPaddingMode('Conv2d', o.paddingMode);
    const resolved = resolvePadding('Conv2d', o.padding ?? 0, this.kernelSize, this.stride, this.dilation, (v) =>
      checkIntPair('Conv2d: padding', v, 0),
    );
    this.pads = { before: resolved.before, after: resolved.after };
    this.viewPads = this.pads;
    this.padding = resolved.same ? 'same' : [resolved.before[0], resolved.before[1]];
    this.kernelPads = kernelPads(this.pads, this.paddingMode);
    this.groups = checkInt('Conv2d: groups', o.groups ?? 1);
    const bias = checkBool('Conv2d: bias', o.bias ?? true);
    const rng = checkInstance('Conv2d: generator', o.generator ?? defaultGenerator, Generator);
    checkGroups('Conv2d', this.inChannels, this.outChannels, this.groups);
    [this.weight, this.bias] = this.registerConvParameters(
      [this.outChannels, this.inChannels / this.groups, ...this.kernelSize],
      this.outChannels,
      bias,
    );
    this.resetParameters(rng);
  }

  protected fanIn(): number {
    return (this.inChannels / this.groups) * this.kernelSize[0] * this.kernelSize[1];
  }

  outputShape(inputShape: readonly number[]): number[] {
    expectShape('Conv2d: input', inputShape, [-1, this.inChannels, -1, -1]);
    checkPadsFit('Conv2d', this.paddingMode, this.pads, inputShape.slice(2));
    const size = (i: number) => {
      const span =
        inputShape[2 + i] + this.pads.before[i] + this.pads.after[i] - this.dilation[i] * (this.kernelSize[i] - 1) - 1;
      return span < 0 ? 0 : Math.floor(span / this.stride[i]) + 1;
    };
    const [oh, ow] = [size(0), size(1)];
    if (oh < 1 || ow < 1) {
      throw new RangeError(
        `Conv2d: input ${inputShape[2]}x${inputShape[3]} is smaller than the (dilated) kernel ${pairRepr(this.kernelSize)} with padding ${this.paddingRepr()}`,
      );
    }
    return [inputShape[0], this.outChannels, oh, ow];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    return this.convolve(input, ctx, false);
  }

  /** forward() followed by ReLU in one pass (Sequential uses it for Conv2d + ReLU pairs). */
  forwardWithRelu(input: Tensor, ctx: ForwardContext): Tensor {
    return this.convolve(input, ctx, true);
  }

  protected nchwView(t: Tensor): Tensor {
    return t;
  }

  /** The symmetric zero padding the native kernel applies: none when the input was padded before. */
  nativePadding(): [number, number] {
    return this.kernelPads ? [this.pads.before[0], this.pads.before[1]] : [0, 0];
  }

  private paddingRepr(): string {
    return this.padding === 'same' ? "'same'" : pairRepr(this.padding);
  }

  protected nativeSizes(view: Tensor): ConvSizes {
    const [n, c, h, w] = view.shape;
    return [
      n,
      c,
      h,
      w,
      this.outChannels,
      ...this.kernelSize,
      ...this.stride,
      ...this.nativePadding(),
      ...this.dilation,
      this.groups,
    ];
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}`, `kernelSize=${pairRepr(this.kernelSize)}`];
    if (this.stride.some((s) => s !== 1)) parts.push(`stride=${pairRepr(this.stride)}`);
    if (this.padding === 'same' || this.padding.some((p) => p !== 0)) parts.push(`padding=${this.paddingRepr()}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${pairRepr(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=false');
    if (this.paddingMode !== 'zeros') parts.push(`paddingMode='${this.paddingMode}'`);
    return parts.join(', ');
  }
}
