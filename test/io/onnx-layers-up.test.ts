// SPDX-License-Identifier: MIT
// ONNX for ConvTranspose2d, Upsample and AdaptiveMaxPool2d: each exported, run in onnxruntime within 1e-5 of predict()
// at batch 1 and 5, and imported back with the same numbers; what ONNX cannot express is refused by name.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { exportOnnx } from '../../lib/io/onnx-export';
import { importOnnx } from '../../lib/io/onnx-import';
import { readSafetensors } from '../../lib/io/safetensors';
import { AdaptiveMaxPool2d } from '../../lib/modules/adaptive-max-pool2d';
import { Conv2d } from '../../lib/modules/conv2d';
import { ConvTranspose2d } from '../../lib/modules/conv-transpose2d';
import type { Module } from '../../lib/modules/module';
import { Sequential } from '../../lib/modules/sequential';
import { Upsample } from '../../lib/modules/upsample';
import { Generator } from '../../lib/random';
import { maxDiff, randomTensor } from '../helpers';
import { build, floats, node } from './onnx-build';
import { runOrt } from './ort';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-onnx-up-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Conv2d(3 -> 4, 3x3, padding 1) then `layer`, in eval mode. */
function withConv(layer: Module): Sequential {
  const model = new Sequential(
    new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, generator: new Generator(1) }),
    layer,
  );
  model.eval();
  return model;
}

const convT = (o: Record<string, unknown>) =>
  new ConvTranspose2d({ inChannels: 4, outChannels: 6, kernelSize: 3, generator: new Generator(2), ...o });

const LAYERS: [string, () => Module][] = [
  ['ConvTranspose2d', () => convT({})],
  ['ConvTranspose2d stride 2, padding 1, outputPadding 1', () => convT({ stride: 2, padding: 1, outputPadding: 1 })],
  [
    'ConvTranspose2d groups, dilation, mixed pairs, no bias',
    () =>
      convT({
        kernelSize: [2, 3],
        stride: [1, 3],
        padding: [2, 1],
        outputPadding: [1, 2],
        dilation: [2, 1],
        groups: 2,
        bias: false,
      }),
  ],
  ['Upsample nearest x2', () => new Upsample({ scaleFactor: 2 })],
  ['Upsample nearest to a size', () => new Upsample({ size: [9, 7] })],
  ['Upsample nearest x1.5 x 0.6', () => new Upsample({ scaleFactor: [1.5, 0.6] })],
  ['Upsample bilinear x2', () => new Upsample({ scaleFactor: 2, mode: 'bilinear' })],
  ['Upsample bilinear to a size', () => new Upsample({ size: [4, 11], mode: 'bilinear' })],
  ['Upsample bilinear alignCorners', () => new Upsample({ size: [11, 4], mode: 'bilinear', alignCorners: true })],
  ['Upsample bilinear x1.7', () => new Upsample({ scaleFactor: 1.7, mode: 'bilinear' })],
  ['AdaptiveMaxPool2d 1x1 (GlobalMaxPool)', () => new AdaptiveMaxPool2d(1)],
  ['AdaptiveMaxPool2d 3x5 of 6x5 (MaxPool 2x1)', () => new AdaptiveMaxPool2d([3, 5])],
];

describe.each(LAYERS)('%s', (name, make) => {
  const model = withConv(make());
  const file = path.join(dir, `${name.replace(/[^A-Za-z0-9]/g, '_')}.onnx`);
  const inputs = [1, 5].map((n) => randomTensor([n, 3, 6, 5], 10 + n, 3));

  test('onnxruntime runs the export within 1e-5 of predict(), at batch 1 and 5; importOnnx reads it back', () => {
    exportOnnx(model, [1, 3, 6, 5], file);
    const run = runOrt(file, inputs);
    const back = importOnnx(file).model;
    inputs.forEach((x, k) => {
      const expected = model.predict(x);
      expect(run.outputs[k].dims).toEqual(expected.shape);
      expect(maxDiff(run.outputs[k].data, expected.data)).toBeLessThan(1e-5);
      expect(maxDiff(back.predict(x).data, expected.data)).toBeLessThan(1e-6);
    });
    // With outputPadding >= stride, the export (and so the import) pads the input first.
    // An AdaptiveMaxPool2d with even windows comes back as the equal MaxPool2d.
    const layer = model.namedChildren()[1][1].toString();
    if (name.includes('MaxPool 2x1')) expect(back.toString()).toContain('MaxPool2d(kernelSize=[2, 1]');
    else if (!name.includes('dilation')) expect(back.toString()).toContain(layer);
  });
});

describe('ConvTranspose import refuses what simdnet cannot run, naming the node', () => {
  const weight = floats('w', [2, 3, 3, 3], new Array(54).fill(0.5));
  const one = (attrs: Record<string, number | number[] | string>) =>
    build({ nodes: [node('ConvTranspose', ['x', 'w'], 'y', attrs, '/up')], inits: [weight], input: [1, 2, 4, 4] });
  test.each<[string, Record<string, number | number[] | string>, RegExp]>([
    ['output_shape', { output_shape: [9, 9] }, /node '\/up' \(ConvTranspose\): output_shape is not supported/],
    ['asymmetric pads', { pads: [1, 0, 0, 0] }, /node '\/up' \(ConvTranspose\): asymmetric pads/],
    [
      'auto_pad SAME_UPPER',
      { auto_pad: 'SAME_UPPER' },
      /node '\/up' \(ConvTranspose\): auto_pad SAME_UPPER is not supported/,
    ],
    [
      'output_padding >= stride and dilation',
      { output_padding: [1, 1] },
      /node '\/up' \(ConvTranspose\): ConvTranspose2d: outputPadding \[1, 1\] must be smaller/,
    ],
    ['an unknown attribute', { alpha: 1 }, /node '\/up' \(ConvTranspose\).*alpha/],
    ['a kernel_shape the weight does not have', { kernel_shape: [2, 2] }, /kernel_shape \[2, 2\] does not match/],
  ])('%s', (_what, attrs, message) => {
    expect(() => importOnnx(one(attrs), { name: 'up.onnx' })).toThrow(message);
  });
});

describe('Resize import refuses what Upsample cannot express, naming the node', () => {
  const scales = floats('s', [4], [1, 1, 2, 2]);
  const one = (attrs: Record<string, number | number[] | string>, inputs = ['x', '', 's']) =>
    build({
      nodes: [node('Resize', inputs, 'y', attrs, '/up')],
      inits: [scales, floats('r', [8])],
      input: [1, 2, 4, 4],
    });
  test.each<[string, Record<string, number | number[] | string>, RegExp]>([
    [
      'nearest, half_pixel',
      { mode: 'nearest' },
      /node '\/up' \(Resize\): nearest with coordinate_transformation_mode half_pixel/,
    ],
    [
      'nearest, round_prefer_floor',
      { mode: 'nearest', coordinate_transformation_mode: 'asymmetric' },
      /nearest_mode round_prefer_floor/,
    ],
    ['cubic', { mode: 'cubic' }, /node '\/up' \(Resize\): mode 'cubic' is not supported/],
    [
      'linear, asymmetric',
      { mode: 'linear', coordinate_transformation_mode: 'asymmetric' },
      /linear with coordinate_transformation_mode asymmetric/,
    ],
    ['antialias', { mode: 'linear', antialias: 1 }, /antialias 1 is not supported/],
    ['an unknown attribute', { mode: 'linear', axes: [2, 3] }, /attribute 'axes' is not supported/],
  ])('%s', (_what, attrs, message) => {
    expect(() => importOnnx(one(attrs), { name: 'up.onnx' })).toThrow(message);
  });

  test('a roi and scales of the channels', () => {
    expect(() => importOnnx(one({ mode: 'linear' }, ['x', 'r', 's']), { name: 'up.onnx' })).toThrow(/non-empty roi/);
    const bad = build({
      nodes: [node('Resize', ['x', '', 'c'], 'y', { mode: 'linear' }, '/up')],
      inits: [floats('c', [4], [1, 2, 2, 2])],
      input: [1, 2, 4, 4],
    });
    expect(() => importOnnx(bad, { name: 'up.onnx' })).toThrow(/scales \[1, 2, 2, 2\] resize the batch or channels/);
  });
});

test('AdaptiveMaxPool2d to a size that does not divide the input is refused (ONNX has no adaptive pooling)', () => {
  expect(() => exportOnnx(withConv(new AdaptiveMaxPool2d([4, 2])), [1, 3, 6, 5], path.join(dir, 'amax.onnx'))).toThrow(
    /exportOnnx: layer '1' \(AdaptiveMaxPool2d\) has output 4x2 for the input 6x5: ONNX has no adaptive pooling/,
  );
});

describe("torch.onnx.export's file (TorchScript exporter, opset 13: test/fixtures/layers_up.onnx)", () => {
  test("MaxPool, ConvTranspose, Resize (nearest asymmetric floor, linear align_corners with sizes, linear half_pixel) import and give PyTorch's logits", () => {
    const file = path.join(__dirname, '..', 'fixtures', 'layers_up.onnx');
    const ref = readSafetensors(path.join(__dirname, '..', 'fixtures', 'layers_up.safetensors')).tensors;
    const r = importOnnx(file);
    const kinds = r.model.toString();
    expect(kinds).toContain(
      'ConvTranspose2d(4, 6, kernelSize=[3, 3], stride=[2, 2], padding=[1, 1], outputPadding=[1, 1], groups=2)',
    );
    expect(kinds).toContain("Upsample(scaleFactor=[2, 2], mode='nearest')");
    expect(kinds).toContain("Upsample(size=[9, 14], mode='bilinear', alignCorners=true)");
    expect(kinds).toContain("Upsample(scaleFactor=[1.5, 1.5], mode='bilinear', alignCorners=false)");
    const x = ref['import.input'];
    const y = r.model.predict(x);
    expect(y.shape).toEqual(ref['import.logits'].shape);
    expect(maxDiff(y.data, ref['import.logits'].data)).toBeLessThan(1e-5);
    expect(maxDiff(runOrt(file, [x]).outputs[0].data, y.data)).toBeLessThan(1e-5);
  });
});
