// SPDX-License-Identifier: MIT
// The new activations and norms beyond their PyTorch fixtures (layers-act-pytorch.test.ts): gradcheck (finite
// differences), Dropout2d's channel masks, and the errors each constructor and shape check gives.
import { gradcheck } from '../../lib/gradcheck';
import { Dropout2d } from '../../lib/modules/dropout2d';
import { ELU } from '../../lib/modules/elu';
import { erf, GELU } from '../../lib/modules/gelu';
import { GroupNorm } from '../../lib/modules/group-norm';
import { Hardsigmoid } from '../../lib/modules/hardsigmoid';
import { Hardswish } from '../../lib/modules/hardswish';
import { Hardtanh } from '../../lib/modules/hardtanh';
import { Identity } from '../../lib/modules/identity';
import { LayerNorm } from '../../lib/modules/layer-norm';
import { Linear } from '../../lib/modules/linear';
import type { Module } from '../../lib/modules/module';
import { ReLU6 } from '../../lib/modules/relu6';
import { Sequential } from '../../lib/modules/sequential';
import { SiLU } from '../../lib/modules/silu';
import { Generator } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';

/** x with every value within 0.05 of a kink moved 0.3 away from it (finite differences must not straddle one). */
function awayFrom(kinks: number[], x: Tensor): Tensor {
  for (let i = 0; i < x.size; i++) for (const k of kinks) if (Math.abs(x.data[i] - k) < 0.05) x.data[i] = k + 0.3;
  return x;
}

/** Random weights, so that gradcheck sees them used. */
function randomWeights<M extends Module>(layer: M, seed: number): M {
  const rng = new Generator(seed);
  for (const p of layer.parameters()) for (let i = 0; i < p.data.size; i++) p.data.data[i] = rng.uniform(0.5, 1.5);
  return layer;
}

describe('gradcheck', () => {
  test.each([
    ['ReLU6', () => new ReLU6(), awayFrom([0, 6], randomTensor([3, 11], 1, 8))],
    ['Hardtanh', () => new Hardtanh({ minVal: -2, maxVal: 0.5 }), awayFrom([-2, 0.5], randomTensor([3, 11], 2, 3))],
    ['GELU', () => new GELU(), randomTensor([3, 11], 3, 4)],
    ['GELU tanh', () => new GELU({ approximate: 'tanh' }), randomTensor([3, 11], 4, 4)],
    ['SiLU', () => new SiLU(), randomTensor([3, 11], 5, 6)],
    ['Hardswish', () => new Hardswish(), awayFrom([-3, 3], randomTensor([3, 11], 6, 5))],
    ['Hardsigmoid', () => new Hardsigmoid(), awayFrom([-3, 3], randomTensor([3, 11], 7, 5))],
    ['ELU', () => new ELU({ alpha: 0.7 }), awayFrom([0], randomTensor([3, 11], 8, 3))],
    ['Identity', () => new Identity(), randomTensor([2, 5], 9)],
    ['Dropout2d p 0', () => new Dropout2d({ p: 0 }), randomTensor([2, 3, 2, 2], 10)],
    [
      'LayerNorm [4, 5]',
      () => randomWeights(new LayerNorm({ normalizedShape: [4, 5] }), 11),
      randomTensor([2, 3, 4, 5], 12, 2),
    ],
    [
      'LayerNorm no bias',
      () => randomWeights(new LayerNorm({ normalizedShape: 6, bias: false }), 13),
      randomTensor([3, 6], 14, 2),
    ],
    [
      'LayerNorm no affine',
      () => new LayerNorm({ normalizedShape: 6, elementwiseAffine: false }),
      randomTensor([3, 6], 15),
    ],
    [
      'GroupNorm 2 of 4',
      () => randomWeights(new GroupNorm({ numGroups: 2, numChannels: 4 }), 16),
      randomTensor([2, 4, 3, 3], 17, 2),
    ],
    [
      'GroupNorm [N, C]',
      () => randomWeights(new GroupNorm({ numGroups: 3, numChannels: 6 }), 18),
      randomTensor([3, 6], 19, 2),
    ],
    [
      'GroupNorm no affine',
      () => new GroupNorm({ numGroups: 1, numChannels: 3, affine: false }),
      randomTensor([2, 3, 4], 20),
    ],
  ] as const)('%s', (_name, make, x) => {
    const r = gradcheck(make(), x, { maxPerTensor: 40 });
    if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
    expect(r.checked).toBeGreaterThan(0);
  });
});

describe('behaviour', () => {
  test('erf matches known values to double precision', () => {
    // erf(0.5), erf(1), erf(2), erf(3), erf(4) from tables (Abramowitz and Stegun 7.1), and erf(-x) = -erf(x).
    const known: [number, number][] = [
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [4, 0.9999999845827421],
    ];
    for (const [x, v] of known) {
      expect(Math.abs(erf(x) - v)).toBeLessThan(1e-14);
      expect(erf(-x)).toBe(-erf(x));
    }
    expect(erf(0)).toBe(0);
    expect(erf(30)).toBe(1);
    expect(Number.isNaN(erf(NaN))).toBe(true);
  });

  test('Dropout2d zeroes whole channels, scales the rest, and backward uses the same mask', () => {
    const drop = new Dropout2d({ p: 0.5, generator: new Generator(3) });
    const x = randomTensor([8, 16, 3, 3], 21);
    const y = drop.forward(x);
    let zeroed = 0;
    for (let plane = 0; plane < 8 * 16; plane++) {
      const at = (t: Tensor, i: number) => t.data[plane * 9 + i];
      const kept = at(y, 0) !== 0;
      if (!kept) zeroed++;
      for (let i = 0; i < 9; i++) expect(at(y, i) + 0).toBe(kept ? Math.fround(at(x, i) * 2) : 0); // -0 * 2 is -0
    }
    // 128 channels at p = 0.5: between 40 and 88 zeroed except with probability < 1e-5.
    expect(zeroed).toBeGreaterThan(40);
    expect(zeroed).toBeLessThan(88);
    const g = randomTensor([8, 16, 3, 3], 22);
    const dx = drop.backward(g);
    for (let i = 0; i < x.size; i++) expect(dx.data[i] + 0).toBe(y.data[i] === 0 ? 0 : Math.fround(g.data[i] * 2));
  });

  test('Dropout2d: eval mode and predict() are the identity; [N, C, L] is accepted', () => {
    const drop = new Dropout2d({ p: 0.9 });
    const x = randomTensor([2, 3, 5], 23);
    expect(drop.predict(x).data).toEqual(x.data);
    drop.eval();
    expect(drop.forward(x)).toBe(x);
    expect(drop.backward(x)).toBe(x);
    expect(new Dropout2d({ p: 1 }).forward(x).data.every((v) => v === 0)).toBe(true);
  });

  test.each([
    ['LayerNorm', () => new LayerNorm({ normalizedShape: [3, 4] }), [2, 3, 4]],
    ['GroupNorm', () => new GroupNorm({ numGroups: 2, numChannels: 4 }), [2, 4, 3]],
    ['GELU', () => new GELU(), [2, 5]],
    ['ELU', () => new ELU(), [2, 5]],
    ['Hardswish', () => new Hardswish(), [2, 5]],
  ] as const)(
    '%s: backward after an eval-mode forward equals the training-mode one (no state of its own)',
    (_n, make, shape) => {
      const layer = randomWeights(make(), 3);
      const x = randomTensor([...shape], 4);
      const dout = randomTensor([...shape], 5);
      layer.train();
      layer.forward(x);
      const trained = layer.backward(dout).data.slice();
      layer.eval();
      layer.forward(x);
      expect(layer.backward(dout).data).toEqual(trained);
    },
  );

  test('inside a Sequential (in-place gradients) the norms and activations equal their standalone backward', () => {
    for (const make of [() => new GELU(), () => new Hardswish(), () => new LayerNorm({ normalizedShape: 6 })]) {
      const x = randomTensor([4, 5], 24, 2);
      const g = randomTensor([4, 3], 25);
      const seq = new Sequential(
        new Linear({ inFeatures: 5, outFeatures: 6, generator: new Generator(1) }),
        make(),
        new Linear({ inFeatures: 6, outFeatures: 3, generator: new Generator(2) }),
      );
      seq.forward(x);
      const dx = seq.backward(g);
      const [l1, act, l2] = [0, 1, 2].map((i) => seq.at(i));
      const dxByHand = l1.backward(act.backward(l2.backward(act.forward(l1.forward(x)) && g)));
      expectAllClose(dx.data, dxByHand.data, 0, 0, 'dinput');
    }
  });

  test('weight gradients accumulate across backward calls, as PyTorch', () => {
    const gn = randomWeights(new GroupNorm({ numGroups: 2, numChannels: 4 }), 26);
    const x = randomTensor([2, 4, 3], 27);
    const g = randomTensor([2, 4, 3], 28);
    gn.forward(x);
    gn.backward(g);
    const once = gn.weight!.grad.data.slice();
    gn.forward(x);
    gn.backward(g);
    expectAllClose(
      gn.weight!.grad.data,
      once.map((v) => 2 * v),
      1e-6,
      1e-6,
      'dweight',
    );
  });

  test('defaults and repr follow PyTorch', () => {
    expect(new Hardtanh().toString()).toBe('Hardtanh(minVal=-1, maxVal=1)');
    expect([new ReLU6().minVal, new ReLU6().maxVal]).toEqual([0, 6]);
    expect(new GELU().approximate).toBe('none');
    expect(new ELU().alpha).toBe(1);
    expect(new Dropout2d().p).toBe(0.5);
    const ln = new LayerNorm({ normalizedShape: 4 });
    expect([ln.normalizedShape, ln.eps, ln.elementwiseAffine]).toEqual([[4], 1e-5, true]);
    expect([...ln.weight!.data.data, ...ln.bias!.data.data]).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    expect(ln.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    const gn = new GroupNorm({ numGroups: 2, numChannels: 4 });
    expect([gn.eps, gn.affine, gn.weight!.shape]).toEqual([1e-5, true, [4]]);
    expect(new LayerNorm({ normalizedShape: 4, elementwiseAffine: false }).parameters()).toEqual([]);
    expect(new LayerNorm({ normalizedShape: 4, bias: false }).namedParameters().map(([n]) => n)).toEqual(['weight']);
  });
});

describe('errors', () => {
  test('options are checked, naming the layer and the option', () => {
    expectErrorNamed(() => new Hardtanh({ minVal: 'a' as never }), 'TypeError', /Hardtanh: minVal/);
    expectErrorNamed(() => new Hardtanh({ minVal: 1, maxVal: 1 }), 'RangeError', /Hardtanh: maxVal must be > minVal/);
    expectErrorNamed(() => new ReLU6({ maxVal: 3 } as never), 'RangeError', /ReLU6: unknown option 'maxVal'/);
    expectErrorNamed(() => new GELU({ approximate: 'erf' as never }), 'RangeError', /GELU: approximate/);
    expectErrorNamed(() => new GELU({ approximate: true as never }), 'TypeError', /GELU: approximate/);
    expectErrorNamed(() => new ELU({ alpha: NaN }), 'RangeError', /ELU: alpha/);
    expectErrorNamed(() => new SiLU({ inplace: true } as never), 'RangeError', /SiLU: unknown option 'inplace'/);
    expectErrorNamed(() => new Identity({ x: 1 } as never), 'RangeError', /Identity/);
    expectErrorNamed(() => new Dropout2d({ p: 1.5 }), 'RangeError', /Dropout2d: p/);
    expectErrorNamed(() => new LayerNorm(undefined as never), 'TypeError', /LayerNorm/);
    expectErrorNamed(() => new LayerNorm({ normalizedShape: [] }), 'RangeError', /LayerNorm: normalizedShape/);
    expectErrorNamed(() => new LayerNorm({ normalizedShape: [2, 0] }), 'RangeError', /LayerNorm: normalizedShape/);
    expectErrorNamed(() => new LayerNorm({ normalizedShape: '4' as never }), 'TypeError', /LayerNorm: normalizedShape/);
    expectErrorNamed(() => new LayerNorm({ normalizedShape: [2 ** 20, 2 ** 20] }), 'RangeError', /2\^32/);
    expectErrorNamed(() => new LayerNorm({ normalizedShape: 3, eps: -1 }), 'RangeError', /LayerNorm: eps/);
    expectErrorNamed(() => new LayerNorm({ normalizedShape: 3, bias: 0 as never }), 'TypeError', /LayerNorm: bias/);
    expectErrorNamed(() => new GroupNorm({ numGroups: 4, numChannels: 6 }), 'RangeError', /divisible by numGroups/);
    expectErrorNamed(() => new GroupNorm({ numGroups: 2 } as never), 'TypeError', /GroupNorm: numChannels/);
    expectErrorNamed(() => new GroupNorm({ numGroups: 1, numChannels: 2, affine: 1 as never }), 'TypeError', /affine/);
  });

  test('shapes are checked, naming the layer (a ShapeError, a RangeError)', () => {
    const expectShapeError = (fn: () => unknown, message: RegExp) => {
      expect(fn).toThrow(RangeError);
      expect(fn).toThrow(message);
    };
    expectShapeError(
      () => new LayerNorm({ normalizedShape: [4, 5] }).forward(Tensor.zeros([2, 5, 4])),
      /LayerNorm: input \[2, 5, 4\] does not end in normalizedShape \[4, 5\]/,
    );
    expectShapeError(() => new LayerNorm({ normalizedShape: [2, 4, 5] }).forward(Tensor.zeros([4, 5])), /LayerNorm/);
    expectShapeError(
      () => new GroupNorm({ numGroups: 2, numChannels: 4 }).forward(Tensor.zeros([2, 6, 3])),
      /GroupNorm: expected an input \[N, 4, \*\]/,
    );
    expectShapeError(() => new GroupNorm({ numGroups: 2, numChannels: 4 }).forward(Tensor.zeros([4])), /GroupNorm/);
    expectShapeError(() => new Dropout2d().forward(Tensor.zeros([2, 3])), /Dropout2d: expected a 3-D/);
    const gelu = new GELU();
    gelu.forward(Tensor.zeros([2, 3]));
    expectShapeError(() => gelu.backward(Tensor.zeros([3, 2])), /GELU.backward: doutput/);
    expectErrorNamed(
      () => new LayerNorm({ normalizedShape: 3 }).backward(Tensor.zeros([1, 3])),
      'Error',
      /LayerNorm.backward: call forward\(\) first/,
    );
  });
});
