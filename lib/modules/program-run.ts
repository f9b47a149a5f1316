// SPDX-License-Identifier: MIT
// What Sequential and Graph share around their compiled inference programs: the input check every predict() makes,
// and running a program on a batch.
import { describe } from '../check';
import { ShapeError } from '../errors';
import { native } from '../native';
import { formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import type { Module } from './module';
import type { CompiledProgram } from './program';
import { runOnCurrentSnapshot } from './program-snapshot';

/**
 * Checks predict()'s input (a Tensor with a batch dimension >= 1 and a sample shape) and returns the key its program is
 * compiled under (the sample shape, "3x32x32").
 */
export function programKey(input: Tensor): string {
  if (!(input instanceof Tensor)) throw new TypeError(`predict: input must be a Tensor, got ${describe(input)}`);
  if (input.shape.length < 2 || input.shape[0] < 1) {
    throw new ShapeError(
      `predict: input needs a batch dimension >= 1 and a sample shape, got ${formatShape(input.shape)}`,
    );
  }
  return sampleKey(input.shape);
}

/** The key of a batch shape's sample shape: [n, 3, 32, 32] -> "3x32x32" (as shape.slice(1).join('x'), without arrays). */
export function sampleKey(shape: readonly number[]): string {
  let key = String(shape[1]);
  for (let i = 2; i < shape.length; i++) key += `x${shape[i]}`;
  return key;
}

/**
 * Runs `model`'s `program` on the whole batch `input` and returns a new tensor. A program with folded BatchNorms runs
 * on the model's current weight snapshot (program-snapshot.ts: one memcmp of the sources per call, inside the run; a new copy, folds
 * recomputed, only when the weights changed), whose conv weights are packed once: folding and packing ResNet-20's
 * weights on every call took half of a batch-1 predict(). Other programs read the layers' arrays directly.
 */
export function runProgram(model: Module, program: CompiledProgram, input: Tensor): Tensor {
  const out = Tensor.zeros([input.shape[0], ...program.outShape]);
  if (hasFolds(program)) {
    runOnCurrentSnapshot(model, program, input.data, out.data, input.shape[0]);
  } else {
    native.runProgram(program.code, program.params, input.data, out.data, input.shape[0]);
  }
  return out;
}

/** True when some params are folded copies (not the layers' own arrays). */
function hasFolds(program: CompiledProgram): boolean {
  return program.params.some((p) => !program.sources.includes(p));
}
