// SPDX-License-Identifier: MIT
// The onnxruntime-node counterpart of `simdnet serve` for the HTTP serving bench: the very same server (lib/serve's
// createServer: fastify routes, response schema, the same PNG decoding and preprocessing, metrics)
// around a model whose predictAsync() is one session.run per request (onnxruntime batches nothing by itself).
// Run as a child process: `node serve-ort-server.js INTRA_OP_THREADS [DECODE_THREADS] [WORKERS]`; prints
// "listening on http://127.0.0.1:PORT", stops on SIGTERM after the requests in flight. WORKERS > 1 runs that many
// server processes behind the port, as `simdnet serve --workers` does (the same serve-cluster.ts).
import './setup';
import cluster from 'cluster';
import type { AddressInfo } from 'net';
import type { InferenceSession } from 'onnxruntime-node';
import { Module, Tensor } from '../lib';
import { datasetPreprocessing } from '../lib/cli/predict';
import { DEFAULT_DECODE_THREADS } from '../lib/serve/decode-pool';
import { ClusterWorkerLink, ServeCluster } from '../lib/serve/serve-cluster';
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
  const workers = Number(process.argv[4] ?? 1);
  if (workers > 1 && cluster.isPrimary) {
    const servers = await ServeCluster.start(workers, {}, (line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`listening on http://127.0.0.1:${servers.address().port}\n`);
    process.once('SIGTERM', () => void servers.stop().then((code) => (process.exitCode = code)));
    return;
  }
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
  let link: ClusterWorkerLink | null = null;
  const server = createServer({
    classifier,
    preprocessing: datasetPreprocessing('cifar10', 3, 10),
    decodeThreads,
    metricsSnapshots: cluster.isWorker ? (own) => (link as ClusterWorkerLink).gather(own) : undefined,
  });
  const stop = (): void => void server.close().then(() => link?.close());
  if (cluster.isWorker) link = new ClusterWorkerLink(() => server.metrics.snapshot(), stop);
  await model.predictAsync(Tensor.zeros([1, 3, 32, 32])); // warm-up, as simdnet serve does
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (server.app.server.address() as AddressInfo).port;
  if (link) link.listening({ host: '127.0.0.1', port });
  else process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
