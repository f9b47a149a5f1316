// SPDX-License-Identifier: MIT
// Error classes and argument checks shared by the TypeScript layer (the addon checks again natively).

/** A tensor or option has the wrong shape or size. Subclass of RangeError so `instanceof RangeError` holds. */
export class ShapeError extends RangeError {
  override name = 'ShapeError';
}

/** A file (dataset, weights) is missing, truncated or not in the expected format. The message names the file. */
export class FileFormatError extends Error {
  override name = 'FileFormatError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

/** Training produced a NaN or infinite loss. */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}

/** Throws a RangeError unless `value` is an integer >= `min`. `what` names the argument, e.g. "Conv2d: kernelSize". */
export function checkInt(what: string, value: unknown, min = 1): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${what} must be a number, got ${describe(value)}`);
  }
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${what} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

/** Throws unless `value` is a finite number (optionally > or >= a bound). */
export function checkNumber(
  what: string,
  value: unknown,
  opts: { min?: number; minExclusive?: number; max?: number } = {},
): number {
  if (typeof value !== 'number') throw new TypeError(`${what} must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value)) throw new RangeError(`${what} must be finite, got ${value}`);
  if (opts.min !== undefined && value < opts.min) throw new RangeError(`${what} must be >= ${opts.min}, got ${value}`);
  if (opts.minExclusive !== undefined && value <= opts.minExclusive) {
    throw new RangeError(`${what} must be > ${opts.minExclusive}, got ${value}`);
  }
  if (opts.max !== undefined && value > opts.max) throw new RangeError(`${what} must be <= ${opts.max}, got ${value}`);
  return value;
}

/** Short description of a value's type for error messages ("Array", "null", "number"). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/** True for a Float32Array from any realm (vm contexts, jest, the addon), unlike instanceof. */
export function isFloat32Array(value: unknown): value is Float32Array {
  return ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Float32Array]';
}

/** True for an Int32Array from any realm. */
export function isInt32Array(value: unknown): value is Int32Array {
  return ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Int32Array]';
}
