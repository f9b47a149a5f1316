// SPDX-License-Identifier: MIT
// Tests of lib/train/progress.ts: log-line schedule and format, bar output on a (fake) TTY, 'none', 'auto' and formatting helpers.
import {
  createProgress,
  formatBatchLine,
  formatDuration,
  formatPercent,
  type BatchProgress,
} from '../../lib/train/progress';
import { collector } from './synthetic';

const at = (batch: number, total = 20): BatchProgress => ({
  batch,
  loss: 2 - batch / total,
  accuracy: batch / (2 * total),
  imagesPerSecond: 640,
  seconds: batch / 10,
});

function runEpoch(mode: 'auto' | 'bar' | 'log' | 'none', total: number | undefined, batches: number, isTTY = false) {
  const out = collector(isTTY);
  const p = createProgress({ mode, stream: out });
  p.startEpoch(1, 3, total);
  for (let b = 1; b <= batches; b++) p.update(at(b, total ?? 20));
  p.endEpoch();
  return out;
}

test('log mode: a line every 10% of the epoch, the last at 100%', () => {
  const lines = runEpoch('log', 20, 20).lines();
  expect(lines).toHaveLength(10);
  expect(lines.map((l) => /batch\s+(\d+)\/20/.exec(l)?.[1])).toEqual([
    '2',
    '4',
    '6',
    '8',
    '10',
    '12',
    '14',
    '16',
    '18',
    '20',
  ]);
  expect(lines[0]).toBe('epoch 1/3  batch  2/20 (10%)  loss 1.9000  acc 5.00%  640 img/s  ETA 0:02');
  expect(lines[9]).toMatch(/batch 20\/20 \(100%\).*ETA 0:00$/);
});

test('log mode: uneven totals, a short epoch and an epoch cut short all end with a line for the last batch', () => {
  const odd = runEpoch('log', 782, 782).lines();
  expect(odd).toHaveLength(10);
  expect(odd[0]).toMatch(/batch {2}79\/782 \(10%\)/);
  expect(runEpoch('log', 3, 3).lines()).toHaveLength(3);
  const cut = runEpoch('log', 100, 15).lines();
  expect(cut.map((l) => /batch\s+(\d+)/.exec(l)?.[1])).toEqual(['10', '15']);
  // No known length: every 50 batches, then the last.
  const unknown = runEpoch('log', undefined, 120).lines();
  expect(unknown.map((l) => /batch (\d+)/.exec(l)?.[1])).toEqual(['50', '100', '120']);
});

test('bar mode draws a cli-progress bar with epoch, batches, loss, accuracy, images/s and ETA', () => {
  const text = runEpoch('bar', 20, 20, true).text();
  expect(text).toContain('epoch 1/3 [');
  expect(text).toMatch(/20\/20 \| loss 1\.0000 \| acc 50\.00% \| 640 img\/s \| ETA \d+s/);
});

test("'auto' picks the bar on a TTY and log lines elsewhere; 'none' is silent", () => {
  expect(runEpoch('auto', 20, 20, true).text()).toContain('[');
  expect(runEpoch('auto', 20, 20, false).lines()).toHaveLength(10);
  expect(runEpoch('none', 20, 20, true).text()).toBe('');
});

test('bar mode without a known length falls back to log lines', () => {
  expect(runEpoch('bar', undefined, 60, true).lines()).toHaveLength(2);
});

test('bad options', () => {
  expect(() => createProgress({ mode: 'fancy' as never })).toThrow(/auto', 'bar', 'log', 'none', got 'fancy'/);
  expect(() => createProgress({ mode: 'fancy' as never })).toThrow(RangeError);
  expect(() => createProgress({ mode: 1 as never })).toThrow(TypeError);
  expect(() => createProgress({ logEvery: 0 })).toThrow(/progress: logEvery must be > 0, got 0/);
  expect(() => createProgress({ logEvery: 1.5 })).toThrow(/progress: logEvery must be <= 1, got 1.5/);
  expect(() => createProgress({ logEvery: 0 })).toThrow(RangeError);
  expect(() => createProgress({ logEvery: '0.1' as never })).toThrow(TypeError);
});

test('formatting helpers', () => {
  expect(formatPercent(0.63214)).toBe('63.21%');
  expect(formatPercent(NaN)).toBe('n/a');
  expect(formatDuration(42)).toBe('0:42');
  expect(formatDuration(3725)).toBe('1:02:05');
  expect(formatDuration(Infinity)).toBe('?');
  expect(formatBatchLine(2, 10, undefined, at(7))).toBe('epoch  2/10  batch 7  loss 1.6500  acc 17.50%  640 img/s');
});

test('the test evaluation after an epoch is a phase of its own: a bar of test batches, or one log line', () => {
  const tty = collector(true);
  const bar = createProgress({ mode: 'bar', stream: tty });
  bar.startEpoch(2, 3, 20);
  for (let b = 1; b <= 20; b++) bar.update(at(b));
  bar.endEpoch();
  const trained = tty.text().length;
  bar.startEvaluation!(40);
  for (let b = 1; b <= 40; b++) bar.updateEvaluation!(b);
  bar.endEvaluation!();
  // Not the training bar frozen at "ETA 0s": the evaluation's own bar, drawn up to its end.
  const evaluation = tty.text().slice(trained);
  expect(evaluation).toContain('epoch 2/3 evaluating [');
  expect(evaluation).toMatch(/40\/40 test batches \| ETA 0s/);

  const log = collector(false);
  const lines = createProgress({ mode: 'log', stream: log });
  lines.startEpoch(2, 10, 20);
  lines.startEvaluation!(40);
  for (let b = 1; b <= 40; b++) lines.updateEvaluation?.(b);
  lines.endEvaluation?.();
  expect(log.lines()).toEqual(['epoch  2/10  evaluating on the test set (40 batches)']);
  expect(runEpoch('none', 20, 20, true).text()).toBe('');
});
