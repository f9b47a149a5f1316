// SPDX-License-Identifier: MIT
// Training curves: loss and accuracy per epoch of a fit() History (or its --history JSON file) as one SVG; the chart drawing is svg-chart.ts.
import * as fs from 'fs';
import { describe } from '../check';
import { FileFormatError } from '../errors';
import type { EpochRecord, History } from '../train/trainer';
import { chartPanel, escapeXml, svgDocument, type ChartSeries } from './svg-chart';

/** Metadata key under which `simdnet train` stores the per-epoch history (EpochRecord[] as JSON) in the weights file. */
export const HISTORY_KEY = 'simdnet.history';

export interface TrainingCurvesOptions {
  /** Document title, shown above the panels. Default "Training curves". */
  title?: string;
  /** Size of the whole SVG in pixels. Defaults 960 x 400. */
  width?: number;
  height?: number;
}

const TRAIN_COLOR = '#1f77b4';
const TEST_COLOR = '#ff7f0e';

/**
 * An SVG document with two panels: loss per epoch (train, and test when recorded) and accuracy in
 * percent. Train lines are solid, test lines dashed; every epoch has a marker, so one epoch still shows.
 * Non-finite values (NaN, or null in a JSON history) are left out and break the line.
 * @throws RangeError when the history has no finished epoch.
 *
 * @example
 * const history = await fit(model, { ... });
 * fs.writeFileSync('curves.svg', trainingCurvesSvg(history));
 */
export function trainingCurvesSvg(
  history: History | readonly EpochRecord[],
  options: TrainingCurvesOptions = {},
): string {
  const epochs = Array.isArray(history) ? (history as readonly EpochRecord[]) : (history as History)?.epochs;
  if (!Array.isArray(epochs))
    throw new TypeError(
      `trainingCurvesSvg: history must be a History or an array of epoch records, got ${describe(history)}`,
    );
  if (epochs.length === 0) throw new RangeError('trainingCurvesSvg: the history has no finished epoch to plot');
  const width = options.width ?? 960;
  const height = options.height ?? 400;
  const title = options.title ?? 'Training curves';
  const line = (
    name: string,
    color: string,
    dashed: boolean,
    value: (r: EpochRecord) => number | undefined,
  ): ChartSeries => ({
    name,
    color,
    dashed,
    points: epochs.map((r) => [r.epoch, finiteOrNaN(value(r))] as const),
  });
  const hasTest = epochs.some((r) => r.testLoss !== undefined || r.testAccuracy !== undefined);
  const percent = (v: number | undefined) => (v === undefined || v === null ? NaN : 100 * v);
  const loss = [line('train loss', TRAIN_COLOR, false, (r) => r.trainLoss)];
  const acc = [line('train accuracy', TRAIN_COLOR, false, (r) => percent(r.trainAccuracy))];
  if (hasTest) {
    loss.push(line('test loss', TEST_COLOR, true, (r) => r.testLoss));
    acc.push(line('test accuracy', TEST_COLOR, true, (r) => percent(r.testAccuracy)));
  }
  const top = 30;
  const panel = { y: top, width: width / 2, height: height - top, xLabel: 'epoch', integerX: true };
  const last = epochs[epochs.length - 1];
  const caption =
    `${title}: ${epochs.length} epoch${epochs.length === 1 ? '' : 's'}` +
    (Array.isArray(history) || !(history as History).stopped ? '' : ' (stopped early)');
  return svgDocument(
    width,
    height,
    [
      `<text x="${width / 2}" y="20" text-anchor="middle" font-size="16">${escapeXml(caption)}</text>`,
      chartPanel({ ...panel, x: 0, title: 'Loss', yLabel: 'cross-entropy loss', series: loss }),
      chartPanel({ ...panel, x: width / 2, title: 'Accuracy', yLabel: 'accuracy (%)', series: acc, yLimits: [0, 100] }),
      `<desc>last epoch ${last.epoch}: ${describeRecord(last)}</desc>`,
    ],
    title,
  );
}

/**
 * Reads a history JSON file as written by fit({ historyPath }) or `simdnet train --history` (null stands
 * for NaN there).
 * @throws FileFormatError naming the file when it is missing, not JSON, or not a history.
 *
 * @example
 * fs.writeFileSync('curves.svg', trainingCurvesSvg(readHistory('history.json')));
 */
export function readHistory(file: string): History {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileFormatError(
      file,
      code === 'ENOENT' ? 'no such file' : `not a JSON history (${(err as Error).message})`,
    );
  }
  const epochs = (value as History | null)?.epochs;
  if (value === null || typeof value !== 'object' || !Array.isArray(epochs)) {
    throw new FileFormatError(
      file,
      'not a training history: expected an object with an "epochs" array (from `simdnet train --history`)',
    );
  }
  const numeric = (v: unknown) => v === null || typeof v === 'number';
  epochs.forEach((r: unknown, i) => {
    const rec = r as Record<string, unknown> | null;
    const bad =
      rec === null ||
      typeof rec !== 'object' ||
      typeof rec.epoch !== 'number' ||
      !numeric(rec.trainLoss) ||
      !numeric(rec.trainAccuracy) ||
      ['testLoss', 'testAccuracy'].some((k) => rec[k] !== undefined && !numeric(rec[k]));
    if (bad)
      throw new FileFormatError(
        file,
        `epochs[${i}] is not an epoch record (needs numbers epoch, trainLoss, trainAccuracy): ${JSON.stringify(r)?.slice(0, 80)}`,
      );
  });
  return value as History;
}

function finiteOrNaN(v: number | null | undefined): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

function describeRecord(r: EpochRecord): string {
  const f = (v: number | null | undefined, scale = 1, digits = 4) =>
    typeof v === 'number' && Number.isFinite(v) ? (scale * v).toFixed(digits) : 'n/a';
  const parts = [`train loss ${f(r.trainLoss)}`, `train accuracy ${f(r.trainAccuracy, 100, 2)}%`];
  if (r.testLoss !== undefined || r.testAccuracy !== undefined)
    parts.push(`test loss ${f(r.testLoss)}`, `test accuracy ${f(r.testAccuracy, 100, 2)}%`);
  return parts.join(', ');
}
