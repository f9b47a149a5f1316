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

describe('adviseHugePages', () => {
  test('advises a fresh buffer holding a whole 2 MiB stretch (on Linux), not a smaller one; bad arguments throw', () => {
    const advise = native.adviseHugePages!;
    expect(advise(new Float32Array(1000))).toBe(false);
    expect(advise(new Float32Array(0))).toBe(false);
    // madvise exists on Linux only, and not in the WebAssembly backend (its heap is one linear memory).
    const nativeOnLinux = process.platform === 'linux' && native.kernelInfo().backend !== 'wasm';
    expect(advise(new Float32Array(3 << 19))).toBe(nativeOnLinux);
    expect(() => (advise as (b: unknown) => boolean)(new Float64Array(4))).toThrow(
      /^adviseHugePages: buffer must be a Float32Array/,
    );
    expect(() => (advise as (...b: unknown[]) => boolean)()).toThrow(/^adviseHugePages: expected 1 arguments, got 0$/);
  });

  test('a module asks for huge pages for its large scratch only, once per buffer', () => {
    const spy = jest.spyOn(native, 'adviseHugePages');
    try {
      const net = new LeNet();
      net.train();
      net.forward(randomTensor([2, 3, 32, 32], 2));
      expect(spy).not.toHaveBeenCalled();
      const big = randomTensor([128, 3, 32, 32], 3);
      net.forward(big);
      const calls = spy.mock.calls.length;
      expect(calls).toBeGreaterThan(0);
      expect(spy.mock.calls.every(([b]) => b.length >= 1 << 19)).toBe(true);
      net.forward(big);
      expect(spy).toHaveBeenCalledTimes(calls);
    } finally {
      spy.mockRestore();
    }
  });
});
