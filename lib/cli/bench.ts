// SPDX-License-Identifier: MIT
// `simdnet bench`: simdnet's training and inference throughput for one model on this machine, as a table or JSON; the cases are lib/bench/.
import * as os from 'os';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { BenchCase, BenchResult } from '../bench/cases';
import { resolveBenchModel, type BenchModelOptions } from './bench-model';
import { describeModelNames, MODEL_NAMES } from './models';
import { packageVersion, threadsLabel } from './info';
import { EXIT_OK, println, UsageError, type CliIO, type CliStream } from './io';
import { integerAtLeast, nonEmpty, positiveNumber } from './options';

/** The ISAs `--isa` names ("auto" = the widest this CPU runs); which ones run here is checked when the command starts. */
export const BENCH_ISAS = ['auto', 'ref', 'avx2', 'avx512', 'neon'] as const;

/** Parsed `simdnet bench` options. */
export interface BenchCommandOptions extends BenchModelOptions {
  cases?: BenchCase[];
  batchSize?: number[];
  seconds: number;
  threads?: number;
  isa?: (typeof BENCH_ISAS)[number];
  json?: boolean;
}

const HELP = `
Cases: train = zeroGrad, forward, cross-entropy, backward (no input gradient)
and an Adam step, as fit() runs them; infer = model.predict(). Inputs are seeded
random images of the model's input shape, so no dataset is needed. Each case
warms up for a fifth of --seconds, then takes up to 15 samples and reports the
median; spread = (slowest - fastest) / median sample, the machine's noise.
Default batch sizes: train 64, infer 1 and 64.

Examples:
  simdnet bench                                  LeNet, train 64, infer 1 and 64
  simdnet bench --model lenet-bn --cases infer --batch-size 1,256
  simdnet bench --threads 1 --isa ref --json     one thread, reference kernels
  simdnet bench --model-file net.json --seconds 5`;

/** Parser of --cases: "train", "infer" or both, comma-separated. */
export function parseCases(value: string): BenchCase[] {
  const names = value.split(',').map((s) => s.trim());
  const bad = names.find((n) => n !== 'train' && n !== 'infer');
  if (bad !== undefined) throw new InvalidArgumentError(`expected train, infer or train,infer; got '${bad}'.`);
  return [...new Set(names as BenchCase[])];
}

/** Parser of --batch-size: integers >= 1 separated by commas ("1,64,256"). */
export function parseBatchSizes(value: string): number[] {
  if (!/^\s*\d+(\s*,\s*\d+)*\s*$/.test(value))
    throw new InvalidArgumentError('expected batch sizes separated by commas, e.g. 1,64,256.');
  const sizes = value.split(',').map(Number);
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1))
    throw new InvalidArgumentError('expected batch sizes >= 1, e.g. 1,64,256.');
  return [...new Set(sizes)];
}

/** Parser of --threads: an integer from 1 to 1024 (the addon's limit). */
export function parseThreads(value: string): number {
  const n = integerAtLeast(1)(value);
  if (n > 1024) throw new InvalidArgumentError('expected an integer from 1 to 1024.');
  return n;
}

/** Adds the `bench` command to the program. */
export function registerBench(program: Command, io: CliIO, setExitCode: (code: number) => void): void {
  program
    .command('bench')
    .description("measure simdnet's training and inference speed (images/s) for a model on this machine")
    .addOption(
      new Option('--model <name>', `a built-in model: ${describeModelNames()}; default lenet`)
        .choices(MODEL_NAMES)
        .conflicts(['modelFile', 'weights']),
    )
    .addOption(
      new Option('--model-file <file>', 'a model described in a JSON file, as `simdnet summary --model-file` takes')
        .argParser(nonEmpty)
        .conflicts('weights'),
    )
    .option('--weights <file>', 'a .safetensors file saved by `simdnet train` (the model is rebuilt from it)', nonEmpty)
    .option('--cases <list>', 'what to time: train, infer or train,infer (default both)', parseCases)
    .option(
      '--batch-size <list>',
      'batch sizes for every case, e.g. 1,64,256 (default: train 64, infer 1,64)',
      parseBatchSizes,
    )
    .addOption(
      new Option('--seconds <s>', 'time budget per case, warm-up included').argParser(positiveNumber).default(2),
    )
    .option('--threads <n>', 'native threads (default: SIMDNET_NUM_THREADS, else one per core)', parseThreads)
    .addOption(
      new Option('--isa <name>', 'kernels to use (default: SIMDNET_ISA, else the widest this CPU runs)').choices(
        BENCH_ISAS,
      ),
    )
    .option('--json', 'print the results as JSON instead of a table')
    .addHelpText('after', HELP)
    .action(async (opts: BenchCommandOptions) => setExitCode(await runBench(opts, io)));
}

/** Runs `simdnet bench` with parsed options; returns the exit code. The ISA and thread count are restored afterwards. */
export async function runBench(opts: BenchCommandOptions, io: CliIO): Promise<number> {
  const [{ native }, cases, { timingForSeconds }, { yieldToEventLoop }, { bytes }] = await Promise.all([
    import('../native'),
    import('../bench/cases'),
    import('../bench/timing'),
    import('../train/evaluate'),
    import('../summary/format'),
  ]);
  const before = native.kernelInfo();
  if (opts.isa !== undefined && opts.isa !== 'auto' && !before.supportedIsas.includes(opts.isa)) {
    throw new UsageError(
      `--isa ${opts.isa}: not supported on this CPU/build (supported: auto, ${before.supportedIsas.join(', ')})`,
    );
  }
  const bench = await resolveBenchModel(opts);
  const names = opts.cases ?? ['train', 'infer'];
  if (names.includes('train') && cases.outputClasses(bench.make(), bench.sampleShape) === null) {
    throw new UsageError(
      `--cases train: the output of ${bench.label} is not [N, classes], so it cannot be trained with cross-entropy; use --cases infer`,
    );
  }
  const timing = timingForSeconds(opts.seconds);
  const loadBefore = os.loadavg()[0];
  try {
    if (opts.isa !== undefined) native.setIsa(opts.isa);
    if (opts.threads !== undefined) native.setNumThreads(opts.threads);
    const info = native.kernelInfo();
    const cpus = os.cpus();
    const cpu = cpus[0]?.model?.trim() || 'unknown';
    const machine = {
      simdnet: packageVersion(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpu,
      cpus: cpus.length,
      isa: info.isa,
      threads: info.threads,
      threadsAuto: info.threadsAuto,
      openmp: info.openmp,
    };
    if (!opts.json) {
      println(
        io.stdout,
        `simdnet ${machine.simdnet} bench: ${bench.label}, input [N, ${bench.sampleShape.join(', ')}], random images (seed 0)`,
      );
      println(
        io.stdout,
        `isa ${info.isa}, ${threadsLabel(info)}${info.openmp ? '' : ' (no OpenMP)'}, cpu ${cpus.length} x ${cpu}, node ${process.version} (${machine.platform})`,
      );
      println(io.stdout, `about ${opts.seconds} s per case: warm-up, then the median of up to ${timing.reps} samples`);
      println(io.stdout);
      println(io.stdout, row(['case', 'batch', 'images/s', 'ms/batch', 'spread', 'samples']));
    }
    const results: BenchResult[] = [];
    for (const name of names) {
      for (const batch of opts.batchSize ?? cases.DEFAULT_BATCHES[name]) {
        const r = await cases.benchCase(name, bench.make, bench.sampleShape, batch, timing);
        results.push(r);
        if (!opts.json) printResult(io.stdout, r);
        await yieldToEventLoop(); // lets Ctrl+C through between cases
        if (io.signal?.aborted) throw io.signal.reason;
      }
    }
    const peakRssBytes = process.resourceUsage().maxRSS * 1024;
    const load = { before: loadBefore, after: os.loadavg()[0] };
    if (opts.json) {
      const report = {
        ...machine,
        model: bench.label,
        sampleShape: bench.sampleShape,
        seconds: opts.seconds,
        timing,
        results,
        peakRssBytes,
        loadAverage: load,
      };
      println(io.stdout, JSON.stringify(report, null, 2));
    } else {
      const busy =
        Math.max(load.before, load.after) > 0.5 * Math.max(1, cpus.length)
          ? ' (a busy machine: treat the numbers as rough)'
          : '';
      println(io.stdout);
      println(
        io.stdout,
        `peak RSS ${bytes(peakRssBytes)}; load average (1 min) ${load.before.toFixed(2)} before, ${load.after.toFixed(2)} after${busy}`,
      );
    }
    return EXIT_OK;
  } finally {
    // In-process callers (tests, an embedding app) get their kernels and threads back.
    if (opts.isa !== undefined) native.setIsa(before.isa);
    if (opts.threads !== undefined) native.setNumThreads(before.threadsAuto ? 'auto' : before.threads);
  }
}

/** Column widths of the table; the first column is left-aligned. */
const WIDTHS = [5, 6, 10, 10, 7, 8];

function row(cells: string[]): string {
  return cells
    .map((c, i) => (i === 0 ? c.padEnd(WIDTHS[i]) : c.padStart(WIDTHS[i])))
    .join('  ')
    .trimEnd();
}

function printResult(out: CliStream, r: BenchResult): void {
  println(
    out,
    row([
      r.case,
      String(r.batch),
      rate(r.imagesPerSec),
      milliseconds(r.msPerBatch),
      `${r.spreadPct.toFixed(1)}%`,
      `${r.reps}x${r.callsPerRep}`,
    ]),
  );
}

/** 12345.6 -> "12,346"; 42.123 -> "42.1". */
function rate(x: number): string {
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3);
}

/** 0.09766 -> "0.0977"; 14.81 -> "14.8"; 1234.5 -> "1,235". */
function milliseconds(ms: number): string {
  return ms >= 1000 ? Math.round(ms).toLocaleString('en-US') : ms.toPrecision(3);
}
