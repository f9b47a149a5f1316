// SPDX-License-Identifier: MIT
// BatchNorm + ReLU fused by Sequential and Graph (lib/modules/fuse-relu.ts), and a Graph's residual add + ReLU (with the
// BatchNorm before it when there is one, forward only): the same
// numbers, bit for bit, as the two run one after the other (a ReLU or Add subclass is never fused), in forward, backward
// and after optimizer steps.
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv2d } from '../../lib/modules/conv2d';
import { Flatten } from '../../lib/modules/flatten';
import { Graph } from '../../lib/modules/graph';
import { GraphBuilder } from '../../lib/modules/graph-builder';
import { Add } from '../../lib/modules/graph-ops';
import { Linear } from '../../lib/modules/linear';
import { MaxPool2d } from '../../lib/modules/max-pool2d';
import { native } from '../../lib/native';
import type { Module } from '../../lib/modules/module';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { SGD } from '../../lib/optim/sgd';
import { manualSeed } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';

/** A ReLU that containers do not fuse (its constructor is not ReLU). */
class PlainReLU extends ReLU {}
/** An add that Graph does not fuse with the ReLU after it. */
class PlainAdd extends Add {}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Outputs, losses, every parameter gradient and the input gradient over three SGD steps (train mode). */
function trace(model: Module, x: Tensor, labels: Int32Array): number[][] {
  const loss = new CrossEntropyLoss();
  const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const got: number[][] = [];
  model.train();
  for (let step = 0; step < 3; step++) {
    opt.zeroGrad();
    const out = model.forward(x);
    got.push(bits(out.data), [loss.forward(out, labels)]);
    got.push(bits(model.backward(loss.backward()).data));
    for (const p of model.parameters()) got.push(bits(p.grad.data));
    opt.step();
  }
  return got;
}

const x = new Tensor(
  new Float32Array(4 * 3 * 6 * 6).map((_, i) => Math.sin(i * 0.7) * 2),
  [4, 3, 6, 6],
);
const labels = Int32Array.from([0, 1, 2, 1]);

/** The model built with fusable ReLUs traces bit for bit as the same model built with PlainReLUs. */
function expectSameAsUnfused(build: (relu: () => ReLU) => Module): void {
  const fused = trace(
    build(() => new ReLU()),
    x,
    labels,
  );
  expect(fused).toEqual(
    trace(
      build(() => new PlainReLU()),
      x,
      labels,
    ),
  );
}

test('Sequential: Conv2d, BatchNorm2d, ReLU fused gives the unfused numbers', () => {
  const build = (relu: () => ReLU) => {
    manualSeed(3);
    return new Sequential(
      new Conv2d({ inChannels: 3, outChannels: 5, kernelSize: 3, padding: 1 }),
      new BatchNorm2d({ numFeatures: 5 }),
      relu(),
      new Conv2d({ inChannels: 5, outChannels: 4, kernelSize: 3, stride: 2 }),
      new BatchNorm2d({ numFeatures: 4 }),
      relu(),
      new Flatten(),
      new Linear({ inFeatures: 16, outFeatures: 3 }),
    );
  };
  expectSameAsUnfused(build);
});

test("Sequential: a ReLU before a MaxPool2d runs in the pool's backward, with the unfused numbers", () => {
  const build = (relu: () => ReLU) => {
    manualSeed(5);
    return new Sequential(
      new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 }),
      relu(),
      new MaxPool2d({ kernelSize: [2, 2] }),
      new Conv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, padding: 1 }),
      new BatchNorm2d({ numFeatures: 4 }),
      relu(), // fused into the BatchNorm: the pool after it runs no ReLU backward
      new MaxPool2d({ kernelSize: [3, 3], stride: [1, 1], padding: [1, 1] }), // overlapping windows
      relu(),
      new MaxPool2d({ kernelSize: [3, 3], stride: [1, 1] }),
      new Flatten(),
      new Linear({ inFeatures: 4, outFeatures: 3 }),
    );
  };
  const spy = jest.spyOn(native, 'reluMask');
  try {
    expectSameAsUnfused(build);
    // Unfused (PlainReLU), each ReLU's own backward masks the gradient in place.
    expect(spy.mock.calls.length).toBeGreaterThan(0);
    spy.mockClear();
    trace(
      build(() => new ReLU()),
      x,
      labels,
    );
    expect(spy).not.toHaveBeenCalled();
  } finally {
    spy.mockRestore();
  }
});

test('Graph: a residual block whose BatchNorm + ReLU is fused, and a BatchNorm read twice (not fused)', () => {
  const build = (relu: () => ReLU) => {
    manualSeed(4);
    const g = new GraphBuilder();
    const input = g.input();
    const conv = g.layer('conv', new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 }));
    const bn = g.layer('bn', new BatchNorm2d({ numFeatures: 4 }));
    const conv2 = g.layer('conv2', new Conv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, padding: 1 }));
    const bn2 = g.layer('bn2', new BatchNorm2d({ numFeatures: 4 }));
    const fc = g.layer('fc', new Linear({ inFeatures: 144, outFeatures: 3 }));
    const h = g.apply(relu(), bn(conv(input)));
    const y = bn2(conv2(h));
    // bn2's output is read by the ReLU and by the add: it must keep its own values.
    const sum = g.add(g.apply(relu(), y), g.add(y, h));
    return new Graph(g.specs(fc(g.flatten(sum))));
  };
  expectSameAsUnfused(build);
});

describe('Graph: residual add + ReLU, and BatchNorm + add + ReLU', () => {
  /**
   * relu(bnB(conv(relu(bnA(h)))) + h) and relu(h + bnB(...)) (BatchNorm + add + ReLU fused, the add's inputs either
   * way round), relu(conv(relu(bnA(h))) + h) (add + ReLU fused), each block reading the one before's fused output; then
   * a broadcast add + ReLU and an add whose output a ReLU and the next add both read (neither fused).
   */
  const build = (add: () => Add) => {
    manualSeed(6);
    const g = new GraphBuilder();
    let h = g.layer('conv', new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 }))(g.input());
    for (const b of [1, 2, 3]) {
      const conv = g.layer(`conv${b}`, new Conv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, padding: 1 }));
      const bnA = g.layer(`bn${b}a`, new BatchNorm2d({ numFeatures: 4 }));
      const y = conv(g.relu(bnA(h)));
      if (b === 3) {
        h = g.relu(g.op(add(), y, h));
      } else {
        const z = g.layer(`bn${b}b`, new BatchNorm2d({ numFeatures: 4 }))(y);
        h = g.relu(b === 1 ? g.op(add(), z, h) : g.op(add(), h, z));
      }
    }
    const pooled = g.layer('pool', new Conv2d({ inChannels: 4, outChannels: 4, kernelSize: 6 }))(h); // [N, 4, 1, 1]
    const twice = g.op(add(), g.relu(g.op(add(), h, pooled)), h);
    const read2 = g.op(add(), g.relu(twice), twice);
    return new Graph(g.specs(g.layer('fc', new Linear({ inFeatures: 144, outFeatures: 3 }))(g.flatten(read2))));
  };

  test('the fused graph traces bit for bit as the unfused one, and does fuse all three blocks', () => {
    const spy = jest.spyOn(native, 'addRelu');
    const bn = jest.spyOn(native, 'batchNormForwardTrain');
    const residuals = () => bn.mock.calls.filter((args) => args[14] != null).length;
    try {
      const fused = trace(
        build(() => new Add()),
        x,
        labels,
      );
      expect([spy.mock.calls.length, residuals()]).toEqual([3, 2 * 3]);
      spy.mockClear();
      bn.mockClear();
      const unfused = trace(
        build(() => new PlainAdd()),
        x,
        labels,
      );
      expect([spy.mock.calls.length, residuals()]).toEqual([0, 0]);
      expect(fused).toEqual(unfused);
    } finally {
      spy.mockRestore();
      bn.mockRestore();
    }
  });

  test("a Graph ending in BatchNorm + add + ReLU leaves the caller's gradient alone, with the unfused numbers", () => {
    const block = (add: () => Add) => {
      manualSeed(7);
      const g = new GraphBuilder();
      const input = g.input();
      const conv = g.layer('conv', new Conv2d({ inChannels: 3, outChannels: 3, kernelSize: 3, padding: 1 }));
      const bn = g.layer('bn', new BatchNorm2d({ numFeatures: 3 }));
      return new Graph(g.specs(g.relu(g.op(add(), bn(conv(input)), input))));
    };
    const dout = new Tensor(
      new Float32Array(x.size).map((_, i) => Math.cos(i * 0.3)),
      x.shape,
    );
    const before = bits(dout.data);
    const run = (add: () => Add) => {
      const net = block(add);
      net.train();
      const out = net.forward(x);
      const dx = net.backward(dout);
      return [bits(out.data), bits(dx.data), ...net.parameters().map((p) => bits(p.grad.data))];
    };
    expect(run(() => new Add())).toEqual(run(() => new PlainAdd()));
    expect(bits(dout.data)).toEqual(before);
  });
});

test('eval mode: BatchNorm with running statistics then ReLU is not fused and still runs', () => {
  manualSeed(5);
  const bn = new BatchNorm2d({ numFeatures: 3 });
  const net = new Sequential(bn, new ReLU());
  net.train();
  net.forward(x);
  net.eval();
  expect(bn.fusesRelu()).toBe(false);
  const out = net.forward(x);
  expect(out.data.every((v) => v >= 0)).toBe(true);
  expect(bn.fusedRelu()).toBe(false);
});
