// SPDX-License-Identifier: MIT
// Graph and GraphBuilder: a residual block computes what its layers compose to, its gradients pass finite differences
// (fan-out summed), state-dict names follow module paths, modes propagate, and every misuse is a clear error.
import { gradcheck } from '../../lib/gradcheck';
import { BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv2d } from '../../lib/modules/conv2d';
import { Dropout } from '../../lib/modules/dropout';
import { Graph } from '../../lib/modules/graph';
import { GraphBuilder } from '../../lib/modules/graph-builder';
import { ModuleDict } from '../../lib/modules/graph-container';
import { Add, Mul } from '../../lib/modules/graph-ops';
import { Linear } from '../../lib/modules/linear';
import { Module } from '../../lib/modules/module';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { Tanh } from '../../lib/modules/tanh';
import { native } from '../../lib/native';
import { Generator, manualSeed } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';

const conv = (cin: number, cout: number, seed: number, stride = 1) =>
  new Conv2d({ inChannels: cin, outChannels: cout, kernelSize: 3, stride, padding: 1, generator: new Generator(seed) });

/** relu(bn2(conv2(relu(bn1(conv1(x))))) + x), the basic block, with its layers for a by-hand forward. */
function basicBlock(c: number) {
  const layers = {
    conv1: conv(c, c, 1),
    bn1: new BatchNorm2d({ numFeatures: c }),
    conv2: conv(c, c, 2),
    bn2: new BatchNorm2d({ numFeatures: c }),
  };
  const g = new GraphBuilder();
  const x = g.input();
  const conv1 = g.layer('conv1', layers.conv1);
  const bn1 = g.layer('bn1', layers.bn1);
  const conv2 = g.layer('conv2', layers.conv2);
  const bn2 = g.layer('bn2', layers.bn2);
  return { graph: g.build(g.relu(g.add(bn2(conv2(g.relu(bn1(conv1(x))))), x))), layers };
}

function expectGradOk(module: Module, input: Tensor): void {
  const r = gradcheck(module, input, { maxPerTensor: 30 });
  if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
  expect(r.checked).toBeGreaterThan(30);
}

describe('a residual block', () => {
  test('forward equals its layers composed by hand, in training and eval mode', () => {
    const { graph, layers } = basicBlock(3);
    const x = randomTensor([2, 3, 5, 5], 3);
    const byHand = (): Float32Array => {
      const relu = new ReLU();
      const y = layers.bn2.forward(layers.conv2.forward(relu.forward(layers.bn1.forward(layers.conv1.forward(x)))));
      return y.data.map((v, i) => Math.max(0, v + x.data[i]));
    };
    expectAllClose(graph.forward(x).data, byHand(), 0, 0, 'training-mode forward');
    graph.eval();
    expect(layers.bn1.training).toBe(false);
    expectAllClose(graph.forward(x).data, byHand(), 0, 0, 'eval-mode forward');
  });

  test('gradients equal those of its layers run backward by hand, the input gradient summed over conv1 and the add', () => {
    const { graph, layers } = basicBlock(2);
    const x = randomTensor([2, 2, 4, 4], 4);
    const dout = randomTensor([2, 2, 4, 4], 8);
    graph.zeroGrad();
    graph.forward(x);
    const dx = graph.backward(dout).data.slice();
    const mine = graph.parameters().map((p) => p.grad.data.slice());
    // By hand: y = relu(s), s = bn2(...) + x.
    graph.zeroGrad();
    const relu1 = new ReLU();
    const h = layers.bn2.forward(layers.conv2.forward(relu1.forward(layers.bn1.forward(layers.conv1.forward(x)))));
    const ds = Tensor.fromArray(
      dout.data.map((g, i) => (h.data[i] + x.data[i] > 0 ? g : 0)),
      dout.shape,
    );
    const dBranch = layers.conv1.backward(
      layers.bn1.backward(relu1.backward(layers.conv2.backward(layers.bn2.backward(ds)))),
    );
    expectAllClose(
      dx,
      dBranch.data.map((v, i) => v + ds.data[i]),
      1e-6,
      0,
      'dinput',
    );
    graph.parameters().forEach((p, k) => expectAllClose(mine[k], p.grad.data, 0, 0, `parameter ${k}`));
  });

  test('conv1 adds into the shortcut gradient only when the graph owns it: the same dinput either way', () => {
    const { graph } = basicBlock(2);
    const x = randomTensor([2, 2, 4, 4], 4);
    const dout = randomTensor([2, 2, 4, 4], 8);
    const kept = dout.data.slice();
    graph.forward(x);
    const dx = graph.backward(dout).data.slice();
    expect(Array.from(dout.data)).toEqual(Array.from(kept)); // the caller's gradient is not written into
    // A container's scratch gradient: masked in place, conv1's gradient added into it, and that buffer returned.
    graph.forward(x);
    const owned = dout.clone();
    const dxOwned = graph.backwardWith(owned, { reuse: true, inputGrad: true, overwriteGrad: true }) as Tensor;
    expect(dxOwned.data).toBe(owned.data);
    expectAllClose(dxOwned.data, dx, 0, 0, 'dinput');
  });

  test("an op's gradient scratch is the graph's: a conv reading the same value adds into it, the same bits either order", () => {
    // x -> conv (stride 2) and x -> slice, added: the option-A shortcut's shape. With the slice's node after the conv,
    // the slice's backward runs first and conv adds into its scratch; with it first, the graph adds the two.
    const build = (sliceFirst: boolean) => {
      manualSeed(9); // the same weights in both
      const g = new GraphBuilder();
      const x = g.input();
      const conv = g.layer('conv', new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 3, stride: 2, padding: 1 }));
      const s = sliceFirst ? g.slice(x, { axes: [2, 3], steps: [2, 2] }) : null;
      const y = conv(x);
      return new Graph(g.specs(g.add(y, s ?? g.slice(x, { axes: [2, 3], steps: [2, 2] }))));
    };
    const x = randomTensor([2, 2, 6, 6], 5);
    const dout = randomTensor([2, 2, 3, 3], 6);
    const spy = jest.spyOn(native, 'add');
    try {
      const run = (sliceFirst: boolean) => {
        const graph = build(sliceFirst);
        graph.forward(x);
        spy.mockClear();
        const dx = graph.backward(dout).data.slice();
        return { dx, adds: spy.mock.calls.length, dw: graph.parameters().map((p) => p.grad.data.slice()) };
      };
      const [after, first] = [run(false), run(true)];
      expect([after.adds, first.adds]).toEqual([0, 1]);
      expectAllClose(after.dx, first.dx, 0, 0, 'dinput');
      after.dw.forEach((d, k) => expectAllClose(d, first.dw[k], 0, 0, `parameter ${k}`));
    } finally {
      spy.mockRestore();
    }
  });

  test('with smooth activations, input and parameter gradients pass gradcheck', () => {
    const g = new GraphBuilder();
    const x = g.input();
    const conv1 = g.layer('conv1', conv(2, 2, 1));
    const bn1 = g.layer('bn1', new BatchNorm2d({ numFeatures: 2 }));
    const conv2 = g.layer('conv2', conv(2, 2, 2));
    const bn2 = g.layer('bn2', new BatchNorm2d({ numFeatures: 2 }));
    const tanh = () => new Tanh();
    expectGradOk(
      g.build(g.apply(tanh(), g.add(bn2(conv2(g.apply(tanh(), bn1(conv1(x))))), x))),
      randomTensor([2, 2, 4, 4], 4),
    );
  });

  test('a value read by three nodes gets the sum of their gradients', () => {
    // y = x * x + relu(x): dx = 2x + (x > 0).
    const g = new GraphBuilder();
    const x = g.input();
    const graph = g.build(g.add(g.mul(x, x), g.relu(x)));
    const input = randomTensor([3, 4], 5);
    graph.forward(input);
    const dout = Tensor.fromArray(new Array(12).fill(1), [3, 4]);
    const dx = graph.backward(dout);
    expectAllClose(
      dx.data,
      input.data.map((v) => 2 * v + (v > 0 ? 1 : 0)),
      1e-6,
      0,
      'dx',
    );
    expect(Array.from(dout.data)).toEqual(new Array(12).fill(1)); // the caller's gradient is not written into
  });

  test('backward with inputGrad false returns null, and repeated steps give the same gradients', () => {
    const { graph } = basicBlock(2);
    const x = randomTensor([2, 2, 4, 4], 6);
    const dout = randomTensor([2, 2, 4, 4], 7);
    const grads = (): number[] => {
      graph.zeroGrad();
      graph.forward(x);
      expect(graph.backward(dout, { inputGrad: false })).toBeNull();
      return graph.parameters().flatMap((p) => Array.from(p.grad.data));
    };
    expect(grads()).toEqual(grads());
  });

  test('state dict names follow the module paths, like PyTorch', () => {
    const { graph } = basicBlock(2);
    const net = new Sequential({ stem: conv(3, 2, 3), blocks: new Sequential(graph) });
    expect(Object.keys(net.stateDict())).toEqual([
      'stem.weight',
      'stem.bias',
      'blocks.0.conv1.weight',
      'blocks.0.conv1.bias',
      'blocks.0.bn1.weight',
      'blocks.0.bn1.bias',
      'blocks.0.conv2.weight',
      'blocks.0.conv2.bias',
      'blocks.0.bn2.weight',
      'blocks.0.bn2.bias',
      'blocks.0.bn1.running_mean',
      'blocks.0.bn1.running_var',
      'blocks.0.bn1.num_batches_tracked',
      'blocks.0.bn2.running_mean',
      'blocks.0.bn2.running_var',
      'blocks.0.bn2.num_batches_tracked',
    ]);
  });

  test('toString lists each node and what it reads when that is not the node before', () => {
    const text = basicBlock(2).graph.toString();
    expect(text).toMatch(/^Graph\(\n {2}\(conv1\): Conv2d\(2, 2, kernelSize=\[3, 3\], padding=\[1, 1\]\)\n/);
    expect(text).toMatch(/\(add\): add\(\) <- bn2, input\n {2}\(relu_1\): ReLU\(\)\n\)$/);
  });
});

describe('layers at dotted paths', () => {
  test('nodes named "layers.0.conv" sit in ModuleDict containers; the state dict and train/eval see them', () => {
    const graph = new Graph([
      { name: 'layers.0.conv', module: conv(2, 2, 1), inputs: ['input'] },
      { name: 'layers.0.drop', module: new Dropout({ p: 0.5 }), inputs: ['layers.0.conv'] },
      { name: 'layers.1', module: conv(2, 2, 2), inputs: ['layers.0.drop'] },
      { name: 'add', op: new Add(), inputs: ['layers.1', 'input'] },
    ]);
    expect(graph.namedChildren().map(([n, m]) => [n, m.constructor.name])).toEqual([['layers', 'ModuleDict']]);
    expect(Object.keys(graph.stateDict())).toEqual([
      'layers.0.conv.weight',
      'layers.0.conv.bias',
      'layers.1.weight',
      'layers.1.bias',
    ]);
    graph.eval();
    expect((graph.nodes[1].module as Dropout).training).toBe(false);
    const dict = graph.namedChildren()[0][1] as ModuleDict;
    expect(() => dict.forward(Tensor.zeros([1]))).toThrow(/ModuleDict holds modules for a Graph/);
  });

  test('a module path that is also a container, or inside a module, is an error', () => {
    expectErrorNamed(
      () =>
        new Graph([
          { name: 'a.b', module: new ReLU(), inputs: ['input'] },
          { name: 'a', module: new ReLU(), inputs: ['a.b'] },
        ]),
      'RangeError',
      /node 'a' is also a container of other nodes/,
    );
    expectErrorNamed(
      () =>
        new Graph([
          { name: 'a', module: new ReLU(), inputs: ['input'] },
          { name: 'a.b', module: new ReLU(), inputs: ['a'] },
        ]),
      'RangeError',
      /node 'a' is a module, so 'a.b' cannot sit inside it/,
    );
  });
});

describe('bad graphs and builder misuse are errors naming the problem', () => {
  const relu = () => new ReLU();
  test.each<[string, () => unknown, 'TypeError' | 'RangeError', RegExp]>([
    ['no nodes', () => new Graph([]), 'TypeError', /nodes must be a non-empty array/],
    [
      'a bad name',
      () => new Graph([{ name: 'a-b', module: relu(), inputs: ['input'] }]),
      'RangeError',
      /name 'a-b' must be dot-separated identifiers/,
    ],
    [
      'a duplicate name',
      () =>
        new Graph([
          { name: 'a', module: relu(), inputs: ['input'] },
          { name: 'a', module: relu(), inputs: ['a'] },
        ]),
      'RangeError',
      /name 'a' is taken/,
    ],
    [
      'the input name',
      () => new Graph([{ name: 'input', module: relu(), inputs: ['input'] }]),
      'RangeError',
      /name 'input' is the graph input's/,
    ],
    [
      'module and op',
      () => new Graph([{ name: 'a', module: relu(), op: new Add(), inputs: ['input'] }]),
      'TypeError',
      /needs exactly one of module and op/,
    ],
    [
      'not a module',
      () => new Graph([{ name: 'a', module: {} as Module, inputs: ['input'] }]),
      'TypeError',
      /module must be a Module, got Object/,
    ],
    [
      'a later input',
      () =>
        new Graph([
          { name: 'a', module: relu(), inputs: ['b'] },
          { name: 'b', module: relu(), inputs: ['input'] },
        ]),
      'RangeError',
      /node 'a': input 'b' is not "input" or an earlier node/,
    ],
    [
      'a module reading two values',
      () => new Graph([{ name: 'a', module: relu(), inputs: ['input', 'input'] }]),
      'RangeError',
      /a module reads one value, got 2/,
    ],
    [
      'an op with the wrong arity',
      () => new Graph([{ name: 'a', op: new Mul(), inputs: ['input'] }]),
      'RangeError',
      /node 'a': mul: takes 2 inputs, got 1/,
    ],
    [
      'a module used twice',
      () => {
        const m = relu();
        return new Graph([
          { name: 'a', module: m, inputs: ['input'] },
          { name: 'b', module: m, inputs: ['a'] },
        ]);
      },
      'RangeError',
      /node 'b': its module is already another node's \(a module runs once per forward: no weight sharing\)/,
    ],
    [
      'a dead node',
      () =>
        new Graph([
          { name: 'a', module: relu(), inputs: ['input'] },
          { name: 'b', module: relu(), inputs: ['input'] },
        ]),
      'RangeError',
      /node 'a' does not lead to the output \(the last node, 'b'\)/,
    ],
  ])('%s', (_name, make, cls, message) => {
    expectErrorNamed(make, cls, message);
  });

  test('builder misuse', () => {
    const g = new GraphBuilder();
    const x = g.input();
    expectErrorNamed(() => g.input(), 'RangeError', /already has its input/);
    const fc = g.layer('fc', new Linear({ inFeatures: 2, outFeatures: 2 }));
    expectErrorNamed(() => g.layer('fc', new ReLU()), 'RangeError', /name 'fc' is taken/);
    expectErrorNamed(() => g.layer('input', new ReLU()), 'RangeError', /'input' names the graph input/);
    expectErrorNamed(
      () => g.apply(new Linear({ inFeatures: 2, outFeatures: 2 }), x),
      'RangeError',
      /has parameters or buffers; give it a name with layer\(\)/,
    );
    const other = new GraphBuilder().input();
    expectErrorNamed(() => fc(other), 'TypeError', /expected a value of this builder/);
    const y = fc(x);
    expectErrorNamed(() => fc(y), 'RangeError', /layer 'fc' is applied twice \(no weight sharing\)/);
    expectErrorNamed(() => g.build(x), 'RangeError', /the output is the input itself/);
    const unused = new GraphBuilder();
    const u = unused.input();
    unused.layer('never', new ReLU());
    expectErrorNamed(() => unused.build(unused.relu(u)), 'RangeError', /layer 'never' is declared but never applied/);
    const graph = g.build(g.relu(y));
    expect(graph.nodes.map((n) => n.name)).toEqual(['fc', 'relu']);
    expectErrorNamed(() => g.relu(y), 'RangeError', /the graph is built already/);
  });

  test('unnamed steps get fx-style names that never take a layer name', () => {
    const g = new GraphBuilder();
    const x = g.input();
    const relu = g.layer('relu', new ReLU());
    const graph = g.build(g.add(g.add(relu(x), g.relu(x)), g.relu(x)));
    expect(graph.nodes.map((n) => n.name)).toEqual(['relu', 'relu_1', 'add', 'relu_2', 'add_1']);
  });

  test('a shape that does not fit a node names the node', () => {
    const { graph } = basicBlock(3);
    // The layer's own error class (a ShapeError is a RangeError), with the node named.
    expect(() => graph.outputShape([1, 4, 5, 5])).toThrow(RangeError);
    expect(() => graph.outputShape([1, 4, 5, 5])).toThrow(
      /^Graph: node 'conv1' \(Conv2d\) with input \[1, 4, 5, 5\]: Conv2d: input/,
    );
    const g = new GraphBuilder();
    const x = g.input();
    const bad = g.build(g.add(g.layer('c', conv(2, 3, 1))(x), x));
    expectErrorNamed(
      () => bad.outputShape([1, 2, 4, 4]),
      'RangeError',
      /node 'add' \(add\) with input \[1, 3, 4, 4\], \[1, 2, 4, 4\]: add: shapes/,
    );
  });
});
