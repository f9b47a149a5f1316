// SPDX-License-Identifier: MIT
// Tests of `simdnet predict` (lib/cli/predict.ts) on PNGs written here with pngjs and the JPEGs of test/fixtures/images;
// decoding and preprocessing themselves are test/data/image.test.ts.
import * as fs from 'fs';
import * as path from 'path';
import { isOnnxFile } from '../../lib/cli/classifier';
import { datasetPreprocessing, recordedClasses, topK } from '../../lib/cli/predict';
import { preprocessImage, readImage, type ResizeMode } from '../../lib/data/image';
import { CIFAR10_CLASSES, CIFAR10_MEAN, CIFAR10_STD } from '../../lib/data/cifar10';
import { FASHION_MNIST_CLASSES } from '../../lib/data/mnist';
import { encodeOnnx } from '../../lib/io/onnx-export';
import { importOnnx } from '../../lib/io/onnx-import';
import { saveSafetensors } from '../../lib/io/safetensors';
import { Conv2d } from '../../lib/modules/conv2d';
import { Flatten } from '../../lib/modules/flatten';
import { Linear } from '../../lib/modules/linear';
import { Sequential } from '../../lib/modules/sequential';
import { LeNet } from '../../lib/modules/lenet';
import { manualSeed } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { modelMetadata, saveModel } from '../../lib/train/saved-model';
import { writePng } from '../data/png-fixture';
import { cli, tempDir } from './helpers';

const HOSTILE_PNG = path.join(__dirname, '..', 'fixtures', 'hostile', 'png-two-ihdr.png');
const IMAGES = path.join(__dirname, '..', 'fixtures', 'images');
let dir: string;
let rgbModel: LeNet;
let grayModel: LeNet;
const at = (name: string) => path.join(dir, name);
beforeAll(() => {
  dir = tempDir('simdnet-predict-');
  manualSeed(0);
  rgbModel = new LeNet();
  saveModel(at('lenet.safetensors'), rgbModel);
  grayModel = new LeNet({ inChannels: 1, imageSize: 28 });
  saveSafetensors(at('fashion.safetensors'), grayModel.stateDict(), {
    ...modelMetadata(grayModel),
    'simdnet.dataset': 'fashion-mnist',
  });
  saveModel(at('gray-nodata.safetensors'), grayModel);
  writePng(at('red.png'), 32, 32, () => [255, 0, 0, 255]);
  writePng(at('redblue.png'), 40, 24, (x) => (x < 20 ? [255, 0, 0, 255] : [0, 0, 255, 255]));
  writePng(at('redblue-alpha.png'), 40, 24, (x, y) => (x < 20 ? [255, 0, 0, 255] : [0, 0, 255, (7 * y) % 256]), 6);
  writePng(at('gray.png'), 28, 28, (x, y) => new Array(3).fill((9 * x + 4 * y) % 256).concat(255), 0);
  writePng(at('gray16.png'), 30, 20, (x, y) => new Array(3).fill(1000 * x + 7 * y).concat(65535), 0, 16);
  writePng(at('rgb16.png'), 3, 2, (x, y) => [0x1234 + x, 0xfedc - y, 65535, 65535], 2, 16);
  fs.writeFileSync(at('text.png'), 'this is not a picture\n');
  fs.writeFileSync(at('truncated.png'), fs.readFileSync(at('redblue.png')).subarray(0, 60));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('datasetPreprocessing: recorded dataset, CIFAR-10 default for 3 channels, plain scaling otherwise', () => {
  expect(datasetPreprocessing(undefined, 3, 10)).toEqual({
    name: 'CIFAR-10',
    mean: CIFAR10_MEAN,
    std: CIFAR10_STD,
    classes: CIFAR10_CLASSES,
  });
  expect(datasetPreprocessing('MNIST', 1, 10)).toMatchObject({ name: 'MNIST', mean: [0.1307], std: [0.3081] });
  expect(datasetPreprocessing('FashionMNIST', 1, 10)).toMatchObject({
    name: 'Fashion-MNIST',
    mean: [0.286],
    std: [0.353],
    classes: FASHION_MNIST_CLASSES,
  });
  expect(datasetPreprocessing('cifar10', 3, 4)).toMatchObject({ name: 'CIFAR-10', classes: undefined });
  // An ImageFolder model: 0.5/0.5 per channel, the class names its file records.
  const classes = recordedClasses({ 'simdnet.classes': '["cat","dog"]' });
  expect(datasetPreprocessing('folder', 1, 2, classes)).toEqual({
    name: 'ImageFolder',
    mean: [0.5],
    std: [0.5],
    classes: ['cat', 'dog'],
  });
  expect(datasetPreprocessing('folder', 3, 3, classes)).toMatchObject({ mean: [0.5, 0.5, 0.5], classes: undefined });
  expect(recordedClasses({ 'simdnet.classes': '{oops' })).toBeUndefined();
  expect(recordedClasses({ 'simdnet.classes': '[1]' })).toBeUndefined();
  for (const [d, c] of [
    [undefined, 1],
    ['mnist', 3],
    ['imagenet', 3],
    ['toString', 1],
  ] as const) {
    expect(datasetPreprocessing(d, c, 10)).toEqual({
      name: undefined,
      mean: new Array(c).fill(0),
      std: new Array(c).fill(1),
      classes: undefined,
    });
  }
});

/** The top-k lines `simdnet predict` should print for `files`, from model.predict on one batch. */
function expectedLines(
  model: LeNet,
  files: string[],
  channels: 1 | 3,
  mean: readonly number[],
  std: readonly number[],
  classes: readonly string[] | undefined,
  k: number,
  resize: ResizeMode = 'crop',
): string[] {
  const side = model.config.imageSize;
  const inputs = files.map((f) =>
    preprocessImage(readImage(path.isAbsolute(f) ? f : at(f)), {
      channels,
      height: side,
      width: side,
      mean,
      std,
      resize,
    }),
  );
  const batch = new Float32Array(inputs.length * inputs[0].length);
  inputs.forEach((x, i) => batch.set(x, i * x.length));
  const logits = model.predict(new Tensor(batch, [files.length, channels, side, side]));
  const n = model.config.numClasses;
  return files.flatMap((f, i) => [
    path.isAbsolute(f) ? f : at(f),
    ...topK(logits.data.subarray(i * n, (i + 1) * n), k)
      .map(({ index, probability }, r) => ({
        r,
        name: classes?.[index] ?? `class ${index}`,
        p: (100 * probability).toFixed(2),
      }))
      .map(({ r, name, p }) => `${r + 1} ${name} ${p}%`),
  ]);
}
const squash = (lines: string[]) => lines.map((l) => l.trim().replace(/\s+/g, ' '));
/** What the first line says of the default resizing for a 32x32 model. */
const CROP = 'images resized bilinearly (short side to 32, centre 32x32 cut out: --resize crop)';

test('RGB images (resized, with alpha) print the top-5 CIFAR-10 classes that model.predict gives', async () => {
  const files = ['red.png', 'redblue.png', 'redblue-alpha.png', 'gray.png'];
  const r = await cli(['predict', '--weights', at('lenet.safetensors'), ...files.map(at)]);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.out[0]).toBe(`model: LeNet, input 3x32x32, 10 classes; ${CROP}, normalised with the CIFAR-10 mean/std`);
  expect(squash(r.out.slice(1))).toEqual(
    expectedLines(rgbModel, files, 3, CIFAR10_MEAN, CIFAR10_STD, CIFAR10_CLASSES, 5),
  );
  expect(r.out).toHaveLength(1 + 4 * 6);
  // The solid red image, normalised by hand rather than by preprocessImage, gives the same first line.
  const red = new Float32Array(3 * 1024).map(
    (_, i) => ((i < 1024 ? 1 : 0) - CIFAR10_MEAN[i >> 10]) / CIFAR10_STD[i >> 10],
  );
  const best = topK(rgbModel.predict(new Tensor(red, [1, 3, 32, 32])).data, 1)[0];
  expect(squash([r.out[2]])[0]).toBe(`1 ${CIFAR10_CLASSES[best.index]} ${(100 * best.probability).toFixed(2)}%`);
});

test('a 1-channel model uses the recorded dataset: gray conversion, its mean/std and class names; --top above the class count', async () => {
  const files = ['gray.png', 'gray16.png', 'redblue.png'];
  const r = await cli(['predict', '--weights', at('fashion.safetensors'), '--top', '12', ...files.map(at)]);
  expect(r.code).toBe(0);
  expect(r.out[0]).toMatch(/input 1x28x28, 10 classes; .* the Fashion-MNIST mean\/std$/);
  expect(squash(r.out.slice(1))).toEqual(
    expectedLines(grayModel, files, 1, [0.286], [0.353], FASHION_MNIST_CLASSES, 10),
  );
  const noData = await cli(['predict', '--weights', at('gray-nodata.safetensors'), '--top', '2', at('gray.png')]);
  expect(noData.code).toBe(0);
  expect(noData.err).toEqual([
    expect.stringMatching(
      /^note: .*gray-nodata.safetensors records no dataset; pixels are scaled to \[0, 1\] without normalisation$/,
    ),
  ]);
  expect(squash(noData.out.slice(1))).toEqual(expectedLines(grayModel, ['gray.png'], 1, [0], [1], undefined, 2));
});

test('JPEG images; --resize squash stretches instead of cropping, and the first line says which runs', async () => {
  const jpgs = ['gradient.jpg', 'gradient-progressive.jpg', 'gray.jpg'].map((f) => path.join(IMAGES, f));
  const files = [...jpgs, at('redblue.png')];
  const crop = await cli(['predict', '--weights', at('lenet.safetensors'), ...files]);
  expect(crop).toMatchObject({ code: 0, stderr: '' });
  expect(squash(crop.out.slice(1))).toEqual(
    expectedLines(rgbModel, files, 3, CIFAR10_MEAN, CIFAR10_STD, CIFAR10_CLASSES, 5),
  );
  const stretched = await cli(['predict', '--weights', at('lenet.safetensors'), '--resize', 'squash', ...files]);
  expect(stretched.code).toBe(0);
  expect(stretched.out[0]).toBe(
    'model: LeNet, input 3x32x32, 10 classes; images stretched bilinearly to 32x32 (aspect ratio not kept: --resize squash), normalised with the CIFAR-10 mean/std',
  );
  expect(squash(stretched.out.slice(1))).toEqual(
    expectedLines(rgbModel, files, 3, CIFAR10_MEAN, CIFAR10_STD, CIFAR10_CLASSES, 5, 'squash'),
  );
  // The 40x24 images give other inputs, hence other probabilities, in the two modes.
  expect(stretched.out.slice(1)).not.toEqual(crop.out.slice(1));
  const bad = await cli(['predict', '--weights', at('lenet.safetensors'), '--resize', 'fit', at('red.png')]);
  expect(bad.code).toBe(2);
  expect(bad.err[0]).toMatch(/'--resize <mode>' argument 'fit' is invalid. Allowed choices are crop, squash/);
});

describe('bad images: each is reported on stderr and skipped, the others are still classified', () => {
  test.each([
    ['a text file', 'text.png', 1, /^error: .*text\.png: not a PNG or JPEG file \(neither signature\)$/],
    ['a truncated PNG', 'truncated.png', 1, /^error: .*truncated\.png: not a valid PNG, or truncated \(.+\)$/],
    ['a folder', '.', 1, /: is a folder, not a file$/],
    ['a PNG bomb (two IHDR chunks)', HOSTILE_PNG, 1, /png-two-ihdr\.png: has a second IHDR chunk/],
    ['a missing file (a bad path: exit 2)', 'missing.png', 2, /^error: .*missing\.png: no such file$/],
  ])('%s', async (_name, file, code, message) => {
    const good = [at('red.png'), at('redblue.png')];
    const bad = path.isAbsolute(file) ? file : at(file);
    const r = await cli(['predict', '--weights', at('lenet.safetensors'), good[0], bad, good[1]]);
    expect(r.code).toBe(code);
    expect(r.err).toEqual([expect.stringMatching(message)]);
    expect(squash(r.out.slice(1))).toEqual(
      expectedLines(rgbModel, ['red.png', 'redblue.png'], 3, CIFAR10_MEAN, CIFAR10_STD, CIFAR10_CLASSES, 5),
    );
  });

  test('every image bad: the errors, no predictions, exit 2 if one is missing', async () => {
    const r = await cli(['predict', '--weights', at('lenet.safetensors'), at('text.png'), at('missing.png')]);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(2);
    expect(r.out).toHaveLength(1); // the model line only
  });

  test('weights that are not a model', async () => {
    const r = await cli(['predict', '--weights', at('red.png'), at('red.png')]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([expect.stringMatching(/^error: .*red\.png: /)]);
  });
});

describe('bad command lines: exit code 2', () => {
  test.each([
    ['no images', ['--weights', '{w}'], /missing required argument 'images'/],
    ['no --weights', ['{red}'], /required option '--weights <file>' not specified/],
    [
      '--weights that does not exist',
      ['--weights', 'no/such.safetensors', '{red}'],
      /--weights: no\/such.safetensors does not exist/,
    ],
    [
      '--top 0',
      ['--weights', '{w}', '--top', '0', '{red}'],
      /'--top <k>' argument '0' is invalid. expected an integer >= 1/,
    ],
    ['--top abc', ['--weights', '{w}', '--top', 'abc', '{red}'], /--top.*'abc' is invalid/],
    ['an unknown flag', ['--weights', '{w}', '--topk', '3', '{red}'], /unknown option '--topk'/],
  ])('%s', async (_name, args, message) => {
    const argv = args.map((a) => (a === '{w}' ? at('lenet.safetensors') : a === '{red}' ? at('red.png') : a));
    const r = await cli(['predict', ...argv]);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(message);
  });
});

describe('ONNX models: --weights model.onnx', () => {
  /** `simdnet export` of a weights file; returns the .onnx path. */
  async function exported(weights: string, name: string): Promise<string> {
    const out = at(name);
    const r = await cli(['export', '--weights', at(weights), '--onnx', out]);
    expect(r.code).toBe(0);
    return out;
  }

  test('a LeNet exported by `simdnet export` prints exactly what its safetensors file prints', async () => {
    const onnxFile = await exported('lenet.safetensors', 'lenet.onnx');
    const files = ['red.png', 'redblue.png', 'gray.png'].map(at);
    const fromWeights = await cli(['predict', '--weights', at('lenet.safetensors'), '--top', '3', ...files]);
    const fromOnnx = await cli(['predict', '--weights', onnxFile, '--top', '3', ...files]);
    expect(fromOnnx).toMatchObject({ code: 0, stderr: '' });
    expect(fromOnnx.stdout).toBe(fromWeights.stdout);
    expect(fromOnnx.out[0]).toBe(
      `model: LeNet, input 3x32x32, 10 classes; ${CROP}, normalised with the CIFAR-10 mean/std`,
    );
    expect(fromOnnx.out).toHaveLength(1 + 3 * 4);
  });

  test('the dataset recorded by `simdnet export` picks the normalisation and class names (Fashion-MNIST, no dataset)', async () => {
    const files = ['gray.png', 'redblue.png'].map(at);
    const fashion = await exported('fashion.safetensors', 'fashion.onnx');
    expect(importOnnx(fashion).metadata).toEqual({ 'simdnet.dataset': 'fashion-mnist', 'simdnet.num_classes': '10' });
    const a = await cli(['predict', '--weights', at('fashion.safetensors'), ...files]);
    const b = await cli(['predict', '--weights', fashion, ...files]);
    expect(b).toMatchObject({ code: 0, stderr: '', stdout: a.stdout });
    expect(b.out[0]).toMatch(/the Fashion-MNIST mean\/std$/);
    expect(FASHION_MNIST_CLASSES.some((name) => b.out[2].includes(name))).toBe(true);
    const plain = await exported('gray-nodata.safetensors', 'gray-nodata.onnx');
    const c = await cli(['predict', '--weights', plain, '--top', '2', at('gray.png')]);
    expect(c.code).toBe(0);
    expect(c.err).toEqual([
      expect.stringMatching(
        /^note: .*gray-nodata.onnx records no dataset; pixels are scaled to \[0, 1\] without normalisation$/,
      ),
    ]);
    expect(c.stdout).toBe(
      (await cli(['predict', '--weights', at('gray-nodata.safetensors'), '--top', '2', at('gray.png')])).stdout,
    );
  });

  test("PyTorch's LeNet export (test/fixtures/onnx_lenet.onnx) runs as a CIFAR-10 model", async () => {
    const file = path.join(__dirname, '..', 'fixtures', 'onnx_lenet.onnx');
    const files = ['red.png', 'redblue.png'];
    const r = await cli(['predict', '--weights', file, '--top', '4', ...files.map(at)]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.out[0]).toMatch(
      /^model: main_graph \(pytorch 2\.[0-9.]+\), input 3x32x32, 10 classes; images resized bilinearly \(short side to 32, centre 32x32 cut out: --resize crop\), normalised with the CIFAR-10 mean\/std$/,
    );
    const { model } = importOnnx(file);
    const inputs = files.map((f) =>
      preprocessImage(readImage(at(f)), { channels: 3, height: 32, width: 32, mean: CIFAR10_MEAN, std: CIFAR10_STD }),
    );
    const logits = model.predict(new Tensor(Float32Array.from(inputs.flatMap((x) => Array.from(x))), [2, 3, 32, 32]));
    const want = files.flatMap((f, i) => [
      at(f),
      ...topK(logits.data.subarray(i * 10, i * 10 + 10), 4).map(
        ({ index, probability }, k) => `${k + 1} ${CIFAR10_CLASSES[index]} ${(100 * probability).toFixed(2)}%`,
      ),
    ]);
    expect(squash(r.out.slice(1))).toEqual(want);
  });

  test('ONNX is recognised by its bytes under another extension; safetensors stays safetensors', async () => {
    const renamed = at('lenet-model.bin');
    fs.copyFileSync(await exported('lenet.safetensors', 'lenet2.onnx'), renamed);
    expect(isOnnxFile(renamed)).toBe(true);
    expect(isOnnxFile(at('lenet.safetensors'))).toBe(false);
    fs.copyFileSync(at('lenet.safetensors'), at('lenet-weights.bin'));
    expect(isOnnxFile(at('lenet-weights.bin'))).toBe(false);
    expect(isOnnxFile(at('red.png'))).toBe(false);
    const a = await cli(['predict', '--weights', renamed, at('red.png')]);
    const b = await cli(['predict', '--weights', at('lenet-weights.bin'), at('red.png')]);
    expect(a).toMatchObject({ code: 0, stdout: b.stdout });
  });

  test('a corrupt .onnx file, or an ONNX model that is not an image classifier: one error line naming the file, exit 2', async () => {
    const bytes = fs.readFileSync(await exported('lenet.safetensors', 'whole.onnx'));
    fs.writeFileSync(at('cut.onnx'), bytes.subarray(0, 1000));
    fs.writeFileSync(at('text.onnx'), 'not a model');
    fs.writeFileSync(
      at('vector.onnx'),
      encodeOnnx(new Sequential(new Linear({ inFeatures: 4, outFeatures: 2 })), [1, 4]),
    );
    fs.writeFileSync(
      at('two.onnx'),
      encodeOnnx(
        new Sequential(new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3 }), new Flatten()),
        [1, 2, 5, 5],
      ),
    );
    const cases: [string, RegExp][] = [
      ['cut.onnx', /^error: .*cut\.onnx: not an ONNX model, or truncated/],
      ['text.onnx', /^error: .*text\.onnx: /],
      [
        'vector.onnx',
        /^error: .*vector\.onnx: not an image classifier \[batch, C, H, W\] -> \[batch, classes\]: it maps \[batch, 4\] to \[batch, 2\]$/,
      ],
      ['two.onnx', /^error: .*two\.onnx: predict reads images into 1 or 3 channels; this model takes 2x5x5$/],
    ];
    for (const [file, message] of cases) {
      const r = await cli(['predict', '--weights', at(file), at('red.png')]);
      expect(r).toMatchObject({ code: 2, stdout: '' });
      expect(r.err).toEqual([expect.stringMatching(message)]);
    }
  });

  test('--help explains both formats', async () => {
    const r = await cli(['predict', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /--weights <file>\s+a \.safetensors file saved by `simdnet\s+train`, or an ONNX\s+model \(\.onnx\)/,
    );
    expect(r.stdout).toContain('simdnet predict --weights lenet.onnx cat.png');
  });
});
