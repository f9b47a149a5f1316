// SPDX-License-Identifier: MIT
// Tests of the ONNX importer on what PyTorch users get by default: torch.onnx.export's dynamo exporter (opset 20, weights in
// an external <model>.onnx.data file) and the TorchScript exporter's x.view(x.size(0), -1) (Shape, Gather, Unsqueeze,
// Concat, Reshape), from test/fixtures/gen_onnx_fixture.py; external data read safely; truncated files give FileFormatErrors.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { importOnnx } from '../../lib/io/onnx-import';
import { encodeSafetensors, readSafetensors } from '../../lib/io/safetensors';
import { LeNet } from '../../lib/modules/lenet';
import { Tensor } from '../../lib/tensor/tensor';
import { maxDiff, randomTensor } from '../helpers';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const fixture = (name: string) => path.join(FIXTURES, name);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-onnx-pytorch-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ref = readSafetensors(fixture('onnx_pytorch.safetensors')).tensors;
const viewFile = readSafetensors(fixture('onnx_pytorch_view.safetensors'));

const diffs: Record<string, number> = {};
afterAll(() => console.log(`ONNX import max |simdnet - PyTorch| (dynamo and view fixtures): ${JSON.stringify(diffs)}`));

const kinds = (r: { model: { namedChildren(): [string, object][] } }) =>
  r.model.namedChildren().map(([n, m]) => `${n}:${m.constructor.name}`);

describe("PyTorch's default exporter (dynamo=True: opset 20, external data) and view(x.size(0), -1)", () => {
  test("the view reference file: what the generator says it wrote, in the fixtures' byte layout", () => {
    expect(Object.fromEntries(Object.entries(viewFile.tensors).map(([k, t]) => [k, t.shape]))).toEqual({
      'view.input': [3, 3, 12, 12],
      'view.logits': [3, 5],
    });
    expect(viewFile.metadata).toMatchObject({
      generator: 'test/fixtures/gen_onnx_fixture.py',
      seed: '0',
      torch: expect.stringMatching(/^2\./),
    });
    expect(
      encodeSafetensors(viewFile.tensors, viewFile.metadata).equals(
        fs.readFileSync(fixture('onnx_pytorch_view.safetensors')),
      ),
    ).toBe(true);
  });

  test('LeNet (dynamo): logits within 1e-5 of PyTorch; Reshape [-1, 400] with allowzero 1 is the Flatten; state-dict names carry over', () => {
    const r = importOnnx(fixture('onnx_lenet_dynamo.onnx'));
    expect(r).toMatchObject({ inputShape: [3, 32, 32], outputShape: [10], graphName: 'main_graph', opset: 20 });
    expect(r.producer).toMatch(/^pytorch 2\./);
    const logits = r.model.predict(ref['lenet.input']);
    diffs.lenetDynamo = maxDiff(logits.data, ref['lenet.logits'].data);
    expect(diffs.lenetDynamo).toBeLessThanOrEqual(1e-5);
    expect(kinds(r)).toEqual([
      'conv1:Conv2d',
      'relu:ReLU',
      'max_pool2d:MaxPool2d',
      'conv2:Conv2d',
      'relu_1:ReLU',
      'max_pool2d_1:MaxPool2d',
      'Reshape_7:Flatten',
      'fc1:Linear',
      'relu_2:ReLU',
      'fc2:Linear',
      'relu_3:ReLU',
      'fc3:Linear',
    ]);
    const lenet = new LeNet();
    lenet.loadStateDict(r.model.stateDict());
    expect(maxDiff(lenet.predict(ref['lenet.input']).data, logits.data)).toBe(0);
    // The same weights as the TorchScript export of the same model.
    expect(maxDiff(importOnnx(fixture('onnx_lenet.onnx')).model.predict(ref['lenet.input']).data, logits.data)).toBe(0);
  });

  test('Mix (dynamo): ReduceMean for AdaptiveAvgPool2d(1), a folded transposed MatMul weight, BatchNormalization; within 1e-5', () => {
    const r = importOnnx(fixture('onnx_mix_dynamo.onnx'));
    expect(r).toMatchObject({ inputShape: [3, 16, 16], outputShape: [5], opset: 20 });
    diffs.mixDynamo = maxDiff(r.model.predict(ref['mix.input']).data, ref['mix.logits'].data);
    expect(diffs.mixDynamo).toBeLessThanOrEqual(1e-5);
    expect(kinds(r)).toEqual([
      'conv1:Conv2d',
      'leaky_relu:LeakyReLU',
      'avg_pool2d:AvgPool2d',
      'bn1:BatchNorm2d',
      'conv2:Conv2d',
      'tanh:Tanh',
      'max_pool2d:MaxPool2d',
      'max_pool2d_1:MaxPool2d',
      'conv3:Conv2d',
      'relu:ReLU',
      'mean:AdaptiveAvgPool2d',
      'view:Flatten',
      'fc1:Linear',
      'sigmoid:Sigmoid',
      'matmul:Linear',
      'relu_1:ReLU',
      'fc3:Linear',
      'log_softmax:LogSoftmax',
    ]);
  });

  test('ViewNet (TorchScript, dynamic batch): view(x.size(0), x.size(1), -1), view(x.size(0), -1) and a no-op reshape; within 1e-5', () => {
    const r = importOnnx(fixture('onnx_view.onnx'));
    expect(r).toMatchObject({ inputShape: [3, 12, 12], outputShape: [5], opset: 13 });
    diffs.view = maxDiff(r.model.predict(viewFile.tensors['view.input']).data, viewFile.tensors['view.logits'].data);
    expect(diffs.view).toBeLessThanOrEqual(1e-5);
    expect(kinds(r)).toEqual([
      'conv:Conv2d',
      'Relu:ReLU',
      'MaxPool:MaxPool2d',
      'Reshape:Flatten',
      'Reshape_1:Flatten',
      'fc1:Linear',
      'Relu_1:ReLU',
      'fc2:Linear',
    ]);
  });

  test.each([
    ['onnx_lenet_dynamo.onnx', [3, 32, 32], 10],
    ['onnx_mix_dynamo.onnx', [3, 16, 16], 5],
    ['onnx_view.onnx', [3, 12, 12], 5],
  ] as const)('%s runs a batch of 1 and of 7 (the batch is dynamic)', (name, shape, classes) => {
    const { model } = importOnnx(fixture(name));
    expect(model.predict(randomTensor([1, ...shape], 1)).shape).toEqual([1, classes]);
    expect(model.predict(randomTensor([7, ...shape], 2)).shape).toEqual([7, classes]);
  });
});

describe('external data', () => {
  const bytes = fs.readFileSync(fixture('onnx_lenet_dynamo.onnx'));

  /** The LeNet (dynamo) file with its external_data entries edited, in a fresh folder holding `data` as the data file. */
  function variant(name: string, edit: (entries: onnx.IStringStringEntryProto[]) => void, data?: Uint8Array): string {
    const m = onnx.ModelProto.decode(bytes);
    for (const t of m.graph?.initializer ?? []) if (t.externalData && t.externalData.length > 0) edit(t.externalData);
    const sub = fs.mkdtempSync(path.join(dir, `${name}-`));
    fs.writeFileSync(path.join(sub, 'model.onnx'), onnx.ModelProto.encode(m).finish());
    if (data) fs.writeFileSync(path.join(sub, 'onnx_lenet_dynamo.onnx.data'), data);
    return path.join(sub, 'model.onnx');
  }
  const data = fs.readFileSync(fixture('onnx_lenet_dynamo.onnx.data'));
  const set = (key: string, value: string) => (entries: onnx.IStringStringEntryProto[]) => {
    const e = entries.find((x) => x.key === key);
    if (e) e.value = value;
    else entries.push({ key, value });
  };

  test('bytes need externalDataDir; with it they import as the file does', () => {
    expect(() => importOnnx(bytes, { name: 'lenet.onnx' })).toThrow(
      /^lenet\.onnx: node 'node_conv2d' \(Conv\): tensor 'conv1\.weight' keeps its data in an external file \('onnx_lenet_dynamo\.onnx\.data'\), which bytes cannot reach/,
    );
    const r = importOnnx(bytes, { externalDataDir: FIXTURES });
    expect(maxDiff(r.model.predict(ref['lenet.input']).data, ref['lenet.logits'].data)).toBeLessThanOrEqual(1e-5);
  });

  test.each<[string, (e: onnx.IStringStringEntryProto[]) => void, Uint8Array | undefined, RegExp]>([
    [
      'a missing data file',
      () => undefined,
      undefined,
      /cannot read its external data file 'onnx_lenet_dynamo\.onnx\.data' \(ENOENT\)/,
    ],
    [
      'a truncated data file',
      () => undefined,
      data.subarray(0, 100_000),
      /needs bytes \d+ to \d+ of 'onnx_lenet_dynamo\.onnx\.data', which has 100000: the data file is truncated/,
    ],
    [
      'a location leading out of the folder',
      set('location', '../onnx_lenet_dynamo.onnx.data'),
      data,
      /external data location '\.\.\/onnx_lenet_dynamo\.onnx\.data' leads out of the model's folder/,
    ],
    [
      'an absolute location',
      set('location', '/etc/passwd'),
      data,
      /external data location '\/etc\/passwd' is absolute/,
    ],
    ['a folder as location', set('location', '.'), data, /external data location '\.' is a folder, not a file/],
    [
      'no location',
      (e) => e.splice(0, e.length, { key: 'offset', value: '0' }),
      data,
      /is marked as external data but names no location/,
    ],
    [
      "a length that is not the shape's",
      set('length', '12'),
      data,
      /external_data length 12 is not the \d+ bytes its shape needs/,
    ],
    ['an offset that is not a number', set('offset', '-4'), data, /external_data offset '-4' is not a byte count/],
  ])('%s: a FileFormatError naming the file, node and tensor', (name, edit, contents, message) => {
    const file = variant(name.replace(/\W+/g, '-'), edit, contents);
    let caught: Error | undefined;
    try {
      importOnnx(file);
    } catch (err) {
      caught = err as Error;
    }
    expect(caught?.name).toBe('FileFormatError');
    expect(caught?.message.startsWith(`${file}: node '`)).toBe(true);
    expect(caught?.message).toMatch(message);
  });

  // mkfifo exists on Linux and macOS only.
  (process.platform === 'win32' ? test.skip : test)('a FIFO as the data file is refused without blocking', () => {
    const file = variant('fifo', () => undefined);
    execFileSync('mkfifo', [path.join(path.dirname(file), 'onnx_lenet_dynamo.onnx.data')]);
    // Opening a FIFO for reading waits for a writer: before the fix this call never returned.
    expect(() => importOnnx(file)).toThrow(
      /external data location 'onnx_lenet_dynamo\.onnx\.data' is not a regular file \(a FIFO, socket or device\)/,
    );
  });

  test('a symbolic link leading out of the folder is refused', () => {
    const file = variant('symlink', () => undefined);
    fs.symlinkSync(
      fixture('onnx_lenet_dynamo.onnx.data'),
      path.join(path.dirname(file), 'onnx_lenet_dynamo.onnx.data'),
    );
    expect(() => importOnnx(file)).toThrow(
      /external data location 'onnx_lenet_dynamo\.onnx\.data' leads out of the model's folder/,
    );
  });
});

describe('truncated new fixtures: a FileFormatError naming the file, never another error', () => {
  function outcome(run: () => unknown, name: string): string {
    try {
      run();
      return 'ok';
    } catch (err) {
      const e = err as Error;
      if (e.name !== 'FileFormatError' || !e.message.startsWith(`${name}: `))
        throw new Error(`${name}: expected a FileFormatError, got ${e.name}: ${e.message}`, { cause: err });
      return e.name;
    }
  }

  test.each(['onnx_lenet_dynamo.onnx', 'onnx_mix_dynamo.onnx', 'onnx_view.onnx'])(
    '%s cut at 300 offsets (its data file beside it)',
    (name) => {
      const whole = fs.readFileSync(fixture(name));
      for (let k = 0; k < 300; k++) {
        const n = Math.floor((k * whole.length) / 300);
        expect([
          n,
          outcome(() => importOnnx(whole.subarray(0, n), { name: `cut-${n}`, externalDataDir: FIXTURES }), `cut-${n}`),
        ]).toEqual([n, 'FileFormatError']);
      }
      expect(outcome(() => importOnnx(whole, { name: 'whole', externalDataDir: FIXTURES }), 'whole')).toBe('ok');
    },
  );

  test('the data files cut at 100 lengths each', () => {
    for (const name of ['onnx_lenet_dynamo.onnx', 'onnx_mix_dynamo.onnx']) {
      const data = fs.readFileSync(fixture(`${name}.data`));
      const sub = fs.mkdtempSync(path.join(dir, 'cut-data-'));
      const file = path.join(sub, name);
      fs.copyFileSync(fixture(name), file);
      for (let k = 0; k < 100; k++) {
        fs.writeFileSync(`${file}.data`, data.subarray(0, Math.floor((k * data.length) / 100)));
        expect(outcome(() => importOnnx(file), file)).toBe('FileFormatError');
      }
    }
  });

  test('a model runs from its path after a copy with its data file (what simdnet predict --weights m.onnx does)', () => {
    const sub = fs.mkdtempSync(path.join(dir, 'copy-'));
    for (const f of ['onnx_mix_dynamo.onnx', 'onnx_mix_dynamo.onnx.data'])
      fs.copyFileSync(fixture(f), path.join(sub, f));
    const r = importOnnx(path.join(sub, 'onnx_mix_dynamo.onnx'));
    const x = ref['mix.input'];
    expect(maxDiff(r.model.predict(new Tensor(x.data, x.shape)).data, ref['mix.logits'].data)).toBeLessThanOrEqual(
      1e-5,
    );
  });
});
