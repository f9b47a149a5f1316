// SPDX-License-Identifier: MIT
// AvgPool2d (PyTorch's avg_pool2d): its windows and divisors, and the window-mean calls (native) AdaptiveAvgPool2d shares.
import { checkBool, checkNumber, type IntPair } from '../check';
import { native } from '../native';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { BackwardContext, ForwardContext, Module, requireSaved } from './module';
import { pairRepr, poolOutputSize, poolWindow } from './options';

export interface AvgPool2dOptions {
  kernelSize: IntPair;
  /** Default: kernelSize. */
  stride?: IntPair;
  /** Implicit zero padding on each side, at most half the kernel. Default 0. */
  padding?: IntPair;
  /** Use ceil instead of floor for the output size. Default false. */
  ceilMode?: boolean;
  /** Count the zero padding in the divisor. Default true. */
  countIncludePad?: boolean;
  /** Divide every window sum by this non-zero integer instead. Default undefined (the window size). */
  divisorOverride?: number | null;
}

const KNOWN = ['kernelSize', 'stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'];

/** The pooling windows of one axis: input rows/columns [start[i], end[i]) feed output i. */
export interface PoolWindows {
  start: Int32Array;
  end: Int32Array;
}

/**
 * Average pooling, as torch.nn.AvgPool2d. Accepts a kernel size or an options object. As in
 * PyTorch, a window's divisor is divisorOverride if given; otherwise, with countIncludePad, its size
 * clipped to the padded input (a ceil-mode window hanging past the padding counts only up to it);
 * otherwise the number of input pixels it covers.
 *
 * Options: kernelSize, stride = kernelSize, padding = 0, ceilMode = false, countIncludePad = true, divisorOverride.
 * Shape: [N, C, H, W] -> [N, C, OH, OW], OH = floor((H + 2 padding - kernel) / stride) + 1 (ceil with ceilMode).
 *
 * @example
 * const pool = new AvgPool2d(2);                                              // [N, 6, 28, 28] -> [N, 6, 14, 14]
 * const gap = new AvgPool2d({ kernelSize: 3, stride: 2, padding: 1, countIncludePad: false });
 */
export class AvgPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | undefined;
  private savedInput: readonly number[] | null = null;

  constructor(options: AvgPool2dOptions | IntPair) {
    super();
    const { options: opts, kernelSize, stride, padding } = poolWindow<AvgPool2dOptions>('AvgPool2d', options, KNOWN);
    [this.kernelSize, this.stride, this.padding] = [kernelSize, stride, padding];
    this.ceilMode = checkBool('AvgPool2d: ceilMode', opts.ceilMode ?? false);
    this.countIncludePad = checkBool('AvgPool2d: countIncludePad', opts.countIncludePad ?? true);
    // null, like undefined, means no override (PyTorch's divisor_override=None).
    const d = opts.divisorOverride ?? undefined;
    if (d !== undefined && (!Number.isSafeInteger(checkNumber('AvgPool2d: divisorOverride', d)) || d === 0))
      throw new RangeError(`AvgPool2d: divisorOverride must be a non-zero integer, got ${d}`);
    this.divisorOverride = d;
  }

  outputShape(inputShape: readonly number[]): number[] {
    expectShape('AvgPool2d: input', inputShape, [-1, -1, -1, -1]);
    const [oh, ow] = [0, 1].map((i) =>
      poolOutputSize(inputShape[2 + i], this.kernelSize[i], this.stride[i], this.padding[i], this.ceilMode),
    );
    if (oh < 1 || ow < 1) {
      throw new RangeError(
        `AvgPool2d: input ${inputShape[2]}x${inputShape[3]} with padding ${pairRepr(this.padding)} is smaller than the kernel ${pairRepr(this.kernelSize)}`,
      );
    }
    return [inputShape[0], inputShape[1], oh, ow];
  }

  override forwardWith(input: Tensor, ctx: ForwardContext): Tensor {
    const out = this.scratch('out', this.outputShape(input.shape), ctx.reuse);
    const [rows, cols, divisor] = this.meanWindows(input.shape);
    windowMeanForward(
      out.data,
      input.data,
      input.shape[0] * input.shape[1],
      input.shape[2],
      input.shape[3],
      rows,
      cols,
      divisor,
    );
    if (ctx.keepState !== false) this.savedInput = input.shape;
    return out;
  }

  override backwardWith(doutput: Tensor, ctx: BackwardContext): Tensor | null {
    const shape = requireSaved(this.savedInput, 'AvgPool2d');
    expectShape('AvgPool2d.backward: doutput', doutput.shape, this.outputShape(shape));
    if (!ctx.inputGrad) return null;
    const dinput = this.scratch('dinput', shape, ctx.reuse, true);
    const [rows, cols, divisor] = this.meanWindows(shape);
    windowMeanBackward(dinput.data, doutput.data, shape[0] * shape[1], shape[2], shape[3], rows, cols, divisor);
    return dinput;
  }

  /** Windows clipped to the input per axis, and each output's divisor (PyTorch's cpu_avg_pool). */
  meanWindows(shape: readonly number[]): [PoolWindows, PoolWindows, Float64Array] {
    const [, , oh, ow] = this.outputShape(shape);
    const axis = (i: number, n: number) => {
      const [k, s, p, size] = [this.kernelSize[i], this.stride[i], this.padding[i], shape[2 + i]];
      const w = { start: new Int32Array(n), end: new Int32Array(n), padded: new Int32Array(n) };
      for (let o = 0; o < n; o++) {
        const start = o * s - p;
        const end = Math.min(start + k, size + p); // the padded window, clipped to the padded input
        w.padded[o] = end - start;
        w.start[o] = Math.max(start, 0);
        w.end[o] = Math.min(end, size);
      }
      return w;
    };
    const rows = axis(0, oh);
    const cols = axis(1, ow);
    const divisor = new Float64Array(oh * ow);
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        divisor[y * ow + x] =
          this.divisorOverride ??
          (this.countIncludePad
            ? rows.padded[y] * cols.padded[x]
            : (rows.end[y] - rows.start[y]) * (cols.end[x] - cols.start[x]));
      }
    }
    return [rows, cols, divisor];
  }

  override extraRepr(): string {
    let s = `kernelSize=${pairRepr(this.kernelSize)}, stride=${pairRepr(this.stride)}, padding=${pairRepr(this.padding)}`;
    if (this.ceilMode) s += ', ceilMode=true';
    if (!this.countIncludePad) s += ', countIncludePad=false';
    if (this.divisorOverride !== undefined) s += `, divisorOverride=${this.divisorOverride}`;
    return s;
  }
}

/**
 * out[p, y, x] = sum of input[p, rows[y], cols[x]] / divisor[y * OW + x], over `planes` = N*C
 * planes of h x w (sums in float64, rounded once to float32). An empty window gives 0, as in PyTorch.
 * Native (windowMeanForward); a divisor must be finite and non-zero where its window is not empty.
 */
export function windowMeanForward(
  out: Float32Array,
  input: Float32Array,
  planes: number,
  h: number,
  w: number,
  rows: PoolWindows,
  cols: PoolWindows,
  divisor: Float64Array,
): void {
  native.windowMeanForward(
    out,
    input,
    rows.start,
    rows.end,
    cols.start,
    cols.end,
    divisor,
    planes,
    h,
    w,
    rows.start.length,
    cols.start.length,
  );
}

/**
 * The backward of windowMeanForward: dinput[p, i, j] += float32(dout[p, y, x] / divisor) for every window holding (i, j),
 * windows in output order. Accumulates. Native (windowMeanBackward).
 */
export function windowMeanBackward(
  dinput: Float32Array,
  dout: Float32Array,
  planes: number,
  h: number,
  w: number,
  rows: PoolWindows,
  cols: PoolWindows,
  divisor: Float64Array,
): void {
  native.windowMeanBackward(
    dinput,
    dout,
    rows.start,
    rows.end,
    cols.start,
    cols.end,
    divisor,
    planes,
    h,
    w,
    rows.start.length,
    cols.start.length,
  );
}
