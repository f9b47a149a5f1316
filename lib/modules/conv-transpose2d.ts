// SPDX-License-Identifier: MIT
// ConvTranspose2d: the transposed 2-D convolution (state and validation). Its forward is a Conv2d's input gradient
// (native conv2dTransposeForward), its backward a Conv2d forward and weight gradient: the conv kernels serve all three.
import { checkBool, checkInstance, checkInt, checkIntPair, checkOptions, type IntPair } from '../check';
import { native } from '../native';
import { defaultGenerator, Generator } from '../random';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { foldPaddedGrad, padSpatial, paddedShape, type AxisPads } from './conv-padding';
import { checkGroups, ConvBase } from './conv-base';
import { BackwardContext, ForwardContext, requireSaved } from './module';
import { pairRepr } from './options';
import { Parameter } from './parameter';

export interface ConvTranspose2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: IntPair;
  /** Default 1. */
  stride?: IntPair;
  /** dilation * (kernel - 1) - padding zeros are added on each side of the input (PyTorch's meaning). Default 0. */
  padding?: IntPair;
  /** Rows and columns added after the output (each < stride or < dilation, as PyTorch). Default 0. */
  outputPadding?: IntPair;
  /** Default 1. */
  dilation?: IntPair;
  /** Default 1; must divide inChannels and outChannels. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
  /** Generator for the initial weights; default the global one (manualSeed). */
  generator?: Generator;
}

/** The options ConvTranspose2d takes besides `generator` (as its JSON spec type lists them). */
export const CONV_TRANSPOSE_OPTIONS = [
  'inChannels',
  'outChannels',
  'kernelSize',
  'stride',
  'padding',
  'outputPadding',
  'dilation',
  'groups',
  'bias',
] as const;
const KNOWN = [...CONV_TRANSPOSE_OPTIONS, 'generator'];

/**
 * Applies a 2-D transposed convolution, as torch.nn.ConvTranspose2d (the gradient of Conv2d with respect to its input).
 *
 * Shape: input [N, inChannels, H, W] -> output [N, outChannels, OH, OW],
 * OH = (H - 1) stride - 2 padding + dilation (kernel - 1) + outputPadding + 1.
 * Parameters: `weight` [inChannels, outChannels / groups, kH, kW], `bias` [outChannels].
 *
 * @example
 * const up = new ConvTranspose2d({ inChannels: 16, outChannels: 8, kernelSize: 2, stride: 2 });
 * const y = up.forward(x); // [N, 16, 8, 8] -> [N, 8, 16, 16]
 */
export class ConvTranspose2d extends ConvBase {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  /** The (bottom/right zero-extended, see convInputShape) input of the last forward, and its shape before. */
  private savedInput: Tensor | null = null;
  private savedShape: readonly number[] = [];

  constructor(options: ConvTranspose2dOptions) {
    super();
    const o = checkOptions('ConvTranspose2d', options, KNOWN);
    this.inChannels = checkInt('ConvTranspose2d: inChannels', o.inChannels);
    this.outChannels = checkInt('ConvTranspose2d: outChannels', o.outChannels);
    this.kernelSize = checkIntPair('ConvTranspose2d: kernelSize', o.kernelSize, 1);
    this.stride = checkIntPair('ConvTranspose2d: stride', o.stride ?? 1, 1);
    this.padding = checkIntPair('ConvTranspose2d: padding', o.padding ?? 0, 0);
    this.outputPadding = checkIntPair('ConvTranspose2d: outputPadding', o.outputPadding ?? 0, 0);
    this.dilation = checkIntPair('ConvTranspose2d: dilation', o.dilation ?? 1, 1);
    this.groups = checkInt('ConvTranspose2d: groups', o.groups ?? 1);
    const bias = checkBool('ConvTranspose2d: bias', o.bias ?? true);
    const rng = checkInstance('ConvTranspose2d: generator', o.generator ?? defaultGenerator, Generator);
    for (const i of [0, 1]) {
      if (this.outputPadding[i] >= this.stride[i] && this.outputPadding[i] >= this.dilation[i]) {
        throw new RangeError(
          `ConvTranspose2d: outputPadding ${pairRepr(this.outputPadding)} must be smaller than either stride ` +
            `${pairRepr(this.stride)} or dilation ${pairRepr(this.dilation)} on each axis`,
        );
      }
    }
    checkGroups('ConvTranspose2d', this.inChannels, this.outChannels, this.groups);
    [this.weight, this.bias] = this.registerConvParameters(
      [this.inChannels, this.outChannels / this.groups, ...this.kernelSize],
      this.outChannels,
      bias,
    );
    this.resetParameters(rng);
  }

  /** PyTorch's fan-in for transposed convolutions: weight dim 1 (outChannels / groups) times the kernel. */
  protected fanIn(): number {
    return (this.outChannels / this.groups) * this.kernelSize[0] * this.kernelSize[1];
  }

  outputShape(inputShape: readonly number[]): number[] {
    expectShape('ConvTranspose2d: input', inputShape, [-1, this.inChannels, -1, -1]);
    const size = (i: number) =>
      (inputShape[2 + i] - 1) * this.stride[i] -
      2 * this.padding[i] +
      this.dilation[i] * (this.kernelSize[i] - 1) +
      this.outputPadding[i] +
      1;
    const [oh, ow] = [size(0), size(1)];
    if (oh < 1 || ow < 1) {
      throw new RangeError(
        `ConvTranspose2d: input ${inputShape[2]}x${inputShape[3]} gives an empty output ${oh}x${ow} with padding ${pairRepr(this.padding)}`,
      );
    }
    return [inputShape[0], this.outChannels, oh, ow];
  }

  /**
   * The input as the Conv2d mapping the output back sees it: that Conv2d gives floor((OH + 2 padding - dilation
   * (kernel - 1) - 1) / stride) + 1 rows, which is H unless outputPadding >= stride (allowed when dilation is larger);
   * then the input is extended with zero rows/columns at the end, which add nothing to the output.
   */
  convInputShape(inputShape: readonly number[]): number[] {
    const out = this.outputShape(inputShape);
    const back = (i: number) =>
      Math.floor(
        (out[2 + i] + 2 * this.padding[i] - this.dilation[i] * (this.kernelSize[i] - 1) - 1) / this.stride[i],
      ) + 1;
    return [inputShape[0], this.inChannels, back(0), back(1)];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    const outShape = this.outputShape(input.shape);
    const out = this.scratch('out', outShape, ctx.reuse);
    const x = this.extended(input, ctx.reuse);
    native.conv2dTransposeForward(
      out.data,
      x.data,
      this.weight.data.data,
      this.bias?.data.data ?? null,
      x.shape[0],
      this.inChannels,
      x.shape[2],
      x.shape[3],
      this.outChannels,
      ...this.kernelSize,
      ...this.stride,
      ...this.padding,
      outShape[2],
      outShape[3],
      ...this.dilation,
      this.groups,
    );
    if (ctx.keepState !== false) {
      this.savedInput = x;
      this.savedShape = input.shape;
    }
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const x = requireSaved(this.savedInput, 'ConvTranspose2d');
    const outShape = this.outputShape(this.savedShape);
    expectShape('ConvTranspose2d.backward: doutput', doutput.shape, outShape);
    // The Conv2d from this layer's output [N, outC, OH, OW] to its (extended) input [N, inC, H', W'].
    const sizes = [
      outShape[0],
      this.outChannels,
      outShape[2],
      outShape[3],
      this.inChannels,
      ...this.kernelSize,
      ...this.stride,
      ...this.padding,
      ...this.dilation,
      this.groups,
    ] as const;
    // dweight += corr(doutput, input): the Conv2d's weight gradient with doutput as its input.
    native.conv2dBackward(null, this.weight.grad.data, null, x.data, doutput.data, this.weight.data.data, ...sizes);
    if (this.bias) addChannelSums(this.bias.grad.data, doutput);
    if (!ctx.inputGrad) return null;
    const extended = x.shape[2] !== this.savedShape[2] || x.shape[3] !== this.savedShape[3];
    const dx = this.scratch(extended ? 'dextended' : 'dinput', x.shape, ctx.reuse);
    native.conv2dForward(dx.data, doutput.data, this.weight.data.data, null, ...sizes);
    if (!extended) return dx;
    const dinput = this.scratch('dinput', this.savedShape, ctx.reuse, true);
    foldPaddedGrad(dx, dinput, this.extension(this.savedShape), 'zeros');
    return dinput;
  }

  /** `input`, or a copy extended with zeros to convInputShape. */
  private extended(input: Tensor, reuse: boolean): Tensor {
    const pads = this.extension(input.shape);
    if (pads.after[0] === 0 && pads.after[1] === 0) return input;
    const x = this.scratch('extended', paddedShape(input.shape, pads), reuse);
    padSpatial(input, x, pads, 'zeros');
    return x;
  }

  private extension(inputShape: readonly number[]): AxisPads {
    const conv = this.convInputShape(inputShape);
    return { before: [0, 0], after: [conv[2] - inputShape[2], conv[3] - inputShape[3]] };
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}`, `kernelSize=${pairRepr(this.kernelSize)}`];
    if (this.stride.some((s) => s !== 1)) parts.push(`stride=${pairRepr(this.stride)}`);
    if (this.padding.some((p) => p !== 0)) parts.push(`padding=${pairRepr(this.padding)}`);
    if (this.outputPadding.some((p) => p !== 0)) parts.push(`outputPadding=${pairRepr(this.outputPadding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${pairRepr(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=false');
    return parts.join(', ');
  }
}

/** db[c] += the sum of g [N, C, H, W] over N, H and W (in float64, then rounded once). */
function addChannelSums(db: Float32Array, g: Tensor): void {
  const [n, c, h, w] = g.shape;
  const plane = h * w;
  for (let ch = 0; ch < c; ch++) {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const base = (i * c + ch) * plane;
      for (let k = 0; k < plane; k++) acc += g.data[base + k];
    }
    db[ch] += acc;
  }
}
