// SPDX-License-Identifier: MIT
// Dropout: PyTorch's eval / p=0 / p=1 cases (layers2.safetensors), training statistics and scaling, seeding, gradcheck, errors.
import * as path from 'path';
import { gradcheck } from '../../lib/gradcheck';
import { readSafetensors } from '../../lib/io/safetensors';
import { Dropout } from '../../lib/modules/dropout';
import { ForwardContext } from '../../lib/modules/module';
import { Linear } from '../../lib/modules/linear';
import { Sequential } from '../../lib/modules/sequential';
import { Softmax } from '../../lib/modules/softmax';
import { defaultGenerator, Generator, manualSeed } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';

const { tensors: fx, metadata } = readSafetensors(path.join(__dirname, '..', 'fixtures', 'layers2.safetensors'));

describe.each(['dropout_eval', 'dropout_p0', 'dropout_p1'])('%s matches PyTorch', (name) => {
  test('forward and input gradient', () => {
    const { p, mode } = JSON.parse(metadata[`${name}.config`]);
    const drop = new Dropout({ p });
    if (mode === 'eval') drop.eval();
    expectAllClose(drop.forward(fx[`${name}.input`]).data, fx[`${name}.output`].data, 0, 0, `${name}.output`);
    if (mode === 'train')
      expectAllClose(drop.backward(fx[`${name}.dout`]).data, fx[`${name}.dinput`].data, 0, 0, `${name}.dinput`);
  });
});

describe('training mode', () => {
  test.each([0.1, 0.5, 0.8])('p = %s: zeros with probability p, the rest scaled by 1/(1-p)', (p) => {
    const n = 200_000;
    const drop = new Dropout({ p, generator: new Generator(1) });
    const x = new Tensor(new Float32Array(n).fill(3), [n]);
    const y = drop.forward(x).data;
    const scaled = Math.fround(3 * Math.fround(1 / (1 - p)));
    let zeros = 0;
    let others = 0;
    for (const v of y) {
      if (v === 0) zeros++;
      else if (v !== scaled) others++;
    }
    expect(others).toBe(0);
    // Binomial(n, p): 5 standard deviations.
    expect(Math.abs(zeros / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    // The mean is kept in expectation.
    expect(Math.abs(y.reduce((a, b) => a + b, 0) / n - 3)).toBeLessThan(0.05);
  });

  test.each([0.25, 0.3, 1 / 3, 0.999])(
    'p = %s: element i is zeroed exactly when the i-th draw of its generator is < p * 2^32',
    (p) => {
      const x = new Tensor(new Float32Array(5000).fill(1), [50, 100]);
      const drop = new Dropout({ p, generator: new Generator(9) });
      const out = drop.forward(x).data;
      const draws = new Generator(9);
      const scale = Math.fround(1 / (1 - p));
      const expected = Float32Array.from(out, () => (draws.nextUint32() < p * 2 ** 32 ? 0 : scale));
      expect(out).toEqual(expected);
    },
  );

  test('backward applies the forward mask and scale', () => {
    const drop = new Dropout({ p: 0.3, generator: new Generator(2) });
    const x = randomTensor([4, 50], 3);
    const y = drop.forward(x);
    const g = randomTensor([4, 50], 4);
    const dx = drop.backward(g);
    const scale = Math.fround(1 / 0.7);
    const kept = Array.from(y.data, (v) => v !== 0);
    expectAllClose(
      dx.data,
      g.data.map((v, i) => (kept[i] ? v * scale : 0)),
      0,
      0,
      'dinput',
    );
    expectAllClose(
      y.data,
      x.data.map((v, i) => (kept[i] ? v * scale : 0)),
      0,
      0,
      'output',
    );
    expect(kept.filter(Boolean).length).toBeGreaterThan(100); // some of each
    expect(kept.filter((k) => !k).length).toBeGreaterThan(20);
  });

  test('new masks each forward; the same seed gives the same masks', () => {
    const x = new Tensor(new Float32Array(64).fill(1), [64]);
    const a = new Dropout({ generator: new Generator(7) });
    const b = new Dropout({ generator: new Generator(7) });
    const a1 = a.forward(x).data.slice();
    expect(b.forward(x).data).toEqual(a1);
    expect(a.forward(x).data).not.toEqual(a1);
  });

  test('seeded from the default generator at construction: manualSeed makes it reproducible', () => {
    const x = new Tensor(new Float32Array(64).fill(1), [64]);
    manualSeed(123);
    const first = new Dropout();
    const second = new Dropout();
    const m1 = first.forward(x).data.slice();
    expect(second.forward(x).data).not.toEqual(m1); // each layer its own stream
    manualSeed(123);
    expect(new Dropout().forward(x).data).toEqual(m1);
    // Drawing masks leaves the default stream alone.
    manualSeed(5);
    const d = new Dropout();
    const state = defaultGenerator.getState();
    d.forward(x);
    expect(defaultGenerator.getState()).toEqual(state);
    manualSeed(0);
  });

  test('eval mode and predict() are the identity and leave the stream and the saved mask alone', () => {
    const gen = new Generator(9);
    const drop = new Dropout({ p: 0.5, generator: gen });
    const x = randomTensor([3, 8], 10);
    drop.forward(x);
    const g = randomTensor([3, 8], 11);
    const before = drop.backward(g).data.slice();
    const state = gen.getState();
    expect(drop.predict(x).data).toEqual(x.data);
    expect(gen.getState()).toEqual(state);
    expect(drop.backward(g).data).toEqual(before);
    drop.eval();
    expect(drop.forward(x)).toBe(x);
    expect(gen.getState()).toEqual(state);
    expect(drop.toString()).toBe('Dropout(p=0.5)');
  });

  test('inside Sequential: gradients flow through the kept units only', () => {
    const seq = new Sequential(
      new Linear({ inFeatures: 3, outFeatures: 40, generator: new Generator(1) }),
      new Dropout({ p: 0.5, generator: new Generator(2) }),
    );
    const y = seq.forward(randomTensor([2, 3], 3));
    const g = new Tensor(new Float32Array(80).fill(1), [2, 40]);
    seq.backward(g);
    const fc = seq.at(0) as Linear;
    // Bias gradient of unit j = sum over rows of mask; 0 exactly where both rows dropped it.
    for (let j = 0; j < 40; j++) {
      const kept = (y.data[j] !== 0 ? 2 : 0) + (y.data[40 + j] !== 0 ? 2 : 0);
      expect(fc.bias!.grad.data[j]).toBeCloseTo(kept, 5);
    }
  });
});

test('a Sequential with Dropout and Softmax predicts (JS fallback of the native program) as in eval mode', () => {
  const seq = new Sequential(
    new Linear({ inFeatures: 3, outFeatures: 5, generator: new Generator(1) }),
    new Dropout({ p: 0.5 }),
    new Softmax({ dim: 1 }),
  );
  const x = randomTensor([4, 3], 2);
  const y = seq.predict(x);
  expect(seq.training).toBe(true);
  seq.eval();
  expectAllClose(y.data, seq.forward(x).data, 0, 0, 'predict');
});

test('gradcheck with a fixed mask', () => {
  // Replays one generator state every forward, so the finite differences see the same mask.
  class FixedMaskDropout extends Dropout {
    private readonly start = this.generator.getState();
    override forwardWith(x: Tensor, ctx: ForwardContext): Tensor {
      this.generator.setState(this.start);
      return super.forwardWith(x, ctx);
    }
  }
  const r = gradcheck(new FixedMaskDropout({ p: 0.4, generator: new Generator(3) }), randomTensor([3, 7], 12), {
    maxPerTensor: 40,
  });
  if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
  expect(r.checked).toBeGreaterThan(0);
});

describe('errors', () => {
  test('p in [0, 1], a Generator, no unknown options', () => {
    expectErrorNamed(() => new Dropout({ p: 1.5 }), 'RangeError', /Dropout: p must be <= 1/);
    expectErrorNamed(() => new Dropout({ p: -0.1 }), 'RangeError', /Dropout: p must be >= 0/);
    expectErrorNamed(() => new Dropout({ p: '0.5' as never }), 'TypeError', /Dropout: p/);
    expectErrorNamed(() => new Dropout({ generator: {} as never }), 'TypeError', /generator must be a Generator/);
    expectErrorNamed(() => new Dropout({ inplace: true } as never), 'RangeError', /inplace/);
  });

  test('backward needs a training forward and a gradient of the output shape', () => {
    expectErrorNamed(
      () => new Dropout().backward(Tensor.zeros([2])),
      'Error',
      /Dropout.backward: call forward\(\) first/,
    );
    const drop = new Dropout();
    drop.forward(Tensor.zeros([2, 3]));
    expect(() => drop.backward(Tensor.zeros([6]))).toThrow(/Dropout.backward: doutput/);
  });
});
