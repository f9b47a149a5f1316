// SPDX-License-Identifier: MIT
// Tests of `simdnet bench` in-process with a tiny time budget: the table, --json, the model sources and the usage errors (no speed assertions).
import * as fs from 'fs';
import * as path from 'path';
import { LeNet } from '../../lib/modules/lenet';
import { native } from '../../lib/native';
import { saveModel } from '../../lib/train/saved-model';
import { cli, tempDir } from './helpers';

const dir = tempDir('simdnet-bench-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const FAST = ['--seconds', '0.05'];

function writeJson(name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

/** A small classifier: [N, 1, 8, 8] -> [N, 3]. */
const SPEC = {
  input: [1, 1, 8, 8],
  layers: [
    { type: 'conv2d', outChannels: 2, kernelSize: 3 },
    { type: 'relu' },
    { type: 'maxpool2d', kernelSize: 2 },
    { type: 'flatten' },
    { type: 'linear', outFeatures: 3 },
  ],
};

/** The table rows (case, batch, images/s, ms/batch, spread, samples) after the header row. */
function tableRows(lines: string[]): string[][] {
  const head = lines.findIndex((l) => l.startsWith('case '));
  expect(lines[head].split(/\s+/)).toEqual(['case', 'batch', 'images/s', 'ms/batch', 'spread', 'samples']);
  return lines
    .slice(head + 1)
    .filter((l) => /^(train|infer) /.test(l))
    .map((l) => l.trim().split(/\s+/));
}

const num = (cell: string): number => Number(cell.replace(/[,%]/g, ''));

function expectPositiveFinite(...xs: number[]): void {
  for (const x of xs) {
    expect(Number.isFinite(x)).toBe(true);
    expect(x).toBeGreaterThan(0);
  }
}

test('default: LeNet, train 64 and infer 1 and 64, with the machine in the header', async () => {
  const r = await cli(['bench', ...FAST]);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.out[0]).toMatch(
    /^simdnet \d+\.\d+\.\d+\S* bench: lenet \(LeNet\(inChannels=3, imageSize=32, numClasses=10\)\), input \[N, 3, 32, 32\], random images \(seed 0\)$/,
  );
  const info = native.kernelInfo();
  expect(r.out[1]).toMatch(
    new RegExp(`^isa ${info.isa}, threads \\d+${info.threadsAuto ? ' \\(auto, up to \\d+\\)' : ''}, `),
  );
  expect(r.out[1]).toContain(`node ${process.version}`);
  const rows = tableRows(r.out);
  expect(rows.map(([c, b]) => `${c} ${b}`)).toEqual(['train 64', 'infer 1', 'infer 64']);
  for (const [, batch, rate, ms, spread, samples] of rows) {
    expectPositiveFinite(num(rate), num(ms));
    expect(num(spread)).toBeGreaterThanOrEqual(0);
    expect(samples).toMatch(/^\d+x\d+$/);
    // images/s and ms per batch are the same measurement (to the 3 digits printed).
    expect(Math.abs(num(rate) * num(ms) - Number(batch) * 1000) / (Number(batch) * 1000)).toBeLessThan(0.01);
  }
  expect(r.out.at(-1)).toMatch(/^peak RSS \d+\.\d\d [KMG]iB; load average \(1 min\) /);
});

test('--model-file with --json: every case and batch size, positive numbers', async () => {
  const r = await cli(['bench', '--model-file', writeJson('net.json', SPEC), '--batch-size', '2,3', '--json', ...FAST]);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  const data = JSON.parse(r.stdout);
  expect(data).toMatchObject({
    sampleShape: [1, 8, 8],
    seconds: 0.05,
    isa: native.kernelInfo().isa,
    node: process.version,
  });
  expect(data.model).toMatch(/net\.json$/);
  expect(data.results.map((x: { case: string; batch: number }) => `${x.case} ${x.batch}`)).toEqual([
    'train 2',
    'train 3',
    'infer 2',
    'infer 3',
  ]);
  for (const x of data.results) {
    expectPositiveFinite(x.imagesPerSec, x.msPerBatch, x.reps, x.callsPerRep);
    expect(x.spreadPct).toBeGreaterThanOrEqual(0);
  }
  expectPositiveFinite(data.peakRssBytes);
});

test('--model lenet-bn --threads 1 --isa ref: used for the run, then restored', async () => {
  const before = native.kernelInfo();
  const r = await cli([
    'bench',
    '--model',
    'lenet-bn',
    '--cases',
    'infer',
    '--batch-size',
    '2',
    '--threads',
    '1',
    '--isa',
    'ref',
    ...FAST,
  ]);
  expect(r.code).toBe(0);
  expect(r.out[0]).toContain('bench: lenet-bn (LeNetBN(');
  expect(r.out[1]).toMatch(/^isa ref, threads 1\b/);
  expect(tableRows(r.out).map(([c, b]) => `${c} ${b}`)).toEqual(['infer 2']);
  const after = native.kernelInfo();
  expect([after.isa, after.threadsAuto ? 'auto' : after.threads]).toEqual([
    before.isa,
    before.threadsAuto ? 'auto' : before.threads,
  ]);
});

test('--model resnet20: the built-in ResNet trains and infers (issue 11: bench past LeNet)', async () => {
  const r = await cli(['bench', '--model', 'resnet20', '--batch-size', '2', ...FAST]);
  expect(r.code).toBe(0);
  expect(r.out[0]).toMatch(/bench: resnet20 \(ResNet-20: ResNet\(/);
  expect(r.out[0]).toContain('input [N, 3, 32, 32]');
  const rows = tableRows(r.out);
  expect(rows.map(([c, b]) => `${c} ${b}`)).toEqual(['train 2', 'infer 2']);
  for (const [, , rate, ms] of rows) expectPositiveFinite(num(rate), num(ms));
});

test('--weights rebuilds the saved model and takes its input size from the file', async () => {
  const file = path.join(dir, 'digits.safetensors');
  saveModel(file, new LeNet({ inChannels: 1, imageSize: 28, numClasses: 5 }));
  const r = await cli(['bench', '--weights', file, '--cases', 'train', '--batch-size', '4', '--json', ...FAST]);
  expect(r.code).toBe(0);
  const data = JSON.parse(r.stdout);
  expect(data.sampleShape).toEqual([1, 28, 28]);
  expect(data.model).toMatch(/digits\.safetensors \(LeNet-5: LeNet\(inChannels=1, imageSize=28, numClasses=5\)\)$/);
  expect(data.results).toHaveLength(1);
});

test('a model file whose output is not [N, classes] can be timed for inference only', async () => {
  const file = writeJson('conv.json', {
    input: [1, 1, 6, 6],
    layers: [{ type: 'conv2d', outChannels: 2, kernelSize: 3 }],
  });
  const train = await cli(['bench', '--model-file', file, ...FAST]);
  expect(train.code).toBe(2);
  expect(train.err).toEqual([
    expect.stringMatching(
      /^error: --cases train: the output of .*conv\.json is not \[N, classes\].*use --cases infer$/,
    ),
  ]);
  const infer = await cli(['bench', '--model-file', file, '--cases', 'infer', '--batch-size', '1', ...FAST]);
  expect(infer.code).toBe(0);
});

const unsupportedIsa = ['avx2', 'avx512', 'neon'].find((isa) => !native.kernelInfo().supportedIsas.includes(isa));

test.each([
  [['--batch-size', '0'], /^error: option '--batch-size <list>' argument '0' is invalid\. expected batch sizes >= 1/],
  [
    ['--batch-size', '1,x'],
    /^error: option '--batch-size <list>' argument '1,x' is invalid\. expected batch sizes separated by commas/,
  ],
  [
    ['--cases', 'train,eval'],
    /^error: option '--cases <list>' argument 'train,eval' is invalid\. expected train, infer or train,infer; got 'eval'\.$/,
  ],
  [['--seconds', '0'], /^error: option '--seconds <s>' argument '0' is invalid\. expected a number > 0\.$/],
  [['--seconds', 'soon'], /^error: option '--seconds <s>' argument 'soon' is invalid/],
  [['--threads', '0'], /^error: option '--threads <n>' argument '0' is invalid\. expected an integer >= 1\.$/],
  [
    ['--threads', '2000'],
    /^error: option '--threads <n>' argument '2000' is invalid\. expected an integer from 1 to 1024\.$/,
  ],
  [
    ['--isa', 'mips'],
    /^error: option '--isa <name>' argument 'mips' is invalid\. Allowed choices are auto, ref, avx2, avx512, neon\.$/,
  ],
  [
    ['--model', 'resnet'],
    /^error: option '--model <name>' argument 'resnet' is invalid\. Allowed choices are lenet, lenet-bn, lenet5, lenet5-bn, block, resnet20, resnet32, resnet44, resnet56\.$/,
  ],
  [
    ['--model', 'lenet', '--weights', 'w.safetensors'],
    /^error: option '--model <name>' cannot be used with option '--weights <file>'$/,
  ],
  [['--model-file', 'x.json', '--weights', 'w.safetensors'], /cannot be used with/],
  [['--model-file', 'missing.json'], /^error: --model-file: missing\.json does not exist$/],
  [['--weights', 'nowhere.safetensors'], /^error: --weights: nowhere\.safetensors does not exist$/],
  [['--bogus'], /^error: unknown option '--bogus'/],
])('bench %j: one line, exit code 2', async (args, message) => {
  const r = await cli(['bench', ...args, ...FAST]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.err).toHaveLength(1);
  expect(r.err[0]).toMatch(message);
});

test('a bad model file is a usage error naming it', async () => {
  const r = await cli([
    'bench',
    '--model-file',
    writeJson('bad.json', { input: [1, 4], layers: [{ type: 'mish' }] }),
    ...FAST,
  ]);
  expect(r.code).toBe(2);
  expect(r.err).toEqual([
    expect.stringMatching(/^error: --model-file .*bad\.json: layers\[0\] \(mish\): unknown layer type/),
  ]);
});

(unsupportedIsa ? test : test.skip)(
  '--isa that this CPU/build lacks: exit code 2 listing the supported ones',
  async () => {
    const r = await cli(['bench', '--isa', unsupportedIsa!, ...FAST]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      `error: --isa ${unsupportedIsa}: not supported on this CPU/build (supported: auto, ${native.kernelInfo().supportedIsas.join(', ')})`,
    ]);
  },
);

test('the program help lists bench, and bench --help its flags', async () => {
  expect((await cli(['--help'])).stdout).toMatch(
    /\n\s+bench \[options\]\s+measure simdnet's training and inference speed/,
  );
  const r = await cli(['bench', '--help']);
  expect(r.code).toBe(0);
  for (const flag of [
    '--model <name>',
    '--model-file <file>',
    '--weights <file>',
    '--cases <list>',
    '--batch-size <list>',
    '--seconds <s>',
    '--threads <n>',
    '--isa <name>',
    '--json',
  ]) {
    expect(r.stdout).toContain(flag);
  }
});

test('an abort (Ctrl+C) stops after the current case with exit code 130', async () => {
  const controller = new AbortController();
  controller.abort(new Error('stop'));
  const r = await cli(['bench', '--cases', 'infer', '--batch-size', '1,2', ...FAST], { signal: controller.signal });
  expect(r.code).toBe(130);
  expect(r.err).toEqual(['error: interrupted']);
  expect(tableRows(r.out).map(([c, b]) => `${c} ${b}`)).toEqual(['infer 1']);
});
