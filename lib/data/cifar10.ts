// SPDX-License-Identifier: MIT
// The CIFAR-10 dataset (raw uint8 records in memory, float conversion per batch) and its async loader with download.
// File finding/parsing lives in cifar10-files.ts, records and their conversion in cifar10-records.ts, HTTP in download.ts.
import * as path from 'node:path';
import { FileFormatError } from '../errors';
import { checkBatchArgs, checkIndex, type Dataset, type Sample } from './dataset';
import { CIFAR10_ARCHIVE, locateCifar10, readCifar10 } from './cifar10-files';
import { CIFAR10_CLASSES, CIFAR10_PIXELS as PIXELS, cifar10Lut, convertCifar10Record } from './cifar10-records';
import { resolveDatasetOptions, type ResolvedDatasetOptions } from './dataset-options';
import { checkMd5, downloadFile, fileMd5, parseHttpUrl } from './download';

export { CIFAR10_CLASSES, CIFAR10_MEAN, CIFAR10_STD } from './cifar10-records';
export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
/** Bytes of the official archive (the one CIFAR10_MD5 checks): a download is cut there. */
export const CIFAR10_BYTES = 170_052_171;

export interface CIFAR10Options {
  /** A folder holding cifar-10-batches-bin/, that folder itself, the .tar.gz, or a folder holding it. Default: the cache folder. */
  root?: string;
  /** Training split (data_batch_1..5.bin) or test split (test_batch.bin). Default true. */
  train?: boolean;
  /** Download the archive into the cache folder when root holds no data. Only CIFAR10.load can do this. Default false. */
  download?: boolean;
  /** Normalise each channel with CIFAR10_MEAN/CIFAR10_STD after x/255; false gives x/255 only. Default true. */
  normalize?: boolean;
  /** Where downloads go. Default $SIMDNET_CACHE_DIR, else ~/.cache/simdnet. */
  cacheDir?: string;
  /** Archive URL. Default $SIMDNET_CIFAR10_URL, else CIFAR10_URL. */
  url?: string;
  /** Expected md5 of the archive, checked on download and on reuse of the cached file. Default CIFAR10_MD5. */
  md5?: string;
  /** Download inactivity timeout. Default 60000 ms. */
  timeoutMs?: number;
  /** Download progress callback (bytes received, Content-Length if known). */
  onProgress?: (received: number, total: number | undefined) => void;
}

/**
 * CIFAR-10 from the official binary version. Pixels stay uint8 in memory (about 154 MB for the
 * training split) and become floats per sample/batch: x/255, then (x - mean[c]) / std[c] unless normalize is false.
 *
 * Two ways in, one rule: `await CIFAR10.load(options)` always works (and is the only one that downloads);
 * `new CIFAR10(options)` reads local data synchronously and throws a TypeError if given `download: true`.
 *
 * Options: root (cache folder), train = true, download = false, normalize = true, cacheDir, url, md5, timeoutMs, onProgress.
 * Shape: each sample [3, 32, 32] (CHW, channels R, G, B); label 0..9 indexes CIFAR10_CLASSES.
 *
 * @example
 * const train = await CIFAR10.load({ root: 'data', download: true });
 * const test = await CIFAR10.load({ root: 'data', train: false });
 */
export class CIFAR10 implements Dataset {
  readonly length: number;
  readonly sampleShape: readonly number[] = Object.freeze([3, 32, 32]);
  readonly classes: readonly string[] = CIFAR10_CLASSES;
  readonly train: boolean;
  readonly normalize: boolean;
  /** The batch files read, in order (archive members as "archive.tar.gz:member"). */
  readonly files: readonly string[];
  private readonly records: Uint8Array;
  /** lut[c*256 + v] = float value of byte v in channel c, so conversion is one lookup per pixel. */
  private readonly lut: Float32Array;

  /** Reads local data synchronously. Use `CIFAR10.load` to download. */
  constructor(options: CIFAR10Options = {}) {
    const o = resolveOptions(options);
    if (o.download) {
      throw new TypeError(
        'CIFAR10: download needs the async factory: use `await CIFAR10.load({ ..., download: true })`',
      );
    }
    const source = locateCifar10(o.root);
    if (source === null) {
      throw new FileFormatError(
        o.root,
        `no CIFAR-10 data found (looked for ${CIFAR10_ARCHIVE}, cifar-10-batches-bin/ or data_batch_*.bin / test_batch.bin); ` +
          'pass download: true to CIFAR10.load to fetch it',
      );
    }
    const { records, count, files } = readCifar10(source, o.train);
    this.records = records;
    this.length = count;
    this.files = Object.freeze(files);
    this.train = o.train;
    this.normalize = o.normalize;
    this.lut = cifar10Lut(o.normalize);
  }

  /**
   * Loads CIFAR-10, first downloading the archive into the cache folder when `download` is true and root
   * holds no data. The cached archive is reused on later calls after its md5 is checked again (a bad one is re-fetched).
   */
  static async load(options: CIFAR10Options = {}): Promise<CIFAR10> {
    const o = resolveOptions(options);
    const cached = path.join(o.cacheDir, CIFAR10_ARCHIVE);
    const source = locateCifar10(o.root);
    // Data under root is used as is; only our own cached download is md5-checked (root defaults to the cache folder).
    if (!o.download || (source !== null && source.path !== cached)) return new CIFAR10({ ...options, download: false });
    parseHttpUrl(o.urlSource, o.url);
    const ok = await fileMd5(cached).then(
      (m) => m === o.md5,
      () => false,
    );
    if (!ok) {
      // The official archive's size caps the body; another md5 means another file, whose size we do not know.
      const size = o.md5 === CIFAR10_MD5 ? CIFAR10_BYTES : undefined;
      await downloadFile(o.url, cached, { md5: o.md5, size, timeoutMs: o.timeoutMs, onProgress: o.onProgress });
    }
    return new CIFAR10({ ...options, root: cached, download: false });
  }

  /** Sample `index` as a new Float32Array of 3*32*32 floats. */
  get(index: number): Sample {
    checkIndex('CIFAR10.get', index, this.length);
    const image = new Float32Array(PIXELS);
    return { image, label: this.convert(index, image, 0) };
  }

  getBatch(indices: ArrayLike<number>, images: Float32Array, labels: Int32Array): void {
    checkBatchArgs('CIFAR10.getBatch', this.length, PIXELS, indices, images, labels);
    for (let b = 0; b < indices.length; b++) labels[b] = this.convert(indices[b], images, b * PIXELS);
  }

  /** Writes record `index`'s pixels as floats at out[offset..] and returns its label. */
  private convert(index: number, out: Float32Array, offset: number): number {
    return convertCifar10Record(this.records, this.lut, index, out, offset);
  }

  toString(): string {
    return `CIFAR10(${this.train ? 'train' : 'test'}, length=${this.length}, normalize=${this.normalize})`;
  }
}

/** Applies defaults (option, then env var, then built-in) and validates types, naming the option. */
function resolveOptions(options: CIFAR10Options): ResolvedDatasetOptions<NonNullable<CIFAR10Options['onProgress']>> & {
  md5: string;
} {
  const checked = resolveDatasetOptions('CIFAR10', options, { default: CIFAR10_URL, env: 'SIMDNET_CIFAR10_URL' });
  return { ...checked.resolved, md5: checkMd5('CIFAR10: md5', checked.options.md5 ?? CIFAR10_MD5) };
}
