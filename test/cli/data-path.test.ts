// SPDX-License-Identifier: MIT
// Tests of lib/cli/data-path.ts: --data forms per dataset, --download folder creation, output path checks and the --limit subset.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {
  checkDataPath,
  checkFileExists,
  checkOutputPath,
  IDX_MD5,
  idxDatasetOf,
  progressPrinter,
  takeFirst,
} from '../../lib/cli/data-path';
import { FASHION_MNIST_MD5, MNIST_MD5 } from '../../lib/data/mnist';
import { UsageError } from '../../lib/cli/io';
import { TensorDataset } from '../../lib/data/dataset';
import { DataLoader } from '../../lib/data/loader';
import { Tensor } from '../../lib/tensor/tensor';
import { writeTinyCifar10 } from './cifar-fixture';
import { writeTinyMnist } from '../data/idx-fixture';
import { tempDir } from './helpers';

let dir: string;
beforeAll(() => {
  dir = tempDir('simdnet-cli-path-');
  writeTinyCifar10(path.join(dir, 'cifar-10-batches-bin'), 1, 1);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('--data accepts the parent folder and the batches folder; download only when no data is there', () => {
  expect(checkDataPath(dir)).toEqual({ dataset: 'cifar10', root: dir, download: false });
  expect(checkDataPath(path.join(dir, 'cifar-10-batches-bin'), { download: true })).toEqual({
    dataset: 'cifar10',
    root: path.join(dir, 'cifar-10-batches-bin'),
    download: false,
  });
  const fresh = path.join(dir, 'new', 'cifar');
  expect(checkDataPath(fresh, { download: true })).toEqual({ dataset: 'cifar10', root: fresh, download: true });
  expect(fs.statSync(fresh).isDirectory()).toBe(true);
  expect(() => checkDataPath(path.join(dir, 'missing.tar.gz'), { download: true })).toThrow(UsageError);
  expect(() => checkDataPath(path.join(dir, 'absent'))).toThrow(/does not exist \(pass --download to fetch CIFAR-10/);
});

test("--data for mnist and fashion-mnist: the IDX folder or torchvision's root; eval needs only the test split", () => {
  const idx = path.join(dir, 'idx');
  writeTinyMnist(idx, { gzip: true });
  const tv = path.join(dir, 'tv');
  writeTinyMnist(path.join(tv, 'FashionMNIST', 'raw'));
  expect(checkDataPath(idx, { dataset: 'mnist' })).toEqual({ dataset: 'mnist', root: idx, download: false });
  expect(checkDataPath(idx, { dataset: 'fashion-mnist', download: true })).toEqual({
    dataset: 'fashion-mnist',
    root: idx,
    download: false,
  });
  expect(checkDataPath(tv, { dataset: 'fashion-mnist' })).toEqual({
    dataset: 'fashion-mnist',
    root: tv,
    download: false,
  });
  expect(() => checkDataPath(tv, { dataset: 'mnist' })).toThrow(
    /--data: no MNIST training data in .*tv \(looked for train-images-idx3-ubyte\[\.gz\] .* MNIST\/raw\); pass --download/,
  );
  expect(checkDataPath(tv, { dataset: 'mnist', download: true })).toEqual({
    dataset: 'mnist',
    root: tv,
    download: true,
  });
  fs.rmSync(path.join(idx, 'train-images-idx3-ubyte.gz'));
  expect(() => checkDataPath(idx, { dataset: 'mnist' })).toThrow(/no MNIST training data/);
  expect(checkDataPath(idx, { dataset: 'mnist', needTrain: false })).toEqual({
    dataset: 'mnist',
    root: idx,
    download: false,
  });
  fs.rmSync(path.join(idx, 't10k-labels-idx1-ubyte.gz'));
  expect(() => checkDataPath(idx, { dataset: 'mnist', needTrain: false })).toThrow(/no MNIST test data/);
  expect(() => checkDataPath(path.join(idx, 't10k-images-idx3-ubyte.gz'), { dataset: 'mnist' })).toThrow(
    /is not a folder \(for mnist, give the folder holding the IDX files\)/,
  );
  expect(() => checkDataPath(path.join(dir, 'nope'), { dataset: 'fashion-mnist' })).toThrow(
    /does not exist \(pass --download to fetch Fashion-MNIST/,
  );
});

test('output paths need an existing folder and must not be a folder', () => {
  expect(checkOutputPath('--out', path.join(dir, 'm.safetensors'))).toBe(path.join(dir, 'm.safetensors'));
  expect(() => checkOutputPath('--out', dir)).toThrow(/is a folder/);
  expect(() => checkFileExists('--weights', dir)).toThrow(/is not a file/);
});

test('takeFirst exposes the first N samples through get and getBatch', () => {
  const ds = new TensorDataset(
    new Tensor(
      Float32Array.from({ length: 10 }, (_, i) => i),
      [10, 1, 1, 1],
    ),
    Int32Array.from({ length: 10 }, (_, i) => i % 3),
  );
  expect(takeFirst(ds, 20)).toBe(ds);
  const sub = takeFirst(ds, 4);
  expect(sub.length).toBe(4);
  expect(sub.sampleShape).toEqual([1, 1, 1]);
  expect(sub.get(3)).toEqual({ image: Float32Array.from([3]), label: 0 });
  expect(() => sub.get(4)).toThrow(RangeError);
  const seen: number[] = [];
  for (const b of new DataLoader(sub, { batchSize: 3, shuffle: true, seed: 1 })) seen.push(...b.images.data);
  expect(seen.sort()).toEqual([0, 1, 2, 3]);
  expect(() => sub.getBatch!(Int32Array.from([5]), new Float32Array(1), new Int32Array(1))).toThrow(RangeError);
});

test("--dataset mnist on another IDX dataset's files (known by their published md5) is refused, naming the dataset", () => {
  const md5 = (file: string) => createHash('md5').update(fs.readFileSync(file)).digest('hex');
  const fashion = path.join(dir, 'looks-like-fashion');
  writeTinyMnist(fashion, { gzip: true });
  // These tiny files stand in for Fashion-MNIST's: a table of their md5 sums, as IDX_MD5 holds the published ones.
  const sums = Object.fromEntries(
    ['train-labels-idx1-ubyte.gz', 't10k-labels-idx1-ubyte.gz'].map((f) => [f, md5(path.join(fashion, f))]),
  );
  const checksums = { mnist: MNIST_MD5, 'fashion-mnist': sums };
  expect(() => checkDataPath(fashion, { dataset: 'mnist', checksums })).toThrow(
    /^--dataset mnist: train-labels-idx1-ubyte\.gz in .*looks-like-fashion is Fashion-MNIST's \(by its published md5\), not MNIST's; pass --dataset fashion-mnist$/,
  );
  expect(() => checkDataPath(fashion, { dataset: 'mnist', needTrain: false, checksums })).toThrow(/t10k-labels/);
  expect(checkDataPath(fashion, { dataset: 'fashion-mnist', checksums }).dataset).toBe('fashion-mnist');
  // Files of no known dataset (these, with the published sums) and raw files cannot be told apart: accepted.
  expect(checkDataPath(fashion, { dataset: 'mnist' }).dataset).toBe('mnist');
  expect(IDX_MD5).toEqual({ mnist: MNIST_MD5, 'fashion-mnist': FASHION_MNIST_MD5 });
  const files = { dir: fashion, images: '', labels: path.join(fashion, 'train-labels-idx1-ubyte.gz') };
  expect(idxDatasetOf(files, checksums)).toBe('fashion-mnist');
  expect(idxDatasetOf({ ...files, labels: files.labels.replace(/\.gz$/, '') }, checksums)).toBeUndefined();
});

test('download progress: every 10% with a total, every 10 MB without one (no Content-Length, no known size)', () => {
  const lines: string[] = [];
  const log = { write: (s: string) => lines.push(s.trimEnd()) };
  const known = progressPrinter('MNIST', log);
  for (let r = 0; r <= 1000; r += 50) known(r * 1000, 1e6, 'a.gz');
  expect(lines[0]).toBe('downloading MNIST a.gz: 0.0/1.0 MB (0%)');
  expect(lines).toHaveLength(11);
  lines.length = 0;
  const unknown = progressPrinter('CIFAR-10', log);
  for (let mb = 0; mb <= 25; mb++) unknown(mb * 1e6, undefined);
  expect(lines).toEqual([
    'downloading CIFAR-10: 0.0 MB',
    'downloading CIFAR-10: 10.0 MB',
    'downloading CIFAR-10: 20.0 MB',
  ]);
});
