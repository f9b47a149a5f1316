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
