// SPDX-License-Identifier: MIT
// Names the machine and software a bench run measured: CPU, cores, Node, simdnet's kernels and commit, the other libraries.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { native } from '../lib';
import { packageVersion, repoRoot } from './setup';

export interface MachineInfo {
  cpu: string;
  logicalCores: number;
  physicalCores: number | null;
  cpuFlags: string[];
  memoryGiB: number;
  os: string;
  node: string;
  simdnet: { version: string; commit: string | null; kernelInfo: unknown; threads: number };
  env: Record<string, string>;
  libraries: Record<string, string | null>;
  date: string;
}

function cpuinfo(): { flags: string[]; physical: number | null } {
  try {
    const text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const flagLine = /^(flags|Features)\s*:(.*)$/m.exec(text)?.[2] ?? '';
    const wanted = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_bf16', 'asimd', 'sve'];
    const flags = flagLine
      .trim()
      .split(/\s+/)
      .filter((f) => wanted.includes(f));
    const cores = new Set<string>();
    for (const block of text.split(/\n\n+/)) {
      const phys = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
      const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
      if (phys !== undefined && core !== undefined) cores.add(`${phys}:${core}`);
    }
    return { flags, physical: cores.size || null };
  } catch {
    return { flags: [], physical: null };
  }
}

function gitCommit(): string | null {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' });
  if (head.status !== 0) return null;
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return head.stdout.trim() + (dirty.stdout.trim() ? '+changes' : '');
}

/** Threads simdnet's kernels use: what kernelInfo() says if it says, else the documented default. */
export function simdnetThreads(info: Record<string, unknown>, physicalCores: number): number {
  for (const key of ['threads', 'numThreads']) if (typeof info[key] === 'number') return info[key] as number;
  if (!info.openmp) return 1;
  return Number(process.env.SIMDNET_NUM_THREADS) || physicalCores;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const { flags, physical } = cpuinfo();
  const kernelInfo = native.kernelInfo() as unknown as Record<string, unknown>;
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => /^(SIMDNET_|OMP_|OPENBLAS_)/.test(k) && k !== 'SIMDNET_ADDON_PATH'),
  ) as Record<string, string>;
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    logicalCores: cpus.length,
    physicalCores: physical,
    cpuFlags: flags,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    simdnet: {
      version: JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version,
      commit: gitCommit(),
      kernelInfo,
      threads: simdnetThreads(kernelInfo, physical ?? cpus.length),
    },
    env,
    libraries: {
      '@tensorflow/tfjs': packageVersion('@tensorflow/tfjs'),
      '@tensorflow/tfjs-backend-wasm': packageVersion('@tensorflow/tfjs-backend-wasm'),
      'onnxruntime-node': packageVersion('onnxruntime-node'),
    },
    date: new Date().toISOString(),
  };
}
