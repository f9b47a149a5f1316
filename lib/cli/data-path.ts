// SPDX-License-Identifier: MIT
// CLI path checks (--data, --weights, --out) and CIFAR-10 loading for commands, incl. the --limit subset; no training.
import * as fs from 'fs';
import * as path from 'path';
import { CIFAR10 } from '../data/cifar10';
import { DownloadError } from '../data/download';
import { CIFAR10_ARCHIVE, CIFAR10_FOLDER, locateCifar10 } from '../data/cifar10-files';
import { checkBatchArgs, checkIndex, type Dataset, type Sample } from '../data/dataset';
import { shapeSize } from '../tensor/shape';
import { println, UsageError, type CliStream } from './io';

/** Where CIFAR-10 is read from, and (with --download) where the archive is saved. */
export interface DataLocation {
  root: string;
  download: boolean;
}

/**
 * Checks --data before anything slow runs. Accepted: a folder holding cifar-10-batches-bin/, that
 * folder itself, the .tar.gz, or a folder holding the .tar.gz. With --download a missing folder is
 * created and the archive is downloaded into it.
 * @throws UsageError (exit code 2) when the path is missing or holds no CIFAR-10 data.
 */
export function checkDataPath(value: string, download: boolean): DataLocation {
  const root = path.resolve(value);
  if (!fs.existsSync(root)) {
    if (!download) throw new UsageError(`--data: ${value} does not exist (pass --download to fetch CIFAR-10 into it)`);
    if (/\.(tar\.gz|tgz)$/i.test(root)) throw new UsageError(`--data: ${value} does not exist (with --download, give a folder)`);
    fs.mkdirSync(root, { recursive: true });
    return { root, download };
  }
  let found;
  try {
    found = locateCifar10(root);
  } catch (err) {
    throw new UsageError(`--data: ${(err as Error).message}`);
  }
  if (found === null && !download) {
    throw new UsageError(
      `--data: no CIFAR-10 data in ${value} (expected ${CIFAR10_FOLDER}/, its .bin files or ${CIFAR10_ARCHIVE}); pass --download to fetch it`,
    );
  }
  if (found === null && !fs.statSync(root).isDirectory()) throw new UsageError(`--data: ${value} is not a folder`);
  return { root, download: download && found === null };
}

/** @throws UsageError unless `value` is an existing file. Returns it resolved. */
export function checkFileExists(flag: string, value: string): string {
  const file = path.resolve(value);
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (st === undefined) throw new UsageError(`${flag}: ${value} does not exist`);
  if (!st.isFile()) throw new UsageError(`${flag}: ${value} is not a file`);
  return file;
}

/** @throws UsageError unless the folder `value` will be written in exists (an output file's parent). */
export function checkOutputPath(flag: string, value: string): string {
  const file = path.resolve(value);
  const dir = path.dirname(file);
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${flag}: folder ${path.dirname(value)} does not exist`);
  if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${flag}: ${value} is a folder`);
  return file;
}

/**
 * Loads one CIFAR-10 split. With `loc.download`, the archive is fetched into loc.root (progress lines
 * go to `log` every ~10%, when given).
 */
export async function loadCifar10(loc: DataLocation, train: boolean, log?: CliStream): Promise<CIFAR10> {
  if (!loc.download) return CIFAR10.load({ root: loc.root, train });
  let nextPercent = 0;
  const onProgress = (received: number, total: number | undefined): void => {
    if (log === undefined || total === undefined || total <= 0) return;
    const percent = Math.floor((100 * received) / total);
    if (percent < nextPercent) return;
    nextPercent = Math.floor(percent / 10) * 10 + 10;
    println(log, `downloading CIFAR-10: ${(received / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} MB (${percent}%)`);
  };
  if (log !== undefined) println(log, `downloading CIFAR-10 into ${loc.root}`);
  let data: CIFAR10;
  try {
    data = await CIFAR10.load({ root: loc.root, train, download: true, cacheDir: loc.root, onProgress });
  } catch (err) {
    if (!(err instanceof DownloadError)) throw err;
    const hint = `offline? put ${CIFAR10_ARCHIVE} or ${CIFAR10_FOLDER}/ into ${loc.root} yourself (see the README)`;
    throw new DownloadError(err.url, `${err.message.replace(`download ${err.url}: `, '')}; ${hint}`);
  }
  loc.download = false; // the next split reads the archive just saved
  return data;
}

/**
 * The first `n` samples of a dataset (all of it when n >= its length), without copying.
 *
 * @example
 * const small = takeFirst(train, 512);
 */
export function takeFirst(dataset: Dataset, n: number): Dataset {
  if (n >= dataset.length) return dataset;
  const size = shapeSize(dataset.sampleShape);
  const subset: Dataset = {
    length: n,
    sampleShape: dataset.sampleShape,
    classes: dataset.classes,
    get(index: number): Sample {
      checkIndex('takeFirst.get', index, n);
      return dataset.get(index);
    },
  };
  const getBatch = dataset.getBatch;
  if (getBatch !== undefined) {
    subset.getBatch = (indices, images, labels) => {
      checkBatchArgs('takeFirst.getBatch', n, size, indices, images, labels);
      getBatch.call(dataset, indices, images, labels);
    };
  }
  return subset;
}
