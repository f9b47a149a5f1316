// SPDX-License-Identifier: MIT
// crossEntropyForward / crossEntropyBackward against the float64 softmax of reference.ts for every ISA (no error paths).
import { native } from '../../lib/native';
import { describeEachIsa } from './isa';
import { Rng, crossEntropy, crossEntropyGrad, expectClose, numericGrad, plus } from './reference';

type Dims = [batch: number, classes: number];
const named: Dims[] = [
  [1, 1],
  [1, 2],
  [1, 10],
  [2, 3],
  [3, 7],
  [8, 8],
  [9, 17],
  [16, 9],
  [64, 10],
  [2, 1000],
  [5, 1],
];
const dimsRng = new Rng(77);
const cases: Dims[] = [...named, ...Array.from({ length: 20 }, (): Dims => [dimsRng.int(1, 12), dimsRng.int(1, 40)])];

function forward(logits: Float32Array, targets: Int32Array, batch: number, classes: number) {
  const probs = new Float32Array(batch * classes).fill(NaN);
  const loss = native.crossEntropyForward(probs, logits, targets, batch, classes);
  return { loss, probs };
}

describeEachIsa(() => {
  describe.each(cases)('cross-entropy: batch %i, classes %i', (batch, classes) => {
    const rng = new Rng(batch * 1009 + classes);
    const logits = rng.f32(batch * classes, -6, 6),
      targets = rng.i32(batch, 0, classes - 1);

    test('forward: mean loss and softmax probabilities', () => {
      const keep = logits.slice();
      const got = forward(logits, targets, batch, classes),
        ref = crossEntropy(logits, targets, batch, classes);
      expect(typeof got.loss).toBe('number');
      expectClose([got.loss], [ref.loss], 1e-6, 1e-6, 'loss');
      expectClose(got.probs, ref.probs, 1e-7, 1e-5, 'probs');
      expect(logits).toEqual(keep);
    });

    test.each([1, 0.5, -2, 0, 1 / 3])('backward with scale %d accumulates into a pre-filled dlogits', (scale) => {
      const { probs } = forward(logits, targets, batch, classes);
      const d = rng.f32(batch * classes),
        before = d.slice();
      native.crossEntropyBackward(d, probs, targets, scale, batch, classes);
      expectClose(d, plus(before, crossEntropyGrad(probs, targets, scale, batch, classes)), 1e-6, 1e-5, 'dlogits');
    });
  });

  describe('cross-entropy special cases', () => {
    test('equal logits give log(K) and uniform probabilities', () => {
      const got = forward(new Float32Array(30).fill(2.5), new Int32Array([0, 4, 9]), 3, 10);
      expect(got.loss).toBeCloseTo(Math.log(10), 6);
      expectClose(got.probs, new Array(30).fill(0.1), 1e-7, 0, 'probs');
    });

    test('one class: loss 0, probability 1, zero gradient', () => {
      const got = forward(new Float32Array([3, -7]), new Int32Array([0, 0]), 2, 1);
      expect(got.loss).toBe(0);
      expect(Array.from(got.probs)).toEqual([1, 1]);
      const d = new Float32Array(2);
      native.crossEntropyBackward(d, got.probs, new Int32Array([0, 0]), 1, 2, 1);
      expect(Array.from(d)).toEqual([0, 0]);
    });

    test('huge logits stay finite (max subtraction)', () => {
      const logits = new Float32Array([3e38, -3e38, 1e4, -1e4, 0, 1e4]);
      const targets = new Int32Array([1, 0, 1]);
      const got = forward(logits, targets, 3, 2),
        ref = crossEntropy(logits, targets, 3, 2);
      expect(Number.isFinite(got.loss)).toBe(true);
      expectClose([got.loss], [ref.loss], 0, 1e-6, 'loss');
      expectClose(got.probs, ref.probs, 1e-7, 1e-6, 'probs');
    });

    test('a -Infinity logit on a class that is not the target gives probability 0', () => {
      const got = forward(new Float32Array([-Infinity, 0, 0]), new Int32Array([1]), 1, 3);
      expect(got.loss).toBeCloseTo(Math.log(2), 6);
      expect(Array.from(got.probs)).toEqual([0, 0.5, 0.5]);
    });

    test('the loss is the mean of the per-row losses', () => {
      const rng = new Rng(6);
      const logits = rng.f32(4 * 5, -3, 3),
        targets = new Int32Array([4, 0, 2, 2]);
      const rows = [0, 1, 2, 3].map((i) => forward(logits.slice(i * 5, i * 5 + 5), targets.slice(i, i + 1), 1, 5).loss);
      expect(forward(logits, targets, 4, 5).loss).toBeCloseTo(rows.reduce((a, b) => a + b) / 4, 6);
    });
  });
});

test('the reference gradient matches finite differences of the reference loss', () => {
  const rng = new Rng(5);
  const logits = Float64Array.from(rng.f32(12, -3, 3)),
    targets = new Int32Array([2, 0, 3]);
  const ref = crossEntropy(logits, targets, 3, 4);
  const numeric = numericGrad((v) => crossEntropy(v, targets, 3, 4).loss, logits);
  expectClose(crossEntropyGrad(ref.probs, targets, 1, 3, 4), numeric, 1e-8, 1e-6, 'dlogits');
});
