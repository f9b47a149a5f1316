// SPDX-License-Identifier: MIT
// POST /predict with an image body on plain node:http, ahead of fastify: the body read into one buffer under the size
// limit, the prediction (predictor.ts), and the answer written with pre-built headers. Under load the per-request cost
// of fastify's request/reply objects, hooks, content-type parsing and schema serialiser was most of the event loop's
// work for a small model (docs/serving.md, "HTTP results"). Anything else (JSON bodies, other routes, requests while
// the server stops) goes to fastify, so its answers there are unchanged.
import type { IncomingMessage, ServerResponse } from 'http';
import { parse as parseQuery } from 'querystring';
import type { ServeMetrics } from './metrics';
import { answerJson, errorAnswer, mediaType, type Predictor } from './predictor';

/** The message fastify gives for the same error (FST_ERR_CTP_BODY_TOO_LARGE). */
const TOO_LARGE = 'Request body is too large';
const JSON_TYPE = 'application/json; charset=utf-8';

/** A request handler that answers what it takes and returns true, or returns false and leaves the request alone. */
export type RawRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * The raw route of `POST /predict` for image/png and image/jpeg bodies while `serving()` is true: the same answers,
 * errors and metrics as the fastify route.
 *
 * @example
 * const route = rawPredictRoute(predict, metrics, 4 << 20, () => !closing);
 * http.createServer((req, res) => route(req, res) || fastifyHandler(req, res));
 */
export function rawPredictRoute(
  predict: Predictor,
  metrics: ServeMetrics,
  bodyLimit: number,
  serving: () => boolean,
): RawRoute {
  const answer = (res: ServerResponse, started: number, status: number, text: string, retry = false): void => {
    if (res.headersSent || res.destroyed) return;
    // A flat [name, value, ...] list: node stores it without walking an object's keys.
    const length = String(Buffer.byteLength(text));
    const headers = ['content-type', JSON_TYPE, 'content-length', length];
    if (retry) headers.push('retry-after', '1');
    res.writeHead(status, headers).end(text);
    metrics.requestFinished(status, (performance.now() - started) / 1000);
  };
  const fail = (res: ServerResponse, started: number, err: { statusCode?: number; message: string }): void => {
    const { status, message, failure } = errorAnswer(err);
    if (failure) process.stderr.write(`error: ${err.message}\n`);
    answer(res, started, status, JSON.stringify({ error: message }), status === 503);
  };

  return (req, res) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if (req.method !== 'POST' || (q < 0 ? url : url.slice(0, q)) !== '/predict' || !serving()) return false;
    const type = mediaType(req.headers['content-type']);
    if (type !== 'image/png' && type !== 'image/jpeg') return false;
    const started = performance.now();
    if (Number(req.headers['content-length']) > bodyLimit) {
      fail(res, started, { statusCode: 413, message: TOO_LARGE });
      return true;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received <= bodyLimit) chunks.push(chunk);
      else {
        stop();
        fail(res, started, { statusCode: 413, message: TOO_LARGE });
      }
    };
    const onEnd = (err?: Error): void => {
      stop();
      if (err) return fail(res, started, { statusCode: 400, message: err.message });
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
      metrics.requestStarted();
      predict(type, body, q < 0 ? {} : parseQuery(url.slice(q + 1))).then(
        (top) => {
          metrics.requestDone();
          answer(res, started, 200, answerJson(top));
        },
        (e: Error) => {
          metrics.requestDone();
          fail(res, started, e);
        },
      );
    };
    const stop = (): void => {
      req.off('data', onData).off('end', onEnd).off('error', onEnd);
    };
    req.on('data', onData).on('end', onEnd).on('error', onEnd);
    return true;
  };
}
