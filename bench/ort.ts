// SPDX-License-Identifier: MIT
// onnxruntime-node's side of the inference cases: bench/lenet.onnx (exported from PyTorch), or simdnet's export of a CNN, on the CPU provider.
import * as path from 'path';
import type { InferenceSession } from 'onnxruntime-node';
import type { Prepared } from './cases';
import { benchDir } from './setup';

type Ort = typeof import('onnxruntime-node');

/** Loads onnxruntime-node and the model (default bench/lenet.onnx; or ONNX bytes), or throws an error saying why not. */
export async function ortSession(
  threads: number,
  model: string | Uint8Array = path.join(benchDir, 'lenet.onnx'),
): Promise<{ ort: Ort; session: InferenceSession }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort: Ort = require('onnxruntime-node');
  const options: InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model, options)
      : await ort.InferenceSession.create(model, options);
  return { ort, session };
}

/** session.run on the first n images (async, as a server calls it). */
export function ortInfer(
  ort: Ort,
  session: InferenceSession,
  images: Float32Array,
  n: number,
): Prepared<Promise<Float32Array>> {
  const input = new ort.Tensor('float32', images.subarray(0, n * 3072), [n, 3, 32, 32]);
  const [inName] = session.inputNames;
  const [outName] = session.outputNames;
  return { fn: async () => (await session.run({ [inName]: input }))[outName].data as Float32Array };
}
