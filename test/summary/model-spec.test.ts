// SPDX-License-Identifier: MIT
// Tests of buildModelFromSpec(): inferred sizes, layer options, names, nesting, the global generator left alone, and bad specs.
import { ShapeError } from '../../lib/errors';
import { Conv2d } from '../../lib/modules/conv2d';
import { Linear } from '../../lib/modules/linear';
import { MaxPool2d } from '../../lib/modules/max-pool2d';
import { Sequential } from '../../lib/modules/sequential';
import { defaultGenerator, manualSeed } from '../../lib/random';
import { buildModelFromSpec } from '../../lib/summary/model-spec';
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
  expect(s.layers.map((l) => l.name)).toEqual(['conv1', 'relu1', 'maxpool2d2', 'conv2', 'relu4', 'maxpool2d5', 'flatten6', 'fc1', 'relu8', 'fc2', 'relu10', 'fc3']);
  expect(Object.keys(model.stateDict())).toEqual(['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias']);
});

test('section 1 as a spec, with every conv option passed through', () => {
  const { model } = buildModelFromSpec({
    input: [1, 128, 64, 64],
    layers: [
      { type: 'conv2d', outChannels: 256, kernelSize: 3, stride: 2, padding: 1, bias: false },
      { type: 'conv2d', outChannels: 512, kernelSize: [3, 3], stride: [1, 1], padding: 1, dilation: 1, groups: 1, bias: false },
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
      { type: 'sequential', name: 'features', layers: [{ type: 'conv2d', outChannels: 4, kernelSize: 3, padding: 1 }, { type: 'maxpool2d', kernelSize: 3, stride: 2, ceilMode: true }] },
      { type: 'flatten', startDim: 1, endDim: -1 },
      { type: 'linear', outFeatures: 3, bias: false },
    ],
  };
  const { model, input } = buildModelFromSpec(spec, [2, 1, 8, 8]);
  expect(input).toEqual([2, 1, 8, 8]);
  const s = summary(model, input);
  expect(s.layers.map((l) => [l.name, l.outputShape])).toEqual([
    ['features.0', [2, 4, 8, 8]], ['features.1', [2, 4, 4, 4]], ['flatten1', [2, 64]], ['linear2', [2, 3]],
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

describe('bad specs name the layer and throw the right class', () => {
  const one = (layer: unknown, input = [1, 3, 8, 8]) => () => buildModelFromSpec({ input, layers: [layer] });
  test.each([
    ['not an object', () => buildModelFromSpec([]), TypeError, /model spec must be a JSON object, got Array/],
    ['unknown top-level key', () => buildModelFromSpec({ input: [1, 2], layers: [], model: 'x' }), RangeError, /unknown key 'model'/],
    ['no input', () => buildModelFromSpec({ layers: [] }), RangeError, /no input shape/],
    ['bad input', () => buildModelFromSpec({ input: [1, 0], layers: [] }), RangeError, /sizes >= 1, got \[1, 0\]/],
    ['layers not an array', () => buildModelFromSpec({ input: [1, 2], layers: {} }), TypeError, /"layers" must be an array/],
    ['layer not an object', one(3), TypeError, /^layers\[0\]: a layer must be an object/],
    ['no type', one({ outChannels: 2 }), TypeError, /^layers\[0\]: "type" must be a string/],
    ['unknown type', one({ type: 'conv3d' }), RangeError, /^layers\[0\] \(conv3d\): unknown layer type/],
    ['unknown option', one({ type: 'conv2d', outChannels: 2, kernelSize: 3, strides: 2 }), RangeError, /^layers\[0\] \(conv2d\) with input \[1, 3, 8, 8\]: Conv2d: unknown or unsupported option 'strides'/],
    ['generator', one({ type: 'linear', outFeatures: 2, generator: {} }, [1, 4]), RangeError, /option 'generator'/],
    ['relu options', one({ type: 'relu', inplace: true }), RangeError, /relu takes no options/],
    ['layers on a leaf', one({ type: 'flatten', layers: [] }), RangeError, /only sequential takes "layers"/],
    ['options on a sequential', one({ type: 'sequential', layers: [], kernelSize: 2 }), RangeError, /sequential takes only "layers"/],
    ['conv after flatten', one({ type: 'conv2d', outChannels: 2, kernelSize: 1 }, [1, 4]), RangeError, /conv2d needs a 4-D input/],
    ['explicit inChannels that do not fit', one({ type: 'conv2d', inChannels: 4, outChannels: 2, kernelSize: 1 }), ShapeError, /expected shape \[\*, 4, \*, \*\]/],
    ['kernel larger than the input', one({ type: 'maxpool2d', kernelSize: 9 }), RangeError, /smaller than the kernel/],
    ['bad name', one({ type: 'relu', name: '1st' }), RangeError, /name '1st' must be an identifier/],
    ['name not a string', one({ type: 'relu', name: 3 }), TypeError, /"name" must be a string/],
    ['duplicate name', () => buildModelFromSpec({ input: [1, 2], layers: [{ type: 'relu', name: 'a' }, { type: 'relu', name: 'a' }] }), RangeError, /layers\[1\] \(relu\): duplicate layer name 'a'/],
  ])('%s', (_what, run, errorClass, message) => {
    expect(run).toThrow(errorClass);
    expect(run).toThrow(message);
  });
});
