// SPDX-License-Identifier: MIT
// StepLR, CosineAnnealingLR, LinearLR, OneCycleLR and SequentialLR: lr sequences against PyTorch 1.13 (layers2.safetensors), state and errors.
import { Parameter } from '../../lib/modules/parameter';
import { CosineAnnealingLR, LinearLR, LRScheduler, StepLR } from '../../lib/optim/lr-scheduler';
import { OneCycleLR } from '../../lib/optim/one-cycle-lr';
import { Optimizer } from '../../lib/optim/optimizer';
import { SequentialLR } from '../../lib/optim/sequential-lr';
import { SGD } from '../../lib/optim/sgd';
import { Tensor } from '../../lib/tensor/tensor';
import { expectErrorNamed } from '../helpers';
import { layers2 } from './tiny-model';

interface Config {
  op: string;
  [key: string]: unknown;
}

function makeScheduler(opt: Optimizer, { op, ...options }: Config): LRScheduler {
  switch (op) {
    case 'StepLR':
      return new StepLR(opt, options as never);
    case 'CosineAnnealingLR':
      return new CosineAnnealingLR(opt, options as never);
    case 'LinearLR':
      return new LinearLR(opt, options);
    case 'OneCycleLR':
      return new OneCycleLR(opt, options as never);
    case 'SequentialLR': {
      const schedulers = (options.schedulers as Config[]).map((c) => makeScheduler(opt, c));
      return new SequentialLR(opt, { schedulers, milestones: options.milestones as number[] });
    }
    default:
      throw new Error(`unknown scheduler ${op}`);
  }
}

const sgd = (lr = 0.1): SGD => new SGD([new Parameter(Tensor.zeros([1]))], { lr });

const cases = Object.keys(layers2.metadata)
  .filter((k) => k.startsWith('sched.'))
  .map((k) => k.slice('sched.'.length));

test('every schedule case is here', () => {
  expect(cases.sort()).toEqual([
    'cosine',
    'cosine_default',
    'linear',
    'linear_decay',
    'linear_default',
    'onecycle',
    'onecycle_3phase',
    'onecycle_epochs',
    'sequential',
    'steplr',
    'steplr_default',
  ]);
});

test.each(cases)('%s: lr after construction and after each step() matches PyTorch', (name) => {
  const { config, optimizerLr, lrs } = JSON.parse(layers2.metadata[`sched.${name}`]) as {
    config: Config;
    optimizerLr: number;
    lrs: number[];
  };
  const opt = sgd(optimizerLr);
  const sched = makeScheduler(opt, config);
  const got = [opt.lr];
  expect(sched.getLastLr()).toBe(opt.lr);
  for (let i = 1; i < lrs.length; i++) {
    sched.step();
    got.push(opt.lr);
    expect(sched.getLastLr()).toBe(opt.lr);
    expect(sched.lastEpoch).toBe(i);
  }
  // PyTorch's recursive forms and these closed forms differ only by float64 rounding.
  got.forEach((lr, i) => {
    if (!(Math.abs(lr - lrs[i]) <= 1e-12 + 1e-9 * Math.abs(lrs[i])))
      throw new Error(`${name}: lr at epoch ${i} is ${lr}, PyTorch ${lrs[i]}`);
  });
});

describe('behaviour', () => {
  test('lrAt is pure; stateDict / loadStateDict resume the schedule', () => {
    const opt = sgd(1);
    const sched = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
    expect([0, 1, 2, 3, 4].map((e) => sched.lrAt(e))).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect(opt.lr).toBe(1);
    sched.step();
    sched.step();
    sched.step();
    const state = sched.stateDict();
    expect(state).toEqual({ lastEpoch: 3 });
    const opt2 = sgd(1);
    const resumed = new StepLR(opt2, { stepSize: 2, gamma: 0.5 });
    resumed.loadStateDict(state);
    expect(opt2.lr).toBe(0.5);
    resumed.step();
    sched.step();
    expect(opt2.lr).toBe(opt.lr);
  });

  test("a second scheduler on one optimizer scales the first one's initial lr, as PyTorch's initial_lr", () => {
    const opt = sgd(1);
    new LinearLR(opt, { startFactor: 0.5 });
    expect(opt.lr).toBe(0.5);
    const cos = new CosineAnnealingLR(opt, { tMax: 4 });
    expect(cos.baseLr).toBe(1);
  });

  test('OneCycleLR: replaces the optimizer lr, peaks at maxLr, ends at maxLr / divFactor / finalDivFactor, then throws', () => {
    const opt = sgd(123);
    const sched = new OneCycleLR(opt, { maxLr: 1, totalSteps: 10, pctStart: 0.5, divFactor: 10, finalDivFactor: 100 });
    expect(opt.lr).toBeCloseTo(0.1, 12);
    const lrs = [opt.lr];
    for (let i = 0; i < 9; i++) {
      sched.step();
      lrs.push(opt.lr);
    }
    expect(Math.max(...lrs)).toBe(1);
    expect(lrs[4]).toBe(1);
    expect(lrs[9]).toBeCloseTo(1e-3, 12);
    sched.step(); // step 10 = totalSteps is still allowed, as in PyTorch
    expectErrorNamed(() => sched.step(), 'RangeError', /tried to step 11 times; totalSteps is 10/);
    expect(sched.lastEpoch).toBe(10);
  });

  test('SequentialLR: the second schedule restarts at its epoch 0 at the milestone', () => {
    const opt = sgd(1);
    const warm = new LinearLR(opt, { startFactor: 0.25, totalIters: 2 });
    const step = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    const sched = new SequentialLR(opt, { schedulers: [warm, step], milestones: [3] });
    const lrs = [opt.lr];
    for (let i = 0; i < 5; i++) {
      sched.step();
      lrs.push(opt.lr);
    }
    expect(lrs).toEqual([0.25, 0.625, 1, 1, 0.5, 0.25]);
  });
});

describe('errors', () => {
  test('required options, ranges and unknown options', () => {
    const opt = sgd();
    expectErrorNamed(
      () => new StepLR({} as never, { stepSize: 1 }),
      'TypeError',
      /StepLR: optimizer must be an Optimizer/,
    );
    expectErrorNamed(() => new StepLR(opt, {} as never), 'TypeError', /StepLR: stepSize must be a number/);
    expectErrorNamed(() => new StepLR(opt, { stepSize: 0 }), 'RangeError', /stepSize must be an integer >= 1/);
    expectErrorNamed(() => new StepLR(opt, { stepSize: 2, lastEpoch: 3 } as never), 'RangeError', /lastEpoch/);
    expectErrorNamed(() => new CosineAnnealingLR(opt, { tMax: 2.5 }), 'RangeError', /tMax/);
    expectErrorNamed(() => new CosineAnnealingLR(opt, { tMax: 5, etaMin: NaN }), 'RangeError', /etaMin/);
    expectErrorNamed(() => new LinearLR(opt, { startFactor: 0 }), 'RangeError', /startFactor must be > 0/);
    expectErrorNamed(() => new LinearLR(opt, { endFactor: 1.5 }), 'RangeError', /endFactor must be <= 1/);
    expectErrorNamed(() => new LinearLR(opt, { totalIters: 0 }), 'RangeError', /totalIters/);
    expectErrorNamed(
      () => new StepLR(opt, { stepSize: 1 }).loadStateDict({ lastEpoch: -1 }),
      'RangeError',
      /lastEpoch/,
    );
  });

  test('OneCycleLR', () => {
    const opt = sgd();
    expectErrorNamed(() => new OneCycleLR(opt, { totalSteps: 10 } as never), 'TypeError', /maxLr must be a number/);
    expectErrorNamed(
      () => new OneCycleLR(opt, { maxLr: 0.1 }),
      'TypeError',
      /give totalSteps, or epochs and stepsPerEpoch/,
    );
    expectErrorNamed(() => new OneCycleLR(opt, { maxLr: 0.1, epochs: 2 }), 'TypeError', /epochs and stepsPerEpoch/);
    expectErrorNamed(() => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 0 }), 'RangeError', /totalSteps/);
    expectErrorNamed(
      () => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10, pctStart: 1.5 }),
      'RangeError',
      /pctStart/,
    );
    expectErrorNamed(
      () => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10, annealStrategy: 'exp' as never }),
      'RangeError',
      /annealStrategy must be one of 'cos', 'linear', got 'exp'/,
    );
    expectErrorNamed(
      () => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10, threePhase: 1 as never }),
      'TypeError',
      /threePhase must be a boolean, got number/,
    );
    expectErrorNamed(
      () => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10, cycleMomentum: true as never }),
      'RangeError',
      /cycleMomentum is not supported/,
    );
    expectErrorNamed(
      () => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10, baseMomentum: 0.85 } as never),
      'RangeError',
      /baseMomentum/,
    );
    expectErrorNamed(
      () => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10, divFactor: 0 }),
      'RangeError',
      /divFactor must be > 0/,
    );
    // pctStart * totalSteps = 1: the first phase has no steps (PyTorch divides by zero).
    expectErrorNamed(
      () => new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10, pctStart: 0.1 }),
      'RangeError',
      /phase 0 has no steps/,
    );
    expect(new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10, cycleMomentum: false }).totalSteps).toBe(10);
  });

  test('SequentialLR', () => {
    const opt = sgd();
    const a = new LinearLR(opt);
    const b = new StepLR(opt, { stepSize: 2 });
    expectErrorNamed(() => new SequentialLR(opt, { schedulers: [], milestones: [] }), 'RangeError', /non-empty array/);
    expectErrorNamed(
      () => new SequentialLR(opt, { schedulers: a, milestones: [] } as never),
      'TypeError',
      /non-empty array/,
    );
    expectErrorNamed(
      () => new SequentialLR(opt, { schedulers: [a, b], milestones: [] }),
      'RangeError',
      /milestones must hold 1 epochs/,
    );
    expectErrorNamed(
      () => new SequentialLR(opt, { schedulers: [a, b, a], milestones: [3, 3] }),
      'RangeError',
      /milestones\[1\] must be an integer >= 4/,
    );
    expectErrorNamed(
      () => new SequentialLR(opt, { schedulers: [a, new StepLR(sgd(), { stepSize: 1 })], milestones: [2] }),
      'RangeError',
      /another optimizer/,
    );
    expectErrorNamed(
      () => new SequentialLR(opt, { schedulers: [a, {} as never], milestones: [2] }),
      'TypeError',
      /schedulers\[1\] must be an LRScheduler/,
    );
    expectErrorNamed(
      () => new SequentialLR(opt, { schedulers: [a, b], milestones: [2], lastEpoch: 0 } as never),
      'RangeError',
      /lastEpoch/,
    );
  });
});
