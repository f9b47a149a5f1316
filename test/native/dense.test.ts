// SPDX-License-Identifier: MIT
// linearForward / linearBackward against the float64 loops of reference.ts for every ISA and thread count (no error paths).
import { native } from '../../lib/native';
import { ISAS, describeEachIsa, restore, setIsa, setThreads } from './isa';
import { Rng, dot, expectClose, linearBackward, linearForward, numericGrad, plus } from './reference';

type Dims = [batch: number, nin: number, nout: number];
const named: Dims[] = [
  [1, 1, 1],
  [1, 7, 3],
  [2, 8, 9],
  [3, 9, 16],
  [4, 17, 17],
  [5, 16, 8],
  [7, 13, 1],
  [1, 1, 17],
  [9, 1, 2],
  [16, 7, 7],
  [3, 31, 33],
  [1, 64, 65],
  [64, 400, 120],
  [64, 84, 10],
  [2, 1000, 3],
];
const dimsRng = new Rng(42);
const cases: Dims[] = [
  ...named,
  ...Array.from({ length: 30 }, (): Dims => [dimsRng.int(1, 9), dimsRng.int(1, 40), dimsRng.int(1, 20)]),
];

// Float32 dot products over `nin` terms in [-1, 1]: the forward error grows about like sqrt(nin).
const fwdAtol = (nin: number) => 1e-5 * Math.max(1, Math.sqrt(nin) / 4);

describeEachIsa(() => {
  describe.each(cases)('linear: batch %i, in %i, out %i', (batch, nin, nout) => {
    const rng = new Rng(batch * 10007 + nin * 101 + nout);
    const x = rng.f32(batch * nin),
      w = rng.f32(nout * nin),
      b = rng.f32(nout),
      dout = rng.f32(batch * nout);
    const copies = [x, w, b, dout].map((a) => a.slice());

    test('forward, with bias and with null bias, overwrites out', () => {
      for (const bias of [b, null]) {
        const out = new Float32Array(batch * nout).fill(NaN);
        native.linearForward(out, x, w, bias, batch, nin, nout);
        expectClose(out, linearForward(x, w, bias, batch, nin, nout), fwdAtol(nin), 1e-5, 'out');
      }
      [x, w, b].forEach((a, i) => expect(a).toEqual(copies[i]));
    });

    test('backward accumulates (+=) into pre-filled dinput, dweight and dbias', () => {
      const ref = linearBackward(dout, x, w, batch, nin, nout);
      const dx = rng.f32(batch * nin),
        dw = rng.f32(nout * nin),
        db = rng.f32(nout);
      const before = [dx.slice(), dw.slice(), db.slice()];
      native.linearBackward(dx, dw, db, dout, x, w, batch, nin, nout);
      expectClose(dx, plus(before[0], ref.dx), 1e-4, 1e-4, 'dinput');
      expectClose(dw, plus(before[1], ref.dw), 1e-4, 1e-4, 'dweight');
      expectClose(db, plus(before[2], ref.db), 1e-4, 1e-4, 'dbias');
      [x, w, b, dout].forEach((a, i) => expect(a).toEqual(copies[i]));
    });

    test('backward with null for every combination of gradients', () => {
      const ref = linearBackward(dout, x, w, batch, nin, nout);
      for (let mask = 0; mask < 8; mask++) {
        const dx = mask & 1 ? new Float32Array(batch * nin) : null;
        const dw = mask & 2 ? new Float32Array(nout * nin) : null;
        const db = mask & 4 ? new Float32Array(nout) : null;
        native.linearBackward(dx, dw, db, dout, x, w, batch, nin, nout);
        if (dx) expectClose(dx, ref.dx, 1e-4, 1e-4, `dinput (mask ${mask})`);
        if (dw) expectClose(dw, ref.dw, 1e-4, 1e-4, `dweight (mask ${mask})`);
        if (db) expectClose(db, ref.db, 1e-4, 1e-4, `dbias (mask ${mask})`);
      }
    });
  });

  describe('linear special cases', () => {
    test('an identity weight copies the input and adds the bias exactly', () => {
      const x = new Float32Array([1.5, -2, 3, 0.25, 7, -8]);
      const out = new Float32Array(6);
      native.linearForward(out, x, new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]), new Float32Array([1, 2, 3]), 2, 3, 3);
      expect(Array.from(out)).toEqual([2.5, 0, 6, 1.25, 9, -5]);
    });

    test('a second backward call adds the same gradients again', () => {
      const rng = new Rng(9);
      const x = rng.f32(6),
        w = rng.f32(12),
        dout = rng.f32(8);
      const ref = linearBackward(dout, x, w, 2, 3, 4);
      const dx = new Float32Array(6),
        dw = new Float32Array(12),
        db = new Float32Array(4);
      native.linearBackward(dx, dw, db, dout, x, w, 2, 3, 4);
      native.linearBackward(dx, dw, db, dout, x, w, 2, 3, 4);
      expectClose(dx, plus(ref.dx, ref.dx), 1e-6, 1e-5, 'dinput');
      expectClose(dw, plus(ref.dw, ref.dw), 1e-6, 1e-5, 'dweight');
      expectClose(db, plus(ref.db, ref.db), 1e-6, 1e-5, 'dbias');
    });

    test('NaN in one input row poisons only that row of the output', () => {
      const x = new Float32Array([1, NaN, 1, 1]);
      const out = new Float32Array(4);
      native.linearForward(out, x, new Float32Array([1, 1, 2, 2]), null, 2, 2, 2);
      expect(Array.from(out)).toEqual([NaN, NaN, 2, 4]);
    });
  });
});

test('the reference backward matches finite differences of the reference forward', () => {
  const [batch, nin, nout] = [3, 5, 4];
  const rng = new Rng(8);
  const x = Float64Array.from(rng.f32(batch * nin)),
    w = Float64Array.from(rng.f32(nout * nin));
  const b = Float64Array.from(rng.f32(nout)),
    dout = Float64Array.from(rng.f32(batch * nout));
  const ref = linearBackward(dout, x, w, batch, nin, nout);
  const f = (xx: Float64Array, ww: Float64Array, bb: Float64Array) =>
    dot(linearForward(xx, ww, bb, batch, nin, nout), dout);
  expectClose(
    ref.dx,
    numericGrad((v) => f(v, w, b), x),
    1e-8,
    1e-6,
    'dx',
  );
  expectClose(
    ref.dw,
    numericGrad((v) => f(x, v, b), w),
    1e-8,
    1e-6,
    'dw',
  );
  expectClose(
    ref.db,
    numericGrad((v) => f(x, w, v), b),
    1e-8,
    1e-6,
    'db',
  );
});

describe('linear results do not depend on the thread count', () => {
  afterAll(restore);
  const shapes: Dims[] = [
    [64, 400, 120],
    [33, 257, 67],
    [5, 1000, 9],
  ];
  test.each(ISAS.flatMap((isa) => shapes.map((d): [string, ...Dims] => [isa, ...d])))(
    'isa %s, batch %i, in %i, out %i',
    (isa, batch, nin, nout) => {
      setIsa(isa);
      const rng = new Rng(17);
      const x = rng.f32(batch * nin),
        w = rng.f32(nout * nin),
        b = rng.f32(nout),
        dout = rng.f32(batch * nout);
      const run = (threads: number) => {
        setThreads(threads);
        const out = new Float32Array(batch * nout),
          dx = new Float32Array(batch * nin);
        const dw = new Float32Array(nout * nin),
          db = new Float32Array(nout);
        native.linearForward(out, x, w, b, batch, nin, nout);
        native.linearBackward(dx, dw, db, dout, x, w, batch, nin, nout);
        return [out, dx, dw, db].map((a) => Array.from(a));
      };
      const one = run(1);
      const ref = linearBackward(dout, x, w, batch, nin, nout);
      expectClose(one[0], linearForward(x, w, b, batch, nin, nout), fwdAtol(nin), 1e-5, 'out');
      [ref.dx, ref.dw, ref.db].forEach((r, k) => expectClose(one[k + 1], r, 1e-4, 1e-4, `gradient ${k}`));
      for (const threads of [2, 3, 8]) expect(run(threads)).toEqual(one);
    },
  );
});
