// SPDX-License-Identifier: MIT
// windowMeanForward / windowMeanBackward (AvgPool2d, AdaptiveAvgPool2d) against the former TypeScript loops, bit for bit:
// pooling, adaptive and arbitrary windows, 1 and 2 threads; and the value checks the generic binding tests cannot reach.
import { native } from '../../lib/native';
import { windowMeanBackward as libBackward, windowMeanForward as libForward } from '../../lib/modules/avg-pool2d';
import { expectSameBits } from '../helpers';
import { expectError } from './binding-specs';
import { restore, setThreads } from './isa';
import { MeanWindows, Rng, poolOutSize, windowMeanBackward, windowMeanForward } from './reference';

interface Case {
  planes: number;
  h: number;
  w: number;
  m: MeanWindows;
}

/** AvgPool2d's windows (as lib/modules/avg-pool2d.ts builds them) for one axis. */
function poolAxis(size: number, k: number, s: number, p: number, ceil: boolean) {
  const n = poolOutSize(size, k, s, p, ceil);
  const start = new Int32Array(n),
    end = new Int32Array(n),
    padded = new Int32Array(n);
  for (let o = 0; o < n; o++) {
    const a = o * s - p,
      b = Math.min(a + k, size + p);
    [padded[o], start[o], end[o]] = [b - a, Math.max(a, 0), Math.min(b, size)];
  }
  return { start, end, padded };
}

function poolCase(rng: Rng): Case {
  const kh = rng.int(1, 4),
    kw = rng.int(1, 4),
    ph = rng.int(0, kh >> 1),
    pw = rng.int(0, kw >> 1),
    ceil = rng.next() < 0.5;
  const h = Math.max(1, kh - 2 * ph) + rng.int(0, 9),
    w = Math.max(1, kw - 2 * pw) + rng.int(0, 9);
  const rows = poolAxis(h, kh, rng.int(1, 3), ph, ceil),
    cols = poolAxis(w, kw, rng.int(1, 3), pw, ceil);
  const include = rng.next() < 0.5,
    override = rng.next() < 0.3 ? rng.pick([1, 3, -2, 7]) : undefined;
  const divisor = new Float64Array(rows.start.length * cols.start.length);
  for (let y = 0; y < rows.start.length; y++) {
    for (let x = 0; x < cols.start.length; x++) {
      divisor[y * cols.start.length + x] =
        override ??
        (include ? rows.padded[y] * cols.padded[x] : (rows.end[y] - rows.start[y]) * (cols.end[x] - cols.start[x]));
    }
  }
  return {
    planes: rng.int(1, 6),
    h,
    w,
    m: { rowStart: rows.start, rowEnd: rows.end, colStart: cols.start, colEnd: cols.end, divisor },
  };
}

/** AdaptiveAvgPool2d's windows: overlapping when out does not divide in, repeated pixels when out > in. */
function adaptiveCase(rng: Rng): Case {
  const h = rng.int(1, 12),
    w = rng.int(1, 12),
    oh = rng.int(1, 14),
    ow = rng.int(1, 14);
  const axis = (size: number, n: number) => [
    Int32Array.from({ length: n }, (_, i) => Math.floor((i * size) / n)),
    Int32Array.from({ length: n }, (_, i) => Math.ceil(((i + 1) * size) / n)),
  ];
  const [rowStart, rowEnd] = axis(h, oh),
    [colStart, colEnd] = axis(w, ow);
  const divisor = Float64Array.from({ length: oh * ow }, (_, i) => {
    const y = Math.floor(i / ow),
      x = i % ow;
    return (rowEnd[y] - rowStart[y]) * (colEnd[x] - colStart[x]);
  });
  return { planes: rng.int(1, 5), h, w, m: { rowStart, rowEnd, colStart, colEnd, divisor } };
}

/** Any windows: empty ones (whose divisor is 0 or anything), fractional and negative divisors. */
function arbitraryCase(rng: Rng): Case {
  const h = rng.int(1, 10),
    w = rng.int(1, 10),
    oh = rng.int(1, 8),
    ow = rng.int(1, 8);
  const axis = (size: number, n: number) => {
    const start = new Int32Array(n),
      end = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      start[i] = rng.int(0, size);
      end[i] = rng.next() < 0.2 ? start[i] : rng.int(start[i], size);
    }
    return [start, end];
  };
  const [rowStart, rowEnd] = axis(h, oh),
    [colStart, colEnd] = axis(w, ow);
  const divisor = Float64Array.from({ length: oh * ow }, (_, i) => {
    const empty = rowStart[Math.floor(i / ow)] === rowEnd[Math.floor(i / ow)] || colStart[i % ow] === colEnd[i % ow];
    return empty && rng.next() < 0.5 ? 0 : rng.pick([1, 3, 9, -2, 0.3, 1e-3, 7.25, 1e30]);
  });
  return { planes: rng.int(1, 5), h, w, m: { rowStart, rowEnd, colStart, colEnd, divisor } };
}

const call = (fn: typeof native.windowMeanForward, a: Float32Array, b: Float32Array, c: Case) =>
  fn(
    a,
    b,
    c.m.rowStart,
    c.m.rowEnd,
    c.m.colStart,
    c.m.colEnd,
    c.m.divisor,
    c.planes,
    c.h,
    c.w,
    c.m.rowStart.length,
    c.m.colStart.length,
  );

/** Native forward and backward (into a pre-filled dinput) vs the reference on one case. */
function check(c: Case, rng: Rng, label: string, fill?: (a: Float32Array) => void): void {
  const [inCount, outCount] = [c.planes * c.h * c.w, c.planes * c.m.rowStart.length * c.m.colStart.length];
  const input = rng.f32(inCount, -4, 4);
  fill?.(input);
  const out = new Float32Array(outCount).fill(NaN),
    ref = new Float32Array(outCount);
  call(native.windowMeanForward, out, input, c);
  windowMeanForward(ref, input, c.planes, c.h, c.w, c.m);
  expectSameBits(out, ref, `${label} forward`);
  const dout = rng.f32(outCount, -4, 4),
    dinput = rng.f32(inCount),
    dref = dinput.slice();
  call(native.windowMeanBackward, dinput, dout, c);
  windowMeanBackward(dref, dout, c.planes, c.h, c.w, c.m);
  expectSameBits(dinput, dref, `${label} backward`);
}

const makers: Array<[string, (r: Rng) => Case]> = [
  ['pooling', poolCase],
  ['adaptive', adaptiveCase],
  ['arbitrary', arbitraryCase],
];

describe.each([1, 2])('window mean with %i thread(s) equals the TypeScript loops bit for bit', (threads) => {
  beforeAll(() => setThreads(threads));
  afterAll(restore);

  test.each(makers)('100 random %s window sets', (kind, make) => {
    const rng = new Rng(kind.length * 31 + threads);
    for (let i = 0; i < 100; i++) check(make(rng), rng, `${kind} #${i}`);
  });

  test('[64, 16, 16, 16]: AvgPool2d(2), and 3x3/2 pad 1 ceil mode (enough work to split across threads)', () => {
    const rng = new Rng(5);
    const axis = (k: number, s: number, p: number, ceil: boolean) => poolAxis(16, k, s, p, ceil);
    for (const [k, s, p, ceil] of [
      [2, 2, 0, false],
      [3, 2, 1, true],
    ] as const) {
      const r = axis(k, s, p, ceil),
        n = r.start.length;
      const divisor = Float64Array.from({ length: n * n }, (_, i) => r.padded[Math.floor(i / n)] * r.padded[i % n]);
      check(
        {
          planes: 64 * 16,
          h: 16,
          w: 16,
          m: { rowStart: r.start, rowEnd: r.end, colStart: r.start, colEnd: r.end, divisor },
        },
        rng,
        `k${k}`,
      );
    }
  });

  test('NaN and infinities in the data propagate as in the loops', () => {
    const rng = new Rng(9);
    for (let i = 0; i < 30; i++) {
      check(adaptiveCase(rng), rng, `non-finite #${i}`, (a) =>
        a.forEach((_, j) => rng.next() < 0.1 && (a[j] = rng.pick([NaN, Infinity, -Infinity]))),
      );
    }
  });
});

test('lib windowMeanForward / windowMeanBackward (what the modules call) keep their signatures and results', () => {
  const rng = new Rng(3),
    c = poolCase(rng),
    rows = { start: c.m.rowStart, end: c.m.rowEnd },
    cols = { start: c.m.colStart, end: c.m.colEnd };
  const input = rng.f32(c.planes * c.h * c.w),
    out = new Float32Array(c.planes * rows.start.length * cols.start.length),
    ref = out.slice();
  libForward(out, input, c.planes, c.h, c.w, rows, cols, c.m.divisor);
  windowMeanForward(ref, input, c.planes, c.h, c.w, c.m);
  expectSameBits(out, ref, 'forward');
  const dinput = new Float32Array(input.length),
    dref = dinput.slice();
  libBackward(dinput, out, c.planes, c.h, c.w, rows, cols, c.m.divisor);
  windowMeanBackward(dref, out, c.planes, c.h, c.w, c.m);
  expectSameBits(dinput, dref, 'backward');
});

describe('window mean value checks', () => {
  // 2 planes of 4x5 -> 2x3; the last column window is empty.
  const base = () => ({
    a: new Float32Array(2 * 2 * 3),
    b: new Float32Array(2 * 4 * 5),
    rowStart: new Int32Array([0, 2]),
    rowEnd: new Int32Array([2, 4]),
    colStart: new Int32Array([0, 2, 5]),
    colEnd: new Int32Array([3, 5, 5]),
    divisor: new Float64Array([6, 6, 0, 4, 4, 0]),
  });
  type Args = ReturnType<typeof base>;
  const forward =
    (set: Partial<Args> = {}, sizes = [2, 4, 5, 2, 3]) =>
    () => {
      const x = { ...base(), ...set };
      native.windowMeanForward(
        x.a,
        x.b,
        x.rowStart,
        x.rowEnd,
        x.colStart,
        x.colEnd,
        x.divisor,
        ...(sizes as [number, number, number, number, number]),
      );
    };
  const backward =
    (set: Partial<Args> = {}) =>
    () => {
      const x = { ...base(), ...set };
      native.windowMeanBackward(x.b, x.a, x.rowStart, x.rowEnd, x.colStart, x.colEnd, x.divisor, 2, 4, 5, 2, 3);
    };

  test('a valid call, with 0 divisors on the empty windows, succeeds', () => {
    expect(forward()).not.toThrow();
    expect(backward()).not.toThrow();
  });

  test.each<[string, Partial<Args>, RegExp]>([
    [
      'a row index past h',
      { rowEnd: new Int32Array([2, 5]) },
      /^windowMeanForward: rowEnd\[1\] = 5 is outside \[0, h = 4\]$/,
    ],
    [
      'a negative start',
      { colStart: new Int32Array([0, -1, 5]) },
      /^windowMeanForward: colStart\[1\] = -1 is outside \[0, w = 5\]$/,
    ],
    [
      'end before start',
      { rowStart: new Int32Array([0, 3]), rowEnd: new Int32Array([2, 2]) },
      /^windowMeanForward: rowEnd\[1\] = 2 is less than rowStart\[1\] = 3$/,
    ],
    [
      'a 0 divisor on a non-empty window',
      { divisor: new Float64Array([6, 0, 0, 4, 4, 0]) },
      /^windowMeanForward: divisor\[1\] = 0 must be finite and non-zero \(its window is not empty\)$/,
    ],
    [
      'a NaN divisor',
      { divisor: new Float64Array([6, 6, 0, NaN, 4, 0]) },
      /^windowMeanForward: divisor\[3\] = NaN must be finite/,
    ],
    [
      'an infinite divisor',
      { divisor: new Float64Array([6, 6, 0, 4, -Infinity, 0]) },
      /^windowMeanForward: divisor\[4\] = -Infinity must be finite/,
    ],
    [
      'a divisor of the wrong length',
      { divisor: new Float64Array(5) },
      /^windowMeanForward: divisor length 5 != OH\*OW = 6$/,
    ],
  ])('%s is a RangeError naming the argument and index', (_name, set, re) => {
    expectError(forward(set), 'RangeError', re);
    expectError(backward(set), 'RangeError', new RegExp(re.source.replace('windowMeanForward', 'windowMeanBackward')));
  });

  test('the divisor must be a Float64Array', () => {
    for (const bad of [new Float32Array(6), [6, 6, 0, 4, 4, 0], null, 3]) {
      expectError(
        forward({ divisor: bad as never }),
        'TypeError',
        /^windowMeanForward: divisor must be a Float64Array, got /,
      );
    }
  });

  test('a divisor sharing memory with the output is a RangeError', () => {
    const x = base(),
      mem = new ArrayBuffer(2 * 4 * 5 * 4);
    const dinput = new Float32Array(mem),
      divisor = new Float64Array(mem, 8, 6);
    divisor.set(x.divisor);
    expectError(
      () => native.windowMeanBackward(dinput, x.a, x.rowStart, x.rowEnd, x.colStart, x.colEnd, divisor, 2, 4, 5, 2, 3),
      'RangeError',
      /^windowMeanBackward: dinput overlaps divisor in memory/,
    );
  });

  test('sizes that disagree with the windows or buffers are RangeErrors', () => {
    expectError(
      forward({}, [2, 4, 5, 3, 3]),
      'RangeError',
      /^windowMeanForward: out length 12 != planes\*OH\*OW = 18$/,
    );
    expectError(
      forward({}, [2, 4, 6, 2, 3]),
      'RangeError',
      /^windowMeanForward: input length 40 != planes\*H\*W = 48$/,
    );
    expectError(forward({}, [2, 2 ** 20, 2 ** 20, 2, 3]), 'RangeError', /^windowMeanForward: input is too large$/);
  });
});
