// SPDX-License-Identifier: MIT
// Tests of lib/train/evaluate.ts: exact loss/accuracy/confusion on a fixed model, flip TTA, mode restore, abort and
// argument errors.
import { DataLoader } from '../../lib/data/loader';
import { TensorDataset } from '../../lib/data/dataset';
import { Flatten } from '../../lib/modules/flatten';
import { Linear } from '../../lib/modules/linear';
import { Sequential } from '../../lib/modules/sequential';
import { Tensor } from '../../lib/tensor/tensor';
import { evaluate } from '../../lib/train/evaluate';

// Flatten makes each [3, 1, 1] image its own logits row, so every number below is computable by hand.
const rows = [
  [2, 0, 0], // label 0, predicted 0
  [0, 1, 0], // label 1, predicted 1
  [0, 0, 3], // label 1, predicted 2
  [1, 1, 2], // label 2, predicted 2
  [0.5, 0, 0], // label 2, predicted 0
];
const labels = Int32Array.from([0, 1, 1, 2, 2]);
const dataset = new TensorDataset(new Tensor(Float32Array.from(rows.flat()), [5, 3, 1, 1]), labels);

function crossEntropy(row: number[], label: number): number {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return lse - row[label];
}

test('loss, accuracy, confusion and per-class accuracy match hand computation, across batch sizes', async () => {
  const expectedLoss = rows.reduce((s, r, i) => s + crossEntropy(r, labels[i]), 0) / rows.length;
  for (const batchSize of [1, 2, 5]) {
    const r = await evaluate(new Sequential(new Flatten()), new DataLoader(dataset, { batchSize }));
    expect(r.loss).toBeCloseTo(expectedLoss, 5);
    expect(r.correct).toBe(3);
    expect(r.total).toBe(5);
    expect(r.accuracy).toBe(0.6);
    expect(r.confusion).toEqual([
      [1, 0, 0],
      [0, 1, 1],
      [1, 0, 1],
    ]);
    expect(r.perClassAccuracy).toEqual([1, 0.5, 0.5]);
  }
});

test("tta 'flip' scores each image and its left-right mirror and averages the logits", async () => {
  const model = new Sequential(new Flatten(), new Linear({ inFeatures: 6, outFeatures: 3 }));
  const shape = [4, 2, 1, 3]; // four 2-channel images of one row of three pixels
  const images = Float32Array.from({ length: 24 }, (_, i) => 2 * Math.sin(1.7 * i));
  const mirrored = images.map((_, i) => images[i - (i % 3) + 2 - (i % 3)]); // pixel x of each row <- pixel 2 - x
  const testLabels = Int32Array.from([0, 1, 2, 1]);
  const plain = model.predict(new Tensor(images, shape)).data.slice();
  const flipped = model.predict(new Tensor(mirrored, shape)).data;
  const averaged = [0, 1, 2, 3].map((n) => [0, 1, 2].map((k) => (plain[3 * n + k] + flipped[3 * n + k]) / 2));
  const argmax = (row: number[]) => row.indexOf(Math.max(...row));
  const wantCorrect = averaged.filter((row, n) => argmax(row) === testLabels[n]).length;
  const wantLoss = averaged.reduce((s, row, n) => s + crossEntropy(row, testLabels[n]), 0) / 4;
  const loader = new DataLoader(new TensorDataset(new Tensor(images, shape), testLabels), { batchSize: 3 });
  const r = await evaluate(model, loader, { tta: 'flip' });
  expect(r.correct).toBe(wantCorrect);
  expect(r.loss).toBeCloseTo(wantLoss, 5);
  expect((await evaluate(model, loader)).loss).not.toBeCloseTo(wantLoss, 3); // the augmentation changed something
});

test('runs in eval mode and restores every module’s previous mode', async () => {
  const flatten = new Flatten();
  const inner = new Sequential(new Flatten());
  const model = new Sequential(flatten, inner);
  model.train();
  inner.training = false; // a mixed state must come back as it was
  const seen: boolean[] = [];
  // A Flatten-only model has no native program, so predict() runs forwardWith in eval mode.
  const forwardWith = model.forwardWith.bind(model);
  model.forwardWith = (x, ctx) => {
    seen.push(model.training || flatten.training || inner.training);
    return forwardWith(x, ctx);
  };
  await evaluate(model, new DataLoader(dataset, { batchSize: 2 }));
  expect(seen).toEqual([false, false, false]);
  expect([model.training, flatten.training, inner.training]).toEqual([true, true, false]);
});

test('numClasses fixes the matrix size; an empty loader gives NaN metrics', async () => {
  const r = await evaluate(new Sequential(new Flatten()), new DataLoader(dataset, { batchSize: 5 }), { numClasses: 3 });
  expect(r.confusion).toHaveLength(3);
  const empty = await evaluate(new Sequential(new Flatten()), [], { numClasses: 2 });
  expect(empty).toEqual({
    loss: NaN,
    accuracy: NaN,
    correct: 0,
    total: 0,
    confusion: [
      [0, 0],
      [0, 0],
    ],
    perClassAccuracy: [NaN, NaN],
  });
});

test('a label outside the model outputs is a RangeError', async () => {
  const bad = new TensorDataset(new Tensor(new Float32Array(2), [1, 2, 1, 1]), Int32Array.from([2]));
  await expect(evaluate(new Sequential(new Flatten()), new DataLoader(bad))).rejects.toThrow(/not a class index/);
  // With a loss that does not check labels, the confusion matrix still does.
  const lossFn = { forward: () => 0, backward: () => Tensor.zeros([1, 2]) };
  await expect(evaluate(new Sequential(new Flatten()), new DataLoader(bad), { lossFn })).rejects.toThrow(
    /label 2 is outside 0..1/,
  );
});

test('an aborted signal stops it with the signal’s reason, and modes are still restored', async () => {
  const controller = new AbortController();
  const model = new Sequential(new Flatten());
  let batches = 0;
  const loader = (function* () {
    for (const b of new DataLoader(dataset, { batchSize: 1 })) {
      batches++;
      if (batches === 2) controller.abort(new Error('stop now'));
      yield b;
    }
  })();
  await expect(evaluate(model, loader, { signal: controller.signal })).rejects.toThrow('stop now');
  expect(batches).toBe(2);
  expect(model.training).toBe(true);
});

test('argument errors', async () => {
  await expect(evaluate({} as never, [])).rejects.toThrow(TypeError);
  await expect(evaluate(new Sequential(new Flatten()), 5 as never)).rejects.toThrow(/iterable of batches/);
  const model = new Sequential(new Flatten());
  const loader = new DataLoader(dataset);
  await expect(evaluate(model, loader, { numclasses: 3 } as never)).rejects.toThrow(
    /^evaluate: unknown option 'numclasses' \(known: lossFn, numClasses, signal, onBatch, tta\)$/,
  );
  await expect(evaluate(model, loader, { tta: 'rotate' as never })).rejects.toThrow(/evaluate: tta/);
  await expect(evaluate(model, loader, { numClasses: 0 })).rejects.toThrow(RangeError);
  await expect(evaluate(model, loader, { lossFn: {} as never })).rejects.toThrow(/lossFn must have forward\(\)/);
  await expect(evaluate(model, loader, { signal: 'stop' as never })).rejects.toThrow(/signal must be an AbortSignal/);
});
