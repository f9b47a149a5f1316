// SPDX-License-Identifier: MIT
// DataLoader tests: batch counts, dropLast, seeded shuffles per epoch, resume, get() fallback, transforms, option errors.
import { ShapeError } from '../../lib/errors';
import { DataLoader, TensorDataset, type Batch, type Dataset, type Transform } from '../../lib/data';

/** n samples of shape [1, 1, 2]; sample i holds [i, -i] and label i. */
function dataset(n: number): TensorDataset {
  const images = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) images.set([i, -i], 2 * i);
  return new TensorDataset(
    images,
    Int32Array.from({ length: n }, (_, i) => i),
    { sampleShape: [1, 1, 2] },
  );
}

/** Copies of each batch's labels (batches are only valid until the next one). */
function epochLabels(it: Iterable<Batch>): number[][] {
  return Array.from(it, (b) => Array.from(b.labels));
}

test('batch count, shapes and the last partial batch', () => {
  const loader = new DataLoader(dataset(10), { batchSize: 4 });
  expect(loader.length).toBe(3);
  const shapes: number[][] = [];
  for (const b of loader) {
    shapes.push([...b.images.shape]);
    expect(b.labels.length).toBe(b.images.shape[0]);
    for (let i = 0; i < b.labels.length; i++)
      expect(Array.from(b.images.data.subarray(2 * i, 2 * i + 2))).toEqual([b.labels[i], -b.labels[i]]);
  }
  expect(shapes).toEqual([
    [4, 1, 1, 2],
    [4, 1, 1, 2],
    [2, 1, 1, 2],
  ]);
  expect(epochLabels(new DataLoader(dataset(10), { batchSize: 4 }))).toEqual([
    [0, 1, 2, 3],
    [4, 5, 6, 7],
    [8, 9],
  ]);
});

test('dropLast', () => {
  const loader = new DataLoader(dataset(10), { batchSize: 4, dropLast: true });
  expect(loader.length).toBe(2);
  expect(epochLabels(loader)).toEqual([
    [0, 1, 2, 3],
    [4, 5, 6, 7],
  ]);
  expect(new DataLoader(dataset(8), { batchSize: 4, dropLast: true }).length).toBe(2);
  expect(new DataLoader(dataset(3), { batchSize: 4, dropLast: true }).length).toBe(0);
  expect(new DataLoader(dataset(3), { batchSize: 4 }).length).toBe(1);
  expect(new DataLoader(dataset(0)).length).toBe(0);
  expect(epochLabels(new DataLoader(dataset(0)))).toEqual([]);
});

test('seeded shuffle: every index once per epoch, reproducible, different per epoch and seed', () => {
  const a = new DataLoader(dataset(50), { batchSize: 7, shuffle: true, seed: 3 });
  const b = new DataLoader(dataset(50), { batchSize: 7, shuffle: true, seed: 3 });
  const epochsA = [epochLabels(a), epochLabels(a), epochLabels(a)];
  expect(a.epoch).toBe(3);
  for (const e of epochsA) expect(e.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  expect(epochsA[0].flat()).not.toEqual(epochsA[1].flat());
  expect(epochsA[1].flat()).not.toEqual(epochsA[2].flat());
  expect(epochsA[0].flat()).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  expect([epochLabels(b), epochLabels(b), epochLabels(b)]).toEqual(epochsA);
  // setEpoch jumps: the order depends only on (seed, epoch).
  b.setEpoch(1);
  expect(epochLabels(b)).toEqual(epochsA[1]);
  expect(b.epoch).toBe(2);
  expect(Array.from(a.order(2))).toEqual(epochsA[2].flat());
  const other = new DataLoader(dataset(50), { batchSize: 7, shuffle: true, seed: 4 });
  expect(epochLabels(other).flat()).not.toEqual(epochsA[0].flat());
});

test('datasets without getBatch go through get()', () => {
  const inner = dataset(5);
  const plain: Dataset = { length: 5, sampleShape: [1, 1, 2], get: (i) => inner.get(i) };
  const viaGet = Array.from(new DataLoader(plain, { batchSize: 2, shuffle: true, seed: 9 }), (b) => [
    Array.from(b.images.data),
    Array.from(b.labels),
  ]);
  const viaBatch = Array.from(new DataLoader(inner, { batchSize: 2, shuffle: true, seed: 9 }), (b) => [
    Array.from(b.images.data),
    Array.from(b.labels),
  ]);
  expect(viaGet).toEqual(viaBatch);
  const bad: Dataset = { length: 2, sampleShape: [1, 1, 2], get: () => ({ image: new Float32Array(3), label: 0 }) };
  expect(() => [...new DataLoader(bad)]).toThrow(ShapeError);
});

test('batch buffers are reused: valid until the next batch', () => {
  const it = new DataLoader(dataset(6), { batchSize: 3 })[Symbol.iterator]();
  const first = it.next().value as Batch;
  const kept = first.labels.slice();
  const second = it.next().value as Batch;
  expect(Array.from(kept)).toEqual([0, 1, 2]);
  expect(Array.from(second.labels)).toEqual([3, 4, 5]);
  expect(first.labels).toBe(second.labels);
});

test('transform gets each sample with a generator derived from (seed, epoch, batch)', () => {
  // Adds a random offset to both values of the sample, so the result records the stream.
  const jitter: Transform = (image, shape, rng) => {
    expect(shape).toEqual([1, 1, 2]);
    const r = rng.random();
    image[0] += r;
    image[1] += r;
  };
  const run = (seed: number, epoch: number, start = 0) => {
    const loader = new DataLoader(dataset(9), { batchSize: 4, shuffle: true, seed, transform: jitter });
    return Array.from(loader.batches(epoch, start), (b) => Array.from(b.images.data));
  };
  const e0 = run(1, 0);
  expect(run(1, 0)).toEqual(e0);
  expect(run(1, 1)).not.toEqual(e0);
  expect(run(2, 0)).not.toEqual(e0);
  expect(run(1, 0, 1)).toEqual(e0.slice(1)); // resuming mid-epoch gives the same augmented data
  // Sample i became [i + r, -i + r]: the same r was added to both values of each sample.
  for (const batch of e0) {
    for (let i = 0; i < batch.length; i += 2)
      expect(batch[i] + batch[i + 1]).toBeCloseTo(2 * (batch[i] - Math.floor(batch[i])), 5);
  }
});

test('option errors name the option', () => {
  const ds = dataset(4);
  expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(/batchSize must be an integer >= 1, got 0/);
  expect(() => new DataLoader(ds, { batchSize: 2.5 })).toThrow(RangeError);
  expect(() => new DataLoader(ds, { batchSize: '4' as unknown as number })).toThrow(TypeError);
  expect(() => new DataLoader(ds, { seed: -1 })).toThrow(/seed/);
  expect(() => new DataLoader(ds, { shuffle: 1 as unknown as boolean })).toThrow(/shuffle must be a boolean/);
  expect(() => new DataLoader(ds, { dropLast: 'no' as unknown as boolean })).toThrow(/dropLast/);
  expect(() => new DataLoader(ds, { transform: 3 as unknown as Transform })).toThrow(/transform must be a function/);
  expect(() => new DataLoader(ds, { batch_size: 4 } as object)).toThrow(
    /unknown option 'batch_size' \(known: batchSize, /,
  );
  expect(() => new DataLoader(ds, { batch_size: 4 } as object)).toThrow(RangeError);
  expect(() => new DataLoader({} as Dataset)).toThrow(/dataset must be a Dataset/);
  expect(
    () => new DataLoader({ length: 1, sampleShape: [2], get: () => ({ image: new Float32Array(2), label: 0 }) }),
  ).toThrow(ShapeError);
  expect(() => new DataLoader(ds).setEpoch(-1)).toThrow(RangeError);
});
