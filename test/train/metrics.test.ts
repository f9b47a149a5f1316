// SPDX-License-Identifier: MIT
// Tests of lib/train/metrics.ts: exact running means, argmax ties, confusion counts and throughput with a fake clock.
import { ShapeError } from '../../lib/errors';
import { argmaxRows, ConfusionMatrix, RunningMean, ThroughputMeter } from '../../lib/train/metrics';
import { Tensor } from '../../lib/tensor/tensor';

describe('RunningMean', () => {
  test('weights each batch mean by its size, so a short last batch counts less', () => {
    const m = new RunningMean();
    expect(m.mean).toBeNaN();
    m.add(2, 64);
    m.add(1, 16);
    expect(m.mean).toBeCloseTo(1.8, 12);
    expect(m.count).toBe(80);
    m.reset();
    m.add(3);
    expect(m.mean).toBe(3);
  });

  test('rejects a negative weight and a non-number', () => {
    expect(() => new RunningMean().add(1, -1)).toThrow(RangeError);
    expect(() => new RunningMean().add('1' as unknown as number)).toThrow(TypeError);
  });
});

describe('argmaxRows', () => {
  test('returns the first index of the row maximum and skips NaN', () => {
    const logits = Tensor.fromArray([1, 3, 3, 0, 9, -1, NaN, 2, 1, -5, -4, -6], [4, 3]);
    expect(Array.from(argmaxRows(logits))).toEqual([1, 1, 1, 1]);
    expect(Array.from(argmaxRows(Tensor.fromArray([5, 1, 0, 7], [2, 2])))).toEqual([0, 1]);
  });

  test('needs a 2-d tensor', () => {
    expect(() => argmaxRows(Tensor.zeros([2, 2, 2]))).toThrow(ShapeError);
    expect(() => argmaxRows([1, 2] as unknown as Tensor)).toThrow(TypeError);
  });
});

describe('ConfusionMatrix', () => {
  // Predictions (argmax): 0, 1, 2, 2, 0, 1; labels 0, 1, 1, 2, 2, 1.
  const logits = Tensor.fromArray([9, 0, 0, 0, 9, 0, 0, 0, 9, 0, 1, 2, 5, 4, 3, 0, 2, 1], [6, 3]);
  const labels = Int32Array.from([0, 1, 1, 2, 2, 1]);

  test('counts rows = true class, columns = predicted, with exact accuracies', () => {
    const cm = new ConfusionMatrix(3);
    expect(cm.update(logits, labels)).toBe(4);
    expect(cm.toArray()).toEqual([
      [1, 0, 0],
      [0, 2, 1],
      [1, 0, 1],
    ]);
    expect(cm.correct).toBe(4);
    expect(cm.total).toBe(6);
    expect(cm.accuracy).toBe(4 / 6);
    expect(cm.perClassTotal()).toEqual([1, 3, 2]);
    expect(cm.perClassCorrect()).toEqual([1, 2, 1]);
    expect(cm.perClassAccuracy()).toEqual([1, 2 / 3, 0.5]);
  });

  test('a class without samples has NaN accuracy; an empty matrix has NaN accuracy', () => {
    const cm = new ConfusionMatrix(2);
    expect(cm.accuracy).toBeNaN();
    cm.add(0, 0);
    expect(cm.perClassAccuracy()).toEqual([1, NaN]);
    cm.reset();
    expect(cm.total).toBe(0);
    expect(cm.toArray()).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  test('rejects labels outside the classes and misshapen logits', () => {
    const cm = new ConfusionMatrix(3);
    expect(() => cm.add(0, 3)).toThrow(/label 3 is outside 0..2/);
    expect(() => cm.add(-1, 0)).toThrow(RangeError);
    expect(() => cm.update(Tensor.zeros([2, 4]), Int32Array.from([0, 1]))).toThrow(ShapeError);
    expect(() => cm.update(logits, [0, 1] as unknown as Int32Array)).toThrow(TypeError);
    expect(() => new ConfusionMatrix(0)).toThrow(RangeError);
  });
});

describe('ThroughputMeter', () => {
  test('images per second of the injected clock', () => {
    let now = 1000;
    const meter = new ThroughputMeter(() => now);
    expect(meter.imagesPerSecond).toBe(0);
    meter.start();
    meter.add(64);
    expect(meter.imagesPerSecond).toBe(0); // no time has passed
    now += 500;
    meter.add(64);
    expect(meter.seconds).toBe(0.5);
    expect(meter.images).toBe(128);
    expect(meter.imagesPerSecond).toBe(256);
    meter.start();
    expect(meter.images).toBe(0);
    expect(() => meter.add(-1)).toThrow(RangeError);
  });
});
