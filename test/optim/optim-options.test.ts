// SPDX-License-Identifier: MIT
// Adam/AdamW amsgrad and maximize, SGD maximize, ExponentialLR and MultiStepLR against PyTorch 2.13
// (test/fixtures/optim2.safetensors from gen_optim2.py: 10 steps of the Linear(4, 3) + MSE problem; lr sequences),
// with hand formulas and option errors.
import * as path from 'path';
import { readSafetensors } from '../../lib/io/safetensors';
import { MSELoss } from '../../lib/loss/mse';
import { Linear } from '../../lib/modules/linear';
import { Parameter } from '../../lib/modules/parameter';
import { Adam } from '../../lib/optim/adam';
import { AdamW } from '../../lib/optim/adamw';
import { ExponentialLR, MultiStepLR } from '../../lib/optim/lr-scheduler';
import { Optimizer } from '../../lib/optim/optimizer';
import { SGD } from '../../lib/optim/sgd';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed } from '../helpers';

const { tensors: fx, metadata } = readSafetensors(path.join(__dirname, '..', 'fixtures', 'optim2.safetensors'));
const OPTIM = Object.keys(metadata)
  .filter((k) => k.endsWith('.config'))
  .map((k) => k.slice(0, -'.config'.length));
const SCHEDULES = Object.keys(metadata).filter((k) => k.startsWith('sched.'));

function train(model: Linear, opt: Optimizer, steps: number): number[] {
  const lossFn = new MSELoss();
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    losses.push(lossFn.forward(model.forward(fx['optim.x']), fx['optim.y']));
    model.backward(lossFn.backward());
    opt.step();
  }
  return losses;
}

test('the fixture holds every case', () => {
  expect(OPTIM.length).toBe(8);
  expect(SCHEDULES.length).toBe(5);
});

test.each(OPTIM)('%s: losses and weights over 10 steps match PyTorch', (name) => {
  const { op, ...options } = JSON.parse(metadata[`${name}.config`]) as { op: string } & Record<string, unknown>;
  const model = new Linear({ inFeatures: 4, outFeatures: 3 });
  model.loadStateDict({ weight: fx['optim.init.weight'], bias: fx['optim.init.bias'] });
  const params = model.parameters();
  const opt =
    op === 'sgd'
      ? new SGD(params, options as never)
      : op === 'adamw'
        ? new AdamW(params, options)
        : new Adam(params, options);
  const losses = train(model, opt, 10);
  expectAllClose(losses, fx[`${name}.losses`].data, 1e-5, 1e-5, `${name}.losses`);
  expectAllClose(model.weight.data.data, fx[`${name}.weight`].data, 1e-5, 0, `${name}.weight`);
  expectAllClose(model.bias!.data.data, fx[`${name}.bias`].data, 1e-5, 0, `${name}.bias`);
});

test.each(SCHEDULES)('%s: the lr sequence matches PyTorch', (key) => {
  const { config, optimizerLr, lrs } = JSON.parse(metadata[key]) as {
    config: { op: string } & Record<string, unknown>;
    optimizerLr: number;
    lrs: number[];
  };
  const { op, ...options } = config;
  const opt = new SGD([new Parameter(Tensor.zeros([1]))], { lr: optimizerLr });
  const sched =
    op === 'ExponentialLR' ? new ExponentialLR(opt, options as never) : new MultiStepLR(opt, options as never);
  const got = [opt.lr];
  for (let i = 1; i < lrs.length; i++) {
    sched.step();
    got.push(opt.lr);
  }
  expectAllClose(got, lrs, 1e-15, 1e-12, key);
});

describe('hand checks', () => {
  test('maximize is minimising the negated objective, and leaves param.grad as it was', () => {
    for (const make of [
      (p: Parameter[], maximize: boolean) => new SGD(p, { lr: 0.1, momentum: 0.9, maximize }),
      (p: Parameter[], maximize: boolean) => new Adam(p, { lr: 0.1, maximize }),
      (p: Parameter[], maximize: boolean) => new AdamW(p, { lr: 0.1, amsgrad: true, maximize }),
    ]) {
      const [a, b] = [new Parameter(Tensor.fromArray([1, -2], [2])), new Parameter(Tensor.fromArray([1, -2], [2]))];
      const [up, down] = [make([a], true), make([b], false)];
      for (const g of [0.5, -1, 2]) {
        a.grad.data.fill(g);
        b.grad.data.fill(-g);
        up.step();
        down.step();
        expect(Array.from(a.grad.data)).toEqual([g, g]);
      }
      expectAllClose(a.data.data, b.data.data, 1e-7, 0, 'maximize vs negated gradient');
    }
  });

  test('AMSGrad divides by the running maximum of v (float64 formula)', () => {
    const p = new Parameter(Tensor.fromArray([1], [1]));
    const [lr, b1, b2, eps] = [0.1, 0.9, 0.5, 1e-8];
    const opt = new Adam([p], { lr, betas: [b1, b2], amsgrad: true });
    let [x, m, v, vmax] = [1, 0, 0, 0];
    [3, 0.1, 0.1, -0.2].forEach((g, i) => {
      const t = i + 1;
      p.grad.data[0] = g;
      opt.step();
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      vmax = Math.max(vmax, v);
      x -= (lr / (1 - b1 ** t)) * (m / (Math.sqrt(vmax) / Math.sqrt(1 - b2 ** t) + eps));
      expect(p.data.data[0]).toBeCloseTo(x, 5);
      expect(opt.stateOf(0).maxExpAvgSq![0]).toBeCloseTo(vmax, 6);
    });
  });

  test('MultiStepLR counts a repeated milestone twice and sorts its milestones', () => {
    const opt = new SGD([new Parameter(Tensor.zeros([1]))], { lr: 1 });
    const sched = new MultiStepLR(opt, { milestones: [4, 2, 2], gamma: 0.5 });
    expect(sched.milestones).toEqual([2, 2, 4]);
    expect([0, 1, 2, 3, 4, 5].map((e) => sched.lrAt(e))).toEqual([1, 1, 0.25, 0.25, 0.125, 0.125]);
  });
});

describe('errors name the option', () => {
  const params = () => [new Parameter(Tensor.zeros([2]))];
  test.each([
    [() => new Adam(params(), { amsgrad: 1 as never }), 'TypeError', /Adam: amsgrad must be a boolean/],
    [() => new AdamW(params(), { maximize: 'yes' as never }), 'TypeError', /AdamW: maximize must be a boolean/],
    [() => new SGD(params(), { lr: 0.1, maximize: 1 as never }), 'TypeError', /SGD: maximize must be a boolean/],
    [
      () => new ExponentialLR(new SGD(params(), { lr: 1 }), {} as never),
      'TypeError',
      /ExponentialLR: options.gamma is required/,
    ],
    [
      () => new ExponentialLR(new SGD(params(), { lr: 1 }), { gamma: -1 }),
      'RangeError',
      /ExponentialLR: gamma must be >= 0/,
    ],
    [
      () => new MultiStepLR(new SGD(params(), { lr: 1 }), {} as never),
      'TypeError',
      /MultiStepLR: milestones must be an array/,
    ],
    [
      () => new MultiStepLR(new SGD(params(), { lr: 1 }), { milestones: [3, -1] }),
      'RangeError',
      /MultiStepLR: milestones\[1\]/,
    ],
    [
      () => new MultiStepLR(new SGD(params(), { lr: 1 }), { milestones: [3], gamma: NaN }),
      'RangeError',
      /MultiStepLR: gamma/,
    ],
  ] as [() => unknown, 'TypeError' | 'RangeError', RegExp][])('%#', (fn, kind, message) => {
    expectErrorNamed(fn, kind, message);
  });
});
