// SPDX-License-Identifier: MIT
// ONNX for ConvTranspose2d, Upsample and AdaptiveMaxPool2d: each exported, run in onnxruntime within 1e-5 of predict()
// at batch 1 and 5, and imported back with the same numbers; what ONNX cannot express is refused by name.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { exportOnnx } from '../../lib/io/onnx-export';
import { importOnnx } from '../../lib/io/onnx-import';
import { Conv2d } from '../../lib/modules/conv2d';
import { ConvTranspose2d } from '../../lib/modules/conv-transpose2d';
import type { Module } from '../../lib/modules/module';
import { Sequential } from '../../lib/modules/sequential';
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
    if (!name.includes('dilation')) expect(back.toString()).toContain(model.namedChildren()[1][1].toString());
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
