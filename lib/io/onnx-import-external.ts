// SPDX-License-Identifier: MIT
// ONNX import, external data: reads the bytes of tensors kept beside the model file (torch.onnx.export's default
// `<model>.onnx.data`), within the model's folder only; decoding the values is onnx-import-proto.ts.
import * as fs from 'fs';
import * as path from 'path';
import type { onnx } from 'onnx-proto';
import type { FileFormatError } from '../errors';
import { printable, q, type ExternalDataReader } from './onnx-import-proto';
import { openRegularFile, readExactly } from './regular-file';

/** A decimal offset or length of external_data as a number; throws through `fail` for anything else. */
function byteCount(value: string, key: string, what: string, fail: (detail: string) => FileFormatError): number {
  const n = /^[0-9]{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw fail(`${what}: external_data ${key} ${q(value)} is not a byte count`);
  return n;
}

/**
 * `location` checked as ONNX's checker does: a relative path inside the model's folder (no absolute path, drive,
 * "..", or a symbolic link leading out), returned as a path under `dir`.
 */
function resolveLocation(
  dir: string,
  location: string,
  what: string,
  fail: (detail: string) => FileFormatError,
): string {
  const bad = (why: string) => fail(`${what}: external data location ${q(location)} ${why}`);
  if (location === '' || location.includes('\0')) throw bad('is not a file name');
  if (path.isAbsolute(location) || path.win32.isAbsolute(location) || /^[A-Za-z]:/.test(location))
    throw bad('is absolute; it must be relative to the model file');
  if (location.split(/[\\/]/).includes('..')) throw bad("leads out of the model's folder");
  const file = path.join(dir, location);
  let real: string;
  let realDir: string;
  try {
    [real, realDir] = [fs.realpathSync(file), fs.realpathSync(dir)];
  } catch (err) {
    throw fail(
      `${what}: cannot read its external data file ${q(location)} (${(err as NodeJS.ErrnoException).code ?? printable(String(err))})`,
    );
  }
  if (path.relative(realDir, real).split(path.sep)[0] === '..') throw bad("leads out of the model's folder");
  return real;
}

/**
 * The reader of a model's external data: `dir` is the folder the locations are relative to (undefined for bytes,
 * where every external tensor is an error that says how to import it instead). Reads only the bytes a tensor needs,
 * after checking the file holds them.
 */
export function externalDataReader(dir: string | undefined): ExternalDataReader {
  return (t: onnx.ITensorProto, bytes: number, fail: (detail: string) => FileFormatError): Uint8Array => {
    const what = `tensor ${q(t.name)}`;
    const entries = new Map<string, string>();
    for (const { key, value } of t.externalData ?? []) entries.set(key ?? '', value ?? '');
    const location = entries.get('location');
    if (location === undefined) throw fail(`${what} is marked as external data but names no location`);
    if (dir === undefined) {
      throw fail(
        `${what} keeps its data in an external file (${q(location)}), which bytes cannot reach: import the model by its path, or give options.externalDataDir`,
      );
    }
    const file = resolveLocation(dir, location, what, fail);
    const offset = byteCount(entries.get('offset') ?? '0', 'offset', what, fail);
    const length = entries.has('length') ? byteCount(entries.get('length')!, 'length', what, fail) : undefined;
    if (length !== undefined && length !== bytes)
      throw fail(`${what}: external_data length ${length} is not the ${bytes} bytes its shape needs`);
    let fd: number | undefined;
    try {
      // Opened without blocking and checked on the descriptor: a FIFO here would otherwise block forever.
      const opened = openRegularFile(file, (d) => fail(`${what}: external data location ${q(location)} ${d}`));
      fd = opened.fd;
      if (offset + bytes > opened.size) {
        throw fail(
          `${what} needs bytes ${offset} to ${offset + bytes} of ${q(location)}, which has ${opened.size}: the data file is truncated or not this model's`,
        );
      }
      return readExactly(fd, bytes, offset, () => fail(`${what}: ${q(location)} ended while reading its data`));
    } catch (err) {
      if ((err as Error).name === 'FileFormatError') throw err;
      throw fail(
        `${what}: cannot read its external data file ${q(location)} (${(err as NodeJS.ErrnoException).code ?? printable(String(err))})`,
      );
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  };
}
