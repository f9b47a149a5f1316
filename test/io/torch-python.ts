// SPDX-License-Identifier: MIT
// Finds a Python that has PyTorch and the safetensors library, for tests that run PyTorch live.
import { spawnSync } from 'child_process';

/** The interpreter to use, or why there is none. SIMDNET_TORCH_PYTHON wins (.ci/run sets it); else python3 on PATH. */
export function findTorchPython(): { python: string } | { missing: string } {
  const python = process.env.SIMDNET_TORCH_PYTHON || 'python3';
  const probe = spawnSync(python, ['-c', 'import torch, safetensors.torch, numpy; print(torch.__version__)'], {
    encoding: 'utf8',
  });
  if (probe.status === 0) return { python };
  const why = probe.error ? probe.error.message : probe.stderr.trim().split('\n').pop();
  return { missing: `${python} cannot import torch, safetensors and numpy (${why}); set SIMDNET_TORCH_PYTHON` };
}

/** Runs `python args...` and fails with its stderr when it exits non-zero. */
export function runPython(python: string, args: string[]): string {
  const run = spawnSync(python, args, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (run.status !== 0)
    throw new Error(`${python} ${args.join(' ')} exited ${run.status}: ${run.error?.message ?? run.stderr}`);
  return run.stdout;
}
