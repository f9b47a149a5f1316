// SPDX-License-Identifier: MIT
// Identity: returns its input (a placeholder layer, as torch.nn.Identity).
import { checkOptions } from '../check';
import { expectShape } from '../tensor/shape';
import type { Tensor } from '../tensor/tensor';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';

/**
 * Returns its input unchanged (the same tensor), and the incoming gradient in backward, as torch.nn.Identity. Takes no
 * options (PyTorch's ignores any arguments; simdnet refuses them, so that none is silently dropped).
 *
 * Shape: any -> same.
 *
 * @example
 * const head = new Sequential(new Flatten(), new Identity()); // a slot to replace later
 */
export class Identity extends Module {
  private shape: readonly number[] | null = null;

  constructor(options: Record<string, never> = {}) {
    super();
    checkOptions('Identity', options, []);
  }

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    if (ctx.keepState !== false) this.shape = input.shape; // eval mode too: there is nothing to keep
    return input;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    expectShape('Identity.backward: doutput', doutput.shape, requireSaved(this.shape, 'Identity'));
    return ctx.inputGrad ? doutput : null;
  }
}
