// SPDX-License-Identifier: MIT
// `simdnet train --model-file net.json` on a tiny CIFAR-10-format folder: training, then eval, predict, export, summary and
// bench of the saved file; a recipe with a custom model; checkpoints and --resume; and the usage errors.
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { readSafetensors } from '../../lib/io/safetensors';
import { buildModelFromSpec } from '../../lib/summary/model-spec';
import { readCheckpoint } from '../../lib/train/checkpoint';
import { writeTinyCifar10 } from './cifar-fixture';
import { cli, tempDir, withoutKernels } from './helpers';

/** The CIFAR-10 example of docs/models.md (every layer in it can be exported to ONNX). */
const CIFAR_SPEC = {
  input: [1, 3, 32, 32],
  layers: [
    { type: 'conv2d', name: 'conv1', outChannels: 8, kernelSize: 3, padding: 1 },
    { type: 'batchnorm2d', name: 'bn1' },
    { type: 'relu', name: 'relu1' },
    { type: 'maxpool2d', name: 'pool1', kernelSize: 2 },
    { type: 'conv2d', name: 'conv2', outChannels: 16, kernelSize: 3, padding: 1 },
    { type: 'batchnorm2d', name: 'bn2' },
    { type: 'relu', name: 'relu2' },
    { type: 'avgpool2d', name: 'pool2', kernelSize: 2 },
    { type: 'flatten', name: 'flatten' },
    { type: 'dropout', name: 'drop', p: 0.25 },
    { type: 'linear', name: 'fc', outFeatures: 10 },
  ],
};

let dir: string;
let data: string;
let specFile: string;
let weights: string;
beforeAll(() => {
  dir = tempDir('simdnet-cli-model-file-');
  data = path.join(dir, 'data');
  writeTinyCifar10(path.join(data, 'cifar-10-batches-bin'), 8, 20);
  specFile = writeJson('net.json', CIFAR_SPEC);
  weights = path.join(dir, 'net.safetensors');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeJson(name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

function trainArgs(extra: string[]): string[] {
  return ['train', '--data', data, '--epochs', '2', '--batch-size', '8', '--progress', 'none', ...extra];
}

/** The weight tensors of a weights file, as exact bytes. */
function tensorsOf(file: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(readSafetensors(file).tensors))
    out[k] = Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length));
  return out;
}

describe('a model trained from a spec file, then every command on the saved file', () => {
  beforeAll(async () => {
    const r = await cli(trainArgs(['--model-file', specFile, '--out', weights]));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const params = buildModelFromSpec(CIFAR_SPEC).model.numParameters();
    expect(withoutKernels(r.out[1])).toBe(
      `model: ${specFile} (${params} parameters), Adam lr 0.001, batch size 8, 2 epochs, seed 0`,
    );
    expect(
      r.out.filter((l) => /^epoch [12]\/2 {2}train loss \d+\.\d{4} acc \d+\.\d{2}% {2}test loss/.test(l)),
    ).toHaveLength(2);
    expect(r.out.at(-1)).toBe(`saved the weights to ${weights}`);
  });

  test('the file records the architecture "Sequential", the normalised spec, the dataset and the history', () => {
    const { tensors, metadata } = readSafetensors(weights);
    expect(metadata['simdnet.arch']).toBe('Sequential');
    const spec = JSON.parse(metadata['simdnet.config']);
    expect(spec).toEqual(buildModelFromSpec(CIFAR_SPEC).spec);
    expect(spec.layers[0]).toEqual({
      type: 'conv2d',
      name: 'conv1',
      inChannels: 3,
      outChannels: 8,
      kernelSize: 3,
      padding: 1,
    });
    expect(metadata['simdnet.dataset']).toBe('cifar10');
    expect(JSON.parse(metadata['simdnet.history'])).toHaveLength(2);
    expect(Object.keys(tensors)).toContain('bn2.running_var');
  });

  test('eval prints the report; eval of its ONNX export prints the same one', async () => {
    const e = await cli(['eval', '--weights', weights, '--data', data]);
    expect(e.stderr).toBe('');
    expect(e.code).toBe(0);
    expect(e.out[0]).toMatch(/^accuracy: \d{1,3}\.\d{2}%$/);
    expect(e.out.at(-1)).toMatch(/^loss: \d+\.\d{4} over 20 CIFAR-10 test images$/);
    const onnx = path.join(dir, 'net.onnx');
    const x = await cli(['export', '--weights', weights, '--onnx', onnx]);
    expect(x.stderr).toBe('');
    expect(x.code).toBe(0);
    expect(x.out).toEqual([
      `wrote ${onnx}: Sequential(input [1, 3, 32, 32], 11 layers), input 'input' [batch, 3, 32, 32], output 'logits', opset 13`,
    ]);
    const fromOnnx = await cli(['eval', '--weights', onnx, '--data', data]);
    expect(fromOnnx.code).toBe(0);
    expect(fromOnnx.out).toEqual(e.out);
  });

  test('predict normalises as CIFAR-10 and names its classes', async () => {
    const png = new PNG({ width: 32, height: 32 });
    png.data.fill(200);
    const image = path.join(dir, 'grey.png');
    fs.writeFileSync(image, PNG.sync.write(png));
    const r = await cli(['predict', '--weights', weights, '--top', '3', image]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(
      'model: Sequential, input 3x32x32, 10 classes; images resized bilinearly (short side to 32, centre 32x32 cut out: --resize crop), normalised with the CIFAR-10 mean/std',
    );
    expect(r.stdout).toMatch(/airplane|automobile|bird|cat|deer|dog|frog|horse|ship|truck/);
  });

  test('summary --weights and bench --weights take the input shape from the file', async () => {
    const s = await cli(['summary', '--weights', weights]);
    expect(s.code).toBe(0);
    expect(s.out[0]).toBe(`model: ${weights} (Sequential(input [1, 3, 32, 32], 11 layers)), input [1, 3, 32, 32]`);
    expect(s.stdout).toContain('bn2');
    const b = await cli([
      'bench',
      '--weights',
      weights,
      '--cases',
      'infer',
      '--batch-size',
      '2',
      '--json',
      '--seconds',
      '0.05',
    ]);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout).sampleShape).toEqual([3, 32, 32]);
  });
});

test('--recipe with --model-file: the recipe trains the custom model; a spec without "input" takes the dataset images', async () => {
  const { input: _input, ...noInput } = CIFAR_SPEC;
  const file = writeJson('no-input.json', noInput);
  const out = path.join(dir, 'bn-recipe.safetensors');
  const r = await cli(
    trainArgs(['--recipe', 'lenet-bn', '--model-file', file, '--epochs', '1', '--out', out, '--seed', '3']),
  );
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(withoutKernels(r.out[1])).toMatch(
    new RegExp(
      `^model: .*no-input\\.json \\(\\d+ parameters\\), AdamW lr 0\\.002 weight decay 0\\.05 \\(cosine schedule, flips\\), batch size 8, 1 epochs, seed 3$`,
    ),
  );
  expect(JSON.parse(readSafetensors(out).metadata['simdnet.config']).input).toEqual([1, 3, 32, 32]);
  // --seed picks the initial weights of a spec model too.
  const same = await cli(
    trainArgs([
      '--recipe',
      'lenet-bn',
      '--model-file',
      file,
      '--epochs',
      '1',
      '--out',
      path.join(dir, 'bn-recipe-0.safetensors'),
    ]),
  );
  expect(same.code).toBe(0);
  expect(tensorsOf(path.join(dir, 'bn-recipe-0.safetensors'))['conv1.weight']).not.toEqual(
    tensorsOf(out)['conv1.weight'],
  );
});

test('a model that ends in softmax trains, with a note that training expects logits', async () => {
  const file = writeJson('softmax.json', {
    layers: [{ type: 'flatten' }, { type: 'linear', outFeatures: 10 }, { type: 'softmax', dim: 1 }],
  });
  const r = await cli(
    trainArgs(['--model-file', file, '--epochs', '1', '--out', path.join(dir, 'softmax.safetensors')]),
  );
  expect(r.code).toBe(0);
  expect(r.err).toEqual([
    expect.stringMatching(
      /^note: .*softmax\.json ends in softmax, but training applies cross-entropy to the model's output as logits/,
    ),
  ]);
});

test('a spec model with dropout: 2 epochs straight == 1 epoch, Ctrl+C, --resume (bit-identical); another model file is refused', async () => {
  const sub = path.join(dir, 'resume');
  fs.mkdirSync(sub);
  const args = (out: string, ck: string, spec = specFile) =>
    trainArgs(['--model-file', spec, '--out', path.join(sub, out), '--checkpoint', path.join(sub, ck)]);
  const straight = await cli(args('straight.safetensors', 'ck-straight'));
  expect(straight.code).toBe(0);

  const controller = new AbortController();
  const first = await cli(args('resumed.safetensors', 'ck'), {
    signal: controller.signal,
    onStdoutLine: (l) => /^epoch 1\/2 /.test(l) && controller.abort(),
  });
  expect(first.code).toBe(130);
  const ck = readCheckpoint(path.join(sub, 'ck', 'checkpoint.safetensors'));
  expect(ck.meta.settings.model).toBe(JSON.stringify(buildModelFromSpec(CIFAR_SPEC).spec));
  expect(Object.keys(ck.meta.generators.modules)).toEqual(['drop']);

  const wider = writeJson('wider.json', {
    ...CIFAR_SPEC,
    layers: CIFAR_SPEC.layers.map((l) => (l.name === 'conv1' ? { ...l, outChannels: 12 } : l)),
  });
  const other = await cli([...args('resumed.safetensors', 'ck', wider), '--resume']);
  expect(other.code).toBe(2);
  expect(other.err).toEqual([
    expect.stringMatching(
      /^error: --resume: .* holds a run with other settings \(--model-file was a model spec \(sha256 [0-9a-f]{12}\), now a model spec \(sha256 [0-9a-f]{12}\)\); run with the same settings/,
    ),
  ]);
  const lenet = await cli([
    ...trainArgs(['--out', path.join(sub, 'resumed.safetensors'), '--checkpoint', path.join(sub, 'ck')]),
    '--resume',
  ]);
  expect(lenet.code).toBe(2);
  expect(lenet.stderr).toMatch(/--model-file was a model spec \(sha256 [0-9a-f]{12}\), now \(not given\)/);

  const resumed = await cli([...args('resumed.safetensors', 'ck'), '--resume']);
  expect(resumed.stderr).toBe('');
  expect(resumed.code).toBe(0);
  expect(resumed.out.filter((l) => l.startsWith('epoch '))).toHaveLength(1);
  expect(tensorsOf(path.join(sub, 'resumed.safetensors'))).toEqual(tensorsOf(path.join(sub, 'straight.safetensors')));
});

test('exporting a model file whose layer ONNX cannot express is a runtime error naming the layer', async () => {
  // 10x10 -> 3x3 adaptive pooling has no fixed ONNX kernel (PyTorch's exporter refuses it too).
  const file = writeJson('leaky.json', {
    layers: [
      { type: 'conv2d', outChannels: 4, kernelSize: 5, stride: 3 },
      { type: 'leakyrelu', negativeSlope: 0.1 },
      { type: 'adaptiveavgpool2d', outputSize: 3 },
      { type: 'flatten' },
      { type: 'linear', outFeatures: 10 },
    ],
  });
  const out = path.join(dir, 'leaky.safetensors');
  expect((await cli(trainArgs(['--model-file', file, '--epochs', '1', '--out', out]))).code).toBe(0);
  const e = await cli(['eval', '--weights', out, '--data', data]);
  expect(e.code).toBe(0);
  const x = await cli(['export', '--weights', out, '--onnx', path.join(dir, 'leaky.onnx')]);
  expect(x.code).toBe(1);
  expect(x.err).toEqual([
    expect.stringMatching(
      /^error: exportOnnx: layer '2' \(AdaptiveAvgPool2d\) has output 3x3 for the input 10x10: ONNX has no adaptive pooling/,
    ),
  ]);
});

describe('model files that do not fit the dataset, or are not specs: one line, exit 2, before any data loads', () => {
  const linear = (outFeatures: number) => [{ type: 'flatten' }, { type: 'linear', outFeatures }];
  const cases: [string, () => string, RegExp][] = [
    [
      'grey input for colour images',
      () => writeJson('grey.json', { input: [1, 1, 28, 28], layers: linear(10) }),
      /^error: --model-file .*grey\.json: the model takes 1x28x28 images \("input": \[1,1,28,28\]\); CIFAR-10 has 3x32x32 images \(use "input": \[1, 3, 32, 32\], or leave it out\)$/,
    ],
    [
      'an input that is not an image',
      () => writeJson('flat.json', { input: [1, 3072], layers: [{ type: 'linear', outFeatures: 10 }] }),
      /^error: --model-file .*flat\.json: the model takes input \[1, 3072\] \("input": \[1,3072\]\); CIFAR-10 has 3x32x32 images/,
    ],
    [
      '5 classes for 10',
      () => writeJson('five.json', { layers: linear(5) }),
      /^error: --model-file .*five\.json: the model maps 3x32x32 images to \[1, 5\]; CIFAR-10 needs \[N, 10\] \(one logit per class: end with a linear layer of outFeatures 10\)$/,
    ],
    [
      'an output that is not [N, classes]',
      () => writeJson('conv.json', { layers: [{ type: 'conv2d', outChannels: 10, kernelSize: 32 }] }),
      /the model maps 3x32x32 images to \[1, 10, 1, 1\]; CIFAR-10 needs \[N, 10\]/,
    ],
    [
      'an unknown layer type',
      () => writeJson('conv3d.json', { layers: [{ type: 'conv3d' }] }),
      /^error: --model-file .*conv3d\.json: layers\[0\] \(conv3d\): unknown layer type \(known: conv1d, conv2d, .*, sequential, graph\)$/,
    ],
    [
      'an unknown option',
      () =>
        writeJson('opt.json', {
          layers: [{ type: 'flatten' }, { type: 'linear', name: 'fc', outFeatures: 10, activation: 'relu' }],
        }),
      /^error: --model-file .*opt\.json: layers\[1\] 'fc' \(linear\): unknown option 'activation' \(known: inFeatures, outFeatures, bias\)$/,
    ],
    ['not JSON', () => writeJson('bad.json', '{"layers": ['), /^error: --model-file .*bad\.json: not valid JSON/],
    ['a missing file', () => path.join(dir, 'missing.json'), /^error: --model-file.*missing\.json/],
  ];
  test.each(cases)('%s', async (_what, make, message) => {
    const r = await cli(trainArgs(['--model-file', make(), '--out', path.join(dir, 'never.safetensors')]));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.err).toEqual([expect.stringMatching(message)]);
    expect(fs.existsSync(path.join(dir, 'never.safetensors'))).toBe(false);
  });
});
