// SPDX-License-Identifier: MIT
// Issue 13's wasm ratios by process CPU time as well as wall time, for a busy machine where the wall-clock
// bench swings 2-5x between cases: LeNet at batch 64, simdnet-wasm inference against tfjs-wasm (1 thread) and
// training against tfjs-cpu, the two sides alternated in one process.
//   npx tsc -p bench/tsconfig.json && node build/bench/bench/wasm-cpu.js [--rounds N] [--infer-only]
// --infer-only skips training (a tfjs-cpu step takes seconds): for comparing wasm builds' inference.
// CPU time counts every thread of the process (V8's GC and compiler threads too), so it is a ratio of work,
// not of latency. simdnet-wasm runs the threaded build where it is built (SIMDNET_WASM_BUILD=single for the other)
// on SIMDNET_NUM_THREADS threads (else one per core): threads lower its wall time, not its CPU time.
import './setup';
import * as os from 'os';
import { native } from '../lib/native';
import { batchOf, loadBenchData } from './data';
import { simdnetInfer, simdnetLeNet, simdnetTrainer } from './simdnet';
import { TfLeNet, toNhwc, useBackend } from './tfjs';
import { withWasmBackend } from './wasm';

const BATCH = 64;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
}

interface Cost {
  cpu: number;
  wall: number;
}

/** CPU and wall ms per call of each function, over `rounds` alternating rounds of `reps[i]` calls each. */
function alternate(fns: (() => unknown)[], reps: number[], rounds: number): Cost[] {
  const total = fns.map(() => ({ cpu: 0, wall: 0 }));
  for (const fn of fns) fn(); // warm-up: V8 tiers the wasm functions up
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, i) => {
      const start = cpuMs();
      const wallStart = performance.now();
      for (let k = 0; k < reps[i]; k++) fn();
      total[i].cpu += cpuMs() - start;
      total[i].wall += performance.now() - wallStart;
    });
  }
  return total.map((t, i) => ({ cpu: t.cpu / (rounds * reps[i]), wall: t.wall / (rounds * reps[i]) }));
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--rounds');
  const rounds = at > 0 ? Number(process.argv[at + 1]) : 3;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError('wasm-cpu: --rounds takes a positive integer');
  const data = loadBenchData();
  const x = batchOf(data, BATCH);
  const targets = data.targets.subarray(0, BATCH);
  const lines: string[] = [];
  const report = (what: string, other: string, theirs: Cost, mine: Cost) => {
    for (const kind of ['cpu', 'wall'] as const) {
      lines.push(
        `  ${what} b${BATCH}: ${other} ${theirs[kind].toFixed(2)} ms, simdnet-wasm ${mine[kind].toFixed(2)} ms ` +
          `of ${kind === 'cpu' ? 'CPU' : 'wall'} time per batch = ${(theirs[kind] / mine[kind]).toFixed(2)}x`,
      );
    }
  };
  let threads = 1;
  let build = '';
  await withWasmBackend(async () => {
    const info = native.kernelInfo();
    threads = info.threads;
    build = info.wasmBuild ?? 'single';
    await useBackend('wasm');
    const tfModel = new TfLeNet(data.weights);
    const tx = toNhwc(data.images, BATCH);
    const infer = simdnetInfer(simdnetLeNet(data.weights), x);
    const [tfInfer, wasmInfer] = alternate([() => tfModel.infer(tx), infer.fn], [20, 20], rounds * 2);
    report('infer', 'tfjs-wasm', tfInfer, wasmInfer);
    tfModel.dispose();
    tx.dispose();
    if (process.argv.includes('--infer-only')) return;
    await useBackend('cpu');
    const tfTrain = new TfLeNet(data.weights);
    const txCpu = toNhwc(data.images, BATCH);
    const tfStep = tfTrain.trainer(txCpu, targets);
    const step = simdnetTrainer(data.weights, x, targets);
    // One tfjs-cpu step takes seconds: one per round against 20 of simdnet-wasm's.
    const [tfMs, wasmMs] = alternate([tfStep.step, step.fn], [1, 20], rounds);
    report('train', 'tfjs-cpu', tfMs, wasmMs);
    tfStep.dispose();
    tfTrain.dispose();
    txCpu.dispose();
  });
  const load = os.loadavg()[0].toFixed(1);
  console.log(`LeNet, ${rounds} rounds, simdnet-wasm (${build} build) on ${threads} thread(s) (load average ${load}):`);
  console.log(lines.join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
