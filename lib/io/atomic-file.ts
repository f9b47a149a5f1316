// SPDX-License-Identifier: MIT
// The one atomic file writer: bytes go to a temp file in the target's folder, which is fsynced, renamed over the
// target and made durable with an fsync of the folder; temp files of writers killed mid-write are removed. No formats.
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { describe } from '../check';

/**
 * Writing a file failed on this machine (disk full, read-only folder, no permission, missing folder):
 * `file` is the target path, `code` the errno name (ENOSPC, EROFS, EACCES, ...) when there is one.
 * The target is untouched and no temp file is left.
 */
export class FileWriteError extends Error {
  override name = 'FileWriteError';
  readonly code: string | undefined;
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(`${file}: cannot write it (${explainWriteError(cause)})`, { cause });
    this.code = code;
  }
}

/** Plain words for the errno codes a writer meets, with the code kept for searching. */
const WRITE_ERRORS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the disk',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the folder is on a read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of its path is not a folder',
  EISDIR: 'it is a folder',
  EFBIG: 'the file is too large for this file system',
  ENAMETOOLONG: 'the name is too long',
  EIO: 'input/output error on the disk',
};

/** "no space left on the disk (ENOSPC)"; the error's own message for anything else. */
export function explainWriteError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && Object.prototype.hasOwnProperty.call(WRITE_ERRORS, code))
    return `${WRITE_ERRORS[code]} (${code})`;
  return err instanceof Error ? err.message : String(err);
}

/** True for errors of this machine's file system (as opposed to, say, a network or format error). */
export function isLocalWriteError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && Object.prototype.hasOwnProperty.call(WRITE_ERRORS, code);
}

/** Target path resolved, its folder, and a fresh temp name there: `.<name>.<pid>.<12 hex>.tmp`. */
function tempFor(what: string, file: unknown): { target: string; dir: string; temp: string } {
  if (typeof file !== 'string' || file === '')
    throw new TypeError(`${what}: path must be a non-empty string, got ${describe(file)}`);
  const target = path.resolve(file);
  const dir = path.dirname(target);
  const base = path.basename(target);
  // The pid lets a later writer tell a dead process's leftover from a concurrent writer's file.
  return { target, dir, temp: path.join(dir, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`) };
}

/**
 * Deletes the temp files that earlier writes of `base` left in `dir` when their process was killed
 * mid-write (SIGKILL, power loss): those whose writer's pid no longer runs on this machine. A temp
 * file of a live process (another writer, or a reused pid) is left alone; failures are ignored, as
 * the leftovers are harmless.
 */
export function removeStaleTemps(dir: string, base: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  const prefix = `.${base}.`;
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const match = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length));
    if (match && !processAlive(Number(match[1]))) {
      try {
        fs.unlinkSync(path.join(dir, name));
      } catch {
        /* gone already, or not ours to delete */
      }
    }
  }
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Persists the rename itself. Best effort: Windows cannot open a folder for fsync. */
function syncDir(dir: string): void {
  let fd = -1;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* not supported here; the file itself is already synced */
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, bytes.length - done);
}

/** Removes a temp file after a failure; it may not exist (any more). */
function discard(temp: string): void {
  try {
    fs.unlinkSync(temp);
  } catch {
    /* never created, or already renamed */
  }
}

/**
 * Writes `data` (one buffer, or chunks written in order straight from their memory) to `file`
 * atomically: readers see the old file or the whole new one, never a part, also after a crash.
 * The folder must exist.
 * @throws TypeError for a bad path; FileWriteError naming `file` when the disk refuses (the old file stays).
 * @example
 * writeFileAtomic('model.onnx', bytes);
 * writeFileAtomic('weights.bin', [header, ...tensors.map((t) => new Uint8Array(t.data.buffer))]);
 */
export function writeFileAtomic(file: string, data: Uint8Array | Iterable<Uint8Array>): void {
  const { target, dir, temp } = tempFor('writeFileAtomic', file);
  removeStaleTemps(dir, path.basename(target));
  let fd = -1;
  try {
    fd = fs.openSync(temp, 'wx');
    if (data instanceof Uint8Array) writeAll(fd, data);
    else for (const chunk of data) writeAll(fd, chunk);
    fs.fsyncSync(fd); // the data must be on disk before the rename makes it visible
    fs.closeSync(fd);
    fd = -1;
    fs.renameSync(temp, target);
  } catch (err) {
    if (fd >= 0) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing; report the first error */
      }
    }
    discard(temp);
    throw new FileWriteError(file, err);
  }
  syncDir(dir);
}

/**
 * Writes `value` as pretty JSON (2-space indent, final newline) to `file` with writeFileAtomic.
 * Non-finite numbers become null (JSON has no NaN).
 * @example
 * writeJsonAtomic('history.json', history);
 */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8'));
}

/** A file being written atomically chunk by chunk (see openAtomicFile). */
export interface AtomicFile {
  /** The target path, resolved. */
  readonly path: string;
  /** Appends bytes to the temp file. @throws FileWriteError (ENOSPC...) */
  write(chunk: Uint8Array): Promise<void>;
  /** fsyncs, closes and renames the temp file over the target. @throws FileWriteError */
  commit(): Promise<void>;
  /** Closes and deletes the temp file; the target is untouched. Never throws; safe after commit or twice. */
  abort(): Promise<void>;
}

/**
 * Starts writing `file` atomically, for data that arrives over time (a download): write() the chunks,
 * then commit() to make the file appear whole, or abort() to leave the target as it was. The folder
 * must exist; stale temps of killed writers are removed first.
 * @throws TypeError for a bad path; FileWriteError when the temp file cannot be created.
 * @example
 * const out = await openAtomicFile('data.tar.gz');
 * try { for await (const chunk of body) await out.write(chunk); await out.commit(); } finally { await out.abort(); }
 */
export async function openAtomicFile(file: string): Promise<AtomicFile> {
  const { target, dir, temp } = tempFor('openAtomicFile', file);
  removeStaleTemps(dir, path.basename(target));
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(temp, 'wx');
  } catch (err) {
    throw new FileWriteError(file, err);
  }
  let done = false;
  const fail = async (err: unknown): Promise<never> => {
    await abort();
    throw new FileWriteError(file, err);
  };
  async function abort(): Promise<void> {
    if (done) return;
    done = true;
    await handle?.close().catch(() => undefined);
    handle = undefined;
    discard(temp);
  }
  return {
    path: target,
    async write(chunk: Uint8Array): Promise<void> {
      if (handle === undefined) throw new Error(`openAtomicFile: ${file} is already committed or aborted`);
      try {
        for (let off = 0; off < chunk.length;) off += (await handle.write(chunk, off, chunk.length - off)).bytesWritten;
      } catch (err) {
        await fail(err);
      }
    },
    async commit(): Promise<void> {
      if (handle === undefined) throw new Error(`openAtomicFile: ${file} is already committed or aborted`);
      try {
        await handle.sync();
        await handle.close();
        handle = undefined;
        await fs.promises.rename(temp, target);
      } catch (err) {
        await fail(err);
      }
      done = true;
      syncDir(dir);
    },
    abort,
  };
}
