// SPDX-License-Identifier: MIT
// Hostile options for every public constructor, checked against a model of what each option accepts:
// a construction that should build must build, and the object must hold the values (and defaults) it
// was given; one that should fail must throw the class lib/check.ts's rule gives (TypeError for a
// value of the wrong kind, RangeError for a bad value of the right kind), with a message that names
// the callee, and the option when only one is bad. Huge sizes are past the 2^32-element tensor cap
// (rejected); a valid 2^31-element layer would really allocate 8 GB, as in PyTorch.
import * as lib from '../lib/index';
import { Generator } from '../lib/random';
import {
  BAD,
  BOOLS,
  CAP,
  type Case,
  type ErrorName,
  HOSTILE,
  INTS,
  type Judge,
  type Judged,
  OK,
  PAIRS,
  UNIT,
  PADDING_MODES,
  bool,
  convPadding,
  drawOptions,
  generator,
  given,
  int,
  intValue,
  num,
  one,
  oneOf,
  opt,
  optionsCase,
  pair,
  pick,
  poolCase,
  required,
  rng,
} from './option-model';
import { ACT_CASES } from './constructor-fuzz-act';

const has = (n: Record<string, unknown>, ...keys: string[]): boolean => keys.every((k) => k in n);
const size = (...dims: number[]): number => dims.reduce((a, b) => a * b, 1);
const params = () => new lib.Linear({ inFeatures: 2, outFeatures: 2 }).parameters();
const sgd = () => new lib.SGD(new lib.Linear({ inFeatures: 1, outFeatures: 1 }).parameters(), { lr: 0.1 });

/**
 * Conv2d and Conv1d: channels divisible by groups, the weight under the tensor cap, and padding 'same' only with
 * stride 1.
 */
function convCross(n: Record<string, unknown>, kernel: (k: unknown) => number): boolean {
  const stride = n.stride === undefined ? [1] : [n.stride].flat();
  if (n.padding === 'same' && 'stride' in n && stride.some((s) => s !== 1)) return true;
  if (!has(n, 'inChannels', 'outChannels', 'groups')) return false;
  const [i, o, g] = [n.inChannels as number, n.outChannels as number, (n.groups as number | undefined) ?? 1];
  if (i % g !== 0 || o % g !== 0) return true;
  return has(n, 'kernelSize') && size(o, i / g, kernel(n.kernelSize)) > CAP;
}

const REDUCTIONS = ['mean', 'sum', 'none'];

/** CrossEntropyLoss's weight: a non-empty number array or Float32Array of finite values (as plain numbers). */
const classWeights: Judge = (v) => {
  if (!given(v)) return OK(undefined);
  if (!(Array.isArray(v) || v instanceof Float32Array)) return BAD('TypeError');
  if (v.length === 0) return BAD('RangeError');
  for (const x of v) {
    if (typeof x !== 'number') return BAD('TypeError');
    if (!Number.isFinite(x)) return BAD('RangeError');
  }
  return OK(Array.from(v as ArrayLike<number>, (x) => Math.fround(x)));
};

/** The pools: padding at most half the kernel on each axis. */
function poolCross(n: Record<string, unknown>): boolean {
  if (!has(n, 'kernelSize', 'padding') || n.padding === undefined) return false;
  const [k, p] = [n.kernelSize as number[], n.padding as number[]];
  return 2 * p[0] > k[0] || 2 * p[1] > k[1];
}

/** AdaptiveAvgPool2d and AdaptiveMaxPool2d: the output size bare or as { outputSize }, sides >= 1 or null. */
function adaptiveCase(make: (o: never) => { outputSize: unknown }): Case {
  return {
    draw() {
      const v = rng.random() < 0.4 ? pick([1, 3, [2, null], [null, null], [1, 4]]) : pick(HOSTILE);
      const asOptions = rng.random() < 0.3;
      const side = (e: unknown): Judged => (e === null ? OK(null) : intValue(e, 1, Number.MAX_SAFE_INTEGER));
      const plain = v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
      // Read as the outputSize: given inside options, a number, an array, or an options object ({} lacks it).
      const isSize = asOptions || typeof v === 'number' || Array.isArray(v) || plain;
      let j: Judged;
      if (!isSize || v === undefined || v === null || plain) j = BAD('TypeError');
      else if (typeof v === 'number') j = side(v).ok ? OK([v, v]) : side(v);
      else if (!Array.isArray(v))
        j = BAD('TypeError'); // a string, a function, a typed array
      else if (v.length !== 2) j = BAD('RangeError');
      else j = [side(v[0]), side(v[1])].find((s) => !s.ok) ?? OK([...v]);
      return {
        build: () => make((asOptions ? { outputSize: v } : v) as never),
        valid: j.ok ? { outputSize: j.value } : {},
        bad: j.ok ? [] : [[isSize ? 'outputSize' : '', j.error]],
      };
    },
    expected: (n) => ({ outputSize: n.outputSize }),
    read: (p: { outputSize: unknown }) => ({ outputSize: p.outputSize }),
  };
}

const CASES: Record<string, Case> = {
  ...ACT_CASES,
  Conv2d: optionsCase(
    {
      inChannels: opt(required(1), INTS),
      outChannels: opt(required(1), INTS),
      kernelSize: opt(pair(1, true), PAIRS),
      stride: opt(pair(1), PAIRS),
      padding: opt(convPadding(pair(0)), [0, 'same', 'valid', ...PAIRS]),
      paddingMode: opt(oneOf(PADDING_MODES), [...PADDING_MODES, undefined]),
      dilation: opt(pair(1), PAIRS),
      groups: opt(int(1), [1, 1, 2, undefined]),
      bias: opt(bool, BOOLS),
      generator: opt(generator, [new Generator(1), undefined]),
    },
    (o) => new lib.Conv2d(o as never),
    {
      cross: (n) => convCross(n, (k) => size(...(k as number[]))),
      expected: (n) => ({
        inChannels: n.inChannels,
        outChannels: n.outChannels,
        kernelSize: n.kernelSize,
        stride: n.stride ?? [1, 1],
        padding: n.padding === 'valid' || n.padding === undefined ? [0, 0] : n.padding,
        paddingMode: n.paddingMode ?? 'zeros',
        dilation: n.dilation ?? [1, 1],
        groups: n.groups ?? 1,
        bias: n.bias ?? true,
        weight: [n.outChannels, (n.inChannels as number) / ((n.groups as number) ?? 1), ...(n.kernelSize as number[])],
      }),
      read: (c: lib.Conv2d) => ({
        inChannels: c.inChannels,
        outChannels: c.outChannels,
        kernelSize: c.kernelSize,
        stride: c.stride,
        padding: c.padding,
        paddingMode: c.paddingMode,
        dilation: c.dilation,
        groups: c.groups,
        bias: c.bias !== null,
        weight: c.weight.shape,
      }),
    },
  ),
  ConvTranspose2d: optionsCase(
    {
      inChannels: opt(required(1), INTS),
      outChannels: opt(required(1), INTS),
      kernelSize: opt(pair(1, true), PAIRS),
      stride: opt(pair(1), PAIRS),
      padding: opt(pair(0), [0, ...PAIRS]),
      outputPadding: opt(pair(0), [0, 1, [0, 1], [1, 0], undefined]),
      dilation: opt(pair(1), PAIRS),
      groups: opt(int(1), [1, 1, 2, undefined]),
      bias: opt(bool, BOOLS),
      generator: opt(generator, [new Generator(1), undefined]),
    },
    (o) => new lib.ConvTranspose2d(o as never),
    {
      // Groups dividing both channel counts, the weight [in, out / groups, kh, kw] under the cap, and outputPadding
      // below the stride or the dilation on each axis.
      cross: (n) => {
        const op = (n.outputPadding as number[] | undefined) ?? [0, 0];
        const [st, dl] = [(n.stride as number[] | undefined) ?? [1, 1], (n.dilation as number[] | undefined) ?? [1, 1]];
        if (op.some((p, i) => p >= st[i] && p >= dl[i])) return true;
        if (!has(n, 'inChannels', 'outChannels')) return false;
        const [i, o, g] = [n.inChannels as number, n.outChannels as number, (n.groups as number | undefined) ?? 1];
        if (i % g !== 0 || o % g !== 0) return true;
        return has(n, 'kernelSize') && size(i, o / g, ...(n.kernelSize as number[])) > CAP;
      },
      expected: (n) => ({
        inChannels: n.inChannels,
        outChannels: n.outChannels,
        kernelSize: n.kernelSize,
        stride: n.stride ?? [1, 1],
        padding: n.padding ?? [0, 0],
        outputPadding: n.outputPadding ?? [0, 0],
        dilation: n.dilation ?? [1, 1],
        groups: n.groups ?? 1,
        bias: n.bias ?? true,
        weight: [n.inChannels, (n.outChannels as number) / ((n.groups as number) ?? 1), ...(n.kernelSize as number[])],
      }),
      read: (c: lib.ConvTranspose2d) => ({
        inChannels: c.inChannels,
        outChannels: c.outChannels,
        kernelSize: c.kernelSize,
        stride: c.stride,
        padding: c.padding,
        outputPadding: c.outputPadding,
        dilation: c.dilation,
        groups: c.groups,
        bias: c.bias !== null,
        weight: c.weight.shape,
      }),
    },
  ),
  Conv1d: optionsCase(
    {
      inChannels: opt(required(1), INTS),
      outChannels: opt(required(1), INTS),
      kernelSize: opt(one(1, true), [1, 3, [2]]),
      stride: opt(one(1), [1, 2, [3], undefined]),
      padding: opt(convPadding(one(0)), [0, 1, [2], 'same', 'valid', undefined]),
      paddingMode: opt(oneOf(PADDING_MODES), [...PADDING_MODES, undefined]),
      dilation: opt(one(1), [1, 2, undefined]),
      groups: opt(int(1), [1, 2, undefined]),
      bias: opt(bool, BOOLS),
      generator: opt(generator, [new Generator(1), undefined]),
    },
    (o) => new lib.Conv1d(o as never),
    {
      cross: (n) => convCross(n, (k) => k as number),
      expected: (n) => ({
        channels: [n.inChannels, n.outChannels],
        sizes: [
          n.kernelSize,
          n.stride ?? 1,
          n.padding === 'valid' ? 0 : (n.padding ?? 0),
          n.dilation ?? 1,
          n.groups ?? 1,
          n.paddingMode ?? 'zeros',
        ],
        bias: n.bias ?? true,
      }),
      read: (c: lib.Conv1d) => ({
        channels: [c.inChannels, c.outChannels],
        sizes: [c.kernelSize, c.stride, c.padding, c.dilation, c.groups, c.paddingMode],
        bias: c.bias !== null,
      }),
    },
  ),
  Linear: optionsCase(
    {
      inFeatures: opt(required(1), INTS),
      outFeatures: opt(required(1), INTS),
      bias: opt(bool, BOOLS),
      generator: opt(generator, [new Generator(1), undefined]),
    },
    (o) => new lib.Linear(o as never),
    {
      cross: (n) => has(n, 'inFeatures', 'outFeatures') && size(n.inFeatures as number, n.outFeatures as number) > CAP,
      expected: (n) => ({
        features: [n.inFeatures, n.outFeatures],
        weight: [n.outFeatures, n.inFeatures],
        bias: (n.bias ?? true) ? [n.outFeatures] : null,
      }),
      read: (l: lib.Linear) => ({
        features: [l.inFeatures, l.outFeatures],
        weight: l.weight.shape,
        bias: l.bias?.shape ?? null,
      }),
    },
  ),
  MaxPool2d: poolCase(
    {
      kernelSize: opt(pair(1, true), PAIRS),
      stride: opt(pair(1), PAIRS),
      padding: opt(pair(0), [0, 0, 1, undefined]),
      dilation: opt(pair(1), PAIRS),
      ceilMode: opt(bool, BOOLS),
    },
    (arg) => new lib.MaxPool2d(arg as never),
    {
      cross: poolCross,
      expected: (n) => ({
        kernelSize: n.kernelSize,
        stride: n.stride ?? n.kernelSize,
        padding: n.padding ?? [0, 0],
        dilation: n.dilation ?? [1, 1],
        ceilMode: n.ceilMode ?? false,
      }),
      read: (p: lib.MaxPool2d) => ({
        kernelSize: p.kernelSize,
        stride: p.stride,
        padding: p.padding,
        dilation: p.dilation,
        ceilMode: p.ceilMode,
      }),
    },
  ),
  AvgPool2d: poolCase(
    {
      kernelSize: opt(pair(1, true), PAIRS),
      stride: opt(pair(1), PAIRS),
      padding: opt(pair(0), [0, 0, 1, undefined]),
      ceilMode: opt(bool, BOOLS),
      countIncludePad: opt(bool, BOOLS),
      divisorOverride: opt(
        (v) =>
          !given(v)
            ? OK(undefined)
            : typeof v !== 'number'
              ? BAD('TypeError')
              : Number.isSafeInteger(v) && v !== 0
                ? OK(v)
                : BAD('RangeError'),
        [undefined, null, 1, -4, 9],
      ),
    },
    (arg) => new lib.AvgPool2d(arg as never),
    {
      cross: poolCross,
      expected: (n) => ({
        window: [n.kernelSize, n.stride ?? n.kernelSize, n.padding ?? [0, 0]],
        ceilMode: n.ceilMode ?? false,
        countIncludePad: n.countIncludePad ?? true,
        divisorOverride: n.divisorOverride,
      }),
      read: (p: lib.AvgPool2d) => ({
        window: [p.kernelSize, p.stride, p.padding],
        ceilMode: p.ceilMode,
        countIncludePad: p.countIncludePad,
        divisorOverride: p.divisorOverride,
      }),
    },
  ),
  AdaptiveAvgPool2d: adaptiveCase((o) => new lib.AdaptiveAvgPool2d(o)),
  AdaptiveMaxPool2d: adaptiveCase((o) => new lib.AdaptiveMaxPool2d(o)),
  ...Object.fromEntries(
    (['BatchNorm1d', 'BatchNorm2d'] as const).map((name) => [
      name,
      optionsCase(
        {
          numFeatures: opt(required(1), INTS),
          eps: opt(num({ min: 0 }), [0, 1e-5, undefined]),
          // null is a value here: a cumulative average.
          momentum: opt(
            (v) => (v === undefined ? OK(undefined) : v === null ? OK(null) : num({ min: 0, max: 1 })(v)),
            [...UNIT, null],
          ),
          affine: opt(bool, BOOLS),
          trackRunningStats: opt(bool, BOOLS),
        },
        (o) => new lib[name](o as never),
        {
          // Past the tensor cap only when something is allocated (weights, or running statistics).
          cross: (n) =>
            has(n, 'numFeatures') &&
            (n.numFeatures as number) > CAP &&
            (n.affine !== false || n.trackRunningStats !== false),
          expected: (n) => ({
            numFeatures: n.numFeatures,
            eps: n.eps ?? 1e-5,
            momentum: n.momentum === undefined ? 0.1 : n.momentum,
            affine: n.affine ?? true,
            trackRunningStats: n.trackRunningStats ?? true,
            weight: (n.affine ?? true) ? [n.numFeatures] : null,
            runningMean: (n.trackRunningStats ?? true) ? [n.numFeatures] : null,
          }),
          read: (b: lib.BatchNormBase) => ({
            numFeatures: b.numFeatures,
            eps: b.eps,
            momentum: b.momentum,
            affine: b.affine,
            trackRunningStats: b.trackRunningStats,
            weight: b.weight?.shape ?? null,
            runningMean: b.runningMean?.shape ?? null,
          }),
        },
      ),
    ]),
  ),
  Dropout: optionsCase(
    { p: opt(num({ min: 0, max: 1 }), UNIT), generator: opt(generator, [new Generator(2), undefined]) },
    (o) => new lib.Dropout(o as never),
    { expected: (n) => ({ p: n.p ?? 0.5 }), read: (d: lib.Dropout) => ({ p: d.p }) },
  ),
  LeakyReLU: optionsCase({ negativeSlope: opt(num(), [0.2, -1, 0, undefined]) }, (o) => new lib.LeakyReLU(o as never), {
    expected: (n) => ({ negativeSlope: n.negativeSlope ?? 0.01 }),
    read: (a: lib.LeakyReLU) => ({ negativeSlope: a.negativeSlope }),
  }),
  ...Object.fromEntries(
    (['Softmax', 'LogSoftmax'] as const).map((name) => [
      name,
      optionsCase({ dim: opt(int(-64, 63, true), [-1, 0, 1, 2]) }, (o) => new lib[name](o as never), {
        expected: (n) => ({ dim: n.dim }),
        read: (s: lib.Softmax) => ({ dim: s.dim }),
      }),
    ]),
  ),
  Flatten: optionsCase(
    { startDim: opt(int(-64, 63), [0, 1, -2, undefined]), endDim: opt(int(-64, 63), [-1, 2, undefined]) },
    (o) => new lib.Flatten(o as never),
    {
      expected: (n) => ({ dims: [n.startDim ?? 1, n.endDim ?? -1] }),
      read: (f: lib.Flatten) => ({ dims: [f.startDim, f.endDim] }),
    },
  ),
  ...Object.fromEntries(
    (['LeNet', 'LeNetBN'] as const).map((name) => [
      name,
      optionsCase(
        {
          inChannels: opt(int(1), [1, 3, undefined]),
          imageSize: opt(int(1), [28, 32, 40, undefined]),
          numClasses: opt(int(1), [2, 10, undefined]),
          padding: opt(int(0), [0, 1, 2, undefined]),
        },
        (o) => new lib[name](o as never),
        {
          runs: 40, // each build allocates and initialises a whole network
          // The layers' own checks: a side left after both pools, sizes under the cap.
          cross: (n) => {
            if (!has(n, 'inChannels', 'imageSize', 'numClasses', 'padding')) return false;
            const image = (n.imageSize as number) ?? 32;
            const pad = (n.padding as number) ?? (image === 28 ? 2 : 0);
            const side = Math.floor((Math.floor((image + 2 * pad - 4) / 2) - 4) / 2);
            const fc1 = 16 * side * side;
            return (
              side < 1 ||
              !Number.isSafeInteger(fc1) ||
              size(6, (n.inChannels as number) ?? 3, 25) > CAP ||
              size(120, fc1) > CAP ||
              size(84, (n.numClasses as number) ?? 10) > CAP
            );
          },
          expected: (n) => {
            const imageSize = n.imageSize ?? 32;
            const config = {
              inChannels: n.inChannels ?? 3,
              imageSize,
              numClasses: n.numClasses ?? 10,
              padding: n.padding ?? (imageSize === 28 ? 2 : 0),
            };
            return { config, logits: [config.numClasses] };
          },
          read: (m: lib.LeNet) => ({ config: m.config, logits: m.at(m.length - 1).parameters()[1].shape }),
        },
      ),
    ]),
  ),
  Sequential: {
    draw() {
      const v = rng.random() < 0.3 ? pick([{ a: new lib.ReLU() }, new lib.ReLU()]) : pick(HOSTILE);
      // A module, or an object of modules ({} is an empty model); anything else is not a module.
      const plain = v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
      const ok = v instanceof lib.Module || (plain && Object.values(v).every((m) => m instanceof lib.Module));
      const length = v instanceof lib.Module ? 1 : plain ? Object.keys(v).length : 0;
      return {
        build: () => new lib.Sequential(v as never),
        valid: ok ? { length } : {},
        bad: ok ? [] : [['entry', 'TypeError']],
      };
    },
    expected: (n) => ({ length: n.length }),
    read: (s: lib.Sequential) => ({ length: s.length }),
  },
  ...Object.fromEntries(
    (['Adam', 'AdamW'] as const).map((name) => [
      name,
      {
        draw() {
          const p = rng.random() < 0.7 ? params() : pick(HOSTILE);
          // An iterable of Parameters: [] is empty (RangeError); any other value is not one (a string iterates characters).
          const pj: Judged = Array.isArray(p)
            ? p.length === 0
              ? BAD('RangeError')
              : p.every((x) => x instanceof lib.Parameter)
                ? OK(p)
                : BAD('TypeError')
            : BAD('TypeError');
          const betas: Judge = (v) => {
            if (!given(v)) return OK(undefined);
            if (!Array.isArray(v)) return BAD('TypeError');
            if (v.length !== 2) return BAD('RangeError');
            for (const b of v) {
              if (typeof b !== 'number') return BAD('TypeError');
              if (!(Number.isFinite(b) && b >= 0 && b < 1)) return BAD('RangeError');
            }
            return OK([...v]);
          };
          const { options, valid, bad } = drawOptions({
            lr: opt(num({ min: 0 }), [1e-3, 0.1, undefined]),
            betas: opt(betas, [[0.9, 0.999], [0, 0.5], undefined]),
            eps: opt(num({ min: 0 }), [1e-8, 0, undefined]),
            weightDecay: opt(num({ min: 0 }), [0, 0.01, undefined]),
            amsgrad: opt(bool, BOOLS),
            maximize: opt(bool, BOOLS),
          });
          if (!pj.ok) bad.push(['params', pj.error]);
          return { build: () => new lib[name](p as never, options as never), valid, bad };
        },
        expected: (n: Record<string, unknown>) => ({
          lr: n.lr ?? 1e-3,
          betas: n.betas ?? [0.9, 0.999],
          eps: n.eps ?? 1e-8,
          weightDecay: n.weightDecay ?? (name === 'AdamW' ? 1e-2 : 0),
          flags: [n.amsgrad ?? false, n.maximize ?? false],
        }),
        read: (a: lib.Adam) => ({
          lr: a.lr,
          betas: a.betas,
          eps: a.eps,
          weightDecay: a.weightDecay,
          flags: [a.amsgrad, a.maximize],
        }),
      } as Case,
    ]),
  ),
  SGD: optionsCase(
    {
      lr: opt(num({ min: 0 }, true), [0.1, 0, 1]),
      momentum: opt(num({ min: 0 }), [0, 0.9, undefined]),
      dampening: opt(num(), [0, 0.1, undefined]),
      nesterov: opt(bool, BOOLS),
      weightDecay: opt(num({ min: 0 }), [0, 5e-4, undefined]),
      maximize: opt(bool, BOOLS),
    },
    (o) => new lib.SGD(params(), o as never),
    {
      cross: (n) =>
        has(n, 'momentum', 'dampening', 'nesterov') &&
        n.nesterov === true &&
        (((n.momentum as number) ?? 0) <= 0 || ((n.dampening as number) ?? 0) !== 0),
      expected: (n) => ({
        lr: n.lr,
        momentum: n.momentum ?? 0,
        dampening: n.dampening ?? 0,
        nesterov: n.nesterov ?? false,
        weightDecay: n.weightDecay ?? 0,
        maximize: n.maximize ?? false,
      }),
      read: (s: lib.SGD) => ({
        maximize: s.maximize,
        lr: s.lr,
        momentum: s.momentum,
        dampening: s.dampening,
        nesterov: s.nesterov,
        weightDecay: s.weightDecay,
      }),
    },
  ),
  StepLR: optionsCase(
    { stepSize: opt(required(1), INTS), gamma: opt(num({ min: 0 }), [0.1, 0.5, undefined]) },
    (o) => new lib.StepLR(sgd(), o as never),
    {
      expected: (n) => ({ stepSize: n.stepSize, gamma: n.gamma ?? 0.1, lr: 0.1 }),
      read: (s: lib.StepLR) => ({ stepSize: s.stepSize, gamma: s.gamma, lr: s.optimizer.lr }),
    },
  ),
  ExponentialLR: optionsCase(
    { gamma: opt(num({ min: 0 }, true), [0.1, 0.9, 1]) },
    (o) => new lib.ExponentialLR(sgd(), o as never),
    {
      expected: (n) => ({ gamma: n.gamma, lr: 0.1 }),
      read: (s: lib.ExponentialLR) => ({ gamma: s.gamma, lr: s.optimizer.lr }),
    },
  ),
  MultiStepLR: optionsCase(
    {
      milestones: opt(
        (v) => {
          if (!Array.isArray(v)) return BAD('TypeError');
          for (const m of v) {
            const j = intValue(m, 0, Number.MAX_SAFE_INTEGER);
            if (!j.ok) return j;
          }
          return OK([...(v as number[])].sort((a, b) => a - b));
        },
        [[1, 2], [5, 0, 5], []],
      ),
      gamma: opt(num({ min: 0 }), [0.1, 0.5, undefined]),
    },
    (o) => new lib.MultiStepLR(sgd(), o as never),
    {
      expected: (n) => ({ milestones: n.milestones, gamma: n.gamma ?? 0.1 }),
      read: (s: lib.MultiStepLR) => ({ milestones: s.milestones, gamma: s.gamma }),
    },
  ),
  CosineAnnealingLR: optionsCase(
    { tMax: opt(required(1), INTS), etaMin: opt(num({ min: 0 }), [0, 1e-3, undefined]) },
    (o) => new lib.CosineAnnealingLR(sgd(), o as never),
    {
      expected: (n) => ({ tMax: n.tMax, etaMin: n.etaMin ?? 0 }),
      read: (s: lib.CosineAnnealingLR) => ({ tMax: s.tMax, etaMin: s.etaMin }),
    },
  ),
  LinearLR: optionsCase(
    {
      startFactor: opt(num({ gt: 0, max: 1 }), UNIT),
      endFactor: opt(num({ min: 0, max: 1 }), UNIT),
      totalIters: opt(int(1), INTS),
    },
    (o) => new lib.LinearLR(sgd(), o as never),
    {
      expected: (n) => ({ factors: [n.startFactor ?? 1 / 3, n.endFactor ?? 1], totalIters: n.totalIters ?? 5 }),
      read: (s: lib.LinearLR) => ({ factors: [s.startFactor, s.endFactor], totalIters: s.totalIters }),
    },
  ),
  CrossEntropyLoss: optionsCase(
    {
      labelSmoothing: opt(num({ min: 0, max: 1 }), UNIT),
      weight: opt(classWeights, [[1, 2], new Float32Array([0.5, 1, 2]), undefined]),
      ignoreIndex: opt(int(-(2 ** 31)), [-100, 0, 3, undefined]),
      reduction: opt(oneOf(REDUCTIONS), [...REDUCTIONS, undefined]),
    },
    (o) => new lib.CrossEntropyLoss(o as never),
    {
      expected: (n) => ({
        labelSmoothing: n.labelSmoothing ?? 0,
        weight: n.weight ?? null,
        ignoreIndex: n.ignoreIndex ?? -100,
        reduction: n.reduction ?? 'mean',
      }),
      read: (l: lib.CrossEntropyLoss) => ({
        labelSmoothing: l.labelSmoothing,
        weight: l.weight ? Array.from(l.weight.data) : null,
        ignoreIndex: l.ignoreIndex,
        reduction: l.reduction,
      }),
    },
  ),
  NLLLoss: optionsCase(
    {
      reduction: opt(oneOf(REDUCTIONS), [...REDUCTIONS, undefined]),
      ignoreIndex: opt(int(-(2 ** 31)), [-100, 0, 3, undefined]),
    },
    (o) => new lib.NLLLoss(o as never),
    {
      expected: (n) => ({ reduction: n.reduction ?? 'mean', ignoreIndex: n.ignoreIndex ?? -100 }),
      read: (l: lib.NLLLoss) => ({ reduction: l.reduction, ignoreIndex: l.ignoreIndex }),
    },
  ),
  MSELoss: optionsCase(
    { reduction: opt(oneOf(REDUCTIONS), [...REDUCTIONS, undefined]) },
    (o) => new lib.MSELoss(o as never),
    {
      expected: (n) => ({ reduction: n.reduction ?? 'mean' }),
      read: (l: lib.MSELoss) => ({ reduction: l.reduction }),
    },
  ),
  DataLoader: optionsCase(
    {
      batchSize: opt(int(1), INTS),
      shuffle: opt(bool, BOOLS),
      seed: opt(int(0), [0, 7, undefined]),
      dropLast: opt(bool, BOOLS),
      transform: opt(
        (v) => (!given(v) ? OK(undefined) : typeof v === 'function' ? OK(v) : BAD('TypeError')),
        [() => undefined, undefined],
      ),
    },
    (o) =>
      new lib.DataLoader(
        new lib.TensorDataset(new Float32Array(12), new Int32Array(2), { sampleShape: [1, 2, 3] }),
        o as never,
      ),
    {
      expected: (n) => {
        const batchSize = (n.batchSize as number) ?? 64;
        const dropLast = n.dropLast ?? false;
        return {
          batchSize,
          shuffle: n.shuffle ?? false,
          seed: n.seed ?? 0,
          dropLast,
          batches: dropLast ? Math.floor(2 / batchSize) : Math.ceil(2 / batchSize),
        };
      },
      read: (d: lib.DataLoader) => ({
        batchSize: d.batchSize,
        shuffle: d.shuffle,
        seed: d.seed,
        dropLast: d.dropLast,
        batches: d.length,
      }),
    },
  ),
  TensorDataset: {
    draw() {
      const images = rng.random() < 0.7 ? new Float32Array(12) : pick(HOSTILE);
      const labels = rng.random() < 0.7 ? new Int32Array(2) : pick(HOSTILE);
      const shape =
        rng.random() < 0.5
          ? pick([
              [1, 2, 3],
              [3, 2, 1],
              [2, 3],
              [1, 1, 12],
              [2, '3', 1],
            ])
          : pick(HOSTILE);
      const bad: [string, ErrorName][] = [];
      if (!(labels instanceof Int32Array)) bad.push(['labels', 'TypeError']);
      if (!(images instanceof Float32Array)) bad.push(['images', 'TypeError']);
      else if (!given(shape)) bad.push(['sampleShape', 'TypeError']);
      else if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number'))
        bad.push(['sampleShape', 'TypeError']);
      else if (shape.length !== 3 || shape.some((d) => !Number.isSafeInteger(d) || d < 1))
        bad.push(['sampleShape', 'RangeError']);
      // Sample count x sample size must be the image count (labels of 2 samples: 2 x 6 = 12 floats).
      else if (images.length !== (labels instanceof Int32Array ? labels.length : NaN) * size(...(shape as number[])))
        bad.push(['images', 'RangeError']);
      return {
        build: () => new lib.TensorDataset(images as never, labels as never, { sampleShape: shape } as never),
        valid: bad.length === 0 ? { sampleShape: shape } : {},
        bad,
      };
    },
    expected: (n) => ({ length: 2, sampleShape: n.sampleShape }),
    read: (d: lib.TensorDataset) => ({ length: d.length, sampleShape: d.sampleShape }),
  },
  Tensor: {
    draw() {
      const data = pick([new Float32Array(6), new Float64Array(6), [1, 2, 3, 4, 5, 6], null]);
      const shape = rng.random() < 0.5 ? pick([[2, 3], [6], [3, 2, 1], [1, 6, 1]]) : pick(HOSTILE);
      const bad: [string, ErrorName][] = [];
      if (!(data instanceof Float32Array)) bad.push(['data', 'TypeError']);
      else if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number')) bad.push(['shape', 'TypeError']);
      else if (shape.some((d) => !Number.isSafeInteger(d) || d < 0) || size(...(shape as number[])) !== 6)
        bad.push(['shape', 'RangeError']);
      return { build: () => new lib.Tensor(data as never, shape as never), valid: { shape }, bad };
    },
    expected: (n) => ({ shape: n.shape, size: 6 }),
    read: (t: lib.Tensor) => ({ shape: t.shape, size: t.size }),
  },
  Upsample: {
    draw() {
      const o: Record<string, unknown> = {};
      const put = (key: string, pool: unknown[]) => {
        const v = rng.random() < 0.92 ? pick(pool) : pick(HOSTILE);
        if (v !== undefined || rng.random() < 0.5) o[key] = v;
      };
      // Mostly one of size and scaleFactor (the valid form), sometimes both or neither.
      const sizeFirst = rng.random() < 0.5;
      put('size', sizeFirst ? [3, [2, 5], [2, 5], 0, '2', [1, 2, 3], undefined] : [undefined, undefined, undefined, 3]);
      put(
        'scaleFactor',
        sizeFirst ? [undefined, undefined, undefined, 2] : [2, 1.5, [1.5, 0.5], 0, -1, NaN, 'x', [2, 'y']],
      );
      put('mode', [undefined, 'nearest', 'bilinear', 'bilinear', 'bicubic', 3]);
      put('alignCorners', [undefined, undefined, true, false, 1]);
      const bad: [string, ErrorName][] = [];
      const valid: Record<string, unknown> = {};
      const judge = (key: string, j: Judged) => (j.ok ? (valid[key] = j.value) : bad.push([key, j.error]));
      judge('size', pair(1)(o.size));
      const scale: Judge = (v) => {
        if (!given(v)) return OK(undefined);
        if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? OK([v, v]) : BAD('RangeError');
        if (!Array.isArray(v)) return BAD('TypeError');
        if (v.length !== 2) return BAD('RangeError');
        for (const e of v) {
          if (typeof e !== 'number') return BAD('TypeError');
          if (!(Number.isFinite(e) && e > 0)) return BAD('RangeError');
        }
        return OK([...v]);
      };
      judge('scaleFactor', scale(o.scaleFactor));
      judge('mode', oneOf(['nearest', 'bilinear'])(o.mode));
      judge('alignCorners', bool(o.alignCorners));
      // Exactly one of size and scaleFactor (both given: RangeError; neither: TypeError, a required value left out).
      if (!given(o.size) && !given(o.scaleFactor)) bad.push(['size', 'TypeError']);
      return { build: () => new lib.Upsample(o as never), valid, bad };
    },
    cross: (n) =>
      (n.size !== undefined && n.scaleFactor !== undefined) ||
      (n.alignCorners !== undefined && (n.mode ?? 'nearest') === 'nearest'),
    expected: (n) => ({
      size: n.size ?? null,
      scaleFactor: n.scaleFactor ?? null,
      mode: n.mode ?? 'nearest',
      alignCorners: n.alignCorners ?? false,
    }),
    read: (u: lib.Upsample) => ({
      size: u.size,
      scaleFactor: u.scaleFactor,
      mode: u.mode,
      alignCorners: u.alignCorners,
    }),
  },
  Generator: {
    draw() {
      const seed = rng.random() < 0.3 ? pick([0, 1, 2 ** 40, undefined]) : pick(HOSTILE);
      // A default parameter: only undefined takes the default 0.
      const j: Judged = seed === undefined ? OK(0) : intValue(seed, 0, Number.MAX_SAFE_INTEGER);
      return {
        build: () => new lib.Generator(seed as number),
        valid: j.ok ? { seed: j.value } : {},
        bad: j.ok ? [] : [['seed', j.error]],
      };
    },
    // The same seed gives the same stream.
    expected: (n) => ({ first: new lib.Generator(n.seed as number).random() }),
    read: (g: lib.Generator) => ({ first: g.random() }),
  },
};

const errorName = (err: unknown): string =>
  err instanceof RangeError ? 'RangeError' : err instanceof TypeError ? 'TypeError' : String(err);

describe.each(Object.keys(CASES))('%s', (name) => {
  test('hostile constructions build with the values given, or throw the class the rule says', () => {
    const c = CASES[name];
    let built = 0;
    let failed = 0;
    for (let i = 0; i < (c.runs ?? 300); i++) {
      const d = c.draw();
      const allowed = new Set(d.bad.map(([, e]) => e));
      if (c.cross?.(d.valid)) allowed.add('RangeError');
      let obj: unknown;
      let error: unknown;
      try {
        obj = d.build();
      } catch (err) {
        error = err;
      }
      const what = `${name} #${i}: bad ${JSON.stringify(d.bad)}`;
      if (allowed.size === 0) {
        if (error !== undefined) throw new Error(`${what}: should build, threw ${String(error)}`, { cause: error });
        expect({ what, ...c.read(obj as never) }).toEqual({ what, ...c.expected(d.valid) });
        built++;
      } else {
        if (error === undefined) throw new Error(`${what}: built, expected one of ${[...allowed].join(', ')}`);
        const message = (error as Error).message;
        expect({ what, error: errorName(error), message }).toEqual({
          what,
          error: expect.stringMatching(new RegExp(`^(${[...allowed].join('|')})$`)) as unknown,
          // The callee speaks ("Conv2d: ...", "Tensor.zeros: ..."), never the engine ("Cannot read properties of ...").
          message: expect.stringMatching(/^[A-Za-z][\w.]*: /) as unknown,
        });
        // With one bad option and no rule across options, the message names it.
        const [only] = d.bad;
        if (d.bad.length === 1 && !c.cross?.(d.valid) && /^[a-z]\w+$/.test(only[0]) && only[0] !== 'entry')
          expect({ what, message }).toEqual({ what, message: expect.stringContaining(only[0]) as unknown });
        failed++;
      }
    }
    // Both paths ran: the draws are neither all valid nor all hostile.
    expect(built).toBeGreaterThan(5);
    expect(failed).toBeGreaterThan(5);
  });
});
