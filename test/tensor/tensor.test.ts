// SPDX-License-Identifier: MIT
// Tensor construction, validation and views.
import * as vm from 'vm';
import { ShapeError } from '../../lib/errors';
import { Tensor } from '../../lib/tensor/tensor';

describe('Tensor', () => {
  test('takes a Float32Array from any realm, and nothing that only claims to be one', () => {
    const foreign = vm.runInNewContext('new Float32Array(6)') as Float32Array;
    expect(new Tensor(foreign, [2, 3]).data).toBe(foreign);
    const fake = new Int32Array(6);
    Object.defineProperty(fake, Symbol.toStringTag, { value: 'Float32Array' });
    expect(() => new Tensor(fake as unknown as Float32Array, [2, 3])).toThrow(/data must be a Float32Array/);
    const shaped = Object.create(Float32Array.prototype) as Float32Array;
    expect(() => new Tensor(shaped, [0])).toThrow(/data must be a Float32Array/);
  });

  test('wraps data without copying and exposes shape', () => {
    const data = new Float32Array(24);
    const t = new Tensor(data, [2, 3, 2, 2]);
    expect(t.data).toBe(data);
    expect(t.shape).toEqual([2, 3, 2, 2]);
    expect(t.size).toBe(24);
    expect(t.ndim).toBe(4);
    const r = t.reshape([6, 4]);
    r.data[5] = 7;
    expect(t.data[5]).toBe(7);
    expect(t.at(0, 1, 0, 1)).toBe(7);
    expect(t.clone().data).not.toBe(data);
  });

  test('rejects wrong data, shapes and lengths with a clear error', () => {
    expect(() => new Tensor([1, 2] as never, [2])).toThrow(TypeError);
    expect(() => new Tensor(new Float64Array(2) as never, [2])).toThrow(/Float32Array, got Float64Array/);
    expect(() => new Tensor(new Float32Array(5), [2, 3])).toThrow(ShapeError);
    expect(() => new Tensor(new Float32Array(5), [2, 3])).toThrow(/data length 5 != product of shape \[2, 3\] = 6/);
    expect(() => new Tensor(new Float32Array(1), [1.5] as never)).toThrow(RangeError);
    expect(() => new Tensor(new Float32Array(1), [-1])).toThrow(/shape\[0\]/);
    expect(() => Tensor.zeros([2 ** 20, 2 ** 20])).toThrow(/too many elements/);
    expect(() => new Tensor(new Float32Array(4), [2, 2]).at(2, 0)).toThrow(RangeError);
  });

  test('a scalar shape [] holds one value', () => {
    expect(Tensor.zeros([]).size).toBe(1);
  });
});
