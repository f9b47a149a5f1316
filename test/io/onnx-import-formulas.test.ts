// SPDX-License-Identifier: MIT
// Tests of lib/io/onnx-import-formulas.ts and the GroupNormalization / InstanceNormalization converters
// (lib/layers/norm.ts): torch.onnx.export's GroupNorm and InstanceNorm2d (test/fixtures/onnx_norms*.onnx from
// gen_onnx_more.py, torch 2.13: InstanceNormalization chains at its default opset and at 18, GroupNormalization at 21)
// and a hand-made opset-18 GroupNormalization (per-group scale and bias) import as GroupNorm layers with PyTorch's and
// onnxruntime's numbers; formulas that differ from what exporters write are refused, naming their first node.
// (simdnet's own formulas coming back as the same layers: test/io/onnx-layers-act.test.ts.)
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { encodeOnnx } from '../../lib/io/onnx-export';
import { importOnnx } from '../../lib/io/onnx-import';
import { readSafetensors } from '../../lib/io/safetensors';
import { GroupNorm } from '../../lib/modules/group-norm';
import { LayerNorm } from '../../lib/modules/layer-norm';
import { Sequential } from '../../lib/modules/sequential';
import { maxDiff } from '../helpers';
import { build, floats, node } from './onnx-build';
import { runOrt } from './ort';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const ref = readSafetensors(path.join(FIXTURES, 'onnx_more.safetensors')).tensors;

describe.each([
  ['onnx_norms.onnx', 'TorchScript exporter, opset 20: Reshape, InstanceNormalization, Reshape, Mul, Add', false],
  ['onnx_norms_dynamo18.onnx', 'dynamo exporter, opset 18: the same chain', true],
  ['onnx_norms_dynamo21.onnx', 'dynamo exporter, opset 21: GroupNormalization', true],
])('%s (%s)', (file, _what, plainHasOnes) => {
  const x = ref['norms.input'];
  const r = importOnnx(path.join(FIXTURES, file));

  test('GroupNorm and InstanceNorm2d come back as GroupNorm layers', () => {
    expect(r.model).toBeInstanceOf(Sequential);
    const norms = r.model
      .namedChildren()
      .map(([, m]) => m)
      .filter((m): m is GroupNorm => m instanceof GroupNorm);
    expect(norms.map((n) => [n.numGroups, n.numChannels, n.eps])).toEqual([
      [2, 4, 0.001],
      [3, 6, 1e-5],
      [1, 6, 1e-5],
      [6, 6, 1e-5], // InstanceNorm2d: one channel per group
    ]);
    // affine=False: the TorchScript exporter multiplies by a single 1 (no affine step); the dynamo exporter writes
    // per-channel ones and zeros, which stay weights.
    expect(norms[1].affine).toBe(plainHasOnes);
    expect(norms[0].affine && norms[2].affine && norms[3].affine).toBe(true);
  });

  test("predicts PyTorch's output within 1e-5, and onnxruntime's", () => {
    const y = r.model.predict(x);
    expect(y.shape).toEqual(ref['norms.logits'].shape);
    expect(maxDiff(y.data, ref['norms.logits'].data)).toBeLessThan(1e-5);
    expect(maxDiff(runOrt(path.join(FIXTURES, file), [x]).outputs[0].data, y.data)).toBeLessThan(1e-5);
  });
});

describe('GroupNormalization', () => {
  test('opset 18: the per-group scale and bias spread over each group, as PyTorch gives', () => {
    const file = path.join(FIXTURES, 'onnx_groupnorm18.onnx');
    const r = importOnnx(file);
    const gn = (r.model as Sequential).at(0) as GroupNorm;
    expect([gn.numGroups, gn.numChannels, gn.eps]).toEqual([2, 4, 1e-4]);
    const w = gn.weight!.data.data;
    expect([w[0], w[2]]).toEqual([w[1], w[3]]);
    const x = ref['groupnorm18.input'];
    const y = r.model.predict(x);
    expect(maxDiff(y.data, ref['groupnorm18.logits'].data)).toBeLessThan(1e-5);
    expect(maxDiff(runOrt(file, [x]).outputs[0].data, y.data)).toBeLessThan(1e-5);
  });

  const groupNorm = (opset: number, size: number, groups = 2) =>
    build({
      nodes: [node('GroupNormalization', ['x', 's', 'b'], 'y', { num_groups: groups }, '/gn/GroupNormalization')],
      inits: [floats('s', [size]), floats('b', [size])],
      input: ['batch', 4, 3, 3],
      opset,
    });

  test('opset 21: one scale per channel', () => {
    const gn = (importOnnx(groupNorm(21, 4), { name: 'gn.onnx' }).model as Sequential).at(0) as GroupNorm;
    // floats() fills 0.1 * (i % 7 - 3).
    expect(gn.weight!.data.data).toEqual(Float32Array.of(-0.3, -0.2, -0.1, 0));
  });

  test.each([
    [
      'opset 18 given one scale per channel',
      groupNorm(18, 4),
      /scale \(one per group, opset 18\) 's' has shape \[4\], expected \[2\]/,
    ],
    [
      'opset 21 given one scale per group',
      groupNorm(21, 2),
      /scale \(one per channel\) 's' has shape \[2\], expected \[4\]/,
    ],
    [
      'groups that do not divide the channels',
      groupNorm(21, 4, 3),
      /num_groups 3 must be >= 1 and divide the input's 4 channels/,
    ],
  ])('%s is an error naming the node', (_what, bytes, message) => {
    expect(() => importOnnx(bytes, { name: 'gn.onnx' })).toThrow(
      /node '\/gn\/GroupNormalization' \(GroupNormalization\)/,
    );
    expect(() => importOnnx(bytes, { name: 'gn.onnx' })).toThrow(message);
  });
});

describe('formulas that differ are not matched', () => {
  /** simdnet's export of `layer` after nothing, its ModelProto changed by `edit`. */
  function edited(layer: LayerNorm | GroupNorm, edit: (nodes: onnx.INodeProto[]) => void): Uint8Array {
    const model = new Sequential(layer);
    model.eval();
    const proto = onnx.ModelProto.decode(encodeOnnx(model, [1, 4, 3, 5]));
    edit(proto.graph!.node!);
    return onnx.ModelProto.encode(proto).finish();
  }
  const byName = (nodes: onnx.INodeProto[], suffix: string) => nodes.find((n) => n.name?.endsWith(suffix))!;

  test('a LayerNorm whose variance reduces over other axes', () => {
    const bytes = edited(new LayerNorm({ normalizedShape: [3, 5] }), (nodes) => {
      byName(nodes, '.var').attribute!.find((a) => a.name === 'axes')!.ints = [-1];
    });
    expect(() => importOnnx(bytes, { name: 'ln.onnx' })).toThrow(/node '0\.centred' \(Sub\): op Sub is not supported/);
  });

  test('a GroupNorm whose centred value is read outside the formula', () => {
    const bytes = edited(new GroupNorm({ numGroups: 2, numChannels: 4 }), (nodes) => {
      byName(nodes, '.std').input = [byName(nodes, '.centred').output![0]];
    });
    expect(() => importOnnx(bytes, { name: 'gn.onnx' })).toThrow(/node '0\.group' \(Reshape\)|node '0\.[a-z_]+' \(/);
  });

  test("torch's GroupNorm chain reshaped back to another shape", () => {
    const bytes = build({
      nodes: [
        node('Reshape', ['x', 'g'], 'r', {}, '/gn/Reshape'),
        node('InstanceNormalization', ['r', 's', 'b'], 'n', {}, '/gn/InstanceNormalization'),
        node('Reshape', ['n', 'back'], 'y', {}, '/gn/Reshape_1'),
      ],
      inits: [
        { name: 'g', dataType: onnx.TensorProto.DataType.INT64, dims: [3], int64Data: [0, 2, -1] },
        { name: 'back', dataType: onnx.TensorProto.DataType.INT64, dims: [4], int64Data: [0, 2, 4, 5] },
        floats('s', [2], [1, 1]),
        floats('b', [2], [0, 0]),
      ],
      input: ['batch', 4, 2, 5],
    });
    // Not a GroupNorm: the nodes are judged one by one (Reshape, then InstanceNormalization of [N, 2, 20] rows).
    const r = importOnnx(bytes, { name: 'gn.onnx' });
    expect(r.model.toString()).not.toContain('GroupNorm(2, 4');
    expect(r.outputShape).toEqual([2, 4, 5]);
  });
});
