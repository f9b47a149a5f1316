// SPDX-License-Identifier: MIT
// BatchNorm1d/2d: seed-examples section 2 (eps 0), train vs eval, running statistics, modes, options, state dicts.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gradcheck } from '../../lib/gradcheck';
import { loadSafetensors, saveSafetensors } from '../../lib/io/safetensors';
import { BatchNorm1d, BatchNorm2d } from '../../lib/modules/batch-norm';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, randomTensor } from '../helpers';

// seed-examples.md section 2: rows are the 3 units, columns the 4 examples of the batch (m = 4).
const Z = [
  [12, 14, 14, 12],
  [0, 10, 10, 0],
  [-5, 5, 5, -5],
];
/** The batch as BatchNorm1d input [4 examples, 3 units]. */
const zBatch = () =>
  Tensor.fromArray(
    [0, 1, 2, 3].flatMap((j) => Z.map((row) => row[j])),
    [4, 3],
  );
/** Column j of a [4, 3] output as [unit0, unit1, unit2] rows -> back to the doc's 3 x 4 layout. */
const asUnitRows = (t: Tensor) => Z.map((_, u) => [0, 1, 2, 3].map((j) => t.at(j, u)));

function courseLayer(momentum = 0.1): BatchNorm1d {
  const bn = new BatchNorm1d({ numFeatures: 3, eps: 0, momentum });
  bn.weight!.data.data.set([1, 1, 1]);
  bn.bias!.data.data.set([0, -10, 10]);
  return bn;
}

describe('seed-examples section 2: batch norm of a 3-unit layer over a batch of 4, eps = 0', () => {
  test('normalised rows are (-1, 1, 1, -1); with gamma (1, 1, 1), beta (0, -10, 10) the output is the doc matrix', () => {
    const plain = new BatchNorm1d({ numFeatures: 3, eps: 0 });
    expect(asUnitRows(plain.forward(zBatch()))).toEqual([
      [-1, 1, 1, -1],
      [-1, 1, 1, -1],
      [-1, 1, 1, -1],
    ]);
    expect(asUnitRows(courseLayer().forward(zBatch()))).toEqual([
      [-1, 1, 1, -1],
      [-11, -9, -9, -11],
      [9, 11, 11, 9],
    ]);
  });

  test('batch mean (13, 5, 0); normalised with the biased variance (1, 25, 25), the running one is unbiased (x 4/3)', () => {
    // momentum 1: the running statistics become the batch's own.
    const bn = courseLayer(1);
    bn.forward(zBatch());
    expectAllClose(bn.runningMean!.data, [13, 5, 0], 0, 0, 'batch mean');
    expectAllClose(bn.runningVar!.data, [(1 * 4) / 3, (25 * 4) / 3, (25 * 4) / 3], 1e-5, 1e-6, 'unbiased variance');
  });

  test('one training step with momentum 0.1 moves the running statistics from (0, 1) a tenth of the way', () => {
    const bn = courseLayer();
    bn.forward(zBatch());
    expectAllClose(bn.runningMean!.data, [1.3, 0.5, 0], 1e-6, 0, 'running_mean');
    expectAllClose(
      bn.runningVar!.data,
      [0.9 + (0.1 * 4) / 3, 0.9 + (0.1 * 100) / 3, 0.9 + (0.1 * 100) / 3],
      1e-6,
      1e-6,
      'running_var',
    );
    expect(bn.numBatchesTracked).toBe(1);
  });

  test('evaluation uses the running statistics: (x - running_mean) / sqrt(running_var) * gamma + beta', () => {
    const bn = courseLayer();
    bn.forward(zBatch());
    bn.eval();
    const out = bn.forward(zBatch());
    const rm = bn.runningMean!.data,
      rv = bn.runningVar!.data,
      beta = [0, -10, 10];
    const expected = [0, 1, 2, 3].flatMap((j) => Z.map((row, u) => (row[j] - rm[u]) / Math.sqrt(rv[u]) + beta[u]));
    expectAllClose(out.data, expected, 1e-5, 1e-6, 'eval output');
    expect(bn.numBatchesTracked).toBe(1); // eval forward changes nothing
  });
});

describe('train vs eval: an example in eval mode does not depend on its batch', () => {
  const trained = () => {
    const bn = new BatchNorm2d({ numFeatures: 3 });
    bn.weight!.data.data.set([0.5, 2, -1]);
    bn.bias!.data.data.set([1, 0, -2]);
    for (let step = 0; step < 5; step++) bn.forward(randomTensor([6, 3, 4, 4], 100 + step, 3));
    return bn;
  };
  const example = randomTensor([1, 3, 4, 4], 7, 2);
  const within = (others: Tensor, at: number) => {
    const n = others.shape[0] + 1,
      size = example.size,
      data = new Float32Array(n * size);
    for (let i = 0, k = 0; i < n; i++)
      data.set(i === at ? example.data : others.data.subarray(k * size, ++k * size), i * size);
    return new Tensor(data, [n, 3, 4, 4]);
  };
  const row = (t: Tensor, i: number) => t.data.slice(i * example.size, (i + 1) * example.size);

  test('alone, in a batch of 4 and in a batch of 8 the output is identical; training mode differs', () => {
    const bn = trained().eval();
    const alone = bn.forward(example).data;
    const inFour = row(bn.forward(within(randomTensor([3, 3, 4, 4], 11, 5), 2)), 2);
    const inEight = row(bn.forward(within(randomTensor([7, 3, 4, 4], 12, 1), 0)), 0);
    expect(Array.from(inFour)).toEqual(Array.from(alone));
    expect(Array.from(inEight)).toEqual(Array.from(alone));

    bn.train();
    const trainFour = row(bn.forward(within(randomTensor([3, 3, 4, 4], 11, 5), 2)), 2);
    const trainEight = row(bn.forward(within(randomTensor([7, 3, 4, 4], 12, 1), 0)), 0);
    expect(Math.max(...trainFour.map((v, i) => Math.abs(v - trainEight[i])))).toBeGreaterThan(0.1);
  });

  test('eval and predict() leave the running statistics alone; predict() in training mode too', () => {
    const bn = trained();
    const snapshot = () => [Array.from(bn.runningMean!.data), Array.from(bn.runningVar!.data), bn.numBatchesTracked];
    const before = snapshot();
    const x = randomTensor([4, 3, 4, 4], 13, 3);
    const predicted = bn.predict(x);
    expect(bn.training).toBe(true);
    expect(snapshot()).toEqual(before);
    bn.eval();
    expect(Array.from(bn.forward(x).data)).toEqual(Array.from(predicted.data));
    expect(snapshot()).toEqual(before);
  });

  test('predict() between forward and backward does not disturb the pending backward', () => {
    const x = randomTensor([4, 3, 4, 4], 14, 2),
      dout = randomTensor([4, 3, 4, 4], 15);
    const a = trained(),
      b = trained();
    a.forward(x);
    const expected = a.backward(dout);
    b.forward(x);
    b.predict(randomTensor([2, 3, 4, 4], 16, 9));
    expect(Array.from(b.backward(dout).data)).toEqual(Array.from(expected.data));
    expect(Array.from(b.weight!.grad.data)).toEqual(Array.from(a.weight!.grad.data));
  });
});

describe('options and modes', () => {
  test('defaults and state-dict names follow PyTorch; num_batches_tracked is a float32 scalar of shape []', () => {
    const bn = new BatchNorm2d({ numFeatures: 4 });
    expect([bn.eps, bn.momentum, bn.affine, bn.trackRunningStats]).toEqual([1e-5, 0.1, true, true]);
    const dict = bn.stateDict();
    expect(Object.keys(dict)).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(Array.from(dict.weight.data)).toEqual([1, 1, 1, 1]);
    expect(Array.from(dict.bias.data)).toEqual([0, 0, 0, 0]);
    expect(Array.from(dict.running_var.data)).toEqual([1, 1, 1, 1]);
    expect(dict.num_batches_tracked.shape).toEqual([]);
    expect(bn.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    expect(bn.toString()).toBe('BatchNorm2d(4, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)');
    expect(Object.keys(new BatchNorm1d({ numFeatures: 2, affine: false }).stateDict())).toEqual([
      'running_mean',
      'running_var',
      'num_batches_tracked',
    ]);
    const untracked = new BatchNorm1d({ numFeatures: 2, trackRunningStats: false });
    expect(Object.keys(untracked.stateDict())).toEqual(['weight', 'bias']);
    expect([untracked.runningMean, untracked.runningVar, untracked.numBatchesTracked]).toEqual([null, null, 0]);
  });

  test('state dict round trip through safetensors, including the [] scalar', () => {
    const a = new BatchNorm2d({ numFeatures: 3 });
    a.weight!.data.data.set([1.5, -2, 3]);
    for (let step = 0; step < 3; step++) a.forward(randomTensor([2, 3, 3, 3], step, 2));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-bn-'));
    try {
      const file = path.join(dir, 'bn.safetensors');
      saveSafetensors(file, a.stateDict());
      const b = new BatchNorm2d({ numFeatures: 3 });
      b.loadStateDict(loadSafetensors(file));
      for (const [name, t] of Object.entries(a.stateDict()))
        expect(Array.from(b.stateDict()[name].data)).toEqual(Array.from(t.data));
      expect(b.numBatchesTracked).toBe(3);
      const x = randomTensor([2, 3, 3, 3], 9);
      expect(Array.from(b.eval().forward(x).data)).toEqual(Array.from(a.eval().forward(x).data));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('trackRunningStats false: batch statistics in eval mode too', () => {
    const bn = new BatchNorm1d({ numFeatures: 3, trackRunningStats: false });
    const x = randomTensor([5, 3], 3, 4);
    const train = bn.forward(x).data;
    expect(Array.from(bn.eval().forward(x).data)).toEqual(Array.from(train));
  });

  test('momentum null: running statistics are the cumulative average of the batch statistics', () => {
    const bn = new BatchNorm1d({ numFeatures: 1, momentum: null });
    const batches = [
      [1, 3],
      [5, 9],
      [0, 4],
    ];
    for (const b of batches) bn.forward(Tensor.fromArray(b, [2, 1]));
    expect(bn.runningMean!.data[0]).toBeCloseTo((2 + 7 + 2) / 3, 5);
    expect(bn.runningVar!.data[0]).toBeCloseTo((2 + 8 + 8) / 3, 5); // unbiased variances 2, 8, 8
    expect(bn.numBatchesTracked).toBe(3);
  });

  test('training with one value per channel throws like PyTorch; eval mode accepts it', () => {
    expect(() => new BatchNorm1d({ numFeatures: 3 }).forward(Tensor.zeros([1, 3]))).toThrow(
      /^BatchNorm1d: Expected more than 1 value per channel when training, got input size \[1, 3\]$/,
    );
    expect(() => new BatchNorm2d({ numFeatures: 3 }).forward(Tensor.zeros([1, 3, 1, 1]))).toThrow(
      /more than 1 value per channel/,
    );
    expect(() =>
      new BatchNorm1d({ numFeatures: 3, trackRunningStats: false }).eval().forward(Tensor.zeros([1, 3])),
    ).toThrow(RangeError);
    expect(new BatchNorm2d({ numFeatures: 3 }).forward(Tensor.zeros([1, 3, 2, 1])).shape).toEqual([1, 3, 2, 1]);
    expect(new BatchNorm1d({ numFeatures: 3 }).eval().forward(Tensor.fromArray([1, 2, 3], [1, 3])).shape).toEqual([
      1, 3,
    ]);
  });

  test('zero variance with eps 0: invstd 0 in training (output = beta), NaN in eval, as PyTorch', () => {
    const bn = new BatchNorm1d({ numFeatures: 2, eps: 0 });
    bn.bias!.data.data.set([0.5, 0]);
    expect(Array.from(bn.forward(Tensor.fromArray([1, 2, 1, 3], [2, 2])).data)).toEqual([0.5, -1, 0.5, 1]);
    bn.runningVar!.data.fill(0);
    expect(
      bn
        .eval()
        .forward(Tensor.fromArray([1, 2, 1, 3], [2, 2]))
        .data.every(Number.isNaN),
    ).toBe(true);
  });

  test('bad options and shapes throw errors naming the layer', () => {
    expect(() => new BatchNorm1d({ numFeatures: 0 })).toThrow(/^BatchNorm1d: numFeatures must be an integer >= 1/);
    expect(() => new BatchNorm1d({ numFeatures: 2, eps: -1 })).toThrow(/^BatchNorm1d: eps must be >= 0/);
    expect(() => new BatchNorm2d({ numFeatures: 2, momentum: 1.5 })).toThrow(/^BatchNorm2d: momentum must be <= 1/);
    expect(() => new BatchNorm2d({ numFeatures: 2, affine: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => new BatchNorm2d({ numFeatures: 2, foo: 1 } as never)).toThrow(RangeError);
    expect(() => new BatchNorm2d({ numFeatures: 2, foo: 1 } as never)).toThrow(/unknown option 'foo'/);
    expect(() => new BatchNorm2d(3 as never)).toThrow(/BatchNorm2d: options must be an object, got number/);
    const bn1 = new BatchNorm1d({ numFeatures: 3 }),
      bn2 = new BatchNorm2d({ numFeatures: 3 });
    expect(() => bn1.forward(Tensor.zeros([2, 3, 4, 5]))).toThrow(
      /^BatchNorm1d: expected 2D or 3D input \(got 4D input\)$/,
    );
    expect(() => bn2.forward(Tensor.zeros([2, 3, 4]))).toThrow(/^BatchNorm2d: expected 4D input \(got 3D input\)$/);
    expect(() => bn2.forward(Tensor.zeros([2, 4, 2, 2]))).toThrow(/has 4 channels, expected numFeatures = 3/);
    expect(() => bn2.forward(Tensor.zeros([2, 3, 0, 2]))).toThrow(/has no values/);
    expect(() => bn1.backward(Tensor.zeros([2, 3]))).toThrow(/call forward\(\) first/);
    bn1.forward(Tensor.zeros([2, 3]));
    expect(() => bn1.backward(Tensor.zeros([3, 3]))).toThrow(/doutput: expected shape \[2, 3\]/);
    const fresh = new BatchNorm1d({ numFeatures: 3 }).eval();
    fresh.predict(Tensor.zeros([2, 3]));
    expect(() => fresh.backward(Tensor.zeros([2, 3]))).toThrow(/call forward\(\) first/);
  });
});

describe('gradcheck in training mode', () => {
  test.each([
    ['BatchNorm1d [N, C]', () => new BatchNorm1d({ numFeatures: 4 }), [5, 4]],
    ['BatchNorm1d [N, C, L]', () => new BatchNorm1d({ numFeatures: 3, momentum: null }), [2, 3, 5]],
    ['BatchNorm2d', () => new BatchNorm2d({ numFeatures: 3 }), [2, 3, 3, 4]],
    ['BatchNorm2d without affine', () => new BatchNorm2d({ numFeatures: 2, affine: false }), [3, 2, 2, 2]],
    [
      'BatchNorm2d without running stats',
      () => new BatchNorm2d({ numFeatures: 2, trackRunningStats: false }),
      [2, 2, 3, 3],
    ],
  ] as const)('%s', (_name, make, shape) => {
    const bn = make();
    bn.weight?.data.data.forEach((_, i, w) => (w[i] = 0.5 + i * 0.3));
    bn.bias?.data.data.forEach((_, i, b) => (b[i] = i - 0.5));
    const r = gradcheck(bn, randomTensor([...shape], 21, 2), { eps: 1e-2, maxPerTensor: 40 });
    if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
    expect(r.checked).toBeGreaterThan(0);
  });
});
