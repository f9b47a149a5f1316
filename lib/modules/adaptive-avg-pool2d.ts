// SPDX-License-Identifier: MIT
// AdaptiveAvgPool2d: average pooling to a fixed output size (PyTorch's windows), forward and backward in TypeScript.
import { checkArray, checkInt, checkOptions, describe } from '../check';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { windowMeanBackward, windowMeanForward, type PoolWindows } from './avg-pool2d';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';

/** An output side, or null to keep the input's. */
export type AdaptiveSize = number | null;

export interface AdaptiveAvgPool2dOptions {
  /** Output [h, w]; one number for both; a null entry keeps that input size. */
  outputSize: number | readonly [AdaptiveSize, AdaptiveSize];
}

/**
 * Adaptive average pooling, as torch.nn.AdaptiveAvgPool2d: output cell i of an axis of length `in`
 * averages input [floor(i * in / out), ceil((i + 1) * in / out)), so windows may overlap when `out`
 * does not divide `in`, and repeat pixels when out > in. Accepts the output size or an options object.
 *
 * Shape: [N, C, H, W] -> [N, C, outputSize[0] ?? H, outputSize[1] ?? W].
 *
 * @example
 * const gap = new AdaptiveAvgPool2d(1);                            // global average pooling: [N, C, 1, 1]
 * const rows = new AdaptiveAvgPool2d({ outputSize: [null, 3] });   // [N, C, H, 3]
 */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: readonly [AdaptiveSize, AdaptiveSize];
  private savedInput: readonly number[] | null = null;

  constructor(options: AdaptiveAvgPool2dOptions | number | readonly [AdaptiveSize, AdaptiveSize]) {
    super();
    this.outputSize = checkAdaptiveOutputSize('AdaptiveAvgPool2d', options);
  }

  outputShape(inputShape: readonly number[]): number[] {
    expectShape('AdaptiveAvgPool2d: input', inputShape, [-1, -1, -1, -1]);
    return [inputShape[0], inputShape[1], this.outputSize[0] ?? inputShape[2], this.outputSize[1] ?? inputShape[3]];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    const shape = this.outputShape(input.shape);
    const out = this.scratch('out', shape, ctx.reuse);
    const [n, c, h, w] = input.shape;
    const [rows, cols, divisor] = adaptiveWindows(h, w, shape[2], shape[3]);
    windowMeanForward(out.data, input.data, n * c, h, w, rows, cols, divisor);
    if (ctx.keepState !== false) this.savedInput = input.shape;
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const shape = requireSaved(this.savedInput, 'AdaptiveAvgPool2d');
    const outShape = this.outputShape(shape);
    expectShape('AdaptiveAvgPool2d.backward: doutput', doutput.shape, outShape);
    if (!ctx.inputGrad) return null;
    const dinput = this.scratch('dinput', shape, ctx.reuse, true);
    const [n, c, h, w] = shape;
    const [rows, cols, divisor] = adaptiveWindows(h, w, outShape[2], outShape[3]);
    windowMeanBackward(dinput.data, doutput.data, n * c, h, w, rows, cols, divisor);
    return dinput;
  }

  /** The windows and divisors this layer averages for an [N, C, H, W] input (for the native inference program). */
  meanWindows(inputShape: readonly number[]): [PoolWindows, PoolWindows, Float64Array] {
    const shape = this.outputShape(inputShape);
    return adaptiveWindows(inputShape[2], inputShape[3], shape[2], shape[3]);
  }

  override extraRepr(): string {
    const [h, w] = this.outputSize;
    return `outputSize=[${h === null ? 'null' : h}, ${w === null ? 'null' : w}]`;
  }
}

/**
 * The outputSize of an adaptive pooling layer (`name`), given bare (a number or [h, w]) or as { outputSize }: sides
 * >= 1, or null to keep that input side (PyTorch's None).
 */
export function checkAdaptiveOutputSize(name: string, options: unknown): readonly [AdaptiveSize, AdaptiveSize] {
  const what = `${name}: outputSize`;
  const bare = typeof options === 'number' || Array.isArray(options);
  if (options === undefined || options === null)
    throw new TypeError(`${name}: options must be an output size or an object, got ${describe(options)}`);
  const opts = checkOptions(name, bare ? { outputSize: options } : (options as object), ['outputSize']);
  const size = (opts as AdaptiveAvgPool2dOptions).outputSize;
  if (typeof size !== 'number' && !Array.isArray(size))
    throw new TypeError(`${what} must be a number or an [h, w] pair, got ${describe(size)}`);
  const pair = typeof size === 'number' ? [size, size] : checkArray(what, size, 2);
  const side = (v: unknown): AdaptiveSize => {
    if (v !== null && typeof v !== 'number')
      throw new TypeError(`${what} must hold numbers or null, got ${describe(v)}`);
    return v === null ? null : checkInt(what, v, 1);
  };
  return [side(pair[0]), side(pair[1])];
}

/** PyTorch's adaptive windows (start_index / end_index in AdaptivePooling.h) for both axes, and each cell's pixel count. */
export function adaptiveWindows(
  h: number,
  w: number,
  oh: number,
  ow: number,
): [PoolWindows, PoolWindows, Float64Array] {
  const axis = (size: number, n: number): PoolWindows => {
    const start = new Int32Array(n);
    const end = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      start[i] = Math.floor((i * size) / n);
      end[i] = Math.ceil(((i + 1) * size) / n);
    }
    return { start, end };
  };
  const rows = axis(h, oh);
  const cols = axis(w, ow);
  const divisor = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) divisor[y * ow + x] = (rows.end[y] - rows.start[y]) * (cols.end[x] - cols.start[x]);
  }
  return [rows, cols, divisor];
}
