// SPDX-License-Identifier: MIT
// Test helpers that write small PNGs: with pngjs (RGB, RGBA, gray, 8 or 16 bits) or chunk by chunk for what pngjs cannot write.
import * as fs from 'fs';
import * as zlib from 'zlib';
import { PNG } from 'pngjs';

/** Writes a PNG whose pixel (x, y) is rgba(x, y) (samples 0..255, or 0..65535 with bitDepth 16). */
export function writePng(
  file: string,
  w: number,
  h: number,
  rgba: (x: number, y: number) => number[],
  colorType: 0 | 2 | 4 | 6 = 2,
  bitDepth: 8 | 16 = 8,
): string {
  const values: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) values.push(...rgba(x, y));
  const png = new PNG({ width: w, height: h });
  png.data = bitDepth === 16 ? Buffer.from(Uint16Array.from(values).buffer) : Buffer.from(values);
  fs.writeFileSync(file, PNG.sync.write(png, { colorType, bitDepth, inputColorType: 6, inputHasAlpha: true }));
  return file;
}

/** A PNG built chunk by chunk, for formats pngjs cannot write: IHDR fields, unfiltered rows, optional PLTE. */
export function rawPng(
  w: number,
  h: number,
  depth: number,
  colorType: number,
  rows: number[][],
  palette?: number[],
): Buffer {
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([depth, colorType, 0, 0, 0], 8);
  const idat = zlib.deflateSync(Buffer.from(rows.flatMap((r) => [0, ...r])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(palette ? [chunk('PLTE', Buffer.from(palette))] : []),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
