// SPDX-License-Identifier: MIT
// Tests of lib/modules/adaptive-avg-pool2d.ts: PyTorch's window rule, null sizes, gradcheck, option errors and training state.
import { gradcheck } from '../../lib/gradcheck';
import { AdaptiveAvgPool2d } from '../../lib/modules/adaptive-avg-pool2d';
import { Tensor } from '../../lib/tensor/tensor';
import { randomTensor } from '../helpers';

test('output size 1 is the global average; a null entry keeps the input size', () => {
  const x = Tensor.fromArray([1, 2, 3, 4, 5, 6], [1, 1, 2, 3]);
  expect(Array.from(new AdaptiveAvgPool2d(1).forward(x).data)).toEqual([3.5]);
  const rows = new AdaptiveAvgPool2d({ outputSize: [null, 1] });
  expect(rows.outputShape([4, 3, 2, 3])).toEqual([4, 3, 2, 1]);
  expect(Array.from(rows.forward(x).data)).toEqual([2, 5]);
  expect(new AdaptiveAvgPool2d([2, null]).outputShape([1, 1, 7, 9])).toEqual([1, 1, 2, 9]);
});

test('windows [floor(i in / out), ceil((i + 1) in / out)) overlap when out does not divide in', () => {
  // in 5, out 3: windows [0, 2), [1, 4), [3, 5).
  const x = Tensor.fromArray([1, 2, 3, 4, 5], [1, 1, 1, 5]);
  const pool = new AdaptiveAvgPool2d([1, 3]);
  expect(Array.from(pool.forward(x).data)).toEqual([1.5, 3, 4.5]);
  const g = pool.backward(Tensor.fromArray([2, 3, 4], [1, 1, 1, 3]));
  expect(Array.from(g.data)).toEqual([1, 1 + 1, 1, 1 + 2, 2]);
  // out > in repeats pixels: in 2, out 3 gives [0, 1), [0, 2), [1, 2).
  expect(Array.from(new AdaptiveAvgPool2d([1, 3]).forward(Tensor.fromArray([2, 4], [1, 1, 1, 2])).data)).toEqual([
    2, 3, 4,
  ]);
});

test.each([
  ['to 1x1', 1, [2, 3, 5, 7]],
  ['to a non-divisible 3x4', [3, 4], [1, 2, 7, 10]],
  ['upsampling to 4x6', [4, 6], [1, 2, 3, 4]],
  ['keeping the height', [null, 2], [2, 1, 3, 5]],
] as const)('gradcheck %s', (_name, size, shape) => {
  const r = gradcheck(new AdaptiveAvgPool2d(size), randomTensor([...shape], 4), { maxPerTensor: 80 });
  if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
  expect(r.checked).toBeGreaterThan(0);
});

describe('bad options throw, naming the option', () => {
  const cases: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    [
      'outputSize 0',
      () => new AdaptiveAvgPool2d(0),
      RangeError,
      /AdaptiveAvgPool2d: outputSize must be an integer >= 1, got 0/,
    ],
    [
      'outputSize 2.5',
      () => new AdaptiveAvgPool2d([2.5, 1]),
      RangeError,
      /outputSize must be an integer >= 1, got 2.5/,
    ],
    [
      'outputSize of three',
      () => new AdaptiveAvgPool2d([1, 2, 3] as never),
      RangeError,
      /AdaptiveAvgPool2d: outputSize must hold 2 entries, got 3/,
    ],
    [
      'outputSize an object',
      () => new AdaptiveAvgPool2d({ outputSize: {} } as never),
      TypeError,
      /AdaptiveAvgPool2d: outputSize must be a number or an \[h, w\] pair, got Object/,
    ],
    [
      'outputSize missing',
      () => new AdaptiveAvgPool2d({} as never),
      TypeError,
      /outputSize must be a number or an \[h, w\] pair, got undefined/,
    ],
    [
      'outputSize entry a string',
      () => new AdaptiveAvgPool2d(['2', 2] as never),
      TypeError,
      /outputSize must hold numbers or null, got string/,
    ],
    [
      'an unknown option',
      () => new AdaptiveAvgPool2d({ outputSize: 1, ceilMode: true } as never),
      RangeError,
      /AdaptiveAvgPool2d: unknown option 'ceilMode'/,
    ],
    [
      'options null',
      () => new AdaptiveAvgPool2d(null as never),
      TypeError,
      /AdaptiveAvgPool2d: options must be an output size or an object/,
    ],
    [
      'a 2-D input',
      () => new AdaptiveAvgPool2d(1).forward(Tensor.zeros([3, 4])),
      RangeError,
      /AdaptiveAvgPool2d: input: expected shape/,
    ],
  ];
  test.each(cases)('%s', (_name, fn, cls, message) => {
    expect(fn).toThrow(cls);
    expect(fn).toThrow(message);
  });

  test('backward before forward, after predict, and with a misshapen gradient', () => {
    const pool = new AdaptiveAvgPool2d(2);
    expect(() => pool.backward(Tensor.zeros([1, 1, 2, 2]))).toThrow(
      /AdaptiveAvgPool2d.backward: call forward\(\) first/,
    );
    pool.forward(Tensor.zeros([1, 1, 5, 5]));
    expect(() => pool.backward(Tensor.zeros([1, 1, 3, 3]))).toThrow(/doutput: expected shape \[1, 1, 2, 2\]/);
    const fresh = new AdaptiveAvgPool2d(2);
    fresh.predict(Tensor.zeros([1, 1, 5, 5]));
    expect(() => fresh.backward(Tensor.zeros([1, 1, 2, 2]))).toThrow(/call forward\(\) first/);
  });
});

test('toString and predict()', () => {
  expect(String(new AdaptiveAvgPool2d([null, 3]))).toBe('AdaptiveAvgPool2d(outputSize=[null, 3])');
  const pool = new AdaptiveAvgPool2d(1);
  pool.forward(randomTensor([1, 2, 3, 3], 1));
  expect(Array.from(pool.predict(Tensor.fromArray([1, 3, 5, 7], [1, 1, 2, 2])).data)).toEqual([4]);
  expect(pool.backward(Tensor.zeros([1, 2, 1, 1])).shape).toEqual([1, 2, 3, 3]); // predict() kept the training state
});
