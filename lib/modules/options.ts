// SPDX-License-Identifier: MIT
// Pooling-window helpers shared by the 2-D pools (output size, window options, repr); the argument
// checks themselves are in ../check.ts.
import { checkIntPair, checkOptions, describe, type IntPair } from '../check';

export type { IntPair };

export function pairRepr(p: readonly [number, number]): string {
  return `[${p[0]}, ${p[1]}]`;
}

/**
 * Output length of one axis under PyTorch's rule (pooling_output_shape_pad_lr): floor or ceil of
 * (in + 2 pad - dilation (kernel - 1) - 1) / stride, plus 1; in ceil mode the last window must start
 * inside the input or the left padding. Returns 0 or less when no window fits.
 */
export function poolOutputSize(
  input: number,
  kernel: number,
  stride: number,
  pad: number,
  ceilMode: boolean,
  dilation = 1,
): number {
  const num = input + 2 * pad - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
  if (num < 0) return 0;
  let out = Math.floor(num / stride) + 1;
  if (ceilMode && (out - 1) * stride >= input + pad) out--;
  return out;
}

/** The window options every 2-D pool shares, after defaults and checks. */
export interface PoolWindow<O> {
  /** The options object (a bare kernel size becomes { kernelSize }). */
  options: O;
  kernelSize: [number, number];
  stride: [number, number];
  padding: [number, number];
}

/**
 * Normalises a pool's constructor argument (a kernel size or an options object): rejects unknown
 * keys, then kernelSize (>= 1), stride (default kernelSize) and padding (default 0, at most half the
 * kernel) as pairs.
 */
export function poolWindow<O extends { kernelSize: IntPair; stride?: IntPair; padding?: IntPair }>(
  layer: string,
  arg: O | IntPair,
  known: readonly string[],
): PoolWindow<O> {
  if (arg === undefined || arg === null)
    throw new TypeError(`${layer}: options must be a kernel size or an object, got ${describe(arg)}`);
  const bare = typeof arg === 'number' || Array.isArray(arg);
  const options = checkOptions(layer, (bare ? { kernelSize: arg } : arg) as O, known);
  const kernelSize = checkIntPair(`${layer}: kernelSize`, options.kernelSize, 1);
  return {
    options,
    kernelSize,
    stride: checkIntPair(`${layer}: stride`, options.stride ?? kernelSize, 1),
    padding: checkPoolPadding(layer, kernelSize, checkIntPair(`${layer}: padding`, options.padding ?? 0, 0)),
  };
}

/** PyTorch's pooling rule: padding at most half the kernel on each axis. */
function checkPoolPadding(layer: string, kernel: [number, number], padding: [number, number]): [number, number] {
  if (2 * padding[0] > kernel[0] || 2 * padding[1] > kernel[1])
    throw new RangeError(
      `${layer}: padding ${pairRepr(padding)} must be at most half of kernelSize ${pairRepr(kernel)}`,
    );
  return padding;
}
