// SPDX-License-Identifier: MIT
// Tests of summary(): seed-examples section 1 (the conv block) and LeNet's counts exactly, nesting, and the error paths.
import { ShapeError } from '../../lib/errors';
import { Conv2d } from '../../lib/modules/conv2d';
import { Flatten } from '../../lib/modules/flatten';
import { LeNet } from '../../lib/modules/lenet';
import { Linear } from '../../lib/modules/linear';
import { MaxPool2d } from '../../lib/modules/max-pool2d';
import { Module } from '../../lib/modules/module';
import { Parameter } from '../../lib/modules/parameter';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { registerMacCounter } from '../../lib/summary/layer-macs';
import { summary } from '../../lib/summary/summary';
import { Tensor } from '../../lib/tensor/tensor';

/** Section 1: 128 x 64 x 64 -> conv(256, 3x3, stride 2, pad 1) -> conv(512, 3x3, pad 1), no bias. */
function sectionOneBlock(): Sequential {
  return new Sequential({
    conv1: new Conv2d({ inChannels: 128, outChannels: 256, kernelSize: 3, stride: 2, padding: 1, bias: false }),
    conv2: new Conv2d({ inChannels: 256, outChannels: 512, kernelSize: 3, stride: 1, padding: 1, bias: false }),
  });
}

describe('seed-examples section 1: the two-convolution block on [1, 128, 64, 64]', () => {
  const block = sectionOneBlock();
  const s = summary(block, [1, 128, 64, 64]);

  test('output shapes 256 x 32 x 32 then 512 x 32 x 32', () => {
    expect(s.layers.map((l) => [l.name, l.type, l.outputShape])).toEqual([
      ['conv1', 'Conv2d', [1, 256, 32, 32]],
      ['conv2', 'Conv2d', [1, 512, 32, 32]],
    ]);
  });

  test('parameters 294,912 + 1,179,648 = 1,474,560', () => {
    expect(s.layers.map((l) => l.params)).toEqual([294_912, 1_179_648]);
    expect(s.totalParams).toBe(1_474_560);
  });

  test('MACs 301,989,888 + 1,207,959,552 = 1,509,949,440; FLOPs twice that', () => {
    expect(s.layers.map((l) => l.macs)).toEqual([301_989_888, 1_207_959_552]);
    expect(s.totalMacs).toBe(1_509_949_440);
    expect(s.flops).toBe(3_019_898_880);
  });

  test('activations 524,288 -> 262,144 (-50%) -> 524,288, 0% change input to output', () => {
    expect(s.inputActivations).toEqual({ values: 524_288, bytes: 4 * 524_288 });
    expect(s.layers.map((l) => l.activations.values)).toEqual([262_144, 524_288]);
    expect(s.layers.map((l) => l.activations.bytes)).toEqual([1_048_576, 2_097_152]);
    expect(s.layers[0].activationChange).toBe(-0.5);
    expect(s.layers[1].activationChange).toBe(1);
    expect(s.outputActivations).toEqual({ values: 524_288, bytes: 2_097_152 });
    expect(s.activationChange).toBe(0);
    expect(s.totalActivations).toEqual({ values: 786_432, bytes: 3_145_728 });
  });

  test('MACs and activations scale with the batch size; parameters do not', () => {
    const s4 = summary(block, [4, 128, 64, 64]);
    expect(s4.totalMacs).toBe(4 * 1_509_949_440);
    expect(s4.outputActivations.values).toBe(4 * 524_288);
    expect(s4.totalParams).toBe(1_474_560);
    expect(s4.activationChange).toBe(0);
  });
});

describe('seed-examples section 4: LeNet on CIFAR-10', () => {
  const s = summary(new LeNet(), [1, 3, 32, 32]);

  test('62,006 parameters and 651,720 MACs per image', () => {
    expect(s.totalParams).toBe(62_006);
    expect(s.totalParams).toBe(new LeNet().numParameters());
    expect(s.totalMacs).toBe(651_720);
    expect(s.flops).toBe(1_303_440);
    expect(s.outputShape).toEqual([1, 10]);
  });

  test('per layer: conv1 352,800, conv2 240,000, fc1 48,000, fc2 10,080, fc3 840; the rest 0', () => {
    const macs = Object.fromEntries(s.layers.map((l) => [l.name, l.macs]));
    expect(macs).toEqual({
      conv1: 352_800,
      relu1: 0,
      pool1: 0,
      conv2: 240_000,
      relu2: 0,
      pool2: 0,
      flatten: 0,
      fc1: 48_000,
      relu3: 0,
      fc2: 10_080,
      relu4: 0,
      fc3: 840,
    });
    const params = Object.fromEntries(s.layers.filter((l) => l.params > 0).map((l) => [l.name, l.params]));
    expect(params).toEqual({ conv1: 456, conv2: 2_416, fc1: 48_120, fc2: 10_164, fc3: 850 });
    expect(s.layers.map((l) => l.outputShape)).toEqual([
      [1, 6, 28, 28],
      [1, 6, 28, 28],
      [1, 6, 14, 14],
      [1, 16, 10, 10],
      [1, 16, 10, 10],
      [1, 16, 5, 5],
      [1, 400],
      [1, 120],
      [1, 120],
      [1, 84],
      [1, 84],
      [1, 10],
    ]);
    expect(s.layers.every((l) => l.known)).toBe(true);
  });

  test('LeNet-5 on 28 x 28 digits (conv1 padded by 2) has the same conv1 output size', () => {
    const s5 = summary(new LeNet({ inChannels: 1, imageSize: 28 }), [2, 1, 28, 28]);
    expect(s5.layers[0].outputShape).toEqual([2, 6, 28, 28]);
    expect(s5.layers[0].macs).toBe(2 * 6 * 28 * 28 * 25);
    expect(s5.totalParams).toBe(61_706);
  });
});

test('grouped, dilated, rectangular convolutions: MACs use inChannels / groups and the kernel area', () => {
  const conv = new Conv2d({
    inChannels: 8,
    outChannels: 4,
    kernelSize: [3, 1],
    stride: [1, 2],
    padding: [2, 0],
    dilation: 2,
    groups: 2,
  });
  const s = summary(conv, [3, 8, 10, 9]);
  expect(s.layers).toHaveLength(1);
  expect(s.layers[0].name).toBe('');
  expect(s.layers[0].outputShape).toEqual([3, 4, 10, 5]);
  expect(s.totalMacs).toBe(3 * 4 * 10 * 5 * (8 / 2) * 3 * 1);
  expect(s.totalParams).toBe(4 * 4 * 3 + 4);
});

test('nested Sequentials are expanded with dotted names', () => {
  const model = new Sequential({
    features: new Sequential(
      new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3 }),
      new ReLU(),
      new MaxPool2d(2),
    ),
    head: new Sequential({
      flatten: new Flatten(),
      fc: new Linear({ inFeatures: 2 * 3 * 3, outFeatures: 5, bias: false }),
    }),
  });
  const s = summary(model, [1, 1, 8, 8]);
  expect(s.layers.map((l) => l.name)).toEqual(['features.0', 'features.1', 'features.2', 'head.flatten', 'head.fc']);
  expect(s.layers.map((l) => l.macs)).toEqual([2 * 6 * 6 * 9, 0, 0, 0, 18 * 5]);
  expect(s.totalParams).toBe(model.numParameters());
});

test('bytesPerValue changes only the bytes', () => {
  const s = summary(new Linear({ inFeatures: 3, outFeatures: 2 }), [5, 3], { bytesPerValue: 2 });
  expect(s.layers[0].activations).toEqual({ values: 10, bytes: 20 });
  expect(s.bytesPerValue).toBe(2);
  expect(s.totalMacs).toBe(30);
});

/** A layer summary() has no rule for; `params` and `scale` make it count or not. */
class Custom extends Module {
  constructor(
    params: number,
    private readonly scale = 1,
  ) {
    super();
    if (params > 0) this.registerParameter('weight', new Parameter(Tensor.zeros([params])));
  }
  outputShape(s: readonly number[]): number[] {
    return [s[0], s[1] * this.scale];
  }
  override forward(x: Tensor): Tensor {
    return x;
  }
  override backward(d: Tensor): Tensor {
    return d;
  }
}

describe('layers without a MAC rule', () => {
  test('no parameters and the same shape: accepted with 0 MACs and known = false', () => {
    const s = summary(new Sequential(new Linear({ inFeatures: 4, outFeatures: 4 }), new Custom(0)), [1, 4]);
    expect(s.layers[1]).toMatchObject({ name: '1', type: 'Custom', macs: 0, params: 0, known: false });
  });

  test('with parameters, or changing the shape: a TypeError naming the layer and its type', () => {
    expect(() => summary(new Sequential({ odd: new Custom(3) }), [1, 4])).toThrow(TypeError);
    expect(() => summary(new Sequential({ odd: new Custom(3) }), [1, 4])).toThrow(
      /layer 'odd' \(Custom\).*3 parameters.*registerMacCounter\(Custom/,
    );
    expect(() => summary(new Custom(0, 2), [1, 4])).toThrow(
      /the model \(Custom\).*changes the shape \[1, 4\] -> \[1, 8\]/,
    );
  });

  test('registerMacCounter teaches summary() a class (and its subclasses)', () => {
    class Counted extends Custom {}
    class Sub extends Counted {}
    registerMacCounter(Counted, (_layer, input, output) => input[1] * output[1]);
    const s = summary(new Sequential(new Counted(3, 2), new Sub(0)), [1, 4]);
    expect(s.layers.map((l) => [l.type, l.params, l.macs, l.known])).toEqual([
      ['Counted', 3, 32, true],
      ['Sub', 0, 64, true],
    ]);
    expect(() => registerMacCounter(Object as never, () => 0)).toThrow(TypeError);
    expect(() => registerMacCounter(Counted, 3 as never)).toThrow(TypeError);
  });

  test('a container other than Sequential: a TypeError', () => {
    class Block extends Custom {
      constructor() {
        super(0);
        this.registerModule('inner', new ReLU());
      }
    }
    expect(() => summary(new Sequential({ block: new Block() }), [1, 4])).toThrow(
      /layer 'block' \(Block\) is a container other than Sequential/,
    );
  });
});

describe('bad arguments', () => {
  test('a shape that does not fit a layer: the layer error, with its name and input shape', () => {
    const run = () => summary(new LeNet(), [1, 1, 32, 32]);
    expect(run).toThrow(ShapeError);
    expect(run).toThrow(
      /^summary: layer 'conv1' \(Conv2d\) with input \[1, 1, 32, 32\]: Conv2d: input: expected shape/,
    );
  });

  test('bad model, input shape or options', () => {
    expect(() => summary({} as never, [1, 4])).toThrow(TypeError);
    expect(() => summary(new ReLU(), 'x' as never)).toThrow(TypeError);
    expect(() => summary(new ReLU(), [1, 2.5])).toThrow(RangeError);
    expect(() => summary(new ReLU(), [])).toThrow(/sizes >= 1/);
    expect(() => summary(new ReLU(), [0, 3])).toThrow(RangeError);
    expect(() => summary(new ReLU(), [1, 3], { bytesPerValue: 0 })).toThrow(RangeError);
    expect(() => summary(new ReLU(), [1, 3], null as never)).toThrow(TypeError);
  });

  test('an empty Sequential passes the input through', () => {
    const s = summary(new Sequential(), [2, 3]);
    expect(s.layers).toEqual([]);
    expect(s.outputShape).toEqual([2, 3]);
    expect(s.activationChange).toBe(0);
  });
});
