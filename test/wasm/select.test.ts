// SPDX-License-Identifier: MIT
// Backend choice in Node (lib/backend/select.ts): SIMDNET_BACKEND, the fallback to the WebAssembly build when
// the addon cannot load, and what `simdnet info` then says.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { selectBackend } from '../../lib/backend/select';
import { wasmBuildName } from '../../lib/backend/wasm-node';
import type { NativeBinding } from '../../lib/native';
import { expectErrorNamed } from '../helpers';
import { describeWasm } from './available';

const noAddon = (): NativeBinding => {
  throw new Error('simdnet: the native addon could not be loaded. (test)');
};

function withBackendEnv<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env.SIMDNET_BACKEND;
  if (value === undefined) delete process.env.SIMDNET_BACKEND;
  else process.env.SIMDNET_BACKEND = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.SIMDNET_BACKEND;
    else process.env.SIMDNET_BACKEND = saved;
  }
}

test('SIMDNET_BACKEND other than native or wasm is an error naming both', () => {
  expectErrorNamed(
    () => withBackendEnv('gpu', () => selectBackend(noAddon)),
    'Error',
    /must be "native" or "wasm", got "gpu"/,
  );
});

test('SIMDNET_ISA that names no kernel table is a RangeError naming it and the choices', () => {
  const saved = process.env.SIMDNET_ISA;
  process.env.SIMDNET_ISA = 'scalar';
  try {
    expectErrorNamed(
      () => selectBackend(noAddon),
      'RangeError',
      /SIMDNET_ISA must be one of auto, ref, .*got "scalar"/,
    );
  } finally {
    if (saved === undefined) delete process.env.SIMDNET_ISA;
    else process.env.SIMDNET_ISA = saved;
  }
});

test('SIMDNET_BACKEND=native does not fall back: the addon error is thrown as is', () => {
  expectErrorNamed(
    () => withBackendEnv('native', () => selectBackend(noAddon)),
    'Error',
    /native addon could not be loaded\. \(test\)$/,
  );
});

describeWasm('with the WebAssembly build', () => {
  test('a missing addon falls back to the WebAssembly build, and kernelInfo says so', () => {
    const b = withBackendEnv(undefined, () => selectBackend(noAddon));
    expect(b.kernelInfo().backend).toBe('wasm');
  });

  test('the addon, when it loads, is reported as the native backend', () => {
    const fake = { kernelInfo: () => ({ isa: 'x' }) } as unknown as NativeBinding;
    expect(withBackendEnv(undefined, () => selectBackend(() => fake)).kernelInfo()).toEqual({
      isa: 'x',
      backend: 'native',
    });
  });

  // The build wasmBuildName() picks (by default the threaded one where it is built: threads.test.ts), and the
  // one-thread build on request.
  test.each([
    [process.env.SIMDNET_WASM_BUILD, wasmBuildName() === 'simdnet-threads' ? 'threaded' : 'one-thread'],
    ['single', 'one-thread'],
  ])('simdnet info with SIMDNET_BACKEND=wasm SIMDNET_WASM_BUILD=%s names the backend and build', (build, label) => {
    const main = path.join(__dirname, '..', '..', 'dist', 'cli', 'main.js'); // built by pretest
    const env = { ...process.env, SIMDNET_BACKEND: 'wasm', SIMDNET_WASM_BUILD: build };
    const r = spawnSync(process.execPath, [main, 'info'], { encoding: 'utf8', env });
    expect(r.status).toBe(0);
    const threads = label === 'threaded' ? '(\\d+) \\(auto, up to \\1\\)' : '1 \\(auto, up to 1\\)';
    expect(r.stdout).toMatch(
      new RegExp(`^backend wasm \\(WebAssembly, ${label} build\\): isa simd128, openmp no, threads ${threads}$`, 'm'),
    );
  });
});
