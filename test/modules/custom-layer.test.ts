// SPDX-License-Identifier: MIT
// docs/custom-layers.md as a test: its user layer (my-linear.ts) passes gradcheck, trains inside a Sequential
// exactly like the built-in Linear, and containers honour the user contract (no fusion, no native predict,
// nothing a user layer returns is overwritten).
import * as fs from 'fs';
import * as path from 'path';
import { DataLoader, fit, Flatten, gradcheck, Linear, manualSeed, ReLU, Sequential, SGD, Tensor } from '../../lib';
import { TensorDataset } from '../../lib/data/dataset';
import { Conv2d } from '../../lib/modules/conv2d';
import { hasFastBackward, hasFastForward, Module } from '../../lib/modules/module';
import { expectAllClose, randomTensor } from '../helpers';
import { MyLinear } from './my-linear';

test('the guide shows my-linear.ts verbatim', () => {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'custom-layers.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(doc)![1];
  const source = fs.readFileSync(path.join(__dirname, 'my-linear.ts'), 'utf8');
  const body = source.split('\n').slice(2).join('\n').replace("from '../../lib';", "from 'simdnet';");
  expect(block.trim()).toBe(body.trim());
});

test('gradcheck passes for the layer alone and inside a Sequential', () => {
  manualSeed(1);
  const x = Tensor.fromArray([0.5, -1, 2, 0.25, 1, -0.75], [2, 3]);
  const alone = gradcheck(new MyLinear(3, 4), x);
  expect(alone).toMatchObject({ ok: true, mismatches: [] });
  expect(alone.checked).toBe(6 + 12 + 4); // input, weight, bias
  const inside = gradcheck(new Sequential(new MyLinear(3, 5), new ReLU(), new MyLinear(5, 2)), x, { eps: 1e-3 });
  expect(inside.mismatches).toEqual([]);
});

test('a wrong backward fails gradcheck', () => {
  class Broken extends MyLinear {
    override backward(dy: Tensor): Tensor {
      const dx = super.backward(dy);
      dx.data[0] += 0.5;
      return dx;
    }
  }
  expect(gradcheck(new Broken(3, 2), randomTensor([2, 3], 1)).ok).toBe(false);
});

/** 48 samples [1, 2, 2] of 3 classes, seeded. */
function data(): TensorDataset {
  const x = randomTensor([48, 1, 2, 2], 5, 2);
  const labels = Int32Array.from({ length: 48 }, (_, i) => i % 3);
  for (let i = 0; i < 48; i++) x.data[i * 4 + (i % 3)] += 2; // learnable: the class lifts one pixel
  return new TensorDataset(x, labels);
}

/** Flatten -> Linear(4, 6) -> ReLU -> [MyLinear or Linear](6, 5) -> ReLU -> Linear(5, 3), with equal starting weights. */
function models(): [Sequential, Sequential] {
  manualSeed(3);
  const user = new Sequential(
    new Flatten(),
    new Linear({ inFeatures: 4, outFeatures: 6 }),
    new ReLU(),
    new MyLinear(6, 5),
    new ReLU(),
    new Linear({ inFeatures: 5, outFeatures: 3 }),
  );
  const builtIn = new Sequential(
    new Flatten(),
    new Linear({ inFeatures: 4, outFeatures: 6 }),
    new ReLU(),
    new Linear({ inFeatures: 6, outFeatures: 5 }),
    new ReLU(),
    new Linear({ inFeatures: 5, outFeatures: 3 }),
  );
  builtIn.loadStateDict(user.stateDict()); // same names: "3.weight" is MyLinear's or Linear's
  return [user, builtIn];
}

test('trained a few steps with fit(), it matches the same model with the built-in Linear', async () => {
  const [user, builtIn] = models();
  const train = async (model: Sequential) =>
    fit(model, {
      trainLoader: new DataLoader(data(), { batchSize: 8, shuffle: true, seed: 1 }),
      testLoader: new DataLoader(data(), { batchSize: 16 }),
      optimizer: new SGD(model.parameters(), { lr: 0.2, momentum: 0.9 }),
      epochs: 3,
      progress: 'none',
    });
  const a = await train(user);
  const b = await train(builtIn);
  // Float32 sums in another order (the native kernel is vectorised): equal to rounding.
  expectAllClose(
    a.epochs.map((e) => e.trainLoss),
    b.epochs.map((e) => e.trainLoss),
    1e-5,
    1e-5,
    'train loss',
  );
  expect(a.epochs.map((e) => e.testAccuracy)).toEqual(b.epochs.map((e) => e.testAccuracy));
  expect(a.epochs[2].trainLoss).toBeLessThan(a.epochs[0].trainLoss); // it learned
  const bw = builtIn.stateDict();
  for (const [name, t] of Object.entries(user.stateDict())) expectAllClose(t.data, bw[name].data, 1e-5, 1e-4, name);
  // predict() runs the user layer in TypeScript, in eval mode, and matches forward() in eval mode.
  const x = randomTensor([5, 1, 2, 2], 9);
  expectAllClose(user.predict(x).data, builtIn.predict(x).data, 1e-5, 1e-5, 'predict');
  expect(user.training).toBe(true);
  expect(user.predict(x).data).toEqual(user.eval().forward(x).data);
});

test('containers call user overrides and never overwrite what a user layer returns', () => {
  /** Identity whose backward returns a tensor it keeps (and checks later). */
  class Keeper extends Module {
    kept: Tensor | null = null;
    override outputShape(s: readonly number[]): number[] {
      return [...s];
    }
    override forward(x: Tensor): Tensor {
      return x.clone();
    }
    override backward(dy: Tensor): Tensor {
      this.kept = dy.clone();
      return this.kept;
    }
  }
  const keeper = new Keeper();
  // ReLU before the user layer would mask the gradient in place if it were a built-in's scratch.
  const net = new Sequential(new Linear({ inFeatures: 3, outFeatures: 4 }), new ReLU(), keeper);
  net.forward(randomTensor([2, 3], 1));
  const dy = randomTensor([2, 4], 2);
  net.backward(dy);
  expect(keeper.kept!.data).toEqual(dy.data);
  expect([hasFastForward(keeper), hasFastBackward(keeper)]).toEqual([false, false]);
  expect([hasFastForward(net.at(0)), hasFastBackward(net.at(1))]).toEqual([true, true]);
});

test('a subclass of a built-in layer that overrides forward() runs it: no Conv2d + ReLU fusion, no native predict', () => {
  class ShiftedConv extends Conv2d {
    override forward(x: Tensor): Tensor {
      const y = super.forward(x); // the built-in convolution
      for (let i = 0; i < y.size; i++) y.data[i] -= 10; // then a shift a fused ReLU would skip
      return y;
    }
  }
  manualSeed(4);
  const conv = new ShiftedConv({ inChannels: 1, outChannels: 2, kernelSize: 2 });
  const net = new Sequential(conv, new ReLU());
  const x = randomTensor([1, 1, 3, 3], 3);
  expect(hasFastForward(conv)).toBe(false);
  expect(hasFastBackward(conv)).toBe(true); // backward() is Conv2d's own
  expect(net.forward(x).data.every((v) => v === 0)).toBe(true); // every output shifted below 0, then ReLU
  expect(net.predict(x).data.every((v) => v === 0)).toBe(true);
  // The same weights without the override do give positive outputs (natively, fused): the shift mattered.
  const plain = new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 2 });
  plain.loadStateDict(conv.stateDict());
  expect(new Sequential(plain, new ReLU()).predict(x).data.some((v) => v > 0)).toBe(true);
  // predict() between forward() and backward() left the built-in state the override reached untouched;
  // backward through the override: the gradient stops at the ReLU (all outputs were negative).
  net.backward(Tensor.fromArray(new Array(8).fill(1), [1, 2, 2, 2]));
  expect(conv.weight.grad.data.every((v) => v === 0)).toBe(true);
});

test('a Module that overrides neither forward() nor the fast path says what to implement', () => {
  class Empty extends Module {
    override outputShape(s: readonly number[]): number[] {
      return [...s];
    }
  }
  const x = Tensor.zeros([1, 2]);
  expect(() => new Empty().forward(x)).toThrow(/Empty must override forward\(\).*docs\/custom-layers\.md/);
  expect(() => new Empty().predict(x)).toThrow(TypeError);
  expect(() => new Sequential(new Empty()).forward(x)).toThrow(/must override forward/);
  expect(() => new Empty().backward(x)).toThrow(/Empty must override backward\(\)/);
});
