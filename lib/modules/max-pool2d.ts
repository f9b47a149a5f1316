// SPDX-License-Identifier: MIT
// MaxPool2d: 2-D max pooling over NCHW input, keeping argmax indices for backward.
import { native } from '../native';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';
import { checkBool, checkIntPair, type IntPair } from '../check';
import { pairRepr, poolOutputSize, poolWindow } from './options';

export interface MaxPool2dOptions {
  kernelSize: IntPair;
  /** Default: kernelSize. */
  stride?: IntPair;
  /** Implicit -infinity padding on each side, at most half the kernel. Default 0. */
  padding?: IntPair;
  /** Spacing between the window's taps. Default 1. */
  dilation?: IntPair;
  /** Use ceil instead of floor for the output size. Default false. */
  ceilMode?: boolean;
}

const KNOWN = ['kernelSize', 'stride', 'padding', 'dilation', 'ceilMode'];

/**
 * Max pooling, as torch.nn.MaxPool2d. Accepts a kernel size or an options object.
 *
 * Shape: [N, C, H, W] -> [N, C, OH, OW], OH = floor((H + 2 padding - dilation (kernel - 1) - 1) / stride) + 1.
 * As in PyTorch, padding is limited by the kernel size, not by the dilated extent.
 *
 * @example
 * const pool = new MaxPool2d(2); // [N, 6, 28, 28] -> [N, 6, 14, 14]
 */
export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly ceilMode: boolean;
  private saved: { input: readonly number[]; argmax: Int32Array } | null = null;

  constructor(options: MaxPool2dOptions | IntPair) {
    super();
    const { options: opts, kernelSize, stride, padding } = poolWindow<MaxPool2dOptions>('MaxPool2d', options, KNOWN);
    [this.kernelSize, this.stride, this.padding] = [kernelSize, stride, padding];
    this.dilation = checkIntPair('MaxPool2d: dilation', opts.dilation ?? 1, 1);
    this.ceilMode = checkBool('MaxPool2d: ceilMode', opts.ceilMode ?? false);
  }

  outputShape(inputShape: readonly number[]): number[] {
    expectShape('MaxPool2d: input', inputShape, [-1, -1, -1, -1]);
    const size = (i: number) =>
      poolOutputSize(
        inputShape[2 + i],
        this.kernelSize[i],
        this.stride[i],
        this.padding[i],
        this.ceilMode,
        this.dilation[i],
      );
    const [oh, ow] = [size(0), size(1)];
    const dilated = this.dilation[0] !== 1 || this.dilation[1] !== 1 ? ` (dilation ${pairRepr(this.dilation)})` : '';
    if (oh < 1 || ow < 1)
      throw new RangeError(
        `MaxPool2d: input ${inputShape[2]}x${inputShape[3]} is smaller than the kernel ${pairRepr(this.kernelSize)}${dilated}`,
      );
    if ([0, 1].some((i) => windowInPadding(inputShape[2 + i], this.kernelSize[i], this.padding[i], this.dilation[i]))) {
      throw new RangeError(
        `MaxPool2d: input ${inputShape[2]}x${inputShape[3]} is too small for dilation ${pairRepr(this.dilation)}: a window of kernel ${pairRepr(this.kernelSize)} holds only padding ${pairRepr(this.padding)}`,
      );
    }
    return [inputShape[0], inputShape[1], oh, ow];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    const out = this.scratch('out', this.outputShape(input.shape), ctx.reuse);
    const argmax = ctx.reuse && this.saved?.argmax.length === out.size ? this.saved.argmax : new Int32Array(out.size);
    native.maxPool2dForward(out.data, argmax, input.data, ...this.sizes(input.shape));
    if (ctx.keepState !== false) this.saved = { input: input.shape, argmax };
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    return ctx.inputGrad ? this.inputGrad(doutput, null, ctx.reuse) : null;
  }

  /**
   * The input gradient when the input was `reluOutput`, a built-in ReLU's output: that ReLU's backward runs in the
   * same native pass (Sequential; the same bits as the two backward passes).
   */
  backwardThroughRelu(doutput: Tensor, reluOutput: Tensor, ctx: BackwardContext): Tensor {
    return this.inputGrad(doutput, reluOutput, ctx.reuse);
  }

  private inputGrad(doutput: Tensor, reluOutput: Tensor | null, reuse: boolean): Tensor {
    const saved = requireSaved(this.saved, 'MaxPool2d');
    expectShape('MaxPool2d.backward: doutput', doutput.shape, this.outputShape(saved.input));
    if (reluOutput) expectShape('MaxPool2d.backward: reluOutput', reluOutput.shape, saved.input);
    // The kernel overwrites dinput (overwriteDinput 1), so its scratch needs no zero fill.
    const dinput = this.scratch('dinput', saved.input, reuse);
    native.maxPool2dBackward(
      dinput.data,
      doutput.data,
      saved.argmax,
      ...this.sizes(saved.input),
      1,
      reluOutput?.data ?? null,
    );
    return dinput;
  }

  private sizes(
    shape: readonly number[],
  ): [number, number, number, number, number, number, number, number, number, number, number, number, number] {
    const [n, c, h, w] = shape;
    return [n, c, h, w, ...this.kernelSize, ...this.stride, ...this.padding, this.ceilMode ? 1 : 0, ...this.dilation];
  }

  override extraRepr(): string {
    return `kernelSize=${pairRepr(this.kernelSize)}, stride=${pairRepr(this.stride)}, padding=${pairRepr(this.padding)}${this.dilation[0] !== 1 || this.dilation[1] !== 1 ? `, dilation=${pairRepr(this.dilation)}` : ''}${this.ceilMode ? ', ceilMode=true' : ''}`;
  }
}

/**
 * Whether a window of one axis (with at least one output) holds only padding, as native/kernels/pool2d/pool2d.h
 * pool_window_in_padding: possible only when dilation > input, and then only for the first window.
 */
function windowInPadding(input: number, kernel: number, pad: number, dilation: number): boolean {
  if (pad === 0 || dilation <= input) return false;
  const first = Math.ceil(pad / dilation); // the first tap at or past 0
  return first >= kernel || first * dilation - pad >= input;
}
