// SPDX-License-Identifier: MIT
// TensorDataset tests: construction from a Tensor or a flat array, get/getBatch, and every validation error.
import { ShapeError } from '../../lib/errors';
import { TensorDataset } from '../../lib/data';
import { Tensor } from '../../lib/tensor/tensor';

const images = Float32Array.from({ length: 3 * 2 * 2 * 2 }, (_, i) => i); // [3, 2, 2, 2]
const labels = Int32Array.from([2, 0, 1]);

test('from a flat Float32Array and from a Tensor', () => {
  for (const ds of [
    new TensorDataset(images, labels, { sampleShape: [2, 2, 2], classes: ['a', 'b', 'c'] }),
    new TensorDataset(new Tensor(images, [3, 2, 2, 2]), labels),
  ]) {
    expect(ds.length).toBe(3);
    expect(ds.sampleShape).toEqual([2, 2, 2]);
    const s = ds.get(1);
    expect(Array.from(s.image)).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    expect(s.label).toBe(0);
    s.image[0] = -1; // a copy: the dataset is unchanged
    expect(ds.get(1).image[0]).toBe(8);
    const out = new Float32Array(16);
    const lab = new Int32Array(2);
    ds.getBatch([2, 0], out, lab);
    expect(Array.from(out)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(lab)).toEqual([1, 2]);
  }
  expect(new TensorDataset(images, labels, { sampleShape: [2, 2, 2], classes: ['a', 'b', 'c'] }).classes).toEqual([
    'a',
    'b',
    'c',
  ]);
});

test('constructor errors name the argument and the expected shape', () => {
  expect(() => new TensorDataset(images, [2, 0, 1] as unknown as Int32Array, { sampleShape: [2, 2, 2] })).toThrow(
    /labels must be an Int32Array, got Array/,
  );
  expect(() => new TensorDataset([1, 2] as unknown as Float32Array, labels, { sampleShape: [2, 2, 2] })).toThrow(
    TypeError,
  );
  expect(() => new TensorDataset(images, labels)).toThrow(/sampleShape \(\[C, H, W\]\) is required/);
  expect(() => new TensorDataset(images, labels, { sampleShape: [2, 2, 3] })).toThrow(
    /images length 24 != N\*C\*H\*W = 3\*12 = 36/,
  );
  expect(() => new TensorDataset(images, labels, { sampleShape: [4, 6] })).toThrow(ShapeError);
  expect(() => new TensorDataset(images, labels, { sampleShape: [0, 4, 6] })).toThrow(ShapeError);
  expect(() => new TensorDataset(new Tensor(images, [3, 8]), labels)).toThrow(
    /images must have shape \[N, C, H, W\], got \[3, 8\]/,
  );
  expect(() => new TensorDataset(new Tensor(images, [3, 2, 2, 2]), Int32Array.from([0, 1]))).toThrow(
    /has 3 samples .* labels has 2/,
  );
  expect(() => new TensorDataset(new Tensor(images, [3, 2, 2, 2]), labels, { sampleShape: [2, 4, 1] })).toThrow(
    ShapeError,
  );
  expect(() => new TensorDataset(images, Int32Array.from([0, -1, 0]), { sampleShape: [2, 2, 2] })).toThrow(
    /labels\[1\] = -1/,
  );
  expect(() => new TensorDataset(images, labels, { sampleShape: [2, 2, 2], classes: ['a', 'b'] })).toThrow(
    /labels\[0\] = 2, expected 0..1/,
  );
});

test('get/getBatch errors', () => {
  const ds = new TensorDataset(images, labels, { sampleShape: [2, 2, 2] });
  expect(() => ds.get(3)).toThrow(RangeError);
  expect(() => ds.get(-1)).toThrow(RangeError);
  expect(() => ds.get(0.5)).toThrow(RangeError);
  expect(() => ds.get('0' as unknown as number)).toThrow(TypeError);
  expect(() => ds.getBatch([0], new Float32Array(7), new Int32Array(1))).toThrow(
    /images length 7 != indices.length\*C\*H\*W = 1\*8 = 8/,
  );
  expect(() => ds.getBatch([0], new Float32Array(8), new Int32Array(2))).toThrow(ShapeError);
  expect(() => ds.getBatch([0, 5], new Float32Array(16), new Int32Array(2))).toThrow(/index 5 out of range 0..2/);
  expect(() => ds.getBatch([0], new Float64Array(8) as unknown as Float32Array, new Int32Array(1))).toThrow(TypeError);
});
