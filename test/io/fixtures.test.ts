// SPDX-License-Identifier: MIT
// Loads the PyTorch fixtures (test/fixtures/*.safetensors, made by gen_fixtures.py) and checks their structure, not their numbers.
import fs from 'fs';
import path from 'path';
import { encodeSafetensors, readSafetensors } from '../../lib/io/safetensors';
import { Tensor } from '../../lib/tensor/tensor';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const lenet = readSafetensors(path.join(FIXTURES, 'lenet.safetensors'));
const layers = readSafetensors(path.join(FIXTURES, 'layers.safetensors'));

const LENET_PARAMS: Record<string, number[]> = {
  'conv1.weight': [6, 3, 5, 5],
  'conv1.bias': [6],
  'conv2.weight': [16, 6, 5, 5],
  'conv2.bias': [16],
  'fc1.weight': [120, 400],
  'fc1.bias': [120],
  'fc2.weight': [84, 120],
  'fc2.bias': [84],
  'fc3.weight': [10, 84],
  'fc3.bias': [10],
};

const allFinite = (t: Tensor) => t.data.every(Number.isFinite);
const withPrefix = (tensors: Record<string, Tensor>, prefix: string) =>
  Object.keys(tensors)
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length))
    .sort();

describe('lenet.safetensors', () => {
  const t = lenet.tensors;

  test('holds exactly the documented tensors', () => {
    const names = Object.keys(LENET_PARAMS);
    const expected = [
      'input',
      'targets',
      'logits',
      'loss',
      'grad.input',
      'adam3_losses',
      'adam3wd_losses',
      ...['init.', 'grad.', 'adam3.', 'adam3wd.'].flatMap((p) => names.map((n) => p + n)),
    ];
    expect(Object.keys(t).sort()).toEqual(expected.sort());
  });

  test.each(['init.', 'grad.', 'adam3.', 'adam3wd.'])(
    '%s* has every LeNet parameter with PyTorch layout, 62006 values',
    (prefix) => {
      const extra = prefix === 'grad.' ? ['input'] : []; // grad.input is the gradient of the batch, not a parameter's
      expect(withPrefix(t, prefix)).toEqual([...Object.keys(LENET_PARAMS), ...extra].sort());
      let total = 0;
      for (const [name, shape] of Object.entries(LENET_PARAMS)) {
        expect(t[prefix + name].shape).toEqual(shape);
        expect(allFinite(t[prefix + name])).toBe(true);
        total += t[prefix + name].size;
      }
      expect(total).toBe(62006);
    },
  );

  test('batch, targets, logits and loss have the documented shapes and values', () => {
    expect(t.input.shape).toEqual([4, 3, 32, 32]);
    expect(t['grad.input'].shape).toEqual([4, 3, 32, 32]);
    expect(t.targets.shape).toEqual([4]);
    expect(t.targets.data.every((v) => Number.isInteger(v) && v >= 0 && v <= 9)).toBe(true);
    expect(t.logits.shape).toEqual([4, 10]);
    expect(allFinite(t.logits)).toBe(true);
    expect(t.loss.shape).toEqual([1]);
    expect(t.loss.data[0]).toBeGreaterThan(0);
    expect(t.adam3_losses.shape).toEqual([3]);
    // The first Adam step starts from the init weights, so its loss is the fixture loss.
    expect(t.adam3_losses.data[0]).toBeCloseTo(t.loss.data[0], 5);
    expect(t.adam3wd_losses.data[0]).toBeCloseTo(t.loss.data[0], 5);
  });

  test('Adam moved the weights, and weight decay moved them differently', () => {
    const w = (p: string) => t[p + 'fc3.weight'].data;
    expect(w('adam3.')).not.toEqual(w('init.'));
    expect(w('adam3wd.')).not.toEqual(w('adam3.'));
  });

  test('metadata names the generator and the torch version', () => {
    expect(lenet.metadata.generator).toBe('test/fixtures/gen_fixtures.py');
    expect(lenet.metadata.torch).toMatch(/^1\.13/);
    expect(lenet.metadata.seed).toBe('0');
  });
});

describe('layers.safetensors', () => {
  const t = layers.tensors;
  const cases: Record<string, Record<string, number[]>> = {
    conv_s2p1: {
      input: [2, 3, 7, 9],
      weight: [4, 3, 3, 3],
      bias: [4],
      output: [2, 4, 4, 5],
      dout: [2, 4, 4, 5],
      dinput: [2, 3, 7, 9],
      dweight: [4, 3, 3, 3],
      dbias: [4],
    },
    conv_nobias: {
      input: [2, 2, 6, 5],
      weight: [3, 2, 3, 3],
      output: [2, 3, 4, 3],
      dout: [2, 3, 4, 3],
      dinput: [2, 2, 6, 5],
      dweight: [3, 2, 3, 3],
    },
    maxpool_k3s2p1: { input: [2, 3, 7, 9], output: [2, 3, 4, 5], dout: [2, 3, 4, 5], dinput: [2, 3, 7, 9] },
    maxpool_2x2_5x5: { input: [2, 3, 5, 5], output: [2, 3, 2, 2], dout: [2, 3, 2, 2], dinput: [2, 3, 5, 5] },
    linear: {
      input: [3, 5],
      weight: [7, 5],
      bias: [7],
      output: [3, 7],
      dout: [3, 7],
      dinput: [3, 5],
      dweight: [7, 5],
      dbias: [7],
    },
    relu: { input: [2, 3, 4, 5], output: [2, 3, 4, 5], dout: [2, 3, 4, 5], dinput: [2, 3, 4, 5] },
    cross_entropy: { logits: [5, 7], targets: [5], loss: [1], dlogits: [5, 7] },
  };

  test('holds exactly the documented tensors', () => {
    const expected = Object.entries(cases).flatMap(([c, ts]) => Object.keys(ts).map((n) => `${c}.${n}`));
    expect(Object.keys(t).sort()).toEqual(expected.sort());
  });

  test.each(Object.keys(cases))('%s: shapes, finite values, config in metadata', (c) => {
    for (const [name, shape] of Object.entries(cases[c])) {
      expect([`${c}.${name}`, t[`${c}.${name}`].shape]).toEqual([`${c}.${name}`, shape]);
      expect(allFinite(t[`${c}.${name}`])).toBe(true);
    }
    expect(JSON.parse(layers.metadata[`${c}.config`]).op).toBeDefined();
  });

  test('the maxpool 2x2 on 5x5 sends no gradient to the uncovered last row and column', () => {
    const d = t['maxpool_2x2_5x5.dinput'];
    for (let n = 0; n < 2; n++) {
      for (let c = 0; c < 3; c++) {
        for (let i = 0; i < 5; i++) {
          expect(d.at(n, c, 4, i)).toBe(0);
          expect(d.at(n, c, i, 4)).toBe(0);
        }
      }
    }
  });

  test('cross-entropy targets are class indices and dlogits rows sum to ~0', () => {
    expect(t['cross_entropy.targets'].data.every((v) => Number.isInteger(v) && v >= 0 && v < 7)).toBe(true);
    const g = t['cross_entropy.dlogits'].data;
    for (let r = 0; r < 5; r++)
      expect(Math.abs(g.slice(7 * r, 7 * r + 7).reduce((a, b) => a + b, 0))).toBeLessThan(1e-6);
  });
});

test('simdnet re-encodes both fixtures to the same bytes as the Python writer', () => {
  for (const [name, contents] of [
    ['lenet', lenet],
    ['layers', layers],
  ] as const) {
    const bytes = fs.readFileSync(path.join(FIXTURES, `${name}.safetensors`));
    expect(encodeSafetensors(contents.tensors, contents.metadata).equals(bytes)).toBe(true);
  }
});
