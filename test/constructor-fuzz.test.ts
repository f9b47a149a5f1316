// SPDX-License-Identifier: MIT
// Hostile options for every public constructor: each call builds the object or throws a TypeError or
// RangeError (never another error, a crash or a hang). Huge sizes are ones past the 2^32-element
// tensor cap (rejected); a valid 2^31-element layer would really allocate 8 GB, as in PyTorch.
import * as lib from '../lib/index';
import { Generator } from '../lib/random';

const rng = new Generator(2024);
const pick = <T>(xs: readonly T[]): T => xs[rng.randint(xs.length)];

/** Values a careless or hostile caller might pass where a small positive integer is expected. */
const HOSTILE: readonly unknown[] = [
  0,
  -1,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 33,
  2 ** 40,
  2 ** 53,
  2 ** 60,
  '3',
  null,
  undefined,
  true,
  {},
  [],
  [2],
  [2, 3],
  [2, 3, 4],
  [-1, 2],
  [NaN, 1],
  1,
  2,
  3,
  5,
  1e-3,
  0.5,
  'same',
  Symbol('x'),
  () => 1,
  new Float32Array(2),
];
const value = (): unknown => pick(HOSTILE);

type Factory = () => unknown;
const FACTORIES: Record<string, Factory> = {
  Tensor: () =>
    new lib.Tensor(pick([new Float32Array(6), new Float64Array(6), [1, 2], null]) as Float32Array, value() as number[]),
  TensorZeros: () => lib.Tensor.zeros(pick([[2, 3], [value(), 2], [value()], value()]) as number[]),
  Conv2d: () =>
    new lib.Conv2d({
      inChannels: value(),
      outChannels: value(),
      kernelSize: value(),
      stride: value(),
      padding: value(),
      dilation: value(),
      groups: value(),
    } as never),
  Conv1d: () =>
    new lib.Conv1d({
      inChannels: value(),
      outChannels: value(),
      kernelSize: value(),
      stride: value(),
      padding: value(),
    } as never),
  Linear: () => new lib.Linear({ inFeatures: value(), outFeatures: value(), bias: value() } as never),
  MaxPool2d: () =>
    new lib.MaxPool2d(
      pick([
        value(),
        { kernelSize: value(), stride: value(), padding: value(), dilation: value(), ceilMode: value() },
      ]) as never,
    ),
  AvgPool2d: () =>
    new lib.AvgPool2d({ kernelSize: value(), stride: value(), padding: value(), divisorOverride: value() } as never),
  AdaptiveAvgPool2d: () => new lib.AdaptiveAvgPool2d(value() as never),
  BatchNorm2d: () => new lib.BatchNorm2d({ numFeatures: value(), eps: value(), momentum: value() } as never),
  BatchNorm1d: () => new lib.BatchNorm1d({ numFeatures: value(), affine: value() } as never),
  Dropout: () => new lib.Dropout({ p: value() } as never),
  LeakyReLU: () => new lib.LeakyReLU({ negativeSlope: value() } as never),
  Softmax: () => new lib.Softmax({ dim: value() } as never),
  Flatten: () => new lib.Flatten({ startDim: value(), endDim: value() } as never),
  LeNet: () =>
    new lib.LeNet({ inChannels: value(), imageSize: value(), numClasses: value(), padding: value() } as never),
  LeNetBN: () => new lib.LeNetBN({ inChannels: value(), imageSize: value(), numClasses: value() } as never),
  Sequential: () => new lib.Sequential(value() as never),
  Adam: () =>
    new lib.Adam(
      pick([new lib.Linear({ inFeatures: 2, outFeatures: 2 }).parameters(), [], value()]) as never,
      { lr: value(), betas: value(), eps: value(), weightDecay: value() } as never,
    ),
  SGD: () =>
    new lib.SGD(new lib.Linear({ inFeatures: 2, outFeatures: 2 }).parameters(), {
      lr: value(),
      momentum: value(),
      nesterov: value(),
      dampening: value(),
    } as never),
  AdamW: () =>
    new lib.AdamW(new lib.Linear({ inFeatures: 2, outFeatures: 2 }).parameters(), {
      lr: value(),
      weightDecay: value(),
    } as never),
  CosineAnnealingLR: () =>
    new lib.CosineAnnealingLR(
      new lib.SGD(new lib.Linear({ inFeatures: 1, outFeatures: 1 }).parameters(), { lr: 0.1 }),
      { tMax: value(), etaMin: value() } as never,
    ),
  CrossEntropyLoss: () => new lib.CrossEntropyLoss({ labelSmoothing: value() } as never),
  TensorDataset: () =>
    new lib.TensorDataset(
      pick([new Float32Array(12), value()]) as never,
      pick([new Int32Array(2), value()]) as never,
      { sampleShape: value() } as never,
    ),
  DataLoader: () =>
    new lib.DataLoader(new lib.TensorDataset(new Float32Array(12), new Int32Array(2), { sampleShape: [2, 3] }), {
      batchSize: value(),
      shuffle: value(),
      seed: value(),
      dropLast: value(),
    } as never),
  Generator: () => new lib.Generator(value() as number),
};

describe.each(Object.keys(FACTORIES))('%s', (name) => {
  test('300 hostile constructions either succeed or throw TypeError/RangeError', () => {
    let built = 0;
    for (let i = 0; i < 300; i++) {
      try {
        FACTORIES[name]();
        built++;
      } catch (err) {
        if (!(err instanceof TypeError || err instanceof RangeError))
          throw new Error(`${name}: unexpected ${String(err)}`, { cause: err });
        expect((err as Error).message.length).toBeGreaterThan(10);
      }
    }
    expect(built).toBeGreaterThanOrEqual(0);
  });
});
