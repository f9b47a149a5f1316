// SPDX-License-Identifier: MIT
// Parsers for CLI option values: each returns the value or throws commander's InvalidArgumentError (exit code 2).
// The text is parsed here; the number rules are lib/check.ts's.
import { InvalidArgumentError } from 'commander';
import { checkInt, checkNumber } from '../check';

/** Runs a lib/check.ts check on a parsed value; its failure is commander's InvalidArgumentError with `message`. */
function checked<T>(check: () => T, message: string): T {
  try {
    return check();
  } catch {
    throw new InvalidArgumentError(message);
  }
}

/** Parser of a decimal integer >= min ("10"; not "1e3", "10.5" or "-1"). */
export function integerAtLeast(min: number): (value: string) => number {
  return (value: string) => {
    const message = `expected an integer >= ${min}.`;
    if (!/^\s*\d+\s*$/.test(value)) throw new InvalidArgumentError(message);
    return checked(() => checkInt('value', Number(value), min), message);
  };
}

/** Parser of a finite number > 0 ("1e-3", "0.001"). */
export function positiveNumber(value: string): number {
  const message = 'expected a number > 0.';
  if (value.trim() === '') throw new InvalidArgumentError(message);
  return checked(() => checkNumber('value', Number(value), { minExclusive: 0 }), message);
}

/** Parser of a non-empty path string. */
export function nonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a non-empty path.');
  return value;
}
