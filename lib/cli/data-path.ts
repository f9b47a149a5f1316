// SPDX-License-Identifier: MIT
// CLI dataset choice (--dataset), path checks (--data, --weights, --out) and dataset loading for commands, incl. the --limit subset; no training.
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CIFAR10 } from '../data/cifar10';
import { DownloadError } from '../data/download';
import { CIFAR10_ARCHIVE, CIFAR10_FOLDER, locateCifar10 } from '../data/cifar10-files';
import { checkBatchArgs, checkIndex, type Dataset, type Sample } from '../data/dataset';
import { FASHION_MNIST_MD5, FashionMNIST, MNIST, MNIST_MD5 } from '../data/mnist';
import { describeSearch, locateIdxSplit, type IdxSplitFiles } from '../data/mnist-files';
import { IMAGE_FOLDER_SHAPE, ImageFolder, imageFolderClasses } from '../data/image-folder';
import { Generator } from '../random';
import { shapeSize } from '../tensor/shape';
import { println, UsageError, type CliStream } from './io';

/** The datasets `--dataset` accepts: three built in, and "folder" (an ImageFolder of the user's images). */
export const DATASET_NAMES = ['cifar10', 'mnist', 'fashion-mnist', 'folder'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];
/** The datasets whose shape and classes are known before any file is read. */
export type BuiltinDatasetName = Exclude<DatasetName, 'folder'>;

/** What a command needs to know of a dataset before loading it. */
export interface DatasetInfo {
  /** Name for people ("Fashion-MNIST"). */
  title: string;
  /** [C, H, W]. */
  sampleShape: readonly [number, number, number];
  numClasses: number;
  /** torchvision's folder name (root/<folder>/raw/) for the IDX datasets. */
  folder?: string;
}

export const DATASETS: Readonly<Record<BuiltinDatasetName, DatasetInfo>> = Object.freeze({
  cifar10: { title: 'CIFAR-10', sampleShape: [3, 32, 32], numClasses: 10 },
  mnist: { title: 'MNIST', sampleShape: [1, 28, 28], numClasses: 10, folder: 'MNIST' },
  'fashion-mnist': { title: 'Fashion-MNIST', sampleShape: [1, 28, 28], numClasses: 10, folder: 'FashionMNIST' },
});

/** Metadata key of a weights file naming the dataset it was trained on (a DatasetName), so `eval` can default to it. */
export const DATASET_KEY = 'simdnet.dataset';
/** Metadata key of a weights file trained on an image folder: its class names as a JSON array, for `predict`. */
export const CLASSES_KEY = 'simdnet.classes';

/** The --help text of --data. */
export const DATA_HELP =
  'where the data is: for cifar10 a folder holding cifar-10-batches-bin/, that folder, or cifar-10-binary.tar.gz; ' +
  "for mnist and fashion-mnist the folder holding the four IDX files (raw or .gz), or torchvision's root (with MNIST/raw/ or FashionMNIST/raw/); " +
  'for folder a folder of class subfolders of PNG/JPEG images, or one holding train/ and val/ (or test/) such folders';

/** True when `value` is one of DATASET_NAMES. */
export function isDatasetName(value: unknown): value is DatasetName {
  return typeof value === 'string' && (DATASET_NAMES as readonly string[]).includes(value);
}

/** Where a dataset is read from, and (with download) where it is saved. */
export interface DataLocation {
  dataset: DatasetName;
  root: string;
  download: boolean;
}

export interface CheckDataOptions {
  /** Allow a missing folder or missing data (it will be downloaded into --data). Default false. */
  download?: boolean;
  /** Default 'cifar10'. */
  dataset?: DatasetName;
  /** The command reads the training split too, not only the test split (IDX datasets only). Default true. */
  needTrain?: boolean;
  /** The command has a --download flag, so its messages may suggest it (`eval` has none). Default true. */
  downloadFlag?: boolean;
  /** The md5 sums that tell the IDX datasets apart (dataset -> .gz file name -> md5). Default: the published ones, IDX_MD5. */
  checksums?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/**
 * Checks --data before anything slow runs. CIFAR-10: a folder holding cifar-10-batches-bin/, that folder
 * itself, the .tar.gz, or a folder holding the .tar.gz. MNIST and Fashion-MNIST: the folder holding the
 * IDX files (raw or .gz), or torchvision's root (holding MNIST/raw/ or FashionMNIST/raw/). Folder: class folders
 * in --data, or in its train/ and val/ (or test/). With download a missing folder is created and the data is
 * downloaded into it (not for folder).
 * @throws UsageError (exit code 2) when the path is missing or holds no data of the dataset.
 */
export function checkDataPath(value: string, options: CheckDataOptions = {}): DataLocation {
  const dataset = options.dataset ?? 'cifar10';
  const download = options.download === true;
  const root = path.resolve(value);
  if (dataset === 'folder') return checkImageFolderPath(value, root, download, options.needTrain !== false);
  // What to do about missing data: fetch it (commands with --download), or give the path of data already there.
  const give = options.downloadFlag === false ? `give ${DATA_FORMS[dataset]}` : undefined;
  const fetch = give ?? 'pass --download to fetch it';
  const { title, folder } = DATASETS[dataset];
  if (!fs.existsSync(root)) {
    if (!download)
      throw new UsageError(`--data: ${value} does not exist (${give ?? `pass --download to fetch ${title} into it`})`);
    if (/\.(tar\.gz|tgz)$/i.test(root))
      throw new UsageError(`--data: ${value} does not exist (with --download, give a folder)`);
    fs.mkdirSync(root, { recursive: true });
    return { dataset, root, download };
  }
  if (folder !== undefined)
    return checkIdxPath(value, root, dataset, download, options.needTrain !== false, fetch, options.checksums);
  let found;
  try {
    found = locateCifar10(root);
  } catch (err) {
    throw new UsageError(`--data: ${(err as Error).message}`);
  }
  if (found === null && !download) {
    throw new UsageError(
      `--data: no CIFAR-10 data in ${value} (expected ${CIFAR10_FOLDER}/, its .bin files or ${CIFAR10_ARCHIVE}); ${fetch}`,
    );
  }
  if (found === null && !fs.statSync(root).isDirectory()) throw new UsageError(`--data: ${value} is not a folder`);
  return { dataset, root, download: download && found === null };
}

/** What --data may name for each dataset, for messages of commands without --download. */
const DATA_FORMS: Readonly<Record<DatasetName, string>> = {
  cifar10: `the folder holding ${CIFAR10_FOLDER}/, that folder, or ${CIFAR10_ARCHIVE}`,
  mnist: "the folder holding MNIST's four IDX files (raw or .gz), or torchvision's root",
  'fashion-mnist': "the folder holding Fashion-MNIST's four IDX files (raw or .gz), or torchvision's root",
  folder: 'a folder of class folders (or one with train/ and val/ or test/)',
};

/**
 * Where the split of an image folder is: `root/train` and `root/val` (or `root/test`) when root has train/,
 * else root itself for both. `sameAsTrain` when the test split falls back to the training images.
 */
export function imageFolderSplit(root: string, train: boolean): { dir: string; sameAsTrain: boolean } {
  const isDir = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
  const trainDir = path.join(root, 'train');
  if (!isDir(trainDir)) return { dir: root, sameAsTrain: !train };
  if (train) return { dir: trainDir, sameAsTrain: false };
  const test = ['val', 'test'].map((n) => path.join(root, n)).find(isDir);
  return { dir: test ?? trainDir, sameAsTrain: test === undefined };
}

/** checkDataPath for --dataset folder: the split folders must exist and hold class folders (nothing is downloaded). */
function checkImageFolderPath(value: string, root: string, download: boolean, needTrain: boolean): DataLocation {
  if (download) throw new UsageError('--download: an image folder is not downloaded; give a folder of class folders');
  if (!fs.existsSync(root)) throw new UsageError(`--data: ${value} does not exist`);
  for (const train of needTrain ? [true, false] : [false]) {
    try {
      imageFolderClasses(imageFolderSplit(root, train).dir);
    } catch (err) {
      throw new UsageError(`--data: ${(err as Error).message}`);
    }
  }
  return { dataset: 'folder', root, download: false };
}

/**
 * The shape and class count of a located dataset: fixed for the built-in ones; for an image folder, its class
 * folders (of the training split, or of the test split with `train` false) and IMAGE_FOLDER_SHAPE.
 */
export function datasetInfo(loc: DataLocation, train = true): DatasetInfo {
  if (loc.dataset !== 'folder') return DATASETS[loc.dataset];
  const classes = imageFolderClasses(imageFolderSplit(loc.root, train).dir);
  return { title: 'ImageFolder', sampleShape: IMAGE_FOLDER_SHAPE, numClasses: classes.length };
}

/** The metadata a weights file records about its training data: the dataset, and an image folder's class names. */
export function datasetMetadata(dataset: DatasetName, classes: readonly string[]): Record<string, string> {
  return { [DATASET_KEY]: dataset, ...(dataset === 'folder' ? { [CLASSES_KEY]: JSON.stringify(classes) } : {}) };
}

/**
 * checkDataPath for MNIST and Fashion-MNIST: both splits (or only the test split) must be found, unless downloading;
 * files that are the other dataset's (by their published md5) are refused.
 */
function checkIdxPath(
  value: string,
  root: string,
  dataset: BuiltinDatasetName,
  download: boolean,
  needTrain: boolean,
  fetch: string,
  checksums = IDX_MD5,
): DataLocation {
  const { title, folder } = DATASETS[dataset];
  if (!fs.statSync(root).isDirectory())
    throw new UsageError(`--data: ${value} is not a folder (for ${dataset}, give the folder holding the IDX files)`);
  const splits = needTrain ? [true, false] : [false];
  const found = splits.map((train) => ({ train, files: locateIdxSplit(root, folder!, train) }));
  for (const { files } of found) {
    const actual = files === null ? undefined : idxDatasetOf(files, checksums);
    if (actual !== undefined && actual !== dataset) {
      throw new UsageError(
        `--dataset ${dataset}: ${path.relative(root, files!.labels) || files!.labels} in ${value} is ${DATASETS[actual].title}'s (by its published md5), not ${title}'s; pass --dataset ${actual}`,
      );
    }
  }
  const missing = found.find(({ files }) => files === null)?.train;
  if (missing === undefined) return { dataset, root, download: false };
  if (!download) {
    throw new UsageError(
      `--data: no ${title} ${missing ? 'training' : 'test'} data in ${value} (${describeSearch(value, folder!, missing)}); ${fetch}`,
    );
  }
  return { dataset, root, download: true };
}

/** The published md5 of each .gz file of the IDX datasets (lib/data/mnist.ts, as downloads check them). */
export const IDX_MD5: Readonly<Record<string, Readonly<Record<string, string>>>> = Object.freeze({
  mnist: MNIST_MD5,
  'fashion-mnist': FASHION_MNIST_MD5,
});

/**
 * Which IDX dataset a split's files are, from the md5 of its labels file (small: 29 KB gzipped for 60,000 labels)
 * against `known` (dataset -> file name -> md5); undefined for a raw file, a file of no known dataset, or one over 1 MB.
 *
 * @example
 * idxDatasetOf(locateIdxSplit('data', 'MNIST', true)!); // 'fashion-mnist' when those are Fashion-MNIST's files
 */
export function idxDatasetOf(
  files: IdxSplitFiles,
  known: Readonly<Record<string, Readonly<Record<string, string>>>> = IDX_MD5,
): BuiltinDatasetName | undefined {
  const name = path.basename(files.labels);
  if (!name.endsWith('.gz')) return undefined;
  const size = fs.statSync(files.labels).size;
  if (size > 1 << 20) return undefined;
  const md5 = createHash('md5').update(fs.readFileSync(files.labels)).digest('hex');
  const match = Object.entries(known).find(([, sums]) => sums[name] === md5);
  return match !== undefined && match[0] in DATASETS ? (match[0] as BuiltinDatasetName) : undefined;
}

/** @throws UsageError unless `value` is an existing file. Returns it resolved. */
export function checkFileExists(flag: string, value: string): string {
  const file = path.resolve(value);
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (st === undefined) throw new UsageError(`${flag}: ${value} does not exist`);
  if (!st.isFile()) throw new UsageError(`${flag}: ${value} is not a file`);
  return file;
}

/**
 * Checks, before any slow work, that an output file can be written: its folder exists and a file can be created in it
 * (a read-only or foreign folder fails now, not after training). Returns the path resolved.
 * @throws UsageError naming the flag when the folder is missing or not writable, or `value` is a folder.
 */
export function checkOutputPath(flag: string, value: string): string {
  const file = path.resolve(value);
  const dir = path.dirname(file);
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`${flag}: folder ${path.dirname(value)} does not exist`);
  if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`${flag}: ${value} is a folder`);
  checkWritableFolder(flag, dir, path.dirname(value));
  return file;
}

/**
 * Creates and removes a small file in `dir`, the way the atomic writers create their temp files: the one test that
 * also holds for root, read-only mounts and ACLs. `shown` is the folder as the user typed it.
 * @throws UsageError naming the flag and the reason (EACCES, EROFS, ...).
 */
export function checkWritableFolder(flag: string, dir: string, shown: string): void {
  const probe = path.join(dir, `.simdnet-write-test.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    fs.closeSync(fs.openSync(probe, 'wx'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(`${flag}: cannot write in folder ${shown} (${code})`);
  }
  fs.rmSync(probe, { force: true });
}

/** A loaded split: a Dataset with class names. */
export type LoadedDataset = Dataset & { readonly classes: readonly string[] };

/**
 * Loads one split of `loc.dataset`. With `loc.download`, missing files are fetched into loc.root
 * (progress lines go to `log` every ~10% of each file, when given); a DownloadError says how to work offline.
 *
 * @example
 * const test = await loadDataset(checkDataPath('data', { dataset: 'mnist', needTrain: false }), false);
 */
export async function loadDataset(loc: DataLocation, train: boolean, log?: CliStream): Promise<LoadedDataset> {
  if (loc.dataset === 'folder') {
    const split = imageFolderSplit(loc.root, train);
    if (split.sameAsTrain && log !== undefined)
      println(
        log,
        `note: ${loc.root} has no val/ or test/ folder: the test accuracy is measured on the training images`,
      );
    const folder = new ImageFolder({ root: split.dir });
    if (!train) return folder;
    // An image folder lists its classes one after another; shuffled once (seed 0), as CIFAR-10's batch files are,
    // the first N training images (--limit) hold every class.
    return view(folder, folder.length, new Generator(0).permutation(folder.length), 'ImageFolder') as LoadedDataset;
  }
  const { title } = DATASETS[loc.dataset];
  const onProgress = progressPrinter(title, log);
  try {
    if (loc.dataset === 'cifar10') {
      if (!loc.download) return await CIFAR10.load({ root: loc.root, train });
      if (log !== undefined) println(log, `downloading ${title} into ${loc.root}`);
      const data = await CIFAR10.load({ root: loc.root, train, download: true, cacheDir: loc.root, onProgress });
      loc.download = false; // the next split reads the archive just saved
      return data;
    }
    const Cls: typeof MNIST = loc.dataset === 'mnist' ? MNIST : FashionMNIST;
    // Each split has its own files, so download stays on for the next split.
    return await Cls.load({ root: loc.root, train, download: loc.download, cacheDir: loc.root, onProgress });
  } catch (err) {
    if (!(err instanceof DownloadError)) throw err;
    const files =
      loc.dataset === 'cifar10'
        ? `${CIFAR10_ARCHIVE} or ${CIFAR10_FOLDER}/`
        : 'the four IDX files (train-images-idx3-ubyte.gz ...)';
    const hint = `offline? put ${files} into ${loc.root} yourself (see the README)`;
    throw new DownloadError(err.url, `${err.message.replace(`download ${err.url}: `, '')}; ${hint}`);
  }
}

/**
 * A download progress callback printing "downloading MNIST file: 1.0/9.9 MB (10%)" about every 10% per file, or
 * "downloading MNIST file: 10.0 MB" every 10 MB when the size is unknown.
 */
export function progressPrinter(
  title: string,
  log?: CliStream,
): (received: number, total: number | undefined, file?: string) => void {
  let nextPercent = 0;
  let current: string | undefined;
  return (received, total, file) => {
    if (log === undefined) return;
    if (file !== current) {
      current = file;
      nextPercent = 0;
    }
    const what = `downloading ${title}${file === undefined ? '' : ` ${file}`}`;
    if (total === undefined || total <= 0) {
      // Without a total, "percent" counts 10 MB steps.
      if (received < nextPercent * 1e6) return;
      nextPercent = Math.floor(received / 1e7) * 10 + 10;
      println(log, `${what}: ${(received / 1e6).toFixed(1)} MB`);
      return;
    }
    const percent = Math.floor((100 * received) / total);
    if (percent < nextPercent) return;
    nextPercent = Math.floor(percent / 10) * 10 + 10;
    println(log, `${what}: ${(received / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} MB (${percent}%)`);
  };
}

/**
 * The first `n` samples of a dataset (all of it when n >= its length), without copying.
 *
 * @example
 * const small = takeFirst(train, 512);
 */
export function takeFirst(dataset: Dataset, n: number): Dataset {
  return n >= dataset.length ? dataset : view(dataset, n, undefined, 'takeFirst');
}

/** Samples order[0..n-1] of a dataset (0..n-1 without an order) as a dataset, without copying. */
function view(dataset: Dataset, n: number, order: Int32Array | undefined, what: string): Dataset {
  const size = shapeSize(dataset.sampleShape);
  const subset: Dataset = {
    length: n,
    sampleShape: dataset.sampleShape,
    classes: dataset.classes,
    get(index: number): Sample {
      checkIndex(`${what}.get`, index, n);
      return dataset.get(order === undefined ? index : order[index]);
    },
  };
  const getBatch = dataset.getBatch;
  if (getBatch !== undefined) {
    subset.getBatch = (indices, images, labels) => {
      checkBatchArgs(`${what}.getBatch`, n, size, indices, images, labels);
      getBatch.call(dataset, order === undefined ? indices : Int32Array.from(indices, (i) => order[i]), images, labels);
    };
  }
  return subset;
}
