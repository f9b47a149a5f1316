// SPDX-License-Identifier: MIT
// Parameter groups (lib/optim/optimizer.ts) against PyTorch 2.13 (test/fixtures/param_groups.safetensors from
// gen_param_groups.py: SGD, Adam, AdamW with per-group options over 10 steps of Linear(4, 3) + MSE; MultiStepLR,
// CosineAnnealingLR and LinearLR + cosine scaling two groups), the single-group equivalence, and the group errors.
import * as path from 'path';
import { readSafetensors } from '../../lib/io/safetensors';
import { MSELoss } from '../../lib/loss/mse';
import { Linear } from '../../lib/modules/linear';
import { Parameter } from '../../lib/modules/parameter';
import { Adam } from '../../lib/optim/adam';
import { AdamW } from '../../lib/optim/adamw';
import { CosineAnnealingLR, LinearLR, LRScheduler, MultiStepLR } from '../../lib/optim/lr-scheduler';
import { Optimizer } from '../../lib/optim/optimizer';
import { SequentialLR } from '../../lib/optim/sequential-lr';
import { SGD } from '../../lib/optim/sgd';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed } from '../helpers';

const { tensors: fx, metadata } = readSafetensors(path.join(__dirname, '..', 'fixtures', 'param_groups.safetensors'));
const CASES = Object.keys(metadata)
  .filter((k) => k.endsWith('.config'))
  .map((k) => k.slice(0, -'.config'.length));

interface Config {
  op: 'SGD' | 'Adam' | 'AdamW';
  defaults: Record<string, unknown>;
  groups: ({ params: ('weight' | 'bias')[] } & Record<string, unknown>)[];
  schedule: ({ op: 'MultiStepLR' | 'CosineAnnealingLR' } & Record<string, unknown>) | null;
}

function fixtureModel(): Linear {
  const model = new Linear({ inFeatures: 4, outFeatures: 3 });
  model.loadStateDict({ weight: fx['init.weight'], bias: fx['init.bias'] });
  return model;
}

/** The case's optimizer and schedule on `model`, built as gen_param_groups.py builds PyTorch's. */
function build(model: Linear, config: Config): { opt: Optimizer; sched: LRScheduler | null } {
  const byName = { weight: model.weight, bias: model.bias! };
  const groups = config.groups.map(({ params, ...over }) => ({ params: params.map((n) => byName[n]), ...over }));
  const Op = { SGD, Adam, AdamW }[config.op];
  const opt: Optimizer = new Op(groups, config.defaults as never);
  if (config.schedule === null) return { opt, sched: null };
  const { op, ...options } = config.schedule;
  const sched =
    op === 'MultiStepLR' ? new MultiStepLR(opt, options as never) : new CosineAnnealingLR(opt, options as never);
  return { opt, sched };
}

/** 10 steps on the fixture batch (the schedule stepped after each); the losses and every group's lr along the way. */
function train(model: Linear, opt: Optimizer, sched: LRScheduler | null, steps = 10) {
  const lossFn = new MSELoss();
  const losses: number[] = [];
  const lrs = [opt.paramGroups.map((g) => g.lr)];
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    losses.push(lossFn.forward(model.forward(fx.x), fx.y));
    model.backward(lossFn.backward());
    opt.step();
    sched?.step();
    lrs.push(opt.paramGroups.map((g) => g.lr));
  }
  return { losses, lrs };
}

test('the fixture holds every case', () => {
  expect(CASES).toEqual([
    'adam_groups',
    'adamw_cosine_groups',
    'adamw_groups',
    'sgd_groups',
    'sgd_groups_dampening',
    'sgd_multistep_groups',
  ]);
});

test.each(CASES)('%s: losses, weights and every group lr over 10 steps match PyTorch', (name) => {
  const config = JSON.parse(metadata[`${name}.config`]) as Config;
  const model = fixtureModel();
  const { opt, sched } = build(model, config);
  const { losses, lrs } = train(model, opt, sched);
  expectAllClose(losses, fx[`${name}.losses`].data, 1e-5, 1e-5, `${name}.losses`);
  expectAllClose(model.weight.data.data, fx[`${name}.weight`].data, 1e-5, 0, `${name}.weight`);
  expectAllClose(model.bias!.data.data, fx[`${name}.bias`].data, 1e-5, 0, `${name}.bias`);
  const expected = JSON.parse(metadata[`${name}.lrs`]) as number[][];
  // Closed forms against PyTorch's recursive updates: equal up to float64 rounding, as lr-scheduler.test.ts allows.
  lrs.forEach((row, i) => row.forEach((lr, g) => expect(lr).toBeCloseTo(expected[i][g], 14)));
});

test('SequentialLR (LinearLR warm-up, then cosine) scales two groups with base lrs 0.1 and 0.01 as PyTorch', () => {
  const opt = new SGD(
    [{ params: [new Parameter(Tensor.zeros([1]))] }, { params: [new Parameter(Tensor.zeros([1]))], lr: 0.01 }],
    { lr: 0.1 },
  );
  const warmup = new LinearLR(opt, { startFactor: 0.1, totalIters: 3 });
  const cosine = new CosineAnnealingLR(opt, { tMax: 7 });
  const sched = new SequentialLR(opt, { schedulers: [warmup, cosine], milestones: [3] });
  expect(sched.baseLrs).toEqual([0.1, 0.01]);
  const expected = JSON.parse(metadata['sequential.lrs']) as number[][];
  const lrs = [sched.getLastLrs()];
  for (let i = 0; i < 10; i++) {
    sched.step();
    lrs.push(sched.getLastLrs());
    expect(sched.getLastLrs()).toEqual(opt.paramGroups.map((g) => g.lr));
  }
  lrs.forEach((row, i) => row.forEach((lr, g) => expect(lr).toBeCloseTo(expected[i][g], 14)));
});

test('one group of every parameter steps bit for bit as a plain parameter list', () => {
  const run = (params: (m: Linear) => never) => {
    const model = fixtureModel();
    const opt = new SGD(params(model), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
    const sched = new CosineAnnealingLR(opt, { tMax: 5 });
    return { ...train(model, opt, sched, 5), w: model.weight.data.data, b: model.bias!.data.data };
  };
  const flat = run((m) => m.parameters() as never);
  const grouped = run((m) => [{ params: m.parameters() }] as never);
  expect(grouped).toEqual(flat);
});

test('paramGroups: every option resolved from the defaults; only lr can change; params lists every group in order', () => {
  const [a, b, c] = [1, 2, 3].map((n) => new Parameter(Tensor.zeros([n])));
  const opt = new Adam([{ params: [a, b] }, { params: [c], lr: 0.5, betas: [0.5, 0.6] }], { weightDecay: 0.1 });
  expect(opt.params).toEqual([a, b, c]);
  expect(opt.paramGroups.map(({ params, ...o }) => [params.length, o])).toEqual([
    [2, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1, amsgrad: false, maximize: false }],
    [1, { lr: 0.5, betas: [0.5, 0.6], eps: 1e-8, weightDecay: 0.1, amsgrad: false, maximize: false }],
  ]);
  expect(opt.defaults.lr).toBe(1e-3);
  expect(opt.lr).toBe(1e-3); // the first group's
  opt.paramGroups[1].lr = 0.25;
  expect(opt.paramGroups[1].lr).toBe(0.25);
  expect(() => {
    (opt.paramGroups[1] as { weightDecay: number }).weightDecay = 1;
  }).toThrow(TypeError);
  expect(() => {
    (opt.paramGroups[1].params as Parameter[]).push(a);
  }).toThrow(TypeError);
  expectErrorNamed(
    () => {
      opt.lr = 0.1;
    },
    'RangeError',
    /Adam: lr is per group with 2 groups; set paramGroups\[i\].lr/,
  );
});

test('AMSGrad state exists only for the groups that use it', () => {
  const [a, b] = [new Parameter(Tensor.zeros([2])), new Parameter(Tensor.zeros([2]))];
  const opt = new AdamW([{ params: [a] }, { params: [b], amsgrad: true }]);
  expect(opt.stateOf(0).maxExpAvgSq).toBeNull();
  expect(opt.stateOf(1).maxExpAvgSq).toBeInstanceOf(Float32Array);
});

describe('errors name the group and the option', () => {
  const p = () => new Parameter(Tensor.zeros([2]));
  const shared = p();
  test.each([
    [
      () => new SGD([{ params: [shared] }, { params: [p(), shared] }], { lr: 0.1 }),
      'RangeError',
      /SGD: paramGroups\[1\]\.params\[1\] is already in paramGroups\[0\]/,
    ],
    [
      () => new SGD([{ params: [p()] }, { params: [] }], { lr: 0.1 }),
      'RangeError',
      /SGD: paramGroups\[1\]\.params is empty/,
    ],
    [
      () => new SGD([{ params: [p()] }, { lr: 0.2 } as never], { lr: 0.1 }),
      'TypeError',
      /SGD: paramGroups\[1\]\.params must be an iterable of Parameters, got undefined/,
    ],
    [
      () => new SGD([{ params: [p()] }, { params: [p()], weight_decay: 0 } as never], { lr: 0.1 }),
      'RangeError',
      /SGD: paramGroups\[1\]: unknown option 'weight_decay' \(known: params, lr, momentum/,
    ],
    [
      () => new SGD([{ params: [p()] }, { params: [p()], weightDecay: -1 }], { lr: 0.1 }),
      'RangeError',
      /SGD: paramGroups\[1\]: weightDecay must be >= 0, got -1/,
    ],
    [
      () => new SGD([{ params: [p()], nesterov: true }], { lr: 0.1 }),
      'RangeError',
      /SGD: paramGroups\[0\]: nesterov needs momentum > 0/,
    ],
    [
      () => new SGD([{ params: [p()], lr: '0.1' as never }], { lr: 0.1 }),
      'TypeError',
      /SGD: paramGroups\[0\]: lr must be a number, got string/,
    ],
    [
      () => new SGD([{ params: [p()] }, p()] as never, { lr: 0.1 }),
      'TypeError',
      /SGD: paramGroups\[1\] must be a group \{ params, \.\.\.options \}/,
    ],
    [
      () => new SGD([{ params: [p(), 'x'] }] as never, { lr: 0.1 }),
      'TypeError',
      /SGD: paramGroups\[0\]\.params\[1\] must be a Parameter, got string/,
    ],
    [
      () => new Adam([{ params: [p()], betas: [0.9, 1] }]),
      'RangeError',
      /Adam: paramGroups\[0\]: betas\[1\] must be < 1/,
    ],
    [
      () => new AdamW([{ params: [p()], amsgrad: 'no' as never }]),
      'TypeError',
      /AdamW: paramGroups\[0\]: amsgrad must be a boolean/,
    ],
    [() => new AdamW([{ params: [p()] }], { eps: -1 }), 'RangeError', /^AdamW: eps must be >= 0/],
  ] as [() => unknown, 'TypeError' | 'RangeError', RegExp][])('%#', (fn, kind, message) => {
    expectErrorNamed(fn, kind, message);
  });
});
