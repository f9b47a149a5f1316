// SPDX-License-Identifier: MIT
// Adam against steps computed by hand from torch.optim.Adam's formulas, and its option checks.
import { Parameter } from '../../lib/modules/parameter';
import { Adam } from '../../lib/optim/adam';
import { Tensor } from '../../lib/tensor/tensor';

function param(values: number[]): Parameter {
  return new Parameter(Tensor.fromArray(values, [values.length]));
}

describe('Adam', () => {
  test('first step moves every weight by lr against the gradient sign (bias correction)', () => {
    const p = param([1, -2, 0.5]);
    p.grad.data.set([0.3, -4, 1e-3]);
    new Adam([p], { lr: 0.1 }).step();
    // m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + eps).
    expect(p.data.data[0]).toBeCloseTo(1 - 0.1 * (0.3 / (0.3 + 1e-8)), 6);
    expect(p.data.data[1]).toBeCloseTo(-2 + 0.1, 6);
    expect(p.data.data[2]).toBeCloseTo(0.5 - 0.1 * (1e-3 / (1e-3 + 1e-8)), 6);
  });

  test('three steps with weight decay match the formulas in float64', () => {
    const grads = [0.5, -0.25, 2];
    const [lr, b1, b2, eps, wd] = [0.01, 0.8, 0.9, 1e-6, 0.1];
    const p = param([1]);
    const opt = new Adam([p], { lr, betas: [b1, b2], eps, weightDecay: wd });
    let [x, m, v] = [1, 0, 0];
    grads.forEach((g0, i) => {
      const t = i + 1;
      p.grad.data[0] = g0;
      opt.step();
      const g = g0 + wd * x;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      x -= (lr / (1 - b1 ** t)) * (m / (Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps));
      expect(p.data.data[0]).toBeCloseTo(x, 6);
      expect(opt.stateOf(0).step).toBe(t);
    });
  });

  test('zeroGrad clears gradients; lr can change between steps', () => {
    const p = param([0]);
    const opt = new Adam([p]);
    p.grad.data[0] = 1;
    opt.zeroGrad();
    expect(p.grad.data[0]).toBe(0);
    opt.lr = 0.5;
    p.grad.data[0] = 1;
    opt.step();
    expect(p.data.data[0]).toBeCloseTo(-0.5, 6);
  });

  test('rejects bad options with the option named', () => {
    const p = param([0]);
    expect(() => new Adam([p], { lr: -1 })).toThrow(/lr must be >= 0/);
    expect(() => new Adam([p], { betas: [0.9, 1] })).toThrow(/betas\[1\]/);
    expect(() => new Adam([p], { eps: NaN })).toThrow(/eps must be finite/);
    expect(() => new Adam([p], { momentum: 0.9 } as never)).toThrow(/momentum/);
    expect(() => new Adam([])).toThrow(/params is empty/);
    expect(() => new Adam([p, p])).toThrow(/same Parameter twice/);
    expect(() => new Adam([{} as Parameter])).toThrow(TypeError);
  });
});
