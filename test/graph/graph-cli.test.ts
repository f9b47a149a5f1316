// SPDX-License-Identifier: MIT
// The simdnet command with graph models: summary and bench of the built-in ResNets, train --recipe resnet20 for a
// few batches, and a ResNet or a graph model file through train, eval, export, summary --weights and bench --weights.
import * as fs from 'fs';
import * as path from 'path';
import { importOnnx } from '../../lib/io/onnx-import';
import { readSafetensors } from '../../lib/io/safetensors';
import { Graph } from '../../lib/modules/graph';
import { cli, quietTrain, tempDir, withoutKernels } from '../cli/helpers';
import { writeTinyCifar10 } from '../cli/cifar-fixture';

let dir: string;
let data: string;
beforeAll(() => {
  dir = tempDir('simdnet-graph-cli-');
  data = path.join(dir, 'data');
  writeTinyCifar10(path.join(data, 'cifar-10-batches-bin'), 16, 8);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('summary --model resnet20 reports 269,722 parameters; resnet56 its own count', async () => {
  const r = await cli(['summary', '--model', 'resnet20']);
  expect(r.code).toBe(0);
  expect(r.out[0]).toBe(
    'model: resnet20 (ResNet-20: ResNet(depth=20, shortcut=A, numClasses=10, inChannels=3)), input [1, 3, 32, 32]',
  );
  expect(r.stdout).toMatch(/Total params: 269,722/);
  expect(r.stdout).toMatch(/layers\.3\.pad/);
  const json = JSON.parse((await cli(['summary', '--model', 'resnet56', '--json'])).stdout);
  expect(json.totalParams).toBe(853_018);
});

test('train --recipe resnet20 trains ResNet-20 with SGD, crops, flips, cutout and label smoothing; eval, export, summary and bench take the weights', async () => {
  const weights = path.join(dir, 'resnet.safetensors');
  const t = await cli(quietTrain(data, weights, '--recipe', 'resnet20', '--epochs', '1', '--batch-size', '8'));
  expect(t.stderr).toBe('');
  expect(t.code).toBe(0);
  expect(withoutKernels(t.out[1])).toBe(
    'model: ResNet-20 (269722 parameters), SGD lr 0.1 momentum 0.9 weight decay 0.0005 (He initialisation, cosine schedule, flips, crops (padding 4), cutout 16, label smoothing 0.1), batch size 8, 1 epochs, seed 0',
  );
  expect(t.out[2]).toMatch(/^epoch 1\/1 {2}train loss \d+\.\d{4}/);
  const meta = readSafetensors(weights).metadata;
  expect(meta['simdnet.arch']).toBe('ResNet');
  expect(JSON.parse(meta['simdnet.config'])).toEqual({
    depth: 20,
    shortcut: 'A',
    numClasses: 10,
    inChannels: 3,
    imageSize: 32,
  });

  const e = await cli(['eval', '--weights', weights, '--data', data]);
  expect(e.code).toBe(0);
  expect(e.out[0]).toMatch(/^accuracy: \d+\.\d{2}%$/);

  const onnxFile = path.join(dir, 'resnet.onnx');
  const x = await cli(['export', '--weights', weights, '--onnx', onnxFile]);
  expect(x.code).toBe(0);
  expect(importOnnx(onnxFile).model).toBeInstanceOf(Graph);
  const onnxEval = await cli(['eval', '--weights', onnxFile, '--data', data]);
  expect(onnxEval.out[0]).toBe(e.out[0]);

  const s = await cli(['summary', '--weights', weights]);
  expect(s.stdout).toMatch(/Total params: 269,722/);
  const b = await cli([
    'bench',
    '--weights',
    weights,
    '--cases',
    'infer',
    '--batch-size',
    '2',
    '--seconds',
    '0.05',
    '--json',
  ]);
  expect(b.code).toBe(0);
});

test('a graph model file trains, saves as "Graph" and evaluates', async () => {
  const spec = {
    input: [1, 3, 32, 32],
    nodes: [
      { name: 'conv', type: 'conv2d', outChannels: 4, kernelSize: 3, padding: 1 },
      { name: 'act', type: 'relu' },
      { name: 'res', type: 'conv2d', outChannels: 4, kernelSize: 3, padding: 1 },
      { name: 'sum', type: 'add', inputs: ['res', 'act'] },
      { name: 'pool', type: 'maxpool2d', kernelSize: 4 },
      { name: 'flat', type: 'flatten' },
      { name: 'fc', type: 'linear', outFeatures: 10 },
    ],
  };
  const file = path.join(dir, 'graph.json');
  fs.writeFileSync(file, JSON.stringify(spec));
  const weights = path.join(dir, 'graph.safetensors');
  const t = await cli(quietTrain(data, weights, '--model-file', file, '--epochs', '1', '--batch-size', '8'));
  expect(t.stderr).toBe('');
  expect(t.code).toBe(0);
  expect(readSafetensors(weights).metadata['simdnet.arch']).toBe('Graph');
  const e = await cli(['eval', '--weights', weights, '--data', data]);
  expect(e.code).toBe(0);
  const s = await cli(['summary', '--model-file', file]);
  expect(s.stdout).toMatch(/sum/);
  const b = await cli([
    'bench',
    '--model-file',
    file,
    '--cases',
    'train',
    '--batch-size',
    '2',
    '--seconds',
    '0.05',
    '--json',
  ]);
  expect(b.code).toBe(0);
});
