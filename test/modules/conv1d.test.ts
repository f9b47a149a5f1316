// SPDX-License-Identifier: MIT
// Tests of Conv1d: PyTorch 1.13 fixtures (test/fixtures/conv1d.safetensors), gradcheck, the Conv2d equivalence and every error path.
import * as fs from 'fs';
import * as path from 'path';
import { ShapeError } from '../../lib/errors';
import { gradcheck } from '../../lib/gradcheck';
import { encodeSafetensors, readSafetensors } from '../../lib/io/safetensors';
import { Conv1d, type Conv1dOptions } from '../../lib/modules/conv1d';
import { Conv2d } from '../../lib/modules/conv2d';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { Generator } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';

const FILE = path.join(__dirname, '..', 'fixtures', 'conv1d.safetensors');
const { tensors: fx, metadata } = readSafetensors(FILE);
const CASES = ['conv1d_s2p1', 'conv1d_groups', 'conv1d_seed3'];

describe.each(CASES)('%s matches PyTorch 1.13 within 1e-5', (name) => {
  test('forward, input, weight and bias gradients', () => {
    const { op, ...options } = JSON.parse(metadata[`${name}.config`]) as Conv1dOptions & { op: string };
    expect(op).toBe('conv1d');
    const conv = new Conv1d(options);
    conv.loadStateDict(Object.fromEntries(conv.namedParameters().map(([n]) => [n, fx[`${name}.${n}`]])));
    const out = conv.forward(fx[`${name}.input`]);
    expect(out.shape).toEqual(fx[`${name}.output`].shape);
    expectAllClose(out.data, fx[`${name}.output`].data, 1e-5, 0, `${name}.output`);
    const dinput = conv.backward(fx[`${name}.dout`]);
    expectAllClose(dinput.data, fx[`${name}.dinput`].data, 1e-5, 0, `${name}.dinput`);
    for (const [n, p] of conv.namedParameters())
      expectAllClose(p.grad.data, fx[`${name}.d${n}`].data, 1e-5, 0, `${name}.d${n}`);
  });
});

test('the fixture file re-encodes byte for byte (it is in the reference safetensors layout)', () => {
  const { tensors, metadata: meta } = readSafetensors(FILE);
  expect(meta.generator).toBe('test/fixtures/gen_conv1d.py');
  expect(Buffer.compare(encodeSafetensors(tensors, meta), fs.readFileSync(FILE))).toBe(0);
});

describe('gradcheck', () => {
  test.each([
    ['kernel 3, no padding', { inChannels: 2, outChannels: 3, kernelSize: 3 }, [2, 2, 7]],
    ['stride 2, padding 1', { inChannels: 3, outChannels: 2, kernelSize: 3, stride: 2, padding: 1 }, [2, 3, 9]],
    [
      'dilation 2, groups 2, no bias',
      { inChannels: 4, outChannels: 2, kernelSize: 2, dilation: 2, groups: 2, bias: false },
      [1, 4, 8],
    ],
    [
      'kernel as [k], padding larger than the dilated kernel',
      { inChannels: 1, outChannels: 2, kernelSize: [1], padding: 2 },
      [3, 1, 4],
    ],
  ] as const)('%s', (_name, opts, shape) => {
    const r = gradcheck(new Conv1d({ ...opts, generator: new Generator(1) }), randomTensor([...shape], 2), {
      maxPerTensor: 40,
    });
    if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
    expect(r.checked).toBeGreaterThan(0);
  });
});

test('equals Conv2d with height 1 on the same weights, forward and backward', () => {
  const opts = { inChannels: 4, outChannels: 6, stride: 2, padding: 1, dilation: 2, groups: 2 };
  const c1 = new Conv1d({ ...opts, kernelSize: 3, generator: new Generator(3) });
  const c2 = new Conv2d({ ...opts, kernelSize: [1, 3], stride: [1, 2], padding: [0, 1], dilation: [1, 2] });
  c2.loadStateDict({ weight: c1.weight.data.reshape([6, 2, 1, 3]), bias: c1.bias!.data });
  const x = randomTensor([3, 4, 11], 4);
  const y1 = c1.forward(x);
  const y2 = c2.forward(x.reshape([3, 4, 1, 11]));
  expect(y1.shape).toEqual([3, 6, 5]);
  expect(Array.from(y1.data)).toEqual(Array.from(y2.data));
  const g = randomTensor([3, 6, 5], 5);
  expect(Array.from(c1.backward(g).data)).toEqual(Array.from(c2.backward(g.reshape([3, 6, 1, 5])).data));
  expect(Array.from(c1.weight.grad.data)).toEqual(Array.from(c2.weight.grad.data));
  expect(Array.from(c1.bias!.grad.data)).toEqual(Array.from(c2.bias!.grad.data));
});

describe('module contract', () => {
  test('PyTorch names, layouts and default init U(+-1/sqrt(fanIn))', () => {
    const conv = new Conv1d({ inChannels: 4, outChannels: 6, kernelSize: 5, groups: 2, generator: new Generator(7) });
    expect(Object.fromEntries(Object.entries(conv.stateDict()).map(([k, t]) => [k, t.shape]))).toEqual({
      weight: [6, 2, 5],
      bias: [6],
    });
    const bound = 1 / Math.sqrt(2 * 5);
    for (const t of [conv.weight.data, conv.bias!.data]) {
      expect(Math.max(...t.data.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(new Set(t.data).size).toBe(t.size);
    }
    expect(conv.numParameters()).toBe(66);
    expect(conv.toString()).toBe('Conv1d(4, 6, kernelSize=5, groups=2)');
    expect(
      new Conv1d({
        inChannels: 1,
        outChannels: 1,
        kernelSize: 3,
        stride: 2,
        padding: 1,
        dilation: 2,
        bias: false,
      }).toString(),
    ).toBe('Conv1d(1, 1, kernelSize=3, stride=2, padding=1, dilation=2, bias=false)');
  });

  test('outputShape follows PyTorch: floor((L + 2p - d(k - 1) - 1) / s) + 1', () => {
    const conv = new Conv1d({ inChannels: 2, outChannels: 3, kernelSize: 3, stride: 2, padding: 1, dilation: 2 });
    expect(conv.outputShape([5, 2, 10])).toEqual([5, 3, 4]);
    expect(new Conv1d({ inChannels: 2, outChannels: 2, kernelSize: 3 }).outputShape([1, 2, 4])).toEqual([1, 2, 2]);
  });

  test('gradients accumulate, inputGrad false returns null, predict keeps no state', () => {
    const conv = new Conv1d({ inChannels: 2, outChannels: 2, kernelSize: 3, generator: new Generator(1) });
    const x = randomTensor([2, 2, 6], 1);
    const g = randomTensor([2, 2, 4], 2);
    conv.forward(x);
    conv.backward(g);
    const once = conv.weight.grad.data.slice();
    expect(conv.backward(g, { inputGrad: false })).toBeNull();
    expectAllClose(
      conv.weight.grad.data,
      once.map((v) => 2 * v),
      1e-6,
      0,
      'accumulated dweight',
    );
    const fresh = new Conv1d({ inChannels: 2, outChannels: 2, kernelSize: 3 }).eval();
    fresh.predict(x);
    expectErrorNamed(() => fresh.backward(g), 'Error', /Conv1d.backward: call forward\(\) first/);
  });

  test('runs inside Sequential (reused buffers) and predict()', () => {
    const gen = new Generator(9);
    const net = new Sequential(
      new Conv1d({ inChannels: 1, outChannels: 3, kernelSize: 3, padding: 1, generator: gen }),
      new ReLU(),
      new Conv1d({ inChannels: 3, outChannels: 2, kernelSize: 2, stride: 2, generator: gen }),
    );
    const x = randomTensor([2, 1, 8], 3);
    const y = net.forward(x);
    expect(y.shape).toEqual([2, 2, 4]);
    expect(Array.from(net.predict(x).data)).toEqual(Array.from(y.data));
    expect(net.backward(Tensor.zeros([2, 2, 4]).clone()).shape).toEqual([2, 1, 8]);
  });
});

describe('bad options and shapes throw errors naming the option', () => {
  const base = { inChannels: 2, outChannels: 2, kernelSize: 3 };
  test.each([
    [{ ...base, kernelSize: 0 }, 'RangeError', /Conv1d: kernelSize must be an integer >= 1, got 0/],
    [{ ...base, kernelSize: 2.5 }, 'RangeError', /kernelSize/],
    [
      { ...base, kernelSize: '3' },
      'TypeError',
      /Conv1d: kernelSize must be a number or a one-element array, got string/,
    ],
    [
      { ...base, kernelSize: [3, 3] },
      'RangeError',
      /kernelSize must be a number or a one-element array, got 2 entries/,
    ],
    [{ ...base, generator: 7 }, 'TypeError', /Conv1d: generator must be a Generator, got number/],
    [{ ...base, stride: 0 }, 'RangeError', /Conv1d: stride/],
    [{ ...base, padding: -1 }, 'RangeError', /Conv1d: padding must be an integer >= 0, got -1/],
    [{ ...base, padding: 'full' }, 'RangeError', /Conv1d: padding must be a size, 'same' or 'valid', got string/],
    [{ ...base, padding: 'same', stride: 2 }, 'RangeError', /Conv1d: padding 'same' is not supported for strided/],
    [{ ...base, dilation: 0 }, 'RangeError', /Conv1d: dilation/],
    [{ ...base, groups: 0 }, 'RangeError', /Conv1d: groups/],
    [{ ...base, inChannels: 3, groups: 2 }, 'RangeError', /Conv1d: groups 2 must divide inChannels 3/],
    [{ ...base, inChannels: undefined }, 'TypeError', /Conv1d: inChannels must be a number, got undefined/],
    [{ ...base, outChannels: 0 }, 'RangeError', /Conv1d: outChannels/],
    [{ ...base, bias: 'yes' }, 'TypeError', /Conv1d: bias must be a boolean, got string/],
    [{ ...base, paddingMode: 'mirror' }, 'RangeError', /Conv1d: paddingMode must be one of/],
    [{ ...base, paddingMode: 1 }, 'TypeError', /Conv1d: paddingMode must be one of/],
    [{ ...base, padding_mode: 'reflect' }, 'RangeError', /Conv1d: unknown option 'padding_mode'/],
  ] as [Record<string, unknown>, 'TypeError' | 'RangeError', RegExp][])('%j', (opts, kind, message) => {
    expectErrorNamed(() => new Conv1d(opts as unknown as Conv1dOptions), kind, message);
  });

  test('inputs of another rank, channel count or too short', () => {
    const conv = new Conv1d({ ...base, padding: 0 });
    const shapeError = (fn: () => unknown, message: RegExp) => {
      expect(fn).toThrow(ShapeError); // a RangeError
      expect(fn).toThrow(message);
    };
    shapeError(
      () => conv.forward(Tensor.zeros([2, 4])),
      /Conv1d: input must be \[N, C, L\] \(3 dimensions\), got \[2, 4\]; reshape .* \[1, C, L\]/,
    );
    shapeError(() => conv.forward(Tensor.zeros([1, 2, 1, 4])), /3 dimensions\), got \[1, 2, 1, 4\]$/);
    shapeError(
      () => conv.forward(Tensor.zeros([1, 3, 4])),
      /Conv1d: input: expected shape \[\*, 2, \*\], got \[1, 3, 4\]/,
    );
    expectErrorNamed(
      () => conv.forward(Tensor.zeros([1, 2, 2])),
      'RangeError',
      /Conv1d: input length 2 is shorter than the \(dilated\) kernel 3/,
    );
    expectErrorNamed(
      () => conv.forward([1, 2, 3] as unknown as Tensor),
      'TypeError',
      /Conv1d: input must be a Tensor, got Array/,
    );
    conv.forward(Tensor.zeros([1, 2, 5]));
    shapeError(() => conv.backward(Tensor.zeros([1, 2, 2])), /Conv1d.backward: doutput: expected shape \[1, 2, 3\]/);
  });
});
