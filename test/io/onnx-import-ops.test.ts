// SPDX-License-Identifier: MIT
// Tests of the ONNX importer's op converters and graph checks (lib/io/onnx-import-ops.ts, onnx-import-proto.ts) on small
// hand-built ModelProtos: the forms other exporters write are read right, and everything unsupported is a FileFormatError
// naming the file and the node.
import { onnx } from 'onnx-proto';
import { importOnnx, type OnnxImport } from '../../lib/io/onnx-import';
import { Conv1d } from '../../lib/modules/conv1d';
import { Flatten } from '../../lib/modules/flatten';
import type { Module } from '../../lib/modules/module';
import { Sequential } from '../../lib/modules/sequential';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';
import { build, floats, int64s, node, valueInfo, type Attr, type GraphSpec } from './onnx-build';

const { DataType, DataLocation } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

/** Imports a chain: its model is a Sequential. */
const load = (spec: GraphSpec): OnnxImport & { model: Sequential } =>
  importOnnx(build(spec), { name: 'case.onnx' }) as OnnxImport & { model: Sequential };

/** Expects a FileFormatError whose message starts with the file name and matches `message`. */
function expectFileError(fn: () => unknown, message: RegExp): void {
  expect(expectErrorNamed(fn, 'FileFormatError', /^case\.onnx: /).message).toMatch(message);
}

const conv = (attrs: Record<string, Attr> = {}, w = [3, 2, 3, 3]): GraphSpec => ({
  nodes: [node('Conv', ['x', 'w', 'b'], 'y', attrs)],
  inits: [floats('w', w), floats('b', [w[0]])],
});

/** Runs a layer list by hand: the imported model must equal it on a random input. */
function expectSameAs(r: OnnxImport, reference: (x: Tensor) => Tensor, batch = 3): void {
  const x = randomTensor([batch, ...r.inputShape], 99);
  expectAllClose(r.model.predict(x).data, reference(x).data, 1e-6);
}

const kinds = (m: Module) => m.namedChildren().map(([n, c]) => `${n}:${c.constructor.name}`);

describe('supported forms', () => {
  test('Conv with symmetric pads, strides, dilations and auto_pad VALID; weights copied', () => {
    const r = load(conv({ pads: [1, 2, 1, 2], strides: [2, 1], dilations: [1, 2], kernel_shape: [3, 3] }));
    const c = r.model.at(0) as unknown as {
      padding: number[];
      stride: number[];
      dilation: number[];
      weight: { data: Tensor };
    };
    expect([c.padding, c.stride, c.dilation]).toEqual([
      [1, 2],
      [2, 1],
      [1, 2],
    ]);
    expect(Array.from(c.weight.data.data.subarray(0, 4))).toEqual([-0.3, -0.2, -0.1, 0].map(Math.fround));
    expect(r.outputShape).toEqual([3, 3, 5]);
    expect(load(conv({ auto_pad: 'VALID' })).outputShape).toEqual([3, 3, 3]);
  });

  test('Conv over [N, C, L] is a Conv1d: kernel_shape, strides, symmetric pads, dilations, group; weights and bias copied', () => {
    const r = load({
      ...conv({ kernel_shape: [3], strides: [2], pads: [2, 2], dilations: [2], group: 2 }, [4, 1, 3]),
      input: ['n', 2, 9],
    });
    expect(kinds(r.model)).toEqual(['conv:Conv1d']);
    const c = r.model.at(0) as Conv1d;
    expect([c.inChannels, c.outChannels, c.kernelSize, c.stride, c.padding, c.dilation, c.groups]).toEqual([
      2, 4, 3, 2, 2, 2, 2,
    ]);
    expect(r.outputShape).toEqual([4, 5]);
    const ref = new Conv1d({
      inChannels: 2,
      outChannels: 4,
      kernelSize: 3,
      stride: 2,
      padding: 2,
      dilation: 2,
      groups: 2,
    });
    ref.weight.data.data.set(c.weight.data.data);
    ref.bias!.data.data.set(c.bias!.data.data);
    expect(Array.from(c.weight.data.data.subarray(0, 4))).toEqual([-0.3, -0.2, -0.1, 0].map(Math.fround));
    expectSameAs(r, (x) => ref.eval().predict(x));
    // No bias, auto_pad VALID, default attributes.
    const plain = load({
      nodes: [node('Conv', ['x', 'w'], 'y', { auto_pad: 'VALID' })],
      inits: [floats('w', [3, 2, 2])],
      input: ['n', 2, 5],
    });
    expect((plain.model.at(0) as Conv1d).bias).toBeNull();
    expect(plain.outputShape).toEqual([3, 4]);
  });

  test('Gemm transB 0 with alpha and beta; a [1, out] bias; float_data instead of raw_data', () => {
    const w = Array.from({ length: 12 }, (_, i) => i / 10 - 0.5);
    const r = load({
      input: ['n', 4],
      nodes: [node('Gemm', ['x', 'w', 'c'], 'y', { alpha: { float: 2 }, beta: { float: 0.5 } })],
      inits: [{ name: 'w', dataType: DataType.FLOAT, dims: [4, 3], floatData: w }, floats('c', [1, 3], [1, 2, 3])],
    });
    expectSameAs(r, (x) => {
      const out = new Float32Array(x.shape[0] * 3);
      for (let n = 0; n < x.shape[0]; n++)
        for (let o = 0; o < 3; o++) {
          let s = 0;
          for (let i = 0; i < 4; i++) s += x.data[n * 4 + i] * w[i * 3 + o];
          out[n * 3 + o] = 2 * s + 0.5 * (o + 1);
        }
      return new Tensor(out, [x.shape[0], 3]);
    });
  });

  test('MatMul + Add (bias first or second; Constant nodes between) is one Linear; MatMul alone has no bias', () => {
    const inits = [floats('w', [4, 3]), floats('b', [3], [1, 2, 3])];
    const a = load({ input: ['n', 4], nodes: [node('MatMul', ['x', 'w'], 'm'), node('Add', ['b', 'm'], 'y')], inits });
    expect(kinds(a.model)).toEqual(['matmul:Linear']);
    const b = load({ input: ['n', 4], nodes: [node('MatMul', ['x', 'w'], 'm')], inits });
    expectSameAs(a, (x) => {
      const y = b.model.predict(x);
      return new Tensor(
        y.data.map((v, i) => v + [1, 2, 3][i % 3]),
        y.shape,
      );
    });
    const c = load({
      input: ['n', 4],
      nodes: [
        node('MatMul', ['x', 'w'], 'm'),
        node('Constant', [], 'k', { value: { tensor: floats('', [3], [1, 2, 3]) } }),
        node('Add', ['m', 'k'], 'y'),
      ],
      inits: [inits[0]],
    });
    expectSameAs(c, (x) => a.model.predict(x));
  });

  test('Reshape as a flatten: [0, -1], [-1, K], a fixed batch [1, -1] and Constant value_ints; a no-op Reshape adds nothing', () => {
    for (const shape of [
      [0, -1],
      [-1, 50],
      [0, 50],
    ]) {
      const r = load({ nodes: [node('Reshape', ['x', 's'], 'y')], inits: [int64s('s', shape)] });
      expect(kinds(r.model)).toEqual(['reshape:Flatten']);
      expect(r.outputShape).toEqual([50]);
    }
    const fixed = load({
      input: [1, 2, 5, 5],
      nodes: [node('Reshape', ['x', 's'], 'y')],
      inits: [int64s('s', [1, -1])],
    });
    expect(fixed.model.predict(randomTensor([4, 2, 5, 5], 1)).shape).toEqual([4, 50]);
    const merged = load({
      nodes: [node('Constant', [], 's', { value_ints: [0, 2, -1] }), node('Reshape', ['x', 's'], 'y')],
    });
    expect((merged.model.at(0) as Flatten).startDim).toBe(2);
    expect(merged.outputShape).toEqual([2, 25]);
    expect(load({ nodes: [node('Reshape', ['x', 's'], 'y')], inits: [int64s('s', [0, 2, 5, 5])] }).model.length).toBe(
      0,
    );
  });

  test('Softmax before opset 13 on the last axis, Identity, Dropout with a ratio input, GlobalAveragePool', () => {
    const r = load({
      opset: 12,
      input: ['n', 2, 3, 3],
      nodes: [
        node('GlobalAveragePool', ['x'], 'g'),
        node('Flatten', ['g'], 'f'),
        node('Identity', ['f'], 'i'),
        node('Dropout', ['i', 'ratio'], 'd'),
        node('Softmax', ['d'], 'y', { axis: 1 }),
      ],
      inits: [floats('ratio', [], [0.25])],
    });
    expect(kinds(r.model)).toEqual([
      'globalaveragepool:AdaptiveAvgPool2d',
      'flatten:Flatten',
      'dropout:Dropout',
      'softmax:Softmax',
    ]);
    expect((r.model.at(2) as unknown as { p: number }).p).toBe(0.25);
    const y = r.model.predict(randomTensor([2, 2, 3, 3], 3));
    expect(y.data[0] + y.data[1]).toBeCloseTo(1, 6);
  });

  test('initializers also listed as graph inputs (keep_initializers_as_inputs) and a nameless node', () => {
    const spec = conv();
    spec.nodes[0].name = '';
    spec.edit = (m) => m.graph.input!.push(valueInfo('w', [3, 2, 3, 3]), valueInfo('b', [3]));
    expect(kinds(load(spec).model)).toEqual(['0:Conv2d']);
  });
});

test('layer names: dotted names nest, a split block flattens, repeats get _1, integer names mixed with others get "layer"', () => {
  const chain = (...names: string[]): GraphSpec => ({
    input: ['n', 4],
    nodes: names.map((n, i) =>
      node(
        ['Relu', 'Sigmoid', 'Tanh'][i % 3],
        [i === 0 ? 'x' : `v${i}`],
        i === names.length - 1 ? 'y' : `v${i + 1}`,
        {},
        n,
      ),
    ),
  });
  const nested = load(chain('blk.0', 'blk.1', 'out')).model;
  expect(kinds(nested)).toEqual(['blk:Sequential', 'out:Tanh']);
  expect(kinds(nested.at(0))).toEqual(['0:ReLU', '1:Sigmoid']);
  expect(kinds(load(chain('a.b', 'c', 'a.d')).model)).toEqual(['a_b:ReLU', 'c:Sigmoid', 'a_d:Tanh']);
  expect(kinds(load(chain('r', 'r', 'r')).model)).toEqual(['r:ReLU', 'r_1:Sigmoid', 'r_2:Tanh']);
  expect(kinds(load(chain('0', 'x', 'layer0')).model)).toEqual(['layer0:ReLU', 'x:Sigmoid', 'layer0_1:Tanh']);
  expect(kinds(load(chain('/blocks/blocks.0/Relu', '/Sigmoid_3', 'we!rd name')).model)).toEqual([
    'blocks:Sequential',
    'Sigmoid_3:Sigmoid',
    'we_rd_name:Tanh',
  ]);
});

test('Constant nodes: value_floats, value_float and value_int', () => {
  const r = load({
    input: ['n', 4],
    nodes: [
      node('Constant', [], 'w', { value: { tensor: floats('', [4, 2]) } }),
      node('Constant', [], 'b', {}),
      node('MatMul', ['x', 'w'], 'm'),
      node('Add', ['m', 'b'], 'y'),
    ],
    edit: (m) =>
      (m.graph.node![1].attribute = [{ name: 'value_floats', type: AttributeType.FLOATS, floats: [0.5, -1] }]),
  });
  const lin = r.model.at(0) as unknown as { bias: { data: Tensor } };
  expect(Array.from(lin.bias.data.data)).toEqual([0.5, -1]);
  const scalar = load({
    input: ['n', 4],
    nodes: [node('Constant', [], 'k', {}), node('MatMul', ['x', 'w'], 'm'), node('Add', ['m', 'k'], 'y')],
    inits: [floats('w', [4, 2])],
    edit: (m) => (m.graph.node![0].attribute = [{ name: 'value_float', type: AttributeType.FLOAT, f: 2 }]),
  });
  expect(Array.from((scalar.model.at(0) as unknown as { bias: { data: Tensor } }).bias.data.data)).toEqual([2, 2]);
  // value_int is a scalar, not the 1-d shape Reshape needs.
  expectFileError(
    () => load({ nodes: [node('Constant', [], 's', { value_int: -1 }), node('Reshape', ['x', 's'], 'y')] }),
    /node 'reshape' \(Reshape\): needs a constant 1-d int64 shape/,
  );
});

describe('unsupported graphs: FileFormatError naming the file, the node and the problem', () => {
  const x4 = ['batch', 2, 5, 5];
  test.each<[string, GraphSpec, RegExp]>([
    [
      'an unknown op',
      { nodes: [node('Erf', ['x'], 'y')] },
      /node 'erf' \(Erf\): op Erf is not supported \(supported: .*Add.*Concat.*Conv.*MatMul.*Mul.*Pad.*Slice/,
    ],
    [
      'Mul by a constant',
      { nodes: [node('Mul', ['x', 'k'], 'y')], inits: [floats('k', [1])] },
      /node 'mul' \(Mul\): Mul of a computed value and a constant is not supported/,
    ],
    ['asymmetric pads', conv({ pads: [0, 0, 1, 1] }), /node 'conv' \(Conv\): asymmetric pads \[0, 0, 1, 1\]/],
    [
      'auto_pad SAME_UPPER',
      conv({ auto_pad: 'SAME_UPPER' }),
      /node 'conv' \(Conv\): auto_pad SAME_UPPER is not supported/,
    ],
    ['auto_pad VALID with pads', conv({ auto_pad: 'VALID', pads: [1, 1, 1, 1] }), /auto_pad VALID with non-zero pads/],
    ['3 strides', conv({ strides: [1, 1, 1] }), /strides \[1, 1, 1\] must have 2 values/],
    [
      'strides 0 (the layer rejects it)',
      conv({ strides: [0, 1] }),
      /node 'conv' \(Conv\): Conv2d: stride must be an integer >= 1, got 0/,
    ],
    ['an unknown attribute', conv({ foo: 1 }), /attribute 'foo' is not supported \(supported for Conv: kernel_shape/],
    ['an attribute of the wrong type', conv({ group: [1] }), /attribute 'group' must be INT, got INTS/],
    [
      "a kernel_shape that is not the weight's",
      conv({ kernel_shape: [2, 2] }),
      /kernel_shape \[2, 2\] does not match the weight's \[3, 3\]/,
    ],
    [
      'conv weight for other channels',
      conv({}, [3, 4, 3, 3]),
      /weight 'w' \[3, 4, 3, 3\] with group 1 expects 4 input channels, the input has 2/,
    ],
    [
      'a 3-d convolution',
      { ...conv({}, [3, 2, 3, 3, 3]), input: ['n', 2, 5, 5, 5] },
      /imports 1-d and 2-d convolutions \(input \[N, C, L\] or \[N, C, H, W\]\) only; the input here is \[batch, 2, 5, 5, 5\]/,
    ],
    [
      'a 2-d weight for a 1-d input',
      { ...conv(), input: ['n', 2, 5] },
      /weight 'w' must be 3-d \[out, in \/ group, k\] for the input \[batch, 2, 5\], got \[3, 2, 3, 3\]/,
    ],
    [
      'a 1-d weight for a 2-d input',
      conv({}, [3, 2, 3]),
      /weight 'w' must be 4-d \[out, in \/ group, kh, kw\] for the input \[batch, 2, 5, 5\], got \[3, 2, 3\]/,
    ],
    [
      '1-d asymmetric pads',
      { ...conv({ pads: [0, 1] }, [3, 2, 3]), input: ['n', 2, 5] },
      /asymmetric pads \[0, 1\]: simdnet pads both sides equally, or as PyTorch's padding 'same' \(stride 1, the extra pad after\)/,
    ],
    [
      '1-d pads with 4 values',
      { ...conv({ pads: [1, 1, 1, 1] }, [3, 2, 3]), input: ['n', 2, 5] },
      /pads \[1, 1, 1, 1\] must have 2 values \[begin, end\]/,
    ],
    [
      '2 strides for a 1-d convolution',
      { ...conv({ strides: [1, 1] }, [3, 2, 3]), input: ['n', 2, 5] },
      /strides \[1, 1\] must have 1 value, one per spatial axis of the input \[batch, 2, 5\]/,
    ],
    [
      "a 1-d kernel_shape that is not the weight's",
      { ...conv({ kernel_shape: [2] }, [3, 2, 3]), input: ['n', 2, 5] },
      /kernel_shape \[2\] does not match the weight's \[3\]/,
    ],
    [
      'a 1-d kernel longer than the input',
      { ...conv({}, [3, 2, 7]), input: ['n', 2, 5] },
      /Conv1d: input length 5 is shorter than the \(dilated\) kernel 7/,
    ],
    [
      'a 1-d MaxPool (no MaxPool1d)',
      { input: ['n', 2, 5], nodes: [node('MaxPool', ['x'], 'y', { kernel_shape: [2] })] },
      /node 'maxpool' \(MaxPool\): simdnet imports 2-d pooling \(input \[N, C, H, W\]\) only: it has no 1-d or 3-d pooling layer; the input here is \[batch, 2, 5\]/,
    ],
    [
      'a 1-d AveragePool',
      { input: ['n', 2, 5], nodes: [node('AveragePool', ['x'], 'y', { kernel_shape: [2] })] },
      /\(AveragePool\): simdnet imports 2-d pooling .* no 1-d/,
    ],
    [
      'a 1-d GlobalAveragePool',
      { input: ['n', 2, 5], nodes: [node('GlobalAveragePool', ['x'], 'y')] },
      /\(GlobalAveragePool\): simdnet imports 2-d pooling .* no 1-d/,
    ],
    [
      'a bias of the wrong size',
      { nodes: [node('Conv', ['x', 'w', 'b'], 'y')], inits: [floats('w', [3, 2, 3, 3]), floats('b', [4])] },
      /bias 'b' has shape \[4\], expected \[3\]/,
    ],
    [
      'a weight that is not a constant',
      { nodes: [node('Conv', ['x', 'r'], 'y')] },
      /node 'conv' \(Conv\): reads 'r', which is not the graph input, an initializer or an earlier node's output/,
    ],
    [
      'MaxPool with padding over half the kernel',
      { nodes: [node('MaxPool', ['x'], 'y', { kernel_shape: [2, 2], pads: [2, 2, 2, 2] })] },
      /node 'maxpool' \(MaxPool\): MaxPool2d: padding \[2, 2\] must be at most half/,
    ],
    ['MaxPool without kernel_shape', { nodes: [node('MaxPool', ['x'], 'y')] }, /MaxPool\): has no kernel_shape/],
    [
      'MaxPool storage_order 1',
      { nodes: [node('MaxPool', ['x'], 'y', { kernel_shape: [2, 2], storage_order: 1 })] },
      /storage_order 1/,
    ],
    [
      'AveragePool dilations',
      { nodes: [node('AveragePool', ['x'], 'y', { kernel_shape: [2, 2], dilations: [2, 2] })], opset: 19 },
      /dilations \[2, 2\] are not supported/,
    ],
    [
      'ceil_mode 2',
      { nodes: [node('AveragePool', ['x'], 'y', { kernel_shape: [2, 2], ceil_mode: 2 })] },
      /ceil_mode must be 0 or 1, got 2/,
    ],
    [
      'Gemm transA',
      { input: ['n', 4], nodes: [node('Gemm', ['x', 'w'], 'y', { transA: 1 })], inits: [floats('w', [4, 3])] },
      /node 'gemm' \(Gemm\): transA 1/,
    ],
    [
      'Gemm on a 4-d input',
      { nodes: [node('Gemm', ['x', 'w'], 'y', { transB: 1 })], inits: [floats('w', [3, 50])] },
      /needs a 2-d input \[N, features\]; the input here is \[batch, 2, 5, 5\]/,
    ],
    [
      'Gemm with too few features',
      { input: ['n', 4], nodes: [node('Gemm', ['x', 'w'], 'y', { transB: 1 })], inits: [floats('w', [3, 5])] },
      /weight 'w' \[3, 5\] takes 5 features, the input has 4/,
    ],
    [
      'a batch-shaped Gemm bias',
      {
        input: ['n', 4],
        nodes: [node('Gemm', ['x', 'w', 'c'], 'y')],
        inits: [floats('w', [4, 3]), floats('c', [2, 3])],
      },
      /bias 'c' of shape \[2, 3\] does not broadcast/,
    ],
    [
      'Add of a constant without MatMul',
      { nodes: [node('Add', ['x', 'k'], 'y')], inits: [floats('k', [1])] },
      /Add of a computed value and a constant is not supported \(only a Linear's bias after MatMul\)/,
    ],
    [
      'Reshape changing the batch',
      { nodes: [node('Reshape', ['x', 's'], 'y')], inits: [int64s('s', [2, -1])] },
      /Reshape of \[batch, 2, 5, 5\] to \[2, -1\] changes the batch dimension/,
    ],
    [
      'Reshape to another size',
      { nodes: [node('Reshape', ['x', 's'], 'y')], inits: [int64s('s', [0, 7])] },
      /does not keep the sample size/,
    ],
    [
      'Flatten axis 0',
      { nodes: [node('Flatten', ['x'], 'y', { axis: 0 })] },
      /axis 0 on the input \[batch, 2, 5, 5\] would merge the batch dimension/,
    ],
    ['Flatten axis 2', { nodes: [node('Flatten', ['x'], 'y', { axis: 2 })] }, /axis 2 .* would merge the batch/],
    [
      'Softmax over the batch',
      { input: ['n', 4], nodes: [node('Softmax', ['x'], 'y', { axis: 0 })] },
      /axis 0 would normalise across the batch/,
    ],
    [
      'an opset-11 Softmax over several dims',
      { opset: 11, nodes: [node('Softmax', ['x'], 'y', { axis: 1 })] },
      /axis 1 at opset 11 normalises over all dims from 1 on/,
    ],
    [
      'BatchNormalization in training mode',
      {
        opset: 15,
        nodes: [node('BatchNormalization', ['x', 's', 'b', 'm', 'v'], 'y', { training_mode: 1 })],
        inits: ['s', 'b', 'm', 'v'].map((n) => floats(n, [2])),
      },
      /training_mode 1/,
    ],
    [
      'BatchNormalization statistics of the wrong size',
      {
        nodes: [node('BatchNormalization', ['x', 's', 'b', 'm', 'v'], 'y')],
        inits: ['s', 'b', 'm'].map((n) => floats(n, [2])).concat(floats('v', [3])),
      },
      /var 'v' has shape \[3\], expected \[2\]/,
    ],
    [
      'Dropout in training mode',
      {
        nodes: [node('Dropout', ['x', '', 't'], 'y')],
        inits: [{ name: 't', dataType: DataType.BOOL, dims: [], int32Data: [1] }],
      },
      /training_mode true/,
    ],
    [
      'a used second output',
      {
        nodes: [
          { ...node('MaxPool', ['x'], 'y', { kernel_shape: [1, 1] }), output: ['p', 'idx'] },
          node('Relu', ['p'], 'y'),
        ],
        output: 'idx',
      },
      /second output 'idx' is used/,
    ],
    [
      'a custom domain',
      { nodes: [{ ...node('Relu', ['x'], 'y'), domain: 'com.microsoft' }] },
      /node 'relu' \(Relu\): is in domain 'com.microsoft'/,
    ],
  ])('%s', (_name, spec, message) => {
    expectFileError(() => load(spec), message);
  });

  test.each<[string, GraphSpec, RegExp]>([
    [
      'a layer reading two computed values',
      { nodes: [node('Relu', ['x'], 'a'), node('Conv', ['x', 'a'], 'y')] },
      /node 'conv' \(Conv\): weight 'a' must be a constant/,
    ],
    [
      'two inputs',
      { ...conv(), edit: (m) => m.graph.input!.push(valueInfo('z', x4)) },
      /the graph has 2 inputs \['x', 'z'\]; simdnet imports models with one input/,
    ],
    ['two outputs', { ...conv(), edit: (m) => m.graph.output!.push({ name: 'x' }) }, /the graph has 2 outputs/],
    ['no input', { ...conv(), edit: (m) => (m.graph.input = []) }, /the graph has 0 inputs \[\]/],
    ['an output no node writes', { ...conv(), output: 'q' }, /no node computes the graph output 'q' from the input/],
    [
      'a declared output shape the layers do not give',
      { ...conv(), edit: (m) => (m.graph.output = [valueInfo('y', ['batch', 7, 3, 3])]) },
      /declared \[batch, 7, 3, 3\], but the layers give \[batch, 3, 3, 3\]/,
    ],
    [
      'a double input',
      { ...conv(), edit: (m) => (m.graph.input = [valueInfo('x', x4, DataType.DOUBLE)]) },
      /input 'x' is DOUBLE; simdnet runs float32 models only/,
    ],
    [
      'a symbolic image size',
      { ...conv(), input: ['batch', 2, 'h', 5] },
      /must have a batch axis and fixed sizes >= 1 after it.*got \[\?, 2, \?, 5\]/,
    ],
    [
      'an input without a shape',
      { ...conv(), edit: (m) => (m.graph.input = [{ name: 'x', type: { tensorType: { elemType: DataType.FLOAT } } }]) },
      /got no shape/,
    ],
    [
      'a double weight',
      {
        nodes: [node('Conv', ['x', 'w'], 'y')],
        inits: [{ name: 'w', dataType: DataType.DOUBLE, dims: [3, 2, 3, 3], doubleData: new Array(54).fill(0) }],
      },
      /node 'conv' \(Conv\): tensor 'w' is DOUBLE; simdnet reads float32 weights/,
    ],
    [
      'external data in bytes',
      {
        nodes: [node('Conv', ['x', 'w'], 'y')],
        inits: [
          {
            name: 'w',
            dataType: DataType.FLOAT,
            dims: [3, 2, 3, 3],
            dataLocation: DataLocation.EXTERNAL,
            externalData: [{ key: 'location', value: 'w.bin' }],
          },
        ],
      },
      /tensor 'w' keeps its data in an external file \('w.bin'\), which bytes cannot reach: import the model by its path, or give options.externalDataDir/,
    ],
    [
      'raw data of the wrong length',
      { nodes: [node('Conv', ['x', 'w'], 'y')], inits: [{ ...floats('w', [3, 2, 3, 3]), dims: [3, 2, 3, 4] }] },
      /tensor 'w' of shape \[3, 2, 3, 4\] needs 72 values, but holds 54 float32 values/,
    ],
    [
      'raw data cut mid-value',
      {
        nodes: [node('Conv', ['x', 'w'], 'y')],
        inits: [{ ...floats('w', [3, 2, 3, 3]), rawData: new Uint8Array(10) }],
      },
      /10 bytes of float32 data, not a multiple of 4/,
    ],
    [
      'a huge promised tensor',
      {
        nodes: [node('Conv', ['x', 'w'], 'y')],
        inits: [{ name: 'w', dataType: DataType.FLOAT, dims: [1 << 20, 1 << 20] }],
      },
      /tensor 'w' of shape \[1048576, 1048576\] is too large/,
    ],
    [
      'two initializers of one name',
      { ...conv(), edit: (m) => m.graph.initializer!.push(floats('w', [1])) },
      /two initializers are named 'w'/,
    ],
    ['opset 5', { ...conv(), opset: 5 }, /opset 5 is not supported \(simdnet imports ai.onnx opsets 7 to 24\)/],
    [
      'no ai.onnx opset',
      { ...conv(), edit: (m) => (m.opsetImport = [{ domain: 'ai.onnx.ml', version: 3 }]) },
      /needs one ai.onnx opset import, got 0/,
    ],
    ['IR version 2', { ...conv(), edit: (m) => (m.irVersion = 2) }, /IR version 2 is too old/],
    ['no graph', { ...conv(), edit: (m) => delete (m as { graph?: unknown }).graph }, /no graph: not an ONNX model/],
    [
      'a class count the model does not give',
      { ...conv(), edit: (m) => (m.metadataProps = [{ key: 'simdnet.num_classes', value: '10' }]) },
      /metadata "simdnet.num_classes" is "10", but the model gives 27 values per sample/,
    ],
  ])('%s', (_name, spec, message) => {
    expectFileError(() => load(spec), message);
  });
});
