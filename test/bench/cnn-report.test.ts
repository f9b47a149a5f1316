// SPDX-License-Identifier: MIT
// Tests of bench/cnn-report.ts on made-up results: ratios, the best other system, % of peak and the Markdown tables.
import type { CaseResult } from '../../bench/cases';
import {
  bestFixed,
  bestOther,
  cell,
  cnnTable,
  type ContentionResult,
  contentionTable,
  medianRound,
  modelGflops,
  speedRatio,
} from '../../bench/cnn-report';

const ok = (system: string, kind: 'train' | 'infer', batch: number, imagesPerSec: number): CaseResult => ({
  model: 'resnet20',
  case: kind,
  batch,
  system,
  imagesPerSec,
  status: 'ok',
  reps: 3,
  callsPerRep: 1,
});
const not = (system: string, kind: 'train' | 'infer', batch: number, status: CaseResult['status']): CaseResult => ({
  model: 'resnet20',
  case: kind,
  batch,
  system,
  imagesPerSec: null,
  status,
  note: 'why',
});

test('modelGflops: 2 x MACs x images/s, three times that for training', () => {
  expect(modelGflops(40e6, 'infer', 1000)).toBeCloseTo(80, 10);
  expect(modelGflops(40e6, 'train', 1000)).toBeCloseTo(240, 10);
});

test('speedRatio and bestOther', () => {
  const group = [
    ok('simdnet', 'infer', 64, 3000),
    ok('pytorch', 'infer', 64, 2000),
    ok('onnxruntime', 'infer', 64, 2500),
  ];
  group.push(not('tfjs-cpu', 'infer', 64, 'error'));
  expect(bestOther(group)?.system).toBe('onnxruntime');
  expect(speedRatio(group[0], bestOther(group))).toBeCloseTo(1.2, 12);
  expect(speedRatio(group[0], group[3])).toBeNull();
  expect(speedRatio(undefined, group[0])).toBeNull();
  expect(bestOther([group[0], group[3]])).toBeUndefined();
});

test('cell: a rate, "-" for a case not run, else the status', () => {
  expect(cell(ok('x', 'infer', 1, 1234.4))).toBe('1,234');
  expect(cell(ok('x', 'infer', 1, 12.34))).toBe('12.3');
  expect(cell(not('x', 'train', 64, 'skipped'))).toBe('-');
  expect(cell(not('x', 'train', 64, 'cannot train'))).toBe('cannot train');
  expect(cell(undefined)).toBe('');
});

test('cnnTable: rows train before infer by batch, systems in order, ratio to the best other, % peak', () => {
  const results = [
    ok('onnxruntime', 'infer', 64, 3000),
    ok('simdnet', 'infer', 64, 2400),
    ok('simdnet', 'train', 128, 400),
    ok('pytorch', 'train', 128, 200),
    ok('pytorch-cl', 'train', 128, 250),
    not('tfjs-wasm', 'train', 128, 'cannot train'),
    not('onnxruntime', 'train', 128, 'skipped'),
    { ...ok('simdnet', 'infer', 64, 1), model: 'vgg' }, // another model: not in this table
  ];
  const peaks: Record<string, number> = { simdnet: 400, pytorch: 400, 'pytorch-cl': 400, onnxruntime: 400 };
  const t = cnnTable({ name: 'resnet20', title: 'ResNet-20', macsPerImage: 40e6 }, results, (s) => peaks[s] ?? null);
  const lines = t.split('\n');
  expect(lines[0]).toBe(
    '| ResNet-20 (40.0M MACs/image), images/s | simdnet | PyTorch | PyTorch channels_last | onnxruntime | tfjs wasm | tfjs cpu | simdnet ÷ best other | % FMA peak: simdnet / best other |',
  );
  expect(lines[1]).toBe('|---|---|---|---|---|---|---|---|---|');
  // train 128: 400 / 250 = 1.60x; simdnet 3 x 2 x 40M x 400 = 96 GFLOP/s = 24% of 400; channels_last 15%.
  expect(lines[2]).toBe(
    '| train, batch 128 | 400 | 200 | 250 | - | cannot train |  | 1.60x PyTorch channels_last | 24% / 15% |',
  );
  // infer 64: 2400 / 3000 = 0.80x; 2 x 40M x 2400 = 192 GFLOP/s = 48%; onnxruntime 60%.
  expect(lines[3]).toBe('| infer, batch 64 | 2,400 |  |  | 3,000 |  |  | 0.80x onnxruntime | 48% / 60% |');
  expect(lines).toHaveLength(4);
});

test('cnnTable without a peak probe or another system: dashes', () => {
  const t = cnnTable({ name: 'resnet20', title: 'R', macsPerImage: 1e6 }, [ok('simdnet', 'infer', 1, 10)], () => null);
  expect(t.split('\n')[2]).toBe('| infer, batch 1 | 10.0 |  |  |  |  |  | - | - / - |');
});

test('contentionTable: default threads (count used), fixed counts, default ÷ best fixed', () => {
  const r = (model: string, batch: number, threads: number | null, ips: number | null): ContentionResult => ({
    ...(ips ? ok('simdnet', 'train', batch, ips) : not('simdnet', 'train', batch, 'error')),
    model,
    threads,
    threadsUsed: threads ?? 2,
  });
  const results = [
    r('lenet', 64, null, 8000),
    r('lenet', 64, 1, 19000),
    r('lenet', 64, 2, 8100),
    r('resnet20', 128, null, 180),
    r('resnet20', 128, 1, null),
    r('resnet20', 128, 2, 200),
  ];
  expect(bestFixed(results.slice(0, 3))?.threads).toBe(1);
  expect(bestFixed(results.slice(3))?.threads).toBe(2);
  const lines = contentionTable(results, { lenet: 'LeNet', resnet20: 'ResNet-20' }).split('\n');
  expect(lines[0]).toBe(
    '| with one busy loop, images/s | default threads | --threads 1 | --threads 2 | default ÷ best fixed |',
  );
  expect(lines[2]).toBe('| LeNet train, batch 64 | 8,000 (2) | 19,000 | 8,100 | 0.42x |');
  expect(lines[3]).toBe('| ResNet-20 train, batch 128 | 180 (2) | error | 200 | 0.90x |');
});

test('medianRound: the median round, every round listed in round order; a failed round is the result', () => {
  const r = (ips: number | null, threadsUsed = 2): ContentionResult => ({
    ...(ips ? ok('simdnet', 'train', 64, ips) : not('simdnet', 'train', 64, 'error')),
    model: 'lenet',
    threads: null,
    threadsUsed,
  });
  const m = medianRound([r(300, 1), r(100), r(200, 2)]);
  expect(m.imagesPerSec).toBe(200);
  expect(m.threadsUsed).toBe(2);
  expect(m.rounds).toEqual([300, 100, 200]);
  expect(medianRound([r(100), r(200)]).imagesPerSec).toBe(100); // an even count: the lower middle
  expect(medianRound([r(300), r(null), r(200)]).status).not.toBe('ok');
});
