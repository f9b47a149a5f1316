// SPDX-License-Identifier: MIT
// SGD against torch.optim.SGD (plain, momentum, dampening, Nesterov, weight decay: 3 steps, layers2.safetensors), hand formulas and option errors.
import { Parameter } from '../../lib/modules/parameter';
import { SGD } from '../../lib/optim/sgd';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed } from '../helpers';
import { layers2, tinyModel, train } from './tiny-model';

const { tensors: fx, metadata } = layers2;

test.each(['sgd_plain', 'sgd_momentum', 'sgd_dampening', 'sgd_nesterov', 'sgd_wd'])(
  '%s: weights after 3 steps match PyTorch',
  (name) => {
    const { op, ...options } = JSON.parse(metadata[`${name}.config`]);
    expect(op).toBe('sgd');
    const model = tinyModel();
    const losses = train(model, new SGD(model.parameters(), options), 3);
    expectAllClose(losses, fx[`${name}.losses`].data, 1e-5, 1e-5, `${name}.losses`);
    expectAllClose(model.weight.data.data, fx[`${name}.weight`].data, 1e-5, 0, `${name}.weight`);
    expectAllClose(model.bias!.data.data, fx[`${name}.bias`].data, 1e-5, 0, `${name}.bias`);
  },
);

function param(values: number[]): Parameter {
  return new Parameter(Tensor.fromArray(values, [values.length]));
}

test('the momentum buffer starts as the first gradient (no dampening on step 1), then b = m b + (1 - d) g', () => {
  const p = param([1]);
  const opt = new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.5 });
  expect(opt.stateOf(0).momentumBuffer).toBeNull();
  let [x, b] = [1, 0];
  [2, -1, 0.5].forEach((g, i) => {
    p.grad.data[0] = g;
    opt.step();
    b = i === 0 ? g : 0.9 * b + 0.5 * g;
    x -= 0.1 * b;
    expect(opt.stateOf(0).momentumBuffer![0]).toBeCloseTo(b, 6);
    expect(p.data.data[0]).toBeCloseTo(x, 6);
  });
});

test('Nesterov steps along g + momentum b; weight decay adds wd θ to the gradient first', () => {
  const p = param([2]);
  const opt = new SGD([p], { lr: 0.5, momentum: 0.5, nesterov: true, weightDecay: 0.1 });
  p.grad.data[0] = 1;
  opt.step(); // g = 1 + 0.2 = 1.2; b = 1.2; step g + 0.5 b = 1.8
  expect(p.data.data[0]).toBeCloseTo(2 - 0.5 * 1.8, 6);
  p.grad.data[0] = 0;
  opt.step(); // θ = 1.1: g = 0.11; b = 0.6 + 0.11 = 0.71; step 0.11 + 0.355 = 0.465
  expect(p.data.data[0]).toBeCloseTo(1.1 - 0.5 * 0.465, 6);
});

test('plain SGD keeps no state; lr can change between steps', () => {
  const p = param([0, 0]);
  const opt = new SGD([p], { lr: 1 });
  p.grad.data.set([1, -2]);
  opt.step();
  opt.lr = 0.5;
  opt.step();
  expect(Array.from(p.data.data)).toEqual([-1.5, 3]);
  expect(opt.stateOf(0).momentumBuffer).toBeNull();
});

test('errors name the option', () => {
  const p = param([0]);
  expectErrorNamed(() => new SGD([p], undefined as never), 'TypeError', /lr is required/);
  expectErrorNamed(() => new SGD([p], {} as never), 'TypeError', /lr is required/);
  expectErrorNamed(() => new SGD([p], { lr: -0.1 }), 'RangeError', /SGD: lr must be >= 0/);
  expectErrorNamed(() => new SGD([p], { lr: 0.1, momentum: -1 }), 'RangeError', /momentum must be >= 0/);
  expectErrorNamed(() => new SGD([p], { lr: 0.1, weightDecay: -1 }), 'RangeError', /weightDecay must be >= 0/);
  expectErrorNamed(
    () => new SGD([p], { lr: 0.1, nesterov: true }),
    'RangeError',
    /nesterov needs momentum > 0 and dampening 0/,
  );
  expectErrorNamed(
    () => new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }),
    'RangeError',
    /nesterov/,
  );
  expectErrorNamed(() => new SGD([p], { lr: 0.1, nesterov: 1 as never }), 'TypeError', /nesterov must be a boolean/);
  expectErrorNamed(() => new SGD([p], { lr: 0.1, maximise: true } as never), 'RangeError', /unknown option 'maximise'/);
  expectErrorNamed(() => new SGD([], { lr: 0.1 }), 'RangeError', /params is empty/);
  expectErrorNamed(() => new SGD([p], { lr: 0.1 }).stateOf(1), 'RangeError', /index 1/);
});
