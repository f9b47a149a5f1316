// SPDX-License-Identifier: MIT
// Tests of lib/modules/avg-pool2d.ts: output sizes, gradcheck, option errors naming the option, training state and Sequential use.
import { gradcheck } from '../../lib/gradcheck';
import { AvgPool2d } from '../../lib/modules/avg-pool2d';
import { poolOutputSize } from '../../lib/modules/options';
import { Flatten } from '../../lib/modules/flatten';
import { Linear } from '../../lib/modules/linear';
import { MaxPool2d } from '../../lib/modules/max-pool2d';
import { Sequential } from '../../lib/modules/sequential';
import { Generator } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, randomTensor } from '../helpers';

test('a 2x2 window averages, and the gradient spreads dout / 4', () => {
  const pool = new AvgPool2d(2);
  const x = Tensor.fromArray([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 1, 4, 4]);
  expect(Array.from(pool.forward(x).data)).toEqual([3.5, 5.5, 11.5, 13.5]);
  const g = pool.backward(Tensor.fromArray([4, 8, 12, 16], [1, 1, 2, 2]));
  expect(Array.from(g.data)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
});

test('ceil mode: a window hanging past the input counts only the part inside (padding 0)', () => {
  const x = Tensor.fromArray([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
  const pool = new AvgPool2d({ kernelSize: 2, ceilMode: true });
  expect(pool.outputShape([1, 1, 3, 3])).toEqual([1, 1, 2, 2]);
  expect(Array.from(pool.forward(x).data)).toEqual([3, 4.5, 7.5, 9]);
  // divisorOverride replaces every divisor, clipped windows included.
  const sum = new AvgPool2d({ kernelSize: 2, ceilMode: true, divisorOverride: 1 });
  expect(Array.from(sum.forward(x).data)).toEqual([12, 9, 15, 9]);
});

test('padding with countIncludePad true divides by the padded window, false by the pixels covered', () => {
  const x = Tensor.fromArray([4, 4, 4, 4], [1, 1, 2, 2]);
  const incl = new AvgPool2d({ kernelSize: 2, stride: 1, padding: 1 });
  const excl = new AvgPool2d({ kernelSize: 2, stride: 1, padding: 1, countIncludePad: false });
  expect(Array.from(incl.forward(x).data)).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
  expect(Array.from(excl.forward(x).data)).toEqual(new Array(9).fill(4));
});

test('poolOutputSize follows PyTorch (and MaxPool2d) in floor and ceil mode', () => {
  for (const [inp, k, s, p] of [
    [7, 3, 2, 1],
    [8, 3, 2, 1],
    [5, 2, 2, 0],
    [6, 3, 3, 1],
    [1, 1, 1, 0],
    [9, 4, 3, 2],
    [5, 2, 2, 1],
  ]) {
    for (const ceilMode of [false, true]) {
      const max = new MaxPool2d({ kernelSize: k, stride: s, padding: p, ceilMode }).outputShape([1, 1, inp, inp]);
      expect(poolOutputSize(inp, k, s, p, ceilMode)).toBe(max[2]);
    }
  }
  // Ceil mode drops a last window that would start in the right padding.
  expect(poolOutputSize(5, 2, 2, 1, true)).toBe(3); // (5 + 2 - 2) / 2 rounds up to 4 windows; a 4th would start at 3 * 2 - 1 = 5, in the right padding
  expect(poolOutputSize(8, 3, 2, 1, true)).toBe(5);
});

describe('gradcheck', () => {
  test.each([
    ['kernel 2', { kernelSize: 2 }, [2, 2, 5, 5]],
    ['3x3 stride 2 padding 1', { kernelSize: 3, stride: 2, padding: 1 }, [1, 2, 7, 9]],
    [
      'ceil mode, countIncludePad false',
      { kernelSize: [3, 2], stride: 2, padding: [1, 0], ceilMode: true, countIncludePad: false },
      [1, 3, 6, 5],
    ],
    ['divisorOverride', { kernelSize: 3, stride: 1, padding: 1, divisorOverride: 7 }, [2, 1, 4, 5]],
  ] as const)('AvgPool2d %s', (_name, opts, shape) => {
    const r = gradcheck(new AvgPool2d(opts), randomTensor([...shape], 3), { maxPerTensor: 80 });
    if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
    expect(r.checked).toBeGreaterThan(0);
  });
});

describe('bad options throw, naming the option', () => {
  const cases: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['kernelSize 0', () => new AvgPool2d(0), RangeError, /AvgPool2d: kernelSize must be an integer >= 1, got 0/],
    [
      'kernelSize missing',
      () => new AvgPool2d({} as never),
      TypeError,
      /kernelSize must be a number or an \[h, w\] pair/,
    ],
    [
      'stride 0',
      () => new AvgPool2d({ kernelSize: 2, stride: 0 }),
      RangeError,
      /AvgPool2d: stride must be an integer >= 1/,
    ],
    [
      'negative padding',
      () => new AvgPool2d({ kernelSize: 2, padding: -1 }),
      RangeError,
      /AvgPool2d: padding must be an integer >= 0/,
    ],
    [
      'padding over half the kernel',
      () => new AvgPool2d({ kernelSize: 3, padding: [1, 2] }),
      RangeError,
      /AvgPool2d: padding \[1, 2\] must be at most half of kernelSize \[3, 3\]/,
    ],
    [
      'ceilMode not boolean',
      () => new AvgPool2d({ kernelSize: 2, ceilMode: 1 as never }),
      TypeError,
      /AvgPool2d: ceilMode must be a boolean, got number/,
    ],
    [
      'countIncludePad not boolean',
      () => new AvgPool2d({ kernelSize: 2, countIncludePad: 'no' as never }),
      TypeError,
      /AvgPool2d: countIncludePad must be a boolean/,
    ],
    [
      'divisorOverride 0',
      () => new AvgPool2d({ kernelSize: 2, divisorOverride: 0 }),
      RangeError,
      /AvgPool2d: divisorOverride must be a non-zero integer, got 0/,
    ],
    [
      'divisorOverride 1.5',
      () => new AvgPool2d({ kernelSize: 2, divisorOverride: 1.5 }),
      RangeError,
      /divisorOverride must be a non-zero integer, got 1.5/,
    ],
    [
      'divisorOverride string',
      () => new AvgPool2d({ kernelSize: 2, divisorOverride: '2' as never }),
      TypeError,
      /divisorOverride must be a number, got string/,
    ],
    [
      'an unknown option',
      () => new AvgPool2d({ kernelSize: 2, dilation: 2 } as never),
      RangeError,
      /AvgPool2d: unknown option 'dilation'/,
    ],
    [
      'options null',
      () => new AvgPool2d(null as never),
      TypeError,
      /AvgPool2d: options must be a kernel size or an object/,
    ],
    [
      'input smaller than the kernel',
      () => new AvgPool2d(3).outputShape([1, 1, 2, 5]),
      RangeError,
      /AvgPool2d: input 2x5 with padding \[0, 0\] is smaller than the kernel \[3, 3\]/,
    ],
    [
      'a 3-D input',
      () => new AvgPool2d(2).forward(Tensor.zeros([1, 4, 4])),
      RangeError,
      /AvgPool2d: input: expected shape \[\*, \*, \*, \*\]/,
    ],
  ];
  test.each(cases)('%s', (_name, fn, cls, message) => {
    expect(fn).toThrow(cls);
    expect(fn).toThrow(message);
  });

  test('backward before forward, and with a misshapen gradient', () => {
    const pool = new AvgPool2d(2);
    expect(() => pool.backward(Tensor.zeros([1, 1, 2, 2]))).toThrow(/AvgPool2d.backward: call forward\(\) first/);
    pool.forward(Tensor.zeros([1, 1, 4, 4]));
    expect(() => pool.backward(Tensor.zeros([1, 1, 3, 3]))).toThrow(
      /AvgPool2d.backward: doutput: expected shape \[1, 1, 2, 2\]/,
    );
  });
});

test('defaults and toString', () => {
  const pool = new AvgPool2d([2, 3]);
  expect(pool).toMatchObject({
    kernelSize: [2, 3],
    stride: [2, 3],
    padding: [0, 0],
    ceilMode: false,
    countIncludePad: true,
    divisorOverride: undefined,
  });
  expect(String(pool)).toBe('AvgPool2d(kernelSize=[2, 3], stride=[2, 3], padding=[0, 0])');
  const all = new AvgPool2d({
    kernelSize: 3,
    stride: 2,
    padding: 1,
    ceilMode: true,
    countIncludePad: false,
    divisorOverride: 4,
  });
  expect(String(all)).toBe(
    'AvgPool2d(kernelSize=[3, 3], stride=[2, 2], padding=[1, 1], ceilMode=true, countIncludePad=false, divisorOverride=4)',
  );
  expect(new AvgPool2d({ kernelSize: 2, divisorOverride: null }).divisorOverride).toBeUndefined();
});

test('in a Sequential: training steps reuse buffers, and predict() leaves the pending backward alone', () => {
  const net = new Sequential(
    new AvgPool2d({ kernelSize: 3, stride: 2, padding: 1 }),
    new Flatten(),
    new Linear({ inFeatures: 2 * 3 * 4, outFeatures: 3, generator: new Generator(1) }),
  );
  const x = randomTensor([2, 2, 5, 7], 1);
  const dout = randomTensor([2, 3], 2);
  net.forward(x);
  const first = net.backward(dout).data.slice();
  net.forward(x);
  net.predict(randomTensor([4, 2, 5, 7], 9)); // another batch size; must not touch the saved state
  expectAllClose(net.backward(dout).data, first, 0, 0, 'dinput after predict()');
  net.eval();
  expect(Array.from(net.predict(x).data)).toEqual(Array.from(net.forward(x).data));
});
