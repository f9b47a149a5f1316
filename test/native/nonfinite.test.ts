// SPDX-License-Identifier: MIT
// NaN and ±Infinity as data, for every ISA, against PyTorch's rules as reference.ts writes them: relu keeps NaN; max pooling
// takes a NaN over any number (the last NaN of a window); a log-softmax row holding NaN or +Inf is NaN; the rest is IEEE
// arithmetic (Adam, the loss gradient, and conv/linear sums, which are order-independent for NaN/±Inf on finite weights).
// Error paths and crash-freedom on every export: binding-errors.test.ts.
import { native } from '../../lib/native';
import { FILL_MODES, fillNonFinite, type FillMode } from './binding-specs';
import { describeEachIsa } from './isa';
import {
  AdamHyper,
  ConvShape,
  PoolShape,
  Rng,
  adamStep,
  conv2dBackward,
  conv2dForward,
  convArgs,
  convSizes,
  crossEntropy,
  crossEntropyGrad,
  expectClose,
  linearBackward,
  linearForward,
  maxPool2dBackward,
  maxPool2dForward,
  plus,
  poolArgs,
  poolSizes,
  reluBackward,
  reluForward,
} from './reference';

const LENGTHS = [1, 7, 16, 17, 37, 100];
const modes = FILL_MODES.map((m): [FillMode] => [m]);
/** `n` values of fill `mode` (a fresh array). */
const filled = (rng: Rng, n: number, mode: FillMode) => fillNonFinite(new Float32Array(n), mode, rng);

const POOLS: Array<[string, PoolShape]> = [
  [
    '2x2/2 on 2x3x10x14 (the fast kernel)',
    { n: 2, c: 3, h: 10, w: 14, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, ceil: false },
  ],
  ['2x2/2 on odd 7x9, ceil', { n: 1, c: 2, h: 7, w: 9, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, ceil: true }],
  [
    '3x3/1 pad 1 (overlapping windows)',
    { n: 2, c: 2, h: 6, w: 7, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, ceil: false },
  ],
  [
    '3x2/2 pad 1, dilation 2x3',
    { n: 2, c: 3, h: 7, w: 6, kh: 3, kw: 2, sh: 2, sw: 2, ph: 1, pw: 1, ceil: true, dh: 2, dw: 3 },
  ],
];

const conv = (p: Partial<ConvShape>): ConvShape => ({
  n: 2,
  c: 2,
  h: 6,
  w: 6,
  oc: 3,
  kh: 3,
  kw: 3,
  sh: 1,
  sw: 1,
  ph: 0,
  pw: 0,
  dh: 1,
  dw: 1,
  groups: 1,
  ...p,
});
// One shape per kernel path of conv2d_op.cc (row-direct, channel-direct, im2col + GEMM), with and without padding.
const CONVS: Array<[string, ConvShape]> = [
  ['direct rows: 3x3 pad 1, 16 wide', conv({ c: 2, oc: 7, h: 10, w: 16, ph: 1, pw: 1 })],
  ['direct rows: no padding, 24 wide', conv({ n: 3, c: 2, oc: 4, h: 5, w: 24, kh: 3, kw: 5 })],
  ['channels: 29 out, stride 2, pad 1', conv({ n: 3, c: 3, oc: 29, h: 9, w: 8, sh: 2, sw: 2, ph: 1, pw: 1 })],
  ['channels: 16 out, no padding', conv({ c: 6, oc: 16, h: 9, w: 9, kh: 5, kw: 5 })],
  ['im2col: groups 2, dilation 2, pad 1', conv({ c: 4, oc: 6, h: 7, w: 8, groups: 2, dh: 2, dw: 2, ph: 1, pw: 1 })],
  ['im2col: stride 2, no padding', conv({ c: 3, oc: 5, h: 9, w: 7, sh: 2, sw: 2 })],
];
const unpadded = (s: ConvShape) => s.ph === 0 && s.pw === 0;

describeEachIsa(() => {
  describe.each(modes)('fill %s', (mode) => {
    const rng = new Rng(mode.length * 7717 + mode.charCodeAt(0));

    test.each(LENGTHS)('reluForward on %i values: NaN stays NaN, +Inf stays, -Inf gives 0 (torch.relu)', (n) => {
      const x = filled(rng, n, mode),
        out = new Float32Array(n).fill(12345);
      native.reluForward(out, x);
      expectClose(out, reluForward(x), 0, 0, 'out');
    });

    test.each(LENGTHS)(
      'reluBackward / reluMask on %i values with NaN/±Inf gradients and a saved output of 0, >0 or +Inf',
      (n) => {
        const out = Float32Array.from(reluForward(filled(rng, n, mode)), (v) => (Number.isNaN(v) ? 0.5 : v)); // NaN outputs: see below
        const dout = filled(rng, n, mode),
          dx = rng.f32(n),
          before = dx.slice();
        native.reluBackward(dx, dout, out);
        expectClose(dx, plus(before, reluBackward(dout, out)), 1e-7, 1e-7, 'dinput');
        const grad = dout.slice();
        native.reluMask(grad, out);
        expectClose(grad, reluBackward(dout, out), 0, 0, 'grad');
      },
    );

    test.each(POOLS)('maxPool2dForward %s: the values and argmax PyTorch gives', (_name, s) => {
      const z = poolSizes(s),
        x = filled(rng, z.input, mode);
      const out = new Float32Array(z.output).fill(7),
        argmax = new Int32Array(z.output).fill(-7);
      native.maxPool2dForward(out, argmax, x, ...poolArgs(s));
      const ref = maxPool2dForward(x, s);
      expectClose(out, ref.out, 0, 0, 'out');
      expect(Array.from(argmax)).toEqual(Array.from(ref.argmax));
    });

    test.each(POOLS)('maxPool2dBackward %s: NaN/±Inf gradients added at each argmax', (_name, s) => {
      const z = poolSizes(s);
      const { argmax } = maxPool2dForward(filled(rng, z.input, 'mixed'), s);
      const dout = filled(rng, z.output, mode),
        dx = rng.f32(z.input),
        before = dx.slice();
      native.maxPool2dBackward(dx, dout, argmax, ...poolArgs(s));
      expectClose(dx, plus(before, maxPool2dBackward(dout, argmax, s)), 1e-6, 1e-6, 'dinput');
    });

    test('crossEntropyForward / crossEntropyBackward on a batch of 5 x 11 logits', () => {
      const [batch, classes] = [5, 11],
        logits = filled(rng, batch * classes, mode),
        targets = rng.i32(batch, 0, classes - 1);
      const probs = new Float32Array(batch * classes).fill(7);
      const loss = native.crossEntropyForward(probs, logits, targets, batch, classes),
        ref = crossEntropy(logits, targets, batch, classes);
      expectClose([loss], [ref.loss], 1e-6, 1e-6, 'loss');
      expectClose(probs, ref.probs, 1e-7, 1e-5, 'probs');
      const p = filled(rng, batch * classes, mode),
        d = rng.f32(batch * classes),
        before = d.slice();
      native.crossEntropyBackward(d, p, targets, 0.5, batch, classes);
      expectClose(d, plus(before, crossEntropyGrad(p, targets, 0.5, batch, classes)), 1e-6, 1e-5, 'dlogits');
    });

    test.each(['param', 'expAvg', 'expAvgSq', 'grad', 'all'])(
      'adamStep with %s filled, weight decay 0 and 0.01',
      (which) => {
        for (const weightDecay of [0, 0.01]) {
          const n = 37,
            h: AdamHyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, step: 3 };
          const fill = (name: string, lo: number, hi: number) =>
            which === name || which === 'all' ? filled(rng, n, mode) : rng.f32(n, lo, hi);
          const p32 = fill('param', -1, 1),
            m32 = fill('expAvg', -0.1, 0.1),
            v32 = fill('expAvgSq', 0, 0.01),
            g = fill('grad', -1, 1);
          // A finite second moment is never negative (a negative one could round to either side of 0 in float32 and float64).
          v32.forEach((v, i) => Number.isFinite(v) && (v32[i] = Math.abs(v)));
          const p = Float64Array.from(p32),
            m = Float64Array.from(m32),
            v = Float64Array.from(v32);
          native.adamStep(p32, m32, v32, g, h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, h.step);
          adamStep(p, m, v, g, h);
          expectClose(m32, m, 1e-8, 1e-6, 'expAvg');
          expectClose(v32, v, 1e-10, 1e-6, 'expAvgSq');
          expectClose(p32, p, 1e-7, 1e-6, 'param');
        }
      },
    );

    test.each(CONVS)('conv2d %s: NaN/±Inf inputs reach exactly the outputs and gradients they touch', (_name, s) => {
      const z = convSizes(s),
        x = filled(rng, z.input, mode),
        w = rng.f32(z.weight),
        b = rng.f32(s.oc);
      for (const fuseRelu of [0, 1]) {
        const out = new Float32Array(z.output).fill(NaN);
        native.conv2dForward(out, x, w, b, ...convArgs(s), fuseRelu);
        const ref = conv2dForward(x, w, b, s);
        expectClose(out, fuseRelu ? reluForward(ref) : ref, 1e-5, 1e-5, fuseRelu ? 'relu(out)' : 'out');
      }
      // Non-finite saved input (finite output gradient); then a non-finite output gradient (finite input). With padding
      // the weight gradient of the second is left out: im2col multiplies the padding's zeros by the gradient (0 * NaN is
      // NaN, as in PyTorch's im2col path) where the reference skips them, so no result is "the" right one there.
      for (const [xin, dout] of [
        [x, rng.f32(z.output)],
        [rng.f32(z.input), filled(rng, z.output, mode)],
      ]) {
        const dx = rng.f32(z.input),
          dw = rng.f32(z.weight),
          db = rng.f32(s.oc);
        const before = [dx, dw, db].map((a) => a.slice());
        native.conv2dBackward(dx, dw, db, dout, xin, w, ...convArgs(s));
        const ref = conv2dBackward(dout, xin, w, s);
        expectClose(dx, plus(before[0], ref.dx), 1e-4, 1e-4, 'dinput');
        if (xin === x || unpadded(s)) expectClose(dw, plus(before[1], ref.dw), 1e-4, 1e-4, 'dweight');
        expectClose(db, plus(before[2], ref.db), 1e-4, 1e-4, 'dbias');
      }
    });

    test('linear: NaN/±Inf inputs and output gradients reach exactly the results they touch', () => {
      const [batch, nin, nout] = [5, 19, 11];
      const x = filled(rng, batch * nin, mode),
        w = rng.f32(nout * nin),
        b = rng.f32(nout);
      const out = new Float32Array(batch * nout).fill(NaN);
      native.linearForward(out, x, w, b, batch, nin, nout);
      expectClose(out, linearForward(x, w, b, batch, nin, nout), 1e-5, 1e-5, 'out');
      for (const [xin, dout] of [
        [x, rng.f32(batch * nout)],
        [rng.f32(batch * nin), filled(rng, batch * nout, mode)],
      ]) {
        const dx = rng.f32(batch * nin),
          dw = rng.f32(nout * nin),
          db = rng.f32(nout);
        const before = [dx, dw, db].map((a) => a.slice());
        native.linearBackward(dx, dw, db, dout, xin, w, batch, nin, nout);
        const ref = linearBackward(dout, xin, w, batch, nin, nout);
        expectClose(dx, plus(before[0], ref.dx), 1e-5, 1e-5, 'dinput');
        expectClose(dw, plus(before[1], ref.dw), 1e-5, 1e-5, 'dweight');
        expectClose(db, plus(before[2], ref.db), 1e-5, 1e-5, 'dbias');
      }
    });
  });

  test('crossEntropyForward per row: NaN or +Inf anywhere gives NaN (as log_softmax), -Inf at the target +Inf, elsewhere probability 0', () => {
    const classes = 6,
      t = 2;
    const row = (set: Record<number, number>) =>
      Float32Array.from({ length: classes }, (_, k) => set[k] ?? (k - 2.5) / 2);
    const cases: Array<[string, Float32Array, number]> = [
      ['NaN first', row({ 0: NaN }), NaN],
      ['NaN at the target', row({ [t]: NaN }), NaN],
      ['NaN last', row({ 5: NaN }), NaN],
      ['+Inf at the target', row({ [t]: Infinity }), NaN],
      ['+Inf elsewhere', row({ 4: Infinity }), NaN],
      ['-Inf at the target', row({ [t]: -Infinity }), Infinity],
      ['all -Inf', new Float32Array(classes).fill(-Infinity), NaN],
    ];
    for (const [name, logits, expected] of cases) {
      const probs = new Float32Array(classes).fill(7),
        loss = native.crossEntropyForward(probs, logits, new Int32Array([t]), 1, classes);
      const ref = crossEntropy(logits, [t], 1, classes);
      expect([name, loss]).toEqual([name, expected]);
      expectClose(probs, ref.probs, 1e-7, 1e-5, `${name}: probs`);
    }
    const probs = new Float32Array(classes),
      logits = row({ 4: -Infinity });
    const loss = native.crossEntropyForward(probs, logits, new Int32Array([t]), 1, classes);
    expectClose([loss], [crossEntropy(logits, [t], 1, classes).loss], 1e-6, 1e-6, '-Inf elsewhere: loss');
    expect(probs[4]).toBe(0);
  });

  // PyTorch's ReLU backward is threshold_backward(grad, result, 0), `result <= 0 ? 0 : grad` (aten/src/ATen/native/cpu/
  // Activation.cpp, threshold_kernel): where the saved output is NaN the gradient passes (a test of `out > 0` would drop it).
  test('reluBackward / reluMask pass the gradient where the saved output is NaN, as PyTorch', () => {
    const out = new Float32Array([NaN, -NaN, 1, 0, NaN]),
      dout = new Float32Array([1, 2, 3, 4, 5]);
    const dx = new Float32Array(5);
    native.reluBackward(dx, dout, out);
    const grad = dout.slice();
    native.reluMask(grad, out);
    expect([Array.from(dx), Array.from(grad)]).toEqual([
      [1, 2, 3, 0, 5],
      [1, 2, 3, 0, 5],
    ]);
  });
});
