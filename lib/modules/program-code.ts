// SPDX-License-Identifier: MIT
// The inference-program format seen from TypeScript: the op codes shared with native/ops/program.h and the emitter a
// layer kind (lib/layers/) writes its op through; the compiler that walks a model is program.ts.
import type { Module } from './module';

/** Op codes shared with native/ops/program.h (each op's fields are documented there). */
export const OP = Object.freeze({
  conv: 1,
  maxPool: 2,
  linear: 3,
  relu: 4,
  avgPool: 5,
  save: 6,
  load: 7,
  binary: 8,
  concat: 9,
  pad: 10,
  slice: 11,
  sigmoid: 12,
  clamp: 13,
  convTranspose: 14,
  upsample: 15,
  convAdd: 16,
});

/** kOpBinary's operations. */
export const BINARY = Object.freeze({ add: 0, mul: 1 });

/** The largest size, index or divisor a program field holds (native/ops/program.cc's kMaxDim). */
export const MAX_FIELD = 2 ** 24;

/** The most dims of a sample (without the batch) the shape-generic ops (binary, pad, slice) take. */
export const MAX_RANK = 6;

/**
 * What a layer kind's program rule writes its op through. Shapes have a batch of 1 in front. The emitter also knows
 * the step's surroundings: whether a ReLU right after it can be fused, and the BatchNorm folded into it.
 */
export interface ProgramEmitter {
  /** The layer's input shape, [1, ...sample]. */
  readonly inShape: readonly number[];
  /** The layer's output shape, [1, ...sample]. */
  readonly outShape: readonly number[];
  /** Appends fields to the program. */
  emit(...fields: number[]): void;
  /** Adds a parameter array, returning its index (arrays are passed by reference: weight updates need no recompile). */
  param(values: Float32Array): number;
  /**
   * The param indices of a weighted layer's weight and bias (-1: none); with a BatchNorm folded into it, of folded
   * copies the program refreshes before each run.
   */
  weights(
    layer: Module & { weight: { data: { data: Float32Array } }; bias: { data: { data: Float32Array } } | null },
  ): [number, number];
  /** True (once) when the only reader of the output is a plain ReLU the op should apply itself (the ReLU is skipped). */
  fuseRelu(): boolean;
  /**
   * For a Conv2d whose output is added to another value (the add and the shortcut's slice and channel padding are
   * left out): kOpConvAdd's residual fields to append after kOpConv's (see native/ops/program.h), else null. A conv
   * rule that gets fields must emit OP.convAdd with them.
   */
  residual(): number[] | null;
}

/** Values per sample of a [1, ...sample] shape. */
export function sampleSize(shape: readonly number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}
