// SPDX-License-Identifier: MIT
// Tests of the ONNX importer: export -> import round trips (every exportable layer, LeNet, a trained LeNetBN) give the same
// predictions; PyTorch's own exports (test/fixtures/onnx_*.onnx) give PyTorch's logits; metadata; the names of the layers.
// Corrupt, truncated and random files give FileFormatErrors; hand-built graphs (each op, each rejection) are onnx-import-ops.test.ts.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { encodeOnnx, exportOnnx } from '../../lib/io/onnx-export';
import { importOnnx, MAX_SAMPLE_VALUES } from '../../lib/io/onnx-import';
import { encodeSafetensors, readSafetensors } from '../../lib/io/safetensors';
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { AdaptiveAvgPool2d } from '../../lib/modules/adaptive-avg-pool2d';
import { BatchNorm1d, BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv1d } from '../../lib/modules/conv1d';
import { Conv2d } from '../../lib/modules/conv2d';
import { Flatten } from '../../lib/modules/flatten';
import { LeNet } from '../../lib/modules/lenet';
import { LeNetBN } from '../../lib/modules/lenet-bn';
import { LeakyReLU } from '../../lib/modules/leaky-relu';
import { Linear } from '../../lib/modules/linear';
import type { Module } from '../../lib/modules/module';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import type { Softmax } from '../../lib/modules/softmax';
import { SGD } from '../../lib/optim/sgd';
import { defaultGenerator, Generator, manualSeed } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { maxDiff, randomTensor } from '../helpers';
import { activations, conv1dModel, everyLayer } from './onnx-models';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-onnx-import-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const diffs: Record<string, number> = {};
afterAll(() => {
  // The final report quotes these.
  console.log(
    `ONNX import max |imported - original| (round trips vs predict, fixtures vs PyTorch): ${JSON.stringify(diffs)}`,
  );
});

/** A few SGD steps in training mode (moving weights and BatchNorm's running statistics), then eval mode. */
function trainSteps(model: Module, imageShape: number[], steps: number, numClasses: number): void {
  model.train();
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const lossFn = new CrossEntropyLoss();
  for (let s = 0; s < steps; s++) {
    const x = randomTensor([8, ...imageShape], 200 + s, 2);
    for (let i = 0; i < x.data.length; i++) x.data[i] += 0.5;
    opt.zeroGrad();
    lossFn.forward(
      model.forward(x),
      Int32Array.from({ length: 8 }, (_, i) => (i * 3 + s) % numClasses),
    );
    model.backward(lossFn.backward());
    opt.step();
  }
  model.eval();
}

/** Exports `model`, imports the bytes, and returns max |imported.predict - model.predict| at batch 1 and 5. */
function roundTrip(model: Module, imageShape: number[], seed: number): { diff: number; imported: Sequential } {
  const { model: imported, inputShape, outputShape } = importOnnx(encodeOnnx(model, [1, ...imageShape]));
  expect(inputShape).toEqual(imageShape);
  expect(outputShape).toEqual(model.outputShape([1, ...imageShape]).slice(1));
  expect(imported.training).toBe(false);
  let diff = 0;
  for (const n of [1, 5]) {
    const x = randomTensor([n, ...imageShape], seed + n);
    diff = Math.max(diff, maxDiff(imported.predict(x).data, model.predict(x).data));
  }
  return { diff, imported: imported as Sequential };
}

/** The state dict without num_batches_tracked (not exported), as plain arrays. */
function weights(model: Module): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(model.stateDict()))
    if (!k.endsWith('num_batches_tracked')) out[k] = Array.from(t.data);
  return out;
}

describe('export -> import round trips predict the same within 1e-6', () => {
  test('a Sequential of every exportable layer (trained, non-default options, nested block)', () => {
    manualSeed(4);
    const model = everyLayer();
    trainSteps(model, [4, 11, 13], 3, 5);
    const { diff, imported } = roundTrip(model, [4, 11, 13], 40);
    diffs.everyLayer = diff;
    expect(diff).toBeLessThanOrEqual(1e-6);
    // Same state-dict names and values (the Dropout, exported as Identity, has no weights); the block nests again.
    expect(weights(imported)).toEqual(weights(model));
    expect(imported.namedChildren().map(([n]) => n)).toEqual([
      'conv',
      'bn',
      'relu',
      'pool',
      'block',
      'flat',
      'fc1',
      'bn1d',
      'relu2',
      'fc2',
    ]);
    const block = imported.namedChildren()[4][1] as Sequential;
    expect(block.namedChildren().map(([n, m]) => `${n}:${m.constructor.name}`)).toEqual([
      '0:Conv2d',
      '1:BatchNorm2d',
      '2:AvgPool2d',
      '3:AvgPool2d',
      '4:AvgPool2d',
    ]);
    expect((block.at(1) as BatchNorm2d).affine).toBe(false);
    expect((imported.at(1) as BatchNorm2d).eps).toBe(1e-3);
    expect((imported.at(1) as BatchNorm2d).momentum).toBe(0.1);
    const conv = imported.at(0) as Conv2d;
    expect([conv.kernelSize, conv.stride, conv.padding, conv.dilation, conv.groups]).toEqual([
      [3, 2],
      [1, 2],
      [2, 1],
      [2, 1],
      2,
    ]);
  });

  test('activations and adaptive pools: the same layers back, AdaptiveAvgPool2d to a dividing size as AvgPool2d', () => {
    manualSeed(11);
    const model = activations();
    trainSteps(model, [3, 12, 10], 2, 5);
    const { diff, imported } = roundTrip(model, [3, 12, 10], 60);
    diffs.activations = diff;
    expect(diff).toBeLessThanOrEqual(1e-6);
    expect(weights(imported)).toEqual(weights(model));
    expect(imported.namedChildren().map(([n, m]) => `${n}:${m.constructor.name}`)).toEqual([
      'conv:Conv2d',
      'lrelu:LeakyReLU',
      'pool:AvgPool2d',
      'soft:Softmax',
      'tanh:Tanh',
      'rows:AvgPool2d',
      'sig:Sigmoid',
      'gap:AdaptiveAvgPool2d',
      'flat:Flatten',
      'fc:Linear',
      'logp:LogSoftmax',
    ]);
    expect((imported.at(1) as LeakyReLU).negativeSlope).toBe(0.2);
    expect([(imported.at(3) as Softmax).dim, (imported.at(10) as Softmax).dim]).toEqual([1, -1]);
    const pool = imported.at(2) as unknown as { kernelSize: number[]; stride: number[]; padding: number[] };
    expect([pool.kernelSize, pool.stride, pool.padding]).toEqual([
      [3, 2],
      [3, 2],
      [0, 0],
    ]);
  });

  test('a Conv1d model (trained; BatchNorm1d on [N, C, L] and [N, C]): Conv1d attributes, names and weights come back', () => {
    manualSeed(12);
    const model = conv1dModel();
    trainSteps(model, [4, 20], 3, 4);
    const { diff, imported } = roundTrip(model, [4, 20], 70);
    diffs.conv1d = diff;
    expect(diff).toBeLessThanOrEqual(1e-6);
    expect(weights(imported)).toEqual(weights(model));
    expect(imported.namedChildren().map(([n, m]) => `${n}:${m.constructor.name}`)).toEqual([
      'conv1:Conv1d',
      'bn1:BatchNorm1d',
      'act:LeakyReLU',
      'conv2:Conv1d',
      'soft:Softmax',
      'tanh:Tanh',
      'flat:Flatten',
      'fc:Linear',
      'bn2:BatchNorm1d',
      'probs:Softmax',
    ]);
    const [c1, c2] = [imported.at(0) as Conv1d, imported.at(3) as Conv1d];
    expect([c1.kernelSize, c1.stride, c1.padding, c1.dilation, c1.groups, c1.bias !== null]).toEqual([
      3,
      2,
      2,
      2,
      2,
      true,
    ]);
    expect([c2.kernelSize, c2.stride, c2.padding, c2.dilation, c2.groups, c2.bias]).toEqual([1, 1, 0, 1, 1, null]);
    expect((imported.at(2) as LeakyReLU).negativeSlope).toBe(0.01);
    expect([(imported.at(8) as BatchNorm1d).eps, (imported.at(8) as BatchNorm1d).momentum]).toEqual([1e-3, 0.1]);
    expect([(imported.at(4) as Softmax).dim, (imported.at(9) as Softmax).dim]).toEqual([-2, 1]);
    // Exporting the import again gives the same file.
    expect(Buffer.from(encodeOnnx(imported, [1, 4, 20])).equals(Buffer.from(encodeOnnx(model, [1, 4, 20])))).toBe(true);
  });

  test('Flatten of middle dims (Reshape with 0 for the batch) and of the last dims', () => {
    manualSeed(5);
    const model = new Sequential(
      new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3 }),
      new Flatten({ startDim: 2 }),
      new Flatten({ startDim: 1, endDim: 2 }),
      new Linear({ inFeatures: 48, outFeatures: 4 }),
    );
    const { diff, imported } = roundTrip(model, [2, 6, 6], 50);
    diffs.flatten = diff;
    expect(diff).toBe(0);
    expect([imported.at(1), imported.at(2)].map((f) => [(f as Flatten).startDim, (f as Flatten).endDim])).toEqual([
      [2, -1],
      [1, -1],
    ]);
  });

  test.each([
    ['LeNet', () => new LeNet(), [3, 32, 32]],
    ['LeNet-5', () => new LeNet({ inChannels: 1, imageSize: 28 }), [1, 28, 28]],
  ])('%s: same weights, same names, same logits', (name, make, shape) => {
    manualSeed(1);
    const model = make();
    const { diff, imported } = roundTrip(model, shape, 10);
    diffs[name] = diff;
    expect(diff).toBeLessThanOrEqual(1e-6);
    expect(weights(imported)).toEqual(weights(model));
    expect(imported.namedChildren().map(([n]) => n)).toEqual(model.namedChildren().map(([n]) => n));
  });

  test('LeNetBN after training steps (non-trivial running statistics), eval mode', () => {
    manualSeed(3);
    const model = new LeNetBN();
    trainSteps(model, [3, 32, 32], 3, 10);
    const bn1 = model.at(1) as BatchNorm2d;
    expect(Math.max(...bn1.runningMean!.data.map(Math.abs))).toBeGreaterThan(0.01);
    expect(Math.max(...bn1.runningVar!.data.map((v) => Math.abs(v - 1)))).toBeGreaterThan(0.01);
    const { diff, imported } = roundTrip(model, [3, 32, 32], 30);
    diffs.LeNetBN = diff;
    expect(diff).toBeLessThanOrEqual(1e-6);
    expect(weights(imported)).toEqual(weights(model));
  });

  test('from a file; metadata, graph name and producer come back; the global random stream is not touched', () => {
    manualSeed(6);
    const model = new LeNet({ numClasses: 4 });
    const file = path.join(dir, 'meta.onnx');
    exportOnnx(model, [1, 3, 32, 32], file, {
      metadata: { 'simdnet.dataset': 'cifar10', 'simdnet.num_classes': '4', note: 'héllo' },
    });
    const before = defaultGenerator.getState();
    const r = importOnnx(file);
    expect(defaultGenerator.getState()).toEqual(before);
    expect(r.metadata).toEqual({ note: 'héllo', 'simdnet.dataset': 'cifar10', 'simdnet.num_classes': '4' });
    expect(r).toMatchObject({
      inputShape: [3, 32, 32],
      outputShape: [4],
      outputSize: 4,
      graphName: 'LeNet',
      opset: 13,
    });
    expect(r.producer).toMatch(/^simdnet \d+\.\d+\.\d+/);
    expect(importOnnx(new Uint8Array(fs.readFileSync(file))).metadata['simdnet.num_classes']).toBe('4');
  });
});

describe("PyTorch's own ONNX exports (gen_onnx_fixture.py: torch.onnx.export, dynamo=False, opset 13)", () => {
  const refFile = readSafetensors(path.join(FIXTURES, 'onnx_pytorch.safetensors'));
  const ref = refFile.tensors;

  test("the reference file: what the generator says it wrote, in the fixtures' byte layout", () => {
    expect(Object.keys(ref).sort()).toEqual(['lenet.input', 'lenet.logits', 'mix.input', 'mix.logits']);
    expect([
      ref['lenet.input'].shape,
      ref['lenet.logits'].shape,
      ref['mix.input'].shape,
      ref['mix.logits'].shape,
    ]).toEqual([
      [4, 3, 32, 32],
      [4, 10],
      [3, 3, 16, 16],
      [3, 5],
    ]);
    expect(refFile.metadata).toMatchObject({
      generator: 'test/fixtures/gen_onnx_fixture.py',
      seed: '0',
      torch: expect.stringMatching(/^2\./),
    });
    const bytes = fs.readFileSync(path.join(FIXTURES, 'onnx_pytorch.safetensors'));
    expect(encodeSafetensors(ref, refFile.metadata).equals(bytes)).toBe(true);
  });

  test('LeNet: logits within 1e-5 of PyTorch at batch 4; Gemm transB=1, Flatten; layers named after the modules', () => {
    const r = importOnnx(path.join(FIXTURES, 'onnx_lenet.onnx'));
    expect(r).toMatchObject({ inputShape: [3, 32, 32], outputShape: [10], graphName: 'main_graph', opset: 13 });
    expect(r.producer).toMatch(/^pytorch 2\./);
    const logits = r.model.predict(ref['lenet.input']);
    diffs.pytorchLeNet = maxDiff(logits.data, ref['lenet.logits'].data);
    expect(diffs.pytorchLeNet).toBeLessThanOrEqual(1e-5);
    expect(r.model.namedChildren().map(([n, m]) => `${n}:${m.constructor.name}`)).toEqual([
      'conv1:Conv2d',
      'Relu:ReLU',
      'MaxPool:MaxPool2d',
      'conv2:Conv2d',
      'Relu_1:ReLU',
      'MaxPool_1:MaxPool2d',
      'Flatten:Flatten',
      'fc1:Linear',
      'Relu_2:ReLU',
      'fc2:Linear',
      'Relu_3:ReLU',
      'fc3:Linear',
    ]);
    // The same state-dict names as PyTorch's, so simdnet's LeNet loads the imported weights directly.
    const lenet = new LeNet();
    lenet.loadStateDict(r.model.stateDict());
    expect(maxDiff(lenet.predict(ref['lenet.input']).data, logits.data)).toBe(0);
  });

  test('the other forms PyTorch writes: LeakyRelu, BatchNormalization, Tanh, Sigmoid, ceil-mode MaxPool, GlobalAveragePool, Constant + Reshape, MatMul + Add, LogSoftmax', () => {
    const r = importOnnx(path.join(FIXTURES, 'onnx_mix.onnx'));
    expect(r).toMatchObject({ inputShape: [3, 16, 16], outputShape: [5] });
    diffs.pytorchMix = maxDiff(r.model.predict(ref['mix.input']).data, ref['mix.logits'].data);
    expect(diffs.pytorchMix).toBeLessThanOrEqual(1e-5);
    expect(r.model.namedChildren().map(([n, m]) => `${n}:${m.constructor.name}`)).toEqual([
      'conv1:Conv2d',
      'LeakyRelu:LeakyReLU',
      'pool1:AvgPool2d',
      'bn1:BatchNorm2d',
      'conv2:Conv2d',
      'Tanh:Tanh',
      'pool2:MaxPool2d',
      'MaxPool:MaxPool2d',
      'conv3:Conv2d',
      'Relu:ReLU',
      'gap:AdaptiveAvgPool2d',
      'Reshape:Flatten',
      'fc1:Linear',
      'Sigmoid:Sigmoid',
      'MatMul:Linear',
      'Relu_1:ReLU',
      'fc3:Linear',
      'LogSoftmax:LogSoftmax',
    ]);
    // ONNX's momentum 0.9 and epsilon stored as float32 read back as PyTorch's 0.1 and 1e-3.
    const bn = (r.model as Sequential).at(3) as BatchNorm2d;
    expect([bn.momentum, bn.eps]).toEqual([0.1, 1e-3]);
    expect(((r.model as Sequential).at(1) as unknown as { negativeSlope: number }).negativeSlope).toBe(0.2);
  });

  test('a batch of 1 and a batch of 7 run (the batch axis is dynamic)', () => {
    const { model } = importOnnx(path.join(FIXTURES, 'onnx_lenet.onnx'));
    const x = ref['lenet.input'];
    const first = model.predict(new Tensor(x.data.slice(0, 3072), [1, 3, 32, 32]));
    expect(maxDiff(first.data, ref['lenet.logits'].data.subarray(0, 10))).toBeLessThanOrEqual(1e-5);
    expect(model.predict(randomTensor([7, 3, 32, 32], 1)).shape).toEqual([7, 10]);
  });
});

test('the decoded ModelProto of an export carries its metadata_props in key order', () => {
  manualSeed(7);
  const bytes = encodeOnnx(new LeNet(), [1, 3, 32, 32], { metadata: { b: '2', a: '1' } });
  expect(onnx.ModelProto.decode(bytes).metadataProps.map((p) => [p.key, p.value])).toEqual([
    ['a', '1'],
    ['b', '2'],
  ]);
});

describe('corrupt, truncated, empty or non-ONNX input: a FileFormatError naming the file, never another error', () => {
  /** Imports `bytes` as `name`; returns 'ok' or 'FileFormatError', and fails the test on any other error. */
  function outcome(bytes: Uint8Array, name: string): string {
    try {
      importOnnx(bytes, { name });
      return 'ok';
    } catch (err) {
      const e = err as Error;
      if (e.name !== 'FileFormatError' || !e.message.startsWith(`${name}: `))
        throw new Error(`${name}: expected a FileFormatError, got ${e.name}: ${e.message}`, { cause: err });
      return e.name;
    }
  }

  test('an empty file, a text file, a safetensors file and a PNG signature', () => {
    const file = path.join(dir, 'empty.onnx');
    fs.writeFileSync(file, '');
    expect(() => importOnnx(file)).toThrow(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the file is empty, not an ONNX model$`),
    );
    const samples: [string, Uint8Array][] = [
      ['text', Buffer.from('this is not a model\n')],
      ['safetensors', fs.readFileSync(path.join(FIXTURES, 'onnx_pytorch.safetensors'))],
      ['png', Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13)],
      ['zeros', new Uint8Array(64)],
    ];
    for (const [name, bytes] of samples) {
      expect(outcome(bytes, name)).toBe('FileFormatError');
    }
    expect(() => importOnnx(Buffer.from('this is not a model\n'), { name: 'text' })).toThrow(
      /^text: (not an ONNX model, or truncated|no ir_version)/,
    );
  });

  test("truncated at every offset of a small model and at 400 offsets of PyTorch's LeNet", () => {
    manualSeed(8);
    const small = encodeOnnx(everyLayer(), [1, 4, 11, 13]);
    const lenet = fs.readFileSync(path.join(FIXTURES, 'onnx_lenet.onnx'));
    const cuts: [Uint8Array, number][] = [];
    for (let n = 0; n < small.length; n++) cuts.push([small, n]);
    for (let k = 0; k < 400; k++) cuts.push([lenet, Math.floor((k * lenet.length) / 400)]);
    for (const [bytes, n] of cuts)
      expect([n, outcome(bytes.subarray(0, n), `cut-${n}`)]).toEqual([n, 'FileFormatError']);
    expect(outcome(small, 'whole')).toBe('ok');
  });

  test('500 random byte strings, some starting like an ONNX file', () => {
    const rng = new Generator(123);
    const header = encodeOnnx(new Sequential(new ReLU()), [1, 2]).subarray(0, 6);
    for (let k = 0; k < 500; k++) {
      const bytes = Uint8Array.from({ length: 1 + rng.randint(3000) }, () => rng.randint(256));
      if (k % 2 === 1) bytes.set(header.subarray(0, Math.min(header.length, bytes.length)));
      expect(outcome(bytes, `random-${k}`)).toBe('FileFormatError');
    }
  });

  test('1000 single-byte corruptions of a model: a FileFormatError or a model, nothing else', () => {
    manualSeed(9);
    const good = encodeOnnx(everyLayer(), [1, 4, 11, 13]);
    const rng = new Generator(7);
    const seen: Record<string, number> = {};
    for (let k = 0; k < 1000; k++) {
      const bytes = Uint8Array.from(good);
      bytes[rng.randint(bytes.length)] ^= 1 + rng.randint(255);
      const r = outcome(bytes, `flip-${k}`);
      seen[r] = (seen[r] ?? 0) + 1;
    }
    expect(seen.FileFormatError).toBeGreaterThan(100);
  });

  test("a source that is not a path or bytes is a TypeError; a missing file is Node's ENOENT", () => {
    for (const bad of [42, null, undefined, {}, new Float32Array(4), new DataView(new ArrayBuffer(4))]) {
      expect(() => importOnnx(bad as unknown as Uint8Array)).toThrow(TypeError);
    }
    expect(() => importOnnx('')).toThrow(/importOnnx: source must be a non-empty path/);
    expect(() => importOnnx(path.join(dir, 'missing.onnx'))).toThrow(/ENOENT/);
  });
});

describe('sizes no typed array can hold are refused at import, naming the input or node (MAX_SAMPLE_VALUES)', () => {
  const pooled = () =>
    new Sequential(
      new Conv2d({ inChannels: 3, outChannels: 2, kernelSize: 1 }),
      new AdaptiveAvgPool2d({ outputSize: 1 }),
    );

  test('an input of [N, 3, 40000, 40000]: a ShapeError (RangeError) naming the file and the input', () => {
    // Before the check this imported, and predict() ended in a raw "Invalid typed array length".
    const bytes = encodeOnnx(pooled(), [1, 3, 40000, 40000]);
    let caught: Error | undefined;
    try {
      importOnnx(bytes, { name: 'big.onnx' });
    } catch (err) {
      caught = err as Error;
    }
    expect(caught?.name).toBe('ShapeError');
    expect(caught).toBeInstanceOf(RangeError);
    expect(caught?.message).toBe(
      `big.onnx: input 'input' takes [batch, 3, 40000, 40000]: 4800000000 values per sample, more than simdnet handles (${MAX_SAMPLE_VALUES})`,
    );
  });

  test('a layer whose output would be too large names its node', () => {
    const model = new Sequential(new Conv2d({ inChannels: 3, outChannels: 100, kernelSize: 1 }));
    expect(() => importOnnx(encodeOnnx(model, [1, 3, 4000, 4000]), { name: 'wide.onnx' })).toThrow(
      /^wide\.onnx: node .* \(Conv\) gives \[batch, 100, 4000, 4000\]: 1600000000 values per sample, more than simdnet handles/,
    );
    expect(importOnnx(encodeOnnx(pooled(), [1, 3, 4000, 4000])).inputShape).toEqual([3, 4000, 4000]);
  });
});
