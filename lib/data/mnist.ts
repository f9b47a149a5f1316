// SPDX-License-Identifier: MIT
// The MNIST and Fashion-MNIST datasets (uint8 pixels in memory, float conversion per batch) and their async loader with download.
// IDX parsing lives in idx.ts, file finding in mnist-files.ts, HTTP in download.ts.
import * as path from 'node:path';
import { FileFormatError } from '../errors';
import { checkBatchArgs, checkIndex, type Dataset, type Sample } from './dataset';
import { downloadFile, fileMd5, parseHttpUrl } from './download';
import { describeSearch, isFile, locateIdxSplit, MNIST_FILE_NAMES, readIdxSplit } from './mnist-files';
import { resolveMnistOptions, type MnistSpec, type MNISTOptions } from './mnist-options';

export type { MNISTOptions } from './mnist-options';

export const MNIST_CLASSES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
/** torchvision's FashionMNIST.classes (the labels listed in zalandoresearch/fashion-mnist's README). */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);
/**
 * Mean and standard deviation of the 60,000 training images' pixels after x/255, as everyone uses them:
 * `Normalize((0.1307,), (0.3081,))` in pytorch/examples mnist/main.py (exact values 0.13066, 0.30811).
 */
export const MNIST_MEAN: readonly number[] = Object.freeze([0.1307]);
export const MNIST_STD: readonly number[] = Object.freeze([0.3081]);
/** Same statistics for Fashion-MNIST's training images (computed from the IDX files: 0.286041, 0.353024). */
export const FASHION_MNIST_MEAN: readonly number[] = Object.freeze([0.286]);
export const FASHION_MNIST_STD: readonly number[] = Object.freeze([0.353]);
/** torchvision's MNIST mirror (base URL: the .gz file names are appended). */
export const MNIST_URL = 'https://ossci-datasets.s3.amazonaws.com/mnist/';
/** torchvision's Fashion-MNIST mirror (base URL). */
export const FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';
/** md5 of each downloaded .gz file (torchvision's MNIST.resources). */
export const MNIST_MD5: Readonly<Record<string, string>> = Object.freeze({
  'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
  'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
  't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
  't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
});
/** md5 of each downloaded .gz file (torchvision's FashionMNIST.resources, also in the dataset's README). */
export const FASHION_MNIST_MD5: Readonly<Record<string, string>> = Object.freeze({
  'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
  'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
  't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
  't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
});

/** Bytes of each official .gz file by its md5 (MNIST_MD5, FASHION_MNIST_MD5): a download is cut there. */
const OFFICIAL_BYTES: Readonly<Record<string, number>> = Object.freeze({
  f68b3c2dcbeaaa9fbdd348bbdeb94873: 9_912_422,
  d53e105ee54ea40749a09fcbcd1e9432: 28_881,
  '9fb629c4189551a2d022fa330f9573f3': 1_648_877,
  ec29112dd5afa0611ce80d1b7f02629c: 4_542,
  '8d4fb7e6c68d591d4c3dfef9ec88bf0d': 26_421_880,
  '25c81989df183df01b3e8a0aad5dffbe': 29_515,
  bef4ecab320f06d8554ea6380940ec79: 4_422_102,
  bb300cfdad3c16e7a12a480ee83cd310: 5_148,
});

const PIXELS = 28 * 28;

/**
 * MNIST handwritten digits from the IDX files (raw or .gz). Pixels stay uint8 in memory (47 MB for the
 * training split) and become floats per sample/batch: x/255, then (x - MNIST_MEAN) / MNIST_STD unless
 * normalize is false. FashionMNIST is the same class with other files, classes and statistics.
 *
 * Two ways in, as for CIFAR10: `await MNIST.load(options)` always works (and is the only one that
 * downloads); `new MNIST(options)` reads local files synchronously and refuses `download: true`.
 *
 * Options: root (a folder holding the IDX files, or torchvision's root with MNIST/raw/; default the cache
 * folder), train = true, download = false, normalize = true, cacheDir, url (base URL), md5 (per file),
 * timeoutMs, onProgress. Shape: each sample [1, 28, 28]; label 0..9 indexes `classes`.
 *
 * @example
 * const train = await MNIST.load({ root: 'data', download: true });
 * const test = await MNIST.load({ root: 'data', train: false });
 */
export class MNIST implements Dataset {
  /** What tells this dataset from its drop-in replacements (files, classes, statistics, mirror). */
  protected static readonly spec: MnistSpec = {
    name: 'MNIST',
    folder: 'MNIST',
    classes: MNIST_CLASSES,
    mean: MNIST_MEAN[0],
    std: MNIST_STD[0],
    url: MNIST_URL,
    urlEnv: 'SIMDNET_MNIST_URL',
    md5: MNIST_MD5,
  };
  readonly length: number;
  readonly sampleShape: readonly number[] = Object.freeze([1, 28, 28]);
  readonly classes: readonly string[];
  readonly train: boolean;
  readonly normalize: boolean;
  /** The images and labels files read. */
  readonly files: readonly string[];
  private readonly pixels: Uint8Array;
  private readonly labels: Uint8Array;
  /** lut[v] = float value of byte v, so conversion is one lookup per pixel. */
  private readonly lut: Float32Array;

  /** Reads local files synchronously. Use `MNIST.load` to download. */
  constructor(options: MNISTOptions = {}) {
    const spec = (new.target as typeof MNIST).spec;
    const o = resolveMnistOptions(spec, options);
    if (o.download) {
      throw new TypeError(
        `${spec.name}: download needs the async factory: use \`await ${spec.name}.load({ ..., download: true })\``,
      );
    }
    if (isFile(o.root)) {
      throw new FileFormatError(o.root, `expected a folder holding the IDX files (or torchvision's root), not a file`);
    }
    const found = locateIdxSplit(o.root, spec.folder, o.train);
    if (found === null) {
      throw new FileFormatError(
        o.root,
        `no ${spec.name} ${o.train ? 'training' : 'test'} data found (${describeSearch(o.root, spec.folder, o.train)}); pass download: true to ${spec.name}.load to fetch it`,
      );
    }
    const split = readIdxSplit(found, spec.classes.length);
    this.pixels = split.pixels;
    this.labels = split.labels;
    this.length = split.count;
    this.files = Object.freeze(split.files);
    this.classes = spec.classes;
    this.train = o.train;
    this.normalize = o.normalize;
    this.lut = Float32Array.from({ length: 256 }, (_, v) => (o.normalize ? (v / 255 - spec.mean) / spec.std : v / 255));
  }

  /**
   * Loads the dataset, first downloading the split's two .gz files into `cacheDir/<MNIST|FashionMNIST>/raw/`
   * (torchvision's layout) when `download` is true and root holds no data for the split. Cached files are
   * reused after their md5 is checked again (a bad one is fetched again). Called on FashionMNIST, gives FashionMNIST.
   */
  static async load<T extends MNIST>(this: new (options?: MNISTOptions) => T, options: MNISTOptions = {}): Promise<T> {
    const spec = (this as unknown as typeof MNIST).spec;
    const o = resolveMnistOptions(spec, options);
    if (!o.download) return new this({ ...options, download: false });
    const cached = path.join(o.cacheDir, spec.folder, 'raw');
    const found = locateIdxSplit(o.root, spec.folder, o.train);
    // Data under root is used as is; only our own cached download is md5-checked (root defaults to the cache folder).
    if (found !== null && found.dir !== cached) return new this({ ...options, download: false });
    const names = o.train ? MNIST_FILE_NAMES.train : MNIST_FILE_NAMES.test;
    for (const name of [names.images, names.labels]) {
      const file = `${name}.gz`;
      const dest = path.join(cached, file);
      const md5 = o.md5[file];
      if (
        await fileMd5(dest).then(
          (m) => m === md5,
          () => false,
        )
      )
        continue;
      // The URL (maybe from an env var) is only checked when a file must be fetched.
      parseHttpUrl(o.urlSource, o.url);
      const base = o.url.endsWith('/') ? o.url : `${o.url}/`;
      const onProgress =
        o.onProgress === undefined
          ? undefined
          : (received: number, total: number | undefined) => o.onProgress?.(received, total, file);
      const size = Object.prototype.hasOwnProperty.call(OFFICIAL_BYTES, md5) ? OFFICIAL_BYTES[md5] : undefined;
      await downloadFile(new URL(file, base).href, dest, { md5, size, timeoutMs: o.timeoutMs, onProgress });
    }
    return new this({ ...options, root: cached, download: false });
  }

  /** Sample `index` as a new Float32Array of 28*28 floats. */
  get(index: number): Sample {
    checkIndex(`${this.constructor.name}.get`, index, this.length);
    const image = new Float32Array(PIXELS);
    return { image, label: this.convert(index, image, 0) };
  }

  getBatch(indices: ArrayLike<number>, images: Float32Array, labels: Int32Array): void {
    checkBatchArgs(`${this.constructor.name}.getBatch`, this.length, PIXELS, indices, images, labels);
    for (let b = 0; b < indices.length; b++) labels[b] = this.convert(indices[b], images, b * PIXELS);
  }

  /** Writes image `index` as floats at out[offset..] and returns its label. */
  private convert(index: number, out: Float32Array, offset: number): number {
    const px = this.pixels;
    const lut = this.lut;
    const base = index * PIXELS;
    for (let k = 0; k < PIXELS; k++) out[offset + k] = lut[px[base + k]];
    return this.labels[index];
  }

  toString(): string {
    return `${this.constructor.name}(${this.train ? 'train' : 'test'}, length=${this.length}, normalize=${this.normalize})`;
  }
}

/**
 * Fashion-MNIST (Zalando's 28x28 grey clothing images, 10 classes), a drop-in replacement for MNIST with the
 * same files and layout (torchvision's root/FashionMNIST/raw/). Normalised with FASHION_MNIST_MEAN/STD.
 * Options and behaviour as MNIST; the download URL comes from `url`, $SIMDNET_FASHION_MNIST_URL or FASHION_MNIST_URL.
 *
 * @example
 * const train = await FashionMNIST.load({ root: '/usr/share/datasets/fashion-mnist' });
 * train.classes[9]; // 'Ankle boot'
 */
export class FashionMNIST extends MNIST {
  protected static override readonly spec: MnistSpec = {
    name: 'FashionMNIST',
    folder: 'FashionMNIST',
    classes: FASHION_MNIST_CLASSES,
    mean: FASHION_MNIST_MEAN[0],
    std: FASHION_MNIST_STD[0],
    url: FASHION_MNIST_URL,
    urlEnv: 'SIMDNET_FASHION_MNIST_URL',
    md5: FASHION_MNIST_MD5,
  };
}
