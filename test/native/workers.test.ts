// SPDX-License-Identifier: MIT
// The addon is context-aware: it loads in worker threads after the main thread loaded it, two
// workers train at once, and every run with the same seed ends with bit-identical weights.
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { LeNet } from '../../lib/modules/lenet';
import { Adam } from '../../lib/optim/adam';
import { manualSeed, Generator } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';

const dist = path.resolve(__dirname, '..', '..', 'dist', 'index.js');

/** Trains a seeded LeNet for a few steps on seeded data and returns its weights (same code in the workers). */
function train(lib: typeof import('../../lib/index'), steps: number): Float32Array[] {
  lib.manualSeed(5);
  const net = new lib.LeNet();
  const opt = new lib.Adam(net.parameters(), { lr: 1e-2 });
  const lossFn = new lib.CrossEntropyLoss();
  const rng = new lib.Generator(9);
  const x = new lib.Tensor(
    Float32Array.from({ length: 8 * 3072 }, () => rng.uniform(-1, 1)),
    [8, 3, 32, 32],
  );
  const labels = Int32Array.from({ length: 8 }, (_, i) => i % 10);
  for (let i = 0; i < steps; i++) {
    opt.zeroGrad();
    lossFn.forward(net.forward(x), labels);
    net.backward(lossFn.backward(), { inputGrad: false });
    opt.step();
  }
  return net.parameters().map((p) => p.data.data);
}

function runWorker(steps: number): Promise<Float32Array[]> {
  // The worker runs the compiled library (dist/, built by `npm test`'s pretest) and the same train().
  const source = `
    const { parentPort, workerData } = require('worker_threads');
    const lib = require(workerData.dist);
    const train = ${train.toString()};
    parentPort.postMessage(train(lib, workerData.steps));`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData: { dist, steps } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

test('two workers train at once after the main thread loaded the addon, with identical results', async () => {
  expect(fs.existsSync(dist)).toBe(true);
  const lib = {
    manualSeed,
    LeNet,
    Adam,
    CrossEntropyLoss,
    Generator,
    Tensor,
  } as unknown as typeof import('../../lib/index');
  const mainWeights = train(lib, 10); // the addon is loaded and used on the main thread first
  const [a, b] = await Promise.all([runWorker(10), runWorker(10)]);
  for (const weights of [a, b]) {
    expect(weights).toHaveLength(mainWeights.length);
    weights.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(mainWeights[i])));
  }
}, 300_000);
