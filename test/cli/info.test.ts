// SPDX-License-Identifier: MIT
// Tests of `simdnet info`: versions, CPU count and the kernel table from native.kernelInfo().
import * as os from 'os';
import { backendLabel, packageVersion } from '../../lib/cli/info';
import { native } from '../../lib/native';
import { cli } from './helpers';

test('info prints versions, the CPU count and every kernel with its ISA', async () => {
  const r = await cli(['info']);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.out[0]).toBe(`simdnet ${packageVersion()}`);
  expect(r.out[1]).toBe(`node ${process.version} (${process.platform} ${process.arch})`);
  expect(r.out[2]).toMatch(new RegExp(`^cpus: ${os.cpus().length}\\b`));
  const info = native.kernelInfo();
  const backend = backendLabel(info);
  // The thread count follows the load unless fixed: any count up to one per core.
  expect(r.out[3]).toMatch(
    new RegExp(
      `^${backend.replace(/[()]/g, '\\$&')}: isa ${info.isa}, openmp ${info.openmp ? 'yes' : 'no'}, threads \\d+${info.threadsAuto ? ` \\(auto, up to ${info.defaultThreads}\\)` : ''}$`,
    ),
  );
  const table = Object.fromEntries(r.out.slice(4).map((l) => l.trim().split(/\s+/)));
  expect(table).toEqual(info.kernels);
});

test('packageVersion reads package.json', () => {
  expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
});
