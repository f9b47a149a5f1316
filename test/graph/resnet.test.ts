// SPDX-License-Identifier: MIT
// The CIFAR ResNets: parameter counts of He et al.'s table, PyTorch's state-dict names, state dicts saved by PyTorch
// (test/fixtures/graph/gen_graph_fixtures.py from resnet_cifar.py) load strictly and give PyTorch's logits, and a
// ResNet trains, predicts natively, summarises and saves like any model.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readSafetensors, saveSafetensors } from '../../lib/io/safetensors';
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { BasicBlock, ResNet, resnet20, resnet32, resnet44, resnet56, resnetStateValues } from '../../lib/models/resnet';
import { Adam } from '../../lib/optim/adam';
import { SGD } from '../../lib/optim/sgd';
import { manualSeed } from '../../lib/random';
import { summary } from '../../lib/summary/summary';
import { readCheckpoint, restoreCheckpoint, saveCheckpoint } from '../../lib/train/checkpoint';
import { loadModel, saveModel } from '../../lib/train/saved-model';
import { countProgramRuns, expectAllClose, expectErrorNamed, randomTensor } from '../helpers';
import { ISAS, restore, setIsa } from '../native/isa';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'graph');
const expected = readSafetensors(path.join(FIXTURES, 'expected.safetensors')).tensors;

test.each([
  ['resnet20 A', 269_722, () => resnet20()],
  ['resnet20 B', 272_474, () => resnet20({ shortcut: 'B' })],
  ['resnet32 A', 464_154, () => resnet32()],
  ['resnet44 A', 658_586, () => resnet44()],
  ['resnet56 A', 853_018, () => resnet56()],
])('%s has %d parameters (He et al. 2016: 0.27M, 0.46M, 0.66M, 0.85M)', (_name, count, make) => {
  expect(make().numParameters()).toBe(count);
});

test.each([
  ['resnet20_a', () => new ResNet({ depth: 20, shortcut: 'A' })],
  ['resnet8_b', () => new ResNet({ depth: 8, shortcut: 'B' })],
])("%s: PyTorch's state dict loads strictly and gives PyTorch's logits", (name, make) => {
  const file = path.join(FIXTURES, `${name}_torch.safetensors`);
  const torch = readSafetensors(file).tensors;
  const model = make();
  expect(Object.keys(model.stateDict()).sort()).toEqual(Object.keys(torch).sort());
  model.loadStateDict(torch); // strict: every name and shape must match
  const x = expected.input;
  const want = expected[`${name}.logits`].data;
  expectAllClose(model.predict(x).data, want, 1e-5, 1e-5, `${name} predict`);
  model.eval();
  expectAllClose(model.forward(x).data, want, 1e-5, 1e-5, `${name} eval forward`);
});

test.each([
  [{ depth: 20 }],
  [{ depth: 20, shortcut: 'B' as const }],
  [{ depth: 32, numClasses: 100, inChannels: 1 }],
  [{ depth: 8, shortcut: 'B' as const }],
])('resnetStateValues(%j) counts every value of the state dict without building', (options) => {
  const model = new ResNet(options);
  const values = Object.values(model.stateDict()).reduce((n, t) => n + t.size, 0);
  expect(resnetStateValues(options)).toBe(values);
});

test('loadModel refuses a ResNet file whose config needs far more values than it holds, before building', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-resnet-'));
  try {
    const file = path.join(dir, 'huge.safetensors');
    // A real ResNet-20's weights under a config that asks for 1e8 classes (a 6.4e9-value fc layer).
    saveModel(file, resnet20());
    const { tensors, metadata } = readSafetensors(file);
    metadata['simdnet.config'] = JSON.stringify({ depth: 20, numClasses: 1e8 });
    saveSafetensors(file, tensors, metadata);
    expectErrorNamed(() => loadModel(file), 'FileFormatError', /weights do not fit ResNet\(.*\(nothing was built\)$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('predict() runs ResNet-20 (both shortcuts) as one native program', () => {
  for (const shortcut of ['A', 'B'] as const) {
    const model = resnet20({ shortcut });
    expect(countProgramRuns(() => model.predict(randomTensor([2, 3, 32, 32], 1))).runs).toBe(1);
  }
});

test('a few SGD steps lower the loss on a fixed batch, and the model saves and loads with identical predictions', () => {
  manualSeed(1);
  const model = new ResNet({ depth: 8, numClasses: 4 });
  const x = randomTensor([8, 3, 16, 16], 2, 1.5);
  const y = Int32Array.from({ length: 8 }, (_, i) => i % 4);
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  const lossFn = new CrossEntropyLoss();
  const losses: number[] = [];
  for (let step = 0; step < 8; step++) {
    opt.zeroGrad();
    losses.push(lossFn.forward(model.forward(x), y));
    model.backward(lossFn.backward(), { inputGrad: false });
    opt.step();
  }
  expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.7);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-resnet-'));
  try {
    const file = path.join(dir, 'r.safetensors');
    saveModel(file, model);
    const back = loadModel(file);
    expect(back).toBeInstanceOf(ResNet);
    expect((back as ResNet).config).toEqual({ depth: 8, shortcut: 'A', numClasses: 4, inChannels: 3, imageSize: 32 });
    expectAllClose(back.predict(x).data, model.predict(x).data, 0, 0, 'predictions after loading');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('summary: 269,722 parameters and 40.7M MACs per image for ResNet-20, one row per node', () => {
  const s = summary(resnet20(), [1, 3, 32, 32]);
  expect(s.totalParams).toBe(269_722);
  expect(s.totalMacs).toBe(40_739_456);
  expect(s.layers.map((l) => l.name).slice(0, 4)).toEqual(['conv', 'bn', 'relu', 'layers.0.conv1']);
  expect(s.layers.find((l) => l.name === 'layers.3.pad')).toMatchObject({
    type: 'pad',
    inputs: ['layers.3.slice'],
    outputShape: [1, 32, 16, 16],
  });
  expect(s.outputShape).toEqual([1, 10]);
});

test('bad options are errors naming the option', () => {
  expectErrorNamed(
    () => new ResNet({ depth: 21 }),
    'RangeError',
    /depth must be 6n \+ 2 \(20, 32, 44, 56, \.\.\.\), got 21/,
  );
  expectErrorNamed(() => new ResNet({ shortcut: 'C' as never }), 'RangeError', /shortcut must be 'A' or 'B', got "C"/);
  expectErrorNamed(
    () => new ResNet({ width: 2 } as never),
    'RangeError',
    /ResNet: unknown option 'width' \(known: depth, shortcut, numClasses, inChannels, imageSize\)/,
  );
  expectErrorNamed(() => new BasicBlock(32, 16, 2), 'RangeError', /shortcut A takes stride 2 and more channels/);
});

test("a 32-channel block's input and parameter gradients on every ISA match the reference kernels'", () => {
  // 3x3 convs of 32 channels at 16 px: the SIMD ISAs run their forward and input gradient by Winograd F(2x2, 3x3).
  const gradients = (isa: string): Float32Array[] => {
    setIsa(isa);
    manualSeed(4);
    const block = new BasicBlock(32, 32, 1);
    const y = block.forward(randomTensor([2, 32, 16, 16], 8));
    const dx = block.backward(randomTensor([...y.shape], 9));
    return [dx.data, ...block.parameters().map((p) => p.grad.data)];
  };
  try {
    const want = gradients('ref');
    expect(ISAS.length).toBeGreaterThan(1);
    for (const isa of ISAS.filter((i) => i !== 'ref')) {
      gradients(isa).forEach((got, i) => expectAllClose(got, want[i], 1e-4, 1e-3, `${isa}: gradient ${i}`));
    }
  } finally {
    restore();
  }
});

test('a checkpoint of a ResNet (weights, BatchNorm statistics, Adam moments) restores into a fresh one exactly', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-resnet-ck-'));
  try {
    manualSeed(2);
    const make = () => {
      const model = new ResNet({ depth: 8, shortcut: 'B', numClasses: 3 });
      return { model, optimizer: new Adam(model.parameters(), { lr: 1e-3 }) };
    };
    const a = make();
    const x = randomTensor([4, 3, 8, 8], 3);
    const y = Int32Array.of(0, 1, 2, 0);
    const lossFn = new CrossEntropyLoss();
    const step = (s: ReturnType<typeof make>) => {
      s.optimizer.zeroGrad();
      lossFn.forward(s.model.forward(x), y);
      s.model.backward(lossFn.backward(), { inputGrad: false });
      s.optimizer.step();
    };
    step(a);
    const file = path.join(dir, 'checkpoint.safetensors');
    const position = { epoch: 1, batch: 1, epochs: [], lossSum: 0, count: 4, correct: 1 };
    saveCheckpoint(file, { ...a, settings: {} }, position);
    const b = make();
    expect(restoreCheckpoint(readCheckpoint(file), b)).toMatchObject({ epoch: 1, batch: 1 });
    step(a);
    step(b);
    expectAllClose(b.model.predict(x).data, a.model.predict(x).data, 0, 0, 'after one more step each');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
