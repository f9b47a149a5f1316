// SPDX-License-Identifier: MIT
// Tests of lib/train/saved-model.ts: metadata layout, round trip through a file (LeNet and a model spec), the shapes a config
// records, and clear errors for files that cannot rebuild a model.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileFormatError } from '../../lib/errors';
import { readSafetensors, saveSafetensors } from '../../lib/io/safetensors';
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { LeNet } from '../../lib/modules/lenet';
import { LeNetBN } from '../../lib/modules/lenet-bn';
import { Adam } from '../../lib/optim/adam';
import { Generator, manualSeed } from '../../lib/random';
import { buildModelFromSpec, isSpecModel } from '../../lib/summary/model-spec';
import { Tensor } from '../../lib/tensor/tensor';
import { lenetStateValues, loadModel, modelMetadata, modelShapes, saveModel } from '../../lib/train/saved-model';
import { tinyModel } from './synthetic';

/** A small CIFAR-sized classifier with batch norm (buffers) and dropout (training-only randomness). */
const specWithNorm = {
  input: [1, 3, 16, 16],
  layers: [
    { type: 'conv2d', name: 'conv', outChannels: 4, kernelSize: 3, padding: 1 },
    { type: 'batchnorm2d', name: 'bn' },
    { type: 'relu' },
    { type: 'maxpool2d', kernelSize: 4 },
    { type: 'flatten' },
    { type: 'dropout', p: 0.5 },
    { type: 'linear', name: 'fc', outFeatures: 5 },
    { type: 'batchnorm1d' },
  ],
};

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-model-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the metadata names the architecture and its config, as docs/architecture.md says', () => {
  const net = new LeNet({ inChannels: 1, imageSize: 28 });
  expect(modelMetadata(net)).toEqual({
    format: 'pt',
    'simdnet.arch': 'LeNet',
    'simdnet.config': '{"inChannels":1,"imageSize":28,"numClasses":10,"padding":2}',
  });
  expect(() => modelMetadata(tinyModel() as never)).toThrow(
    /must be one of LeNet, LeNetBN, ResNet, or a Sequential or Graph built by buildModelFromSpec, got Sequential \(a Sequential built by hand/,
  );
  const { model, spec } = buildModelFromSpec(specWithNorm);
  expect(modelMetadata(model)).toEqual({
    format: 'pt',
    'simdnet.arch': 'Sequential',
    'simdnet.config': JSON.stringify(spec),
  });
});

test('a spec model with batch norm and dropout, trained a step, comes back with identical predictions (and loads strictly)', () => {
  const { model } = buildModelFromSpec(specWithNorm, undefined, { seed: 3 });
  const rng = new Generator(1);
  const x = new Tensor(
    Float32Array.from({ length: 8 * 3 * 16 * 16 }, () => rng.uniform(-1, 1)),
    [8, 3, 16, 16],
  );
  const labels = Int32Array.from({ length: 8 }, (_, i) => i % 5);
  const optimizer = new Adam(model.parameters(), { lr: 0.01 });
  const loss = new CrossEntropyLoss();
  model.train();
  loss.forward(model.forward(x), labels);
  model.backward(loss.backward());
  optimizer.step();
  model.eval();
  expect(Array.from(model.stateDict()['bn.num_batches_tracked'].data)).toEqual([1]);
  const file = path.join(dir, 'spec.safetensors');
  saveModel(file, model);
  const back = loadModel(file);
  expect(isSpecModel(back)).toBe(true);
  expect(back.config).toEqual(model.config);
  expect(Array.from(back.predict(x).data)).toEqual(Array.from(model.predict(x).data));
  // Strict: one tensor missing (or one extra) and the file does not load.
  const { tensors, metadata } = readSafetensors(file);
  const { 'fc.bias': _dropped, ...fewer } = tensors;
  saveSafetensors(file, fewer, metadata);
  expect(() => loadModel(file)).toThrow(
    /weights do not fit Sequential\(input \[1, 3, 16, 16\]\): loadStateDict: missing keys: fc.bias/,
  );
  saveSafetensors(file, { ...tensors, extra: Tensor.zeros([1]) }, metadata);
  expect(() => loadModel(file)).toThrow(/unexpected keys: extra/);
});

test('modelShapes gives the input (batch 1) and output a config records', () => {
  expect(modelShapes(new LeNet())).toEqual({ input: [1, 3, 32, 32], output: [1, 10] });
  expect(modelShapes(new LeNetBN({ inChannels: 1, imageSize: 28, numClasses: 4 }))).toEqual({
    input: [1, 1, 28, 28],
    output: [1, 4],
  });
  expect(modelShapes(buildModelFromSpec(specWithNorm, [7, 3, 16, 16]).model)).toEqual({
    input: [1, 3, 16, 16],
    output: [1, 5],
  });
  expect(
    modelShapes(buildModelFromSpec({ input: [2, 6], layers: [{ type: 'linear', outFeatures: 2 }] }).model),
  ).toEqual({ input: [1, 6], output: [1, 2] });
});

test('saveModel then loadModel rebuilds the same architecture with the same weights', () => {
  manualSeed(5);
  const net = new LeNet({ numClasses: 4 });
  const file = path.join(dir, 'net.safetensors');
  saveModel(file, net);
  expect(readSafetensors(file).metadata['simdnet.arch']).toBe('LeNet');
  const back = loadModel(file) as LeNet;
  expect(back).toBeInstanceOf(LeNet);
  expect(back.config).toEqual(net.config);
  const want = net.stateDict();
  for (const [name, t] of Object.entries(back.stateDict()))
    expect(Array.from(t.data)).toEqual(Array.from(want[name].data));
});

describe('files that cannot rebuild a model give a FileFormatError naming the file', () => {
  const weights = () => new LeNet().stateDict();
  const write = (metadata?: Record<string, string>, dict = weights()) => {
    const file = path.join(dir, 'w.safetensors');
    saveSafetensors(file, dict, metadata);
    return file;
  };
  const cases: [string, () => string, RegExp][] = [
    ['no metadata', () => write(), /no "simdnet.arch" in the metadata/],
    [
      'an unknown architecture',
      () => write({ 'simdnet.arch': 'VGG' }),
      /unknown architecture "VGG" \(known: LeNet, LeNetBN, ResNet, Sequential, Graph\)/,
    ],
    ['an inherited property name as architecture', () => write({ 'simdnet.arch': 'toString' }), /unknown architecture/],
    ['config that is not JSON', () => write({ 'simdnet.arch': 'LeNet', 'simdnet.config': '{oops' }), /not valid JSON/],
    [
      'config that is not an object',
      () => write({ 'simdnet.arch': 'LeNet', 'simdnet.config': '[1]' }),
      /must be a JSON object/,
    ],
    [
      'a config LeNet rejects',
      () => write({ 'simdnet.arch': 'LeNet', 'simdnet.config': '{"depth":3}' }),
      /bad LeNet config/,
    ],
    [
      'weights of another shape',
      () => write({ 'simdnet.arch': 'LeNet', 'simdnet.config': '{"numClasses":5}' }),
      /weights do not fit LeNet.*fc3/,
    ],
    [
      'a Sequential config that is not a spec',
      () =>
        write({ 'simdnet.arch': 'Sequential', 'simdnet.config': '{"layers":[{"type":"conv3d"}],"input":[1,3,32,32]}' }),
      /bad Sequential config .*layers\[0\] \(conv3d\): unknown layer type/,
    ],
    [
      'a Sequential without a config',
      () => write({ 'simdnet.arch': 'Sequential' }),
      /bad Sequential config : model spec: no input shape/,
    ],
    [
      'LeNet weights under a spec of other layers',
      () => write({ 'simdnet.arch': 'Sequential', 'simdnet.config': JSON.stringify(specWithNorm) }),
      /weights do not fit Sequential\(input \[1, 3, 16, 16\]\): loadStateDict: missing keys: conv.weight/,
    ],
  ];
  test.each(cases)('%s', (_, make, message) => {
    const file = make();
    const err = (() => {
      try {
        loadModel(file);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as Error).message.startsWith(file)).toBe(true);
    expect((err as Error).message).toMatch(message);
  });
});

describe('a model larger than the file is refused before anything of it is allocated (test/fixtures/hostile)', () => {
  const hostile = (name: string) => path.join(__dirname, '..', 'fixtures', 'hostile', name);

  test('LeNet with numClasses 1e7 in a 180-byte file: refused from the config, no layer built', () => {
    // Before the check this built the 3.4 GB fc3 (62 s) and only then found the weights missing.
    const file = hostile('lenet-1e7-classes.safetensors');
    expect(() => loadModel(file)).toThrow(FileFormatError);
    expect(() => loadModel(file)).toThrow(
      `${file}: weights do not fit LeNet({"numClasses": 10000000}): it has 850061156 parameter and buffer values, the file holds 1 (nothing was built)`,
    );
  });

  test('a spec with a 200,000-wide linear layer in a 244-byte file: refused before the layer is built', () => {
    const file = hostile('spec-wide-linear.safetensors');
    expect(() => loadModel(file)).toThrow(FileFormatError);
    expect(() => loadModel(file)).toThrow(
      /weights do not fit the model spec .* \(nothing more was built\): layers\[0\] \(linear\) with input \[1, 200000\]: its 40000200000 parameter and buffer values take the model to 40000200000, more than the 1048578 allowed$/,
    );
  });

  test("lenetStateValues is exactly LeNet's and LeNetBN's state-dict size (it must follow lenet.ts)", () => {
    const size = (m: LeNet | LeNetBN) => Object.values(m.stateDict()).reduce((n, t) => n + t.size, 0);
    for (const config of [{}, { inChannels: 1, imageSize: 28 }, { numClasses: 7, imageSize: 40, padding: 1 }]) {
      expect(lenetStateValues(config, false)).toBe(size(new LeNet(config)));
      expect(lenetStateValues(config, true)).toBe(size(new LeNetBN(config)));
    }
    expect(lenetStateValues({ numClasses: 'x' as unknown as number }, false)).toBeNaN();
  });

  test('a spec whose size matches its file still loads', () => {
    const { model } = buildModelFromSpec({ input: [1, 6], layers: [{ type: 'linear', outFeatures: 3 }] });
    const file = path.join(dir, 'small.safetensors');
    saveModel(file, model);
    expect(loadModel(file).stateDict()['0.weight'].data).toEqual(model.stateDict()['0.weight'].data);
  });
});
