// SPDX-License-Identifier: MIT
// maxPool2dForward / maxPool2dBackward against reference.ts for every ISA: values, PyTorch argmax, ties, NaN, ceil mode, dilation (no error paths).
import { native } from '../../lib/native';
import { ISAS, describeEachIsa, restore, setIsa, setThreads } from './isa';
import {
  PoolShape,
  Rng,
  expectClose,
  maxPool2dBackward,
  maxPool2dForward,
  plus,
  poolArgs,
  poolSizes,
} from './reference';

const base: PoolShape = { n: 1, c: 1, h: 5, w: 5, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, ceil: false };

const named: Array<[string, Partial<PoolShape>]> = [
  ['LeNet 2x2/2 on 6x28x28', { n: 2, c: 6, h: 28, w: 28 }],
  ['2x2/2 on odd 7x7, floor', { c: 3, h: 7, w: 7 }],
  ['2x2/2 on odd 7x7, ceil', { c: 3, h: 7, w: 7, ceil: true }],
  // The wasm build's fast kernel does 4 outputs of a row at once: two vectors and a scalar tail, odd width.
  ['2x2/2 on 6x19 (rows of 9 outputs)', { n: 2, c: 3, h: 6, w: 19 }],
  ['3x3/2 pad 1', { n: 2, c: 2, h: 9, w: 8, kh: 3, kw: 3, ph: 1, pw: 1 }],
  ['3x3/1 pad 1 (overlapping windows)', { n: 2, c: 3, h: 6, w: 7, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 }],
  ['3x3/2 pad 1, ceil', { c: 2, h: 6, w: 7, kh: 3, kw: 3, ph: 1, pw: 1, ceil: true }],
  [
    'ceil mode drops a window that would start in the right padding',
    { h: 5, w: 5, sh: 3, sw: 3, ph: 1, pw: 1, ceil: true },
  ],
  ['ceil mode, stride 3 on 8x10', { c: 2, h: 8, w: 10, kh: 2, kw: 3, sh: 3, sw: 3, ceil: true }],
  ['kernel 1 stride 1 (identity)', { c: 3, h: 4, w: 5, kh: 1, kw: 1, sh: 1, sw: 1 }],
  ['kernel 1 stride 2', { c: 2, h: 7, w: 6, kh: 1, kw: 1 }],
  ['kernel == input (global max)', { n: 3, c: 4, h: 5, w: 7, kh: 5, kw: 7, sh: 1, sw: 1 }],
  ['kernel == padded input', { c: 2, h: 3, w: 3, kh: 5, kw: 5, sh: 5, sw: 5, ph: 2, pw: 2 }],
  ['width 1', { c: 2, h: 9, w: 1, kh: 3, kw: 1, sh: 2, sw: 1 }],
  ['width 1 with padding', { h: 4, w: 1, kh: 2, kw: 2, sh: 1, sw: 1, ph: 1, pw: 1 }],
  ['1x1 input', { c: 5, h: 1, w: 1, kh: 1, kw: 1 }],
  ['kernel 2x3, stride 1x2', { c: 2, h: 6, w: 9, kh: 2, kw: 3, sh: 1, sw: 2 }],
  ['stride larger than the kernel', { c: 2, h: 10, w: 11, sh: 3, sw: 4 }],
  ['dilation 1 passed explicitly (16 arguments, the fast kernel)', { c: 2, h: 6, w: 8, dh: 1, dw: 1 }],
  ['2x2/2 dilation 2 (not the fast kernel)', { c: 3, h: 7, w: 8, dh: 2, dw: 2 }],
  ['3x3/1 dilation 2', { n: 2, c: 2, h: 9, w: 8, kh: 3, kw: 3, sh: 1, sw: 1, dh: 2, dw: 2 }],
  ['3x3/2 pad 1 dilation [2, 3], ceil', { c: 2, h: 9, w: 11, kh: 3, kw: 3, ph: 1, pw: 1, dh: 2, dw: 3, ceil: true }],
  ['3x2/1 pad 1 dilation [2, 3]', { n: 2, c: 3, h: 8, w: 9, kh: 3, kw: 2, sh: 1, sw: 1, ph: 1, pw: 1, dh: 2, dw: 3 }],
  [
    'dilation [3, 2], stride [2, 1], pad 1, ceil',
    { c: 2, h: 10, w: 7, kh: 2, kw: 3, sh: 2, sw: 1, ph: 1, pw: 1, dh: 3, dw: 2, ceil: true },
  ],
  [
    'dilation past the input: one window, clipped to its one tap inside',
    { h: 3, w: 3, kh: 4, kw: 4, sh: 7, sw: 7, ph: 2, pw: 2, dh: 4, dw: 4, ceil: true },
  ],
];
for (const c of [1, 7, 8, 9, 16, 17]) named.push([`channels ${c}`, { n: 2, c, h: 6, w: 7, ceil: c % 2 === 1 }]);

function randomShape(rng: Rng): PoolShape {
  const kh = rng.int(1, 4),
    kw = rng.int(1, 4);
  const s: PoolShape = {
    n: rng.int(1, 3),
    c: rng.int(1, 5),
    h: 1,
    w: 1,
    kh,
    kw,
    sh: rng.int(1, 3),
    sw: rng.int(1, 3),
    ph: rng.int(0, kh >> 1),
    pw: rng.int(0, kw >> 1),
    ceil: rng.next() < 0.5,
  };
  s.h = Math.max(1, s.kh - 2 * s.ph) + rng.int(0, 8);
  s.w = Math.max(1, s.kw - 2 * s.pw) + rng.int(0, 8);
  return s;
}

/** A random dilated shape whose input is at least as large as the dilated kernel (less the padding) and the dilation. */
function randomDilatedShape(rng: Rng): PoolShape {
  const s = { ...randomShape(rng), dh: rng.int(1, 4), dw: rng.int(1, 4) };
  s.h = Math.max(1, s.dh * (s.kh - 1) + 1 - 2 * s.ph, s.dh) + rng.int(0, 6);
  s.w = Math.max(1, s.dw * (s.kw - 1) + 1 - 2 * s.pw, s.dw) + rng.int(0, 6);
  return s;
}

const shapeRng = new Rng(99),
  dilatedRng = new Rng(101);
const cases: Array<[string, PoolShape]> = [
  ...named.map(([name, p]): [string, PoolShape] => [name, { ...base, ...p }]),
  ...Array.from({ length: 40 }, (_, i): [string, PoolShape] => [`random #${i}`, randomShape(shapeRng)]),
  ...Array.from({ length: 20 }, (_, i): [string, PoolShape] => [
    `random dilated #${i}`,
    randomDilatedShape(dilatedRng),
  ]),
];

function forward(x: Float32Array, s: PoolShape) {
  const z = poolSizes(s);
  const out = new Float32Array(z.output).fill(NaN),
    argmax = new Int32Array(z.output).fill(-7);
  native.maxPool2dForward(out, argmax, x, ...poolArgs(s));
  return { out, argmax };
}

describeEachIsa(() => {
  describe.each(cases)('maxpool2d: %s', (_name, s) => {
    const z = poolSizes(s);
    const rng = new Rng(z.input * 131 + z.output);

    test(`shape ${JSON.stringify(s)} gives output ${z.oh}x${z.ow}`, () => {
      expect(z.oh).toBeGreaterThanOrEqual(1);
      expect(z.ow).toBeGreaterThanOrEqual(1);
    });

    test.each([
      ['continuous values', () => rng.f32(z.input)],
      ['values in {-1, 0, 1} (many ties: first maximum wins)', () => Float32Array.from(rng.i32(z.input, -1, 1))],
      ['all equal', () => new Float32Array(z.input).fill(-3)],
      ['values in {-1, 0, 1, NaN}', () => Float32Array.from({ length: z.input }, () => rng.pick([-1, 0, 1, NaN]))],
    ])('forward on %s: exact max and argmax', (_what, make) => {
      const x = make();
      const keep = x.slice();
      const got = forward(x, s),
        ref = maxPool2dForward(x, s);
      expectClose(got.out, ref.out, 0, 0, 'out');
      expect(Array.from(got.argmax)).toEqual(Array.from(ref.argmax));
      expect(x).toEqual(keep);
    });

    test('backward routes dout to argmax and accumulates into a pre-filled dinput', () => {
      const x = Float32Array.from(rng.i32(z.input, -2, 2));
      const { argmax } = forward(x, s);
      const dout = rng.f32(z.output),
        dx = rng.f32(z.input),
        before = dx.slice();
      native.maxPool2dBackward(dx, dout, argmax, ...poolArgs(s));
      expectClose(dx, plus(before, maxPool2dBackward(dout, argmax, s)), 1e-6, 1e-6, 'dinput');
    });

    test('backward with overwriteDinput replaces dinput: as accumulating into zeros, bit for bit', () => {
      const x = Float32Array.from(rng.i32(z.input, -2, 2));
      const { argmax } = forward(x, s);
      const dout = rng.f32(z.output),
        want = new Float32Array(z.input),
        got = new Float32Array(z.input).fill(NaN);
      const [n, c, h, w, kh, kw, sh, sw, ph, pw, ceil, dh = 1, dw = 1] = poolArgs(s);
      native.maxPool2dBackward(want, dout, argmax, n, c, h, w, kh, kw, sh, sw, ph, pw, ceil, dh, dw);
      native.maxPool2dBackward(got, dout, argmax, n, c, h, w, kh, kw, sh, sw, ph, pw, ceil, dh, dw, 1);
      expect(Array.from(got)).toEqual(Array.from(want));
    });

    test('backward with reluOutput equals the backward then reluMask on that ReLU output, bit for bit', () => {
      // A ReLU's output with zeros, NaN and negative zeros among its values (the mask's edge cases).
      const x = Float32Array.from(rng.i32(z.input, -2, 3), (v) => (v === 2 ? NaN : v < 0 ? (v === -1 ? -0 : 0) : v));
      const { argmax } = forward(x, s);
      const dout = rng.f32(z.output),
        want = new Float32Array(z.input),
        got = new Float32Array(z.input).fill(7);
      const [n, c, h, w, kh, kw, sh, sw, ph, pw, ceil, dh = 1, dw = 1] = poolArgs(s);
      native.maxPool2dBackward(want, dout, argmax, n, c, h, w, kh, kw, sh, sw, ph, pw, ceil, dh, dw);
      native.reluMask(want, x);
      native.maxPool2dBackward(got, dout, argmax, n, c, h, w, kh, kw, sh, sw, ph, pw, ceil, dh, dw, 1, x);
      expect(Array.from(got)).toEqual(Array.from(want)); // toEqual tells -0 from 0 (Object.is)
    });
  });

  describe('maxpool2d special values', () => {
    const s3: PoolShape = { ...base, h: 4, w: 4, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1 };

    test('padding never wins: an all-negative input pools to its own values', () => {
      const got = forward(new Float32Array(16).fill(-5), s3);
      expect(Array.from(got.out)).toEqual(new Array(16).fill(-5));
      // First element of each (clipped) window, scanning rows then columns.
      expect(Array.from(got.argmax)).toEqual([0, 0, 1, 2, 0, 0, 1, 2, 4, 4, 5, 6, 8, 8, 9, 10]);
    });

    test('an all -Infinity input gives -Infinity and the first index of each window', () => {
      const x = new Float32Array(16).fill(-Infinity);
      const got = forward(x, s3),
        ref = maxPool2dForward(x, s3);
      expect(Array.from(got.out)).toEqual(new Array(16).fill(-Infinity));
      expect(Array.from(got.argmax)).toEqual(Array.from(ref.argmax));
    });

    test('Infinity beats every finite value', () => {
      const x = new Rng(4).f32(16, -1e30, 1e30);
      x[5] = Infinity;
      const got = forward(x, { ...base, h: 4, w: 4 });
      expect(got.out[0]).toBe(Infinity);
      expect(got.argmax[0]).toBe(5);
    });

    test.each([
      ['2x2/2 (the fast kernel)', { ...base, h: 4, w: 4 }],
      ['2x2/2, padding 1', { ...base, h: 4, w: 4, ph: 1, pw: 1 }],
      ['3x3/1', { ...base, h: 4, w: 4, kh: 3, kw: 3, sh: 1, sw: 1 }],
    ])('NaN propagates as in PyTorch (the last NaN of a window wins): %s', (_what, s) => {
      const x = Float32Array.from({ length: 16 }, (_, i) => i);
      for (const i of [0, 1, 6, 7, 13]) x[i] = NaN;
      const got = forward(x, s),
        ref = maxPool2dForward(x, s);
      expectClose(got.out, ref.out, 0, 0, 'out');
      expect(Array.from(got.argmax)).toEqual(Array.from(ref.argmax));
      if (s.ph === 0 && s.kh === 2) expect(Array.from(got.argmax)).toEqual([1, 7, 13, 15]);
    });

    test('values in {-1, 0, 1, NaN} (ties and NaN together) on a larger plane', () => {
      const s: PoolShape = { ...base, n: 2, c: 3, h: 9, w: 8, kh: 3, kw: 2, sh: 2, sw: 1, ph: 1, pw: 1, ceil: true };
      const rng = new Rng(21);
      const x = Float32Array.from({ length: 2 * 3 * 9 * 8 }, () => rng.pick([-1, 0, 1, NaN]));
      const got = forward(x, s),
        ref = maxPool2dForward(x, s);
      expectClose(got.out, ref.out, 0, 0, 'out');
      expect(Array.from(got.argmax)).toEqual(Array.from(ref.argmax));
    });

    test('dilation takes every dh-th row and dw-th column of the window', () => {
      const s: PoolShape = { ...base, h: 1, w: 5, kh: 1, kw: 2, sh: 1, sw: 1, dh: 1, dw: 3 };
      const got = forward(new Float32Array([5, 1, 2, 3, 4]), s);
      expect(Array.from(got.out)).toEqual([5, 4]); // windows {0, 3} and {1, 4}
      expect(Array.from(got.argmax)).toEqual([0, 4]);
    });

    test('backward accumulates several outputs that share one argmax', () => {
      const s: PoolShape = { ...base, h: 3, w: 3, kh: 2, kw: 2, sh: 1, sw: 1 };
      const x = new Float32Array([0, 0, 0, 0, 9, 0, 0, 0, 0]);
      const { argmax } = forward(x, s);
      expect(Array.from(argmax)).toEqual([4, 4, 4, 4]);
      const dx = new Float32Array(9).fill(0.5);
      native.maxPool2dBackward(dx, new Float32Array([1, 2, 3, 4]), argmax, ...poolArgs(s));
      expect(Array.from(dx)).toEqual([0.5, 0.5, 0.5, 0.5, 10.5, 0.5, 0.5, 0.5, 0.5]);
    });

    test('backward uses the argmax given, not the input (any in-plane index is accepted)', () => {
      const s: PoolShape = { ...base, n: 2, c: 1, h: 2, w: 3, kh: 1, kw: 1, sh: 1, sw: 1 };
      const argmax = new Int32Array([5, 5, 5, 0, 0, 0, 1, 2, 3, 4, 5, 0]);
      const dout = Float32Array.from({ length: 12 }, (_, i) => i + 1);
      const dx = new Float32Array(12);
      native.maxPool2dBackward(dx, dout, argmax, ...poolArgs(s));
      expect(Array.from(dx)).toEqual([15, 0, 0, 0, 0, 6, 12, 7, 8, 9, 10, 11]);
    });
  });
});

describe('maxpool2d output size', () => {
  // PyTorch (aten/src/ATen/native/Pool.h, pooling_output_shape_pad_lr) keeps a ceil-mode window that starts
  // inside the input even when the kernel is larger than the input: max_pool2d(1x1, k=2, s=2, ceil) is 1x1.
  test('ceil mode: a kernel larger than the input but starting inside it gives one output, as in PyTorch', () => {
    const s: PoolShape = { ...base, h: 1, w: 3, kh: 2, kw: 2, sh: 2, sw: 2, ceil: true };
    expect(poolSizes(s)).toMatchObject({ oh: 1, ow: 2 });
    const got = forward(new Float32Array([4, 7, 5]), s);
    expect(Array.from(got.out)).toEqual([7, 5]);
    expect(Array.from(got.argmax)).toEqual([1, 2]);
  });

  // Pool.h pooling_output_shape: (in + 2 pad - dilation (kernel - 1) - 1) / stride + 1.
  test.each<[Partial<PoolShape>, number, number]>([
    [{ h: 9, w: 11, kh: 3, kw: 3, sh: 1, sw: 1, dh: 2, dw: 3 }, 5, 5],
    [{ h: 10, w: 11, kh: 3, kw: 3, ph: 1, pw: 1, dh: 2, dw: 3, ceil: false }, 4, 4],
    [{ h: 10, w: 11, kh: 3, kw: 3, ph: 1, pw: 1, dh: 2, dw: 3, ceil: true }, 5, 4],
  ])('dilation %j gives %ix%i', (p, oh, ow) => {
    const s: PoolShape = { ...base, ...p };
    expect(poolSizes(s)).toMatchObject({ oh, ow });
    expect(forward(new Float32Array(poolSizes(s).input), s).argmax.every((i) => i >= 0)).toBe(true); // the binding agrees on the size
  });

  test('15 arguments: dilationW defaults to 1', () => {
    const s: PoolShape = { ...base, h: 5, w: 5, kh: 2, kw: 2, sh: 1, sw: 1 };
    const x = new Rng(5).f32(25),
      ref = maxPool2dForward(x, { ...s, dh: 2, dw: 1 });
    const out = new Float32Array(ref.out.length),
      argmax = new Int32Array(ref.out.length);
    (native.maxPool2dForward as (...args: unknown[]) => void)(out, argmax, x, ...poolArgs(s), 2);
    expectClose(out, ref.out, 0, 0, 'out');
    expect(Array.from(argmax)).toEqual(Array.from(ref.argmax));
  });
});

describe('maxpool2d results do not depend on the thread count', () => {
  afterAll(restore);
  test.each(ISAS)('isa %s', (isa) => {
    setIsa(isa);
    for (const s of [
      { ...base, n: 32, c: 16, h: 32, w: 32 },
      { ...base, n: 9, c: 32, h: 31, w: 33, kh: 3, kw: 3, ph: 1, pw: 1, ceil: true },
      { ...base, n: 9, c: 32, h: 31, w: 33, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 2, dw: 3, ceil: true },
    ]) {
      const x = new Rng(23).f32(poolSizes(s).input),
        ref = maxPool2dForward(x, s);
      const dout = new Rng(24).f32(poolSizes(s).output),
        dref = maxPool2dBackward(dout, ref.argmax, s);
      for (const threads of [1, 2, 3, 8]) {
        setThreads(threads);
        const got = forward(x, s),
          dx = new Float32Array(x.length);
        native.maxPool2dBackward(dx, dout, got.argmax, ...poolArgs(s));
        expectClose(got.out, ref.out, 0, 0, `out (${threads} threads)`);
        expect(Array.from(got.argmax)).toEqual(Array.from(ref.argmax));
        expectClose(dx, dref, 1e-6, 1e-6, `dinput (${threads} threads)`);
      }
    }
  });
});
