// SPDX-License-Identifier: MIT
// One thread of DecodePool (decode-pool.ts): decodes and preprocesses a batch of image bodies with imageInput() and
// posts all their model inputs back in one buffer (transferred, not copied), with the errors of the images that failed.
// Holds no state between batches.
import { parentPort, workerData } from 'worker_threads';
import { IMAGE_TYPES, type DecodeAnswer, type DecodeBatch, type DecodeSettings } from './decode-messages';
import { imageInput, RequestError } from './request-input';

const { prep, maxPixels } = workerData as DecodeSettings;
const port = parentPort;
if (port === null) throw new Error('decode-worker.ts runs inside a worker thread (DecodePool)');
const size = prep.channels * prep.height * prep.width;

port.on('message', ({ ids, types, ends, bytes }: DecodeBatch) => {
  const inputs = new Float32Array(ids.length * size);
  const errors: DecodeAnswer['errors'] = [];
  for (let i = 0, start = 0; i < ids.length; start = ends[i++]) {
    try {
      const body = Buffer.from(bytes.buffer, bytes.byteOffset + start, ends[i] - start);
      // Decoded straight into its place where it can be (a plain PNG of the model's size).
      const slot = inputs.subarray(i * size, (i + 1) * size);
      const input = imageInput(body, IMAGE_TYPES[types[i]], prep, maxPixels, undefined, slot);
      if (input !== slot) slot.set(input);
    } catch (err) {
      const status = err instanceof RequestError ? err.statusCode : 500;
      errors.push({ index: i, status, message: err instanceof Error ? err.message : String(err) });
    }
  }
  const answer: DecodeAnswer = { ids, inputs, errors };
  port.postMessage(answer, [inputs.buffer]);
});
