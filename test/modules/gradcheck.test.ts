// SPDX-License-Identifier: MIT
// Finite-difference gradient checks (lib/gradcheck.ts) of ReLU, MaxPool2d, Flatten, a Sequential and the loss;
// Conv2d and Linear are checked in their own test files.
import { gradcheck } from '../../lib/gradcheck';
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { Conv2d } from '../../lib/modules/conv2d';
import { Flatten } from '../../lib/modules/flatten';
import { Linear } from '../../lib/modules/linear';
import { MaxPool2d } from '../../lib/modules/max-pool2d';
import { BackwardContext, Module } from '../../lib/modules/module';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { Generator } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { randomTensor } from '../helpers';

function expectGradOk(module: Module, input: Tensor, eps = 1e-2): void {
  const r = gradcheck(module, input, { maxPerTensor: 40, eps });
  if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
  expect(r.checked).toBeGreaterThan(0);
}

describe('gradcheck', () => {
  test('ReLU (away from the kink)', () => {
    const x = randomTensor([3, 11], 5);
    for (let i = 0; i < x.size; i++) if (Math.abs(x.data[i]) < 0.05) x.data[i] = 0.5;
    expectGradOk(new ReLU(), x);
  });

  test.each([
    [{ kernelSize: 2 }, [2, 3, 6, 6]],
    [{ kernelSize: 3, stride: 2, padding: 1 }, [1, 2, 7, 5]],
    [{ kernelSize: 2, ceilMode: true }, [1, 1, 5, 5]],
  ] as const)('MaxPool2d %j', (opts, shape) => {
    // Distinct, well separated values so a small step never changes the argmax.
    const n = (shape as readonly number[]).reduce((a, b) => a * b, 1);
    const perm = new Generator(6).permutation(n);
    const x = new Tensor(
      Float32Array.from(perm, (v) => v * 0.1),
      [...shape],
    );
    expectGradOk(new MaxPool2d(opts), x);
  });

  test('Flatten', () => expectGradOk(new Flatten(), randomTensor([2, 3, 2, 2], 7)));

  // Smaller steps for ReLU networks, so that few perturbations cross a kink. LeNet as a whole is
  // too deep for float32 finite differences (rounding noise ~3e-3); test/modules/lenet-pytorch.test.ts
  // checks its gradients against PyTorch instead.
  test('Sequential end to end', () => {
    const seq = new Sequential(
      new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, generator: new Generator(8) }),
      new ReLU(),
      new Flatten(),
      new Linear({ inFeatures: 2 * 3 * 3, outFeatures: 3, generator: new Generator(9) }),
    );
    expectGradOk(seq, randomTensor([2, 1, 5, 5], 10), 1e-3);
  });

  test('CrossEntropyLoss backward matches finite differences', () => {
    const logits = randomTensor([4, 5], 12, 3);
    const targets = Int32Array.from([0, 4, 2, 2]);
    const loss = new CrossEntropyLoss();
    loss.forward(logits, targets);
    const analytic = loss.backward().data;
    const eps = 1e-2;
    for (let i = 0; i < logits.size; i++) {
      const x0 = logits.data[i];
      logits.data[i] = x0 + eps;
      const plus = loss.forward(logits, targets);
      logits.data[i] = x0 - eps;
      const minus = loss.forward(logits, targets);
      logits.data[i] = x0;
      const taken = Math.fround(x0 + eps) - Math.fround(x0 - eps);
      expect(Math.abs((plus - minus) / taken - analytic[i])).toBeLessThan(1e-3);
    }
  });

  test('detects a wrong backward', () => {
    class BrokenReLU extends ReLU {
      override backwardWith(d: Tensor, ctx: BackwardContext): Tensor | null {
        const g = super.backwardWith(d, ctx) as Tensor;
        g.data[0] += 1;
        return g;
      }
    }
    const x = new Tensor(Float32Array.from([1, 2, 3]), [1, 3]);
    expect(gradcheck(new BrokenReLU(), x).ok).toBe(false);
  });
});
