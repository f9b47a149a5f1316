// SPDX-License-Identifier: MIT
// Tests of `simdnet export` in-process: LeNet and LeNetBN weights files to ONNX (the same bytes as encodeOnnx,
// runnable in onnxruntime, with the dataset and class count in metadata_props), --batch, help, and the usage and runtime errors.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { encodeOnnx } from '../../lib/io/onnx-export';
import { importOnnx } from '../../lib/io/onnx-import';
import { LeNet } from '../../lib/modules/lenet';
import { LeNetBN } from '../../lib/modules/lenet-bn';
import { Linear } from '../../lib/modules/linear';
import { manualSeed } from '../../lib/random';
import { saveSafetensors } from '../../lib/io/safetensors';
import { modelMetadata, saveModel } from '../../lib/train/saved-model';
import { cli, tempDir } from './helpers';

const dir = tempDir('simdnet-export-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function inputDims(file: string): (string | number)[] {
  const m = onnx.ModelProto.decode(fs.readFileSync(file));
  return m.graph!.input![0].type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
}

test('LeNet weights -> ONNX: the bytes encodeOnnx gives for the rebuilt model, and onnxruntime loads it', async () => {
  manualSeed(11);
  const model = new LeNet();
  const weights = path.join(dir, 'lenet.safetensors');
  saveModel(weights, model);
  const out = path.join(dir, 'lenet.onnx');
  const r = await cli(['export', '--weights', weights, '--onnx', out]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.out).toEqual([
    `wrote ${out}: LeNet(inChannels=3, imageSize=32, numClasses=10), input 'input' [batch, 3, 32, 32], output 'logits', opset 13`,
  ]);
  const metadata = { 'simdnet.num_classes': '10' };
  expect(Buffer.from(fs.readFileSync(out)).equals(Buffer.from(encodeOnnx(model, [1, 3, 32, 32], { metadata })))).toBe(
    true,
  );
  expect(inputDims(out)).toEqual(['batch', 3, 32, 32]);
  // onnxruntime accepts the file (a child process: see test/io/ort-run.js).
  const x = new Float32Array(2 * 3 * 32 * 32).fill(0.5);
  const run = spawnSync(process.execPath, [path.join(__dirname, '..', 'io', 'ort-run.js')], {
    input: JSON.stringify({
      model: out,
      inputs: [{ dims: [2, 3, 32, 32], data: Buffer.from(x.buffer).toString('base64') }],
    }),
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  const result = JSON.parse(run.stdout) as { outputs: { dims: number[]; data: string }[] };
  const bytes = Buffer.from(result.outputs[0].data, 'base64');
  const got = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const expected = model.predict(new (await import('../../lib/tensor/tensor')).Tensor(x, [2, 3, 32, 32]));
  expect(result.outputs[0].dims).toEqual([2, 10]);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected.data[i]));
  expect(worst).toBeLessThanOrEqual(1e-5);
});

test('LeNetBN (28x28, one channel) with --batch 8 replaces an existing file', async () => {
  manualSeed(12);
  const model = new LeNetBN({ inChannels: 1, imageSize: 28 });
  const weights = path.join(dir, 'bn.safetensors');
  saveModel(weights, model);
  const out = path.join(dir, 'bn.onnx');
  fs.writeFileSync(out, 'old');
  const r = await cli(['export', '--weights', weights, '--onnx', out, '--batch', '8']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.out[0]).toContain("LeNetBN(inChannels=1, imageSize=28, numClasses=10), input 'input' [batch, 1, 28, 28]");
  expect(
    Buffer.from(fs.readFileSync(out)).equals(
      Buffer.from(encodeOnnx(model, [8, 1, 28, 28], { metadata: { 'simdnet.num_classes': '10' } })),
    ),
  ).toBe(true);
  expect(inputDims(out)).toEqual(['batch', 1, 28, 28]);
  expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
});

test('the training dataset and class count go into metadata_props; importOnnx reads the model back', async () => {
  manualSeed(14);
  const model = new LeNetBN({ inChannels: 1, imageSize: 28, numClasses: 7 });
  const weights = path.join(dir, 'mnist.safetensors');
  saveSafetensors(weights, model.stateDict(), { ...modelMetadata(model), 'simdnet.dataset': 'mnist' });
  const out = path.join(dir, 'mnist.onnx');
  expect((await cli(['export', '--weights', weights, '--onnx', out])).code).toBe(0);
  const m = onnx.ModelProto.decode(fs.readFileSync(out));
  expect(m.metadataProps.map((p) => [p.key, p.value])).toEqual([
    ['simdnet.dataset', 'mnist'],
    ['simdnet.num_classes', '7'],
  ]);
  const back = importOnnx(out);
  expect(back).toMatchObject({
    inputShape: [1, 28, 28],
    outputSize: 7,
    graphName: 'LeNetBN',
    metadata: { 'simdnet.dataset': 'mnist', 'simdnet.num_classes': '7' },
  });
  const x = new (await import('../../lib/tensor/tensor')).Tensor(
    new Float32Array(2 * 784).map((_, i) => Math.sin(i)),
    [2, 1, 28, 28],
  );
  expect(Array.from(back.model.predict(x).data)).toEqual(Array.from(model.predict(x).data));
});

test('--onnx defaults to the --weights name ending in .onnx', async () => {
  manualSeed(15);
  const weights = path.join(dir, 'default-name.safetensors');
  saveModel(weights, new LeNet());
  const r = await cli(['export', '--weights', weights]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.out[0]).toMatch(
    new RegExp(`^wrote ${path.join(dir, 'default-name.onnx').replace(/[.]/g, '\\.')}: LeNet\\(`),
  );
  expect(importOnnx(path.join(dir, 'default-name.onnx')).graphName).toBe('LeNet');
});

test("an ONNX --weights file (PyTorch's export) is rewritten in simdnet's form: same outputs, simdnet's metadata", async () => {
  const source = path.join(dir, 'torch.onnx');
  fs.copyFileSync(path.join(__dirname, '..', 'fixtures', 'onnx_lenet.onnx'), source);
  const r = await cli(['export', '--weights', source]);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  const out = path.join(dir, 'torch.simdnet.onnx'); // the default never replaces the input
  expect(r.out).toEqual([
    expect.stringMatching(
      /^wrote .*torch\.simdnet\.onnx: main_graph \(pytorch [\d.]+, opset \d+\) as \d+ layers, input 'input' \[batch, 3, 32, 32\], output 'logits', opset 13$/,
    ),
  ]);
  const [before, after] = [importOnnx(source), importOnnx(out)];
  expect(after).toMatchObject({ inputShape: [3, 32, 32], outputSize: 10, metadata: { 'simdnet.num_classes': '10' } });
  const { Tensor } = await import('../../lib/tensor/tensor');
  const x = new Tensor(
    new Float32Array(2 * 3072).map((_, i) => Math.cos(i)),
    [2, 3, 32, 32],
  );
  expect(Array.from(after.model.predict(x).data)).toEqual(Array.from(before.model.predict(x).data));
  // Nor can --onnx name the input.
  const again = await cli(['export', '--weights', source, '--onnx', source]);
  expect(again.code).toBe(2);
  expect(again.err).toEqual([expect.stringMatching(/would overwrite the --weights file/)]);
});

test('--help lists the flags', async () => {
  const r = await cli(['export', '--help']);
  expect(r.code).toBe(0);
  for (const flag of ['--weights <file>', '--onnx <file>', '--batch <n>', 'dynamic axis', 'simdnet.dataset'])
    expect(r.stdout).toContain(flag);
  expect((await cli(['--help'])).stdout).toMatch(/export \[options\]\s+write a model saved by `simdnet train` \(or/);
});

test('usage errors: one stderr line, exit code 2, nothing written', async () => {
  manualSeed(13);
  const weights = path.join(dir, 'usage.safetensors');
  saveModel(weights, new LeNet());
  const out = path.join(dir, 'usage.onnx');
  const cases: [string[], RegExp][] = [
    [['export', '--onnx', out], /required option '--weights <file>'/],
    [
      ['export', '--weights', path.join(dir, 'nope.safetensors'), '--onnx', out],
      /--weights: .*nope\.safetensors does not exist/,
    ],
    [['export', '--weights', dir, '--onnx', out], /--weights: .* is not a file/],
    [
      ['export', '--weights', weights, '--onnx', path.join(dir, 'missing', 'x.onnx')],
      /--onnx: folder .*missing does not exist/,
    ],
    [['export', '--weights', weights, '--onnx', dir], /--onnx: .* is a folder/],
    [['export', '--weights', weights, '--onnx', weights], /would overwrite the --weights file/],
    [['export', '--weights', weights, '--onnx', out, '--batch', '0'], /--batch.*expected an integer >= 1/],
    [['export', '--weights', weights, '--onnx', out, '--batch', '2.5'], /--batch.*expected an integer >= 1/],
    [['export', '--weights', '', '--onnx', out], /expected a non-empty path/],
  ];
  for (const [argv, message] of cases) {
    const r = await cli(argv);
    expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(message);
  }
  expect(fs.existsSync(out)).toBe(false);
});

test('a weights file simdnet cannot rebuild is an error naming the file (exit 2: a file of the wrong kind)', async () => {
  const plain = path.join(dir, 'plain.safetensors');
  saveSafetensors(plain, new Linear({ inFeatures: 2, outFeatures: 2 }).stateDict());
  const garbage = path.join(dir, 'garbage.safetensors');
  fs.writeFileSync(garbage, 'not a safetensors file');
  const out = path.join(dir, 'bad.onnx');
  for (const file of [plain, garbage]) {
    const r = await cli(['export', '--weights', file, '--onnx', out]);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(new RegExp(`^error: .*${path.basename(file)}`));
  }
  expect(fs.existsSync(out)).toBe(false);
});
