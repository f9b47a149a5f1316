// SPDX-License-Identifier: MIT
// Graphs from JSON model files ("nodes" naming their inputs), their normalised specs, saved models and summaries.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Graph } from '../../lib/modules/graph';
import { Sequential } from '../../lib/modules/sequential';
import { buildModelFromSpec, isSpecModel } from '../../lib/summary/model-spec';
import { summary } from '../../lib/summary/summary';
import { loadModel, modelShapes, saveModel } from '../../lib/train/saved-model';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';

/** A residual block and a squeeze-and-excitation branch, as a user writes them. */
const SPEC = {
  input: [1, 3, 8, 8],
  nodes: [
    { name: 'stem', type: 'conv2d', outChannels: 8, kernelSize: 3, padding: 1, bias: false },
    { name: 'bn', type: 'batchnorm2d' },
    { name: 'act', type: 'relu' },
    { name: 'conv1', type: 'conv2d', outChannels: 8, kernelSize: 3, padding: 1 },
    { name: 'pool', type: 'adaptiveavgpool2d', outputSize: 1 },
    { name: 'squeeze', type: 'flatten' },
    { name: 'fc', type: 'linear', outFeatures: 8 },
    { name: 'gate', type: 'sigmoid' },
    { name: 'gate4d', type: 'reshape', shape: [8, 1, 1] },
    { name: 'scaled', type: 'mul', inputs: ['conv1', 'gate4d'] },
    { name: 'sum', type: 'add', inputs: ['scaled', 'act'] },
    { type: 'relu' },
    {
      name: 'block',
      type: 'graph',
      nodes: [
        { name: 'a', type: 'conv2d', outChannels: 4, kernelSize: 1 },
        { name: 'b', type: 'conv2d', outChannels: 4, kernelSize: 3, padding: 1, inputs: 'input' },
        { name: 'cat', type: 'concat', inputs: ['a', 'b'] },
      ],
    },
    { name: 'head', type: 'sequential', layers: [{ type: 'flatten' }, { type: 'linear', outFeatures: 5 }] },
  ],
};

test('a graph spec builds a Graph with named nodes, nested blocks and PyTorch state-dict names', () => {
  const { model, output, spec } = buildModelFromSpec(SPEC);
  expect(model).toBeInstanceOf(Graph);
  expect(output).toEqual([1, 5]);
  expect(model.nodes.map((n) => n.name)).toEqual([
    'stem',
    'bn',
    'act',
    'conv1',
    'pool',
    'squeeze',
    'fc',
    'gate',
    'gate4d',
    'scaled',
    'sum',
    'relu11',
    'block',
    'head',
  ]);
  expect(Object.keys(model.stateDict()).filter((k) => k.startsWith('block') || k.startsWith('head'))).toEqual([
    'block.a.weight',
    'block.a.bias',
    'block.b.weight',
    'block.b.bias',
    'head.1.weight',
    'head.1.bias',
  ]);
  // The normalised spec writes out every inferred size and every node's inputs; it builds the same model again.
  expect(spec.nodes[3]).toEqual({
    type: 'conv2d',
    name: 'conv1',
    inputs: ['act'],
    inChannels: 8,
    outChannels: 8,
    kernelSize: 3,
    padding: 1,
  });
  expect(spec.nodes[9]).toEqual({ type: 'mul', name: 'scaled', inputs: ['conv1', 'gate4d'] });
  const again = buildModelFromSpec(spec);
  expect(JSON.stringify(again.spec)).toBe(JSON.stringify(spec));
  expect(Object.keys(again.model.stateDict())).toEqual(Object.keys(model.stateDict()));
  expect(isSpecModel(model)).toBe(true);
  // It trains: forward and backward with the promised shapes.
  const x = randomTensor([2, 3, 8, 8], 1);
  expect(model.forward(x).shape).toEqual([2, 5]);
  expect(model.backward(randomTensor([2, 5], 2)).shape).toEqual([2, 3, 8, 8]);
});

test('a graph inside a list of layers, and a list inside a graph', () => {
  const { model } = buildModelFromSpec({
    input: [1, 2, 4, 4],
    layers: [
      {
        type: 'graph',
        name: 'res',
        nodes: [
          { name: 'c', type: 'conv2d', outChannels: 2, kernelSize: 3, padding: 1 },
          { type: 'add', inputs: ['c', 'input'] },
        ],
      },
      { type: 'flatten', name: 'flat' },
    ],
  });
  expect(model).toBeInstanceOf(Sequential);
  expect(Object.keys(model.stateDict())).toEqual(['res.c.weight', 'res.c.bias']);
});

test('saveModel records "Graph" and the normalised spec; loadModel rebuilds it with identical predictions', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-graph-spec-'));
  try {
    const { model } = buildModelFromSpec(SPEC, undefined, { seed: 3 });
    const x = randomTensor([2, 3, 8, 8], 5);
    model.train();
    model.forward(x); // moves the BatchNorm statistics
    const file = path.join(dir, 'g.safetensors');
    saveModel(file, model);
    const back = loadModel(file);
    expect(back).toBeInstanceOf(Graph);
    expect(modelShapes(back)).toEqual({ input: [1, 3, 8, 8], output: [1, 5] });
    expectAllClose(back.predict(x).data, model.predict(x).data, 0, 0, 'predictions');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('summary lists every node with the values it reads; ops count no parameters or MACs', () => {
  const { model, input } = buildModelFromSpec(SPEC);
  const s = summary(model, input);
  const row = (name: string) => s.layers.find((l) => l.name === name)!;
  expect(row('scaled')).toMatchObject({
    type: 'mul',
    inputs: ['conv1', 'gate4d'],
    outputShape: [1, 8, 8, 8],
    params: 0,
    macs: 0,
  });
  expect(row('block.cat')).toMatchObject({ inputs: ['block.a', 'block.b'], outputShape: [1, 8, 8, 8] });
  expect(row('block.b')).toMatchObject({ inputs: ['block.input'], macs: 8 * 8 * 4 * 8 * 9 });
  expect(row('head.0').inputs).toEqual(['block']);
  expect(s.totalParams).toBe(model.numParameters());
  expect(s.outputShape).toEqual([1, 5]);
});

describe('bad graph specs name the node', () => {
  const one = (nodes: unknown) => () => buildModelFromSpec({ input: [1, 2, 4, 4], nodes });
  test.each<[string, () => unknown, 'TypeError' | 'RangeError', RegExp]>([
    [
      'layers and nodes',
      () => buildModelFromSpec({ input: [1, 2], layers: [], nodes: [] }),
      'RangeError',
      /give "layers" \(a Sequential\) or "nodes" \(a Graph\), not both/,
    ],
    ['no nodes', one([]), 'TypeError', /"nodes" must be a non-empty array of nodes/],
    [
      'an unknown input',
      one([{ type: 'relu', inputs: ['x'] }]),
      'RangeError',
      /^nodes\[0\] \(relu\): input 'x' is not "input" or an earlier node/,
    ],
    [
      'inputs not names',
      one([{ type: 'relu', inputs: [1] }]),
      'TypeError',
      /"inputs" must be a node name or a non-empty array of them/,
    ],
    [
      'a layer reading two values',
      one([{ type: 'relu', inputs: ['input', 'input'] }]),
      'RangeError',
      /a layer reads one value, got 2 inputs/,
    ],
    [
      'a duplicate name',
      one([
        { type: 'relu', name: 'r' },
        { type: 'relu', name: 'r' },
      ]),
      'RangeError',
      /nodes\[1\] 'r' \(relu\): duplicate node name 'r'/,
    ],
    ['the input name', one([{ type: 'relu', name: 'input' }]), 'RangeError', /'input' names the graph input/],
    [
      'an op option',
      one([{ type: 'add', inputs: ['input', 'input'], alpha: 2 }]),
      'RangeError',
      /unknown option 'alpha' \(it takes none\)/,
    ],
    [
      'an op that does not fit',
      one([{ type: 'concat', dim: 0, inputs: ['input'] }]),
      'RangeError',
      /nodes\[0\] \(concat\) with input \[1, 2, 4, 4\]: concat: dim 0 would join along the batch/,
    ],
    [
      'shapes that do not broadcast',
      one([
        { type: 'flatten', name: 'f' },
        { type: 'add', inputs: ['f', 'input'] },
      ]),
      'RangeError',
      /add: inputs \[1, 32\] and \[1, 2, 4, 4\] have different ranks/,
    ],
    [
      'a graph op in a list',
      () => buildModelFromSpec({ input: [1, 2], layers: [{ type: 'add' }] }),
      'RangeError',
      /unknown layer type .* \(add is a graph op: use it in a graph's "nodes"\)/,
    ],
    [
      'inputs in a list',
      () => buildModelFromSpec({ input: [1, 2], layers: [{ type: 'relu', inputs: ['x'] }] }),
      'RangeError',
      /"inputs" is for a graph's nodes/,
    ],
    [
      'a dead node',
      one([
        { type: 'relu', name: 'r' },
        { type: 'sigmoid', inputs: 'input' },
      ]),
      'RangeError',
      /model spec: "nodes": Graph: node 'r' does not lead to the output/,
    ],
    ['a graph with layers', one([{ type: 'graph', layers: [] }]), 'RangeError', /graph takes "nodes", not "layers"/],
  ])('%s', (_name, make, cls, message) => {
    expectErrorNamed(make, cls, message);
  });
});
