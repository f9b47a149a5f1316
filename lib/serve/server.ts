// SPDX-License-Identifier: MIT
// The HTTP server behind `simdnet serve` (fastify): POST /predict (PNG, JPEG or JSON body) through predictAsync()'s
// batching (predictor.ts; large images decoded in a worker-thread pool, decode-pool.ts), GET /health, GET /metrics;
// graceful close that lets requests in flight finish. Image bodies of POST /predict take a raw node:http route
// (raw-predict.ts) in front of fastify.
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import * as http from 'http';
import { checkInt } from '../check';
import type { Classifier } from '../cli/classifier';
import type { DatasetPreprocessing } from '../cli/predict';
import { setBatching } from '../modules/predict-batcher';
import { DecodePool, DEFAULT_DECODE_QUEUE, DEFAULT_DECODE_THREADS, DEFAULT_INLINE_DECODE_PIXELS } from './decode-pool';
import { renderMetrics, ServeMetrics, type MetricsSnapshot } from './metrics';
import { createPredictor, errorAnswer, mediaType, unsupportedType } from './predictor';
import { rawPredictRoute } from './raw-predict';
import { RequestError } from './request-input';

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
   * The metrics of every server process that GET /metrics reports (serve-cluster.ts gathers them from the `--workers`
   * processes). Default: this server's alone.
   */
  metricsSnapshots?: (own: MetricsSnapshot) => Promise<MetricsSnapshot[]>;
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
          prep: { channels, height, width, mean: preprocessing.mean, std: preprocessing.std },
          maxPixels,
        })
      : null;
  const predict = createPredictor({ classifier, preprocessing, maxPixels, defaultTop, pool, inlinePixels, hold });
  let closing = false;
  // Image bodies take the raw node:http route (raw-predict.ts); fastify answers everything else.
  const raw = rawPredictRoute(predict, metrics, bodyLimit, () => !closing);
  const app = Fastify({
    bodyLimit,
    logger: false,
    return503OnClosing: true,
    serverFactory: (handler, opts) => {
      const server = http.createServer(opts.http ?? {}, (req, res) => {
        // While stopping, a keep-alive connection closes once its last request is answered; server.close() closes only
        // the connections idle when it is called, so the others would hold the drain open until keepAliveTimeout.
        res.once('finish', () => closing && server.closeIdleConnections());
        return raw(req, res) || handler(req, res);
      });
      // As fastify sets up the servers it makes itself.
      server.keepAliveTimeout = opts.keepAliveTimeout as number;
      server.requestTimeout = opts.requestTimeout as number;
      server.setTimeout(opts.connectionTimeout as number);
      return server;
    },
  });
  app.addContentTypeParser(['image/png', 'image/jpeg'], { parseAs: 'buffer', bodyLimit }, (_req, body, done) =>
    done(null, body),
  );

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { status, message, failure } = errorAnswer(err);
    if (failure) process.stderr.write(`error: ${err.message}\n`);
    if (status === 503) void reply.header('retry-after', '1');
    const text = err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? unsupportedType(req.headers['content-type']) : message;
    void reply.code(status).send({ error: text });
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
    const own = metrics.snapshot();
    return renderMetrics(options.metricsSnapshots ? await options.metricsSnapshots(own) : [own]);
  });
  app.post('/predict', { schema: { response: PREDICT_RESPONSE } }, async (req) => {
    metrics.requestStarted();
    try {
      const type = mediaType(req.headers['content-type']);
      if (type === null) throw new RequestError(415, unsupportedType(req.headers['content-type']));
      return { top: await predict(type, req.body, (req.query ?? {}) as Record<string, unknown>) };
    } finally {
      metrics.requestDone();
    }
  });

  return {
    app,
    metrics,
    close: async () => {
      closing = true;
      releaseHold();
      await app.close(); // waits for the requests in flight, and so for their decodes
      await pool?.close();
    },
  };
}
