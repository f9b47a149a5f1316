// SPDX-License-Identifier: MIT
// Tests of buildModelFromSpec(): every layer type with its options and inferred sizes, names, nesting, the normalised spec,
// the global generator left alone, and bad specs.
import { AdaptiveMaxPool2d } from '../../lib/modules/adaptive-max-pool2d';
import { ConvTranspose2d } from '../../lib/modules/conv-transpose2d';
import { Upsample } from '../../lib/modules/upsample';
import { ShapeError } from '../../lib/errors';
import { AdaptiveAvgPool2d } from '../../lib/modules/adaptive-avg-pool2d';
import { AvgPool2d } from '../../lib/modules/avg-pool2d';
import { BatchNorm1d, BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv1d } from '../../lib/modules/conv1d';
import { Conv2d } from '../../lib/modules/conv2d';
import { Dropout } from '../../lib/modules/dropout';
import { Flatten } from '../../lib/modules/flatten';
import { LeakyReLU } from '../../lib/modules/leaky-relu';
import { Linear } from '../../lib/modules/linear';
import { MaxPool2d } from '../../lib/modules/max-pool2d';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { Sigmoid } from '../../lib/modules/sigmoid';
import { LogSoftmax, Softmax } from '../../lib/modules/softmax';
import { Tanh } from '../../lib/modules/tanh';
import {
  Dropout2d,
  ELU,
  GELU,
  GroupNorm,
  Hardsigmoid,
  Hardswish,
  Hardtanh,
  Identity,
  LayerNorm,
  ReLU6,
  SiLU,
} from '../../lib/index';
import { defaultGenerator, manualSeed } from '../../lib/random';
import {
  buildModelFromSpec,
  isSpecModel,
  MAX_SPEC_DEPTH,
  MAX_SPEC_LAYERS,
  SPEC_LAYER_TYPES,
  SpecTooLargeError,
} from '../../lib/summary/model-spec';
import { Tensor } from '../../lib/tensor/tensor';
import { summary } from '../../lib/summary/summary';

/** Section 4's LeNet written as a spec, with PyTorch's names. */
const lenetSpec = {
  input: [1, 3, 32, 32],
  layers: [
    { type: 'conv2d', name: 'conv1', outChannels: 6, kernelSize: 5 },
    { type: 'relu' },
    { type: 'maxpool2d', kernelSize: 2 },
    { type: 'conv2d', name: 'conv2', outChannels: 16, kernelSize: 5 },
    { type: 'ReLU' },
    { type: 'MaxPool2d', kernelSize: 2 },
    { type: 'flatten' },
    { type: 'linear', name: 'fc1', outFeatures: 120 },
    { type: 'relu' },
    { type: 'linear', name: 'fc2', outFeatures: 84 },
    { type: 'relu' },
    { type: 'linear', name: 'fc3', outFeatures: 10 },
  ],
};

test('LeNet as a spec: 62,006 parameters and 651,720 MACs, named layers kept, others type + index', () => {
  const { model, input } = buildModelFromSpec(lenetSpec);
  expect(input).toEqual([1, 3, 32, 32]);
  const s = summary(model, input);
  expect(s.totalParams).toBe(62_006);
  expect(s.totalMacs).toBe(651_720);
  expect(s.layers.map((l) => l.name)).toEqual([
    'conv1',
    'relu1',
    'maxpool2d2',
    'conv2',
    'relu4',
    'maxpool2d5',
    'flatten6',
    'fc1',
    'relu8',
    'fc2',
    'relu10',
    'fc3',
  ]);
  expect(Object.keys(model.stateDict())).toEqual([
    'conv1.weight',
    'conv1.bias',
    'conv2.weight',
    'conv2.bias',
    'fc1.weight',
    'fc1.bias',
    'fc2.weight',
    'fc2.bias',
    'fc3.weight',
    'fc3.bias',
  ]);
});

test('section 1 as a spec, with every conv option passed through', () => {
  const { model } = buildModelFromSpec({
    input: [1, 128, 64, 64],
    layers: [
      { type: 'conv2d', outChannels: 256, kernelSize: 3, stride: 2, padding: 1, bias: false },
      {
        type: 'conv2d',
        outChannels: 512,
        kernelSize: [3, 3],
        stride: [1, 1],
        padding: 1,
        dilation: 1,
        groups: 1,
        bias: false,
      },
    ],
  });
  const s = summary(model, [1, 128, 64, 64]);
  expect(s.layers.map((l) => l.name)).toEqual(['0', '1']);
  expect(s.totalParams).toBe(1_474_560);
  expect(s.totalMacs).toBe(1_509_949_440);
  expect((model.at(0) as Conv2d).bias).toBeNull();
});

test('nested sequential blocks, pool and flatten options, and an input override', () => {
  const spec = {
    layers: [
      {
        type: 'sequential',
        name: 'features',
        layers: [
          { type: 'conv2d', outChannels: 4, kernelSize: 3, padding: 1 },
          { type: 'maxpool2d', kernelSize: 3, stride: 2, ceilMode: true },
        ],
      },
      { type: 'flatten', startDim: 1, endDim: -1 },
      { type: 'linear', outFeatures: 3, bias: false },
    ],
  };
  const { model, input } = buildModelFromSpec(spec, [2, 1, 8, 8]);
  expect(input).toEqual([2, 1, 8, 8]);
  const s = summary(model, input);
  expect(s.layers.map((l) => [l.name, l.outputShape])).toEqual([
    ['features.0', [2, 4, 8, 8]],
    ['features.1', [2, 4, 4, 4]],
    ['flatten1', [2, 64]],
    ['linear2', [2, 3]],
  ]);
  expect((model.at(0) as Sequential).at(1)).toBeInstanceOf(MaxPool2d);
  expect((model.at(2) as Linear).inFeatures).toBe(64);
});

test('weights come from a fixed seed: the same every time, and the global generator is untouched', () => {
  manualSeed(7);
  const before = defaultGenerator.getState();
  const a = buildModelFromSpec(lenetSpec).model.stateDict()['conv1.weight'].data;
  const b = buildModelFromSpec(lenetSpec).model.stateDict()['conv1.weight'].data;
  expect(a).toEqual(b);
  expect(defaultGenerator.getState()).toEqual(before);
});

describe('every layer type: its class, options passed through, sizes inferred from the running shape', () => {
  // [spec layer, input shape, class, output shape, fields the layer must have]
  const cases: [
    Record<string, unknown>,
    number[],
    abstract new (...args: never[]) => object,
    number[],
    Record<string, unknown>,
  ][] = [
    [
      { type: 'conv1d', outChannels: 4, kernelSize: 3, stride: 2, padding: 1, dilation: 1, groups: 1, bias: false },
      [2, 3, 9],
      Conv1d,
      [2, 4, 5],
      { inChannels: 3, stride: 2, bias: null },
    ],
    [
      { type: 'conv2d', outChannels: 6, kernelSize: [3, 1], padding: [1, 0], groups: 3 },
      [2, 3, 5, 5],
      Conv2d,
      [2, 6, 5, 5],
      { inChannels: 3, groups: 3, kernelSize: [3, 1] },
    ],
    [
      { type: 'maxpool2d', kernelSize: 3, stride: 2, padding: 1, dilation: 1, ceilMode: true },
      [1, 2, 8, 8],
      MaxPool2d,
      [1, 2, 5, 5],
      { ceilMode: true },
    ],
    [
      {
        type: 'avgpool2d',
        kernelSize: 2,
        stride: 1,
        padding: 1,
        ceilMode: false,
        countIncludePad: false,
        divisorOverride: 3,
      },
      [1, 2, 4, 4],
      AvgPool2d,
      [1, 2, 5, 5],
      { countIncludePad: false, divisorOverride: 3 },
    ],
    [
      { type: 'adaptiveavgpool2d', outputSize: [null, 2] },
      [1, 2, 5, 7],
      AdaptiveAvgPool2d,
      [1, 2, 5, 2],
      { outputSize: [null, 2] },
    ],
    [
      { type: 'adaptiveavgpool2d', outputSize: 1 },
      [1, 2, 5, 7],
      AdaptiveAvgPool2d,
      [1, 2, 1, 1],
      { outputSize: [1, 1] },
    ],
    [
      { type: 'batchnorm1d', eps: 1e-3, momentum: null, affine: false },
      [4, 5],
      BatchNorm1d,
      [4, 5],
      { numFeatures: 5, eps: 1e-3, momentum: null, affine: false },
    ],
    [
      { type: 'batchnorm1d', trackRunningStats: false },
      [4, 3, 7],
      BatchNorm1d,
      [4, 3, 7],
      { numFeatures: 3, trackRunningStats: false },
    ],
    [
      { type: 'batchnorm2d', momentum: 0.2 },
      [2, 6, 3, 3],
      BatchNorm2d,
      [2, 6, 3, 3],
      { numFeatures: 6, momentum: 0.2 },
    ],
    [
      { type: 'convtranspose2d', outChannels: 4, kernelSize: 3, stride: 2, outputPadding: 1, bias: false },
      [2, 3, 4, 5],
      ConvTranspose2d,
      [2, 4, 10, 12],
      { inChannels: 3, outputPadding: [1, 1], bias: null },
    ],
    [
      { type: 'upsample', scaleFactor: 2, mode: 'bilinear', alignCorners: true },
      [2, 3, 4, 5],
      Upsample,
      [2, 3, 8, 10],
      { scaleFactor: [2, 2], size: null, alignCorners: true },
    ],
    [{ type: 'adaptivemaxpool2d', outputSize: [2, null] }, [2, 3, 5, 4], AdaptiveMaxPool2d, [2, 3, 2, 4], {}],
    [{ type: 'relu' }, [2, 3], ReLU, [2, 3], {}],
    [{ type: 'relu6' }, [2, 3], ReLU6, [2, 3], { minVal: 0, maxVal: 6 }],
    [{ type: 'hardtanh', minVal: -2, maxVal: 3 }, [2, 3], Hardtanh, [2, 3], { minVal: -2, maxVal: 3 }],
    [{ type: 'gelu', approximate: 'tanh' }, [2, 3], GELU, [2, 3], { approximate: 'tanh' }],
    [{ type: 'silu' }, [2, 3], SiLU, [2, 3], {}],
    [{ type: 'hardswish' }, [2, 3], Hardswish, [2, 3], {}],
    [{ type: 'hardsigmoid' }, [2, 3], Hardsigmoid, [2, 3], {}],
    [{ type: 'elu', alpha: 0.5 }, [2, 3], ELU, [2, 3], { alpha: 0.5 }],
    [{ type: 'identity' }, [2, 3], Identity, [2, 3], {}],
    [{ type: 'dropout2d', p: 0.2 }, [2, 3, 4, 4], Dropout2d, [2, 3, 4, 4], { p: 0.2 }],
    [
      { type: 'layernorm', normalizedShape: [4, 4], bias: false },
      [2, 3, 4, 4],
      LayerNorm,
      [2, 3, 4, 4],
      { normalizedShape: [4, 4], eps: 1e-5, bias: null },
    ],
    [
      { type: 'groupnorm', numGroups: 3, eps: 1e-3 },
      [2, 6, 4, 4],
      GroupNorm,
      [2, 6, 4, 4],
      { numGroups: 3, numChannels: 6, eps: 1e-3, affine: true },
    ],
    [{ type: 'leakyrelu', negativeSlope: 0.2 }, [2, 3], LeakyReLU, [2, 3], { negativeSlope: 0.2 }],
    [{ type: 'LeakyReLU' }, [2, 3], LeakyReLU, [2, 3], { negativeSlope: 0.01 }],
    [{ type: 'sigmoid' }, [2, 3], Sigmoid, [2, 3], {}],
    [{ type: 'tanh' }, [2, 3], Tanh, [2, 3], {}],
    [{ type: 'softmax', dim: 1 }, [2, 3], Softmax, [2, 3], { dim: 1 }],
    [{ type: 'logsoftmax', dim: -1 }, [2, 3], LogSoftmax, [2, 3], { dim: -1 }],
    [{ type: 'dropout', p: 0.25 }, [2, 3, 4, 4], Dropout, [2, 3, 4, 4], { p: 0.25 }],
    [{ type: 'dropout' }, [2, 3], Dropout, [2, 3], { p: 0.5 }],
    [{ type: 'flatten', startDim: 2 }, [2, 3, 4, 5], Flatten, [2, 3, 20], { startDim: 2, endDim: -1 }],
    [{ type: 'linear', outFeatures: 7, bias: false }, [2, 12], Linear, [2, 7], { inFeatures: 12, bias: null }],
  ];
  test('the cases cover every type', () => {
    expect(new Set(cases.map(([l]) => String(l.type).toLowerCase()))).toEqual(
      new Set(SPEC_LAYER_TYPES.filter((t) => t !== 'sequential' && t !== 'graph')),
    );
  });
  test.each(cases)('%o on %j', (layer, input, cls, output, fields) => {
    const built = buildModelFromSpec({ input, layers: [layer] });
    const m = built.model.at(0);
    expect(m).toBeInstanceOf(cls);
    expect(built.output).toEqual(output);
    for (const [k, v] of Object.entries(fields)) expect((m as unknown as Record<string, unknown>)[k]).toEqual(v);
    // It runs, forward and backward, with the shapes the spec promised.
    const x = new Tensor(
      Float32Array.from({ length: input.reduce((a, b) => a * b) }, (_, i) => Math.sin(i)),
      input,
    );
    const y = built.model.forward(x);
    expect(y.shape).toEqual(output);
    expect(built.model.backward(Tensor.zeros(output)).shape).toEqual(input);
  });
});

test('a CIFAR-10 net with every kind of layer: sizes inferred along the chain, trainable parameters and buffers by name', () => {
  const { model, output } = buildModelFromSpec({
    input: [1, 3, 32, 32],
    layers: [
      {
        type: 'sequential',
        name: 'block1',
        layers: [
          { type: 'conv2d', name: 'conv', outChannels: 8, kernelSize: 3, padding: 1, bias: false },
          { type: 'batchnorm2d', name: 'bn' },
          { type: 'leakyrelu', name: 'act', negativeSlope: 0.1 },
          { type: 'maxpool2d', name: 'pool', kernelSize: 2 },
        ],
      },
      {
        type: 'sequential',
        name: 'block2',
        layers: [
          { type: 'conv2d', name: 'conv', outChannels: 16, kernelSize: 3, padding: 1 },
          { type: 'tanh', name: 'act' },
          { type: 'avgpool2d', name: 'pool', kernelSize: 2 },
        ],
      },
      { type: 'adaptiveavgpool2d', name: 'gap', outputSize: 2 },
      { type: 'flatten', name: 'flatten', startDim: 2 },
      { type: 'conv1d', name: 'mix', outChannels: 8, kernelSize: 1 },
      { type: 'batchnorm1d', name: 'bn1d' },
      { type: 'sigmoid', name: 'gate' },
      { type: 'flatten', name: 'flat' },
      { type: 'dropout', name: 'drop', p: 0.3 },
      { type: 'linear', name: 'fc', outFeatures: 10 },
      { type: 'logsoftmax', name: 'logp', dim: 1 },
    ],
  });
  expect(output).toEqual([1, 10]);
  expect((model.at(4) as Conv1d).inChannels).toBe(16);
  expect((model.at(5) as BatchNorm1d).numFeatures).toBe(8);
  expect((model.at(9) as Linear).inFeatures).toBe(32);
  expect(Object.keys(model.stateDict()).sort()).toEqual(
    [
      'block1.conv.weight',
      'block1.bn.weight',
      'block1.bn.bias',
      'block1.bn.running_mean',
      'block1.bn.running_var',
      'block1.bn.num_batches_tracked',
      'block2.conv.weight',
      'block2.conv.bias',
      'mix.weight',
      'mix.bias',
      'bn1d.weight',
      'bn1d.bias',
      'bn1d.running_mean',
      'bn1d.running_var',
      'bn1d.num_batches_tracked',
      'fc.weight',
      'fc.bias',
    ].sort(),
  );
});

test('the normalised spec writes out types, inferred sizes and names, and rebuilds the same layers', () => {
  const spec = {
    input: [4, 3, 8, 8],
    layers: [
      { type: 'Conv2d', outChannels: 2, kernelSize: 3 },
      { type: 'BatchNorm2d' },
      {
        type: 'sequential',
        layers: [{ type: 'flatten' }, { type: 'Linear', name: 'fc', outFeatures: 5 }, { type: 'dropout', p: 0.1 }],
      },
    ],
  };
  const built = buildModelFromSpec(spec);
  expect(built.spec).toEqual({
    input: [4, 3, 8, 8],
    layers: [
      { type: 'conv2d', inChannels: 3, outChannels: 2, kernelSize: 3 },
      { type: 'batchnorm2d', numFeatures: 2 },
      {
        type: 'sequential',
        layers: [
          { type: 'flatten', name: 'flatten0' },
          { type: 'linear', name: 'fc', inFeatures: 72, outFeatures: 5 },
          { type: 'dropout', name: 'dropout2', p: 0.1 },
        ],
      },
    ],
  });
  expect(built.model.config).toBe(built.spec);
  expect(isSpecModel(built.model)).toBe(true);
  expect(isSpecModel(new Sequential(new ReLU()))).toBe(false);
  const again = buildModelFromSpec(JSON.parse(JSON.stringify(built.spec)));
  expect(again.spec).toEqual(built.spec);
  const [a, b] = [built.model.stateDict(), again.model.stateDict()];
  expect(Object.keys(b)).toEqual(Object.keys(a));
  for (const k of Object.keys(a)) expect(Array.from(b[k].data)).toEqual(Array.from(a[k].data));
});

test('options.seed picks the initial weights and the dropout streams', () => {
  const spec = { input: [1, 4], layers: [{ type: 'linear', outFeatures: 3 }, { type: 'dropout' }] };
  const w = (seed?: number) =>
    Array.from(
      buildModelFromSpec(spec, undefined, seed === undefined ? {} : { seed }).model.stateDict()['0.weight'].data,
    );
  expect(w(0)).toEqual(w());
  expect(w(1)).not.toEqual(w(0));
  const drop = (seed: number) =>
    (buildModelFromSpec(spec, undefined, { seed }).model.at(1) as Dropout).generator.getState();
  expect(drop(3)).toEqual(drop(3));
  expect(drop(3)).not.toEqual(drop(4));
});

describe('bad specs name the layer and throw the right class', () => {
  const one =
    (layer: unknown, input = [1, 3, 8, 8]) =>
    () =>
      buildModelFromSpec({ input, layers: [layer] });
  test.each([
    ['not an object', () => buildModelFromSpec([]), TypeError, /model spec must be a JSON object, got Array/],
    [
      'unknown top-level key',
      () => buildModelFromSpec({ input: [1, 2], layers: [], model: 'x' }),
      RangeError,
      /^model spec: unknown option 'model' \(known: input, layers, nodes\)$/,
    ],
    ['no input', () => buildModelFromSpec({ layers: [] }), RangeError, /no input shape/],
    ['bad input', () => buildModelFromSpec({ input: [1, 0], layers: [] }), RangeError, /sizes >= 1, got \[1, 0\]/],
    [
      'layers not an array',
      () => buildModelFromSpec({ input: [1, 2], layers: {} }),
      TypeError,
      /"layers" must be an array/,
    ],
    ['layer not an object', one(3), TypeError, /^layers\[0\]: a layer must be an object/],
    ['no type', one({ outChannels: 2 }), TypeError, /^layers\[0\]: "type" must be a string/],
    [
      'unknown type',
      one({ type: 'conv3d' }),
      RangeError,
      /^layers\[0\] \(conv3d\): unknown layer type \(known: conv1d, conv2d, convtranspose2d, maxpool2d, avgpool2d, adaptiveavgpool2d, adaptivemaxpool2d, upsample, batchnorm1d, batchnorm2d, layernorm, groupnorm, relu, relu6, hardtanh, leakyrelu, sigmoid, tanh, softmax, logsoftmax, gelu, silu, hardswish, hardsigmoid, elu, identity, dropout, dropout2d, flatten, linear, sequential, graph\)$/,
    ],
    [
      'unknown option',
      one({ type: 'conv2d', outChannels: 2, kernelSize: 3, strides: 2 }),
      RangeError,
      /^layers\[0\] \(conv2d\): unknown option 'strides' \(known: inChannels, outChannels, kernelSize, stride, padding, paddingMode, dilation, groups, bias\)$/,
    ],
    [
      'unknown option of a named layer',
      one({ type: 'Dropout', name: 'drop', rate: 0.5 }),
      RangeError,
      /^layers\[0\] 'drop' \(Dropout\): unknown option 'rate' \(known: p\)$/,
    ],
    [
      'generator',
      one({ type: 'linear', outFeatures: 2, generator: {} }, [1, 4]),
      RangeError,
      /unknown option 'generator' \(known: inFeatures, outFeatures, bias\)/,
    ],
    ['relu options', one({ type: 'relu', inplace: true }), RangeError, /unknown option 'inplace' \(it takes none\)/],
    [
      'a bad option value',
      one({ type: 'batchnorm2d', momentum: 2 }),
      RangeError,
      /^layers\[0\] \(batchnorm2d\) with input \[1, 3, 8, 8\]: BatchNorm2d: momentum/,
    ],
    [
      'softmax without dim',
      one({ type: 'softmax' }, [1, 4]),
      TypeError,
      /^layers\[0\] \(softmax\) with input \[1, 4\]: Softmax: option 'dim' is required/,
    ],
    [
      'dim out of range',
      one({ type: 'logsoftmax', dim: 2 }, [1, 4]),
      RangeError,
      /LogSoftmax: dim 2 is out of range for input shape \[1, 4\]/,
    ],
    [
      'conv1d on an image',
      one({ type: 'conv1d', outChannels: 2, kernelSize: 1 }),
      RangeError,
      /conv1d needs a 3-D \[N, C, L\] input, the shape here is \[1, 3, 8, 8\]/,
    ],
    [
      'batchnorm2d after flatten',
      one({ type: 'batchnorm2d' }, [1, 4]),
      RangeError,
      /batchnorm2d needs a 4-D \[N, C, H, W\] input/,
    ],
    [
      'batchnorm1d on an image',
      one({ type: 'batchnorm1d' }),
      RangeError,
      /batchnorm1d needs a 2-D \[N, C\] or 3-D \[N, C, L\] input/,
    ],
    [
      'linear before flatten',
      one({ type: 'linear', outFeatures: 2 }),
      RangeError,
      /linear needs a 2-D \[N, features\] \(put a flatten before it\) input, the shape here is \[1, 3, 8, 8\]/,
    ],
    [
      'adaptive pool size',
      one({ type: 'adaptiveavgpool2d', outputSize: 0 }),
      RangeError,
      /AdaptiveAvgPool2d: outputSize must be an integer >= 1/,
    ],
    ['dropout p', one({ type: 'dropout', p: 1.5 }), RangeError, /Dropout: p/],
    ['layers on a leaf', one({ type: 'flatten', layers: [] }), RangeError, /only sequential takes "layers"/],
    [
      'options on a sequential',
      one({ type: 'sequential', layers: [], kernelSize: 2 }),
      RangeError,
      /unknown option 'kernelSize' \(known: layers\)/,
    ],
    [
      'conv after flatten',
      one({ type: 'conv2d', outChannels: 2, kernelSize: 1 }, [1, 4]),
      RangeError,
      /conv2d needs a 4-D \[N, C, H, W\] input/,
    ],
    [
      'explicit inChannels that do not fit',
      one({ type: 'conv2d', inChannels: 4, outChannels: 2, kernelSize: 1 }),
      ShapeError,
      /expected shape \[\*, 4, \*, \*\]/,
    ],
    ['kernel larger than the input', one({ type: 'maxpool2d', kernelSize: 9 }), RangeError, /smaller than the kernel/],
    ['bad name', one({ type: 'relu', name: '1st' }), RangeError, /name '1st' must be an identifier/],
    ['name not a string', one({ type: 'relu', name: 3 }), TypeError, /"name" must be a string/],
    [
      'duplicate name',
      () =>
        buildModelFromSpec({
          input: [1, 2],
          layers: [
            { type: 'relu', name: 'a' },
            { type: 'relu', name: 'a' },
          ],
        }),
      RangeError,
      /layers\[1\] 'a' \(relu\): duplicate layer name 'a'/,
    ],
    [
      'a nested layer',
      () =>
        buildModelFromSpec({
          input: [1, 2],
          layers: [{ type: 'sequential', name: 'head', layers: [{ type: 'tanh', beta: 1 }] }],
        }),
      RangeError,
      /^layers\[0\]\.layers\[0\] \(tanh\): unknown option 'beta'/,
    ],
    [
      'a bad seed',
      () => buildModelFromSpec({ input: [1, 2], layers: [] }, undefined, { seed: -1 }),
      RangeError,
      /seed must be an integer >= 0/,
    ],
    [
      'a seed of another kind',
      () => buildModelFromSpec({ input: [1, 2], layers: [] }, undefined, { seed: '1' as never }),
      TypeError,
      /buildModelFromSpec: seed must be a number, got string/,
    ],
  ])('%s', (_what, run, errorClass, message) => {
    expect(run).toThrow(errorClass);
    expect(run).toThrow(message);
  });
});

describe('limits checked before anything is built: layer count, nesting depth, parameter values', () => {
  test('200,000 layers: a RangeError at once (it ran 200 s and overflowed the stack)', () => {
    const layers = Array.from({ length: 200_000 }, () => ({ type: 'relu' }));
    expect(() => buildModelFromSpec({ input: [1, 4], layers })).toThrow(
      new RangeError(
        `model spec: more than ${MAX_SPEC_LAYERS} layers (nested ones included), the most a spec may have`,
      ),
    );
    // Nested ones count too: 101 blocks of 100.
    const blocks = Array.from({ length: 101 }, () => ({ type: 'sequential', layers: layers.slice(0, 99) }));
    expect(() => buildModelFromSpec({ input: [1, 4], layers: blocks })).toThrow(/more than 10000 layers/);
  });

  test('20,000 nested blocks: a RangeError naming the depth, not a stack overflow', () => {
    let layer: Record<string, unknown> = { type: 'relu' };
    for (let i = 0; i < 20_000; i++) layer = { type: 'sequential', layers: [layer] };
    expect(() => buildModelFromSpec({ input: [1, 4], layers: [layer] })).toThrow(
      /^model spec: "layers(\[0\]\.layers){64}" is nested 65 blocks deep, more than the 64 a spec may have$/,
    );
    let ok: Record<string, unknown> = { type: 'relu' };
    for (let i = 0; i < MAX_SPEC_DEPTH - 1; i++) ok = { type: 'sequential', layers: [ok] };
    expect(buildModelFromSpec({ input: [1, 4], layers: [ok] }).output).toEqual([1, 4]);
  });

  test('maxStateValues: the layer that passes it is named, and nothing of it is built', () => {
    const spec = {
      input: [1, 3, 8, 8],
      layers: [
        { type: 'conv2d', outChannels: 4, kernelSize: 3 }, // 4*3*9 + 4 = 112
        { type: 'batchnorm2d' }, // 2*4 + 2*4 + 1 = 17
        { type: 'flatten' },
        { type: 'linear', outFeatures: 100000 }, // 144 * 100000 + 100000
      ],
    };
    const exact = buildModelFromSpec({ ...spec, layers: spec.layers.slice(0, 3) }, undefined, { maxStateValues: 129 });
    const size = Object.values(exact.model.stateDict()).reduce((n, t) => n + t.size, 0);
    expect(size).toBe(129);
    let caught: Error | undefined;
    try {
      buildModelFromSpec(spec, undefined, { maxStateValues: 1000 });
    } catch (err) {
      caught = err as Error;
    }
    expect(caught).toBeInstanceOf(SpecTooLargeError);
    expect(caught).toBeInstanceOf(RangeError);
    expect(caught?.message).toBe(
      'layers[3] (linear) with input [1, 144]: its 14500000 parameter and buffer values take the model to 14500129, more than the 1000 allowed',
    );
    expect(() => buildModelFromSpec(spec, undefined, { maxStateValues: -1 })).toThrow(/maxStateValues/);
  });
});
