// SPDX-License-Identifier: MIT
// In-process serving case: single-image requests from a closed loop with a fixed number in flight, against simdnet's
// predictAsync (batched, and unbatched for reference) and onnxruntime-node's session.run; requests/s, p50, p99.
import { LeNet, Tensor } from '../lib';
import { setBatching } from '../lib/modules/predict-batcher';
import type { BenchData } from './data';
import { TOL } from './data';
import { ortSession } from './ort';
import { maxAbsDiff } from './reference';

export interface LoadResult {
  system: string;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Requests per round and rounds run; the row is the round with the median requests/s. */
  requests: number;
  rounds: number;
  note?: string;
}

type Call = (image: Float32Array) => Promise<ArrayLike<number>>;

/** `total` requests, `inFlight` at a time (each worker sends its next request when its last one is answered). */
export async function closedLoop(
  call: Call,
  images: Float32Array[],
  total: number,
  inFlight: number,
): Promise<{ requestsPerSec: number; p50Ms: number; p99Ms: number }> {
  const latency = new Float64Array(total);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await call(images[i % images.length]);
      latency[i] = performance.now() - t0;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - start) / 1000;
  latency.sort();
  const pct = (p: number): number => latency[Math.min(total - 1, Math.floor(p * total))];
  return { requestsPerSec: total / seconds, p50Ms: pct(0.5), p99Ms: pct(0.99) };
}

/** Runs `rounds` rounds (after a warm-up round) and keeps the one with the median requests/s. */
export async function medianOfRounds(
  system: string,
  call: Call,
  images: Float32Array[],
  total: number,
  inFlight: number,
  rounds: number,
): Promise<LoadResult> {
  await closedLoop(call, images, Math.min(total, 1000), inFlight);
  const runs = [];
  for (let r = 0; r < rounds; r++) runs.push(await closedLoop(call, images, total, inFlight));
  runs.sort((a, b) => a.requestsPerSec - b.requestsPerSec);
  return { system, ...runs[Math.floor(rounds / 2)], requests: total, rounds };
}

/** One image per request: the first n bench images, each its own [1, 3, 32, 32] array. */
export function singleImages(data: BenchData, n: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => data.images.slice(i * 3072, (i + 1) * 3072));
}

/** simdnet predictAsync with the given batching; checks every answer of a first pass against a lone predict(). */
export async function simdnetCall(
  model: LeNet,
  images: Float32Array[],
  maxBatchSize: number,
  maxWaitMicros: number,
): Promise<Call> {
  setBatching(model, { maxBatchSize, maxWaitMicros });
  const call: Call = async (image) => (await model.predictAsync(new Tensor(image, [1, 3, 32, 32]))).data;
  const answers = await Promise.all(images.map(call));
  answers.forEach((a, i) => {
    const lone = model.predict(new Tensor(images[i], [1, 3, 32, 32])).data;
    if (lone.some((v, k) => !Object.is(v, a[k])))
      throw new Error(`simdnet: request ${i} differs from a lone predict()`);
  });
  return call;
}

/** onnxruntime-node's async session.run on bench/lenet.onnx; checks answers against the float64 reference. */
export async function ortCall(data: BenchData, images: Float32Array[], threads: number): Promise<Call> {
  const { ort, session } = await ortSession(threads);
  const [inName] = session.inputNames;
  const [outName] = session.outputNames;
  const call: Call = async (image) =>
    (await session.run({ [inName]: new ort.Tensor('float32', image, [1, 3, 32, 32]) }))[outName].data as Float32Array;
  const answers = await Promise.all(images.slice(0, 64).map(call));
  answers.forEach((a, i) => {
    const diff = maxAbsDiff(a, data.refLogits.subarray(i * 10, (i + 1) * 10), 10);
    if (!(diff < TOL)) throw new Error(`onnxruntime: request ${i} differs from the reference by ${diff}`);
  });
  return call;
}
