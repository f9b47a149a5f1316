// SPDX-License-Identifier: MIT
// PNG decoding for image.ts: a walk over every chunk that bounds the image from its one IHDR before anything is
// inflated, then png-fast.ts for plain 8-bit files or pngjs for the rest. Reading files and the public API are image.ts.
import * as zlib from 'zlib';
import { PNG } from 'pngjs';
import { FileFormatError } from '../errors';
import type { DecodedImage } from './image';
import { IDAT, IEND, IHDR } from './png-chunks';
import { decodePlainPng } from './png-fast';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The one IHDR of a PNG, and how many bytes its image data must inflate to. */
export interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlaced: boolean;
  /** Filter bytes plus packed rows, over every Adam7 pass when interlaced: what a valid IDAT stream inflates to. */
  inflatedBytes: number;
  /** The IDAT chunks' data, in order (views of the file). */
  idat: Buffer[];
}

/** Samples per pixel of each colour type, and the bit depths the standard allows for it. */
const COLOR_TYPES: Readonly<Record<number, { samples: number; depths: readonly number[] }>> = {
  0: { samples: 1, depths: [1, 2, 4, 8, 16] }, // gray
  2: { samples: 3, depths: [8, 16] }, // RGB
  3: { samples: 1, depths: [1, 2, 4, 8] }, // palette
  4: { samples: 2, depths: [8, 16] }, // gray + alpha
  6: { samples: 4, depths: [8, 16] }, // RGBA
};

/** Adam7 passes: x start, y start, x step, y step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Bytes the filtered rows of a width x height image take: one filter byte per row, rows packed to whole bytes. */
function rowsBytes(width: number, height: number, bitsPerPixel: number): number {
  return width === 0 || height === 0 ? 0 : height * (1 + Math.ceil((width * bitsPerPixel) / 8));
}

/**
 * Walks every chunk of a PNG (not only the first) and returns its IHDR, refusing before anything is inflated:
 * a missing or second IHDR (pngjs would decode with the last one), a first chunk that is not IHDR, invalid fields, more than `maxPixels` pixels, and chunks that run past the end of the file.
 * @throws FileFormatError naming `name`.
 */
export function readPngHeader(buf: Buffer, name: string, maxPixels: number): PngHeader {
  const fail = (detail: string) => new FileFormatError(name, detail);
  if (buf.length < 8 || !buf.subarray(0, 8).equals(PNG_SIGNATURE)) throw fail('not a PNG file (no PNG signature)');
  let header: PngHeader | undefined;
  const idat: Buffer[] = [];
  for (let pos = 8; pos < buf.length;) {
    if (pos + 12 > buf.length)
      throw fail(`not a valid PNG, or truncated (the chunk at byte ${pos} is cut off at byte ${buf.length})`);
    const length = buf.readUInt32BE(pos);
    // The type as a number (no string per chunk on the serving path); its name only for messages.
    const type = buf.readUInt32BE(pos + 4);
    const end = pos + 12 + length;
    if (length > 0x7fffffff || end > buf.length)
      throw fail(`not a valid PNG, or truncated (chunk ${chunkName(buf, pos)} at byte ${pos} runs past the end)`);
    if (type === IHDR) {
      if (header !== undefined) throw fail(`has a second IHDR chunk (at byte ${pos}); a PNG has exactly one`);
      header = parseIhdr(buf.subarray(pos + 8, end - 4), fail, maxPixels);
    } else if (header === undefined) {
      throw fail(`the first chunk is ${chunkName(buf, pos)}, not IHDR`);
    } else if (type === IDAT) {
      idat.push(buf.subarray(pos + 8, end - 4));
    } else if (type === IEND) {
      break;
    }
    pos = end;
  }
  if (header === undefined) throw fail('not a valid PNG, or truncated (no IHDR chunk)');
  header.idat = idat;
  return header;
}

/** The quoted type of the chunk at `pos`, for messages. */
function chunkName(buf: Buffer, pos: number): string {
  return JSON.stringify(buf.toString('latin1', pos + 4, pos + 8));
}

function parseIhdr(data: Buffer, fail: (d: string) => FileFormatError, maxPixels: number): PngHeader {
  if (data.length !== 13) throw fail(`IHDR has ${data.length} bytes, not 13`);
  const width = data.readUInt32BE(0);
  const height = data.readUInt32BE(4);
  const [depth, colorType, compression, filter, interlace] = data.subarray(8, 13);
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff)
    throw fail(`IHDR gives ${width}x${height} pixels; sides must be 1 to 2^31 - 1`);
  if (width * height > maxPixels)
    throw fail(`${width}x${height} pixels is more than this reader accepts (${maxPixels})`);
  const kind = Object.prototype.hasOwnProperty.call(COLOR_TYPES, colorType) ? COLOR_TYPES[colorType] : undefined;
  if (kind === undefined || !kind.depths.includes(depth))
    throw fail(`IHDR has colour type ${colorType} with bit depth ${depth}, which the PNG standard does not define`);
  if (compression !== 0 || filter !== 0 || interlace > 1)
    throw fail(`IHDR has compression ${compression}, filter ${filter}, interlace ${interlace} (expected 0, 0, 0 or 1)`);
  const bits = kind.samples * depth;
  const inflatedBytes =
    interlace === 0
      ? rowsBytes(width, height, bits)
      : ADAM7.reduce(
          (sum, [x0, y0, dx, dy]) =>
            sum + rowsBytes(Math.ceil(Math.max(0, width - x0) / dx), Math.ceil(Math.max(0, height - y0) / dy), bits),
          0,
        );
  return { width, height, depth, colorType, interlaced: interlace === 1, inflatedBytes, idat: [] };
}

/**
 * Decodes a PNG after readPngHeader has bounded it: 8- or 16-bit RGB, RGBA, gray (with or without alpha), palette,
 * 1-, 2- and 4-bit gray, interlaced or not. `header` saves reading it again when the caller has (then the caller has
 * checked it against its pixel limit).
 * @throws FileFormatError naming `name`.
 */
export function decodePngBuffer(
  buffer: Buffer,
  name: string,
  maxPixels: number,
  header = readPngHeader(buffer, name, maxPixels),
): DecodedImage {
  const plain = decodePlainPng(buffer, header); // the common 8-bit files, several times faster than pngjs
  if (plain !== null) return plain;
  checkImageDataLength(header, name);
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
  return { width, height, rgb, gray: colorType === 0 || colorType === 4, depth, alpha: png.alpha, format: 'png' };
}

/**
 * Inflates the image data with a cap of what the header allows, for the files pngjs reads: pngjs inflates interlaced
 * data without a limit, and when the data ends early it fills the missing rows from an unset buffer (a different
 * answer each run). Non-interlaced data past the header's size pngjs caps and ignores itself.
 * @throws FileFormatError naming `name`.
 */
function checkImageDataLength(header: PngHeader, name: string): void {
  const { width, height, inflatedBytes } = header;
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(Buffer.concat(header.idat), { maxOutputLength: Math.max(1, inflatedBytes) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE')
      throw new FileFormatError(name, `not a valid PNG, or truncated (${(err as Error).message})`);
    if (!header.interlaced) return;
    throw new FileFormatError(
      name,
      `the image data inflates to more than the ${inflatedBytes} bytes a ${width}x${height} image needs`,
    );
  }
  if (raw.length < inflatedBytes)
    throw new FileFormatError(
      name,
      `truncated PNG: the image data inflates to ${raw.length} bytes, the ${width}x${height} header needs ${inflatedBytes}`,
    );
}
