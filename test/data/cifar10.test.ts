// SPDX-License-Identifier: MIT
// CIFAR10 tests on small generated batch files: folder layouts, .tar.gz, pixel values, corrupt files, download + cache.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';
import * as zlib from 'node:zlib';
import { FileFormatError } from '../../lib/errors';
import { CIFAR10, CIFAR10_CLASSES, CIFAR10_MEAN, CIFAR10_STD, DownloadError } from '../../lib/data';

const REC = 3073;
let tmp: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-cifar-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** `n` records; label of record r is (first + r) % 10; pixel bytes are a fixed pseudo-random function of (file, r, k). */
function records(n: number, first: number, salt: number): Buffer {
  const b = Buffer.alloc(n * REC);
  for (let r = 0; r < n; r++) {
    b[r * REC] = (first + r) % 10;
    for (let k = 0; k < 3072; k++)
      b[r * REC + 1 + k] = ((Math.imul(k + 1, 2654435761) ^ Math.imul(r + 7 * salt + 1, 40503)) >>> 13) & 255;
  }
  return b;
}

/** Writes root/cifar-10-batches-bin/ with train batches of 2,3,1,2,2 records and a test batch of 4. */
function writeBatches(root: string): string {
  const dir = path.join(root, 'cifar-10-batches-bin');
  fs.mkdirSync(dir, { recursive: true });
  const sizes = [2, 3, 1, 2, 2];
  let label = 0;
  sizes.forEach((n, i) => {
    fs.writeFileSync(path.join(dir, `data_batch_${i + 1}.bin`), records(n, label, i + 1));
    label += n;
  });
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), records(4, 3, 99));
  fs.writeFileSync(path.join(dir, 'batches.meta.txt'), CIFAR10_CLASSES.join('\n') + '\n');
  return dir;
}

function writeArchive(root: string, file: string): string {
  const src = path.join(root, 'src');
  writeBatches(src);
  tar.c({ gzip: true, file, cwd: src, sync: true }, ['cifar-10-batches-bin']);
  return file;
}

function expectedPixel(byte: number, c: number, normalize = true): number {
  return Math.fround(normalize ? (byte / 255 - CIFAR10_MEAN[c]) / CIFAR10_STD[c] : byte / 255);
}

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('CIFAR10 reading', () => {
  test('from the parent folder, the batches folder, an archive and a folder holding the archive', () => {
    const dir = writeBatches(tmp);
    const archive = writeArchive(path.join(tmp, 'a'), path.join(tmp, 'cifar-10-binary.tar.gz'));
    fs.mkdirSync(path.join(tmp, 'only-archive'));
    fs.copyFileSync(archive, path.join(tmp, 'only-archive', 'cifar-10-binary.tar.gz'));
    const roots = [tmp, dir, archive, path.join(tmp, 'only-archive')];
    const first = new CIFAR10({ root: roots[0] });
    for (const root of roots) {
      const ds = new CIFAR10({ root });
      expect(ds.length).toBe(10);
      expect(ds.sampleShape).toEqual([3, 32, 32]);
      for (let i = 0; i < 10; i++) expect(ds.get(i)).toEqual(first.get(i));
      const test = new CIFAR10({ root, train: false });
      expect(test.length).toBe(4);
      expect(test.train).toBe(false);
    }
    expect(new CIFAR10({ root: archive }).files[0]).toBe(`${archive}:cifar-10-batches-bin/data_batch_1.bin`);
  });

  test('labels follow file order and classes are the CIFAR-10 names', () => {
    writeBatches(tmp);
    const ds = new CIFAR10({ root: tmp });
    expect(Array.from({ length: 10 }, (_, i) => ds.get(i).label)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ds.classes).toEqual([
      'airplane',
      'automobile',
      'bird',
      'cat',
      'deer',
      'dog',
      'frog',
      'horse',
      'ship',
      'truck',
    ]);
    const test = new CIFAR10({ root: tmp, train: false });
    expect([0, 1, 2, 3].map((i) => test.get(i).label)).toEqual([3, 4, 5, 6]);
  });

  test('pixels: x/255 then per-channel (x - mean) / std, exactly, in get and getBatch', () => {
    writeBatches(tmp);
    const raw = fs.readFileSync(path.join(tmp, 'cifar-10-batches-bin', 'data_batch_2.bin'));
    for (const normalize of [true, false]) {
      const ds = new CIFAR10({ root: tmp, normalize });
      const { image } = ds.get(3); // record 1 of data_batch_2 (batch 1 has 2 records)
      const images = new Float32Array(2 * 3072);
      const labels = new Int32Array(2);
      ds.getBatch([9, 3], images, labels);
      expect(labels).toEqual(Int32Array.from([9, 3]));
      const want = Float32Array.from({ length: 3072 }, (_, k) =>
        expectedPixel(raw[REC + 1 + k], Math.floor(k / 1024), normalize),
      );
      expect(image).toEqual(want);
      expect(images.subarray(3072)).toEqual(want);
      expect(new Set(raw.subarray(REC + 1, 2 * REC)).size).toBeGreaterThan(200); // the record covers most byte values
    }
    // Literal anchors for the constants: black R and white B.
    expect(expectedPixel(0, 0)).toBeCloseTo(-1.989474, 5);
    expect(expectedPixel(255, 2)).toBeCloseTo(2.115826, 5);
  });

  test('option errors', () => {
    writeBatches(tmp);
    expect(() => new CIFAR10({ root: tmp, download: true })).toThrow(/CIFAR10\.load/);
    expect(() => new CIFAR10({ root: tmp, train: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => new CIFAR10({ root: tmp, batchSize: 3 } as object)).toThrow(
      /unknown option 'batchSize' \(known: root, /,
    );
    expect(() => new CIFAR10({ root: tmp, batchSize: 3 } as object)).toThrow(RangeError);
    expect(() => new CIFAR10({ root: tmp, md5: 'abc' })).toThrow(RangeError);
    expect(() => new CIFAR10({ root: tmp, url: 'ftp://x/y' })).toThrow(RangeError);
    const ds = new CIFAR10({ root: tmp });
    expect(() => ds.get(10)).toThrow(RangeError);
    expect(() => ds.getBatch([0], new Float32Array(10), new Int32Array(1))).toThrow(RangeError);
  });
});

describe('CIFAR10 corrupt data gives FileFormatError naming the file', () => {
  test('size not a multiple of 3073', () => {
    const dir = writeBatches(tmp);
    const file = path.join(dir, 'data_batch_3.bin');
    fs.writeFileSync(file, records(2, 0, 3).subarray(0, REC + 100));
    const err = catchError(() => new CIFAR10({ root: tmp }));
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as FileFormatError).file).toBe(file);
    expect(err.message).toMatch(/3173 bytes is not a multiple of the 3073-byte record/);
  });

  test('a batch file larger than the official 30,730,000 bytes is refused from its size, unread', () => {
    const dir = writeBatches(tmp);
    const file = path.join(dir, 'test_batch.bin');
    // 10001 records: a multiple of 3073, one record more than any real batch. Sparse: nothing big is written.
    fs.truncateSync(file, 10_001 * REC);
    const err = catchError(() => new CIFAR10({ root: tmp, train: false }));
    expect(err).toBeInstanceOf(FileFormatError);
    expect(err.message).toBe(
      `${file}: size 30733073 bytes is more than a CIFAR-10 batch file holds (30730000 bytes, 10000 records): not a CIFAR-10 binary batch`,
    );
  });

  test('an archive member declaring more than 30,730,000 bytes is refused from its tar header (a gzip bomb)', () => {
    // The bomb: 1.8 MB of .tar.gz holding 922 MB of "test images". Here the header alone declares
    // 300,000 records, followed by only a little data: the size check must fire before any is read.
    const header = new tar.Header({
      path: 'cifar-10-batches-bin/test_batch.bin',
      type: 'File',
      size: 300_000 * REC,
      mode: 0o644,
      mtime: new Date(0),
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    const archive = path.join(tmp, 'bomb.tar.gz');
    fs.writeFileSync(archive, zlib.gzipSync(Buffer.concat([block, Buffer.alloc(4096)])));
    const err = catchError(() => new CIFAR10({ root: archive, train: false }));
    expect(err).toBeInstanceOf(FileFormatError);
    expect(err.message).toBe(
      `${archive}:cifar-10-batches-bin/test_batch.bin: size 921900000 bytes is more than a CIFAR-10 batch file holds (30730000 bytes, 10000 records): not a CIFAR-10 binary batch`,
    );
  });

  test('label > 9', () => {
    const dir = writeBatches(tmp);
    const file = path.join(dir, 'test_batch.bin');
    const b = records(4, 0, 1);
    b[2 * REC] = 10;
    fs.writeFileSync(file, b);
    const err = catchError(() => new CIFAR10({ root: tmp, train: false }));
    expect(err).toBeInstanceOf(FileFormatError);
    expect(err.message).toBe(`${file}: record 2 has label 10, expected 0..9`);
  });

  test('missing batch file, in a folder and in an archive', () => {
    const dir = writeBatches(tmp);
    fs.rmSync(path.join(dir, 'data_batch_5.bin'));
    const err = catchError(() => new CIFAR10({ root: tmp }));
    expect(err).toBeInstanceOf(FileFormatError);
    expect((err as FileFormatError).file).toBe(path.join(dir, 'data_batch_5.bin'));
    const archive = path.join(tmp, 'x.tar.gz');
    tar.c({ gzip: true, file: archive, cwd: tmp, sync: true }, ['cifar-10-batches-bin']);
    const err2 = catchError(() => new CIFAR10({ root: archive }));
    expect(err2).toBeInstanceOf(FileFormatError);
    expect(err2.message).toMatch(/x\.tar\.gz: missing batch file cifar-10-batches-bin\/data_batch_5\.bin/);
  });

  test('truncated and corrupted .tar.gz', () => {
    const archive = writeArchive(tmp, path.join(tmp, 'full.tar.gz'));
    const full = fs.readFileSync(archive);
    const cut = path.join(tmp, 'cut.tar.gz');
    for (const n of [full.length - 8, Math.floor(full.length / 2), 10]) {
      fs.writeFileSync(cut, full.subarray(0, n));
      const err = catchError(() => new CIFAR10({ root: cut }));
      expect(err).toBeInstanceOf(FileFormatError);
      expect((err as FileFormatError).file).toBe(cut);
      expect(err.message).toMatch(/corrupt or truncated archive/);
    }
    const bad = Buffer.from(full);
    bad[Math.floor(bad.length / 3)] ^= 0x55;
    fs.writeFileSync(cut, bad);
    expect(() => new CIFAR10({ root: cut })).toThrow(FileFormatError);
  });

  test('root without data', () => {
    const err = catchError(() => new CIFAR10({ root: tmp }));
    expect(err).toBeInstanceOf(FileFormatError);
    expect(err.message).toMatch(/no CIFAR-10 data found.*download: true/);
  });
});

describe('CIFAR10.load with download (local server)', () => {
  let server: http.Server;
  let base: string;
  let archive: Buffer;
  let md5: string;
  const hits: string[] = [];

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-cifar-srv-'));
    archive = fs.readFileSync(writeArchive(dir, path.join(dir, 'c.tar.gz')));
    fs.rmSync(dir, { recursive: true, force: true });
    md5 = createHash('md5').update(archive).digest('hex');
    server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/good.tar.gz') {
        res.writeHead(200, { 'content-length': archive.length });
        res.end(archive);
      } else if (req.url === '/half.tar.gz') {
        res.writeHead(200, { 'content-length': archive.length });
        res.write(archive.subarray(0, archive.length >> 1), () => res.destroy());
      } else if (req.url === '/endless.tar.gz') {
        // One byte longer than the official archive, announced: refused from the header.
        res.writeHead(200, { 'content-length': 170_052_172 });
        res.write(archive);
      } else if (req.url === '/wrong.tar.gz') {
        const wrong = Buffer.from(archive);
        wrong[wrong.length >> 1] ^= 1;
        res.end(wrong);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    hits.length = 0;
  });

  test('downloads into cacheDir, verifies md5, reuses the cache, re-fetches a bad cache', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const root = path.join(tmp, 'empty');
    const opts = { root, cacheDir, download: true, url: `${base}/good.tar.gz`, md5 };
    const ds = await CIFAR10.load(opts);
    expect(ds.length).toBe(10);
    expect(hits).toEqual(['/good.tar.gz']);
    expect(fs.readdirSync(cacheDir)).toEqual(['cifar-10-binary.tar.gz']);
    const again = await CIFAR10.load({ ...opts, train: false });
    expect(again.length).toBe(4);
    expect(hits).toHaveLength(1); // cache reused, no request
    fs.writeFileSync(path.join(cacheDir, 'cifar-10-binary.tar.gz'), 'garbage');
    expect((await CIFAR10.load(opts)).length).toBe(10);
    expect(hits).toHaveLength(2);
    // Without download, the cached archive is the default root.
    expect(new CIFAR10({ cacheDir }).length).toBe(10);
  });

  test('SIMDNET_CIFAR10_URL and SIMDNET_CACHE_DIR are used when the options are absent', async () => {
    const saved = { url: process.env.SIMDNET_CIFAR10_URL, cache: process.env.SIMDNET_CACHE_DIR };
    process.env.SIMDNET_CIFAR10_URL = `${base}/good.tar.gz`;
    process.env.SIMDNET_CACHE_DIR = path.join(tmp, 'envcache');
    try {
      const ds = await CIFAR10.load({ download: true, md5 });
      expect(ds.length).toBe(10);
      const cached = path.join(tmp, 'envcache', 'cifar-10-binary.tar.gz');
      expect(fs.existsSync(cached)).toBe(true);
      expect(hits).toEqual(['/good.tar.gz']);
      expect((await CIFAR10.load({ download: true, md5 })).length).toBe(10);
      expect(hits).toHaveLength(1);
      // root defaults to the cache folder, and the cached archive found there is still md5-checked.
      fs.writeFileSync(cached, fs.readFileSync(cached).subarray(0, 100));
      expect((await CIFAR10.load({ download: true, md5 })).length).toBe(10);
      expect(hits).toHaveLength(2);
    } finally {
      for (const [k, v] of [
        ['SIMDNET_CIFAR10_URL', saved.url],
        ['SIMDNET_CACHE_DIR', saved.cache],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test('root with data makes no request', async () => {
    writeBatches(tmp);
    const ds = await CIFAR10.load({
      root: tmp,
      download: true,
      url: `${base}/good.tar.gz`,
      cacheDir: path.join(tmp, 'c'),
    });
    expect(ds.length).toBe(10);
    expect(hits).toHaveLength(0);
  });

  test.each([
    ['/half.tar.gz', /connection|aborted|closed/],
    ['/wrong.tar.gz', /md5 mismatch/],
    ['/missing.tar.gz', /HTTP 404/],
  ])('%s fails with DownloadError and leaves no file', async (route, message) => {
    const cacheDir = path.join(tmp, 'cache');
    const p = CIFAR10.load({ root: path.join(tmp, 'none'), cacheDir, download: true, url: base + route, md5 });
    await expect(p).rejects.toThrow(DownloadError);
    await expect(p).rejects.toThrow(message);
    expect(fs.readdirSync(cacheDir)).toEqual([]);
  });

  test("with the official md5, the official archive's size caps the download", async () => {
    const cacheDir = path.join(tmp, 'cache');
    const p = CIFAR10.load({ root: path.join(tmp, 'none'), cacheDir, download: true, url: `${base}/endless.tar.gz` });
    await expect(p).rejects.toThrow(DownloadError);
    await expect(p).rejects.toThrow(/announces 170052172 bytes, more than the 170052171-byte limit/);
    expect(fs.readdirSync(cacheDir)).toEqual([]);
  });
});
