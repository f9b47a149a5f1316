// SPDX-License-Identifier: MIT
// native.add (the residual add and the graph's sum of a fanned-out value's gradients) against a JS Float32Array sum:
// the same float add, bit for bit, with special values, into a new buffer and in place.
import { native } from '../../lib/native';
import { Rng, expectClose } from './reference';

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e-40, 3.4e38, -3.4e38];

describe.each([1, 3, 8, 17, 1000, 4099])('add on %i elements', (n) => {
  const rng = new Rng(n * 7 + 1);
  const a = rng.f32(n, -2, 2),
    b = rng.f32(n, -2, 2);
  for (let i = 0; i < n; i += 5) a[i] = rng.pick(SPECIALS);
  for (let i = 2; i < n; i += 7) b[i] = rng.pick(SPECIALS);
  const want = new Float32Array(n);
  for (let i = 0; i < n; i++) want[i] = a[i] + b[i];

  test('out = a + b', () => {
    const out = new Float32Array(n).fill(12345);
    native.add(out, a, b);
    expectClose(out, want, 0, 0, 'out');
  });

  test('in place: out is a', () => {
    const sum = a.slice();
    native.add(sum, sum, b);
    expectClose(sum, want, 0, 0, 'in place');
  });

  test('out overlapping b is rejected', () => {
    const sum = b.slice();
    expect(() => native.add(sum, a, sum)).toThrow(/overlaps/);
  });
});
