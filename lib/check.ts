// SPDX-License-Identifier: MIT
// Argument checks shared by the whole TypeScript layer (sharp's lib/is.js pattern): each check returns
// the value it accepted or throws an error naming the argument. Error classes live in errors.ts.
//
// Which error class (one rule, everywhere):
// - TypeError: the value is the wrong kind of thing: not a number / boolean / string / function /
//   array / object / instance of the expected class, or a required argument left out.
// - RangeError: the kind is right but the value is not allowed: out of range, not an integer, NaN or
//   infinite, an array of the wrong length, a string outside the allowed set, an empty string where
//   one is needed, or an option name the callee does not know.
// `undefined` and `null` mean "not given": callers apply their default with `options.x ?? default`
// before checking (sharp's is.defined treats both alike). Where null means something of its own
// (BatchNorm's momentum, AvgPool2d's divisorOverride) the option's documentation says so.
// Messages read "<what> must be <expected>, got <actual>", `what` naming the callee and the
// argument ("Conv2d: kernelSize").

/** Short description of a value's kind for error messages ("Array", "null", "number"). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}

/** The value itself when it is short and printable (for RangeError messages), else its kind. */
function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return describe(value);
}

/**
 * %TypedArray%.prototype[Symbol.toStringTag]'s getter: a typed array's own kind from its internal slot (any realm; an
 * own Symbol.toStringTag cannot fake it), undefined for anything else. Ten times faster than Object.prototype.toString,
 * which every Tensor construction pays.
 */
const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), Symbol.toStringTag)
  ?.get as (this: unknown) => string | undefined;

/** True for a Float32Array from any realm (vm contexts, jest, the addon), unlike instanceof. */
export function isFloat32Array(value: unknown): value is Float32Array {
  return typedArrayName.call(value) === 'Float32Array';
}

/** True for an Int32Array from any realm. */
export function isInt32Array(value: unknown): value is Int32Array {
  return typedArrayName.call(value) === 'Int32Array';
}

/** True for a plain options object: an object that is neither an array nor a typed array. */
export function isOptionsObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/**
 * Checks an options argument: undefined or null gives `{}`; anything but an object is a TypeError;
 * a key not in `known` is a RangeError listing the known ones, so no option is silently ignored.
 */
export function checkOptions<T extends object>(
  what: string,
  options: T | undefined | null,
  known: readonly string[],
): T {
  if (options === undefined || options === null) return {} as T;
  if (!isOptionsObject(options)) throw new TypeError(`${what}: options must be an object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const list = known.length === 0 ? 'it takes none' : `known: ${known.join(', ')}`;
      throw new RangeError(`${what}: unknown option '${key}' (${list})`);
    }
  }
  return options;
}

/** A boolean, or a TypeError ("yes", 1 and {} are not booleans). */
export function checkBool(what: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${what} must be a boolean, got ${describe(value)}`);
  return value;
}

/** An integer in [min, max] (a number of another kind is a RangeError, anything else a TypeError). */
export function checkInt(what: string, value: unknown, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw new TypeError(`${what} must be a number, got ${describe(value)}`);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    throw new RangeError(`${what} must be an integer ${range}, got ${value}`);
  }
  return value;
}

export interface NumberBounds {
  min?: number;
  minExclusive?: number;
  max?: number;
  maxExclusive?: number;
}

/** A finite number within the given bounds. */
export function checkNumber(what: string, value: unknown, bounds: NumberBounds = {}): number {
  if (typeof value !== 'number') throw new TypeError(`${what} must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value)) throw new RangeError(`${what} must be finite, got ${value}`);
  const { min, minExclusive, max, maxExclusive } = bounds;
  if (min !== undefined && value < min) throw new RangeError(`${what} must be >= ${min}, got ${value}`);
  if (minExclusive !== undefined && value <= minExclusive)
    throw new RangeError(`${what} must be > ${minExclusive}, got ${value}`);
  if (max !== undefined && value > max) throw new RangeError(`${what} must be <= ${max}, got ${value}`);
  if (maxExclusive !== undefined && value >= maxExclusive)
    throw new RangeError(`${what} must be < ${maxExclusive}, got ${value}`);
  return value;
}

/** One of `allowed` (strings or numbers): another kind is a TypeError, another value of the kind a RangeError. */
export function checkOneOf<T extends string | number>(what: string, value: unknown, allowed: readonly T[]): T {
  const kind = typeof allowed[0];
  const list = allowed.map((a) => show(a)).join(', ');
  if (typeof value !== kind) throw new TypeError(`${what} must be one of ${list}, got ${describe(value)}`);
  if (!allowed.includes(value as T)) throw new RangeError(`${what} must be one of ${list}, got ${show(value)}`);
  return value as T;
}

/** A string; with `nonEmpty`, '' is a RangeError. */
export function checkString(what: string, value: unknown, nonEmpty = false): string {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string, got ${describe(value)}`);
  if (nonEmpty && value === '') throw new RangeError(`${what} must be a non-empty string, got ''`);
  return value;
}

/** A function. */
export function checkFunction<F extends (...args: never[]) => unknown>(what: string, value: unknown): F {
  if (typeof value !== 'function') throw new TypeError(`${what} must be a function, got ${describe(value)}`);
  return value as F;
}

/** An instance of `type` (`expected` names it in the message, e.g. "an Optimizer"). */
export function checkInstance<T>(
  what: string,
  value: unknown,
  type: abstract new (...args: never[]) => T,
  expected = `a ${type.name}`,
): T {
  if (!(value instanceof type)) throw new TypeError(`${what} must be ${expected}, got ${describe(value)}`);
  return value;
}

/** An array, of exactly `length` entries when given (another length is a RangeError). */
export function checkArray(what: string, value: unknown, length?: number): unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`${what} must be an array, got ${describe(value)}`);
  if (length !== undefined && value.length !== length)
    throw new RangeError(`${what} must hold ${length} entries, got ${value.length}`);
  return value;
}

/** A size given as one number or an [h, w] pair. */
export type IntPair = number | readonly [number, number];

/** Expands a number or an [h, w] pair to [h, w] and checks both are integers >= min. */
export function checkIntPair(what: string, value: unknown, min: number): [number, number] {
  if (typeof value === 'number') {
    checkInt(what, value, min);
    return [value, value];
  }
  if (!Array.isArray(value)) throw new TypeError(`${what} must be a number or an [h, w] pair, got ${describe(value)}`);
  if (value.length !== 2)
    throw new RangeError(`${what} must be a number or an [h, w] pair, got ${value.length} entries`);
  return [checkInt(what, value[0], min), checkInt(what, value[1], min)];
}
