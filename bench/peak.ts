// SPDX-License-Identifier: MIT
// Builds and runs the FMA peak probe (bench/peak/fma_peak.cc) with the system C++ compiler ($CXX, else g++).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { benchDir, buildDir } from './setup';

export interface PeakResult {
  isa?: string;
  /** GFLOP/s by thread count. */
  gflops: Record<number, number>;
  /** Why there is no number, when there is none. */
  error?: string;
}

/** Best measured GFLOP/s with at most `threads` threads, or null. */
export function peakFor(peak: PeakResult, threads: number): number | null {
  const values = Object.entries(peak.gflops)
    .filter(([t]) => Number(t) <= threads)
    .map(([, g]) => g);
  return values.length ? Math.max(...values) : null;
}

export function measurePeak(maxThreads: number, seconds: number): PeakResult {
  const src = path.join(benchDir, 'peak', 'fma_peak.cc');
  const exe = path.join(buildDir, process.platform === 'win32' ? 'fma_peak.exe' : 'fma_peak');
  const cxx = process.env.CXX || 'g++';
  if (!fs.existsSync(exe) || fs.statSync(exe).mtimeMs < fs.statSync(src).mtimeMs) {
    fs.mkdirSync(buildDir, { recursive: true });
    const cc = spawnSync(cxx, ['-O2', '-std=c++17', '-pthread', src, '-o', exe], { encoding: 'utf8' });
    if (cc.error)
      return { gflops: {}, error: `no peak probe: ${cxx} not found (${cc.error.message}); install g++ or set CXX` };
    if (cc.status !== 0)
      return {
        gflops: {},
        error: `no peak probe: ${cxx} failed: ${cc.stderr.trim().split('\n').slice(0, 3).join(' ')}`,
      };
  }
  const run = spawnSync(exe, [String(maxThreads), String(seconds)], { encoding: 'utf8' });
  if (run.status !== 0) return { gflops: {}, error: `peak probe failed: ${run.error?.message ?? run.stderr.trim()}` };
  try {
    const out = JSON.parse(run.stdout) as { isa: string; results: { threads: number; gflops: number }[] };
    return { isa: out.isa, gflops: Object.fromEntries(out.results.map((r) => [r.threads, r.gflops])) };
  } catch {
    return { gflops: {}, error: `peak probe printed no JSON: ${run.stdout.slice(0, 200)}` };
  }
}
