// SPDX-License-Identifier: MIT
// Tests of the ONNX exporter: LeNet, LeNetBN (trained a little, then eval), a Sequential of every supported
// layer, the activations, adaptive pools and Conv1d of custom models (together and one at a time) run in onnxruntime-node
// at batch 1 and 5 and match predict() within 1e-5; the protobuf itself; bad input.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { buildOnnxModel, encodeOnnx, exportOnnx } from '../../lib/io/onnx-export';
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { AdaptiveAvgPool2d } from '../../lib/modules/adaptive-avg-pool2d';
import { AvgPool2d } from '../../lib/modules/avg-pool2d';
import { BatchNorm1d, BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv1d } from '../../lib/modules/conv1d';
import { Conv2d } from '../../lib/modules/conv2d';
import { Flatten } from '../../lib/modules/flatten';
import { LeakyReLU } from '../../lib/modules/leaky-relu';
import { LeNet } from '../../lib/modules/lenet';
import { LeNetBN } from '../../lib/modules/lenet-bn';
import { Linear } from '../../lib/modules/linear';
import { Module } from '../../lib/modules/module';
import { Sequential } from '../../lib/modules/sequential';
import { Sigmoid } from '../../lib/modules/sigmoid';
import { LogSoftmax, Softmax } from '../../lib/modules/softmax';
import { Tanh } from '../../lib/modules/tanh';
import { SGD } from '../../lib/optim/sgd';
import { manualSeed } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { expectErrorNamed, randomTensor } from '../helpers';
import { activations, conv1dModel, everyLayer } from './onnx-models';
import { runOrt } from './ort';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-onnx-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const TOL = 1e-5;

/** Exports `model`, runs the file in onnxruntime at batch 1 and 5 (inputs uniform in +-scale) and returns the max |ort - predict|. */
function maxDiffVsOrt(model: Module, imageShape: number[], file: string, seed: number, scale = 1): number {
  exportOnnx(model, [1, ...imageShape], file);
  const inputs = [1, 5].map((n) => randomTensor([n, ...imageShape], seed + n, scale));
  const run = runOrt(file, inputs);
  expect(run.inputNames).toEqual(['input']);
  expect(run.outputNames).toEqual(['logits']);
  let worst = 0;
  inputs.forEach((x, k) => {
    const expected = model.predict(x);
    const { dims, data } = run.outputs[k];
    expect(dims).toEqual(expected.shape);
    for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(data[i] - expected.data[i]));
  });
  return worst;
}

/** A few SGD steps in training mode so BatchNorm's running statistics and the weights move away from their initial values. */
function trainSteps(model: Module, imageShape: number[], steps: number, numClasses: number): void {
  model.train();
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const lossFn = new CrossEntropyLoss();
  for (let s = 0; s < steps; s++) {
    const x = randomTensor([8, ...imageShape], 100 + s, 2);
    // Shift the inputs so the running mean is clearly non-zero.
    for (let i = 0; i < x.data.length; i++) x.data[i] += 0.5;
    const targets = Int32Array.from({ length: 8 }, (_, i) => (i * 7 + s) % numClasses);
    opt.zeroGrad();
    lossFn.forward(model.forward(x), targets);
    model.backward(lossFn.backward());
    opt.step();
  }
  model.eval();
}

/** What the test reads of a decoded GraphProto (protobufjs types every field as optional). */
interface DecodedDims {
  type: { tensorType: { shape: { dim: { dimParam?: string; dimValue?: unknown }[] } } };
  name: string;
}
interface DecodedAttr {
  name: string;
  type: number;
  i?: unknown;
  f?: number;
  ints?: unknown[];
}
interface DecodedGraph {
  node: { opType: string; name: string; input: string[]; attribute: DecodedAttr[] }[];
  initializer: { name: string; dims: unknown[]; rawData: Uint8Array }[];
  input: DecodedDims[];
  output: DecodedDims[];
}

const diffs: Record<string, number> = {};
afterAll(() => {
  // The closing note of issue 3 quotes these.
  console.log(`ONNX max |onnxruntime - predict| over batch 1 and 5: ${JSON.stringify(diffs)}`);
});

test('LeNet (CIFAR-10) runs in onnxruntime and matches predict() within 1e-5', async () => {
  manualSeed(1);
  const model = new LeNet().eval();
  diffs.LeNet = maxDiffVsOrt(model, [3, 32, 32], path.join(dir, 'lenet.onnx'), 10);
  expect(diffs.LeNet).toBeLessThanOrEqual(TOL);
});

test('LeNet-5 (28x28, conv1 padded) matches too', async () => {
  manualSeed(2);
  const model = new LeNet({ inChannels: 1, imageSize: 28 }).eval();
  diffs.LeNet5 = maxDiffVsOrt(model, [1, 28, 28], path.join(dir, 'lenet5.onnx'), 20);
  expect(diffs.LeNet5).toBeLessThanOrEqual(TOL);
});

test('LeNetBN after training steps (non-trivial running statistics), in eval mode, matches within 1e-5', async () => {
  manualSeed(3);
  const model = new LeNetBN();
  trainSteps(model, [3, 32, 32], 3, 10);
  const bn1 = model.at(1) as BatchNorm2d;
  expect(bn1.numBatchesTracked).toBe(3);
  expect(Math.max(...bn1.runningMean!.data.map(Math.abs))).toBeGreaterThan(0.01);
  expect(Math.max(...bn1.runningVar!.data.map((v) => Math.abs(v - 1)))).toBeGreaterThan(0.01);
  diffs.LeNetBN = maxDiffVsOrt(model, [3, 32, 32], path.join(dir, 'lenetbn.onnx'), 30);
  expect(diffs.LeNetBN).toBeLessThanOrEqual(TOL);
});

test('a Sequential of every supported layer (non-default options) matches within 1e-5', async () => {
  manualSeed(4);
  const model = everyLayer();
  expect(model.outputShape([1, 4, 11, 13])).toEqual([1, 5]);
  trainSteps(model, [4, 11, 13], 3, 5);
  diffs.everyLayer = maxDiffVsOrt(model, [4, 11, 13], path.join(dir, 'every.onnx'), 40);
  expect(diffs.everyLayer).toBeLessThanOrEqual(TOL);
});

test('Flatten of middle dims (Reshape) and of the last dims match', async () => {
  manualSeed(5);
  const model = new Sequential(
    new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3 }),
    new Flatten({ startDim: 2 }), // [N, 3, 16] (Reshape, batch copied)
    new Flatten({ startDim: 1, endDim: 2 }), // [N, 48] (Flatten axis 1)
    new Linear({ inFeatures: 48, outFeatures: 4 }),
  ).eval();
  diffs.flatten = maxDiffVsOrt(model, [2, 6, 6], path.join(dir, 'flatten.onnx'), 50);
  expect(diffs.flatten).toBeLessThanOrEqual(TOL);
});

describe('the layers of custom models: LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax, AdaptiveAvgPool2d, Conv1d, BatchNorm1d on [N, C, L]', () => {
  test('activations and adaptive pools together (trained a little) match within 1e-5', () => {
    manualSeed(11);
    const model = activations();
    expect(model.outputShape([1, 3, 12, 10])).toEqual([1, 5]);
    trainSteps(model, [3, 12, 10], 2, 5);
    diffs.activations = maxDiffVsOrt(model, [3, 12, 10], path.join(dir, 'activations.onnx'), 60, 3);
    expect(diffs.activations).toBeLessThanOrEqual(TOL);
  });

  test('a Conv1d model with BatchNorm1d on [N, C, L] (trained: non-trivial running statistics) matches within 1e-5', () => {
    manualSeed(12);
    const model = conv1dModel();
    expect(model.outputShape([1, 4, 20])).toEqual([1, 4]);
    trainSteps(model, [4, 20], 3, 4);
    const bn1 = model.at(1) as BatchNorm1d;
    expect(Math.max(...bn1.runningMean!.data.map(Math.abs))).toBeGreaterThan(0.01);
    diffs.conv1d = maxDiffVsOrt(model, [4, 20], path.join(dir, 'conv1d.onnx'), 70, 2);
    expect(diffs.conv1d).toBeLessThanOrEqual(TOL);
  });

  /** A BatchNorm1d with running statistics, weight and bias away from their initial values. */
  const batchNorm1d = (): Module => {
    const bn = new BatchNorm1d({ numFeatures: 3, eps: 1e-2 });
    bn.runningMean!.data.set([0.5, -1, 2]);
    bn.runningVar!.data.set([0.25, 4, 1.5]);
    bn.weight!.data.data.set([2, -0.5, 1]);
    bn.bias!.data.data.set([0.1, 0.2, -0.3]);
    return bn;
  };
  // One layer at a time (inputs uniform in +-scale, wide enough to saturate Sigmoid and Tanh), so each max difference is the layer's own.
  test.each<[string, () => Module, number[], number]>([
    ['LeakyReLU(0.3)', () => new LeakyReLU({ negativeSlope: 0.3 }), [3, 4, 5], 2],
    ['LeakyReLU(2)', () => new LeakyReLU({ negativeSlope: 2 }), [7], 2],
    ['Sigmoid', () => new Sigmoid(), [6, 5], 20],
    ['Tanh', () => new Tanh(), [2, 3, 4], 5],
    ['Softmax(dim 1)', () => new Softmax({ dim: 1 }), [4, 3, 3], 5],
    ['Softmax(dim -1)', () => new Softmax({ dim: -1 }), [7], 5],
    ['LogSoftmax(dim 2)', () => new LogSoftmax({ dim: 2 }), [2, 5, 3], 5],
    ['LogSoftmax(dim -3)', () => new LogSoftmax({ dim: -3 }), [4, 2, 3], 5],
    ['AdaptiveAvgPool2d(1)', () => new AdaptiveAvgPool2d(1), [3, 5, 7], 1],
    ['AdaptiveAvgPool2d([2, 3])', () => new AdaptiveAvgPool2d([2, 3]), [2, 4, 6], 1],
    ['AdaptiveAvgPool2d([null, 2])', () => new AdaptiveAvgPool2d({ outputSize: [null, 2] }), [2, 3, 4], 1],
    ['AdaptiveAvgPool2d(identity)', () => new AdaptiveAvgPool2d([5, 7]), [2, 5, 7], 1],
    ['Conv1d', () => new Conv1d({ inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1 }), [2, 9], 1],
    [
      'Conv1d(depthwise, strided, dilated)',
      () => new Conv1d({ inChannels: 3, outChannels: 6, kernelSize: 4, stride: 3, padding: 3, dilation: 2, groups: 3 }),
      [3, 17],
      1,
    ],
    ['BatchNorm1d([N, C, L])', batchNorm1d, [3, 6], 2],
  ])('%s alone matches within 1e-5', (name, make, shape, scale) => {
    manualSeed(13);
    const model = new Sequential({ layer: make() }).eval();
    const key = `layer ${name}`;
    diffs[key] = maxDiffVsOrt(model, shape, path.join(dir, `${name.replace(/[^A-Za-z0-9]+/g, '_')}.onnx`), 80, scale);
    expect(diffs[key]).toBeLessThanOrEqual(TOL);
  });

  test('the nodes: LeakyRelu alpha, axis as the dim, AdaptiveAvgPool2d as AveragePool or GlobalAveragePool, 1-d Conv attributes', () => {
    manualSeed(14);
    const attrs = (g: DecodedGraph, name: string): Record<string, unknown> =>
      Object.fromEntries(
        g.node
          .find((n) => n.name === name)!
          .attribute.map((a) => [a.name, a.ints ? a.ints.map(Number) : (a.f ?? Number(a.i))]),
      );
    const g = buildOnnxModel(activations(), [2, 3, 12, 10]).graph as unknown as DecodedGraph;
    expect(g.node.map((n) => n.opType)).toEqual([
      'Conv',
      'LeakyRelu',
      'AveragePool',
      'Softmax',
      'Tanh',
      'AveragePool',
      'Sigmoid',
      'GlobalAveragePool',
      'Flatten',
      'Gemm',
      'LogSoftmax',
    ]);
    expect(attrs(g, 'lrelu').alpha).toBeCloseTo(0.2, 7);
    expect(g.node.find((n) => n.name === 'lrelu')!.attribute[0].type).toBe(onnx.AttributeProto.AttributeType.FLOAT);
    expect(attrs(g, 'pool')).toEqual({ kernel_shape: [3, 2], strides: [3, 2], pads: [0, 0, 0, 0] });
    expect(attrs(g, 'rows')).toEqual({ kernel_shape: [1, 5], strides: [1, 5], pads: [0, 0, 0, 0] });
    expect(attrs(g, 'gap')).toEqual({});
    expect([attrs(g, 'soft'), attrs(g, 'logp')]).toEqual([{ axis: 1 }, { axis: -1 }]);
    const slope2 = buildOnnxModel(new Sequential(new LeakyReLU({ negativeSlope: 2 })), [1, 3])
      .graph as unknown as DecodedGraph;
    expect(slope2.node[0].attribute).toMatchObject([
      { name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: 2 },
    ]);

    const c = buildOnnxModel(conv1dModel(), [1, 4, 20]).graph as unknown as DecodedGraph;
    expect(c.node.map((n) => n.opType)).toEqual([
      'Conv',
      'BatchNormalization',
      'LeakyRelu',
      'Conv',
      'Softmax',
      'Tanh',
      'Flatten',
      'Gemm',
      'BatchNormalization',
      'Softmax',
    ]);
    expect(attrs(c, 'conv1')).toEqual({ kernel_shape: [3], strides: [2], pads: [2, 2], dilations: [2], group: 2 });
    expect(attrs(c, 'conv2')).toEqual({ kernel_shape: [1], strides: [1], pads: [0, 0], dilations: [1], group: 1 });
    expect(c.node.find((n) => n.name === 'conv2')!.input).toEqual(['act.output', 'conv2.weight']);
    expect(c.initializer.find((t) => t.name === 'conv1.weight')!.dims.map(Number)).toEqual([6, 2, 3]);
    expect(attrs(c, 'act').alpha).toBeCloseTo(0.01, 9);
    expect([attrs(c, 'soft'), attrs(c, 'probs')]).toEqual([{ axis: -2 }, { axis: 1 }]);
    // The output keeps the dynamic batch: [batch, 4].
    expect(c.output[0].type.tensorType.shape.dim.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 4]);
  });

  test('an AdaptiveAvgPool2d whose output does not divide the input is a RangeError naming the layer; other input sizes export', () => {
    const model = new Sequential({
      conv: new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 1 }),
      pool: new AdaptiveAvgPool2d(3),
    });
    expectErrorNamed(
      () => encodeOnnx(model, [1, 2, 7, 7]),
      'RangeError',
      /^exportOnnx: layer 'pool' \(AdaptiveAvgPool2d\) has output 3x3 for the input 7x7: ONNX has no adaptive pooling.*divides the input side/,
    );
    expectErrorNamed(
      () => encodeOnnx(model, [1, 2, 2, 2]),
      'RangeError',
      /layer 'pool' \(AdaptiveAvgPool2d\) has output 3x3 for the input 2x2/,
    );
    const rows = new Sequential({ pool: new AdaptiveAvgPool2d({ outputSize: [null, 4] }) });
    expectErrorNamed(() => encodeOnnx(rows, [1, 1, 5, 6]), 'RangeError', /has output 5x4 for the input 5x6/);
    expect(() => encodeOnnx(model, [1, 2, 9, 6])).not.toThrow();
    expect(() => encodeOnnx(rows, [1, 1, 5, 8])).not.toThrow();
    // A shape the layer cannot take at all is still its own ShapeError.
    expect(() => encodeOnnx(rows, [1, 5, 8])).toThrow(RangeError);
    expect(() => encodeOnnx(rows, [1, 5, 8])).toThrow(/AdaptiveAvgPool2d: input/);
  });

  test('Softmax or LogSoftmax over the batch dimension is a TypeError naming the layer', () => {
    for (const [layer, dim] of [
      [new Softmax({ dim: 0 }), 0],
      [new LogSoftmax({ dim: -2 }), -2],
    ] as const) {
      expectErrorNamed(
        () => encodeOnnx(new Sequential({ sm: layer }), [1, 4]),
        'TypeError',
        new RegExp(`layer 'sm' \\(${layer.constructor.name}\\) has dim ${dim}, the batch dimension`),
      );
    }
  });
});

test('the ModelProto: opset 13, IR 7, dynamic batch, state-dict initializer names, eval-mode BatchNormalization', () => {
  manualSeed(6);
  const model = new LeNetBN();
  const bytes = encodeOnnx(model, [4, 3, 32, 32]);
  const m = onnx.ModelProto.decode(bytes);
  expect(Number(m.irVersion)).toBe(7);
  expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
  expect(m.producerName).toBe('simdnet');
  const g = m.graph as unknown as DecodedGraph;
  expect(g.node.map((n) => n.opType)).toEqual([
    'Conv',
    'BatchNormalization',
    'Relu',
    'MaxPool',
    'Conv',
    'BatchNormalization',
    'Relu',
    'MaxPool',
    'Flatten',
    'Gemm',
    'Relu',
    'Gemm',
    'Relu',
    'Gemm',
  ]);
  expect(g.initializer.map((t) => t.name).sort()).toEqual(
    Object.keys(model.stateDict())
      .filter((k) => !k.endsWith('num_batches_tracked'))
      .sort(),
  );
  const input = g.input[0].type!.tensorType!.shape!.dim!;
  expect(input.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 3, 32, 32]);
  expect(g.output[0].name).toBe('logits');
  expect(g.output[0].type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 10]);
  const conv1 = g.initializer.find((t) => t.name === 'conv1.weight')!;
  expect(conv1.dims.map(Number)).toEqual([6, 3, 5, 5]);
  expect(Array.from(new Float32Array(Uint8Array.from(conv1.rawData).buffer))).toEqual(
    Array.from(model.stateDict()['conv1.weight'].data),
  );
  const gemm = g.node.find((n) => n.opType === 'Gemm')!;
  expect(Number(gemm.attribute.find((a) => a.name === 'transB')!.i)).toBe(1);
  const bn = g.node.find((n) => n.opType === 'BatchNormalization')!;
  expect(bn.input.slice(1)).toEqual(['bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var']);
  expect(bn.attribute.find((a) => a.name === 'epsilon')!.f).toBeCloseTo(1e-5, 10);
  // The model's own mode is untouched.
  expect(model.training).toBe(true);
  expect(buildOnnxModel(model, [1, 3, 32, 32]).graph!.node).toHaveLength(14);
});

test('the write is atomic: it replaces an existing file and leaves no temporary files', () => {
  manualSeed(7);
  const file = path.join(dir, 'atomic', 'model.onnx');
  fs.mkdirSync(path.dirname(file));
  fs.writeFileSync(file, 'old');
  exportOnnx(new LeNet(), [1, 3, 32, 32], file);
  expect(fs.readdirSync(path.dirname(file))).toEqual(['model.onnx']);
  expect(onnx.ModelProto.decode(fs.readFileSync(file)).graph!.node).toHaveLength(12);
  // A failing write (missing folder) leaves nothing behind either.
  expect(() => exportOnnx(new LeNet(), [1, 3, 32, 32], path.join(dir, 'missing', 'x.onnx'))).toThrow(/ENOENT/);
});

/** A layer of the user's own (every built-in layer now exports): y = x * x. */
class Square extends Module {
  outputShape(inputShape: readonly number[]): number[] {
    return [...inputShape];
  }

  override forward(input: Tensor): Tensor {
    return new Tensor(
      input.data.map((v) => v * v),
      input.shape,
    );
  }

  override backward(doutput: Tensor): Tensor {
    return doutput;
  }
}

test('unsupported layers throw a TypeError naming the layer', () => {
  const model = new Sequential({ fc: new Linear({ inFeatures: 4, outFeatures: 4 }), act: new Square() });
  expectErrorNamed(
    () => encodeOnnx(model, [1, 4]),
    'TypeError',
    /layer 'act' \(Square\) is not supported by the ONNX exporter \(supported: Conv1d, .*LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax/,
  );
  const nested = new Sequential({ block: new Sequential(new Square()) });
  expectErrorNamed(() => encodeOnnx(nested, [1, 4]), 'TypeError', /layer 'block\.0' \(Square\)/);
  const noStats = new Sequential({ bn: new BatchNorm2d({ numFeatures: 2, trackRunningStats: false }) });
  expectErrorNamed(
    () => encodeOnnx(noStats, [1, 2, 3, 3]),
    'TypeError',
    /layer 'bn' \(BatchNorm2d\).*running statistics/,
  );
  const divisor = new Sequential({ pool: new AvgPool2d({ kernelSize: 2, divisorOverride: 3 }) });
  expectErrorNamed(() => encodeOnnx(divisor, [1, 1, 4, 4]), 'TypeError', /layer 'pool' \(AvgPool2d\).*divisorOverride/);
  const batchFlat = new Sequential({ flat: new Flatten({ startDim: 0 }) });
  expectErrorNamed(() => encodeOnnx(batchFlat, [1, 2, 3]), 'TypeError', /layer 'flat' \(Flatten\).*batch/);
});

test('bad model, shape and path arguments', () => {
  const model = new LeNet();
  expectErrorNamed(() => encodeOnnx({} as Module, [1, 3, 32, 32]), 'TypeError', /model must be a Module/);
  expectErrorNamed(() => encodeOnnx(null as unknown as Module, [1, 3, 32, 32]), 'TypeError', /model must be a Module/);
  for (const bad of [undefined, [], [3], [0, 3, 32, 32], [1, 3, 32.5, 32], [1, 3, NaN, 32], '1,3,32,32']) {
    expectErrorNamed(() => encodeOnnx(model, bad as number[]), 'TypeError', /inputShape must be sizes >= 1/);
  }
  // Shapes the model cannot take: its own ShapeError (a RangeError) naming the layer.
  expect(() => encodeOnnx(model, [1, 3, 28, 28])).toThrow(RangeError);
  expect(() => encodeOnnx(model, [1, 1, 32, 32])).toThrow(/channels|Conv2d/);
  expectErrorNamed(() => exportOnnx(model, [1, 3, 32, 32], ''), 'TypeError', /path must be a non-empty string/);
  for (const metadata of ['x', { n: 10 }, [1]]) {
    expectErrorNamed(
      () => encodeOnnx(model, [1, 3, 32, 32], { metadata: metadata as unknown as Record<string, string> }),
      'TypeError',
      /options.metadata must be an object of strings/,
    );
  }
  expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
});

test('encodeOnnx output is deterministic and the model is not changed by exporting', () => {
  manualSeed(8);
  const model = new LeNet();
  const before = model.predict(new Tensor(new Float32Array(3072).fill(0.25), [1, 3, 32, 32]));
  const a = encodeOnnx(model, [1, 3, 32, 32]);
  const b = encodeOnnx(model, [7, 3, 32, 32]);
  expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  expect(model.predict(new Tensor(new Float32Array(3072).fill(0.25), [1, 3, 32, 32])).data).toEqual(before.data);
});
