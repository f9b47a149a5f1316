// SPDX-License-Identifier: MIT
// Backward after an eval-mode forward, as PyTorch allows (input gradients of a frozen model, fine-tuning with frozen
// BatchNorm): a Conv2d + BatchNorm2d + ReLU + Dropout + Linear net against PyTorch 2.13
// (test/fixtures/eval_backward.safetensors from gen_eval_backward.py), gradcheck of BatchNorm in eval mode, graphs.
import * as path from 'path';
import { gradcheck } from '../../lib/gradcheck';
import { readSafetensors } from '../../lib/io/safetensors';
import { BatchNorm1d, BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv2d } from '../../lib/modules/conv2d';
import { Dropout } from '../../lib/modules/dropout';
import { Flatten } from '../../lib/modules/flatten';
import { GraphBuilder } from '../../lib/modules/graph-builder';
import { Linear } from '../../lib/modules/linear';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, randomTensor } from '../helpers';

const { tensors: fx } = readSafetensors(path.join(__dirname, '..', 'fixtures', 'eval_backward.safetensors'));

function net(): Sequential {
  const model = new Sequential(
    new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1 }),
    new BatchNorm2d({ numFeatures: 3 }),
    new ReLU(),
    new Dropout({ p: 0.5 }),
    new Flatten(),
    new Linear({ inFeatures: 75, outFeatures: 4 }),
  );
  const state = Object.fromEntries(Object.keys(model.stateDict()).map((k) => [k, fx[`state.${k}`]]));
  model.loadStateDict(state);
  return model.eval();
}

test('an eval-mode net: output, input gradient and parameter gradients match PyTorch (BatchNorm on running statistics)', () => {
  const model = net();
  const running = Array.from((model.at(1) as BatchNorm2d).stateDict().running_mean.data);
  const y = model.forward(fx.input);
  expectAllClose(y.data, fx.output.data, 1e-5, 0, 'output');
  const dx = model.backward(fx.dout);
  expectAllClose(dx.data, fx.dinput.data, 1e-5, 0, 'dinput');
  for (const [name, p] of model.namedParameters()) expectAllClose(p.grad.data, fx[`grad.${name}`].data, 1e-5, 0, name);
  // Nothing moved: eval mode does not update the running statistics.
  expect(Array.from((model.at(1) as BatchNorm2d).stateDict().running_mean.data)).toEqual(running);
  expect(model.at(1).training).toBe(false);
});

test.each([
  ['BatchNorm2d', () => new BatchNorm2d({ numFeatures: 3 }), [2, 3, 2, 3]],
  ['BatchNorm1d, no affine', () => new BatchNorm1d({ numFeatures: 3, affine: false }), [4, 3]],
] as const)('gradcheck of %s in eval mode (running statistics are constants)', (_name, make, shape) => {
  const bn = make();
  // Trained-looking statistics: one training forward on shifted data.
  bn.forward(randomTensor([8, ...shape.slice(1)], 3, 2));
  bn.eval();
  const r = gradcheck(bn, randomTensor([...shape], 4));
  if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
  expect(r.checked).toBeGreaterThan(0);
});

test('a graph in eval mode gives input gradients too (frozen feature extractor)', () => {
  const b = new GraphBuilder();
  const x = b.input();
  const conv = b.layer('conv', new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3, padding: 1 }));
  const skip = b.layer('skip', new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 1 }));
  const bn = b.layer('bn', new BatchNorm2d({ numFeatures: 2 }));
  const g = b.build(bn(b.add(conv(x), skip(x))));
  const input = randomTensor([2, 1, 4, 4], 5);
  g.eval();
  g.forward(input);
  const r = gradcheck(g, input, { maxPerTensor: 20 });
  if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
  expect(g.backward(Tensor.zeros(g.outputShape(input.shape))).shape).toEqual(input.shape);
});
