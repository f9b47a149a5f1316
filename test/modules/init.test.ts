// SPDX-License-Identifier: MIT
// He et al.'s initialisation: kaimingNormal's standard deviation from PyTorch's fan-in, heInit's choice of weights.
import { BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv2d } from '../../lib/modules/conv2d';
import { heInit, kaimingNormal } from '../../lib/modules/init';
import { Linear } from '../../lib/modules/linear';
import { Sequential } from '../../lib/modules/sequential';
import { Generator } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';

function std(data: Float32Array): number {
  const mean = data.reduce((a, x) => a + x, 0) / data.length;
  return Math.sqrt(data.reduce((a, x) => a + (x - mean) ** 2, 0) / data.length);
}

test('kaimingNormal draws N(0, 2/fanIn) with fanIn = shape[1] x the kernel size, as PyTorch', () => {
  const conv = Tensor.zeros([64, 32, 3, 3]); // fan-in 288
  kaimingNormal(conv, new Generator(1));
  expect(std(conv.data) / Math.sqrt(2 / 288)).toBeCloseTo(1, 1);
  const fc = Tensor.zeros([100, 50]); // fan-in 50
  kaimingNormal(fc, new Generator(1));
  expect(std(fc.data) / Math.sqrt(2 / 50)).toBeCloseTo(1, 1);
  expect(() => kaimingNormal(Tensor.zeros([4]))).toThrow(RangeError);
});

test('heInit redraws conv and linear weights and leaves biases and BatchNorm alone; a seed repeats it', () => {
  const make = () =>
    new Sequential(
      new Conv2d({ inChannels: 3, outChannels: 16, kernelSize: 3 }),
      new BatchNorm2d({ numFeatures: 16 }),
      new Linear({ inFeatures: 16, outFeatures: 10 }),
    );
  const model = make();
  const before = new Map(model.namedParameters().map(([n, p]) => [n, Float32Array.from(p.data.data)]));
  heInit(model, new Generator(4));
  const changed = model
    .namedParameters()
    .filter(([n, p]) => p.data.data.some((x, i) => x !== before.get(n)![i]))
    .map(([n]) => n);
  expect(changed).toEqual(['0.weight', '2.weight']);
  const again = make();
  heInit(again, new Generator(4));
  expect(again.namedParameters()[0][1].data.data).toEqual(model.namedParameters()[0][1].data.data);
});
