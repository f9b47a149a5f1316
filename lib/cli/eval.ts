// SPDX-License-Identifier: MIT
// `simdnet eval`: rebuilds a model from a weights file and prints test accuracy, per-class accuracy and the confusion matrix.
import { Command } from 'commander';
import type { EvaluateResult } from '../train/evaluate';
import { formatPercent } from '../train/progress';
import { checkDataPath, checkFileExists, loadCifar10 } from './data-path';
import { EXIT_OK, println, type CliIO } from './io';
import { integerAtLeast, nonEmpty } from './options';

/** Parsed `simdnet eval` options. */
export interface EvalCommandOptions {
  weights: string;
  data: string;
  batchSize: number;
}

/** Adds the `eval` command to the program. */
export function registerEval(program: Command, io: CliIO, setExitCode: (code: number) => void): void {
  program
    .command('eval')
    .description('evaluate a saved model on the CIFAR-10 test set')
    .requiredOption('--weights <file>', 'a .safetensors file saved by `simdnet train`', nonEmpty)
    .requiredOption('--data <path>', 'CIFAR-10 location: a folder holding cifar-10-batches-bin/, that folder, or cifar-10-binary.tar.gz', nonEmpty)
    .option('--batch-size <n>', 'test images per batch', integerAtLeast(1), 256)
    .action(async (opts: EvalCommandOptions) => setExitCode(await runEval(opts, io)));
}

/** Runs `simdnet eval` with parsed options; returns the exit code. First output line: "accuracy: 63.21%". */
export async function runEval(opts: EvalCommandOptions, io: CliIO): Promise<number> {
  const weights = checkFileExists('--weights', opts.weights);
  const loc = checkDataPath(opts.data, false);
  const [{ loadModel }, { evaluate }, { DataLoader }, { FileFormatError }] = await Promise.all([
    import('../train/saved-model'),
    import('../train/evaluate'),
    import('../data/loader'),
    import('../errors'),
  ]);
  const model = loadModel(weights);
  const test = await loadCifar10(loc, false);
  // Every shipped architecture keeps its constructor options in `config`; check they fit CIFAR-10.
  const config = model.config as { inChannels?: number; imageSize?: number; numClasses?: number };
  const classes = test.classes;
  if (config.inChannels !== 3 || config.imageSize !== 32 || config.numClasses !== classes.length) {
    throw new FileFormatError(opts.weights, `the model takes ${config.inChannels}x${config.imageSize}x${config.imageSize} images into ${config.numClasses} classes; CIFAR-10 needs 3x32x32 into ${classes.length}`);
  }
  const loader = new DataLoader(test, { batchSize: opts.batchSize });
  const result = await evaluate(model, loader, { numClasses: classes.length, signal: io.signal });
  for (const line of formatEvaluation(result, classes)) println(io.stdout, line);
  return EXIT_OK;
}

/** The report lines: accuracy, one line per class, the confusion matrix, then loss and image count. */
export function formatEvaluation(r: EvaluateResult, classes: readonly string[]): string[] {
  const names = r.confusion.map((_, i) => classes[i] ?? `class ${i}`);
  const nameWidth = Math.max(...names.map((n) => n.length));
  const lines = [`accuracy: ${formatPercent(r.accuracy)}`];
  const totals = r.confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const countWidth = String(Math.max(0, ...totals)).length;
  names.forEach((name, i) => {
    const correct = r.confusion[i][i];
    lines.push(`  ${name.padEnd(nameWidth)}  ${formatPercent(r.perClassAccuracy[i]).padStart(7)}  ${String(correct).padStart(countWidth)}/${totals[i]}`);
  });
  lines.push('confusion matrix (rows: true class, columns: predicted class):');
  const cell = Math.max(4, countWidth + 1);
  const label = (i: number) => `${String(i).padStart(String(names.length - 1).length)} ${names[i].padEnd(nameWidth)}`;
  const head = ' '.repeat(label(0).length + 2) + names.map((_, j) => String(j).padStart(cell)).join('');
  lines.push(head);
  r.confusion.forEach((row, i) => lines.push(`  ${label(i)}${row.map((v) => String(v).padStart(cell)).join('')}`));
  lines.push(`loss: ${Number.isFinite(r.loss) ? r.loss.toFixed(4) : String(r.loss)} over ${r.total} test images`);
  return lines;
}
