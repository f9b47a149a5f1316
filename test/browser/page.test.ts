// SPDX-License-Identifier: MIT
// Drives examples/browser/ in headless Chromium: the page trains LeNet on a small generated CIFAR-like set
// served by an HTTP server on 127.0.0.1 that this test starts, and must report a falling loss and an
// accuracy well above chance. Needs the browser bundle (npm run build:wasm && npm run build:browser) and
// Chromium (Debian's /usr/bin/chromium, or SIMDNET_CHROMIUM); skipped without them unless
// SIMDNET_REQUIRE_WASM=1 (CI, .ci/wasm.sh), which turns a skip into a failure.
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { chromium, type BrowserContext } from 'playwright-core';

const ROOT = path.join(__dirname, '..', '..');
const BUNDLE = path.join(ROOT, 'build-wasm', 'simdnet.browser.js');
const CHROMIUM = process.env.SIMDNET_CHROMIUM || '/usr/bin/chromium';
const missing = [BUNDLE, CHROMIUM].filter((f) => !fs.existsSync(f));
if (process.env.SIMDNET_REQUIRE_WASM === '1' && missing.length > 0) {
  throw new Error(`SIMDNET_REQUIRE_WASM=1 but missing: ${missing.join(', ')}`);
}
const describeBrowser = missing.length === 0 ? describe : describe.skip;

const RECORD = 1 + 3 * 32 * 32;
// One colour per class: the page's LeNet separates them within a few epochs.
const PALETTE = [
  [230, 30, 30],
  [30, 230, 30],
  [30, 30, 230],
  [230, 230, 30],
  [230, 30, 230],
  [30, 230, 230],
  [130, 130, 130],
  [250, 140, 20],
  [90, 20, 140],
  [20, 90, 60],
];

/** CIFAR-10 binary records: label, then R, G and B planes of a class colour with noise and a lit square. */
function makeBatch(count: number, seed: number): Buffer {
  let state = seed >>> 0;
  const rand = () => ((state = (state * 1103515245 + 12345) >>> 0) >>> 16) / 65536;
  const buf = Buffer.alloc(count * RECORD);
  for (let r = 0; r < count; r++) {
    const label = Math.floor(rand() * 10);
    buf[r * RECORD] = label;
    const [x0, y0] = [Math.floor(rand() * 24), Math.floor(rand() * 24)];
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) {
        const inSquare = p % 32 >= x0 && p % 32 < x0 + 8 && Math.floor(p / 32) >= y0 && Math.floor(p / 32) < y0 + 8;
        const v = PALETTE[label][c] * (inSquare ? 1 : 0.6) + (rand() - 0.5) * 80;
        buf[r * RECORD + 1 + c * 1024 + p] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return buf;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

/** Serves examples/browser/ and build-wasm/ from the repository, and the generated batches under /data/. */
function startServer(data: Record<string, Buffer>): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const file = path.normalize(path.join(ROOT, decodeURIComponent(url.pathname)));
    const allowed = ['examples/browser', 'build-wasm'].some((dir) => file.startsWith(path.join(ROOT, dir) + path.sep));
    const body = data[url.pathname] ?? (allowed && fs.existsSync(file) ? fs.readFileSync(file) : null);
    if (body === null) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(url.pathname)] ?? 'application/octet-stream' });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface PageRun {
  done: boolean;
  error: string | null;
  backend: string | null;
  epochs: { epoch: number; loss: number; accuracy: number }[];
}

describeBrowser('browser example page (headless Chromium)', () => {
  let server: http.Server;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    server = await startServer({ '/data/train.bin': makeBatch(768, 1), '/data/test.bin': makeBatch(256, 2) });
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'simdnet-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless=new',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 120000);

  afterAll(async () => {
    await context?.close();
    await new Promise((resolve) => server?.close(resolve));
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  test('trains LeNet: the loss falls and the page reports the accuracy it measured', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    const { port } = server.address() as AddressInfo;
    const query = 'train=/data/train.bin&test=/data/test.bin&trainSize=768&testSize=256&epochs=4&batchSize=64&lr=0.002';
    await page.goto(`http://127.0.0.1:${port}/examples/browser/index.html?${query}`);
    // Strings, not functions: they run in the page, whose globals this file's types do not know.
    await page.waitForFunction(
      'window.simdnetRun && (window.simdnetRun.done || window.simdnetRun.error !== null)',
      undefined,
      {
        timeout: 240000,
        polling: 500,
      },
    );
    const run = (await page.evaluate('window.simdnetRun')) as PageRun;
    expect(errors).toEqual([]);
    expect(run.error).toBeNull();
    expect(run.backend).toBe('wasm (simd128)');
    expect(run.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    const losses = run.epochs.map((e) => e.loss);
    expect(losses[3]).toBeLessThan(losses[0] * 0.7);
    const accuracy = run.epochs[3].accuracy;
    expect(accuracy).toBeGreaterThan(0.6); // chance is 0.1
    // What the page shows is what it measured.
    const status = await page.textContent('#status');
    expect(status).toBe(`Done: test accuracy ${(100 * accuracy).toFixed(2)}%`);
    expect(await page.getAttribute('#status', 'data-state')).toBe('done');
  }, 300000);
});
