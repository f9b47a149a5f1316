// SPDX-License-Identifier: MIT
// Dropout2d: zeroes whole channels with probability p in training (scaling the rest by 1/(1-p)); identity in eval.
import { checkInstance, checkNumber, checkOptions } from '../check';
import { ShapeError } from '../errors';
import { defaultGenerator, Generator } from '../random';
import { expectShape, formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import type { DropoutOptions } from './dropout';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';

/**
 * Channel dropout, as torch.nn.Dropout2d: in training mode each channel of each sample (a whole H x W plane) is zeroed
 * with probability p and the others are multiplied by 1/(1-p); backward applies the same mask. Input [N, C, H, W], or
 * [N, C, L] (one mask value per (sample, channel), as PyTorch does for 3-D input). In eval mode, in predict() and when
 * p = 0 it returns its input unchanged; p = 1 gives zeros. The masks are seeded but are not PyTorch's random stream.
 * Options as Dropout's: p (default 0.5), generator. (`inplace` is not supported.)
 *
 * Shape: [N, C, H, W] -> same, [N, C, L] -> same.
 *
 * @example
 * const drop = new Dropout2d({ p: 0.1 });
 * const y = drop.forward(x); // training: about 1 channel in 10 all zeros, the rest x / 0.9
 */
export class Dropout2d extends Module {
  readonly p: number;
  readonly generator: Generator;
  /** Per (sample, channel) factor of the last training forward (0 or 1/(1-p)); null for an identity pass. */
  private saved: { shape: readonly number[]; mask: Float32Array | null } | null = null;

  constructor(options: DropoutOptions = {}) {
    super();
    const o = checkOptions('Dropout2d', options, ['p', 'generator']);
    this.p = checkNumber('Dropout2d: p', o.p ?? 0.5, { min: 0, max: 1 });
    // 53 random bits of the default stream seed this layer's own stream (as Dropout).
    this.generator = checkInstance(
      'Dropout2d: generator',
      o.generator ?? new Generator(Math.floor(defaultGenerator.random() * 2 ** 53)),
      Generator,
    );
  }

  outputShape(inputShape: readonly number[]): number[] {
    if (inputShape.length !== 3 && inputShape.length !== 4)
      throw new ShapeError(
        `Dropout2d: expected a 3-D [N, C, L] or 4-D [N, C, H, W] input, got ${formatShape(inputShape)}`,
      );
    return [...inputShape];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    this.outputShape(input.shape);
    if (ctx.keepState === false) return input;
    if (!this.training) {
      // The identity: backward after an eval-mode forward passes the gradient through, as in PyTorch.
      this.saved = { shape: input.shape, mask: null };
      return input;
    }
    if (this.p === 0) {
      this.saved = { shape: input.shape, mask: null };
      return input;
    }
    const planes = input.shape[0] * input.shape[1];
    const mask = new Float32Array(planes);
    if (this.p < 1) {
      // As Dropout: one 32-bit draw per channel, kept when draw >= p * 2^32.
      const keepFrom = Math.ceil(this.p * 2 ** 32);
      const scale = Math.fround(1 / (1 - this.p));
      const draws = new Uint32Array(planes);
      this.generator.fillUint32(draws);
      for (let i = 0; i < planes; i++) mask[i] = draws[i] >= keepFrom ? scale : 0;
    }
    const out = this.scratch('out', input.shape, ctx.reuse);
    scalePlanes(out.data, input.data, mask);
    this.saved = { shape: input.shape, mask };
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const { shape, mask } = requireSaved(this.saved, 'Dropout2d');
    expectShape('Dropout2d.backward: doutput', doutput.shape, shape);
    if (!ctx.inputGrad) return null;
    if (mask === null) return doutput;
    const dinput = ctx.overwriteGrad ? doutput : this.scratch('dinput', shape, ctx.reuse);
    scalePlanes(dinput.data, doutput.data, mask);
    return dinput;
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** out = a * mask[plane] for each of mask.length equal planes (out may be a). */
function scalePlanes(out: Float32Array, a: Float32Array, mask: Float32Array): void {
  const size = a.length / mask.length;
  for (let p = 0; p < mask.length; p++) {
    const m = mask[p];
    for (let i = p * size; i < (p + 1) * size; i++) out[i] = a[i] * m;
  }
}
