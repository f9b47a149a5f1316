// SPDX-License-Identifier: MIT
// Conv2d (lib/modules/conv2d.ts): forward and backward against the float64 loops of test/native/reference.ts,
// gradcheck, option validation and repr. The kernels themselves are tested per ISA in test/native/conv2d.test.ts.
import { gradcheck } from '../../lib/gradcheck';
import { Conv2d, type Conv2dOptions } from '../../lib/modules/conv2d';
import { Generator, manualSeed } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { expectErrorNamed, randomTensor } from '../helpers';
import { conv2dBackward, conv2dForward, expectClose, type ConvShape } from '../native/reference';

/** The reference's shape record for a layer and an input shape. */
function shapeOf(conv: Conv2d, [n, c, h, w]: readonly number[]): ConvShape {
  const [kh, kw] = conv.kernelSize;
  return {
    n,
    c,
    h,
    w,
    oc: conv.outChannels,
    kh,
    kw,
    sh: conv.stride[0],
    sw: conv.stride[1],
    ph: conv.pads.before[0],
    pw: conv.pads.before[1],
    dh: conv.dilation[0],
    dw: conv.dilation[1],
    groups: conv.groups,
  };
}

const CASES: [string, Omit<Conv2dOptions, 'generator'>, number[]][] = [
  ['3x3, stride 1, no padding', { inChannels: 2, outChannels: 3, kernelSize: 3 }, [2, 2, 6, 7]],
  ['stride 2, padding 1', { inChannels: 3, outChannels: 2, kernelSize: 3, stride: 2, padding: 1 }, [1, 3, 7, 9]],
  ['rectangular kernel, no bias', { inChannels: 1, outChannels: 4, kernelSize: [2, 3], bias: false }, [3, 1, 5, 5]],
  ['dilation 2, groups 2', { inChannels: 4, outChannels: 2, kernelSize: 2, dilation: 2, groups: 2 }, [1, 4, 6, 6]],
  [
    'per-axis stride and padding',
    { inChannels: 2, outChannels: 5, kernelSize: [3, 1], stride: [1, 2], padding: [0, 2] },
    [2, 2, 4, 5],
  ],
  ['1x1 kernel, 7 channels', { inChannels: 7, outChannels: 9, kernelSize: 1 }, [2, 7, 3, 3]],
];

describe.each(CASES)('%s', (_name, options, inputShape) => {
  const make = () => new Conv2d({ ...options, generator: new Generator(1) });

  test('forward and backward match the float64 reference', () => {
    const conv = make();
    const x = randomTensor(inputShape, 2);
    const s = shapeOf(conv, inputShape);
    const y = conv.forward(x);
    const ref = conv2dForward(x.data, conv.weight.data.data, conv.bias?.data.data ?? null, s);
    expect(y.shape).toEqual(conv.outputShape(inputShape));
    expectClose(y.data, ref, 1e-5, 1e-5, 'output');

    const dy = randomTensor(y.shape as number[], 3);
    const dx = conv.backward(dy);
    const g = conv2dBackward(dy.data, x.data, conv.weight.data.data, s);
    expectClose(dx.data, g.dx, 1e-5, 1e-4, 'dinput');
    expectClose(conv.weight.grad.data, g.dw, 1e-5, 1e-4, 'dweight');
    if (conv.bias) expectClose(conv.bias.grad.data, g.db, 1e-5, 1e-4, 'dbias');
    else expect(conv.namedParameters().map(([n]) => n)).toEqual(['weight']);
  });

  test('gradcheck: backward agrees with finite differences of forward', () => {
    const r = gradcheck(make(), randomTensor(inputShape, 4, 2), { maxPerTensor: 40 });
    expect(r.mismatches).toEqual([]);
    expect(r.checked).toBeGreaterThan(0);
  });
});

test('parameter gradients accumulate across backward calls; inputGrad false skips the input gradient', () => {
  const conv = new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 2, generator: new Generator(5) });
  const x = randomTensor([1, 2, 3, 3], 6);
  const dy = randomTensor([1, 2, 2, 2], 7);
  conv.forward(x);
  conv.backward(dy);
  const once = conv.weight.grad.data.slice();
  conv.forward(x);
  expect(conv.backward(dy, { inputGrad: false })).toBeNull();
  expectClose(
    conv.weight.grad.data,
    once.map((v) => 2 * v),
    1e-6,
    1e-6,
    'twice',
  );
});

test('initialisation is U(-1/sqrt(fanIn), 1/sqrt(fanIn)) from the given generator (or the global one)', () => {
  const conv = new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: [2, 3], generator: new Generator(9) });
  const bound = 1 / Math.sqrt(3 * 2 * 3);
  for (const p of conv.parameters()) expect(p.data.data.every((v) => Math.abs(v) <= bound)).toBe(true);
  expect(
    new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: [2, 3], generator: new Generator(9) }).weight.data.data,
  ).toEqual(conv.weight.data.data);
  manualSeed(4);
  const a = new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 2 });
  manualSeed(4);
  expect(new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 2 }).weight.data.data).toEqual(a.weight.data.data);
});

describe('options', () => {
  const base = { inChannels: 3, outChannels: 6, kernelSize: 3 };
  test.each([
    [{ ...base, kernelSize: 0 }, 'RangeError', /Conv2d: kernelSize must be an integer >= 1, got 0/],
    [
      { ...base, kernelSize: [3] },
      'RangeError',
      /Conv2d: kernelSize must be a number or an \[h, w\] pair, got 1 entries/,
    ],
    [{ ...base, kernelSize: '3' }, 'TypeError', /Conv2d: kernelSize must be a number or an \[h, w\] pair, got string/],
    [{ ...base, stride: [1, 0] }, 'RangeError', /Conv2d: stride must be an integer >= 1, got 0/],
    [{ ...base, padding: -1 }, 'RangeError', /Conv2d: padding must be an integer >= 0/],
    [{ ...base, dilation: 1.5 }, 'RangeError', /Conv2d: dilation/],
    [{ ...base, groups: 2 }, 'RangeError', /groups 2 must divide inChannels 3 and outChannels 6/],
    [{ ...base, inChannels: undefined }, 'TypeError', /Conv2d: inChannels must be a number, got undefined/],
    [{ ...base, bias: 'no' }, 'TypeError', /Conv2d: bias must be a boolean, got string/],
    [{ ...base, bias: 0 }, 'TypeError', /Conv2d: bias must be a boolean, got number/],
    [{ ...base, generator: 42 }, 'TypeError', /Conv2d: generator must be a Generator, got number/],
    [{ ...base, padding_mode: 'reflect' }, 'RangeError', /Conv2d: unknown option 'padding_mode' \(known: inChannels, /],
  ] as [Record<string, unknown>, 'TypeError' | 'RangeError', RegExp][])('%j', (opts, kind, message) => {
    expectErrorNamed(() => new Conv2d(opts as unknown as Conv2dOptions), kind, message);
  });

  test('a weight past the 2^32-element tensor cap is a RangeError (a ShapeError) before anything is allocated', () => {
    expect(() => new Conv2d({ ...base, outChannels: 2 ** 40 })).toThrow(RangeError);
    expect(() => new Conv2d({ ...base, outChannels: 2 ** 40 })).toThrow(/too many elements/);
  });

  test('not an object', () => {
    expectErrorNamed(() => new Conv2d(3 as never), 'TypeError', /Conv2d: options must be an object, got number/);
    expectErrorNamed(() => new Conv2d(undefined as never), 'TypeError', /Conv2d: inChannels must be a number/);
  });

  test('bias: false builds no bias; null and undefined take the default (a bias)', () => {
    expect(new Conv2d({ ...base, bias: false }).bias).toBeNull();
    expect(new Conv2d({ ...base, bias: null as never }).bias?.shape).toEqual([6]);
    expect(new Conv2d({ ...base, bias: undefined }).bias?.shape).toEqual([6]);
  });

  test('input checks name the layer', () => {
    const conv = new Conv2d({ ...base, kernelSize: 5 });
    expect(() => conv.forward(randomTensor([1, 2, 8, 8], 1))).toThrow(/expected shape \[\*, 3, \*, \*\]/);
    expect(() => conv.forward(randomTensor([1, 3, 4, 8], 1))).toThrow(/smaller than/);
    conv.forward(randomTensor([1, 3, 5, 5], 1));
    expect(() => conv.backward(Tensor.zeros([1, 6, 2, 2]))).toThrow(/doutput: expected shape \[1, 6, 1, 1\]/);
    expect(() => new Conv2d(base).backward(Tensor.zeros([1, 6, 1, 1]))).toThrow(/call forward\(\) first/);
  });
});

test('toString shows the options that differ from the defaults', () => {
  expect(new Conv2d({ inChannels: 3, outChannels: 6, kernelSize: 5 }).toString()).toBe(
    'Conv2d(3, 6, kernelSize=[5, 5])',
  );
  expect(
    new Conv2d({
      inChannels: 4,
      outChannels: 2,
      kernelSize: [3, 1],
      stride: 2,
      padding: [1, 0],
      dilation: 2,
      groups: 2,
      bias: false,
    }).toString(),
  ).toBe('Conv2d(4, 2, kernelSize=[3, 1], stride=[2, 2], padding=[1, 0], dilation=[2, 2], groups=2, bias=false)');
});
