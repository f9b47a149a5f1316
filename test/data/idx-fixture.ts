// SPDX-License-Identifier: MIT
// Test helper: encodes IDX files and writes tiny MNIST-format splits (raw or .gz) with learnable synthetic digits.
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { Generator } from '../../lib/random';

/** The bytes of an unsigned-byte IDX file with these dimensions and values. */
export function encodeIdx(dims: readonly number[], data: ArrayLike<number>): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(0x0800 + dims.length, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(Uint8Array.from(data))]);
}

/** `count` 28x28 images; image r has label (first + r) % 10: a bright vertical bar at a column set by the label, over noise. */
export function tinyDigits(count: number, first = 0, seed = 1): { pixels: Uint8Array; labels: Uint8Array } {
  const rng = new Generator(seed);
  const pixels = new Uint8Array(count * 784);
  const labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const label = (first + r) % 10;
    labels[r] = label;
    for (let k = 0; k < 784; k++) {
      const col = k % 28;
      pixels[r * 784 + k] = col >= 3 + 2 * label && col < 5 + 2 * label ? 200 + rng.randint(56) : rng.randint(40);
    }
  }
  return { pixels, labels };
}

export interface TinyMnistOptions {
  /** Training images. Default 12. */
  train?: number;
  /** Test images. Default 6. */
  test?: number;
  /** Write .gz files instead of raw ones. Default false. */
  gzip?: boolean;
  seed?: number;
}

/** Writes the four IDX files of a tiny MNIST-format dataset into `dir` (created). Returns the data written. */
export function writeTinyMnist(
  dir: string,
  options: TinyMnistOptions = {},
): { train: ReturnType<typeof tinyDigits>; test: ReturnType<typeof tinyDigits> } {
  fs.mkdirSync(dir, { recursive: true });
  const seed = options.seed ?? 1;
  const train = tinyDigits(options.train ?? 12, 0, seed);
  const test = tinyDigits(options.test ?? 6, 3, seed + 1);
  const write = (name: string, bytes: Buffer) => {
    if (options.gzip) fs.writeFileSync(path.join(dir, `${name}.gz`), zlib.gzipSync(bytes));
    else fs.writeFileSync(path.join(dir, name), bytes);
  };
  write('train-images-idx3-ubyte', encodeIdx([train.labels.length, 28, 28], train.pixels));
  write('train-labels-idx1-ubyte', encodeIdx([train.labels.length], train.labels));
  write('t10k-images-idx3-ubyte', encodeIdx([test.labels.length, 28, 28], test.pixels));
  write('t10k-labels-idx1-ubyte', encodeIdx([test.labels.length], test.labels));
  return { train, test };
}
