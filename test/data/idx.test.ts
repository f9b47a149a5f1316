// SPDX-License-Identifier: MIT
// readIdx/parseIdx tests on generated IDX files, raw and gzip: dims, values, and a FileFormatError naming the file for every defect.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { FileFormatError } from '../../lib/errors';
import { parseIdx, readIdx } from '../../lib/data';
import { encodeIdx } from './idx-fixture';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-idx-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const values = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 37) & 255);
const images = encodeIdx([2, 3, 4], values);

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, bytes);
  return file;
}

/** The FileFormatError thrown by fn, checked to name `file`. */
function formatError(file: string, fn: () => unknown): FileFormatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as FileFormatError).file).toBe(file);
    expect((err as Error).message.startsWith(`${file}: `)).toBe(true);
    return err as FileFormatError;
  }
  throw new Error('expected a FileFormatError');
}

describe('reading', () => {
  test('header bytes: magic 0x00000803 and big-endian dims', () => {
    expect([...images.subarray(0, 16)]).toEqual([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
    expect(parseIdx(images)).toEqual({ dims: [2, 3, 4], data: values });
    expect(parseIdx(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]))).toEqual({
      dims: [2],
      data: Uint8Array.from([7, 3]),
    });
  });

  test('raw, .gz, and gzip data under a name without .gz give the same array', () => {
    const raw = readIdx(write('a-idx3-ubyte', images), { ndim: 3 });
    expect(raw.dims).toEqual([2, 3, 4]);
    expect([...raw.data]).toEqual([...values]);
    expect(readIdx(write('a-idx3-ubyte.gz', zlib.gzipSync(images)), { ndim: 3 })).toEqual(raw);
    expect(readIdx(write('b-idx3-ubyte', zlib.gzipSync(images)))).toEqual(raw);
  });

  test('dimensions of size 0 and large dims are read as unsigned', () => {
    expect(parseIdx(encodeIdx([0, 28, 28], []))).toEqual({ dims: [0, 28, 28], data: new Uint8Array(0) });
    const big = Buffer.from([0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff]);
    expect(() => parseIdx(big, 'big')).toThrow(
      'big: truncated: dimensions 4294967295 need 4294967295 data bytes, the file has 0',
    );
  });
});

describe('defects give FileFormatError naming the file and the problem', () => {
  test.each([
    ['too short', Buffer.from([0, 0, 8]), /3 bytes is too short for an IDX file/],
    ['empty', Buffer.alloc(0), /0 bytes is too short/],
    [
      'bad magic (a PNG)',
      Buffer.from('\x89PNG\r\n\x1a\n0000', 'latin1'),
      /bad magic number 0x89504e47: not an IDX file/,
    ],
    ['unknown type code', Buffer.from([0, 0, 0x07, 1, 0, 0, 0, 0]), /bad magic number 0x00000701/],
    ['zero dimensions', Buffer.from([0, 0, 8, 0]), /bad magic number 0x00000800/],
    [
      'float values',
      Buffer.from([0, 0, 0x0d, 1, 0, 0, 0, 0]),
      /magic number 0x00000d01 says float32 values; only unsigned-byte \(0x08\)/,
    ],
    ['truncated header', images.subarray(0, 10), /truncated header: 10 bytes, but 3 dimension sizes need 16/],
    [
      'truncated data',
      images.subarray(0, images.length - 5),
      /truncated: dimensions 2x3x4 need 24 data bytes, the file has 19/,
    ],
    [
      'trailing bytes',
      Buffer.concat([images, Buffer.from([1, 2])]),
      /2 unexpected bytes after the 24 data bytes that dimensions 2x3x4 call for/,
    ],
  ])('%s', (_, bytes, message) => {
    const file = write('x-idx3-ubyte', bytes);
    expect(formatError(file, () => readIdx(file)).message).toMatch(message);
  });

  test('labels where images are expected (swapped files) and the reverse', () => {
    const labels = write('labels-idx1-ubyte', encodeIdx([3], [1, 2, 3]));
    expect(formatError(labels, () => readIdx(labels, { ndim: 3 })).message).toBe(
      `${labels}: magic number 0x00000801 says 1 dimension(s) (labels), expected 3 (images) (0x00000803)`,
    );
    const imgs = write('images-idx3-ubyte', images);
    expect(formatError(imgs, () => readIdx(imgs, { ndim: 1 })).message).toMatch(
      /says 3 dimension\(s\) \(images\), expected 1 \(labels\)/,
    );
  });

  test('truncated, bit-flipped and fake .gz files', () => {
    const gz = zlib.gzipSync(
      encodeIdx(
        [50, 28, 28],
        Array.from({ length: 50 * 784 }, (_, i) => (i * 7) % 251),
      ),
    );
    for (const n of [gz.length - 4, gz.length >> 1, 5]) {
      const file = write(`cut${n}.gz`, gz.subarray(0, n));
      expect(formatError(file, () => readIdx(file)).message).toMatch(/corrupt or truncated gzip data/);
    }
    const flipped = Buffer.from(gz);
    flipped[flipped.length >> 1] ^= 0x10;
    const bad = write('flip.gz', flipped);
    expect(formatError(bad, () => readIdx(bad)).message).toMatch(/corrupt or truncated gzip data/);
    const fake = write('raw-but-named.gz', images);
    expect(formatError(fake, () => readIdx(fake)).message).toMatch(
      /not gzip data \(a \.gz file starts with the bytes 1f 8b\)/,
    );
    // Valid gzip holding something else.
    const text = write('text.gz', zlib.gzipSync('hello'));
    expect(formatError(text, () => readIdx(text)).message).toMatch(/bad magic number 0x68656c6c/);
  });

  test('gzip that inflates past maxBytes', () => {
    const file = write('bomb.gz', zlib.gzipSync(encodeIdx([100000], new Uint8Array(100000))));
    expect(formatError(file, () => readIdx(file, { maxBytes: 1000 })).message).toMatch(
      /inflates to more than 1000 bytes/,
    );
    expect(readIdx(file).dims).toEqual([100000]);
  });
});

test('argument errors', () => {
  expect(() => readIdx('')).toThrow(TypeError);
  expect(() => parseIdx([0, 0, 8, 1] as unknown as Uint8Array)).toThrow(TypeError);
  expect(() => parseIdx(images, 'x', { ndim: 0 })).toThrow(RangeError);
  expect(() => readIdx(path.join(tmp, 'absent'))).toThrow(/ENOENT/);
});
