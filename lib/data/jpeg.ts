// SPDX-License-Identifier: MIT
// JPEG decoding for image.ts: a walk over the markers that bounds the image from its frame header (SOF) before
// anything is decoded, then jpeg-js with limits derived from that header. Reading files and the public API are image.ts.
import * as jpeg from 'jpeg-js';
import { FileFormatError } from '../errors';
import type { DecodedImage } from './image';

/** The frame header (SOF) of a JPEG. */
export interface JpegHeader {
  width: number;
  height: number;
  /** 1 (gray), 3 (YCbCr or RGB) or 4 (CMYK or YCCK). */
  components: number;
  progressive: boolean;
}

/** SOF markers jpeg-js decodes: baseline, extended (8-bit) and progressive Huffman. */
const DECODED_SOF = new Set([0xc0, 0xc1, 0xc2]);
/** Every SOFn: C0..CF except DHT (C4), JPG (C8) and DAC (CC). */
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/**
 * Walks the markers of a JPEG (skipping entropy-coded data) and returns its one frame header, refusing before
 * anything is decoded: no SOF, a second SOF (a decoder may use the last one), a kind jpeg-js does not decode
 * (lossless, hierarchical, arithmetic, 12-bit), zero sides, and more than `maxPixels` pixels.
 * A walk that meets bytes it cannot parse stops there: jpeg-js, run with the same limits, then has the last word.
 * @throws FileFormatError naming `name`.
 */
export function readJpegHeader(buf: Buffer, name: string, maxPixels: number): JpegHeader {
  const fail = (detail: string) => new FileFormatError(name, detail);
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) throw fail('not a JPEG file (no SOI marker)');
  const frames: (JpegHeader & { at: number })[] = [];
  let pos = 2;
  while (pos + 1 < buf.length && buf[pos] === 0xff) {
    while (buf[pos] === 0xff && pos + 1 < buf.length) pos++; // fill bytes
    const marker = buf[pos++];
    if (marker === 0xd9) break; // EOI
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // RSTn, TEM: no length
    if (pos + 2 > buf.length) break;
    const length = buf.readUInt16BE(pos);
    if (length < 2 || pos + length > buf.length) break;
    if (isSof(marker)) {
      if (length < 8) throw fail(`frame header (SOF) at byte ${pos - 2} is too short`);
      const precision = buf[pos + 2];
      const height = buf.readUInt16BE(pos + 3);
      const width = buf.readUInt16BE(pos + 5);
      const components = buf[pos + 7];
      if (!DECODED_SOF.has(marker) || precision !== 8) {
        throw fail(
          `a ${precision}-bit JPEG of kind SOF${marker - 0xc0} (lossless, hierarchical or arithmetic-coded), which this reader does not decode (8-bit baseline and progressive only)`,
        );
      }
      frames.push({ width, height, components, progressive: marker === 0xc2, at: pos - 2 });
    }
    pos += length;
    if (marker === 0xda) {
      // Entropy-coded data runs to the next marker: 0xFF not followed by 0x00 (a stuffed byte) or RSTn.
      while (pos + 1 < buf.length && !(buf[pos] === 0xff && buf[pos + 1] !== 0 && (buf[pos + 1] & 0xf8) !== 0xd0))
        pos++;
    }
  }
  if (frames.length === 0) throw fail('not a valid JPEG, or truncated (no frame header, SOF)');
  if (frames.length > 1) throw fail(`has a second frame header (SOF at byte ${frames[1].at}); a JPEG has exactly one`);
  const { width, height, components, progressive } = frames[0];
  if (width === 0 || height === 0)
    throw fail(`the frame header gives ${width}x${height} pixels; sides must be at least 1 (DNL is not supported)`);
  if (width * height > maxPixels)
    throw fail(`${width}x${height} pixels is more than this reader accepts (${maxPixels})`);
  if (components !== 1 && components !== 3 && components !== 4)
    throw fail(`has ${components} colour components; this reader decodes 1 (gray), 3 (colour) or 4 (CMYK)`);
  return { width, height, components, progressive };
}

/**
 * Decodes a JPEG after readJpegHeader has bounded it, with jpeg-js limited to that many pixels and to the memory
 * its decoder needs for them (coefficients, component planes, the RGB output). Gray JPEGs give three equal planes.
 * EXIF orientation is not applied, as PIL's Image.open in torchvision does not. `header` saves reading it again when
 * the caller has (then the caller has checked it against its pixel limit).
 * @throws FileFormatError naming `name`.
 */
export function decodeJpegBuffer(
  buffer: Buffer,
  name: string,
  maxPixels: number,
  header = readJpegHeader(buffer, name, maxPixels),
): DecodedImage {
  const pixels = header.width * header.height;
  // jpeg-js counts 4 bytes of coefficients and 8 of line buffers per pixel and component, then the output.
  const memoryMB = Math.ceil((pixels * (13 * header.components + 4)) / 2 ** 20) + 16;
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(buffer, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: memoryMB,
    });
  } catch (err) {
    throw new FileFormatError(name, `not a valid JPEG, or truncated (${(err as Error).message})`);
  }
  const { width, height, data } = decoded;
  if (width !== header.width || height !== header.height)
    throw new FileFormatError(
      name,
      `decoded ${width}x${height} pixels, but its frame header says ${header.width}x${header.height}`,
    );
  const plane = width * height;
  const rgb = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) rgb[c * plane + i] = data[3 * i + c] / 255;
  }
  return { width, height, rgb, gray: header.components === 1, depth: 8, alpha: false, format: 'jpeg' };
}
