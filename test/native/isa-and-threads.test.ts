// SPDX-License-Identifier: MIT
// Every ISA this CPU runs gives the reference's results (within float rounding), and the thread
// count never changes a result by a single bit.
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { LeNet } from '../../lib/modules/lenet';
import { LeNetBN } from '../../lib/modules/lenet-bn';
import { resnet20 } from '../../lib/models/resnet';
import { Module } from '../../lib/modules/module';
import { native } from '../../lib/native';
import { Adam } from '../../lib/optim/adam';
import { manualSeed } from '../../lib/random';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';

const info = native.kernelInfo();
const x = randomTensor([5, 3, 32, 32], 1);
const targets = Int32Array.from([0, 3, 9, 1, 3]);

/**
 * Logits, input gradient, weights after 2 Adam steps and then eval-mode logits of a seeded model (LeNet by default);
 * `beforeStep(i)` runs before each of the steps (to change the thread count on the way, as 'auto' may).
 */
function run(
  make: () => Module = () => new LeNet(),
  beforeStep: (i: number) => void = () => {},
): {
  logits: Float32Array;
  dinput: Float32Array;
  weights: Float32Array[];
  evalLogits: Float32Array;
} {
  manualSeed(11);
  const net = make();
  const lossFn = new CrossEntropyLoss();
  const opt = new Adam(net.parameters(), { lr: 1e-2 });
  const logits = net.forward(x).data;
  lossFn.forward(net.forward(x), targets);
  const dinput = net.backward(lossFn.backward()).data;
  for (let i = 0; i < 2; i++) {
    beforeStep(i);
    opt.zeroGrad();
    lossFn.forward(net.forward(x), targets);
    net.backward(lossFn.backward());
    opt.step();
  }
  net.eval();
  const evalLogits = net.forward(x).data;
  return { logits, dinput, weights: net.parameters().map((p) => p.data.data.slice()), evalLogits };
}

afterAll(() => {
  native.setIsa('auto');
  native.setNumThreads(info.threadsAuto ? 'auto' : info.threads);
});

describe('ISA dispatch', () => {
  test('reports the ISA in use and what the CPU supports', () => {
    expect(info.supportedIsas[0]).toBe('ref');
    expect(info.supportedIsas).toContain(info.isa);
    expect(info.isa).toBe(info.supportedIsas[info.supportedIsas.length - 1]);
    expect(info.kernels.conv2d).toBe(info.isa);
  });

  test.each(info.supportedIsas.filter((isa) => isa !== 'ref'))('%s matches the reference kernels on LeNet', (isa) => {
    native.setIsa('ref');
    const ref = run();
    expect(native.setIsa(isa)).toBe(isa);
    const fast = run();
    expectAllClose(fast.logits, ref.logits, 1e-5, 1e-4, 'logits');
    expectAllClose(fast.dinput, ref.dinput, 1e-6, 1e-3, 'dinput');
    fast.weights.forEach((w, i) => expectAllClose(w, ref.weights[i], 1e-5, 1e-4, `weights ${i}`));
  });

  test('an unknown or unsupported ISA is a RangeError naming the choices', () => {
    expectErrorNamed(() => native.setIsa('sse9'), 'RangeError', /choose one of: auto, ref/);
    expectErrorNamed(() => native.setIsa(3 as never), 'TypeError', /name must be a string/);
  });
});

describe('threads', () => {
  test.each<[string, () => Module]>([
    ['LeNet', () => new LeNet()],
    ['LeNetBN', () => new LeNetBN()],
  ])('%s: 1, 2, 3 threads, "auto" and a count changed between steps give bit-identical results', (_name, make) => {
    native.setIsa('auto');
    native.setNumThreads(1);
    const one = run(make);
    const switching = (i: number): void => native.setNumThreads(i % 2 === 0 ? 2 : 1); // what a trial does
    for (const n of [2, 3, 'auto', switching] as const) {
      if (typeof n !== 'function') native.setNumThreads(n);
      const many = typeof n === 'function' ? run(make, n) : run(make);
      expect(many.logits).toEqual(one.logits);
      expect(many.dinput).toEqual(one.dinput);
      expect(many.evalLogits).toEqual(one.evalLogits);
      many.weights.forEach((w, i) => expect(w).toEqual(one.weights[i]));
    }
  });

  test.each<[string, () => Module]>([
    ['LeNet', () => new LeNet()],
    ['ResNet-20', () => resnet20()],
  ])('%s: predict() of 1 and 3 images is bit-identical on 1, 2 and 3 threads', (_name, make) => {
    native.setIsa('auto');
    manualSeed(5);
    const net = make();
    for (const n of [1, 3]) {
      const input = randomTensor([n, 3, 32, 32], 20 + n);
      native.setNumThreads(1);
      const one = net.predict(input).data;
      for (const threads of [2, 3]) {
        native.setNumThreads(threads);
        expect(net.predict(input).data).toEqual(one);
      }
    }
  });

  test('"auto" picks a count up to one per core, a number fixes it', () => {
    native.setNumThreads(2);
    expect(native.kernelInfo()).toMatchObject({ threads: 2, threadsAuto: false });
    native.setNumThreads('auto');
    const auto = native.kernelInfo();
    expect(auto.threadsAuto).toBe(true);
    expect(auto.threads).toBeGreaterThanOrEqual(1);
    expect(auto.threads).toBeLessThanOrEqual(auto.defaultThreads);
  });

  test('setNumThreads validates its argument', () => {
    expectErrorNamed(() => native.setNumThreads(0), 'RangeError', /n must be an integer >= 1/);
    expectErrorNamed(() => native.setNumThreads(2.5), 'RangeError');
    expectErrorNamed(() => native.setNumThreads(4096), 'RangeError', /at most 1024/);
    expectErrorNamed(() => native.setNumThreads('two' as never), 'TypeError', /must be a number, got/);
  });
});
