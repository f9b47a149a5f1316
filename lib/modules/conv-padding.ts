// SPDX-License-Identifier: MIT
// Convolution padding as PyTorch's Conv1d/Conv2d take it: a size, 'same' or 'valid', and padding_mode (zeros, reflect,
// replicate, circular). Resolves the per-axis pads once, and pads the spatial axes of an [N, C, H, W] tensor in
// JavaScript (forward) and folds the padded gradient back onto the input (backward) for what the native kernel's
// symmetric zero padding cannot do.
import { checkOneOf, describe } from '../check';
import { formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

export const PADDING_MODES = ['zeros', 'reflect', 'replicate', 'circular'] as const;
/** PyTorch's padding_mode. */
export type PaddingMode = (typeof PADDING_MODES)[number];

/** Padding before and after each spatial axis (the same order as the axes). */
export interface AxisPads {
  before: number[];
  after: number[];
}

export function checkPaddingMode(layer: string, value: unknown): PaddingMode {
  return checkOneOf(`${layer}: paddingMode`, value ?? 'zeros', PADDING_MODES);
}

/**
 * Resolves a padding option: 'valid' is no padding; 'same' pads dilation (kernel - 1) per axis, half before and the
 * rest (one more for an even dilated kernel) after, as PyTorch, which refuses it for strided convolutions; anything
 * else goes to `sizes` (the layer's own size checker), padded equally on both sides.
 */
export function resolvePadding(
  layer: string,
  value: unknown,
  kernel: readonly number[],
  stride: readonly number[],
  dilation: readonly number[],
  sizes: (value: unknown) => number[],
): AxisPads & { same: boolean } {
  if (typeof value === 'string') {
    if (value === 'valid') return { before: kernel.map(() => 0), after: kernel.map(() => 0), same: false };
    if (value !== 'same')
      throw new RangeError(`${layer}: padding must be a size, 'same' or 'valid', got ${describe(value)}`);
    if (stride.some((s) => s !== 1))
      throw new RangeError(
        `${layer}: padding 'same' is not supported for strided convolutions (stride ${stride.join(', ')})`,
      );
    const total = kernel.map((k, i) => dilation[i] * (k - 1));
    const before = total.map((t) => Math.floor(t / 2));
    return { before, after: total.map((t, i) => t - before[i]), same: true };
  }
  const p = sizes(value);
  return { before: [...p], after: [...p], same: false };
}

/**
 * Checks that the pads fit the spatial sizes `size` for `mode`, with PyTorch's limits: reflect pads less than the
 * size (a mirror does not repeat the edge), circular at most the size (it wraps once).
 */
export function checkPadsFit(layer: string, mode: PaddingMode, pads: AxisPads, size: readonly number[]): void {
  for (let i = 0; i < size.length; i++) {
    const p = Math.max(pads.before[i], pads.after[i]);
    const tooBig = mode === 'reflect' ? p >= size[i] : mode === 'circular' ? p > size[i] : false;
    if (tooBig) {
      const limit = mode === 'reflect' ? 'less than' : 'at most';
      throw new RangeError(
        `${layer}: paddingMode '${mode}' needs padding ${limit} the input size on each axis; padding ${p} on an axis of size ${size[i]}`,
      );
    }
  }
}

/** For each position of a padded axis, the input position it reads, or -1 for a zero. */
function sourceIndex(size: number, before: number, after: number, mode: PaddingMode): Int32Array {
  const map = new Int32Array(before + size + after);
  for (let i = 0; i < map.length; i++) {
    const j = i - before;
    if (j >= 0 && j < size) map[i] = j;
    else if (mode === 'zeros') map[i] = -1;
    else if (mode === 'reflect') map[i] = j < 0 ? -j : 2 * (size - 1) - j;
    else if (mode === 'replicate') map[i] = j < 0 ? 0 : size - 1;
    else map[i] = ((j % size) + size) % size;
  }
  return map;
}

/** The shape of `shape` ([N, C, H, W]) with `pads` ([H, W] axes) added. */
export function paddedShape(shape: readonly number[], pads: AxisPads): number[] {
  return [shape[0], shape[1], shape[2] + pads.before[0] + pads.after[0], shape[3] + pads.before[1] + pads.after[1]];
}

function maps(shape: readonly number[], pads: AxisPads, mode: PaddingMode): [Int32Array, Int32Array] {
  if (shape.length !== 4) throw new RangeError(`padSpatial: expected [N, C, H, W], got ${formatShape(shape)}`);
  return [
    sourceIndex(shape[2], pads.before[0], pads.after[0], mode),
    sourceIndex(shape[3], pads.before[1], pads.after[1], mode),
  ];
}

/** Writes `input` [N, C, H, W] padded on H and W into `out` (of paddedShape), as torch.nn.functional.pad. */
export function padSpatial(input: Tensor, out: Tensor, pads: AxisPads, mode: PaddingMode): void {
  const [rows, cols] = maps(input.shape, pads, mode);
  const [n, c, h, w] = input.shape;
  const [oh, ow] = [rows.length, cols.length];
  const x = input.data;
  const y = out.data;
  for (let plane = 0; plane < n * c; plane++) {
    const src = plane * h * w;
    const dst = plane * oh * ow;
    for (let r = 0; r < oh; r++) {
      const sr = rows[r];
      for (let q = 0; q < ow; q++) {
        const sc = cols[q];
        y[dst + r * ow + q] = sr < 0 || sc < 0 ? 0 : x[src + sr * w + sc];
      }
    }
  }
}

/** The backward of padSpatial: adds each padded position's gradient to the input position it read (dinput += ...). */
export function foldPaddedGrad(dpadded: Tensor, dinput: Tensor, pads: AxisPads, mode: PaddingMode): void {
  const [rows, cols] = maps(dinput.shape, pads, mode);
  const [n, c, h, w] = dinput.shape;
  const [oh, ow] = [rows.length, cols.length];
  const g = dpadded.data;
  const dx = dinput.data;
  for (let plane = 0; plane < n * c; plane++) {
    const src = plane * oh * ow;
    const dst = plane * h * w;
    for (let r = 0; r < oh; r++) {
      const sr = rows[r];
      if (sr < 0) continue;
      for (let q = 0; q < ow; q++) {
        const sc = cols[q];
        if (sc >= 0) dx[dst + sr * w + sc] += g[src + r * ow + q];
      }
    }
  }
}

/** True when the native conv kernel can pad by itself: zeros (or no padding at all), equal before and after on every axis. */
export function kernelPads(pads: AxisPads, mode: PaddingMode): boolean {
  const none = pads.before.every((b, i) => b === 0 && pads.after[i] === 0);
  return none || (mode === 'zeros' && pads.before.every((b, i) => b === pads.after[i]));
}
