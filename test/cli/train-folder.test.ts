// SPDX-License-Identifier: MIT
// `simdnet train --dataset folder` end to end on a tiny image folder: train, then eval and predict with the class names
// the weights file records; the train/ + val/ layout, and --data errors.
import * as fs from 'fs';
import * as path from 'path';
import { checkDataPath, loadDataset, takeFirst } from '../../lib/cli/data-path';
import { readSafetensors } from '../../lib/io/safetensors';
import { writePng } from '../data/png-fixture';
import { cli, quietTrain, tempDir } from './helpers';

let dir: string;
const at = (...parts: string[]) => path.join(dir, ...parts);

/** `n` PNGs per class: "red" images are mostly red, "blue" mostly blue, of varying sizes. */
function writeClasses(root: string, n: number): void {
  for (const [name, color] of [
    ['red', [230, 20, 20]],
    ['blue', [20, 20, 230]],
  ] as const) {
    fs.mkdirSync(path.join(root, name), { recursive: true });
    for (let i = 0; i < n; i++)
      writePng(path.join(root, name, `${i}.png`), 32 + 4 * i, 32, (x, y) => [
        ...color.map((c) => (c + x + 3 * y) % 256),
        255,
      ]);
  }
}

beforeAll(() => {
  dir = tempDir('simdnet-train-folder-');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('train on a folder of class folders, then eval and predict name the classes', async () => {
  writeClasses(at('flat'), 4);
  const out = at('flat.safetensors');
  const args = ['--dataset', 'folder', '--data', at('flat'), '--epochs', '1', '--batch-size', '4'];
  const r = await cli(['train', ...args, '--out', out, '--progress', 'none']);
  expect(r.code).toBe(0);
  expect(r.out[0]).toBe('data: ImageFolder, 8 training images, 8 test images');
  expect(r.out[1]).toMatch(/^model: LeNet \(\d+ parameters\)/);
  expect(r.stderr).toBe('');
  const { metadata } = readSafetensors(out);
  expect(metadata['simdnet.dataset']).toBe('folder');
  expect(JSON.parse(metadata['simdnet.classes'])).toEqual(['blue', 'red']);

  const logged = await cli(['train', ...args, '--out', at('again.safetensors'), '--progress', 'log']);
  expect(logged.err).toContainEqual(
    `note: ${at('flat')} has no val/ or test/ folder: the test accuracy is measured on the training images`,
  );

  const ev = await cli(['eval', '--weights', out, '--data', at('flat')]);
  expect(ev.code).toBe(0);
  expect(ev.out[0]).toMatch(/^accuracy: /);
  expect(ev.out.some((l) => /^\s+blue\s/.test(l))).toBe(true);

  const pr = await cli(['predict', '--weights', out, '--top', '2', at('flat', 'red', '0.png')]);
  expect(pr.code).toBe(0);
  expect(pr.out[0]).toMatch(/2 classes; .*, normalised with the ImageFolder mean\/std$/);
  expect(
    pr.out
      .slice(2)
      .map((l) => l.trim().split(/\s+/)[1])
      .sort(),
  ).toEqual(['blue', 'red']);
});

test('the training split is shuffled once (seed 0), so --limit N takes images of every class', async () => {
  writeClasses(at('order'), 5);
  const loc = checkDataPath(at('order'), { dataset: 'folder' });
  const train = await loadDataset(loc, true);
  const labels = Array.from({ length: train.length }, (_, i) => train.get(i).label);
  expect([...labels].sort()).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  expect(new Set(labels.slice(0, 4))).toEqual(new Set([0, 1])); // sorted order would give 0, 0, 0, 0
  const first = takeFirst(train, 4);
  const images = new Float32Array(2 * 3072);
  const got = new Int32Array(2);
  first.getBatch!([3, 1], images, got);
  expect(Array.from(got)).toEqual([labels[3], labels[1]]);
  expect(Array.from(images.subarray(0, 3072))).toEqual(Array.from(train.get(3).image));
  expect((await loadDataset(loc, true)).get(7).image).toEqual(train.get(7).image); // the same order every time
  const test = await loadDataset(loc, false);
  expect(Array.from({ length: test.length }, (_, i) => test.get(i).label)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
});

test('train/ and val/ folders are the two splits', async () => {
  writeClasses(at('split', 'train'), 3);
  writeClasses(at('split', 'val'), 1);
  const r = await cli(quietTrain(at('split'), at('split.safetensors'), '--dataset', 'folder', '--epochs', '1'));
  expect(r.code).toBe(0);
  expect(r.out[0]).toBe('data: ImageFolder, 6 training images, 2 test images');
});

test('--data errors for folder: exit 2 with the reason', async () => {
  fs.mkdirSync(at('noclasses'));
  writePng(at('noclasses', 'a.png'), 4, 4, () => [0, 0, 0, 255]);
  const cases: [string[], RegExp][] = [
    [['--data', at('nowhere')], /--data: .*nowhere does not exist/],
    [['--data', at('noclasses')], /--data: .*noclasses: holds 1 images but no class folders/],
    [['--data', at('noclasses'), '--download'], /--download: an image folder is not downloaded/],
  ];
  for (const [extra, message] of cases) {
    const r = await cli(['train', '--dataset', 'folder', ...extra, '--out', at('x.safetensors')]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([expect.stringMatching(message)]);
  }
});
