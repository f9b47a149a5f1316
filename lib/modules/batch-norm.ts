// SPDX-License-Identifier: MIT
// BatchNorm1d and BatchNorm2d: options, parameters, running statistics and modes (the maths is in native/).
import { checkBool, checkInt, checkNumber, checkOptions } from '../check';
import { ShapeError } from '../errors';
import { native } from '../native';
import { formatShape, expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';
import { Parameter } from './parameter';

export interface BatchNormOptions {
  /** C, the number of channels (features) normalised separately. */
  numFeatures: number;
  /** Added to the variance. Default 1e-5; 0 is allowed, as in PyTorch. */
  eps?: number;
  /** Weight of the new batch in the running statistics. Default 0.1; null for a cumulative average. */
  momentum?: number | null;
  /** Learnable per-channel `weight` (gamma) and `bias` (beta). Default true. */
  affine?: boolean;
  /** Keep running statistics for eval mode; when false, batch statistics are used in every mode. Default true. */
  trackRunningStats?: boolean;
}

const KNOWN = ['numFeatures', 'eps', 'momentum', 'affine', 'trackRunningStats'];

interface Saved {
  input: Tensor;
  /** The statistics the forward normalised with: the batch's, or in eval mode the running ones (copied). */
  mean: Tensor;
  invstd: Tensor;
  /** True after an eval-mode forward with running statistics: mean and invstd are constants, not functions of x. */
  frozen: boolean;
  /** The output after a forward fused with the ReLU that follows (forwardWithRelu): backward runs that ReLU's too. */
  reluOut: Tensor | null;
}

/**
 * The shared base of BatchNorm1d and BatchNorm2d (torch.nn.modules.batchnorm._BatchNorm), over input
 * viewed as [N, C, S]. Training normalises with the batch mean and biased variance and updates the
 * running statistics with the unbiased variance; eval mode normalises with the running statistics.
 *
 * State dict (PyTorch's names): `weight`, `bias` (when affine), `running_mean`, `running_var` and
 * `num_batches_tracked` (when tracking). num_batches_tracked is a float32 tensor of shape [] here
 * (PyTorch: int64), exact up to 2^24 batches.
 */
export abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  private readonly stats: { mean: Tensor; variance: Tensor; batches: Tensor } | null;
  private saved: Saved | null = null;

  constructor(layer: string, options: BatchNormOptions) {
    super();
    const o = checkOptions(layer, options, KNOWN);
    this.numFeatures = checkInt(`${layer}: numFeatures`, o.numFeatures);
    this.eps = checkNumber(`${layer}: eps`, o.eps ?? 1e-5, { min: 0 });
    // null is a value here (a cumulative average), so only undefined takes the default.
    const momentum = o.momentum === undefined ? 0.1 : o.momentum;
    this.momentum = momentum === null ? null : checkNumber(`${layer}: momentum`, momentum, { min: 0, max: 1 });
    this.affine = checkBool(`${layer}: affine`, o.affine ?? true);
    this.trackRunningStats = checkBool(`${layer}: trackRunningStats`, o.trackRunningStats ?? true);
    const c = [this.numFeatures];
    this.weight = this.affine ? this.registerParameter('weight', new Parameter(Tensor.zeros(c))) : null;
    this.bias = this.affine ? this.registerParameter('bias', new Parameter(Tensor.zeros(c))) : null;
    this.stats = this.trackRunningStats
      ? {
          mean: this.registerBuffer('running_mean', Tensor.zeros(c)),
          variance: this.registerBuffer('running_var', Tensor.zeros(c)),
          batches: this.registerBuffer('num_batches_tracked', Tensor.zeros([])),
        }
      : null;
    this.resetParameters();
  }

  /** Per-channel running mean (the state dict's `running_mean`, the module's own tensor), or null when not tracking. */
  get runningMean(): Tensor | null {
    return this.stats?.mean ?? null;
  }

  /** Per-channel running unbiased variance (`running_var`), or null when not tracking. */
  get runningVar(): Tensor | null {
    return this.stats?.variance ?? null;
  }

  /** Training batches seen since the last resetRunningStats() (`num_batches_tracked`); 0 when not tracking. */
  get numBatchesTracked(): number {
    return this.stats?.batches.data[0] ?? 0;
  }

  /** Running mean 0, running variance 1, no batches tracked. */
  resetRunningStats(): void {
    if (!this.stats) return;
    this.stats.mean.data.fill(0);
    this.stats.variance.data.fill(1);
    this.stats.batches.data.fill(0);
  }

  /** PyTorch's initialisation: weight 1, bias 0, and fresh running statistics. */
  resetParameters(): void {
    this.resetRunningStats();
    this.weight?.data.data.fill(1);
    this.bias?.data.data.fill(0);
  }

  /** [N, C, S] for a valid input shape; throws a ShapeError naming the layer otherwise. */
  protected abstract dims(shape: readonly number[]): [number, number, number];

  outputShape(inputShape: readonly number[]): number[] {
    this.dims(inputShape);
    return [...inputShape];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    return this.normalise(input, ctx, false);
  }

  /** True when the next forward normalises with batch statistics, the case forwardWithRelu fuses. */
  fusesRelu(): boolean {
    return this.training || !this.stats;
  }

  /**
   * forward() followed by a ReLU in one pass, in training (fusesRelu()); the next backwardWith() then takes the
   * ReLU's output gradient and runs the ReLU's backward too, so a container calls it instead of the ReLU's.
   */
  forwardWithRelu(input: Tensor, ctx: ForwardContext): Tensor {
    if (!this.fusesRelu()) throw new Error(`${this.constructor.name}.forwardWithRelu: only with batch statistics`);
    return this.normalise(input, ctx, true);
  }

  /**
   * relu(forward(input) + residual) in one pass, in training (fusesRelu()): a residual block's last BatchNorm with the
   * add and the ReLU after it, the bits of the three run one after another (residual: the input's shape). The output
   * is the ReLU's; the backward is the unfused one: the ReLU's and the add's run first, then backwardWith() with the
   * add's gradient.
   */
  forwardWithAddRelu(input: Tensor, residual: Tensor, ctx: ForwardContext): Tensor {
    if (!this.fusesRelu()) throw new Error(`${this.constructor.name}.forwardWithAddRelu: only with batch statistics`);
    expectShape(`${this.constructor.name}.forwardWithAddRelu: residual`, residual.shape, input.shape);
    return this.normalise(input, ctx, true, residual);
  }

  /** True when the last forward kept for backward ran the ReLU after it (forwardWithRelu). */
  fusedRelu(): boolean {
    return this.saved?.reluOut != null;
  }

  private normalise(input: Tensor, ctx: ForwardContext, relu: boolean, residual: Tensor | null = null): Tensor {
    const [n, c, s] = this.dims(input.shape);
    const keep = ctx.keepState !== false;
    const out = this.scratch('out', input.shape, ctx.reuse);
    const w = this.weight?.data.data ?? null;
    const b = this.bias?.data.data ?? null;
    if (!this.training && this.stats) {
      native.batchNormForwardEval(
        out.data,
        input.data,
        this.stats.mean.data,
        this.stats.variance.data,
        w,
        b,
        n,
        c,
        s,
        this.eps,
      );
      if (keep) this.saved = this.frozenStatistics(input, ctx.reuse);
      return out;
    }
    if (n * s < 2) {
      throw new RangeError(
        `${this.constructor.name}: Expected more than 1 value per channel when training, got input size ${formatShape(input.shape)}`,
      );
    }
    // Running statistics change only in training mode, and never for predict() (keepState false).
    const update = this.training && keep ? this.stats : null;
    let factor = 0;
    if (update) {
      update.batches.data[0] += 1;
      factor = this.momentum ?? 1 / update.batches.data[0];
    }
    const mean = this.scratch('saveMean', [c], ctx.reuse && keep);
    const invstd = this.scratch('saveInvstd', [c], ctx.reuse && keep);
    native.batchNormForwardTrain(
      out.data,
      mean.data,
      invstd.data,
      update?.mean.data ?? null,
      update?.variance.data ?? null,
      input.data,
      w,
      b,
      n,
      c,
      s,
      this.eps,
      factor,
      relu ? 1 : 0,
      residual?.data ?? null,
    );
    // After the add, the ReLU's mask is not this layer's to recompute: its backward is the plain one.
    if (keep) this.saved = { input, mean, invstd, frozen: false, reluOut: relu && !residual ? out : null };
    return out;
  }

  /** What backward needs after an eval forward: the running mean and 1 / sqrt(running var + eps), as used. */
  private frozenStatistics(input: Tensor, reuse: boolean): Saved {
    const { mean: rm, variance: rv } = this.stats!;
    const c = rm.size;
    const mean = this.scratch('saveMean', [c], reuse);
    const invstd = this.scratch('saveInvstd', [c], reuse);
    mean.data.set(rm.data);
    for (let k = 0; k < c; k++) invstd.data[k] = 1 / Math.sqrt(rv.data[k] + this.eps);
    return { input, mean, invstd, frozen: true, reluOut: null };
  }

  /**
   * Backward through y = (x - mean) invstd w + b with constant statistics (eval mode, as PyTorch's backward of
   * batch_norm with training=False): dx = dy w invstd, dw += sum dy (x - mean) invstd, db += sum dy.
   */
  private frozenBackward(doutput: Tensor, saved: Saved, dinput: Tensor | null): void {
    const [n, c, s] = this.dims(saved.input.shape);
    const x = saved.input.data;
    const dy = doutput.data;
    const w = this.weight?.data.data ?? null;
    const dw = this.weight?.grad.data ?? null;
    const db = this.bias?.grad.data ?? null;
    for (let k = 0; k < c; k++) {
      const [m, inv] = [saved.mean.data[k], saved.invstd.data[k]];
      const scale = inv * (w ? w[k] : 1);
      let sumDy = 0;
      let sumDyXhat = 0;
      for (let i = 0; i < n; i++) {
        const base = (i * c + k) * s;
        for (let j = base; j < base + s; j++) {
          sumDy += dy[j];
          sumDyXhat += dy[j] * (x[j] - m) * inv;
          if (dinput) dinput.data[j] += dy[j] * scale;
        }
      }
      if (dw) dw[k] += sumDyXhat;
      if (db) db[k] += sumDy;
    }
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const saved = requireSaved(this.saved, this.constructor.name);
    expectShape(`${this.constructor.name}.backward: doutput`, doutput.shape, saved.input.shape);
    const [n, c, s] = this.dims(saved.input.shape);
    if (saved.frozen) {
      const dinput = ctx.inputGrad ? this.scratch('dinput', saved.input.shape, ctx.reuse, true) : null;
      this.frozenBackward(doutput, saved, dinput);
      return dinput;
    }
    // The kernel overwrites dinput: no zero fill.
    const dinput = ctx.inputGrad ? this.scratch('dinput', saved.input.shape, ctx.reuse) : null;
    native.batchNormBackwardTrain(
      dinput?.data ?? null,
      this.weight?.grad.data ?? null,
      this.bias?.grad.data ?? null,
      doutput.data,
      saved.input.data,
      saved.mean.data,
      saved.invstd.data,
      this.weight?.data.data ?? null,
      n,
      c,
      s,
      this.bias?.data.data ?? null,
      1,
      saved.reluOut !== null ? 1 : 0,
    );
    return dinput;
  }

  /** Throws unless dimension 1 holds numFeatures channels and every dimension is >= 1. */
  protected checkChannels(shape: readonly number[]): [number, number, number] {
    if (shape[1] !== this.numFeatures) {
      throw new ShapeError(
        `${this.constructor.name}: input ${formatShape(shape)} has ${shape[1]} channels, expected numFeatures = ${this.numFeatures}`,
      );
    }
    if (shape.some((d) => d < 1))
      throw new ShapeError(`${this.constructor.name}: input ${formatShape(shape)} has no values`);
    return [shape[0], shape[1], shape.slice(2).reduce((a, d) => a * d, 1)];
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/**
 * Batch normalisation over [N, C] or [N, C, L] input, as torch.nn.BatchNorm1d:
 * y = (x - mean) / sqrt(var + eps) * weight + bias per channel, with the batch's mean and biased
 * variance in training and the running statistics in eval mode.
 *
 * Options: numFeatures, eps = 1e-5, momentum = 0.1 (null: cumulative average), affine = true,
 * trackRunningStats = true. Shape: [N, C] -> [N, C], [N, C, L] -> [N, C, L].
 * Training needs more than one value per channel (N*L > 1).
 *
 * @example
 * const bn = new BatchNorm1d({ numFeatures: 3, eps: 0 });
 * const y = bn.forward(x);   // x [4, 3]: each column normalised with its batch statistics
 * bn.eval();                 // from now on the running statistics are used
 */
export class BatchNorm1d extends BatchNormBase {
  constructor(options: BatchNormOptions) {
    super('BatchNorm1d', options);
  }

  protected dims(shape: readonly number[]): [number, number, number] {
    if (shape.length !== 2 && shape.length !== 3)
      throw new ShapeError(`BatchNorm1d: expected 2D or 3D input (got ${shape.length}D input)`);
    return this.checkChannels(shape);
  }
}

/**
 * Batch normalisation over [N, C, H, W] input, as torch.nn.BatchNorm2d: every channel is normalised
 * over the batch and both spatial dimensions (N*H*W values).
 *
 * Options: as BatchNorm1d. Shape: [N, C, H, W] -> [N, C, H, W].
 *
 * @example
 * const bn = new BatchNorm2d({ numFeatures: 6 });   // after a Conv2d with 6 output channels
 */
export class BatchNorm2d extends BatchNormBase {
  constructor(options: BatchNormOptions) {
    super('BatchNorm2d', options);
  }

  protected dims(shape: readonly number[]): [number, number, number] {
    if (shape.length !== 4) throw new ShapeError(`BatchNorm2d: expected 4D input (got ${shape.length}D input)`);
    return this.checkChannels(shape);
  }
}
