// SPDX-License-Identifier: MIT
// Tests of bench/options.ts: the bench's command line and which CNN cases a run takes, and why the others are skipped.
import {
  CNN_MODELS,
  CNN_SYSTEMS,
  cnnPlan,
  cnnSkipReason,
  CONTENTION_CASES,
  CONTENTION_ROUNDS,
  CONTENTION_THREADS,
  contentionOrder,
  parseArgs,
  SECTIONS,
  UsageError,
} from '../../bench/options';

const JSON_DEFAULT = 'build/bench-results.json';

test('no arguments: every section, both CNNs, the full run', () => {
  const a = parseArgs([], JSON_DEFAULT);
  expect(a).toEqual({
    quick: false,
    json: JSON_DEFAULT,
    only: new Set(SECTIONS),
    models: [...CNN_MODELS],
    help: false,
  });
  expect([...a.only]).toEqual(['train', 'infer', 'kernels', 'cnn', 'contention']);
});

test('--only and --models pick cases; duplicates are dropped', () => {
  const a = parseArgs(['--only', 'cnn,contention,cnn', '--models', 'vgg', '--quick', '--json', 'x.json'], JSON_DEFAULT);
  expect([...a.only]).toEqual(['cnn', 'contention']);
  expect(a.models).toEqual(['vgg']);
  expect(a.quick).toBe(true);
  expect(a.json).toBe('x.json');
  expect(parseArgs(['--help'], JSON_DEFAULT).help).toBe(true);
});

test.each([
  [['--only', 'cnn,gpu'], /--only takes train, infer, kernels, cnn, contention; got gpu/],
  [['--models', 'resnet56'], /--models takes resnet20, vgg; got resnet56/],
  [['--models'], /--models needs a value/],
  [['--json', '--quick'], /--json needs a value/],
  [['--fast'], /unknown option --fast/],
])('bad arguments %j: a UsageError naming the option', (argv, message) => {
  expect(() => parseArgs(argv, JSON_DEFAULT)).toThrow(UsageError);
  expect(() => parseArgs(argv, JSON_DEFAULT)).toThrow(message);
});

test('cnnPlan: per model, train 64 and 128 then infer 1 and 64, each for every system in table order', () => {
  const plan = cnnPlan(['resnet20']);
  expect(plan).toHaveLength(4 * CNN_SYSTEMS.length);
  expect(plan.slice(0, CNN_SYSTEMS.length).map((c) => c.system)).toEqual([...CNN_SYSTEMS]);
  const keys = [...new Set(plan.map((c) => `${c.case} ${c.batch}`))];
  expect(keys).toEqual(['train 64', 'train 128', 'infer 1', 'infer 64']);
  expect(new Set(cnnPlan(['vgg', 'resnet20']).map((c) => c.model))).toEqual(new Set(['vgg', 'resnet20']));
  expect(cnnPlan([])).toEqual([]);
});

test('cnnSkipReason: what each system does not run, and what --quick leaves out', () => {
  const runs = (quick: boolean) =>
    cnnPlan(['vgg'])
      .filter((c) => cnnSkipReason(c, quick) === null)
      .map((c) => `${c.system} ${c.case} ${c.batch}`);
  const full = runs(false);
  // simdnet and both PyTorch layouts run everything; onnxruntime and tfjs infer only.
  for (const s of ['simdnet', 'pytorch', 'pytorch-cl'])
    expect(full.filter((k) => k.startsWith(`${s} `))).toEqual([
      `${s} train 64`,
      `${s} train 128`,
      `${s} infer 1`,
      `${s} infer 64`,
    ]);
  for (const s of ['onnxruntime', 'tfjs-wasm', 'tfjs-cpu'])
    expect(full.filter((k) => k.startsWith(`${s} `))).toEqual([`${s} infer 1`, `${s} infer 64`]);
  expect(full.length - runs(true).length).toBe(1);
  expect(runs(true)).not.toContain('tfjs-cpu infer 64');
  expect(cnnSkipReason({ system: 'tfjs-wasm', case: 'train', batch: 64 }, false)).toMatch(/^cannot train: /);
  expect(cnnSkipReason({ system: 'onnxruntime', case: 'train', batch: 64 }, false)).toBe('inference only');
});

test('contention: the default first, then fixed counts; LeNet and ResNet-20 training', () => {
  expect(CONTENTION_THREADS[0]).toBeNull();
  expect(CONTENTION_THREADS.slice(1)).toEqual([1, 2]);
  expect(CONTENTION_CASES.map((c) => `${c.model} ${c.batch}`)).toEqual(['lenet 64', 'resnet20 128']);
});

test('contention rounds: each setting runs first in one round, and every round runs each setting once', () => {
  const orders = Array.from({ length: CONTENTION_ROUNDS }, (_, r) => contentionOrder(r));
  expect(orders[0]).toEqual(CONTENTION_THREADS);
  expect(orders.map((o) => o[0])).toEqual([null, 1, 2]);
  for (const o of orders) expect([...o].sort()).toEqual([...CONTENTION_THREADS].sort());
});
