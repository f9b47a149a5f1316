// SPDX-License-Identifier: MIT
// The loss options of PyTorch 2.13 (test/fixtures/losses.safetensors from gen_losses.py): CrossEntropyLoss weight,
// ignoreIndex, labelSmoothing with weight and reduction mean / sum / none; NLLLoss and MSELoss 'none' and 'sum';
// gradcheck of each form (backward's upstream gradient included), the 'none' backward argument, and errors.
import * as path from 'path';
import { gradcheck } from '../../lib/gradcheck';
import { readSafetensors } from '../../lib/io/safetensors';
import { CrossEntropyLoss, type CrossEntropyLossOptions } from '../../lib/loss/cross-entropy';
import { MSELoss } from '../../lib/loss/mse';
import { NLLLoss } from '../../lib/loss/nll';
import type { Reduction } from '../../lib/loss/reduction';
import { Module } from '../../lib/modules/module';
import { Linear } from '../../lib/modules/linear';
import { SGD } from '../../lib/optim/sgd';
import { fit } from '../../lib/train/trainer';
import { Tensor } from '../../lib/tensor/tensor';
import { expectAllClose, expectErrorNamed, randomTensor } from '../helpers';

const { tensors: fx, metadata } = readSafetensors(path.join(__dirname, '..', 'fixtures', 'losses.safetensors'));
const CASES = Object.keys(metadata)
  .filter((k) => k.endsWith('.config'))
  .map((k) => k.slice(0, -'.config'.length));

type AnyLoss = {
  forward(x: Tensor, t: never): number | Tensor;
  backward(g?: number | Tensor): Tensor;
  reduction: Reduction;
};

function make(name: string): { loss: AnyLoss; target: Int32Array | Tensor } {
  const { op, weight, ...o } = JSON.parse(metadata[`${name}.config`]) as Record<string, unknown>;
  if (op === 'mse') return { loss: new MSELoss(o) as AnyLoss, target: fx[`${name}.target`] };
  const target = Int32Array.from(fx[`${name}.targets`].data);
  if (op === 'nll') return { loss: new NLLLoss(o) as AnyLoss, target };
  const options = { ...o, ...(weight ? { weight: fx[`${name}.weight`] } : {}) } as CrossEntropyLossOptions;
  return { loss: new CrossEntropyLoss(options) as AnyLoss, target };
}

test('the fixture holds every case', () => {
  expect(CASES.length).toBe(13);
  expect(metadata.generator).toBe('test/fixtures/gen_losses.py');
});

describe.each(CASES)('%s matches PyTorch 2.13', (name) => {
  test('loss and input gradient (with a random upstream gradient)', () => {
    const { loss, target } = make(name);
    const value = loss.forward(fx[`${name}.input`], target as never);
    const dout = fx[`${name}.dout`];
    if (loss.reduction === 'none') {
      expect(value).toBeInstanceOf(Tensor);
      const input = fx[`${name}.input`].shape;
      expect((value as Tensor).shape).toEqual(name.startsWith('mse') ? input : [input[0]]);
      expectAllClose((value as Tensor).data, fx[`${name}.loss`].data, 1e-5, 1e-6, `${name}.loss`);
      const g = dout.reshape((value as Tensor).shape);
      expectAllClose(loss.backward(g).data, fx[`${name}.dinput`].data, 1e-6, 1e-5, `${name}.dinput`);
    } else {
      expect(typeof value).toBe('number');
      expectAllClose([value as number], fx[`${name}.loss`].data, 1e-5, 1e-6, `${name}.loss`);
      expectAllClose(loss.backward(dout.data[0]).data, fx[`${name}.dinput`].data, 1e-6, 1e-5, `${name}.dinput`);
    }
  });
});

/** A loss with fixed targets as a Module: output [1] (reduced) or the per-element losses, backward with their gradient. */
class LossAsModule extends Module {
  constructor(
    private readonly loss: AnyLoss,
    private readonly target: Int32Array | Tensor,
  ) {
    super();
  }
  outputShape(shape: readonly number[]): number[] {
    return this.loss.reduction === 'none' ? (this.target instanceof Tensor ? [...shape] : [shape[0]]) : [1];
  }
  override forward(x: Tensor): Tensor {
    const v = this.loss.forward(x, this.target as never);
    return v instanceof Tensor ? v : Tensor.fromArray([v], [1]);
  }
  override backward(g: Tensor): Tensor {
    return this.loss.backward(this.loss.reduction === 'none' ? g : g.data[0]);
  }
}

describe('gradcheck', () => {
  const targets = Int32Array.from([1, -100, 3, 0, 3]);
  const weight = [0.5, 2, 1, 1.5];
  test.each<[string, CrossEntropyLossOptions]>([
    ['weight, mean', { weight }],
    ['weight, smoothing, mean', { weight, labelSmoothing: 0.3 }],
    ['weight, smoothing, sum', { weight, labelSmoothing: 0.2, reduction: 'sum' }],
    ['smoothing, none', { labelSmoothing: 0.4, reduction: 'none' }],
    ['weight, ignoreIndex 3, none', { weight, ignoreIndex: 3, reduction: 'none' }],
  ])('CrossEntropyLoss %s', (_name, options) => {
    const t = options.ignoreIndex === 3 ? Int32Array.from([1, 3, 2, 0, 3]) : targets;
    const r = gradcheck(new LossAsModule(new CrossEntropyLoss(options) as AnyLoss, t), randomTensor([5, 4], 3, 3));
    if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
    expect(r.checked).toBe(20);
  });

  test.each(['sum', 'none'] as const)('NLLLoss and MSELoss, reduction %s', (reduction) => {
    for (const m of [
      new LossAsModule(new NLLLoss({ reduction }) as AnyLoss, targets),
      new LossAsModule(new MSELoss({ reduction }) as AnyLoss, randomTensor([5, 4], 9)),
    ]) {
      const r = gradcheck(m, randomTensor([5, 4], 4));
      if (!r.ok) throw new Error(`gradcheck failed: ${JSON.stringify(r.mismatches.slice(0, 5))}`);
      expect(r.checked).toBe(20);
    }
  });
});

describe("reduction 'none'", () => {
  test("sums to 'sum', the weighted 'mean' divides by the kept targets' weights", () => {
    const logits = randomTensor([4, 3], 5, 2);
    const targets = Int32Array.from([2, -100, 0, 2]);
    const weight = [1, 2, 3];
    const each = new CrossEntropyLoss({ weight, reduction: 'none', labelSmoothing: 0.1 }).forward(logits, targets);
    expect(each.data[1]).toBe(0);
    const sum = each.data.reduce((a, b) => a + b, 0);
    expect(
      new CrossEntropyLoss({ weight, reduction: 'sum', labelSmoothing: 0.1 }).forward(logits, targets),
    ).toBeCloseTo(sum, 5);
    const mean = new CrossEntropyLoss({ weight, labelSmoothing: 0.1 }).forward(logits, targets);
    expect(mean).toBeCloseTo(sum / (3 + 1 + 3), 5);
  });

  test('backward takes a number (every element) or a Tensor of the losses shape, and checks it', () => {
    const lossFn = new MSELoss({ reduction: 'none' });
    const x = randomTensor([2, 3], 1);
    lossFn.forward(x, Tensor.zeros([2, 3]));
    expect(Array.from(lossFn.backward().data)).toEqual(Array.from(x.data.map((v) => 2 * v)));
    expect(() => lossFn.backward(Tensor.zeros([3, 2]))).toThrow(RangeError); // a ShapeError
    expect(() => lossFn.backward(Tensor.zeros([3, 2]))).toThrow(/MSELoss.backward: gradient/);
    expectErrorNamed(
      () => lossFn.backward('1' as never),
      'TypeError',
      /MSELoss.backward: gradient must be a number or a Tensor/,
    );
    const mean = new NLLLoss();
    mean.forward(Tensor.zeros([2, 3]), Int32Array.from([0, 1]));
    expectErrorNamed(
      () => mean.backward(Tensor.zeros([2])),
      'TypeError',
      /NLLLoss.backward: a Tensor gradient needs reduction 'none'/,
    );
  });

  test('fit refuses a loss with reduction none by name', async () => {
    const model = new Linear({ inFeatures: 2, outFeatures: 2 });
    await expect(
      fit(model, {
        trainLoader: [],
        epochs: 1,
        optimizer: new SGD(model.parameters(), { lr: 0.1 }),
        lossFn: new CrossEntropyLoss({ reduction: 'none' }) as never,
      }),
    ).rejects.toThrow(/lossFn has reduction 'none'/);
  });
});

test('CrossEntropyLoss errors name the option', () => {
  expectErrorNamed(
    () => new CrossEntropyLoss({ reduction: 'avg' as never }),
    'RangeError',
    /CrossEntropyLoss: reduction must be 'mean', 'sum' or 'none'/,
  );
  expectErrorNamed(
    () => new CrossEntropyLoss({ weight: 'x' as never }),
    'TypeError',
    /CrossEntropyLoss: weight must be/,
  );
  expectErrorNamed(
    () => new CrossEntropyLoss({ weight: [1, NaN] }),
    'RangeError',
    /CrossEntropyLoss: weight\[1\] must be finite/,
  );
  expectErrorNamed(
    () => new CrossEntropyLoss({ weight: [] }),
    'RangeError',
    /CrossEntropyLoss: weight must hold one value per class/,
  );
  expectErrorNamed(() => new CrossEntropyLoss({ weight: Tensor.zeros([2, 2]) }), 'RangeError', /weight must be 1-d/);
  expectErrorNamed(() => new CrossEntropyLoss({ ignoreIndex: 1.5 }), 'RangeError', /CrossEntropyLoss: ignoreIndex/);
  const lossFn = new CrossEntropyLoss({ weight: [1, 2, 3] });
  expectErrorNamed(
    () => lossFn.forward(Tensor.zeros([2, 4]), Int32Array.from([0, 1])),
    'RangeError',
    /weight has 3 values, the logits have 4 classes/,
  );
  expectErrorNamed(
    () => lossFn.forward(Tensor.zeros([2, 3]), Int32Array.from([0, 3])),
    'RangeError',
    /CrossEntropyLoss: targets\[1\] = 3 is outside 0..2/,
  );
});
