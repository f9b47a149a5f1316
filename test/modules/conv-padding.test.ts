// SPDX-License-Identifier: MIT
// Tests of Conv1d/Conv2d padding 'same'/'valid' and padding modes (lib/modules/conv-padding.ts): PyTorch 2.13 fixtures
// (test/fixtures/conv_padding.safetensors from gen_conv_padding.py), gradcheck, the pad helpers against naive
// definitions, option errors, and the kind's spec, program and ONNX (onnxruntime) paths.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gradcheck } from '../../lib/gradcheck';
import { exportOnnx } from '../../lib/io/onnx-export';
import { importOnnx } from '../../lib/io/onnx-import';
import { encodeSafetensors, readSafetensors } from '../../lib/io/safetensors';
import { Conv1d, type Conv1dOptions } from '../../lib/modules/conv1d';
import { Conv2d, type Conv2dOptions } from '../../lib/modules/conv2d';
import { foldPaddedGrad, padSpatial, paddedShape, type PaddingMode } from '../../lib/modules/conv-padding';
import type { Module } from '../../lib/modules/module';
import { compileProgram } from '../../lib/modules/program';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { Generator } from '../../lib/random';
import { buildModelFromSpec } from '../../lib/summary/model-spec';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';
import { runOrt } from '../io/ort';

const FILE = path.join(__dirname, '..', 'fixtures', 'conv_padding.safetensors');
const { tensors: fx, metadata } = readSafetensors(FILE);
const CASES = Object.keys(metadata)
  .filter((k) => k.endsWith('.config'))
  .map((k) => k.slice(0, -'.config'.length));

function build(op: string, options: Record<string, unknown>): Conv1d | Conv2d {
  return op === 'conv1d'
    ? new Conv1d(options as unknown as Conv1dOptions)
    : new Conv2d(options as unknown as Conv2dOptions);
}

test('the fixture holds every padding form and re-encodes byte for byte', () => {
  expect(CASES.length).toBe(12);
  expect(metadata.generator).toBe('test/fixtures/gen_conv_padding.py');
  const { tensors, metadata: meta } = readSafetensors(FILE);
  expect(Buffer.compare(encodeSafetensors(tensors, meta), fs.readFileSync(FILE))).toBe(0);
});

describe.each(CASES)('%s matches PyTorch 2.13 within 1e-5', (name) => {
  test('forward, input, weight and bias gradients', () => {
    const { op, ...options } = JSON.parse(metadata[`${name}.config`]) as { op: string } & Record<string, unknown>;
    const conv = build(op, options);
    conv.loadStateDict(Object.fromEntries(conv.namedParameters().map(([n]) => [n, fx[`${name}.${n}`]])));
    const out = conv.forward(fx[`${name}.input`]);
    expect(out.shape).toEqual(fx[`${name}.output`].shape);
    expectAllClose(out.data, fx[`${name}.output`].data, 1e-5, 0, `${name}.output`);
    const dinput = conv.backward(fx[`${name}.dout`]);
    expect(dinput.shape).toEqual(fx[`${name}.input`].shape);
    expectAllClose(dinput.data, fx[`${name}.dinput`].data, 1e-5, 0, `${name}.dinput`);
    for (const [n, p] of conv.namedParameters())
      expectAllClose(p.grad.data, fx[`${name}.d${n}`].data, 1e-5, 0, `${name}.d${n}`);
    // predict() (a lone layer runs in JavaScript) gives the same output.
    expect(Array.from(conv.predict(fx[`${name}.input`]).data)).toEqual(Array.from(out.data));
  });
});

describe('gradcheck', () => {
  test.each([
    ['2-d same, even kernel', { kernelSize: [2, 4], padding: 'same' }],
    ['2-d reflect, stride 2', { kernelSize: 3, padding: [2, 1], stride: 2, paddingMode: 'reflect' }],
    ['2-d replicate, dilation', { kernelSize: 2, padding: 3, dilation: 2, paddingMode: 'replicate' }],
    ['2-d circular same', { kernelSize: [3, 4], padding: 'same', paddingMode: 'circular' }],
  ] as const)('%s', (_name, opts) => {
    const conv = new Conv2d({ inChannels: 2, outChannels: 2, generator: new Generator(1), ...opts });
    const r = gradcheck(conv, randomTensor([2, 2, 5, 4], 2), { maxPerTensor: 40 });
    if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
    expect(r.checked).toBeGreaterThan(0);
  });

  test.each([
    ['1-d reflect same', { kernelSize: 4, padding: 'same', paddingMode: 'reflect' }],
    ['1-d circular', { kernelSize: 3, padding: 4, paddingMode: 'circular' }],
  ] as const)('%s', (_name, opts) => {
    const conv = new Conv1d({ inChannels: 2, outChannels: 3, generator: new Generator(3), ...opts });
    const r = gradcheck(conv, randomTensor([2, 2, 5], 4), { maxPerTensor: 40 });
    if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
    expect(r.checked).toBeGreaterThan(0);
  });
});

describe('padSpatial and foldPaddedGrad', () => {
  /** The padded value at (r, c) of one plane by the definitions of torch.nn.functional.pad's modes. */
  function naive(x: number[][], r: number, c: number, mode: PaddingMode): number {
    const h = x.length;
    const w = x[0].length;
    const at = (i: number, n: number): number => {
      if (mode === 'reflect') return i < 0 ? -i : i >= n ? 2 * n - 2 - i : i;
      if (mode === 'replicate') return Math.min(Math.max(i, 0), n - 1);
      if (mode === 'circular') return (i + n) % n;
      return i;
    };
    const [i, j] = [at(r, h), at(c, w)];
    return i < 0 || i >= h || j < 0 || j >= w ? 0 : x[i][j];
  }

  test.each(['zeros', 'reflect', 'replicate', 'circular'] as const)(
    '%s matches the definition, and fold is its adjoint',
    (mode) => {
      const pads = { before: [2, 1], after: [1, 3] };
      const x = randomTensor([2, 3, 4, 5], 7);
      const out = Tensor.zeros(paddedShape(x.shape, pads));
      padSpatial(x, out, pads, mode);
      expect(out.shape).toEqual([2, 3, 7, 9]);
      for (let plane = 0; plane < 6; plane++) {
        const rows = Array.from({ length: 4 }, (_, r) =>
          Array.from(x.data.subarray(plane * 20 + r * 5, plane * 20 + r * 5 + 5)),
        );
        for (let r = 0; r < 7; r++)
          for (let c = 0; c < 9; c++) expect(out.data[plane * 63 + r * 9 + c]).toBe(naive(rows, r - 2, c - 1, mode));
      }
      // <pad(x), g> = <x, fold(g)> for the linear map pad and its transpose fold.
      const g = randomTensor([...out.shape], 8);
      const dx = Tensor.zeros(x.shape);
      foldPaddedGrad(g, dx, pads, mode);
      const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
      expect(dot(out.data, g.data)).toBeCloseTo(dot(x.data, dx.data), 4);
    },
  );
});

describe('options and errors', () => {
  const base = { inChannels: 2, outChannels: 2, kernelSize: 3 };
  test.each([
    [{ ...base, padding: 'full' }, 'RangeError', /Conv2d: padding must be a size, 'same' or 'valid', got string/],
    [
      { ...base, padding: 'same', stride: [1, 2] },
      'RangeError',
      /Conv2d: padding 'same' is not supported for strided convolutions/,
    ],
    [{ ...base, paddingMode: 'mirror' }, 'RangeError', /Conv2d: paddingMode must be one of 'zeros', 'reflect'/],
    [{ ...base, paddingMode: true }, 'TypeError', /Conv2d: paddingMode must be one of/],
  ] as [Record<string, unknown>, 'TypeError' | 'RangeError', RegExp][])('%j', (opts, kind, message) => {
    expectErrorNamed(() => new Conv2d(opts as unknown as Conv2dOptions), kind, message);
  });

  test('reflect pads less than the size, circular at most the size (PyTorch limits)', () => {
    const reflect = new Conv2d({ ...base, padding: [1, 3], paddingMode: 'reflect' });
    expect(reflect.outputShape([1, 2, 2, 4])).toEqual([1, 2, 2, 8]);
    expectErrorNamed(
      () => reflect.forward(Tensor.zeros([1, 2, 2, 3])),
      'RangeError',
      /Conv2d: paddingMode 'reflect' needs padding less than the input size on each axis; padding 3 on an axis of size 3/,
    );
    const circular = new Conv1d({ ...base, padding: 3, paddingMode: 'circular' });
    expect(circular.outputShape([1, 2, 3])).toEqual([1, 2, 7]);
    expectErrorNamed(
      () => circular.outputShape([1, 2, 2]),
      'RangeError',
      /Conv1d: paddingMode 'circular' needs padding at most/,
    );
  });

  test("'same' keeps the size, 'valid' is padding 0, and the repr shows both options", () => {
    const same = new Conv2d({
      ...base,
      kernelSize: [4, 5],
      dilation: [1, 2],
      padding: 'same',
      paddingMode: 'replicate',
    });
    expect(same.pads).toEqual({ before: [1, 4], after: [2, 4] });
    expect(same.outputShape([3, 2, 7, 6])).toEqual([3, 2, 7, 6]);
    expect(same.toString()).toBe(
      "Conv2d(2, 2, kernelSize=[4, 5], padding='same', dilation=[1, 2], paddingMode='replicate')",
    );
    expect(new Conv2d({ ...base, padding: 'valid' }).padding).toEqual([0, 0]);
    expect(new Conv1d({ ...base, padding: 'same' }).toString()).toBe("Conv1d(2, 2, kernelSize=3, padding='same')");
  });

  test('inside Sequential with reused buffers: two steps give the same gradients as fresh layers', () => {
    const make = () =>
      new Sequential(
        new Conv2d({ inChannels: 1, outChannels: 3, kernelSize: 4, padding: 'same', generator: new Generator(5) }),
        new ReLU(),
        new Conv2d({
          inChannels: 3,
          outChannels: 2,
          kernelSize: 3,
          padding: 1,
          paddingMode: 'reflect',
          generator: new Generator(6),
        }),
      );
    const net = make();
    const x = randomTensor([2, 1, 6, 6], 9);
    const g = randomTensor([2, 2, 6, 6], 10);
    net.forward(x);
    const first = net.backward(g).data.slice();
    net.zeroGrad();
    net.forward(x);
    expect(Array.from(net.backward(g).data)).toEqual(Array.from(first));
    const fresh = make();
    fresh.forward(x);
    expect(Array.from(fresh.backward(g).data)).toEqual(Array.from(first));
    expect(net.backward(g, { inputGrad: false })).toBeNull();
  });
});

describe('the conv kind', () => {
  test('spec options: padding strings and paddingMode build the same layer', () => {
    const { model } = buildModelFromSpec({
      input: [1, 2, 6, 6],
      layers: [{ type: 'conv2d', outChannels: 3, kernelSize: 2, padding: 'same', paddingMode: 'circular' }],
    });
    const conv = (model as Sequential).namedChildren()[0][1] as Conv2d;
    expect([conv.padding, conv.paddingMode, conv.pads]).toEqual([
      'same',
      'circular',
      { before: [0, 0], after: [1, 1] },
    ]);
  });

  test('the native program runs symmetric zero padding and leaves the rest to JavaScript', () => {
    const conv = (o: Partial<Conv2dOptions>) => new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, ...o });
    const natively = (m: Module) => compileProgram([m], [1, 5, 5]) !== null;
    expect(natively(conv({ padding: 'same' }))).toBe(true);
    expect(natively(conv({ padding: 'valid', paddingMode: 'reflect' }))).toBe(true);
    expect(natively(conv({ kernelSize: 2, padding: 'same' }))).toBe(false);
    expect(natively(conv({ padding: 1, paddingMode: 'reflect' }))).toBe(false);
  });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-convpad-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each([
    [
      'same even (asymmetric Conv pads)',
      new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: [2, 4], padding: 'same' }),
    ],
    [
      'reflect (Pad reflect)',
      new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, padding: [1, 2], paddingMode: 'reflect' }),
    ],
    [
      'replicate same (Pad edge)',
      new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 4, padding: 'same', paddingMode: 'replicate' }),
    ],
    [
      'conv1d reflect',
      new Conv1d({ inChannels: 2, outChannels: 2, kernelSize: 3, padding: 2, paddingMode: 'reflect' }),
    ],
  ] as const)('%s exports to ONNX and onnxruntime agrees within 1e-5', (name, conv) => {
    const shape = conv instanceof Conv1d ? [2, 7] : [2, 6, 7];
    const file = path.join(dir, `${name.split(' ')[0]}.onnx`);
    const model = new Sequential(conv);
    exportOnnx(model, [1, ...shape], file);
    const x = randomTensor([3, ...shape], 11);
    const { outputs } = runOrt(file, [x]);
    expectAllClose(outputs[0].data, model.predict(x).data, 1e-5, 0, name);
    if (conv.paddingMode !== 'zeros') return;
    // Uneven zero pads import back as padding 'same' (the Pad before a reflect or replicate Conv does not import).
    const back = importOnnx(file).model;
    expect((back.namedChildren()[0][1] as Conv2d).padding).toBe('same');
    expectAllClose(back.predict(x).data, model.predict(x).data, 1e-6, 0, `${name} imported`);
  });

  test('circular padding is refused by the exporter by name (ONNX opset 13 has no wrap mode)', () => {
    const model = new Sequential(
      new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: 3, padding: 1, paddingMode: 'circular' }),
    );
    expectErrorNamed(
      () => exportOnnx(model, [1, 1, 4, 4], path.join(dir, 'c.onnx')),
      'TypeError',
      /paddingMode 'circular'/,
    );
  });
});
