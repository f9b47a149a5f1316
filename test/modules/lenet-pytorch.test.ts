// SPDX-License-Identifier: MIT
// LeNet against PyTorch 1.13 (test/fixtures/lenet.safetensors): logits, loss, gradients, Adam steps.
import * as path from 'path';
import { loadSafetensors } from '../../lib/io/safetensors';
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { LeNet } from '../../lib/modules/lenet';
import { Adam } from '../../lib/optim/adam';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose } from '../helpers';

const fx = loadSafetensors(path.join(__dirname, '..', 'fixtures', 'lenet.safetensors'));
const names = [
  'conv1.weight',
  'conv1.bias',
  'conv2.weight',
  'conv2.bias',
  'fc1.weight',
  'fc1.bias',
  'fc2.weight',
  'fc2.bias',
  'fc3.weight',
  'fc3.bias',
];
const targets = Int32Array.from(fx.targets.data);

function pytorchLeNet(prefix = 'init.'): LeNet {
  const net = new LeNet();
  net.loadStateDict(Object.fromEntries(names.map((n) => [n, fx[prefix + n]])));
  return net;
}

// Relative 1e-4 with an absolute floor of 1e-5, the acceptance bound.
const RTOL = 1e-4;
const ATOL = 1e-5;

describe('LeNet matches PyTorch', () => {
  test('logits and loss', () => {
    const net = pytorchLeNet();
    const logits = net.forward(fx.input);
    expectAllClose(logits.data, fx.logits.data, ATOL, RTOL, 'logits');
    const loss = new CrossEntropyLoss().forward(logits, targets);
    expect(Math.abs(loss - fx.loss.data[0])).toBeLessThanOrEqual(ATOL + RTOL * fx.loss.data[0]);
  });

  test('gradients of every parameter and of the input', () => {
    const net = pytorchLeNet();
    const lossFn = new CrossEntropyLoss();
    lossFn.forward(net.forward(fx.input), targets);
    const dinput = net.backward(lossFn.backward());
    expectAllClose(dinput.data, fx['grad.input'].data, ATOL, RTOL, 'grad.input');
    for (const [name, p] of net.namedParameters())
      expectAllClose(p.grad.data, fx[`grad.${name}`].data, ATOL, RTOL, `grad.${name}`);
  });

  test.each([
    ['adam3', 0],
    ['adam3wd', 0.01],
  ])('weights after 3 Adam steps (%s) within 1e-5', (prefix, weightDecay) => {
    const net = pytorchLeNet();
    const lossFn = new CrossEntropyLoss();
    const opt = new Adam(net.parameters(), { lr: 1e-3, weightDecay });
    const losses: number[] = [];
    for (let step = 0; step < 3; step++) {
      opt.zeroGrad();
      losses.push(lossFn.forward(net.forward(fx.input), targets));
      net.backward(lossFn.backward());
      opt.step();
    }
    expectAllClose(losses, fx[`${prefix}_losses`].data, ATOL, RTOL, 'losses');
    for (const [name, p] of net.namedParameters())
      expectAllClose(p.data.data, fx[`${prefix}.${name}`].data, 1e-5, 0, `${prefix}.${name}`);
  });

  test('the fixture input really is NCHW [4, 3, 32, 32]', () => {
    expect(fx.input).toBeInstanceOf(Tensor);
    expect(fx.input.shape).toEqual([4, 3, 32, 32]);
  });
});
