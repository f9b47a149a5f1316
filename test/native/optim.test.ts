// SPDX-License-Identifier: MIT
// adamStep against torch.optim.Adam's update written out in float64 in reference.ts, for every ISA (no error paths).
import { native } from '../../lib/native';
import { describeEachIsa } from './isa';
import { AdamHyper, Rng, adamStep, expectClose } from './reference';

const DEFAULTS: AdamHyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 };

function call(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, h: AdamHyper): void {
  native.adamStep(p, m, v, g, h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, h.step);
}

/** A random optimizer state: params and grads in [-1, 1], m in [-0.1, 0.1], v in [0, 0.01]. */
function state(rng: Rng, n: number) {
  return { p: rng.f32(n), m: rng.f32(n, -0.1, 0.1), v: rng.f32(n, 0, 0.01), g: rng.f32(n) };
}

const hypers: Array<[string, Partial<AdamHyper>]> = [
  ['defaults, step 1', {}],
  ['step 5 with weight decay 0.01', { step: 5, weightDecay: 0.01 }],
  ['lr 0.1, step 2', { lr: 0.1, step: 2 }],
  ['beta1 0', { beta1: 0, step: 3 }],
  ['beta2 0', { beta2: 0, step: 2 }],
  ['betas 0.5 / 0.6, weight decay 1', { beta1: 0.5, beta2: 0.6, weightDecay: 1, step: 4 }],
  ['eps 0', { eps: 0, step: 7 }],
  ['eps 1e-3', { eps: 1e-3 }],
  ['lr 0 leaves params unchanged', { lr: 0, step: 3 }],
  ['step 1e6 (bias corrections ~1)', { step: 1e6 }],
  ['step 2^40 (largest allowed)', { step: 2 ** 40 }],
  ['beta2 0.999999, step 1', { beta2: 0.999999 }],
];
const LENGTHS = [1, 7, 8, 9, 16, 17, 33, 1000, 4099];

describeEachIsa(() => {
  describe.each(hypers)('adamStep: %s', (_name, partial) => {
    const h = { ...DEFAULTS, ...partial };
    test.each(LENGTHS)('one step on %i elements matches the float64 reference', (n) => {
      const rng = new Rng(n * 7 + h.step);
      const s = state(rng, n),
        grad = s.g.slice();
      const p = Float64Array.from(s.p),
        m = Float64Array.from(s.m),
        v = Float64Array.from(s.v);
      adamStep(p, m, v, s.g, h);
      call(s.p, s.m, s.v, s.g, h);
      expectClose(s.m, m, 1e-8, 1e-6, 'expAvg');
      expectClose(s.v, v, 1e-10, 1e-6, 'expAvgSq');
      expectClose(s.p, p, 1e-7, 1e-6, 'param');
      expect(s.g).toEqual(grad);
    });
  });

  describe('adamStep trajectories and exact values', () => {
    test('the first step from zero state moves each param by lr against the sign of its gradient', () => {
      const p = new Float32Array([1, 1, -2]),
        m = new Float32Array(3),
        v = new Float32Array(3);
      call(p, m, v, new Float32Array([0.5, -3, 1e-3]), { ...DEFAULTS, lr: 0.1, eps: 0 });
      expectClose(p, [0.9, 1.1, -2.1], 1e-7, 1e-6, 'param');
      expectClose(m, [0.05, -0.3, 1e-4], 1e-9, 1e-6, 'expAvg');
      expectClose(v, [0.00025, 0.009, 1e-9], 1e-12, 1e-5, 'expAvgSq');
    });

    test('a zero gradient from zero state leaves param, expAvg and expAvgSq unchanged', () => {
      const p = new Float32Array([1, -1]),
        m = new Float32Array(2),
        v = new Float32Array(2);
      call(p, m, v, new Float32Array(2), DEFAULTS);
      expect(Array.from(p)).toEqual([1, -1]);
      expect(Array.from(m)).toEqual([0, 0]);
      expect(Array.from(v)).toEqual([0, 0]);
    });

    test('weight decay acts as an L2 gradient (classic Adam, not AdamW)', () => {
      const h = { ...DEFAULTS, lr: 0.01, weightDecay: 0.5 };
      const a = { p: new Float32Array([2]), m: new Float32Array(1), v: new Float32Array(1) };
      const b = { p: new Float32Array([2]), m: new Float32Array(1), v: new Float32Array(1) };
      call(a.p, a.m, a.v, new Float32Array([0.25]), h);
      call(b.p, b.m, b.v, new Float32Array([0.25 + 0.5 * 2]), { ...h, weightDecay: 0 });
      expect(a.p[0]).toBe(b.p[0]);
      expect(a.m[0]).toBe(b.m[0]);
      expect(a.v[0]).toBe(b.v[0]);
    });

    test.each([
      ['defaults', DEFAULTS],
      ['lr 0.01, weight decay 1e-2', { ...DEFAULTS, lr: 0.01, weightDecay: 1e-2 }],
      ['betas 0.8 / 0.99', { ...DEFAULTS, beta1: 0.8, beta2: 0.99, lr: 3e-3 }],
    ])('100 steps with fresh gradients follow the float64 trajectory (%s)', (_name, hyper) => {
      const rng = new Rng(31);
      const n = 37;
      const p32 = rng.f32(n),
        m32 = new Float32Array(n),
        v32 = new Float32Array(n);
      const p = Float64Array.from(p32),
        m = new Float64Array(n),
        v = new Float64Array(n);
      for (let t = 1; t <= 100; t++) {
        const g = rng.f32(n);
        for (let i = 0; i < n; i++) g[i] = Math.fround(g[i] + 0.3 * p32[i]); // a gradient that depends on the params
        const h = { ...hyper, step: t };
        call(p32, m32, v32, g, h);
        adamStep(p, m, v, g, h);
      }
      expectClose(p32, p, 1e-5, 1e-4, 'param after 100 steps');
      expectClose(m32, m, 1e-5, 1e-4, 'expAvg after 100 steps');
      expectClose(v32, v, 1e-7, 1e-4, 'expAvgSq after 100 steps');
    });

    test('views with byte offsets into one ArrayBuffer update only their own elements', () => {
      const rng = new Rng(2);
      const n = 9,
        buf = new Float32Array(4 * n + 5).fill(NaN);
      const views = [0, 1, 2, 3].map((k) => buf.subarray(1 + k * (n + 1), 1 + k * (n + 1) + n));
      const s = state(rng, n);
      [s.p, s.m, s.v, s.g].forEach((a, k) => views[k].set(a));
      call(views[0], views[1], views[2], views[3], DEFAULTS);
      call(s.p, s.m, s.v, s.g, DEFAULTS);
      [s.p, s.m, s.v, s.g].forEach((a, k) => expect(views[k]).toEqual(a));
      for (const i of [0, n + 1, 2 * n + 2, 3 * n + 3, 4 * n + 4]) expect(buf[i]).toBeNaN();
    });
  });
});
