// SPDX-License-Identifier: MIT
// What Dropout and Dropout2d share: options, the layer's own generator, the mask of 0 or 1/(1-p) drawn in training,
// the eval-mode identity and backward. Each subclass says which elements share one mask value and applies it.
import { checkInstance, checkNumber, checkOptions } from '../check';
import { defaultGenerator, Generator } from '../random';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';

export interface DropoutOptions {
  /** Probability of zeroing an element (Dropout2d: a channel), in [0, 1]. Default 0.5. */
  p?: number;
  /**
   * Where the masks come from. Default: a new Generator seeded from the default generator when the
   * layer is built, so manualSeed() before building a model makes its masks reproducible.
   */
  generator?: Generator;
}

/** The base of Dropout and Dropout2d (not a layer of its own). */
export abstract class DropoutBase extends Module {
  readonly p: number;
  readonly generator: Generator;
  /** Mask of the last training forward (0 or 1/(1-p) per mask value); null for an identity pass. */
  private saved: { shape: readonly number[]; mask: Float32Array | null } | null = null;

  /** @param name the class name errors give. */
  protected constructor(
    private readonly name: string,
    options: DropoutOptions,
  ) {
    super();
    const o = checkOptions(name, options, ['p', 'generator']);
    this.p = checkNumber(`${name}: p`, o.p ?? 0.5, { min: 0, max: 1 });
    // 53 random bits of the default stream seed this layer's own stream.
    this.generator = checkInstance(
      `${name}: generator`,
      o.generator ?? new Generator(Math.floor(defaultGenerator.random() * 2 ** 53)),
      Generator,
    );
  }

  /** The shape of the mask for an input of `shape` (its values, one per element or per channel). */
  protected abstract maskShape(shape: readonly number[]): readonly number[];
  /** out = a scaled by the mask (out may be a). */
  protected abstract applyMask(out: Float32Array, a: Float32Array, mask: Float32Array): void;

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    this.outputShape(input.shape);
    if (ctx.keepState === false) return input;
    if (!this.training || this.p === 0) {
      // The identity, and so is its backward (PyTorch allows backward after an eval forward).
      this.saved = { shape: input.shape, mask: null };
      return input;
    }
    const mask = this.scratch('mask', this.maskShape(input.shape), ctx.reuse).data;
    if (this.p === 1) {
      mask.fill(0);
    } else {
      // One 32-bit draw per mask value: zeroed with probability p (to 2^-32), kept when draw >= p * 2^32,
      // i.e. >= keepFrom for an integer draw. The draws go into the mask's own memory, each read before
      // its slot is overwritten; the multiply by 0 or 1 avoids a branch per element (mispredicted: 4x slower).
      const keepFrom = Math.ceil(this.p * 2 ** 32);
      const scale = Math.fround(1 / (1 - this.p));
      const draws = new Uint32Array(mask.buffer, mask.byteOffset, mask.length);
      this.generator.fillUint32(draws);
      for (let i = 0; i < mask.length; i++) mask[i] = scale * +(draws[i] >= keepFrom);
    }
    const out = this.scratch('out', input.shape, ctx.reuse);
    this.applyMask(out.data, input.data, mask);
    this.saved = { shape: input.shape, mask };
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const { shape, mask } = requireSaved(this.saved, this.name);
    expectShape(`${this.name}.backward: doutput`, doutput.shape, shape);
    if (!ctx.inputGrad) return null;
    if (mask === null) return doutput;
    const dinput = ctx.overwriteGrad ? doutput : this.scratch('dinput', shape, ctx.reuse);
    this.applyMask(dinput.data, doutput.data, mask);
    return dinput;
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
