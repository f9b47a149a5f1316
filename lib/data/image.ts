// SPDX-License-Identifier: MIT
// The public image API: reading PNG and JPEG files safely (regular files of bounded size, the pixel cap checked from
// the headers before decoding) into planar floats, and re-exporting preprocessing. The formats are png.ts and jpeg.ts.
import { FileFormatError } from '../errors';
import { readRegularFile } from '../io/regular-file';
import { decodeJpegBuffer } from './jpeg';
import { decodePngBuffer, PNG_SIGNATURE } from './png';

export {
  cropWindow,
  preprocessImage,
  resizeBilinear,
  RESIZE_MODES,
  type Preprocess,
  type ResizeMode,
} from './image-preprocess';

/** A decoded image as floats in [0, 1], planar (CHW) R, G, B. */
export interface DecodedImage {
  width: number;
  height: number;
  /** [3, height, width]: R, G, B planes. Gray images have three equal planes. */
  rgb: Float32Array;
  /** The file stores gray levels (PNG colour types 0 and 4, one-component JPEG), so one channel loses nothing. */
  gray: boolean;
  /** Bits per sample in the file: 1, 2, 4, 8 or 16 (JPEG: 8). */
  depth: number;
  /** The file has an alpha channel or a transparent colour; alpha is ignored. */
  alpha: boolean;
  format: ImageFormat;
}

export type ImageFormat = 'png' | 'jpeg';

/**
 * Images with more pixels are refused from their header, before decoding (a 64-megapixel RGBA PNG decodes to
 * 1 GB of 16-bit samples).
 */
export const MAX_PIXELS = 1 << 26;
/** Image files larger than this are refused before reading (more than any image under MAX_PIXELS needs). */
export const MAX_IMAGE_FILE_BYTES = 1 << 30;

/** The format of image bytes by their signature, or undefined for neither PNG nor JPEG. */
export function imageFormat(buffer: Uint8Array): ImageFormat | undefined {
  if (buffer.length >= 8 && PNG_SIGNATURE.equals(buffer.subarray(0, 8))) return 'png';
  if (buffer.length >= 3 && buffer[0] === 0xff && buffer[1] === 0xd8 && buffer[2] === 0xff) return 'jpeg';
  return undefined;
}

/** The bytes of an image file, with FileFormatErrors naming it for a missing, odd or oversized file. */
function readImageFile(file: string): Buffer {
  try {
    return readRegularFile(file, MAX_IMAGE_FILE_BYTES, 'an image');
  } catch (err) {
    if (err instanceof FileFormatError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileFormatError(
      file,
      code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? (err as Error).message})`,
    );
  }
}

/**
 * Reads and decodes a PNG or JPEG file (told apart by their bytes, not the name). PNG: 8- or 16-bit RGB, RGBA,
 * gray (with or without alpha), palette, 1-, 2- and 4-bit gray, interlaced or not; JPEG: 8-bit baseline or
 * progressive, gray, colour or CMYK. Alpha is dropped, as PIL's Image.convert('RGB') does in a torchvision
 * pipeline (pngjs turns a tRNS transparent colour into black first). 16-bit samples keep their precision.
 * @throws FileFormatError naming the file when it is missing, not a regular file, larger than MAX_IMAGE_FILE_BYTES,
 *   over MAX_PIXELS (told from the header, before decoding), unreadable or not a valid PNG or JPEG.
 *
 * @example
 * const img = readImage('cat.jpg'); // { width: 32, height: 32, rgb: Float32Array(3072), gray: false, format: 'jpeg', ... }
 */
export function readImage(file: string): DecodedImage {
  return decodeImage(readImageFile(file), file);
}

/**
 * Decodes PNG or JPEG bytes as readImage does a file; `name` is used in errors.
 *
 * @example
 * const img = decodeImage(fs.readFileSync('digit.png'), 'digit.png');
 */
export function decodeImage(buffer: Buffer, name = '<buffer>'): DecodedImage {
  const format = imageFormat(buffer);
  if (format === 'png') return decodePngBuffer(buffer, name, MAX_PIXELS);
  if (format === 'jpeg') return decodeJpegBuffer(buffer, name, MAX_PIXELS);
  throw new FileFormatError(name, 'not a PNG or JPEG file (neither signature)');
}

/**
 * Reads and decodes a PNG file (see readImage); JPEG bytes are refused.
 * @example
 * const img = readPng('cat.png');
 */
export function readPng(file: string): DecodedImage {
  return decodePng(readImageFile(file), file);
}

/**
 * Decodes PNG bytes; images of more than MAX_PIXELS pixels are refused from their header, before decoding.
 * @example
 * const img = decodePng(fs.readFileSync('digit.png'), 'digit.png');
 */
export function decodePng(buffer: Buffer, name = '<buffer>'): DecodedImage {
  return decodePngBuffer(buffer, name, MAX_PIXELS);
}

/**
 * Decodes JPEG bytes; images of more than MAX_PIXELS pixels are refused from their frame header, before decoding.
 * @example
 * const img = decodeJpeg(fs.readFileSync('photo.jpg'), 'photo.jpg');
 */
export function decodeJpeg(buffer: Buffer, name = '<buffer>'): DecodedImage {
  return decodeJpegBuffer(buffer, name, MAX_PIXELS);
}
