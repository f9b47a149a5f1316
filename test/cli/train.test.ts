// SPDX-License-Identifier: MIT
// Tests of `simdnet train` and `simdnet eval` in-process on a tiny CIFAR-10-format folder: output, weights, history, stop, errors.
import * as fs from 'fs';
import * as path from 'path';
import * as tar from 'tar';
import { readSafetensors } from '../../lib/io/safetensors';
import { LeNet } from '../../lib/modules/lenet';
import { formatEvaluation } from '../../lib/cli/eval';
import { writeTinyCifar10 } from './cifar-fixture';
import { cli, quietTrain, tempDir, withoutKernels } from './helpers';

let dir: string;
let data: string;
let weights: string;
beforeAll(() => {
  dir = tempDir('simdnet-cli-train-');
  data = path.join(dir, 'data');
  writeTinyCifar10(path.join(data, 'cifar-10-batches-bin'), 8, 20);
  weights = path.join(dir, 'lenet.safetensors');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('train for 1 epoch prints a summary, writes the weights with their metadata and the history', async () => {
  const history = path.join(dir, 'history.json');
  const r = await cli(quietTrain(data, weights, '--epochs', '1', '--batch-size', '8', '--history', history));
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.out[0]).toBe('data: CIFAR-10, 40 training images, 20 test images');
  expect(withoutKernels(r.out[1])).toBe(
    'model: LeNet (62006 parameters), Adam lr 0.001, batch size 8, 1 epochs, seed 0',
  );
  expect(r.out[1]).toMatch(/; isa \w+, threads \d+( \(auto, up to \d+\))?$/);
  expect(r.out[2]).toMatch(
    /^epoch 1\/1 {2}train loss \d+\.\d{4} acc \d+\.\d{2}% {2}test loss \d+\.\d{4} acc \d+\.\d{2}% {2}\d+\.\ds {2}\d+ img\/s$/,
  );
  expect(r.out[3]).toBe(`saved the weights to ${weights}`);
  const { tensors, metadata } = readSafetensors(weights);
  const { 'simdnet.history': recorded, ...rest } = metadata;
  expect(rest).toEqual({
    format: 'pt',
    'simdnet.arch': 'LeNet',
    'simdnet.config': JSON.stringify(new LeNet().config),
    'simdnet.dataset': 'cifar10',
  });
  expect(JSON.parse(recorded)).toHaveLength(1); // the per-epoch history, for eval --plot
  expect(Object.keys(tensors).sort()).toEqual(Object.keys(new LeNet().stateDict()).sort());
  const h = JSON.parse(fs.readFileSync(history, 'utf8'));
  expect(h.stopped).toBe(false);
  expect(h.epochs).toHaveLength(1);
  expect(h.epochs[0].testAccuracy).toBeGreaterThanOrEqual(0);
});

test('eval prints "accuracy: NN.NN%" first, then a line per class, then the confusion matrix', async () => {
  const r = await cli(['eval', '--weights', weights, '--data', path.join(data, 'cifar-10-batches-bin')]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.out[0]).toMatch(/^accuracy: \d{1,3}\.\d{2}%$/);
  expect(r.out[1]).toMatch(/^ {2}airplane +\d+\.\d{2}% +\d+\/2$/);
  expect(r.out[10]).toMatch(/^ {2}truck +\d+\.\d{2}% +\d+\/2$/);
  expect(r.out[11]).toBe('confusion matrix (rows: true class, columns: predicted class):');
  expect(r.out[12].trim().split(/\s+/)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  const rows = r.out.slice(13, 23).map((l) => l.trim().split(/\s+/));
  expect(rows.map((x) => x[1])).toEqual([
    'airplane',
    'automobile',
    'bird',
    'cat',
    'deer',
    'dog',
    'frog',
    'horse',
    'ship',
    'truck',
  ]);
  expect(
    rows.every(
      (x) =>
        x
          .slice(2)
          .map(Number)
          .reduce((a, b) => a + b) === 2,
    ),
  ).toBe(true);
  expect(r.out[23]).toMatch(/^loss: \d+\.\d{4} over 20 CIFAR-10 test images$/);
  // Same numbers from the .tar.gz.
  const archive = path.join(dir, 'cifar-10-binary.tar.gz');
  await tar.c({ gzip: true, file: archive, cwd: data }, ['cifar-10-batches-bin']);
  const fromArchive = await cli(['eval', '--weights', weights, '--data', archive, '--batch-size', '3']);
  expect(fromArchive.code).toBe(0);
  expect(fromArchive.out).toEqual(r.out);
});

test('eval of the exported ONNX model prints the same report as eval of the weights', async () => {
  const onnx = path.join(dir, 'lenet.onnx');
  expect((await cli(['export', '--weights', weights, '--onnx', onnx])).code).toBe(0);
  const [fromWeights, fromOnnx] = await Promise.all(
    [weights, onnx].map((w) => cli(['eval', '--weights', w, '--data', data])),
  );
  expect(fromOnnx.stderr).toBe('');
  expect(fromOnnx.code).toBe(0);
  expect(fromOnnx.out).toEqual(fromWeights.out);
  const plot = await cli(['eval', '--weights', onnx, '--data', data, '--plot', path.join(dir, 'curves.svg')]);
  expect(plot.code).toBe(2);
  expect(plot.err).toEqual([expect.stringMatching(/lenet\.onnx: holds no training history to plot/)]);
});

test('formatEvaluation gives two decimals and exact counts', () => {
  const lines = formatEvaluation(
    {
      loss: 0.5,
      accuracy: 0.632149,
      correct: 3,
      total: 5,
      confusion: [
        [2, 1],
        [1, 1],
      ],
      perClassAccuracy: [2 / 3, 0.5],
    },
    ['cat', 'horse'],
  );
  expect(lines).toEqual([
    'accuracy: 63.21%',
    '  cat     66.67%  2/3',
    '  horse   50.00%  1/2',
    'confusion matrix (rows: true class, columns: predicted class):',
    '            0   1',
    '  0 cat     2   1',
    '  1 horse   1   1',
    'loss: 0.5000 over 5 test images',
  ]);
});

test('--limit trains on the first N images; --progress log writes progress to stderr', async () => {
  const out = path.join(dir, 'limited.safetensors');
  const r = await cli([
    'train',
    '--data',
    data,
    '--epochs',
    '2',
    '--batch-size',
    '4',
    '--limit',
    '10',
    '--progress',
    'log',
    '--out',
    out,
    '--seed',
    '7',
    '--lr',
    '3e-3',
  ]);
  expect(r.code).toBe(0);
  expect(r.out[0]).toBe('data: CIFAR-10, 10 training images (first 10 of 40), 20 test images');
  expect(r.out[1]).toContain('Adam lr 0.003, batch size 4, 2 epochs, seed 7');
  expect(r.err.filter((l) => /^epoch 1\/2 {2}batch \d\/3/.test(l)).length).toBeGreaterThan(0);
  // Something shows while the data loads, and each epoch's test evaluation is a phase of its own.
  expect(r.err[0]).toBe(`loading CIFAR-10 from ${data}`);
  expect(r.err.slice(-2)).toEqual([
    expect.stringMatching(/^epoch 2\/2 {2}batch 3\/3 \(100%\)/),
    'epoch 2/2  evaluating on the test set (1 batch)',
  ]);
  expect(r.err.filter((l) => l.includes('evaluating'))).toHaveLength(2);
  expect(fs.existsSync(out)).toBe(true);
});

test('the abort signal (Ctrl+C) never writes --out: partial weights, a checkpoint, and a resume command that finishes the run', async () => {
  const args = (out: string) => quietTrain(data, out, '--epochs', '3', '--batch-size', '8');
  const straight = path.join(dir, 'straight3.safetensors');
  expect((await cli(args(straight))).code).toBe(0);

  const controller = new AbortController();
  const out = path.join(dir, 'stopped.safetensors');
  const history = path.join(dir, 'stopped.json');
  const r = await cli([...args(out), '--history', history], {
    signal: controller.signal,
    onStdoutLine: (line) => {
      if (/^epoch +2\/3/.test(line)) controller.abort();
    },
  });
  expect(r.code).toBe(130);
  const ck = path.join(dir, 'stopped.checkpoint');
  expect(r.out.slice(-3)).toEqual([
    `stopped before epoch 3; ${out} not written (the run did not finish)`,
    `saved the weights so far to ${path.join(dir, 'stopped.partial.safetensors')} and the run to ${path.join(ck, 'checkpoint.safetensors')}`,
    `resume with: simdnet train --data ${data} --epochs 3 --batch-size 8 --lr 0.001 --seed 0 --out ${out} --history ${history} --checkpoint ${ck} --resume`,
  ]);
  expect(fs.existsSync(out)).toBe(false);
  expect(readSafetensors(path.join(dir, 'stopped.partial.safetensors')).metadata['simdnet.arch']).toBe('LeNet');
  expect(JSON.parse(fs.readFileSync(history, 'utf8'))).toMatchObject({
    stopped: true,
    stoppedAt: { epoch: 3, batch: 0 },
  });
  // The printed command, run as printed, finishes the run exactly as an uninterrupted one.
  const resumed = await cli(r.out[r.out.length - 1].replace('resume with: simdnet ', '').split(' '));
  expect(resumed.code).toBe(0);
  expect(readSafetensors(out).tensors).toEqual(readSafetensors(straight).tensors);
  // A second interrupted run with the same --out keeps the first run's checkpoint: it saves next to it.
  const again = new AbortController();
  const second = await cli([...args(path.join(dir, 'stopped.safetensors')), '--force'], {
    signal: again.signal,
    onStdoutLine: (line) => line.startsWith('model: ') && again.abort(),
  });
  expect(second.code).toBe(130);
  expect(second.out[second.out.length - 1]).toMatch(/--checkpoint \S+stopped\.checkpoint-2 --resume$/);
  expect(readSafetensors(out).tensors).toEqual(readSafetensors(straight).tensors); // --out untouched, --force or not
});

test('an existing --out is not replaced without --force; the check comes before any training', async () => {
  const out = path.join(dir, 'precious.safetensors');
  fs.writeFileSync(out, 'a finished model');
  const r = await cli(['train', '--data', data, '--epochs', '1', '--progress', 'none', '--out', out]);
  expect(r).toMatchObject({ code: 2, stdout: '' });
  expect(r.err).toEqual([
    `error: --out: ${out} already exists; pass --force to replace it when training finishes, or choose another --out`,
  ]);
  expect(fs.readFileSync(out, 'utf8')).toBe('a finished model');
  const forced = await cli(['train', '--data', data, '--epochs', '1', '--progress', 'none', '--out', out, '--force']);
  expect(forced.code).toBe(0);
  expect(readSafetensors(out).metadata['simdnet.arch']).toBe('LeNet');
});

// A folder no one can create files in: chmod 555 stops other users, but root only where the kernel refuses (sysfs).
const readOnlyDir = (): string => {
  if (process.getuid?.() !== 0) {
    const ro = path.join(dir, 'read-only');
    fs.mkdirSync(ro, { recursive: true });
    fs.chmodSync(ro, 0o555);
    return ro;
  }
  return '/sys';
};

(process.platform === 'linux' ? test : test.skip)(
  '--out, --history and --checkpoint in a read-only folder fail at start (exit 2), before any data loads',
  async () => {
    const ro = readOnlyDir();
    const cases: [string[], RegExp][] = [
      [['--out', path.join(ro, 'm.safetensors')], /^error: --out: cannot write in folder \S+ \(E[A-Z]+\)$/],
      [['--history', path.join(ro, 'h.json')], /^error: --history: cannot write in folder \S+ \(E[A-Z]+\)$/],
      [['--checkpoint', path.join(ro, 'ck')], /^error: --checkpoint: cannot write in folder \S+ \(E[A-Z]+\)$/],
    ];
    for (const [flags, message] of cases) {
      const r = await cli([
        'train',
        '--data',
        data,
        '--progress',
        'log',
        '--out',
        path.join(dir, 'ro.safetensors'),
        ...flags,
      ]);
      expect({ flags, code: r.code, stdout: r.stdout }).toEqual({ flags, code: 2, stdout: '' });
      expect(r.err).toEqual([expect.stringMatching(message)]); // no "loading ..." line: it failed first
    }
  },
);

describe('files of the wrong kind: exit code 2, one line naming the file, a stack only with SIMDNET_DEBUG=1', () => {
  test('a corrupt weights file', async () => {
    const bad = path.join(dir, 'corrupt.safetensors');
    fs.writeFileSync(bad, Buffer.from('this is not a safetensors file at all'));
    const r = await cli(['eval', '--weights', bad, '--data', data]);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(new RegExp(`^error: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    const debug = await cli(['eval', '--weights', bad, '--data', data], { env: { SIMDNET_DEBUG: '1' } });
    expect(debug.code).toBe(2);
    expect(debug.err.length).toBeGreaterThan(2);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  test('weights without simdnet metadata, and weights for another input size', async () => {
    const { saveSafetensors } = await import('../../lib/io/safetensors');
    const plain = path.join(dir, 'plain.safetensors');
    saveSafetensors(plain, new LeNet().stateDict());
    const r = await cli(['eval', '--weights', plain, '--data', data]);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.err).toEqual([expect.stringMatching(/no "simdnet.arch" in the metadata/)]);
    const digits = path.join(dir, 'digits.safetensors');
    const { saveModel } = await import('../../lib/train/saved-model');
    saveModel(digits, new LeNet({ inChannels: 1, imageSize: 28 }));
    const d = await cli(['eval', '--weights', digits, '--data', data]);
    expect(d.code).toBe(2);
    expect(d.err).toEqual([
      expect.stringMatching(
        /takes 1x28x28 images into 10 classes; CIFAR-10 needs 3x32x32 into 10 \(the weights do not record their dataset: pass --dataset\)$/,
      ),
    ]);
  });

  test('a truncated batch file', async () => {
    const broken = path.join(dir, 'broken');
    writeTinyCifar10(broken, 2, 2);
    fs.truncateSync(path.join(broken, 'test_batch.bin'), 100);
    const r = await cli(['eval', '--weights', weights, '--data', broken]);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^error: .*test_batch\.bin/);
  });
});
