// SPDX-License-Identifier: MIT
// Transform tests: exact flip, padded crop and cutout for known offsets, rng use, compose order, argument errors.
import { ShapeError } from '../../lib/errors';
import { compose, cutout, randomCrop, randomHorizontalFlip } from '../../lib/data';
import { mirrorRows } from '../../lib/data/transforms';
import { Generator } from '../../lib/random';

/** A stand-in generator whose randint/random return queued values, so offsets are known exactly. */
function fixedRng(ints: number[], floats: number[] = []): Generator {
  return {
    randint: (n: number) => {
      const v = ints.shift()!;
      if (v >= n) throw new Error(`fixedRng: ${v} >= ${n}`);
      return v;
    },
    random: () => floats.shift()!,
  } as unknown as Generator;
}

// Two channels of 3x3: channel 0 is 1..9, channel 1 is 11..19.
const img = () => Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
const shape = [2, 3, 3];

test('randomHorizontalFlip mirrors every row when random() < p', () => {
  const x = img();
  randomHorizontalFlip(0.5)(x, shape, fixedRng([], [0.49]));
  expect(Array.from(x)).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7, 13, 12, 11, 16, 15, 14, 19, 18, 17]);
  const y = img();
  randomHorizontalFlip(0.5)(y, shape, fixedRng([], [0.5]));
  expect(y).toEqual(img());
  const even = Float32Array.from([1, 2, 3, 4]);
  randomHorizontalFlip(1)(even, [1, 1, 4], new Generator(3));
  expect(Array.from(even)).toEqual([4, 3, 2, 1]);
  const g = new Generator(5);
  randomHorizontalFlip(0)(img(), shape, g); // p = 0 still draws one number
  const h = new Generator(5);
  h.random();
  expect(g.getState()).toEqual(h.getState());
});

test('mirrorRows reverses every row of a whole batch', () => {
  const batch = Float32Array.from({ length: 12 }, (_, i) => i); // rows of 3: [0 1 2] [3 4 5] ...
  mirrorRows(batch, 3);
  expect(Array.from(batch)).toEqual([2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9]);
  const even = Float32Array.from([1, 2, 3, 4]);
  mirrorRows(even, 2);
  expect(Array.from(even)).toEqual([2, 1, 4, 3]);
});

test('randomCrop pads with zeros and crops at the drawn (top, left) window', () => {
  const cases: [number, number, number[]][] = [
    // top=0,left=0 with padding 1: shift down-right by one
    [0, 0, [0, 0, 0, 0, 1, 2, 0, 4, 5]],
    // top=2,left=1: rows 1..2 of the original, columns unchanged, then a zero row
    [2, 1, [4, 5, 6, 7, 8, 9, 0, 0, 0]],
    // top=1,left=2: shift left by one
    [1, 2, [2, 3, 0, 5, 6, 0, 8, 9, 0]],
    [1, 1, [1, 2, 3, 4, 5, 6, 7, 8, 9]],
  ];
  for (const [top, left, want0] of cases) {
    const x = img();
    randomCrop(3, 1)(x, shape, fixedRng([top, left]));
    const want1 = want0.map((v) => (v === 0 ? 0 : v + 10));
    expect(Array.from(x)).toEqual([...want0, ...want1]);
  }
  // Padding larger than the image: the window can hold nothing but padding.
  const z = img();
  randomCrop(3, 4)(z, shape, fixedRng([0, 0]));
  expect(Array.from(z)).toEqual(new Array(18).fill(0));
});

test('randomCrop with a real Generator draws top then left, each in 0..2*padding', () => {
  const g = new Generator(11);
  const ref = new Generator(11);
  for (let k = 0; k < 20; k++) {
    const top = ref.randint(3);
    const left = ref.randint(3);
    const x = img();
    randomCrop(3, 1)(x, shape, g);
    const y = img();
    randomCrop(3, 1)(y, shape, fixedRng([top, left]));
    expect(x).toEqual(y);
  }
});

test('cutout zeroes the size x size square around the drawn centre, clipped at the edges, in every channel', () => {
  /** The naive rule: pixel (y, x) is zeroed when cy - size/2 <= y < cy - size/2 + size, likewise for x. */
  const naive = (size: number, cy: number, cx: number, h: number, w: number, x: Float32Array) => {
    const out = x.slice();
    const lo = (v: number) => v - Math.floor(size / 2);
    for (let i = 0; i < out.length; i++) {
      const y = Math.floor(i / w) % h;
      const xx = i % w;
      if (y >= lo(cy) && y < lo(cy) + size && xx >= lo(cx) && xx < lo(cx) + size) out[i] = 0;
    }
    return out;
  };
  // Every centre of a 2x5x6 image, for an even, an odd and an oversized square.
  const big = Float32Array.from({ length: 60 }, (_, i) => i + 1);
  for (const size of [1, 2, 3, 4, 16]) {
    for (let cy = 0; cy < 5; cy++) {
      for (let cx = 0; cx < 6; cx++) {
        const x = big.slice();
        cutout(size)(x, [2, 5, 6], fixedRng([cy, cx]));
        expect(x).toEqual(naive(size, cy, cx, 5, 6, big));
      }
    }
  }
  // Spelled out once: size 2 centred on (1, 1) of the 3x3 channels covers rows 0..1 and columns 0..1.
  const x = img();
  cutout(2)(x, shape, fixedRng([1, 1]));
  expect(Array.from(x)).toEqual([0, 0, 3, 0, 0, 6, 7, 8, 9, 0, 0, 13, 0, 0, 16, 17, 18, 19]);
  // A real Generator: row then column, each uniform over the image.
  const g = new Generator(4);
  const ref = new Generator(4);
  for (let k = 0; k < 10; k++) {
    const [cy, cx] = [ref.randint(3), ref.randint(3)];
    const a = img();
    cutout(2)(a, shape, g);
    const b = img();
    cutout(2)(b, shape, fixedRng([cy, cx]));
    expect(a).toEqual(b);
  }
});

test('compose applies in order', () => {
  const x = img();
  compose(randomCrop(3, 1), randomHorizontalFlip(1))(x, shape, fixedRng([1, 2], [0]));
  expect(Array.from(x.subarray(0, 9))).toEqual([0, 3, 2, 0, 6, 5, 0, 9, 8]);
});

test('argument errors', () => {
  expect(() => randomCrop(0)).toThrow(RangeError);
  expect(() => randomCrop(32, -1)).toThrow(/padding/);
  expect(() => randomCrop(2.5, 1)).toThrow(RangeError);
  expect(() => randomHorizontalFlip(1.5)).toThrow(/p must be <= 1/);
  expect(() => randomHorizontalFlip('a' as unknown as number)).toThrow(TypeError);
  expect(() => compose(randomCrop(3), 5 as unknown as never)).toThrow(/argument 1/);
  expect(() => randomCrop(4, 1)(img(), shape, new Generator())).toThrow(ShapeError);
  expect(() => randomHorizontalFlip()(img(), [2, 3, 2], new Generator())).toThrow(ShapeError);
  expect(() => randomHorizontalFlip()(img(), [18], new Generator())).toThrow(ShapeError);
  expect(() => cutout(0)).toThrow(/cutout: size/);
  expect(() => cutout(1.5)).toThrow(RangeError);
  expect(() => cutout(2)(img(), [2, 3, 2], new Generator())).toThrow(ShapeError);
});
