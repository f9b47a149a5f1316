// SPDX-License-Identifier: MIT
// The `reduction` option shared by the losses: validation only (each loss applies it).
import { checkString } from '../check';

/** How a loss combines per-element losses: their mean or their sum. ('none' is not supported.) */
export type Reduction = 'mean' | 'sum';

/** Returns `value` (default 'mean') as a Reduction, or throws naming the loss and the option. */
export function checkReduction(loss: string, value: unknown): Reduction {
  if (value === undefined || value === null) return 'mean';
  checkString(`${loss}: reduction`, value);
  if (value === 'none')
    throw new RangeError(
      `${loss}: reduction 'none' is not supported (forward() returns one number); use 'mean' or 'sum'`,
    );
  if (value !== 'mean' && value !== 'sum')
    throw new RangeError(`${loss}: reduction must be 'mean' or 'sum', got '${value}'`);
  return value;
}
