// SPDX-License-Identifier: MIT
// Softmax and LogSoftmax against PyTorch 1.13 (test/fixtures/layers2.safetensors), including negative dims; gradcheck and errors.
import * as path from 'path';
import { gradcheck } from '../../lib/gradcheck';
import { readSafetensors } from '../../lib/io/safetensors';
import { Linear } from '../../lib/modules/linear';
import { Sequential } from '../../lib/modules/sequential';
import { LogSoftmax, Softmax } from '../../lib/modules/softmax';
import { Generator } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';

const { tensors: fx, metadata } = readSafetensors(path.join(__dirname, '..', 'fixtures', 'layers2.safetensors'));

describe.each(['softmax_dim1', 'softmax_neg1', 'softmax_dim0', 'softmax_neg3', 'log_softmax_dim1', 'log_softmax_neg2'])(
  '%s matches PyTorch',
  (name) => {
    test('forward and input gradient', () => {
      const { op, dim } = JSON.parse(metadata[`${name}.config`]);
      const layer = op === 'softmax' ? new Softmax({ dim }) : new LogSoftmax({ dim });
      const out = layer.forward(fx[`${name}.input`]);
      expect(out.shape).toEqual(fx[`${name}.output`].shape);
      expectAllClose(out.data, fx[`${name}.output`].data, 1e-5, 1e-5, `${name}.output`);
      expectAllClose(layer.backward(fx[`${name}.dout`]).data, fx[`${name}.dinput`].data, 1e-5, 1e-5, `${name}.dinput`);
    });
  },
);

describe('gradcheck', () => {
  test.each([
    ['Softmax dim 1', () => new Softmax({ dim: 1 }), [3, 6]],
    ['Softmax dim -2 of 4-d', () => new Softmax({ dim: -2 }), [2, 2, 3, 4]],
    ['Softmax dim 0', () => new Softmax({ dim: 0 }), [4, 3]],
    ['LogSoftmax dim 1', () => new LogSoftmax({ dim: 1 }), [3, 6]],
    ['LogSoftmax dim -1 of 3-d', () => new LogSoftmax({ dim: -1 }), [2, 3, 5]],
  ] as const)('%s', (_name, make, shape) => {
    const r = gradcheck(make(), randomTensor([...shape], 11, 2), { maxPerTensor: 40 });
    if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
    expect(r.checked).toBeGreaterThan(0);
  });
});

describe('behaviour', () => {
  test('each slice along dim sums to 1; huge inputs stay finite; -dim and ndim-dim agree', () => {
    const x = randomTensor([2, 3, 4], 3, 500);
    const y = new Softmax({ dim: 1 }).forward(x);
    for (let n = 0; n < 2; n++) {
      for (let j = 0; j < 4; j++) {
        let s = 0;
        for (let c = 0; c < 3; c++) s += y.at(n, c, j);
        expect(s).toBeCloseTo(1, 6);
      }
    }
    expect(y.data.every(Number.isFinite)).toBe(true);
    expect(new Softmax({ dim: -2 }).forward(x).data).toEqual(y.data);
    const logp = new LogSoftmax({ dim: -1 }).forward(Tensor.fromArray([1e4, 0], [1, 2]));
    expect(Array.from(logp.data)).toEqual([0, -1e4]);
  });

  test('a 0-d input takes dim 0 or -1, as in PyTorch', () => {
    expect(Array.from(new Softmax({ dim: -1 }).forward(Tensor.fromArray([3], [])).data)).toEqual([1]);
    expect(Array.from(new LogSoftmax({ dim: 0 }).forward(Tensor.fromArray([3], [])).data)).toEqual([0]);
  });

  test('inside Sequential (in-place gradient) equals standalone backward', () => {
    const seq = new Sequential(
      new Linear({ inFeatures: 4, outFeatures: 5, generator: new Generator(1) }),
      new LogSoftmax({ dim: 1 }),
      new Linear({ inFeatures: 5, outFeatures: 2, generator: new Generator(2) }),
    );
    const x = randomTensor([3, 4], 5);
    const g = randomTensor([3, 2], 6);
    seq.forward(x);
    const dx = seq.backward(g);
    const [l1, sm, l2] = [0, 1, 2].map((i) => seq.at(i));
    l2.forward(sm.forward(l1.forward(x)));
    expectAllClose(dx.data, l1.backward(sm.backward(l2.backward(g))).data, 0, 0, 'dinput');
  });

  test('toString shows dim', () => {
    expect(new Softmax({ dim: -1 }).toString()).toBe('Softmax(dim=-1)');
    expect(new LogSoftmax({ dim: 1 }).toString()).toBe('LogSoftmax(dim=1)');
  });
});

describe('errors', () => {
  test('dim is required, an integer, and must fit the input', () => {
    expectErrorNamed(() => new Softmax(undefined as never), 'TypeError', /'dim' is required/);
    expectErrorNamed(() => new LogSoftmax({} as never), 'TypeError', /'dim' is required/);
    expectErrorNamed(() => new Softmax({ dim: 1.5 }), 'RangeError', /Softmax: dim must be an integer/);
    expectErrorNamed(() => new Softmax({ dim: '1' as never }), 'TypeError', /dim/);
    expectErrorNamed(() => new Softmax({ dim: 1, dtype: 'float32' } as never), 'RangeError', /dtype/);
    expectErrorNamed(
      () => new Softmax({ dim: 2 }).forward(Tensor.zeros([2, 3])),
      'RangeError',
      /dim 2 is out of range .* \(expected -2\.\.1\)/,
    );
    expectErrorNamed(() => new LogSoftmax({ dim: -3 }).outputShape([2, 3]), 'RangeError', /dim -3/);
  });

  test('backward needs a training forward', () => {
    expectErrorNamed(() => new Softmax({ dim: 1 }).backward(Tensor.zeros([1, 2])), 'Error', /call forward\(\) first/);
  });
});
