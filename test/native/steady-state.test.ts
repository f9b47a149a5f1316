// SPDX-License-Identifier: MIT
// Steady-state training allocates no native memory per step, and resident memory stays flat over
// thousands of steps.
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { LeNet } from '../../lib/modules/lenet';
import { native } from '../../lib/native';
import { Adam } from '../../lib/optim/adam';
import { randomTensor } from '../helpers';

test('a warm LeNet training loop allocates no native scratch memory and keeps RSS flat', () => {
  // One thread: with more, which pool thread first takes which item depends on the OS scheduler
  // (a busy machine may keep a worker away for the whole warm-up), so a worker's scratch can
  // still grow, once per size, after the warm-up.
  const threads = native.kernelInfo();
  native.setNumThreads(1);
  try {
    warmLoopAllocatesNothing();
  } finally {
    native.setNumThreads(threads.threadsAuto ? 'auto' : threads.threads);
  }
});

function warmLoopAllocatesNothing(): void {
  const net = new LeNet();
  const lossFn = new CrossEntropyLoss();
  const opt = new Adam(net.parameters());
  const x = randomTensor([8, 3, 32, 32], 1);
  const labels = Int32Array.from({ length: 8 }, (_, i) => i);
  const step = (): void => {
    opt.zeroGrad();
    lossFn.forward(net.forward(x), labels);
    net.backward(lossFn.backward(), { inputGrad: false });
    opt.step();
    net.predict(x);
  };
  for (let i = 0; i < 200; i++) step();
  global.gc?.();
  const before = native.scratchStats();
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < 3000; i++) step();
  global.gc?.();
  expect(native.scratchStats()).toEqual(before);
  // JS garbage comes and goes; leaking one step's activations (about 250 KB at batch 8) would add
  // 750 MB, and even 16 KB a step 48 MB.
  const growthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  expect(growthMb).toBeLessThan(40);
}
