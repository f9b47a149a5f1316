// SPDX-License-Identifier: MIT
// Each layer against PyTorch 1.13 on odd shapes (test/fixtures/layers.safetensors): outputs and gradients.
import * as path from 'path';
import { readSafetensors } from '../../lib/io/safetensors';
import { CrossEntropyLoss } from '../../lib/loss/cross-entropy';
import { Conv2d } from '../../lib/modules/conv2d';
import { Linear } from '../../lib/modules/linear';
import { MaxPool2d } from '../../lib/modules/max-pool2d';
import { Module } from '../../lib/modules/module';
import { ReLU } from '../../lib/modules/relu';
import { expectAllClose } from '../helpers';

const { tensors: fx, metadata } = readSafetensors(path.join(__dirname, '..', 'fixtures', 'layers.safetensors'));
const config = (name: string) => JSON.parse(metadata[`${name}.config`]);

function build(name: string): Module {
  const { op, ...c } = config(name);
  switch (op) {
    case 'conv2d':
      return new Conv2d({
        inChannels: c.inChannels,
        outChannels: c.outChannels,
        kernelSize: c.kernelSize,
        stride: c.stride,
        padding: c.padding,
        bias: c.bias,
      });
    case 'maxpool2d':
      return new MaxPool2d({ kernelSize: c.kernelSize, stride: c.stride, padding: c.padding });
    case 'linear':
      return new Linear({ inFeatures: c.inFeatures, outFeatures: c.outFeatures, bias: c.bias });
    case 'relu':
      return new ReLU();
    default:
      throw new Error(`unknown op ${op}`);
  }
}

describe.each(['conv_s2p1', 'conv_nobias', 'maxpool_k3s2p1', 'maxpool_2x2_5x5', 'linear', 'relu'])(
  '%s matches PyTorch',
  (name) => {
    test('forward and backward', () => {
      const layer = build(name);
      const params = Object.fromEntries(layer.namedParameters().map(([n]) => [n, fx[`${name}.${n}`]]));
      layer.loadStateDict(params);
      const out = layer.forward(fx[`${name}.input`]);
      expect(out.shape).toEqual(fx[`${name}.output`].shape);
      expectAllClose(out.data, fx[`${name}.output`].data, 1e-5, 1e-5, `${name}.output`);
      const dinput = layer.backward(fx[`${name}.dout`]);
      expectAllClose(dinput.data, fx[`${name}.dinput`].data, 1e-5, 1e-4, `${name}.dinput`);
      for (const [n, p] of layer.namedParameters())
        expectAllClose(p.grad.data, fx[`${name}.d${n}`].data, 1e-5, 1e-4, `${name}.d${n}`);
    });
  },
);

test('cross-entropy matches PyTorch, including a row with large logits', () => {
  const lossFn = new CrossEntropyLoss();
  const loss = lossFn.forward(fx['cross_entropy.logits'], Int32Array.from(fx['cross_entropy.targets'].data));
  expect(Math.abs(loss - fx['cross_entropy.loss'].data[0])).toBeLessThan(1e-5);
  expectAllClose(lossFn.backward().data, fx['cross_entropy.dlogits'].data, 1e-6, 1e-4, 'dlogits');
});
