// SPDX-License-Identifier: MIT
// sliceForward / sliceBackward (the graph's strided Slice) against naive index loops: ranks 1-6, starts, steps, one
// and two threads, the backward's zeros; and the dims checks the generic binding tests cannot reach.
import { native } from '../../lib/native';
import { expectError } from './binding-specs';
import { restore, setThreads } from './isa';
import { Rng } from './reference';

interface Case {
  images: number;
  inDims: number[];
  start: number[];
  step: number[];
  out: number[];
}

function randomCase(rng: Rng): Case {
  const rank = rng.int(1, 6);
  const inDims: number[] = [],
    start: number[] = [],
    step: number[] = [],
    out: number[] = [];
  for (let d = 0; d < rank; d++) {
    const size = rng.int(1, rank > 3 ? 4 : 9);
    const s = rng.int(0, size - 1),
      st = rng.int(1, 3);
    inDims.push(size);
    start.push(s);
    step.push(st);
    out.push(rng.int(1, Math.floor((size - 1 - s) / st) + 1));
  }
  return { images: rng.int(1, 5), inDims, start, step, out };
}

const dimsOf = (c: Case) => Float64Array.from([...c.inDims, ...c.start, ...c.step, ...c.out]);
const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/** For every output position in order, the flat input index it reads (one image). */
function sourceIndices(c: Case): number[] {
  const rank = c.inDims.length,
    idx = new Array<number>(rank).fill(0),
    result: number[] = [];
  for (let k = 0; k < product(c.out); k++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src = src * c.inDims[d] + c.start[d] + idx[d] * c.step[d];
    result.push(src);
    for (let d = rank - 1; d >= 0 && ++idx[d] === c.out[d]; d--) idx[d] = 0;
  }
  return result;
}

afterAll(restore);

describe.each([1, 2])('%i thread(s)', (threads) => {
  beforeAll(() => setThreads(threads));

  test('forward gathers and backward scatters into zeros, as naive loops, on 200 random slices', () => {
    const rng = new Rng(17 + threads);
    for (let t = 0; t < 200; t++) {
      const c = randomCase(rng);
      const inSize = product(c.inDims),
        outSize = product(c.out),
        src = sourceIndices(c);
      const x = rng.f32(c.images * inSize),
        g = rng.f32(c.images * outSize);
      const y = new Float32Array(c.images * outSize).fill(NaN);
      const dx = new Float32Array(c.images * inSize).fill(NaN);
      native.sliceForward(y, x, c.images, c.inDims.length, dimsOf(c));
      native.sliceBackward(dx, g, c.images, c.inDims.length, dimsOf(c));
      const wantY = new Float32Array(y.length),
        wantDx = new Float32Array(dx.length);
      for (let i = 0; i < c.images; i++)
        src.forEach((s, k) => {
          wantY[i * outSize + k] = x[i * inSize + s];
          wantDx[i * inSize + s] = g[i * outSize + k];
        });
      expect(Array.from(y)).toEqual(Array.from(wantY));
      expect(Array.from(dx)).toEqual(Array.from(wantDx));
    }
  });

  test('a ResNet shortcut at batch 128 (x[:, :, ::2, ::2] of [16, 32, 32]) spans the threads', () => {
    const c: Case = { images: 128, inDims: [16, 32, 32], start: [0, 0, 0], step: [1, 2, 2], out: [16, 16, 16] };
    const x = Float32Array.from({ length: 128 * 16 * 32 * 32 }, (_, i) => i);
    const y = new Float32Array(128 * 16 * 16 * 16);
    native.sliceForward(y, x, c.images, 3, dimsOf(c));
    const src = sourceIndices(c);
    for (const i of [0, 63, 127]) for (const k of [0, 17, 4095]) expect(y[i * 4096 + k]).toBe(i * 16384 + src[k]);
  });
});

describe('dims the generic binding tests cannot reach', () => {
  const run = (dims: number[], rank = 2, images = 1) => {
    const inSize = dims.slice(0, rank).reduce((a, b) => a * Math.max(1, b), 1);
    const outSize = dims.slice(3 * rank).reduce((a, b) => a * Math.max(1, b), 1);
    native.sliceForward(
      new Float32Array(images * outSize),
      new Float32Array(images * inSize),
      images,
      rank,
      Float64Array.from(dims),
    );
  };
  test.each([
    [
      'a start past its dim',
      [4, 4, 4, 0, 1, 1, 1, 1],
      /dims dim 0 reads past its input \(start 4, step 1, out 1, in 4\)/,
    ],
    ['an output that reads past its dim', [4, 4, 1, 0, 2, 1, 3, 1], /dims dim 0 reads past its input/],
    ['a step of 0', [4, 4, 0, 0, 0, 1, 1, 1], /dims step\[0\] must be an integer >= 1, got 0/],
    ['a negative start', [4, 4, -1, 0, 1, 1, 1, 1], /dims start\[0\] must be an integer >= 0, got -1/],
    ['a fractional dim', [4, 4.5, 0, 0, 1, 1, 1, 1], /dims in\[1\] must be an integer >= 1, got 4.5/],
    ['a NaN output dim', [4, 4, 0, 0, 1, 1, NaN, 1], /dims out\[0\] must be an integer >= 1, got NaN/],
  ])('%s is a RangeError naming the dim', (_what, dims, re) => {
    expectError(() => run(dims), 'RangeError', new RegExp(`^sliceForward: ${re.source}`));
  });

  test('a rank above 6 is a RangeError; the dims must hold 4 * rank values', () => {
    expectError(() => run(new Array(28).fill(1), 7), 'RangeError', /^sliceForward: rank must be at most 6, got 7/);
    expectError(
      () => native.sliceForward(new Float32Array(1), new Float32Array(1), 1, 2, new Float64Array(7)),
      'RangeError',
      /^sliceForward: dims length 7 != 4\*rank = 8/,
    );
  });
});
