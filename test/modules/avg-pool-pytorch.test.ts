// SPDX-License-Identifier: MIT
// AvgPool2d and AdaptiveAvgPool2d against PyTorch 1.13 (test/fixtures/pool.safetensors, made by gen_pool.py): outputs and input gradients.
import * as fs from 'fs';
import * as path from 'path';
import { encodeSafetensors, readSafetensors } from '../../lib/io/safetensors';
import { AdaptiveAvgPool2d } from '../../lib/modules/adaptive-avg-pool2d';
import { AvgPool2d } from '../../lib/modules/avg-pool2d';
import { Module } from '../../lib/modules/module';
import { expectAllClose } from '../helpers';

const FILE = path.join(__dirname, '..', 'fixtures', 'pool.safetensors');
const { tensors: fx, metadata } = readSafetensors(FILE);
const cases = Object.keys(metadata)
  .filter((k) => k.endsWith('.config'))
  .map((k) => k.slice(0, -'.config'.length))
  .sort();

function build(name: string): Module {
  const { op, ...options } = JSON.parse(metadata[`${name}.config`]);
  if (op === 'avgpool2d') return new AvgPool2d(options);
  if (op === 'adaptiveavgpool2d') return new AdaptiveAvgPool2d(options);
  throw new Error(`unknown op ${op}`);
}

test('the fixture holds every case gen_pool.py writes, in the reference layout', () => {
  expect(metadata.generator).toBe('test/fixtures/gen_pool.py');
  expect(encodeSafetensors(fx, metadata).equals(fs.readFileSync(FILE))).toBe(true);
  expect(cases).toEqual([
    'adaptive_1x1',
    'adaptive_3x4',
    'adaptive_none_3',
    'adaptive_up_4x6',
    'avg_ceil_k2',
    'avg_ceil_k3s2p1',
    'avg_ceil_rect_nopad',
    'avg_divisor',
    'avg_divisor_ceil_p1',
    'avg_k2_5x5',
    'avg_k3s2p1',
    'avg_k3s2p1_nopad',
  ]);
});

describe.each(cases)('%s matches PyTorch within 1e-5', (name) => {
  test('forward and backward', () => {
    const layer = build(name);
    const out = layer.forward(fx[`${name}.input`]);
    expect(out.shape).toEqual(fx[`${name}.output`].shape);
    expectAllClose(out.data, fx[`${name}.output`].data, 1e-5, 0, `${name}.output`);
    const dinput = layer.backward(fx[`${name}.dout`]);
    expect(dinput.shape).toEqual(fx[`${name}.input`].shape);
    expectAllClose(dinput.data, fx[`${name}.dinput`].data, 1e-5, 0, `${name}.dinput`);
  });

  test('predict() gives the same output as forward()', () => {
    const layer = build(name);
    const want = layer.forward(fx[`${name}.input`]).data;
    expect(Array.from(layer.predict(fx[`${name}.input`]).data)).toEqual(Array.from(want));
  });
});
