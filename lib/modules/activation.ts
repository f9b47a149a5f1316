// SPDX-License-Identifier: MIT
// ElementwiseActivation: the shared forward/backward plumbing of LeakyReLU, Sigmoid and Tanh (the maths is in each subclass).
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';

/**
 * Base of element-wise activations y = f(x). Shape: any -> same. Keeps the input or the output
 * (whichever the derivative needs) from a training-mode forward, and writes the input gradient
 * over the incoming gradient when a container allows it.
 */
export abstract class ElementwiseActivation extends Module {
  private saved: Tensor | null = null;

  /** True when gradient() reads the input x, false when it reads the output y. */
  protected abstract readonly savesInput: boolean;
  /** out[i] = f(x[i]). */
  protected abstract apply(out: Float32Array, x: Float32Array): void;
  /** dx[i] = g[i] f'(...) from the saved input or output; dx may be g itself. */
  protected abstract gradient(dx: Float32Array, g: Float32Array, saved: Float32Array): void;

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    const out = this.scratch('out', input.shape, ctx.reuse);
    this.apply(out.data, input.data);
    if (ctx.keepState !== false) this.saved = this.savesInput ? input : out;
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const name = this.constructor.name;
    const saved = requireSaved(this.saved, name);
    expectShape(`${name}.backward: doutput`, doutput.shape, saved.shape);
    if (!ctx.inputGrad) return null;
    const dinput = ctx.overwriteGrad ? doutput : this.scratch('dinput', saved.shape, ctx.reuse);
    this.gradient(dinput.data, doutput.data, saved.data);
    return dinput;
  }
}
