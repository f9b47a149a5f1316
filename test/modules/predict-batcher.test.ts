// SPDX-License-Identifier: MIT
// predictAsync()'s dynamic batching: concurrent calls share batches yet each equals a lone predict() bit for bit,
// shapes never mix, errors stay with their call, options are honoured, and weight versions never tear a result.
import { AdaptiveAvgPool2d } from '../../lib/modules/adaptive-avg-pool2d';
import { AvgPool2d } from '../../lib/modules/avg-pool2d';
import { BatchNorm2d } from '../../lib/modules/batch-norm';
import { Conv2d } from '../../lib/modules/conv2d';
import { Flatten } from '../../lib/modules/flatten';
import { LeNet } from '../../lib/modules/lenet';
import { LeNetBN } from '../../lib/modules/lenet-bn';
import { Linear } from '../../lib/modules/linear';
import { MaxPool2d } from '../../lib/modules/max-pool2d';
import { Module } from '../../lib/modules/module';
import { setBatching, type BatchReport } from '../../lib/modules/predict-batcher';
import { ReLU } from '../../lib/modules/relu';
import { Sequential } from '../../lib/modules/sequential';
import { Tanh } from '../../lib/modules/tanh';
import { native } from '../../lib/native';
import { Tensor } from '../../lib/tensor/tensor';
import { randomTensor } from '../helpers';

/** The native call the batcher makes. */
const RUN_ASYNC = 'runProgramAsyncInPlace';

/** Records every batch the model runs. */
function recordBatches(model: Module): BatchReport[] {
  const batches: BatchReport[] = [];
  setBatching(model, { onBatch: (b) => batches.push(b) });
  return batches;
}

/** Exact equality, reporting the first differing index. */
function expectSame(actual: Tensor, expected: Tensor, what: string): void {
  expect(actual.shape).toEqual(expected.shape);
  const i = actual.data.findIndex((v, k) => !Object.is(v, expected.data[k]));
  if (i >= 0) throw new Error(`${what}: index ${i} is ${actual.data[i]}, a lone predict() gives ${expected.data[i]}`);
}

/** A net with every program op, and paths the row count could change: im2col (groups, stride, padding), 1x1 conv, wide GEMM. */
function mixedNet(): Sequential {
  const net = new Sequential(
    new Conv2d({ inChannels: 3, outChannels: 12, kernelSize: 3, padding: 1 }),
    new BatchNorm2d({ numFeatures: 12 }),
    new ReLU(),
    new Conv2d({ inChannels: 12, outChannels: 24, kernelSize: 3, stride: 2, groups: 3 }),
    new ReLU(),
    new Conv2d({ inChannels: 24, outChannels: 16, kernelSize: 1 }),
    new MaxPool2d({ kernelSize: 2 }),
    new AvgPool2d({ kernelSize: 2, ceilMode: true }),
    new AdaptiveAvgPool2d(3),
    new Flatten(),
    new Linear({ inFeatures: 144, outFeatures: 257 }),
    new ReLU(),
    new Linear({ inFeatures: 257, outFeatures: 10 }),
  );
  const norm = net.at(1) as BatchNorm2d;
  (norm.runningMean as Tensor).data.set(randomTensor([12], 90, 0.5).data);
  (norm.runningVar as Tensor).data.set(randomTensor([12], 91, 0.5).data.map((v) => v + 1));
  return net;
}

describe('predictAsync batching', () => {
  test.each([
    ['LeNet', () => new LeNet(), [3, 32, 32]],
    ['LeNetBN (folded BatchNorm)', () => new LeNetBN(), [3, 32, 32]],
    ['conv/pool/linear mix', mixedNet, [3, 19, 17]],
  ] as const)(
    '%s: concurrent calls share batches and each equals a lone predict() bit for bit',
    async (_, make, shape) => {
      const net = make();
      net.train(); // predictAsync runs eval mode whatever the module's mode
      const batches = recordBatches(net);
      const rowsPerCall = [
        1, 2, 1, 3, 1, 1, 5, 1, 2, 1, 1, 1, 4, 1, 1, 1, 1, 2, 1, 1, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 33,
      ];
      const inputs = rowsPerCall.map((rows, i) => randomTensor([rows, ...shape], 100 + i));
      const results = await Promise.all(inputs.map((x) => net.predictAsync(x)));
      inputs.forEach((x, i) => expectSame(results[i], net.predict(x), `call ${i}`));
      expect(Math.max(...batches.map((b) => b.calls))).toBeGreaterThan(1); // batching happened
      expect(batches.reduce((n, b) => n + b.rows, 0)).toBe(rowsPerCall.reduce((a, b) => a + b, 0));
      expect(net.training).toBe(true);
    },
  );

  test('each caller gets its own copy of its rows', async () => {
    const net = new LeNet();
    const [a, b] = await Promise.all([1, 2].map((i) => net.predictAsync(randomTensor([2, 3, 32, 32], i))));
    expect(a.data.buffer).not.toBe(b.data.buffer);
    expect(a.data.length).toBe(20);
    expect(a.data.buffer.byteLength).toBe(80);
  });

  test('the caller may overwrite its input as soon as predictAsync returns', async () => {
    const net = new LeNet();
    const inputs = [1, 2, 3].map((i) => randomTensor([i, 3, 32, 32], 40 + i));
    const expected = inputs.map((x) => net.predict(x));
    const pending = inputs.map((x) => net.predictAsync(x));
    for (const x of inputs) x.data.fill(7); // before any batch starts (batches start in a later event-loop turn)
    const results = await Promise.all(pending);
    results.forEach((r, i) => expectSame(r, expected[i], `call ${i}`));
    // A second round reuses the first round's staging array.
    const again = await Promise.all(inputs.map((x) => net.predictAsync(x)));
    again.forEach((r, i) => expectSame(r, net.predict(inputs[i]), `second round, call ${i}`));
  });

  test('inputs of different shapes never share a batch, and all resolve', async () => {
    const net = new Sequential(
      new Conv2d({ inChannels: 1, outChannels: 4, kernelSize: 3 }),
      new AdaptiveAvgPool2d(2),
      new Flatten(),
      new Linear({ inFeatures: 16, outFeatures: 3 }),
    );
    const batches = recordBatches(net);
    const shapes = [
      [1, 1, 8, 8],
      [1, 1, 12, 9],
      [2, 1, 8, 8],
      [1, 1, 12, 9],
      [1, 1, 8, 8],
    ];
    const inputs = shapes.map((s, i) => randomTensor(s, i));
    const spy = jest.spyOn(native, 'createProgramSnapshot');
    let results: Tensor[];
    try {
      results = await Promise.all(inputs.map((x) => net.predictAsync(x)));
      expect(spy).toHaveBeenCalledTimes(1); // the programs of both shapes share one weight snapshot
    } finally {
      spy.mockRestore();
    }
    inputs.forEach((x, i) => expectSame(results[i], net.predict(x), `call ${i}`));
    expect(batches.map((b) => [b.shape.join('x'), b.rows]).sort()).toEqual([
      ['1x12x9', 2],
      ['1x8x8', 4],
    ]);
  });

  test('a bad call is rejected alone; the others resolve', async () => {
    const net = new LeNet();
    const good = [randomTensor([1, 3, 32, 32], 1), randomTensor([2, 3, 32, 32], 2)];
    const settled = await Promise.allSettled([
      net.predictAsync(good[0]),
      net.predictAsync(randomTensor([1, 3, 28, 28], 3)),
      net.predictAsync([1, 2, 3] as never),
      net.predictAsync(randomTensor([3072], 4)),
      net.predictAsync(good[1]),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason.name).toBe('ShapeError');
    expect((settled[2] as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
    expect((settled[3] as PromiseRejectedResult).reason.message).toMatch(/batch dimension/);
    expectSame((settled[0] as PromiseFulfilledResult<Tensor>).value, net.predict(good[0]), 'first');
    expectSame((settled[4] as PromiseFulfilledResult<Tensor>).value, net.predict(good[1]), 'last');
  });

  test('a failing batch rejects its calls and the next batch still runs', async () => {
    const net = new LeNet();
    const spy = jest.spyOn(native, RUN_ASYNC).mockImplementationOnce(() => Promise.reject(new Error('boom')));
    try {
      const first = await Promise.allSettled([1, 2].map((i) => net.predictAsync(randomTensor([1, 3, 32, 32], i))));
      expect(first.map((s) => s.status)).toEqual(['rejected', 'rejected']);
      const x = randomTensor([1, 3, 32, 32], 3);
      expectSame(await net.predictAsync(x), net.predict(x), 'after the failure');
    } finally {
      spy.mockRestore();
    }
  });

  test('a running batch reads its rows in place: calls made meanwhile never write over them', async () => {
    const net = new LeNet();
    setBatching(net, { maxBatchSize: 4 });
    const real = native[RUN_ASYNC];
    const overwritten: string[] = [];
    const spy = jest.spyOn(native, RUN_ASYNC).mockImplementation((code, snapshot, input, n) => {
      const before = input.slice();
      return real(code, snapshot, input, n).then((out) => {
        if (input.some((v, i) => !Object.is(v, before[i]))) overwritten.push(`batch of ${n}`);
        return out;
      });
    });
    try {
      const inputs: Tensor[] = [];
      const results: Promise<Tensor>[] = [];
      // Waves: each arrives while the previous wave's first batch runs, so its rows stage beside a running batch.
      for (let wave = 0; wave < 4; wave++) {
        for (let i = 0; i < 6; i++) {
          const x = randomTensor([1 + ((wave + i) % 2), 3, 32, 32], 100 * wave + i);
          inputs.push(x);
          results.push(net.predictAsync(x));
        }
        await new Promise((r) => setImmediate(r));
      }
      const got = await Promise.all(results);
      inputs.forEach((x, i) => expectSame(got[i], net.predict(x), `call ${i}`));
      expect(overwritten).toEqual([]);
      expect(spy.mock.calls.length).toBeGreaterThan(4);
    } finally {
      spy.mockRestore();
    }
  });

  test('maxBatchSize bounds the rows of a batch; a larger call runs alone', async () => {
    const net = new LeNet();
    const batches = recordBatches(net);
    setBatching(net, { maxBatchSize: 4 });
    const rows = [1, 1, 1, 1, 1, 3, 6, 2, 1];
    const inputs = rows.map((r, i) => randomTensor([r, 3, 32, 32], i));
    const results = await Promise.all(inputs.map((x) => net.predictAsync(x)));
    // Each batch takes the oldest waiting rows; the rest move up in the queue's staging array.
    inputs.forEach((x, i) => expectSame(results[i], net.predict(x), `call ${i}`));
    expect(batches.reduce((n, b) => n + b.rows, 0)).toBe(17);
    for (const b of batches) expect(b.rows <= 4 || b.calls === 1).toBe(true);
    expect(batches.some((b) => b.rows === 6 && b.calls === 1)).toBe(true);
  });

  test('maxWaitMicros: a full batch starts at once; a lone call waits at least maxWait, then runs', async () => {
    const net = new LeNet();
    const batches = recordBatches(net);
    setBatching(net, { maxBatchSize: 4, maxWaitMicros: 3_600e6 }); // an hour: only a full batch may start
    await Promise.all([1, 2, 3, 4].map((i) => net.predictAsync(randomTensor([1, 3, 32, 32], i))));
    expect(batches.map((b) => b.rows)).toEqual([4]);
    // A batch that fills up while its first call waits on the timer starts then (not in an hour).
    const first = net.predictAsync(randomTensor([1, 3, 32, 32], 5));
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    await Promise.all([first, ...[6, 7, 8].map((i) => net.predictAsync(randomTensor([1, 3, 32, 32], i)))]);
    expect(batches.map((b) => b.rows)).toEqual([4, 4]);
    setBatching(net, { maxWaitMicros: 30_000 });
    const start = performance.now();
    await net.predictAsync(randomTensor([1, 3, 32, 32], 5));
    expect(performance.now() - start).toBeGreaterThanOrEqual(30);
  });

  test('setBatching rejects bad options', () => {
    const net = new LeNet();
    expect(() => setBatching(net, { maxBatchSize: 0 })).toThrow(RangeError);
    expect(() => setBatching(net, { maxBatchSize: 1.5 })).toThrow(RangeError);
    expect(() => setBatching(net, { maxBatchSize: '8' as never })).toThrow(TypeError);
    expect(() => setBatching(net, { maxWaitMicros: -1 })).toThrow(RangeError);
    expect(() => setBatching(net, { maxWaitMicros: NaN })).toThrow(RangeError);
    expect(() => setBatching(net, { onBatch: 3 as never })).toThrow(TypeError);
    expect(() => setBatching(net, null as never)).toThrow(TypeError);
    expect(setBatching(net, {})).toEqual({ maxBatchSize: 32, maxWaitMicros: 0 });
  });

  test('modules without a native program run predict() and resolve the same', async () => {
    const net = new Sequential(new Flatten(), new Linear({ inFeatures: 12, outFeatures: 4 }), new Tanh());
    const x = randomTensor([2, 3, 4], 1);
    expectSame(await net.predictAsync(x), net.predict(x), 'tanh net');
  });
});

describe('predictAsync weight versions', () => {
  test('one snapshot while the weights stay the same; a new one after any write', async () => {
    const net = new LeNet();
    const spy = jest.spyOn(native, 'createProgramSnapshot');
    try {
      const x = randomTensor([1, 3, 32, 32], 1);
      for (let i = 0; i < 5; i++) await Promise.all([net.predictAsync(x), net.predictAsync(x)]);
      expect(spy).toHaveBeenCalledTimes(1);
      // A direct write into a parameter's array counts as a change.
      net.parameters()[0].data.data[7] += 0.5;
      expectSame(await net.predictAsync(x), net.predict(x), 'after a direct write');
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
  });

  test('a batch keeps the version it started with while the weights change under it', async () => {
    const net = new LeNetBN();
    const other = new LeNetBN();
    const x = randomTensor([3, 3, 32, 32], 2);
    const before = net.predict(x);
    const pending = net.predictAsync(x);
    await new Promise((r) => setImmediate(r)); // the batch has been dispatched
    const dict = other.stateDict();
    (dict['bn1.running_mean'] as Tensor).data.fill(0.25);
    net.loadStateDict(dict);
    const after = net.predict(x);
    expectSame(await pending, before, 'the batch in flight');
    expectSame(await net.predictAsync(x), after, 'the next call');
  });

  test('under training steps between batches every result is one whole version', async () => {
    const net = new LeNet();
    const versions: Tensor[][] = [];
    const inputs = Array.from({ length: 12 }, (_, i) => randomTensor([1 + (i % 3), 3, 32, 32], 40 + i));
    const expectedFor = () => inputs.map((x) => net.predict(x));
    const pending: Promise<Tensor>[][] = [];
    for (let step = 0; step < 6; step++) {
      versions.push(expectedFor());
      pending.push(inputs.map((x) => net.predictAsync(x)));
      await new Promise((r) => setImmediate(r));
      // A change while the batch runs, as an optimizer step makes it (writes into every weight in place).
      for (const p of net.parameters()) for (let k = 0; k < p.data.size; k += 3) p.data.data[k] *= 0.9;
    }
    versions.push(expectedFor());
    const results = await Promise.all(pending.map((p) => Promise.all(p)));
    results.forEach((round, r) =>
      round.forEach((y, i) => {
        const match = versions.findIndex((v) => v[i].data.every((value, k) => Object.is(value, y.data[k])));
        expect([r, i, match >= r]).toEqual([r, i, true]); // a whole version, never older than at the call
      }),
    );
    // The first round was dispatched before any change: it must see version 0 exactly.
    results[0].forEach((y, i) => expectSame(y, versions[0][i], `round 0 call ${i}`));
  });
});
