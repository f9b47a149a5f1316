// SPDX-License-Identifier: MIT
// Tests of `simdnet train|eval --dataset mnist|fashion-mnist` in-process on tiny generated IDX files: LeNet-5, metadata, dataset choice.
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { readSafetensors } from '../../lib/io/safetensors';
import { LeNet } from '../../lib/modules/lenet';
import { writeTinyMnist } from '../data/idx-fixture';
import { writeTinyCifar10 } from './cifar-fixture';
import { cli, quietTrain, tempDir, withoutKernels } from './helpers';

let dir: string;
let mnist: string;
let fashion: string;
let weights: string;
beforeAll(() => {
  dir = tempDir('simdnet-cli-mnist-');
  mnist = path.join(dir, 'torchvision');
  writeTinyMnist(path.join(mnist, 'MNIST', 'raw'), { train: 40, test: 20, gzip: true });
  fashion = path.join(dir, 'fashion');
  writeTinyMnist(fashion, { train: 24, test: 10, seed: 3 });
  weights = path.join(dir, 'lenet5.safetensors');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('--help of train and eval lists --dataset and its choices', async () => {
  for (const command of ['train', 'eval']) {
    const r = await cli([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--dataset <name>/);
    expect(r.stdout).toMatch(/choices:\s+"cifar10",\s+"mnist",\s+"fashion-mnist"/);
    expect(r.stdout).toMatch(/torchvision's root/);
  }
  expect((await cli(['train', '--help'])).stdout).toMatch(/default: "cifar10"/);
  expect((await cli(['eval', '--help'])).stdout).toMatch(
    /default:\s+the\s+one\s+recorded\s+in\s+the\s+weights\s+file,\s+else\s+cifar10/,
  );
});

test('train --dataset mnist: LeNet-5 for 1 epoch, weights record the architecture, config and dataset', async () => {
  const r = await cli(quietTrain(mnist, weights, '--dataset', 'mnist', '--epochs', '1', '--batch-size', '8'));
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.out[0]).toBe('data: MNIST, 40 training images, 20 test images');
  expect(withoutKernels(r.out[1])).toBe(
    'model: LeNet-5 (61706 parameters), Adam lr 0.001, batch size 8, 1 epochs, seed 0',
  );
  expect(r.out[2]).toMatch(
    /^epoch 1\/1 {2}train loss \d+\.\d{4} acc \d+\.\d{2}% {2}test loss \d+\.\d{4} acc \d+\.\d{2}%/,
  );
  expect(r.out[3]).toBe(`saved the weights to ${weights}`);
  const { tensors, metadata } = readSafetensors(weights);
  const { 'simdnet.history': recorded, ...rest } = metadata;
  expect(JSON.parse(recorded)).toHaveLength(1);
  expect(rest).toEqual({
    format: 'pt',
    'simdnet.arch': 'LeNet',
    'simdnet.config': JSON.stringify({ inChannels: 1, imageSize: 28, numClasses: 10, padding: 2 }),
    'simdnet.dataset': 'mnist',
  });
  expect(tensors['conv1.weight'].shape).toEqual([6, 1, 5, 5]);
  expect(tensors['fc1.weight'].shape).toEqual([120, 400]);
  expect(Object.keys(tensors).sort()).toEqual(
    Object.keys(new LeNet({ inChannels: 1, imageSize: 28 }).stateDict()).sort(),
  );
});

test('eval without --dataset uses the recorded one; the IDX folder itself works as --data', async () => {
  const r = await cli(['eval', '--weights', weights, '--data', path.join(mnist, 'MNIST', 'raw'), '--batch-size', '7']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.out[0]).toMatch(/^accuracy: \d{1,3}\.\d{2}%$/);
  expect(r.out.slice(1, 11).map((l) => l.trim().split(/\s+/)[0])).toEqual([
    '0',
    '1',
    '2',
    '3',
    '4',
    '5',
    '6',
    '7',
    '8',
    '9',
  ]);
  expect(r.out[r.out.length - 1]).toMatch(/^loss: \d+\.\d{4} over 20 MNIST test images$/);
  expect((await cli(['eval', '--weights', weights, '--data', mnist])).out).toEqual(r.out);
});

test('eval needs only the test files', async () => {
  const only = path.join(dir, 'only-test');
  writeTinyMnist(only, { train: 1, test: 20, gzip: true });
  for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']) fs.rmSync(path.join(only, f));
  expect((await cli(['eval', '--weights', weights, '--data', only])).code).toBe(0);
  const t = await cli(['train', '--dataset', 'mnist', '--data', only]);
  expect(t.code).toBe(2);
  expect(t.err).toEqual([
    expect.stringMatching(/^error: --data: no MNIST training data in .*; pass --download to fetch it$/),
  ]);
});

test('an explicit --dataset wins: fashion-mnist with MNIST weights works with a note; cifar10 is a clear error', async () => {
  const f = await cli(['eval', '--weights', weights, '--dataset', 'fashion-mnist', '--data', fashion]);
  expect(f.code).toBe(0);
  expect(f.err).toEqual(['note: the weights were trained on mnist; evaluating on fashion-mnist as asked']);
  expect(f.out[1].trim()).toMatch(/^T-shirt\/top /);
  expect(f.out[f.out.length - 1]).toMatch(/over 10 Fashion-MNIST test images$/);
  const cifar = path.join(dir, 'cifar');
  writeTinyCifar10(cifar, 1, 2);
  const c = await cli(['eval', '--weights', weights, '--dataset', 'cifar10', '--data', cifar]);
  expect(c).toMatchObject({ code: 2, stdout: '' }); // a bad command line: these weights with that dataset
  expect(c.err).toEqual([
    `error: ${weights}: the model takes 1x28x28 images into 10 classes; CIFAR-10 needs 3x32x32 into 10 (the weights were trained on mnist)`,
  ]);
});

test('train --dataset fashion-mnist on a folder of raw IDX files; CIFAR-10 weights on it are a clear error', async () => {
  const out = path.join(dir, 'fashion.safetensors');
  const r = await cli(
    quietTrain(fashion, out, '--dataset', 'fashion-mnist', '--epochs', '1', '--batch-size', '6', '--limit', '12'),
  );
  expect(r.code).toBe(0);
  expect(r.out[0]).toBe('data: Fashion-MNIST, 12 training images (first 12 of 24), 10 test images');
  expect(readSafetensors(out).metadata['simdnet.dataset']).toBe('fashion-mnist');
  const e = await cli(['eval', '--weights', out, '--data', fashion]);
  expect(e.code).toBe(0);
  expect(e.out[e.out.length - 1]).toMatch(/over 10 Fashion-MNIST test images$/);
  const cifarWeights = path.join(dir, 'cifar.safetensors');
  const { saveModel } = await import('../../lib/train/saved-model');
  saveModel(cifarWeights, new LeNet());
  const bad = await cli(['eval', '--weights', cifarWeights, '--dataset', 'fashion-mnist', '--data', fashion]);
  expect(bad.code).toBe(2);
  expect(bad.err).toEqual([
    expect.stringMatching(
      /takes 3x32x32 images into 10 classes; Fashion-MNIST needs 1x28x28 into 10 \(the weights do not record/,
    ),
  ]);
});

test('usage errors: an unknown --dataset, and data of another kind', async () => {
  const r = await cli(['train', '--dataset', 'svhn', '--data', fashion]);
  expect(r.code).toBe(2);
  expect(r.err).toEqual([
    expect.stringMatching(/argument 'svhn' is invalid\. Allowed choices are cifar10, mnist, fashion-mnist/),
  ]);
  const c = await cli(['train', '--data', fashion]);
  expect(c.code).toBe(2);
  expect(c.err).toEqual([expect.stringMatching(/no CIFAR-10 data in/)]);
});

test('--download: a failed download names the URL and says how to work offline', async () => {
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const saved = process.env.SIMDNET_MNIST_URL;
  process.env.SIMDNET_MNIST_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m`;
  try {
    const target = path.join(dir, 'dl');
    // --out in the test's folder: a model.safetensors in the working directory (the README's first command leaves
    // one) would stop the run before the download.
    const out = path.join(dir, 'dl.safetensors');
    const r = await cli([
      'train',
      '--dataset',
      'mnist',
      '--data',
      target,
      '--download',
      '--progress',
      'none',
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      expect.stringMatching(
        /^error: download http:\/\/127\.0\.0\.1:\d+\/m\/train-images-idx3-ubyte\.gz: HTTP 404 .*; offline\? put the four IDX files .* into .*dl yourself/,
      ),
    ]);
    expect(fs.readdirSync(path.join(target, 'MNIST', 'raw'))).toEqual([]);
  } finally {
    if (saved === undefined) delete process.env.SIMDNET_MNIST_URL;
    else process.env.SIMDNET_MNIST_URL = saved;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
