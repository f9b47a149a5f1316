// SPDX-License-Identifier: MIT
// constructor-fuzz.test.ts's cases for ReLU6, Hardtanh, GELU, SiLU, Hardswish, Hardsigmoid, ELU, Identity, Dropout2d,
// LayerNorm and GroupNorm (the option model is option-model.ts).
import * as lib from '../lib/index';
import { Generator } from '../lib/random';
import {
  BAD,
  BOOLS,
  CAP,
  type Case,
  HOSTILE,
  INTS,
  type Judge,
  OK,
  UNIT,
  bool,
  generator,
  given,
  int,
  intValue,
  num,
  opt,
  optionsCase,
  pick,
  required,
  rng,
} from './option-model';

const has = (n: Record<string, unknown>, ...keys: string[]): boolean => keys.every((k) => k in n);

/** A layer without options: undefined, null and {} build; another object names its unknown key; a non-object is a TypeError. */
function noOptionsCase(build: (o: unknown) => unknown): Case {
  return {
    draw() {
      const v = rng.random() < 0.4 ? pick([undefined, null, {}, { inplace: true }]) : pick(HOSTILE);
      const isObject = v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
      const error =
        !given(v) || (isObject && Object.keys(v).length === 0) ? null : isObject ? 'RangeError' : 'TypeError';
      return { build: () => build(v), valid: {}, bad: error === null ? [] : [['', error]] };
    },
    expected: () => ({}),
    read: () => ({}),
  };
}

/** One of a few strings. */
const oneOf =
  (allowed: string[]): Judge =>
  (v) =>
    !given(v)
      ? OK(undefined)
      : typeof v !== 'string'
        ? BAD('TypeError')
        : allowed.includes(v)
          ? OK(v)
          : BAD('RangeError');

/** LayerNorm's normalizedShape: a size, or a non-empty list of sizes (each >= 1, checked in order); required. */
const normalizedShape: Judge = (v) => {
  if (!given(v)) return BAD('TypeError');
  if (typeof v === 'number') {
    const j = intValue(v, 1, Number.MAX_SAFE_INTEGER);
    return j.ok ? OK([v]) : j;
  }
  if (!Array.isArray(v)) return BAD('TypeError');
  if (v.length === 0) return BAD('RangeError');
  for (const e of v) {
    const j = intValue(e, 1, Number.MAX_SAFE_INTEGER);
    if (!j.ok) return j;
  }
  return OK([...v]);
};

export const ACT_CASES: Record<string, Case> = {
  ReLU6: noOptionsCase((o) => new lib.ReLU6(o as never)),
  SiLU: noOptionsCase((o) => new lib.SiLU(o as never)),
  Hardswish: noOptionsCase((o) => new lib.Hardswish(o as never)),
  Hardsigmoid: noOptionsCase((o) => new lib.Hardsigmoid(o as never)),
  Identity: noOptionsCase((o) => new lib.Identity(o as never)),
  Hardtanh: optionsCase(
    { minVal: opt(num(), [-1, -2, 0, 0.5, undefined]), maxVal: opt(num(), [1, 2, 6, -1, undefined]) },
    (o) => new lib.Hardtanh(o as never),
    {
      cross: (n) => has(n, 'minVal', 'maxVal') && !(((n.maxVal as number) ?? 1) > ((n.minVal as number) ?? -1)),
      expected: (n) => ({ minVal: n.minVal ?? -1, maxVal: n.maxVal ?? 1 }),
      read: (a: lib.Hardtanh) => ({ minVal: a.minVal, maxVal: a.maxVal }),
    },
  ),
  GELU: optionsCase(
    { approximate: opt(oneOf(['none', 'tanh']), ['none', 'tanh', 'erf', undefined]) },
    (o) => new lib.GELU(o as never),
    {
      expected: (n) => ({ approximate: n.approximate ?? 'none' }),
      read: (a: lib.GELU) => ({ approximate: a.approximate }),
    },
  ),
  ELU: optionsCase({ alpha: opt(num(), [1, 0.5, -1, 0, undefined]) }, (o) => new lib.ELU(o as never), {
    expected: (n) => ({ alpha: n.alpha ?? 1 }),
    read: (a: lib.ELU) => ({ alpha: a.alpha }),
  }),
  Dropout2d: optionsCase(
    { p: opt(num({ min: 0, max: 1 }), UNIT), generator: opt(generator, [new Generator(2), undefined]) },
    (o) => new lib.Dropout2d(o as never),
    { expected: (n) => ({ p: n.p ?? 0.5 }), read: (d: lib.Dropout2d) => ({ p: d.p }) },
  ),
  LayerNorm: optionsCase(
    {
      normalizedShape: opt(normalizedShape, [1, 4, [2, 3], [3, 1, 2], [], [2, 0]]),
      eps: opt(num({ min: 0 }), [0, 1e-5, 0.1, undefined]),
      elementwiseAffine: opt(bool, BOOLS),
      bias: opt(bool, BOOLS),
    },
    (o) => new lib.LayerNorm(o as never),
    {
      cross: (n) => has(n, 'normalizedShape') && (n.normalizedShape as number[]).reduce((a, b) => a * b, 1) > CAP,
      expected: (n) => {
        const affine = n.elementwiseAffine ?? true;
        return {
          normalizedShape: n.normalizedShape,
          eps: n.eps ?? 1e-5,
          elementwiseAffine: affine,
          weight: affine ? n.normalizedShape : null,
          bias: affine && (n.bias ?? true) ? n.normalizedShape : null,
        };
      },
      read: (l: lib.LayerNorm) => ({
        normalizedShape: l.normalizedShape,
        eps: l.eps,
        elementwiseAffine: l.elementwiseAffine,
        weight: l.weight?.shape ?? null,
        bias: l.bias?.shape ?? null,
      }),
    },
  ),
  GroupNorm: optionsCase(
    {
      numGroups: opt(required(1), [1, 2, 3, 4]),
      numChannels: opt(int(1, CAP, true), [...INTS, 8, 12]),
      eps: opt(num({ min: 0 }), [0, 1e-5, undefined]),
      affine: opt(bool, BOOLS),
    },
    (o) => new lib.GroupNorm(o as never),
    {
      cross: (n) => has(n, 'numGroups', 'numChannels') && (n.numChannels as number) % (n.numGroups as number) !== 0,
      expected: (n) => ({
        sizes: [n.numGroups, n.numChannels],
        eps: n.eps ?? 1e-5,
        affine: n.affine ?? true,
        weight: (n.affine ?? true) ? [n.numChannels] : null,
      }),
      read: (g: lib.GroupNorm) => ({
        sizes: [g.numGroups, g.numChannels],
        eps: g.eps,
        affine: g.affine,
        weight: g.weight?.shape ?? null,
      }),
    },
  ),
};
