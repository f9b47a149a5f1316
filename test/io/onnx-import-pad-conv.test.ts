// SPDX-License-Identifier: MIT
// Tests of lib/io/onnx-import-pad-conv.ts: what torch.onnx.export writes for Conv2d padding_mode reflect, replicate and
// circular (test/fixtures/onnx_padconv*.onnx, onnx_circular*.onnx from gen_onnx_more.py, torch 2.13) imports as Conv2d
// layers with that padding mode and gives PyTorch's and onnxruntime's numbers; Pad nodes that are not a Conv's padding
// are errors naming the node.
import * as path from 'path';
import { encodeOnnx } from '../../lib/io/onnx-export';
import { importOnnx } from '../../lib/io/onnx-import';
import { readSafetensors } from '../../lib/io/safetensors';
import { Conv2d } from '../../lib/modules/conv2d';
import type { Module } from '../../lib/modules/module';
import { Sequential } from '../../lib/modules/sequential';
import { Generator } from '../../lib/random';
import { maxDiff, randomTensor } from '../helpers';
import { build, floats, int64s, node } from './onnx-build';
import { runOrt } from './ort';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const ref = readSafetensors(path.join(FIXTURES, 'onnx_more.safetensors')).tensors;

/** The Conv2d layers of an imported model, depth first in order. */
function convs(model: Module): Conv2d[] {
  return model.namedChildren().flatMap(([, m]) => (m instanceof Conv2d ? [m] : convs(m)));
}

describe.each([
  ['onnx_padconv.onnx', 'TorchScript exporter'],
  ['onnx_padconv_dynamo.onnx', 'dynamo exporter'],
])('%s (%s): Pad reflect / edge + Conv', (file) => {
  const x = ref['padconv.input'];

  test("imports as Conv2d layers with PyTorch's padding modes and pads, named after their weights", () => {
    const r = importOnnx(path.join(FIXTURES, file));
    expect(r.model).toBeInstanceOf(Sequential);
    const [a, b, c] = convs(r.model);
    expect([a.paddingMode, b.paddingMode, c.paddingMode]).toEqual(['reflect', 'replicate', 'reflect']);
    expect(a.pads).toEqual({ before: [1, 1], after: [1, 1] });
    expect(b.pads).toEqual({ before: [1, 2], after: [1, 2] });
    expect(b.stride).toEqual([2, 2]);
    // padding 'same' with a 4x4 kernel: one more after than before.
    expect(c.pads).toEqual({ before: [1, 1], after: [2, 2] });
    expect(c.bias).toBeNull();
    expect(Object.keys(r.model.stateDict())).toEqual(['a.weight', 'a.bias', 'b.weight', 'b.bias', 'c.weight']);
  });

  test("predicts PyTorch's output within 1e-5, and onnxruntime's", () => {
    const y = importOnnx(path.join(FIXTURES, file)).model.predict(x);
    expect(y.shape).toEqual(ref['padconv.logits'].shape);
    expect(maxDiff(y.data, ref['padconv.logits'].data)).toBeLessThan(1e-5);
    expect(maxDiff(runOrt(path.join(FIXTURES, file), [x]).outputs[0].data, y.data)).toBeLessThan(1e-5);
  });
});

describe('circular padding', () => {
  const x = ref['circular.input'];

  test("the dynamo exporter's Pad wrap + Conv is a Conv2d with paddingMode 'circular'", () => {
    const r = importOnnx(path.join(FIXTURES, 'onnx_circular_dynamo.onnx'));
    expect(r.model).toBeInstanceOf(Sequential);
    const [a, b] = convs(r.model);
    expect([a.paddingMode, b.paddingMode]).toEqual(['circular', 'reflect']);
    expect(a.pads).toEqual({ before: [1, 2], after: [1, 2] });
    expect(maxDiff(r.model.predict(x).data, ref['circular.logits'].data)).toBeLessThan(1e-5);
  });

  test("the TorchScript exporter's Slice + Concat wrap imports as graph ops with the same numbers", () => {
    const r = importOnnx(path.join(FIXTURES, 'onnx_circular.onnx'));
    const y = r.model.predict(x);
    expect(maxDiff(y.data, ref['circular.logits'].data)).toBeLessThan(1e-5);
    expect(maxDiff(runOrt(path.join(FIXTURES, 'onnx_circular.onnx'), [x]).outputs[0].data, y.data)).toBeLessThan(1e-5);
  });
});

describe("simdnet's own export of padding modes", () => {
  test.each([
    ['reflect', [1, 2] as [number, number]],
    ['replicate', 'same' as const],
  ] as const)('Conv2d paddingMode %s comes back as the same layer, weights and numbers', (paddingMode, padding) => {
    const model = new Sequential(
      new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 4, padding, paddingMode, generator: new Generator(4) }),
    );
    model.eval();
    const back = importOnnx(encodeOnnx(model, [1, 2, 6, 7]), { name: 'own.onnx' }).model;
    expect(back.toString()).toBe(model.toString());
    const [got, want] = [back.stateDict(), model.stateDict()];
    expect(Object.keys(got)).toEqual(Object.keys(want));
    for (const k of Object.keys(want)) expect(got[k].data).toEqual(want[k].data);
    const x = randomTensor([2, 2, 6, 7], 8);
    expect(maxDiff(back.predict(x).data, model.predict(x).data)).toBe(0);
  });
});

describe('Pad nodes that are not a Conv padding', () => {
  const weight = floats('w', [3, 2, 3, 3]);
  const pads = int64s('p', [0, 0, 1, 1, 0, 0, 1, 1]);
  const padConv = (mode: string, convAttrs = {}, p = pads) =>
    build({
      nodes: [
        node('Pad', ['x', 'p'], 'padded', { mode }, '/conv/Pad'),
        node('Conv', ['padded', 'w'], 'y', { kernel_shape: [3, 3], ...convAttrs }, '/conv/Conv'),
      ],
      inits: [weight, p],
      opset: 19,
    });

  test('each mode becomes its padding mode (edge: replicate), the same numbers as padding by hand', () => {
    const x = randomTensor([2, 2, 5, 5], 3);
    for (const [mode, paddingMode] of [
      ['reflect', 'reflect'],
      ['edge', 'replicate'],
      ['wrap', 'circular'],
    ] as const) {
      const model = importOnnx(padConv(mode), { name: 'pad.onnx' }).model;
      const conv = new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1, paddingMode, bias: false });
      conv.weight.data.data.set(convs(model)[0].weight.data.data);
      expect(model.toString()).toBe(`Sequential(\n  (conv): ${conv.toString()}\n)`);
      expect(maxDiff(model.predict(x).data, conv.forward(x).data)).toBe(0);
    }
  });

  test('constant padding before a Conv stays a pad op (zeros) and the Conv', () => {
    const model = importOnnx(padConv('constant'), { name: 'pad.onnx' }).model;
    expect(model.toString()).toContain('Pad');
    expect(convs(model)[0].paddingMode).toBe('zeros');
  });

  test.each([
    [
      'a lone reflect Pad',
      build({ nodes: [node('Pad', ['x', 'p'], 'y', { mode: 'reflect' }, '/pad/Pad')], inits: [pads], opset: 19 }),
      /node '\/pad\/Pad' \(Pad\): mode 'reflect' is not supported here: simdnet imports reflect, edge and wrap padding only as the padding mode of a Conv/,
    ],
    [
      'a Pad another node reads too',
      build({
        nodes: [
          node('Pad', ['x', 'p'], 'padded', { mode: 'edge' }, '/pad/Pad'),
          node('Conv', ['padded', 'w'], 'c', {}, '/conv/Conv'),
          node('Relu', ['padded'], 'r'),
        ],
        inits: [weight, pads],
        opset: 19,
      }),
      /node '\/pad\/Pad' \(Pad\): mode 'edge' is not supported here/,
    ],
    [
      'a Conv that pads again',
      padConv('reflect', { pads: [1, 1, 1, 1] }),
      /node '\/conv\/Conv' \(Conv\): pads \[1, 1, 1, 1\] after a Pad node: simdnet pads a convolution one way only/,
    ],
    [
      'channel padding',
      padConv('reflect', {}, int64s('p', [0, 1, 1, 1, 0, 0, 1, 1])),
      /node '\/conv\/Pad' \(Pad\): pads the channels before a Conv/,
    ],
    [
      "uneven pads that are not padding 'same'",
      padConv('reflect', {}, int64s('p', [0, 0, 2, 1, 0, 0, 0, 1])),
      /node '\/conv\/Conv' \(Conv\): asymmetric pads \[2, 1, 0, 1\]/,
    ],
  ])('%s is an error naming the node', (_what, bytes, message) => {
    expect(() => importOnnx(bytes, { name: 'pad.onnx' })).toThrow(message);
  });
});
