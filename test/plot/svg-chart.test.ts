// SPDX-License-Identifier: MIT
// Tests of lib/plot/svg-chart.ts: nice ticks, escaping, and a panel's lines, markers, gaps and legend.
import { chartPanel, escapeXml, niceTicks, svgDocument } from '../../lib/plot/svg-chart';
import { attributes, checkSvg, texts } from './svg-check';

test('niceTicks: steps of 1, 2 or 5 times a power of ten that cover the range', () => {
  expect(niceTicks(0.13, 0.92)).toEqual({ ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], lo: 0, hi: 1, step: 0.2 });
  expect(niceTicks(1.2345, 2.31).ticks).toEqual([1.2, 1.4, 1.6, 1.8, 2, 2.2, 2.4]);
  expect(niceTicks(1, 10, 8, true).ticks).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  expect(niceTicks(1, 30, 8, true).ticks).toEqual([0, 5, 10, 15, 20, 25, 30]);
  // Flat and empty ranges are widened rather than divided by zero.
  expect(niceTicks(1, 1, 1, true).ticks).toEqual([0, 1, 2]);
  expect(niceTicks(2.5, 2.5)).toMatchObject({ lo: 2.2, hi: 2.8 });
  expect(niceTicks(Infinity, -Infinity).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
});

test('escapeXml escapes markup characters', () => {
  expect(escapeXml(`a<b & "c" 'd'>`)).toBe('a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;');
});

test('a panel draws a polyline per finite run, a marker per point, ticks and a legend', () => {
  const panel = chartPanel({
    title: 'Loss <test>',
    xLabel: 'epoch',
    yLabel: 'loss',
    x: 0,
    y: 0,
    width: 480,
    height: 360,
    integerX: true,
    series: [
      {
        name: 'train',
        color: '#1f77b4',
        points: [
          [1, 2],
          [2, 1.5],
          [3, NaN],
          [4, 1.1],
          [5, 1],
        ],
      },
      {
        name: 'test & co',
        color: '#ff7f0e',
        dashed: true,
        points: [
          [1, 2.2],
          [2, 1.9],
          [3, 1.7],
          [4, 1.6],
          [5, 1.6],
        ],
      },
      { name: 'empty', color: '#000', points: [[1, NaN]] },
    ],
  });
  const svg = svgDocument(480, 360, [panel], 'a & b');
  const names = checkSvg(svg);
  const lines = attributes(svg, 'data-series');
  expect(lines).toEqual(['train', 'train', 'test &amp; co']); // the NaN at epoch 3 splits the train line
  expect(names.filter((n) => n === 'circle')).toHaveLength(4 + 5);
  expect(texts(svg, 'xtick')).toEqual(['1', '2', '3', '4', '5']);
  expect(texts(svg, 'ytick')).toEqual(['1.0', '1.2', '1.4', '1.6', '1.8', '2.0', '2.2']);
  expect(texts(svg)).toEqual(expect.arrayContaining(['Loss &lt;test&gt;', 'epoch', 'loss', 'train', 'test &amp; co']));
  expect(texts(svg)).not.toContain('empty'); // a series without a finite point has no legend entry
  expect(svg).toContain('stroke-dasharray="6 4"');
  // Every point lies inside the plot area (left 60 .. 464, top 34 .. 314).
  for (const pts of attributes(svg, 'points')) {
    for (const [x, y] of pts.split(' ').map((p) => p.split(',').map(Number))) {
      expect(x).toBeGreaterThanOrEqual(60);
      expect(x).toBeLessThanOrEqual(464);
      expect(y).toBeGreaterThanOrEqual(34);
      expect(y).toBeLessThanOrEqual(314);
    }
  }
});

test('yLimits clip the axis range: an accuracy axis never passes 100', () => {
  const svg = svgDocument(480, 360, [
    chartPanel({
      title: 'Accuracy',
      xLabel: 'epoch',
      yLabel: '%',
      x: 0,
      y: 0,
      width: 480,
      height: 360,
      yLimits: [0, 100],
      series: [
        {
          name: 'a',
          color: '#000',
          points: [
            [1, 91],
            [2, 99.5],
          ],
        },
      ],
    }),
  ]);
  checkSvg(svg);
  expect(
    texts(svg, 'ytick')
      .map(Number)
      .every((v) => v <= 100),
  ).toBe(true);
  expect(texts(svg, 'ytick').at(-1)).toBe('100');
});
