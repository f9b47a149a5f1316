// SPDX-License-Identifier: MIT
// A dataset-agnostic HTTP(S) downloader: redirects, stall timeout, deadline, size cap, md5 check, written with the
// shared atomic writer. No archive handling.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { checkInt, checkString } from '../check';
import { FileWriteError, openAtomicFile, type AtomicFile } from '../io/atomic-file';

/**
 * A download failed on the network side (HTTP status, network error, stall, deadline, size cap, cut connection or md5
 * mismatch). `url` is the one requested. Local disk errors are FileWriteErrors instead.
 */
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
  /**
   * The file's known size in bytes (an official archive's). A body of another length fails, a longer one as
   * soon as it passes the size; progress reports it as the total when the server sends no Content-Length.
   */
  size?: number;
  /** Fail as soon as the body passes this many bytes (an endless body fills no disk). Default `size`, else 4 GiB. */
  maxBytes?: number;
  /** Stall timeout: fail when no data arrives for this long (connect, headers or body). Default 60000 ms. */
  timeoutMs?: number;
  /** Deadline of the whole download, redirects included (a trickle of bytes cannot hold it open). Default 1 hour. */
  deadlineMs?: number;
  /** Redirects to follow before giving up. Default 5. */
  maxRedirects?: number;
  /** Called as bytes arrive; `total` is the Content-Length, else `size`, else undefined. */
  onProgress?: (received: number, total: number | undefined) => void;
}

/** Default maxBytes when no size is known: larger than any dataset archive simdnet fetches. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 2 ** 32;
/** Default deadlineMs: an hour (the CIFAR-10 archive needs ~47 kB/s to make it). */
export const DEFAULT_DOWNLOAD_DEADLINE_MS = 3_600_000;

/** Why the request was stopped from our side (stall, deadline, size cap), for the error message. */
class Stopper {
  reason: string | undefined;
  readonly controller = new AbortController();
  stop(reason: string): void {
    this.reason ??= reason;
    this.controller.abort();
  }
}

/**
 * Downloads `url` to `dest`. The body goes to a temp file in dest's folder (lib/io/atomic-file.ts), is fsynced,
 * checked against `md5`, then renamed over `dest`: readers never see a partial file, and any failure removes the
 * temp file. Redirects (301/302/303/307/308) are followed; any other non-200 status is a DownloadError. Bounded:
 * at most `maxBytes` bytes, no stall longer than `timeoutMs`, nothing after `deadlineMs`.
 * @throws DownloadError for the network side (status, cut connection, stall, deadline, size, md5);
 *   FileWriteError naming `dest` when this machine's disk refuses (ENOSPC, EROFS, EACCES...).
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<void> {
  checkString('downloadFile: url', url);
  checkString('downloadFile: dest', dest, true);
  const md5 = options.md5 === undefined ? undefined : checkMd5('downloadFile: md5', options.md5);
  const size = options.size === undefined ? undefined : checkInt('downloadFile: size', options.size, 0);
  const maxBytes = checkInt('downloadFile: maxBytes', options.maxBytes ?? size ?? DEFAULT_MAX_DOWNLOAD_BYTES, 0);
  const timeoutMs = checkInt('downloadFile: timeoutMs', options.timeoutMs ?? 60000, 1);
  const deadlineMs = checkInt('downloadFile: deadlineMs', options.deadlineMs ?? DEFAULT_DOWNLOAD_DEADLINE_MS, 1);
  const maxRedirects = checkInt('downloadFile: maxRedirects', options.maxRedirects ?? 5, 0);
  const start = parseHttpUrl('downloadFile: url', url);

  try {
    await mkdir(path.dirname(path.resolve(dest)), { recursive: true });
  } catch (err) {
    throw new FileWriteError(dest, err);
  }
  const stopper = new Stopper();
  const deadline = setTimeout(() => stopper.stop(`not finished within the ${deadlineMs} ms deadline`), deadlineMs);
  let out: AtomicFile | undefined;
  try {
    const res = await get(start, url, { timeoutMs, redirectsLeft: maxRedirects, stopper });
    const length = contentLength(res, url);
    if (length !== undefined && length > maxBytes)
      throw new DownloadError(url, `the server announces ${length} bytes, more than the ${maxBytes}-byte limit`);
    if (length !== undefined && size !== undefined && length !== size)
      throw new DownloadError(url, `the server announces ${length} bytes, but the file has ${size}`);
    const total = length ?? size;
    out = await openAtomicFile(dest);
    const hash = createHash('md5');
    let received = 0;
    const cut = (why: string) => new DownloadError(url, `${why} after ${received} of ${total ?? 'unknown'} bytes`);
    const body = (res as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await body.next();
      } catch (err) {
        // Node reports a cut connection and our own abort alike as "aborted": the stopper knows which.
        throw cut(stopper.reason ?? `connection closed (${(err as Error).message})`);
      }
      if (next.done) break;
      received += next.value.length;
      if (received > maxBytes) {
        stopper.stop('size limit');
        throw cut(`the body passed the ${maxBytes}-byte limit`);
      }
      hash.update(next.value);
      await out.write(next.value); // a FileWriteError (disk full...) is reported as such, not as the network's fault
      options.onProgress?.(received, total);
    }
    if (stopper.reason !== undefined) throw cut(stopper.reason);
    // A server that closes early can end the stream cleanly; the length is the only tell.
    if (total !== undefined && received !== total) throw cut('connection closed');
    const got = hash.digest('hex');
    if (md5 !== undefined && got !== md5) {
      throw new DownloadError(
        url,
        `md5 mismatch: expected ${md5}, got ${got} (${received} bytes); the file was not kept`,
      );
    }
    await out.commit();
  } catch (err) {
    const reason = stopper.reason;
    stopper.stop('failed'); // ends a request still running
    await out?.abort();
    if (err instanceof DownloadError || err instanceof FileWriteError) throw err;
    throw new DownloadError(url, reason ?? (err as Error).message);
  } finally {
    clearTimeout(deadline);
  }
}

/** The Content-Length header as a number, if the server sent one. */
function contentLength(res: http.IncomingMessage, url: string): number | undefined {
  const header = res.headers['content-length'];
  if (header === undefined) return undefined;
  const n = /^[0-9]{1,16}$/.test(header) ? Number(header) : NaN;
  if (!Number.isSafeInteger(n)) throw new DownloadError(url, `bad Content-Length header "${header}"`);
  return n;
}

/** md5 of a file as 32 lowercase hex digits (streamed, so large files are fine). */
export async function fileMd5(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Validates an md5 option (32 hex digits) and returns it in lowercase. */
export function checkMd5(what: string, md5: unknown): string {
  const hex = checkString(what, md5);
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`${what} must be 32 hex digits, got "${hex}"`);
  return hex.toLowerCase();
}

/** Parses an http(s) URL; a string that is not one is a bad value: RangeError naming `what` (check.ts's rule). */
export function parseHttpUrl(what: string, url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RangeError(`${what} is not a valid URL: "${url}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new RangeError(`${what} must be http: or https:, got "${url}"`);
  return u;
}

/** GETs `u`, following redirects, and resolves with a 200 response whose body is not yet read. */
function get(
  u: URL,
  original: string,
  o: { timeoutMs: number; redirectsLeft: number; stopper: Stopper },
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = u.protocol === 'https:' ? https : http;
    const signal = o.stopper.controller.signal;
    const req = lib.get(u, { headers: { 'user-agent': 'simdnet' }, signal }, (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        if (o.redirectsLeft === 0)
          return reject(new DownloadError(original, `too many redirects (last to ${res.headers.location})`));
        let next: URL;
        try {
          next = parseHttpUrl('redirect location', new URL(res.headers.location, u).href);
        } catch (err) {
          return reject(new DownloadError(original, (err as Error).message));
        }
        return resolve(get(next, original, { ...o, redirectsLeft: o.redirectsLeft - 1 }));
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
    req.setTimeout(o.timeoutMs, () => o.stopper.stop(`no data for ${o.timeoutMs} ms (timeout)`));
    req.on('error', (err) =>
      reject(o.stopper.reason === undefined ? err : new DownloadError(original, `${o.stopper.reason} (${u.href})`)),
    );
  });
}
