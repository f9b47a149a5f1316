// SPDX-License-Identifier: MIT
// A dataset-agnostic HTTP(S) downloader: redirects, timeout, md5 check, atomic temp-file + rename. No archive handling.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { checkInt, describe } from '../errors';

/** A download failed (HTTP status, network error, timeout, cut connection or md5 mismatch). `url` is the one requested. */
export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    readonly url: string,
    detail: string,
  ) {
    super(`download ${url}: ${detail}`);
  }
}

export interface DownloadOptions {
  /** Expected md5 (32 hex digits). When given, a mismatch fails the download and nothing is written. */
  md5?: string;
  /** Fail when no data arrives for this long (connect, headers or body). Default 60000 ms. */
  timeoutMs?: number;
  /** Redirects to follow before giving up. Default 5. */
  maxRedirects?: number;
  /** Called as bytes arrive; `total` is the Content-Length when the server sent one. */
  onProgress?: (received: number, total: number | undefined) => void;
}

/**
 * Downloads `url` to `dest`. The body goes to a temp file in dest's folder, is fsynced, checked against
 * `md5`, then renamed over `dest`: readers never see a partial file, and any failure removes the temp file.
 * Redirects (301/302/303/307/308) are followed; any other non-200 status is a DownloadError.
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<void> {
  if (typeof url !== 'string') throw new TypeError(`downloadFile: url must be a string, got ${describe(url)}`);
  if (typeof dest !== 'string' || dest === '')
    throw new TypeError(`downloadFile: dest must be a non-empty string, got ${describe(dest)}`);
  const md5 = options.md5 === undefined ? undefined : checkMd5('downloadFile: md5', options.md5);
  const timeoutMs = checkInt('downloadFile: timeoutMs', options.timeoutMs ?? 60000, 1);
  const maxRedirects = checkInt('downloadFile: maxRedirects', options.maxRedirects ?? 5, 0);
  const start = parseHttpUrl('downloadFile: url', url);

  const dir = path.dirname(dest);
  await mkdir(dir, { recursive: true });
  await removeStaleTemps(dir, path.basename(dest));
  // The pid in the name lets a later run tell a dead process's leftover from a concurrent download.
  const temp = path.join(dir, `${path.basename(dest)}.${process.pid}-${Math.random().toString(36).slice(2, 10)}.tmp`);
  let fh: FileHandle | undefined;
  try {
    const state = { timedOut: false };
    const res = await get(start, url, timeoutMs, maxRedirects, state);
    const total = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
    fh = await open(temp, 'wx');
    const hash = createHash('md5');
    let received = 0;
    const cut = (why: string) => new DownloadError(url, `${why} after ${received} of ${total ?? 'unknown'} bytes`);
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        hash.update(chunk);
        await fh.write(chunk);
        received += chunk.length;
        options.onProgress?.(received, total);
      }
    } catch (err) {
      // Node reports both a cut connection and our timeout's destroy() as a bare "aborted".
      throw state.timedOut
        ? cut(`no data for ${timeoutMs} ms (timeout)`)
        : cut(`connection closed (${(err as Error).message})`);
    }
    // A server that closes early can end the stream cleanly; the length is the only tell.
    if (total !== undefined && received !== total) throw cut('connection closed');
    await fh.sync();
    await fh.close();
    fh = undefined;
    const got = hash.digest('hex');
    if (md5 !== undefined && got !== md5) {
      throw new DownloadError(
        url,
        `md5 mismatch: expected ${md5}, got ${got} (${received} bytes); the file was not kept`,
      );
    }
    await rename(temp, dest);
    await syncDir(dir);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await rm(temp, { force: true });
    if (err instanceof DownloadError) throw err;
    throw new DownloadError(url, (err as Error).message);
  }
}

/** md5 of a file as 32 lowercase hex digits (streamed, so large files are fine). */
export async function fileMd5(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Validates an md5 option (32 hex digits) and returns it in lowercase. */
export function checkMd5(what: string, md5: unknown): string {
  if (typeof md5 !== 'string') throw new TypeError(`${what} must be a string, got ${describe(md5)}`);
  if (!/^[0-9a-fA-F]{32}$/.test(md5)) throw new RangeError(`${what} must be 32 hex digits, got "${md5}"`);
  return md5.toLowerCase();
}

/** Parses an http(s) URL or throws a TypeError naming `what`. */
export function parseHttpUrl(what: string, url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`${what} is not a valid URL: "${url}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new TypeError(`${what} must be http: or https:, got "${url}"`);
  return u;
}

/** GETs `u`, following redirects, and resolves with a 200 response whose body is not yet read. */
function get(
  u: URL,
  original: string,
  timeoutMs: number,
  redirectsLeft: number,
  state: { timedOut: boolean },
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.get(u, { headers: { 'user-agent': 'simdnet' } }, (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        if (redirectsLeft === 0)
          return reject(new DownloadError(original, `too many redirects (last to ${res.headers.location})`));
        let next: URL;
        try {
          next = parseHttpUrl('redirect location', new URL(res.headers.location, u).href);
        } catch (err) {
          return reject(new DownloadError(original, (err as Error).message));
        }
        return resolve(get(next, original, timeoutMs, redirectsLeft - 1, state));
      }
      if (status !== 200) {
        res.resume();
        return reject(
          new DownloadError(original, `HTTP ${status} ${res.statusMessage ?? ''}`.trim() + ` from ${u.href}`),
        );
      }
      resolve(res);
    });
    // Socket inactivity timeout: covers connect, waiting for headers and a stalled body alike.
    req.setTimeout(timeoutMs, () => {
      state.timedOut = true;
      req.destroy(new DownloadError(original, `no data for ${timeoutMs} ms (timeout) from ${u.href}`));
    });
    req.on('error', reject);
  });
}

/** Removes temp files of earlier downloads of `base` whose process is gone (killed mid-download). */
async function removeStaleTemps(dir: string, base: string): Promise<void> {
  const re = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)-[0-9a-z]*\\.tmp$`);
  for (const name of await readdir(dir)) {
    const m = re.exec(name);
    if (m && !processAlive(Number(m[1]))) await rm(path.join(dir, name), { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** fsync the folder so the rename itself survives a crash; not possible on every platform, so best effort. */
async function syncDir(dir: string): Promise<void> {
  try {
    const h = await open(dir, 'r');
    await h.sync().finally(() => h.close());
  } catch {
    // Windows cannot open a directory for fsync; the rename is still atomic there.
  }
}
