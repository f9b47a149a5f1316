// SPDX-License-Identifier: MIT
// What Conv1d and Conv2d share past their options: the native conv2d kernels on an NCHW view of the input, with
// padding the kernels cannot do ('same' with an even kernel, reflect, replicate, circular) applied first and its
// gradient folded back in backward.
import { native } from '../native';
import { expectShape, sameShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { ConvBase } from './conv-base';
import { foldPaddedGrad, padSpatial, paddedShape, type AxisPads, type PaddingMode } from './conv-padding';
import { BackwardContext, ForwardContext, requireSaved } from './module';

/** conv2dForward's and conv2dBackward's size arguments, in their order. */
export type ConvSizes = [
  n: number,
  c: number,
  h: number,
  w: number,
  outChannels: number,
  kernelH: number,
  kernelW: number,
  strideH: number,
  strideW: number,
  padH: number,
  padW: number,
  dilationH: number,
  dilationW: number,
  groups: number,
];

export abstract class PaddedConv extends ConvBase {
  abstract readonly paddingMode: PaddingMode;
  /** The padding before and after the H and W axes of the NCHW view (Conv1d: none on H). */
  protected abstract readonly viewPads: AxisPads;
  /** True when the native kernel does the padding itself (zeros, equal on both sides). */
  protected abstract readonly kernelPads: boolean;
  /** The NCHW view the kernels see of the last forward's (not predict's) input, padded unless the kernel pads. */
  private savedView: Tensor | null = null;
  /** That input's own shape. */
  private savedShape: readonly number[] = [];

  /** The input (or its gradient) as the NCHW tensor the kernels read: the same memory. */
  protected abstract nchwView(t: Tensor): Tensor;

  /** The kernels' sizes for `view`, the NCHW view already padded when the kernel does not pad. */
  protected abstract nativeSizes(view: Tensor): ConvSizes;

  /** forward(), with ReLU applied in the same pass when `relu`. */
  protected convolve(input: Tensor, ctx: ForwardContext, relu: boolean): Tensor {
    const out = this.scratch('out', this.outputShape(input.shape), ctx.reuse);
    let view = this.nchwView(input);
    if (!this.kernelPads) {
      const padded = this.scratch('padded', paddedShape(view.shape, this.viewPads), ctx.reuse);
      padSpatial(view, padded, this.viewPads, this.paddingMode);
      view = padded;
    }
    const bias = this.bias?.data.data ?? null;
    native.conv2dForward(out.data, view.data, this.weight.data.data, bias, ...this.nativeSizes(view), relu ? 1 : 0);
    if (ctx.keepState !== false) {
      this.savedView = view;
      this.savedShape = input.shape;
    }
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const view = requireSaved(this.savedView, this.constructor.name);
    expectShape(`${this.constructor.name}.backward: doutput`, doutput.shape, this.outputShape(this.savedShape));
    // The kernel overwrites dx (its last argument 1), so its scratch needs no zero fill; or adds into ctx.addInto, but
    // not for a subclass's own backwardWith (which may reshape what this returns, so that the Graph would add it again).
    const into =
      ctx.inputGrad &&
      this.kernelPads &&
      ctx.addInto !== undefined &&
      this.backwardWith === PaddedConv.prototype.backwardWith &&
      sameShape(ctx.addInto.shape, this.savedShape);
    const dx = ctx.inputGrad
      ? into
        ? (ctx.addInto as Tensor)
        : this.kernelPads
          ? this.scratch('dinput', this.savedShape, ctx.reuse)
          : this.scratch('dpadded', view.shape, ctx.reuse)
      : null;
    native.conv2dBackward(
      dx?.data ?? null,
      this.weight.grad.data,
      this.bias?.grad.data ?? null,
      doutput.data,
      view.data,
      this.weight.data.data,
      ...this.nativeSizes(view),
      into ? 0 : 1,
    );
    if (this.kernelPads || dx === null) return dx;
    const dinput = this.scratch('dinput', this.savedShape, ctx.reuse, true);
    foldPaddedGrad(dx, this.nchwView(dinput), this.viewPads, this.paddingMode);
    return dinput;
  }
}
