// SPDX-License-Identifier: MIT
// CIFAR-10 binary records in memory: the format's constants and checks, the byte -> float conversion, and
// CIFAR10Bytes, a dataset over batch-file bytes (from fetch() in a browser). No Node built-ins: the browser
// bundle uses this file; cifar10.ts (files, download) builds on it.
import { describe } from '../check';
import { FileFormatError } from '../errors';
import { checkBatchArgs, checkIndex, type Dataset, type Sample } from './dataset';

/** Class names in label order (batches.meta.txt). */
export const CIFAR10_CLASSES: readonly string[] = Object.freeze([
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
]);
/** Per-channel (R, G, B) mean of the training set after x/255; torchvision's commonly used CIFAR-10 values. */
export const CIFAR10_MEAN: readonly number[] = Object.freeze([0.4914, 0.4822, 0.4465]);
/** Per-channel (R, G, B) standard deviation of the training set after x/255 (same source as CIFAR10_MEAN). */
export const CIFAR10_STD: readonly number[] = Object.freeze([0.247, 0.2435, 0.2616]);
/** One record: 1 label byte, then 1024 R, 1024 G and 1024 B bytes (32x32 planes, row-major). */
export const CIFAR10_RECORD_BYTES = 1 + 3 * 32 * 32;
export const CIFAR10_PIXELS = 3 * 32 * 32;
/** Size of every official batch file (10,000 records); larger files or archive members are refused before reading. */
export const CIFAR10_BATCH_BYTES = 10_000 * CIFAR10_RECORD_BYTES;

/** Checks a batch file's size (from its directory entry, tar header or byte length) before a byte of it is read. */
export function checkCifar10Size(file: string, size: number): void {
  if (size === 0) throw new FileFormatError(file, 'empty batch file');
  if (size > CIFAR10_BATCH_BYTES) {
    throw new FileFormatError(
      file,
      `size ${size} bytes is more than a CIFAR-10 batch file holds (${CIFAR10_BATCH_BYTES} bytes, 10000 records): not a CIFAR-10 binary batch`,
    );
  }
  if (size % CIFAR10_RECORD_BYTES !== 0) {
    throw new FileFormatError(
      file,
      `size ${size} bytes is not a multiple of the ${CIFAR10_RECORD_BYTES}-byte record (1 label + 3072 pixels): truncated or not a CIFAR-10 binary batch`,
    );
  }
}

export function checkCifar10Labels(file: string, data: Uint8Array): void {
  for (let r = 0, off = 0; off < data.length; r++, off += CIFAR10_RECORD_BYTES) {
    if (data[off] > 9) throw new FileFormatError(file, `record ${r} has label ${data[off]}, expected 0..9`);
  }
}

/** Float value of every byte per channel, computed in double then rounded once to float32. */
export function cifar10Lut(normalize: boolean): Float32Array {
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = normalize ? (v / 255 - CIFAR10_MEAN[c]) / CIFAR10_STD[c] : v / 255;
  }
  return lut;
}

/** Writes record `index`'s pixels as floats (one lookup per pixel) at out[offset..] and returns its label. */
export function convertCifar10Record(
  records: Uint8Array,
  lut: Float32Array,
  index: number,
  out: Float32Array,
  offset: number,
): number {
  const base = index * CIFAR10_RECORD_BYTES;
  for (let c = 0; c < 3; c++) {
    const src = base + 1 + c * 1024;
    const dst = offset + c * 1024;
    const l = c * 256;
    for (let k = 0; k < 1024; k++) out[dst + k] = lut[l + records[src + k]];
  }
  return records[base];
}

export interface CIFAR10BytesOptions {
  /** Normalise with CIFAR10_MEAN / CIFAR10_STD (default true), else x/255. */
  normalize?: boolean;
  /** Names the data in errors (default "CIFAR-10 bytes"). */
  name?: string;
}

type Bytes = ArrayBuffer | Uint8Array;

/**
 * CIFAR-10 from the bytes of one or more binary batch files (e.g. `await (await fetch(url)).arrayBuffer()`),
 * for places without a file system. Same samples as `CIFAR10` on the same files.
 *
 * Shape: each sample [3, 32, 32] (CHW, channels R, G, B); label 0..9 indexes CIFAR10_CLASSES.
 *
 * @example
 * const train = new CIFAR10Bytes(await (await fetch('data_batch_1.bin')).arrayBuffer());
 */
export class CIFAR10Bytes implements Dataset {
  readonly length: number;
  readonly sampleShape: readonly number[] = Object.freeze([3, 32, 32]);
  readonly classes: readonly string[] = CIFAR10_CLASSES;
  readonly normalize: boolean;
  private readonly records: Uint8Array;
  private readonly lut: Float32Array;

  constructor(data: Bytes | readonly Bytes[], options: CIFAR10BytesOptions = {}) {
    const name = options.name ?? 'CIFAR-10 bytes';
    if (options.normalize !== undefined && typeof options.normalize !== 'boolean') {
      throw new TypeError(`CIFAR10Bytes: normalize must be a boolean, got ${describe(options.normalize)}`);
    }
    const parts = (Array.isArray(data) ? data : [data]).map((d, i) => {
      const bytes = d instanceof Uint8Array ? d : isArrayBuffer(d) ? new Uint8Array(d) : null;
      if (bytes === null) {
        throw new TypeError(
          `CIFAR10Bytes: data${Array.isArray(data) ? `[${i}]` : ''} must be an ArrayBuffer or Uint8Array, got ${describe(d)}`,
        );
      }
      checkCifar10Size(name, bytes.length);
      checkCifar10Labels(name, bytes);
      return bytes;
    });
    if (parts.length === 0) throw new TypeError('CIFAR10Bytes: data must hold at least one batch');
    this.records = parts.length === 1 ? parts[0] : concat(parts);
    this.length = this.records.length / CIFAR10_RECORD_BYTES;
    this.normalize = options.normalize ?? true;
    this.lut = cifar10Lut(this.normalize);
  }

  get(index: number): Sample {
    checkIndex('CIFAR10Bytes.get', index, this.length);
    const image = new Float32Array(CIFAR10_PIXELS);
    return { image, label: convertCifar10Record(this.records, this.lut, index, image, 0) };
  }

  getBatch(indices: ArrayLike<number>, images: Float32Array, labels: Int32Array): void {
    checkBatchArgs('CIFAR10Bytes.getBatch', this.length, CIFAR10_PIXELS, indices, images, labels);
    for (let b = 0; b < indices.length; b++) {
      labels[b] = convertCifar10Record(this.records, this.lut, indices[b], images, b * CIFAR10_PIXELS);
    }
  }

  toString(): string {
    return `CIFAR10Bytes(length=${this.length}, normalize=${this.normalize})`;
  }
}

function isArrayBuffer(v: unknown): v is ArrayBuffer {
  return Object.prototype.toString.call(v) === '[object ArrayBuffer]';
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
