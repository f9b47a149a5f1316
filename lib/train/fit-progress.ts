// SPDX-License-Identifier: MIT
// fit()'s progress reporter: the chosen mode or the caller's reporter, plus one summary line per finished epoch (formatEpochLine).
import type { EpochRecord, FitOptions, FitProgressReporter } from './fit-types';
import { createProgress, formatPercent } from './progress';

/**
 * The reporter fit() uses. A mode makes createProgress()'s reporter; unless the mode is 'none' or
 * `epochSummary` is false, it also writes formatEpochLine() to the progress stream after each epoch,
 * so the test accuracy shows per epoch. A caller's reporter is used as it is.
 */
export function fitProgress(options: FitOptions): FitProgressReporter {
  const mode = options.progress;
  if (typeof mode === 'object') return mode;
  const stream = options.progressStream ?? process.stderr;
  const reporter: FitProgressReporter = createProgress({ mode, stream });
  if (mode === 'none' || options.epochSummary === false) return reporter;
  reporter.epochSummary = (record, epochs) => stream.write(`${formatEpochLine(record, epochs)}\n`);
  return reporter;
}

/** "epoch  3/10  train loss 1.2345 acc 55.10%  test loss 1.3000 acc 52.00%  41.2s  1500 img/s". */
export function formatEpochLine(r: EpochRecord, epochs: number): string {
  const parts = [
    `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}`,
    `train loss ${r.trainLoss.toFixed(4)} acc ${formatPercent(r.trainAccuracy)}`,
  ];
  if (r.testLoss !== undefined && r.testAccuracy !== undefined)
    parts.push(`test loss ${r.testLoss.toFixed(4)} acc ${formatPercent(r.testAccuracy)}`);
  parts.push(`${r.seconds.toFixed(1)}s`, `${r.imagesPerSecond.toFixed(0)} img/s`);
  return parts.join('  ');
}
