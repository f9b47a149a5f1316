// SPDX-License-Identifier: MIT
// LeakyReLU, Sigmoid and Tanh against PyTorch 1.13 (test/fixtures/layers2.safetensors), gradcheck, in-place gradients and option errors.
import * as path from 'path';
import { gradcheck } from '../../lib/gradcheck';
import { readSafetensors } from '../../lib/io/safetensors';
import { LeakyReLU } from '../../lib/modules/leaky-relu';
import { Linear } from '../../lib/modules/linear';
import { Module } from '../../lib/modules/module';
import { Sequential } from '../../lib/modules/sequential';
import { Sigmoid } from '../../lib/modules/sigmoid';
import { Tanh } from '../../lib/modules/tanh';
import { Generator } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';

const { tensors: fx, metadata } = readSafetensors(path.join(__dirname, '..', 'fixtures', 'layers2.safetensors'));

function build(name: string): Module {
  const { op, ...c } = JSON.parse(metadata[`${name}.config`]);
  switch (op) {
    case 'leaky_relu':
      return new LeakyReLU(c);
    case 'sigmoid':
      return new Sigmoid();
    case 'tanh':
      return new Tanh();
    default:
      throw new Error(`unknown op ${op}`);
  }
}

describe.each(['leaky_relu', 'leaky_relu_neg', 'sigmoid', 'tanh'])('%s matches PyTorch', (name) => {
  test('forward and input gradient', () => {
    const layer = build(name);
    const out = layer.forward(fx[`${name}.input`]);
    expect(out.shape).toEqual(fx[`${name}.output`].shape);
    expectAllClose(out.data, fx[`${name}.output`].data, 1e-5, 1e-5, `${name}.output`);
    expectAllClose(layer.backward(fx[`${name}.dout`]).data, fx[`${name}.dinput`].data, 1e-5, 1e-5, `${name}.dinput`);
  });
});

describe('gradcheck', () => {
  const awayFromZero = (t: Tensor): Tensor => {
    for (let i = 0; i < t.size; i++) if (Math.abs(t.data[i]) < 0.05) t.data[i] = 0.5;
    return t;
  };
  test.each([
    ['LeakyReLU', () => new LeakyReLU(), awayFromZero(randomTensor([3, 11], 1))],
    ['LeakyReLU slope 0.2', () => new LeakyReLU({ negativeSlope: 0.2 }), awayFromZero(randomTensor([2, 3, 4], 2))],
    ['Sigmoid', () => new Sigmoid(), randomTensor([3, 11], 3, 4)],
    ['Tanh', () => new Tanh(), randomTensor([2, 3, 5], 4, 2)],
  ] as const)('%s', (_name, make, x) => {
    const r = gradcheck(make(), x, { maxPerTensor: 40 });
    if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
    expect(r.checked).toBeGreaterThan(0);
  });
});

describe('behaviour', () => {
  test('LeakyReLU: slope 0.01 by default, slope at exactly 0 as PyTorch', () => {
    const act = new LeakyReLU();
    expect(Array.from(act.forward(Tensor.fromArray([-2, 0, 3], [3])).data)).toEqual([Math.fround(-0.02), 0, 3]);
    expect(Array.from(act.backward(Tensor.fromArray([1, 1, 1], [3])).data)).toEqual([
      Math.fround(0.01),
      Math.fround(0.01),
      1,
    ]);
    expect(act.toString()).toBe('LeakyReLU(negativeSlope=0.01)');
  });

  test('Sigmoid and Tanh saturate without NaN', () => {
    const x = Tensor.fromArray([-1e4, -100, 0, 100, 1e4], [5]);
    expect(Array.from(new Sigmoid().forward(x).data)).toEqual([0, Math.fround(1 / (1 + Math.exp(100))), 0.5, 1, 1]);
    expect(Array.from(new Tanh().forward(x).data)).toEqual([-1, -1, 0, 1, 1]);
  });

  test.each([
    ['LeakyReLU', () => new LeakyReLU({ negativeSlope: 0.1 })],
    ['Sigmoid', () => new Sigmoid()],
    ['Tanh', () => new Tanh()],
  ] as const)('%s inside Sequential (in-place gradient) equals standalone backward', (_name, make) => {
    const x = randomTensor([4, 5], 7, 2);
    const g = randomTensor([4, 3], 8);
    const seq = new Sequential(
      new Linear({ inFeatures: 5, outFeatures: 6, generator: new Generator(1) }),
      make(),
      new Linear({ inFeatures: 6, outFeatures: 3, generator: new Generator(2) }),
    );
    seq.forward(x);
    const dx = seq.backward(g);
    // The same chain by hand, layer by layer, with fresh buffers.
    const [l1, act, l2] = [0, 1, 2].map((i) => seq.at(i));
    const h = act.forward(l1.forward(x));
    l2.forward(h);
    const dxByHand = l1.backward(act.backward(l2.backward(g)));
    expectAllClose(dx.data, dxByHand.data, 0, 0, 'dinput');
  });

  test('predict() leaves the saved state of training alone; an eval forward keeps state for backward (as PyTorch)', () => {
    const act = new Tanh();
    const x = randomTensor([2, 3], 9);
    act.forward(x);
    act.predict(randomTensor([5, 3], 10));
    expect(act.training).toBe(true);
    expect(act.backward(Tensor.fromArray([1, 1, 1, 1, 1, 1], [2, 3])).shape).toEqual([2, 3]);
    act.eval();
    act.forward(x);
    expect(act.backward(Tensor.zeros([2, 3])).shape).toEqual([2, 3]);
  });
});

describe('errors', () => {
  test('options are checked and unknown ones rejected', () => {
    expectErrorNamed(() => new LeakyReLU({ negativeSlope: 'a' as never }), 'TypeError', /negativeSlope/);
    expectErrorNamed(() => new LeakyReLU({ negativeSlope: Infinity }), 'RangeError', /negativeSlope/);
    expectErrorNamed(() => new LeakyReLU({ inplace: true } as never), 'RangeError', /inplace/);
  });

  test('backward needs a training forward and a gradient of the output shape', () => {
    expectErrorNamed(() => new Sigmoid().backward(Tensor.zeros([2])), 'Error', /call forward\(\) first/);
    const act = new LeakyReLU();
    act.forward(Tensor.zeros([2, 3]));
    expect(() => act.backward(Tensor.zeros([3, 2]))).toThrow(RangeError); // a ShapeError
    expect(() => act.backward(Tensor.zeros([3, 2]))).toThrow(/LeakyReLU.backward: doutput/);
  });
});
