// SPDX-License-Identifier: MIT
// ONNX import, convolution and pooling attributes: kernel_shape, strides, pads, dilations and the 0/1 flags as simdnet's
// per-axis options, with the checks they share; the converters themselves are in the layer kinds (lib/layers/conv.ts,
// pool.ts).
import { batchShape, list, printable, type NodeContext } from './onnx-import-proto';

/** What a pool over a 1-d or 3-d input hears: simdnet has 2-d pooling layers only. */
export const POOL_2D = 'simdnet imports 2-d pooling (input [N, C, H, W]) only: it has no 1-d or 3-d pooling layer';

/** A per-axis attribute (kernel_shape, strides, dilations) with one value per spatial axis; `fallback` on each when absent. */
function sizes(ctx: NodeContext, name: string, axes: number, fallback: number): number[] {
  const v = ctx.ints(name);
  if (v === undefined) return new Array<number>(axes).fill(fallback);
  if (v.length !== axes) {
    throw ctx.fail(
      `${name} ${list(v)} must have ${axes} value${axes === 1 ? '' : 's'}, one per spatial axis of the input ${batchShape(ctx.inShape)}`,
    );
  }
  return v;
}

export function pair(ctx: NodeContext, name: string, fallback: number): [number, number] {
  const [a, b] = sizes(ctx, name, 2, fallback);
  return [a, b];
}

/**
 * `pads` (all begins, then all ends: [top, left, bottom, right] in 2-d, [begin, end] in 1-d) as [begins, ends];
 * auto_pad NOTSET or VALID only.
 */
function padsBeforeAfter(ctx: NodeContext, axes: number): [number[], number[]] {
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  const pads = ctx.ints('pads');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID' && autoPad !== '') {
    throw ctx.fail(`auto_pad ${printable(autoPad)} is not supported (only NOTSET with explicit pads, or VALID)`);
  }
  if (pads === undefined) return [new Array<number>(axes).fill(0), new Array<number>(axes).fill(0)];
  const form = axes === 1 ? '[begin, end]' : '[top, left, bottom, right]';
  if (pads.length !== 2 * axes) throw ctx.fail(`pads ${list(pads)} must have ${2 * axes} values ${form}`);
  if (pads.some((p) => p < 0)) throw ctx.fail(`pads ${list(pads)} must not be negative`);
  if (autoPad === 'VALID' && pads.some((p) => p !== 0))
    throw ctx.fail(`auto_pad VALID with non-zero pads ${list(pads)}`);
  return [pads.slice(0, axes), pads.slice(axes)];
}

/** `pads` as simdnet's symmetric padding per axis (pools pad both sides equally). */
function padding(ctx: NodeContext, axes: number): number[] {
  const [before, after] = padsBeforeAfter(ctx, axes);
  if (before.some((p, i) => p !== after[i])) {
    const form = axes === 1 ? '[begin, end]' : '[top, left, bottom, right]';
    const need = axes === 1 ? 'begin = end' : 'top = bottom and left = right';
    throw ctx.fail(
      `asymmetric pads ${list([...before, ...after])}: simdnet pads both sides equally (pads ${form} need ${need})`,
    );
  }
  return before;
}

export function padPair(ctx: NodeContext): [number, number] {
  const [h, w] = padding(ctx, 2);
  return [h, w];
}

/** ONNX's ceil_mode / count_include_pad style 0-or-1 flag. */
export function flag(ctx: NodeContext, name: string, fallback: 0 | 1): boolean {
  const v = ctx.int(name, fallback);
  if (v !== 0 && v !== 1) throw ctx.fail(`${name} must be 0 or 1, got ${v}`);
  return v === 1;
}

/**
 * A Conv's strides, pads and dilations, one per spatial axis of its input; kernel_shape, when given, must match the
 * weight's `kernel`. `padded`: the pads of a reflect/edge/wrap Pad node the Conv alone reads (onnx-import-pad-conv.ts),
 * which stand for the Conv's own (then all zero).
 */
export function convAttributes(
  ctx: NodeContext,
  kernel: readonly number[],
  padded?: { before: number[]; after: number[] },
): { stride: number[]; padding: number[] | 'same'; dilation: number[] } {
  const axes = kernel.length;
  if (ctx.ints('kernel_shape') !== undefined) {
    const given = sizes(ctx, 'kernel_shape', axes, 1);
    if (given.some((k, i) => k !== kernel[i]))
      throw ctx.fail(`kernel_shape ${list(given)} does not match the weight's ${list(kernel)}`);
  }
  const stride = sizes(ctx, 'strides', axes, 1);
  const dilation = sizes(ctx, 'dilations', axes, 1);
  let [before, after] = padsBeforeAfter(ctx, axes);
  if (padded) {
    if ([...before, ...after].some((p) => p !== 0))
      throw ctx.fail(`pads ${list([...before, ...after])} after a Pad node: simdnet pads a convolution one way only`);
    [before, after] = [padded.before, padded.after];
  }
  if (before.every((p, i) => p === after[i])) return { stride, padding: before, dilation };
  // Uneven pads are PyTorch's padding 'same' when they are its split of dilation (kernel - 1) and the stride is 1.
  const same = kernel.every((k, i) => {
    const total = dilation[i] * (k - 1);
    return before[i] === Math.floor(total / 2) && after[i] === total - before[i];
  });
  if (!same || stride.some((v) => v !== 1)) {
    throw ctx.fail(
      `asymmetric pads ${list([...before, ...after])}: simdnet pads both sides equally, or as PyTorch's padding 'same' (stride 1, the extra pad after)`,
    );
  }
  return { stride, padding: 'same', dilation };
}
