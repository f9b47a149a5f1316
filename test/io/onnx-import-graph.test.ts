// SPDX-License-Identifier: MIT
// The importer's graph ops on small hand-built models: Add, Sum, Mul, Concat, Pad, Slice, Clip, Unsqueeze and a
// Reshape that is no flatten become graph ops with the right numbers; branches become Graphs; every form simdnet does
// not support is a FileFormatError naming the node.
import { importOnnx } from '../../lib/io/onnx-import';
import { Graph } from '../../lib/modules/graph';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';
import { build, floats, int64s, node, type GraphSpec } from './onnx-build';

const load = (spec: GraphSpec) => importOnnx(build(spec), { name: 'case.onnx' });
const x4 = ['batch', 2, 5, 5];

/** Imports `spec` and returns predict's output for a random x [2, 2, 5, 5] with x. */
function run(spec: GraphSpec): { y: Tensor; x: Tensor; model: Graph } {
  const r = load(spec);
  expect(r.model).toBeInstanceOf(Graph);
  const x = randomTensor([2, 2, 5, 5], 1, 2);
  const y = r.model.predict(x);
  r.model.eval();
  expectAllClose(r.model.forward(x).data, y.data, 1e-6, 0, 'forward vs predict');
  return { y, x, model: r.model as Graph };
}

const at = (t: Tensor, ...i: number[]) => t.at(...i);

describe('graph ops import with the right numbers', () => {
  test('a branch: relu(x) + sigmoid(x), and Sum', () => {
    for (const op of ['Add', 'Sum']) {
      const { x, y, model } = run({
        nodes: [node('Relu', ['x'], 'a'), node('Sigmoid', ['x'], 'b'), node(op, ['a', 'b'], 'y')],
      });
      expect(model.nodes.map((n) => n.name)).toEqual(['relu', 'sigmoid', op.toLowerCase()]);
      expectAllClose(
        y.data,
        x.data.map((v) => Math.max(v, 0) + 1 / (1 + Math.exp(-v))),
        1e-6,
        0,
        op,
      );
    }
  });

  test('Mul broadcasting [N, C, 1, 1] after an Unsqueeze of a computed value', () => {
    const { x, y } = run({
      nodes: [
        node('GlobalAveragePool', ['x'], 'p'),
        node('Flatten', ['p'], 'f'),
        node('Unsqueeze', ['f', 'axes'], 'u'),
        node('Mul', ['x', 'u'], 'y'),
      ],
      inits: [int64s('axes', [2, 3])],
    });
    let mean = 0;
    for (let h = 0; h < 5; h++) for (let w = 0; w < 5; w++) mean += at(x, 1, 1, h, w) / 25;
    expect(at(y, 1, 1, 2, 3)).toBeCloseTo(at(x, 1, 1, 2, 3) * mean, 5);
  });

  test('Concat of computed values along channels (negative axis too)', () => {
    for (const axis of [1, -3]) {
      const { x, y } = run({ nodes: [node('Relu', ['x'], 'a'), node('Concat', ['x', 'a', 'x'], 'y', { axis })] });
      expect(y.shape).toEqual([2, 6, 5, 5]);
      expect(at(y, 1, 3, 4, 0)).toBe(Math.max(at(x, 1, 1, 4, 0), 0));
      expect(at(y, 1, 5, 4, 0)).toBe(at(x, 1, 1, 4, 0));
    }
  });

  test.each([
    [
      'opset 13 (pads as an input)',
      13,
      [node('Pad', ['x', 'p', 'v'], 'y')],
      [int64s('p', [0, 1, 0, 2, 0, 0, 0, 0]), floats('v', [], [0.5])],
    ],
    [
      'opset 18 (axes)',
      18,
      [node('Pad', ['x', 'p', 'v', 'ax'], 'y')],
      [int64s('p', [1, 2, 0, 0]), floats('v', [], [0.5]), int64s('ax', [1, 3])],
    ],
    [
      'opset 10 (attributes)',
      10,
      [node('Pad', ['x'], 'y', { pads: [0, 1, 0, 2, 0, 0, 0, 0], value: { float: 0.5 } })],
      [],
    ],
  ])('Pad %s', (_name, opset, nodes, inits) => {
    const { x, y } = run({ nodes, inits, opset });
    expect(y.shape).toEqual([2, 3, 5, 7]); // one channel before, two columns before
    expect(at(y, 0, 0, 0, 0)).toBe(0.5);
    expect(at(y, 1, 1, 4, 2)).toBe(at(x, 1, 0, 4, 0));
  });

  test('Slice: strided with INT64_MAX ends, negative starts, a whole-batch axis 0; opset 9 attributes', () => {
    const { x, y } = run({
      nodes: [node('Slice', ['x', 's', 'e', 'a', 'st'], 'y')],
      inits: [
        int64s('s', [0, 0, -4]),
        int64s('e', [2 ** 53, 2 ** 53, 2 ** 53]),
        int64s('a', [0, 2, 3]),
        int64s('st', [1, 2, 3]),
      ],
    });
    expect(y.shape).toEqual([2, 2, 3, 2]); // h 0, 2, 4; w 1, 4
    expect(at(y, 1, 1, 2, 1)).toBe(at(x, 1, 1, 4, 4));
    const old = run({ opset: 9, nodes: [node('Slice', ['x'], 'y', { starts: [1], ends: [3], axes: [1] })] });
    expect(old.y.shape).toEqual([2, 1, 5, 5]);
  });

  test('Clip: both bounds as inputs or (before opset 11) attributes give Hardtanh / ReLU6, one bound a clamp', () => {
    const check = (spec: GraphSpec, lo: number, hi: number) => {
      const both = Number.isFinite(lo) && Number.isFinite(hi) && lo < hi;
      const model = load(spec).model;
      // A Hardtanh or ReLU6 layer keeps the chain a Sequential; the clamp op makes a Graph.
      expect(model.constructor.name).toBe(both ? 'Sequential' : 'Graph');
      expect(model.toString()).toContain(!both ? 'clamp' : lo === 0 && hi === 6 ? 'ReLU6' : 'Hardtanh');
      const x = randomTensor([2, 2, 5, 5], 1, 8);
      const y = model.predict(x);
      expectAllClose(
        y.data,
        x.data.map((v) => Math.min(Math.max(v, lo), hi)),
        0,
        0,
        'clip',
      );
    };
    check(
      { nodes: [node('Clip', ['x', 'lo', 'hi'], 'y')], inits: [floats('lo', [], [0]), floats('hi', [], [1.5])] },
      0,
      1.5,
    );
    check({ nodes: [node('Clip', ['x', '', 'hi'], 'y')], inits: [floats('hi', [], [0.5])] }, -Infinity, 0.5);
    check({ opset: 7, nodes: [node('Clip', ['x'], 'y', { min: { float: -1 }, max: { float: 6 } })] }, -1, 6);
    check({ opset: 7, nodes: [node('Clip', ['x'], 'y', { min: { float: 0 }, max: { float: 6 } })] }, 0, 6);
    check({ opset: 7, nodes: [node('Clip', ['x'], 'y', { min: { float: 1 }, max: { float: 1 } })] }, 1, 1);
  });

  test('a Reshape that is not a flatten is a reshape op; a dead branch is dropped', () => {
    const { x, y, model } = run({
      nodes: [node('Relu', ['x'], 'unused'), node('Reshape', ['x', 's'], 'y')],
      inits: [int64s('s', [0, 5, 10])],
    });
    expect(model.nodes.map((n) => n.op?.type ?? n.module?.constructor.name)).toEqual(['reshape']);
    expect(y.shape).toEqual([2, 5, 10]);
    expect(Array.from(y.data)).toEqual(Array.from(x.data));
  });
});

describe('unsupported forms are FileFormatErrors naming the node', () => {
  test.each<[string, GraphSpec, RegExp]>([
    [
      'Concat of a constant',
      { nodes: [node('Concat', ['x', 'k'], 'y', { axis: 1 })], inits: [floats('k', [1, 1, 5, 5])] },
      /node 'concat' \(Concat\): joins constants and computed values \['x', 'k'\]/,
    ],
    [
      'Concat along the batch',
      { nodes: [node('Relu', ['x'], 'a'), node('Concat', ['x', 'a'], 'y', { axis: 0 })] },
      /node 'concat' \(Concat\): axis 0 would join along the batch/,
    ],
    [
      'Pad of the batch',
      { nodes: [node('Pad', ['x', 'p'], 'y')], inits: [int64s('p', [1, 0, 0, 0, 0, 0, 0, 0])] },
      /node 'pad' \(Pad\): pads the batch dimension/,
    ],
    [
      'reflect padding',
      { nodes: [node('Pad', ['x', 'p'], 'y', { mode: 'reflect' })], inits: [int64s('p', [0, 0, 1, 1, 0, 0, 1, 1])] },
      /node 'pad' \(Pad\): mode 'reflect' is not supported here: simdnet imports reflect, edge and wrap padding only as the padding mode of a Conv/,
    ],
    [
      'negative pads',
      { nodes: [node('Pad', ['x', 'p'], 'y')], inits: [int64s('p', [0, 0, -1, 0, 0, 0, 0, 0])] },
      /negative pads .* \(cropping\) are not supported/,
    ],
    [
      'a reversed slice',
      {
        nodes: [node('Slice', ['x', 's', 'e', 'a', 'st'], 'y')],
        inits: [int64s('s', [-1]), int64s('e', [-100]), int64s('a', [2]), int64s('st', [-1])],
      },
      /node 'slice' \(Slice\): steps \[-1\]: only positive steps are supported/,
    ],
    [
      'a slice of the batch',
      {
        nodes: [node('Slice', ['x', 's', 'e', 'a'], 'y')],
        inits: [int64s('s', [0]), int64s('e', [1]), int64s('a', [0])],
      },
      /slices the batch dimension/,
    ],
    [
      'a computed Clip bound',
      { nodes: [node('Relu', ['x'], 'a'), node('Clip', ['x', 'a'], 'y')] },
      /node 'clip' \(Clip\): min 'a' must be a constant/,
    ],
    [
      'Unsqueeze before the batch',
      { nodes: [node('Unsqueeze', ['x', 'ax'], 'y')], inits: [int64s('ax', [0])] },
      /inserting axis 0 would move the batch dimension/,
    ],
    [
      'Mul of three',
      { nodes: [node('Relu', ['x'], 'a'), node('Mul', ['x', 'a', 'a'], 'y')] },
      /node 'mul' \(Mul\): needs 2 inputs, got 3/,
    ],
    [
      'Add of shapes that do not broadcast',
      { nodes: [node('Flatten', ['x'], 'f'), node('Add', ['x', 'f'], 'y')] },
      /node 'add' \(Add\): does not fit its input \[batch, 2, 5, 5\], \[batch, 50\]: add: inputs .* have different ranks/,
    ],
    [
      'a value no node computes',
      { nodes: [node('Add', ['x', 'ghost'], 'y')] },
      /node 'add' \(Add\): 'ghost' must be a constant|reads 'ghost', which is not the graph input/,
    ],
  ])('%s', (_name, spec, message) => {
    expectErrorNamed(() => load({ input: x4, ...spec }), 'FileFormatError', message);
  });
});
