// SPDX-License-Identifier: MIT
// Tests of `simdnet summary` in-process: built-in models, --input, --json, --model-file, --weights and the usage errors.
import * as fs from 'fs';
import * as path from 'path';
import { LeNet } from '../../lib/modules/lenet';
import { saveModel } from '../../lib/train/saved-model';
import { cli, tempDir } from './helpers';

const dir = tempDir('simdnet-summary-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeJson(name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

/** The table's cells of the row that starts with `name`. */
function row(lines: string[], name: string): string[] {
  const line = lines.find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no row ${name} in\n${lines.join('\n')}`);
  return line.split(/\s{2,}/);
}

test('default: LeNet on [1, 3, 32, 32], 62,006 parameters and 651,720 MACs', async () => {
  const r = await cli(['summary']);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.out[0]).toBe('model: lenet (LeNet(inChannels=3, imageSize=32, numClasses=10)), input [1, 3, 32, 32]');
  expect(row(r.out, 'conv1').slice(0, 4)).toEqual(['conv1 (Conv2d)', '[1, 6, 28, 28]', '456', '352,800']);
  expect(row(r.out, 'fc3').slice(0, 4)).toEqual(['fc3 (Linear)', '[1, 10]', '850', '840']);
  expect(r.out).toContain('Total params: 62,006 (trainable)');
  expect(r.out).toContain('Total MACs: 651,720 (multiply-adds for a batch of 1 image)');
  expect(r.out).toContain('FLOPs = 2 x MACs: 1,303,440');
});

test('--model block reproduces seed-examples section 1', async () => {
  const r = await cli(['summary', '--model', 'block']);
  expect(r.code).toBe(0);
  expect(r.out[0]).toMatch(/^model: block .*input \[1, 128, 64, 64\]$/);
  expect(row(r.out, 'conv1')).toEqual([
    'conv1 (Conv2d)',
    '[1, 256, 32, 32]',
    '294,912',
    '301,989,888',
    '262,144',
    '1.00 MiB',
    '-50%',
  ]);
  expect(row(r.out, 'conv2')).toEqual([
    'conv2 (Conv2d)',
    '[1, 512, 32, 32]',
    '1,179,648',
    '1,207,959,552',
    '524,288',
    '2.00 MiB',
    '+100%',
  ]);
  expect(r.out).toContain('Total params: 1,474,560 (trainable)');
  expect(r.out).toContain('Total MACs: 1,509,949,440 (multiply-adds for a batch of 1 image)');
  expect(r.out).toContain('Output activations: 524,288 values (2.00 MiB), 0% change from the input');
});

test('--model lenet5 --input 4,1,28,28 --json prints the data', async () => {
  const r = await cli(['summary', '--model', 'lenet5', '--input', '4,1,28,28', '--json']);
  expect(r.code).toBe(0);
  const data = JSON.parse(r.stdout);
  expect(data.inputShape).toEqual([4, 1, 28, 28]);
  expect(data.totalParams).toBe(61_706);
  expect(data.layers[0]).toMatchObject({
    name: 'conv1',
    type: 'Conv2d',
    outputShape: [4, 6, 28, 28],
    macs: 4 * 117_600,
  });
  expect(data.flops).toBe(2 * data.totalMacs);
});

describe('--model-file', () => {
  const spec = {
    input: [1, 3, 32, 32],
    layers: [
      { type: 'conv2d', outChannels: 6, kernelSize: 5 },
      { type: 'relu' },
      { type: 'maxpool2d', kernelSize: 2 },
      { type: 'flatten' },
      { type: 'linear', outFeatures: 10 },
    ],
  };

  test('the example from the help: sizes inferred from the running shape', async () => {
    const r = await cli(['summary', '--model-file', writeJson('net.json', spec), '--json']);
    expect(r.code).toBe(0);
    const data = JSON.parse(r.stdout);
    expect(data.layers.map((l: { name: string; outputShape: number[] }) => [l.name, l.outputShape])).toEqual([
      ['0', [1, 6, 28, 28]],
      ['1', [1, 6, 28, 28]],
      ['2', [1, 6, 14, 14]],
      ['3', [1, 1176]],
      ['4', [1, 10]],
    ]);
    expect(data.totalParams).toBe(456 + 11_770);
    expect(data.totalMacs).toBe(352_800 + 11_760);
  });

  test("--input overrides the file's input", async () => {
    const r = await cli(['summary', '--model-file', writeJson('net2.json', spec), '--input', '2,3,36,36']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^model: .*net2\.json, input \[2, 3, 36, 36\]$/);
    expect(row(r.out, '4 (Linear)')[1]).toBe('[2, 10]');
  });

  test.each([
    ['missing.json', null, /^error: --model-file: .*missing\.json does not exist$/],
    ['broken.json', '{"input": [1, 3', /^error: --model-file .*broken\.json: not valid JSON: /],
    [
      'unknown.json',
      { input: [1, 4], layers: [{ type: 'mish' }] },
      /layers\[0\] \(mish\): unknown layer type \(known: conv1d, conv2d, /,
    ],
    [
      'badopt.json',
      { input: [1, 4], layers: [{ type: 'linear', outFeatures: 2, bais: false }] },
      /layers\[0\] \(linear\): unknown option 'bais' \(known: inFeatures, outFeatures, bias\)/,
    ],
    [
      'small.json',
      { input: [1, 1, 3, 3], layers: [{ type: 'conv2d', outChannels: 2, kernelSize: 5 }] },
      /layers\[0\] \(conv2d\) with input \[1, 1, 3, 3\]: Conv2d: input 3x3 is smaller/,
    ],
    ['noinput.json', { layers: [] }, /no input shape/],
  ])('%s: one line, exit code 2', async (name, content, message) => {
    const file = content === null ? path.join(dir, name) : writeJson(name, content);
    const r = await cli(['summary', '--model-file', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(message);
  });
});

test('--weights rebuilds a saved model and takes its input size from the file', async () => {
  const file = path.join(dir, 'digits.safetensors');
  saveModel(file, new LeNet({ inChannels: 1, imageSize: 28, numClasses: 5 }));
  const r = await cli(['summary', '--weights', file]);
  expect(r.code).toBe(0);
  expect(r.out[0]).toMatch(
    /digits\.safetensors \(LeNet-5: LeNet\(inChannels=1, imageSize=28, numClasses=5\)\), input \[1, 1, 28, 28\]$/,
  );
  expect(row(r.out, 'fc3').slice(0, 4)).toEqual(['fc3 (Linear)', '[1, 5]', '425', '420']);
  const bad = await cli(['summary', '--weights', writeJson('not-weights.safetensors', 'nonsense')]);
  expect(bad.code).toBe(2);
  expect(bad.err).toHaveLength(1);
});

test.each([
  [
    ['--model', 'resnet'],
    /^error: option '--model <name>' argument 'resnet' is invalid. Allowed choices are lenet, lenet-bn, lenet5, lenet5-bn, block, resnet20, resnet32, resnet44, resnet56\.$/,
  ],
  [
    ['--input', '1,3,x'],
    /^error: option '--input <shape>' argument '1,3,x' is invalid\. expected sizes separated by commas/,
  ],
  [['--input', '1,0,32,32'], /expected sizes >= 1/],
  [
    ['--input', '1,1,32,32'],
    /^error: --input 1,1,32,32 does not fit lenet .*layer 'conv1' \(Conv2d\) with input \[1, 1, 32, 32\]/,
  ],
  [
    ['--model', 'block', '--model-file', 'x.json'],
    /^error: option '--model <name>' cannot be used with option '--model-file <file>'$/,
  ],
  [['--model-file', 'x.json', '--weights', 'w.safetensors'], /cannot be used with/],
  [['--weights', 'nowhere.safetensors'], /^error: --weights: nowhere\.safetensors does not exist$/],
  [['--bogus'], /^error: unknown option '--bogus'/],
])('summary %j: one line, exit code 2', async (args, message) => {
  const r = await cli(['summary', ...args]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.err).toHaveLength(1);
  expect(r.err[0]).toMatch(message);
});

test('--help documents the model file format and the MAC convention', async () => {
  const r = await cli(['summary', '--help']);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('--model-file <file>');
  expect(r.stdout).toContain('{"type": "conv2d", "outChannels": 6, "kernelSize": 5}');
  expect(r.stdout).toContain('FLOPs = 2 x MACs');
});
