// SPDX-License-Identifier: MIT
// Runs bench/pytorch_bench.py in a python3 that has torch (a child process) and reads its JSON; skips with a note otherwise.
import { spawnSync } from 'child_process';
import * as path from 'path';
import type { CaseResult } from './cases';
import { benchDir } from './setup';
import type { TimingOptions } from './timing';

export interface PytorchRun {
  /** The interpreter that ran it. */
  python?: string;
  pythonVersion?: string;
  torch?: string;
  threads?: number;
  openblasThreads?: string;
  blas?: { kind: string; libraries: string[]; blasInfo: string };
  mkldnn?: boolean;
  results: CaseResult[];
  /** Why PyTorch was skipped or failed. */
  note?: string;
}

/**
 * $SIMDNET_TORCH_PYTHON (the tests' and CI's torch venv) first, then $PYTHON, Debian's interpreter
 * (python3-torch) and python3 on PATH: the first that imports torch.
 */
export function findTorchPython(): { python: string | null; tried: string[] } {
  const candidates = [process.env.SIMDNET_TORCH_PYTHON, process.env.PYTHON, '/usr/bin/python3', 'python3'];
  const tried = [...new Set(candidates.filter((p): p is string => !!p))];
  for (const py of tried) {
    if (spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return { python: py, tried };
  }
  return { python: null, tried };
}

/** Runs `script` (in bench/) with `args` in the torch python; its last stdout line is the JSON result. */
export function runTorchScript(script: string, args: string[]): PytorchRun {
  const { python, tried } = findTorchPython();
  if (!python)
    return {
      results: [],
      note: `skipped: no python3 with torch (tried ${tried.join(', ')}); set SIMDNET_TORCH_PYTHON to one (a venv with torch 2.13), or apt-get install python3-torch`,
    };
  // One BLAS thread under torch's own threads: the best CPU setup ("like a pip install").
  // TORCH_CPP_LOG_LEVEL: no "Could not initialize NNPACK" warning per model on CPUs that NNPACK does not support.
  const env = { TORCH_CPP_LOG_LEVEL: 'ERROR', ...process.env, OPENBLAS_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' };
  const run = spawnSync(python, [path.join(benchDir, script), ...args], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  if (run.status !== 0)
    return { python, results: [], note: `failed: ${python} exited with ${run.status ?? run.signal}` };
  try {
    const lastLine = run.stdout.trim().split('\n').pop() ?? '';
    return { python, ...(JSON.parse(lastLine) as Omit<PytorchRun, 'python'>) };
  } catch {
    return { python, results: [], note: `failed: no JSON from ${script}: ${run.stdout.slice(0, 200)}` };
  }
}

export function runPytorch(
  dataFile: string,
  threads: number,
  train: number[],
  infer: number[],
  opt: TimingOptions,
): PytorchRun {
  return runTorchScript('pytorch_bench.py', [
    '--data',
    dataFile,
    '--threads',
    String(threads),
    '--train',
    train.join(','),
    '--infer',
    infer.join(','),
    '--timing',
    JSON.stringify(opt),
  ]);
}
