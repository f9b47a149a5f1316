// SPDX-License-Identifier: MIT
// Reads IDX files (the MNIST file format), raw or gzip-compressed, validating the header and size; knows nothing of datasets.
//
// Layout (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS"): a 4-byte magic number 0x00 0x00 <type> <ndim>,
// then ndim big-endian uint32 dimension sizes, then the values in row-major order. MNIST-style datasets
// use type 0x08 (unsigned byte): images are 0x00000803 [N, rows, cols], labels 0x00000801 [N].
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { checkInt, describe } from '../check';
import { FileFormatError } from '../errors';

/** The contents of an unsigned-byte IDX file: its dimension sizes and its values (row-major, not copied). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export interface ReadIdxOptions {
  /** Required number of dimensions (the magic number's last byte): 3 for images, 1 for labels. Default: any. */
  ndim?: number;
  /** Refuse gzip data that inflates past this many bytes (a corrupt or hostile file). Default 2^30 (1 GiB). */
  maxBytes?: number;
}

/** IDX type codes (the magic number's third byte); simdnet reads 0x08 only, the type MNIST-style datasets use. */
const TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};
const UBYTE = 0x08;

/**
 * Reads an unsigned-byte IDX file. Gzip data (the .gz files as distributed) is recognised by its
 * leading bytes 1f 8b and inflated in memory; a name ending in .gz must hold gzip data.
 * @throws FileFormatError naming the file for a file that is not gzip or IDX, is truncated or corrupt,
 *   has another data type or number of dimensions, or whose size does not match its dimensions.
 *
 * @example
 * const { dims, data } = readIdx('train-images-idx3-ubyte.gz', { ndim: 3 }); // dims [60000, 28, 28]
 */
export function readIdx(file: string, options: ReadIdxOptions = {}): IdxArray {
  if (typeof file !== 'string' || file === '')
    throw new TypeError(`readIdx: file must be a non-empty string, got ${describe(file)}`);
  const maxBytes = checkInt('readIdx: maxBytes', options.maxBytes ?? 2 ** 30, 1);
  return parseIdx(gunzipIfNeeded(fs.readFileSync(file), file, maxBytes), file, options);
}

/**
 * Parses the bytes of an uncompressed unsigned-byte IDX file (see readIdx). `name` labels errors.
 *
 * @example
 * parseIdx(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 7, 3])); // { dims: [2], data: Uint8Array [7, 3] }
 */
export function parseIdx(buf: Uint8Array, name = '<buffer>', options: ReadIdxOptions = {}): IdxArray {
  if (!(buf instanceof Uint8Array))
    throw new TypeError(`parseIdx: buf must be a Buffer or Uint8Array, got ${describe(buf)}`);
  const want = options.ndim === undefined ? undefined : checkInt('readIdx: ndim', options.ndim, 1);
  const fail = (detail: string) => new FileFormatError(name, detail);
  if (buf.length < 4)
    throw fail(`${buf.length} bytes is too short for an IDX file (it starts with a 4-byte magic number)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  const hex = `0x${magic.toString(16).padStart(8, '0')}`;
  const type = buf[2];
  const ndim = buf[3];
  if (buf[0] !== 0 || buf[1] !== 0 || TYPE_NAMES[type] === undefined || ndim === 0) {
    throw fail(`bad magic number ${hex}: not an IDX file (expected 0x00000803 for images or 0x00000801 for labels)`);
  }
  if (type !== UBYTE)
    throw fail(
      `magic number ${hex} says ${TYPE_NAMES[type]} values; only unsigned-byte (0x08) IDX files are supported`,
    );
  if (want !== undefined && ndim !== want) {
    const kind = (n: number) => (n === 3 ? ' (images)' : n === 1 ? ' (labels)' : '');
    throw fail(
      `magic number ${hex} says ${ndim} dimension(s)${kind(ndim)}, expected ${want}${kind(want)} (0x0000080${want.toString(16)})`,
    );
  }
  const headerBytes = 4 + 4 * ndim;
  if (buf.length < headerBytes)
    throw fail(`truncated header: ${buf.length} bytes, but ${ndim} dimension sizes need ${headerBytes}`);
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  // A double holds the product exactly up to 2^53, far past any file we could read.
  const count = dims.reduce((a, b) => a * b, 1);
  const have = buf.length - headerBytes;
  if (have < count)
    throw fail(`truncated: dimensions ${dims.join('x')} need ${count} data bytes, the file has ${have}`);
  if (have > count)
    throw fail(
      `${have - count} unexpected bytes after the ${count} data bytes that dimensions ${dims.join('x')} call for`,
    );
  return { dims, data: buf.subarray(headerBytes) };
}

/** Inflates gzip data (recognised by 1f 8b) and returns other data unchanged. */
function gunzipIfNeeded(buf: Buffer, file: string, maxBytes: number): Buffer {
  const gzip = buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  if (!gzip) {
    if (/\.gz$/i.test(file))
      throw new FileFormatError(
        file,
        'not gzip data (a .gz file starts with the bytes 1f 8b): corrupt, or rename it without .gz',
      );
    return buf;
  }
  try {
    // Checks the gzip CRC-32 and length trailer, so a truncated or bit-flipped file fails here.
    return zlib.gunzipSync(buf, { maxOutputLength: maxBytes });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE')
      throw new FileFormatError(
        file,
        `gzip data inflates to more than ${maxBytes} bytes (corrupt, or not an MNIST-sized file)`,
      );
    throw new FileFormatError(file, `corrupt or truncated gzip data (${e.message})`);
  }
}
