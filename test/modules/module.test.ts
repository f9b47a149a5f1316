// SPDX-License-Identifier: MIT
// Module contract: state dicts (strict), modes, zeroGrad, Sequential naming, backward before forward.
import { LeNet } from '../../lib/modules/lenet';
import { Linear } from '../../lib/modules/linear';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { manualSeed } from '../../lib/random';
import { Tensor } from '../../lib/tensor/tensor';
import { randomTensor } from '../helpers';

describe('state dict', () => {
  test('round trip copies values into another model', () => {
    manualSeed(1);
    const a = new LeNet();
    manualSeed(2);
    const b = new LeNet();
    const x = randomTensor([2, 3, 32, 32], 3);
    expect(b.forward(x).data).not.toEqual(a.forward(x).data);
    const snapshot = Object.fromEntries(Object.entries(a.stateDict()).map(([k, t]) => [k, t.clone()]));
    b.loadStateDict(snapshot);
    expect(b.forward(x).data).toEqual(a.forward(x).data);
    // Values were copied, not shared.
    snapshot['fc3.bias'].data[0] += 1;
    expect(b.stateDict()['fc3.bias'].data[0]).not.toBe(snapshot['fc3.bias'].data[0]);
  });

  test('strict: missing, unexpected and misshapen entries name the key and change nothing', () => {
    const net = new LeNet();
    const before = net.stateDict()['conv1.weight'].data.slice();
    const dict = Object.fromEntries(Object.entries(new LeNet().stateDict()).map(([k, t]) => [k, t.clone()]));
    const { ['fc2.bias']: _dropped, ...missing } = dict;
    expect(() => net.loadStateDict(missing)).toThrow(/missing keys: fc2\.bias/);
    expect(() => net.loadStateDict({ ...dict, 'fc4.weight': Tensor.zeros([1]) })).toThrow(
      /unexpected keys: fc4\.weight/,
    );
    expect(() => net.loadStateDict({ ...dict, 'fc1.weight': Tensor.zeros([400, 120]) })).toThrow(
      /'fc1\.weight' has shape \[400, 120\], expected \[120, 400\]/,
    );
    expect(net.stateDict()['conv1.weight'].data).toEqual(before);
  });

  test('Sequential names children by index or by key', () => {
    const s = new Sequential(
      new Linear({ inFeatures: 2, outFeatures: 3 }),
      new ReLU(),
      new Linear({ inFeatures: 3, outFeatures: 1, bias: false }),
    );
    expect(Object.keys(s.stateDict())).toEqual(['0.weight', '0.bias', '2.weight']);
    const named = new Sequential({ body: s, head: new Linear({ inFeatures: 1, outFeatures: 1 }) });
    expect(Object.keys(named.stateDict())).toEqual([
      'body.0.weight',
      'body.0.bias',
      'body.2.weight',
      'head.weight',
      'head.bias',
    ]);
    expect(() => new Sequential({ bad: 3 } as never)).toThrow(TypeError);
  });
});

describe('modes and gradients', () => {
  test('eval() propagates; backward after an eval forward works as in training mode (PyTorch allows it)', () => {
    const net = new LeNet().eval();
    expect(net.at(0).training).toBe(false);
    const x = randomTensor([1, 3, 32, 32], 1);
    net.forward(x);
    const g = randomTensor([1, 10], 2);
    const evalGrad = net.backward(g).data.slice();
    net.train().forward(x);
    expect(Array.from(net.backward(g).data)).toEqual(Array.from(evalGrad));
    net.zeroGrad();
    net.predict(x); // predict keeps nothing, but leaves the last forward's state alone
    expect(Array.from(net.backward(g).data)).toEqual(Array.from(evalGrad));
    net.train();
    expect(net.at(0).training).toBe(true);
  });
});
