// SPDX-License-Identifier: MIT
// ONNX both ways for graphs. Import: what torch.onnx.export writes for branching models (test/fixtures/graph/,
// gen_graph_fixtures.py: ResNet-20 with both shortcuts, MobileNetV2-, SqueezeNet-style and squeeze-and-excitation nets;
// TorchScript exporter at opsets 13 to 18 and the dynamo exporter) imports as a Graph, runs natively and matches both
// PyTorch's logits and onnxruntime's. Export: simdnet's graphs run in onnxruntime with the same outputs, and import back.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { encodeOnnx, exportOnnx } from '../../lib/io/onnx-export';
import { importOnnx } from '../../lib/io/onnx-import';
import { readSafetensors } from '../../lib/io/safetensors';
import { resnet20, ResNet } from '../../lib/models/resnet';
import { AdaptiveAvgPool2d } from '../../lib/modules/adaptive-avg-pool2d';
import { BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv2d } from '../../lib/modules/conv2d';
import { Graph } from '../../lib/modules/graph';
import { GraphBuilder } from '../../lib/modules/graph-builder';
import { Linear } from '../../lib/modules/linear';
import type { Module } from '../../lib/modules/module';
import { Generator } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { countProgramRuns, maxDiff, randomTensor } from '../helpers';
import { runOrt } from './ort';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'graph');
const expected = readSafetensors(path.join(FIXTURES, 'expected.safetensors')).tensors;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-onnx-graph-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The largest differences measured, printed once for docs/onnx.md. */
const measured: Record<string, number> = {};
afterAll(() => console.log(`ONNX graph max differences: ${JSON.stringify(measured)}`));

/** predict() on x, checking it ran as one native program. */
function predictNatively(model: Module, x: Tensor): Tensor {
  const { result, runs } = countProgramRuns(() => model.predict(x));
  expect(runs).toBe(1);
  return result;
}

describe("PyTorch's exports of branching models import as Graphs and match PyTorch and onnxruntime within 1e-5", () => {
  test.each([
    ['resnet20_a.onnx', 'resnet20_a', 13],
    ['resnet20_b.onnx', 'resnet20_b', 17],
    ['mobilenet.onnx', 'mobilenet', 13],
    ['squeezenet.onnx', 'squeezenet', 16],
    ['se.onnx', 'se', 18],
    ['resnet8_a_dynamo.onnx', 'resnet8_a', 18],
    ['resnet8_b_dynamo.onnx', 'resnet8_b', 18],
    ['mobilenet_dynamo.onnx', 'mobilenet', 18],
    ['squeezenet_dynamo.onnx', 'squeezenet', 18],
    ['se_dynamo.onnx', 'se', 18],
  ])('%s', (file, name, opset) => {
    const r = importOnnx(path.join(FIXTURES, file));
    expect(r.model).toBeInstanceOf(Graph);
    expect(r.opset).toBe(opset);
    expect(r.inputShape).toEqual([3, 32, 32]);
    expect(r.outputSize).toBe(10);
    const x = expected.input;
    const y = predictNatively(r.model, x);
    const torchDiff = maxDiff(y.data, expected[`${name}.logits`].data);
    expect(torchDiff).toBeLessThan(1e-5);
    // onnxruntime on the same file, batch 3 and a batch of 1.
    const one = new Tensor(x.data.slice(0, 3 * 32 * 32), [1, 3, 32, 32]);
    const ort = runOrt(path.join(FIXTURES, file), [x, one]);
    const ortDiff = Math.max(
      maxDiff(ort.outputs[0].data, y.data),
      maxDiff(ort.outputs[1].data, r.model.predict(one).data),
    );
    expect(ortDiff).toBeLessThan(1e-5);
    // The JavaScript forward agrees too (the program folds BatchNorm where the exporter did not).
    r.model.eval();
    expect(maxDiff(r.model.forward(x).data, y.data)).toBeLessThan(1e-5);
    measured[file] = Math.max(torchDiff, ortDiff);
  });

  test("the imported ResNet-20 keeps PyTorch's module paths and computes what simdnet's ResNet computes with PyTorch's state dict", () => {
    const r = importOnnx(path.join(FIXTURES, 'resnet20_a.onnx'));
    const names = (r.model as Graph).nodes.map((n) => n.name);
    expect(names.slice(0, 4)).toEqual(['conv', 'Relu', 'layers.0.conv1', 'layers.0.Relu']);
    expect(names).toContain('layers.3.Pad'); // option A: the subsampled input padded with zero channels
    const model = resnet20();
    model.loadStateDict(readSafetensors(path.join(FIXTURES, 'resnet20_a_torch.safetensors')).tensors);
    expect(maxDiff(r.model.predict(expected.input).data, model.predict(expected.input).data)).toBeLessThan(1e-5);
  });
});

/** Every graph op with non-default options, in a model that trains a little first. */
function everyOp(): Graph {
  const g = new GraphBuilder();
  const x = g.input();
  const rng = (seed: number) => new Generator(seed);
  const stem = g.layer(
    'stem',
    new Conv2d({ inChannels: 3, outChannels: 6, kernelSize: 3, padding: 1, generator: rng(1) }),
  );
  const bn = g.layer('bn', new BatchNorm2d({ numFeatures: 6 }));
  const dw = g.layer(
    'dw',
    new Conv2d({ inChannels: 6, outChannels: 6, kernelSize: 3, padding: 1, groups: 6, generator: rng(2) }),
  );
  const fc1 = g.layer('se.fc1', new Linear({ inFeatures: 6, outFeatures: 3, generator: rng(3) }));
  const fc2 = g.layer('se.fc2', new Linear({ inFeatures: 3, outFeatures: 6, generator: rng(4) }));
  const head = g.layer('head', new Linear({ inFeatures: 12 * 4 * 4, outFeatures: 5, generator: rng(5) }));
  const a = g.clamp(bn(stem(x)), 0, 6); // ReLU6
  const s = g.sigmoid(fc2(g.relu(fc1(g.flatten(g.apply(new AdaptiveAvgPool2d(1), a))))));
  const excited = g.mul(dw(a), g.reshape(s, [6, 1, 1]));
  const short = g.pad(g.slice(a, { axes: [2, 3], steps: [2, 2] }), [
    [0, 0],
    [0, 0],
    [0, 0],
  ]);
  const joined = g.concat([g.slice(g.add(excited, a), { axes: [2, 3], starts: [1, 0], steps: [2, 2] }), short]);
  return g.build(head(g.flatten(g.clamp(joined, -1, null))));
}

describe("simdnet's graphs export and run in onnxruntime within 1e-5, and import back", () => {
  const models: [string, () => Module][] = [
    [
      'ResNet-20 A with PyTorch-trained weights',
      () => {
        const m = resnet20();
        m.loadStateDict(readSafetensors(path.join(FIXTURES, 'resnet20_a_torch.safetensors')).tensors);
        return m;
      },
    ],
    [
      'ResNet-8 B with PyTorch-trained weights',
      () => {
        const m = new ResNet({ depth: 8, shortcut: 'B' });
        m.loadStateDict(readSafetensors(path.join(FIXTURES, 'resnet8_b_torch.safetensors')).tensors);
        return m;
      },
    ],
    ['every graph op (clamp, sigmoid, reshape, mul, pad, slice, add, concat)', everyOp],
  ];
  test.each(models)('%s', (name, make) => {
    const model = make();
    if (model instanceof Graph && name.startsWith('every')) {
      model.train();
      model.forward(randomTensor([8, 3, 8, 8], 9, 2)); // BatchNorm statistics away from 0 and 1
    }
    const shape = name.startsWith('every') ? [3, 8, 8] : [3, 32, 32];
    const file = path.join(dir, `${name.split(' ')[0]}.onnx`);
    exportOnnx(model, [1, ...shape], file);
    const inputs = [1, 5].map((n) => randomTensor([n, ...shape], n, 2));
    const ort = runOrt(file, inputs);
    const ortDiff = Math.max(...inputs.map((x, k) => maxDiff(ort.outputs[k].data, model.predict(x).data)));
    expect(ortDiff).toBeLessThan(1e-5);
    const back = importOnnx(file);
    const roundTrip = Math.max(...inputs.map((x) => maxDiff(back.model.predict(x).data, model.predict(x).data)));
    expect(roundTrip).toBeLessThan(1e-6);
    // Re-exporting the import gives the same nodes and initializers (names, attributes, weights carry over).
    const graphOf = (m: Module) => {
      const g = onnx.ModelProto.decode(encodeOnnx(m, [1, ...shape])).graph!;
      return onnx.GraphProto.toObject(onnx.GraphProto.create({ node: g.node, initializer: g.initializer }));
    };
    expect(graphOf(back.model)).toEqual(graphOf(model));
    measured[`export ${name.split(' ')[0]}`] = ortDiff;
  });

  test('the export names initializers after the state dict and nodes after the module paths', () => {
    const proto = encodeOnnx(resnet20(), [1, 3, 32, 32]);
    const text = Buffer.from(proto).toString('latin1');
    for (const name of [
      'layers.0.conv1.weight',
      'layers.3.bn2.running_var',
      'fc.bias',
      'layers.3.pad.onnx_pads',
      'layers.8.add',
    ])
      expect(text).toContain(name);
  });
});
