// SPDX-License-Identifier: MIT
// ReLU6, Hardtanh, GELU, SiLU, Hardswish, Hardsigmoid, ELU, Identity, Dropout2d, LayerNorm and GroupNorm against
// PyTorch 2.13 (test/fixtures/layers_act.safetensors, from gen_layers_act.py): outputs, input and weight gradients, for
// each option that changes the maths, with inputs on the kinks and bounds where the derivative convention matters.
import * as path from 'path';
import { readSafetensors } from '../../lib/io/safetensors';
import { Dropout2d } from '../../lib/modules/dropout2d';
import { ELU } from '../../lib/modules/elu';
import { GELU } from '../../lib/modules/gelu';
import { GroupNorm } from '../../lib/modules/group-norm';
import { Hardsigmoid } from '../../lib/modules/hardsigmoid';
import { Hardswish } from '../../lib/modules/hardswish';
import { Hardtanh } from '../../lib/modules/hardtanh';
import { Identity } from '../../lib/modules/identity';
import { LayerNorm } from '../../lib/modules/layer-norm';
import type { Module } from '../../lib/modules/module';
import { ReLU6 } from '../../lib/modules/relu6';
import { SiLU } from '../../lib/modules/silu';
import { expectAllClose } from '../helpers';

const { tensors: fx, metadata } = readSafetensors(path.join(__dirname, '..', 'fixtures', 'layers_act.safetensors'));

/** The layer a case's config describes (simdnet's option names; `mode` is the train/eval mode). */
export function buildCase(config: Record<string, unknown>): Module {
  const { op, mode, ...c } = config;
  const make: Record<string, () => Module> = {
    relu6: () => new ReLU6(),
    hardtanh: () => new Hardtanh(c),
    gelu: () => new GELU(c as never),
    silu: () => new SiLU(),
    hardswish: () => new Hardswish(),
    hardsigmoid: () => new Hardsigmoid(),
    elu: () => new ELU(c),
    identity: () => new Identity(),
    dropout2d: () => new Dropout2d(c),
    layernorm: () => new LayerNorm(c as never),
    groupnorm: () => new GroupNorm(c as never),
  };
  const layer = make[op as string]();
  if (mode === 'eval') layer.eval();
  return layer;
}

const CASES = Object.keys(metadata)
  .filter((k) => k.endsWith('.config'))
  .map((k) => k.slice(0, -'.config'.length));

test('the fixture holds every layer', () => {
  const ops = new Set(CASES.map((name) => JSON.parse(metadata[`${name}.config`]).op));
  expect([...ops].sort()).toEqual([
    'dropout2d',
    'elu',
    'gelu',
    'groupnorm',
    'hardsigmoid',
    'hardswish',
    'hardtanh',
    'identity',
    'layernorm',
    'relu6',
    'silu',
  ]);
  expect(CASES.length).toBe(26);
});

describe.each(CASES)('%s matches PyTorch', (name) => {
  test('forward, input and weight gradients', () => {
    const layer = buildCase(JSON.parse(metadata[`${name}.config`]));
    const params = layer.namedParameters();
    for (const [n, p] of params) p.data.data.set(fx[`${name}.${n}`].data);
    // Every parameter PyTorch has, and no other.
    expect(params.map(([n]) => n).sort()).toEqual(
      Object.keys(fx)
        .filter((k) => k.startsWith(`${name}.`) && !k.startsWith(`${name}.d`))
        .map((k) => k.slice(name.length + 1))
        .filter((k) => !['input', 'output', 'dout'].includes(k))
        .sort(),
    );
    const input = fx[`${name}.input`];
    const out = layer.forward(input);
    expect(out.shape).toEqual(fx[`${name}.output`].shape);
    expectAllClose(out.data, fx[`${name}.output`].data, 1e-5, 1e-5, `${name}.output`);
    const dinput = layer.backward(fx[`${name}.dout`]);
    expectAllClose(dinput.data, fx[`${name}.dinput`].data, 1e-5, 1e-4, `${name}.dinput`);
    for (const [n, p] of params) expectAllClose(p.grad.data, fx[`${name}.d${n}`].data, 1e-5, 1e-4, `${name}.d${n}`);
  });
});
