// SPDX-License-Identifier: MIT
// Finds and reads the four IDX files of MNIST-style datasets (folder layouts, raw or .gz) into raw bytes; no float conversion here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileFormatError } from '../errors';
import { readIdx } from './idx';

/** The file names (without .gz) of each split, as distributed for MNIST, Fashion-MNIST and friends. */
export const MNIST_FILE_NAMES = Object.freeze({
  train: Object.freeze({ images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' }),
  test: Object.freeze({ images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' }),
});
/** Every image is 28x28 (one channel). */
export const MNIST_SIDE = 28;

/** The two files of one split, found in `dir`. */
export interface IdxSplitFiles {
  dir: string;
  images: string;
  labels: string;
}

/** One split in memory: `count` images of 28*28 bytes each, and `count` labels 0..numClasses-1. */
export interface IdxSplit {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
  files: string[];
}

/**
 * The folders searched for a split, in order: root itself, root/raw, root/<folder>/raw (torchvision's
 * layout, `folder` being "MNIST" or "FashionMNIST").
 */
export function idxFolders(root: string, folder: string): string[] {
  return [root, path.join(root, 'raw'), path.join(root, folder, 'raw')];
}

/**
 * Finds the images and labels files of a split under `root` (see idxFolders), or null when no searched
 * folder holds both. In each folder the .gz file is preferred, as it is the one downloads check by md5.
 */
export function locateIdxSplit(root: string, folder: string, train: boolean): IdxSplitFiles | null {
  const names = train ? MNIST_FILE_NAMES.train : MNIST_FILE_NAMES.test;
  for (const dir of idxFolders(root, folder)) {
    const images = findFile(dir, names.images);
    const labels = findFile(dir, names.labels);
    if (images !== null && labels !== null) return { dir, images, labels };
  }
  return null;
}

/** A one-line description of where locateIdxSplit looked, for "no data found" messages. */
export function describeSearch(root: string, folder: string, train: boolean): string {
  const names = train ? MNIST_FILE_NAMES.train : MNIST_FILE_NAMES.test;
  const dirs = idxFolders(root, folder).map((d) => (d === root ? root : path.relative(root, d)));
  return `looked for ${names.images}[.gz] and ${names.labels}[.gz] in ${dirs.join(', ')}`;
}

/**
 * Reads a split and checks it: images [N, 28, 28] and labels [N] with the same N >= 1, labels < numClasses.
 * @throws FileFormatError naming the file at fault.
 */
export function readIdxSplit(files: IdxSplitFiles, numClasses: number): IdxSplit {
  const images = readIdx(files.images, { ndim: 3 });
  const labels = readIdx(files.labels, { ndim: 1 });
  const [count, rows, cols] = images.dims;
  if (rows !== MNIST_SIDE || cols !== MNIST_SIDE) {
    throw new FileFormatError(files.images, `images are ${rows}x${cols}, expected ${MNIST_SIDE}x${MNIST_SIDE}`);
  }
  if (count === 0) throw new FileFormatError(files.images, 'holds no images');
  if (labels.dims[0] !== count) {
    throw new FileFormatError(
      files.labels,
      `has ${labels.dims[0]} labels but ${path.basename(files.images)} has ${count} images`,
    );
  }
  for (let i = 0; i < count; i++) {
    if (labels.data[i] >= numClasses) {
      throw new FileFormatError(files.labels, `label ${i} is ${labels.data[i]}, expected 0..${numClasses - 1}`);
    }
  }
  return { pixels: images.data, labels: labels.data, count, files: [files.images, files.labels] };
}

/** `dir/name.gz` or else `dir/name` when it is a file; null when neither is. */
function findFile(dir: string, name: string): string | null {
  for (const file of [path.join(dir, `${name}.gz`), path.join(dir, name)]) {
    if (isFile(file)) return file;
  }
  return null;
}

/** True when `file` exists and is a file (never throws). */
export function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false; // ENOENT, or ENOTDIR when a searched folder is a file
  }
}
