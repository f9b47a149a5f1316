// SPDX-License-Identifier: MIT
// Dropout: zeroes elements with probability p in training (scaling the rest by 1/(1-p)); identity in eval. The mask,
// generator and backward are dropout-base.ts's.
import { DropoutBase, type DropoutOptions } from './dropout-base';

export type { DropoutOptions };

/**
 * Dropout, as torch.nn.Dropout: in training mode each element is zeroed with probability p and
 * the others are multiplied by 1/(1-p); backward applies the same mask. In eval mode, in predict()
 * and when p = 0 it returns its input unchanged (the same tensor); p = 1 gives zeros. The masks
 * are seeded but are not PyTorch's random stream. (`inplace` is not supported.)
 *
 * Shape: any -> same.
 *
 * @example
 * const drop = new Dropout({ p: 0.25 });
 * const y = drop.forward(x); // training: about 1/4 zeros, the rest x / 0.75
 * drop.eval();               // now an identity
 */
export class Dropout extends DropoutBase {
  constructor(options: DropoutOptions = {}) {
    super('Dropout', options);
  }

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  protected maskShape(shape: readonly number[]): readonly number[] {
    return shape;
  }

  protected applyMask(out: Float32Array, a: Float32Array, mask: Float32Array): void {
    multiply(out, a, mask);
  }
}

/** out = a * b element-wise (out may be a). A small function of its own, so V8 optimises the loop by itself. */
function multiply(out: Float32Array, a: Float32Array, b: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] * b[i];
}
