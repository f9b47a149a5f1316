// SPDX-License-Identifier: MIT
// Tests of bench/combine.ts on made-up runs: per-run ratios against each run's best other system, and their median.
import type { CaseResult } from '../../bench/cases';
import type { ContentionResult } from '../../bench/cnn-report';
import { casesAcrossRuns, contentionAcrossRuns, median } from '../../bench/combine';

const ok = (system: string, batch: number, imagesPerSec: number, model?: string): CaseResult => ({
  model,
  case: 'infer',
  batch,
  system,
  imagesPerSec,
  status: 'ok',
});
const busy = (threads: number | null, imagesPerSec: number): ContentionResult => ({
  case: 'train',
  batch: 64,
  system: 'simdnet',
  imagesPerSec,
  status: 'ok',
  threads,
  threadsUsed: threads ?? 2,
});

test('median: odd and even counts, none', () => {
  expect(median([3, 1, 2])).toBe(2);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([])).toBeNull();
});

test('casesAcrossRuns: each run against its own best other system, then the median ratio', () => {
  const runs = [
    {
      cnn: {
        results: [
          ok('simdnet', 1, 2000, 'resnet20'),
          ok('onnxruntime', 1, 1000, 'resnet20'),
          ok('pytorch', 1, 400, 'resnet20'),
        ],
      },
    },
    { cnn: { results: [ok('simdnet', 1, 1500, 'resnet20'), ok('onnxruntime', 1, 2000, 'resnet20')] } },
    {
      cnn: {
        results: [
          ok('simdnet', 1, 3000, 'resnet20'),
          ok('pytorch', 1, 2500, 'resnet20'),
          ok('onnxruntime', 1, 2000, 'resnet20'),
        ],
      },
    },
  ];
  const table = casesAcrossRuns(runs).split('\n');
  expect(table).toHaveLength(3);
  expect(table[2]).toBe(
    '| resnet20, infer, batch 1 | 2,000 / 1,500 / 3,000 | 1,000 onnxruntime / 2,000 onnxruntime / 2,500 pytorch | 2.00x / 0.75x / 1.20x | 1.20x |',
  );
});

test('casesAcrossRuns: LeNet rows, and a run without the case', () => {
  const runs = [{ results: [ok('simdnet', 64, 90000), ok('onnxruntime', 64, 80000)] }, { results: [] }];
  expect(casesAcrossRuns(runs).split('\n')[2]).toBe(
    '| lenet, infer, batch 64 | 90,000 / - | 80,000 onnxruntime / - | 1.13x / - | 1.13x |',
  );
});

test('contentionAcrossRuns: the default over the best fixed count, per run', () => {
  const runs = [
    { contention: [busy(null, 900), busy(1, 1000), busy(2, 800)] },
    { contention: [busy(null, 1200), busy(1, 1000), busy(2, 1100)] },
  ];
  expect(contentionAcrossRuns(runs).split('\n')[2]).toBe('| lenet train, batch 64 | 0.90x / 1.09x | 1.00x |');
  expect(contentionAcrossRuns([{}])).toBe('');
});

test('casesAcrossRuns for simdnet-wasm: inference against tfjs-wasm, training against tfjs-cpu', () => {
  const train = (system: string, imagesPerSec: number): CaseResult => ({
    ...ok(system, 64, imagesPerSec),
    case: 'train',
  });
  const runs = [
    {
      results: [
        ok('simdnet', 64, 90000),
        ok('simdnet-wasm', 64, 20000),
        ok('tfjs-wasm', 64, 10000),
        ok('onnxruntime', 64, 80000),
        train('simdnet-wasm', 6000),
        train('tfjs-cpu', 6),
      ],
    },
  ];
  const [, , infer, trainRow] = casesAcrossRuns(runs, 'wasm').split('\n');
  expect(infer).toBe('| lenet, infer, batch 64 | 20,000 | 10,000 tfjs-wasm | 2.00x | 2.00x |');
  expect(trainRow).toBe('| lenet, train, batch 64 | 6,000 | 6.00 tfjs-cpu | 1000.00x | 1000.00x |');
  // simdnet's own rows never count simdnet-wasm as the best other library
  expect(casesAcrossRuns(runs).split('\n')[2]).toBe(
    '| lenet, infer, batch 64 | 90,000 | 80,000 onnxruntime | 1.13x | 1.13x |',
  );
});
