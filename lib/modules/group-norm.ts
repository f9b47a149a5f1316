// SPDX-License-Identifier: MIT
// GroupNorm: normalises each sample's channels in groups, with a per-channel weight and bias.
import { checkBool, checkInt, checkNumber, checkOptions, describe } from '../check';
import { ShapeError } from '../errors';
import { expectShape, formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';
import { normRowsBackward, normRowsForward, type RowStats } from './norm-rows';
import { Parameter } from './parameter';

export interface GroupNormOptions {
  /** Groups the channels are split into; must divide numChannels. */
  numGroups: number;
  /** C, the input's channels (dim 1). */
  numChannels: number;
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Learnable per-channel `weight` (ones) and `bias` (zeros). Default true. */
  affine?: boolean;
}

/**
 * Group normalisation, as torch.nn.GroupNorm: the C channels of each sample are split into numGroups groups of
 * C / numGroups channels, each group normalised with its own mean and biased variance (over its channels and all
 * positions), then scaled and shifted per channel: y = (x - mean) / sqrt(var + eps) * weight[c] + bias[c]. The same
 * in training and eval mode. numGroups 1 is a LayerNorm over [C, H, W] with per-channel affine; numGroups C is
 * InstanceNorm.
 *
 * Shape: [N, C, *] -> same.
 *
 * @example
 * const gn = new GroupNorm({ numGroups: 4, numChannels: 16 });
 * gn.forward(x); // x [N, 16, H, W]: 4 groups of 4 channels per sample
 */
export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  private saved: { input: Tensor; stats: RowStats; spatial: number } | null = null;

  constructor(options: GroupNormOptions) {
    super();
    if (options === undefined || options === null)
      throw new TypeError(
        `GroupNorm: options must be an object with numGroups and numChannels, got ${describe(options)}`,
      );
    const o = checkOptions('GroupNorm', options, ['numGroups', 'numChannels', 'eps', 'affine']);
    this.numGroups = checkInt('GroupNorm: numGroups', o.numGroups);
    this.numChannels = checkInt('GroupNorm: numChannels', o.numChannels, 1, 2 ** 32);
    if (this.numChannels % this.numGroups !== 0)
      throw new RangeError(
        `GroupNorm: numChannels (${this.numChannels}) must be divisible by numGroups (${this.numGroups})`,
      );
    this.eps = checkNumber('GroupNorm: eps', o.eps ?? 1e-5, { min: 0 });
    this.affine = checkBool('GroupNorm: affine', o.affine ?? true);
    const c = [this.numChannels];
    this.weight = this.affine ? this.registerParameter('weight', new Parameter(Tensor.zeros(c))) : null;
    this.weight?.data.data.fill(1);
    this.bias = this.affine ? this.registerParameter('bias', new Parameter(Tensor.zeros(c))) : null;
  }

  /** [N, C, positions per channel] for a valid input; a ShapeError otherwise. */
  private dims(shape: readonly number[]): [number, number, number] {
    if (shape.length < 2 || shape[1] !== this.numChannels)
      throw new ShapeError(
        `GroupNorm: expected an input [N, ${this.numChannels}, *] (numChannels ${this.numChannels}), got ${formatShape(shape)}`,
      );
    return [shape[0], shape[1], shape.slice(2).reduce((a, b) => a * b, 1)];
  }

  outputShape(inputShape: readonly number[]): number[] {
    this.dims(inputShape);
    return [...inputShape];
  }

  /** A per-channel vector repeated for each position: the [C * S] layout normRows* index per group row. */
  private static expand(v: Float32Array | null, spatial: number): Float32Array | null {
    if (v === null) return null;
    const out = new Float32Array(v.length * spatial);
    for (let c = 0; c < v.length; c++) out.fill(v[c], c * spatial, (c + 1) * spatial);
    return out;
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    const [n, c, s] = this.dims(input.shape);
    const out = this.scratch('out', input.shape, ctx.reuse);
    const w = GroupNorm.expand(this.weight?.data.data ?? null, s);
    const b = GroupNorm.expand(this.bias?.data.data ?? null, s);
    const g = this.numGroups;
    const stats = normRowsForward(out.data, input.data, w, b, n * g, (c / g) * s, this.eps);
    if (ctx.keepState !== false) this.saved = { input, stats, spatial: s };
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const { input, stats, spatial } = requireSaved(this.saved, 'GroupNorm');
    expectShape('GroupNorm.backward: doutput', doutput.shape, input.shape);
    const [n, c, s] = this.dims(input.shape);
    const dinput = ctx.inputGrad ? this.scratch('dinput', input.shape, ctx.reuse) : null;
    const dw = this.weight ? new Float32Array(c * s) : null;
    const db = this.bias ? new Float32Array(c * s) : null;
    const g = this.numGroups;
    const w = GroupNorm.expand(this.weight?.data.data ?? null, spatial);
    normRowsBackward(dinput?.data ?? null, dw, db, doutput.data, input.data, stats, w, n * g, (c / g) * s);
    // Fold the per-position sums back to one per channel.
    for (const [sums, p] of [
      [dw, this.weight],
      [db, this.bias],
    ] as const) {
      if (!sums || !p) continue;
      for (let ch = 0; ch < c; ch++) {
        let total = 0;
        for (let i = ch * s; i < (ch + 1) * s; i++) total += sums[i];
        p.grad.data[ch] += total;
      }
    }
    return dinput;
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.affine}`;
  }
}
