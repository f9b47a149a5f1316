// SPDX-License-Identifier: MIT
// ONNX for ReLU6, Hardtanh, GELU, SiLU, Hardswish, Hardsigmoid, ELU, Identity, Dropout2d, LayerNorm and GroupNorm:
// each exported (opset 13: GELU, Hardswish, LayerNorm and GroupNorm as formulas of older ops) and run in onnxruntime
// within 1e-5 of predict(); re-imported where simdnet reads the ops back; torch.onnx.export's files
// (test/fixtures/layers_act*.onnx from gen_layers_act.py) imported and run against PyTorch's logits.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { exportOnnx } from '../../lib/io/onnx-export';
import { importOnnx } from '../../lib/io/onnx-import';
import { readSafetensors } from '../../lib/io/safetensors';
import { Conv2d } from '../../lib/modules/conv2d';
import { Dropout2d } from '../../lib/modules/dropout2d';
import { ELU } from '../../lib/modules/elu';
import { GELU } from '../../lib/modules/gelu';
import { GroupNorm } from '../../lib/modules/group-norm';
import { Hardsigmoid } from '../../lib/modules/hardsigmoid';
import { Hardswish } from '../../lib/modules/hardswish';
import { Hardtanh } from '../../lib/modules/hardtanh';
import { Identity } from '../../lib/modules/identity';
import { LayerNorm } from '../../lib/modules/layer-norm';
import type { Module } from '../../lib/modules/module';
import { ReLU6 } from '../../lib/modules/relu6';
import { Sequential } from '../../lib/modules/sequential';
import { SiLU } from '../../lib/modules/silu';
import { Generator } from '../../lib/random';
import type { Tensor } from '../../lib/tensor/tensor';
import { maxDiff, randomTensor } from '../helpers';
import { build, floats, node, type GraphSpec } from './onnx-build';
import { runOrt } from './ort';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-onnx-act-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const FIXTURES = path.join(__dirname, '..', 'fixtures');

/** Random weights (ones and zeros would hide a misplaced weight in the exported formula). */
function randomWeights<M extends Module>(layer: M, seed: number): M {
  const rng = new Generator(seed);
  for (const p of layer.parameters()) for (let i = 0; i < p.data.size; i++) p.data.data[i] = rng.uniform(-1.5, 1.5);
  return layer;
}

/** Conv2d(3 -> 4, 3x3, padding 1) then `layer`, in eval mode. */
function withConv(layer: Module): Sequential {
  const model = new Sequential(
    new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, generator: new Generator(1) }),
    layer,
  );
  model.eval();
  return model;
}

const LAYERS: [string, () => Module, 'same' | 'identity'][] = [
  // name, layer, what simdnet imports its export back as: the same layer, or nothing (an Identity node)
  ['ReLU6', () => new ReLU6(), 'same'],
  ['Hardtanh', () => new Hardtanh({ minVal: -0.25, maxVal: 0.5 }), 'same'],
  ['GELU', () => new GELU(), 'same'],
  ['GELU tanh', () => new GELU({ approximate: 'tanh' }), 'same'],
  ['SiLU', () => new SiLU(), 'same'],
  ['Hardswish', () => new Hardswish(), 'same'],
  ['Hardsigmoid', () => new Hardsigmoid(), 'same'],
  ['ELU', () => new ELU({ alpha: 0.6 }), 'same'],
  ['Identity', () => new Identity(), 'identity'],
  ['Dropout2d', () => new Dropout2d({ p: 0.4 }), 'identity'],
  ['LayerNorm [C, H, W]', () => randomWeights(new LayerNorm({ normalizedShape: [4, 6, 5], eps: 0.003 }), 2), 'same'],
  ['LayerNorm [W], no bias', () => randomWeights(new LayerNorm({ normalizedShape: 5, bias: false }), 3), 'same'],
  ['LayerNorm no affine', () => new LayerNorm({ normalizedShape: [6, 5], elementwiseAffine: false }), 'same'],
  ['GroupNorm', () => randomWeights(new GroupNorm({ numGroups: 2, numChannels: 4, eps: 0.01 }), 4), 'same'],
  ['GroupNorm no affine', () => new GroupNorm({ numGroups: 4, numChannels: 4, affine: false }), 'same'],
  ['GroupNorm one group', () => randomWeights(new GroupNorm({ numGroups: 1, numChannels: 4 }), 5), 'same'],
];

describe.each(LAYERS)('%s', (name, make, back) => {
  const model = withConv(make());
  const file = path.join(dir, `${name.replace(/[^A-Za-z0-9]/g, '_')}.onnx`);
  const inputs = [1, 5].map((n) => randomTensor([n, 3, 6, 5], 10 + n, 3));

  test('onnxruntime runs the export within 1e-5 of predict(), at batch 1 and 5', () => {
    exportOnnx(model, [1, 3, 6, 5], file);
    const run = runOrt(file, inputs);
    inputs.forEach((x, k) => {
      const expected = model.predict(x);
      expect(run.outputs[k].dims).toEqual(expected.shape);
      expect(maxDiff(run.outputs[k].data, expected.data)).toBeLessThan(1e-5);
    });
  });

  test('importOnnx reads it back as the same layer, with the same weights and numbers', () => {
    exportOnnx(model, [1, 3, 6, 5], file);
    const imported = importOnnx(file).model;
    expect(imported).toBeInstanceOf(Sequential);
    const expected = back === 'same' ? model : new Sequential(model.at(0));
    expect(imported.toString()).toBe(expected.toString());
    const [got, want] = [imported.stateDict(), model.stateDict()];
    expect(Object.keys(got)).toEqual(Object.keys(want));
    for (const k of Object.keys(want)) expect(got[k].data).toEqual(want[k].data);
    for (const x of inputs) expect(maxDiff(imported.predict(x).data, model.predict(x).data)).toBe(0);
  });
});

describe("torch.onnx.export's files (TorchScript exporter)", () => {
  const ref = readSafetensors(path.join(FIXTURES, 'layers_act.safetensors')).tensors;
  const x: Tensor = ref['import.input'];

  test('opset 20: Clip (ReLU6, Hardtanh), HardSwish, HardSigmoid, Elu, LayerNormalization, Gelu (both), Sigmoid * x as SiLU', () => {
    const r = importOnnx(path.join(FIXTURES, 'layers_act_gelu20.onnx'));
    const kinds = r.model.toString();
    for (const k of ['ReLU6()', 'Hardtanh(minVal=-0.5, maxVal=0.75)', 'Hardswish()', 'Hardsigmoid()', 'ELU(alpha=0.7)'])
      expect(kinds).toContain(k);
    expect(kinds).toContain("GELU(approximate='tanh')");
    // Sigmoid(x) * x comes back as SiLU, so the whole chain is a Sequential.
    expect(kinds).toContain('(layer11): SiLU()');
    expect(r.model).toBeInstanceOf(Sequential);
    expect(kinds).toContain('LayerNorm([4, 5, 5]');
    const y = r.model.predict(x);
    expect(y.shape).toEqual(ref['import.logits'].shape);
    expect(maxDiff(y.data, ref['import.logits'].data)).toBeLessThan(1e-4);
    // And onnxruntime agrees with both.
    expect(maxDiff(runOrt(path.join(FIXTURES, 'layers_act_gelu20.onnx'), [x]).outputs[0].data, y.data)).toBeLessThan(
      1e-4,
    );
  });

  test("opset 17: GELU's Erf and tanh formulas import as GELU layers, and the model gives PyTorch's logits", () => {
    const r = importOnnx(path.join(FIXTURES, 'layers_act.onnx'));
    const kinds = r.model.toString();
    expect(kinds).toContain("(layer9): GELU(approximate='none')");
    expect(kinds).toContain("(layer10): GELU(approximate='tanh')");
    expect(r.model).toBeInstanceOf(Sequential);
    const y = r.model.predict(x);
    expect(maxDiff(y.data, ref['import.logits'].data)).toBeLessThan(1e-4);
  });
});

describe("GELU's Erf formula (what exporters write below opset 20)", () => {
  /** Div(x, d) -> Erf -> Add(., one) -> Mul(x, .) -> Mul(., half), with Constant-free initializers. */
  const formula = (d: number, one: number, half: number, mulInput = 'x'): GraphSpec => ({
    nodes: [
      node('Div', ['x', 'd'], 'a', {}, '/act/Div'),
      node('Erf', ['a'], 'b', {}, '/act/Erf'),
      node('Add', ['b', 'one'], 'c', {}, '/act/Add'),
      node('Mul', [mulInput, 'c'], 'e', {}, '/act/Mul'),
      node('Mul', ['e', 'half'], 'y', {}, '/act/Mul_1'),
    ],
    inits: [floats('d', [], [d]), floats('one', [], [one]), floats('half', [], [half])],
  });

  test('becomes one GELU layer named after its scope, with GELU numbers', () => {
    const r = importOnnx(build(formula(Math.SQRT2, 1, 0.5)), { name: 'gelu.onnx' });
    expect(r.model.toString()).toBe("Sequential(\n  (act): GELU(approximate='none')\n)");
    const x = randomTensor([2, 2, 5, 5], 3, 4);
    expect(maxDiff(r.model.predict(x).data, new GELU().forward(x).data)).toBe(0);
  });

  test.each([
    ['another divisor', formula(2, 1, 0.5), /node '\/act\/Div' \(Div\): op Div is not supported/],
    ['another constant added', formula(Math.SQRT2, 2, 0.5), /node '\/act\/Div' \(Div\): op Div is not supported/],
    ['another factor', formula(Math.SQRT2, 1, 0.25), /node '\/act\/Div' \(Div\): op Div is not supported/],
  ] as const)('a formula that is not GELU is refused (%s)', (_what, spec, message) => {
    expect(() => importOnnx(build(spec), { name: 'gelu.onnx' })).toThrow(message);
  });

  test('an intermediate value read elsewhere too keeps the nodes apart (and refused)', () => {
    const spec = formula(Math.SQRT2, 1, 0.5);
    spec.nodes.push(node('Add', ['y', 'b'], 'z', {}, '/extra'));
    expect(() => importOnnx(build(spec), { name: 'gelu.onnx' })).toThrow(/op Div is not supported/);
  });
});

describe('SiLU as Sigmoid(x) * x', () => {
  test('becomes one SiLU layer; a Mul of the sigmoid by another value stays a graph (squeeze-and-excitation)', () => {
    const silu = importOnnx(
      build({ nodes: [node('Sigmoid', ['x'], 's', {}, '/act/Sigmoid'), node('Mul', ['s', 'x'], 'y', {}, '/act/Mul')] }),
      { name: 'silu.onnx' },
    );
    expect(silu.model.toString()).toBe('Sequential(\n  (act): SiLU()\n)');
    const x = randomTensor([2, 2, 5, 5], 4, 6);
    expect(maxDiff(silu.model.predict(x).data, new SiLU().forward(x).data)).toBe(0);
    const gate = importOnnx(
      build({
        nodes: [node('Relu', ['x'], 'r'), node('Sigmoid', ['x'], 's'), node('Mul', ['r', 's'], 'y')],
      }),
      { name: 'gate.onnx' },
    );
    expect(gate.model.toString()).toContain('Sigmoid()');
    expect(gate.model.toString()).not.toContain('SiLU');
  });
});
