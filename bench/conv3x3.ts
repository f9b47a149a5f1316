// SPDX-License-Identifier: MIT
// 3x3 padding-1 convolutions of ResNet-20 and the VGG-style CIFAR net: forward, weight gradient and input
// gradient of the current native kernels in GFLOP/s and % of the measured FMA peak, one row per shape.
// Not part of `npm run bench` (it only times, the kernel tests check results):
//   npx tsc -p bench/tsconfig.json && node build/bench/bench/conv3x3.js [--batch 64,1] [--quick] [--cpu-time]
// --cpu-time (with SIMDNET_NUM_THREADS=1) divides by the process's CPU time instead of wall time and compares
// with --peak GFLOP/s (default: the probe's one-thread figure): on a machine shared with other busy processes
// that is the only stable figure.
import './setup'; // the repo's addon, not one beside build/bench's copy of lib/
import { native } from '../lib';
import { Generator } from '../lib/random';
import { measurePeak, peakFor } from './peak';
import { measure, QUICK, FULL } from './timing';

interface Shape {
  name: string;
  c: number;
  oc: number;
  hw: number;
  stride: number;
}

const SHAPES: Shape[] = [
  { name: 'r20 16x32', c: 16, oc: 16, hw: 32, stride: 1 },
  { name: 'r20 16>32 s2', c: 16, oc: 32, hw: 32, stride: 2 },
  { name: 'r20 32x16', c: 32, oc: 32, hw: 16, stride: 1 },
  { name: 'r20 32>64 s2', c: 32, oc: 64, hw: 16, stride: 2 },
  { name: 'r20 64x8', c: 64, oc: 64, hw: 8, stride: 1 },
  { name: 'vgg 32x32', c: 32, oc: 32, hw: 32, stride: 1 },
  { name: 'vgg 64x16', c: 64, oc: 64, hw: 16, stride: 1 },
  { name: 'vgg 128x8', c: 128, oc: 128, hw: 8, stride: 1 },
];

function randomArray(rng: Generator, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

/** Process CPU milliseconds per call (user + system), after one warm-up call, over about `budgetMs` of CPU. */
function cpuMsPerCall(run: () => void, budgetMs: number): number {
  run();
  let best = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    const start = process.cpuUsage();
    let calls = 0;
    let used = 0;
    while (used < budgetMs / 3) {
      run();
      calls++;
      const d = process.cpuUsage(start);
      used = (d.user + d.system) / 1000;
    }
    best = Math.min(best, used / calls);
  }
  return best;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const batchArg = args.indexOf('--batch');
  const batches = batchArg >= 0 ? args[batchArg + 1].split(',').map(Number) : [64, 1];
  const opt = args.includes('--quick') ? QUICK : { ...FULL, reps: 7, budgetMs: 2500 };
  const cpuTime = args.includes('--cpu-time');
  const peakArg = args.indexOf('--peak');
  const info = native.kernelInfo() as unknown as { isa: string; threads: number };
  const peak = peakArg >= 0 ? Number(args[peakArg + 1]) : peakFor(measurePeak(info.threads, 1), info.threads);
  console.log(`isa ${info.isa}, ${info.threads} threads, FMA peak ${peak ? peak.toFixed(0) : '?'} GFLOP/s`);
  console.log('shape            batch  fwd GF/s (%peak)  dW GF/s (%peak)  dX GF/s (%peak)');
  const rng = new Generator(3);
  for (const n of batches) {
    for (const s of SHAPES) {
      const o = Math.floor((s.hw + 2 - 3) / s.stride) + 1;
      const x = randomArray(rng, n * s.c * s.hw * s.hw);
      const w = randomArray(rng, s.oc * s.c * 9);
      const b = randomArray(rng, s.oc);
      const out = new Float32Array(n * s.oc * o * o);
      const dout = randomArray(rng, out.length);
      const dx = new Float32Array(x.length);
      const dw = new Float32Array(w.length);
      const db = new Float32Array(s.oc);
      const geo = [n, s.c, s.hw, s.hw, s.oc, 3, 3, s.stride, s.stride, 1, 1, 1, 1, 1] as const;
      const flops = 2 * n * s.oc * o * o * s.c * 9;
      const runs = [
        () => native.conv2dForward(out, x, w, b, ...geo),
        () => native.conv2dBackward(null, dw, db, dout, x, w, ...geo),
        () => native.conv2dBackward(dx, null, null, dout, x, w, ...geo),
      ];
      const cells: string[] = [];
      for (const run of runs) {
        const ms = cpuTime ? cpuMsPerCall(run, opt.budgetMs / 5) : (await measure(run, opt)).msPerCall;
        const gf = flops / (ms * 1e6);
        cells.push(`${gf.toFixed(1).padStart(7)} (${peak ? ((100 * gf) / peak).toFixed(0).padStart(3) : '  ?'}%)`);
      }
      console.log(`${s.name.padEnd(16)} ${String(n).padStart(5)}  ${cells.join('    ')}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
