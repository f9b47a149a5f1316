// SPDX-License-Identifier: MIT
// AdaptiveMaxPool2d: finite-difference gradchecks (distinct values, so no step changes an argmax), PyTorch's tie and
// NaN rules, shapes, option errors. PyTorch's numbers are checked in layers-up-pytorch.test.ts.
import { gradcheck } from '../../lib/gradcheck';
import { AdaptiveMaxPool2d } from '../../lib/modules/adaptive-max-pool2d';
import { Generator } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { expectErrorNamed } from '../helpers';

/** Distinct values 0.1 apart in a random order. */
function distinct(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Float32Array.from(new Generator(seed).permutation(n), (v) => v * 0.1),
    shape,
  );
}

test.each<[number | [number | null, number | null], number[]]>([
  [1, [2, 3, 4, 5]],
  [
    [3, 2],
    [1, 2, 7, 5],
  ],
  [
    [4, 4],
    [1, 2, 8, 8],
  ],
  [
    [5, 7],
    [1, 1, 3, 4],
  ],
  [
    [2, null],
    [2, 1, 5, 3],
  ],
])('gradcheck outputSize %j on %j', (size, shape) => {
  const r = gradcheck(new AdaptiveMaxPool2d(size), distinct(shape, 3), { maxPerTensor: 60 });
  if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
  expect(r.checked).toBeGreaterThan(10);
});

test('ties go to the first maximum in row-major order, a NaN wins (the last NaN), -Infinity windows to their first pixel', () => {
  const layer = new AdaptiveMaxPool2d(1);
  const run = (values: number[]) => {
    const y = layer.forward(new Tensor(Float32Array.from(values), [1, 1, 2, 2]));
    return [y.data[0], Array.from(layer.backward(new Tensor(Float32Array.of(1), [1, 1, 1, 1])).data)];
  };
  expect(run([1, 3, 3, 2])).toEqual([3, [0, 1, 0, 0]]);
  expect(run([NaN, 3, NaN, 2])).toEqual([NaN, [0, 0, 1, 0]]);
  expect(run([-Infinity, -Infinity, -Infinity, -Infinity])).toEqual([-Infinity, [1, 0, 0, 0]]);
  // Overlapping windows (3 -> 2: rows [0, 2) and [1, 3)) both send their gradient to a shared maximum.
  const overlap = new AdaptiveMaxPool2d([2, 1]);
  overlap.forward(new Tensor(Float32Array.of(0, 5, 1), [1, 1, 3, 1]));
  expect(Array.from(overlap.backward(new Tensor(Float32Array.of(1, 2), [1, 1, 2, 1])).data)).toEqual([0, 3, 0]);
});

test('shapes, options and errors (outputSize as AdaptiveAvgPool2d)', () => {
  expect(new AdaptiveMaxPool2d({ outputSize: [3, null] }).outputShape([2, 3, 7, 5])).toEqual([2, 3, 3, 5]);
  expect(new AdaptiveMaxPool2d([2, 4]).toString()).toBe('AdaptiveMaxPool2d(outputSize=[2, 4])');
  expectErrorNamed(() => new AdaptiveMaxPool2d(0), 'RangeError', /AdaptiveMaxPool2d: outputSize/);
  expectErrorNamed(() => new AdaptiveMaxPool2d('1' as never), 'TypeError', /AdaptiveMaxPool2d: options/);
  expectErrorNamed(() => new AdaptiveMaxPool2d([1, 2, 3] as never), 'RangeError', /AdaptiveMaxPool2d: outputSize/);
  expectErrorNamed(() => new AdaptiveMaxPool2d({ outputSize: 2, x: 1 } as never), 'RangeError', /x/);
  expectErrorNamed(() => new AdaptiveMaxPool2d(undefined as never), 'TypeError', /AdaptiveMaxPool2d/);
  expect(() => new AdaptiveMaxPool2d(2).outputShape([2, 3, 4])).toThrow(RangeError);
  expectErrorNamed(
    () => new AdaptiveMaxPool2d(2).backward(new Tensor(new Float32Array(4), [1, 1, 2, 2])),
    'Error',
    /forward/,
  );
});
