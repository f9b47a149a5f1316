// SPDX-License-Identifier: MIT
// The work of POST /predict apart from HTTP: a body of a known media type and the ?top query to the answer's classes,
// the answer as JSON text, and an error as the status and message a client gets. Both routes to it share this file:
// fastify's (JSON bodies, server.ts) and the raw node:http path for image bodies (raw-predict.ts).
import type { Classifier } from '../cli/classifier';
import { topK, type DatasetPreprocessing } from '../cli/predict';
import { Module } from '../modules/module';
import { Tensor } from '../tensor/tensor';
import type { DecodePool } from './decode-pool';
import { imageHeader, imageInput, jsonInput, RequestError } from './request-input';

export type MediaType = 'application/json' | 'image/png' | 'image/jpeg';

/** One class of an answer, most probable first. */
export interface TopClass {
  label: string;
  index: number;
  probability: number;
}

/** What predict() needs beyond the body: the model, its preprocessing and the server's limits. */
export interface PredictorOptions {
  classifier: Classifier;
  preprocessing: DatasetPreprocessing;
  maxPixels: number;
  /** Classes in an answer unless ?top=k (at most the class count). */
  defaultTop: number;
  /** Decoding threads for images over inlinePixels; null decodes every image on the calling thread. */
  pool: DecodePool | null;
  inlinePixels: number;
  /** Resolved before each prediction (the test hook that holds requests in flight). */
  hold: Promise<void> | null;
}

/** A body's answer: `predict(type, body, query)` resolves to the top classes or rejects with a RequestError (4xx/503). */
export type Predictor = (type: MediaType, body: unknown, query: Record<string, unknown>) => Promise<TopClass[]>;

/**
 * The prediction behind POST /predict: ?top=k checked, the body turned into the model input (imageInput, or the decode
 * pool for images larger than `inlinePixels`; jsonInput for JSON), one predictAsync() call, softmax top k with labels.
 *
 * @example
 * const predict = createPredictor({ classifier, preprocessing, maxPixels, defaultTop: 5, pool: null, inlinePixels: 0, hold: null });
 * const top = await predict('image/png', body, { top: '3' });
 */
export function createPredictor(options: PredictorOptions): Predictor {
  const { classifier, preprocessing, maxPixels, defaultTop, pool, inlinePixels, hold } = options;
  const { model, channels, height, width, numClasses } = classifier;
  const prep = { channels: channels as 1 | 3, height, width, mean: preprocessing.mean, std: preprocessing.std };
  const labels = Array.from({ length: numClasses }, (_, i) => preprocessing.classes?.[i] ?? `class ${i}`);
  // predictAsync() of a built-in model copies its input at the call (predict-batcher.ts), so an image decoded on this
  // thread can go through one array kept for it. Another predictAsync() may keep the array (the onnxruntime server of
  // bench/ reads it later): it gets a new one per request.
  const scratch =
    model.predictAsync === Module.prototype.predictAsync ? new Float32Array(channels * height * width) : undefined;
  const decode = (body: Buffer, type: 'image/png' | 'image/jpeg'): Float32Array | Promise<Float32Array> => {
    checkImageModel(prep);
    if (pool === null) return imageInput(body, type, prep, maxPixels, undefined, scratch);
    const header = imageHeader(body, type);
    if (header === null) return imageInput(body, type, prep, maxPixels); // gives the header's error
    if (header.width * header.height <= inlinePixels) return imageInput(body, type, prep, maxPixels, header, scratch);
    return pool.decode(body, type);
  };
  const shape = [1, channels, height, width];
  const answer = (input: Float32Array, k: number): Promise<TopClass[]> =>
    model.predictAsync(new Tensor(input, shape)).then((logits) => topClasses(logits.data, k, labels));
  // Not an async function: an image decoded here goes to predictAsync() in the same turn (the scratch array is free
  // again when it returns), with one promise per request fewer. Errors still reject the promise, never throw.
  const run = (type: MediaType, body: unknown, query: Record<string, unknown>): Promise<TopClass[]> => {
    let k: number;
    let input: Float32Array | Promise<Float32Array>;
    try {
      k = topOf(query, defaultTop, numClasses);
      input = type === 'application/json' ? jsonInput(body, [channels, height, width]) : decode(body as Buffer, type);
      if (!(input instanceof Promise)) return answer(input, k);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return input.then((x) => answer(x, k));
  };
  return hold ? (type, body, query) => hold.then(() => run(type, body, query)) : run;
}

/** topK(logits, k) with each class's label. */
export function topClasses(logits: ArrayLike<number>, k: number, labels: readonly string[]): TopClass[] {
  return topK(logits, k).map(({ index, probability }) => ({ label: labels[index], index, probability }));
}

/** Labels as JSON strings, escaped once (a model has a few labels; the cap bounds odd callers). */
const LABEL_JSON = new Map<string, string>();
const MAX_LABEL_JSON = 4096;

/**
 * The answer's JSON text, as JSON.stringify({ top }) writes it, built from its parts (the hot path has no generic
 * object walk). Labels are escaped by JSON.stringify, once per label; numbers as JSON writes them (a non-finite one as
 * null).
 */
export function answerJson(top: readonly TopClass[]): string {
  let out = '{"top":[';
  for (let i = 0; i < top.length; i++) {
    const { label, index, probability } = top[i];
    let name = LABEL_JSON.get(label);
    if (name === undefined) {
      name = JSON.stringify(label);
      if (LABEL_JSON.size < MAX_LABEL_JSON) LABEL_JSON.set(label, name);
    }
    if (i > 0) out += ',';
    out += `{"label":${name},"index":${index},"probability":${Number.isFinite(probability) ? probability : 'null'}}`;
  }
  return `${out}]}`;
}

/**
 * The status and message a failed request gets: a RequestError's or another 4xx/5xx error's own (client errors and
 * refusals, answered as they are), else a 500 "prediction failed" that the server also logs (`failure`).
 */
export function errorAnswer(err: { statusCode?: number; message: string }): {
  status: number;
  message: string;
  failure: boolean;
} {
  const s = err.statusCode;
  const status = s !== undefined && s >= 400 && s < 600 ? s : 500;
  // Client errors and refusals (a full decode queue's 503) are answered as they are; anything else is a failure.
  const failure = status >= 500 && !(err instanceof RequestError);
  return { status, message: failure ? `prediction failed: ${err.message}` : err.message, failure };
}

/** A Content-Type header's media type, lower case without parameters, or null for any but the three /predict takes. */
export function mediaType(header: string | undefined): MediaType | null {
  if (header === 'image/png' || header === 'image/jpeg' || header === 'application/json') return header; // as sent
  const type = (header ?? '').split(';')[0].trim().toLowerCase();
  return type === 'image/png' || type === 'image/jpeg' || type === 'application/json' ? type : null;
}

export function unsupportedType(header: string | undefined): string {
  const what = header === undefined ? 'no Content-Type' : `unsupported Content-Type "${header}"`;
  return `${what}: send image/png, image/jpeg or application/json`;
}

/** ?top=k: an integer from 1 to the class count. */
function topOf(query: Record<string, unknown>, fallback: number, classes: number): number {
  const raw = query.top;
  if (raw === undefined) return fallback;
  const k = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || k < 1 || k > classes)
    throw new RequestError(400, `?top must be an integer from 1 to ${classes}, got ${JSON.stringify(raw)}`);
  return k;
}

/** Images go to 1- or 3-channel models only (as in `simdnet predict`). */
function checkImageModel(prep: { channels: number; height: number; width: number }): void {
  if (prep.channels !== 1 && prep.channels !== 3) {
    throw new RequestError(
      415,
      `this model takes ${prep.channels}x${prep.height}x${prep.width} inputs, not images: send application/json`,
    );
  }
}
