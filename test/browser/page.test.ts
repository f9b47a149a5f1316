// SPDX-License-Identifier: MIT
// Drives examples/browser/ in headless Chromium: the page trains LeNet on a small generated CIFAR-like set
// served by an HTTP server on 127.0.0.1 that this test starts, and must report a falling loss and an
// accuracy well above chance. Twice: served with COOP/COEP headers (crossOriginIsolated) it must train on the
// threaded build with 2 threads, without them on the one-thread build, and both runs must give the same numbers
// to the last bit. Needs the browser bundle (npm run build:wasm && npm run build:browser) and
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

// What makes a page crossOriginIsolated (SharedArrayBuffer, so the threaded build).
const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

/**
 * Serves examples/browser/ and build-wasm/ from the repository, and the generated batches under /data/; with
 * `isolated`, every response carries the cross-origin isolation headers.
 */
function startServer(data: Record<string, Buffer>, isolated: boolean): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const file = path.normalize(path.join(ROOT, decodeURIComponent(url.pathname)));
    const allowed = ['examples/browser', 'build-wasm'].some((dir) => file.startsWith(path.join(ROOT, dir) + path.sep));
    const body = data[url.pathname] ?? (allowed && fs.existsSync(file) ? fs.readFileSync(file) : null);
    if (body === null) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(url.pathname)] ?? 'application/octet-stream',
      ...(isolated ? ISOLATION_HEADERS : {}),
    });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface PageRun {
  done: boolean;
  error: string | null;
  backend: string | null;
  wasmBuild: string | null;
  threads: number | null;
  epochs: { epoch: number; loss: number; accuracy: number }[];
  /** Filled in by the test: the page's crossOriginIsolated and its #log text. */
  isolated?: boolean;
  log?: string;
}

describeBrowser('browser example page (headless Chromium)', () => {
  const data = { '/data/train.bin': makeBatch(768, 1), '/data/test.bin': makeBatch(256, 2) };
  const servers: http.Server[] = [];
  let context: BrowserContext;
  let profile: string;
  const runs: Record<'isolated' | 'plain', PageRun | undefined> = { isolated: undefined, plain: undefined };

  beforeAll(async () => {
    servers.push(await startServer(data, true), await startServer(data, false));
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
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
  });

  /** Opens the page on `server`, waits for it to finish, and checks what every run must show. */
  async function trainOnPage(server: http.Server, extraQuery: string): Promise<PageRun> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    const { port } = server.address() as AddressInfo;
    const query =
      'train=/data/train.bin&test=/data/test.bin&trainSize=768&testSize=256&epochs=4&batchSize=64&lr=0.002' +
      extraQuery;
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
    run.isolated = (await page.evaluate('self.crossOriginIsolated')) as boolean;
    run.log = (await page.textContent('#log')) ?? '';
    await page.close();
    return run;
  }

  test('cross-origin isolated (COOP/COEP): trains on the threaded build with 2 threads', async () => {
    const run = await trainOnPage(servers[0], '&threads=2');
    expect([run.isolated, run.wasmBuild, run.threads]).toEqual([true, 'threads', 2]);
    expect(run.log).toContain('threads build, 2 thread(s)');
    runs.isolated = run;
  }, 300000);

  test('without the headers: trains on the one-thread build', async () => {
    const run = await trainOnPage(servers[1], '');
    expect([run.isolated, run.wasmBuild, run.threads]).toEqual([false, 'single', 1]);
    expect(run.log).toContain('single build, 1 thread(s)');
    runs.plain = run;
  }, 300000);

  test('both builds give the same losses and accuracies, to the last bit', () => {
    expect([runs.isolated?.epochs.length, runs.plain?.epochs.length]).toEqual([4, 4]);
    // The kernels split work the same way for any thread count (docs/threads.md).
    expect(runs.isolated?.epochs.map(({ loss, accuracy }) => [loss, accuracy])).toEqual(
      runs.plain?.epochs.map(({ loss, accuracy }) => [loss, accuracy]),
    );
  });
});
