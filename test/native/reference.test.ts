// SPDX-License-Identifier: MIT
// Self-tests of the test helpers in reference.ts (expectClose, Rng, output sizes); no addon calls.
import { Rng, convSizes, expectClose, poolOutSize } from './reference';

describe('expectClose', () => {
  test('passes within the tolerance, with NaN matching NaN and infinities matching themselves', () => {
    expect(() =>
      expectClose([1, NaN, Infinity, -Infinity, 0], [1 + 1e-7, NaN, Infinity, -Infinity, -0], 1e-6, 0),
    ).not.toThrow();
    expect(() => expectClose([100.0009], [100], 0, 1e-5)).not.toThrow();
  });

  test.each<[number[], number[], RegExp]>([
    [[1, 2, 3.5], [1, 2, 3], /1 of 3 elements not close .* max abs diff 0.5 at index 2 \(actual 3.5, expected 3\)/],
    [[NaN, 0], [0, 0], /max abs diff Infinity at index 0/],
    [[0, 1], [0, NaN], /index 1/],
    [[1e30], [Infinity], /max abs diff Infinity at index 0/],
    [[Infinity], [-Infinity], /not close/],
    [[1, 2], [1], /length 2 != expected length 1/],
  ])('fails on %p vs %p with the max abs diff and its index', (a, e, re) => {
    expect(() => expectClose(a, e, 1e-3, 1e-3, 'x')).toThrow(re);
  });
});

describe('reference helpers', () => {
  test('Rng is deterministic per seed and int() covers both ends', () => {
    const a = new Rng(5),
      b = new Rng(5),
      seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      expect(a.next()).toBe(b.next());
      seen.add(a.int(-1, 1));
      b.int(-1, 1);
    }
    expect([...seen].sort()).toEqual([-1, 0, 1]);
  });

  test('output sizes follow PyTorch (conv floor; pooling floor/ceil with the last window inside input + left pad)', () => {
    expect(
      convSizes({ n: 1, c: 1, h: 7, w: 7, oc: 1, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, dh: 2, dw: 2, groups: 1 }),
    ).toMatchObject({ oh: 3, ow: 3 });
    expect([poolOutSize(7, 2, 2, 0, false), poolOutSize(7, 2, 2, 0, true)]).toEqual([3, 4]);
    expect([poolOutSize(5, 2, 3, 1, false), poolOutSize(5, 2, 3, 1, true)]).toEqual([2, 2]);
    expect(poolOutSize(1, 2, 2, 0, true)).toBe(1);
    expect(poolOutSize(1, 3, 2, 0, true)).toBe(0);
  });
});
