// SPDX-License-Identifier: MIT
// Linear (lib/modules/linear.ts): forward and backward against the float64 loops of test/native/reference.ts,
// gradcheck, gradient accumulation, option validation and repr. The kernels are tested in test/native/dense.test.ts.
import { gradcheck } from '../../lib/gradcheck';
import { Linear, type LinearOptions } from '../../lib/modules/linear';
import { Generator, manualSeed } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { expectErrorNamed, randomTensor } from '../helpers';
import { expectClose, linearBackward, linearForward } from '../native/reference';

// Feature counts around SIMD widths (8, 16) and a prime; batch 1 and an odd batch.
const CASES: [number, number, number, boolean][] = [
  [1, 1, 1, true],
  [3, 7, 5, true],
  [5, 8, 16, false],
  [2, 17, 9, true],
  [4, 400, 120, true],
];

describe.each(CASES)('batch %i, %i -> %i, bias %s', (batch, nin, nout, bias) => {
  const make = () =>
    new Linear({ inFeatures: nin, outFeatures: nout, bias, generator: new Generator(nin * 31 + nout) });

  test('forward and backward match the float64 reference', () => {
    const fc = make();
    const x = randomTensor([batch, nin], 2);
    const y = fc.forward(x);
    expect(y.shape).toEqual([batch, nout]);
    const w = fc.weight.data.data;
    expectClose(y.data, linearForward(x.data, w, fc.bias?.data.data ?? null, batch, nin, nout), 1e-5, 1e-5, 'output');
    const dy = randomTensor([batch, nout], 3);
    const dx = fc.backward(dy);
    const g = linearBackward(dy.data, x.data, w, batch, nin, nout);
    expectClose(dx.data, g.dx, 1e-5, 1e-4, 'dinput');
    expectClose(fc.weight.grad.data, g.dw, 1e-5, 1e-4, 'dweight');
    if (fc.bias) expectClose(fc.bias.grad.data, g.db, 1e-5, 1e-4, 'dbias');
    else expect(fc.namedParameters().map(([n]) => n)).toEqual(['weight']);
  });

  test('gradcheck: backward agrees with finite differences of forward', () => {
    const r = gradcheck(make(), randomTensor([batch, nin], 4), { maxPerTensor: 40 });
    expect(r.mismatches).toEqual([]);
    expect(r.checked).toBeGreaterThan(0);
  });
});

test('gradients accumulate across backward calls until zeroGrad; inputGrad false returns null', () => {
  const fc = new Linear({ inFeatures: 3, outFeatures: 2, generator: new Generator(1) });
  const x = randomTensor([4, 3], 2);
  const g = randomTensor([4, 2], 3);
  fc.forward(x);
  fc.backward(g);
  const once = fc.weight.grad.data.slice();
  fc.forward(x);
  expect(fc.backward(g, { inputGrad: false })).toBeNull();
  expectClose(
    fc.weight.grad.data,
    once.map((v) => 2 * v),
    1e-6,
    1e-6,
    'twice',
  );
  fc.zeroGrad();
  expect(fc.weight.grad.data.every((v) => v === 0)).toBe(true);
});

test('initialisation is U(-1/sqrt(inFeatures), 1/sqrt(inFeatures)), seeded', () => {
  manualSeed(7);
  const a = new Linear({ inFeatures: 16, outFeatures: 4 });
  for (const p of a.parameters()) expect(p.data.data.every((v) => Math.abs(v) <= 0.25)).toBe(true);
  manualSeed(7);
  expect(new Linear({ inFeatures: 16, outFeatures: 4 }).weight.data.data).toEqual(a.weight.data.data);
});

describe('options', () => {
  const base = { inFeatures: 4, outFeatures: 2 };
  test.each([
    [{ ...base, inFeatures: 0 }, 'RangeError', /Linear: inFeatures must be an integer >= 1, got 0/],
    [{ ...base, outFeatures: 2.5 }, 'RangeError', /Linear: outFeatures must be an integer >= 1, got 2.5/],
    [{ ...base, outFeatures: '2' }, 'TypeError', /Linear: outFeatures must be a number, got string/],
    [{ inFeatures: 4 }, 'TypeError', /Linear: outFeatures must be a number, got undefined/],
    [{ ...base, bias: 'no' }, 'TypeError', /Linear: bias must be a boolean, got string/],
    [{ ...base, bias: 1 }, 'TypeError', /Linear: bias must be a boolean, got number/],
    [{ ...base, generator: {} }, 'TypeError', /Linear: generator must be a Generator, got Object/],
    [{ ...base, activation: 'relu' }, 'RangeError', /Linear: unknown option 'activation' \(known: inFeatures, /],
  ] as [Record<string, unknown>, 'TypeError' | 'RangeError', RegExp][])('%j', (opts, kind, message) => {
    expectErrorNamed(() => new Linear(opts as unknown as LinearOptions), kind, message);
  });

  test('a weight past the 2^32-element tensor cap is a RangeError (a ShapeError)', () => {
    expect(() => new Linear({ inFeatures: 2 ** 20, outFeatures: 2 ** 13 })).toThrow(RangeError);
    expect(() => new Linear({ inFeatures: 2 ** 20, outFeatures: 2 ** 13 })).toThrow(/too many elements/);
  });

  test('bias: false builds no bias; null and undefined take the default (a bias)', () => {
    expect(new Linear({ ...base, bias: false }).bias).toBeNull();
    expect(new Linear({ ...base, bias: null as never }).bias?.shape).toEqual([2]);
    expect(new Linear(base).bias?.shape).toEqual([2]);
  });

  test('input checks name the layer', () => {
    const fc = new Linear(base);
    expect(() => fc.forward(Tensor.zeros([2, 3]))).toThrow(/Linear: input: expected shape \[\*, 4\]/);
    expect(() => fc.forward(Tensor.zeros([2, 2, 2]))).toThrow(/Linear: input/);
    expect(() => fc.backward(Tensor.zeros([2, 2]))).toThrow(/call forward\(\) first/);
    fc.forward(Tensor.zeros([3, 4]));
    expect(() => fc.backward(Tensor.zeros([2, 2]))).toThrow(/Linear\.backward: doutput: expected shape \[3, 2\]/);
  });
});

test('toString', () => {
  expect(new Linear({ inFeatures: 400, outFeatures: 120 }).toString()).toBe('Linear(inFeatures=400, outFeatures=120)');
  expect(new Linear({ inFeatures: 2, outFeatures: 1, bias: false }).toString()).toBe(
    'Linear(inFeatures=2, outFeatures=1, bias=false)',
  );
});
