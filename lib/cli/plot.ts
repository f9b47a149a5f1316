// SPDX-License-Identifier: MIT
// `simdnet plot`: writes the training curves of a --history JSON file as an SVG; the drawing is lib/plot/training-curves.ts.
import * as fs from 'fs';
import { Command } from 'commander';
import { FileFormatError } from '../errors';
import { readHistory, trainingCurvesSvg } from '../plot/training-curves';
import { checkFileExists, checkOutputPath } from './data-path';
import { EXIT_OK, println, UsageError, type CliIO } from './io';
import { nonEmpty } from './options';

/** Parsed `simdnet plot` options. */
export interface PlotCommandOptions {
  history: string;
  out: string;
  title?: string;
}

/**
 * Adds the `plot` command to the program.
 *
 * @example
 * // simdnet train --data data --history history.json && simdnet plot --history history.json --out curves.svg
 */
export function registerPlot(program: Command, io: CliIO, setExitCode: (code: number) => void): void {
  program
    .command('plot')
    .description('draw loss and accuracy per epoch from a training history as an SVG')
    .requiredOption('--history <file>', 'a history JSON file written by `simdnet train --history`', nonEmpty)
    .option('--out <file>', 'the SVG file to write', nonEmpty, 'curves.svg')
    .option('--title <text>', 'title above the plots', 'Training curves')
    .action(async (opts: PlotCommandOptions) => setExitCode(await runPlot(opts, io)));
}

/**
 * Runs `simdnet plot`: reads the history, writes the SVG, prints "wrote curves.svg (10 epochs)".
 * A missing history or an --out that is not .svg is a usage error (exit 2); a bad or empty history exits 1.
 */
export async function runPlot(opts: PlotCommandOptions, io: CliIO): Promise<number> {
  checkFileExists('--history', opts.history);
  if (!/\.svg$/i.test(opts.out))
    throw new UsageError(`--out: ${opts.out} must end in .svg (the curves are written as SVG only)`);
  const out = checkOutputPath('--out', opts.out);
  const history = readHistory(opts.history);
  if (history.epochs.length === 0) throw new FileFormatError(opts.history, 'the history has no finished epoch to plot');
  fs.writeFileSync(out, trainingCurvesSvg(history, { title: opts.title }));
  const n = history.epochs.length;
  println(io.stdout, `wrote ${opts.out} (${n} epoch${n === 1 ? '' : 's'})`);
  return EXIT_OK;
}
