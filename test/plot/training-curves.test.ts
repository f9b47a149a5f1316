// SPDX-License-Identifier: MIT
// Tests of lib/plot/training-curves.ts: the SVG of a History (many epochs, one epoch, NaN values, no test set) and reading history files.
import * as fs from 'fs';
import * as path from 'path';
import { FileFormatError } from '../../lib/errors';
import { readHistory, trainingCurvesSvg } from '../../lib/plot/training-curves';
import type { EpochRecord, History } from '../../lib/train/trainer';
import { writeJsonAtomic } from '../../lib/io/atomic-file';
import { tempDir } from '../cli/helpers';
import { attributes, checkSvg, texts } from './svg-check';

const record = (epoch: number, extra: Partial<EpochRecord> = {}): EpochRecord => ({
  epoch,
  trainLoss: 2 / epoch,
  trainAccuracy: 0.3 + 0.05 * epoch,
  testLoss: 2.1 / epoch + 0.1,
  testAccuracy: 0.28 + 0.04 * epoch,
  seconds: 10,
  imagesPerSecond: 5000,
  ...extra,
});
const history = (n: number, extra: (e: number) => Partial<EpochRecord> = () => ({})): History => ({
  epochs: Array.from({ length: n }, (_, i) => record(i + 1, extra(i + 1))),
  stopped: false,
});
const pointCount = (pts: string) => pts.split(' ').length;

test('ten epochs: loss and accuracy panels, train solid and test dashed, one point per epoch', () => {
  const svg = trainingCurvesSvg(history(10));
  const names = checkSvg(svg);
  expect(attributes(svg, 'data-title')).toEqual(['Loss', 'Accuracy']);
  expect(attributes(svg, 'data-series')).toEqual(['train loss', 'test loss', 'train accuracy', 'test accuracy']);
  expect(attributes(svg, 'points').map(pointCount)).toEqual([10, 10, 10, 10]);
  expect(names.filter((n) => n === 'circle')).toHaveLength(40);
  expect(texts(svg)).toEqual(
    expect.arrayContaining(['Training curves: 10 epochs', 'epoch', 'cross-entropy loss', 'accuracy (%)']),
  );
  expect(texts(svg, 'xtick')).toEqual([
    '1',
    '2',
    '3',
    '4',
    '5',
    '6',
    '7',
    '8',
    '9',
    '10',
    '1',
    '2',
    '3',
    '4',
    '5',
    '6',
    '7',
    '8',
    '9',
    '10',
  ]);
  expect(svg).toMatch(
    /<desc>last epoch 10: train loss 0.2000, train accuracy 80.00%, test loss 0.3100, test accuracy 68.00%<\/desc>/,
  );
  // Train accuracy rises: its y coordinates (SVG y grows downwards) fall.
  const ys = attributes(svg, 'points')[2]
    .split(' ')
    .map((p) => Number(p.split(',')[1]));
  expect([...ys].sort((a, b) => b - a)).toEqual(ys);
});

test('one epoch still draws a marker for each value, with an epoch tick at 1', () => {
  const svg = trainingCurvesSvg([record(1)], { title: 'One' });
  const names = checkSvg(svg);
  expect(attributes(svg, 'points').map(pointCount)).toEqual([1, 1, 1, 1]);
  expect(names.filter((n) => n === 'circle')).toHaveLength(4);
  expect(texts(svg, 'xtick')).toContain('1');
  expect(texts(svg)).toContain('One: 1 epoch');
});

test('NaN and null values are left out and break the line; no test set means train lines only', () => {
  const h = history(5, (e) => (e === 3 ? { trainLoss: NaN, trainAccuracy: null as never } : {}));
  h.epochs.forEach((r) => {
    delete r.testLoss;
    delete r.testAccuracy;
  });
  h.stopped = true;
  const svg = trainingCurvesSvg(h);
  checkSvg(svg);
  expect(attributes(svg, 'data-series')).toEqual(['train loss', 'train loss', 'train accuracy', 'train accuracy']);
  expect(attributes(svg, 'points').map(pointCount)).toEqual([2, 2, 2, 2]);
  expect(texts(svg)).toContain('Training curves: 5 epochs (stopped early)');
  // Every value non-finite: the panels still render, with no lines.
  const blank = trainingCurvesSvg([
    record(1, { trainLoss: NaN, trainAccuracy: NaN, testLoss: NaN, testAccuracy: NaN }),
  ]);
  checkSvg(blank);
  expect(attributes(blank, 'data-series')).toEqual([]);
});

test('errors: no epoch, not a history', () => {
  expect(() => trainingCurvesSvg({ epochs: [], stopped: true })).toThrow(
    /trainingCurvesSvg: the history has no finished epoch to plot/,
  );
  expect(() => trainingCurvesSvg(null as never)).toThrow(TypeError);
});

describe('readHistory', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('simdnet-history-');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('reads what fit() writes, NaN written as null included', () => {
    const file = path.join(dir, 'h.json');
    const h = history(3, (e) => (e === 2 ? { testLoss: NaN } : {}));
    writeJsonAtomic(file, h);
    const back = readHistory(file);
    expect(back.epochs).toHaveLength(3);
    expect(back.epochs[1].testLoss).toBeNull();
    expect(attributes(trainingCurvesSvg(back), 'data-series')).toEqual([
      'train loss',
      'test loss',
      'test loss',
      'train accuracy',
      'test accuracy',
    ]);
  });

  test.each([
    ['missing', null, /no such file/],
    ['not JSON', '{"epochs": [', /not a JSON history/],
    ['without epochs', '{"stopped": false}', /expected an object with an "epochs" array/],
    ['JSON null', 'null', /expected an object with an "epochs" array/],
    [
      'a bad record',
      '{"epochs": [{"epoch": 1, "trainLoss": "low", "trainAccuracy": 0.5}]}',
      /epochs\[0\] is not an epoch record/,
    ],
    [
      'a bad test value',
      '{"epochs": [{"epoch": 1, "trainLoss": 1, "trainAccuracy": 0.5, "testAccuracy": "high"}]}',
      /epochs\[0\]/,
    ],
  ])('%s: FileFormatError naming the file', (name, content, message) => {
    const file = path.join(dir, `${name}.json`);
    if (content !== null) fs.writeFileSync(file, content);
    const call = () => readHistory(file);
    expect(call).toThrow(FileFormatError);
    expect(call).toThrow(message);
    expect(call).toThrow(file);
  });
});

test('the legend covers no curve: it sits above each plot area, also when accuracy ends near 100% on the right', () => {
  // Accuracy rising to 99%: its last points are in the top-right corner of the accuracy plot.
  const svg = trainingCurvesSvg(
    history(20, (e) => ({ trainAccuracy: 0.5 + 0.0245 * e, testAccuracy: 0.45 + 0.025 * e, trainLoss: 1 / e })),
  );
  checkSvg(svg);
  const panels = svg.split('<g class="panel"').slice(1);
  expect(panels).toHaveLength(2);
  for (const panel of panels) {
    const rect = /<g class="legend"><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/.exec(panel);
    expect(rect).not.toBeNull();
    const [x, y, w, h] = rect!.slice(1).map(Number);
    // Every drawn point (polyline vertices and markers) and the plot's axes lie outside the legend's box.
    const points = [
      ...attributes(panel, 'points').flatMap((pts) => pts.split(' ').map((p) => p.split(',').map(Number))),
      ...[...panel.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]),
    ];
    expect(points.length).toBeGreaterThan(0);
    const inside = points.filter(([px, py]) => px >= x && px <= x + w && py >= y && py <= y + h);
    expect(inside).toEqual([]);
    const axesTop = Number(/<path class="axes" d="M[\d.]+,([\d.]+)/.exec(panel)![1]);
    expect(y + h).toBeLessThanOrEqual(axesTop);
  }
  expect(texts(svg)).toEqual(expect.arrayContaining(['train accuracy', 'test accuracy', 'train loss', 'test loss']));
});
