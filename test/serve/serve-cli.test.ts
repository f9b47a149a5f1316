// SPDX-License-Identifier: MIT
// `simdnet serve` as a child process: it prints its real port, answers with safetensors and ONNX models, and on SIGTERM
// finishes every request it had accepted (held in flight by the test hook until the signal) and exits 0.
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { runCli } from '../../lib/cli/program';
import { LeNet } from '../../lib/modules/lenet';
import { saveModel } from '../../lib/train/saved-model';
import { tempDir } from '../cli/helpers';
import { pngImage, request } from './helpers';

const root = path.join(__dirname, '..', '..');
const runner = [path.join(root, 'test', 'cli', 'run-ts.js'), path.join(root, 'lib', 'cli', 'main.ts')];

interface Served {
  child: ChildProcess;
  port: number;
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
      if (m) resolve({ child, port: Number(m[1]), exited });
    });
    void exited.then((e) => reject(new Error(`serve exited before listening (${e.code}): ${e.stderr}`)));
  });
}

/** simdnet_requests_in_flight from /metrics. */
async function inFlight(port: number): Promise<number> {
  const r = await request(port, 'GET', '/metrics');
  return Number(/^simdnet_requests_in_flight (\d+)$/m.exec(r.body)?.[1]);
}

describe('simdnet serve', () => {
  test('serves a safetensors model, and on SIGTERM finishes every accepted request and exits 0', async () => {
    const dir = tempDir('serve-');
    const weights = path.join(dir, 'lenet.safetensors');
    saveModel(weights, new LeNet());
    const { child, port, exited } = await serve(['--weights', weights], { SIMDNET_SERVE_TEST_HOLD: '1' });
    try {
      expect((await request(port, 'GET', '/health')).status).toBe(200);
      const n = 12;
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
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);

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

  test('bad command lines exit 2', async () => {
    const io = () => ({ stdout: { write: () => true }, stderr: { write: () => true } });
    expect(await runCli(['serve', '--weights', path.join(tempDir('serve-'), 'missing.safetensors')], io())).toBe(2);
    expect(await runCli(['serve', '--weights', 'x', '--port', '70000'], io())).toBe(2);
    expect(await runCli(['serve', '--weights', 'x', '--max-batch', '0'], io())).toBe(2);
  });
});
