// SPDX-License-Identifier: MIT
// The options of MNIST and FashionMNIST and their resolution (option, then environment variable, then default); no I/O.
import { describe } from '../check';
import { resolveDatasetOptions, type ResolvedDatasetOptions } from './dataset-options';
import { checkMd5 } from './download';

export interface MNISTOptions {
  /**
   * A folder holding the IDX files (train-images-idx3-ubyte[.gz] ...), or torchvision's root holding
   * MNIST/raw/ (FashionMNIST/raw/ for Fashion-MNIST), or a folder holding raw/. Default: the cache folder.
   */
  root?: string;
  /** Training split (train-*, 60,000 images) or test split (t10k-*, 10,000). Default true. */
  train?: boolean;
  /** Download the split's .gz files into the cache folder when root holds no data. Only `load` can do this. Default false. */
  download?: boolean;
  /** Normalise with the dataset's mean/std after x/255; false gives x/255 only. Default true. */
  normalize?: boolean;
  /** Where downloads go (in <cacheDir>/MNIST/raw/ or <cacheDir>/FashionMNIST/raw/). Default $SIMDNET_CACHE_DIR, else ~/.cache/simdnet. */
  cacheDir?: string;
  /** Base URL the .gz file names are appended to. Default $SIMDNET_MNIST_URL (or $SIMDNET_FASHION_MNIST_URL), else the torchvision mirror. */
  url?: string;
  /** Expected md5 per .gz file name, overriding the official ones (e.g. for a private mirror). */
  md5?: Readonly<Record<string, string>>;
  /** Download inactivity timeout. Default 60000 ms. */
  timeoutMs?: number;
  /** Download progress callback (bytes received, Content-Length if known, the file being fetched). */
  onProgress?: (received: number, total: number | undefined, file: string) => void;
}

/** What tells one MNIST-style dataset from another. */
export interface MnistSpec {
  /** Class name, used in messages ("MNIST", "FashionMNIST"). */
  name: string;
  /** torchvision's folder name under root (root/<folder>/raw/). */
  folder: string;
  classes: readonly string[];
  mean: number;
  std: number;
  /** Default base URL. */
  url: string;
  /** Environment variable overriding the base URL. */
  urlEnv: string;
  /** md5 of each .gz file. */
  md5: Readonly<Record<string, string>>;
}

export interface ResolvedMnistOptions extends ResolvedDatasetOptions<NonNullable<MNISTOptions['onProgress']>> {
  md5: Readonly<Record<string, string>>;
}

/** Applies defaults (option, then env var, then built-in) and validates types, naming the dataset and the option. */
export function resolveMnistOptions(spec: MnistSpec, options: MNISTOptions): ResolvedMnistOptions {
  const checked = resolveDatasetOptions(spec.name, options, { default: spec.url, env: spec.urlEnv });
  return { ...checked.resolved, md5: resolveMd5(spec, checked.options.md5) };
}

/** The official md5s with the given ones laid over; every key must be one of the four .gz names. */
function resolveMd5(spec: MnistSpec, md5: unknown): Readonly<Record<string, string>> {
  if (md5 === undefined) return spec.md5;
  if (md5 === null || typeof md5 !== 'object' || Array.isArray(md5)) {
    throw new TypeError(`${spec.name}: md5 must be an object of file name -> md5, got ${describe(md5)}`);
  }
  const out: Record<string, string> = { ...spec.md5 };
  for (const [file, sum] of Object.entries(md5)) {
    if (!Object.prototype.hasOwnProperty.call(spec.md5, file))
      throw new RangeError(`${spec.name}: md5 has unknown file "${file}" (known: ${Object.keys(spec.md5).join(', ')})`);
    out[file] = checkMd5(`${spec.name}: md5["${file}"]`, sum);
  }
  return out;
}
