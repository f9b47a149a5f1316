// SPDX-License-Identifier: MIT
// AdamW against torch.optim.AdamW (3 steps, layers2.safetensors), the decoupled-decay formula by hand, and option errors.
import { Parameter } from '../../lib/modules/parameter';
import { AdamW } from '../../lib/optim/adamw';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed } from '../helpers';
import { layers2, tinyModel, train } from './tiny-model';

const { tensors: fx, metadata } = layers2;

test.each(['adamw', 'adamw_custom', 'adamw_default'])('%s: weights after 3 steps match PyTorch', (name) => {
  const { op, ...options } = JSON.parse(metadata[`${name}.config`]);
  expect(op).toBe('adamw');
  const model = tinyModel();
  const losses = train(model, new AdamW(model.parameters(), options), 3);
  expectAllClose(losses, fx[`${name}.losses`].data, 1e-5, 1e-5, `${name}.losses`);
  expectAllClose(model.weight.data.data, fx[`${name}.weight`].data, 1e-5, 0, `${name}.weight`);
  expectAllClose(model.bias!.data.data, fx[`${name}.bias`].data, 1e-5, 0, `${name}.bias`);
});

test('three steps match the formulas in float64: θ *= 1 - lr wd, then Adam on the raw gradient', () => {
  const grads = [0.5, -0.25, 2];
  const [lr, b1, b2, eps, wd] = [0.01, 0.8, 0.9, 1e-6, 0.5];
  const p = new Parameter(Tensor.fromArray([1], [1]));
  const opt = new AdamW([p], { lr, betas: [b1, b2], eps, weightDecay: wd });
  let [x, m, v] = [1, 0, 0];
  grads.forEach((g, i) => {
    const t = i + 1;
    p.grad.data[0] = g;
    opt.step();
    x *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    x -= (lr / (1 - b1 ** t)) * (m / (Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps));
    expect(p.data.data[0]).toBeCloseTo(x, 6);
    expect(opt.stateOf(0).step).toBe(t);
    expect(opt.stateOf(0).expAvg[0]).toBeCloseTo(m, 6);
  });
});

test("defaults are PyTorch's: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 1e-2", () => {
  const opt = new AdamW([new Parameter(Tensor.zeros([1]))]);
  expect([opt.lr, opt.betas, opt.eps, opt.weightDecay]).toEqual([1e-3, [0.9, 0.999], 1e-8, 1e-2]);
});

test('errors name the option', () => {
  const p = new Parameter(Tensor.zeros([1]));
  expectErrorNamed(() => new AdamW([p], { lr: -1 }), 'RangeError', /AdamW: lr must be >= 0/);
  expectErrorNamed(() => new AdamW([p], { betas: [0.9, 1] }), 'RangeError', /betas\[1\]/);
  expectErrorNamed(
    () => new AdamW([p], { betas: [0.9] as never }),
    'RangeError',
    /AdamW: betas must hold 2 entries, got 1/,
  );
  expectErrorNamed(
    () => new AdamW([p], { betas: 0.9 as never }),
    'TypeError',
    /AdamW: betas must be an array, got number/,
  );
  expectErrorNamed(() => new AdamW([p], { eps: NaN }), 'RangeError', /eps must be finite/);
  expectErrorNamed(() => new AdamW([p], { weightDecay: -0.1 }), 'RangeError', /weightDecay must be >= 0/);
  expectErrorNamed(() => new AdamW([p], { amsGrad: true } as never), 'RangeError', /unknown option 'amsGrad'/);
  expectErrorNamed(() => new AdamW([p]).stateOf(2), 'RangeError', /index 2/);
});
