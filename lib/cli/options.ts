// SPDX-License-Identifier: MIT
// Parsers for CLI option values: each returns the value or throws commander's InvalidArgumentError (exit code 2).
import { InvalidArgumentError } from 'commander';

/** Parser of a decimal integer >= min ("10"; not "1e3", "10.5" or "-1"). */
export function integerAtLeast(min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected an integer >= ${min}.`);
    }
    return n;
  };
}

/** Parser of a finite number > 0 ("1e-3", "0.001"). */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0.');
  return n;
}

/** Parser of a non-empty path string. */
export function nonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a non-empty path.');
  return value;
}
