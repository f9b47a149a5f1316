// SPDX-License-Identifier: MIT
// ImageFolder: a dataset from a folder of class subfolders of PNG/JPEG files, as torchvision's ImageFolder lays it
// out; images are decoded, resized and normalised once, at construction. Decoding itself is image.ts.
import * as fs from 'fs';
import * as path from 'path';
import { describe } from '../check';
import { FileFormatError } from '../errors';
import { checkOptions } from '../check';
import { checkBatchArgs, checkIndex, type Dataset, type Sample } from './dataset';
import { preprocessImage, readImage, RESIZE_MODES, type ResizeMode } from './image';

/** Per-channel mean and standard deviation ImageFolder normalises with by default: [0, 1] becomes [-1, 1]. */
export const IMAGE_FOLDER_MEAN = 0.5;
export const IMAGE_FOLDER_STD = 0.5;
/** Default [channels, height, width] of every sample. */
export const IMAGE_FOLDER_SHAPE: readonly [number, number, number] = Object.freeze([3, 32, 32]) as readonly [
  number,
  number,
  number,
];
/** Default cap on one image file's size (a photo is a few MB). */
export const IMAGE_FOLDER_MAX_FILE_BYTES = 64 * 2 ** 20;
/** Cap on all samples together, in floats (1 GiB), checked from the file count before any image is decoded. */
export const IMAGE_FOLDER_MAX_VALUES = 2 ** 28;
/** File extensions read as images (any case). */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['.png', '.jpg', '.jpeg']);
/** Image formats torchvision would read but this reader does not: an error, not a silently skipped file. */
const UNSUPPORTED_IMAGES = ['.bmp', '.gif', '.webp', '.tif', '.tiff', '.ppm', '.pgm', '.heic', '.avif'];

export interface ImageFolderOptions {
  /** A folder holding one subfolder per class ("root/cat/1.png", "root/dog/x.jpg"). */
  root: string;
  /** [channels (1 or 3), height, width] every image becomes. Default [3, 32, 32]. */
  sampleShape?: readonly number[];
  /** How images of another shape are resized (see ResizeMode). Default 'crop'. */
  resize?: ResizeMode;
  /** Per channel, after x/255: (x - mean) / std. Defaults IMAGE_FOLDER_MEAN and IMAGE_FOLDER_STD for every channel. */
  mean?: readonly number[];
  std?: readonly number[];
  /** Larger image files are refused before reading. Default IMAGE_FOLDER_MAX_FILE_BYTES (64 MiB). */
  maxFileBytes?: number;
}

const KNOWN = ['root', 'sampleShape', 'resize', 'mean', 'std', 'maxFileBytes'];

/** Byte-wise UTF-8 order, which is Python's sorted() on str (code points), as torchvision sorts. */
function byCodePoint(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Visible entries of a folder (names starting with "." are skipped, as .ipynb_checkpoints or .DS_Store). */
function entries(dir: string): fs.Dirent[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => byCodePoint(a.name, b.name));
}

/**
 * The class names of an image folder: its subfolders, sorted (torchvision's find_classes).
 * @throws FileFormatError for a missing path, a file, or a folder without class subfolders.
 */
export function imageFolderClasses(root: string): string[] {
  const st = fs.statSync(root, { throwIfNoEntry: false });
  if (st === undefined) throw new FileFormatError(root, 'no such folder');
  if (!st.isDirectory())
    throw new FileFormatError(root, 'is not a folder (an image folder holds one subfolder per class)');
  const list = entries(root);
  const classes = list.filter((e) => e.isDirectory() || (e.isSymbolicLink() && isDir(path.join(root, e.name))));
  if (classes.length === 0) {
    const images = list.filter((e) => isImageName(e.name)).length;
    throw new FileFormatError(
      root,
      images > 0
        ? `holds ${images} images but no class folders: put each class's images in a subfolder named after the class`
        : 'holds no class folders (expected one subfolder of PNG/JPEG images per class)',
    );
  }
  return classes.map((e) => e.name);
}

function isDir(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
}

function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** The image files under a class folder, recursively, in sorted order (torchvision's make_dataset walks it too). */
function classFiles(dir: string, out: string[] = []): string[] {
  for (const e of entries(dir)) {
    const file = path.join(dir, e.name);
    const ext = path.extname(e.name).toLowerCase();
    if (e.isDirectory() || (e.isSymbolicLink() && isDir(file))) classFiles(file, out);
    else if (IMAGE_EXTENSIONS.includes(ext)) out.push(file);
    else if (UNSUPPORTED_IMAGES.includes(ext))
      throw new FileFormatError(
        file,
        `${ext.slice(1).toUpperCase()} images are not read (PNG and JPEG only): convert or remove it`,
      );
  }
  return out;
}

/**
 * A folder of class subfolders of PNG/JPEG files, like torchvision's ImageFolder: classes are the subfolder
 * names in sorted order (label = index), files are found recursively and sorted, hidden entries (".name") are
 * skipped and other non-image files ignored. Every image is decoded (image.ts: bounded file size, pixel cap
 * checked from the header), converted to `sampleShape`'s channels, resized ('crop': short side + centre, as
 * torchvision's Resize + CenterCrop; or 'squash') and normalised once, when the dataset is built.
 *
 * Options: root, sampleShape = [3, 32, 32], resize = 'crop', mean/std = 0.5 per channel, maxFileBytes = 64 MiB.
 * Shape: each sample `sampleShape`; label 0..classes.length - 1.
 * @throws FileFormatError naming the folder or file: no class folders, an empty class, an unsupported image
 *   format, an unreadable or oversized image, or more images than IMAGE_FOLDER_MAX_VALUES floats hold.
 *
 * @example
 * const train = new ImageFolder({ root: 'photos/train' }); // photos/train/cat/*.jpg, photos/train/dog/*.jpg
 * console.log(train.classes, train.length);
 */
export class ImageFolder implements Dataset {
  readonly length: number;
  readonly sampleShape: readonly number[];
  readonly classes: readonly string[];
  /** The image files in sample order. */
  readonly files: readonly string[];
  readonly resize: ResizeMode;
  private readonly images: Float32Array;
  private readonly labels: Int32Array;
  private readonly size: number;

  constructor(options: ImageFolderOptions) {
    const o = resolveOptions(options);
    const classes = imageFolderClasses(o.root);
    const files: string[] = [];
    const labels: number[] = [];
    classes.forEach((name, label) => {
      const found = classFiles(path.join(o.root, name));
      if (found.length === 0)
        throw new FileFormatError(
          path.join(o.root, name),
          `class folder "${name}" holds no PNG or JPEG images (${IMAGE_EXTENSIONS.join(', ')})`,
        );
      for (const f of found) {
        files.push(f);
        labels.push(label);
      }
    });
    const [channels, height, width] = o.sampleShape;
    this.size = channels * height * width;
    if (files.length * this.size > IMAGE_FOLDER_MAX_VALUES) {
      throw new FileFormatError(
        o.root,
        `${files.length} images of ${channels}x${height}x${width} need ${files.length * this.size} floats, more than the ${IMAGE_FOLDER_MAX_VALUES} an ImageFolder holds: use fewer images or a smaller sampleShape`,
      );
    }
    this.images = new Float32Array(files.length * this.size);
    const prep = { channels: channels as 1 | 3, height, width, mean: o.mean, std: o.std, resize: o.resize };
    files.forEach((file, i) => {
      const st = fs.statSync(file);
      if (st.size > o.maxFileBytes)
        throw new FileFormatError(file, `${st.size} bytes is more than maxFileBytes (${o.maxFileBytes})`);
      this.images.set(preprocessImage(readImage(file), prep), i * this.size);
    });
    this.labels = Int32Array.from(labels);
    this.length = files.length;
    this.sampleShape = Object.freeze([...o.sampleShape]);
    this.classes = Object.freeze(classes);
    this.files = Object.freeze(files);
    this.resize = o.resize;
  }

  /** Sample `index` as a new Float32Array. */
  get(index: number): Sample {
    checkIndex('ImageFolder.get', index, this.length);
    return { image: this.images.slice(index * this.size, (index + 1) * this.size), label: this.labels[index] };
  }

  getBatch(indices: ArrayLike<number>, images: Float32Array, labels: Int32Array): void {
    checkBatchArgs('ImageFolder.getBatch', this.length, this.size, indices, images, labels);
    for (let b = 0; b < indices.length; b++) {
      const i = indices[b];
      images.set(this.images.subarray(i * this.size, (i + 1) * this.size), b * this.size);
      labels[b] = this.labels[i];
    }
  }

  toString(): string {
    return `ImageFolder(length=${this.length}, classes=${this.classes.length}, sampleShape=[${this.sampleShape.join(', ')}])`;
  }
}

function resolveOptions(options: ImageFolderOptions): Required<ImageFolderOptions> & { sampleShape: number[] } {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`ImageFolder: options must be an object with a root, got ${describe(options)}`);
  checkOptions('ImageFolder', options, KNOWN);
  const { root } = options;
  if (typeof root !== 'string' || root === '')
    throw new TypeError(`ImageFolder: root must be a non-empty string, got ${describe(root)}`);
  const shape = options.sampleShape ?? IMAGE_FOLDER_SHAPE;
  if (
    !Array.isArray(shape) ||
    shape.length !== 3 ||
    (shape[0] !== 1 && shape[0] !== 3) ||
    !shape.every((d) => Number.isSafeInteger(d) && d >= 1 && d <= 4096)
  )
    throw new RangeError(
      `ImageFolder: sampleShape must be [channels (1 or 3), height, width] with sides 1..4096, got ${JSON.stringify(shape)}`,
    );
  const resize = options.resize ?? 'crop';
  if (!RESIZE_MODES.includes(resize))
    throw new RangeError(
      `ImageFolder: resize must be one of ${RESIZE_MODES.join(', ')}, got ${JSON.stringify(resize)}`,
    );
  const perChannel = (name: string, v: readonly number[] | undefined, def: number, positive: boolean) => {
    const values = v ?? new Array(shape[0]).fill(def);
    if (
      !Array.isArray(values) ||
      values.length !== shape[0] ||
      !values.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0))
    )
      throw new RangeError(
        `ImageFolder: ${name} must be ${shape[0]} finite numbers${positive ? ' > 0' : ''} (one per channel), got ${JSON.stringify(v)}`,
      );
    return values;
  };
  const maxFileBytes = options.maxFileBytes ?? IMAGE_FOLDER_MAX_FILE_BYTES;
  if (!Number.isSafeInteger(maxFileBytes) || maxFileBytes < 1)
    throw new RangeError(`ImageFolder: maxFileBytes must be an integer >= 1, got ${describe(maxFileBytes)}`);
  return {
    root: path.resolve(root),
    sampleShape: [...shape],
    resize,
    mean: perChannel('mean', options.mean, IMAGE_FOLDER_MEAN, false),
    std: perChannel('std', options.std, IMAGE_FOLDER_STD, true),
    maxFileBytes,
  };
}
