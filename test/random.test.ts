// SPDX-License-Identifier: MIT
// The seeded generator: reproducible, uniform enough, permutations, state save/restore.
import { Generator } from '../lib/random';

describe('Generator', () => {
  test('same seed, same stream; different seed, different stream', () => {
    const a = new Generator(7);
    const b = new Generator(7);
    const c = new Generator(8);
    const xs = Array.from({ length: 5 }, () => a.random());
    expect(Array.from({ length: 5 }, () => b.random())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.random())).not.toEqual(xs);
  });

  test('random() is in [0, 1) with mean near 1/2; randint is unbiased enough', () => {
    const g = new Generator(1);
    let sum = 0;
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100000; i++) {
      const x = g.random();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
      counts[g.randint(10)]++;
    }
    expect(Math.abs(sum / 100000 - 0.5)).toBeLessThan(0.01);
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
  });

  test('normal() has the asked mean and standard deviation', () => {
    const g = new Generator(2);
    const xs = Array.from({ length: 100000 }, () => g.normal(3, 0.5));
    const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean - 3)).toBeLessThan(0.01);
    expect(Math.abs(sd - 0.5)).toBeLessThan(0.01);
    expect(xs.every(Number.isFinite)).toBe(true);
    // About 4.6% of N(0, 1) lies beyond 2 standard deviations: a cos-only or a uniform draw would miss this.
    const tails = xs.filter((x) => Math.abs(x - 3) > 1).length / xs.length;
    expect(Math.abs(tails - 0.0455)).toBeLessThan(0.004);
  });

  test('permutation holds every index once', () => {
    const p = new Generator(3).permutation(1000);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  test('state can be saved and restored', () => {
    const g = new Generator(5);
    g.random();
    const state = g.getState();
    const next = g.random();
    g.setState(state);
    expect(g.random()).toBe(next);
    expect(() => g.setState([1, 2])).toThrow(RangeError);
    expect(() => new Generator(-1)).toThrow(RangeError);
  });
});

test('fillUint32 gives the nextUint32 stream and leaves the same state', () => {
  for (const n of [0, 1, 7, 1000]) {
    const a = new Generator(42),
      b = new Generator(42);
    const filled = new Uint32Array(n);
    a.fillUint32(filled);
    expect(Array.from(filled)).toEqual(Array.from({ length: n }, () => b.nextUint32()));
    expect(a.getState()).toEqual(b.getState());
    expect(a.nextUint32()).toBe(b.nextUint32());
  }
});
