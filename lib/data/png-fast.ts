// SPDX-License-Identifier: MIT
// A fast decoder for the plainest PNGs (8-bit gray, gray + alpha, RGB or RGBA, not interlaced, no transparent colour):
// one native inflate, the five row filters, and planar floats written directly. pngjs reads everything else, and any
// file this decoder finds unusual in any way (png.ts falls back), so errors and odd files behave exactly as before.
import * as zlib from 'zlib';
import type { DecodedImage } from './image';
import type { PngHeader } from './png';
import { IDAT, IEND, IHDR, TRNS } from './png-chunks';
import { inflateExact } from './png-inflate';
import { native } from '../native';

/** Bytes per pixel of the 8-bit colour types this decoder takes. */
const BYTES_PER_PIXEL: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/** v / 255 for every byte v, as a Float32Array stores it. */
export const BYTE_UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);
/** BYTE_UNIT for each of the three channels: the samples table of a plain decode. */
const BYTE_UNITS = Float32Array.from({ length: 768 }, (_, i) => BYTE_UNIT[i & 255]);

/** Node's native CRC-32 (Node 20.15 and later); without it every file goes to pngjs. */
const crc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;

/**
 * Decodes `buf` (whose header readPngHeader returned) when it is a plain PNG; null when pngjs must read it instead:
 * another colour type or depth, interlacing, a tRNS, PLTE or unknown critical chunk, a CRC that does not match, bytes
 * after IEND, image data that inflates to more or fewer bytes than the header gives (png.ts names what is wrong), or an
 * unknown row filter.
 * The result equals pngjs's (`skipRescale`) samples divided by 255, planar.
 *
 * @example
 * const img = decodePlainPng(buf, readPngHeader(buf, 'x.png', MAX_PIXELS)) ?? decodeWithPngjs(buf);
 */
export function decodePlainPng(buf: Buffer, header: PngHeader): DecodedImage | null {
  const { width, height, colorType } = header;
  const rgb = new Float32Array(3 * width * height);
  if (!decodePlainPngInto(buf, header, BYTE_UNITS, rgb)) return null;
  const color = colorType === 2 || colorType === 6;
  return { width, height, rgb, gray: !color, depth: 8, alpha: colorType === 4 || colorType === 6, format: 'png' };
}

/**
 * decodePlainPng() with each sample mapped through `table` as it is written: byte v of channel c (0 red, 1 green,
 * 2 blue; a gray sample goes to all three) becomes table[256 * c + v], in the planes [3, height, width] of `out`.
 * `out` holds exactly 3 x width x height floats and `table` 768. False, with `out` partly written, for a file
 * decodePlainPng() would give null. A table holding a preprocessing's
 * (v / 255 - mean) / std decodes and normalises in one pass, with no image array between (the serving path).
 */
export function decodePlainPngInto(buf: Buffer, header: PngHeader, table: Float32Array, out: Float32Array): boolean {
  const bpp = BYTES_PER_PIXEL[header.colorType];
  if (crc32 === undefined || header.depth !== 8 || header.interlaced || bpp === undefined) return false;
  if (header.idat.length === 0 || !chunksArePlain(buf, crc32)) return false;
  const data = header.idat.length === 1 ? header.idat[0] : Buffer.concat(header.idat);
  // null: pngjs gives the error, or png.ts names what is wrong with the length. `raw` is scratch space: used up here.
  const raw = inflateExact(data, header.inflatedBytes);
  if (raw === null) return false;
  const { width, height, colorType } = header;
  const color = colorType === 2 || colorType === 6 ? 1 : 0;
  // The addon does it in one pass, several times faster than rowsToPlanes (docs/serving.md).
  return native.pngRowsToPlanes(out, raw, table, width, height, bpp, color);
}

/**
 * native.pngRowsToPlanes in JavaScript (the reference of test/native/png-rows.test.ts): the inflated rows `raw`
 * [height, 1 + width * bpp] unfiltered in place, then each sample through `table` into the planes of `out`
 * [3, height, width] (`color` 1 for RGB and RGBA, 0 for gray; alpha dropped). False at an unknown row filter.
 */
export function rowsToPlanes(
  out: Float32Array,
  raw: Uint8Array,
  table: Float32Array,
  width: number,
  height: number,
  bpp: number,
  color: number,
): boolean {
  const stride = width * bpp;
  if (!unfilter(raw, stride, height, bpp)) return false;
  const plane = width * height;
  for (let y = 0; y < height; y++) {
    let p = y * (stride + 1) + 1;
    const end = (y + 1) * width;
    // Two loops rather than a colour test per pixel.
    if (color === 1) {
      for (let i = y * width; i < end; i++, p += bpp) {
        out[i] = table[raw[p]];
        out[plane + i] = table[256 + raw[p + 1]];
        out[2 * plane + i] = table[512 + raw[p + 2]];
      }
    } else {
      for (let i = y * width; i < end; i++, p += bpp) {
        const v = raw[p];
        out[i] = table[v];
        out[plane + i] = table[256 + v];
        out[2 * plane + i] = table[512 + v];
      }
    }
  }
  return true;
}

/**
 * Whether every chunk's CRC matches, the only critical chunks are IHDR, IDAT and IEND, there is no tRNS (a
 * transparent colour changes pixels in pngjs), and an empty IEND ends the file (pngjs refuses trailing bytes).
 * readPngHeader has already checked that the chunks are whole and IHDR comes first.
 */
function chunksArePlain(buf: Buffer, crc: (data: Uint8Array) => number): boolean {
  // Chunk types compared as big-endian numbers, and CRCs over plain Uint8Array views: no string or Buffer per chunk.
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  for (let pos = 8; pos + 12 <= buf.length;) {
    const length = buf.readUInt32BE(pos);
    const end = pos + 12 + length;
    if (end > buf.length) return false;
    const type = buf.readUInt32BE(pos + 4);
    const critical = (buf[pos + 4] & 0x20) === 0;
    if ((critical && type !== IHDR && type !== IDAT && type !== IEND) || type === TRNS) return false;
    if (crc(bytes.subarray(pos + 4, pos + 8 + length)) !== buf.readUInt32BE(pos + 8 + length)) return false;
    if (type === IEND) return length === 0 && end === buf.length;
    pos = end;
  }
  return false; // no IEND
}

/**
 * Undoes the PNG row filters in place (each row: a filter byte, then `stride` bytes); false for an unknown filter.
 * The first `bpp` bytes of a row (no left neighbour) and the first row (no row above) have their own loops, so the
 * inner loops carry no edge tests: Average and Paeth reduce there to Sub or Up, with the same bytes.
 */
function unfilter(raw: Uint8Array, stride: number, height: number, bpp: number): boolean {
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1) + 1;
    const up = row - (stride + 1); // the previous row's first byte (unused on the first row)
    const filter = raw[row - 1];
    if (filter === 0 || (filter === 2 && y === 0)) continue;
    if (filter === 1 || (filter === 4 && y === 0)) {
      for (let i = bpp; i < stride; i++) raw[row + i] += raw[row + i - bpp];
    } else if (filter === 2) {
      for (let i = 0; i < stride; i++) raw[row + i] += raw[up + i];
    } else if (filter === 3) {
      if (y === 0) {
        for (let i = bpp; i < stride; i++) raw[row + i] += raw[row + i - bpp] >> 1;
      } else {
        for (let i = 0; i < bpp; i++) raw[row + i] += raw[up + i] >> 1;
        for (let i = bpp; i < stride; i++) raw[row + i] += (raw[row + i - bpp] + raw[up + i]) >> 1;
      }
    } else if (filter === 4) {
      for (let i = 0; i < bpp; i++) raw[row + i] += raw[up + i];
      for (let i = bpp; i < stride; i++) {
        const a = raw[row + i - bpp];
        const b = raw[up + i];
        const c = raw[up + i - bpp];
        // |p - a|, |p - b|, |p - c| for p = a + b - c, without Math.abs calls
        const da = b - c;
        const db = a - c;
        const dc = da + db;
        const pa = da < 0 ? -da : da;
        const pb = db < 0 ? -db : db;
        const pc = dc < 0 ? -dc : dc;
        raw[row + i] += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
    } else {
      return false;
    }
  }
  return true;
}
