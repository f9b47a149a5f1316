// SPDX-License-Identifier: MIT
// clipGradNorm against torch.nn.utils.clip_grad_norm_ (norms 2, inf, 1, 3; clipped and not; layers2.safetensors) and its errors.
import { Parameter } from '../../lib/modules/parameter';
import { clipGradNorm } from '../../lib/optim/clip-grad';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed } from '../helpers';
import { layers2 } from './tiny-model';

const { tensors: fx, metadata } = layers2;

test.each(['clip_l2', 'clip_l2_noop', 'clip_inf', 'clip_l1', 'clip_l3'])(
  '%s matches PyTorch: total norm and clipped gradients',
  (name) => {
    const { maxNorm, normType } = JSON.parse(metadata[`${name}.config`]);
    const params = [0, 1, 2].map((i) => {
      const p = new Parameter(Tensor.zeros(fx[`${name}.grad${i}`].shape));
      p.grad.data.set(fx[`${name}.grad${i}`].data);
      return p;
    });
    const total = clipGradNorm(params, maxNorm, normType === 'inf' ? Infinity : normType);
    expectAllClose([total], fx[`${name}.total`].data, 1e-5, 1e-6, `${name}.total`);
    params.forEach((p, i) =>
      expectAllClose(p.grad.data, fx[`${name}.clipped${i}`].data, 1e-6, 1e-6, `${name}.clipped${i}`),
    );
    if (name === 'clip_l2_noop') params.forEach((p, i) => expect(p.grad.data).toEqual(fx[`${name}.grad${i}`].data));
  },
);

test('the clipped norm is maxNorm (to the 1e-6 in the coefficient); no parameters give 0', () => {
  const p = new Parameter(Tensor.zeros([2]));
  p.grad.data.set([3, 4]);
  expect(clipGradNorm([p], 1)).toBeCloseTo(5, 6);
  expect(Math.hypot(p.grad.data[0], p.grad.data[1])).toBeCloseTo(1, 6);
  expect(clipGradNorm([], 1)).toBe(0);
});

test('a non-finite norm: errorIfNonfinite throws before any change; otherwise NaN spreads, as in PyTorch', () => {
  const p = new Parameter(Tensor.zeros([2]));
  p.grad.data.set([NaN, 1]);
  expectErrorNamed(() => clipGradNorm([p], 1, 2, true), 'RangeError', /total norm of order 2 .* is NaN/);
  expect(p.grad.data[1]).toBe(1);
  expect(clipGradNorm([p], 1)).toBeNaN();
  expect(p.grad.data[1]).toBeNaN();
});

test('errors', () => {
  const p = new Parameter(Tensor.zeros([1]));
  expectErrorNamed(() => clipGradNorm([p], -1), 'RangeError', /maxNorm must be >= 0/);
  expectErrorNamed(() => clipGradNorm([p], '1' as never), 'TypeError', /maxNorm/);
  expectErrorNamed(() => clipGradNorm([p], 1, 0), 'RangeError', /normType must be > 0 or Infinity/);
  expectErrorNamed(() => clipGradNorm([p], 1, 'inf' as never), 'TypeError', /normType must be a number/);
  expectErrorNamed(() => clipGradNorm([p.grad] as never, 1), 'TypeError', /parameters\[0\] must be a Parameter/);
});
