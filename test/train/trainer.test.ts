// SPDX-License-Identifier: MIT
// Tests of lib/train/trainer.ts and its parts (epoch-runner, resume, fit-options, fit-progress): learning on synthetic
// data, history file, NaN guard, abort, event-loop yields, progress and epoch lines, options.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataLoader } from '../../lib/data/loader';
import { TensorDataset, type Batch } from '../../lib/data/dataset';
import { NonFiniteLossError } from '../../lib/errors';
import { Adam } from '../../lib/optim/adam';
import { Tensor } from '../../lib/tensor/tensor';
import { formatEpochLine } from '../../lib/train/fit-progress';
import { writeJsonAtomic } from '../../lib/io/atomic-file';
import { fit, type FitOptions } from '../../lib/train/trainer';
import { blobs, collector, tinyModel } from './synthetic';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-fit-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function setup(overrides: Partial<FitOptions> = {}) {
  const model = tinyModel(0);
  const options: FitOptions = {
    trainLoader: new DataLoader(blobs(96, 1), { batchSize: 8, shuffle: true, seed: 3 }),
    testLoader: new DataLoader(blobs(30, 2), { batchSize: 16 }),
    optimizer: new Adam(model.parameters(), { lr: 0.05 }),
    epochs: 4,
    progress: 'none',
    ...overrides,
  };
  return { model, options };
}

/** Counts optimizer steps. */
function counting(opt: Adam): Adam & { steps: number } {
  const c = opt as Adam & { steps: number };
  c.steps = 0;
  const step = opt.step.bind(opt);
  c.step = () => {
    c.steps++;
    step();
  };
  return c;
}

test('a small model learns the synthetic data: loss falls, accuracy rises, history is written after every epoch', async () => {
  const historyPath = path.join(dir, 'history.json');
  const seen: number[] = [];
  const { model, options } = setup({
    historyPath,
    onEpochEnd: (record) => {
      seen.push(record.epoch);
      // The file already holds this epoch when the callback runs.
      expect(JSON.parse(fs.readFileSync(historyPath, 'utf8')).epochs).toHaveLength(record.epoch);
    },
  });
  const history = await fit(model, options);
  expect(seen).toEqual([1, 2, 3, 4]);
  expect(history.stopped).toBe(false);
  const [first, last] = [history.epochs[0], history.epochs[3]];
  expect(last.trainLoss).toBeLessThan(first.trainLoss * 0.5);
  expect(last.trainAccuracy).toBeGreaterThan(0.9);
  expect(last.testAccuracy).toBeGreaterThan(0.9);
  expect(last.testLoss).toBeLessThan(first.testLoss!);
  expect(Object.keys(first)).toEqual([
    'epoch',
    'trainLoss',
    'trainAccuracy',
    'testLoss',
    'testAccuracy',
    'seconds',
    'imagesPerSecond',
  ]);
  expect(first.seconds).toBeGreaterThan(0);
  expect(first.imagesPerSecond).toBeGreaterThan(0);
  expect(JSON.parse(fs.readFileSync(historyPath, 'utf8'))).toEqual(history);
  expect(fs.readdirSync(dir)).toEqual(['history.json']); // no temp files left
  expect(model.training).toBe(true);
});

test('the same seeds give the same history numbers', async () => {
  const a = await fit(...(Object.values(setup({ testLoader: undefined })) as [never, never]));
  const b = await fit(...(Object.values(setup({ testLoader: undefined })) as [never, never]));
  expect(b.epochs.map((e) => e.trainLoss)).toEqual(a.epochs.map((e) => e.trainLoss));
});

test('a NaN input makes a NonFiniteLossError naming the epoch and batch and suggesting a lower learning rate', async () => {
  const data = blobs(24, 1);
  const images = new Float32Array(24 * 4);
  data.getBatch(
    Int32Array.from({ length: 24 }, (_, i) => i),
    images,
    new Int32Array(24),
  );
  images[9 * 4 + 1] = NaN; // sample 9 is in batch 3 of 4-sample batches
  const poisoned = new TensorDataset(
    new Tensor(images, [24, 1, 2, 2]),
    Int32Array.from({ length: 24 }, (_, i) => i % 3),
  );
  const { model, options } = setup({ trainLoader: new DataLoader(poisoned, { batchSize: 4 }), testLoader: undefined });
  const err = await fit(model, options).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(NonFiniteLossError);
  expect((err as Error).message).toMatch(/loss is NaN at epoch 1, batch 3\/6/);
  expect((err as Error).message).toMatch(/lower learning rate \(lr = 0\.05\)/);
});

test('an infinite loss from the loss function is caught too', async () => {
  const lossFn = { forward: () => Infinity, backward: () => Tensor.zeros([8, 3]) };
  const { model, options } = setup({ lossFn });
  await expect(fit(model, options)).rejects.toThrow(/loss is Infinity at epoch 1, batch 1\/12/);
});

test('aborting mid-epoch stops after the current batch and returns the finished epochs with stopped: true', async () => {
  const controller = new AbortController();
  const historyPath = path.join(dir, 'h.json');
  const { model, options } = setup({ signal: controller.signal, historyPath });
  const opt = counting(options.optimizer as Adam);
  let batches = 0;
  const history = await fit(model, {
    ...options,
    progress: {
      startEpoch() {},
      endEpoch() {},
      update(p) {
        batches++;
        if (batches === 12 + 5) controller.abort(); // epoch 2, batch 5
        expect(p.batch).toBeGreaterThan(0);
      },
    },
  });
  expect(opt.steps).toBe(17);
  expect(history.stopped).toBe(true);
  expect(history.stoppedAt).toEqual({ epoch: 2, batch: 5 });
  expect(history.epochs.map((e) => e.epoch)).toEqual([1]);
  expect(JSON.parse(fs.readFileSync(historyPath, 'utf8'))).toEqual(history);
});

test('aborting in onEpochEnd stops before the next epoch; an already aborted signal trains nothing', async () => {
  const controller = new AbortController();
  const { model, options } = setup({ signal: controller.signal, onEpochEnd: () => controller.abort() });
  const history = await fit(model, options);
  expect(history).toMatchObject({ stopped: true, stoppedAt: { epoch: 2, batch: 0 } });
  expect(history.epochs).toHaveLength(1);

  const again = setup({ signal: AbortSignal.abort() });
  const opt = counting(again.options.optimizer as Adam);
  expect(await fit(again.model, again.options)).toEqual({
    epochs: [],
    stopped: true,
    stoppedAt: { epoch: 1, batch: 0 },
  });
  expect(opt.steps).toBe(0);
});

test('fit yields to the event loop between batches: a timer can abort an endless loader', async () => {
  const batch: Batch = { images: new Tensor(new Float32Array(2 * 4), [2, 1, 2, 2]), labels: Int32Array.from([0, 1]) };
  const endless = {
    *[Symbol.iterator]() {
      for (;;) yield batch;
    },
  };
  const { model, options } = setup({
    trainLoader: endless,
    testLoader: undefined,
    epochs: 1,
    signal: AbortSignal.timeout(30),
  });
  const history = await fit(model, options);
  expect(history.stopped).toBe(true);
  expect(history.stoppedAt!.batch).toBeGreaterThan(0);
});

test("progress 'log' writes batch lines and, per epoch, the train and test accuracy to the injected stream", async () => {
  const out = collector();
  const { model, options } = setup({ progress: 'log', progressStream: out, epochs: 2 });
  const history = await fit(model, options);
  const lines = out.lines();
  // 12 batches: a line at every 10% threshold crossed (10 per epoch), one as the test set is evaluated,
  // then the epoch's summary line.
  expect(lines).toHaveLength(24);
  expect(lines[0]).toMatch(
    /^epoch 1\/2 {2}batch {2}2\/12 \(16%\) {2}loss \d+\.\d{4} {2}acc \d+\.\d{2}% {2}\d+ img\/s {2}ETA \d+:\d{2}$/,
  );
  expect(lines[9]).toMatch(/^epoch 1\/2 {2}batch 12\/12 \(100%\)/);
  const summary = (e: number) => formatEpochLine(history.epochs[e - 1], 2);
  expect(lines[10]).toBe('epoch 1/2  evaluating on the test set (2 batches)');
  expect(lines[11]).toBe(summary(1));
  expect(lines[11]).toMatch(
    /^epoch 1\/2 {2}train loss \d+\.\d{4} acc \d+\.\d{2}% {2}test loss \d+\.\d{4} acc \d+\.\d{2}% {2}\d+\.\ds {2}\d+ img\/s$/,
  );
  expect(lines[11]).toContain(
    `test loss ${history.epochs[0].testLoss!.toFixed(4)} acc ${(100 * history.epochs[0].testAccuracy!).toFixed(2)}%`,
  );
  expect(lines[21]).toMatch(/^epoch 2\/2 {2}batch 12\/12 \(100%\)/);
  expect(lines[23]).toBe(summary(2));
});

test('epochSummary: false leaves only the batch lines; a custom reporter gets epochSummary() calls', async () => {
  const out = collector();
  const quiet = setup({ progress: 'log', progressStream: out, epochs: 2, epochSummary: false });
  await fit(quiet.model, quiet.options);
  // 10 batch lines and one 'evaluating' line per epoch, no summary lines.
  expect(out.lines()).toHaveLength(22);
  expect(out.lines().every((l) => /batch|evaluating/.test(l))).toBe(true);

  const records: [number, number | undefined, number][] = [];
  const { model, options } = setup({
    epochs: 2,
    progress: {
      startEpoch() {},
      update() {},
      endEpoch() {},
      epochSummary: (r, epochs) => records.push([r.epoch, r.testAccuracy, epochs]),
    },
  });
  const history = await fit(model, options);
  expect(records).toEqual(history.epochs.map((e) => [e.epoch, e.testAccuracy, 2]));
  expect(records[1][1]).toBeGreaterThan(0.5);
});

test('option errors are reported before training', async () => {
  const { model, options } = setup();
  await expect(fit(model, { ...options, epochs: 0 })).rejects.toThrow(/epochs must be an integer >= 1/);
  await expect(fit(model, { ...options, epochs: 1.5 })).rejects.toThrow(RangeError);
  await expect(fit(model, { ...options, optimizer: {} as never })).rejects.toThrow(/optimizer must have step/);
  await expect(fit(model, { ...options, progress: 'loud' as never })).rejects.toThrow(
    /progress: mode must be one of 'auto', 'bar', 'log', 'none', got 'loud'/,
  );
  await expect(fit(model, { ...options, trainLoader: null as never })).rejects.toThrow(
    /trainLoader must be an iterable/,
  );
  await expect(fit(model, { ...options, lr: 1 } as never)).rejects.toThrow(RangeError);
  await expect(fit(model, { ...options, lr: 1 } as never)).rejects.toThrow(/fit: unknown option 'lr' \(known: /);
  await expect(fit(model, { ...options, epochSummary: 'yes' } as never)).rejects.toThrow(TypeError);
  await expect(fit(model, { ...options, historyPath: '' })).rejects.toThrow(RangeError);
  await expect(fit(model, { ...options, signal: {} as never })).rejects.toThrow(/signal must be an AbortSignal/);
  await expect(fit({} as never, options)).rejects.toThrow(/model must be a Module/);
});

test('writeJsonAtomic replaces the file in one step and leaves no temp file on failure', () => {
  const file = path.join(dir, 'x.json');
  writeJsonAtomic(file, { a: 1, b: NaN });
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ a: 1, b: null });
  writeJsonAtomic(file, { a: 2 });
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ a: 2 });
  expect(() => writeJsonAtomic(path.join(dir, 'missing', 'y.json'), {})).toThrow(/ENOENT/);
  expect(fs.readdirSync(dir)).toEqual(['x.json']);
});

test('resumeFrom and checkpoint are checked up front', async () => {
  const start = { epoch: 1, batch: 0, epochs: [], lossSum: 0, count: 0, correct: 0 };
  const { model, options } = setup();
  const plain: Batch[] = [];
  await expect(fit(model, { ...options, trainLoader: plain, resumeFrom: start })).rejects.toThrow(
    /resumeFrom needs a trainLoader with setEpoch\(\) and batches/,
  );
  await expect(fit(model, { ...options, resumeFrom: { ...start, epoch: 6 } })).rejects.toThrow(
    /resumeFrom.epoch must be an integer in 1..5/,
  );
  await expect(fit(model, { ...options, resumeFrom: { ...start, epoch: 2 } })).rejects.toThrow(
    /must hold the 1 finished epochs/,
  );
  await expect(fit(model, { ...options, resumeFrom: { ...start, batch: 13 } })).rejects.toThrow(
    /resumeFrom.batch must be an integer in 0..12/,
  );
  await expect(fit(model, { ...options, checkpoint: { every: 0, save: () => undefined } })).rejects.toThrow(
    /checkpoint.every must be an integer >= 1/,
  );
  await expect(fit(model, { ...options, checkpoint: {} as never })).rejects.toThrow(/checkpoint must be/);
});

test('the checkpoint hook sees every N batches, each epoch end and the stop position', async () => {
  const controller = new AbortController();
  const seen: [number, number, number][] = [];
  const { model, options } = setup({
    epochs: 2,
    signal: controller.signal,
    checkpoint: {
      every: 5,
      save: (p) => {
        seen.push([p.epoch, p.batch, p.count]);
        if (p.epoch === 2 && p.batch === 5) controller.abort();
      },
    },
  });
  const h = await fit(model, options);
  // 96 samples, batch 8: 12 batches; saves after 5 and 10, at the end of epoch 1, after 5 of epoch 2, then on stop.
  expect(seen).toEqual([
    [1, 5, 40],
    [1, 10, 80],
    [2, 0, 0],
    [2, 5, 40],
    [2, 5, 40],
  ]);
  expect(h.stoppedAt).toEqual({ epoch: 2, batch: 5 });
});
