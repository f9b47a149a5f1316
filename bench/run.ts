// SPDX-License-Identifier: MIT
// `npm run bench` entry: runs the LeNet training/inference cases for simdnet, tfjs, onnxruntime and PyTorch, the kernel
// cases, the CNN cases (ResNet-20, the VGG-style net) and the busy-machine thread cases, in one process.
//
// Usage: see USAGE in options.ts (npm run bench -- --help).
import { buildDir, repoRoot } from './setup'; // first: points lib/native at the repo's addon
import * as os from 'os';
import * as path from 'path';
import {
  batchOf,
  BenchData,
  INFER_BATCHES,
  lenetReference,
  loadBenchData,
  loadWeights,
  TOL,
  TRAIN_BATCHES,
  writeDataFile,
} from './data';
import { CaseResult, inferCase, trainCase } from './cases';
import { kernelCases, KernelResult } from './kernels';
import { machineInfo } from './machine';
import { ortInfer, ortSession } from './ort';
import { measurePeak, peakFor, PeakResult } from './peak';
import { PytorchRun, runPytorch } from './pytorch';
import { casesTable, correctness, correctnessText, formatRate, kernelsTable, machineText, writeJson } from './report';
import { inferenceApi, simdnetInfer, simdnetLeNet, simdnetTrainer } from './simdnet';
import { TfBackend, TfLeNet, toNhwc, useBackend } from './tfjs';
import { FULL, QUICK, TimingOptions } from './timing';
import { wasmRatios, withWasmBackend } from './wasm';
import { CNN_FULL, CNN_QUICK, cnnSection } from './cnn';
import { type CnnModel, prepareCnn } from './cnn-models';
import { cnnTable, contentionTable, type ContentionResult } from './cnn-report';
import { contentionSection } from './contention';
import { CONTENTION_ROUNDS, parseArgs, type Section, USAGE, UsageError } from './options';

/** The last two parts of a path: enough to tell openblas-pthread/libblas.so.3 from blas/libblas.so.3. */
const shortPath = (p: string): string => p.split(/[\\/]/).slice(-2).join('/');

const log = (r: CaseResult): void => {
  const check = r.maxDiff === undefined ? '' : `check ${r.maxDiff.toExponential(1)}, `;
  const speed = r.imagesPerSec ? `${formatRate(r.imagesPerSec)} images/s` : `${r.status}: ${r.note}`;
  console.error(`  ${r.system}${r.model ? ` ${r.model}` : ''} ${r.case} b${r.batch}: ${check}${speed}`);
};

/** Appends a result and prints its line as it comes (the tables follow at the end). */
function add(out: CaseResult[], r: CaseResult): void {
  out.push(r);
  log(r);
}

async function simdnetCases(
  data: BenchData,
  only: Set<Section>,
  opt: TimingOptions,
  out: CaseResult[],
  system = 'simdnet',
): Promise<string> {
  const model = simdnetLeNet(data.weights);
  if (only.has('train')) {
    for (const b of TRAIN_BATCHES) {
      add(
        out,
        await trainCase(system, b, lenetReference(data), opt, async () =>
          simdnetTrainer(data.weights, batchOf(data, b), data.targets.subarray(0, b)),
        ),
      );
    }
  }
  if (only.has('infer'))
    for (const b of INFER_BATCHES)
      add(
        out,
        await inferCase(system, b, lenetReference(data), opt, async () => simdnetInfer(model, batchOf(data, b))),
      );
  return `simdnet LeNet, inference via ${inferenceApi(model)}`;
}

/** The simdnet cases again on the WebAssembly build (build-wasm/, npm run build:wasm), when there is one. */
async function simdnetWasmCases(data: BenchData, only: Set<Section>, opt: TimingOptions, out: CaseResult[]) {
  try {
    const desc = await withWasmBackend(() => simdnetCases(data, only, opt, out, 'simdnet-wasm'));
    return `${desc}, WebAssembly SIMD128 build, 1 thread`;
  } catch (err) {
    const note = `unavailable: ${(err as Error).message.split('\n')[0]}`;
    console.error(`  simdnet-wasm: ${note}`);
    return note;
  }
}

async function ortCases(data: BenchData, threads: number, opt: TimingOptions, out: CaseResult[]): Promise<string> {
  try {
    const { ort, session } = await ortSession(threads);
    for (const b of INFER_BATCHES)
      add(
        out,
        await inferCase('onnxruntime', b, lenetReference(data), opt, async () =>
          ortInfer(ort, session, data.images, b),
        ),
      );
    await session.release();
    return `onnxruntime-node ${ort.env.versions.node ?? ''}, bench/lenet.onnx, CPU provider, ${threads} intra-op threads, async session.run`;
  } catch (err) {
    const note = `unavailable: ${(err as Error).message.split('\n')[0]}`;
    for (const b of INFER_BATCHES)
      add(out, { case: 'infer', batch: b, system: 'onnxruntime', imagesPerSec: null, status: 'error', note });
    return note;
  }
}

async function tfjsCases(
  backend: TfBackend,
  data: BenchData,
  only: Set<Section>,
  quick: boolean,
  out: CaseResult[],
): Promise<string> {
  const opt = quick ? QUICK : FULL;
  const system = `tfjs-${backend}`;
  let desc: string;
  try {
    desc = await useBackend(backend);
  } catch (err) {
    const note = (err as Error).message;
    if (only.has('train'))
      for (const b of TRAIN_BATCHES)
        add(out, { case: 'train', batch: b, system, imagesPerSec: null, status: 'error', note });
    if (only.has('infer'))
      for (const b of INFER_BATCHES)
        add(out, { case: 'infer', batch: b, system, imagesPerSec: null, status: 'error', note });
    return note;
  }
  if (only.has('train')) {
    for (const b of TRAIN_BATCHES) {
      if (quick && backend === 'cpu' && b > 64) {
        add(out, {
          case: 'train',
          batch: b,
          system,
          imagesPerSec: null,
          status: 'skipped',
          note: 'in --quick (one step takes about 30 s)',
        });
        continue;
      }
      add(
        out,
        await trainCase(system, b, lenetReference(data), opt, async () => {
          const model = new TfLeNet(data.weights);
          const x = toNhwc(data.images, b);
          const t = model.trainer(x, data.targets.subarray(0, b));
          return {
            fn: t.step,
            dispose: () => {
              t.dispose();
              x.dispose();
              model.dispose();
            },
          };
        }),
      );
    }
  }
  if (only.has('infer')) {
    const model = new TfLeNet(data.weights);
    for (const b of INFER_BATCHES) {
      add(
        out,
        await inferCase(system, b, lenetReference(data), opt, async () => {
          const x = toNhwc(data.images, b);
          return { fn: () => model.infer(x), dispose: () => x.dispose() };
        }),
      );
    }
    model.dispose();
  }
  return desc;
}

function pytorchCases(
  data: BenchData,
  threads: number,
  only: Set<Section>,
  opt: TimingOptions,
  out: CaseResult[],
): { run: PytorchRun; desc: string } {
  const dataFile = path.join(buildDir, 'data.safetensors');
  writeDataFile(data, dataFile);
  const run = runPytorch(
    dataFile,
    threads,
    only.has('train') ? TRAIN_BATCHES : [],
    only.has('infer') ? INFER_BATCHES : [],
    opt,
  );
  out.push(...run.results); // pytorch_bench.py printed each line itself
  if (run.note) console.error(`  pytorch: ${run.note}`);
  const blas = run.blas ? `${run.blas.kind} [${run.blas.libraries.map(shortPath).join(', ')}]` : '?';
  const desc =
    run.note ??
    `torch ${run.torch} (${run.python}, Python ${run.pythonVersion}), ${run.threads} threads, BLAS ${blas} (build: ${run.blas?.blasInfo}), OPENBLAS_NUM_THREADS=${run.openblasThreads}`;
  return { run, desc };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), path.join(repoRoot, 'build', 'bench-results.json'));
  if (args.help) {
    console.log(USAGE);
    return;
  }
  args.json = path.resolve(args.json);
  const opt = args.quick ? QUICK : FULL;
  const machine = machineInfo();
  const threads = Math.min(2, machine.logicalCores); // onnxruntime, PyTorch and the peak probe
  const loadBefore = os.loadavg()[0];
  console.log(machineText(machine));
  const results: CaseResult[] = [];
  const systems: Record<string, string> = {};
  let pytorch: PytorchRun | null = null;
  const needsData = ['train', 'infer', 'cnn', 'contention'].some((s) => args.only.has(s as Section));
  if (needsData)
    console.error(
      `bench${args.quick ? ' --quick' : ''}: float64 reference logits for ${INFER_BATCHES.at(-1)} images...`,
    );
  const data = needsData ? loadBenchData() : null;
  if (data && (args.only.has('train') || args.only.has('infer'))) {
    systems.simdnet = await simdnetCases(data, args.only, opt, results);
    systems['simdnet-wasm'] = await simdnetWasmCases(data, args.only, opt, results);
    if (args.only.has('infer')) systems.onnxruntime = await ortCases(data, threads, opt, results);
    systems['tfjs-wasm'] = await tfjsCases('wasm', data, args.only, args.quick, results);
    systems['tfjs-cpu'] = await tfjsCases('cpu', data, args.only, args.quick, results);
    const py = pytorchCases(data, threads, args.only, opt, results);
    systems.pytorch = py.desc;
    pytorch = py.run;
  }

  let kernels: KernelResult[] = [];
  let peak: PeakResult = { gflops: {} };
  let peakUsed: number | null = null;
  if (args.only.has('kernels') || args.only.has('cnn')) {
    console.error('  FMA peak probe...');
    peak = measurePeak(threads, args.quick ? 0.2 : 0.5);
    peakUsed = peakFor(peak, machine.simdnet.threads);
  }
  if (args.only.has('kernels')) kernels = await kernelCases(loadWeights(), opt, peakUsed);

  const cnnResults: CaseResult[] = [];
  let cnnModels: CnnModel[] = [];
  if (data && args.only.has('cnn') && args.models.length) {
    console.error(`CNN cases: ${args.models.join(', ')}`);
    const cnn = await cnnSection(args.models, {
      images: data.images,
      targets: data.targets,
      threads,
      quick: args.quick,
      add: (r) => add(cnnResults, r),
      record: (r) => cnnResults.push(r),
    });
    cnnModels = cnn.models;
    for (const [k, v] of Object.entries(cnn.systems)) systems[`${k} (CNN)`] = v;
  }
  const contention: ContentionResult[] = [];
  let busyPid: number | null = null;
  if (data && args.only.has('contention')) {
    console.error('Contention: simdnet training beside a busy loop...');
    const resnet = cnnModels.find((m) => m.name === 'resnet20') ?? prepareCnn('resnet20', data.images, data.targets);
    const rounds = args.quick ? 1 : CONTENTION_ROUNDS;
    const c = await contentionSection(data, resnet, args.quick ? CNN_QUICK : CNN_FULL, rounds, (r) => {
      contention.push(r);
      log(r);
      if (r.rounds) console.error(`    median of rounds: ${r.rounds.map((v) => formatRate(v)).join(' / ')} images/s`);
    });
    busyPid = c.busyPid;
  }

  const load = { before: loadBefore, after: os.loadavg()[0] };
  console.log('');
  for (const [name, desc] of Object.entries(systems)) console.log(`${name}: ${desc}`);
  if (results.length) console.log(`\n${casesTable(results)}\n\n${correctnessText(results, TOL)}`);
  const ratios = wasmRatios(results);
  if (ratios) console.log(`\n${ratios}`);
  if (args.only.has('kernels')) console.log(`\n${kernelsTable(kernels, peak, peakUsed)}`);
  const peakOf = (system: string): number | null =>
    peakFor(peak, system === 'simdnet' ? machine.simdnet.threads : system.startsWith('tfjs') ? 1 : threads);
  for (const m of cnnModels) console.log(`\n${cnnTable(m, cnnResults, peakOf)}`);
  if (cnnModels.length)
    console.log(
      `Checks: every system's logits (batch 1, 64) and first loss (batch 64, 128) within ${cnnModels[0].reference.tol} of simdnet's. % FMA peak: model GFLOP/s (2 x MACs x images/s, training 3x that) over ${peak.error ?? `the probe's best with the system's threads (${JSON.stringify(peak.gflops)} GFLOP/s by threads)`}.`,
    );
  if (contention.length)
    console.log(
      `\n${contentionTable(contention, { lenet: 'LeNet', resnet20: 'ResNet-20' })}\n(busy loop: sh PID ${busyPid}, killed at the end; default threads in parentheses; each cell the median of ${contention[0].rounds?.length ?? 1} rounds in rotated order)`,
    );
  const busy =
    Math.max(load.before, load.after) > 0.5 * machine.logicalCores
      ? ' (busy machine: other work was running, treat the numbers as rough)'
      : '';
  console.log(`\nLoad average (1 min) before ${load.before.toFixed(2)}, after ${load.after.toFixed(2)}${busy}`);
  const report = {
    machine,
    load,
    options: { quick: args.quick, only: [...args.only], models: args.models, timing: opt, threadsForOthers: threads },
    systems,
    pytorch: pytorch && { ...pytorch, results: undefined },
    correctness: correctness(results),
    results,
    cnn: {
      models: cnnModels.map((m) => ({ name: m.name, title: m.title, macsPerImage: m.macsPerImage })),
      results: cnnResults,
    },
    contention,
    peak,
    peakUsed,
    kernels,
  };
  writeJson(args.json, report);
  console.log(`JSON: ${path.relative(process.cwd(), args.json) || args.json}`);
}

main().catch((err) => {
  if (err instanceof UsageError) {
    console.error(`${err.message}\nusage: ${USAGE}`);
    process.exit(2);
  }
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
