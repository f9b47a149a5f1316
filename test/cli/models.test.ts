// SPDX-License-Identifier: MIT
// lib/cli/models.ts: one list of model names for every command, and one name per model in every command's output.
import * as fs from 'fs';
import * as path from 'path';
import { buildBuiltinModel, MODEL_NAMES, MODELS, modelTitle, titleOfModel } from '../../lib/cli/models';
import { PNG } from 'pngjs';
import { writeTinyMnist } from '../data/idx-fixture';
import { cli, quietTrain, tempDir } from './helpers';

let dir: string;
beforeAll(() => {
  dir = tempDir('simdnet-cli-models-');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('every built-in model builds for its input, and is named as MODELS says', async () => {
  for (const name of MODEL_NAMES) {
    const model = await buildBuiltinModel(name);
    const { title, input } = MODELS[name];
    if (name !== 'block') expect([name, titleOfModel(model)]).toEqual([name, title]);
    expect(model.outputShape(input).length).toBeGreaterThan(1);
  }
  expect(modelTitle('LeNet', 28)).toBe('LeNet-5');
  expect(modelTitle('LeNetBN', 32)).toBe('LeNetBN');
  expect(modelTitle('Sequential', 28)).toBe('Sequential');
});

test('summary and bench take the same --model names (lenet-bn in both)', async () => {
  for (const name of MODEL_NAMES) {
    const s = await cli(['summary', '--model', name]);
    expect([name, s.code, s.stderr]).toEqual([name, 0, '']);
    expect(s.out[0]).toContain(`model: ${name} (`);
  }
  const b = await cli(['bench', '--model', 'lenet5-bn', '--cases', 'infer', '--batch-size', '1', '--seconds', '0.05']);
  expect([b.code, b.stderr]).toEqual([0, '']);
  expect(b.out[0]).toContain('lenet5-bn (LeNet-5BN: LeNetBN(inChannels=1, imageSize=28, numClasses=10))');
});

test('a Fashion-MNIST LeNet-5 is "LeNet-5" in train, eval --plot, predict, summary and after export', async () => {
  const data = path.join(dir, 'fashion');
  writeTinyMnist(data, { train: 8, test: 4 });
  const weights = path.join(dir, 'f.safetensors');
  const t = await cli(quietTrain(data, weights, '--dataset', 'fashion-mnist', '--epochs', '1', '--batch-size', '4'));
  expect(t.code).toBe(0);
  expect(t.out[1]).toMatch(/^model: LeNet-5 \(/);
  const png = path.join(dir, 'shoe.png');
  fs.writeFileSync(png, PNG.sync.write(new PNG({ width: 28, height: 28 })));
  const p = await cli(['predict', '--weights', weights, png]);
  expect(p.code).toBe(0);
  expect(p.out[0]).toMatch(/^model: LeNet-5, input 1x28x28/);
  const s = await cli(['summary', '--weights', weights]);
  expect(s.out[0]).toContain('(LeNet-5: LeNet(inChannels=1, imageSize=28, numClasses=10))');
  const onnx = path.join(dir, 'f.onnx');
  expect((await cli(['export', '--weights', weights, '--onnx', onnx])).code).toBe(0);
  const q = await cli(['predict', '--weights', onnx, png]);
  expect(q.out[0]).toMatch(/^model: LeNet-5, input 1x28x28/);
});
