// SPDX-License-Identifier: MIT
// `simdnet serve` as a child process: it prints its real port, answers with safetensors and ONNX models, and on SIGTERM
// finishes every request it had accepted (held in flight by the test hook until the signal) and exits 0; the same with
// --workers 2 (two server processes behind the port, /metrics summed over both).
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { runCli } from '../../lib/cli/program';
import { LeNet } from '../../lib/modules/lenet';
import { saveModel } from '../../lib/train/saved-model';
import { tempDir } from '../cli/helpers';
import { pngImage, request } from './helpers';

const root = path.join(__dirname, '..', '..');
// run-ts.js preloaded, so that the worker processes of --workers (node:cluster re-runs the same command) load .ts too.
const runner = ['-r', path.join(root, 'test', 'cli', 'run-ts.js'), path.join(root, 'lib', 'cli', 'main.ts')];

interface Served {
  child: ChildProcess;
  port: number;
  /** What the server has written to stderr so far. */
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts `simdnet serve` on a free port and resolves once it prints its listening line. */
function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [...runner, 'serve', '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /^listening on http:\/\/127\.0\.0\.1:(\d+)$/m.exec(stdout);
      if (m) resolve({ child, port: Number(m[1]), stderr: () => stderr, exited });
    });
    void exited.then((e) => reject(new Error(`serve exited before listening (${e.code}): ${e.stderr}`)));
  });
}

/** A sample of /metrics (`name` with its labels, e.g. 'simdnet_requests_total{code="200"}'). */
async function metric(port: number, name: string): Promise<number> {
  const r = await request(port, 'GET', '/metrics');
  const line = r.body.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.slice(name.length + 1));
}

const inFlight = (port: number): Promise<number> => metric(port, 'simdnet_requests_in_flight');

/**
 * Sends `n` image requests that the test hook holds in flight, waits until the server counts all of them, sends
 * SIGTERM, and checks that every one is answered 200 and the server exits 0.
 */
async function expectDrain(served: Served, n: number): Promise<void> {
  const { child, port, exited } = served;
  const answers = Array.from({ length: n }, (_, i) =>
    request(port, 'POST', '/predict', 'image/png', pngImage(32, 32, i)),
  );
  // The hook holds each request once counted in flight: wait until the server has all of them.
  while ((await inFlight(port)) < n) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGTERM');
  const results = await Promise.all(answers);
  expect(results.map((r) => r.status)).toEqual(new Array(n).fill(200));
  for (const r of results) expect(r.json().top[0].label).toMatch(/^[a-z]+$/); // CIFAR-10 class names
  const e = await exited;
  expect({ code: e.code, signal: e.signal }).toEqual({ code: 0, signal: null });
}

function lenetWeights(): string {
  const weights = path.join(tempDir('serve-'), 'lenet.safetensors');
  saveModel(weights, new LeNet());
  return weights;
}

describe('simdnet serve', () => {
  test('serves a safetensors model, and on SIGTERM finishes every accepted request and exits 0', async () => {
    const served = await serve(['--weights', lenetWeights()], { SIMDNET_SERVE_TEST_HOLD: '1' });
    try {
      expect((await request(served.port, 'GET', '/health')).status).toBe(200);
      await expectDrain(served, 12);
    } finally {
      served.child.kill('SIGKILL');
    }
  }, 120_000);

  test('--workers 2: on SIGTERM every worker finishes the requests it accepted, and the server exits 0', async () => {
    const served = await serve(['--weights', lenetWeights(), '--workers', '2'], { SIMDNET_SERVE_TEST_HOLD: '1' });
    try {
      expect(await metric(served.port, 'simdnet_serve_workers')).toBe(2);
      await expectDrain(served, 12); // in_flight is summed over both workers
    } finally {
      served.child.kill('SIGKILL');
    }
  }, 120_000);

  test('--workers 2: the endpoints, errors as 4xx, and /metrics summed over the workers', async () => {
    const { child, port, exited } = await serve([
      '--weights',
      lenetWeights(),
      '--workers',
      '2',
      '--body-limit',
      '4096',
    ]);
    try {
      expect((await request(port, 'GET', '/health')).json()).toEqual({ status: 'ok', model: 'LeNet' });
      // Each request on its own connection, so the primary hands them to both workers in turn.
      const n = 6;
      for (let i = 0; i < n; i++) {
        const r = await request(port, 'POST', '/predict?top=2', 'image/png', pngImage(32, 32, i));
        expect([r.status, r.json().top.length]).toEqual([200, 2]);
      }
      const errors: [string, string | Buffer, number][] = [
        ['image/png', Buffer.from('nope'), 400],
        ['text/csv', 'x', 415],
        ['image/png', Buffer.alloc(5000), 413],
        ['application/json', '{"input": [1], "shape": [3, 32, 32]}', 400],
      ];
      for (const [type, body, status] of errors) {
        const r = await request(port, 'POST', '/predict', type, body);
        expect([r.status, typeof r.json().error]).toEqual([status, 'string']);
      }
      expect((await request(port, 'GET', '/nowhere')).status).toBe(404);
      expect(await metric(port, 'simdnet_requests_total{code="200"}')).toBe(n);
      expect(await metric(port, 'simdnet_request_errors_total')).toBe(errors.length);
      expect(await metric(port, 'simdnet_request_duration_seconds_count')).toBe(n + errors.length);
      expect(await metric(port, 'simdnet_requests_in_flight')).toBe(0);
      expect(await metric(port, 'simdnet_serve_workers')).toBe(2);
      child.kill('SIGTERM');
      expect((await exited).code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);

  // Linux only: the worker processes are found through /proc (the children of the primary's main thread).
  (process.platform === 'linux' ? test : test.skip)(
    '--workers 2: a worker that dies while serving is replaced, and the server keeps answering',
    async () => {
      const { child, port, stderr, exited } = await serve(['--weights', lenetWeights(), '--workers', '2']);
      try {
        const pid = child.pid as number;
        const workerPids = (): number[] =>
          fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
        const workers = workerPids();
        expect(workers).toHaveLength(2);
        process.kill(workers[0], 'SIGKILL');
        while (!/a server worker exited \(signal SIGKILL\); starting another/.test(stderr())) {
          await new Promise((r) => setTimeout(r, 20));
        }
        // The replacement counts in /metrics once it listens.
        while ((await metric(port, 'simdnet_serve_workers')) !== 2) await new Promise((r) => setTimeout(r, 20));
        const replaced = workerPids();
        expect(replaced).toHaveLength(2);
        expect(replaced).not.toContain(workers[0]);
        for (let i = 0; i < 6; i++) {
          const r = await request(port, 'POST', '/predict', 'image/png', pngImage(32, 32, i));
          expect(r.status).toBe(200);
        }
        child.kill('SIGTERM');
        expect((await exited).code).toBe(0); // the killed worker does not count against the exit code
      } finally {
        child.kill('SIGKILL');
      }
    },
    120_000,
  );

  test('serves an ONNX model', async () => {
    const onnx = path.join(root, 'test', 'fixtures', 'onnx_lenet.onnx');
    const { child, port, exited } = await serve(['--weights', onnx, '--max-batch', '8', '--max-wait-us', '100']);
    try {
      const body = JSON.stringify({ input: new Array(3072).fill(0.5), shape: [1, 3, 32, 32] });
      const r = await request(port, 'POST', '/predict?top=3', 'application/json', body);
      expect(r.status).toBe(200);
      expect(r.json().top).toHaveLength(3);
      const bad = await request(port, 'POST', '/predict', 'image/png', Buffer.from('nope'));
      expect(bad.status).toBe(400);
      expect((await request(port, 'GET', '/health')).status).toBe(200); // still up
      child.kill('SIGTERM');
      expect((await exited).code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);

  test('--workers 2 with a model that does not load: the workers say why, and the command exits 1', async () => {
    const bad = path.join(tempDir('serve-'), 'bad.safetensors');
    fs.writeFileSync(bad, 'not a model');
    const child = spawn(process.execPath, [...runner, 'serve', '--port', '0', '--weights', bad, '--workers', '2'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/not a safetensors file/);
    expect(stderr).toMatch(/a server worker exited \(code 2\) before listening/);
  }, 120_000);

  test('bad command lines exit 2', async () => {
    const io = () => ({ stdout: { write: () => true }, stderr: { write: () => true } });
    expect(await runCli(['serve', '--weights', path.join(tempDir('serve-'), 'missing.safetensors')], io())).toBe(2);
    expect(await runCli(['serve', '--weights', 'x', '--port', '70000'], io())).toBe(2);
    expect(await runCli(['serve', '--weights', 'x', '--max-batch', '0'], io())).toBe(2);
    expect(await runCli(['serve', '--weights', 'x', '--workers', '0'], io())).toBe(2);
    expect(await runCli(['serve', '--weights', 'x', '--workers', 'many'], io())).toBe(2);
  });
});
