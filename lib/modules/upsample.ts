// SPDX-License-Identifier: MIT
// Upsample: nearest and bilinear resizing of [N, C, H, W] (state and validation; the maths is the native upsample2d
// kernels, PyTorch's formulas).
import { checkBool, checkIntPair, checkNumber, checkOneOf, checkOptions, describe, type IntPair } from '../check';
import { native } from '../native';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';
import { pairRepr } from './options';

export type UpsampleMode = 'nearest' | 'bilinear';
export const UPSAMPLE_MODES: readonly UpsampleMode[] = ['nearest', 'bilinear'];

export interface UpsampleOptions {
  /** The output [h, w] (one number for both). Give this or scaleFactor. */
  size?: IntPair;
  /** The factor per axis (one number for both; > 0): output = floor(input * scaleFactor). Give this or size. */
  scaleFactor?: number | readonly [number, number];
  /** 'nearest' (default) or 'bilinear'. */
  mode?: UpsampleMode;
  /** Bilinear only: corner pixels of input and output aligned (PyTorch's align_corners). Default false. */
  alignCorners?: boolean;
}

export const UPSAMPLE_OPTIONS = ['size', 'scaleFactor', 'mode', 'alignCorners'] as const;

/**
 * Upsamples (or downsamples) the last two dims, as torch.nn.Upsample / F.interpolate with mode 'nearest' (PyTorch's
 * legacy nearest: source index floor(dst * in / out), or floor(dst / scaleFactor) when a scale factor is given) or
 * 'bilinear' (half-pixel centres clamped at 0, or alignCorners).
 *
 * Shape: [N, C, H, W] -> [N, C, size[0], size[1]] or [N, C, floor(H * scaleFactor[0]), floor(W * scaleFactor[1])].
 *
 * @example
 * const up = new Upsample({ scaleFactor: 2, mode: 'bilinear' });   // [N, C, 8, 8] -> [N, C, 16, 16]
 * const fixed = new Upsample({ size: [7, 5] });                     // nearest, to 7x5
 */
export class Upsample extends Module {
  readonly size: [number, number] | null;
  readonly scaleFactor: [number, number] | null;
  readonly mode: UpsampleMode;
  readonly alignCorners: boolean;
  private savedShape: readonly number[] | null = null;

  constructor(options: UpsampleOptions) {
    super();
    const o = checkOptions('Upsample', options, UPSAMPLE_OPTIONS);
    const hasSize = o.size !== undefined && o.size !== null;
    const hasScale = o.scaleFactor !== undefined && o.scaleFactor !== null;
    this.size = hasSize ? checkIntPair('Upsample: size', o.size, 1) : null;
    this.scaleFactor = hasScale ? scalePair(o.scaleFactor) : null;
    if (hasSize && hasScale) throw new RangeError('Upsample: give size or scaleFactor, not both');
    if (!hasSize && !hasScale) throw new TypeError('Upsample: size or scaleFactor is required, got neither');
    this.mode = checkOneOf('Upsample: mode', o.mode ?? 'nearest', UPSAMPLE_MODES);
    const align = o.alignCorners ?? null;
    this.alignCorners = checkBool('Upsample: alignCorners', align ?? false);
    if (align !== null && this.mode === 'nearest')
      throw new RangeError("Upsample: alignCorners can only be set with mode 'bilinear'");
  }

  outputShape(inputShape: readonly number[]): number[] {
    expectShape('Upsample: input', inputShape, [-1, -1, -1, -1]);
    const [n, c, h, w] = inputShape;
    // Python's math.floor(in * scale) in double, as F.interpolate.
    const [oh, ow] = this.size ?? [Math.floor(h * this.scaleFactor![0]), Math.floor(w * this.scaleFactor![1])];
    if (oh < 1 || ow < 1) {
      throw new RangeError(
        `Upsample: scaleFactor ${pairRepr(this.scaleFactor!)} gives an empty output ${oh}x${ow} for the input ${h}x${w}`,
      );
    }
    return [n, c, oh, ow];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    const shape = this.outputShape(input.shape);
    const out = this.scratch('out', shape, ctx.reuse);
    native.upsample2dForward(out.data, input.data, ...this.sizes(input.shape, shape));
    if (ctx.keepState !== false) this.savedShape = input.shape;
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const shape = requireSaved(this.savedShape, 'Upsample');
    const outShape = this.outputShape(shape);
    expectShape('Upsample.backward: doutput', doutput.shape, outShape);
    if (!ctx.inputGrad) return null;
    const dinput = this.scratch('dinput', shape, ctx.reuse, true);
    native.upsample2dBackward(dinput.data, doutput.data, ...this.sizes(shape, outShape));
    return dinput;
  }

  /** The native kernels' sizes: planes, h, w, outH, outW, bilinear, alignCorners, scaleH, scaleW (0: from the size). */
  private sizes(
    inShape: readonly number[],
    outShape: readonly number[],
  ): [number, number, number, number, number, number, number, number, number] {
    const [n, c, h, w] = inShape;
    const [sh, sw] = this.scaleFactor ?? [0, 0];
    return [n * c, h, w, outShape[2], outShape[3], this.mode === 'bilinear' ? 1 : 0, this.alignCorners ? 1 : 0, sh, sw];
  }

  override extraRepr(): string {
    const parts = [this.size ? `size=${pairRepr(this.size)}` : `scaleFactor=${pairRepr(this.scaleFactor!)}`];
    parts.push(`mode='${this.mode}'`);
    if (this.mode === 'bilinear') parts.push(`alignCorners=${this.alignCorners}`);
    return parts.join(', ');
  }
}

/** A scale factor: a number or an [h, w] pair, each finite and > 0. */
function scalePair(value: unknown): [number, number] {
  const what = 'Upsample: scaleFactor';
  if (typeof value === 'number') {
    const s = checkNumber(what, value, { minExclusive: 0 });
    return [s, s];
  }
  if (!Array.isArray(value)) throw new TypeError(`${what} must be a number or an [h, w] pair, got ${describe(value)}`);
  if (value.length !== 2) throw new RangeError(`${what} must have 2 entries [h, w], got ${value.length}`);
  return [checkNumber(what, value[0], { minExclusive: 0 }), checkNumber(what, value[1], { minExclusive: 0 })];
}
