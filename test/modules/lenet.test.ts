// SPDX-License-Identifier: MIT
// LeNet: architecture, parameter names and count (seed-examples section 4), shapes and seeded init.
import { LeNet } from '../../lib/modules/lenet';
import { manualSeed } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { randomTensor } from '../helpers';

describe('LeNet', () => {
  test('has 62,006 parameters with PyTorch names and layouts for CIFAR-10', () => {
    const net = new LeNet();
    expect(net.numParameters()).toBe(62006);
    const shapes = Object.fromEntries(net.namedParameters().map(([n, p]) => [n, p.shape]));
    expect(shapes).toEqual({
      'conv1.weight': [6, 3, 5, 5],
      'conv1.bias': [6],
      'conv2.weight': [16, 6, 5, 5],
      'conv2.bias': [16],
      'fc1.weight': [120, 400],
      'fc1.bias': [120],
      'fc2.weight': [84, 120],
      'fc2.bias': [84],
      'fc3.weight': [10, 84],
      'fc3.bias': [10],
    });
  });

  test('maps [N, 3, 32, 32] to [N, numClasses] logits', () => {
    const net = new LeNet({ numClasses: 7 });
    expect(net.outputShape([5, 3, 32, 32])).toEqual([5, 7]);
    const y = net.forward(randomTensor([2, 3, 32, 32], 1));
    expect(y.shape).toEqual([2, 7]);
    expect(y.data.every(Number.isFinite)).toBe(true);
  });

  test('LeNet-5 form for 28x28 grayscale pads conv1 by 2 (61,706 parameters)', () => {
    const net = new LeNet({ inChannels: 1, imageSize: 28 });
    expect(net.config.padding).toBe(2);
    // 6*1*25+6 + 16*6*25+16 + 120*400+120 + 84*120+84 + 10*84+10
    expect(net.numParameters()).toBe(156 + 2416 + 48120 + 10164 + 850);
    expect(net.outputShape([1, 1, 28, 28])).toEqual([1, 10]);
  });

  test('initialisation is reproducible with manualSeed and within PyTorch bounds', () => {
    manualSeed(42);
    const a = new LeNet();
    manualSeed(42);
    const b = new LeNet();
    manualSeed(43);
    const c = new LeNet();
    expect(a.stateDict()['fc1.weight'].data).toEqual(b.stateDict()['fc1.weight'].data);
    expect(a.stateDict()['fc1.weight'].data).not.toEqual(c.stateDict()['fc1.weight'].data);
    const w = a.stateDict()['conv1.weight'].data;
    const bound = 1 / Math.sqrt(3 * 25);
    expect(Math.max(...w)).toBeLessThanOrEqual(bound);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-bound);
    expect(Math.max(...w)).toBeGreaterThan(bound * 0.8); // spread over the whole range
  });

  test('rejects bad options and too-small images', () => {
    expect(() => new LeNet({ imageSize: 8 })).toThrow(RangeError);
    expect(() => new LeNet({ numClasses: 0 })).toThrow(/numClasses/);
    expect(() => new LeNet({ inChannels: 1.5 })).toThrow(RangeError);
    expect(() => new LeNet({ bogus: 1 } as never)).toThrow(/bogus/);
    expect(() => new LeNet().forward(new Tensor(new Float32Array(3 * 28 * 28), [1, 3, 28, 28]))).toThrow(/fc1|Linear/);
  });

  test('toString lists the layers like PyTorch', () => {
    const s = new LeNet().toString();
    expect(s).toContain('(conv1): Conv2d(3, 6, kernelSize=[5, 5])');
    expect(s).toContain('(fc3): Linear(inFeatures=84, outFeatures=10)');
  });
});
