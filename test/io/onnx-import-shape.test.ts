// SPDX-License-Identifier: MIT
// Tests of the ONNX importer's folding of shape computations (lib/io/onnx-import-shape.ts) and the layers that go with it
// (Reshape by a computed shape, Squeeze, ReduceMean) on small hand-built ModelProtos; what cannot be folded or has no
// layer is a FileFormatError naming the file and the node.
import { onnx } from 'onnx-proto';
import { importOnnx, type OnnxImport } from '../../lib/io/onnx-import';
import { Flatten } from '../../lib/modules/flatten';
import type { Module } from '../../lib/modules/module';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, randomTensor } from '../helpers';

const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

const ints = (name: string, values: number[], dims = [values.length]): onnx.ITensorProto => ({
  name,
  dataType: DataType.INT64,
  dims,
  int64Data: values,
});
const scalar = (name: string, v: number): onnx.ITensorProto => ints(name, [v], []);

function floats(name: string, dims: number[]): onnx.ITensorProto {
  const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => 0.1 * ((i % 7) - 3));
  return { name, dataType: DataType.FLOAT, dims, rawData: new Uint8Array(data.buffer) };
}

function node(
  opType: string,
  inputs: string[],
  output: string,
  attrs: Record<string, number | number[]> = {},
  name = output,
): onnx.INodeProto {
  const attribute = Object.entries(attrs).map(([key, v]): onnx.IAttributeProto =>
    Array.isArray(v) ? { name: key, type: AttributeType.INTS, ints: v } : { name: key, type: AttributeType.INT, i: v },
  );
  return { opType, name, input: inputs, output: [output], attribute };
}

interface Spec {
  nodes: onnx.INodeProto[];
  inits?: onnx.ITensorProto[];
  input?: (number | string)[];
  opset?: number;
  edit?: (m: onnx.IModelProto) => void;
}

/** Imports a model with input 'x' [batch, 2, 3, 4] by default and output 'y'. */
function load(spec: Spec): OnnxImport {
  const m: onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'g',
      node: spec.nodes,
      initializer: spec.inits ?? [],
      input: [
        {
          name: 'x',
          type: {
            tensorType: {
              elemType: DataType.FLOAT,
              shape: {
                dim: (spec.input ?? ['batch', 2, 3, 4]).map((d) =>
                  typeof d === 'string' ? { dimParam: d } : { dimValue: d },
                ),
              },
            },
          },
        },
      ],
      output: [{ name: 'y' }],
    },
  };
  spec.edit?.(m);
  return importOnnx(onnx.ModelProto.encode(m).finish(), { name: 'case.onnx' });
}

function expectFileError(fn: () => unknown, message: RegExp): void {
  let caught: Error | undefined;
  try {
    fn();
  } catch (err) {
    caught = err as Error;
  }
  expect(caught?.name).toBe('FileFormatError');
  expect(caught?.message).toMatch(/^case\.onnx: /);
  expect(caught?.message).toMatch(message);
}

const kinds = (m: Module) => m.namedChildren().map(([n, c]) => `${n}:${c.constructor.name}`);
const flat = (m: Module, i: number) => [
  (m as unknown as { at(i: number): Flatten }).at(i).startDim,
  (m as unknown as { at(i: number): Flatten }).at(i).endDim,
];

/** PyTorch's TorchScript form of x.view(x.size(0), -1) on 'r' (a Relu of x): Shape, Gather, Unsqueeze, Concat, Reshape. */
const viewSize0: onnx.INodeProto[] = [
  node('Relu', ['x'], 'r'),
  node('Shape', ['r'], 's'),
  node('Gather', ['s', 'zero'], 'n', { axis: 0 }),
  node('Unsqueeze', ['n', 'axes0'], 'n1'),
  node('Concat', ['n1', 'minus1'], 'target', { axis: 0 }),
  node('Reshape', ['r', 'target'], 'y'),
];
const viewInits = [scalar('zero', 0), ints('axes0', [0]), ints('minus1', [-1])];

describe('folded shape computations', () => {
  test('x.view(x.size(0), -1): the Reshape by a shape computed from the batch is a Flatten; any batch runs', () => {
    const r = load({ nodes: viewSize0, inits: viewInits });
    expect(kinds(r.model)).toEqual(['r:ReLU', 'y:Flatten']);
    expect(r.outputShape).toEqual([24]);
    const x = randomTensor([5, 2, 3, 4], 1);
    const y = r.model.predict(x);
    expect(y.shape).toEqual([5, 24]);
    expectAllClose(
      y.data,
      x.data.map((v) => Math.max(v, 0)),
      0,
    );
  });

  test('opset 11 (Unsqueeze axes as an attribute), a fixed input batch, and a Shape of the graph input itself', () => {
    const nodes = [
      node('Shape', ['x'], 's'),
      node('Gather', ['s', 'zero'], 'n', { axis: 0 }),
      node('Unsqueeze', ['n'], 'n1', { axes: [0] }),
      node('Concat', ['n1', 'minus1'], 'target', { axis: 0 }),
      node('Reshape', ['x', 'target'], 'y'),
    ];
    for (const input of [
      ['batch', 2, 3, 4],
      [1, 2, 3, 4],
    ]) {
      const r = load({ opset: 11, input, nodes, inits: [scalar('zero', 0), ints('minus1', [-1])] });
      expect(r.model.predict(randomTensor([3, 2, 3, 4], 2)).shape).toEqual([3, 24]);
    }
  });

  test('view(x.size(0), x.size(1), -1) and x.size(2) * x.size(3) by Slice, Gather, Mul, Cast, Unsqueeze and Identity; a Slice to INT64_MAX', () => {
    const r = load({
      nodes: [
        node('Shape', ['x'], 's'),
        node('Slice', ['s', 'starts', 'ends'], 'nc'), // [batch, 2]
        node('Gather', ['s', 'two'], 'h'),
        node('Gather', ['s', 'three'], 'w'),
        node('Mul', ['h', 'w'], 'hw'),
        node('Cast', ['hw'], 'hw64', { to: DataType.INT64 }),
        node('Unsqueeze', ['hw64', 'axes0'], 'hw1'),
        node('Identity', ['hw1'], 'hw2'),
        node('Concat', ['nc', 'hw2'], 'target', { axis: 0 }),
        node('Reshape', ['x', 'target'], 'y'),
      ],
      inits: [ints('starts', [0]), ints('ends', [2]), scalar('two', 2), scalar('three', 3), ints('axes0', [0])],
    });
    expect(kinds(r.model)).toEqual(['y:Flatten']);
    expect(flat(r.model, 0)).toEqual([2, -1]);
    expect(r.outputShape).toEqual([2, 12]);
    // The INT64_MAX end (a Slice to the end) saturates instead of failing.
    const toEnd = load({
      nodes: [
        node('Shape', ['x'], 's'),
        node('Slice', ['s', 'one', 'big'], 'rest'),
        node('Reshape', ['x', 'target'], 'y'),
      ],
      inits: [
        ints('one', [1]),
        {
          name: 'big',
          dataType: DataType.INT64,
          dims: [1],
          rawData: new Uint8Array([255, 255, 255, 255, 255, 255, 255, 127]),
        },
        ints('target', [0, -1]),
      ],
    });
    expect(toEnd.outputShape).toEqual([24]);
  });

  test('Squeeze of the chain after a global pool (axes as input and as attribute); ReduceMean over H and W, keepdims 1 and 0', () => {
    const gap = node('GlobalAveragePool', ['x'], 'g');
    const r = load({
      nodes: [gap, node('Squeeze', ['g', 'a3'], 's1'), node('Squeeze', ['s1', 'a2'], 'y')],
      inits: [ints('a3', [3]), ints('a2', [-1])],
    });
    expect(kinds(r.model)).toEqual(['g:AdaptiveAvgPool2d', 's1:Flatten', 'y:Flatten']);
    expect(r.outputShape).toEqual([2]);
    expect(load({ opset: 12, nodes: [gap, node('Squeeze', ['g'], 'y', { axes: [2, 3] })] }).outputShape).toEqual([2]);
    const means: [number, Spec, number[]][] = [
      [13, { nodes: [node('ReduceMean', ['x'], 'y', { axes: [2, 3], keepdims: 0 })] }, [2]],
      [13, { nodes: [node('ReduceMean', ['x'], 'y', { axes: [-1, -2] })] }, [2, 1, 1]],
      [18, { nodes: [node('ReduceMean', ['x', 'ax'], 'y', { keepdims: 0 })], inits: [ints('ax', [2, 3])] }, [2]],
    ];
    for (const [opset, spec, shape] of means) {
      const m = load({ ...spec, opset });
      expect(m.outputShape).toEqual(shape);
      const x = randomTensor([2, 2, 3, 4], 3);
      const y = m.model.predict(x);
      const mean0 = x.data.subarray(0, 12).reduce((a, b) => a + b, 0) / 12;
      expect(y.data[0]).toBeCloseTo(mean0, 6);
    }
    expect(kinds(load({ nodes: means[0][1].nodes }).model)).toEqual(['y:AdaptiveAvgPool2d', 'y_flatten:Flatten']);
  });

  test('weights folded from constants: Transpose, Reshape, Flatten, Div, Sub, Neg, Concat and ConstantOfShape before a MatMul + Add', () => {
    const r = load({
      input: ['n', 4],
      nodes: [
        node('Transpose', ['w'], 'wt', { perm: [1, 0] }),
        node('Reshape', ['wt', 'shape42'], 'w42'),
        node('Flatten', ['w42'], 'w2', { axis: 1 }),
        node('Neg', ['half'], 'mhalf'),
        node('Div', ['w2', 'two'], 'wd'),
        node('Sub', ['wd', 'mhalf'], 'wfinal'),
        node('ConstantOfShape', ['one'], 'b1'),
        node('Concat', ['b1', 'b1'], 'b', { axis: 0 }),
        node('MatMul', ['x', 'wfinal'], 'm'),
        node('Add', ['m', 'b'], 'y'),
      ],
      inits: [
        floats('w', [2, 4]),
        ints('shape42', [4, 2]),
        { name: 'two', dataType: DataType.FLOAT, dims: [], floatData: [2] },
        { name: 'half', dataType: DataType.FLOAT, dims: [1], floatData: [0.5] },
        ints('one', [1]),
      ],
    });
    const w = floats('w', [2, 4]);
    const wv = new Float32Array(w.rawData!.buffer);
    const x = randomTensor([3, 4], 4);
    const want = new Float32Array(6);
    for (let n = 0; n < 3; n++)
      for (let o = 0; o < 2; o++) {
        let s = 0;
        for (let i = 0; i < 4; i++) s += x.data[n * 4 + i] * (Math.fround(wv[o * 4 + i] / 2) + 0.5);
        want[n * 2 + o] = s;
      }
    expectAllClose(r.model.predict(x).data, want, 1e-6);
  });
});

describe('what is not folded or has no layer: FileFormatError naming the node', () => {
  test.each<[string, Spec, RegExp]>([
    [
      'arithmetic on the batch size',
      {
        nodes: [
          ...viewSize0.slice(0, 3),
          node('Mul', ['n', 'two'], 'n2'),
          node('Unsqueeze', ['n2', 'axes0'], 'n1'),
          node('Concat', ['n1', 'minus1'], 'target', { axis: 0 }),
          node('Reshape', ['r', 'target'], 'y'),
        ],
        inits: [...viewInits, scalar('two', 2)],
      },
      /node 'n2' \(Mul\): computes with the batch size, which simdnet knows only at run time/,
    ],
    [
      'the batch size second',
      {
        nodes: [
          ...viewSize0.slice(0, 4),
          node('Concat', ['minus1', 'n1'], 'target', { axis: 0 }),
          node('Reshape', ['r', 'target'], 'y'),
        ],
        inits: viewInits,
      },
      /node 'y' \(Reshape\): Reshape of \[batch, 2, 3, 4\] to \[-1, batch\] puts the batch size at position 1/,
    ],
    [
      'the batch size as a weight',
      {
        input: ['n', 4],
        nodes: [
          node('Shape', ['x'], 's'),
          node('Cast', ['s'], 'f', { to: DataType.FLOAT }),
          node('MatMul', ['x', 'f'], 'y'),
        ],
      },
      /node 'y' \(MatMul\): weight 'f' is computed from the batch size/,
    ],
    [
      'a Shape of a tensor not yet computed',
      { nodes: [node('Shape', ['later'], 's'), node('Relu', ['x'], 'later'), node('Reshape', ['later', 's'], 'y')] },
      /node 's' \(Shape\): computes on 'later': simdnet folds Shape only when it reads the shape of a tensor computed before it/,
    ],
    [
      'Unsqueeze of the chain',
      { nodes: [node('Unsqueeze', ['x', 'axes0'], 'y')], inits: viewInits },
      /node 'y' \(Unsqueeze\): inserting axis 0 would move the batch dimension/,
    ],
    [
      'Add of the chain and a shape',
      { nodes: [node('Shape', ['x'], 's'), node('Add', ['x', 's'], 'y')] },
      /node 'y' \(Add\): Add of a computed value and a constant is not supported/,
    ],
    [
      'a Gather of a tensor nothing computes',
      { nodes: [node('Gather', ['nowhere', 'zero'], 'g'), node('Reshape', ['x', 'g'], 'y')], inits: viewInits },
      /node 'g' \(Gather\): computes on 'nowhere': simdnet folds Gather only when it reads constants and tensor shapes, and has no layer for it/,
    ],
    [
      'Squeeze without axes',
      { nodes: [node('GlobalAveragePool', ['x'], 'g'), node('Squeeze', ['g'], 'y')] },
      /Squeeze\): without axes would also squeeze a batch of 1/,
    ],
    [
      'Squeeze of the batch',
      { input: [1, 2, 3, 4], nodes: [node('Squeeze', ['x', 'axes0'], 'y')], inits: viewInits },
      /squeezing axis 0 would drop the batch/,
    ],
    [
      'Squeeze of a dim that is not 1',
      { nodes: [node('Squeeze', ['x', 'a'], 'y')], inits: [ints('a', [2])] },
      /cannot squeeze axis 2 of the input \[batch, 2, 3, 4\]: its size is not 1/,
    ],
    [
      'ReduceMean over channels',
      { nodes: [node('ReduceMean', ['x'], 'y', { axes: [1] })] },
      /ReduceMean\): axes \[1\]: only the mean over H and W/,
    ],
    [
      'ReduceMean of everything',
      { nodes: [node('ReduceMean', ['x'], 'y')] },
      /axes \(all\): only the mean over H and W/,
    ],
    [
      'a huge ConstantOfShape',
      {
        input: ['n', 4],
        nodes: [node('ConstantOfShape', ['big'], 'w'), node('MatMul', ['x', 'w'], 'y')],
        inits: [ints('big', [1 << 20, 1 << 20])],
      },
      /node 'w' \(ConstantOfShape\): shape \[1048576, 1048576\] is negative or too large to fold/,
    ],
    [
      'a Gather out of range',
      { nodes: [node('Shape', ['x'], 's'), node('Gather', ['s', 'nine'], 'y')], inits: [scalar('nine', 9)] },
      /node 'y' \(Gather\): index 9 is out of range for size 4/,
    ],
    [
      'integer division by zero',
      {
        nodes: [node('Div', ['a', 'z'], 'q'), node('Reshape', ['x', 'q'], 'y')],
        inits: [ints('a', [1]), ints('z', [0])],
      },
      /node 'q' \(Div\): divides an integer by 0/,
    ],
    [
      'two nodes writing one name',
      { nodes: [node('Shape', ['x'], 's'), node('Shape', ['x'], 's', {}, 's2'), node('Reshape', ['x', 's'], 'y')] },
      /node 's2' \(Shape\): writes 's', which another node or initializer also defines/,
    ],
    [
      'a call of a model-local function',
      {
        nodes: [{ ...node('MyBlock', ['x'], 'y'), domain: 'pkg.custom' }],
        edit: (m) =>
          (m.functions = [
            { name: 'MyBlock', domain: 'pkg.custom', input: ['a'], output: ['b'], node: [node('Relu', ['a'], 'b')] },
          ]),
      },
      /node 'y' \(MyBlock\): calls the model's own function 'MyBlock' \(domain 'pkg.custom'\), which simdnet does not expand/,
    ],
  ])('%s', (_name, spec, message) => {
    expectFileError(() => load(spec), message);
  });

  test('a Shape that only reads the chain does not make it branch', () => {
    const r = load({ nodes: [node('Relu', ['x'], 'r'), node('Shape', ['r'], 'unused'), node('Sigmoid', ['r'], 'y')] });
    expect(kinds(r.model)).toEqual(['r:ReLU', 'y:Sigmoid']);
    const x = new Tensor(Float32Array.of(-1, 0, 1, 2, ...new Array(20).fill(0)), [1, 2, 3, 4]);
    expect(r.model.predict(x).data[3]).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
  });
});
