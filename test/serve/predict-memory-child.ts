// SPDX-License-Identifier: MIT
// Child process of predict-memory.test.ts: a ~100 MB model, warmed up with predict(), then N concurrent predictAsync()
// calls; prints the model's bytes and the peak resident memory before and after, as JSON.
import { Flatten } from '../../lib/modules/flatten';
import { Linear } from '../../lib/modules/linear';
import { Sequential } from '../../lib/modules/sequential';
import { Tensor } from '../../lib/tensor/tensor';

async function main(): Promise<void> {
  const calls = Number(process.argv[2]);
  const features = 5000; // 25M weights: 100 MB
  const net = new Sequential(new Flatten(), new Linear({ inFeatures: features, outFeatures: features }));
  const input = (i: number) => new Tensor(new Float32Array(features).fill(i / calls), [1, features]);
  net.predict(input(0)); // the weights are resident and the kernels warm
  const modelBytes = net.numParameters() * 4;
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  const results = await Promise.all(Array.from({ length: calls }, (_, i) => net.predictAsync(input(i))));
  const peakAfter = process.resourceUsage().maxRSS * 1024;
  const finite = results.every((r) => r.shape[1] === features && r.data.every(Number.isFinite));
  process.stdout.write(JSON.stringify({ modelBytes, peakBefore, peakAfter, finite }));
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
