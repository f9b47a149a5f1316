// SPDX-License-Identifier: MIT
// ConvTranspose2d, Upsample and AdaptiveMaxPool2d in JSON model specs (normalised, sizes inferred, counted before
// building), saved and loaded again with the same predictions, and their summary rows (parameters, MACs).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildModelFromSpec } from '../../lib/summary/model-spec';
import { summary } from '../../lib/summary/summary';
import { loadModel, saveModel } from '../../lib/train/saved-model';
import { maxDiff, randomTensor } from '../helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-spec-up-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const spec = {
  input: [1, 3, 6, 5],
  layers: [
    { type: 'conv2d', outChannels: 4, kernelSize: 3, padding: 1 },
    { type: 'convtranspose2d', outChannels: 6, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, groups: 2 },
    { type: 'relu' },
    { type: 'convtranspose2d', outChannels: 2, kernelSize: [2, 3], dilation: 2, outputPadding: [1, 0], bias: false },
    { type: 'upsample', scaleFactor: 2, mode: 'bilinear', alignCorners: true },
    { type: 'upsample', size: [9, 11] },
    { type: 'adaptivemaxpool2d', outputSize: [3, null] },
  ],
};

test('a spec with the new layers: normalised, saved and loaded with the same predictions', () => {
  const built = buildModelFromSpec(spec);
  expect(built.spec.layers[1]).toEqual({ ...spec.layers[1], inChannels: 4 });
  expect(built.spec.layers[3]).toEqual({ ...spec.layers[3], inChannels: 6 });
  const model = built.model;
  model.eval();
  const file = path.join(dir, 'up.safetensors');
  saveModel(file, model);
  const back = loadModel(file);
  expect(Object.keys(back.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '3.weight']);
  const x = randomTensor([2, 3, 6, 5], 1, 2);
  expect(maxDiff(back.predict(x).data, model.predict(x).data)).toBe(0);
});

test('summary: ConvTranspose2d counts N inC H W (outC / groups) kh kw MACs', () => {
  const { model, input } = buildModelFromSpec(spec);
  const rows = summary(model, input).layers;
  const row = (name: string) => rows.find((r) => r.name === name)!;
  expect([row('1').params, row('1').macs, row('1').outputShape]).toEqual([
    4 * 3 * 9 + 6,
    4 * 6 * 5 * 3 * 9,
    [1, 6, 12, 10],
  ]);
  expect([row('3').params, row('3').macs, row('3').outputShape]).toEqual([
    6 * 2 * 6,
    6 * 12 * 10 * 2 * 6,
    [1, 2, 12 + 2 + 1, 10 + 4],
  ]);
  // Bilinear: 4 multiply-adds per output value; nearest and max pooling none.
  expect([row('4').params, row('4').macs, row('4').outputShape]).toEqual([0, 4 * 2 * 30 * 28, [1, 2, 30, 28]]);
  expect([row('5').macs, row('5').outputShape]).toEqual([0, [1, 2, 9, 11]]);
  expect([row('6').macs, row('6').outputShape]).toEqual([0, [1, 2, 3, 11]]);
});

test('bad spec options name the layer and the option', () => {
  const at = (layer: Record<string, unknown>) => () => buildModelFromSpec({ input: [1, 2, 4, 4], layers: [layer] });
  expect(at({ type: 'upsample', scaleFactor: 2, size: 3 })).toThrow(/give size or scaleFactor, not both/);
  expect(at({ type: 'upsample', scale: 2 })).toThrow(/scale/);
  expect(at({ type: 'adaptivemaxpool2d', outputSize: 0 })).toThrow(/outputSize/);
});

test('a spec is refused by its state count before anything is built', () => {
  const huge = {
    input: [1, 4, 2, 2],
    layers: [{ type: 'convtranspose2d', outChannels: 2 ** 20, kernelSize: 2 ** 5 }],
  };
  expect(() => buildModelFromSpec(huge, undefined, { maxStateValues: 1e6 })).toThrow(/convtranspose2d/);
  const bad = {
    input: [1, 4, 2, 2],
    layers: [{ type: 'convtranspose2d', outChannels: 2, kernelSize: 2, outputPad: 1 }],
  };
  expect(() => buildModelFromSpec(bad)).toThrow(/outputPad/);
});
