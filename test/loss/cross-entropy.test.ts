// SPDX-License-Identifier: MIT
// CrossEntropyLoss label smoothing against PyTorch 1.13 (test/fixtures/layers2.safetensors), gradcheck, and option errors.
import * as path from 'path';
import { gradcheck } from '../../lib/gradcheck';
import { readSafetensors } from '../../lib/io/safetensors';
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';
import { LossModule } from './loss-module';

const { tensors: fx, metadata } = readSafetensors(path.join(__dirname, '..', 'fixtures', 'layers2.safetensors'));

test.each(['ce_smooth', 'ce_smooth_big'])('%s matches PyTorch', (name) => {
  const { labelSmoothing } = JSON.parse(metadata[`${name}.config`]);
  const lossFn = new CrossEntropyLoss({ labelSmoothing });
  const loss = lossFn.forward(fx[`${name}.logits`], Int32Array.from(fx[`${name}.targets`].data));
  expectAllClose([loss], fx[`${name}.loss`].data, 1e-5, 1e-6, `${name}.loss`);
  expectAllClose(lossFn.backward().data, fx[`${name}.dinput`].data, 1e-6, 1e-5, `${name}.dlogits`);
});

test.each([0, 0.1, 0.5, 1])('gradcheck, labelSmoothing %s (backward scale included)', (labelSmoothing) => {
  const targets = Int32Array.from([0, 4, 2, 2]);
  const r = gradcheck(new LossModule(new CrossEntropyLoss({ labelSmoothing }), targets), randomTensor([4, 5], 12, 3));
  if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
  expect(r.checked).toBe(20);
});

test('labelSmoothing 0 is the default and leaves the loss as it was', () => {
  const logits = randomTensor([3, 4], 1, 2);
  const targets = Int32Array.from([3, 0, 1]);
  const plain = new CrossEntropyLoss();
  expect(plain.labelSmoothing).toBe(0);
  expect(new CrossEntropyLoss({ labelSmoothing: 0 }).forward(logits, targets)).toBe(plain.forward(logits, targets));
});

test('labelSmoothing 1 targets the uniform distribution: the loss is the mean of -log p over classes', () => {
  const logits = Tensor.fromArray([1, 2, 3, 30, 0, -30], [2, 3]);
  const lossFn = new CrossEntropyLoss({ labelSmoothing: 1 });
  const loss = lossFn.forward(logits, Int32Array.from([0, 1]));
  let expected = 0;
  for (let i = 0; i < 2; i++) {
    const row = Array.from(logits.data.slice(3 * i, 3 * i + 3));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, z) => s + Math.exp(z - max), 0));
    expected += row.reduce((s, z) => s + (lse - z), 0) / 3 / 2;
  }
  expect(loss).toBeCloseTo(expected, 5);
  expect(Number.isFinite(loss)).toBe(true);
});

test('errors', () => {
  expectErrorNamed(() => new CrossEntropyLoss({ labelSmoothing: 1.5 }), 'RangeError', /labelSmoothing must be <= 1/);
  expectErrorNamed(() => new CrossEntropyLoss({ labelSmoothing: -0.1 }), 'RangeError', /labelSmoothing must be >= 0/);
  expectErrorNamed(() => new CrossEntropyLoss({ labelSmoothing: '0.1' as never }), 'TypeError', /labelSmoothing/);
  expectErrorNamed(
    () => new CrossEntropyLoss({ ignore_index: -100 } as never),
    'RangeError',
    /unknown option 'ignore_index'/,
  );
});
