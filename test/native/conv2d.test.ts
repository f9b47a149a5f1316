// SPDX-License-Identifier: MIT
// conv2dForward / conv2dBackward against the float64 loops of reference.ts on awkward shapes, for every ISA (no error paths).
import { native } from '../../lib/native';
import { ISAS, addon, describeEachIsa, restore, setIsa, setThreads } from './isa';
import {
  ConvShape,
  Rng,
  conv2dBackward,
  conv2dForward,
  convArgs,
  convSizes,
  conv2dForwardAbs,
  dot,
  expectClose,
  numericGrad,
  plus,
} from './reference';

const base: ConvShape = {
  n: 1,
  c: 1,
  h: 5,
  w: 5,
  oc: 1,
  kh: 3,
  kw: 3,
  sh: 1,
  sw: 1,
  ph: 0,
  pw: 0,
  dh: 1,
  dw: 1,
  groups: 1,
};

const named: Array<[string, Partial<ConvShape>]> = [
  ['1x1 kernel', { n: 2, c: 3, oc: 4, kh: 1, kw: 1 }],
  ['1x1 kernel, stride 2, odd input', { c: 5, oc: 3, h: 7, w: 9, kh: 1, kw: 1, sh: 2, sw: 2 }],
  ['batch 1, odd 7x9 input', { c: 3, oc: 5, h: 7, w: 9 }],
  ['stride 2, padding 1', { n: 2, c: 4, oc: 6, h: 9, w: 8, sh: 2, sw: 2, ph: 1, pw: 1 }],
  ['padding 2x1, kernel 5x3', { c: 2, oc: 3, h: 6, w: 7, kh: 5, kw: 3, ph: 2, pw: 1 }],
  ['padding larger than the kernel', { c: 2, oc: 2, h: 3, w: 4, kh: 2, kw: 2, ph: 3, pw: 3 }],
  ['kernel == input size', { n: 3, c: 2, oc: 3, kh: 5, kw: 5 }],
  ['kernel == padded input size', { c: 2, oc: 2, h: 3, w: 3, kh: 5, kw: 5, ph: 1, pw: 1 }],
  ['stride larger than the kernel', { c: 2, oc: 3, h: 10, w: 11, kh: 2, kw: 2, sh: 3, sw: 4 }],
  ['stride 2x1', { c: 3, oc: 2, h: 8, w: 8, sh: 2, sw: 1, ph: 1 }],
  ['dilation 2', { c: 2, oc: 3, h: 9, w: 10, dh: 2, dw: 2 }],
  ['dilation 2, padding 2, stride 2', { n: 2, c: 3, oc: 4, h: 9, w: 8, dh: 2, dw: 2, ph: 2, pw: 2, sh: 2, sw: 2 }],
  ['dilation 3x1, kernel 2x4', { c: 2, oc: 2, h: 8, w: 6, kh: 2, kw: 4, dh: 3, dw: 1 }],
  ['groups 2', { n: 2, c: 4, oc: 6, h: 6, w: 7, groups: 2 }],
  [
    'groups 2 with stride, padding and dilation',
    { n: 2, c: 6, oc: 4, h: 9, w: 9, groups: 2, sh: 2, sw: 2, ph: 1, pw: 2, dh: 2, dw: 1 },
  ],
  ['depthwise 7', { n: 2, c: 7, oc: 7, h: 6, w: 6, groups: 7, ph: 1, pw: 1 }],
  ['depthwise multiplier 2', { c: 3, oc: 6, h: 5, w: 6, groups: 3 }],
  ['width 1', { c: 2, oc: 3, h: 8, w: 1, kh: 3, kw: 1 }],
  ['width 1 with padding', { c: 2, oc: 3, h: 4, w: 1, kh: 3, kw: 3, ph: 1, pw: 1 }],
  ['height 1 width 1', { c: 17, oc: 9, h: 1, w: 1, kh: 1, kw: 1 }],
  ['kernel 1x5', { c: 3, oc: 2, h: 4, w: 9, kh: 1, kw: 5 }],
  ['LeNet conv1 3x32x32 -> 6', { n: 2, c: 3, oc: 6, h: 32, w: 32, kh: 5, kw: 5 }],
  ['LeNet conv2 6x14x14 -> 16', { n: 2, c: 6, oc: 16, h: 14, w: 14, kh: 5, kw: 5 }],
  // Stride-1 shapes with wide rows take the direct (no im2col) kernels on SIMD ISAs.
  ['direct: 3x3 padding 1, 16 wide, 7 channels out', { n: 2, c: 2, oc: 7, h: 10, w: 16, ph: 1, pw: 1 }],
  ['direct: 70 wide (two row chunks), 13 channels out', { n: 1, c: 3, oc: 13, h: 5, w: 72 }],
  ['direct: kernel 7x7 padding 3, 33 wide', { n: 2, c: 1, oc: 6, h: 9, w: 33, kh: 7, kw: 7, ph: 3, pw: 3 }],
  ['direct: padding above kernel-1 (GEMM backward)', { n: 5, c: 2, oc: 3, h: 6, w: 20, kh: 2, kw: 2, ph: 2, pw: 2 }],
  // No padding: every image but the last is read in place, its rows' vectors running past each row's end.
  ['direct: no padding, 3 images read in place', { n: 3, c: 2, oc: 5, h: 7, w: 20, kh: 3, kw: 3 }],
  // 28-px output rows: whole-vector blocks of 4 rows on AVX-512, then the rows after them; read in place (32 wide)
  // and from the padded copy (36 wide).
  ['direct: 28-px rows in blocks, 9 rows, 7 channels out', { n: 2, c: 2, oc: 7, h: 13, w: 32, kh: 5, kw: 5 }],
  ['direct: 28-px rows in blocks, padding 2', { n: 2, c: 2, oc: 5, h: 9, w: 28, kh: 5, kw: 5, ph: 2, pw: 2 }],
  ['direct: 9 images (partial sums of 4)', { n: 9, c: 2, oc: 4, h: 4, w: 24, kh: 3, kw: 5, ph: 1, pw: 2 }],
  // Many output channels on narrow rows take the channel-vectorised kernels (any stride/dilation).
  ['channels: 16 out, 10-wide rows', { n: 3, c: 6, oc: 16, h: 14, w: 14, kh: 5, kw: 5 }],
  [
    'channels: 29 out (partial vector), stride 2, padding 1',
    { n: 5, c: 3, oc: 29, h: 9, w: 8, sh: 2, sw: 2, ph: 1, pw: 1 },
  ],
  ['channels: 40 out, dilation 2, 1 image', { n: 1, c: 2, oc: 40, h: 9, w: 7, dh: 2, dw: 2, ph: 2, pw: 1 }],
  ['channels: 13 out (below the threshold on AVX-512)', { n: 2, c: 4, oc: 13, h: 6, w: 6 }],
  // ResNet-style 3x3 padding-1 convs: the register-blocked channel tiles (two channel vectors x up to 12
  // pixels of a row) at stride 1 and 2, forward and, with many input channels, the input gradient.
  ['blocked: ResNet 32 -> 32, 6x6', { n: 2, c: 32, oc: 32, h: 6, w: 6, ph: 1, pw: 1 }],
  ['blocked: 16 -> 33 stride 2, odd 9x11', { n: 2, c: 16, oc: 33, h: 9, w: 11, sh: 2, sw: 2, ph: 1, pw: 1 }],
  ['blocked: 35 -> 20, 29 wide rows', { n: 1, c: 35, oc: 20, h: 3, w: 29, ph: 1, pw: 1 }],
  ['blocked: 1x1 image, 40 -> 48', { n: 3, c: 40, oc: 48, h: 1, w: 1, ph: 1, pw: 1 }],
  ['blocked: 1x1 image stride 2, 24 -> 65', { n: 1, c: 24, oc: 65, h: 1, w: 1, sh: 2, sw: 2, ph: 1, pw: 1 }],
  // Strided input gradients with many input channels: one stride-1 conv per stride phase (conv2d_channel_op.cc).
  ['phase dinput: 33 -> 8, 2x2 stride 2, 7x10', { n: 2, c: 33, oc: 8, h: 7, w: 10, kh: 2, kw: 2, sh: 2, sw: 2 }],
  ['phase dinput: 32 -> 5, stride 3, padding 2', { n: 1, c: 32, oc: 5, h: 10, w: 8, sh: 3, sw: 3, ph: 2, pw: 2 }],
  // 3x3 padding-1 convs with 32+ channels on 8/16/32-px rows: Winograd F(2x2, 3x3) forward and input gradient (its
  // conv has the input channels as outputs: on AVX-512, 33 out takes it for the input gradient only).
  ['winograd: ResNet 32 -> 32, 16x16', { n: 2, c: 32, oc: 32, h: 16, w: 16, ph: 1, pw: 1 }],
  ['winograd dinput: 64 -> 33, 8x8', { n: 1, c: 64, oc: 33, h: 8, w: 8, ph: 1, pw: 1 }],
  // The Winograd weight gradient sums blocks of images in order: four blocks of 5 here, the last one short.
  ['winograd dweight: 32 -> 40, 8x8, 18 images', { n: 18, c: 32, oc: 40, h: 8, w: 8, ph: 1, pw: 1 }],
  // F(4x4) on 8-px planes takes stacks of 4 images (AVX-512 from 8 images): a short last stack of 1 and 3 (batch 127
  // in native/tests: its weight gradient sums 8,128 products, beyond the fixed 1e-4 here).
  ['winograd stacks: 16 -> 24, 8x8, 13 images', { n: 13, c: 16, oc: 24, h: 8, w: 8, ph: 1, pw: 1 }],
  ['winograd stacks: 16 -> 16, 8x8, 23 images', { n: 23, c: 16, oc: 16, h: 8, w: 8, ph: 1, pw: 1 }],
];
for (const [c, oc] of [
  [1, 1],
  [2, 13],
  [7, 8],
  [8, 8],
  [9, 16],
  [16, 9],
  [17, 7],
  [13, 17],
]) {
  named.push([`channels ${c} -> ${oc}`, { n: 2, c, oc, h: 6, w: 7 }]);
}

function randomShape(rng: Rng): ConvShape {
  const groups = rng.pick([1, 1, 1, 2, 3]);
  const s: ConvShape = {
    n: rng.int(1, 3),
    c: groups * rng.int(1, 4),
    oc: groups * rng.int(1, 4),
    h: 1,
    w: 1,
    kh: rng.int(1, 5),
    kw: rng.int(1, 5),
    sh: rng.int(1, 3),
    sw: rng.int(1, 3),
    ph: rng.int(0, 2),
    pw: rng.int(0, 2),
    dh: rng.int(1, 2),
    dw: rng.int(1, 2),
    groups,
  };
  // The smallest input the dilated kernel fits (with padding), plus 0..8.
  s.h = Math.max(1, s.dh * (s.kh - 1) + 1 - 2 * s.ph) + rng.int(0, 8);
  s.w = Math.max(1, s.dw * (s.kw - 1) + 1 - 2 * s.pw) + rng.int(0, 8);
  return s;
}

const shapeRng = new Rng(20240611);
const cases: Array<[string, ConvShape]> = [
  ...named.map(([name, p]): [string, ConvShape] => [name, { ...base, ...p }]),
  ...Array.from({ length: 40 }, (_, i): [string, ConvShape] => [`random #${i}`, randomShape(shapeRng)]),
];

const FWD_ATOL = 1e-5,
  FWD_RTOL = 1e-5,
  GRAD_ATOL = 1e-4,
  GRAD_RTOL = 1e-4;
/**
 * A forward output may also be off by 32 float epsilons of its sum of |x w|: Winograd F(4x4, 3x3) rounds to about 11
 * of them (its transforms' constants 5 and 8; docs/conv-kernels.md, session 18), F(2x2) and the direct kernels to
 * about 1. A plain sum of K products is only bounded by K epsilons of it (K = 144-576 here).
 */
const FWD_SUM_EPS = 32 * 2 ** -23;

/** Checks a forward output against the float64 loop, within FWD_ATOL, FWD_RTOL and FWD_SUM_EPS. */
function expectForward(
  out: Float32Array,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | null,
  s: ConvShape,
  label: string,
  relu = false,
) {
  const ref = conv2dForward(x, w, b, s);
  const bound = conv2dForwardAbs(x, w, b, s).map((v) => v * FWD_SUM_EPS);
  expectClose(out, relu ? ref.map((v) => Math.max(v, 0)) : ref, FWD_ATOL, FWD_RTOL, label, bound);
}

describeEachIsa(() => {
  describe.each(cases)('conv2d: %s', (_name, s) => {
    const z = convSizes(s);
    const rng = new Rng(z.input * 7919 + z.weight * 31 + z.output);
    const x = rng.f32(z.input),
      w = rng.f32(z.weight),
      b = rng.f32(s.oc),
      dout = rng.f32(z.output);
    const copies = [x, w, b, dout].map((a) => a.slice());
    const expectInputsUntouched = () => [x, w, b, dout].forEach((a, i) => expect(a).toEqual(copies[i]));

    test(`shape ${JSON.stringify(s)} gives output ${z.oh}x${z.ow}`, () => {
      expect(z.oh).toBeGreaterThanOrEqual(1);
      expect(z.ow).toBeGreaterThanOrEqual(1);
    });

    test('forward, with bias and with null bias, overwrites out', () => {
      for (const bias of [b, null]) {
        const out = new Float32Array(z.output).fill(NaN);
        native.conv2dForward(out, x, w, bias, ...convArgs(s));
        expectForward(out, x, w, bias, s, bias ? 'out' : 'out (no bias)');
      }
      expectInputsUntouched();
    });

    test('backward accumulates (+=) into pre-filled dinput, dweight and dbias', () => {
      const ref = conv2dBackward(dout, x, w, s);
      const dx = rng.f32(z.input),
        dw = rng.f32(z.weight),
        db = rng.f32(s.oc);
      const before = [dx.slice(), dw.slice(), db.slice()];
      native.conv2dBackward(dx, dw, db, dout, x, w, ...convArgs(s));
      expectClose(dx, plus(before[0], ref.dx), GRAD_ATOL, GRAD_RTOL, 'dinput');
      expectClose(dw, plus(before[1], ref.dw), GRAD_ATOL, GRAD_RTOL, 'dweight');
      expectClose(db, plus(before[2], ref.db), GRAD_ATOL, GRAD_RTOL, 'dbias');
      expectInputsUntouched();
    });

    test('backward with null for every combination of gradients', () => {
      const ref = conv2dBackward(dout, x, w, s);
      for (let mask = 0; mask < 8; mask++) {
        const dx = mask & 1 ? new Float32Array(z.input) : null;
        const dw = mask & 2 ? new Float32Array(z.weight) : null;
        const db = mask & 4 ? new Float32Array(s.oc) : null;
        native.conv2dBackward(dx, dw, db, dout, x, w, ...convArgs(s));
        if (dx) expectClose(dx, ref.dx, GRAD_ATOL, GRAD_RTOL, `dinput (mask ${mask})`);
        if (dw) expectClose(dw, ref.dw, GRAD_ATOL, GRAD_RTOL, `dweight (mask ${mask})`);
        if (db) expectClose(db, ref.db, GRAD_ATOL, GRAD_RTOL, `dbias (mask ${mask})`);
      }
    });
  });

  describe('conv2d special cases', () => {
    test('fuseRelu = 1 gives relu(conv) and fuseRelu = 0 plain conv', () => {
      const s: ConvShape = { ...base, n: 3, c: 4, oc: 6, h: 7, w: 6, ph: 1, pw: 1, groups: 2 };
      const z = convSizes(s);
      const rng = new Rng(11);
      const x = rng.f32(z.input),
        w = rng.f32(z.weight),
        b = rng.f32(s.oc);
      for (const fuse of [0, 1]) {
        const out = new Float32Array(z.output).fill(NaN);
        addon.conv2dForward(out, x, w, b, ...convArgs(s), fuse);
        expectForward(out, x, w, b, s, `out (fuseRelu ${fuse})`, fuse === 1);
      }
    });

    test('a 1x1 identity kernel copies the input and a zero kernel gives the bias', () => {
      const s: ConvShape = { ...base, n: 2, c: 3, oc: 3, h: 4, w: 5, kh: 1, kw: 1 };
      const x = new Rng(3).f32(2 * 3 * 4 * 5);
      const eye = Float32Array.from({ length: 9 }, (_, i) => (i % 4 === 0 ? 1 : 0));
      const out = new Float32Array(x.length);
      native.conv2dForward(out, x, eye, null, ...convArgs(s));
      expect(out).toEqual(x);
      native.conv2dForward(out, x, new Float32Array(9), new Float32Array([1, -2, 3]), ...convArgs(s));
      expect(Array.from(out.subarray(0, 20)).every((v) => v === 1)).toBe(true);
      expect(Array.from(out.subarray(20, 40)).every((v) => v === -2)).toBe(true);
    });

    test('backward with all three gradients null is a no-op', () => {
      const s: ConvShape = { ...base, c: 2, oc: 2 };
      const z = convSizes(s);
      const rng = new Rng(5);
      expect(() =>
        native.conv2dBackward(null, null, null, rng.f32(z.output), rng.f32(z.input), rng.f32(z.weight), ...convArgs(s)),
      ).not.toThrow();
    });

    test('NaN and Infinity in the input propagate to the outputs they touch only', () => {
      const s: ConvShape = { ...base, h: 4, w: 4, kh: 2, kw: 2, sh: 2, sw: 2 };
      const x = new Float32Array(16).fill(1);
      x[0] = NaN;
      x[15] = Infinity;
      const out = new Float32Array(4);
      native.conv2dForward(out, x, new Float32Array([1, 1, 1, 1]), null, ...convArgs(s));
      expect(Array.from(out)).toEqual([NaN, 4, 4, Infinity]);
    });
  });
});

test('the reference backward matches finite differences of the reference forward', () => {
  const s: ConvShape = {
    n: 2,
    c: 4,
    h: 5,
    w: 6,
    oc: 2,
    kh: 3,
    kw: 2,
    sh: 2,
    sw: 1,
    ph: 1,
    pw: 1,
    dh: 1,
    dw: 2,
    groups: 2,
  };
  const z = convSizes(s);
  const rng = new Rng(7);
  const x = Float64Array.from(rng.f32(z.input)),
    w = Float64Array.from(rng.f32(z.weight));
  const b = Float64Array.from(rng.f32(s.oc)),
    dout = Float64Array.from(rng.f32(z.output));
  const ref = conv2dBackward(dout, x, w, s);
  expectClose(
    ref.dx,
    numericGrad((v) => dot(conv2dForward(v, w, b, s), dout), x),
    1e-8,
    1e-6,
    'dx',
  );
  expectClose(
    ref.dw,
    numericGrad((v) => dot(conv2dForward(x, v, b, s), dout), w),
    1e-8,
    1e-6,
    'dw',
  );
  expectClose(
    ref.db,
    numericGrad((v) => dot(conv2dForward(x, w, v, s), dout), b),
    1e-8,
    1e-6,
    'db',
  );
});

describe('conv2d results do not depend on the thread count', () => {
  afterAll(restore);
  const shapes: ConvShape[] = [
    { ...base, n: 5, c: 6, oc: 8, h: 12, w: 11, ph: 1, pw: 1 },
    { ...base, n: 19, c: 3, oc: 4, h: 9, w: 9, kh: 1, kw: 1 },
    { ...base, n: 7, c: 4, oc: 4, h: 8, w: 8, groups: 4, sh: 2, sw: 2, dh: 2, dw: 2, ph: 2, pw: 2 },
    { ...base, n: 9, c: 33, oc: 34, h: 5, w: 6, ph: 1, pw: 1 },
    { ...base, n: 6, c: 17, oc: 40, h: 7, w: 7, sh: 2, sw: 2, ph: 1, pw: 1 },
    // Fewer images than threads, work enough to cut each image's output channels into parts
    // (direct 3x3, channel-vectorised stride 2 and dilation 2, GEMM with groups).
    { ...base, n: 1, c: 16, oc: 32, h: 16, w: 16, ph: 1, pw: 1 },
    { ...base, n: 2, c: 16, oc: 40, h: 16, w: 16, ph: 1, pw: 1 },
    { ...base, n: 1, c: 32, oc: 32, h: 16, w: 16, sh: 2, sw: 2, ph: 1, pw: 1 },
    { ...base, n: 1, c: 16, oc: 48, h: 12, w: 12, dh: 2, dw: 2, ph: 2, pw: 2 },
    { ...base, n: 1, c: 16, oc: 40, h: 12, w: 12, groups: 2, ph: 1, pw: 1 },
    { ...base, n: 2, c: 32, oc: 24, h: 7, w: 9, kh: 1, kw: 1 },
    // Winograd F(4x4) in stacks of 8-px images: 4 per stack on 1 and 2 threads, 3 on 3, 2 on 8.
    { ...base, n: 9, c: 32, oc: 40, h: 8, w: 8, ph: 1, pw: 1 },
  ];
  test.each(ISAS.flatMap((isa) => shapes.map((s, i): [string, number, ConvShape] => [isa, i, s])))(
    'isa %s, shape #%i',
    (isa, _i, s) => {
      setIsa(isa);
      const z = convSizes(s);
      const rng = new Rng(13);
      const x = rng.f32(z.input),
        w = rng.f32(z.weight),
        b = rng.f32(s.oc),
        dout = rng.f32(z.output);
      const run = (threads: number) => {
        setThreads(threads);
        const out = new Float32Array(z.output),
          dx = new Float32Array(z.input),
          dw = new Float32Array(z.weight),
          db = new Float32Array(s.oc);
        const relu = new Float32Array(z.output);
        native.conv2dForward(out, x, w, b, ...convArgs(s));
        addon.conv2dForward(relu, x, w, b, ...convArgs(s), 1);
        native.conv2dBackward(dx, dw, db, dout, x, w, ...convArgs(s));
        return [out, dx, dw, db, relu].map((a) => Array.from(a));
      };
      const one = run(1);
      const ref = conv2dBackward(dout, x, w, s);
      expectForward(Float32Array.from(one[0]), x, w, b, s, 'out');
      [ref.dx, ref.dw, ref.db].forEach((r, k) => expectClose(one[k + 1], r, GRAD_ATOL, GRAD_RTOL, `gradient ${k}`));
      expect(one[4]).toEqual(one[0].map((v) => Math.max(v, 0)));
      for (const threads of [2, 3, 8]) expect(run(threads)).toEqual(one);
    },
  );
});
