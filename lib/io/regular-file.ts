// SPDX-License-Identifier: MIT
// Opening untrusted input files safely: regular files only (a FIFO, socket or device would block or stream forever),
// never blocking on open, and of a bounded size before a byte is read. No formats here.
import * as fs from 'fs';
import { FileFormatError } from '../errors';

/** Opening a FIFO without O_NONBLOCK waits for a writer forever; with it, open returns at once (0 where undefined). */
const O_NONBLOCK = fs.constants.O_NONBLOCK ?? 0;

/**
 * Opens `file` for reading and checks, on the open descriptor (no race with a swapped path), that it is a
 * regular file. Returns the descriptor (the caller closes it) and the size.
 * @param fail Makes the error for a detail ("is a folder, not a file"); default a FileFormatError naming `file`.
 * @throws what `fail` makes for a folder, FIFO, socket or device; Node's error (ENOENT, EACCES...) otherwise.
 * @example
 * const { fd, size } = openRegularFile('model.onnx.data');
 */
export function openRegularFile(
  file: string,
  fail: (detail: string) => Error = (detail) => new FileFormatError(file, detail),
): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw fail('is a folder, not a file');
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw fail('is a folder, not a file');
    if (!st.isFile()) throw fail('is not a regular file (a FIFO, socket or device), so it is not read');
    return { fd, size: st.size };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** Reads `length` bytes at `position` of an open file into a new buffer; fails through `short` if the file ends first. */
export function readExactly(fd: number, length: number, position: number, short: () => Error): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let done = 0; done < length;) {
    const n = fs.readSync(fd, out, done, length - done, position + done);
    if (n <= 0) throw short();
    done += n;
  }
  return out;
}

/**
 * Reads a whole regular file of at most `maxBytes` bytes (checked before reading).
 * @param what Names the kind of file in the size message ("an image").
 * @throws FileFormatError naming `file` for a non-regular or too large file; Node's error (ENOENT...) otherwise.
 * @example
 * const bytes = readRegularFile('cat.png', 1 << 30, 'an image');
 */
export function readRegularFile(file: string, maxBytes: number, what: string): Buffer {
  const { fd, size } = openRegularFile(file);
  try {
    if (size > maxBytes)
      throw new FileFormatError(file, `${size} bytes is more than this reader accepts for ${what} (${maxBytes})`);
    return readExactly(fd, size, 0, () => new FileFormatError(file, 'the file shrank while it was read'));
  } finally {
    fs.closeSync(fd);
  }
}
