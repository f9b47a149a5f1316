// SPDX-License-Identifier: MIT
// compileProgram(): which chains run as one native program, and that BatchNorm folding and Dropout
// skipping give the eval-mode forward's results, tracking weight and statistics changes.
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { AdaptiveAvgPool2d } from '../../lib/modules/adaptive-avg-pool2d';
import { AvgPool2d } from '../../lib/modules/avg-pool2d';
import { BatchNorm1d, BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv2d } from '../../lib/modules/conv2d';
import { Dropout } from '../../lib/modules/dropout';
import { Flatten } from '../../lib/modules/flatten';
import { LeNetBN } from '../../lib/modules/lenet-bn';
import { Linear } from '../../lib/modules/linear';
import { MaxPool2d } from '../../lib/modules/max-pool2d';
import { Module } from '../../lib/modules/module';
import { compileProgram } from '../../lib/modules/program';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { native } from '../../lib/native';
import { Adam } from '../../lib/optim/adam';
import { Tensor } from '../../lib/tensor/tensor';
import { countProgramRuns, expectAllClose, randomTensor } from '../helpers';

function evalForward(model: Module, x: Tensor): Tensor {
  model.eval();
  const y = model.forward(x);
  model.train();
  return y;
}

/** Training steps on random data: weights and BatchNorm running statistics move far from their init. */
function train(model: Module, shape: number[], classes: number, steps: number, seed: number): void {
  const opt = new Adam(model.parameters(), { lr: 1e-2 });
  const lossFn = new CrossEntropyLoss();
  model.train();
  for (let s = 0; s < steps; s++) {
    const x = randomTensor(shape, seed + s, 3);
    const y = Int32Array.from({ length: shape[0] }, (_, i) => (i * 7 + s) % classes);
    opt.zeroGrad();
    lossFn.forward(model.forward(x), y);
    model.backward(lossFn.backward());
    opt.step();
  }
}

/** predict()'s result and whether it ran as a native program. */
function predictTraced(model: Module, x: Tensor): { out: Tensor; native: boolean } {
  const { result, runs } = countProgramRuns(() => model.predict(x));
  return { out: result, native: runs === 1 };
}

// Folding rounds once in float64 where the layers round twice in float32.
const ATOL = 1e-5;
const RTOL = 1e-5;

describe('BatchNorm folding', () => {
  test('a trained LeNetBN predicts natively, equal to its eval-mode forward, and follows further training', async () => {
    const net = new LeNetBN();
    train(net, [8, 3, 32, 32], 10, 4, 1);
    const x = randomTensor([5, 3, 32, 32], 50, 2);
    const first = predictTraced(net, x);
    expect(first.native).toBe(true);
    expectAllClose(first.out.data, evalForward(net, x).data, ATOL, RTOL, 'logits');

    train(net, [8, 3, 32, 32], 10, 2, 9); // same compiled program: the folded copies must be refreshed
    const expected = evalForward(net, x);
    expectAllClose(predictTraced(net, x).out.data, expected.data, ATOL, RTOL, 'logits after more training');
    expectAllClose((await net.predictAsync(x)).data, expected.data, ATOL, RTOL, 'predictAsync logits');
  });

  test('predict refolds after an in-place statistic write, and after a change of sample shape', () => {
    const conv = new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1 });
    const norm = new BatchNorm2d({ numFeatures: 3 });
    const net = new Sequential(conv, norm, new ReLU());
    norm.runningMean?.data.set([0.5, -0.25, 0.125]);
    const small = randomTensor([2, 2, 6, 6], 70, 2);
    const large = randomTensor([1, 2, 9, 7], 71, 2);
    expectAllClose(net.predict(small).data, evalForward(net, small).data, ATOL, RTOL, 'first run');
    // Only the statistic changes, in place (the same Float32Array): the folded copies must follow.
    (norm.runningVar as Tensor).data[1] = 4;
    expectAllClose(net.predict(small).data, evalForward(net, small).data, ATOL, RTOL, 'after the write');
    // Another sample shape compiles another program, whose copies are folded from the current weights.
    expectAllClose(net.predict(large).data, evalForward(net, large).data, ATOL, RTOL, 'second shape');
    conv.weight.data.data[0] += 1;
    expectAllClose(net.predict(small).data, evalForward(net, small).data, ATOL, RTOL, 'after a weight write');
    expectAllClose(net.predict(large).data, evalForward(net, large).data, ATOL, RTOL, 'second shape again');
  });

  test('Linear + BatchNorm1d, no-affine BatchNorm2d, bias-free conv and Dropout fold or vanish', () => {
    const net = new Sequential(
      new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, bias: false, groups: 1 }),
      new BatchNorm2d({ numFeatures: 4, affine: false }),
      new ReLU(),
      new Dropout({ p: 0.3 }),
      new MaxPool2d({ kernelSize: 2 }),
      new Flatten(),
      new Linear({ inFeatures: 4 * 4 * 4, outFeatures: 6 }),
      new BatchNorm1d({ numFeatures: 6, eps: 1e-3 }),
      new Dropout({ p: 0.5 }),
      new Linear({ inFeatures: 6, outFeatures: 3 }),
    );
    train(net, [6, 3, 8, 8], 3, 3, 20);
    const x = randomTensor([4, 3, 8, 8], 60, 2);
    const { out, native: ranNatively } = predictTraced(net, x);
    expect(ranNatively).toBe(true);
    expectAllClose(out.data, evalForward(net, x).data, ATOL, RTOL, 'output');
  });

  test('AvgPool2d and AdaptiveAvgPool2d run in the program, bit-identical to the layers', () => {
    const net = new Sequential(
      new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 }),
      new AvgPool2d({ kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
      new ReLU(),
      new AvgPool2d({ kernelSize: 2, divisorOverride: 3 }),
      new AdaptiveAvgPool2d({ outputSize: [3, 2] }),
      new Flatten(),
      new Linear({ inFeatures: 4 * 3 * 2, outFeatures: 5 }),
    );
    const x = randomTensor([3, 3, 11, 9], 80, 2);
    const { out, native: ranNatively } = predictTraced(net, x);
    expect(ranNatively).toBe(true);
    expectAllClose(out.data, evalForward(net, x).data, 0, 0, 'output');
    // The program runs the window-mean and ReLU ops, which split planes over threads: the same bits for any count.
    const threads = native.kernelInfo().defaultThreads;
    try {
      for (const n of [1, 2, 3]) {
        native.setNumThreads(n);
        expect(predictTraced(net, x).out.data).toEqual(out.data);
      }
    } finally {
      native.setNumThreads(threads);
    }
  });

  test.each<[string, () => Module[]]>([
    [
      'BatchNorm without running statistics (batch statistics in eval mode too)',
      () => [
        new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3 }),
        new BatchNorm2d({ numFeatures: 3, trackRunningStats: false }),
        new ReLU(),
      ],
    ],
    [
      'BatchNorm after a ReLU',
      () => [
        new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3 }),
        new ReLU(),
        new BatchNorm2d({ numFeatures: 3 }),
      ],
    ],
    [
      'BatchNorm first',
      () => [new BatchNorm2d({ numFeatures: 2 }), new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3 })],
    ],
  ])('%s runs in JavaScript, with the same results', (_name, layers) => {
    const net = new Sequential(...layers(), new Flatten());
    train(net, [4, 2, 6, 6], 3, 2, 30);
    const x = randomTensor([3, 2, 6, 6], 70);
    expect(compileProgram(layers(), [2, 6, 6])).toBeNull();
    const { out, native: ranNatively } = predictTraced(net, x);
    expect(ranNatively).toBe(false);
    expectAllClose(out.data, evalForward(net, x).data, 0, 0, 'output');
  });

  test('a BatchNorm whose size does not fit the layer before it is a shape error, not a wrong fold', () => {
    const layers = [new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3 }), new BatchNorm2d({ numFeatures: 4 })];
    expect(() => compileProgram(layers, [2, 6, 6])).toThrow(/BatchNorm2d/);
  });
});
