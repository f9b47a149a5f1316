// SPDX-License-Identifier: MIT
// What Sequential and Graph share around their compiled inference programs: the input check every predict() makes,
// and running a program on a batch.
import { describe } from '../check';
import { ShapeError } from '../errors';
import { native } from '../native';
import { formatShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import type { CompiledProgram } from './program';

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
  return input.shape.slice(1).join('x');
}

/** Runs `program` on the whole batch `input` (folded weights refreshed first) and returns a new tensor. */
export function runProgram(program: CompiledProgram, input: Tensor): Tensor {
  const out = Tensor.zeros([input.shape[0], ...program.outShape]);
  program.refresh();
  native.runProgram(program.code, program.params, input.data, out.data, input.shape[0]);
  return out;
}
