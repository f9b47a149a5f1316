// SPDX-License-Identifier: MIT
// The new layers in JSON model specs (normalised, sizes inferred, counted before building) saved and loaded again with
// the same predictions, their summary rows (parameters, MACs), and inference programs: Hardtanh and ReLU6 run as the
// native clamp op, the others in JavaScript, all giving the eval-mode forward's numbers.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compileProgram } from '../../lib/modules/program';
import { OP } from '../../lib/modules/program-code';
import { buildModelFromSpec } from '../../lib/summary/model-spec';
import { summary } from '../../lib/summary/summary';
import { loadModel, saveModel } from '../../lib/train/saved-model';
import { maxDiff, randomTensor } from '../helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-spec-act-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const spec = {
  input: [1, 3, 8, 8],
  layers: [
    { type: 'conv2d', outChannels: 6, kernelSize: 3, padding: 1 },
    { type: 'groupnorm', numGroups: 3 },
    { type: 'relu6' },
    { type: 'hardtanh', minVal: -0.5, maxVal: 2 },
    { type: 'gelu' },
    { type: 'dropout2d', p: 0.3 },
    { type: 'layernorm', normalizedShape: [6, 8, 8], elementwiseAffine: true },
    { type: 'silu' },
    { type: 'hardswish' },
    { type: 'elu', alpha: 0.3 },
    { type: 'identity' },
    { type: 'flatten' },
    { type: 'linear', outFeatures: 10 },
    { type: 'gelu', approximate: 'tanh' },
    { type: 'hardsigmoid' },
  ],
};

test('a spec with every new layer: normalised, saved and loaded with the same predictions', () => {
  const built = buildModelFromSpec(spec);
  expect(built.spec.layers[1]).toEqual({ type: 'groupnorm', numGroups: 3, numChannels: 6 });
  const model = built.model;
  // Non-default weights, so that the file has to carry them.
  for (const p of model.parameters()) for (let i = 0; i < p.data.size; i++) p.data.data[i] += Math.sin(i) * 0.1;
  model.eval();
  const file = path.join(dir, 'act.safetensors');
  saveModel(file, model);
  const back = loadModel(file);
  expect(Object.keys(back.stateDict())).toEqual(Object.keys(model.stateDict()));
  expect(Object.keys(model.stateDict())).toEqual(expect.arrayContaining(['1.weight', '1.bias', '6.weight', '6.bias']));
  const x = randomTensor([4, 3, 8, 8], 1, 2);
  expect(maxDiff(back.predict(x).data, model.predict(x).data)).toBe(0);
});

test('summary: the norms count their parameters and one MAC per value; the activations none', () => {
  const { model, input } = buildModelFromSpec(spec);
  const rows = summary(model, input).layers;
  const row = (name: string) => rows.find((r) => r.name === name)!;
  expect([row('1').params, row('1').macs]).toEqual([12, 6 * 64]);
  expect([row('6').params, row('6').macs]).toEqual([2 * 384, 384]);
  for (const name of ['2', '3', '4', '5', '7', '8', '9', '10', '13', '14'])
    expect([name, row(name).params, row(name).macs]).toEqual([name, 0, 0]);
});

test('a spec is refused by its state count before anything is built', () => {
  const huge = { input: [1, 4], layers: [{ type: 'layernorm', normalizedShape: [2 ** 15, 2 ** 15] }] };
  expect(() => buildModelFromSpec(huge, undefined, { maxStateValues: 1e6 })).toThrow(/layernorm/);
  const wide = { input: [1, 4, 2], layers: [{ type: 'groupnorm', numGroups: 1, numChannels: 2 ** 30 }] };
  expect(() => buildModelFromSpec(wide, undefined, { maxStateValues: 1e6 })).toThrow(/groupnorm/);
});

test('inference programs: Hardtanh and ReLU6 as the native clamp, the rest in JavaScript, same numbers', () => {
  const clampOnly = buildModelFromSpec({
    input: [1, 3, 6, 6],
    layers: [
      { type: 'conv2d', outChannels: 4, kernelSize: 3 },
      { type: 'relu6' },
      { type: 'hardtanh', minVal: -0.1, maxVal: 0.2 },
      { type: 'identity' },
      { type: 'dropout2d' },
      { type: 'flatten' },
      { type: 'linear', outFeatures: 3 },
    ],
  }).model;
  clampOnly.eval();
  const program = compileProgram(
    clampOnly.namedChildren().map(([, m]) => m),
    [3, 6, 6],
  );
  expect(program).not.toBeNull();
  expect(Array.from(program!.code).filter((c) => c === OP.clamp).length).toBeGreaterThanOrEqual(2);
  const x = randomTensor([5, 3, 6, 6], 2, 3);
  const y = clampOnly.predict(x);
  expect(maxDiff(y.data, clampOnly.forward(x).data)).toBeLessThan(1e-6);

  const { model } = buildModelFromSpec(spec);
  model.eval();
  expect(
    compileProgram(
      model.namedChildren().map(([, m]) => m),
      [3, 8, 8],
    ),
  ).toBeNull();
  const z = randomTensor([3, 3, 8, 8], 3, 2);
  expect(maxDiff(model.predict(z).data, model.forward(z).data)).toBeLessThan(1e-6);
});
