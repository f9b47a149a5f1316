// SPDX-License-Identifier: MIT
// downloadFile tests against a local HTTP server: success, redirects, HTTP errors, cut bodies, md5, timeouts, no partial files.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DownloadError, downloadFile, fileMd5 } from '../../lib/data';

const body = Buffer.from(Array.from({ length: 200000 }, (_, i) => (i * 31 + (i >> 8)) & 255));
const md5 = createHash('md5').update(body).digest('hex');
let server: http.Server;
/** Calls `write` every `ms` milliseconds until the client goes away (an endless body). */
function endless(res: http.ServerResponse, write: () => void, ms = 1): void {
  const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : write()), ms);
  res.on('close', () => clearInterval(timer));
}
let base: string;
let tmp: string;
const hits: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    switch (req.url) {
      case '/file':
        res.writeHead(200, { 'content-length': body.length });
        return void res.end(body);
      case '/chunked': // no content-length
        res.write(body.subarray(0, 1000));
        return void res.end(body.subarray(1000));
      case '/r1':
        return void res.writeHead(301, { location: '/r2' }).end();
      case '/r2':
        return void res.writeHead(307, { location: `${base}/file` }).end();
      case '/loop':
        return void res.writeHead(302, { location: '/loop' }).end();
      case '/cut':
        res.writeHead(200, { 'content-length': body.length });
        return void res.write(body.subarray(0, body.length >> 1), () => res.destroy());
      case '/stall-body':
        res.writeHead(200, { 'content-length': body.length });
        return void res.write(body.subarray(0, 1000));
      case '/stall-headers':
        return; // never answers
      case '/endless': // no content-length, never ends: only a size cap stops it
        return void endless(res, () => res.write(Buffer.alloc(16384, 7)));
      case '/trickle': // one byte at a time, forever: never stalls, so only a deadline stops it
        res.writeHead(200, { 'content-length': body.length });
        return void endless(res, () => res.write(body.subarray(0, 1)), 5);
      case '/huge-length':
        res.writeHead(200, { 'content-length': 1e12 });
        return void res.write(body.subarray(0, 10));
      case '/error':
        return void res.writeHead(500, 'Oops').end('server error');
      default:
        return void res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  hits.length = 0;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-dl-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * Checks that a download stopped with a DownloadError saying `reason` and where it stopped: in the body, "after <bytes
 * received, as onProgress last reported> of 200000 bytes"; before the response (a pause longer than the timer on a
 * busy machine), no count. Returns whether the message has a count.
 */
async function expectStopped(p: Promise<void>, reason: RegExp, received: () => number | undefined): Promise<boolean> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DownloadError);
  const message = (err as Error).message;
  expect(message).toMatch(reason);
  const after = /after (\d+) of (\d+) bytes$/.exec(message);
  if (after !== null) expect([Number(after[1]), Number(after[2])]).toEqual([received() ?? 0, body.length]);
  if (received() !== undefined) expect(after).not.toBeNull();
  return after !== null;
}

test('downloads, creates the folder, checks md5 and reports progress', async () => {
  const dest = path.join(tmp, 'sub', 'dir', 'f.bin');
  const progress: [number, number | undefined][] = [];
  await downloadFile(`${base}/file`, dest, { md5: md5.toUpperCase(), onProgress: (r, t) => progress.push([r, t]) });
  expect(fs.readFileSync(dest).equals(body)).toBe(true);
  expect(await fileMd5(dest)).toBe(md5);
  expect(progress.at(-1)).toEqual([body.length, body.length]);
  expect(fs.readdirSync(path.dirname(dest))).toEqual(['f.bin']);
});

test('body without content-length', async () => {
  const dest = path.join(tmp, 'f.bin');
  await downloadFile(`${base}/chunked`, dest, { md5 });
  expect(fs.readFileSync(dest).equals(body)).toBe(true);
});

test('follows relative and absolute redirects, and gives up on a loop', async () => {
  const dest = path.join(tmp, 'f.bin');
  await downloadFile(`${base}/r1`, dest, { md5 });
  expect(hits).toEqual(['/r1', '/r2', '/file']);
  await expect(downloadFile(`${base}/loop`, path.join(tmp, 'g.bin'), { maxRedirects: 3 })).rejects.toThrow(
    /too many redirects/,
  );
});

describe('failures leave no file and do not touch an existing dest', () => {
  test.each([
    ['/missing', {}, /HTTP 404/],
    ['/error', {}, /HTTP 500 Oops/],
    ['/cut', {}, /connection closed .*of 200000 bytes/],
    ['/file', { md5: '0'.repeat(32) }, /md5 mismatch: expected 0{32}, got [0-9a-f]{32}/],
  ])('%s %j', async (route, opts, message) => {
    const dest = path.join(tmp, 'f.bin');
    fs.writeFileSync(dest, 'previous');
    const p = downloadFile(base + route, dest, opts);
    await expect(p).rejects.toThrow(DownloadError);
    await expect(p).rejects.toThrow(message);
    expect(fs.readdirSync(tmp)).toEqual(['f.bin']);
    expect(fs.readFileSync(dest, 'utf8')).toBe('previous');
  });

  // Stalls: the server sends nothing more, so the timeout fires whatever the load (a short one keeps the test quick).
  // How far the client got first depends on scheduling on a busy machine: the message must say where it stopped.
  test.each(['/stall-headers', '/stall-body'])(
    '%s: no data for timeoutMs ends the download, saying how far it got',
    async (route) => {
      const dest = path.join(tmp, 'f.bin');
      fs.writeFileSync(dest, 'previous');
      let received: number | undefined;
      const p = downloadFile(base + route, dest, { timeoutMs: 200, onProgress: (r) => (received = r) });
      const counted = await expectStopped(p, /: no data for 200 ms \(timeout\)/, () => received);
      if (route === '/stall-headers') expect(counted).toBe(false); // no response, so no count
      expect(fs.readdirSync(tmp)).toEqual(['f.bin']);
      expect(fs.readFileSync(dest, 'utf8')).toBe('previous');
    },
    30000,
  );

  test('connection refused', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(downloadFile(`http://127.0.0.1:${port}/x`, path.join(tmp, 'f.bin'))).rejects.toThrow(/ECONNREFUSED/);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});

test('removes temp files left by a dead process, keeps those of live ones', async () => {
  const dead = path.join(tmp, '.f.bin.999999999.abc.tmp');
  const live = path.join(tmp, `.f.bin.${process.pid}.abc.tmp`);
  fs.writeFileSync(dead, 'x');
  fs.writeFileSync(live, 'x');
  await downloadFile(`${base}/file`, path.join(tmp, 'f.bin'));
  expect(fs.readdirSync(tmp).sort()).toEqual(['f.bin', path.basename(live)].sort());
});

test('argument errors', async () => {
  const dest = path.join(tmp, 'f.bin');
  // A string that is not an http(s) URL is a bad value (RangeError); a non-string, the wrong kind (TypeError).
  await expect(downloadFile('not a url', dest)).rejects.toThrow(RangeError);
  await expect(downloadFile('not a url', dest)).rejects.toThrow(/url is not a valid URL: "not a url"/);
  await expect(downloadFile('ftp://example.com/x', dest)).rejects.toThrow(RangeError);
  await expect(downloadFile('ftp://example.com/x', dest)).rejects.toThrow(/http: or https:/);
  await expect(downloadFile(42 as unknown as string, dest)).rejects.toThrow(TypeError);
  await expect(downloadFile(`${base}/file`, dest, { md5: 'xyz' })).rejects.toThrow(RangeError);
  await expect(downloadFile(`${base}/file`, dest, { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
  await expect(downloadFile(`${base}/file`, dest, { deadlineMs: 0 })).rejects.toThrow(/deadlineMs/);
  await expect(downloadFile(`${base}/file`, dest, { maxBytes: -1 })).rejects.toThrow(/maxBytes/);
  await expect(downloadFile(`${base}/file`, dest, { size: 1.5 })).rejects.toThrow(/size/);
  await expect(downloadFile(`${base}/file`, '')).rejects.toThrow(RangeError);
  await expect(downloadFile(`${base}/file`, '')).rejects.toThrow(/dest must be a non-empty string/);
  await expect(downloadFile(`${base}/file`, null as unknown as string)).rejects.toThrow(TypeError);
  expect(hits).toEqual([]);
});

describe('bounded: an endless body, a trickle and a disk error each end with a clear error and no file', () => {
  const expectNothingLeft = () => expect(fs.readdirSync(tmp)).toEqual([]);

  test('an endless body without Content-Length stops at maxBytes', async () => {
    const p = downloadFile(`${base}/endless`, path.join(tmp, 'f.bin'), { maxBytes: 100000 });
    await expect(p).rejects.toThrow(DownloadError);
    await expect(p).rejects.toThrow(/the body passed the 100000-byte limit after 1\d{5} of unknown bytes/);
    expectNothingLeft();
  });

  test('the known size caps the body and is the progress total without Content-Length', async () => {
    await expect(downloadFile(`${base}/endless`, path.join(tmp, 'f.bin'), { size: 50000 })).rejects.toThrow(
      /passed the 50000-byte limit after \d+ of 50000 bytes/,
    );
    expectNothingLeft();
    const progress: (number | undefined)[] = [];
    await downloadFile(`${base}/chunked`, path.join(tmp, 'f.bin'), {
      size: body.length,
      onProgress: (_, total) => progress.push(total),
    });
    expect(progress.length).toBeGreaterThan(0);
    expect(new Set(progress)).toEqual(new Set([body.length]));
    fs.rmSync(path.join(tmp, 'f.bin'));
    await expect(downloadFile(`${base}/file`, path.join(tmp, 'f.bin'), { size: body.length + 1 })).rejects.toThrow(
      /announces 200000 bytes, but the file has 200001/,
    );
    await expect(downloadFile(`${base}/chunked`, path.join(tmp, 'f.bin'), { size: body.length + 1 })).rejects.toThrow(
      /connection closed after 200000 of 200001 bytes/,
    );
    expectNothingLeft();
  });

  test('a Content-Length over the limit is refused before the body is read', async () => {
    await expect(downloadFile(`${base}/huge-length`, path.join(tmp, 'f.bin'))).rejects.toThrow(
      /announces 1000000000000 bytes, more than the 4294967296-byte limit/,
    );
    expectNothingLeft();
  });

  test('a trickle that never stalls ends at the deadline', async () => {
    // The stall timeout is far away; the body never ends, so only the deadline can stop it (whatever the load).
    let received: number | undefined;
    const p = downloadFile(`${base}/trickle`, path.join(tmp, 'f.bin'), {
      timeoutMs: 600000,
      deadlineMs: 300,
      onProgress: (r) => (received = r),
    });
    await expectStopped(p, /: not finished within the 300 ms deadline/, () => received);
    expectNothingLeft();
  }, 30000);

  test('a full disk is named as such (FileWriteError ENOSPC), not as a closed connection', async () => {
    const realOpen = fs.promises.open;
    jest.spyOn(fs.promises, 'open').mockImplementation(async (...args: Parameters<typeof realOpen>) => {
      const handle = await realOpen(...args);
      let written = 0;
      const realWrite = handle.write.bind(handle) as (...a: unknown[]) => Promise<{ bytesWritten: number }>;
      // A disk that fills after 50,000 bytes.
      handle.write = (async (...a: unknown[]) => {
        if ((written += (a[0] as Buffer).length) > 50000)
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return realWrite(...a);
      }) as typeof handle.write;
      return handle;
    });
    try {
      const dest = path.join(tmp, 'f.bin');
      const p = downloadFile(`${base}/file`, dest);
      await expect(p).rejects.toThrow(expect.objectContaining({ name: 'FileWriteError', code: 'ENOSPC' }));
      await expect(p).rejects.toThrow(`${dest}: cannot write it (no space left on the disk (ENOSPC))`);
    } finally {
      jest.restoreAllMocks();
    }
    expectNothingLeft();
  });
});
