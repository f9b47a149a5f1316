// SPDX-License-Identifier: MIT
// ConvTranspose2d: finite-difference gradchecks (input, weight, bias) over strides, paddings, output paddings (also
// >= stride, where the input is extended), dilations and groups; shapes; option errors; repeated steps in a Sequential.
// PyTorch's numbers are checked in layers-up-pytorch.test.ts.
import { gradcheck } from '../../lib/gradcheck';
import { ConvTranspose2d, type ConvTranspose2dOptions } from '../../lib/modules/conv-transpose2d';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { Generator } from '../../lib/random';
import { expectErrorNamed, maxDiff, randomTensor } from '../helpers';

const base = { inChannels: 2, outChannels: 3, kernelSize: 3 };

describe('gradcheck', () => {
  test.each<[Partial<ConvTranspose2dOptions>, number[]]>([
    [{}, [2, 2, 3, 4]],
    [{ stride: 2, padding: 1, outputPadding: 1 }, [1, 2, 3, 3]],
    [{ inChannels: 4, outChannels: 6, kernelSize: [2, 3], stride: [3, 1], groups: 2, bias: false }, [2, 4, 2, 3]],
    [{ dilation: 2, outputPadding: 1 }, [1, 2, 3, 2]],
    [{ kernelSize: 1, stride: 2, outputPadding: [1, 0] }, [2, 2, 2, 3]],
  ])('%j on %j', (options, shape) => {
    const layer = new ConvTranspose2d({ ...base, ...options, generator: new Generator(3) });
    const r = gradcheck(layer, randomTensor(shape, 5), { maxPerTensor: 40 });
    if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
    expect(r.checked).toBeGreaterThan(30);
  });
});

test('output shape: (H - 1) stride - 2 padding + dilation (kernel - 1) + outputPadding + 1', () => {
  const layer = new ConvTranspose2d({ ...base, stride: [2, 3], padding: [1, 0], outputPadding: [1, 2], dilation: 2 });
  expect(layer.outputShape([5, 2, 4, 3])).toEqual([5, 3, 3 * 2 - 2 + 4 + 1 + 1, 2 * 3 + 4 + 2 + 1]);
  expect(layer.weight.data.shape).toEqual([2, 3, 3, 3]);
  expect(new ConvTranspose2d({ ...base, inChannels: 4, outChannels: 6, groups: 2 }).weight.data.shape).toEqual([
    4, 3, 3, 3,
  ]);
  expect(layer.toString()).toBe(
    'ConvTranspose2d(2, 3, kernelSize=[3, 3], stride=[2, 3], padding=[1, 0], outputPadding=[1, 2], dilation=[2, 2])',
  );
  expect(() => layer.outputShape([1, 3, 4, 4])).toThrow(RangeError); // a ShapeError
  const shrink = new ConvTranspose2d({ ...base, kernelSize: 1, padding: 2 });
  expectErrorNamed(() => shrink.outputShape([1, 2, 3, 3]), 'RangeError', /empty output -1x-1/);
});

test('bad options are TypeError or RangeError naming the option', () => {
  const make = (o: Record<string, unknown>) => () => new ConvTranspose2d({ ...base, ...o } as never);
  expectErrorNamed(make({ inChannels: '2' }), 'TypeError', /ConvTranspose2d: inChannels must be a number/);
  expectErrorNamed(make({ outChannels: 0 }), 'RangeError', /ConvTranspose2d: outChannels/);
  expectErrorNamed(make({ stride: [1, 2, 3] }), 'RangeError', /ConvTranspose2d: stride/);
  expectErrorNamed(make({ padding: 'same' }), 'TypeError', /ConvTranspose2d: padding/);
  expectErrorNamed(make({ padding: -1 }), 'RangeError', /ConvTranspose2d: padding/);
  expectErrorNamed(make({ outputPadding: 1.5 }), 'RangeError', /ConvTranspose2d: outputPadding/);
  expectErrorNamed(
    make({ outputPadding: [1, 0] }),
    'RangeError',
    /ConvTranspose2d: outputPadding \[1, 0\] must be smaller than either stride \[1, 1\] or dilation \[1, 1\]/,
  );
  expectErrorNamed(
    make({ groups: 2 }),
    'RangeError',
    /ConvTranspose2d: groups 2 must divide inChannels 2 and outChannels 3/,
  );
  expectErrorNamed(make({ bias: 1 }), 'TypeError', /ConvTranspose2d: bias/);
  expectErrorNamed(make({ paddingMode: 'zeros' }), 'RangeError', /paddingMode/);
  expectErrorNamed(() => new ConvTranspose2d(undefined as never), 'TypeError', /ConvTranspose2d/);
});

test('PyTorch default init: weight and bias within 1/sqrt((outChannels / groups) kh kw)', () => {
  const layer = new ConvTranspose2d({ inChannels: 4, outChannels: 6, kernelSize: 2, groups: 2 });
  const bound = 1 / Math.sqrt(3 * 4);
  for (const p of layer.parameters()) {
    expect(Math.max(...p.data.data.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...p.data.data.map(Math.abs))).toBeGreaterThan(bound / 2);
  }
});

test('repeated training steps in a Sequential (reused buffers) give the same gradients', () => {
  const model = new Sequential(
    new ConvTranspose2d({ ...base, stride: 2, outputPadding: 1, generator: new Generator(1) }),
    new ReLU(),
    new ConvTranspose2d({ inChannels: 3, outChannels: 2, kernelSize: 2, dilation: 2, outputPadding: 1 }),
  );
  const x = randomTensor([2, 2, 3, 3], 4);
  const step = () => {
    model.zeroGrad();
    const y = model.forward(x);
    const dx = model.backward(randomTensor([...y.shape], 9));
    return [dx.data.slice(), ...model.parameters().map((p) => p.grad.data.slice())];
  };
  const first = step();
  const second = step();
  first.forEach((a, i) => expect(maxDiff(a, second[i])).toBe(0));
  model.eval();
  expect(maxDiff(model.predict(x).data, model.forward(x).data)).toBe(0);
});
