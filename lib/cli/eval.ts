// SPDX-License-Identifier: MIT
// `simdnet eval`: rebuilds a model from a weights or ONNX file and prints its test accuracy, per-class accuracy and confusion matrix on its dataset
// (and, with --plot, draws the training curves the file records).
import * as fs from 'fs';
import { Command, Option } from 'commander';
import type { EvaluateResult } from '../train/evaluate';
import { formatPercent } from '../train/progress';
import { HISTORY_KEY } from '../plot/training-curves';
import {
  checkDataPath,
  checkFileExists,
  checkOutputPath,
  DATA_HELP,
  DATASET_KEY,
  DATASET_NAMES,
  datasetInfo,
  isDatasetName,
  loadDataset,
  type DatasetName,
} from './data-path';
import { EXIT_OK, println, UsageError, type CliIO } from './io';
import { integerAtLeast, nonEmpty } from './options';

/** Parsed `simdnet eval` options. */
export interface EvalCommandOptions {
  weights: string;
  /** Default: the dataset recorded in the weights file, else 'cifar10'. */
  dataset?: DatasetName;
  data: string;
  batchSize: number;
  /** Write the training curves recorded in the weights file to this SVG file. */
  plot?: string;
  /** Test-time augmentation (evaluate()'s tta). */
  tta?: 'flip';
}

/** Adds the `eval` command to the program. */
export function registerEval(program: Command, io: CliIO, setExitCode: (code: number) => void): void {
  program
    .command('eval')
    .description('evaluate a saved model on the test set of CIFAR-10, MNIST or Fashion-MNIST')
    .requiredOption(
      '--weights <file>',
      'a .safetensors file saved by `simdnet train`, or an ONNX model (.onnx)',
      nonEmpty,
    )
    .addOption(
      new Option(
        '--dataset <name>',
        'the dataset to evaluate on (default: the one recorded in the weights file, else cifar10)',
      ).choices(DATASET_NAMES),
    )
    .requiredOption('--data <path>', DATA_HELP, nonEmpty)
    .option('--batch-size <n>', 'test images per batch', integerAtLeast(1), 256)
    .addOption(
      new Option(
        '--tta <mode>',
        'test-time augmentation: flip scores each image as given and mirrored, and averages the two logits',
      ).choices(['flip']),
    )
    .option(
      '--plot <file.svg>',
      'also write the training curves recorded in the weights file (by simdnet train) as SVG',
      nonEmpty,
    )
    .action(async (opts: EvalCommandOptions) => setExitCode(await runEval(opts, io)));
}

/** Runs `simdnet eval` with parsed options; returns the exit code. First output line: "accuracy: 63.21%". */
export async function runEval(opts: EvalCommandOptions, io: CliIO): Promise<number> {
  const weights = checkFileExists('--weights', opts.weights);
  if (opts.plot !== undefined && !/\.svg$/i.test(opts.plot))
    throw new UsageError(`--plot: ${opts.plot} must end in .svg`);
  const plotPath = opts.plot === undefined ? undefined : checkOutputPath('--plot', opts.plot);
  const [{ loadClassifier }, { FileFormatError }] = await Promise.all([import('./classifier'), import('../errors')]);
  // A simdnet weights file or an ONNX model; its metadata names the dataset, and an explicit --dataset wins.
  const net = await loadClassifier(weights, opts.weights);
  const saved = net.dataset;
  if (opts.dataset === undefined && saved !== undefined && !isDatasetName(saved)) {
    throw new FileFormatError(
      opts.weights,
      `"${DATASET_KEY}" is "${saved}", not one of ${DATASET_NAMES.join(', ')}; pass --dataset`,
    );
  }
  const dataset: DatasetName = opts.dataset ?? (saved as DatasetName | undefined) ?? 'cifar10';
  const loc = checkDataPath(opts.data, { dataset, needTrain: false, downloadFlag: false });
  const [{ evaluate }, { DataLoader }] = await Promise.all([import('../train/evaluate'), import('../data/loader')]);
  // Check the model fits the dataset before loading the data.
  const {
    title,
    sampleShape: [c, h, w],
    numClasses,
  } = datasetInfo(loc, false);
  if (net.channels !== c || net.height !== h || net.width !== w || net.numClasses !== numClasses) {
    const hint =
      saved === undefined
        ? ' (the weights do not record their dataset: pass --dataset)'
        : saved !== dataset
          ? ` (the weights were trained on ${saved})`
          : '';
    throw new FileFormatError(
      opts.weights,
      `the model takes ${net.channels}x${net.height}x${net.width} images into ${net.numClasses} classes; ${title} needs ${c}x${h}x${w} into ${numClasses}${hint}`,
    );
  }
  if (saved !== undefined && saved !== dataset)
    println(io.stderr, `note: the weights were trained on ${saved}; evaluating on ${dataset} as asked`);
  const test = await loadDataset(loc, false);
  const loader = new DataLoader(test, { batchSize: opts.batchSize });
  const result = await evaluate(net.model, loader, { numClasses, signal: io.signal, tta: opts.tta });
  for (const line of formatEvaluation(result, test.classes, title)) println(io.stdout, line);
  if (opts.tta === 'flip')
    println(io.stdout, 'test-time augmentation: flip (logits of each image and its mirror averaged)');
  if (plotPath !== undefined) {
    const recorded = net.metadata[HISTORY_KEY];
    if (recorded === undefined)
      throw new FileFormatError(
        opts.weights,
        'holds no training history to plot (only `simdnet train` records one; see `simdnet plot --history`)',
      );
    const { trainingCurvesSvg } = await import('../plot/training-curves');
    fs.writeFileSync(plotPath, trainingCurvesSvg(JSON.parse(recorded), { title: `${net.name} on ${title}` }));
    println(io.stdout, `wrote the training curves to ${opts.plot}`);
  }
  return EXIT_OK;
}

/** The report lines: accuracy, one line per class, the confusion matrix, then loss and image count ("over 10000 MNIST test images" with a title). */
export function formatEvaluation(r: EvaluateResult, classes: readonly string[], title?: string): string[] {
  const names = r.confusion.map((_, i) => classes[i] ?? `class ${i}`);
  const nameWidth = Math.max(...names.map((n) => n.length));
  const lines = [`accuracy: ${formatPercent(r.accuracy)}`];
  const totals = r.confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const countWidth = String(Math.max(0, ...totals)).length;
  names.forEach((name, i) => {
    const correct = r.confusion[i][i];
    lines.push(
      `  ${name.padEnd(nameWidth)}  ${formatPercent(r.perClassAccuracy[i]).padStart(7)}  ${String(correct).padStart(countWidth)}/${totals[i]}`,
    );
  });
  lines.push('confusion matrix (rows: true class, columns: predicted class):');
  const cell = Math.max(4, countWidth + 1);
  const label = (i: number) => `${String(i).padStart(String(names.length - 1).length)} ${names[i].padEnd(nameWidth)}`;
  const head = ' '.repeat(label(0).length + 2) + names.map((_, j) => String(j).padStart(cell)).join('');
  lines.push(head);
  r.confusion.forEach((row, i) => lines.push(`  ${label(i)}${row.map((v) => String(v).padStart(cell)).join('')}`));
  lines.push(
    `loss: ${Number.isFinite(r.loss) ? r.loss.toFixed(4) : String(r.loss)} over ${r.total}${title === undefined ? '' : ` ${title}`} test images`,
  );
  return lines;
}
