// SPDX-License-Identifier: MIT
// NLLLoss against PyTorch 1.13 (test/fixtures/layers2.safetensors): mean, sum and ignored targets; LogSoftmax + NLLLoss = CrossEntropyLoss; gradcheck; errors.
import * as path from 'path';
import { gradcheck } from '../../lib/gradcheck';
import { readSafetensors } from '../../lib/io/safetensors';
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { NLLLoss } from '../../lib/loss/nll';
import { LogSoftmax } from '../../lib/modules/softmax';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';
import { LossModule } from './loss-module';

const { tensors: fx, metadata } = readSafetensors(path.join(__dirname, '..', 'fixtures', 'layers2.safetensors'));

test.each(['nll_mean', 'nll_sum', 'nll_ignore'])('%s matches PyTorch', (name) => {
  const { reduction } = JSON.parse(metadata[`${name}.config`]) as { reduction: 'mean' | 'sum' };
  const lossFn = new NLLLoss({ reduction });
  const loss = lossFn.forward(fx[`${name}.input`], Int32Array.from(fx[`${name}.targets`].data));
  expectAllClose([loss], fx[`${name}.loss`].data, 1e-6, 1e-6, `${name}.loss`);
  expectAllClose(lossFn.backward().data, fx[`${name}.dinput`].data, 1e-7, 0, `${name}.dinput`);
});

test('LogSoftmax then NLLLoss equals CrossEntropyLoss, loss and gradient', () => {
  const logits = randomTensor([6, 5], 3, 4);
  const targets = Int32Array.from([0, 4, 2, 2, 1, 3]);
  const logp = new LogSoftmax({ dim: 1 });
  const nll = new NLLLoss();
  const ce = new CrossEntropyLoss();
  expect(nll.forward(logp.forward(logits), targets)).toBeCloseTo(ce.forward(logits, targets), 6);
  expectAllClose(logp.backward(nll.backward()).data, ce.backward().data, 1e-7, 1e-5, 'dlogits');
});

test.each([
  ['mean', -100],
  ['sum', 2],
] as const)('gradcheck, reduction %s, ignoreIndex %d', (reduction, ignoreIndex) => {
  const targets = Int32Array.from([1, ignoreIndex, 3, 0]);
  const r = gradcheck(new LossModule(new NLLLoss({ reduction, ignoreIndex }), targets), randomTensor([4, 5], 4));
  if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
  expect(r.checked).toBe(20);
});

test('every target ignored: a NaN mean, a zero gradient (PyTorch 1.13)', () => {
  const lossFn = new NLLLoss();
  expect(lossFn.forward(randomTensor([2, 3], 5), Int32Array.from([-100, -100]))).toBeNaN();
  expect(Array.from(lossFn.backward().data)).toEqual([0, 0, 0, 0, 0, 0]);
});

test('errors', () => {
  const lossFn = new NLLLoss();
  expectErrorNamed(() => lossFn.backward(), 'Error', /call forward\(\) first/);
  expectErrorNamed(
    () => lossFn.forward(Tensor.zeros([2, 3]), Int32Array.from([0, 3])),
    'RangeError',
    /targets\[1\] = 3 is outside 0..2/,
  );
  expectErrorNamed(
    () => lossFn.forward(Tensor.zeros([2, 3]), Int32Array.from([-1, 0])),
    'RangeError',
    /targets\[0\] = -1/,
  );
  expect(() => lossFn.forward(Tensor.zeros([3, 3]), Int32Array.from([0, 1]))).toThrow(/NLLLoss: input/);
  expectErrorNamed(
    () => lossFn.forward(Tensor.zeros([2, 3]), [0, 1] as never),
    'TypeError',
    /targets must be an Int32Array/,
  );
  expectErrorNamed(() => lossFn.forward({} as never, new Int32Array(0)), 'TypeError', /input must be a Tensor/);
  expectErrorNamed(() => new NLLLoss({ ignoreIndex: 0.5 }), 'RangeError', /ignoreIndex/);
  expectErrorNamed(() => new NLLLoss({ reduction: 'all' as never }), 'RangeError', /NLLLoss: reduction must be/);
  expectErrorNamed(() => new NLLLoss({ weight: [1, 2] } as never), 'RangeError', /weight/);
});
