// SPDX-License-Identifier: MIT
// Dropout: zeroes elements with probability p in training (scaling the rest by 1/(1-p)); identity in eval.
import { checkInstance, checkNumber, checkOptions } from '../check';
import { defaultGenerator, Generator } from '../random';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';

export interface DropoutOptions {
  /** Probability of zeroing an element, in [0, 1]. Default 0.5. */
  p?: number;
  /**
   * Where the masks come from. Default: a new Generator seeded from the default generator when the
   * layer is built, so manualSeed() before building a model makes its masks reproducible.
   */
  generator?: Generator;
}

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
export class Dropout extends Module {
  readonly p: number;
  readonly generator: Generator;
  /** Mask of the last training forward (0 or 1/(1-p) per element); null for an identity pass. */
  private saved: { shape: readonly number[]; mask: Float32Array | null } | null = null;

  constructor(options: DropoutOptions = {}) {
    super();
    const o = checkOptions('Dropout', options, ['p', 'generator']);
    this.p = checkNumber('Dropout: p', o.p ?? 0.5, { min: 0, max: 1 });
    // 53 random bits of the default stream seed this layer's own stream.
    this.generator = checkInstance(
      'Dropout: generator',
      o.generator ?? new Generator(Math.floor(defaultGenerator.random() * 2 ** 53)),
      Generator,
    );
  }

  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    if (ctx.keepState === false) return input;
    if (!this.training) {
      // Eval mode is the identity, and so is its backward (PyTorch allows backward after an eval forward).
      this.saved = { shape: input.shape, mask: null };
      return input;
    }
    if (this.p === 0) {
      this.saved = { shape: input.shape, mask: null };
      return input;
    }
    const mask = this.scratch('mask', input.shape, ctx.reuse).data;
    if (this.p === 1) {
      mask.fill(0);
    } else {
      // One 32-bit draw per element: zeroed with probability p (to 2^-32), kept when draw >= p * 2^32,
      // i.e. >= keepFrom for an integer draw. The draws go into the mask's own memory, each read before
      // its slot is overwritten; the multiply by 0 or 1 avoids a branch per element (mispredicted: 4x slower).
      const keepFrom = Math.ceil(this.p * 2 ** 32);
      const scale = Math.fround(1 / (1 - this.p));
      const draws = new Uint32Array(mask.buffer, mask.byteOffset, mask.length);
      this.generator.fillUint32(draws);
      for (let i = 0; i < mask.length; i++) mask[i] = scale * +(draws[i] >= keepFrom);
    }
    const out = this.scratch('out', input.shape, ctx.reuse);
    multiply(out.data, input.data, mask);
    this.saved = { shape: input.shape, mask };
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const { shape, mask } = requireSaved(this.saved, 'Dropout');
    expectShape('Dropout.backward: doutput', doutput.shape, shape);
    if (!ctx.inputGrad) return null;
    if (mask === null) return doutput;
    const dinput = ctx.overwriteGrad ? doutput : this.scratch('dinput', shape, ctx.reuse);
    multiply(dinput.data, doutput.data, mask);
    return dinput;
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** out = a * b element-wise (out may be a). A small function of its own, so V8 optimises the loop by itself. */
function multiply(out: Float32Array, a: Float32Array, b: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = a[i] * b[i];
}
