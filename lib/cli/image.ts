// SPDX-License-Identifier: MIT
// PNG files to model input: decoding with pngjs, channel conversion, bilinear resizing and normalisation; no model code.
import * as fs from 'fs';
import { PNG } from 'pngjs';
import { FileFormatError } from '../errors';

/** A decoded PNG as floats in [0, 1], planar (CHW) R, G, B. */
export interface DecodedImage {
  width: number;
  height: number;
  /** [3, height, width]: R, G, B planes. Grayscale PNGs have three equal planes. */
  rgb: Float32Array;
  /** The PNG stores gray levels (colour types 0 and 4), so converting to one channel loses nothing. */
  gray: boolean;
  /** Bits per sample in the file: 1, 2, 4, 8 or 16. */
  depth: number;
  /** The file has an alpha channel or a transparent colour; alpha is ignored. */
  alpha: boolean;
}

/** How to turn a decoded image into one model input. */
export interface Preprocess {
  channels: 1 | 3;
  height: number;
  width: number;
  /** Per output channel; (x - mean[c]) / std[c] after scaling to [0, 1]. */
  mean: readonly number[];
  std: readonly number[];
}

/** Images with more pixels are refused before decoding (a 64-megapixel RGBA image decodes to 1 GB of 16-bit samples). */
export const MAX_PIXELS = 1 << 26;
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Reads and decodes a PNG: 8- or 16-bit RGB, RGBA, grayscale (with or without alpha), palette, 1-, 2- and
 * 4-bit gray, interlaced or not. Alpha is dropped, as PIL's Image.convert('RGB') does in a torchvision
 * pipeline (pngjs turns a tRNS transparent colour into black first). 16-bit samples keep their precision.
 * @throws FileFormatError naming the file when it is missing, unreadable or not a valid PNG.
 *
 * @example
 * const img = readPng('cat.png'); // { width: 32, height: 32, rgb: Float32Array(3072), gray: false, ... }
 */
export function readPng(file: string): DecodedImage {
  let buffer: Buffer;
  try {
    buffer = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileFormatError(
      file,
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a folder, not a PNG file'
          : `cannot read it (${code ?? (err as Error).message})`,
    );
  }
  return decodePng(buffer, file);
}

/**
 * Decodes PNG bytes as readPng does a file; `name` is used in errors. Images of more than MAX_PIXELS
 * pixels are refused from their header, before decoding.
 *
 * @example
 * const img = decodePng(fs.readFileSync('digit.png'), 'digit.png');
 */
export function decodePng(buffer: Buffer, name = '<buffer>'): DecodedImage {
  if (buffer.length < 24 || !buffer.subarray(0, 8).equals(SIGNATURE))
    throw new FileFormatError(name, 'not a PNG file (no PNG signature)');
  // IHDR is the first chunk: width and height are big-endian at bytes 16 and 20.
  const [w, h] = [buffer.readUInt32BE(16), buffer.readUInt32BE(20)];
  if (w * h > MAX_PIXELS)
    throw new FileFormatError(name, `${w}x${h} pixels is more than this reader accepts (${MAX_PIXELS})`);
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    png = PNG.sync.read(buffer, { skipRescale: true });
  } catch (err) {
    throw new FileFormatError(name, `not a valid PNG, or truncated (${(err as Error).message})`);
  }
  const { width, height, depth } = png;
  const colorType = png.colorType as number; // @types/pngjs omits 3 (palette)
  // With skipRescale, samples keep the file's range (palette entries are always 8-bit); data is RGBA.
  const max = colorType === 3 ? 255 : 2 ** depth - 1;
  const data = png.data as unknown as ArrayLike<number>;
  const plane = width * height;
  const rgb = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) rgb[c * plane + i] = data[4 * i + c] / max;
  }
  return { width, height, rgb, gray: colorType === 0 || colorType === 4, depth, alpha: png.alpha };
}

/**
 * One model input [channels, height, width] from a decoded image: channel conversion (RGB to gray with
 * the ITU-R 601-2 luma weights 0.299, 0.587, 0.114 of PIL's convert('L') and torchvision's
 * rgb_to_grayscale, on floats; gray to RGB by copying), bilinear resizing to exactly height x width
 * (the aspect ratio is not kept), then (x - mean) / std per channel.
 *
 * @example
 * const x = preprocessImage(readPng('cat.png'), { channels: 3, height: 32, width: 32, mean: CIFAR10_MEAN, std: CIFAR10_STD });
 */
export function preprocessImage(img: DecodedImage, p: Preprocess): Float32Array {
  const plane = img.width * img.height;
  let planes: Float32Array;
  if (p.channels === 3) {
    planes = img.rgb;
  } else {
    planes = new Float32Array(plane);
    const { rgb } = img;
    for (let i = 0; i < plane; i++) {
      planes[i] = img.gray ? rgb[i] : 0.299 * rgb[i] + 0.587 * rgb[plane + i] + 0.114 * rgb[2 * plane + i];
    }
  }
  const out = resizeBilinear(planes, p.channels, img.height, img.width, p.height, p.width);
  const size = p.height * p.width;
  for (let c = 0; c < p.channels; c++) {
    for (let i = c * size; i < (c + 1) * size; i++) out[i] = (out[i] - p.mean[c]) / p.std[c];
  }
  return out;
}

/**
 * Resizes planar images [channels, h, w] to [channels, oh, ow] like PyTorch's
 * F.interpolate(mode='bilinear', align_corners=False, antialias=False), which is torchvision's
 * Resize on a tensor with antialias off: source = (dst + 0.5) * in / out - 0.5, clamped at 0, and
 * the two nearest pixels per axis are mixed linearly. Downscaling averages no more than 2x2 pixels.
 * Returns a new array (a copy when the size is unchanged).
 *
 * @example
 * resizeBilinear(Float32Array.of(0, 1, 2, 3), 1, 2, 2, 4, 3); // [0, 0.5, 1, 0.5, 1, 1.5, 1.5, 2, 2.5, 2, 2.5, 3]
 */
export function resizeBilinear(
  src: Float32Array,
  channels: number,
  h: number,
  w: number,
  oh: number,
  ow: number,
): Float32Array {
  if (oh === h && ow === w) return src.slice();
  const ys = axisWeights(h, oh);
  const xs = axisWeights(w, ow);
  const out = new Float32Array(channels * oh * ow);
  for (let c = 0; c < channels; c++) {
    const s = c * h * w;
    const d = c * oh * ow;
    for (let y = 0; y < oh; y++) {
      const [y0, y1, ly] = [ys.i0[y], ys.i1[y], ys.lambda[y]];
      for (let x = 0; x < ow; x++) {
        const [x0, x1, lx] = [xs.i0[x], xs.i1[x], xs.lambda[x]];
        const top = (1 - lx) * src[s + y0 * w + x0] + lx * src[s + y0 * w + x1];
        const bottom = (1 - lx) * src[s + y1 * w + x0] + lx * src[s + y1 * w + x1];
        out[d + y * ow + x] = (1 - ly) * top + ly * bottom;
      }
    }
  }
  return out;
}

/** Per output index: the two source indices and the weight of the second (upsample_bilinear2d's h1, h1 + h1p, h1lambda). */
function axisWeights(size: number, out: number): { i0: Int32Array; i1: Int32Array; lambda: Float64Array } {
  const scale = size / out;
  const i0 = new Int32Array(out);
  const i1 = new Int32Array(out);
  const lambda = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    const src = Math.max((o + 0.5) * scale - 0.5, 0);
    i0[o] = Math.min(Math.floor(src), size - 1);
    i1[o] = Math.min(i0[o] + 1, size - 1);
    lambda[o] = src - i0[o];
  }
  return { i0, i1, lambda };
}
