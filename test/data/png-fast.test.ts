// SPDX-License-Identifier: MIT
// The plain-PNG decoder (png-fast.ts) against pngjs on every colour type and row filter it takes, and the files it
// must leave to pngjs (decodePlainPng returns null; decodePngBuffer then gives pngjs's answer or error, as before).
import * as zlib from 'zlib';
import { PNG } from 'pngjs';
import { decodePlainPng } from '../../lib/data/png-fast';
import { decodePngBuffer, readPngHeader } from '../../lib/data/png';
import { FileFormatError } from '../../lib/errors';
import { Generator } from '../../lib/random';
import { rawPng } from './png-fixture';

const MAX = 1 << 26;

/** A PNG written by pngjs from random RGBA pixels, with one row filter (0-4) or pngjs's adaptive choice (-1). */
function randomPng(w: number, h: number, colorType: 0 | 2 | 4 | 6, filterType: number, seed: number): Buffer {
  const rng = new Generator(seed);
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h * 4; i++) png.data[i] = rng.randint(256);
  return PNG.sync.write(png, { colorType, filterType, inputColorType: 6, inputHasAlpha: true });
}

/** What pngjs decodes, as decodePngBuffer's planar floats (samples / 255). */
function pngjsPlanes(buf: Buffer): Float32Array {
  const png = PNG.sync.read(buf, { skipRescale: true });
  const plane = png.width * png.height;
  const rgb = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) rgb[c * plane + i] = png.data[4 * i + c] / 255;
  return rgb;
}

const plain = (buf: Buffer) => decodePlainPng(buf, readPngHeader(buf, 'x.png', MAX));

/** Recomputes a chunk's CRC after its data changed (the chunk starting at `pos`). */
function fixCrc(buf: Buffer, pos: number): void {
  const length = buf.readUInt32BE(pos);
  buf.writeUInt32BE(zlib.crc32(buf.subarray(pos + 4, pos + 8 + length)), pos + 8 + length);
}

describe('decodePlainPng', () => {
  const sizes = [
    [1, 1],
    [7, 5],
    [33, 17],
    [32, 32],
  ];
  for (const colorType of [0, 2, 4, 6] as const) {
    for (const filterType of [-1, 0, 1, 2, 3, 4]) {
      test(`colour type ${colorType}, filter ${filterType}: equals pngjs`, () => {
        sizes.forEach(([w, h], k) => {
          const buf = randomPng(w, h, colorType, filterType, 100 * colorType + 10 * (filterType + 1) + k);
          const img = plain(buf);
          expect(img).not.toBeNull();
          const ref = pngjsPlanes(buf);
          expect(Buffer.from((img as { rgb: Float32Array }).rgb.buffer).equals(Buffer.from(ref.buffer))).toBe(true);
          const png = PNG.sync.read(buf);
          expect(img).toMatchObject({
            width: w,
            height: h,
            depth: 8,
            gray: colorType === 0 || colorType === 4,
            alpha: png.alpha,
          });
          expect(decodePngBuffer(buf, 'x.png', MAX).rgb).toEqual(ref);
        });
      });
    }
  }

  test('several IDAT chunks and ancillary chunks are read', () => {
    const buf = randomPng(20, 9, 2, -1, 7);
    const idatAt = buf.indexOf('IDAT') - 4;
    const length = buf.readUInt32BE(idatAt);
    const data = buf.subarray(idatAt + 8, idatAt + 8 + length);
    const chunk = (type: string, body: Buffer) => {
      const out = Buffer.alloc(12 + body.length);
      out.writeUInt32BE(body.length, 0);
      out.write(type, 4, 'latin1');
      body.copy(out, 8);
      fixCrc(out, 0);
      return out;
    };
    const split = Buffer.concat([
      buf.subarray(0, idatAt),
      chunk('tEXt', Buffer.from('Comment\0hello')),
      chunk('IDAT', data.subarray(0, 5)),
      chunk('IDAT', data.subarray(5)),
      buf.subarray(idatAt + 12 + length),
    ]);
    expect((plain(split) as { rgb: Float32Array }).rgb).toEqual(pngjsPlanes(buf));
  });

  test.each([
    ['a tRNS chunk', (b: Buffer) => insertChunk(b, 'tRNS', Buffer.from([0, 1, 0, 2, 0, 3]))],
    ['a PLTE chunk', (b: Buffer) => insertChunk(b, 'PLTE', Buffer.alloc(6))],
    ['an unknown critical chunk', (b: Buffer) => insertChunk(b, 'ABCD', Buffer.alloc(2))],
    ['bytes after IEND', (b: Buffer) => Buffer.concat([b, Buffer.from([0])])],
    ['a wrong CRC', (b: Buffer) => flip(b, b.indexOf('IDAT') + 6)],
    ['a wrong IHDR CRC', (b: Buffer) => flip(b, 29)],
    ['an unknown row filter', (b: Buffer) => withRows(b, (raw) => (raw[0] = 9))],
    ['too much image data', (b: Buffer) => withRows(b, (raw) => Buffer.concat([raw, Buffer.alloc(3)]))],
  ])('leaves a file with %s to pngjs, which answers as before', (_, change) => {
    const buf = change(randomPng(6, 4, 2, 0, 3));
    expect(plain(buf)).toBeNull();
    let ours: unknown;
    let theirs: unknown;
    try {
      ours = decodePngBuffer(buf, 'x.png', MAX).rgb;
    } catch {
      ours = 'error';
    }
    try {
      theirs = pngjsPlanes(buf);
    } catch {
      theirs = 'error';
    }
    expect(ours).toEqual(theirs);
  });

  test('too little image data is an error naming the file (pngjs filled the missing bytes from an unset buffer)', () => {
    const buf = withRows(randomPng(6, 4, 2, 0, 3), (raw) => raw.subarray(0, raw.length - 1));
    expect(() => decodePngBuffer(buf, 'x.png', MAX)).toThrow(
      new FileFormatError('x.png', 'truncated PNG: the image data inflates to 75 bytes, the 6x4 header needs 76'),
    );
  });

  test.each([
    [
      'a palette file',
      () =>
        rawPng(
          4,
          3,
          8,
          3,
          [
            [0, 1, 0, 1],
            [1, 0, 1, 0],
          ],
          [0, 0, 0, 255, 255, 255],
        ),
      '4x3',
      10,
      15,
    ],
    ['a 16-bit file', () => rawPng(2, 2, 16, 2, [Array.from({ length: 12 }, (_, i) => i)]), '2x2', 13, 26],
    [
      'an interlaced file',
      () => {
        const buf = Buffer.from(randomPng(4, 4, 2, 0, 1)); // 4 rows of 1 + 12 bytes; Adam7's seven passes need 55
        buf[28] = 1; // IHDR interlace flag
        fixCrc(buf, 8);
        return buf;
      },
      '4x4',
      52,
      55,
    ],
  ])('too little image data in %s (read by pngjs) is an error naming the file', (_, make, size, got, needs) => {
    expect(() => decodePngBuffer(make(), 'x.png', MAX)).toThrow(
      new FileFormatError(
        'x.png',
        `truncated PNG: the image data inflates to ${got} bytes, the ${size} header needs ${needs}`,
      ),
    );
  });

  test('other depths, palettes and interlaced files go to pngjs', () => {
    const png = new PNG({ width: 3, height: 2 });
    png.data.fill(200);
    const sixteen = PNG.sync.write(png, { colorType: 2, bitDepth: 16, inputColorType: 6, inputHasAlpha: true });
    expect(plain(sixteen)).toBeNull();
    const interlaced = Buffer.from(randomPng(4, 4, 2, 0, 1));
    interlaced[28] = 1; // IHDR interlace flag
    fixCrc(interlaced, 8);
    expect(readPngHeader(interlaced, 'x', MAX).interlaced).toBe(true);
    expect(plain(interlaced)).toBeNull();
  });
});

function flip(buf: Buffer, at: number): Buffer {
  const out = Buffer.from(buf);
  out[at] ^= 1;
  return out;
}

/** `buf` with a chunk inserted right after IHDR. */
function insertChunk(buf: Buffer, type: string, body: Buffer): Buffer {
  const c = Buffer.alloc(12 + body.length);
  c.writeUInt32BE(body.length, 0);
  c.write(type, 4, 'latin1');
  body.copy(c, 8);
  fixCrc(c, 0);
  return Buffer.concat([buf.subarray(0, 33), c, buf.subarray(33)]);
}

/** `buf` (one IDAT) with its inflated rows changed by `edit` (in place, or returning new rows), re-deflated. */
function withRows(buf: Buffer, edit: (raw: Buffer) => Buffer | number): Buffer {
  const at = buf.indexOf('IDAT') - 4;
  const length = buf.readUInt32BE(at);
  const raw = zlib.inflateSync(buf.subarray(at + 8, at + 8 + length));
  const edited = edit(raw);
  const data = zlib.deflateSync(Buffer.isBuffer(edited) ? edited : raw);
  const c = Buffer.alloc(12 + data.length);
  c.writeUInt32BE(data.length, 0);
  c.write('IDAT', 4, 'latin1');
  data.copy(c, 8);
  fixCrc(c, 0);
  return Buffer.concat([buf.subarray(0, at), c, buf.subarray(at + 12 + length)]);
}
