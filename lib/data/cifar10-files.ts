// SPDX-License-Identifier: MIT
// Finds and reads the CIFAR-10 binary batch files (from a folder or the .tar.gz) into raw records; no float conversion here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tar from 'tar';
import { FileFormatError } from '../errors';
import { CIFAR10_BATCH_BYTES, CIFAR10_RECORD_BYTES, checkCifar10Labels, checkCifar10Size } from './cifar10-records';

export { CIFAR10_BATCH_BYTES, CIFAR10_RECORD_BYTES };
export const CIFAR10_ARCHIVE = 'cifar-10-binary.tar.gz';
export const CIFAR10_FOLDER = 'cifar-10-batches-bin';
export const CIFAR10_TRAIN_FILES = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
];
export const CIFAR10_TEST_FILES = ['test_batch.bin'];

/** Where the data of a root lives: a folder of .bin files, or a .tar.gz archive. */
export type Cifar10Source = { kind: 'folder'; path: string } | { kind: 'archive'; path: string };

/** The records of one split, concatenated in file order; `count` records of CIFAR10_RECORD_BYTES each. */
export interface Cifar10Records {
  records: Uint8Array;
  count: number;
  /** The files read, in order (for archives: "archive.tar.gz:member/path"). */
  files: string[];
}

/**
 * Resolves `root` to the data it holds, or null when it holds none. Accepted, in this order:
 * a .tar.gz file; a folder holding cifar-10-batches-bin/; a folder holding the .bin files itself;
 * a folder holding cifar-10-binary.tar.gz.
 */
export function locateCifar10(root: string): Cifar10Source | null {
  const st = statOrNull(root);
  if (st === null) return null;
  if (st.isFile()) {
    if (/\.(tar\.gz|tgz)$/i.test(root)) return { kind: 'archive', path: root };
    throw new FileFormatError(root, `expected a folder or a ${CIFAR10_ARCHIVE} file`);
  }
  const sub = path.join(root, CIFAR10_FOLDER);
  if (statOrNull(sub)?.isDirectory()) return { kind: 'folder', path: sub };
  if ([...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES].some((f) => statOrNull(path.join(root, f))?.isFile())) {
    return { kind: 'folder', path: root };
  }
  const archive = path.join(root, CIFAR10_ARCHIVE);
  if (statOrNull(archive)?.isFile()) return { kind: 'archive', path: archive };
  return null;
}

/** Reads the train or test split from a source, checking sizes and labels. Synchronous. */
export function readCifar10(source: Cifar10Source, train: boolean): Cifar10Records {
  const names = train ? CIFAR10_TRAIN_FILES : CIFAR10_TEST_FILES;
  const parts = source.kind === 'folder' ? readFolder(source.path, names) : readArchive(source.path, names);
  const count = parts.reduce((n, p) => n + p.data.length / CIFAR10_RECORD_BYTES, 0);
  // One contiguous buffer keeps getBatch a simple offset computation.
  const records = parts.length === 1 ? parts[0].data : Buffer.concat(parts.map((p) => p.data));
  return { records, count, files: parts.map((p) => p.file) };
}

interface Part {
  file: string;
  data: Uint8Array;
}

function readFolder(dir: string, names: string[]): Part[] {
  return names.map((name) => {
    const file = path.join(dir, name);
    const st = statOrNull(file);
    if (st === null || !st.isFile())
      throw new FileFormatError(file, `missing batch file (expected ${names.join(', ')} in ${dir})`);
    checkCifar10Size(file, st.size);
    const data = Buffer.allocUnsafe(st.size);
    const fd = fs.openSync(file, 'r');
    try {
      let off = 0;
      while (off < st.size) {
        const n = fs.readSync(fd, data, off, st.size - off, off);
        if (n === 0) throw new FileFormatError(file, `file shrank while reading (${off} of ${st.size} bytes)`);
        off += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    checkCifar10Labels(file, data);
    return { file, data };
  });
}

function readArchive(archive: string, names: string[]): Part[] {
  const found = new Map<string, Part>();
  try {
    // Synchronous listing: node-tar feeds entry data through onReadEntry as the gzip stream is inflated,
    // so only the members we need are kept, each in one buffer of its declared size.
    tar.t({
      file: archive,
      sync: true,
      strict: true, // every tar/zlib warning (truncation, bad header) throws
      onReadEntry(entry) {
        const name = path.posix.basename(entry.path);
        if (entry.type !== 'File' || !names.includes(name) || found.has(name)) return;
        const file = `${archive}:${entry.path}`;
        const size = entry.size ?? 0;
        checkCifar10Size(file, size);
        const data = Buffer.allocUnsafe(size);
        let off = 0;
        entry.on('data', (chunk: Buffer) => {
          chunk.copy(data, off);
          off += chunk.length;
        });
        found.set(name, { file, data });
      },
    });
  } catch (err) {
    if (err instanceof FileFormatError) throw err;
    throw new FileFormatError(archive, `corrupt or truncated archive (${(err as Error).message})`);
  }
  return names.map((name) => {
    const part = found.get(name);
    if (part === undefined)
      throw new FileFormatError(archive, `missing batch file ${CIFAR10_FOLDER}/${name} in the archive`);
    checkCifar10Labels(part.file, part.data);
    return part;
  });
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}
