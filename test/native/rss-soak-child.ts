// SPDX-License-Identifier: MIT
// Child process of rss-soak.test.ts: a small conv net trained for many steps, then many predict() and predictAsync()
// calls, printing resident memory (after a GC) at the start and end of each phase as one JSON line. No assertions here.
// Usage: node --expose-gc test/cli/run-ts.js test/native/rss-soak-child.ts STEPS PREDICTS ASYNC_PREDICTS (a multiple of 4)
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { Conv2d } from '../../lib/modules/conv2d';
import { Flatten } from '../../lib/modules/flatten';
import { Linear } from '../../lib/modules/linear';
import { MaxPool2d } from '../../lib/modules/max-pool2d';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { native } from '../../lib/native';
import { Adam } from '../../lib/optim/adam';
import { manualSeed } from '../../lib/random';
import { randomTensor } from '../helpers';

const [steps, predicts, asyncPredicts] = process.argv.slice(2).map(Number);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

/** Resident memory in MB after two full collections (the second finalises what the first freed). */
function rssMb(): number {
  gc!();
  gc!();
  return process.memoryUsage().rss / 2 ** 20;
}

async function main(): Promise<void> {
  manualSeed(3);
  // [8, 1, 12, 12] -> conv 3x3 pad 1 (6 ch) -> relu -> pool 2 -> [8, 6, 6, 6] -> 216 -> 10.
  const net = new Sequential(
    new Conv2d({ inChannels: 1, outChannels: 6, kernelSize: 3, padding: 1 }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Flatten(),
    new Linear({ inFeatures: 216, outFeatures: 10 }),
  );
  const lossFn = new CrossEntropyLoss();
  const opt = new Adam(net.parameters(), { lr: 1e-4 });
  const x = randomTensor([8, 1, 12, 12], 1);
  const labels = Int32Array.from({ length: 8 }, (_, i) => i % 10);
  const step = (): void => {
    opt.zeroGrad();
    lossFn.forward(net.forward(x), labels);
    net.backward(lossFn.backward(), { inputGrad: false });
    opt.step();
  };
  const out: Record<string, number> = {};
  let sink = 0;
  // Warm-up first: JIT, native scratch buffers, and the JS heap reaching its working size (RSS sampled right after a GC
  // grows by ~4-8 MB over the next ~4,000 steps as the heap fills up to its next major GC, then stays put).
  const phase = async (name: string, warm: number, n: number, body: () => void | Promise<void>): Promise<void> => {
    for (let i = 0; i < warm; i++) await body();
    const scratch = native.scratchStats().allocations;
    out[`${name}Before`] = rssMb();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await body();
    out[`${name}Seconds`] = (performance.now() - t0) / 1000;
    out[`${name}After`] = rssMb();
    out[`${name}ScratchGrowths`] = native.scratchStats().allocations - scratch;
  };
  await phase('train', 10_000, steps, step);
  await phase('predict', 10_000, predicts, () => {
    sink += net.predict(x).data[0];
  });
  // predictAsync with four calls in flight at once, as a server would have them (each body call makes 4). A longer
  // warm-up (16,000 calls) than the other phases: the calls run on libuv's pool threads, which join one by one.
  await phase('async', 4000, asyncPredicts / 4, async () => {
    const r = await Promise.all([0, 1, 2, 3].map(() => net.predictAsync(x)));
    sink += r[3].data[0];
  });
  out.finite = Number.isFinite(sink) ? 1 : 0;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
