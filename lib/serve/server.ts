// SPDX-License-Identifier: MIT
// The HTTP server behind `simdnet serve` (fastify): POST /predict (PNG, JPEG or JSON body) through predictAsync()'s
// batching (images decoded in a worker-thread pool, decode-pool.ts), GET /health, GET /metrics; graceful close that lets
// requests in flight finish.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { checkInt } from '../check';
import type { Classifier } from '../cli/classifier';
import type { DatasetPreprocessing } from '../cli/predict';
import { topK } from '../cli/predict';
import { setBatching } from '../modules/predict-batcher';
import { Tensor } from '../tensor/tensor';
import { DecodePool, DEFAULT_DECODE_QUEUE, DEFAULT_DECODE_THREADS, DEFAULT_INLINE_DECODE_PIXELS } from './decode-pool';
import { ServeMetrics } from './metrics';
import { imageHeader, imageInput, jsonInput, RequestError } from './request-input';

/** What createServer() serves and its limits. */
export interface ServerOptions {
  classifier: Classifier;
  /** Normalisation and class names (datasetPreprocessing of the classifier's recorded dataset). */
  preprocessing: DatasetPreprocessing;
  /** Largest request body in bytes. Default 4 MiB. */
  bodyLimit?: number;
  /** Largest image in pixels, checked from its header before decoding. Default 2^24. */
  maxPixels?: number;
  /** Classes in each answer unless the request asks ?top=k. Default 5. */
  top?: number;
  /**
   * Worker threads that decode and preprocess images (decode-pool.ts); 0 decodes on the event loop thread. Default
   * DEFAULT_DECODE_THREADS.
   */
  decodeThreads?: number;
  /**
   * Images of at most this many pixels (from their header) are decoded on the event loop thread even when there are
   * decoding threads: for them the messages to and from a thread cost more than the decoding. Default
   * DEFAULT_INLINE_DECODE_PIXELS; 0 sends every image to the threads.
   */
  inlineDecodePixels?: number;
  /** Most images being decoded or waiting for a decoding thread; more get a 503. Default DEFAULT_DECODE_QUEUE. */
  decodeQueue?: number;
  /** predictAsync() batching (setBatching). */
  maxBatchSize?: number;
  maxWaitMicros?: number;
  /**
   * Test hook: /predict requests wait, once counted in flight, until close() begins; tests use it to have requests
   * provably in flight when the server is told to stop.
   */
  holdUntilClose?: boolean;
}

/**
 * A configured server; listen with app.listen(), stop with close() (waits for requests in flight, then stops the
 * decoding threads; a server built and never closed leaves no thread keeping the process alive).
 */
export interface ModelServer {
  app: FastifyInstance;
  metrics: ServeMetrics;
  close(): Promise<void>;
}

export const DEFAULT_BODY_LIMIT = 4 * 2 ** 20;
export const DEFAULT_MAX_PIXELS = 2 ** 24;

/** The answer of POST /predict; the schema lets fastify serialise it without JSON.stringify's generic walk. */
const PREDICT_RESPONSE = {
  200: {
    type: 'object',
    properties: {
      top: {
        type: 'array',
        items: {
          type: 'object',
          properties: { label: { type: 'string' }, index: { type: 'integer' }, probability: { type: 'number' } },
          required: ['label', 'index', 'probability'],
        },
      },
    },
    required: ['top'],
  },
} as const;

/**
 * Builds the server for one classifier (not yet listening).
 *
 * @example
 * const server = createServer({ classifier, preprocessing: datasetPreprocessing(classifier.dataset, 3, 10) });
 * await server.app.listen({ port: 8080, host: '127.0.0.1' });
 */
export function createServer(options: ServerOptions): ModelServer {
  const { classifier, preprocessing } = options;
  const { model, channels, height, width, numClasses } = classifier;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const defaultTop = Math.min(options.top ?? 5, numClasses);
  const metrics = new ServeMetrics();
  setBatching(model, {
    maxBatchSize: options.maxBatchSize,
    maxWaitMicros: options.maxWaitMicros,
    onBatch: (b) => metrics.batchFinished(b.rows, b.micros / 1e6, b.ok),
  });
  let releaseHold: () => void = () => {};
  const hold = options.holdUntilClose ? new Promise<void>((resolve) => (releaseHold = resolve)) : null;
  const prep = { channels: channels as 1 | 3, height, width, mean: preprocessing.mean, std: preprocessing.std };
  const decodeThreads = checkInt('createServer: decodeThreads', options.decodeThreads ?? DEFAULT_DECODE_THREADS, 0);
  const takesImages = channels === 1 || channels === 3;
  // Checked before the pool starts its threads.
  const inlinePixels = checkInt(
    'createServer: inlineDecodePixels',
    options.inlineDecodePixels ?? DEFAULT_INLINE_DECODE_PIXELS,
    0,
  );
  const pool =
    takesImages && decodeThreads > 0
      ? new DecodePool({
          threads: decodeThreads,
          maxQueue: checkInt('createServer: decodeQueue', options.decodeQueue ?? DEFAULT_DECODE_QUEUE),
          prep,
          maxPixels,
        })
      : null;
  const decode = (body: Buffer, type: 'image/png' | 'image/jpeg'): Float32Array | Promise<Float32Array> => {
    checkImageModel(prep);
    if (pool === null) return imageInput(body, type, prep, maxPixels);
    const header = imageHeader(body, type);
    if (header === null) return imageInput(body, type, prep, maxPixels); // gives the header's error
    if (header.width * header.height <= inlinePixels) return imageInput(body, type, prep, maxPixels, header);
    return pool.decode(body, type);
  };

  const app = Fastify({ bodyLimit, logger: false, return503OnClosing: true });
  app.addContentTypeParser(['image/png', 'image/jpeg'], { parseAs: 'buffer', bodyLimit }, (_req, body, done) =>
    done(null, body),
  );

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    // Client errors and refusals (a full decode queue's 503) are answered as they are; anything else is a failure.
    const refused = status < 500 || err instanceof RequestError;
    if (!refused) process.stderr.write(`error: ${err.message}\n`);
    const message =
      err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? unsupportedType(req)
        : refused
          ? err.message
          : `prediction failed: ${err.message}`;
    if (status === 503) void reply.header('retry-after', '1');
    void reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send({ error: `no route ${req.method} ${req.url} (POST /predict, GET /health, GET /metrics)` });
  });
  app.addHook('onResponse', (req, reply, done) => {
    if (req.routeOptions.url === '/predict') metrics.requestFinished(reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.get('/health', async () => ({ status: 'ok', model: classifier.name }));
  app.get('/metrics', async (_req, reply) => {
    void reply.type('text/plain; version=0.0.4; charset=utf-8');
    return metrics.render();
  });
  app.post('/predict', { schema: { response: PREDICT_RESPONSE } }, async (req) => {
    metrics.requestStarted();
    try {
      if (hold) await hold;
      const k = topOf(req, defaultTop, numClasses);
      const type = mediaType(req);
      const input =
        type === 'application/json'
          ? jsonInput(req.body, [channels, height, width])
          : await decode(req.body as Buffer, type);
      const logits = await model.predictAsync(new Tensor(input, [1, channels, height, width]));
      return {
        top: topK(logits.data, k).map(({ index, probability }) => ({
          label: preprocessing.classes?.[index] ?? `class ${index}`,
          index,
          probability,
        })),
      };
    } finally {
      metrics.requestDone();
    }
  });

  return {
    app,
    metrics,
    close: async () => {
      releaseHold();
      await app.close(); // waits for the requests in flight, and so for their decodes
      await pool?.close();
    },
  };
}

/** The request's media type, lower case without parameters (fastify has already refused types without a parser). */
function mediaType(req: FastifyRequest): 'application/json' | 'image/png' | 'image/jpeg' {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'image/png' || type === 'image/jpeg' || type === 'application/json') return type;
  throw new RequestError(415, unsupportedType(req));
}

function unsupportedType(req: FastifyRequest): string {
  const type = req.headers['content-type'];
  const what = type === undefined ? 'no Content-Type' : `unsupported Content-Type "${type}"`;
  return `${what}: send image/png, image/jpeg or application/json`;
}

/** ?top=k: an integer from 1 to the class count. */
function topOf(req: FastifyRequest, fallback: number, classes: number): number {
  const raw = (req.query as Record<string, unknown> | undefined)?.top;
  if (raw === undefined) return fallback;
  const k = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || k < 1 || k > classes)
    throw new RequestError(400, `?top must be an integer from 1 to ${classes}, got ${JSON.stringify(raw)}`);
  return k;
}

/** Images go to 1- or 3-channel models only (as in `simdnet predict`). */
function checkImageModel<P extends { channels: number; height: number; width: number }>(prep: P): P {
  if (prep.channels !== 1 && prep.channels !== 3) {
    throw new RequestError(
      415,
      `this model takes ${prep.channels}x${prep.height}x${prep.width} inputs, not images: send application/json`,
    );
  }
  return prep;
}
