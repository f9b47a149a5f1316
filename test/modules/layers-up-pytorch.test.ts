// SPDX-License-Identifier: MIT
// ConvTranspose2d, Upsample and AdaptiveMaxPool2d against PyTorch 2.13 (test/fixtures/layers_up.safetensors, from
// gen_layers_up.py): outputs, input and weight gradients across strides, paddings, output paddings, dilations, groups,
// odd sizes, both align_corners and ties; and predict() (the native program, where the layer has one) on the same input.
import * as path from 'path';
import { readSafetensors } from '../../lib/io/safetensors';
import { AdaptiveMaxPool2d } from '../../lib/modules/adaptive-max-pool2d';
import { ConvTranspose2d } from '../../lib/modules/conv-transpose2d';
import type { Module } from '../../lib/modules/module';
import { compileProgram } from '../../lib/modules/program';
import { OP } from '../../lib/modules/program-code';
import { Sequential } from '../../lib/modules/sequential';
import { Upsample } from '../../lib/modules/upsample';
import { expectAllClose } from '../helpers';

const { tensors: fx, metadata } = readSafetensors(path.join(__dirname, '..', 'fixtures', 'layers_up.safetensors'));

/** The program op each layer runs as, or null when it predicts in JavaScript (and why, in the layer's kind). */
const PROGRAM_OP: Record<string, number | null> = {
  convtranspose2d: OP.convTranspose,
  upsample: OP.upsample,
  adaptivemaxpool2d: OP.maxPool,
};

/** The layer a case's config describes (simdnet's option names). */
const MAKE: Record<string, (c: Record<string, unknown>) => Module> = {
  convtranspose2d: (c) => new ConvTranspose2d(c as never),
  upsample: (c) => new Upsample(c as never),
  adaptivemaxpool2d: (c) => new AdaptiveMaxPool2d(c as never),
};

const CASES = Object.keys(metadata)
  .filter((k) => k.endsWith('.config'))
  .map((k) => k.slice(0, -'.config'.length));
const config = (name: string) => JSON.parse(metadata[`${name}.config`]) as Record<string, unknown>;

test('the fixture holds every layer, with several configurations each', () => {
  const count = (op: string) => CASES.filter((name) => config(name).op === op).length;
  expect(count('convtranspose2d')).toBe(8);
  expect(count('upsample')).toBe(9);
  expect(count('adaptivemaxpool2d')).toBe(6);
});

const TESTED = CASES.filter((name) => (config(name).op as string) in MAKE);

describe.each(TESTED)('%s matches PyTorch', (name) => {
  const { op, ...options } = config(name);
  const build = () => {
    const layer = MAKE[op as string](options);
    for (const [n, p] of layer.namedParameters()) p.data.data.set(fx[`${name}.${n}`].data);
    return layer;
  };

  test('forward, input and weight gradients', () => {
    const layer = build();
    const params = layer.namedParameters();
    // Every parameter PyTorch has, and no other.
    expect(params.map(([n]) => n).sort()).toEqual(
      Object.keys(fx)
        .filter((k) => k.startsWith(`${name}.`) && !k.startsWith(`${name}.d`))
        .map((k) => k.slice(name.length + 1))
        .filter((k) => !['input', 'output', 'dout'].includes(k))
        .sort(),
    );
    const out = layer.forward(fx[`${name}.input`]);
    expect(out.shape).toEqual(fx[`${name}.output`].shape);
    expectAllClose(out.data, fx[`${name}.output`].data, 1e-5, 1e-5, `${name}.output`);
    const dinput = layer.backward(fx[`${name}.dout`]);
    expect(dinput.shape).toEqual(fx[`${name}.dinput`].shape);
    expectAllClose(dinput.data, fx[`${name}.dinput`].data, 1e-5, 1e-4, `${name}.dinput`);
    for (const [n, p] of params) expectAllClose(p.grad.data, fx[`${name}.d${n}`].data, 1e-5, 1e-4, `${name}.d${n}`);
  });

  test('predict() in a Sequential (the native program where the layer has one) gives the same output', () => {
    const layer = build();
    const model = new Sequential(layer);
    model.eval();
    const input = fx[`${name}.input`];
    const program = compileProgram([layer], input.shape.slice(1));
    // In JavaScript: ConvTranspose2d with outputPadding >= stride (convt_dil_op, convt_mixed); Upsample with a scale
    // factor whose ratio differs from the sizes' (1.7 without align_corners, 1.5 x 2.5 nearest).
    // AdaptiveMaxPool2d with windows that do not divide the input.
    const javascript = [
      'convt_dil_op',
      'convt_mixed',
      'up_bilinear_s17',
      'up_nearest_s15',
      'amax_3x2',
      'amax_keep_w',
      'amax_grow',
      'amax_ties',
    ];
    const native = PROGRAM_OP[op as string] !== null && !javascript.includes(name);
    expect(program === null ? null : Array.from(program.code).includes(PROGRAM_OP[op as string]!)).toBe(
      native ? true : null,
    );
    expectAllClose(model.predict(input).data, fx[`${name}.output`].data, 1e-5, 1e-5, `${name}.predict`);
  });
});
