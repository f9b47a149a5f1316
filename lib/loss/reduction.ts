// SPDX-License-Identifier: MIT
// The `reduction` option shared by the losses, what forward() returns for each, and backward()'s upstream gradient.
import { checkString, describe } from '../check';
import { expectShape } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

/**
 * How a loss combines per-element losses: their mean, their sum, or none (forward() returns them all as a Tensor, as
 * PyTorch's reduction='none').
 */
export type Reduction = 'mean' | 'sum' | 'none';

/** What a loss's forward() returns: a number for 'mean' and 'sum', the per-element Tensor for 'none'. */
export type LossValue<R extends Reduction> = R extends 'none' ? Tensor : number;

/** Returns `value` (default 'mean') as a Reduction, or throws naming the loss and the option. */
export function checkReduction(loss: string, value: unknown): Reduction {
  if (value === undefined || value === null) return 'mean';
  checkString(`${loss}: reduction`, value);
  if (value !== 'mean' && value !== 'sum' && value !== 'none')
    throw new RangeError(`${loss}: reduction must be 'mean', 'sum' or 'none', got '${value}'`);
  return value;
}

/**
 * backward()'s upstream gradient: for 'mean' and 'sum' a number (the loss's gradient scale, default 1); for 'none' the
 * gradient of each per-element loss, a Tensor of forward()'s result shape, or one number for all of them. Returns a
 * number (the same for every element) or the per-element values.
 */
export function upstreamGrad(
  loss: string,
  reduction: Reduction,
  grad: unknown,
  shape: readonly number[],
): number | Float32Array {
  if (grad === undefined) return 1;
  if (typeof grad === 'number') return grad;
  if (!(grad instanceof Tensor)) {
    const what = reduction === 'none' ? 'a number or a Tensor of the per-element losses shape' : 'a number';
    throw new TypeError(`${loss}.backward: gradient must be ${what}, got ${describe(grad)}`);
  }
  if (reduction !== 'none')
    throw new TypeError(
      `${loss}.backward: a Tensor gradient needs reduction 'none'; reduction '${reduction}' takes a number`,
    );
  expectShape(`${loss}.backward: gradient`, grad.shape, shape);
  return grad.data;
}
