// SPDX-License-Identifier: MIT
// Tests of `simdnet predict` (lib/cli/predict.ts) and its PNG preprocessing (lib/cli/image.ts), on PNGs written here with pngjs.
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { PNG } from 'pngjs';
import { decodePng, preprocessImage, readPng, resizeBilinear } from '../../lib/cli/image';
import { isOnnxFile } from '../../lib/cli/classifier';
import { datasetPreprocessing, topK } from '../../lib/cli/predict';
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
import { expectAllClose } from '../helpers';
import { cli, tempDir } from './helpers';

/** Writes a PNG whose pixel (x, y) is rgba(x, y) (samples 0..255, or 0..65535 with bitDepth 16). */
function writePng(
  file: string,
  w: number,
  h: number,
  rgba: (x: number, y: number) => number[],
  colorType: 0 | 2 | 4 | 6 = 2,
  bitDepth: 8 | 16 = 8,
): string {
  const values: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) values.push(...rgba(x, y));
  const png = new PNG({ width: w, height: h });
  png.data = bitDepth === 16 ? Buffer.from(Uint16Array.from(values).buffer) : Buffer.from(values);
  fs.writeFileSync(file, PNG.sync.write(png, { colorType, bitDepth, inputColorType: 6, inputHasAlpha: true }));
  return file;
}

/** A PNG built chunk by chunk, for formats pngjs cannot write: IHDR fields, unfiltered rows, optional PLTE. */
function rawPng(w: number, h: number, depth: number, colorType: number, rows: number[][], palette?: number[]): Buffer {
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([depth, colorType, 0, 0, 0], 8);
  const idat = zlib.deflateSync(Buffer.from(rows.flatMap((r) => [0, ...r])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(palette ? [chunk('PLTE', Buffer.from(palette))] : []),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

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

describe('image.ts: decoding, channels, resizing and normalisation', () => {
  test('8-bit RGB decodes to exact planes; alpha is ignored', () => {
    const img = readPng(at('redblue.png'));
    expect(img).toMatchObject({ width: 40, height: 24, gray: false, depth: 8, alpha: false });
    const plane = 40 * 24;
    expect([img.rgb[0], img.rgb[plane], img.rgb[2 * plane]]).toEqual([1, 0, 0]);
    expect([img.rgb[39], img.rgb[plane + 39], img.rgb[2 * plane + 39]]).toEqual([0, 0, 1]);
    const withAlpha = readPng(at('redblue-alpha.png'));
    expect(withAlpha.alpha).toBe(true);
    expect(Array.from(withAlpha.rgb)).toEqual(Array.from(img.rgb));
  });

  test('16-bit samples keep their precision; gray files are marked gray', () => {
    const rgb = readPng(at('rgb16.png'));
    expect(rgb.depth).toBe(16);
    expect(rgb.rgb[1]).toBeCloseTo((0x1234 + 1) / 65535, 7);
    expect(rgb.rgb[6 + 3]).toBeCloseTo((0xfedc - 1) / 65535, 7);
    const gray = readPng(at('gray16.png'));
    expect(gray).toMatchObject({ gray: true, depth: 16 });
    expect(gray.rgb[2 * 30 + 5]).toBeCloseTo((5000 + 14) / 65535, 7);
  });

  test('1-bit gray and palette PNGs decode to [0, 1] (pngjs cannot write them: built by hand)', () => {
    const bits = decodePng(rawPng(8, 1, 1, 0, [[0b10110001]]));
    expect(bits).toMatchObject({ width: 8, gray: true, depth: 1 });
    expect(Array.from(bits.rgb.subarray(0, 8))).toEqual([1, 0, 1, 1, 0, 0, 0, 1]);
    const pal = decodePng(rawPng(3, 1, 8, 3, [[2, 0, 1]], [255, 0, 0, 0, 255, 0, 51, 102, 255]));
    expect(pal).toMatchObject({ gray: false, depth: 8 });
    expect(Array.from(pal.rgb)).toEqual([0.2, 1, 0, 0.4, 0, 1, 1, 0, 0].map(Math.fround));
  });

  test('bilinear resizing matches PyTorch interpolate(align_corners=False, antialias=False)', () => {
    // Numbers from torch 1.13: F.interpolate(x, size, mode='bilinear', align_corners=False).
    expect(Array.from(resizeBilinear(Float32Array.of(0, 1, 2, 3), 1, 2, 2, 4, 3))).toEqual([
      0, 0.5, 1, 0.5, 1, 1.5, 1.5, 2, 2.5, 2, 2.5, 3,
    ]);
    const ramp = Float32Array.from({ length: 35 }, (_, i) => i / 34);
    const want = [
      0.10539215058088303, 0.2083333283662796, 0.4485293924808502, 0.5514705777168274, 0.7916666269302368,
      0.8946078419685364,
    ];
    expectAllClose(resizeBilinear(ramp, 1, 5, 7, 3, 2), want, 1e-6);
  });

  test('preprocessImage: RGB to gray with luma weights, gray to RGB by copying, then (x - mean) / std', () => {
    const red = decodePng(fs.readFileSync(at('red.png')));
    const x = preprocessImage(red, { channels: 3, height: 32, width: 32, mean: CIFAR10_MEAN, std: CIFAR10_STD });
    expect([x[0], x[1024], x[2048]]).toEqual(
      [0, 1, 2].map((c) => Math.fround(((c === 0 ? 1 : 0) - CIFAR10_MEAN[c]) / CIFAR10_STD[c])),
    );
    expect(preprocessImage(red, { channels: 1, height: 2, width: 2, mean: [0], std: [1] })[0]).toBeCloseTo(0.299, 6);
    const gray = readPng(at('gray.png'));
    const three = preprocessImage(gray, { channels: 3, height: 28, width: 28, mean: [0, 0, 0], std: [1, 1, 1] });
    expect(Array.from(three.subarray(784, 1568))).toEqual(Array.from(three.subarray(0, 784)));
    expect(three[3]).toBeCloseTo(27 / 255, 6);
  });
});

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
): string[] {
  const side = model.config.imageSize;
  const inputs = files.map((f) => preprocessImage(readPng(at(f)), { channels, height: side, width: side, mean, std }));
  const batch = new Float32Array(inputs.length * inputs[0].length);
  inputs.forEach((x, i) => batch.set(x, i * x.length));
  const logits = model.predict(new Tensor(batch, [files.length, channels, side, side]));
  const n = model.config.numClasses;
  return files.flatMap((f, i) => [
    at(f),
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

test('RGB images (resized, with alpha) print the top-5 CIFAR-10 classes that model.predict gives', async () => {
  const files = ['red.png', 'redblue.png', 'redblue-alpha.png', 'gray.png'];
  const r = await cli(['predict', '--weights', at('lenet.safetensors'), ...files.map(at)]);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.out[0]).toBe(
    'model: LeNet, input 3x32x32, 10 classes; images resized bilinearly, normalised with the CIFAR-10 mean/std',
  );
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

describe('bad files: one line naming the file, exit code 2 (a bad path)', () => {
  test.each([
    ['a missing PNG', 'missing.png', /^error: .*missing\.png: no such file$/],
    ['a text file', 'text.png', /^error: .*text\.png: not a PNG file \(no PNG signature\)$/],
    ['a truncated PNG', 'truncated.png', /^error: .*truncated\.png: not a valid PNG, or truncated \(.+\)$/],
    ['a folder', '.', /: is a folder, not a PNG file$/],
  ])('%s', async (_name, file, message) => {
    const r = await cli(['predict', '--weights', at('lenet.safetensors'), at('red.png'), at(file)]);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.err).toEqual([expect.stringMatching(message)]);
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
      'model: LeNet, input 3x32x32, 10 classes; images resized bilinearly, normalised with the CIFAR-10 mean/std',
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
      /^model: main_graph \(pytorch 2\.[0-9.]+\), input 3x32x32, 10 classes; images resized bilinearly, normalised with the CIFAR-10 mean\/std$/,
    );
    const { model } = importOnnx(file);
    const inputs = files.map((f) =>
      preprocessImage(readPng(at(f)), { channels: 3, height: 32, width: 32, mean: CIFAR10_MEAN, std: CIFAR10_STD }),
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
      ['two.onnx', /^error: .*two\.onnx: predict reads PNG images into 1 or 3 channels; this model takes 2x5x5$/],
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
