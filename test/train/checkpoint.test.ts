// SPDX-License-Identifier: MIT
// Tests of lib/train/checkpoint.ts: round trip of every piece, bit-identical resume through fit(), atomic writes, mismatches.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataLoader } from '../../lib/data/loader';
import { randomHorizontalFlip } from '../../lib/data/transforms';
import { readSafetensors, saveSafetensors } from '../../lib/io/safetensors';
import { BatchNorm1d } from '../../lib/modules/batch-norm';
import { Dropout } from '../../lib/modules/dropout';
import { Flatten } from '../../lib/modules/flatten';
import { Linear } from '../../lib/modules/linear';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { AdamW } from '../../lib/optim/adamw';
import { CosineAnnealingLR } from '../../lib/optim/lr-scheduler';
import { SGD } from '../../lib/optim/sgd';
import { splitWeightDecay } from '../../lib/optim/split-weight-decay';
import { defaultGenerator, Generator, manualSeed } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import {
  checkpointPath,
  moduleGenerators,
  readCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
  settingsMismatches,
  type CheckpointSettings,
} from '../../lib/train/checkpoint';
import { fit, type FitPosition, type History } from '../../lib/train/trainer';
import { blobs } from './synthetic';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-ckpt-'));
});
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const EPOCHS = 3;
const SETTINGS: CheckpointSettings = {
  dataset: 'blobs',
  recipe: 'test',
  seed: 5,
  batchSize: 8,
  epochs: EPOCHS,
  lr: 0.02,
  limit: null,
};

type Optim = 'adamw' | 'amsgrad' | 'sgd' | 'sgd-groups' | 'adamw-groups';

/**
 * A run with every kind of state: BatchNorm buffers, a Dropout generator, AdamW (or SGD with Nesterov momentum and
 * weight decay, as the resnet20 recipe's; or either with two parameter groups), a cosine schedule, augmentation.
 */
function build(optim: Optim = 'adamw') {
  manualSeed(5);
  const model = new Sequential(
    new Flatten(),
    new Linear({ inFeatures: 4, outFeatures: 8 }),
    new BatchNorm1d({ numFeatures: 8 }),
    new ReLU(),
    new Dropout({ p: 0.3 }),
    new Linear({ inFeatures: 8, outFeatures: 3 }),
  );
  const ps = model.parameters();
  const optimizer =
    optim === 'sgd' || optim === 'sgd-groups'
      ? new SGD(optim === 'sgd' ? ps : splitWeightDecay(model), {
          lr: 0.05,
          momentum: 0.9,
          nesterov: true,
          weightDecay: 5e-4,
        })
      : new AdamW(
          optim === 'adamw-groups'
            ? [{ params: ps.slice(0, 3) }, { params: ps.slice(3), lr: 0.01, weightDecay: 0, amsgrad: true }]
            : ps,
          { lr: 0.02, weightDecay: 0.01, amsgrad: optim === 'amsgrad' },
        );
  const scheduler = new CosineAnnealingLR(optimizer, { tMax: EPOCHS });
  // 76 samples, batch 8: 10 batches, the last one smaller.
  const trainLoader = new DataLoader(blobs(76, 1), {
    batchSize: 8,
    shuffle: true,
    seed: 5,
    transform: randomHorizontalFlip(),
  });
  const testLoader = new DataLoader(blobs(20, 2), { batchSize: 16 });
  return { model, optimizer, scheduler, trainLoader, testLoader };
}

type Run = ReturnType<typeof build>;

async function train(
  run: Run,
  extra: { resumeFrom?: FitPosition; every?: number; stopAt?: { epoch: number; batch: number } } = {},
): Promise<History> {
  const file = checkpointPath(dir);
  const controller = new AbortController();
  return fit(run.model, {
    trainLoader: run.trainLoader,
    testLoader: run.testLoader,
    optimizer: run.optimizer,
    epochs: EPOCHS,
    progress: 'none',
    signal: controller.signal,
    resumeFrom: extra.resumeFrom,
    onEpochEnd: () => run.scheduler.step(),
    checkpoint: {
      every: extra.every,
      save: (position) => {
        saveCheckpoint(file, { ...run, settings: SETTINGS }, position);
        const s = extra.stopAt;
        if (s && position.epoch === s.epoch && position.batch === s.batch) controller.abort();
      },
    },
  });
}

function weights(run: Run): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(run.model.stateDict())) out[k] = t.data.slice();
  const opt = run.optimizer;
  opt.params.forEach((_, i) => {
    if (opt instanceof SGD) {
      const b = opt.stateOf(i).momentumBuffer;
      out[`b${i}`] = b === null ? new Float32Array(0) : b.slice();
      return;
    }
    const s = opt.stateOf(i);
    out[`m${i}`] = s.expAvg.slice();
    out[`v${i}`] = s.expAvgSq.slice();
    if (s.maxExpAvgSq) out[`vmax${i}`] = s.maxExpAvgSq.slice();
    out[`s${i}`] = Float32Array.of(s.step);
  });
  return out;
}

function stripTimes(h: History) {
  return h.epochs.map(({ seconds: _s, imagesPerSecond: _i, ...rest }) => rest);
}

test('save then restore into fresh objects gives back every piece exactly', async () => {
  const a = build();
  await train(a, { every: 4, stopAt: { epoch: 2, batch: 4 } });
  // Advance the default generator so restoring it is observable.
  defaultGenerator.random();
  const ck = readCheckpoint(checkpointPath(dir));
  expect(ck.meta.version).toBe(1);
  expect(ck.meta.position).toEqual({ epoch: 2, batch: 4 });
  expect(ck.meta.settings).toEqual(SETTINGS);
  expect(ck.meta.history).toHaveLength(1);
  expect(ck.meta.partial.count).toBe(32);
  expect(Object.keys(ck.tensors)).toEqual(
    expect.arrayContaining(['optim.0.exp_avg', 'optim.0.exp_avg_sq', '2.running_mean', '2.num_batches_tracked']),
  );
  expect(ck.meta.optimizer).toMatchObject({ type: 'AdamW', weightDecay: 0.01, steps: [14, 14, 14, 14, 14, 14] });
  expect(ck.meta.scheduler).toEqual({ type: 'CosineAnnealingLR', lastEpoch: 1 });
  expect(Object.keys(ck.meta.generators.modules)).toEqual(['4']);

  const savedDefault = ck.meta.generators.default;
  const b = build();
  const position = restoreCheckpoint(ck, b);
  expect(position).toEqual({
    epoch: 2,
    batch: 4,
    epochs: ck.meta.history,
    lossSum: ck.meta.partial.lossSum,
    count: 32,
    correct: ck.meta.partial.correct,
  });
  expect(weights(b)).toEqual(weights(a));
  b.optimizer.params.forEach((_, i) => expect((b.optimizer as AdamW).stateOf(i).step).toBe(14));
  expect(b.optimizer.lr).toBe(a.optimizer.lr);
  expect(b.scheduler.lastEpoch).toBe(1);
  expect(defaultGenerator.getState()).toEqual(savedDefault);
  const [[, genA]] = moduleGenerators(a.model);
  const [[name, genB]] = moduleGenerators(b.model);
  expect(name).toBe('4');
  expect(genB.getState()).toEqual(genA.getState());
});

test.each(['adamw', 'amsgrad', 'sgd', 'sgd-groups', 'adamw-groups'] as const)(
  'fit with %s: stopped mid-epoch and resumed from the checkpoint file == uninterrupted, bit for bit (weights, optimizer state, history)',
  async (optim) => {
    const straight = build(optim);
    const h1 = await train(straight);
    for (const stopAt of [
      { epoch: 2, batch: 3 }, // mid-epoch
      { epoch: 2, batch: 0 }, // at an epoch boundary
    ]) {
      fs.rmSync(checkpointPath(dir), { force: true });
      const first = build(optim);
      const stopped = await train(first, { every: 3, stopAt });
      expect(stopped.stopped).toBe(true);
      const resumed = build(optim); // fresh objects: everything must come from the file
      const h2 = await train(resumed, {
        every: 3,
        resumeFrom: restoreCheckpoint(readCheckpoint(checkpointPath(dir)), resumed),
      });
      expect(weights(resumed)).toEqual(weights(straight));
      expect(stripTimes(h2)).toEqual(stripTimes(h1));
      expect(readCheckpoint(checkpointPath(dir)).meta.position).toEqual({ epoch: EPOCHS + 1, batch: 0 });
    }
  },
);

test('resuming a finished run trains nothing and returns its history', async () => {
  const a = build();
  const h = await train(a);
  const b = build();
  const resumeFrom = restoreCheckpoint(readCheckpoint(checkpointPath(dir)), b);
  expect(resumeFrom.epoch).toBe(EPOCHS + 1);
  const h2 = await train(b, { resumeFrom });
  expect(h2.epochs).toEqual(JSON.parse(JSON.stringify(h.epochs)));
  expect(weights(b)).toEqual(weights(a));
});

test('a failing write leaves the previous checkpoint loadable, and no temporary file', async () => {
  const a = build();
  await train(a, { every: 2, stopAt: { epoch: 1, batch: 2 } });
  const file = checkpointPath(dir);
  const before = fs.readFileSync(file);
  // The write fails at fsync, after the new bytes went to the temporary file.
  // jest.spyOn needs the mutable CommonJS exports object, not the import namespace.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const realFs = require('fs') as typeof fs;
  const spy = jest.spyOn(realFs, 'fsyncSync').mockImplementation(() => {
    throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
  });
  expect(() =>
    saveCheckpoint(
      file,
      { ...a, settings: SETTINGS },
      { epoch: 1, batch: 9, epochs: [], lossSum: 0, count: 0, correct: 0 },
    ),
  ).toThrow(/EIO/);
  expect(spy).toHaveBeenCalled();
  spy.mockRestore();
  expect(fs.readFileSync(file).equals(before)).toBe(true);
  expect(fs.readdirSync(dir)).toEqual(['checkpoint.safetensors']);
  expect(readCheckpoint(file).meta.position).toEqual({ epoch: 1, batch: 2 });
  // What SIGKILL mid-write leaves behind: a truncated temporary file next to the intact checkpoint.
  fs.writeFileSync(path.join(dir, '.checkpoint.safetensors.12345.abcdef.tmp'), before.subarray(0, 100));
  const b = build();
  expect(restoreCheckpoint(readCheckpoint(file), b).batch).toBe(2);
});

test('errors name the file and what is wrong', async () => {
  const a = build();
  await train(a, { every: 2, stopAt: { epoch: 1, batch: 2 } });
  const file = checkpointPath(dir);
  // A model of another shape.
  manualSeed(5);
  const other = new Sequential(new Flatten(), new Linear({ inFeatures: 4, outFeatures: 3 }));
  const opt = new AdamW(other.parameters());
  expect(() => restoreCheckpoint(readCheckpoint(file), { model: other, optimizer: opt })).toThrow(
    new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: does not fit this run: `),
  );
  // A plain weights file.
  const plain = path.join(dir, 'plain.safetensors');
  const { saveSafetensors } = await import('../../lib/io/safetensors');
  saveSafetensors(plain, a.model.stateDict(), { format: 'pt' });
  expect(() => readCheckpoint(plain)).toThrow(/plain\.safetensors: not a simdnet checkpoint/);
  // A truncated file.
  const cut = path.join(dir, 'cut.safetensors');
  fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, 50));
  expect(() => readCheckpoint(cut)).toThrow(/cut\.safetensors/);
  // Nothing changed on a failed restore.
  const b = build();
  const snapshot = weights(b);
  const ck = readCheckpoint(file);
  ck.meta.optimizer.type = 'Adam';
  expect(() => restoreCheckpoint(ck, b)).toThrow(/the optimizer is Adam, this run uses AdamW/);
  expect(weights(b)).toEqual(snapshot);
  expect(readSafetensors(file).metadata['simdnet.checkpoint']).toBeDefined();
});

test('settingsMismatches lists what differs', () => {
  expect(settingsMismatches(SETTINGS, { ...SETTINGS })).toEqual([]);
  expect(settingsMismatches(SETTINGS, { ...SETTINGS, seed: 6, limit: 10 })).toEqual([
    ['seed', 5, 6],
    ['limit', null, 10],
  ]);
});

test('moduleGenerators finds a Dropout generator given by the user', () => {
  const g = new Generator(9);
  const m = new Sequential(new Flatten(), new Dropout({ p: 0.5, generator: g }));
  expect(moduleGenerators(m)).toEqual([['1', g]]);
});

describe('SGD', () => {
  const start: FitPosition = { epoch: 1, batch: 0, epochs: [], lossSum: 0, count: 0, correct: 0 };

  test('momentum buffers are absent until the first step (PyTorch: None) and come back absent', () => {
    const a = build('sgd');
    saveCheckpoint(checkpointPath(dir), { ...a, settings: SETTINGS }, start);
    const ck = readCheckpoint(checkpointPath(dir));
    expect(ck.meta.optimizer).toEqual({
      type: 'SGD',
      lr: 0.05,
      momentum: 0.9,
      dampening: 0,
      nesterov: true,
      weightDecay: 5e-4,
      maximize: false,
      buffers: [false, false, false, false, false, false],
    });
    expect(Object.keys(ck.tensors).filter((k) => k.startsWith('optim.'))).toEqual([]);
    // Restoring into an optimizer that has stepped clears its buffers again.
    const b = build('sgd');
    for (const p of b.model.parameters()) p.grad.data.fill(1);
    b.optimizer.step();
    expect((b.optimizer as SGD).stateOf(0).momentumBuffer).not.toBeNull();
    restoreCheckpoint(ck, b);
    b.optimizer.params.forEach((_, i) => expect((b.optimizer as SGD).stateOf(i).momentumBuffer).toBeNull());
  });

  test('restored buffers are copies of the saved values, owned by the optimizer', async () => {
    const a = build('sgd');
    await train(a, { every: 2, stopAt: { epoch: 1, batch: 2 } });
    const ck = readCheckpoint(checkpointPath(dir));
    expect((ck.meta.optimizer as { buffers: boolean[] }).buffers).toEqual([true, true, true, true, true, true]);
    const b = build('sgd');
    restoreCheckpoint(ck, b);
    expect(weights(b)).toEqual(weights(a));
    const buf = (b.optimizer as SGD).stateOf(0).momentumBuffer!;
    expect(buf).not.toBe(ck.tensors['optim.0.momentum_buffer'].data);
    expect(buf.buffer).not.toBe(ck.tensors['optim.0.momentum_buffer'].data.buffer);
  });

  test('another optimizer or other hyperparameters do not fit, and nothing changes', async () => {
    const a = build('sgd');
    await train(a, { every: 2, stopAt: { epoch: 1, batch: 2 } });
    const ck = readCheckpoint(checkpointPath(dir));
    expect(() => restoreCheckpoint(ck, build('adamw'))).toThrow(
      /does not fit this run: the optimizer is SGD, this run uses AdamW/,
    );
    const b = build('sgd');
    const other = new SGD(b.model.parameters(), { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 5e-4 });
    const snapshot = weights(b);
    expect(() => restoreCheckpoint(ck, { ...b, optimizer: other, scheduler: undefined })).toThrow(
      /the schedule|momentum is 0\.9, this run uses 0\.8/,
    );
    expect(() =>
      restoreCheckpoint(ck, { ...b, optimizer: other, scheduler: new CosineAnnealingLR(other, { tMax: 3 }) }),
    ).toThrow(/does not fit this run: the optimizer's momentum is 0\.9, this run uses 0\.8/);
    expect(weights(b)).toEqual(snapshot);
  });
});

describe('the optimizer record is checked field by field', () => {
  type Meta = Record<string, unknown>;
  type Edit = (o: Meta, tensors: Record<string, Tensor>) => void;

  /** Saves a checkpoint of a stopped run whose optimizer record and tensors `edit` changed; returns the file. */
  async function edited(optim: 'adamw' | 'amsgrad' | 'sgd', edit: Edit): Promise<string> {
    const a = build(optim);
    await train(a, { every: 2, stopAt: { epoch: 1, batch: 2 } });
    const { tensors, metadata } = readSafetensors(checkpointPath(dir));
    const meta = JSON.parse(metadata['simdnet.checkpoint']);
    edit(meta.optimizer, tensors);
    const file = path.join(dir, 'edited.safetensors');
    saveSafetensors(file, tensors, { 'simdnet.checkpoint': JSON.stringify(meta) });
    return file;
  }

  const cases: [string, 'adamw' | 'sgd', Edit, RegExp][] = [
    [
      'adamw',
      'adamw',
      (o) => void (o.type = 'Adagrad'),
      /optimizer\.type must be one of 'Adam', 'AdamW', 'SGD', got 'Adagrad'/,
    ],
    ['adamw', 'adamw', (o) => void (o.betas = [0.9]), /optimizer\.betas must hold 2 entries, got 1/],
    ['adamw', 'adamw', (o) => void (o.eps = '1e-8'), /optimizer\.eps must be a number, got string/],
    ['adamw', 'adamw', (o) => void delete o.weightDecay, /optimizer\.weightDecay must be a number, got undefined/],
    ['adamw', 'adamw', (o) => void (o.steps = [1, -1]), /optimizer\.steps\[1\] must be an integer >= 0, got -1/],
    ['adamw', 'adamw', (o) => void (o.momentum = 0.9), /optimizer has unexpected fields momentum/],
    ['sgd', 'sgd', (o) => void (o.nesterov = 1), /optimizer\.nesterov must be a boolean, got number/],
    ['sgd', 'sgd', (o) => void (o.buffers = [true, 'yes']), /optimizer\.buffers\[1\] must be a boolean, got string/],
    ['sgd', 'sgd', (o) => void (o.buffers = null), /optimizer\.buffers must be an array, got null/],
    ['sgd', 'sgd', (o) => void (o.momentum = -1), /optimizer\.momentum must be >= 0, got -1/],
    ['sgd', 'sgd', (o) => void (o.lr = null), /optimizer\.lr must be a number, got null/],
    ['sgd', 'sgd', (o) => void (o.steps = []), /optimizer has unexpected fields steps/],
  ];
  test.each(cases.map(([, optim, edit, message]) => [optim, message, edit] as const))(
    'readCheckpoint (%s): %s',
    async (optim, message, edit) => {
      const file = await edited(optim, edit);
      expect(() => readCheckpoint(file)).toThrow(expect.objectContaining({ name: 'FileFormatError' }));
      expect(() => readCheckpoint(file)).toThrow(message);
    },
  );

  const misfits: [string, Edit, RegExp][] = [
    [
      'a buffer listed but missing',
      (_, t) => void delete t['optim.2.momentum_buffer'],
      /does not fit this run: no tensor 'optim\.2\.momentum_buffer'/,
    ],
    [
      'a buffer present but not listed',
      (o) => void ((o.buffers as boolean[])[1] = false),
      /does not fit this run: unexpected tensors optim\.1\.momentum_buffer/,
    ],
    [
      'a buffer of the wrong size',
      (_, t) => void (t['optim.0.momentum_buffer'] = new Tensor(new Float32Array(3), [3])),
      /'optim\.0\.momentum_buffer' has 3 values, parameter 0 has 32/,
    ],
    [
      'one parameter too many',
      (o) => void (o.buffers as boolean[]).push(false),
      /does not fit this run: 7 optimizer parameters, this run has 6/,
    ],
  ];
  test.each(misfits)('restoreCheckpoint (SGD), %s: an error and nothing changes', async (_, edit, message) => {
    const file = await edited('sgd', edit);
    const b = build('sgd');
    const snapshot = weights(b);
    expect(() => restoreCheckpoint(readCheckpoint(file), b)).toThrow(message);
    expect(weights(b)).toEqual(snapshot);
  });
});

describe('AMSGrad', () => {
  /** A checkpoint of a stopped run, its optimizer record and tensors changed by `edit`. */
  async function saved(
    optim: 'adamw' | 'amsgrad',
    edit: (o: Record<string, unknown>, t: Record<string, Tensor>) => void,
    stopAt = { epoch: 1, batch: 2 },
  ) {
    const a = build(optim);
    await train(a, { every: 2, stopAt });
    const { tensors, metadata } = readSafetensors(checkpointPath(dir));
    const meta = JSON.parse(metadata['simdnet.checkpoint']);
    edit(meta.optimizer, tensors);
    const file = path.join(dir, 'edited.safetensors');
    saveSafetensors(file, tensors, { 'simdnet.checkpoint': JSON.stringify(meta) });
    return { a, file };
  }
  const dropAmsgrad = (o: Record<string, unknown>, t: Record<string, Tensor>) => {
    delete o.amsgrad;
    delete o.maximize;
    for (const k of Object.keys(t)) if (k.endsWith('.max_exp_avg_sq')) delete t[k];
  };

  test('the running maximum is saved as optim.<i>.max_exp_avg_sq and restored exactly', async () => {
    const { a } = await saved('amsgrad', () => undefined, { epoch: 2, batch: 4 });
    const ck = readCheckpoint(checkpointPath(dir));
    expect(ck.meta.optimizer).toMatchObject({ type: 'AdamW', amsgrad: true, maximize: false });
    const vmax = ck.tensors['optim.0.max_exp_avg_sq'];
    expect(vmax.data).toEqual((a.optimizer as AdamW).stateOf(0).maxExpAvgSq);
    // The maximum differs from the current second moment once that has decreased somewhere (so it is state of its own).
    const differs = a.optimizer.params.some(
      (_, i) =>
        !ck.tensors[`optim.${i}.max_exp_avg_sq`].data.every(
          (v, j) => v === ck.tensors[`optim.${i}.exp_avg_sq`].data[j],
        ),
    );
    expect(differs).toBe(true);
    const b = build('amsgrad');
    restoreCheckpoint(ck, b);
    expect(weights(b)).toEqual(weights(a));
  });

  test('without amsgrad no max_exp_avg_sq is written; amsgrad runs and plain runs do not resume each other', async () => {
    await saved('adamw', () => undefined);
    const plain = readCheckpoint(checkpointPath(dir));
    expect(Object.keys(plain.tensors).filter((k) => k.includes('max_exp_avg_sq'))).toEqual([]);
    expect(() => restoreCheckpoint(plain, build('amsgrad'))).toThrow(
      /the optimizer's amsgrad is false, this run uses true/,
    );
    await saved('amsgrad', () => undefined);
    expect(() => restoreCheckpoint(readCheckpoint(checkpointPath(dir)), build('adamw'))).toThrow(
      /the optimizer's amsgrad is true, this run uses false/,
    );
  });

  test('an older checkpoint (no amsgrad or maximize fields) still resumes a plain run, and refuses an amsgrad run by name', async () => {
    const { a, file } = await saved('adamw', dropAmsgrad);
    const b = build('adamw');
    restoreCheckpoint(readCheckpoint(file), b);
    expect(weights(b)).toEqual(weights(a));
    const c = build('amsgrad');
    const snapshot = weights(c);
    expect(() => restoreCheckpoint(readCheckpoint(file), c)).toThrow(
      /amsgrad is false \(a checkpoint without amsgrad state\), this run uses true/,
    );
    expect(weights(c)).toEqual(snapshot);
  });

  test('a missing running maximum, or a bad amsgrad field, is an error', async () => {
    const missing = await saved('amsgrad', (_, t) => void delete t['optim.3.max_exp_avg_sq']);
    expect(() => restoreCheckpoint(readCheckpoint(missing.file), build('amsgrad'))).toThrow(
      /no tensor 'optim\.3\.max_exp_avg_sq'/,
    );
    const bad = await saved('amsgrad', (o) => void (o.amsgrad = 'yes'));
    expect(() => readCheckpoint(bad.file)).toThrow(/optimizer\.amsgrad must be a boolean, got string/);
  });
});

describe('parameter groups', () => {
  /** A checkpoint of a stopped run whose optimizer record `edit` changed; returns the file. */
  async function saved(optim: Optim, edit: (o: Record<string, unknown>) => void = () => undefined) {
    const a = build(optim);
    await train(a, { every: 2, stopAt: { epoch: 2, batch: 2 } });
    const { tensors, metadata } = readSafetensors(checkpointPath(dir));
    const meta = JSON.parse(metadata['simdnet.checkpoint']);
    edit(meta.optimizer);
    const file = path.join(dir, 'edited.safetensors');
    saveSafetensors(file, tensors, { 'simdnet.checkpoint': JSON.stringify(meta) });
    return { a, file };
  }

  test('each group is saved with its parameter count, options and lr, and restored', async () => {
    const { a, file } = await saved('sgd-groups');
    const lrs = a.optimizer.paramGroups.map((g) => g.lr);
    expect(lrs[0]).toBeLessThan(0.05); // the schedule has moved them
    const common = { momentum: 0.9, dampening: 0, nesterov: true, maximize: false };
    expect(readCheckpoint(file).meta.optimizer).toEqual({
      type: 'SGD',
      groups: [
        { params: 2, lr: lrs[0], ...common, weightDecay: 5e-4 },
        { params: 4, lr: lrs[1], ...common, weightDecay: 0 },
      ],
      buffers: [true, true, true, true, true, true],
    });
    const b = build('sgd-groups');
    restoreCheckpoint(readCheckpoint(file), b);
    expect(weights(b)).toEqual(weights(a));
    expect(b.optimizer.paramGroups.map((g) => g.lr)).toEqual(lrs);
  });

  test('a checkpoint with another group layout or other group options does not fit, and nothing changes', async () => {
    const { file } = await saved('sgd-groups');
    const ck = readCheckpoint(file);
    expect(() => restoreCheckpoint(ck, build('sgd'))).toThrow(
      /does not fit this run: the optimizer has 2 parameter group\(s\), this run has 1/,
    );
    const b = build('sgd');
    const ps = b.model.parameters();
    const misfit = (groups: { params: typeof ps; weightDecay?: number }[]) => {
      const other = new SGD(groups, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
      return () =>
        restoreCheckpoint(ck, { ...b, optimizer: other, scheduler: new CosineAnnealingLR(other, { tMax: 3 }) });
    };
    const snapshot = weights(b);
    expect(misfit([{ params: ps.slice(0, 3) }, { params: ps.slice(3), weightDecay: 0 }])).toThrow(
      /parameter group 0 holds 2 parameters, this run's holds 3/,
    );
    expect(misfit(splitWeightDecay(b.model).map((g, i) => ({ ...g, weightDecay: i === 1 ? 1e-4 : 5e-4 })))).toThrow(
      /parameter group 1's weightDecay is 0, this run uses 0\.0001/,
    );
    expect(weights(b)).toEqual(snapshot);
    // A single-group checkpoint (the layout of files from before groups) into a run with two.
    await saved('sgd');
    expect(() => restoreCheckpoint(readCheckpoint(checkpointPath(dir)), build('sgd-groups'))).toThrow(
      /the optimizer has 1 parameter group\(s\), this run has 2/,
    );
  });

  test.each([
    [
      (o: Record<string, unknown>) => void ((o.groups as Record<string, unknown>[])[1].lr = null),
      /optimizer\.groups\[1\]\.lr must be a number, got null/,
    ],
    [
      (o: Record<string, unknown>) => void ((o.groups as Record<string, unknown>[])[0].params = 4),
      /optimizer\.groups hold 7 parameters, optimizer\.steps 6/,
    ],
    [
      (o: Record<string, unknown>) => void ((o.groups as Record<string, unknown>[])[1].momentum = 0.9),
      /optimizer\.groups\[1\] has unexpected fields momentum/,
    ],
    [(o: Record<string, unknown>) => void (o.lr = 0.1), /optimizer has unexpected fields lr/],
    [(o: Record<string, unknown>) => void (o.groups = []), /optimizer\.groups is empty/],
  ])('a bad group record is a FileFormatError naming the field (%#)', async (edit, message) => {
    const { file } = await saved('adamw-groups', edit);
    expect(() => readCheckpoint(file)).toThrow(expect.objectContaining({ name: 'FileFormatError' }));
    expect(() => readCheckpoint(file)).toThrow(message);
  });
});
