// SPDX-License-Identifier: MIT
// `simdnet train --recipe`: the recipe picks model, schedule and augmentation; explicit flags still win.
import * as fs from 'fs';
import * as path from 'path';
import { buildRecipe } from '../../lib/cli/recipe';
import { readSafetensors } from '../../lib/io/safetensors';
import { compose, cutout, randomCrop, randomHorizontalFlip } from '../../lib/data/transforms';
import { LeNetBN } from '../../lib/modules/lenet-bn';
import { Generator } from '../../lib/random';
import { buildModelFromSpec } from '../../lib/summary/model-spec';
import { RECIPES } from '../../lib/train/recipes';
import { writeTinyCifar10 } from './cifar-fixture';
import { cli, quietTrain, tempDir, withoutKernels } from './helpers';

let dir: string;
let data: string;
beforeAll(() => {
  dir = tempDir('simdnet-cli-recipe-');
  data = path.join(dir, 'data');
  writeTinyCifar10(path.join(data, 'cifar-10-batches-bin'), 8, 20);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('buildRecipe makes the recipe model and its augmentation', () => {
  const bn = buildRecipe(RECIPES['lenet-bn'], [3, 32, 32], 10);
  expect(bn.model).toBeInstanceOf(LeNetBN);
  expect(bn.modelName).toBe('LeNetBN');
  const image = Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => i % 32);
  bn.transform!(image, [3, 32, 32], new Generator(0)); // flips or not, but keeps each row's values
  expect([...image.subarray(0, 32)].sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i));
  const plain = buildRecipe(RECIPES.lenet, [1, 28, 28], 10);
  expect(plain.modelName).toBe('LeNet-5');
  expect(plain.transform).toBeUndefined();
  expect(plain.lossFn.labelSmoothing).toBe(0);
});

test('buildRecipe gives resnet20 crops, flips and then cutout 16, and cross-entropy with label smoothing 0.1', () => {
  const built = buildRecipe(RECIPES.resnet20, [3, 32, 32], 10);
  expect(built.lossFn.labelSmoothing).toBe(0.1);
  const want = compose(randomCrop(32, 4), randomHorizontalFlip(), cutout(16));
  for (let seed = 0; seed < 5; seed++) {
    const a = Float32Array.from({ length: 3 * 32 * 32 }, (_, i) => 1 + (i % 97));
    const b = a.slice();
    built.transform!(a, [3, 32, 32], new Generator(seed));
    want(b, [3, 32, 32], new Generator(seed));
    expect(a).toEqual(b);
    // Cutout's square is at least 8x8 (a corner centre) in each channel; a crop alone zeroes whole rows or columns.
    expect(a.filter((v) => v === 0).length).toBeGreaterThanOrEqual(3 * 64);
  }
});

test("buildRecipe gives the resnet20 recipe He et al.'s initialisation and the lenet recipes PyTorch's defaults", () => {
  const convStd = (model: { namedParameters(): [string, { data: { data: Float32Array } }][] }, name: string) => {
    const w = model.namedParameters().find(([n]) => n === name)![1].data.data;
    return Math.sqrt(w.reduce((a, x) => a + x * x, 0) / w.length);
  };
  // layers.8.conv2: 64 -> 64 channels, 3x3, fan-in 576. He: sqrt(2/576) = 0.059; PyTorch: 1/sqrt(3*576) = 0.024.
  const resnet = buildRecipe(RECIPES.resnet20, [3, 32, 32], 10).model;
  expect(convStd(resnet, 'layers.8.conv2.weight') / Math.sqrt(2 / 576)).toBeCloseTo(1, 1);
  const lenet = buildRecipe(RECIPES.lenet, [3, 32, 32], 10).model;
  expect(convStd(lenet, 'conv2.weight') / (1 / Math.sqrt(3 * 150))).toBeCloseTo(1, 1); // conv2: 6 x 5 x 5 inputs
});

test('buildRecipe with a custom model keeps that model and the recipe augmentation', () => {
  const { model } = buildModelFromSpec({
    input: [1, 3, 32, 32],
    layers: [{ type: 'flatten' }, { type: 'linear', outFeatures: 10 }],
  });
  const built = buildRecipe(RECIPES['lenet-bn'], [3, 32, 32], 10, { model, name: 'net.json' });
  expect(built.model).toBe(model);
  expect(built.modelName).toBe('net.json');
  expect(built.transform).toBeDefined();
  expect(buildRecipe(RECIPES.lenet, [3, 32, 32], 10, { model, name: 'net.json' }).transform).toBeUndefined();
});

test('train --recipe lenet-bn trains LeNetBN with its settings, and eval reloads it (with and without flip TTA)', async () => {
  const weights = path.join(dir, 'bn.safetensors');
  const r = await cli(quietTrain(data, weights, '--recipe', 'lenet-bn', '--epochs', '2', '--batch-size', '8'));
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(withoutKernels(r.out[1])).toBe(
    'model: LeNetBN (62050 parameters), AdamW lr 0.002 weight decay 0.05 (cosine schedule, flips), batch size 8, 2 epochs, seed 0',
  );
  expect(readSafetensors(weights).metadata['simdnet.arch']).toBe('LeNetBN');
  const e = await cli(['eval', '--weights', weights, '--data', data]);
  expect(e.code).toBe(0);
  expect(e.out[0]).toMatch(/^accuracy: \d+\.\d{2}%$/);
  const flip = await cli(['eval', '--weights', weights, '--data', data, '--tta', 'flip']);
  expect(flip.code).toBe(0);
  expect(flip.out[0]).toMatch(/^accuracy: \d+\.\d{2}%$/);
  expect(flip.out.at(-1)).toBe('test-time augmentation: flip (logits of each image and its mirror averaged)');
  const rotate = await cli(['eval', '--weights', weights, '--data', data, '--tta', 'rotate']);
  expect(rotate.code).toBe(2);
  expect(rotate.err[0]).toMatch(/--tta <mode>' argument 'rotate' is invalid/);
});

test('--no-weight-decay-on-norm-and-bias trains with two parameter groups, and a resume must repeat it', async () => {
  const weights = path.join(dir, 'nodecay.safetensors');
  const checkpoint = path.join(dir, 'nodecay.checkpoint');
  const flags = ['--recipe', 'lenet-bn', '--epochs', '1', '--batch-size', '8', '--checkpoint', checkpoint];
  const r = await cli(quietTrain(data, weights, ...flags, '--no-weight-decay-on-norm-and-bias'));
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(withoutKernels(r.out[1])).toBe(
    'model: LeNetBN (62050 parameters), AdamW lr 0.002 weight decay 0.05, none on norms and biases (cosine schedule, flips), batch size 8, 1 epochs, seed 0',
  );
  const meta = JSON.parse(
    readSafetensors(path.join(checkpoint, 'checkpoint.safetensors')).metadata['simdnet.checkpoint'],
  );
  expect(meta.settings.weightDecayOnNormAndBias).toBe(false);
  expect(meta.optimizer.groups.map((g: { weightDecay: number }) => g.weightDecay)).toEqual([0.05, 0]);
  const again = await cli(quietTrain(data, weights, ...flags, '--force', '--resume'));
  expect(again.code).toBe(2);
  expect(again.err[0]).toMatch(/--no-weight-decay-on-norm-and-bias was given, now \(not given\)/);
});

test('an unknown recipe is a usage error', async () => {
  const r = await cli(['train', '--data', data, '--recipe', 'resnet']);
  expect(r.code).toBe(2);
  expect(r.err).toHaveLength(1);
  expect(r.err[0]).toMatch(/--recipe/);
});

test('eval --plot draws the training curves that train recorded in the weights file', async () => {
  const weights = path.join(dir, 'plain.safetensors');
  const t = await cli(quietTrain(data, weights, '--epochs', '2', '--batch-size', '8'));
  expect(t.code).toBe(0);
  expect(JSON.parse(readSafetensors(weights).metadata['simdnet.history'])).toHaveLength(2);
  const svg = path.join(dir, 'curves.svg');
  const e = await cli(['eval', '--weights', weights, '--data', data, '--plot', svg]);
  expect(e.code).toBe(0);
  expect(e.out.at(-1)).toBe(`wrote the training curves to ${svg}`);
  const text = fs.readFileSync(svg, 'utf8');
  expect(text).toMatch(/^<\?xml[^\n]*\n<svg /);
  expect(text).toContain('LeNet on CIFAR-10');
  expect((await cli(['eval', '--weights', weights, '--data', data, '--plot', path.join(dir, 'curves.png')])).code).toBe(
    2,
  );
});
