// SPDX-License-Identifier: MIT
// `simdnet serve`: loads a classifier (safetensors or ONNX, as predict does) and answers HTTP prediction requests
// (lib/serve/server.ts) until SIGTERM or Ctrl+C, then lets the requests in flight finish and exits 0. With --workers N
// it runs N such servers behind one port (lib/serve/serve-cluster.ts).
import type { AddressInfo } from 'net';
import * as os from 'os';
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_WAIT_MICROS } from '../modules/predict-batcher';
import { DEFAULT_DECODE_QUEUE, DEFAULT_DECODE_THREADS, DEFAULT_INLINE_DECODE_PIXELS } from '../serve/decode-pool';
import { ClusterWorkerLink, disconnectWorker, isClusterWorker, ServeCluster } from '../serve/serve-cluster';
import { loadClassifier } from './classifier';
import { checkFileExists } from './data-path';
import { EXIT_FAILURE, EXIT_OK, println, type CliIO } from './io';
import { integerAtLeast, nonEmpty } from './options';
import { datasetPreprocessing } from './predict';

/** Parsed `simdnet serve` options. */
export interface ServeCommandOptions {
  weights: string;
  port: number;
  host: string;
  maxBatch: number;
  maxWaitUs: number;
  bodyLimit: number;
  top: number;
  decodeThreads: number;
  decodeQueue: number;
  inlineDecodePixels: number;
  /** Server processes behind the one port; 'auto' is one per CPU the process may use. */
  workers: number | 'auto';
}

/** Measured with bench/serve.ts on a 2-core machine (docs/serving.md). */
export const DEFAULT_WORKERS = 1;

const SERVE_HELP = `
Endpoints:
  POST /predict   body image/png or image/jpeg (preprocessed as \`simdnet predict\` does),
                  or application/json {"input": [numbers], "shape": [C, H, W]} (the model
                  input itself); ?top=k. Answers {"top": [{"label", "index", "probability"}]}.
  GET  /health    200 once the model is loaded
  GET  /metrics   Prometheus text format: requests, errors, latency and batch sizes

--workers N runs N server processes behind the one port, each with its own model copy,
batcher and event loop (and SIMDNET_NUM_THREADS = CPUs / N kernel threads unless set); /metrics
adds up all of them. 'auto' is one per CPU.
Concurrent requests are batched (--max-batch, --max-wait-us); images larger than
--inline-decode-pixels are decoded in worker threads (--decode-threads, --decode-queue; see
docs/serving.md).
SIGTERM or Ctrl+C stops accepting requests, lets those in flight finish, and exits 0.

Examples:
  simdnet serve --weights lenet.safetensors
  simdnet serve --weights lenet.onnx --port 0 --max-batch 64
  simdnet serve --weights lenet.safetensors --workers auto`;

function workers(value: string): number | 'auto' {
  return value === 'auto' ? value : integerAtLeast(1)(value);
}

function port(value: string): number {
  const n = integerAtLeast(0)(value);
  if (n > 65535) throw new InvalidArgumentError('expected a port from 0 to 65535.');
  return n;
}

/**
 * Adds the `serve` command.
 *
 * @example
 * // simdnet serve --weights lenet.safetensors --port 8080 --host 127.0.0.1
 */
export function registerServe(program: Command, io: CliIO, setExitCode: (code: number) => void): void {
  program
    .command('serve')
    .description('answer HTTP prediction requests with a saved model (batching concurrent requests)')
    .requiredOption('--weights <file>', 'a .safetensors file saved by `simdnet train`, or an ONNX model', nonEmpty)
    .option('--port <n>', 'TCP port (0: any free port, printed when listening)', port, 8080)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--max-batch <n>', 'most images per batch', integerAtLeast(1), DEFAULT_MAX_BATCH_SIZE)
    .option(
      '--max-wait-us <n>',
      'longest wait for a fuller batch, in microseconds',
      integerAtLeast(0),
      DEFAULT_MAX_WAIT_MICROS,
    )
    .option('--body-limit <bytes>', 'largest request body', integerAtLeast(1), 4 * 2 ** 20)
    .option('--top <k>', 'classes per answer unless the request sets ?top=k', integerAtLeast(1), 5)
    .option(
      '--decode-threads <n>',
      'worker threads that decode images (0: on the main thread)',
      integerAtLeast(0),
      DEFAULT_DECODE_THREADS,
    )
    .option(
      '--inline-decode-pixels <n>',
      'images of at most this many pixels are decoded on the main thread (0: none)',
      integerAtLeast(0),
      DEFAULT_INLINE_DECODE_PIXELS,
    )
    .option(
      '--decode-queue <n>',
      'most images waiting to be decoded; more get a 503',
      integerAtLeast(1),
      DEFAULT_DECODE_QUEUE,
    )
    .option('--workers <n|auto>', 'server processes sharing the port (auto: one per CPU)', workers, DEFAULT_WORKERS)
    .addHelpText('after', SERVE_HELP)
    .action(async (opts: ServeCommandOptions) => setExitCode(await runServe(opts, io)));
}

/**
 * Runs `simdnet serve`: prints "listening on http://HOST:PORT" once the model is loaded and warm, serves until SIGTERM
 * or the CLI's abort signal (Ctrl+C), then waits for the requests in flight and resolves to 0. With more than one
 * worker this process forks the workers (which run this same command) and waits for them.
 */
export async function runServe(opts: ServeCommandOptions, io: CliIO): Promise<number> {
  const weights = checkFileExists('--weights', opts.weights);
  const workers = opts.workers === 'auto' ? os.availableParallelism() : opts.workers;
  // A worker stays alive while its channel to the primary is open: close it whatever happens (a model that fails to
  // load, a port in use), so that the primary sees the exit.
  if (isClusterWorker()) return serveOne(opts, weights, io, true).finally(disconnectWorker);
  return workers > 1 ? servePrimary(workers, io) : serveOne(opts, weights, io, false);
}

/** Resolves when SIGTERM arrives or the CLI's abort signal fires; `dispose` removes the listeners. */
function stopSignal(io: CliIO): { stopped: Promise<void>; stop: () => void; dispose: () => void } {
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.once('SIGTERM', stop);
  io.signal?.addEventListener('abort', stop, { once: true });
  const dispose = (): void => {
    process.removeListener('SIGTERM', stop);
    io.signal?.removeEventListener('abort', stop);
  };
  return { stopped, stop, dispose };
}

/** The primary of --workers N: forks the workers, prints where they listen, and on SIGTERM drains them all. */
async function servePrimary(workers: number, io: CliIO): Promise<number> {
  const env = io.env ?? process.env;
  // The workers share the cores: each gets its share of kernel threads unless the user fixed the count.
  const threads = env.SIMDNET_NUM_THREADS ?? String(Math.max(1, Math.floor(os.availableParallelism() / workers)));
  const { stopped, dispose } = stopSignal(io);
  try {
    const log = (line: string): void => println(io.stderr, line);
    const servers = await ServeCluster.start(workers, { SIMDNET_NUM_THREADS: threads }, log).catch((err: Error) => {
      log(`error: ${err.message}`);
      return null;
    });
    if (servers === null) return EXIT_FAILURE;
    const { host, port } = servers.address();
    println(io.stdout, `listening on http://${host}:${port}`);
    log(`${workers} workers, ${threads} kernel threads each`);
    await stopped;
    log('stopping: no new requests; finishing those in flight');
    return await servers.stop();
  } finally {
    dispose();
  }
}

/** One server in this process; `worker`: one of --workers N (it reports to the primary instead of printing). */
async function serveOne(opts: ServeCommandOptions, weights: string, io: CliIO, worker: boolean): Promise<number> {
  const [{ createServer }, { Tensor }] = await Promise.all([import('../serve/server'), import('../tensor/tensor')]);
  const classifier = await loadClassifier(weights, opts.weights);
  const { model, channels, height, width, numClasses, dataset } = classifier;
  const preprocessing = datasetPreprocessing(dataset, channels, numClasses);
  const { stopped, stop, dispose } = stopSignal(io);
  let link: ClusterWorkerLink | null = null;
  const server = createServer({
    classifier,
    preprocessing,
    bodyLimit: opts.bodyLimit,
    top: opts.top,
    maxBatchSize: opts.maxBatch,
    maxWaitMicros: opts.maxWaitUs,
    decodeThreads: opts.decodeThreads,
    decodeQueue: opts.decodeQueue,
    inlineDecodePixels: opts.inlineDecodePixels,
    holdUntilClose: (io.env ?? process.env).SIMDNET_SERVE_TEST_HOLD === '1',
    metricsSnapshots: worker ? (own) => (link as ClusterWorkerLink).gather(own) : undefined,
  });
  if (worker) link = new ClusterWorkerLink(() => server.metrics.snapshot(), stop);
  try {
    await model.predictAsync(Tensor.zeros([1, channels, height, width])); // compiles the program, makes the snapshot
    await server.app.listen({ port: opts.port, host: opts.host });
    const address = server.app.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    if (link) link.listening({ host, port: address.port });
    else println(io.stdout, `listening on http://${host}:${address.port}`);
    await stopped;
    if (!worker) println(io.stderr, 'stopping: no new requests; finishing those in flight');
    await server.close();
    return EXIT_OK;
  } finally {
    dispose();
    await server.close(); // also after a failed listen: stops the decoding threads
    link?.close();
  }
}
