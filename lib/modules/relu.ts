// SPDX-License-Identifier: MIT
// ReLU activation (element-wise max(x, 0)), any shape.
import { native } from '../native';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';

/** max(x, 0) element-wise, as torch.nn.ReLU. Shape: any -> same. */
export class ReLU extends Module {
  private savedOutput: Tensor | null = null;

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    const out = this.scratch('out', input.shape, ctx.reuse);
    if (out.size > 0) native.reluForward(out.data, input.data);
    return this.adoptOutput(out, ctx);
  }

  /** Records an output that a fused op (e.g. Conv2d + ReLU) already rectified, for backward. */
  adoptOutput(out: Tensor, ctx: ForwardContext): Tensor {
    if (ctx.keepState !== false) this.savedOutput = out;
    return out;
  }

  /** The output saved for backward (a MaxPool2d after it runs this ReLU's backward in its own: Sequential). */
  output(): Tensor {
    return requireSaved(this.savedOutput, 'ReLU');
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const out = this.output();
    expectShape('ReLU.backward: doutput', doutput.shape, out.shape);
    if (!ctx.inputGrad) return null;
    if (ctx.overwriteGrad) {
      if (out.size > 0) native.reluMask(doutput.data, out.data);
      return doutput;
    }
    const dinput = this.scratch('dinput', out.shape, ctx.reuse, true);
    if (out.size > 0) native.reluBackward(dinput.data, doutput.data, out.data);
    return dinput;
  }
}
