// SPDX-License-Identifier: MIT
// One thread of DecodePool (decode-pool.ts): decodes and preprocesses image bodies with imageInput() and posts each
// model input back (its buffer transferred, not copied), or the request's error. Holds no state between tasks.
import { parentPort, workerData } from 'worker_threads';
import type { Preprocess } from '../data/image';
import { imageInput, RequestError } from './request-input';

/** What every task of one pool decodes to (sent once, as workerData). */
export interface DecodeSettings {
  prep: Preprocess;
  maxPixels: number;
}

/** One image body to decode; `body` is the worker's own copy (transferred). */
export interface DecodeTask {
  id: number;
  type: 'image/png' | 'image/jpeg';
  body: Uint8Array;
}

/** The answer to task `id`: the model input, or the HTTP status and message of its error. */
export type DecodeAnswer = { id: number; input: Float32Array } | { id: number; status: number; message: string };

const { prep, maxPixels } = workerData as DecodeSettings;
const port = parentPort;
if (port === null) throw new Error('decode-worker.ts runs inside a worker thread (DecodePool)');

port.on('message', ({ id, type, body }: DecodeTask) => {
  let answer: DecodeAnswer;
  try {
    const input = imageInput(Buffer.from(body.buffer, body.byteOffset, body.byteLength), type, prep, maxPixels);
    answer = { id, input };
  } catch (err) {
    const status = err instanceof RequestError ? err.statusCode : 500;
    answer = { id, status, message: err instanceof Error ? err.message : String(err) };
  }
  if ('input' in answer) {
    // preprocessImage returns a fresh array; copy in the odd case it is a view, so only its own bytes travel.
    const own = answer.input.byteLength === answer.input.buffer.byteLength ? answer.input : answer.input.slice();
    port.postMessage({ id, input: own }, [own.buffer as ArrayBuffer]);
  } else {
    port.postMessage(answer);
  }
});
