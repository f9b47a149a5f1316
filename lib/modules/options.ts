// SPDX-License-Identifier: MIT
// Helpers that turn layer options (a number or an [h, w] pair) into validated integer pairs.
import { describe } from '../errors';

export type IntPair = number | readonly [number, number];

/** Expands `value` to [h, w] and checks both are integers >= min. `what` names the option. */
export function intPair(what: string, value: IntPair, min: number): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2) {
    throw new TypeError(`${what} must be a number or an [h, w] pair, got ${describe(value)}`);
  }
  for (const v of pair) {
    if (typeof v !== 'number') throw new TypeError(`${what} must hold numbers, got ${describe(v)}`);
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${what} must be an integer >= ${min}, got ${v}`);
  }
  return [pair[0], pair[1]];
}

/** Throws when an options object holds keys the layer does not know, so no option is silently ignored. */
export function rejectUnknownOptions(layer: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new RangeError(`${layer}: unknown or unsupported option '${key}'`);
  }
}

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
 * keys, then kernelSize (>= 1), stride (default kernelSize) and padding (default 0) as pairs.
 */
export function poolWindow<O extends { kernelSize: IntPair; stride?: IntPair; padding?: IntPair }>(
  layer: string,
  arg: O | IntPair,
  known: readonly string[],
): PoolWindow<O> {
  const options = (typeof arg === 'number' || Array.isArray(arg) ? { kernelSize: arg } : arg) as O;
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`${layer}: options must be a kernel size or an object, got ${describe(arg)}`);
  rejectUnknownOptions(layer, options, known);
  const kernelSize = intPair(`${layer}: kernelSize`, options.kernelSize, 1);
  return {
    options,
    kernelSize,
    stride: intPair(`${layer}: stride`, options.stride ?? kernelSize, 1),
    padding: intPair(`${layer}: padding`, options.padding ?? 0, 0),
  };
}
