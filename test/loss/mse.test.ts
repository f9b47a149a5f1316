// SPDX-License-Identifier: MIT
// MSELoss against PyTorch 1.13 (test/fixtures/layers2.safetensors): loss and input gradient for 'mean' and 'sum'; gradcheck; errors.
import * as path from 'path';
import { gradcheck } from '../../lib/gradcheck';
import { readSafetensors } from '../../lib/io/safetensors';
import { MSELoss } from '../../lib/loss/mse';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';
import { LossModule } from './loss-module';

const { tensors: fx, metadata } = readSafetensors(path.join(__dirname, '..', 'fixtures', 'layers2.safetensors'));

test.each(['mse_mean', 'mse_sum'])('%s matches PyTorch', (name) => {
  const { reduction } = JSON.parse(metadata[`${name}.config`]) as { reduction: 'mean' | 'sum' };
  const lossFn = new MSELoss({ reduction });
  const loss = lossFn.forward(fx[`${name}.input`], fx[`${name}.target`]);
  expectAllClose([loss], fx[`${name}.loss`].data, 1e-5, 1e-6, `${name}.loss`);
  const dinput = lossFn.backward();
  expect(dinput.shape).toEqual(fx[`${name}.input`].shape);
  expectAllClose(dinput.data, fx[`${name}.dinput`].data, 1e-6, 1e-5, `${name}.dinput`);
});

test.each(['mean', 'sum'] as const)('gradcheck, reduction %s (backward scale included)', (reduction) => {
  const target = randomTensor([3, 4], 2);
  const r = gradcheck(new LossModule(new MSELoss({ reduction }), target), randomTensor([3, 4], 1));
  if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
  expect(r.checked).toBe(12);
});

test('mean by default; buffers reused while the size holds; backward works on a copy of the difference', () => {
  const lossFn = new MSELoss();
  expect(lossFn.reduction).toBe('mean');
  const x = Tensor.fromArray([1, 2, 3, 4], [2, 2]);
  const t = Tensor.fromArray([0, 2, 5, 4], [2, 2]);
  expect(lossFn.forward(x, t)).toBe(5 / 4);
  x.data.fill(0); // the caller may reuse its batch before backward()
  expect(Array.from(lossFn.backward(2).data)).toEqual([1, 0, -2, 0]);
  expect(new MSELoss({ reduction: 'sum' }).forward(Tensor.fromArray([1, 2, 3, 4], [4]), Tensor.zeros([4]))).toBe(30);
  expect(new MSELoss().forward(Tensor.zeros([0]), Tensor.zeros([0]))).toBeNaN();
});

test('errors', () => {
  const lossFn = new MSELoss();
  expectErrorNamed(() => lossFn.backward(), 'Error', /call forward\(\) first/);
  expect(() => lossFn.forward(Tensor.zeros([2, 3]), Tensor.zeros([3, 2]))).toThrow(RangeError);
  expect(() => lossFn.forward(Tensor.zeros([2, 3]), Tensor.zeros([6]))).toThrow(/MSELoss: target/);
  expectErrorNamed(() => lossFn.forward([1, 2] as never, Tensor.zeros([2])), 'TypeError', /input must be a Tensor/);
  expectErrorNamed(
    () => lossFn.forward(Tensor.zeros([2]), new Float32Array(2) as never),
    'TypeError',
    /target must be a Tensor/,
  );
  expectErrorNamed(
    () => new MSELoss({ reduction: 'avg' as never }),
    'RangeError',
    /reduction must be 'mean', 'sum' or 'none'/,
  );
  expectErrorNamed(() => new MSELoss({ reduction: 1 as never }), 'TypeError', /reduction must be a string/);
  expectErrorNamed(() => new MSELoss({ sizeAverage: true } as never), 'RangeError', /sizeAverage/);
});
