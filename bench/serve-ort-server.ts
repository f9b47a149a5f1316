// SPDX-License-Identifier: MIT
// The onnxruntime-node counterpart of `simdnet serve` for the HTTP serving bench: the very same server (lib/serve's
// createServer: fastify routes, response schema, the same PNG decoding and preprocessing, metrics)
// around a model whose predictAsync() is one session.run per request (onnxruntime batches nothing by itself).
// Run as a child process: `node serve-ort-server.js INTRA_OP_THREADS [DECODE_THREADS]`; prints
// "listening on http://127.0.0.1:PORT", stops on SIGTERM after the requests in flight.
import './setup';
import type { AddressInfo } from 'net';
import type { InferenceSession } from 'onnxruntime-node';
import { Module, Tensor } from '../lib';
import { datasetPreprocessing } from '../lib/cli/predict';
import { DEFAULT_DECODE_THREADS } from '../lib/serve/decode-pool';
import { createServer } from '../lib/serve/server';
import { ortSession } from './ort';

type Ort = typeof import('onnxruntime-node');

/** bench/lenet.onnx behind the Module interface the server calls: predictAsync() runs session.run. */
class OrtLeNet extends Module {
  constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
  ) {
    super();
  }

  override outputShape(inputShape: readonly number[]): number[] {
    return [inputShape[0], 10];
  }

  override forward(): Tensor {
    throw new Error('OrtLeNet runs through predictAsync() only');
  }

  override backward(): Tensor {
    throw new Error('OrtLeNet does not train');
  }

  override async predictAsync(input: Tensor): Promise<Tensor> {
    const [inName] = this.session.inputNames;
    const [outName] = this.session.outputNames;
    const feeds = { [inName]: new this.ort.Tensor('float32', input.data, input.shape) };
    const out = (await this.session.run(feeds))[outName].data as Float32Array;
    return new Tensor(out, this.outputShape(input.shape));
  }
}

async function main(): Promise<void> {
  const threads = Number(process.argv[2] ?? 2);
  const decodeThreads = Number(process.argv[3] ?? DEFAULT_DECODE_THREADS);
  const { ort, session } = await ortSession(threads);
  const model = new OrtLeNet(ort, session);
  const classifier = {
    name: 'LeNet (onnxruntime-node)',
    model,
    channels: 3,
    height: 32,
    width: 32,
    numClasses: 10,
    dataset: 'cifar10',
    metadata: {},
  };
  const server = createServer({ classifier, preprocessing: datasetPreprocessing('cifar10', 3, 10), decodeThreads });
  await model.predictAsync(Tensor.zeros([1, 3, 32, 32])); // warm-up, as simdnet serve does
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`listening on http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}\n`);
  process.once('SIGTERM', () => void server.close());
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
