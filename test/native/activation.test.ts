// SPDX-License-Identifier: MIT
// reluForward / reluBackward / reluMask / addRelu against reference.ts for every ISA: lengths around SIMD tiles, special values, in place.
import { native } from '../../lib/native';
import { expectSameBits } from '../helpers';
import { describeEachIsa } from './isa';
import { Rng, expectClose, plus, reluBackward, reluForward } from './reference';

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 3.4e38, -3.4e38, 1, -1];
const LENGTHS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129, 1000, 4099];

/** Random values in [-2, 2] with a special value in about one slot of eight. */
function values(rng: Rng, n: number): Float32Array {
  const a = rng.f32(n, -2, 2);
  for (let i = 0; i < n; i++) if (rng.next() < 0.125) a[i] = rng.pick(SPECIALS);
  return a;
}

describeEachIsa(() => {
  describe.each(LENGTHS)('relu on %i elements', (n) => {
    const rng = new Rng(n * 17 + 3);

    test('forward overwrites out and keeps NaN', () => {
      const x = values(rng, n),
        keep = x.slice();
      const out = new Float32Array(n).fill(12345);
      native.reluForward(out, x);
      expectClose(out, reluForward(x), 0, 0, 'out');
      expect(x).toEqual(keep);
    });

    test('forward in place (out is input) and on two views of the same memory', () => {
      const x = values(rng, n),
        expected = reluForward(x);
      const same = x.slice();
      native.reluForward(same, same);
      expectClose(same, expected, 0, 0, 'in place');
      const other = x.slice();
      native.reluForward(new Float32Array(other.buffer), new Float32Array(other.buffer));
      expectClose(other, expected, 0, 0, 'aliased views');
    });

    test('reluMask zeroes grad in place where out <= 0 and keeps it elsewhere', () => {
      const out32 = Float32Array.from(reluForward(values(rng, n))),
        grad = values(rng, n);
      const expected = reluBackward(grad, out32),
        keep = out32.slice();
      native.reluMask(grad, out32);
      expectClose(grad, expected, 0, 0, 'grad');
      expect(out32).toEqual(keep);
    });

    // NaN sums may differ in sign between the two on wasm (see expectSameBits).
    test('addRelu gives the bits of add then reluForward, also in place (out is a)', () => {
      const a = values(rng, n),
        b = values(rng, n);
      const sum = new Float32Array(n),
        want = new Float32Array(n),
        got = new Float32Array(n).fill(12345);
      native.add(sum, a, b);
      native.reluForward(want, sum);
      native.addRelu(got, a, b);
      expectSameBits(got, want, 'addRelu');
      native.addRelu(a, a, b);
      expectSameBits(a, want, 'addRelu in place');
    });

    test('backward accumulates dout where out is not <= 0 into a pre-filled dinput', () => {
      const out = reluForward(values(rng, n));
      const out32 = Float32Array.from(out),
        dout = values(rng, n),
        dx = rng.f32(n),
        before = dx.slice();
      native.reluBackward(dx, dout, out32);
      expectClose(dx, plus(before, reluBackward(dout, out32)), 1e-7, 1e-7, 'dinput');
    });
  });

  describe('relu special cases', () => {
    test('forward of each special value (the sign of a zero result is not specified)', () => {
      const x = Float32Array.from(SPECIALS),
        out = new Float32Array(x.length);
      native.reluForward(out, x);
      const expected = [NaN, Infinity, 0, 0, 0, Math.fround(1e-40), 0, Math.fround(3.4e38), 0, 1, 0];
      expectClose(out, expected, 0, 0, 'out');
    });

    test('backward passes the gradient except where the saved output is <= 0 (so at NaN, as PyTorch)', () => {
      const out = new Float32Array([1, 0, -0, NaN, 1e-40, Infinity, 2]);
      const dout = new Float32Array([1, 2, 3, 4, 5, 6, NaN]);
      const dx = new Float32Array(7).fill(10);
      native.reluBackward(dx, dout, out);
      expect(Array.from(dx)).toEqual([11, 10, 10, 14, 15, 16, NaN]);
    });

    test('a view with a byte offset reads and writes only its own elements', () => {
      const buf = new Float32Array([-1, -2, -3, -4, -5, -6, -7, -8]);
      buf.set([3, -3, 4], 1);
      const out = new Float32Array(8).fill(9);
      native.reluForward(out.subarray(4, 7), buf.subarray(1, 4));
      expect(Array.from(out)).toEqual([9, 9, 9, 9, 3, 0, 4, 9]);
    });
  });
});
