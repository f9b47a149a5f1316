// SPDX-License-Identifier: MIT
// HTTP serving case: autocannon (64 connections, a fixed number of PNG requests, a time cap, loopback only) against
// `simdnet serve` and the same server on onnxruntime-node (serve-ort-server.ts), each in its own process.
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { PNG } from 'pngjs';
import type { BenchData } from './data';
import * as fs from 'fs';
import { benchDir, buildDir, repoRoot } from './setup';

export interface HttpResult {
  system: string;
  /** 1-based round (the cases alternate within each round); 0 for the median line. */
  round: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  /**
   * The server's CPU time (all threads of all its processes) per answered request, in µs (Linux /proc; NaN elsewhere).
   */
  serverCpuMicrosPerRequest: number;
  /**
   * The CPU time of its main threads (the event loops: HTTP, JS, inline decoding; with workers, the primary's too)
   * per answered request, in µs.
   */
  eventLoopCpuMicrosPerRequest: number;
  /** The CPU time of the bench process (autocannon, the client) per answered request, in µs. */
  clientCpuMicrosPerRequest: number;
  note?: string;
}

interface AutocannonResult {
  duration: number;
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}
type Autocannon = ((opts: Record<string, unknown>) => Promise<AutocannonResult> & {
  stop?: () => void;
  on(event: 'response', listener: () => void): void;
}) & {
  track?: unknown;
};

/** A 32x32 PNG of the first bench image (pixels mapped from [-1, 1) to 0..255). */
export function benchPng(data: BenchData): Buffer {
  const png = new PNG({ width: 32, height: 32 });
  for (let i = 0; i < 1024; i++) {
    for (let c = 0; c < 3; c++) png.data[4 * i + c] = Math.round((data.images[c * 1024 + i] + 1) * 127.5);
    png.data[4 * i + 3] = 255;
  }
  return PNG.sync.write(png);
}

/** Starts a server process and resolves with its port once it prints its listening line. */
function startServer(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 120 s: ${err}`)), 120_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening: ${err.trim()}`));
    });
  });
}

/** A process and its descendants (the workers of a --workers server), from /proc; [pid] where there is none. */
function processTree(pid: number): number[] {
  try {
    const tasks = fs.readdirSync(`/proc/${pid}/task`);
    const children = tasks.flatMap((t) =>
      fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
    return [pid, ...children.flatMap(processTree)];
  } catch {
    return [pid];
  }
}

/**
 * The CPU time (user + system, all threads) of a process and its descendants in µs from /proc, or of their main
 * threads alone (`mainThread`: the event loops'), or NaN where there is none.
 */
function cpuMicros(pid: number | undefined, mainThread = false): number {
  return pid === undefined ? NaN : processTree(pid).reduce((n, p) => n + processCpuMicros(p, mainThread), 0);
}

function processCpuMicros(pid: number, mainThread: boolean): number {
  try {
    const stat = mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`;
    const fields = fs.readFileSync(stat, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // clock ticks: USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

/**
 * `amount` PNG requests over `connections` keep-alive connections, stopped after `maxSeconds` whatever happens;
 * `lastResponse` is when the last answer arrived (performance.now()).
 */
async function load(
  port: number,
  body: Buffer,
  amount: number,
  connections: number,
  maxSeconds: number,
): Promise<AutocannonResult & { lastResponse: number }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const autocannon: Autocannon = require('autocannon');
  const run = autocannon({
    url: `http://127.0.0.1:${port}/predict`,
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body,
    connections,
    amount,
    timeout: 10,
  });
  // autocannon resolves only on its next 1 s tick after the last answer: time the answers themselves.
  let lastResponse = NaN;
  run.on('response', () => (lastResponse = performance.now()));
  const cap = setTimeout(() => run.stop?.(), maxSeconds * 1000);
  try {
    return { ...(await run), lastResponse };
  } finally {
    clearTimeout(cap);
  }
}

/** One server under autocannon: a warm-up of a tenth of the requests, then the measured run. */
async function measureServer(
  system: string,
  args: string[],
  env: Record<string, string>,
  body: Buffer,
  amount: number,
): Promise<HttpResult> {
  const { child, port } = await startServer(args, env);
  try {
    await load(port, body, Math.ceil(amount / 10), 64, 60);
    const cpu0 = cpuMicros(child.pid);
    const loop0 = cpuMicros(child.pid, true);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await load(port, body, amount, 64, 120);
    const client = process.cpuUsage(client0);
    // Wall clock to the last answer, not r.duration nor the time autocannon resolves: both go by its 1 s ticks.
    const seconds = (r.lastResponse - t0) / 1000;
    return {
      system,
      round: 0,
      serverCpuMicrosPerRequest: (cpuMicros(child.pid) - cpu0) / r['2xx'],
      eventLoopCpuMicrosPerRequest: (cpuMicros(child.pid, true) - loop0) / r['2xx'],
      clientCpuMicrosPerRequest: (client.user + client.system) / r['2xx'],
      requestsPerSec: r['2xx'] / seconds,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      requests: r['2xx'],
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/**
 * Both servers, alternating, `rounds` times (a busy machine's load drifts: alternating keeps the sides comparable),
 * then the median of each case over the rounds (round 0). Both servers get with the same PNG body and request count and the same server code and decoding
 * threads; each with all the machine's threads (up to 2) for its kernels and with 1 (leaving a core to the HTTP
 * thread and to autocannon); and, with `workers` > 1, each as that many processes behind one port with 1 kernel thread
 * each (`simdnet serve --workers`; the onnxruntime server through the same serve-cluster.ts). `compareDist` (another
 * build's dist/ directory, e.g. of the main branch) adds its `simdnet serve` as a further server, for paired
 * old-against-new runs. `floor` adds serve-floor-server.ts (node:http with a fixed answer: what HTTP alone costs).
 */
export async function httpCases(
  data: BenchData,
  amount: number,
  threads: number,
  decodeThreads: number,
  rounds: number,
  report: (r: HttpResult) => void,
  compareDist?: string,
  workers = 1,
  floor = false,
): Promise<HttpResult[]> {
  const body = benchPng(data);
  const main = path.join(repoRoot, 'dist', 'cli', 'main.js'); // the CLI as installed (npm run build:ts)
  if (!fs.existsSync(main)) throw new Error(`bench: ${main} is missing; run npm run build:ts first`);
  const weights = path.join(benchDir, 'lenet.safetensors');
  const results: HttpResult[] = [];
  const simdnet = [main, 'serve', '--weights', weights, '--port', '0', '--decode-threads', String(decodeThreads)];
  const ort = path.join(buildDir, 'bench', 'serve-ort-server.js');
  const cases: [string, string[], Record<string, string>][] = [];
  for (const t of [...new Set([threads, 1])]) {
    const decoding = `${decodeThreads} decoding threads`;
    cases.push([`simdnet serve, ${t} kernel threads, ${decoding}`, simdnet, { SIMDNET_NUM_THREADS: String(t) }]);
    if (compareDist !== undefined) {
      const other = [path.resolve(compareDist, 'cli', 'main.js'), ...simdnet.slice(1)];
      cases.push([
        `simdnet serve of ${compareDist}, ${t} kernel threads, ${decoding}`,
        other,
        { SIMDNET_NUM_THREADS: String(t) },
      ]);
    }
    cases.push([
      `onnxruntime-node in the same server, ${t} intra-op threads, ${decoding}`,
      [ort, String(t), String(decodeThreads)],
      {},
    ]);
  }
  if (floor)
    cases.push([
      'node:http with a fixed answer (the floor)',
      [path.join(buildDir, 'bench', 'serve-floor-server.js')],
      {},
    ]);
  if (workers > 1) {
    const each = `${workers} processes, 1 thread and ${decodeThreads} decoding threads each`;
    const one = { SIMDNET_NUM_THREADS: '1' };
    cases.push([`simdnet serve --workers ${workers}, ${each}`, [...simdnet, '--workers', String(workers)], one]);
    cases.push([
      `onnxruntime-node in the same server, ${each}`,
      [ort, '1', String(decodeThreads), String(workers)],
      {},
    ]);
  }
  for (let round = 1; round <= rounds; round++) {
    for (const [system, args, env] of cases) {
      const r = await measureOrFail(system, args, env, body, amount);
      results.push({ ...r, round });
      report({ ...r, round });
    }
  }
  return cases.map(([system]) =>
    medianOf(
      system,
      results.filter((r) => r.system === system),
    ),
  );
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function medianOf(system: string, rs: HttpResult[]): HttpResult {
  const sum = (f: (r: HttpResult) => number) => rs.reduce((n, r) => n + f(r), 0);
  return {
    system,
    round: 0,
    requestsPerSec: median(rs.map((r) => r.requestsPerSec)),
    p50Ms: median(rs.map((r) => r.p50Ms)),
    p99Ms: median(rs.map((r) => r.p99Ms)),
    requests: sum((r) => r.requests),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    serverCpuMicrosPerRequest: median(rs.map((r) => r.serverCpuMicrosPerRequest)),
    eventLoopCpuMicrosPerRequest: median(rs.map((r) => r.eventLoopCpuMicrosPerRequest)),
    clientCpuMicrosPerRequest: median(rs.map((r) => r.clientCpuMicrosPerRequest)),
  };
}

async function measureOrFail(
  system: string,
  args: string[],
  env: Record<string, string>,
  body: Buffer,
  amount: number,
): Promise<HttpResult> {
  try {
    return await measureServer(system, args, env, body, amount);
  } catch (err) {
    return {
      system,
      round: 0,
      serverCpuMicrosPerRequest: NaN,
      eventLoopCpuMicrosPerRequest: NaN,
      clientCpuMicrosPerRequest: NaN,
      requestsPerSec: NaN,
      p50Ms: NaN,
      p99Ms: NaN,
      requests: 0,
      non2xx: 0,
      errors: 0,
      note: String(err),
    };
  }
}
