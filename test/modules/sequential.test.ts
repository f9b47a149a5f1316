// SPDX-License-Identifier: MIT
// Sequential's fast paths keep the public contract: fresh results, fused Conv2d+ReLU equals the two
// layers run apart, inputGrad: false skips only the input gradient, user tensors are never modified.
import { Conv2d } from '../../lib/modules/conv2d';
import { Flatten } from '../../lib/modules/flatten';
import { LeNet } from '../../lib/modules/lenet';
import { Linear } from '../../lib/modules/linear';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { manualSeed } from '../../lib/random';
import { expectAllClose, randomTensor } from '../helpers';

describe('Sequential', () => {
  test('forward returns a new tensor every call', () => {
    const net = new LeNet();
    const a = net.forward(randomTensor([2, 3, 32, 32], 1));
    const aCopy = a.data.slice();
    const b = net.forward(randomTensor([2, 3, 32, 32], 2));
    expect(b.data).not.toBe(a.data);
    expect(a.data).toEqual(aCopy);
  });

  test('fused Conv2d + ReLU gives the same outputs and gradients as the layers run one by one', () => {
    manualSeed(3);
    const net = new Sequential(
      new Conv2d({ inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1 }),
      new ReLU(),
      new Flatten(),
      new Linear({ inFeatures: 4 * 6 * 6, outFeatures: 3 }),
    );
    const x = randomTensor([3, 2, 6, 6], 4);
    const dout = randomTensor([3, 3], 5);
    const fusedOut = net.forward(x);
    const fusedDx = net.backward(dout);
    const fusedGrads = net.parameters().map((p) => p.grad.data.slice());
    net.zeroGrad();
    let h = x;
    for (let i = 0; i < net.length; i++) h = net.at(i).forward(h);
    let g = dout;
    for (let i = net.length - 1; i >= 0; i--) g = net.at(i).backward(g);
    expectAllClose(fusedOut.data, h.data, 0, 0, 'output');
    expectAllClose(fusedDx.data, g.data, 0, 0, 'dinput');
    net.parameters().forEach((p, i) => expectAllClose(p.grad.data, fusedGrads[i], 0, 0, `grad ${i}`));
  });

  test('backward with inputGrad: false returns null and the same parameter gradients', () => {
    const net = new LeNet();
    const x = randomTensor([2, 3, 32, 32], 6);
    const dout = randomTensor([2, 10], 7);
    net.forward(x);
    expect(net.backward(dout).shape).toEqual([2, 3, 32, 32]);
    const grads = net.parameters().map((p) => p.grad.data.slice());
    net.zeroGrad();
    net.forward(x);
    expect(net.backward(dout, { inputGrad: false })).toBeNull();
    net.parameters().forEach((p, i) => expectAllClose(p.grad.data, grads[i], 0, 0, `grad ${i}`));
  });

  test("never modifies the caller's gradient, even through a trailing Flatten", () => {
    const net = new Sequential(new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 1 }), new ReLU(), new Flatten());
    net.forward(randomTensor([1, 1, 3, 3], 8));
    const dout = randomTensor([1, 18], 9);
    const before = dout.data.slice();
    net.backward(dout);
    expect(dout.data).toEqual(before);
  });
});
