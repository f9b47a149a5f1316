// SPDX-License-Identifier: MIT
// Helpers the layer kinds' JSON model-spec builders share: input-rank checks, sizes inferred from the running shape,
// option-less layers. The spec walk itself (lists, names, nesting, graphs) is lib/summary/model-spec.ts.
import type { Module } from '../modules/module';
import { formatShape } from '../tensor/shape';
import type { SpecOptions, SpecType } from './kind';

/** Checks the input rank a layer needs (so an inferred size is read from the right axis); `layout` names the ranks for the message. */
export function needRank(
  where: string,
  kind: string,
  shape: readonly number[],
  dims: readonly number[],
  layout: string,
): void {
  if (!dims.includes(shape.length))
    throw new RangeError(`${where}: ${kind} needs a ${layout} input, the shape here is ${formatShape(shape)}`);
}

/** `size` (the inferred value) under `key` first, unless the spec gives it. */
export function infer(options: SpecOptions, key: string, size: number): SpecOptions {
  return key in options ? options : { [key]: size, ...options };
}

/** An option as a count for SpecType.stateValues: the number, `fallback` when absent, NaN for anything else. */
export function num(value: unknown, fallback: number): number {
  return value === undefined ? fallback : typeof value === 'number' ? value : NaN;
}

/** A spec type without options. */
export function plainSpec(type: string, make: () => Module): SpecType {
  return { type, options: [], build: () => make() };
}

/** A spec type whose options go to the constructor unchanged. */
export function directSpec(type: string, options: readonly string[], make: (options: SpecOptions) => Module): SpecType {
  return { type, options, build: (o) => make(o) };
}
