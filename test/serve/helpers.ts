// SPDX-License-Identifier: MIT
// Test helpers for the server: one HTTP request to a server on 127.0.0.1 (a fresh connection each time unless given an
// agent), PNG bodies, a LeNet classifier and the answer a lone predict() gives.
import * as http from 'http';
import { PNG } from 'pngjs';
import type { Classifier } from '../../lib/cli/classifier';
import { datasetPreprocessing, topK } from '../../lib/cli/predict';
import { LeNet } from '../../lib/modules/lenet';
import { Tensor } from '../../lib/tensor/tensor';

export const prep = datasetPreprocessing('cifar10', 3, 10);

export function lenetClassifier(): Classifier {
  return {
    name: 'LeNet',
    model: new LeNet(),
    channels: 3,
    height: 32,
    width: 32,
    numClasses: 10,
    dataset: 'cifar10',
    metadata: {},
  };
}

/** The answer a lone predict() gives for an input. */
export function expectedTop(
  model: LeNet,
  input: Float32Array,
  k: number,
): { label: string; index: number; probability: number }[] {
  const logits = model.predict(new Tensor(input, [1, 3, 32, 32]));
  return topK(logits.data, k).map(({ index, probability }) => ({
    label: (prep.classes as readonly string[])[index],
    index,
    probability,
  }));
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Sends `body` with `type` as its Content-Type (none when empty) and resolves to the whole answer. Without an `agent`
 * each request has its own connection (closed after the answer).
 */
export function request(
  port: number,
  method: string,
  path: string,
  type = '',
  body: string | Buffer = '',
  agent: http.Agent | false = false,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'content-length': Buffer.byteLength(body) };
    if (type) headers['content-type'] = type;
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A w x h RGBA PNG with a deterministic pattern. */
export function pngImage(w: number, h: number, seed = 0): Buffer {
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h * 4; i++) png.data[i] = (i * 37 + seed * 101) % 256;
  return PNG.sync.write(png);
}
