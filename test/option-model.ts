// SPDX-License-Identifier: MIT
// The model constructor-fuzz.test.ts holds constructors to: per option, what it accepts (the normalised value, or
// the error class lib/check.ts's rule gives), a seeded draw of often-valid and hostile values, and case builders.
import { Generator } from '../lib/random';

export const rng = new Generator(2024);
export const pick = <T>(xs: readonly T[]): T => xs[rng.randint(xs.length)];

/** Values a careless or hostile caller might pass where a small positive integer is expected. */
export const HOSTILE: readonly unknown[] = [
  0,
  -1,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 33,
  2 ** 40,
  2 ** 53,
  2 ** 60,
  '3',
  'no',
  null,
  undefined,
  true,
  false,
  {},
  [],
  [2],
  [2, 3],
  [2, 3, 4],
  [-1, 2],
  [NaN, 1],
  ['2', 2],
  1,
  2,
  3,
  5,
  1e-3,
  0.5,
  'same',
  Symbol('x'),
  () => 1,
  new Float32Array(2),
];
export const CAP = 2 ** 32; // elements of the largest tensor Tensor.zeros allocates

export type ErrorName = 'TypeError' | 'RangeError';
export type Judged = { ok: true; value: unknown } | { ok: false; error: ErrorName };
/** What an option accepts: the normalised value (undefined: not given, the default applies) or the error. */
export type Judge = (v: unknown) => Judged;

export const OK = (value: unknown): Judged => ({ ok: true, value });
export const BAD = (error: ErrorName): Judged => ({ ok: false, error });
/** undefined and null mean "not given" (check.ts's rule). */
export const given = (v: unknown): boolean => v !== undefined && v !== null;

export function intValue(v: unknown, min: number, max: number): Judged {
  if (typeof v !== 'number') return BAD('TypeError');
  return Number.isSafeInteger(v) && v >= min && v <= max ? OK(v) : BAD('RangeError');
}
export const int =
  (min: number, max = Number.MAX_SAFE_INTEGER, required = false): Judge =>
  (v) =>
    given(v) ? intValue(v, min, max) : required ? BAD('TypeError') : OK(undefined);
export const required = (min: number): Judge => int(min, Number.MAX_SAFE_INTEGER, true);
/** A number or an [h, w] pair of integers >= min (elements checked in order). */
export const pair =
  (min: number, isRequired = false): Judge =>
  (v) => {
    if (!given(v)) return isRequired ? BAD('TypeError') : OK(undefined);
    if (typeof v === 'number') {
      const j = intValue(v, min, Number.MAX_SAFE_INTEGER);
      return j.ok ? OK([v, v]) : j;
    }
    if (!Array.isArray(v)) return BAD('TypeError');
    if (v.length !== 2) return BAD('RangeError');
    for (const e of v) {
      const j = intValue(e, min, Number.MAX_SAFE_INTEGER);
      if (!j.ok) return j;
    }
    return OK([...v]);
  };
/** A number or a one-element array (Conv1d's sizes). */
export const one =
  (min: number, isRequired = false): Judge =>
  (v) => {
    if (!given(v)) return isRequired ? BAD('TypeError') : OK(undefined);
    if (Array.isArray(v)) return v.length === 1 ? intValue(v[0], min, Number.MAX_SAFE_INTEGER) : BAD('RangeError');
    return intValue(v, min, Number.MAX_SAFE_INTEGER);
  };
/** One of `allowed` strings (check.ts's checkOneOf): another string is a RangeError, another kind a TypeError. */
export const oneOf =
  (allowed: readonly string[]): Judge =>
  (v) =>
    !given(v)
      ? OK(undefined)
      : typeof v !== 'string'
        ? BAD('TypeError')
        : allowed.includes(v)
          ? OK(v)
          : BAD('RangeError');
/** A conv padding: a size (`size` judges it), or the strings 'same' and 'valid' (another string is a RangeError). */
export const convPadding =
  (size: Judge): Judge =>
  (v) =>
    typeof v !== 'string' ? size(v) : v === 'same' || v === 'valid' ? OK(v) : BAD('RangeError');
export const PADDING_MODES = ['zeros', 'reflect', 'replicate', 'circular'];
export const bool: Judge = (v) => (!given(v) ? OK(undefined) : typeof v === 'boolean' ? OK(v) : BAD('TypeError'));
export const num =
  (b: { min?: number; max?: number; gt?: number; lt?: number } = {}, isRequired = false): Judge =>
  (v) => {
    if (!given(v)) return isRequired ? BAD('TypeError') : OK(undefined);
    if (typeof v !== 'number') return BAD('TypeError');
    const inside =
      Number.isFinite(v) &&
      (b.min === undefined || v >= b.min) &&
      (b.max === undefined || v <= b.max) &&
      (b.gt === undefined || v > b.gt) &&
      (b.lt === undefined || v < b.lt);
    return inside ? OK(v) : BAD('RangeError');
  };
export const generator: Judge = (v) => (!given(v) ? OK(undefined) : v instanceof Generator ? OK(v) : BAD('TypeError'));

/** Candidates that are often valid, drawn half the time instead of a hostile value. */
export const INTS = [1, 2, 3, 4, 6, undefined];
export const PAIRS = [1, 2, 3, [1, 2], [2, 1], undefined];
export const BOOLS = [true, false, undefined];
export const UNIT = [0, 0.1, 0.5, 1, undefined];

export interface OptionSpec {
  judge: Judge;
  pool: readonly unknown[];
}
export const opt = (judge: Judge, pool: readonly unknown[] = []): OptionSpec => ({ judge, pool });

/** One argument set drawn for a constructor, with what must happen. */
export interface Draw {
  build: () => unknown;
  /** Judged options: valid ones (value undefined when not given) and the bad ones' error classes. */
  valid: Record<string, unknown>;
  bad: [string, ErrorName][];
}

export interface Case {
  draw(): Draw;
  /** Constructions to try. Default 300. */
  runs?: number;
  /** RangeError from a rule across options (sizes that must divide, the tensor cap), given the valid options. */
  cross?: (n: Record<string, unknown>) => boolean;
  /** The object's values for the normalised options, defaults applied. */
  expected(n: Record<string, unknown>): Record<string, unknown>;
  read(obj: never): Record<string, unknown>;
}

/** Draws each option from its pool or the hostile list and judges it. */
export function drawOptions(specs: Record<string, OptionSpec>): {
  options: Record<string, unknown>;
  valid: Record<string, unknown>;
  bad: [string, ErrorName][];
} {
  const options: Record<string, unknown> = {};
  const valid: Record<string, unknown> = {};
  const bad: [string, ErrorName][] = [];
  // About one hostile value per draw, so that many draws build and many fail.
  const hostile = Math.min(0.4, 1 / Object.keys(specs).length);
  for (const [key, spec] of Object.entries(specs)) {
    const v = spec.pool.length > 0 && rng.random() >= hostile ? pick(spec.pool) : pick(HOSTILE);
    if (v !== undefined || rng.random() < 0.5) options[key] = v;
    const j = spec.judge(v);
    if (j.ok) valid[key] = j.value;
    else bad.push([key, j.error]);
  }
  return { options, valid, bad };
}

/** A constructor taking one options object. */
export function optionsCase(
  specs: Record<string, OptionSpec>,
  build: (o: Record<string, unknown>) => unknown,
  rest: Omit<Case, 'draw'>,
): Case {
  return {
    ...rest,
    draw() {
      const { options, valid, bad } = drawOptions(specs);
      return { build: () => build(options), valid, bad };
    },
  };
}

/** The options object of a pool, or a bare kernel size in its place. */
export function poolCase(
  specs: Record<string, OptionSpec>,
  build: (arg: unknown) => unknown,
  rest: Omit<Case, 'draw'>,
): Case {
  const options = optionsCase(specs, build, rest);
  return {
    ...rest,
    draw() {
      if (rng.random() < 0.6) return options.draw();
      const v = rng.random() < 0.5 ? pick(PAIRS) : pick(HOSTILE);
      const bare = typeof v === 'number' || Array.isArray(v);
      // Not a size: an object is read as options ({} lacks kernelSize), anything else has the wrong kind.
      const j = bare ? pair(1, true)(v) : BAD('TypeError');
      return { build: () => build(v), valid: j.ok ? { kernelSize: j.value } : {}, bad: j.ok ? [] : [['', j.error]] };
    },
  };
}
