// SPDX-License-Identifier: MIT
// splitWeightDecay: conv and linear weights keep the weight decay; norm weights and every bias get none.
import { BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv2d } from '../../lib/modules/conv2d';
import { Flatten } from '../../lib/modules/flatten';
import { GroupNorm } from '../../lib/modules/group-norm';
import { LayerNorm } from '../../lib/modules/layer-norm';
import { Linear } from '../../lib/modules/linear';
import { Sequential } from '../../lib/modules/sequential';
import { SGD } from '../../lib/optim/sgd';
import { splitWeightDecay } from '../../lib/optim/split-weight-decay';
import { expectErrorNamed } from '../helpers';

test('norm weights (BatchNorm, GroupNorm, LayerNorm, even a 2-d one) and all biases go in the weightDecay 0 group', () => {
  const model = new Sequential(
    new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, bias: false }),
    new BatchNorm2d({ numFeatures: 4 }),
    new Sequential(
      new Conv2d({ inChannels: 4, outChannels: 4, kernelSize: 1 }),
      new GroupNorm({ numGroups: 2, numChannels: 4 }),
    ),
    new LayerNorm({ normalizedShape: [4, 2, 2] }),
    new Flatten(),
    new Linear({ inFeatures: 16, outFeatures: 10 }),
  );
  const names = new Map(model.namedParameters().map(([n, p]) => [p, n]));
  const groups = splitWeightDecay(model);
  expect(groups.map((g) => ({ ...g, params: g.params.map((p) => names.get(p)) }))).toEqual([
    { params: ['0.weight', '2.0.weight', '5.weight'] },
    {
      params: ['1.weight', '1.bias', '2.0.bias', '2.1.weight', '2.1.bias', '3.weight', '3.bias', '5.bias'],
      weightDecay: 0,
    },
  ]);
  const opt = new SGD(groups, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
  expect(opt.paramGroups.map((g) => g.weightDecay)).toEqual([5e-4, 0]);
  expect(new Set(opt.params)).toEqual(new Set(model.parameters()));
});

test('an empty group is left out; a non-module is a TypeError', () => {
  const linear = new Linear({ inFeatures: 2, outFeatures: 2, bias: false });
  expect(splitWeightDecay(linear)).toEqual([{ params: [linear.weight] }]);
  const norm = new BatchNorm2d({ numFeatures: 2 });
  expect(splitWeightDecay(norm)).toEqual([{ params: [norm.weight, norm.bias], weightDecay: 0 }]);
  expectErrorNamed(
    () => splitWeightDecay([] as never),
    'TypeError',
    /splitWeightDecay: model must be a Module, got Array/,
  );
});
