// SPDX-License-Identifier: MIT
// MNIST.load / FashionMNIST.load download tests against a local HTTP server: md5, cache layout and reuse, base URLs, env vars, failures.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DownloadError, FashionMNIST, MNIST } from '../../lib/data';
import { writeTinyMnist } from './idx-fixture';

let server: http.Server;
let base: string;
let tmp: string;
const hits: string[] = [];
/** Served bodies by URL path: /mnist/<file>.gz and /fashion/<file>.gz. */
const files = new Map<string, Buffer>();
/** md5 override for the generated MNIST and Fashion-MNIST archives. */
const md5 = { mnist: {} as Record<string, string>, fashion: {} as Record<string, string> };

beforeAll(async () => {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-mnist-src-'));
  for (const [kind, seed] of [
    ['mnist', 1],
    ['fashion', 9],
  ] as const) {
    const dir = path.join(src, kind);
    writeTinyMnist(dir, { gzip: true, seed, train: kind === 'mnist' ? 12 : 8 });
    for (const name of fs.readdirSync(dir)) {
      const body = fs.readFileSync(path.join(dir, name));
      files.set(`/${kind}/${name}`, body);
      md5[kind][name] = createHash('md5').update(body).digest('hex');
    }
  }
  fs.rmSync(src, { recursive: true, force: true });
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    hits.push(url);
    const body = files.get(url.replace(/^\/(half|flip)\//, '/mnist/'));
    if (body === undefined) return void res.writeHead(404).end();
    if (url.startsWith('/half/')) {
      res.writeHead(200, { 'content-length': body.length });
      return void res.write(body.subarray(0, body.length >> 1), () => res.destroy());
    }
    const out = Buffer.from(body);
    if (url.startsWith('/flip/')) out[out.length >> 1] ^= 1;
    res.writeHead(200, { 'content-length': out.length }).end(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  hits.length = 0;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-mnist-dl-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const TRAIN = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'];
const TEST = ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

test('downloads a split into cacheDir/MNIST/raw/, verifies md5s, reuses the cache, re-fetches a bad cached file', async () => {
  const cacheDir = path.join(tmp, 'cache');
  const progress = new Set<string>();
  const opts = {
    root: path.join(tmp, 'empty'),
    cacheDir,
    download: true,
    url: `${base}/mnist/`,
    md5: md5.mnist,
    onProgress: (_r: number, _t: number | undefined, f: string) => progress.add(f),
  };
  const train = await MNIST.load(opts);
  expect(train).toBeInstanceOf(MNIST);
  expect(train.length).toBe(12);
  expect(hits).toEqual(TRAIN.map((f) => `/mnist/${f}`)); // only the split asked for
  expect([...progress]).toEqual(TRAIN);
  const raw = path.join(cacheDir, 'MNIST', 'raw');
  expect(fs.readdirSync(raw).sort()).toEqual(TRAIN.slice().sort());
  expect(train.files).toEqual(TRAIN.map((f) => path.join(raw, f)));
  expect((await MNIST.load(opts)).length).toBe(12);
  expect(hits).toHaveLength(2); // cache reused, no request
  const test = await MNIST.load({ ...opts, train: false });
  expect(test.length).toBe(6);
  expect(hits.slice(2)).toEqual(TEST.map((f) => `/mnist/${f}`));
  fs.writeFileSync(path.join(raw, TRAIN[1]), 'garbage');
  expect((await MNIST.load(opts)).length).toBe(12);
  expect(hits.slice(4)).toEqual([`/mnist/${TRAIN[1]}`]);
  // Without download, the cache folder is the default root (torchvision's layout inside it).
  expect(new MNIST({ cacheDir }).length).toBe(12);
  expect(new MNIST({ cacheDir, train: false }).length).toBe(6);
});

test('a base URL without the trailing slash works the same', async () => {
  const ds = await MNIST.load({ cacheDir: tmp, download: true, url: `${base}/mnist`, md5: md5.mnist, train: false });
  expect(ds.length).toBe(6);
  expect(hits).toEqual(TEST.map((f) => `/mnist/${f}`));
});

test('SIMDNET_MNIST_URL, SIMDNET_FASHION_MNIST_URL and SIMDNET_CACHE_DIR apply when the options are absent', async () => {
  const keys = ['SIMDNET_MNIST_URL', 'SIMDNET_FASHION_MNIST_URL', 'SIMDNET_CACHE_DIR'] as const;
  const saved = keys.map((k) => process.env[k]);
  process.env.SIMDNET_MNIST_URL = `${base}/mnist/`;
  process.env.SIMDNET_FASHION_MNIST_URL = `${base}/fashion`;
  process.env.SIMDNET_CACHE_DIR = path.join(tmp, 'envcache');
  try {
    const fashion = await FashionMNIST.load({ download: true, md5: md5.fashion });
    expect(fashion).toBeInstanceOf(FashionMNIST);
    expect(fashion.length).toBe(8);
    expect(fashion.classes[0]).toBe('T-shirt/top');
    expect(hits).toEqual(TRAIN.map((f) => `/fashion/${f}`));
    expect(fs.readdirSync(path.join(tmp, 'envcache', 'FashionMNIST', 'raw')).sort()).toEqual(TRAIN.slice().sort());
    const mnist = await MNIST.load({ download: true, md5: md5.mnist });
    expect(mnist.length).toBe(12);
    expect(hits.slice(2)).toEqual(TRAIN.map((f) => `/mnist/${f}`));
    expect((await FashionMNIST.load({ download: true, md5: md5.fashion })).length).toBe(8);
    expect(hits).toHaveLength(4);
    process.env.SIMDNET_MNIST_URL = 'not a url';
    await expect(MNIST.load({ download: true, md5: md5.mnist, train: false })).rejects.toThrow(
      /SIMDNET_MNIST_URL is not a valid URL/,
    );
    // An env var is only checked when a download needs it.
    expect((await MNIST.load({ download: true, md5: md5.mnist })).length).toBe(12);
  } finally {
    keys.forEach((k, i) => (saved[i] === undefined ? delete process.env[k] : (process.env[k] = saved[i])));
  }
});

test('root with data makes no request, even with download', async () => {
  writeTinyMnist(path.join(tmp, 'data'), { train: 3 });
  const ds = await MNIST.load({
    root: path.join(tmp, 'data'),
    download: true,
    url: `${base}/mnist/`,
    cacheDir: path.join(tmp, 'c'),
  });
  expect(ds.length).toBe(3);
  expect(hits).toHaveLength(0);
});

test.each([
  [
    // With the official md5s the official sizes apply too: the small test file is refused from its Content-Length.
    'the official md5s (the test files differ)',
    `/mnist/`,
    undefined,
    /the server announces \d+ bytes, but the file has 9912422/,
  ],
  ['a changed byte', `/flip/`, md5.mnist, /md5 mismatch/],
  ['a cut connection', `/half/`, md5.mnist, /connection|aborted|closed/],
  ['HTTP 404', `/nothing/`, md5.mnist, /HTTP 404/],
])('%s: DownloadError, and no file is left', async (_, route, sums, message) => {
  const cacheDir = path.join(tmp, 'cache');
  const p = MNIST.load({ root: path.join(tmp, 'none'), cacheDir, download: true, url: base + route, md5: sums });
  await expect(p).rejects.toThrow(DownloadError);
  await expect(p).rejects.toThrow(message);
  expect(fs.readdirSync(path.join(cacheDir, 'MNIST', 'raw'))).toEqual([]);
});
