// SPDX-License-Identifier: MIT
// Tests of toMatrix/toSymbolicMatrix: seed-examples section 3 exactly (A, A x = forward, A^T = backward = flipped-kernel convolution) and Conv2d.
import { ShapeError } from '../../lib/errors';
import { Conv1d } from '../../lib/modules/conv1d';
import { Conv2d } from '../../lib/modules/conv2d';
import { Linear } from '../../lib/modules/linear';
import { matrixShape, toBiasVector, toMatrix, toSymbolicMatrix, weightSymbol } from '../../lib/modules/to-matrix';
import { Generator } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, randomTensor } from '../helpers';

// The rows of A exactly as shared/seed-examples.md section 3 prints them.
const SECTION3_ROWS = `
row y11: [ w1(1>1) w2(1>1) w3(1>1)  0       w1(2>1) w2(2>1) w3(2>1)  0      ]
row y12: [ 0       w1(1>1) w2(1>1) w3(1>1)  0       w1(2>1) w2(2>1) w3(2>1) ]
row y21: [ w1(1>2) w2(1>2) w3(1>2)  0       w1(2>2) w2(2>2) w3(2>2)  0      ]
row y22: [ 0       w1(1>2) w2(1>2) w3(1>2)  0       w1(2>2) w2(2>2) w3(2>2) ]
`;
const section3 = SECTION3_ROWS.trim()
  .split('\n')
  .map((line) => line.replace(/^.*\[\s*|\s*\]$/g, '').split(/\s+/));

/** y = A x for a row-major [rows, cols] matrix, accumulated in float64. */
function matVec(a: Tensor, x: ArrayLike<number>, transpose = false): Float64Array {
  const [rows, cols] = a.shape;
  const y = new Float64Array(transpose ? cols : rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (transpose) y[c] += a.data[r * cols + c] * x[r];
      else y[r] += a.data[r * cols + c] * x[c];
    }
  }
  return y;
}

/** Conv1d(2 -> 2, kernel 3, no padding, no bias) with random weights: section 3's layer. */
const section3Layer = (seed = 1) =>
  new Conv1d({ inChannels: 2, outChannels: 2, kernelSize: 3, bias: false, generator: new Generator(seed) });

/** The convolution that computes the backward: kernel from dY channel j to dX channel i is kernel (i>j) reversed. */
function flippedConv(
  layer: Conv1d,
  padding = layer.kernelSize - 1,
  reverse: (i: number) => boolean = () => true,
): Conv1d {
  const k = layer.kernelSize;
  const flipped = new Conv1d({
    inChannels: layer.outChannels,
    outChannels: layer.inChannels,
    kernelSize: k,
    padding,
    bias: false,
  });
  const w = layer.weight.data; // [j, i, k]
  for (let i = 0; i < layer.inChannels; i++) {
    for (let j = 0; j < layer.outChannels; j++) {
      for (let t = 0; t < k; t++) {
        const tap = reverse(i) ? k - 1 - t : t;
        flipped.weight.data.data[(i * layer.outChannels + j) * k + t] = w.data[(j * layer.inChannels + i) * k + tap];
      }
    }
  }
  return flipped;
}

describe('seed-examples section 3: a 2-channel length-4 input, kernel 3, 2 output channels, no padding, no bias', () => {
  test('the symbolic A is exactly the 4 x 8 matrix of the section', () => {
    expect(section3).toHaveLength(4);
    expect(toSymbolicMatrix(section3Layer(), [2, 4])).toEqual(section3);
    expect(matrixShape(section3Layer(), [2, 4])).toEqual([4, 8]);
  });

  test('the numeric A holds, at each symbol wk(i>j), weight[j - 1][i - 1][k - 1] (and 0 elsewhere)', () => {
    const layer = section3Layer();
    const a = toMatrix(layer, [2, 4]);
    expect(a.shape).toEqual([4, 8]);
    section3.forEach((row, r) =>
      row.forEach((sym, c) => {
        const m = /^w(\d)\((\d)>(\d)\)$/.exec(sym);
        const expected = m ? layer.weight.data.at(Number(m[3]) - 1, Number(m[2]) - 1, Number(m[1]) - 1) : 0;
        expect(a.at(r, c)).toBe(expected);
      }),
    );
  });

  test('A x equals forward and A^T g equals the input gradient of backward, for random x and g', () => {
    const layer = section3Layer(2);
    const a = toMatrix(layer, [2, 4]);
    for (let seed = 0; seed < 3; seed++) {
      const x = randomTensor([1, 2, 4], 10 + seed);
      const g = randomTensor([1, 2, 2], 20 + seed);
      expectAllClose(layer.forward(x).data, matVec(a, x.data), 1e-6, 0, 'A x vs forward');
      expectAllClose(layer.backward(g).data, matVec(a, g.data, true), 1e-6, 0, 'A^T g vs backward');
    }
  });

  test('backward is a convolution of dL/dY with zero padding 2 (length 2 -> 4) and EVERY kernel reversed (w3, w2, w1), channels swapped; the course answer reversed only the first row (the slip noted in seed-examples)', () => {
    const layer = section3Layer(3);
    const flipped = flippedConv(layer);
    expect(flipped.outputShape([1, 2, 2])).toEqual([1, 2, 4]); // 2 - 3 + 2*2 + 1 = 4
    layer.forward(randomTensor([1, 2, 4], 4));
    for (let seed = 0; seed < 3; seed++) {
      const g = randomTensor([1, 2, 2], 30 + seed);
      expectAllClose(
        flipped.forward(g).data,
        layer.backward(g).data,
        1e-6,
        0,
        'flipped-kernel convolution vs backward',
      );
      // The slip: reversing only input channel 1's kernels (the first row) gives another, wrong, result.
      const slip = flippedConv(layer, 2, (i) => i === 0).forward(g).data;
      expect(Math.max(...slip.map((v, n) => Math.abs(v - flipped.forward(g).data[n])))).toBeGreaterThan(1e-3);
    }
  });

  test('symbolically, A^T is the flipped convolution: its entry wk(j>i) is w(4-k)(i>j) of the original', () => {
    const aT = toSymbolicMatrix(section3Layer(), [2, 4]);
    const transposed = aT[0].map((_, c) => aT.map((row) => row[c]));
    const flipped = new Conv1d({ inChannels: 2, outChannels: 2, kernelSize: 3, padding: 2, bias: false });
    const renamed = toSymbolicMatrix(flipped, [2, 2]).map((row) =>
      row.map((s) => s.replace(/^w(\d)\((\d)>(\d)\)$/, (_m, k, j, i) => `w${4 - Number(k)}(${i}>${j})`)),
    );
    expect(renamed).toEqual(transposed);
    expect(transposed[1]).toEqual(['w2(1>1)', 'w1(1>1)', 'w2(1>2)', 'w1(1>2)']); // dx12 reads w2 then w1: reversed
  });
});

test.each([
  [5, 3, 2, 1],
  [8, 2, 3, 0],
  [8, 3, 2, 0],
  [10, 3, 3, 1],
])(
  'with stride > 1 backward is a transposed convolution (what `explain conv` prints): L %i, kernel %i, stride %i, padding %i',
  (l, k, s, p) => {
    const layer = new Conv1d({
      inChannels: 2,
      outChannels: 3,
      kernelSize: k,
      stride: s,
      padding: p,
      bias: false,
      generator: new Generator(l),
    });
    const lout = layer.outputShape([1, 2, l])[2];
    layer.forward(randomTensor([1, 2, l], 1));
    const g = randomTensor([1, 3, lout], 2);
    // s - 1 zeros between neighbours of g, k - 1 - p zeros before, as many plus (l + 2p - k) mod s after.
    const before = k - 1 - p;
    const after = before + ((l + 2 * p - k) % s);
    const spread = (lout - 1) * s + 1;
    const padded = Tensor.zeros([1, 3, before + spread + after]);
    for (let c = 0; c < 3; c++)
      for (let o = 0; o < lout; o++) padded.data[c * padded.shape[2] + before + o * s] = g.data[c * lout + o];
    expectAllClose(
      flippedConv(layer, 0).forward(padded).data,
      layer.backward(g).data,
      1e-6,
      0,
      'transposed convolution vs backward',
    );
  },
);

describe('general layers against forward and backward', () => {
  test.each([
    [
      'Conv2d stride 2, padding 1',
      () =>
        new Conv2d({
          inChannels: 2,
          outChannels: 3,
          kernelSize: 3,
          stride: 2,
          padding: 1,
          generator: new Generator(5),
        }),
      [2, 5, 4],
    ],
    [
      'Conv2d rectangular, dilation 2, groups 2',
      () =>
        new Conv2d({
          inChannels: 2,
          outChannels: 4,
          kernelSize: [2, 3],
          dilation: 2,
          groups: 2,
          generator: new Generator(6),
        }),
      [2, 5, 6],
    ],
    [
      'Conv1d stride 2, padding 1',
      () =>
        new Conv1d({
          inChannels: 3,
          outChannels: 2,
          kernelSize: 3,
          stride: 2,
          padding: 1,
          generator: new Generator(7),
        }),
      [3, 8],
    ],
    [
      'Conv1d dilation 2, groups 2',
      () =>
        new Conv1d({
          inChannels: 4,
          outChannels: 2,
          kernelSize: 2,
          dilation: 2,
          groups: 2,
          generator: new Generator(8),
        }),
      [4, 7],
    ],
  ] as const)('%s: A x + b = forward, A^T g = backward', (_name, make, sample) => {
    const layer = make();
    const a = toMatrix(layer, sample);
    const x = randomTensor([1, ...sample], 11);
    const y = layer.forward(x);
    expect(a.shape).toEqual([y.size, x.size]);
    const b = toBiasVector(layer, sample)!;
    expectAllClose(
      y.data,
      matVec(a, x.data).map((v, r) => v + b.data[r]),
      1e-5,
      0,
      'A x + b',
    );
    const g = randomTensor([...y.shape], 12);
    expectAllClose(layer.backward(g).data, matVec(a, g.data, true), 1e-5, 0, 'A^T g');
    expect(toMatrix(layer, [1, ...sample]).data).toEqual(a.data); // a leading batch of one is the same
  });

  test('Conv2d symbols name both taps: w{ky},{kx}(i>j)', () => {
    const conv = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 2, bias: false });
    expect(toSymbolicMatrix(conv, [1, 2, 3])).toEqual([
      ['w1,1(1>1)', 'w1,2(1>1)', '0', 'w2,1(1>1)', 'w2,2(1>1)', '0'],
      ['0', 'w1,1(1>1)', 'w1,2(1>1)', '0', 'w2,1(1>1)', 'w2,2(1>1)'],
    ]);
    expect(weightSymbol([2], 0, 1)).toBe('w3(1>2)');
  });

  test('toBiasVector repeats each channel bias over its positions; null without bias', () => {
    const conv = new Conv1d({ inChannels: 1, outChannels: 2, kernelSize: 3, generator: new Generator(1) });
    const [b0, b1] = conv.bias!.data.data;
    expect(Array.from(toBiasVector(conv, [1, 5])!.data)).toEqual([b0, b0, b0, b1, b1, b1]);
    expect(toBiasVector(section3Layer(), [2, 4])).toBeNull();
  });
});

describe('errors', () => {
  test('a layer that is not a convolution, or input shapes that do not fit', () => {
    const layer = section3Layer();
    expect(() => toMatrix(new Linear({ inFeatures: 2, outFeatures: 2 }) as unknown as Conv1d, [2])).toThrow(TypeError);
    expect(() => toMatrix(new Linear({ inFeatures: 2, outFeatures: 2 }) as unknown as Conv1d, [2])).toThrow(
      /toMatrix: layer must be a Conv1d or Conv2d, got Linear/,
    );
    expect(() => toSymbolicMatrix(layer, [2, 4, 1])).toThrow(ShapeError);
    expect(() => toSymbolicMatrix(layer, [2, 2, 4])).toThrow(
      /toSymbolicMatrix: inputShape must be one sample's shape \[C, L\] \(or with a leading batch of 1\), got \[2, 2, 4\]/,
    );
    expect(() => toMatrix(new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 1 }), [1, 4])).toThrow(/\[C, H, W\]/);
    expect(() => toMatrix(layer, [3, 4])).toThrow(/Conv1d: input: expected shape \[\*, 2, \*\], got \[1, 3, 4\]/);
    expect(() => toMatrix(layer, [2, 2])).toThrow(RangeError);
    expect(() => toMatrix(layer, [2, -1])).toThrow(/toMatrix: inputShape: shape\[1\] must be an integer >= 0/);
    const big = new Conv2d({ inChannels: 64, outChannels: 64, kernelSize: 3, padding: 1 });
    expect(() => toMatrix(big, [64, 32, 32])).toThrow(
      /toMatrix: the matrix would be 65536 x 65536; at most 16777216 entries/,
    );
  });
});
